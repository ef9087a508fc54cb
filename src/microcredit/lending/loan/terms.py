"""A loan's terms: the contract's amounts and every convention that turns events into a state.

Nothing here has a default: the product (or the `fineract` profile, later) states each one,
so two institutions with different conventions never share a silent assumption.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from itertools import pairwise

from microcredit.lending.allocation import AllocationStrategy, OverpaymentPolicy
from microcredit.lending.calendar import HolidayCalendar
from microcredit.lending.classification import ClassificationPolicy, DelinquencyBucket, validate_buckets
from microcredit.lending.daycount import DaysInYear
from microcredit.lending.loan.cumulative import CumulativeRecalculation
from microcredit.lending.loan.recalculation import PreClosure, Recalculation, RestFrequency
from microcredit.lending.money import Money
from microcredit.lending.prepayment import PrepaymentMode
from microcredit.lending.schedule import LoanTerms

__all__ = ["ChargesAfterMaturity", "DownPayment", "ExpectedDisbursement", "ProgressiveInterest", "Terms"]


class ChargesAfterMaturity(StrEnum):
    """Where a charge that falls due after the last installment is owed.

    ``last_installment`` (ours): with the last installment.  ``extra_installment`` (Fineract's
    "N+1" installment, LoanCharge.feature): in an installment of its own after the last, due
    on the latest such charge's due date, its period starting at the last due date.
    """

    LAST_INSTALLMENT = "last_installment"
    EXTRA_INSTALLMENT = "extra_installment"


@dataclass(frozen=True, slots=True, kw_only=True)
class DownPayment:
    """A part of each disbursement owed on its day, before the schedule (首付).

    `percent` of the disbursed amount, rounded by the loan's rounding, is an installment of
    principal due on the disbursement date; the schedule amortises the rest.  With
    `collected_at_disbursement` the lender keeps it back from the money paid out (the
    installment is paid on the day); otherwise the borrower pays it like any installment.
    """

    percent: Decimal
    collected_at_disbursement: bool
    rounded_to_installment_multiple: bool = False
    """Round the amount (after the loan's rounding) to the contract's installment multiple, as
    Fineract does (rule K10 of docs/fineract-profile.md); our products: not."""
    collected_by_strategy: bool = False
    """What is collected at disbursement pays what is due on the day by the loan's allocation
    strategy, oldest first, the rest paying the next installments (Fineract's automatic "Down
    Payment" transaction: an overdue installment before the new down payment); on a tranche
    to an overpaid loan only what the down payment installment still owes once the payments
    are replayed (`tranche_replays_payments`); our products: the down payment installment."""

    def __post_init__(self) -> None:
        if not Decimal(0) < self.percent < Decimal(100):
            raise ValueError("a down payment is more than 0 % and less than 100 % of a disbursement")


@dataclass(frozen=True, slots=True, kw_only=True)
class ProgressiveInterest:
    """The progressive EMI calculator's schedule (Fineract's ``loanScheduleType`` PROGRESSIVE with
    interest, `lending.schedule.progressive`): the EMI and each period's interest follow the
    balance actually outstanding, period by period (rules P1-P7 of docs/fineract-profile.md §5).

    A disbursement recomputes the EMI (P2, P6); a principal paid is a balance change from its
    day (its due date when late) and the last unpaid installment absorbs the difference (P5,
    Fineract's ADJUST_LAST_UNPAID_PERIOD).  With `overdue_rest` the unpaid principal of overdue
    installments is put back into the running period's balance (P8): until the period's due
    date (``same_as_repayment``) or until the day the loan is read or paid (``daily``).
    """

    days_in_year: DaysInYear
    """The calculator's year: ACTUAL counts each year's own days (P1), unlike the cumulative
    generator's fixed 365 (K1)."""
    overdue_rest: RestFrequency | None = None
    """P8's rest frequency (Fineract ``recalculationRestFrequencyType``); None: no recalculation."""
    pre_closure: PreClosure = PreClosure.TILL_PRE_CLOSURE_DATE
    """How far a payment ahead of its due date, and the payoff quote, count interest: to the
    payment day, or (``till_rest_date``, Fineract's TILL_REST_FREQUENCY_DATE) to the due date
    of the installment running on that day."""

    def __post_init__(self) -> None:
        if self.overdue_rest not in (None, RestFrequency.DAILY, RestFrequency.SAME_AS_REPAYMENT):
            raise ValueError("overdue principal is put back daily or until the due date (same as repayment)")


@dataclass(frozen=True, slots=True)
class ExpectedDisbursement:
    """A disbursement the contract plans (多次放款: the first, then each tranche): its day and amount.

    The plan is what the borrower was promised and what the projected schedule shows; the
    disbursements actually made are events, matched to the plan in order, and may differ in day
    and amount (never above the approved amount outstanding)."""

    on: date
    amount: Money


@dataclass(frozen=True, slots=True, kw_only=True)
class Terms:
    """The contract (`LoanTerms`: amount, rate, periods, method, day count, rounding, fees) and
    the conventions of servicing it."""

    contract: LoanTerms
    """The approved amount is `contract.principal`; the schedule's periods start on the day
    the loan is disbursed (`contract.periods.start` is the expected day)."""
    calendar: HolidayCalendar
    strategy: AllocationStrategy
    """The order a repayment pays what is due (`allocation.STRATEGIES`)."""
    overpayment: OverpaymentPolicy
    """What a repayment beyond what is due does: held as credit, prepays principal, or pays the
    next installments."""
    prepayment_mode: PrepaymentMode
    """How an overpayment that prepays principal re-amortises (a `Prepayment` event names its own)."""
    dpd_grace_days: int
    """Days after a due date before an unpaid installment counts as past due."""
    dpd_tolerance: Money
    """An installment owing no more than this is not past due (a few fen of rounding)."""
    buckets: tuple[DelinquencyBucket, ...]
    classification: ClassificationPolicy
    tranches: bool
    """Whether the loan may be disbursed in several tranches (the approved amount,
    `contract.principal`, is then the most that may be outstanding at once)."""
    down_payment: DownPayment | None
    """A down payment on each disbursement, or none."""
    recalculation: Recalculation | None
    """Interest recalculated on the balance actually outstanding (`loan.recalculation`), or the
    schedule's interest only (late principal earns penalty interest alone, paid-ahead principal
    still earns until its due date)."""
    charges_after_maturity: ChargesAfterMaturity = ChargesAfterMaturity.LAST_INSTALLMENT
    """Where a charge falling due after the last installment is owed (our products: with the
    last installment)."""
    charges_with_down_payment: bool = True
    """Whether a charge due on a disbursement day is owed with that day's down payment
    installment (our products) or with the next regular installment (Fineract)."""
    tranche_replays_payments: bool = False
    """On a tranche, allocate every payment made so far again over the re-amortised schedule
    (Fineract reprocesses its transactions on each disbursement); our products refuse a tranche
    that would re-amortise installments already paid ahead (``installment_paid_in_advance``)."""
    expected_disbursements: tuple[ExpectedDisbursement, ...] = ()
    """The disbursements the contract plans, in order (none: a single disbursement, or tranches
    as they come).  More than one needs `tranches`; their sum is at most the approved amount."""
    progressive: ProgressiveInterest | None = None
    """The schedule's EMI and interest from the progressive calculator (the `fineract` profile's
    progressive loans with interest); None (ours): the contract's schedule, `recalculation` for
    interest on the actual balance."""
    cumulative_recalculation: CumulativeRecalculation | None = None
    """Fineract's cumulative schedule regenerated with interest recalculation on every repayment
    and when the loan is read (`loan.cumulative`: the `fineract` profile's cumulative loans with
    ``isInterestRecalculationEnabled``); None (ours): the contract's schedule, `recalculation`
    for interest on the actual balance."""
    charges_in_recorded_order: bool = False
    """A charge (and a waiver) is placed among the payments of its value date in the order they
    were recorded, so that a payment recorded before it does not pay it (Fineract's advanced processor orders a
    charge by its due date when back-dated, else the day it was added, then by the day it was
    submitted and its creation, ``ChargeOrTransaction.compareTo``: LoanCharge.feature line 1227);
    our products: a charge before the day's payments, which pay it."""
    periods_from_contract_start: bool = False
    """The schedule's periods start on the contract's start date (`contract.periods.start`),
    whatever day the loan is first disbursed (Fineract's ``repaymentStartDateType``
    SUBMITTED_ON_DATE: the periods run from the application's date); our products: from the day
    of the first disbursement.  Taken on a loan without interest only (a period's interest
    before the money is paid out is not modelled)."""
    most_outstanding: Money | None = None
    """The most that may be disbursed at once or be outstanding after a tranche; None: the
    approved amount, `contract.principal` (Fineract allows more: an over-applied percentage,
    a maximum outstanding balance)."""

    def __post_init__(self) -> None:
        self._check_expected_disbursements()
        if self.dpd_grace_days < 0:
            raise ValueError("the days-past-due grace cannot be negative")
        if self.dpd_tolerance.currency != self.contract.currency or self.dpd_tolerance.is_negative:
            raise ValueError("the days-past-due tolerance is a non-negative amount of the loan's currency")
        validate_buckets(self.buckets)
        if self.periods_from_contract_start and self.contract.annual_rate:
            raise ValueError("periods from the contract's start are taken on a loan without interest only")
        if self.progressive is not None and self.recalculation is not None:
            raise ValueError("the progressive calculator's schedule has its own recalculation (overdue_rest)")
        if self.cumulative_recalculation is not None and (
                self.progressive is not None or self.recalculation is not None
                or self.down_payment is not None or self.overpayment is OverpaymentPolicy.PREPAY_PRINCIPAL):
            raise ValueError("the cumulative recalculation is its own schedule: no down payment, no other "
                             "recalculation, no prepaid principal re-amortised")
        if self.progressive is not None and self.overpayment is OverpaymentPolicy.PREPAY_PRINCIPAL:
            raise ValueError("the progressive calculator's schedule does not re-amortise a prepaid principal yet")
        if self.most_outstanding is not None and (
                self.most_outstanding.currency != self.contract.currency
                or self.most_outstanding < self.contract.principal):
            raise ValueError("the most outstanding is an amount of the loan's currency, at least the approved amount")

    def _check_expected_disbursements(self) -> None:
        planned = self.expected_disbursements
        if not planned:
            return
        if len(planned) > 1 and not self.tranches:
            raise ValueError("several expected disbursements need terms that allow tranches")
        if any(p.amount.currency != self.contract.currency or not p.amount.is_positive for p in planned):
            raise ValueError("an expected disbursement is a positive amount of the loan's currency")
        if any(later.on <= earlier.on for earlier, later in pairwise(planned)):
            raise ValueError("expected disbursements come on days one after another")
        if Money.total((p.amount for p in planned), self.contract.currency) > self.contract.principal:
            raise ValueError("the expected disbursements add up to more than the approved amount")

    @property
    def currency(self) -> str:
        """The loan's currency."""
        return self.contract.currency

    @property
    def approved_maximum(self) -> Money:
        """The most a disbursement, or the outstanding principal after a tranche, may reach."""
        return self.contract.principal if self.most_outstanding is None else self.most_outstanding
