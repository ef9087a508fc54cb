"""The institution's calendar as a service: seeding, edits, the core's calendar value, and quotes.

2027's days below are invented for the tests (the State Council's notice for 2027 is not in the
package): 春节 holidays Thursday 2027-02-11 and Friday 02-12, and Saturday 02-13 worked instead.
"""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar
import pytest

from microcredit.errors import NotFound
from microcredit.lending.calendar import is_business_day
from microcredit.platform.actor import Actor
from microcredit.products import service as products
from microcredit.products.calendars import package_data
from microcredit.products.errors import (
    CalendarDateOutOfRange,
    CalendarDayExists,
    CalendarNothingToChange,
    WorkingDayNotOnWeekend,
)
from microcredit.products.schemas import LoanDescription
from tests.factories import make_institution
from tests.integration.helpers import audit_records

PACKAGE_YEARS = list(range(2004, 2027))


def _seed(session, runtime, inst):
    return products.calendar.seed(session=session, clock=runtime.clock, actor=Actor.system(inst.id),
                                  institution_id=inst.id)


def _add(session, runtime, inst, day, kind="holiday", name_zh="春节", name_en="Spring Festival"):
    return products.calendar.add_day(session=session, clock=runtime.clock, actor=Actor.system(inst.id),
                                     institution_id=inst.id, day=day, kind=kind, name_zh=name_zh, name_en=name_en)


def _cover(session, runtime, inst, year, covered=True):
    return products.calendar.set_year(session=session, clock=runtime.clock, actor=Actor.system(inst.id),
                                      institution_id=inst.id, year=year, covered=covered)


def _entries(session, inst, year):
    view = products.calendar.year_view(session=session, institution_id=inst.id, year=year)
    return {d.day: (d.kind, d.name_zh, d.source) for d in view.days}


def _quote(session, inst, **changes):
    description = LoanDescription.model_validate({
        "amount": "10000.00", "annual_rate": "12", "repayment_method": "equal_installment", "term": 3,
        "start_date": "2026-11-11", "business_day_rule": "following", "calendar": "cn", **changes})
    return products.quote(description=description, language="en",
                          calendars=products.calendar.calendars_of(session=session, institution_id=inst.id))


def test_seeding_copies_every_covered_year_once(session, runtime):
    inst = make_institution(session, runtime)
    report = _seed(session, runtime, inst)
    assert list(report.years_seeded) == PACKAGE_YEARS
    assert report.days_added == len(package_data().days)
    assert _entries(session, inst, 2025)[date(2025, 1, 28)] == ("holiday", "春节", "seeded")
    assert _entries(session, inst, 2025)[date(2025, 9, 28)] == ("working_day", "国庆节", "seeded")
    assert all(products.calendar.year_view(session=session, institution_id=inst.id, year=y).covered
               for y in PACKAGE_YEARS)
    [record] = audit_records(session, "calendar.seeded", inst.id)
    assert record.after == {"package": f"chinesecalendar {report.package_version}", "years": PACKAGE_YEARS,
                            "days": report.days_added}

    again = _seed(session, runtime, inst)
    assert (again.years_seeded, again.days_added, list(again.years_skipped)) == ((), 0, PACKAGE_YEARS)
    assert len(audit_records(session, "calendar.seeded", inst.id)) == 1


def test_seeding_never_overwrites_what_administrators_did(session, runtime):
    inst = make_institution(session, runtime)
    # Before the first seed: a manual entry in a year the package covers, and a year marked by hand.
    _add(session, runtime, inst, date(2025, 10, 1), name_zh="本机构国庆", name_en="Our National Day")
    _cover(session, runtime, inst, 2024, covered=False)
    report = _seed(session, runtime, inst)
    assert 2024 not in report.years_seeded
    assert 2025 in report.years_seeded
    assert _entries(session, inst, 2025)[date(2025, 10, 1)] == ("holiday", "本机构国庆", "manual")
    assert _entries(session, inst, 2025)[date(2025, 10, 2)][2] == "seeded"
    assert _entries(session, inst, 2024) == {}
    assert not products.calendar.year_view(session=session, institution_id=inst.id, year=2024).covered

    # After it: an edited seeded day, a deleted one and an uncovered year stay as the administrator left them.
    view = products.calendar.year_view(session=session, institution_id=inst.id, year=2026)
    edited, deleted = view.days[0], view.days[1]
    products.calendar.update_day(session=session, clock=runtime.clock, actor=Actor.system(inst.id),
                                 institution_id=inst.id, day_id=edited.id, name_zh="元旦（本机构）")
    products.calendar.delete_day(session=session, clock=runtime.clock, actor=Actor.system(inst.id),
                                 institution_id=inst.id, day_id=deleted.id)
    _cover(session, runtime, inst, 2023, covered=False)
    before = {y: _entries(session, inst, y) for y in (2023, 2024, 2025, 2026)}
    again = _seed(session, runtime, inst)
    assert (again.years_seeded, again.days_added) == ((), 0)
    assert {y: _entries(session, inst, y) for y in (2023, 2024, 2025, 2026)} == before
    assert before[2026][edited.day] == ("holiday", "元旦（本机构）", "manual")
    assert deleted.day not in before[2026]
    assert not products.calendar.year_view(session=session, institution_id=inst.id, year=2023).covered


def test_the_calendar_value_is_the_package_every_day_of_2025_and_2026(session, runtime, seeded):
    calendar = products.calendar.holiday_calendar(session=session, institution_id=seeded.id,
                                                  first=date(2025, 1, 1), last=date(2026, 12, 31))
    assert calendar.covered_years == frozenset({2025, 2026})
    day = date(2025, 1, 1)
    while day.year < 2027:
        assert is_business_day(day, calendar) == chinese_calendar.is_workday(day), day
        day += timedelta(days=1)


