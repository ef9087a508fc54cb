"""The values a repayment schedule is made of: terms in, installments out.

`LoanTerms` states everything that decides the amounts: principal, annual
rate, periods, repayment method, interest method, how period interest is
computed, day count, rounding, installment multiple, grace and fees.  A
`Schedule` is the answer: installments, totals, warnings, and the APR
disclosure (computed on first access, from the schedule's own cash flows).

`Installment` and `ScheduleTotals` keep their amounts as integers of minor
units (fen for CNY: ``principal_minor=78849`` with ``currency="CNY"``) -- the
engine computes in minor units with exact rational rates -- and present
them as `Money` through properties of the usual names: ``row.principal``
is ``Money(78849, "CNY")`` (788.49), ``row.total`` is principal + interest + fees.
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
from microcredit.lending.daycount import DayCount
from microcredit.lending.diagnostics import EngineWarning
from microcredit.lending.fees import Fee, FeeCharge
from microcredit.lending.money import Money, RoundingPolicy
from microcredit.lending.periods import PeriodSpec

__all__ = [
    "FlatInterest",
    "Installment",
    "InterestCalculation",
    "InterestMethod",
    "LevelInstallment",
    "LoanTerms",
    "MultipleRounding",
    "RepaymentMethod",
    "Schedule",
    "ScheduleTotals",
    "TranchePrincipal",
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


class FlatInterest(StrEnum):
    """How flat interest is spread over the installments.

    ``per_period`` (ours): each period's interest is the original principal x its factor,
    rounded on its own.  ``total_spread`` (Fineract, rule K7 of docs/fineract-profile.md): the
    whole term's interest is computed and rounded once, each installment takes that total
    divided by the interest-bearing installments (rounded), the last one the residue.
    """

    PER_PERIOD = "per_period"
    TOTAL_SPREAD = "total_spread"


class MultipleRounding(StrEnum):
    """What an installment multiple rounds on an equal-installment flat loan.

    ``installment`` (ours): the level installment, principal + interest together.  ``shares``
    (Fineract, rule K8): the principal share (principal / principal-paying periods) and each
    period's interest share are rounded to the multiple separately; the interest itself stays
    exact, so the principal absorbs the interest's rounding.  Without a multiple ``shares``
    rounds the principal share to the currency's unit.
    """

    INSTALLMENT = "installment"
    SHARES = "shares"


class LevelInstallment(StrEnum):
    """How the level installment of an equal-installment declining-balance loan is found.

    ``exact`` (ours): the exact annuity over the periods' own interest factors (actual days
    under daily interest), rounded once.  ``nominal_pmt`` (Fineract's cumulative generator,
    rule K4 of docs/fineract-profile.md): the annuity at one nominal periodic rate in which a
    month has 30 days -- annual x 30 x every / days in the year under daily interest (x 7 x
    every for weeks, x every for days), annual x every / periods in a year otherwise -- the
    rate in 12 significant digits, the annuity in binary floating point as Fineract's
    ``FinanicalFunctions.pmt`` computes it, then rounded to the multiple or the currency's
    unit.  The rows' interest still follows the periods' own factors; the last installment
    takes the residue.  E.g. 5,000 at 12 %, daily, 18 months: pmt(0.12 x 30/365, 18) =
    304.53 (305 to a multiple of 1), while the exact annuity on the actual days differs.
    """

    EXACT = "exact"
    NOMINAL_PMT = "nominal_pmt"


class TranchePrincipal(StrEnum):
    """What the installments after a tranche repay of principal (an equal-installment flat loan).

    ``reamortise`` (ours): the balance and the tranche over the installments left, like any
    re-amortisation.  ``term_share`` (Fineract's cumulative generator, rule K11): each
    installment after the tranche repays the principal disbursed so far divided by the number
    of installments of the term (rounded, to the multiple when there is one), the last one the
    rest; a tranche joins the period it falls in, (start, due date], so one disbursed on a due
    date is repaid from that day's installment on.  Fineract's tranche cases bear no interest;
    with interest the period split by the tranche starts a day early.
    """

    REAMORTISE = "reamortise"
    TERM_SHARE = "term_share"
    LATER_INSTALLMENTS = "later_installments"
    """``later_installments`` (Fineract's progressive loan without interest, rule P7 at a zero
    rate): the tranche less its down payment is added to the installments due *after* its date
    (one disbursed on a due date starts with the next installment), an equal share each --
    rounded to the unit by the rounding mode, each new principal then to the multiple -- the
    last taking the rest; the earlier installments stay, and so does what every installment has
    been paid.  Only for a loan without interest: a tranche on terms with interest (say after a
    rescheduling at a rate) is refused."""


class InterestCalculation(StrEnum):
    """Period interest as a fraction of the year per period, or on actual days."""

    SAME_AS_REPAYMENT = "same_as_repayment"
    DAILY = "daily"


class Installment(NamedTuple):
    """One row of a schedule: dates, days, the parts of the installment, balance after.

    Amounts are stored in minor units of `currency` (``*_minor``) and read as
    `Money` through `principal`, `interest`, `fees`, `total` and `balance_after`.
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
    currency: str

    @property
    def total_minor(self) -> int:
        """principal + interest + fees, in minor units."""
        return self.principal_minor + self.interest_minor + self.fees_minor

    @property
    def principal(self) -> Money:
        """The principal repaid by this installment."""
        return Money(self.principal_minor, self.currency)

    @property
    def interest(self) -> Money:
        """The interest payable with this installment."""
        return Money(self.interest_minor, self.currency)

    @property
    def fees(self) -> Money:
        """The per-installment fees of this installment."""
        return Money(self.fees_minor, self.currency)

    @property
    def total(self) -> Money:
        """The amount due: principal + interest + fees."""
        return Money(self.principal_minor + self.interest_minor + self.fees_minor, self.currency)

    @property
    def balance_after(self) -> Money:
        """The principal still owed once this installment is paid."""
        return Money(self.balance_after_minor, self.currency)


@dataclass(frozen=True, slots=True, kw_only=True)
class LoanTerms:
    """Everything that decides a schedule's amounts; the conventions are always stated.

    The principal's currency is the loan's: the rounding policy, the installment multiple and
    fixed fee amounts are in it too.
    """

    principal: Money
    annual_rate: Decimal
    periods: PeriodSpec
    method: RepaymentMethod
    interest_method: InterestMethod
    interest_calculation: InterestCalculation
    day_count: DayCount
    rounding: RoundingPolicy
    installment_multiple: Money | None = None
    grace_on_principal: int = 0
    grace_on_interest_payment: int = 0
    interest_free_periods: int = 0
    fees: tuple[Fee, ...] = ()
    apr_day_basis: int = 365
    flat_interest: FlatInterest = FlatInterest.PER_PERIOD
    """How flat interest is spread (our products: per period)."""
    multiple_rounding: MultipleRounding = MultipleRounding.INSTALLMENT
    """What the installment multiple rounds on a flat loan (our products: the installment)."""
    tranche_principal: TranchePrincipal = TranchePrincipal.REAMORTISE
    """What the installments after a tranche repay (our products: a re-amortisation)."""
    level_installment: LevelInstallment = LevelInstallment.EXACT
    """How the level installment is found (our products: the exact annuity)."""

    def __post_init__(self) -> None:
        if not isinstance(self.principal, Money):
            raise TypeError("the principal is Money")
        if self.principal.currency != self.rounding.currency:
            raise ValueError(f"a {self.principal.currency} loan cannot round as {self.rounding.currency}")
        if self.principal.minor <= 0:
            raise ValueError("the principal must be positive")
        if self.annual_rate < 0:
            raise ValueError("the annual rate cannot be negative")
        limit = self.periods.count
        for name, value in (
            ("grace_on_principal", self.grace_on_principal),
            ("grace_on_interest_payment", self.grace_on_interest_payment),
            ("interest_free_periods", self.interest_free_periods),
        ):
            if not 0 <= value <= limit:
                raise ValueError(f"{name} must be between 0 and the number of periods")
        multiple = self.installment_multiple
        if multiple is not None and (multiple.currency != self.principal.currency or multiple.minor <= 0):
            raise ValueError("the installment multiple must be a positive amount of the loan's currency")

    @property
    def currency(self) -> str:
        """The loan's currency (the principal's)."""
        return self.principal.currency


class ScheduleTotals(NamedTuple):
    """Sums over the installments, upfront fees, and the total cost of credit.

    Stored in minor units like `Installment`, read as `Money`; total payable
    and the total cost of credit follow from the others.
    """

    principal_minor: int
    interest_minor: int
    fees_minor: int
    upfront_fees_deducted_minor: int
    net_cash_received_minor: int
    currency: str
    paid_at_disbursement_minor: int = 0
    """Fees the borrower pays on the disbursement day (`FeeKind.AT_DISBURSEMENT`)."""

    @property
    def principal(self) -> Money:
        """Principal repaid by all installments."""
        return Money(self.principal_minor, self.currency)

    @property
    def interest(self) -> Money:
        """Interest paid by all installments."""
        return Money(self.interest_minor, self.currency)

    @property
    def fees(self) -> Money:
        """Per-installment fees of all installments."""
        return Money(self.fees_minor, self.currency)

    @property
    def total_payable(self) -> Money:
        """principal + interest + fees over all installments."""
        return Money(self.principal_minor + self.interest_minor + self.fees_minor, self.currency)

    @property
    def upfront_fees_deducted(self) -> Money:
        """Fees taken out of the disbursement."""
        return Money(self.upfront_fees_deducted_minor, self.currency)

    @property
    def paid_at_disbursement(self) -> Money:
        """Fees the borrower pays on the disbursement day, besides those deducted."""
        return Money(self.paid_at_disbursement_minor, self.currency)

    @property
    def net_cash_received(self) -> Money:
        """What the borrower actually keeps on the day: principal - fees deducted - fees paid on the day."""
        return Money(self.net_cash_received_minor, self.currency)

    @property
    def total_cost_of_credit(self) -> Money:
        """Everything paid minus the cash received."""
        payable = self.principal_minor + self.interest_minor + self.fees_minor
        return Money(payable - self.net_cash_received_minor, self.currency)


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

    @property
    def currency(self) -> str:
        """The schedule's currency."""
        return self.totals.currency

    def deferred_after(self, count: int) -> Money:
        """The interest earned by the first `count` periods that no installment among them charged.

        For `count` 0, what was carried into the schedule (`deferred_opening_minor`).
        """
        carried = self.deferred_interest_minor
        if count == 0:
            return Money(self.deferred_opening_minor, self.totals.currency)
        return Money(carried[count - 1] if carried else 0, self.totals.currency)

    def interest_earned(self, index: int) -> Money:
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
