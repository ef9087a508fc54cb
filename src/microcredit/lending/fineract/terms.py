"""A Fineract loan's parameters, in Fineract's names and enum values, turned into our `Terms`.

`terms_from_fineract(params)` reads the parameters a Fineract loan is created with (the
product's overlaid with the loan request's, as the golden cases hold them) and answers our
`loan.Terms` under the profile's conventions (docs/fineract-profile.md):

- C1: money rounds HALF_EVEN (`roundingMode`, which must say so);
- K1: ``daysInYearType`` ACTUAL is a fixed 365-day year in the cumulative generator;
- K7: flat interest is the whole term's, rounded once, spread, the last installment taking
  the residue (`FlatInterest.TOTAL_SPREAD`);
- K4: the level installment of a declining loan is Fineract's PMT at a 30-day-month rate, in
  binary floating point (`LevelInstallment.NOMINAL_PMT`);
- K8: an installment multiple on a flat loan rounds the principal and interest shares each
  (`MultipleRounding.SHARES`);
- the transaction-processing strategy as an allocation order, the in-advance order beside it,
  and what is paid beyond everything due held as an overpayment; the advanced payment
  allocation strategy of a progressive loan when its rules are one component order in every
  bucket with NEXT_INSTALLMENT (HORIZONTAL: installment by installment, VERTICAL: component by
  component); a progressive loan without interest has the cumulative schedule (P2 at r = 0),
  one with interest the progressive calculator's (`Terms.progressive`, P1-P7) and, with
  ``isInterestRecalculationEnabled``, ADJUST_LAST_UNPAID_PERIOD with overdue principal back in
  the balance at a daily or same-as-repayment rest (P8); a cumulative declining loan with
  ``isInterestRecalculationEnabled`` has its schedule regenerated as Fineract's cumulative
  generator does (`Terms.cumulative_recalculation`, R1-R3) for the reschedule strategies
  REDUCE_EMI_AMOUNT, REDUCE_NUMBER_OF_INSTALLMENTS and RESCHEDULE_NEXT_REPAYMENTS, a daily or
  same-as-repayment rest, no compounding or INTEREST compounded daily, monthly or on the due
  dates (interest calculated daily);
- a charge due after the last installment is owed in an installment of its own ("N+1");
- K10: a down payment of ``disbursedAmountPercentageForDownPayment`` % of each disbursement,
  rounded to the installment multiple, collected at disbursement when
  ``enableAutoRepaymentForDownPayment``.

Every parameter is either used, checked against the one value the profile supports, or
listed in `IGNORED` with the reason it decides nothing here; anything else is refused with
`FineractInputError` naming the field, so a parameter is never silently dropped.

Example: ``{"principal": "1250.00", "numberOfRepayments": 3, "interestRatePerPeriod": "1",
"interestRateFrequencyType": "MONTHS", "interestType": "FLAT", ...}`` gives a 1,250.00 EUR
loan at 12 % a year, flat, three monthly installments.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from microcredit.lending.allocation import AllocationStrategy, Component, OverpaymentPolicy, Sweep
from microcredit.lending.calendar import HolidayCalendar
from microcredit.lending.classification import DEFAULT_BUCKETS, DEFAULT_PROVISION_RATES, ClassificationPolicy
from microcredit.lending.daycount import DayCount, DaysInMonth, DaysInYear
from microcredit.lending.loan.cumulative import (
    CompoundingUnit,
    CumulativeRecalculation,
    EarlyPayment,
    InterestCompounding,
)
from microcredit.lending.loan.recalculation import PreClosure, RestFrequency
from microcredit.lending.loan.terms import ChargesAfterMaturity, DownPayment, ProgressiveInterest, Terms
from microcredit.lending.money import CURRENCIES, Money, RoundingMode, RoundingPolicy
from microcredit.lending.periods import Frequency, PeriodSpec, PeriodUnit
from microcredit.lending.prepayment import PrepaymentMode
from microcredit.lending.schedule import InterestCalculation, InterestMethod, LoanTerms, RepaymentMethod
from microcredit.lending.schedule.model import FlatInterest, LevelInstallment, MultipleRounding, TranchePrincipal

__all__ = [
    "ADVANCED",
    "CALENDAR",
    "IGNORED",
    "STRATEGIES",
    "FineractInputError",
    "terms_from_fineract",
    "transaction_strategies",
]

PRI, INT, FEE, PEN = Component.PRINCIPAL, Component.INTEREST, Component.FEE, Component.PENALTY

STRATEGIES: Mapping[str, AllocationStrategy] = {
    # FineractStyleLoanRepaymentScheduleTransactionProcessor: the same order early or late.
    "mifos-standard-strategy": AllocationStrategy("fineract_mifos_standard", (PEN, FEE, INT, PRI)),
    "due-penalty-fee-interest-principal-in-advance-principal-penalty-fee-interest-strategy": AllocationStrategy(
        "fineract_due_penalty_fee_interest_principal_in_advance_principal_penalty_fee_interest",
        (PEN, FEE, INT, PRI), in_advance_order=(PEN, FEE, PRI, INT), in_advance_charges_due_first=True),
    "due-penalty-interest-principal-fee-in-advance-penalty-interest-principal-fee-strategy": AllocationStrategy(
        "fineract_due_penalty_interest_principal_fee_in_advance_penalty_interest_principal_fee",
        (PEN, INT, PRI, FEE)),
}
"""Fineract's transaction-processing strategies the profile reproduces (docs/fineract-profile.md §6)."""