def test_an_uncovered_year_falls_back_to_weekends_with_a_warning(session, runtime, seeded):
    calendar = products.calendar.holiday_calendar(session=session, institution_id=seeded.id,
                                                  first=date(2026, 1, 1), last=date(2028, 12, 31))
    assert calendar.covered_years == frozenset({2026})
    quote = _quote(session, seeded, term=24)
    assert [(w.code, w.years) for w in quote.warnings] == [("calendar_not_covered", [2027, 2028])]
    assert "2027, 2028" in quote.warnings[0].message
    # A Thursday stays a business day without 2027's data.
    assert quote.installments[2].due_date == date(2027, 2, 11)


def test_entering_a_year_and_marking_it_covered_moves_the_quotes_due_dates(session, runtime, seeded):
    before = _quote(session, seeded)
    assert [r.due_date for r in before.installments] == [date(2026, 12, 11), date(2027, 1, 11), date(2027, 2, 11)]

    for day in (date(2027, 2, 11), date(2027, 2, 12)):
        _add(session, runtime, seeded, day)
    _add(session, runtime, seeded, date(2027, 2, 13), kind="working_day")
    entered = _quote(session, seeded)
    # Entered but not marked covered: the year still counts as unknown.
    assert entered.installments[2].due_date == date(2027, 2, 11)
    assert [w.years for w in entered.warnings] == [[2027]]

    _cover(session, runtime, seeded, 2027)
    covered = _quote(session, seeded)
    # Following: past the two holidays to Saturday the 13th, a make-up working day.
    assert covered.installments[2].due_date == date(2027, 2, 13)
    assert covered.installments[2].period_end == date(2027, 2, 11)  # interest is unchanged
    assert [r.interest for r in covered.installments] == [r.interest for r in before.installments]
    assert covered.warnings == []
    modified = _quote(session, seeded, business_day_rule="preceding")
    assert modified.installments[2].due_date == date(2027, 2, 10)

    _cover(session, runtime, seeded, 2027, covered=False)
    assert _quote(session, seeded).installments[2].due_date == date(2027, 2, 11)


def test_edits_are_checked_and_audited(session, runtime, seeded):
    added = _add(session, runtime, seeded, date(2027, 2, 11))
    [record] = audit_records(session, "calendar.day_added", added.id)
    assert record.after == {"day": "2027-02-11", "kind": "holiday", "name_zh": "春节", "name_en": "Spring Festival",
                            "source": "manual"}
    with pytest.raises(CalendarDayExists) as exists:
        _add(session, runtime, seeded, date(2027, 2, 11))
    assert exists.value.field == "day"
    with pytest.raises(WorkingDayNotOnWeekend) as weekday:
        _add(session, runtime, seeded, date(2027, 2, 9), kind="working_day")  # a Tuesday
    assert weekday.value.field == "kind"
    for day in (date(1999, 12, 31), date(2101, 1, 1)):
        with pytest.raises(CalendarDateOutOfRange):
            _add(session, runtime, seeded, day)

    seeded_day = _entries(session, seeded, 2026)
    first = products.calendar.year_view(session=session, institution_id=seeded.id, year=2026).days[0]
    assert seeded_day[first.day][2] == "seeded"
    changed = products.calendar.update_day(session=session, clock=runtime.clock, actor=Actor.system(seeded.id),
                                           institution_id=seeded.id, day_id=first.id, name_en="New Year")
    assert (changed.name_en, changed.source) == ("New Year", "manual")
    [record] = audit_records(session, "calendar.day_updated", first.id)
    assert record.before == {"name_en": "New Year's Day", "source": "seeded"}
    assert record.after == {"name_en": "New Year", "source": "manual"}
    with pytest.raises(CalendarNothingToChange):
        products.calendar.update_day(session=session, clock=runtime.clock, actor=Actor.system(seeded.id),
                                     institution_id=seeded.id, day_id=first.id, name_en="New Year")
    with pytest.raises(CalendarDayExists):  # moved onto another entry's date
        products.calendar.update_day(session=session, clock=runtime.clock, actor=Actor.system(seeded.id),
                                     institution_id=seeded.id, day_id=added.id, day=first.day)
    with pytest.raises(WorkingDayNotOnWeekend):  # Thursday 2027-02-11 cannot become a working day
        products.calendar.update_day(session=session, clock=runtime.clock, actor=Actor.system(seeded.id),
                                     institution_id=seeded.id, day_id=added.id, kind="working_day")

    other = make_institution(session, runtime)
    with pytest.raises(NotFound):
        products.calendar.delete_day(session=session, clock=runtime.clock, actor=Actor.system(other.id),
                                     institution_id=other.id, day_id=added.id)
    products.calendar.delete_day(session=session, clock=runtime.clock, actor=Actor.system(seeded.id),
                                 institution_id=seeded.id, day_id=added.id)
    [record] = audit_records(session, "calendar.day_deleted", added.id)
    assert record.before is not None
    assert record.before["day"] == "2027-02-11"


def test_marking_a_year_is_audited_once_per_change(session, runtime, seeded):
    view = _cover(session, runtime, seeded, 2027)
    assert view.covered
    assert view.record is not None
    assert view.record.source == "manual"
    _cover(session, runtime, seeded, 2027)
    assert len(audit_records(session, "calendar.year_set", 2027)) == 1
    _cover(session, runtime, seeded, 2025, covered=False)
    [record] = audit_records(session, "calendar.year_set", 2025)
    assert record.before == {"covered": True, "source": "seeded"}
    with pytest.raises(CalendarDateOutOfRange) as out:
        _cover(session, runtime, seeded, 1900)
    assert out.value.field == "year"
