"""Quote a loan description.

`quote(description=..., calendars=...)` converts the API shape into the
lending core's values (`LoanTerms` or `RevolvingTerms`), asks the core for
the schedule and its APR disclosure, and converts the answer back.  The
calculation is pure; the holiday calendar is handed in by `calendars`, a
`CalendarProvider` that builds the core's `HolidayCalendar` value for the
years a loan spans: the API passes the institution's maintained calendar
(`service.calendar.calendars_of`), the offline `microcredit schedule`
command `offline_calendars` (the chinesecalendar package's data).

A due date in a year the calendar does not cover is moved for weekends only;
the core reports one ``calendar_not_covered`` warning per such year, and the
quote shows them as one warning naming the years, in the caller's language.

Amounts are `Money` all the way: the schema parsed them at the edge and serialises
them at the response, so nothing here converts an amount.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

from microcredit.lending.apr import AprDisclosure
from microcredit.lending.calendar import WEEKENDS_ONLY, BusinessDayRule, HolidayCalendar
from microcredit.lending.daycount import (
    ACT_360,
    ACT_364,
    ACT_365F,
    ACT_ACT_ISDA,
    THIRTY_360,
    DayCount,
    DaysInMonth,
)
from microcredit.lending.diagnostics import EngineWarning
from microcredit.lending.fees import Fee, FeeBasis, FeeCharge, FeeKind, Payee
from microcredit.lending.money import Money, RoundingMode, RoundingPolicy, percent
from microcredit.lending.periods import DueDateRule, Frequency, PeriodSpec, PeriodUnit
from microcredit.lending.revolving import (
    DayCounting,
    Movement,
    MovementKind,
    RevolvingStatement,
    RevolvingTerms,
    accrue_revolving,
)
from microcredit.lending.schedule import (
    InterestCalculation,
    InterestMethod,
    LoanTerms,
    RepaymentMethod,
    Schedule,
    build_schedule,
)
from microcredit.products.calendars import package_calendar
from microcredit.products.errors import QuoteInvalid, UnknownCalendar
from microcredit.products.schemas import (
    AprRead,
    FeeLineRead,
    InstallmentRead,
    LoanDescription,
    QuoteRead,
    SegmentRead,
    TotalsRead,
    WarningRead,
)

__all__ = ["CALENDAR_NOT_COVERED", "CalendarProvider", "loan_terms", "offline_calendars", "quote"]

# (name, first day, last day) -> the calendar called `name` with its data for those days' years.
CalendarProvider = Callable[[str, date, date], HolidayCalendar]
CALENDAR_NOT_COVERED = "calendar_not_covered"


def offline_calendars(name: str, first: date, last: date) -> HolidayCalendar:
    """The chinesecalendar package's data ("cn") or weekends only ("none"), for quoting without a database."""
    if name == "none":
        return WEEKENDS_ONLY
    if name == "cn":
        return package_calendar()
    raise UnknownCalendar(name)


_DAY_COUNTS: dict[str, DayCount] = {
    "ACT/360": ACT_360,
    "ACT/365F": ACT_365F,
    "ACT/364": ACT_364,
    "ACT/ACT": ACT_ACT_ISDA,
    "30/360": THIRTY_360,
}


def _day_count(description: LoanDescription) -> DayCount:
    base = _DAY_COUNTS[description.day_count]
    if description.days_in_month == "30" and base.days_in_month is DaysInMonth.ACTUAL:
        return DayCount(DaysInMonth.THIRTY, base.days_in_year)
    return base


def _fees(description: LoanDescription) -> tuple[Fee, ...]:
    return tuple(
        Fee(
            name=item.name,
            kind=FeeKind(item.kind),
            payee=Payee(item.payee),
            amount=item.amount,
            rate=percent(item.percent) if item.percent is not None else None,
            basis=FeeBasis(item.basis),
            waivable=item.waivable,
        )
        for item in description.fees
    )