CALENDAR = HolidayCalendar(name="fineract: no holidays, no weekends", weekend=frozenset(), covers_all_years=True)
"""The golden cases' calendar: Fineract's tests keep every due date where the schedule puts it."""

IGNORED: Mapping[str, str] = {
    "product": "the product's name; its settings are spelled out in the other parameters",
    "_note": "a remark of the case's author",
    "accountingRule": "journal entries, not amounts",
    "allowApprovedDisbursedAmountsOverApplied": "limits a second disbursement (tranches are not in the profile)",
    "overAppliedCalculationType": "limits a second disbursement",
    "overAppliedNumber": "limits a second disbursement",
    "maxTrancheCount": "limits tranches",
    "disallowExpectedDisbursements": "expected tranche dates",
    "graceOnArrearsAgeing": "arrears ageing (delinquency), not amounts",
    "principalThresholdForLastInstallment": "acts only with a fixed EMI given by the user (K5)",
    "submittedOnDate": "the application's date (the periods' start under repaymentStartDateType SUBMITTED_ON_DATE)",
    "globalConfiguration": "the tenant's switches; the cases run with the defaults the profile assumes",
    "allowPartialPeriodInterestCalcualtion": "acts only on broken periods, which the profile does not build",
    "inMultiplesOf": "currency multiples act only on a currency without decimals (C2)",
    "digitsAfterDecimal": "checked: the currency's places",
    "loanTermFrequency": "checked: numberOfRepayments x repaymentEvery",
    "loanTermFrequencyType": "checked: the repayment frequency's unit",
    "recalculationRestFrequencyInterval": "the interval of a weekly or monthly rest; the profile takes daily and "
                                          "same-as-repayment rests only",
}
"""Parameters read and deliberately not used, with the reason."""

_REQUIRED_VALUES: Mapping[str, tuple[Any, ...]] = {
    "loanScheduleType": ("CUMULATIVE", "PROGRESSIVE"),
    "loanScheduleProcessingType": ("HORIZONTAL", "VERTICAL"),
    "repaymentStartDateType": ("DISBURSEMENT_DATE", "SUBMITTED_ON_DATE"),
    "allowVariableInstallments": (False,),
    "isEqualAmortization": (False,),
    "roundingMode": ("HALF_EVEN",),
}
"""Parameters the profile supports one value of (docs: "The profile as implemented")."""

_USED = {
    "productCharges",
    "currencyCode", "principal", "expectedDisbursementDate", "numberOfRepayments", "repaymentEvery",
    "repaymentFrequencyType", "interestRatePerPeriod", "interestRateFrequencyType", "interestType",
    "amortizationType", "interestCalculationPeriodType", "daysInYearType", "daysInMonthType",
    "installmentAmountInMultiplesOf", "graceOnPrincipalPayment", "graceOnInterestPayment",
    "graceOnInterestCharged", "transactionProcessingStrategyCode", "multiDisburseLoan",
    "enableDownPayment", "disbursedAmountPercentageForDownPayment", "enableAutoRepaymentForDownPayment",
    "maxOutstandingLoanBalance", "paymentAllocation", "isInterestRecalculationEnabled",
    "rescheduleStrategyMethod", "interestRecalculationCompoundingMethod", "recalculationRestFrequencyType",
    "preClosureInterestCalculationStrategy", "isArrearsBasedOnOriginalSchedule",
    "isCompoundingToBePostedAsTransaction", "allowCompoundingOnEod", "recalculationCompoundingFrequencyType",
    "recalculationCompoundingFrequencyInterval", "recalculationCompoundingFrequencyOnDayType",
}  # fmt: skip


