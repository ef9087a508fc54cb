"""A loan's state on a date: what the fold of its events answers.

Every amount is `Money` in the loan's currency.  Per installment and in
total, by component (principal, interest, fee, penalty):

    due = paid + waived + written off + outstanding

and for the loan as a whole (`LoanState.principal_identity` checks it):

    disbursed = principal paid on installments + principal prepaid
                + principal written off + principal outstanding

A few of `LoanState`'s fields -- the installments, the payments, the schedule, the payoff quote,
the disbursements (`LAZY_FIELDS`) -- may be given as `later(make, *args)`: the value is made by
``make(*args)`` when the field is first read, and kept.  The fold's integer kernel gives them so:
a state is some three hundred immutable values (each installment's four `Amounts`, each
payment's allocation lines, their `Money`), and a close of business or a bench that reads the
status, the days past due and a few totals need not make them.  Reading, comparing, hashing,
printing, pickling and `dataclasses.replace` see the made values; a state equals the same state
given eagerly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import date
from enum import StrEnum
from typing import Any, TypeVar

from microcredit.lending.allocation import AllocationLine, Component, InstallmentDue
from microcredit.lending.classification import Classification, DelinquencyBucket
from microcredit.lending.money import Money
from microcredit.lending.prepayment import PayoffQuote
from microcredit.lending.schedule import Schedule

__all__ = [
    "LAZY_FIELDS",
    "Amounts",
    "Disbursed",
    "InstallmentState",
    "LoanState",
    "LoanStatus",
    "PaymentApplied",
    "PlannedDisbursement",
    "later",
]

T = TypeVar("T")

LAZY_FIELDS = ("disbursements", "schedule", "installments", "payments", "payoff")
"""The fields of `LoanState` that may be given as `later(...)`."""


class _Later:
    """A field's value not made yet (`later`)."""

    __slots__ = ("args", "make")

    def __init__(self, make: Callable[..., Any], args: tuple[Any, ...]) -> None:
        self.make = make
        self.args = args


def later(make: Callable[..., T], *args: Any) -> T:
    """A value of one of `LAZY_FIELDS` given as the call that makes it: `LoanState` calls
    ``make(*args)`` on the field's first read and keeps what it returns.  `make` must be pure and
    its arguments must not change afterwards (the kernel's folded columns do not).  Typed as the
    value it stands for."""
    return _Later(make, args)  # type: ignore[return-value]  # stands for T until read (no `cast` call: per state)


