"""Schedule engine benchmark: exact path, vectorised path, and two float libraries.

    .venv/bin/python bench/schedule.py [--loans 100000] [--seed 20251125]

Generates the same random loans every run (seeded): principal 1,000.00 to
200,000.00 CNY, 3 to 36 monthly equal installments, annual rate 4.00 % to
24.00 % (whole basis points), disbursed on a day of 2025.  A *row* is one
installment row of a schedule; rows/s = rows produced / seconds.

- exact: the engine's exact path, like for like with the `amortization`
  package's rows: `annuity_rows` from the Decimal amount (made Money in the
  timed loop) and rate of each loan to the rows (number, payment,
  interest, principal, balance) in exact integer minor units, rounded half
  up once per row; no dates, no row objects — what the package gives too.
- exact_schedule: `build_schedule` from raw values to a full `Schedule`
  (Money principal and LoanTerms built, periods dated, every Installment
  row with its dates, Money fields, totals) — what an application or a
  quote pays; it calls the same `annuity_rows` inside. One full pass,
  results discarded.
- vector: `batch_schedules` (NumPy, int64 fen) on the same loans as
  columns; median of 5 passes after a warm-up.
- amortization: the `amortization` package (floats), iterating every row.
- numpy_financial: `npf.ipmt`/`npf.ppmt` over a loans x periods grid
  (floats), median of 5 passes.

Then, untimed, every loan's exact schedule is compared with the vectorised
one (numbers, due dates, principal, interest, total, balance in fen, the
exact rows read through their Money fields); the count of loans that
differ by any amount must be 0.  For information, the
loans where the float `amortization` rows round to a different fen than
the exact ones are counted too.

The last line of output is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import numpy_financial as npf
from amortization.schedule import amortization_schedule

from microcredit.lending.batch import RATE_SCALE, BatchLoans, batch_schedules
from microcredit.lending.calendar import WEEKENDS_ONLY
from microcredit.lending.daycount import ACT_360, YearFraction
from microcredit.lending.money import Money, RoundingMode, RoundingPolicy
from microcredit.lending.periods import Frequency, PeriodSpec
from microcredit.lending.schedule import (
    InterestCalculation,
    InterestMethod,
    LoanTerms,
    RepaymentMethod,
    annuity_rows,
    build_schedule,
    period_rate,
)

EPOCH = date(2025, 1, 1)
CNY = RoundingPolicy("CNY", RoundingMode.HALF_UP)
HALF_UP = RoundingMode.HALF_UP


def loan_terms(principal: Decimal, rate: Decimal, periods: PeriodSpec) -> LoanTerms:
    """The benchmark's loan: a CNY annuity on the declining balance, ACT/360, half-up."""
    return LoanTerms(
        principal=Money.parse(principal, "CNY"),
        annual_rate=rate,
        periods=periods,
        method=RepaymentMethod.EQUAL_INSTALLMENT,
        interest_method=InterestMethod.DECLINING_BALANCE,
        interest_calculation=InterestCalculation.SAME_AS_REPAYMENT,
        day_count=ACT_360,
        rounding=CNY,
    )


def make_loans(count: int, seed: int) -> dict[str, np.ndarray]:
    """The benchmark's loans as integer columns (fen, basis points, months, day offsets)."""
    rng = np.random.default_rng(seed)
    return {
        "fen": rng.integers(100_000, 20_000_001, count, dtype=np.int64),
        "bp": rng.integers(400, 2_401, count, dtype=np.int64),
        "months": rng.integers(3, 37, count, dtype=np.int64),
        "day": rng.integers(0, 365, count, dtype=np.int64),
    }


def time_exact(loans: dict[str, np.ndarray]) -> tuple[int, float]:
    """One pass of the exact engine from raw values; returns (rows, seconds)."""
    inputs = [
        (Decimal(int(f)).scaleb(-2), Decimal(int(b)).scaleb(-4), int(m), EPOCH + timedelta(int(d)))
        for f, b, m, d in zip(loans["fen"], loans["bp"], loans["months"], loans["day"], strict=True)
    ]
    monthly = Frequency.monthly()
    rows = 0
    started = time.perf_counter()
    for principal, rate, months, start in inputs:
        terms = loan_terms(principal, rate, PeriodSpec(start, monthly, months))
        rows += len(build_schedule(terms, calendar=WEEKENDS_ONLY).installments)
    return rows, time.perf_counter() - started


def time_exact_core(loans: dict[str, np.ndarray]) -> tuple[int, float]:
    """One pass of the exact core from Decimal amounts and rates; returns (rows, seconds)."""
    inputs = [(Decimal(int(f)).scaleb(-2), Decimal(int(b)).scaleb(-4), int(m))
              for f, b, m in zip(loans["fen"], loans["bp"], loans["months"], strict=True)]
    monthly = YearFraction(1, 12)
    rows = 0
    started = time.perf_counter()
    for principal, rate, months in inputs:
        table = annuity_rows(Money.parse(principal, "CNY"), period_rate(rate, monthly), months, mode=HALF_UP)
        assert table is not None
        rows += len(table)
    return rows, time.perf_counter() - started