class FineractInputError(ValueError):
    """A Fineract parameter or event the profile cannot take, named by its field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.reason = message


def _choice(params: Mapping[str, Any], field: str, table: Mapping[str, Any], default: str | None = None) -> Any:
    value = params.get(field, default)
    if value not in table:
        raise FineractInputError(field, f"{value!r} is not one of {', '.join(sorted(table))}")
    return table[value]


def _int(params: Mapping[str, Any], field: str, default: int | None = None) -> int:
    value = params.get(field, default)
    if value is None:
        value = default
    if isinstance(value, bool) or not isinstance(value, int):
        raise FineractInputError(field, f"a whole number, not {value!r}")
    return value


def _decimal(params: Mapping[str, Any], field: str) -> Decimal:
    value = params.get(field)
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise FineractInputError(field, "a decimal string")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise FineractInputError(field, f"{value!r} is not a decimal number") from None
    if not number.is_finite():
        raise FineractInputError(field, f"{value!r} is not a decimal number")
    return number


def _date(params: Mapping[str, Any], field: str) -> date:
    value = params.get(field)
    try:
        return date.fromisoformat(value) if isinstance(value, str) else _missing(field)
    except ValueError:
        raise FineractInputError(field, f"{value!r} is not an ISO date") from None


def _missing(field: str) -> Any:
    raise FineractInputError(field, "required")


def money(value: Any, currency: str, field: str) -> Money:
    """A Fineract amount (a decimal string) as Money, refused with the field's name."""
    if not isinstance(value, str):
        raise FineractInputError(field, "an amount is a decimal string")
    try:
        return Money.parse(value, currency)
    except ValueError as exc:
        raise FineractInputError(field, str(exc)) from None


_UNITS = {"DAYS": PeriodUnit.DAY, "WEEKS": PeriodUnit.WEEK, "MONTHS": PeriodUnit.MONTH}
_RATE_PERIODS = {"MONTHS": 12, "YEARS": 1}
_INTEREST = {"FLAT": InterestMethod.FLAT, "DECLINING_BALANCE": InterestMethod.DECLINING_BALANCE}
_AMORTIZATION = {"EQUAL_INSTALLMENTS": RepaymentMethod.EQUAL_INSTALLMENT,
                 "EQUAL_PRINCIPAL": RepaymentMethod.EQUAL_PRINCIPAL}
_CALCULATION = {"SAME_AS_REPAYMENT_PERIOD": InterestCalculation.SAME_AS_REPAYMENT,
                "DAILY": InterestCalculation.DAILY}
# K1: ACTUAL is a fixed 365-day year in the cumulative generator.
_YEAR = {"ACTUAL": DaysInYear.D365, "DAYS_360": DaysInYear.D360, "DAYS_364": DaysInYear.D364,
         "DAYS_365": DaysInYear.D365}
_MONTH = {"ACTUAL": DaysInMonth.ACTUAL, "DAYS_30": DaysInMonth.THIRTY}


def _check_keys(params: Mapping[str, Any]) -> None:
    for key, value in params.items():
        if key.startswith("_note") or key in IGNORED or key in _USED:
            continue
        allowed = _REQUIRED_VALUES.get(key)
        if allowed is None:
            raise FineractInputError(key, "a parameter the fineract profile does not know")
        if value not in allowed:
            raise FineractInputError(key, f"the fineract profile supports {' or '.join(map(repr, allowed))} only")


ADVANCED = "advanced-payment-allocation-strategy"
_BUCKETS = ("PAST_DUE", "DUE", "IN_ADVANCE")
_COMPONENTS = {"PENALTY": PEN, "FEE": FEE, "PRINCIPAL": PRI, "INTEREST": INT}


