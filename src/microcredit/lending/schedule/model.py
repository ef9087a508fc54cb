"""The values a repayment schedule is made of: terms in, installments out.

`LoanTerms` states everything that decides the amounts: principal, annual
rate, periods, repayment method, interest method, how period interest is
computed, day count, rounding, installment multiple, grace and fees.  A
`Schedule` is the answer: installments, totals, warnings, and the APR
disclosure (computed on first access, from the schedule's own cash flows).

`Installment` and `ScheduleTotals` keep their amounts as integers of minor
units (fen for CNY: ``principal_minor=78849`` with ``places=2``) -- the
engine computes in minor units with exact rational rates -- and present
them as `Decimal` through properties of the usual names: ``row.principal``
is ``Decimal("788.49")``, ``row.total`` is principal + interest + fees.
Both are `typing.NamedTuple`s: immutable like the frozen dataclasses used
everywhere else and several times cheaper to build (one row is built per
period of every loan in a portfolio; see docs/performance.md).  beancount
keeps its directives the same way.

Invariants every schedule satisfies (property-tested):

- principal parts sum exactly to the schedule principal;
- every row's principal + interest + fees == total (by construction);
- balances never go negative and the last one is 0.

A schedule also records the interest carried unpaid after each row
(`deferred_interest_minor`, e.g. 100.00 then 192.12 through an
interest-payment grace, 0 once the first installment after it charges
them): a prepayment, payoff or rescheduling inside the grace must collect
it, and nothing else in the rows says how much the periods so far earned.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple

from microcredit.lending.apr import AprDisclosure, CashFlow, disclose
from microcredit.lending.daycount import ACT_360, DayCount
from microcredit.lending.diagnostics import EngineWarning
from microcredit.lending.fees import Fee, FeeCharge
from microcredit.lending.money import RoundingPolicy, from_minor
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


_DEFAULT_ROUNDING = RoundingPolicy()


class Installment(NamedTuple):
    """One row of a schedule: dates, days, the parts of the installment, balance after.

    Amounts are stored in minor units (``*_minor``, `places` decimals) and
    read as Decimal through `principal`, `interest`, `fees`, `total` and
    `balance_after`.
    """

    number: int
    due_date: date
    period_start: date
    period_end: date
    days: int
    principal_minor: int
    interest_minor: int
    fees_minor: int
    balance_after_minor: int
    places: int = 2

    @property
    def total_minor(self) -> int:
        """principal + interest + fees, in minor units."""
        return self.principal_minor + self.interest_minor + self.fees_minor

    @property
    def principal(self) -> Decimal:
        """The principal repaid by this installment."""
        return from_minor(self.principal_minor, self.places)

    @property
    def interest(self) -> Decimal:
        """The interest payable with this installment."""
        return from_minor(self.interest_minor, self.places)

    @property
    def fees(self) -> Decimal:
        """The per-installment fees of this installment."""
        return from_minor(self.fees_minor, self.places)

    @property
    def total(self) -> Decimal:
        """The amount due: principal + interest + fees."""
        return from_minor(self.principal_minor + self.interest_minor + self.fees_minor, self.places)

    @property
    def balance_after(self) -> Decimal:
        """The principal still owed once this installment is paid."""
        return from_minor(self.balance_after_minor, self.places)


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
    rounding: RoundingPolicy = _DEFAULT_ROUNDING
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


class ScheduleTotals(NamedTuple):
    """Sums over the installments, upfront fees, and the total cost of credit.

    Stored in minor units like `Installment`, read as Decimal; total payable
    and the total cost of credit follow from the others.
    """

    principal_minor: int
    interest_minor: int
    fees_minor: int
    upfront_fees_deducted_minor: int
    net_cash_received_minor: int
    places: int = 2

    @property
    def principal(self) -> Decimal:
        """Principal repaid by all installments."""
        return from_minor(self.principal_minor, self.places)

    @property
    def interest(self) -> Decimal:
        """Interest paid by all installments."""
        return from_minor(self.interest_minor, self.places)

    @property
    def fees(self) -> Decimal:
        """Per-installment fees of all installments."""
        return from_minor(self.fees_minor, self.places)

    @property
    def total_payable(self) -> Decimal:
        """principal + interest + fees over all installments."""
        return from_minor(self.principal_minor + self.interest_minor + self.fees_minor, self.places)

    @property
    def upfront_fees_deducted(self) -> Decimal:
        """Fees taken out of the disbursement."""
        return from_minor(self.upfront_fees_deducted_minor, self.places)

    @property
    def net_cash_received(self) -> Decimal:
        """What the borrower actually receives: principal - fees deducted."""
        return from_minor(self.net_cash_received_minor, self.places)

    @property
    def total_cost_of_credit(self) -> Decimal:
        """Everything paid minus the cash received."""
        payable = self.principal_minor + self.interest_minor + self.fees_minor
        return from_minor(payable - self.net_cash_received_minor, self.places)


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
    deferred_interest_minor: tuple[int, ...] = ()
    """Interest earned but not yet payable after each installment (minor units, one per row):
    an interest-payment grace or a bullet loan carries it to a later installment.  Empty when
    nothing is ever carried."""
    deferred_opening_minor: int = 0
    """Interest earned before the first installment's period that it is to collect (minor
    units): a rescheduling before any period had ended carries the interest accrued so far."""

    def deferred_after(self, count: int) -> Decimal:
        """The interest earned by the first `count` periods that no installment among them charged.

        For `count` 0, what was carried into the schedule (`deferred_opening_minor`).
        """
        carried = self.deferred_interest_minor
        if count == 0:
            return from_minor(self.deferred_opening_minor, self.totals.places)
        return from_minor(carried[count - 1] if carried else 0, self.totals.places)

    def interest_earned(self, index: int) -> Decimal:
        """The interest the period of installment `index` (0-based) earned, whenever it is charged:
        its interest, plus what it carried on, less what it collected from earlier periods."""
        row = self.installments[index]
        return row.interest + self.deferred_after(index + 1) - self.deferred_after(index)

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
