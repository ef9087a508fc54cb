"""The vectorised path equals the exact path to the fen."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from microcredit.lending.batch import BatchLoans, accrue, batch_schedules
from microcredit.lending.calendar import WEEKENDS_ONLY
from microcredit.lending.daycount import ACT_360, ACT_365F, DayCount, YearFraction, interest_for
from microcredit.lending.money import Money, RoundingMode, RoundingPolicy
from microcredit.lending.periods import Frequency, PeriodSpec, PeriodUnit
from microcredit.lending.schedule import LoanTerms, RepaymentMethod, build_schedule

from .support import LENDING, fen, make_terms, start_dates

D = Decimal


def _exact_rows(terms: LoanTerms) -> tuple[tuple[int, Money, Money, Money, Money], ...]:
    return tuple(
        (r.number, r.principal, r.interest, r.total, r.balance_after)
        for r in build_schedule(terms, calendar=WEEKENDS_ONLY).installments
    )


def _assert_same(terms: list[LoanTerms]) -> None:
    batch = batch_schedules(BatchLoans.from_terms(terms))
    for index, loan in enumerate(terms):
        exact = build_schedule(loan, calendar=WEEKENDS_ONLY).installments
        assert batch.amounts(index) == _exact_rows(loan), loan
        dues = batch.due_date[batch.offsets[index] : batch.offsets[index + 1]]
        assert [d.astype(object) for d in dues] == [r.due_date for r in exact]


batch_loan = st.builds(
    lambda cents, rate, count, start, method: (cents, rate, count, start, method),
    st.integers(10_000, 1_000_000_000),
    st.integers(0, 36_000_000),
    st.integers(1, 60),
    start_dates,
    st.sampled_from([RepaymentMethod.EQUAL_INSTALLMENT, RepaymentMethod.EQUAL_PRINCIPAL]),
)


@LENDING
@given(
    st.lists(batch_loan, min_size=1, max_size=25),
    st.sampled_from(list(RoundingMode)),
    st.sampled_from([1, 3]),
)
def test_vectorised_schedules_equal_the_exact_path(
    loans: list[tuple[int, int, int, date, RepaymentMethod]], mode: RoundingMode, every: int
) -> None:
    terms = [
        make_terms(
            principal=fen(cents),
            annual_rate=D(rate).scaleb(-8),
            periods=PeriodSpec(start, Frequency(PeriodUnit.MONTH, every), count),
            method=method,
            rounding=RoundingPolicy("CNY", mode),
        )
        for cents, rate, count, start, method in loans
    ]
    _assert_same(terms)


def test_vectorised_equals_exact_on_many_seeded_random_loans() -> None:
    rng = random.Random(20250101)
    terms = [
        make_terms(
            principal=fen(rng.randint(100_000, 20_000_000)),
            annual_rate=D(rng.randint(400, 2400)).scaleb(-4),
            periods=PeriodSpec(
                date(2025, 1, 1) + timedelta(days=rng.randint(0, 364)), Frequency.monthly(), rng.randint(3, 36)
            ),
            method=rng.choice([RepaymentMethod.EQUAL_INSTALLMENT, RepaymentMethod.EQUAL_PRINCIPAL]),
        )
        for _ in range(1500)
    ]
    _assert_same(terms)


def test_the_domain_example_in_fen() -> None:
    terms = make_terms(
        principal="10000.00",
        annual_rate=D("0.12"),
        periods=PeriodSpec(date(2025, 1, 15), Frequency.monthly(), 12),
    )
    batch = batch_schedules(BatchLoans.from_terms([terms]))
    assert batch.currency == "CNY"
    assert batch.amounts(0)[0] == (1, fen(78849), fen(10000), fen(88849), fen(921151))
    # Source: docs/domain.md §4.1: 888.49 x 11 and 888.47, interest 100.00 then 92.12.
    assert batch.total.tolist() == [88849] * 11 + [88847]
    assert batch.interest[:2].tolist() == [10000, 9212]


@pytest.mark.parametrize("rate", ["0.00000001", "0.00000003", "0.0000001"])
def test_tiny_rates_round_like_the_exact_path(rate: str) -> None:
    # 246.69 over 2 months at 10^-8 a year: A = 123.3450000005..., 123.35 half up.  The float
    # path computed (1 + r)^n - 1 with r's low digits lost and rounded to 123.34.
    terms = [
        make_terms(
            principal=fen(cents),
            annual_rate=D(rate),
            periods=PeriodSpec(date(2020, 1, 1), Frequency.monthly(), count),
        )
        for cents, count in ((24669, 2), (24669, 4), (99999, 3), (1_000_001, 7))
    ]
    _assert_same(terms)


def test_batch_refuses_what_it_does_not_cover() -> None:
    base = make_terms(
        principal="1000.00",
        annual_rate=D("0.12"),
        periods=PeriodSpec(date(2025, 1, 15), Frequency.weekly(), 12),
    )
    with pytest.raises(ValueError, match="plain monthly"):
        BatchLoans.from_terms([base])
    fine_rate = make_terms(
        principal="1000.00",
        annual_rate=D("0.123456789"),
        periods=PeriodSpec(date(2025, 1, 15), Frequency.monthly(), 12),
    )
    with pytest.raises(ValueError, match="8 decimal places"):
        BatchLoans.from_terms([fine_rate])


@LENDING
@given(
    st.lists(
        st.tuples(st.integers(0, 10**10), st.integers(0, 10**8), st.integers(0, 3660)),
        min_size=1,
        max_size=50,
    ),
    st.sampled_from([ACT_360, ACT_365F]),
    st.sampled_from(list(RoundingMode)),
)
def test_vectorised_daily_accrual_equals_the_exact_accrual(
    rows: list[tuple[int, int, int]], day_count: DayCount, mode: RoundingMode
) -> None:
    basis = day_count.basis
    balance = np.array([b for b, _, _ in rows], dtype=np.int64)
    rate = np.array([r for _, r, _ in rows], dtype=np.int64)
    days = np.array([d for _, _, d in rows], dtype=np.int64)
    accrued = accrue(balance, rate, days, basis, mode=mode)
    policy = RoundingPolicy("CNY", mode)
    for (b, r, d), amount in zip(rows, accrued.tolist(), strict=True):
        exact = interest_for(fen(b), D(r).scaleb(-8), YearFraction(d, basis), policy)
        assert fen(amount) == exact
