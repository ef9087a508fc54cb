"""The exact equal-installment core (`annuity_rows`) is what the full schedule puts in its rows."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from microcredit.lending.calendar import WEEKENDS_ONLY
from microcredit.lending.daycount import YearFraction
from microcredit.lending.money import Money, RoundingMode, RoundingPolicy
from microcredit.lending.periods import Frequency, PeriodSpec
from microcredit.lending.schedule import annuity_rows, build_schedule, period_rate

from .support import fen, make_terms

# Source: docs/domain.md §4.1 (等额本息, 10,000 at 1 % a month over 12 months), in fen.
#   k   payment  interest  principal  balance after
DOMAIN_4_1 = """
    1    88849    10000     78849     921151
    2    88849     9212     79637     841514
    3    88849     8415     80434     761080
    4    88849     7611     81238     679842
    5    88849     6798     82051     597791
    6    88849     5978     82871     514920
    7    88849     5149     83700     431220
    8    88849     4312     84537     346683
    9    88849     3467     85382     261301
   10    88849     2613     86236     175065
   11    88849     1751     87098      87967
   12    88847      880     87967          0
"""


def _rows(text: str) -> list[tuple[int, ...]]:
    return [tuple(int(cell) for cell in line.split()) for line in text.strip().splitlines()]


def test_the_worked_example_row_by_row() -> None:
    rows = annuity_rows(Money(1_000_000, "CNY"), (1, 100), 12, mode=RoundingMode.HALF_UP)
    assert rows == _rows(DOMAIN_4_1)
    # The rows chain: each balance is the last one less the principal part, and each payment
    # is interest + principal; the principal parts repay 10,000.00 to the fen (661.86 of interest).
    balance = 1_000_000
    for _, payment, interest, principal, after in rows:
        assert payment == interest + principal
        assert after == balance - principal
        balance = after
    assert sum(r[3] for r in rows) == 1_000_000
    assert sum(r[2] for r in rows) == 66186


def test_the_rounding_mode_is_the_callers() -> None:
    # Month 2's interest is 9,211.51 x 1 % = 92.1151: 92.12 half-up, 92.11 down (docs/domain.md §4.1).
    half_up = annuity_rows(Money(1_000_000, "CNY"), (1, 100), 12, mode=RoundingMode.HALF_UP)
    down = annuity_rows(Money(1_000_000, "CNY"), (1, 100), 12, mode=RoundingMode.DOWN)
    assert half_up is not None
    assert down is not None
    assert (half_up[1][2], down[1][2]) == (9212, 9211)
    assert down[0][1] == 88848  # 888.4879 rounded down


def test_where_the_fast_path_does_not_apply_the_schedule_still_comes_out_right() -> None:
    # annuity_rows declines (None) for an interest-free loan and a single period; build_schedule
    # then takes the general loop, which must still repay the principal exactly.
    assert annuity_rows(Money(1_000_000, "CNY"), (0, 1), 12, mode=RoundingMode.HALF_UP) is None
    assert annuity_rows(Money(1_000_000, "CNY"), (1, 100), 1, mode=RoundingMode.HALF_UP) is None
    start = date(2025, 1, 15)
    free = build_schedule(
        make_terms(principal="10000.00", annual_rate=Decimal(0), periods=PeriodSpec(start, Frequency.monthly(), 12)),
        calendar=WEEKENDS_ONLY,
    )
    # 10,000 / 12 = 833.333...: eleven 833.33 and a last 833.37, no interest.
    assert [r.total for r in free.installments] == [fen(83333)] * 11 + [fen(83337)]
    single = build_schedule(
        make_terms(principal="10000", annual_rate=Decimal("0.12"), periods=PeriodSpec(start, Frequency.monthly(), 1)),
        calendar=WEEKENDS_ONLY,
    )
    assert [(r.principal, r.interest) for r in single.installments] == [(fen(1_000_000), fen(10000))]


@settings(max_examples=150, deadline=None)
@given(units=st.integers(100_000, 20_000_000), bp=st.integers(1, 3600), months=st.integers(2, 60),
       start=st.dates(date(2024, 1, 1), date(2027, 12, 31)), mode=st.sampled_from(list(RoundingMode)))
def test_core_rows_are_the_schedules_rows(units: int, bp: int, months: int, start: date, mode: RoundingMode) -> None:
    rate = Decimal(bp).scaleb(-4)
    core = annuity_rows(fen(units), period_rate(rate, YearFraction(1, 12)), months, mode=mode)
    schedule = build_schedule(
        make_terms(principal=fen(units), annual_rate=rate, periods=PeriodSpec(start, Frequency.monthly(), months),
                   rounding=RoundingPolicy("CNY", mode)),
        calendar=WEEKENDS_ONLY,
    )
    full = [(i.number, i.total_minor, i.interest_minor, i.principal_minor, i.balance_after_minor)
            for i in schedule.installments]
    assert core == full
    assert sum(r[3] for r in full) == units