_FUTURE = {"NEXT_INSTALLMENT": "next", "LAST_INSTALLMENT": "last", "REAMORTIZATION": "spread"}


def _advanced_order(params: Mapping[str, Any]) -> tuple[list[Mapping[str, Any]], tuple[Component, ...]]:
    """The advanced strategy's rules and their one component order (refused when the rules are
    not one order in every bucket, the same for every transaction type)."""
    rules = params.get("paymentAllocation")
    if not isinstance(rules, list) or not all(isinstance(r, Mapping) for r in rules):
        raise FineractInputError("paymentAllocation", "the advanced strategy needs its allocation rules")
    default = next((r for r in rules if r.get("transactionType") == "DEFAULT"), None)
    if default is None:
        raise FineractInputError("paymentAllocation", "a DEFAULT rule is required")
    order = list(default.get("paymentAllocationOrder", ()))
    names = [name.removeprefix(f"{_BUCKETS[0]}_") for name in order[:4]]
    if names and not all(n in _COMPONENTS for n in names):
        raise FineractInputError("paymentAllocation", f"unknown allocation {order[:4]!r}")
    if order != [f"{bucket}_{name}" for bucket in _BUCKETS for name in names] or len(names) != len(_COMPONENTS):
        raise FineractInputError("paymentAllocation", "the profile reproduces one component order in every bucket")
    for rule in rules:
        if rule.get("paymentAllocationOrder") != order:
            raise FineractInputError("paymentAllocation", f"{rule.get('transactionType')}: another order than DEFAULT")
    return rules, tuple(_COMPONENTS[n] for n in names)


def _advanced_rule(params: Mapping[str, Any], rule: Mapping[str, Any],
                   order: tuple[Component, ...]) -> AllocationStrategy | None:
    """One transaction type's rule as a waterfall (NEXT_INSTALLMENT, LAST_INSTALLMENT,
    REAMORTIZATION); None for a future-installment rule the engine has no waterfall for."""
    future = _FUTURE.get(rule.get("futureInstallmentAllocationRule", ""))
    if future is None:
        return None
    vertical = params.get("loanScheduleProcessingType") == "VERTICAL"
    sweep = Sweep.BY_COMPONENT_PER_BUCKET if vertical else Sweep.BY_INSTALLMENT
    names = "_".join(c.value for c in order)
    return AllocationStrategy(f"fineract_advanced_{names}_{sweep.value}_in_advance_{future}", order, sweep,
                              in_advance_last_first=future == "last", in_advance_spread=future == "spread")


def transaction_strategies(params: Mapping[str, Any]) -> Mapping[str, AllocationStrategy | None]:
    """Fineract transaction type -> its own waterfall under the advanced payment allocation
    strategy (None: a future-installment rule the profile does not know); empty for the other
    strategies, which allocate every type alike.  ``DEFAULT`` is the loan's (`Terms.strategy`)."""
    if params.get("transactionProcessingStrategyCode") != ADVANCED:
        return {}
    rules, order = _advanced_order(params)
    return {str(r.get("transactionType")): _advanced_rule(params, r, order) for r in rules}


def _advanced_strategy(params: Mapping[str, Any]) -> AllocationStrategy:
    """The advanced payment allocation strategy, as far as the engine's waterfall reproduces it:
    one component order past due, due and in advance; the DEFAULT rule's future installments
    NEXT_INSTALLMENT or LAST_INSTALLMENT; HORIZONTAL sweeps installment by installment, VERTICAL
    component by component (§6).  Other transaction types' rules: `transaction_strategies`."""
    strategy = transaction_strategies(params).get("DEFAULT")
    if strategy is None:
        raise FineractInputError("paymentAllocation", "the DEFAULT rule's future installments are allocated by a "
                                 "rule the profile does not reproduce")
    return strategy


def _strategy(params: Mapping[str, Any]) -> AllocationStrategy:
    """The transaction-processing strategy; a progressive loan takes the advanced one."""
    progressive = params.get("loanScheduleType") == "PROGRESSIVE"
    code = params.get("transactionProcessingStrategyCode")
    if progressive != (code == ADVANCED):
        raise FineractInputError("transactionProcessingStrategyCode",
                                 "a progressive loan takes the advanced payment allocation strategy, and only it")
    if progressive:
        return _advanced_strategy(params)
    if params.get("loanScheduleProcessingType", "HORIZONTAL") != "HORIZONTAL":
        raise FineractInputError("loanScheduleProcessingType", "a cumulative loan is processed HORIZONTAL")
    strategy: AllocationStrategy = _choice(params, "transactionProcessingStrategyCode", STRATEGIES)
    return strategy


