"""The vectorised path: schedules and daily accruals for many loans at once.

Same results as the exact scalar path (`schedule.build_schedule`), to the
fen, computed with NumPy on integer minor units (int64 fen).  Supported: monthly (every N months)
regular periods, equal installments or equal principal, declining balance,
interest "same as repayment period", no grace, no fees, no installment
multiple -- the bulk of a microcredit portfolio.  Anything else goes through
`schedule.build_schedule`.

Why the results are identical:

1. Rates are exact integers: annual rate = rate_num / 10^8 (a rate with up
   to 8 decimal places, i.e. 6 in percent; anything finer is refused).
   The interest of a period on a balance b (fen) is the exact rational
   b x rate_num x N / (10^8 x 12), rounded once.  In integers:
   x = b x rate_num x N;  q, r = divmod(x, D)  with D = 10^8 x 12, and
   half-up is q + (2r >= D) -- exactly Decimal's ROUND_HALF_UP of the exact
   quotient, which is what the scalar path computes (`money.divide_rounded`
   on the same rational; see `schedule.amortize`).  The rounding is
   `money.divide_rounded_vector`: the scalar path's own `round_quotient` and
   `floor_offset`, run on int64 columns (property-tested equal to the
   scalar form).  Amounts stay int64 minor units inside; `BatchSchedules.amounts`
   reads one loan's rows as `Money`.
   The bounds b <= 10^10 fen and rate_num x N <= 10^8 x 12 keep x below
   2^63; the code checks them.
2. The level installment A = P r (1+r)^n / ((1+r)^n - 1) is a fraction of
   big integers that int64 cannot hold, so it is first computed in float64
   (``expm1(n log1p r)`` for (1+r)^n - 1, accurate for tiny rates too) and
   rounded; when the float lies within 10^-3 fen of a rounding boundary
   (float error is far below that) the loan's A is recomputed with the
   scalar path's own `level_payment` (exact big-integer fraction).
   Otherwise float rounding and exact rounding agree.  This estimate is the
   one float computation near money in the code base, allowed line by line
   (``house-rules: allow float``) because the exact fallback guards it.
3. The recurrence is the scalar path's, step for step, on integers:
   interest, principal = A - interest clamped to [0, balance], the last
   installment takes the balance, a loan ends when its balance is 0.

Daily accrual (`accrue`): interest = round(b x rate x days / basis) for
fixed-basis day counts (ACT/360, ACT/364, ACT/365F), split as
x = b x rate_num = q D + r (D = 10^8 x basis) so that
x x days / D = q x days + r x days / D never overflows.

Worked example: 10,000 yuan at 12 % over 12 months -> principal 1,000,000
fen, rate_num 12,000,000; A = 88,849 fen; interest of month 1 =
1,000,000 x 12,000,000 / 1,200,000,000 = 10,000 fen exactly; the last
installment 88,847 fen -- the same table as docs/domain.md §4.1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from microcredit.lending.money import Money, RoundingMode, RoundingPolicy, divide_rounded_vector, round_quotient
from microcredit.lending.periods import MonthEndRule, PeriodUnit
from microcredit.lending.schedule.amortize import level_payment
from microcredit.lending.schedule.model import (
    InterestCalculation,
    InterestMethod,
    LoanTerms,
    RepaymentMethod,
)

__all__ = ["RATE_SCALE", "BatchLoans", "BatchSchedules", "accrue", "batch_schedules"]

RATE_SCALE = 10**8
_MAX_PRODUCT = 2**62
_AMBIGUITY = 1e-3

Int64Array = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, kw_only=True)
class BatchLoans:
    """Many loans of one currency as columns: principal (minor units), rate numerator (/1e8), months, method."""

    principal: Int64Array
    rate: Int64Array
    count: Int64Array
    equal_principal: BoolArray
    start: npt.NDArray[np.datetime64]
    rounding: RoundingPolicy
    every: int = 1

    def __post_init__(self) -> None:
        size = self.principal.shape
        for column in (self.rate, self.count, self.equal_principal, self.start):
            if column.shape != size:
                raise ValueError("every column has one value per loan")
        if (self.principal <= 0).any() or (self.count < 1).any() or (self.rate < 0).any():
            raise ValueError("principal and count must be positive, rates non-negative")
        if int(self.principal.max()) * int(self.rate.max()) * self.every >= _MAX_PRODUCT:
            raise ValueError("principal x rate too large for int64; use the exact path")

    @classmethod
    def from_terms(cls, terms: Sequence[LoanTerms]) -> BatchLoans:
        """Columns from loan terms; refuses terms the batch path does not cover."""
        if not terms:
            raise ValueError("no loans")
        first = terms[0]
        for t in terms:
            _check_supported(t, first)
        return cls(
            principal=np.array([t.principal.minor for t in terms], dtype=np.int64),
            rate=np.array([_rate_units(t.annual_rate) for t in terms], dtype=np.int64),
            count=np.array([t.periods.count for t in terms], dtype=np.int64),
            equal_principal=np.array([t.method is RepaymentMethod.EQUAL_PRINCIPAL for t in terms], dtype=np.bool_),
            start=np.array([t.periods.start for t in terms], dtype="datetime64[D]"),
            every=first.periods.frequency.every,
            rounding=first.rounding,
        )


def _rate_units(rate: Decimal) -> int:
    scaled = rate * RATE_SCALE
    if scaled != scaled.to_integral_value():
        raise ValueError(f"rate {rate} has more than 8 decimal places")
    return int(scaled)


def _check_supported(t: LoanTerms, first: LoanTerms) -> None:
    spec = t.periods
    if (
        spec.frequency.unit is not PeriodUnit.MONTH
        or spec.frequency != first.periods.frequency
        or spec.first_due_date is not None
        or spec.month_end is not MonthEndRule.SAME_DAY
        or spec.due_date_rule.value != "anniversary"
        or spec.business_day_rule.value != "none"
        or t.method not in (RepaymentMethod.EQUAL_INSTALLMENT, RepaymentMethod.EQUAL_PRINCIPAL)
        or t.interest_method is not InterestMethod.DECLINING_BALANCE
        or t.interest_calculation is not InterestCalculation.SAME_AS_REPAYMENT
        or t.installment_multiple is not None
        or t.grace_on_principal
        or t.grace_on_interest_payment
        or t.interest_free_periods
        or t.fees
        or t.rounding != first.rounding
    ):
        raise ValueError("the batch path covers plain monthly equal-installment/principal loans")


@dataclass(frozen=True)
class BatchSchedules:
    """All installment rows of many loans, loan-major, amounts in minor units of `currency`."""

    currency: str
    loan: Int64Array
    number: Int64Array
    due_date: npt.NDArray[np.datetime64]
    principal: Int64Array
    interest: Int64Array
    total: Int64Array
    balance: Int64Array
    offsets: Int64Array

    @property
    def rows(self) -> int:
        """The number of installment rows."""
        return int(self.loan.shape[0])

    def amounts(self, loan: int) -> tuple[tuple[int, Money, Money, Money, Money], ...]:
        """One loan's rows as (number, principal, interest, total, balance after) in Money."""
        lo, hi = int(self.offsets[loan]), int(self.offsets[loan + 1])
        code = self.currency
        return tuple(
            (
                int(self.number[i]),
                Money(int(self.principal[i]), code),
                Money(int(self.interest[i]), code),
                Money(int(self.total[i]), code),
                Money(int(self.balance[i]), code),
            )
            for i in range(lo, hi)
        )


