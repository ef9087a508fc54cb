"""The exact equal-installment core (`annuity_rows`) is what the full schedule puts in its rows."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from microcredit.lending.daycount import YearFraction
from microcredit.lending.money import RoundingMode, to_minor
from microcredit.lending.periods import Frequency, PeriodSpec
from microcredit.lending.schedule import LoanTerms, annuity_rows, build_schedule, period_rate


def test_the_worked_example():
    # DOMAIN.md §4.1: 10,000 at 1 % a month over 12 months: 888.49 eleven times, 888.47 last, interest 661.86.
    rows = annuity_rows(1_000_000, (1, 100), 12)
    assert rows is not None
    assert rows[0] == (1, 88849, 10000, 78849, 921151)
    assert [r[1] for r in rows[:-1]] == [88849] * 11
    assert rows[-1] == (12, 88847, 880, 87967, 0)
    assert sum(r[2] for r in rows) == 66186


def test_no_rows_when_the_fast_path_does_not_apply():
    assert annuity_rows(1_000_000, (0, 1), 12) is None  # interest-free: the general loop
    assert annuity_rows(1_000_000, (1, 100), 1) is None


@settings(max_examples=150, deadline=None)
@given(fen=st.integers(100_000, 20_000_000), bp=st.integers(1, 3600), months=st.integers(2, 60),
       start=st.dates(date(2024, 1, 1), date(2027, 12, 31)))
def test_core_rows_are_the_schedules_rows(fen, bp, months, start):
    principal, rate = Decimal(fen).scaleb(-2), Decimal(bp).scaleb(-4)
    core = annuity_rows(fen, period_rate(rate, YearFraction(1, 12)), months, RoundingMode.HALF_UP)
    schedule = build_schedule(LoanTerms(principal=principal, annual_rate=rate,
                                        periods=PeriodSpec(start, Frequency.monthly(), months)))
    full = [(i.number, to_minor(i.total, 2), to_minor(i.interest, 2), to_minor(i.principal, 2),
             to_minor(i.balance_after, 2)) for i in schedule.installments]
    assert core == full
    assert sum(r[3] for r in core) == fen