def _down_payment(params: Mapping[str, Any]) -> DownPayment | None:
    """K10: a percent of each disbursement due on its day, rounded to the installment multiple."""
    enabled = params.get("enableDownPayment", False)
    if not isinstance(enabled, bool):
        raise FineractInputError("enableDownPayment", "true or false")
    if not enabled:
        return None
    percent = _decimal(params, "disbursedAmountPercentageForDownPayment")
    automatic = params.get("enableAutoRepaymentForDownPayment", False)
    if not isinstance(automatic, bool):
        raise FineractInputError("enableAutoRepaymentForDownPayment", "true or false")
    try:
        return DownPayment(percent=percent, collected_at_disbursement=automatic, rounded_to_installment_multiple=True,
                           collected_by_strategy=True)
    except ValueError as exc:
        raise FineractInputError("disbursedAmountPercentageForDownPayment", str(exc)) from None


def _most_outstanding(params: Mapping[str, Any], principal: Money) -> Money | None:
    """A multi-disbursement loan may have up to ``maxOutstandingLoanBalance`` outstanding."""
    if not params.get("multiDisburseLoan", False) or params.get("maxOutstandingLoanBalance") is None:
        return None
    most = money(params["maxOutstandingLoanBalance"], principal.currency, "maxOutstandingLoanBalance")
    if most < principal:
        raise FineractInputError("maxOutstandingLoanBalance", "cannot be less than the principal")
    return most


_REST = {"DAILY": RestFrequency.DAILY, "SAME_AS_REPAYMENT_PERIOD": RestFrequency.SAME_AS_REPAYMENT}
_PRE_CLOSURE = {"TILL_PRE_CLOSURE_DATE": PreClosure.TILL_PRE_CLOSURE_DATE,
                "TILL_REST_FREQUENCY_DATE": PreClosure.TILL_REST_DATE}
# P1: the progressive calculator counts each year's own days when ACTUAL (not K1's fixed 365).
_PROGRESSIVE_YEAR = {"ACTUAL": DaysInYear.ACTUAL, "DAYS_360": DaysInYear.D360, "DAYS_364": DaysInYear.D364,
                     "DAYS_365": DaysInYear.D365}
_RECALCULATION_VALUES: Mapping[str, tuple[Any, ...]] = {
    "rescheduleStrategyMethod": ("ADJUST_LAST_UNPAID_PERIOD",),
    "interestRecalculationCompoundingMethod": ("NONE",),
    "isArrearsBasedOnOriginalSchedule": (False,),
    "isCompoundingToBePostedAsTransaction": (False,),
    "allowCompoundingOnEod": (False,),
}
"""A progressive loan's recalculation as the profile reproduces it (P5, P7, P8)."""


def _progressive_interest(params: Mapping[str, Any]) -> ProgressiveInterest:
    """A progressive loan with interest: the calculator's schedule (P1-P7) and, with
    ``isInterestRecalculationEnabled``, P8 at the rest frequency (daily or same as repayment)."""
    enabled = params.get("isInterestRecalculationEnabled", False)
    if not isinstance(enabled, bool):
        raise FineractInputError("isInterestRecalculationEnabled", "true or false")
    year = _choice(params, "daysInYearType", _PROGRESSIVE_YEAR, "ACTUAL")
    if not enabled:
        return ProgressiveInterest(days_in_year=year)
    for key, allowed in _RECALCULATION_VALUES.items():
        if key in params and params[key] not in allowed:
            raise FineractInputError(key, f"the fineract profile supports {' or '.join(map(repr, allowed))} only")
    return ProgressiveInterest(days_in_year=year, overdue_rest=_choice(params, "recalculationRestFrequencyType", _REST),
                               pre_closure=_choice(params, "preClosureInterestCalculationStrategy", _PRE_CLOSURE,
                                                   "TILL_PRE_CLOSURE_DATE"))


