"""The progressive EMI calculator (Fineract's ``loanScheduleType`` PROGRESSIVE), rules P1-P7.

The engine's (`loan.fold` under `Terms.progressive`) and the `fineract` profile's one copy:
`lending.fineract.progressive` reads Fineract's calculator parameters into `ProgressiveTerms`.

A loan's repayment periods each hold one or more interest periods; a disbursement or a
balance change splits the interest period it falls in (docs/fineract-profile.md §5,
``ProgressiveEMICalculator``, ``RepaymentPeriod``, ``InterestPeriod``,
``ProgressiveLoanInterestScheduleModel`` at commit 4198b0bc).  Rate arithmetic is in a
12-significant-digit HALF_EVEN context (C1); money is rounded to the currency's places by the
rounding mode.

- P1, rate factor of an interest period::

      r = annual/100 x (days in month x every / days in year) x actual days / period days

  (7 for weeks, 1 for days instead of the month's days; the month and year of the interest
  period's start; a year that is ACTUAL and an interest period crossing 31 December sums
  ``days in each year / that year's length``).  9.4822 % on 30/360: 0.094822/12.
- P2, EMI = Π(1 + r_i) x balance / fn, fn = 1 + (1+r_n)(1 + (1+r_{n-1})(... (1 + (1+r_2)))),
  rounded to cents, then to the installment multiple.
- P3, an interest period's interest = its opening balance x its factor, rounded on its own.
- P4, principal due = EMI - interest due; balances follow.
- P5, the last unpaid period's EMI absorbs disbursed + Σ due interest - Σ EMI.
- P6, when the last EMI is more than floor(n/2) cents from the one before, try the EMI moved by
  the difference / n and keep it only when the last EMI comes strictly closer.
- P7, a disbursement recomputes the EMI from its period (from the next one when it falls on a
  due date); a paid principal is a negative balance correction on the payment date (the due
  date when paid late) and only P5 follows.

Worked example (ProgressiveEMICalculatorTest, 100.00 at 7 %, 30/360, six months from
1 January 2024): factor 0.005833333333 a month, EMI 17.01, interest 0.58, 0.49, 0.39 ...,
the last period 17.00.

Values in, values out: every operation answers a new `ProgressiveModel`; the figures of a
model (interest, due principal, balances) are recomputed from its periods each time (rule P9:
Fineract memoises them, and recomputing gives exactly the numbers its tests assert).
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import ROUND_HALF_EVEN, Context, Decimal

from microcredit.lending.daycount import DaysInMonth, DaysInYear
from microcredit.lending.money import CURRENCIES, RoundingMode
from microcredit.lending.periods import PeriodUnit

__all__ = [
    "InterestPeriod",
    "PayableDetails",
    "PeriodFigures",
    "ProgressiveModel",
    "ProgressiveTerms",
    "RepaymentPeriod",
    "add_balance_correction",
    "add_disbursement",
    "figures",
    "fn_value",
    "pay_interest",
    "pay_principal",
    "payable_details",
    "progressive_model",
    "rate_factor",
]

TWELVE_DIGITS = Context(prec=12, rounding=ROUND_HALF_EVEN)
"""Fineract's ``MoneyHelper`` context: 12 significant digits, HALF_EVEN (C1)."""
_EXACT = Context(prec=200, rounding=ROUND_HALF_EVEN)
_WEEK = Decimal(7)


@dataclass(frozen=True, slots=True, kw_only=True)
class ProgressiveTerms:
    """The conventions the calculator needs: rate, frequency, day counts, currency, multiple.

    `annual_rate` is the annual nominal rate as a fraction (0.07 for 7 %), `multiple` the
    installment multiple in whole currency units (Fineract ``installmentAmountInMultiplesOf``).
    """

    annual_rate: Decimal
    unit: PeriodUnit
    every: int
    days_in_month: DaysInMonth | None
    days_in_year: DaysInYear
    currency: str
    mode: RoundingMode = RoundingMode.HALF_EVEN
    multiple: int | None = None
    context: Context = TWELVE_DIGITS

    @property
    def places(self) -> int:
        """The currency's decimal places."""
        return CURRENCIES[self.currency].places


