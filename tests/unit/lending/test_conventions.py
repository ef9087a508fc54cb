"""Day counts, due dates, month ends, broken periods and business-day adjustment."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from microcredit.lending.calendar import (
    WEEKENDS_ONLY,
    BusinessDayRule,
    HolidayCalendar,
    adjust,
    is_business_day,
    year_spans,
)
from microcredit.lending.daycount import (
    ACT_360,
    ACT_364,
    ACT_365F,
    ACT_ACT_ISDA,
    THIRTY_360,
    DayCount,
    DaysInMonth,
    DaysInYear,
    YearFraction,
    interest_for,
)
from microcredit.lending.periods import (
    DueDateRule,
    Frequency,
    MonthEndRule,
    PeriodSpec,
    PeriodUnit,
    add_units,
    generate_periods,
)
from microcredit.lending.revolving import DayCounting, Movement, MovementKind, RevolvingTerms, accrue_revolving
from microcredit.lending.schedule import RepaymentMethod, build_schedule

from .support import CNY, cny, make_terms

D = Decimal

# The 2025 National Day / Mid-Autumn holiday as published by the State Council
# (国办发明电〔2024〕12号): off 10-01..10-08, make-up working days Sun 09-28 and Sat 10-11.
GOLDEN_WEEK_2025 = HolidayCalendar(
    name="cn-2025-excerpt",
    holidays=frozenset(date(2025, 10, d) for d in range(1, 9))
    | frozenset({date(2025, 5, 31), date(2025, 6, 1), date(2025, 6, 2)}),
    working_days=frozenset({date(2025, 9, 28), date(2025, 10, 11)}),
    covered_years=frozenset({2025}),
)


# Source: ISDA 2006 Definitions §4.16 (day count fractions) and the conventions table of
# lending/daycount.py.
#   convention      start        end          fraction
YEAR_FRACTIONS = [
    (ACT_365F, date(2025, 1, 10), date(2025, 2, 10), YearFraction(31, 365)),
    (ACT_360, date(2025, 1, 10), date(2025, 2, 10), YearFraction(31, 360)),
    (ACT_364, date(2025, 1, 10), date(2025, 2, 10), YearFraction(31, 364)),
    (
        ACT_ACT_ISDA,
        date(2023, 12, 1),
        date(2024, 1, 31),
        YearFraction(31 * 366 + 30 * 365, 365 * 366),
    ),
    (THIRTY_360, date(2025, 1, 15), date(2025, 2, 15), YearFraction(30, 360)),
    (THIRTY_360, date(2025, 1, 31), date(2025, 2, 28), YearFraction(28, 360)),
    (THIRTY_360, date(2025, 1, 30), date(2025, 3, 31), YearFraction(60, 360)),
    (THIRTY_360, date(2025, 1, 31), date(2025, 3, 31), YearFraction(60, 360)),
    (THIRTY_360, date(2024, 12, 31), date(2025, 12, 31), YearFraction(360, 360)),
]


@pytest.mark.parametrize(("convention", "start", "end", "fraction"), YEAR_FRACTIONS)
def test_year_fractions(convention: DayCount, start: date, end: date, fraction: YearFraction) -> None:
    assert convention.year_fraction(start, end) == fraction


def test_day_count_names_and_bases() -> None:
    assert [c.name for c in (ACT_365F, ACT_360, ACT_364, ACT_ACT_ISDA, THIRTY_360)] == [
        "ACT/365F",
        "ACT/360",
        "ACT/364",
        "ACT/ACT ISDA",
        "30/360",
    ]
    with pytest.raises(ValueError, match="fixed year"):
        DayCount(DaysInMonth.THIRTY, DaysInYear.ACTUAL)


def test_interest_for_twenty_days_on_each_basis() -> None:
    # Source: docs/domain.md §4.4/§4.5: 10,000 x 12 % x 20 days / 360 = 66.67; /365 = 65.75.
    twenty_days = (date(2025, 3, 1), date(2025, 3, 21))
    assert interest_for(cny("10000"), D("0.12"), ACT_360.year_fraction(*twenty_days), CNY) == cny("66.67")
    assert interest_for(cny("10000"), D("0.12"), ACT_365F.year_fraction(*twenty_days), CNY) == cny("65.75")


# Month-end rule: due dates derive from the anchor, never chained.
#   anchor        months  rule            expected
MONTH_ENDS = [
    (date(2025, 1, 31), 1, MonthEndRule.SAME_DAY, date(2025, 2, 28)),
    (date(2024, 1, 31), 1, MonthEndRule.SAME_DAY, date(2024, 2, 29)),
    (date(2025, 1, 31), 2, MonthEndRule.SAME_DAY, date(2025, 3, 31)),
    (date(2025, 1, 31), 3, MonthEndRule.SAME_DAY, date(2025, 4, 30)),
    (date(2025, 1, 30), 1, MonthEndRule.SAME_DAY, date(2025, 2, 28)),
    (date(2025, 2, 28), 1, MonthEndRule.SAME_DAY, date(2025, 3, 28)),
    (date(2025, 2, 28), 1, MonthEndRule.END_OF_MONTH, date(2025, 3, 31)),
    (date(2025, 4, 30), 1, MonthEndRule.END_OF_MONTH, date(2025, 5, 31)),
    (date(2025, 4, 29), 1, MonthEndRule.END_OF_MONTH, date(2025, 5, 29)),
    (date(2025, 11, 30), 3, MonthEndRule.SAME_DAY, date(2026, 2, 28)),
]


@pytest.mark.parametrize(("anchor", "months", "rule", "expected"), MONTH_ENDS)
def test_month_end_rule(anchor: date, months: int, rule: MonthEndRule, expected: date) -> None:
    assert add_units(anchor, PeriodUnit.MONTH, months, rule) == expected


def test_due_dates_go_back_to_the_31st_when_the_month_allows() -> None:
    plan = generate_periods(PeriodSpec(date(2025, 1, 31), Frequency.monthly(), 4), WEEKENDS_ONLY)
    assert [p.end for p in plan.periods] == [
        date(2025, 2, 28),
        date(2025, 3, 31),
        date(2025, 4, 30),
        date(2025, 5, 31),
    ]


def test_weekly_biweekly_daily_and_every_n_frequencies() -> None:
    start = date(2025, 1, 6)
    for frequency, step in (
        (Frequency.weekly(), 7),
        (Frequency.biweekly(), 14),
        (Frequency.daily(), 1),
        (Frequency(PeriodUnit.DAY, 10), 10),
    ):
        plan = generate_periods(PeriodSpec(start, frequency, 3), WEEKENDS_ONLY)
        assert [p.end for p in plan.periods] == [start + timedelta(days=step * k) for k in (1, 2, 3)]
    yearly = generate_periods(PeriodSpec(date(2024, 2, 29), Frequency(PeriodUnit.YEAR), 2), WEEKENDS_ONLY)
    assert [p.end for p in yearly.periods] == [date(2025, 2, 28), date(2026, 2, 28)]


def test_broken_first_period_bears_interest_on_actual_days() -> None:
    spec = PeriodSpec(date(2025, 1, 10), Frequency.monthly(), 3, first_due_date=date(2025, 2, 20))
    plan = generate_periods(spec, WEEKENDS_ONLY)
    assert [(p.start, p.end, p.days, p.regular) for p in plan.periods] == [
        (date(2025, 1, 10), date(2025, 2, 20), 41, False),
        (date(2025, 2, 20), date(2025, 3, 20), 28, True),
        (date(2025, 3, 20), date(2025, 4, 20), 31, True),
    ]
    schedule = build_schedule(
        make_terms(
            principal="10000.00",
            annual_rate=D("0.12"),
            periods=spec,
            method=RepaymentMethod.INTEREST_ONLY,
            day_count=ACT_360,
        ),
        calendar=WEEKENDS_ONLY,
    )
    # 41 actual days on ACT/360: 10,000 x 0.12 x 41/360 = 136.666... -> 136.67; then 1 % a month.
    assert [r.interest for r in schedule.installments] == [cny("136.67"), cny("100.00"), cny("100.00")]
    assert not schedule.regular
    assert schedule.disclosure.method.value == "xirr_days"


def test_twentieth_of_quarter_end_dates_and_interest() -> None:
    # Source: docs/domain.md §4.3 (人民币利率管理规定 Art. 20: settle on 3/20, 6/20, 9/20, 12/20).
    spec = PeriodSpec(
        date(2025, 1, 10),
        Frequency.quarterly(),
        4,
        due_date_rule=DueDateRule.TWENTIETH_OF_PERIOD_END,
    )
    plan = generate_periods(spec, WEEKENDS_ONLY)
    assert [(p.end, p.regular) for p in plan.periods] == [
        (date(2025, 3, 20), False),
        (date(2025, 6, 20), True),
        (date(2025, 9, 20), True),
        (date(2025, 12, 20), True),
        (date(2026, 1, 10), False),
    ]
    rows = build_schedule(
        make_terms(
            principal="10000.00",
            annual_rate=D("0.12"),
            periods=spec,
            method=RepaymentMethod.INTEREST_ONLY,
            day_count=ACT_360,
        ),
        calendar=WEEKENDS_ONLY,
    ).installments
    # Broken ends on actual days: 69 days (01-10 -> 03-20) and 21 days (12-20 -> 01-10) at 12/360.
    assert [r.interest for r in rows] == [cny(v) for v in ("230.00", "300.00", "300.00", "300.00", "70.00")]


@pytest.mark.parametrize(
    ("day", "rule", "expected"),
    [
        # A due date on the first day of the National Day holiday moves to Thursday 10-09.
        (date(2025, 10, 1), BusinessDayRule.FOLLOWING, date(2025, 10, 9)),
        (date(2025, 10, 1), BusinessDayRule.PRECEDING, date(2025, 9, 30)),
        (date(2025, 10, 1), BusinessDayRule.NONE, date(2025, 10, 1)),
        # Make-up working days (a Sunday and a Saturday) are business days.
        (date(2025, 9, 28), BusinessDayRule.FOLLOWING, date(2025, 9, 28)),
        (date(2025, 10, 11), BusinessDayRule.PRECEDING, date(2025, 10, 11)),
        # Saturday 05-31 is a holiday; following would leave May, so modified following goes back.
        (date(2025, 5, 31), BusinessDayRule.FOLLOWING, date(2025, 6, 3)),
        (date(2025, 5, 31), BusinessDayRule.MODIFIED_FOLLOWING, date(2025, 5, 30)),
        # Wednesday 10-08 is still a holiday: preceding goes back to 09-30 ...
        (date(2025, 10, 8), BusinessDayRule.PRECEDING, date(2025, 9, 30)),
        # ... and modified preceding stays in October: the 9th.
        (date(2025, 10, 8), BusinessDayRule.MODIFIED_PRECEDING, date(2025, 10, 9)),
        # An ordinary Saturday moves to Monday.
        (date(2025, 3, 15), BusinessDayRule.FOLLOWING, date(2025, 3, 17)),
    ],
)
def test_business_day_adjustment_over_chinese_holidays(day: date, rule: BusinessDayRule, expected: date) -> None:
    result = adjust(day, rule, GOLDEN_WEEK_2025)
    assert result.adjusted == expected
    assert result.unadjusted == day
    assert result.warnings == ()


def test_dates_outside_the_covered_years_fall_back_to_weekends_with_a_warning() -> None:
    # 2027-10-01 is a Friday: without holiday data it is a business day, and the result says so.
    result = adjust(date(2027, 10, 1), BusinessDayRule.FOLLOWING, GOLDEN_WEEK_2025)
    assert result.adjusted == date(2027, 10, 1)
    assert [w.code for w in result.warnings] == ["calendar_not_covered"]
    assert "2027" in result.warnings[0].message
    assert is_business_day(date(2027, 10, 2), GOLDEN_WEEK_2025) is False


def test_the_warning_states_covered_years_as_runs_even_with_a_gap() -> None:
    # An institution may enter 2028 before 2027: "covers 2025-2028" would misstate it.
    gapped = HolidayCalendar("gapped", covered_years=frozenset({2025, 2026, 2028}))
    [warning] = adjust(date(2027, 10, 2), BusinessDayRule.FOLLOWING, gapped).warnings
    assert "covers 2025-2026, 2028;" in warning.message
    assert year_spans([2004, 2005, 2006, 2010, 2012, 2013]) == "2004-2006, 2010, 2012-2013"
    assert year_spans([]) == ""


def test_schedule_into_uncovered_years_warns_once_per_year_and_does_not_crash() -> None:
    spec = PeriodSpec(
        date(2025, 6, 1),
        Frequency.monthly(),
        30,
        business_day_rule=BusinessDayRule.FOLLOWING,
    )
    schedule = build_schedule(
        make_terms(principal="5000.00", annual_rate=D("0.10"), periods=spec), calendar=GOLDEN_WEEK_2025
    )
    warned = sorted(w.on.year for w in schedule.warnings if w.code == "calendar_not_covered" and w.on)
    assert warned == [2026, 2027]
    assert len(schedule.installments) == 30


def test_holidays_move_the_due_date_but_not_the_interest() -> None:
    spec = PeriodSpec(date(2025, 8, 1), Frequency.monthly(), 3, first_due_date=date(2025, 10, 1))
    moved = PeriodSpec(
        date(2025, 8, 1),
        Frequency.monthly(),
        3,
        first_due_date=date(2025, 10, 1),
        business_day_rule=BusinessDayRule.FOLLOWING,
    )
    base = build_schedule(make_terms(principal="9000", annual_rate=D("0.09"), periods=spec), calendar=WEEKENDS_ONLY)
    adjusted = build_schedule(
        make_terms(principal="9000", annual_rate=D("0.09"), periods=moved), calendar=GOLDEN_WEEK_2025
    )
    assert adjusted.installments[0].due_date == date(2025, 10, 9)
    assert [(r.principal, r.interest) for r in adjusted.installments] == [
        (r.principal, r.interest) for r in base.installments
    ]


def test_calendar_refuses_a_day_both_holiday_and_working_day() -> None:
    day = date(2025, 10, 1)
    with pytest.raises(ValueError, match="both holiday and working day"):
        HolidayCalendar("bad", holidays=frozenset({day}), working_days=frozenset({day}))


def test_dates_beyond_the_year_9999_are_refused_as_values_not_overflows() -> None:
    # Weekly and daily due dates past 9999-12-31 raised OverflowError (an HTTP 500 from the
    # public calculator); month arithmetic already refused them with a ValueError.
    weekly = make_terms(
        principal="100.00",
        annual_rate=Decimal("0.12"),
        periods=PeriodSpec(date(9999, 12, 14), Frequency.weekly(), 6),
    )
    with pytest.raises(ValueError, match="9999"):
        build_schedule(weekly, calendar=WEEKENDS_ONLY)
    with pytest.raises(ValueError, match="9999"):
        add_units(date(9999, 12, 30), PeriodUnit.DAY, 2)
    last_day_off = HolidayCalendar("end", holidays=frozenset({date(9999, 12, 31)}), covered_years=frozenset({9999}))
    with pytest.raises(ValueError, match="9999"):
        adjust(date(9999, 12, 31), BusinessDayRule.FOLLOWING, last_day_off)
    draw = Movement(date(9999, 12, 31), MovementKind.DRAW, cny("100.00"))
    repay = Movement(date(9999, 12, 31), MovementKind.REPAYMENT, cny("100.00"))
    line = RevolvingTerms(annual_rate=Decimal("0.12"), day_count=ACT_360, counting=DayCounting.BOTH_ENDS, rounding=CNY)
    with pytest.raises(ValueError, match="9999"):
        accrue_revolving([draw, repay], line)
