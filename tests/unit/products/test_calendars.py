"""The chinesecalendar adapter: holidays, make-up working days, and the fallback beyond 2026."""

from __future__ import annotations

from datetime import date

import pytest

from microcredit.lending.calendar import BusinessDayRule, adjust, is_business_day
from microcredit.products.calendars import calendar_for, china_calendar
from microcredit.products.errors import UnknownCalendar


def test_covered_years_come_from_the_package_data() -> None:
    cn = china_calendar()
    assert min(cn.covered_years) == 2004
    assert 2026 in cn.covered_years
    assert 2027 not in cn.covered_years


def test_national_day_2025_following_goes_to_october_9() -> None:
    # Source: State Council notice for 2025 (国办发明电〔2024〕12号): 10-01..10-08 off.
    assert adjust(date(2025, 10, 1), BusinessDayRule.FOLLOWING, china_calendar()).adjusted == date(2025, 10, 9)


def test_make_up_working_days_are_business_days() -> None:
    cn = china_calendar()
    assert is_business_day(date(2025, 9, 28), cn)  # Sunday, 调休 working day
    assert is_business_day(date(2025, 10, 11), cn)  # Saturday, 调休 working day
    assert not is_business_day(date(2025, 10, 4), cn)
    assert not is_business_day(date(2025, 1, 1), cn)


def test_2027_falls_back_to_weekends_with_a_warning() -> None:
    result = adjust(date(2027, 10, 1), BusinessDayRule.FOLLOWING, china_calendar())
    assert result.adjusted == date(2027, 10, 1)
    assert [w.code for w in result.warnings] == ["calendar_not_covered"]


def test_calendar_names() -> None:
    assert calendar_for("cn") is china_calendar()
    assert calendar_for("none").covers_all_years
    with pytest.raises(UnknownCalendar):
        calendar_for("mars")
