"""The chinesecalendar package as seed data: its days, names and years, and its calendar for offline quotes."""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar
import pytest

from microcredit.lending.calendar import BusinessDayRule, adjust, is_business_day
from microcredit.products.calendars import package_calendar, package_data
from microcredit.products.errors import UnknownCalendar
from microcredit.products.service import offline_calendars


def test_covered_years_come_from_the_package_data() -> None:
    years = package_data().years
    assert min(years) == 2004
    assert 2026 in years
    assert 2027 not in years
    assert years == frozenset(range(2004, max(years) + 1))


def test_days_carry_their_kind_and_names_in_both_languages() -> None:
    by_day = {d.day: d for d in package_data().days}
    spring = by_day[date(2025, 1, 28)]
    assert (spring.kind, spring.name_zh, spring.name_en) == ("holiday", "春节", "Spring Festival")
    make_up = by_day[date(2025, 1, 26)]  # Sunday worked for the Spring Festival
    assert (make_up.kind, make_up.name_zh) == ("working_day", "春节")
    assert by_day[date(2025, 10, 1)].name_zh == "国庆节"
    assert all(d.day.weekday() >= 5 for d in package_data().days if d.kind == "working_day")


def test_the_package_calendar_agrees_with_the_package_every_day_of_the_covered_years() -> None:
    cn = package_calendar()
    day = date(2004, 1, 1)
    while day <= date(2026, 12, 31):
        assert is_business_day(day, cn) == chinese_calendar.is_workday(day), day
        day += timedelta(days=1)


def test_national_day_2025_following_goes_to_october_9() -> None:
    # Source: State Council notice for 2025 (国办发明电〔2024〕12号): 10-01..10-08 off.
    assert adjust(date(2025, 10, 1), BusinessDayRule.FOLLOWING, package_calendar()).adjusted == date(2025, 10, 9)


def test_2027_falls_back_to_weekends_with_a_warning() -> None:
    result = adjust(date(2027, 10, 1), BusinessDayRule.FOLLOWING, package_calendar())
    assert result.adjusted == date(2027, 10, 1)
    assert [w.code for w in result.warnings] == ["calendar_not_covered"]
    assert "2004-2026" in result.warnings[0].message


def test_offline_calendar_names() -> None:
    assert offline_calendars("cn", date(2025, 1, 1), date(2025, 12, 31)) is package_calendar()
    assert offline_calendars("none", date(2025, 1, 1), date(2025, 12, 31)).covers_all_years
    with pytest.raises(UnknownCalendar):
        offline_calendars("mars", date(2025, 1, 1), date(2025, 12, 31))