class _Lazy:
    """A non-data descriptor on `LoanState` for one of `LAZY_FIELDS`: the instance's ``__dict__``
    holds the made value under the field's name (read at the speed of any attribute), or -- until
    the first read -- the `_Later` under ``_later_<name>``, which this makes and moves there."""

    __slots__ = ("key", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        self.key = f"_later_{name}"

    def __get__(self, state: object, owner: type | None = None) -> Any:
        if state is None:
            raise AttributeError(self.name)  # a field without a default
        values = state.__dict__
        pending = values.get(self.key)
        if pending is None:  # made meanwhile by another thread (or never given: no such value)
            if self.name in values:
                return values[self.name]
            raise AttributeError(self.name)
        value = values[self.name] = pending.make(*pending.args)
        values.pop(self.key, None)  # after the value is in place: a reader sees one or the other
        return value


class LoanStatus(StrEnum):
    """Where a loan is in its life."""

    APPROVED = "approved"
    """Not disbursed yet."""
    ACTIVE = "active"
    CLOSED = "closed"
    """Everything owed is paid (or waived) and no credit is held."""
    OVERPAID = "overpaid"
    """Everything owed is paid and the borrower has a credit balance to be refunded."""
    WRITTEN_OFF = "written_off"


@dataclass(frozen=True, slots=True)
class Amounts:
    """An amount per component."""

    principal: Money
    interest: Money
    fee: Money
    penalty: Money

    @classmethod
    def zero(cls, currency: str) -> Amounts:
        """Nothing, in `currency`."""
        zero = Money.zero(currency)
        return cls(zero, zero, zero, zero)

    @classmethod
    def of(cls, due: InstallmentDue) -> Amounts:
        """The four amounts of an installment's dues."""
        return cls(due.principal, due.interest, due.fee, due.penalty)

    @classmethod
    def paid_of(cls, charged: InstallmentDue, waived: InstallmentDue, written_off: InstallmentDue,
                owed: InstallmentDue) -> Amounts:
        """What was paid of an installment: what it was charged less what was waived, written off
        and is still owed (in minor units: the fold reads every installment of every loan)."""
        code = charged.principal.currency
        return cls(
            Money(charged.principal.minor - waived.principal.minor - written_off.principal.minor
                  - owed.principal.minor, code),
            Money(charged.interest.minor - waived.interest.minor - written_off.interest.minor
                  - owed.interest.minor, code),
            Money(charged.fee.minor - waived.fee.minor - written_off.fee.minor - owed.fee.minor, code),
            Money(charged.penalty.minor - waived.penalty.minor - written_off.penalty.minor
                  - owed.penalty.minor, code),
        )

    def __add__(self, other: Amounts) -> Amounts:
        return Amounts(
            self.principal + other.principal,
            self.interest + other.interest,
            self.fee + other.fee,
            self.penalty + other.penalty,
        )

    def __sub__(self, other: Amounts) -> Amounts:
        return Amounts(
            self.principal - other.principal,
            self.interest - other.interest,
            self.fee - other.fee,
            self.penalty - other.penalty,
        )

    def get(self, component: Component) -> Money:
        """The amount of one component."""
        return {
            Component.PRINCIPAL: self.principal,
            Component.INTEREST: self.interest,
            Component.FEE: self.fee,
            Component.PENALTY: self.penalty,
        }[component]

    @property
    def total(self) -> Money:
        """The four components together."""
        return self.principal + self.interest + self.fee + self.penalty


@dataclass(frozen=True, slots=True)
class InstallmentState:
    """One installment as it now stands."""

    number: int
    """1..n for the schedule's installments; 0 for the first disbursement's down payment and
    -1, -2 ... for the tranches' (`Terms.down_payment`)."""
    period_start: date
    due_date: date
    due: Amounts
    """Charged: the schedule's amounts, charges added and penalties."""
    paid: Amounts
    waived: Amounts
    written_off: Amounts
    outstanding: Amounts
    balance_after: Money
    """Principal the schedule leaves owed after this installment (after a down payment: the
    principal of the installments due after it)."""

    @property
    def settled(self) -> bool:
        """Nothing of it is outstanding."""
        return self.outstanding.total.is_zero


@dataclass(frozen=True, slots=True)
class Disbursed:
    """A disbursement (the first, or a tranche)."""

    event_id: str
    on: date
    amount: Money


@dataclass(frozen=True, slots=True)
class PlannedDisbursement:
    """A disbursement the contract plans (`Terms.expected_disbursements`) and the one that met it
    (the n-th disbursement made meets the n-th planned), if made."""

    expected_on: date
    expected_amount: Money
    made: Disbursed | None


@dataclass(frozen=True, slots=True)
class PaymentApplied:
    """What one payment (or credit used on a due date) paid."""

    event_id: str | None
    """The repayment or prepayment event; None for credit used on a due date."""
    on: date
    amount: Money
    lines: tuple[AllocationLine, ...]
    """Per installment and component: what was due and is now paid."""
    interest_prepaid: Money
    """Interest accrued to the day that a prepayment settled before lowering the principal."""
    principal_prepaid: Money
    credit: Money
    """Left over as credit (negative: credit used)."""


@dataclass(frozen=True)
class LoanState:
    """The fold of a loan's events as of a date.

    `LAZY_FIELDS` may be given as `later(...)` (the module's docstring): no ``__slots__``, so
    that a made value is kept in the instance's ``__dict__``."""

    as_of: date
    currency: str
    status: LoanStatus
    disbursed: Money
    """All disbursements together."""
    disbursed_on: date | None
    """The first disbursement's day."""
    disbursements: tuple[Disbursed, ...]
    schedule: Schedule | None
    """The schedule as events have left it (re-amortised by prepayments)."""
    installments: tuple[InstallmentState, ...]
    payments: tuple[PaymentApplied, ...]
    credit_balance: Money
    principal_prepaid: Money
    interest_prepaid: Money
    recovered: Money
    refunded: Money
    """Credit paid back to the borrower (a `Refund`): received = paid + credit held + refunded."""
    interest_refunded: Money
    """Interest paid ahead that a recalculation found unearned, given back as credit (in
    `credit_balance` until used): the books reverse it from interest income."""
    written_off_on: date | None
    accrued_interest: Money
    """Interest the running period has earned by `as_of`, not yet due (with a recalculation,
    also what the actual balance earned beyond the schedule, not yet charged)."""
    interest_base: Money
    """The balance interest accrues on, on `as_of`: the running period's scheduled balance, plus
    (with a recalculation) what is overdue and earns, less principal paid ahead.  A close of
    business accrues a day's interest on it (`batch.accrue` for many loans at once)."""
    dpd: int
    bucket: DelinquencyBucket
    classification: Classification
    restructured_on: date | None
    """The day of the last deferral or rescheduling granted for financial difficulty (the
    classification applies the restructuring floor during its observation period)."""
    payoff: PayoffQuote | None
    """What settles the loan on `as_of` (before the credit balance is used); None unless active."""
    reversed: tuple[str, ...]
    """The ids of the events reversed."""
    planned_disbursements: tuple[PlannedDisbursement, ...] = ()
    """The contract's planned disbursements, each with the one made for it (empty: no plan)."""
    accelerated_on: date | None = None
    """The day the loan was called early (`Acceleration`), if it was: from then on every
    installment has fallen due."""
    projected_schedule: Schedule | None = None
    """The schedule if every planned disbursement not yet made is made as planned (on its day, or
    today when that day has passed); None when nothing planned is left, or when the plan can no
    longer be met (its day is after the last installment falls due, say)."""

    def __post_init__(self) -> None:
        values = self.__dict__
        for name in LAZY_FIELDS:
            if type(values[name]) is _Later:  # kept aside until read (`_Lazy`)
                values[f"_later_{name}"] = values.pop(name)

    def __getstate__(self) -> dict[str, Any]:
        """Pickled with every field made (a `later` call is not pickled)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def __setstate__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)

    def total(self, which: str) -> Amounts:
        """The sum over installments of ``due``, ``paid``, ``waived``, ``written_off`` or ``outstanding``."""
        result = Amounts.zero(self.currency)
        for row in self.installments:
            result += getattr(row, which)
        return result

    @property
    def outstanding(self) -> Amounts:
        """Everything still owed, by component."""
        return self.total("outstanding")

    @property
    def due_now(self) -> Amounts:
        """What is outstanding on installments due by `as_of`."""
        result = Amounts.zero(self.currency)
        for row in self.installments:
            if row.due_date <= self.as_of:
                result += row.outstanding
        return result

    @property
    def payoff_amount(self) -> Money:
        """What the borrower pays to settle on `as_of`, the credit held deducted (never below 0)."""
        if self.payoff is None:
            return Money.zero(self.currency)
        return max(self.payoff.total - self.credit_balance, Money.zero(self.currency))

    def principal_identity(self) -> bool:
        """disbursed == principal paid + prepaid + written off + waived + outstanding."""
        totals = [self.total(which).principal for which in ("paid", "waived", "written_off", "outstanding")]
        return self.disbursed == Money.total(totals, self.currency) + self.principal_prepaid


for _name in LAZY_FIELDS:  # after the dataclass is made: no default, the field read through `_Lazy`
    setattr(LoanState, _name, _Lazy(_name))
