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
principal, after Civil Code Art. 561 and docs/domain.md §4.8.

What is left once everything due is paid follows the overpayment policy:

- ``credit_balance``: held, and used on each later due date for what falls
  due (`apply_credit`; `replay` does it between payments and up to `as_of`);
- ``prepay_principal``: handed over as a prepayment (`Allocation.prepayment`,
  at most the principal and interest not yet due) for the schedule to be
  re-amortised --
  `prepayment.partial_prepayment`, or a `Prepayer` such as
  `prepayment.Reamortisation` inside `replay` -- so later installments charge
  interest on the lower balance (taking it off the last installments'
  principal alone would leave their interest, computed on the old balance,
  owed);
- ``pay_next_installments``: pays the next installments in advance (oldest
  first, in the strategy's order).

Every allocation records per-installment, per-component lines, so it can be
applied, reversed exactly (`reverse`) and replayed after a back-dated
payment (`replay`); no cent is created or lost:

    sum(lines) + credit balance + prepayment == payment amount

Credit used on a due date is an allocation of amount 0 whose lines are
paid by a negative credit balance, so the identity holds for it too.

Amounts are `Money`: a payment is a whole number of the currency's minor
unit by construction (1.005 yuan cannot be parsed), so no part of a fen is
ever put on a line; a payment in another currency than the dues is refused
(`CurrencyMismatch`).

`replay` is pure: the prepay hook is a `Prepayer`, a frozen value whose
`prepay` returns the next value instead of changing itself, and the replay
hands back the last one (`Replay.prepayer`), so a back-dated payment just
replays from the same inputs.

Worked example: installment 1 owes penalty 3.94, interest 100.00 and
principal 788.49; a payment of 500.00 under ``penalty_fee_interest_principal``
gives penalty 3.94, interest 100.00, principal 396.06.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum
from typing import Generic, Protocol, TypeVar

from microcredit.lending.money import CurrencyMismatch, Money, RoundingMode, divide_rounded

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
    "Prepayer",
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


_COMPONENTS = tuple(Component)  # iterating an Enum class is slow; the fold does it per event
_FIELD = {c: c.value for c in _COMPONENTS}


class Sweep(StrEnum):
    """Installment by installment (horizontal) or component by component (vertical)."""

    BY_INSTALLMENT = "by_installment"
    BY_COMPONENT = "by_component"
    BY_COMPONENT_PER_BUCKET = "by_component_per_bucket"
    """Component by component within each bucket in turn: past due, due on the payment's day,
    then not yet due (Fineract's VERTICAL processing of the advanced payment allocation)."""


class OverpaymentPolicy(StrEnum):
    """What to do with money left after everything due is paid."""

    CREDIT_BALANCE = "credit_balance"
    PREPAY_PRINCIPAL = "prepay_principal"
    PAY_NEXT_INSTALLMENTS = "pay_next_installments"
    PAY_NEXT_PRINCIPAL = "pay_next_principal"
    """The next installments' principal only, in due-date order (Fineract's
    RESCHEDULE_NEXT_REPAYMENTS): their interest is left to fall due, and with interest
    recalculation it falls with the principal paid ahead; the rest, once no principal is
    left, is credit."""


@dataclass(frozen=True, slots=True)
class AllocationStrategy:
    """A waterfall: the order of components and how installments are swept."""

    name: str
    order: tuple[Component, ...]
    sweep: Sweep = Sweep.BY_INSTALLMENT
    in_advance_order: tuple[Component, ...] | None = None
    """The order for installments paid before they fall due (``pay_next_installments``); None:
    `order`.  Fineract's ``due-penalty-fee-interest-principal-in-advance-principal-penalty-fee-interest``
    pays an installment in advance principal first."""
    in_advance_last_first: bool = False
    """Whether what is paid ahead goes to the last installment first, then the one before
    (Fineract's LAST_INSTALLMENT future-installment rule); False: the next installment first."""
    in_advance_spread: bool = False
    """Whether what is paid ahead is spread evenly over every installment not yet due (Fineract's
    REAMORTIZATION rule, `_spread`); False: one installment after the other."""
    in_advance_charges_due_first: bool = False
    """Whether an installment paid ahead pays first the penalty, then the fee, already due on the
    payment day by its charges' own due dates (`InstallmentDue.charges`), then its principal, and
    only then the rest in `in_advance_order` (Fineract's
    ``DuePenFeeIntPriInAdvancePriPenFeeIntLoanRepaymentScheduleTransactionProcessor``, lines
    100-156: a charge that falls due after the payment is not paid before the principal);
    False: `in_advance_order` alone.  Installment by installment only."""

    def __post_init__(self) -> None:
        if sorted(self.order) != sorted(Component):
            raise ValueError("a strategy orders each component exactly once")
        if self.in_advance_order is not None and sorted(self.in_advance_order) != sorted(Component):
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
    """What an installment still owes, by component (four amounts of one currency)."""

    number: int
    due_date: date
    principal: Money
    interest: Money
    fee: Money
    penalty: Money
    charges: tuple[tuple[date, Component, Money], ...] = ()
    """The charges owed with it, each with its own due date and component (fee or penalty), as
    they were added; read only by `AllocationStrategy.in_advance_charges_due_first` (an
    installment rebuilt by a re-amortisation holds none: its charges count as due)."""

    def __post_init__(self) -> None:
        code = self.principal.currency
        if not self.interest.currency == self.fee.currency == self.penalty.currency == code:
            raise CurrencyMismatch(f"installment {self.number} owes amounts of several currencies")

    @property
    def currency(self) -> str:
        """The currency the installment is owed in."""
        return self.principal.currency

    def owed(self, component: Component) -> Money:
        """The outstanding amount of one component."""
        value: Money = getattr(self, _FIELD[component])
        return value

    @property
    def total(self) -> Money:
        """Everything this installment still owes."""
        return self.principal + self.interest + self.fee + self.penalty

    def charged_by(self, component: Component, on: date) -> Money:
        """What it owes of `component` (fee or penalty) less the charges falling due after `on`."""
        later = sum(amount.minor for due_on, kind, amount in self.charges if kind is component and due_on > on)
        owed = self.owed(component)
        return Money(max(0, owed.minor - later), owed.currency)

    @property
    def owes(self) -> bool:
        """Whether anything is still owed (`total` is positive), without making the total."""
        return self.principal.minor + self.interest.minor + self.fee.minor + self.penalty.minor > 0


@dataclass(frozen=True, slots=True)
class AllocationLine:
    """An amount of a payment put on one component of one installment."""

    installment: int
    component: Component
    amount: Money


@dataclass(frozen=True, slots=True)
class Payment:
    """A repayment received on a day."""

    paid_on: date
    amount: Money


@dataclass(frozen=True, slots=True)
class Allocation:
    """How one payment was split, and what was left as credit or handed over as a prepayment."""

    paid_on: date
    amount: Money
    strategy: str
    lines: tuple[AllocationLine, ...]
    credit_balance: Money
    prepayment: Money
    """Left to prepay principal (``prepay_principal``): the schedule is re-amortised with it."""

    @property
    def allocated(self) -> Money:
        """The sum of the allocation lines."""
        return Money.total((line.amount for line in self.lines), self.amount.currency)

    def by_component(self) -> dict[Component, Money]:
        """Totals per component."""
        totals = dict.fromkeys(_COMPONENTS, Money.zero(self.amount.currency))
        for line in self.lines:
            totals[line.component] += line.amount
        return totals


def _sweep(
    remaining: int,
    installments: Sequence[InstallmentDue],
    order: Sequence[Component],
    sweep: Sweep,
    lines: list[AllocationLine],
    currency: str,
) -> int:
    """Put `remaining` (minor units) on what `installments` owe, component by component in
    `order`, installment by installment or component by component; what is left comes back.
    Each (installment, component) is visited once per payment, so what it owes is read from it."""
    if sweep is Sweep.BY_INSTALLMENT:
        pairs = [(due, c) for due in installments for c in order]
    else:
        pairs = [(due, c) for c in order for due in installments]
    for due, component in pairs:
        if remaining <= 0:
            break
        owed = getattr(due, _FIELD[component]).minor
        if owed > 0:
            taken = owed if owed < remaining else remaining
            lines.append(AllocationLine(due.number, component, Money(taken, currency)))
            remaining -= taken
    return remaining


def _spread(
    remaining: int,
    installments: Sequence[InstallmentDue],
    order: Sequence[Component],
    vertical: bool,
    lines: list[AllocationLine],
    currency: str,
) -> int:
    """Put `remaining` (minor units) evenly on `installments` (Fineract's REAMORTIZATION rule,
    ``AdvancedPaymentScheduleTransactionProcessor`` lines 1402-1500 and 1620-1670): for each
    component in `order`, each installment still owing takes the amount left / their number
    (rounded half-even; the last one takes the residue), at most what it owes; again until
    nothing is left or nothing is owed.  Horizontally the installments are those owing
    anything, vertically those owing that component, one component after the other."""
    paid: dict[tuple[int, Component], int] = {}

    def owed(due: InstallmentDue, component: Component) -> int:
        return int(getattr(due, _FIELD[component]).minor) - paid.get((due.number, component), 0)

    def share(eligible: Sequence[InstallmentDue], component: Component, left: int) -> int:
        n = len(eligible)
        even = divide_rounded(left, n, RoundingMode.HALF_EVEN)
        residue = left - even * n
        for k, due in enumerate(eligible):
            portion = even + (residue if k == n - 1 else 0)
            taken = min(portion, owed(due, component), left)
            if taken > 0:
                lines.append(AllocationLine(due.number, component, Money(taken, currency)))
                paid[(due.number, component)] = paid.get((due.number, component), 0) + taken
                left -= taken
        return left

    if vertical:
        for component in order:
            while remaining > 0:
                eligible = [d for d in installments if owed(d, component) > 0]
                if not eligible:
                    break
                before, remaining = remaining, share(eligible, component, remaining)
                if remaining == before:
                    break
        return remaining
    while remaining > 0:
        eligible = [d for d in installments if any(owed(d, c) > 0 for c in order)]
        if not eligible:
            break
        before = remaining
        for component in order:
            remaining = share(eligible, component, remaining)
        if remaining == before:
            break
    return remaining


def _charges_due_first(
    remaining: int,
    installments: Sequence[InstallmentDue],
    order: Sequence[Component],
    on: date,
    lines: list[AllocationLine],
    currency: str,
) -> int:
    """`AllocationStrategy.in_advance_charges_due_first`: each installment in turn pays the
    penalty and fee due by `on`, then principal, then what it still owes in `order`; one line
    per component of an installment."""
    for due in installments:
        if remaining <= 0:
            break
        start = len(lines)
        zero = Money.zero(currency)
        first = replace(due, interest=zero, fee=due.charged_by(Component.FEE, on),
                        penalty=due.charged_by(Component.PENALTY, on))
        remaining = _sweep(remaining, [first], (Component.PENALTY, Component.FEE, Component.PRINCIPAL),
                           Sweep.BY_INSTALLMENT, lines, currency)
        taken = {c: sum(line.amount.minor for line in lines[start:] if line.component is c) for c in Component}
        left = {c: Money(due.owed(c).minor - taken[c], currency) for c in Component}
        rest = replace(due, principal=left[Component.PRINCIPAL], interest=left[Component.INTEREST],
                       fee=left[Component.FEE], penalty=left[Component.PENALTY])
        remaining = _sweep(remaining, [rest], order, Sweep.BY_INSTALLMENT, lines, currency)
        merged: dict[Component, int] = {}
        for line in lines[start:]:
            merged[line.component] = merged.get(line.component, 0) + line.amount.minor
        lines[start:] = [AllocationLine(due.number, c, Money(amount, currency)) for c, amount in merged.items()]
    return remaining


def _due_order(due: InstallmentDue) -> tuple[date, int]:
    return due.due_date, due.number


def allocate(
    dues: Sequence[InstallmentDue],
    amount: Money,
    paid_on: date,
    *,
    strategy: AllocationStrategy,
    overpayment: OverpaymentPolicy,
) -> Allocation:
    """Split `amount` paid on `paid_on` over `dues` by `strategy`; the rest by `overpayment`."""
    if not amount.is_positive:
        raise ValueError("a payment is a positive amount")
    currency = amount.currency
    for due in dues:
        if due.principal.currency != currency:  # an installment's four amounts share one currency
            raise CurrencyMismatch(f"a {currency} payment cannot pay installment {due.number} in {due.currency}")
    ordered = sorted(dues, key=_due_order)
    lines: list[AllocationLine] = []
    due_now = [d for d in ordered if d.due_date <= paid_on and d.owes]
    future = [d for d in ordered if d.due_date > paid_on]
    if strategy.sweep is Sweep.BY_COMPONENT_PER_BUCKET:
        past = [d for d in due_now if d.due_date < paid_on]
        today = [d for d in due_now if d.due_date == paid_on]
        left = _sweep(amount.minor, past, strategy.order, Sweep.BY_COMPONENT, lines, currency)
        left = _sweep(left, today, strategy.order, Sweep.BY_COMPONENT, lines, currency)
    else:
        left = _sweep(amount.minor, due_now, strategy.order, strategy.sweep, lines, currency)
    prepayment = 0
    if left > 0 and overpayment is OverpaymentPolicy.PREPAY_PRINCIPAL:
        # At most what settling the loan can cost (principal, and the interest earned to the day,
        # which no future installment's interest exceeds); the re-amortisation hands back the rest.
        prepayment = min(left, sum(d.principal.minor + d.interest.minor for d in future))
        left -= prepayment
    elif left > 0 and overpayment is OverpaymentPolicy.PAY_NEXT_INSTALLMENTS:
        ahead = strategy.order if strategy.in_advance_order is None else strategy.in_advance_order
        upcoming = future[::-1] if strategy.in_advance_last_first else future
        vertical = strategy.sweep is Sweep.BY_COMPONENT_PER_BUCKET
        if strategy.in_advance_spread:
            left = _spread(left, future, ahead, vertical, lines, currency)
        elif strategy.in_advance_charges_due_first and not vertical:
            left = _charges_due_first(left, upcoming, ahead, paid_on, lines, currency)
        else:
            left = _sweep(left, upcoming, ahead, Sweep.BY_COMPONENT if vertical else Sweep.BY_INSTALLMENT, lines,
                          currency)
    elif left > 0 and overpayment is OverpaymentPolicy.PAY_NEXT_PRINCIPAL:
        left = _sweep(left, future, (Component.PRINCIPAL,), Sweep.BY_INSTALLMENT, lines, currency)
    remaining, prepaid = Money(left, currency), Money(prepayment, currency)
    return Allocation(
        paid_on=paid_on,
        amount=amount,
        strategy=strategy.name,
        lines=tuple(lines),
        credit_balance=remaining,
        prepayment=prepaid,
    )


def apply_credit(
    dues: Sequence[InstallmentDue],
    credit: Money,
    on: date,
    *,
    strategy: AllocationStrategy,
) -> Allocation | None:
    """Use a credit balance on `on` for what is due by then; None when nothing is used.

    The result has amount 0: its lines are paid by a negative credit balance.
    """
    if not credit.is_positive:
        return None
    held = allocate(dues, credit, on, strategy=strategy, overpayment=OverpaymentPolicy.CREDIT_BALANCE)
    if not held.lines:
        return None
    zero = Money.zero(credit.currency)
    return Allocation(
        paid_on=on,
        amount=zero,
        strategy=strategy.name,
        lines=held.lines,
        credit_balance=-held.allocated,
        prepayment=zero,
    )


def apply_allocation(dues: Sequence[InstallmentDue], allocation: Allocation) -> tuple[InstallmentDue, ...]:
    """The dues after `allocation` (a reversal, with negative lines, restores them)."""
    paid: dict[tuple[int, Component], Money] = {}
    for line in allocation.lines:
        key = (line.installment, line.component)
        paid[key] = paid[key] + line.amount if key in paid else line.amount
    touched = {number for number, _ in paid}
    result = []
    for due in dues:
        if due.number not in touched:
            result.append(due)
            continue
        changes = {c.value: due.owed(c) - paid[(due.number, c)] for c in _COMPONENTS if (due.number, c) in paid}
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
        if any(updated.owed(c).is_negative for c in _COMPONENTS):
            raise ValueError(f"allocation overpays installment {due.number}")
        result.append(updated)
    return tuple(result)


def reverse(allocation: Allocation, amount: Money | None = None) -> Allocation:
    """The counter-allocation of `allocation`, or of its last `amount` (undone in reverse order).

    A payment that prepaid principal re-amortised the schedule; undoing the prepayment is a
    `replay` of the loan without the payment, which this refuses to stand in for.  Likewise
    the credit a payment left is taken back as if still held: once `replay` (or
    `apply_credit`) has used it on a due date, replay the loan without the payment instead.
    """
    to_undo = allocation.amount if amount is None else amount
    if not (to_undo.is_positive and to_undo <= allocation.amount):
        raise ValueError("a reversal undoes between 0 and the whole payment")
    credit_back = min(to_undo, allocation.credit_balance)
    remaining = to_undo - credit_back
    if remaining.is_positive and allocation.prepayment.is_positive:
        raise ValueError("the payment prepaid principal: replay the loan without it instead of reversing")
    lines: list[AllocationLine] = []
    for line in reversed(allocation.lines):
        if not remaining.is_positive:
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
        prepayment=Money.zero(to_undo.currency),
    )