def _level_installments(loans: BatchLoans) -> Int64Array:
    mode = loans.rounding.mode
    # The float estimate of A, checked below against rounding boundaries (exact fallback).
    p = loans.principal.astype(np.float64)  # house-rules: allow float (estimate; exact fallback below)
    n = loans.count.astype(np.float64)  # house-rules: allow float (a count, not money)
    r = loans.rate.astype(np.float64) * loans.every / (RATE_SCALE * 12.0)  # house-rules: allow float (a rate)
    with np.errstate(divide="ignore", invalid="ignore"):
        # (1+r)^n - 1 through log1p/expm1: 1.0 + r drops the low digits of a tiny r (a rate of
        # 10^-8 a year lost 7 of them and the float A missed a half-fen boundary by 10^-3 fen).
        grown = np.expm1(n * np.log1p(r))
        exact = np.where(r > 0, p * r * (grown + 1.0) / grown, p / n)
    if mode is RoundingMode.DOWN:
        rounded = np.floor(exact)
        distance = np.minimum(exact - rounded, rounded + 1.0 - exact)
    elif mode is RoundingMode.UP:
        rounded = np.ceil(exact)
        distance = np.minimum(rounded - exact, exact - (rounded - 1.0))
    else:
        rounded = np.floor(exact + 0.5)
        distance = np.abs(exact - np.floor(exact) - 0.5)
        if mode is RoundingMode.HALF_EVEN:
            distance = np.minimum(distance, np.abs(exact - np.round(exact)))
    result = rounded.astype(np.int64)
    zero_rate = loans.rate == 0
    if zero_rate.any():
        result[zero_rate] = divide_rounded_vector(loans.principal[zero_rate], loans.count[zero_rate], mode)
    for index in np.flatnonzero((distance < _AMBIGUITY) & ~zero_rate):
        result[index] = _exact_level(loans, int(index))
    return result