_EARLY_PAYMENT = {"REDUCE_EMI_AMOUNT": EarlyPayment.REDUCE_INSTALLMENT,
                  "REDUCE_NUMBER_OF_INSTALLMENTS": EarlyPayment.SHORTEN_TERM,
                  "RESCHEDULE_NEXT_REPAYMENTS": EarlyPayment.NEXT_PRINCIPAL}
_CUMULATIVE_RECALCULATION_VALUES: Mapping[str, tuple[Any, ...]] = {
    "interestType": ("DECLINING_BALANCE",),
    "amortizationType": ("EQUAL_INSTALLMENTS",),
    "interestRecalculationCompoundingMethod": ("NONE", "INTEREST"),
    "preClosureInterestCalculationStrategy": ("TILL_PRE_CLOSURE_DATE",),
    "enableDownPayment": (False,),
    "graceOnPrincipalPayment": (0,),
    "graceOnInterestPayment": (0,),
    "graceOnInterestCharged": (0,),
    "isArrearsBasedOnOriginalSchedule": (False,),
    "isCompoundingToBePostedAsTransaction": (False,),
    "allowCompoundingOnEod": (False,),
}
"""A cumulative loan's recalculation as the profile reproduces it (R1, R2)."""


def _cumulative_recalculation(params: Mapping[str, Any]) -> CumulativeRecalculation | None:
    """A cumulative loan with ``isInterestRecalculationEnabled``: the regenerated schedule (R1-R2)."""
    enabled = params.get("isInterestRecalculationEnabled", False)
    if not isinstance(enabled, bool):
        raise FineractInputError("isInterestRecalculationEnabled", "true or false")
    if not enabled:
        return None
    for key, allowed in _CUMULATIVE_RECALCULATION_VALUES.items():
        if key in params and params[key] not in allowed:
            raise FineractInputError(key, "the fineract profile recalculates a cumulative loan's interest with "
                                          f"{' or '.join(map(repr, allowed))} only")
    return CumulativeRecalculation(rest=_choice(params, "recalculationRestFrequencyType", _REST),
                                   early_payment=_choice(params, "rescheduleStrategyMethod", _EARLY_PAYMENT),
                                   compounding=_interest_compounding(params))


_COMPOUNDING_UNIT = {"SAME_AS_REPAYMENT_PERIOD": CompoundingUnit.SAME_AS_REPAYMENT, "DAILY": CompoundingUnit.DAYS,
                     "MONTHLY": CompoundingUnit.MONTHS}


def _interest_compounding(params: Mapping[str, Any]) -> InterestCompounding | None:
    """R3: ``interestRecalculationCompoundingMethod`` INTEREST on the calendar of
    ``recalculationCompoundingFrequencyType`` / ``Interval`` (/ ``OnDayType``, the day of the
    month of a MONTHLY one), which starts on the expected disbursement date
    (``LoanScheduleAssembler`` lines 396-412).  NONE ignores the frequency (§4)."""
    if params.get("interestRecalculationCompoundingMethod", "NONE") == "NONE":
        return None
    if params.get("interestCalculationPeriodType") != "DAILY":
        raise FineractInputError("interestRecalculationCompoundingMethod",
                                 "the fineract profile compounds interest calculated DAILY only")
    unit = _choice(params, "recalculationCompoundingFrequencyType", _COMPOUNDING_UNIT)
    every = (1 if unit is CompoundingUnit.SAME_AS_REPAYMENT
             else _int(params, "recalculationCompoundingFrequencyInterval", 1))
    day = params.get("recalculationCompoundingFrequencyOnDayType") if unit is CompoundingUnit.MONTHS else None
    if day is not None and (not isinstance(day, int) or isinstance(day, bool)):
        raise FineractInputError("recalculationCompoundingFrequencyOnDayType", "a day of the month, 1 to 28")
    try:
        return InterestCompounding(unit=unit, every=every, day_of_month=day)
    except ValueError as exc:
        raise FineractInputError("recalculationCompoundingFrequencyInterval"
                                 if every < 1 else "recalculationCompoundingFrequencyOnDayType", str(exc)) from None


