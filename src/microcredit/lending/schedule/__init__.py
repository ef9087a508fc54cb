"""Repayment schedules: 等额本息, 等额本金, interest only, bullet, flat or declining.

`build_schedule(terms, calendar=...)` is the entry point; `model` holds the
values (terms, installments, schedule), `amortize` the arithmetic, `build`
the assembly of periods, fees and totals.
"""

from microcredit.lending.schedule.amortize import (
    AmortizationPlan,
    AnnuityRow,
    Ratio,
    amortize,
    amortize_carrying,
    annuity_rows,
    level_installment,
    level_payment,
    level_rows,
    nominal_pmt,
    period_rate,
)
from microcredit.lending.schedule.build import build_schedule, period_fractions, summarise
from microcredit.lending.schedule.model import (
    FlatInterest,
    Installment,
    InterestCalculation,
    InterestMethod,
    LevelInstallment,
    LoanTerms,
    MultipleRounding,
    RepaymentMethod,
    Schedule,
    ScheduleTotals,
    TranchePrincipal,
)

__all__ = [
    "AmortizationPlan",
    "AnnuityRow",
    "FlatInterest",
    "Installment",
    "InterestCalculation",
    "InterestMethod",
    "LevelInstallment",
    "LoanTerms",
    "MultipleRounding",
    "Ratio",
    "RepaymentMethod",
    "Schedule",
    "ScheduleTotals",
    "TranchePrincipal",
    "amortize",
    "amortize_carrying",
    "annuity_rows",
    "build_schedule",
    "level_installment",
    "level_payment",
    "level_rows",
    "nominal_pmt",
    "period_fractions",
    "period_rate",
    "summarise",
]
