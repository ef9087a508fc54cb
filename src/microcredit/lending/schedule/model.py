"""The values a repayment schedule is made of: terms in, installments out.

`LoanTerms` states everything that decides the amounts: principal, annual
rate, periods, repayment method, interest method, how period interest is
computed, day count, rounding, installment multiple, grace and fees.  A
`Schedule` is the answer: installments, totals, warnings, and the APR
disclosure (computed on first access, from the schedule's own cash flows).

`Installment` is a `typing.NamedTuple`: immutable like the frozen
dataclasses used everywhere else, and about three times cheaper to build
(one row is built per period of every loan in a portfolio; see
docs/performance.md).  beancount keeps its directives the same way.

Invariants every schedule satisfies (property-tested):

- principal parts sum exactly to the schedule principal;
- every row's principal + interest + fees == total;
- balances never go negative and the last one is 0.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple

from microcredit.lending.apr import AprDisclosure, CashFlow, disclose
from microcredit.lending.daycount import ACT_360, DayCount
from microcredit.lending.diagnostics import EngineWarning
from microcredit.lending.fees import Fee, FeeCharge
from microcredit.lending.money import RoundingPolicy
from microcredit.lending.periods import PeriodSpec

__all__ = [
    "Installment",
    "InterestCalculation",
    "InterestMethod",
    "LoanTerms",
    "RepaymentMethod",
    "Schedule",
    "ScheduleTotals",
]


class RepaymentMethod(StrEnum):
    """How principal is repaid (Fineract ``amortizationType`` plus the Chinese methods)."""

    EQUAL_INSTALLMENT = "equal_installment"  # 等额本息
    EQUAL_PRINCIPAL = "equal_principal"  # 等额本金
    INTEREST_ONLY = "interest_only"  # 按月/按季付息，到期还本
    BULLET = "bullet"  # 到期一次还本付息


class InterestMethod(StrEnum):
    """Interest on the declining balance or flat on the original principal."""

    DECLINING_BALANCE = "declining_balance"
    FLAT = "flat"


class InterestCalculation(StrEnum):
    """Period interest as a fraction of the year per period, or on actual days."""

    SAME_AS_REPAYMENT = "same_as_repayment"
    DAILY = "daily"


class Installment(NamedTuple):
    """One row of a schedule: dates, days, the parts of the installment, balance after."""

    number: int
    due_date: date
    period_start: date
    period_end: date
    days: int
    principal: Decimal
    interest: Decimal
    fees: Decimal
    total: Decimal
    balance_after: Decimal


@dataclass(frozen=True, slots=True)
class LoanTerms:
    """Everything that decides a schedule's amounts."""

    principal: Decimal
    annual_rate: Decimal
    periods: PeriodSpec
    method: RepaymentMethod = RepaymentMethod.EQUAL_INSTALLMENT
    interest_method: InterestMethod = InterestMethod.DECLINING_BALANCE
    interest_calculation: InterestCalculation = InterestCalculation.SAME_AS_REPAYMENT
    day_count: DayCount = ACT_360
    rounding: RoundingPolicy = field(default_factory=RoundingPolicy)
    installment_multiple: Decimal | None = None
    grace_on_principal: int = 0
    grace_on_interest_payment: int = 0
    interest_free_periods: int = 0
    fees: tuple[Fee, ...] = ()
    apr_day_basis: int = 365

    def __post_init__(self) -> None:
        if self.principal <= 0:
            raise ValueError("the principal must be positive")
        if self.annual_rate < 0:
            raise ValueError("the annual rate cannot be negative")
        if self.rounding.round(self.principal) != self.principal:
            raise ValueError("the principal has more places than the currency")
        limit = self.periods.count
        for name, value in (
            ("grace_on_principal", self.grace_on_principal),
            ("grace_on_interest_payment", self.grace_on_interest_payment),
            ("interest_free_periods", self.interest_free_periods),
        ):
            if not 0 <= value <= limit:
                raise ValueError(f"{name} must be between 0 and the number of periods")
        if self.installment_multiple is not None and self.installment_multiple <= 0:
            raise ValueError("the installment multiple must be positive")


@dataclass(frozen=True, slots=True)
class ScheduleTotals:
    """Sums over the installments, upfront fees, and the total cost of credit."""

    principal: Decimal
    interest: Decimal
    fees: Decimal
    total_payable: Decimal
    upfront_fees_deducted: Decimal
    net_cash_received: Decimal
    total_cost_of_credit: Decimal


@dataclass(frozen=True)
class Schedule:
    """A repayment schedule: installments, totals, fee lines, warnings, APR disclosure."""

    installments: tuple[Installment, ...]
    totals: ScheduleTotals
    disbursed_on: date
    nominal_annual_rate: Decimal
    periods_per_year: Decimal
    regular: bool
    fee_charges: tuple[FeeCharge, ...] = ()
    warnings: tuple[EngineWarning, ...] = ()
    apr_day_basis: int = 365

    @functools.cached_property
    def disclosure(self) -> AprDisclosure:
        """The APR disclosure (IRR over net cash received vs every payment)."""
        flows = [CashFlow(self.disbursed_on, self.totals.net_cash_received, 0)]
        flows.extend(CashFlow(row.due_date, -row.total, row.number) for row in self.installments)
        return disclose(
            cash_flows=flows,
            nominal_annual_rate=self.nominal_annual_rate,
            periods_per_year=self.periods_per_year,
            regular=self.regular,
            day_basis=self.apr_day_basis,
        )
