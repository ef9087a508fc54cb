"""A loan as terms plus events; its state on any date is a pure fold of them.

- `terms`: `Terms`, the contract and every servicing convention, stated;
- `recalculation`: interest on the balance actually outstanding (rest
  frequency, compounding, pre-closure);
- `events`: what happens to a loan (disbursement, repayment, prepayment,
  charges, penalties, waivers, deferral, rescheduling, acceleration, write-off,
  recovery,
  reversal, as-of);
- `state`: `LoanState`, what the fold answers (installments by component,
  payments, credit, accrued interest, days past due, class, payoff);
- `penalties`: the penalty interest an overdue loan has cost by a date;
- `fold`: `fold(terms, events, as_of=...)` from scratch, and `LoanBook`,
  which keeps the book after each event so that recording one replays only
  what follows its value date.
"""

from microcredit.lending.loan.events import (
    Acceleration,
    AsOf,
    Channel,
    ChargeAdded,
    Deferral,
    Disbursement,
    Event,
    PenaltyCharged,
    Prepayment,
    Recovery,
    Refund,
    Repayment,
    Rescheduling,
    Reversal,
    Waiver,
    WriteOff,
)
from microcredit.lending.loan.fold import EventRefused, LoanBook
from microcredit.lending.loan.kernel import fold
from microcredit.lending.loan.penalties import PenaltyOwed, penalties_owed
from microcredit.lending.loan.recalculation import Compounding, PreClosure, Recalculation, RestFrequency
from microcredit.lending.loan.state import (
    Amounts,
    Disbursed,
    InstallmentState,
    LoanState,
    LoanStatus,
    PaymentApplied,
    PlannedDisbursement,
)
from microcredit.lending.loan.terms import (
    ChargesAfterMaturity,
    DownPayment,
    ExpectedDisbursement,
    ProgressiveInterest,
    Terms,
)

__all__ = [
    "Acceleration",
    "Amounts",
    "AsOf",
    "Channel",
    "ChargeAdded",
    "ChargesAfterMaturity",
    "Compounding",
    "Deferral",
    "Disbursed",
    "Disbursement",
    "DownPayment",
    "Event",
    "EventRefused",
    "ExpectedDisbursement",
    "InstallmentState",
    "LoanBook",
    "LoanState",
    "LoanStatus",
    "PaymentApplied",
    "PenaltyCharged",
    "PenaltyOwed",
    "PlannedDisbursement",
    "PreClosure",
    "Prepayment",
    "ProgressiveInterest",
    "Recalculation",
    "Recovery",
    "Refund",
    "Repayment",
    "Rescheduling",
    "RestFrequency",
    "Reversal",
    "Terms",
    "Waiver",
    "WriteOff",
    "fold",
    "penalties_owed",
]
