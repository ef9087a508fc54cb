"""One day's recalculated-interest accrual: 1,000,000 loans on the vectorised path.

    .venv/bin/python bench/accrual.py [--loans 1000000] [--sample 300] [--seed 20261202]

A close of business accrues each active loan's interest for the day on its interest
base: the running period's scheduled balance plus, with interest recalculation, what
is overdue and earns less principal paid ahead (`LoanState.interest_base`).  This
bench times that day for `--loans` loans:

- vector: `batch.accrue` on int64 columns (base in fen, annual rate in 1e-8 units,
  one day, ACT/360, half-up); median of 5 passes after a warm-up;
- scalar (baseline): the same day computed loan by loan with the engine's scalar
  rounding (`RoundingPolicy.times` on `Money`), one pass over the first 100,000
  loans (`--scalar`), its rate in loans/s set beside the vector's.

Correctness, untimed: `--sample` random recalculating loans (10,000 to 200,000 CNY,
12 monthly installments, 6 % to 24 %, on-time, late, partial and missed payments,
daily or monthly rest, with or without compounding) are folded from their events to
an as-of day; each one's day of interest on its `interest_base` from the vectorised
path must equal the scalar path's, and the scalar path's must equal the fold's own
accrual over that day (what the next day's state accrued beyond this day's) to within
the one rounding each side takes.  `mismatches` counts the loans where the vectorised
and scalar paths differ (must be 0).  Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import numpy as np

from microcredit.lending import loan
from microcredit.lending.allocation import DUE_DATE_ORDER, OverpaymentPolicy
from microcredit.lending.batch import RATE_SCALE, accrue
from microcredit.lending.calendar import WEEKENDS_ONLY
from microcredit.lending.classification import (
    DEFAULT_BUCKETS,
    DEFAULT_PROVISION_RATES,
    ClassificationPolicy,
)
from microcredit.lending.daycount import DayCount, DaysInMonth, DaysInYear
from microcredit.lending.money import Money, RoundingMode, RoundingPolicy
from microcredit.lending.periods import Frequency, PeriodSpec
from microcredit.lending.prepayment import PrepaymentMode
from microcredit.lending.schedule import (
    InterestCalculation,
    InterestMethod,
    LoanTerms,
    RepaymentMethod,
)

START = date(2025, 1, 15)
AS_OF = date(2025, 8, 20)
ACT_360 = DayCount(DaysInMonth.ACTUAL, DaysInYear.D360)
ROUNDING = RoundingPolicy("CNY", RoundingMode.HALF_UP)


def _terms(rng: random.Random) -> loan.Terms:
    principal = Money(rng.randrange(1_000_000, 20_000_001, 100), "CNY")
    rate = Decimal(rng.randrange(600, 2401)) / Decimal(10_000)
    contract = LoanTerms(
        principal=principal, annual_rate=rate, periods=PeriodSpec(START, Frequency.monthly(), 12),
        method=RepaymentMethod.EQUAL_INSTALLMENT, interest_method=InterestMethod.DECLINING_BALANCE,
        interest_calculation=InterestCalculation.SAME_AS_REPAYMENT, day_count=ACT_360, rounding=ROUNDING,
    )
    rest = rng.choice([loan.RestFrequency.DAILY, loan.RestFrequency.MONTHLY])
    compounding = rng.choice([loan.Compounding.NONE, loan.Compounding.INTEREST])
    return loan.Terms(
        contract=contract, calendar=WEEKENDS_ONLY, strategy=DUE_DATE_ORDER,
        overpayment=OverpaymentPolicy.CREDIT_BALANCE, prepayment_mode=PrepaymentMode.SHORTEN_TERM,
        dpd_grace_days=0, dpd_tolerance=Money(0, "CNY"), buckets=DEFAULT_BUCKETS,
        classification=ClassificationPolicy(provision_rates=DEFAULT_PROVISION_RATES),
        tranches=False, down_payment=None,
        recalculation=loan.Recalculation(rest=rest, compounding=compounding,
                                         pre_closure=loan.PreClosure.TILL_PRE_CLOSURE_DATE),
    )


def _history(rng: random.Random, terms: loan.Terms) -> list[loan.Event]:
    """A disbursement and six months of on-time, late, partial or missed installments."""
    events: list[loan.Event] = [loan.Disbursement(id="d", on=START, amount=terms.contract.principal)]
    level = loan.fold(terms, events, as_of=START).installments[0].due.total
    for number in range(1, 7):
        due = START.replace(month=START.month + number)
        kind = rng.choice(["on_time", "on_time", "late", "partial", "missed"])
        if kind == "missed":
            continue
        on = due + timedelta(days=rng.randrange(3, 25)) if kind == "late" else due
        amount = level if kind != "partial" else Money(level.minor // 2, "CNY")
        events.append(loan.Repayment(id=f"r{number}", on=on, amount=amount))
    return events


def _scalar_day(base: Money, rate: Decimal) -> Money:
    return ROUNDING.times(base, Fraction(rate) / 360)


def _check(sample: int, rng: random.Random) -> tuple[int, int, int]:
    """(loans checked, vector-vs-scalar mismatches, scalar-vs-fold differences beyond rounding)."""
    bases, rates, scalar = [], [], []
    off_fold = 0
    for _ in range(sample):
        terms = _terms(rng)
        events = _history(rng, terms)
        today = loan.fold(terms, events, as_of=AS_OF)
        tomorrow = loan.fold(terms, events, as_of=AS_OF + timedelta(days=1))
        rate = terms.contract.annual_rate
        day = _scalar_day(today.interest_base, rate)
        assert today.payoff is not None
        assert tomorrow.payoff is not None
        folded = tomorrow.payoff.accrued_interest.minor - today.payoff.accrued_interest.minor
        # Each side rounds its running total once (scheduled and recalculated): two fen at most.
        if abs(folded - day.minor) > 2:
            off_fold += 1
        bases.append(today.interest_base.minor)
        rates.append(int(rate * RATE_SCALE))
        scalar.append(day.minor)
    vector = accrue(np.array(bases, dtype=np.int64), np.array(rates, dtype=np.int64),
                    np.ones(len(bases), dtype=np.int64), 360, mode=RoundingMode.HALF_UP)
    mismatches = sum(1 for v, s in zip(vector.tolist(), scalar, strict=True) if v != s)
    return sample, mismatches, off_fold


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=300)
    parser.add_argument("--seed", type=int, default=20261202)
    parser.add_argument("--scalar", type=int, default=100_000, help="loans the scalar baseline computes")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    generator = np.random.default_rng(args.seed)
    base = generator.integers(0, 20_000_000, size=args.loans, dtype=np.int64)
    rate = generator.integers(600, 2401, size=args.loans, dtype=np.int64) * (RATE_SCALE // 10_000)
    days = np.ones(args.loans, dtype=np.int64)

    accrue(base, rate, days, 360, mode=RoundingMode.HALF_UP)  # warm-up
    passes = []
    for _ in range(5):
        started = time.perf_counter()
        vector = accrue(base, rate, days, 360, mode=RoundingMode.HALF_UP)
        passes.append(time.perf_counter() - started)
    vector_s = statistics.median(passes)

    count = min(args.scalar, args.loans)
    rates = [Decimal(int(r)) / RATE_SCALE for r in rate[:count].tolist()]
    started = time.perf_counter()
    scalar = [_scalar_day(Money(b, "CNY"), r).minor for b, r in zip(base[:count].tolist(), rates, strict=True)]
    scalar_s = (time.perf_counter() - started) * args.loans / count  # at the same rate, for every loan
    whole_mismatches = int(np.count_nonzero(vector[:count] != np.array(scalar, dtype=np.int64)))

    checked, mismatches, off_fold = _check(args.sample, rng)
    print(f"{args.loans:,} loans, one day of interest on the interest base (ACT/360, half-up)")
    print(f"{'path':<10}{'seconds':>10}{'loans/s':>16}")
    print(f"{'vector':<10}{vector_s:>10.3f}{args.loans / vector_s:>16,.0f}")
    print(f"{'scalar':<10}{scalar_s:>10.3f}{args.loans / scalar_s:>16,.0f}   "
          f"(baseline: Money, loan by loan; timed on {count:,}, scaled)")
    print(f"speed-up {scalar_s / vector_s:,.0f}x; vector vs scalar on {count:,} loans: {whole_mismatches} mismatches")
    print(f"sample of {checked} folded recalculating loans: vector vs scalar {mismatches} mismatches, "
          f"scalar vs the fold's own day of accrual beyond rounding: {off_fold}")
    print(json.dumps({
        "loans": args.loans, "vector_s": round(vector_s, 4), "scalar_s": round(scalar_s, 3),
        "speedup": round(scalar_s / vector_s, 1), "mismatches": whole_mismatches + mismatches,
        "sample": checked, "fold_differences": off_fold,
    }))


if __name__ == "__main__":
    main()
