"""The `fineract` profile: Apache Fineract's conventions as options of our engine.

A named set of conventions, not a fork of the code: `terms_from_fineract` turns a Fineract
loan's parameters (Fineract's names and enum values) into our `loan.Terms` with the options
that reproduce Fineract's arithmetic (HALF_EVEN, a fixed 365-day ACTUAL year, flat interest
rounded once and spread, installment multiples rounding the principal and interest shares,
the transaction-processing strategies); `events_from_fineract` turns a scenario's steps into
our events; `fineract_view` reads the folded state the way Fineract shows it;
`fineract.progressive` reads Fineract's calculator parameters into the progressive EMI
calculator (`lending.schedule.progressive`, rules P1-P7), which a progressive loan with
interest is folded on (`Terms.progressive`).  The rules and
the golden cases they are checked against are in docs/fineract-profile.md.
"""

from microcredit.lending.fineract.events import (
    TRANSACTION_TYPES,
    ChargeInfo,
    FineractHistory,
    events_from_fineract,
)
from microcredit.lending.fineract.report import (
    STATUS,
    ChargeRow,
    FineractView,
    ScheduleRow,
    TransactionRow,
    fineract_view,
)
from microcredit.lending.fineract.terms import (
    CALENDAR,
    IGNORED,
    STRATEGIES,
    FineractInputError,
    OverdueCharge,
    overdue_charge,
    terms_from_fineract,
    transaction_strategies,
)

__all__ = [
    "CALENDAR",
    "IGNORED",
    "STATUS",
    "STRATEGIES",
    "TRANSACTION_TYPES",
    "ChargeInfo",
    "ChargeRow",
    "FineractHistory",
    "FineractInputError",
    "FineractView",
    "OverdueCharge",
    "ScheduleRow",
    "TransactionRow",
    "events_from_fineract",
    "fineract_view",
    "overdue_charge",
    "terms_from_fineract",
    "transaction_strategies",
]