@dataclass(frozen=True, slots=True)
class InterestPeriod:
    """A stretch of a repayment period on one balance: dates, factor, what changed at its end.

    `disbursed` and `correction` (minor units) are added to the balance at the period's end,
    i.e. from the next interest period on.
    """

    start: date
    end: date
    rate_factor: Decimal = Decimal(0)
    disbursed: int = 0
    correction: int = 0


@dataclass(frozen=True, slots=True)
class RepaymentPeriod:
    """A repayment period: dates, EMI and what has been paid (minor units), its interest periods."""

    start: date
    due: date
    emi: int
    paid_principal: int
    paid_interest: int
    interest_periods: tuple[InterestPeriod, ...]

    @property
    def fully_paid(self) -> bool:
        """Whether principal and interest paid make its EMI."""
        return self.emi == self.paid_principal + self.paid_interest


@dataclass(frozen=True, slots=True)
class ProgressiveModel:
    """The repayment periods of a progressive loan under its terms."""

    terms: ProgressiveTerms
    periods: tuple[RepaymentPeriod, ...]

    def index_of(self, due: date) -> int:
        """The index of the repayment period due on `due` (-1 when none)."""
        return next((k for k, p in enumerate(self.periods) if p.due == due), -1)

    @property
    def loan_term_in_days(self) -> int:
        """Days from the first period's start to the last period's due date."""
        return (self.periods[-1].due - self.periods[0].start).days if self.periods else 0


@dataclass(frozen=True, slots=True)
class PeriodFigures:
    """What a repayment period comes to (minor units): each interest period's opening balance
    and interest, the interest calculated and due, the principal due, the balance after."""

    opening: tuple[int, ...]
    interests: tuple[int, ...]
    calculated_interest: int
    due_interest: int
    due_principal: int
    balance_after: int


@dataclass(frozen=True, slots=True)
class PayableDetails:
    """What a repayment period asks on a date (minor units): EMI, principal, interest, balance."""

    emi: int
    principal: int
    interest: int
    outstanding: int


def progressive_model(terms: ProgressiveTerms, periods: Sequence[tuple[date, date]]) -> ProgressiveModel:
    """The model of repayment periods [start, due) with no balance yet (EMI 0)."""
    return ProgressiveModel(terms, tuple(RepaymentPeriod(s, d, 0, 0, 0, (InterestPeriod(s, d),)) for s, d in periods))


def _round(value: Decimal, mode: RoundingMode) -> int:
    return int(value.to_integral_value(rounding=mode.decimal_rounding))


def _units(minor: int, places: int) -> Decimal:
    return Decimal(minor).scaleb(-places)


def _days_in_month(terms: ProgressiveTerms, on: date) -> int:
    if terms.days_in_month is DaysInMonth.THIRTY:
        return 30
    return calendar.monthrange(on.year, on.month)[1]


def _days_in_year(terms: ProgressiveTerms, on: date) -> int:
    if terms.days_in_year is DaysInYear.ACTUAL:
        return 366 if calendar.isleap(on.year) else 365
    return int(terms.days_in_year.value)