@dataclass(frozen=True, slots=True)
class OverdueCharge:
    """The product's overdue-installment charge (``productCharges``, ``chargeTimeType``
    OVERDUE_INSTALLMENT), which a close of business applies once to each installment overdue:
    `percent` of what the installment still owes of its principal (``PERCENT_OF_AMOUNT``), of its
    principal and interest (``PERCENT_OF_AMOUNT_AND_INTEREST``) or of its interest
    (``PERCENT_OF_INTEREST``), or the `flat` amount (Loan.java lines 1420-1445; K13)."""

    name: str
    penalty: bool
    basis: str
    """``amount``, ``amount_and_interest``, ``interest`` or ``flat``."""
    rate: Decimal
    """The percentage (``basis`` a percentage) or the amount (``flat``), as Fineract states it."""


_OVERDUE_BASIS: Mapping[str, str] = {
    "FLAT": "flat", "PERCENT_OF_AMOUNT": "amount", "PERCENT_OF_AMOUNT_AND_INTEREST": "amount_and_interest",
    "PERCENT_OF_INTEREST": "interest",
}


def overdue_charge(params: Mapping[str, Any]) -> OverdueCharge | None:
    """The product's overdue-installment charge (``productCharges``), or None.  The profile
    takes one such charge, applied once per installment (no ``feeFrequency``); any other kind of
    product charge is refused, naming it."""
    charges = params.get("productCharges") or []
    if not isinstance(charges, list):
        raise FineractInputError("productCharges", "a list of charges")
    found: OverdueCharge | None = None
    for n, charge in enumerate(charges):
        where = f"productCharges.{n}"
        if not isinstance(charge, Mapping) or charge.get("chargeTimeType") != "OVERDUE_INSTALLMENT":
            raise FineractInputError(f"{where}.chargeTimeType", "the profile takes OVERDUE_INSTALLMENT product charges")
        if found is not None:
            raise FineractInputError(where, "one overdue-installment charge (Fineract applies the first)")
        if charge.get("feeFrequency") is not None:
            raise FineractInputError(f"{where}.feeFrequency", "an overdue charge applied once per installment only")
        basis = _OVERDUE_BASIS.get(str(charge.get("chargeCalculationType")))
        if basis is None:
            raise FineractInputError(f"{where}.chargeCalculationType", f"one of {', '.join(sorted(_OVERDUE_BASIS))}")
        penalty = charge.get("penalty", False)
        name = charge.get("name") or charge.get("charge")
        if not isinstance(penalty, bool) or not isinstance(name, str) or not name:
            raise FineractInputError(where, "a charge has a name and says whether it is a penalty")
        try:
            rate = _decimal(charge, "amount")
        except FineractInputError as exc:
            raise FineractInputError(f"{where}.amount", exc.reason) from None
        if rate <= 0:
            raise FineractInputError(f"{where}.amount", "must be more than 0")
        found = OverdueCharge(name=name, penalty=penalty, basis=basis, rate=rate)
    return found