PrepayerT = TypeVar("PrepayerT", bound="Prepayer")


class Prepayer(Protocol):
    """Re-amortises on a prepayment, purely: a frozen value that returns its successor."""

    def prepay(
        self: PrepayerT, dues: tuple[InstallmentDue, ...], paid_on: date, amount: Money
    ) -> tuple[PrepayerT, tuple[InstallmentDue, ...], Money]:
        """(dues, paid on, amount) -> (the next prepayer, the dues that follow, the part unused)."""
        ...


@dataclass(frozen=True, slots=True)
class Replay(Generic[PrepayerT]):
    """The dues after replaying payments in date order, with each allocation (credit used included)."""

    dues: tuple[InstallmentDue, ...]
    allocations: tuple[Allocation, ...]
    credit_balance: Money
    prepayer: PrepayerT | None = None
    """The prepayer after the last prepayment (the replay's input when none was made)."""


def replay(
    dues: Sequence[InstallmentDue],
    payments: Sequence[Payment],
    *,
    strategy: AllocationStrategy,
    overpayment: OverpaymentPolicy,
    as_of: date | None = None,
    prepayer: PrepayerT | None = None,
) -> Replay[PrepayerT]:
    """Allocate `payments` in date order from the original `dues` (back-dated ones just replay).

    A credit balance pays what falls due after it, on each due date, before the next payment
    and up to `as_of`.  Under ``prepay_principal`` a payment's `prepayment` goes to `prepayer`
    (e.g. a `prepayment.Reamortisation`), which re-amortises the schedule and returns its
    successor; without one the replay is refused, since the dues alone cannot say what the
    lower balance saves.  Nothing passed in is changed.
    """
    state = tuple(dues)
    if state:
        code = state[0].currency
    elif payments:
        code = payments[0].amount.currency
    else:
        raise ValueError("nothing to replay: no dues and no payments")
    allocations: list[Allocation] = []
    credit = Money.zero(code)

    def use_credit(until: date) -> None:
        nonlocal state, credit
        for due_date in sorted({d.due_date for d in state if d.due_date <= until}):
            used = apply_credit(state, credit, due_date, strategy=strategy)
            if used is not None:
                state = apply_allocation(state, used)
                allocations.append(used)
                credit += used.credit_balance

    for payment in sorted(payments, key=lambda p: p.paid_on):
        use_credit(payment.paid_on)
        allocation = allocate(state, payment.amount, payment.paid_on, strategy=strategy, overpayment=overpayment)
        state = apply_allocation(state, allocation)
        if allocation.prepayment.is_positive:
            if prepayer is None:
                raise ValueError("a payment prepays principal: replay with prepayer= to re-amortise the schedule")
            prepayer, state, unused = prepayer.prepay(state, payment.paid_on, allocation.prepayment)
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
    return Replay(dues=state, allocations=tuple(allocations), credit_balance=credit, prepayer=prepayer)