def batch_input(loans: dict[str, np.ndarray]) -> BatchLoans:
    """The loans as the vectorised path's columns."""
    count = loans["fen"].shape[0]
    return BatchLoans(
        principal=loans["fen"],
        rate=loans["bp"] * (RATE_SCALE // 10_000),
        count=loans["months"],
        equal_principal=np.zeros(count, dtype=np.bool_),
        start=np.datetime64(EPOCH.isoformat()) + loans["day"].astype("timedelta64[D]"),
        rounding=CNY,
    )


def median_time(run: Callable[[], int], repeats: int = 5) -> tuple[int, float]:
    """Rows and median seconds of `repeats` passes after one warm-up pass."""
    rows = run()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return rows, statistics.median(times)


def time_amortization(loans: dict[str, np.ndarray]) -> tuple[int, float]:
    """One pass of the `amortization` package (floats), counting every row."""
    inputs = [
        (int(f) / 100, int(b) / 10_000, int(m))
        for f, b, m in zip(loans["fen"], loans["bp"], loans["months"], strict=True)
    ]
    rows = 0
    started = time.perf_counter()
    for principal, rate, months in inputs:
        for _row in amortization_schedule(principal, rate, months):
            rows += 1
    return rows, time.perf_counter() - started


def numpy_financial_rows(loans: dict[str, np.ndarray]) -> int:
    """Interest and principal of every installment with numpy-financial (floats)."""
    principal = loans["fen"][:, None] / 100
    rate = loans["bp"][:, None] / 120_000
    months = loans["months"][:, None]
    period = np.arange(1, int(months.max()) + 1)[None, :]
    valid = period <= months
    interest = npf.ipmt(rate, period, months, -principal)
    repaid = npf.ppmt(rate, period, months, -principal)
    np.round(interest, 2, out=interest)
    np.round(repaid, 2, out=repaid)
    return int(valid.sum())


def count_mismatches(loans: dict[str, np.ndarray]) -> tuple[int, int]:
    """Loans where vectorised != exact (must be 0), and where amortization's floats differ."""
    batch = batch_schedules(batch_input(loans))
    vector_bad = 0
    float_bad = 0
    for index, (f, b, m, d) in enumerate(zip(loans["fen"], loans["bp"], loans["months"], loans["day"], strict=True)):
        terms = loan_terms(
            Decimal(int(f)).scaleb(-2),
            Decimal(int(b)).scaleb(-4),
            PeriodSpec(EPOCH + timedelta(int(d)), Frequency.monthly(), int(m)),
        )
        rows = build_schedule(terms, calendar=WEEKENDS_ONLY).installments
        lo, hi = int(batch.offsets[index]), int(batch.offsets[index + 1])
        exact = [
            (r.number, r.due_date, r.principal.minor, r.interest.minor, r.total.minor, r.balance_after.minor)
            for r in rows
        ]
        vector = [
            (
                int(batch.number[i]),
                batch.due_date[i].astype(object),
                int(batch.principal[i]),
                int(batch.interest[i]),
                int(batch.total[i]),
                int(batch.balance[i]),
            )
            for i in range(lo, hi)
        ]
        vector_bad += exact != vector
        floats = [
            (round(row.interest * 100), round(row.amount * 100))
            for row in amortization_schedule(int(f) / 100, int(b) / 10_000, int(m))
        ]
        float_bad += floats != [(e[3], e[4]) for e in exact]
    return vector_bad, float_bad


def count_core_mismatches(loans: dict[str, np.ndarray]) -> int:
    """Loans whose `annuity_rows` differ from the full schedule's rows (must be 0)."""
    bad = 0
    monthly = Frequency.monthly()
    for f, b, m, d in zip(loans["fen"], loans["bp"], loans["months"], loans["day"], strict=True):
        principal, rate = Decimal(int(f)).scaleb(-2), Decimal(int(b)).scaleb(-4)
        core = annuity_rows(Money(int(f), "CNY"), period_rate(rate, YearFraction(1, 12)), int(m), mode=HALF_UP)
        full = build_schedule(loan_terms(principal, rate, PeriodSpec(EPOCH + timedelta(int(d)), monthly, int(m))),
                              calendar=WEEKENDS_ONLY)
        assert core is not None
        bad += [(r[1], r[2], r[3], r[4]) for r in core] != [
            (i.total.minor, i.interest.minor, i.principal.minor, i.balance_after.minor) for i in full.installments]
    return bad


def main() -> None:
    """Run every path on the same loans and print the figures side by side."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=20251125)
    args = parser.parse_args()
    loans = make_loans(args.loans, args.seed)
    columns = batch_input(loans)

    warm = {k: v[:2000] for k, v in loans.items()}
    time_exact(warm)
    time_exact_core(warm)
    time_amortization(warm)
    exact_rows, exact_s = time_exact_core(loans)
    schedule_rows, schedule_s = time_exact(loans)
    amort_rows, amort_s = time_amortization(loans)
    vector_rows, vector_s = median_time(lambda: batch_schedules(columns).rows)
    npf_rows, npf_s = median_time(lambda: numpy_financial_rows(loans))
    assert exact_rows == schedule_rows == amort_rows == vector_rows == npf_rows, "every path makes the same rows"

    figures = {
        "exact_rows_per_s": round(exact_rows / exact_s),
        "exact_schedule_rows_per_s": round(schedule_rows / schedule_s),
        "vector_rows_per_s": round(vector_rows / vector_s),
        "amortization_rows_per_s": round(amort_rows / amort_s),
        "numpy_financial_rows_per_s": round(npf_rows / npf_s),
    }
    print(f"{args.loans} loans, {exact_rows} installment rows (a row = one installment)")
    base = figures["amortization_rows_per_s"]
    for name, rate in figures.items():
        label = name.removesuffix("_rows_per_s")
        print(f"  {label:<16} {rate:>14,} rows/s   {rate / base:8.2f} x amortization")
    core_bad = count_core_mismatches(loans)
    print(f"  loans where the exact core != the full exact schedule (any amount): {core_bad}")
    vector_bad, float_bad = count_mismatches(loans)
    print(f"  loans where vectorised != exact (any amount): {vector_bad}")
    print(f"  loans where amortization's floats round to other fen than exact: {float_bad}")
    figures["mismatches"] = vector_bad + core_bad
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