def _exact_level(loans: BatchLoans, index: int) -> int:
    """The scalar path's level installment of one loan, in fen (exact rational arithmetic)."""
    rate = (int(loans.rate[index]) * loans.every, RATE_SCALE * 12)
    count = int(loans.count[index])
    return level_payment(int(loans.principal[index]), [rate] * count, loans.rounding.mode)


def batch_schedules(loans: BatchLoans, *, chunk: int = 8192) -> BatchSchedules:
    """Every installment row of every loan, identical to the exact path to the fen.

    Loans are processed `chunk` at a time so the working matrices stay in cache.
    """
    size = loans.principal.shape[0]
    if size <= chunk:
        return _batch(loans)
    parts = [_batch(_slice(loans, lo, min(lo + chunk, size))) for lo in range(0, size, chunk)]
    offsets = [np.zeros(1, dtype=np.int64)]
    base = 0
    for lo, part in zip(range(0, size, chunk), parts, strict=True):
        offsets.append(part.offsets[1:] + base)
        base += part.rows
        part.loan[:] += lo
    return BatchSchedules(
        currency=loans.rounding.currency,
        loan=np.concatenate([p.loan for p in parts]),
        number=np.concatenate([p.number for p in parts]),
        due_date=np.concatenate([p.due_date for p in parts]),
        principal=np.concatenate([p.principal for p in parts]),
        interest=np.concatenate([p.interest for p in parts]),
        total=np.concatenate([p.total for p in parts]),
        balance=np.concatenate([p.balance for p in parts]),
        offsets=np.concatenate(offsets),
    )


def _slice(loans: BatchLoans, lo: int, hi: int) -> BatchLoans:
    return BatchLoans(
        principal=loans.principal[lo:hi],
        rate=loans.rate[lo:hi],
        count=loans.count[lo:hi],
        equal_principal=loans.equal_principal[lo:hi],
        start=loans.start[lo:hi],
        rounding=loans.rounding,
        every=loans.every,
    )


