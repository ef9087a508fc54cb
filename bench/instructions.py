"""Instructions per path, counted by callgrind: a load-independent twin of bench/schedule.py.

    .venv/bin/python bench/instructions.py [--loans 1000]

Wall-clock rates on a shared machine swing with its load; instruction counts
do not.  For each path (the exact core `annuity_rows`, the full
`build_schedule`, the vectorised `batch_schedules`) this runs the path under
``valgrind --tool=callgrind`` on the benchmark's first N and 2N seeded loans
and prints the difference: the instructions of N loans, start-up and imports
cancelled out.  The vectorised path gets 20 × N loans (it is that much
cheaper per loan).  Needs valgrind (Debian package `valgrind`).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np

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
PATHS = {"core": 1, "schedule": 1, "vector": 20}


def run(path: str, count: int) -> int:
    """Run `path` on the first `count` seeded loans of bench/schedule.py; the rows made."""
    rng = np.random.default_rng(20251125)
    fen = rng.integers(100_000, 20_000_001, count, dtype=np.int64)
    bp = rng.integers(400, 2_401, count, dtype=np.int64)
    months = rng.integers(3, 37, count, dtype=np.int64)
    day = rng.integers(0, 365, count, dtype=np.int64)
    if path == "vector":
        loans = BatchLoans(principal=fen, rate=bp * (RATE_SCALE // 10_000), count=months,
                           equal_principal=np.zeros(count, dtype=np.bool_),
                           start=np.datetime64(EPOCH.isoformat()) + day.astype("timedelta64[D]"), rounding=CNY)
        return batch_schedules(loans).rows
    inputs = [(Decimal(int(f)).scaleb(-2), Decimal(int(b)).scaleb(-4), int(n), EPOCH + timedelta(int(d)))
              for f, b, n, d in zip(fen, bp, months, day, strict=True)]
    rows = 0
    if path == "core":
        monthly = YearFraction(1, 12)
        for principal, rate, n, _ in inputs:
            table = annuity_rows(Money.parse(principal, "CNY"), period_rate(rate, monthly), n,
                                 mode=RoundingMode.HALF_UP)
            assert table is not None
            rows += len(table)
        return rows
    frequency = Frequency.monthly()
    for principal, rate, n, start in inputs:
        terms = LoanTerms(principal=Money.parse(principal, "CNY"), annual_rate=rate,
                          periods=PeriodSpec(start, frequency, n), method=RepaymentMethod.EQUAL_INSTALLMENT,
                          interest_method=InterestMethod.DECLINING_BALANCE,
                          interest_calculation=InterestCalculation.SAME_AS_REPAYMENT, day_count=ACT_360,
                          rounding=CNY)
        rows += len(build_schedule(terms, calendar=WEEKENDS_ONLY).installments)
    return rows


def instructions(path: str, count: int) -> int:
    """Instructions callgrind counts for a whole process running `path` on `count` loans."""
    with tempfile.TemporaryDirectory(prefix="mc-callgrind-") as tmp:
        done = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={Path(tmp) / 'out'}",
             sys.executable, __file__, "--run", path, str(count)],
            capture_output=True, text=True, check=True,
        )
    match = re.search(r"Collected : (\d+)", done.stderr)
    assert match is not None, done.stderr
    return int(match.group(1))


def main() -> None:
    """Print the instructions of each path per N loans (and per row for the exact paths)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=1000)
    parser.add_argument("--run", nargs=2, metavar=("PATH", "COUNT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        print(run(args.run[0], int(args.run[1])))
        return
    for path, scale in PATHS.items():
        count = args.loans * scale
        rows = run(path, 2 * count) - run(path, count)
        spent = instructions(path, 2 * count) - instructions(path, count)
        print(f"  {path:<9} {count:>7,} loans {rows:>9,} rows {spent:>15,} instructions {spent // rows:>7,} / row")


if __name__ == "__main__":
    main()