def _periods(description: LoanDescription) -> tuple[PeriodSpec, RepaymentMethod]:
    """Period layout and core repayment method of a description."""
    method = description.repayment_method
    unit = PeriodUnit(description.period_unit)
    rule = BusinessDayRule(description.business_day_rule)
    twentieth = description.interest_dates == "twentieth_of_quarter_end"
    if method == "bullet":
        frequency, count, core = Frequency(unit, description.term), 1, RepaymentMethod.BULLET
    elif method == "interest_quarterly_principal_at_maturity":
        frequency, count = Frequency.quarterly(), description.term // 3
        core = RepaymentMethod.INTEREST_ONLY
    else:
        every = description.repayment_every
        frequency, count = Frequency(unit, every), description.term // every
        core = (
            RepaymentMethod.INTEREST_ONLY
            if method == "interest_monthly_principal_at_maturity"
            else RepaymentMethod(method)
        )
    spec = PeriodSpec(
        start=description.start_date,
        frequency=frequency,
        count=count,
        first_due_date=None if twentieth else description.first_due_date,
        due_date_rule=DueDateRule.TWENTIETH_OF_PERIOD_END if twentieth else DueDateRule.ANNIVERSARY,
        business_day_rule=rule,
    )
    return spec, core


def loan_terms(description: LoanDescription) -> LoanTerms:
    """The lending core's terms for a (non-revolving) loan description."""
    try:
        spec, method = _periods(description)
        return LoanTerms(
            principal=description.amount,
            annual_rate=percent(description.annual_rate),
            periods=spec,
            method=method,
            interest_method=InterestMethod(description.interest_method),
            interest_calculation=InterestCalculation(description.interest_calculation),
            day_count=_day_count(description),
            rounding=RoundingPolicy(description.currency, RoundingMode(description.rounding)),
            installment_multiple=description.installment_multiple,
            grace_on_principal=description.grace_on_principal_periods,
            grace_on_interest_payment=description.grace_on_interest_payment_periods,
            interest_free_periods=description.interest_free_periods,
            fees=_fees(description),
        )
    except ValueError as exc:
        raise QuoteInvalid(str(exc)) from exc


def _rate_text(rate: Decimal) -> str:
    return f"{rate:f}"


def _apr(disclosure: AprDisclosure) -> AprRead:
    return AprRead(
        nominal_annual_rate_percent=_rate_text((disclosure.nominal_annual_rate * 100).normalize()),
        apr_percent=_rate_text(disclosure.apr_percent),
        apr=_rate_text(disclosure.apr),
        ear_percent=_rate_text(disclosure.ear_percent),
        periodic_rate=_rate_text(disclosure.periodic_rate),
        periods_per_year=_rate_text(disclosure.periods_per_year.normalize()),
        method=disclosure.method.value,
        day_basis=disclosure.day_basis,
    )


def _fee_lines(charges: tuple[FeeCharge, ...]) -> list[FeeLineRead]:
    return [
        FeeLineRead(
            name=c.name,
            kind=c.kind.value,
            payee=c.payee.value,
            per_charge=c.per_charge,
            charges=c.charges,
            total=c.total,
            waivable=c.waivable,
            basis=c.basis.value,
        )
        for c in charges
    ]


def _years_text(years: list[int], language: str) -> str:
    return ("、" if language.lower().startswith("zh") else ", ").join(str(y) for y in years)


def _warnings(warnings: tuple[EngineWarning, ...], language: str) -> list[WarningRead]:
    """The core's warnings, its per-year calendar warnings made one that names every uncovered year."""
    out: list[WarningRead] = []
    uncovered = [w for w in warnings if w.code == CALENDAR_NOT_COVERED]
    for w in warnings:
        if w.code != CALENDAR_NOT_COVERED:
            out.append(WarningRead(code=w.code, message=w.message, on=w.on))
        elif w is uncovered[0]:
            years = sorted({u.on.year for u in uncovered if u.on is not None})
            text = _years_text(years, language)
            message = (f"节假日日历缺少 {text} 年的数据：这些年份的还款日仅按周末顺延，请管理员维护日历"
                       if language.lower().startswith("zh") else
                       f"The holiday calendar has no data for {text}: due dates in those years are moved "
                       "for weekends only until an administrator maintains the calendar")
            out.append(WarningRead(code=w.code, message=message, on=w.on, years=years))
    return out


