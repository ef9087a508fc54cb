"""What happens to a loan: events, each with an id and a value date.

A loan's history is a list of these, in the order they were recorded.  The
fold (`loan.fold`) applies them in *value-date* order -- a repayment keyed in
today with last Tuesday's value date is applied as of last Tuesday, and
everything after it is replayed -- and, on one day, in the order of
`Event.rank` (money owed before money paid, payments before a write-off),
then in the order recorded.

Events are facts, never edited: a mistake is put right by a `Reversal` that
names the event it undoes, and the loan's state is then exactly what it
would have been without that event (the reversal stays in the history).

The ids are the caller's (a database key, a bank reference): unique within
one loan, which the fold checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import ClassVar

from microcredit.lending.allocation import AllocationStrategy, Component
from microcredit.lending.money import Money
from microcredit.lending.prepayment import PrepaymentMode
from microcredit.lending.restructure import DeferralInterest
from microcredit.lending.schedule import RepaymentMethod

__all__ = [
    "Acceleration",
    "AsOf",
    "Channel",
    "ChargeAdded",
    "Deferral",
    "Disbursement",
    "Event",
    "PenaltyCharged",
    "Prepayment",
    "Recovery",
    "Refund",
    "Repayment",
    "Rescheduling",
    "Reversal",
    "Waiver",
    "WriteOff",
]


class Channel(StrEnum):
    """How money reached (or left) the lender; kept for the books and the borrower's receipts."""

    CASH = "cash"
    BANK_TRANSFER = "bank_transfer"
    AUTO_DEBIT = "auto_debit"
    MOBILE_PAYMENT = "mobile_payment"
    ONLINE = "online"  # paid by the borrower through the payment provider (servicing's payments)
    INTERNAL = "internal"
    MEETING_CASH = "meeting_cash"  # collected in cash by the loan officer at a group meeting (collection sheet)


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """Something that happened to a loan on a value date."""

    rank: ClassVar[int] = 0
    """Order among events of one value date (lower first)."""

    id: str
    on: date
    """The value date: the day the event takes effect (interest, days past due, allocation)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Disbursement(Event):
    """The loan's money paid out; the schedule is built from the terms on this day."""

    rank: ClassVar[int] = 0
    amount: Money
    channel: Channel = Channel.BANK_TRANSFER
    down_payment_collected: Money | None = None
    """What the disbursement collected of its down payment when it was recorded, when the
    lender's system fixed that amount then (Fineract keeps its "Down Payment" transaction's
    amount when a payment before the tranche is later undone); None: what the terms collect
    (`DownPayment.collected_at_disbursement`), worked out by the fold."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ChargeAdded(Event):
    """A fee that falls due on the value date (a returned-payment fee, a document fee ...).

    It is owed with the installment due on that day, or the next one after it; a charge after
    the last installment is owed with the last.  `due_on` (when given) is the charge's own due
    date, which then chooses the installment instead: a charge recorded today that falls due
    later (Fineract's specified-due-date charge) is owed from today with that installment.
    With `penalty` the amount is owed as penalty rather than fee (an NSF penalty, say).
    With `at_disbursement` the charge is owed with the disbursement of its value date, by
    installment 0 as the contract's fees paid at disbursement are (the first disbursement's
    down payment installment, or one of its own): a disbursement fee charged on the day
    (Fineract's DISBURSEMENT charge); the value date is the first disbursement's (a tranche's
    charge at disbursement is not modelled: refused, ``not_disbursement_day``).
    """

    rank: ClassVar[int] = 1
    amount: Money
    name: str
    penalty: bool = False
    due_on: date | None = None
    at_disbursement: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class PenaltyCharged(Event):
    """Penalty interest (罚息, 复利) or a late fee charged on one installment, e.g. by a close of business."""

    rank: ClassVar[int] = 1
    installment: int
    amount: Money


@dataclass(frozen=True, slots=True, kw_only=True)
class Waiver(Event):
    """Interest, fees or penalty of one installment forgiven (principal is written off, not waived)."""

    rank: ClassVar[int] = 2
    installment: int
    component: Component
    amount: Money


@dataclass(frozen=True, slots=True, kw_only=True)
class Deferral(Event):
    """展期 / 延期: `periods` installments that repay no principal inserted at installment
    `from_installment` (not yet due on the value date); it and every later one move on as many
    periods, due dates derived from the original anchor.  During the deferral the balance bears
    interest payable with the inserted installments, or none (`DeferralInterest.WAIVED`).

    `restructuring` says it was granted because the borrower is in financial difficulty: the
    loan is then a restructured asset for classification (an observation period from the first
    due date after it).
    """

    rank: ClassVar[int] = 2
    from_installment: int
    periods: int
    interest: DeferralInterest
    restructuring: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Rescheduling(Event):
    """重新安排还款计划: from the value date, a new schedule of `installments` installments
    (at `annual_rate` and by `method`, or the loan's) replaces the installments not yet due.

    What has fallen due stays owed on its installments (arrears to collect), unless
    `capitalise_overdue_principal` moves the overdue principal into the new schedule; interest
    earned before the day and not yet charged is payable with the first new installment.
    `restructuring` as for a deferral.
    """

    rank: ClassVar[int] = 2
    installments: int
    annual_rate: Decimal | None = None
    method: RepaymentMethod | None = None
    capitalise_overdue_principal: bool = False
    restructuring: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class Acceleration(Event):
    """宣布贷款提前到期: the lender calls the loan early under the contract's acceleration clause.

    On the value date the installments not yet due are replaced by one due that day: the whole
    principal still to fall due, with the interest earned to the day (none for later periods).
    What had already fallen due stays owed on its installments, with its own due dates (days
    past due still count from them); charges added and penalties stay owed.  A loan is called
    once; a `Reversal` of the event restores the schedule it replaced.
    """

    rank: ClassVar[int] = 2


@dataclass(frozen=True, slots=True, kw_only=True)
class Repayment(Event):
    """Money received from the borrower, split by the loan's allocation strategy (or by its own,
    `strategy`: Fineract allocates a goodwill credit or a refund by rules of their own)."""

    rank: ClassVar[int] = 3
    amount: Money
    channel: Channel = Channel.BANK_TRANSFER
    strategy: AllocationStrategy | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Prepayment(Event):
    """Money received to repay principal early, with the borrower's choice for what follows.

    What is due on the value date is paid first (by the allocation strategy); the rest settles
    the interest accrued to the day and lowers the principal, and the schedule is re-amortised:
    ``shorten_term`` keeps the installment, ``reduce_installment`` keeps the term.
    """

    rank: ClassVar[int] = 3
    amount: Money
    mode: PrepaymentMode
    channel: Channel = Channel.BANK_TRANSFER


@dataclass(frozen=True, slots=True, kw_only=True)
class WriteOff(Event):
    """Everything still owed is written off (核销): the loan leaves the books, the claim remains."""

    rank: ClassVar[int] = 4


@dataclass(frozen=True, slots=True, kw_only=True)
class Recovery(Event):
    """Money recovered on a written-off loan (at most what was written off)."""

    rank: ClassVar[int] = 5
    amount: Money
    channel: Channel = Channel.BANK_TRANSFER


@dataclass(frozen=True, slots=True, kw_only=True)
class Refund(Event):
    """Credit held for the borrower paid back to them (at most the credit held on the value date)."""

    rank: ClassVar[int] = 5
    amount: Money
    channel: Channel = Channel.BANK_TRANSFER


@dataclass(frozen=True, slots=True, kw_only=True)
class AsOf(Event):
    """The business date a close of business reached: the state is brought up to it."""

    rank: ClassVar[int] = 6


@dataclass(frozen=True, slots=True, kw_only=True)
class Reversal(Event):
    """Undoes the event `target` (its value date is the day the reversal was recorded)."""

    rank: ClassVar[int] = 7
    target: str