def rate_factor(terms: ProgressiveTerms, period: RepaymentPeriod | tuple[date, date], start: date,
                end: date) -> Decimal:
    """P1: the rate factor of the interest period [start, end) of a repayment period."""
    ctx = terms.context
    p_start, p_due = (period.start, period.due) if isinstance(period, RepaymentPeriod) else period
    rate = ctx.divide(terms.annual_rate * 100, Decimal(100))
    every = Decimal(terms.every)
    if terms.days_in_year is DaysInYear.ACTUAL and end.year > start.year:
        fractions = Decimal(0)
        on = start
        for year in range(start.year, end.year + 1):
            until = end if year == end.year else date(year, 12, 31)
            fractions = ctx.add(fractions, ctx.divide(Decimal((until - on).days), Decimal(366 if calendar.isleap(year)
                                                                                          else 365)))
            on = until
        return ctx.divide(ctx.multiply(ctx.multiply(rate, every * fractions), Decimal(1)), Decimal(1))
    if terms.unit is PeriodUnit.MONTH:
        multiplier = Decimal(_days_in_month(terms, start))
    elif terms.unit is PeriodUnit.WEEK:
        multiplier = _WEEK
    elif terms.unit is PeriodUnit.DAY:
        multiplier = Decimal(1)
    else:
        raise ValueError(f"the progressive calculator has no rate factor for {terms.unit} periods")
    fraction = ctx.divide(ctx.multiply(multiplier, every), Decimal(_days_in_year(terms, start)))
    factor = ctx.multiply(ctx.multiply(rate, fraction), Decimal((end - start).days))
    return ctx.divide(factor, Decimal((p_due - p_start).days))


def fn_value(previous: Decimal, factor_plus_1: Decimal, context: Context = TWELVE_DIGITS) -> Decimal:
    """P2: one step of fn, 1 + previous x (1 + r)."""
    return context.add(Decimal(1), context.multiply(previous, factor_plus_1))


def figures(model: ProgressiveModel) -> tuple[PeriodFigures, ...]:
    """Every repayment period's figures, recomputed from the periods (P3, P4)."""
    mode = model.terms.mode
    out: list[PeriodFigures] = []
    previous: RepaymentPeriod | None = None
    unrecognised = 0
    for period in model.periods:
        openings: list[int] = []
        interests: list[int] = []
        for k, ip in enumerate(period.interest_periods):
            if k == 0:
                if previous is None:
                    opening = 0
                else:
                    last = previous.interest_periods[-1]
                    before = out[-1]
                    opening = (before.opening[-1] + last.disbursed + last.correction - before.due_principal
                               + previous.paid_principal)
            else:
                earlier = period.interest_periods[k - 1]
                opening = openings[-1] + earlier.correction + earlier.disbursed
            openings.append(opening)
            interests.append(_round(_EXACT.multiply(Decimal(opening), ip.rate_factor), mode))
        calculated = sum(interests) + unrecognised
        calculated_principal = period.emi - calculated
        due_interest = max(period.paid_interest if period.paid_principal > calculated_principal else calculated,
                           period.paid_interest)
        due_principal = max(period.emi - due_interest, period.paid_principal)
        last_ip = period.interest_periods[-1]
        balance = openings[-1] + last_ip.correction + last_ip.disbursed - due_principal + period.paid_principal
        out.append(PeriodFigures(tuple(openings), tuple(interests), calculated, due_interest, due_principal,
                                 max(balance, 0)))
        unrecognised = calculated - due_interest
        previous = period
    return tuple(out)


def _with_emis(model: ProgressiveModel, emis: dict[int, int]) -> ProgressiveModel:
    periods = tuple(replace(p, emi=emis[k]) if k in emis else p for k, p in enumerate(model.periods))
    return replace(model, periods=periods)


def _last_unpaid_absorbs(model: ProgressiveModel) -> ProgressiveModel:
    """P5: the last period not fully paid takes disbursed + Σ due interest - Σ EMI."""
    numbers = figures(model)
    disbursed = sum(ip.disbursed for p in model.periods for ip in p.interest_periods)
    diff = disbursed + sum(f.due_interest for f in numbers) - sum(p.emi for p in model.periods)
    last = next((k for k in range(len(model.periods) - 1, -1, -1) if not model.periods[k].fully_paid), None)
    if last is None:
        return model
    return _with_emis(model, {last: model.periods[last].emi + diff})