def installment_rows(schedule: Schedule) -> list[InstallmentRead]:
    """A schedule's rows as the API writes them."""
    return [
        InstallmentRead(
            number=row.number, due_date=row.due_date, period_start=row.period_start, period_end=row.period_end,
            days=row.days, principal=row.principal, interest=row.interest, fees=row.fees, total=row.total,
            balance_after=row.balance_after,
        )
        for row in schedule.installments
    ]


def _schedule_quote(description: LoanDescription, schedule: Schedule, language: str) -> QuoteRead:
    totals = schedule.totals
    try:
        disclosure = schedule.disclosure
    except ValueError as exc:
        raise QuoteInvalid(str(exc)) from exc
    return QuoteRead(
        currency=description.currency,
        repayment_method=description.repayment_method,
        installments=installment_rows(schedule),
        totals=TotalsRead(
            principal=totals.principal,
            interest=totals.interest,
            fees=totals.fees,
            total_payable=totals.total_payable,
            upfront_fees_deducted=totals.upfront_fees_deducted,
            paid_at_disbursement=totals.paid_at_disbursement,
            net_cash_received=totals.net_cash_received,
            total_cost_of_credit=totals.total_cost_of_credit,
        ),
        fees=_fee_lines(schedule.fee_charges),
        apr=_apr(disclosure),
        warnings=_warnings(schedule.warnings, language),
    )


def _revolving_quote(description: LoanDescription) -> QuoteRead:
    policy = RoundingPolicy(description.currency, RoundingMode(description.rounding))
    terms = RevolvingTerms(
        annual_rate=percent(description.annual_rate),
        day_count=_day_count(description),
        counting=DayCounting(description.day_counting),
        rounding=policy,
    )
    movements = [Movement(m.on, MovementKind(m.kind), m.amount) for m in description.movements]
    try:
        statement: RevolvingStatement = accrue_revolving(movements, terms, description.settle_on)
        disclosure = statement.disclosure
    except ValueError as exc:
        raise QuoteInvalid(str(exc)) from exc
    drawn = Money.total((m.amount for m in movements if m.kind is MovementKind.DRAW), policy.currency)
    payable = drawn + statement.total_interest
    zero = policy.zero
    return QuoteRead(
        currency=description.currency,
        repayment_method=description.repayment_method,
        installments=[],
        segments=[
            SegmentRead(
                start=s.start,
                end=s.end,
                days=s.days,
                balance=s.balance,
                interest=s.interest,
            )
            for s in statement.segments
        ],
        totals=TotalsRead(
            principal=drawn,
            interest=statement.total_interest,
            fees=zero,
            total_payable=payable,
            upfront_fees_deducted=zero,
            paid_at_disbursement=zero,
            net_cash_received=drawn,
            total_cost_of_credit=statement.total_interest,
        ),
        fees=[],
        apr=_apr(disclosure),
        warnings=[],
    )


def calendar_span(terms: LoanTerms) -> tuple[date, date]:
    """The days whose holidays can matter to a loan: its start to a year after its maturity.

    A due date is moved at most a few weeks past the term's end (a long holiday), so the
    year after maturity is enough for any business-day rule.
    """
    try:
        maturity = terms.periods.maturity
        return date(terms.periods.start.year, 1, 1), date(maturity.year + 1, 12, 31)
    except (ValueError, OverflowError) as exc:
        raise QuoteInvalid(str(exc)) from exc


def quote(*, description: LoanDescription, calendars: CalendarProvider, language: str = "en") -> QuoteRead:
    """The repayment schedule, totals, fees, APR and warnings of a loan description."""
    if description.repayment_method == "revolving_daily":
        return _revolving_quote(description)
    terms = loan_terms(description)
    calendar = calendars(description.calendar, *calendar_span(terms)) if description.business_day_rule != "none" \
        else WEEKENDS_ONLY
    try:
        schedule = build_schedule(terms, calendar=calendar)
    except ValueError as exc:
        raise QuoteInvalid(str(exc)) from exc
    return _schedule_quote(description, schedule, language)
