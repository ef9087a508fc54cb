"""Fineract's progressive EMI calculator: its parameters read into the engine's calculator.

The arithmetic (rules P1-P7 of docs/fineract-profile.md §5) is `lending.schedule.progressive`,
which the loan fold also uses (`Terms.progressive`); this module reads the calculator tests'
parameters (`calculator_terms_from_fineract`) and re-exports the calculator.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from microcredit.lending.daycount import DaysInMonth, DaysInYear
from microcredit.lending.fineract.terms import FineractInputError
from microcredit.lending.money import CURRENCIES
from microcredit.lending.periods import PeriodUnit
from microcredit.lending.schedule.progressive import (
    TWELVE_DIGITS,
    InterestPeriod,
    PayableDetails,
    PeriodFigures,
    ProgressiveModel,
    ProgressiveTerms,
    RepaymentPeriod,
    add_balance_correction,
    add_disbursement,
    figures,
    fn_value,
    pay_interest,
    pay_principal,
    payable_details,
    progressive_model,
    rate_factor,
)

__all__ = [
    "TWELVE_DIGITS",
    "InterestPeriod",
    "PayableDetails",
    "PeriodFigures",
    "ProgressiveModel",
    "ProgressiveTerms",
    "RepaymentPeriod",
    "add_balance_correction",
    "add_disbursement",
    "calculator_terms_from_fineract",
    "figures",
    "fn_value",
    "pay_interest",
    "pay_principal",
    "payable_details",
    "progressive_model",
    "rate_factor",
]

_UNITS = {"DAYS": PeriodUnit.DAY, "WEEKS": PeriodUnit.WEEK, "MONTHS": PeriodUnit.MONTH}
_YEARS = {"ACTUAL": DaysInYear.ACTUAL, "DAYS_360": DaysInYear.D360, "DAYS_364": DaysInYear.D364,
          "DAYS_365": DaysInYear.D365}
_MONTHS = {"ACTUAL": DaysInMonth.ACTUAL, "DAYS_30": DaysInMonth.THIRTY, "INVALID": None}


def calculator_terms_from_fineract(params: Mapping[str, Any]) -> ProgressiveTerms:
    """The calculator's terms from Fineract's names (``LoanProductRelatedDetail`` as the calculator
    tests set it): ``annualNominalInterestRate`` (percent) or ``interestRateFraction``,
    ``repaymentFrequencyType``, ``repaymentEvery``, ``daysInYearType``, ``daysInMonthType``
    (ACTUAL, DAYS_30, or INVALID where the frequency never reads it), ``currency``,
    ``installmentAmountInMultiplesOf``, ``mathContext`` (12 digits HALF_EVEN only)."""
    context = params.get("mathContext", {"precision": 12, "roundingMode": "HALF_EVEN"})
    if context != {"precision": 12, "roundingMode": "HALF_EVEN"}:
        raise FineractInputError("mathContext", "the profile computes rates in 12 digits, HALF_EVEN (C1)")
    if params.get("roundingMode", "HALF_EVEN") != "HALF_EVEN":
        raise FineractInputError("roundingMode", "the profile supports HALF_EVEN only (C1)")
    if "annualNominalInterestRate" in params:
        rate = Decimal(str(params["annualNominalInterestRate"])) / 100
    elif "interestRateFraction" in params:
        rate = Decimal(str(params["interestRateFraction"]))
    else:
        raise FineractInputError("annualNominalInterestRate", "required")
    currency = params.get("currency", {"code": "USD", "digitsAfterDecimal": 2})
    code = currency.get("code")
    if code not in CURRENCIES or CURRENCIES[code].places != currency.get("digitsAfterDecimal", CURRENCIES[code].places):
        raise FineractInputError("currency", f"{currency!r} is not a currency the engine knows")
    every = params.get("repaymentEvery", 1)
    if not isinstance(every, int) or isinstance(every, bool) or every < 1:
        raise FineractInputError("repaymentEvery", "a whole number of at least 1")
    multiple = params.get("installmentAmountInMultiplesOf")
    if multiple is not None and (not isinstance(multiple, int) or multiple < 0):
        raise FineractInputError("installmentAmountInMultiplesOf", "a whole number")
    for field, table in (("repaymentFrequencyType", _UNITS), ("daysInYearType", _YEARS),
                         ("daysInMonthType", _MONTHS)):
        if params.get(field, "MONTHS" if field == "repaymentFrequencyType" else None) not in table:
            raise FineractInputError(field, f"{params.get(field)!r} is not one of {', '.join(sorted(table))}")
    return ProgressiveTerms(
        annual_rate=rate,
        unit=_UNITS[params.get("repaymentFrequencyType", "MONTHS")],
        every=every,
        days_in_month=_MONTHS[params["daysInMonthType"]],
        days_in_year=_YEARS[params["daysInYearType"]],
        currency=code,
        multiple=multiple or None,
    )