def terms_from_fineract(params: Mapping[str, Any]) -> Terms:
    """Our `Terms` for a Fineract loan's parameters, under the profile's conventions (the
    product's overdue charge, which acts through the history, is read by `overdue_charge`)."""
    _check_keys(params)
    overdue_charge(params)
    code = params.get("currencyCode")
    if not isinstance(code, str) or code not in CURRENCIES:
        raise FineractInputError("currencyCode", f"{code!r} is not a currency the engine knows")
    places = params.get("digitsAfterDecimal", CURRENCIES[code].places)
    if places != CURRENCIES[code].places:
        raise FineractInputError("digitsAfterDecimal", f"{code} has {CURRENCIES[code].places} decimal places")
    principal = money(params.get("principal"), code, "principal")
    unit = _choice(params, "repaymentFrequencyType", _UNITS)
    every = _int(params, "repaymentEvery")
    count = _int(params, "numberOfRepayments")
    if every < 1 or count < 1:
        raise FineractInputError("numberOfRepayments" if count < 1 else "repaymentEvery", "must be at least 1")
    if "loanTermFrequency" in params and params["loanTermFrequency"] != count * every:
        raise FineractInputError("loanTermFrequency", "must be numberOfRepayments x repaymentEvery")
    if "loanTermFrequencyType" in params and params["loanTermFrequencyType"] != params["repaymentFrequencyType"]:
        raise FineractInputError("loanTermFrequencyType", "must be the repayment frequency's unit")
    per_period = _decimal(params, "interestRatePerPeriod")
    annual = per_period * _choice(params, "interestRateFrequencyType", _RATE_PERIODS) / 100
    if annual < 0:
        raise FineractInputError("interestRatePerPeriod", "cannot be negative")
    progressive = params.get("loanScheduleType") == "PROGRESSIVE"
    calculator = _progressive_interest(params) if progressive and annual else None
    cumulative_recalculation = None if progressive or not annual else _cumulative_recalculation(params)
    if (calculator is None and cumulative_recalculation is None
            and params.get("isInterestRecalculationEnabled", False) is not False):
        raise FineractInputError("isInterestRecalculationEnabled", "recalculation is reproduced on a loan with "
                                 "interest only")
    day_count = DayCount(_choice(params, "daysInMonthType", _MONTH, "ACTUAL"),
                         _choice(params, "daysInYearType", _YEAR, "ACTUAL"))
    multiple_units = params.get("installmentAmountInMultiplesOf")
    multiple = None
    if multiple_units is not None:
        units = _int(params, "installmentAmountInMultiplesOf")
        if units < 0:
            raise FineractInputError("installmentAmountInMultiplesOf", "cannot be negative")
        multiple = Money(units * 10 ** CURRENCIES[code].places, code) if units else None
    rounding = RoundingPolicy(code, RoundingMode.HALF_EVEN)  # C1
    from_submission = params.get("repaymentStartDateType") == "SUBMITTED_ON_DATE"
    if from_submission and (annual or progressive):
        raise FineractInputError("repaymentStartDateType", "SUBMITTED_ON_DATE is taken on a cumulative loan without "
                                 "interest only")
    try:
        contract = LoanTerms(
            principal=principal,
            annual_rate=annual,
            periods=PeriodSpec(start=_date(params, "submittedOnDate" if from_submission
                                           else "expectedDisbursementDate"),
                               frequency=Frequency(unit, every), count=count),
            method=_choice(params, "amortizationType", _AMORTIZATION),
            interest_method=_choice(params, "interestType", _INTEREST),
            interest_calculation=_choice(params, "interestCalculationPeriodType", _CALCULATION),
            day_count=day_count,
            rounding=rounding,
            installment_multiple=multiple,
            grace_on_principal=_int(params, "graceOnPrincipalPayment", 0),
            grace_on_interest_payment=_int(params, "graceOnInterestPayment", 0),
            interest_free_periods=_int(params, "graceOnInterestCharged", 0),
            flat_interest=FlatInterest.TOTAL_SPREAD,  # K7
            multiple_rounding=MultipleRounding.SHARES,  # K8
            # K11; a progressive loan (without interest): P7 at a zero rate, `LATER_INSTALLMENTS`.
            tranche_principal=TranchePrincipal.LATER_INSTALLMENTS if progressive else TranchePrincipal.TERM_SHARE,
            level_installment=LevelInstallment.NOMINAL_PMT,  # K4
        )
    except ValueError as exc:
        raise FineractInputError("terms", str(exc)) from None
    zero = Money.zero(code)
    return Terms(
        contract=contract,
        calendar=CALENDAR,
        strategy=_strategy(params),
        overpayment=OverpaymentPolicy.PAY_NEXT_INSTALLMENTS,
        prepayment_mode=PrepaymentMode.SHORTEN_TERM,
        dpd_grace_days=0,
        dpd_tolerance=zero,
        buckets=DEFAULT_BUCKETS,
        classification=ClassificationPolicy(provision_rates=DEFAULT_PROVISION_RATES),
        tranches=bool(params.get("multiDisburseLoan", False)),
        down_payment=_down_payment(params),
        recalculation=None,  # Fineract's recalculation is `progressive` or `cumulative_recalculation`
        progressive=calculator,
        cumulative_recalculation=cumulative_recalculation,
        charges_after_maturity=ChargesAfterMaturity.EXTRA_INSTALLMENT,  # the "N+1" installment
        charges_with_down_payment=False,
        # The advanced processor replays a charge among its day's transactions as they were made.
        charges_in_recorded_order=progressive,
        most_outstanding=_most_outstanding(params, principal),
        periods_from_contract_start=from_submission,
        # A cumulative loan's transactions are allocated again over the schedule a tranche
        # regenerates; a progressive loan's tranche leaves what was paid where it is (K11, P7).
        tranche_replays_payments=not progressive and cumulative_recalculation is None,
    )