def _to_multiple(terms: ProgressiveTerms, emi: int) -> int:
    if terms.multiple is None or terms.multiple <= 0:
        return emi
    step = terms.multiple * int(10**terms.places)
    return _round(Decimal(emi) / Decimal(step), terms.mode) * step


def _emi_on(model: ProgressiveModel, related: range) -> ProgressiveModel:
    """P2 on the related periods: one EMI from the balance before the first of them."""
    terms = model.terms
    ctx = terms.context
    periods = model.periods
    plus_one = [sum((ip.rate_factor for ip in periods[k].interest_periods), Decimal(1)) for k in related]
    product = Decimal(1)
    for factor in plus_one:
        product = ctx.multiply(product, factor)
    fn = Decimal(1)
    for factor in plus_one[1:]:
        fn = fn_value(fn, factor, ctx)
    first = related[0]
    balance = figures(model)[first - 1].balance_after if first > 0 else 0
    balance += sum(ip.disbursed for ip in periods[first].interest_periods)
    value = ctx.divide(ctx.multiply(product, _units(balance, terms.places)), fn)
    emi = _to_multiple(terms, _round(value.scaleb(terms.places), terms.mode))
    return _with_emis(model, dict.fromkeys(related, emi))


def _last_two_difference(model: ProgressiveModel, related: range) -> int:
    if len(related) < 2:
        return 0
    return model.periods[related[-1]].emi - model.periods[related[-2]].emi


def _adjust_emi(model: ProgressiveModel, related: range) -> ProgressiveModel:
    """P6: move the EMI by the last difference / n when that brings the last EMI strictly closer."""
    terms = model.terms
    difference = _last_two_difference(model, related)
    n = len(related)
    half = n // 2
    if difference == 0 or half == 0 or abs(difference) * 100 <= half * 10 ** terms.places:
        return model
    original = model.periods[related[-2]].emi
    adjusted = _to_multiple(terms, original + _round(Decimal(difference) / Decimal(n), terms.mode))
    if adjusted == original:
        return model
    trial = _last_unpaid_absorbs(_with_emis(model, dict.fromkeys(range(related[0], len(model.periods)), adjusted)))
    everything = range(len(trial.periods))
    if abs(_last_two_difference(trial, everything)) >= abs(difference):
        return model
    return _with_emis(model, {k: trial.periods[k].emi for k in related})


def _recompute_emi(model: ProgressiveModel, from_due: date) -> ProgressiveModel:
    """``calculateEMIValueAndRateFactors``: factors, EMI, P5 and P6 from the period due `from_due` on."""
    related = range(next((k for k, p in enumerate(model.periods) if p.due >= from_due), len(model.periods)),
                    len(model.periods))
    if not related:
        return model
    model = _with_factors(model, related)
    model = _emi_on(model, related)
    model = _last_unpaid_absorbs(model)
    return _adjust_emi(model, related)


def _with_factors(model: ProgressiveModel, indexes: Sequence[int]) -> ProgressiveModel:
    periods = list(model.periods)
    for k in indexes:
        p = periods[k]
        factors = tuple(replace(ip, rate_factor=rate_factor(model.terms, p, ip.start, ip.end))
                        for ip in p.interest_periods)
        periods[k] = replace(p, interest_periods=factors)
    return replace(model, periods=tuple(periods))


def _period_for_change(model: ProgressiveModel, on: date) -> int:
    for k, p in enumerate(model.periods):
        if (p.start <= on if k == 0 else p.start < on) and on <= p.due:
            return k
    return -1


