"""Payment allocation: the waterfall that splits a repayment over what is owed.

A payment meets the outstanding components of the installments already due
on the payment date -- principal, interest, fees (incl. late fees) and
penalty (罚息 and 复利) -- in the order a strategy names:

- ``by_installment`` sweep (horizontal): the oldest due installment is
  cleared component by component before the next one is touched;
- ``by_component`` sweep (vertical): the first component is cleared on every
  due installment, oldest first, before the second component is touched.

Named strategies (`STRATEGIES`), each named after its order (the Fineract
transaction-processing strategy it resembles in brackets):

- ``due_date_order`` (China default), by installment: fee, penalty,
  interest, principal (Civil Code Art. 561 order within an installment);
- ``penalty_fee_interest_principal``, by installment
  (``mifos-standard-strategy``);
- ``principal_interest_penalty_fee``, by installment
  (``principal-interest-penalties-fees-order-strategy``);
- ``interest_principal_penalty_fee``, by installment
  (``interest-principal-penalties-fees-order-strategy``);
- ``interest_principal_penalty_fee_across_installments``, by component
  (close to ``rbi-india-strategy``).

``due_date_order`` takes installments oldest due date first and, within an
installment, fees (costs of enforcing the claim) -> penalty -> interest ->
principal, after Civil Code Art. 561 and DOMAIN.md §4.8.

What is left once everything due is paid follows the overpayment policy:

- ``credit_balance``: held, and used on each later due date for what falls
  due (`apply_credit`; `replay` does it between payments and up to `as_of`);
- ``prepay_principal``: handed over as a prepayment (`Allocation.prepayment`,
  at most the principal and interest not yet due) for the schedule to be
  re-amortised --
  `prepayment.partial_prepayment`, or `prepayment.Reamortiser` inside
  `replay` -- so later installments charge interest on the lower balance
  (taking it off the last installments' principal alone would leave their
  interest, computed on the old balance, owed);
- ``pay_next_installments``: pays the next installments in advance (oldest
  first, in the strategy's order).

Every allocation records per-installment, per-component lines, so it can be
applied, reversed exactly (`reverse`) and replayed after a back-dated
payment (`replay`); no cent is created or lost:

    sum(lines) + credit balance + prepayment == payment amount

Credit used on a due date is an allocation of amount 0 whose lines are
paid by a negative credit balance, so the identity holds for it too.

A payment is a whole number of the currency's minor unit (the fen): a
finer amount (1.005) is refused, since part of a fen cannot be put on a
line or booked.

Worked example: installment 1 owes penalty 3.94, interest 100.00 and
principal 788.49; a payment of 500.00 under ``penalty_fee_interest_principal``
gives penalty 3.94, interest 100.00, principal 396.06.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from enum import StrEnum

from microcredit.lending.money import ZERO, RoundingPolicy, in_engine_context

__all__ = [
    "DUE_DATE_ORDER",
    "INTEREST_PRINCIPAL_ACROSS_INSTALLMENTS",
    "INTEREST_PRINCIPAL_PENALTY_FEE",
    "PENALTY_FEE_INTEREST_PRINCIPAL",
    "PRINCIPAL_INTEREST_PENALTY_FEE",
    "STRATEGIES",
    "Allocation",
    "AllocationLine",
    "AllocationStrategy",
    "Component",
    "InstallmentDue",
    "OverpaymentPolicy",
    "Payment",
    "Prepay",
    "Replay",
    "allocate",
    "apply_allocation",
    "apply_credit",
    "replay",
    "reverse",
]


class Component(StrEnum):
    """A part of what an installment owes."""

    PRINCIPAL = "principal"
    INTEREST = "interest"
    FEE = "fee"
    PENALTY = "penalty"


class Sweep(StrEnum):
    """Installment by installment (horizontal) or component by component (vertical)."""

    BY_INSTALLMENT = "by_installment"
    BY_COMPONENT = "by_component"


class OverpaymentPolicy(StrEnum):
    """What to do with money left after everything due is paid."""

    CREDIT_BALANCE = "credit_balance"
    PREPAY_PRINCIPAL = "prepay_principal"
    PAY_NEXT_INSTALLMENTS = "pay_next_installments"


@dataclass(frozen=True, slots=True)
class AllocationStrategy:
    """A waterfall: the order of components and how installments are swept."""

    name: str
    order: tuple[Component, ...]
    sweep: Sweep = Sweep.BY_INSTALLMENT

    def __post_init__(self) -> None:
        if sorted(self.order) != sorted(Component):
            raise ValueError("a strategy orders each component exactly once")


DUE_DATE_ORDER = AllocationStrategy(
    "due_date_order",
    (Component.FEE, Component.PENALTY, Component.INTEREST, Component.PRINCIPAL),
)
PENALTY_FEE_INTEREST_PRINCIPAL = AllocationStrategy(
    "penalty_fee_interest_principal",
    (Component.PENALTY, Component.FEE, Component.INTEREST, Component.PRINCIPAL),
)
PRINCIPAL_INTEREST_PENALTY_FEE = AllocationStrategy(
    "principal_interest_penalty_fee",
    (Component.PRINCIPAL, Component.INTEREST, Component.PENALTY, Component.FEE),
)
INTEREST_PRINCIPAL_PENALTY_FEE = AllocationStrategy(
    "interest_principal_penalty_fee",
    (Component.INTEREST, Component.PRINCIPAL, Component.PENALTY, Component.FEE),
)
INTEREST_PRINCIPAL_ACROSS_INSTALLMENTS = AllocationStrategy(
    "interest_principal_penalty_fee_across_installments",
    (Component.INTEREST, Component.PRINCIPAL, Component.PENALTY, Component.FEE),
    Sweep.BY_COMPONENT,
)
STRATEGIES = {
    s.name: s
    for s in (
        DUE_DATE_ORDER,
        PENALTY_FEE_INTEREST_PRINCIPAL,
        PRINCIPAL_INTEREST_PENALTY_FEE,
        INTEREST_PRINCIPAL_PENALTY_FEE,
        INTEREST_PRINCIPAL_ACROSS_INSTALLMENTS,
    )
}


@dataclass(frozen=True, slots=True)
class InstallmentDue:
    """What an installment still owes, by component."""

    number: int
    due_date: date
    principal: Decimal = ZERO
    interest: Decimal = ZERO
    fee: Decimal = ZERO
    penalty: Decimal = ZERO

    def owed(self, component: Component) -> Decimal:
        """The outstanding amount of one component."""
        if component is Component.PRINCIPAL:
            return self.principal
        if component is Component.INTEREST:
            return self.interest
        if component is Component.FEE:
            return self.fee
        return self.penalty

    @property
    @in_engine_context
    def total(self) -> Decimal:
        """Everything this installment still owes."""
        return self.principal + self.interest + self.fee + self.penalty


@dataclass(frozen=True, slots=True)
class AllocationLine:
    """An amount of a payment put on one component of one installment."""

    installment: int
    component: Component
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Payment:
    """A repayment received on a day."""

    paid_on: date
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Allocation:
    """How one payment was split, and what was left as credit or handed over as a prepayment."""

    paid_on: date
    amount: Decimal
    strategy: str
    lines: tuple[AllocationLine, ...]
    credit_balance: Decimal
    prepayment: Decimal = ZERO
    """Left to prepay principal (``prepay_principal``): the schedule is re-amortised with it."""

    @property
    @in_engine_context
    def allocated(self) -> Decimal:
        """The sum of the allocation lines."""
        return sum((line.amount for line in self.lines), ZERO)

    @in_engine_context
    def by_component(self) -> dict[Component, Decimal]:
        """Totals per component."""
        totals = dict.fromkeys(Component, ZERO)
        for line in self.lines:
            totals[line.component] += line.amount
        return totals


def _take(
    remaining: Decimal,
    owed: dict[tuple[int, Component], Decimal],
    key: tuple[int, Component],
    lines: list[AllocationLine],
) -> Decimal:
    amount = min(remaining, owed[key])
    if amount > 0:
        owed[key] -= amount
        lines.append(AllocationLine(key[0], key[1], amount))
        return remaining - amount
    return remaining


def _sweep(
    remaining: Decimal,
    installments: Sequence[InstallmentDue],
    order: Sequence[Component],
    sweep: Sweep,
    owed: dict[tuple[int, Component], Decimal],
    lines: list[AllocationLine],
) -> Decimal:
    if sweep is Sweep.BY_INSTALLMENT:
        keys = [(i.number, c) for i in installments for c in order]
    else:
        keys = [(i.number, c) for c in order for i in installments]
    for key in keys:
        if remaining <= 0:
            break
        remaining = _take(remaining, owed, key, lines)
    return remaining


_CNY = RoundingPolicy()


@in_engine_context
def allocate(
    dues: Sequence[InstallmentDue],
    amount: Decimal,
    paid_on: date,
    strategy: AllocationStrategy = DUE_DATE_ORDER,
    overpayment: OverpaymentPolicy = OverpaymentPolicy.CREDIT_BALANCE,
    *,
    rounding: RoundingPolicy = _CNY,
) -> Allocation:
    """Split `amount` paid on `paid_on` over `dues` by `strategy`; the rest by `overpayment`.

    `amount` must be a whole number of the currency's minor units (`rounding`:
    fen for CNY); a finer amount would leave a part of a fen on a line.
    """
    if amount <= 0:
        raise ValueError("a payment is a positive amount")
    if rounding.round(amount) != amount:
        raise ValueError(
            f"a payment of {amount} {rounding.currency} has more than {rounding.places} decimal places"
        )
    ordered = sorted(dues, key=lambda d: (d.due_date, d.number))
    owed = {(d.number, c): d.owed(c) for d in ordered for c in Component}
    lines: list[AllocationLine] = []
    due_now = [d for d in ordered if d.due_date <= paid_on]
    future = [d for d in ordered if d.due_date > paid_on]
    remaining = _sweep(amount, due_now, strategy.order, strategy.sweep, owed, lines)
    prepayment = ZERO
    if remaining > 0 and overpayment is OverpaymentPolicy.PREPAY_PRINCIPAL:
        # At most what settling the loan can cost (principal, and the interest earned to the day,
        # which no future installment's interest exceeds); the re-amortisation hands back the rest.
        prepayment = min(remaining, sum((d.principal + d.interest for d in future), ZERO))
        remaining -= prepayment
    elif remaining > 0 and overpayment is OverpaymentPolicy.PAY_NEXT_INSTALLMENTS:
        remaining = _sweep(remaining, future, strategy.order, Sweep.BY_INSTALLMENT, owed, lines)
    return Allocation(
        paid_on=paid_on,
        amount=amount,
        strategy=strategy.name,
        lines=tuple(lines),
        credit_balance=remaining,
        prepayment=prepayment,
    )


@in_engine_context
def apply_credit(
    dues: Sequence[InstallmentDue],
    credit: Decimal,
    on: date,
    strategy: AllocationStrategy = DUE_DATE_ORDER,
    *,
    rounding: RoundingPolicy = _CNY,
) -> Allocation | None:
    """Use a credit balance on `on` for what is due by then; None when nothing is used.

    The result has amount 0: its lines are paid by a negative credit balance.
    """
    if credit <= 0:
        return None
    held = allocate(dues, credit, on, strategy, OverpaymentPolicy.CREDIT_BALANCE, rounding=rounding)
    if not held.lines:
        return None
    return Allocation(
        paid_on=on,
        amount=ZERO,
        strategy=strategy.name,
        lines=held.lines,
        credit_balance=-held.allocated,
    )


@in_engine_context
def apply_allocation(dues: Sequence[InstallmentDue], allocation: Allocation) -> tuple[InstallmentDue, ...]:
    """The dues after `allocation` (a reversal, with negative lines, restores them)."""
    paid: dict[tuple[int, Component], Decimal] = {}
    for line in allocation.lines:
        key = (line.installment, line.component)
        paid[key] = paid.get(key, ZERO) + line.amount
    result = []
    for due in dues:
        changes = {c.value: due.owed(c) - paid[(due.number, c)] for c in Component if (due.number, c) in paid}
        updated = (
            InstallmentDue(
                number=due.number,
                due_date=due.due_date,
                principal=changes.get("principal", due.principal),
                interest=changes.get("interest", due.interest),
                fee=changes.get("fee", due.fee),
                penalty=changes.get("penalty", due.penalty),
            )
            if changes
            else due
        )
        if any(updated.owed(c) < 0 for c in Component):
            raise ValueError(f"allocation overpays installment {due.number}")
        result.append(updated)
    return tuple(result)


@in_engine_context
def reverse(allocation: Allocation, amount: Decimal | None = None) -> Allocation:
    """The counter-allocation of `allocation`, or of its last `amount` (undone in reverse order).

    A payment that prepaid principal re-amortised the schedule; undoing the prepayment is a
    `replay` of the loan without the payment, which this refuses to stand in for.  Likewise
    the credit a payment left is taken back as if still held: once `replay` (or
    `apply_credit`) has used it on a due date, replay the loan without the payment instead.
    """
    to_undo = allocation.amount if amount is None else amount
    if not 0 < to_undo <= allocation.amount:
        raise ValueError("a reversal undoes between 0 and the whole payment")
    credit_back = min(to_undo, allocation.credit_balance)
    remaining = to_undo - credit_back
    if remaining > 0 and allocation.prepayment > 0:
        raise ValueError("the payment prepaid principal: replay the loan without it instead of reversing")
    lines: list[AllocationLine] = []
    for line in reversed(allocation.lines):
        if remaining <= 0:
            break
        undo = min(remaining, line.amount)
        lines.append(AllocationLine(line.installment, line.component, -undo))
        remaining -= undo
    return Allocation(
        paid_on=allocation.paid_on,
        amount=-to_undo,
        strategy=allocation.strategy,
        lines=tuple(lines),
        credit_balance=-credit_back,
    )


@dataclass(frozen=True, slots=True)
class Replay:
    """The dues after replaying payments in date order, with each allocation (credit used included)."""

    dues: tuple[InstallmentDue, ...]
    allocations: tuple[Allocation, ...]
    credit_balance: Decimal


Prepay = Callable[[tuple[InstallmentDue, ...], date, Decimal], tuple[tuple[InstallmentDue, ...], Decimal]]
"""Re-amortises on a prepayment: (dues, paid on, amount) -> (the dues that follow, the part unused)."""


@in_engine_context
def replay(
    dues: Sequence[InstallmentDue],
    payments: Sequence[Payment],
    strategy: AllocationStrategy = DUE_DATE_ORDER,
    overpayment: OverpaymentPolicy = OverpaymentPolicy.CREDIT_BALANCE,
    *,
    rounding: RoundingPolicy = _CNY,
    as_of: date | None = None,
    prepay: Prepay | None = None,
) -> Replay:
    """Allocate `payments` in date order from the original `dues` (back-dated ones just replay).

    A credit balance pays what falls due after it, on each due date, before the next payment
    and up to `as_of`.  Under ``prepay_principal`` a payment's `prepayment` goes to `prepay`
    (e.g. a `prepayment.Reamortiser`), which re-amortises the schedule; without one the
    replay is refused, since the dues alone cannot say what the lower balance saves.
    """
    state = tuple(dues)
    allocations: list[Allocation] = []
    credit = ZERO

    def use_credit(until: date) -> None:
        nonlocal state, credit
        for due_date in sorted({d.due_date for d in state if d.due_date <= until}):
            used = apply_credit(state, credit, due_date, strategy, rounding=rounding)
            if used is not None:
                state = apply_allocation(state, used)
                allocations.append(used)
                credit += used.credit_balance

    for payment in sorted(payments, key=lambda p: p.paid_on):
        use_credit(payment.paid_on)
        allocation = allocate(state, payment.amount, payment.paid_on, strategy, overpayment, rounding=rounding)
        state = apply_allocation(state, allocation)
        if allocation.prepayment > 0:
            if prepay is None:
                raise ValueError("a payment prepays principal: replay with prepay= to re-amortise the schedule")
            state, unused = prepay(state, payment.paid_on, allocation.prepayment)
            if unused:
                allocation = replace(
                    allocation,
                    prepayment=allocation.prepayment - unused,
                    credit_balance=allocation.credit_balance + unused,
                )
        allocations.append(allocation)
        credit += allocation.credit_balance
    if as_of is not None:
        use_credit(as_of)
    return Replay(dues=state, allocations=tuple(allocations), credit_balance=credit)