def _batch(loans: BatchLoans) -> BatchSchedules:
    mode = loans.rounding.mode
    size = loans.principal.shape[0]
    horizon = int(loans.count.max())
    denominator = RATE_SCALE * 12
    multiplier = loans.rate * loans.every
    level = _level_installments(loans)
    equal_part = divide_rounded_vector(loans.principal, loans.count, mode)
    scheduled = np.where(loans.equal_principal, equal_part, level)
    equal_principal = loans.equal_principal
    last_index = loans.count - 1
    balance = loans.principal.copy()
    active = np.ones(size, dtype=np.bool_)
    # Period-major matrices: each step writes one contiguous row.
    shape = (horizon, size)
    principal_m = np.empty(shape, dtype=np.int64)
    interest_m = np.empty(shape, dtype=np.int64)
    balance_m = np.empty(shape, dtype=np.int64)
    present = np.empty(shape, dtype=np.bool_)
    for k in range(horizon):
        interest = divide_rounded_vector(balance * multiplier, denominator, mode)
        part = np.where(equal_principal, scheduled, scheduled - interest)
        np.clip(part, 0, balance, out=part)
        last = last_index == k
        np.copyto(part, balance, where=last)
        balance = balance - part
        present[k] = active
        principal_m[k] = part
        interest_m[k] = interest
        balance_m[k] = balance
        active &= (balance > 0) & ~last
    # Loan-major order, present rows only.
    mask = present.T
    principal = principal_m.T[mask]
    interest = interest_m.T[mask]
    per_loan = mask.sum(axis=1)
    offsets = np.zeros(size + 1, dtype=np.int64)
    np.cumsum(per_loan, out=offsets[1:])
    loan_index = np.repeat(np.arange(size, dtype=np.int64), per_loan)
    numbers = np.arange(offsets[-1], dtype=np.int64) - np.repeat(offsets[:-1], per_loan) + 1
    return BatchSchedules(
        currency=loans.rounding.currency,
        loan=loan_index,
        number=numbers,
        due_date=_due_dates(loans, loan_index, numbers),
        principal=principal,
        interest=interest,
        total=principal + interest,
        balance=balance_m.T[mask],
        offsets=offsets,
    )


# Day number (since 1970-01-01) of the first day of every month 1970-01 .. 2400-01.
_MONTH_FIRST_DAY = np.arange("1970-01", "2400-02", dtype="datetime64[M]").astype("datetime64[D]").astype(np.int64)


def _due_dates(loans: BatchLoans, loan_index: Int64Array, numbers: Int64Array) -> npt.NDArray[np.datetime64]:
    """start + k x every months, the day clamped to the month's length (as `periods`)."""
    start_days = loans.start.astype("datetime64[D]").astype(np.int64)
    start_month = loans.start.astype("datetime64[M]").astype(np.int64)
    if start_month.min() < 0 or start_month.max() + int(loans.count.max()) * loans.every >= (
        _MONTH_FIRST_DAY.shape[0] - 1
    ):
        raise ValueError("the batch path dates loans between 1970 and 2400")
    day_in_month = start_days - _MONTH_FIRST_DAY[start_month]
    month = start_month[loan_index] + numbers * loans.every
    first = _MONTH_FIRST_DAY[month]
    length = _MONTH_FIRST_DAY[month + 1] - first
    due: Int64Array = first + np.minimum(day_in_month[loan_index], length - 1)
    return due.view("datetime64[D]")


def accrue(
    balance: Int64Array,
    rate: Int64Array,
    days: Int64Array,
    basis: int,
    *,
    mode: RoundingMode,
) -> Int64Array:
    """Accrued interest in minor units: round(balance x rate/1e8 x days / basis), exactly, per loan."""
    if (balance < 0).any() or (days < 0).any():
        raise ValueError("balances and days are non-negative")
    if int(balance.max(initial=0)) * int(rate.max(initial=0)) >= _MAX_PRODUCT:
        raise ValueError("balance x rate too large for int64; use the exact path")
    denominator = RATE_SCALE * basis
    q, r = np.divmod(balance * rate, denominator)
    whole, rest = np.divmod(r * days, denominator)
    return round_quotient(q * days + whole, rest, denominator, mode)