def _change_balance(model: ProgressiveModel, on: date, disbursed: int, correction: int) -> tuple[ProgressiveModel, int]:
    """The interest period ending on `on` takes the change; one is split there when none ends on it
    (``changeOutstandingBalanceAndUpdateInterestPeriods``).  The index of the repayment period, -1
    when `on` is in none."""
    k = _period_for_change(model, on)
    if k < 0:
        return model, k
    period = model.periods[k]
    ips = list(period.interest_periods)
    same = next((j for j, ip in enumerate(ips) if ip.end == on), None)
    if same is not None:
        ip = ips[same]
        ips[same] = replace(ip, disbursed=ip.disbursed + disbursed, correction=ip.correction + correction)
    else:
        if on > period.start:
            j = len(ips) - 1
        else:
            j = max((i for i, ip in enumerate(ips) if ip.start < on <= ip.end), default=0)
        ip = ips[j]
        end = ip.start if on < ip.start else ip.end if on > ip.end else on
        ips[j] = replace(ip, end=end, disbursed=ip.disbursed + disbursed, correction=ip.correction + correction)
        ips.append(InterestPeriod(end, ip.end))
    periods = list(model.periods)
    periods[k] = replace(period, interest_periods=tuple(ips))
    return replace(model, periods=tuple(periods)), k


def add_disbursement(model: ProgressiveModel, on: date, amount: int) -> ProgressiveModel:
    """P7: `amount` (minor units) disbursed on `on`; the EMI recomputed from its period (the next
    one when `on` is a due date)."""
    model, k = _change_balance(model, on, amount, 0)
    if k < 0:
        return model
    effective = model.periods[k].due
    if effective == on and k + 1 < len(model.periods):
        effective = model.periods[k + 1].due
    return _recompute_emi(model, effective)


def add_balance_correction(model: ProgressiveModel, on: date, amount: int) -> ProgressiveModel:
    """A change of `amount` (minor units, negative for a repayment) to the balance from `on`; the
    period's factors recomputed, the EMI kept, P5."""
    model, k = _change_balance(model, on, 0, amount)
    if k < 0:
        return model
    return _last_unpaid_absorbs(_with_factors(model, [k]))


def pay_principal(model: ProgressiveModel, due: date, on: date, amount: int) -> ProgressiveModel:
    """`amount` of principal paid on `on` for the period due `due`: a negative correction on `on`,
    or on `due` when paid late."""
    k = model.index_of(due)
    if k >= 0:
        p = model.periods[k]
        model = _with_period(model, k, replace(p, paid_principal=p.paid_principal + amount))
    return add_balance_correction(model, min(on, due), -amount)


def pay_interest(model: ProgressiveModel, due: date, on: date, amount: int) -> ProgressiveModel:
    """`amount` of interest paid for the period due `due`; P5."""
    k = model.index_of(due)
    if k >= 0:
        p = model.periods[k]
        model = _with_period(model, k, replace(p, paid_interest=p.paid_interest + amount))
    return _last_unpaid_absorbs(model)


def _with_period(model: ProgressiveModel, k: int, period: RepaymentPeriod) -> ProgressiveModel:
    periods = list(model.periods)
    periods[k] = period
    return replace(model, periods=tuple(periods))


def payable_details(model: ProgressiveModel, due: date, target: date) -> PayableDetails:
    """What the period due `due` asks on `target`: interest up to that date only, principal =
    EMI - that interest, capped at the balance (``getPayableDetails``)."""
    k = model.index_of(due)
    if k < 0:
        raise ValueError(f"no repayment period is due on {due}")
    period = model.periods[k]
    ips = list(period.interest_periods)
    if target <= period.start:
        j, until = 0, period.start
    elif target > period.due:
        j, until = len(ips) - 1, period.due
    else:
        j = next(i for i, ip in enumerate(ips) if ip.start < target <= ip.end)
        until = target
    ips = [*ips[:j], replace(ips[j], end=until)]
    cut = _with_factors(_with_period(model, k, replace(period, interest_periods=tuple(ips))), [k])
    numbers = figures(cut)[k]
    interest = 0 if target < period.start else numbers.due_interest
    outstanding = numbers.opening[j] + ips[j].disbursed
    emi = period.emi
    if outstanding + interest < emi:
        emi = outstanding + interest + period.paid_interest + period.paid_principal
    return PayableDetails(emi, emi - interest, interest, outstanding)
