"""Amortisation: split each installment into principal, interest and fees.

Notation: P principal, B_k balance after installment k, f_k the interest
factor of period k (annual rate x the period's year fraction), m the number
of principal-paying periods.

Interest of period k, rounded once from the exact product:

    declining balance:  I_k = round(B_{k-1} x f_k)
    flat:               I_k = round(P x f_k)

f_k is the annual rate x N/12 (N/52 for weeks, N/1 for years) for a regular
period when interest is computed "same as repayment period", and the
annual rate x the day-count fraction of [start, end) for a broken period or
when interest is computed daily.  An interest-free period has f_k = 0.

Principal of period k:

- 等额本息 equal installment: a level amount A, principal = A - I_k.
  With equal factors r:  A = P r (1+r)^m / ((1+r)^m - 1)  (A = P/m if r = 0);
  with unequal factors (broken or interest-free periods) the same idea in
  general form, A = P / sum_j prod_{i<=j} 1/(1 + f_i), so the level payment
  still repays the balance exactly.  A is rounded to the currency (or to
  the installment multiple, e.g. whole yuan).
- 等额本金 equal principal: round(P/m) each period.
- interest only: no principal until the last period.  Bullet: nothing paid
  until the last period (interest deferred).

The last installment pays the whole remaining balance, so it absorbs every
rounding residue and principal parts sum exactly to P.

Grace (Fineract): on principal, the first g installments pay no principal
(interest only); on interest payment, the first g_i installments pay no
interest, the interest is carried and paid with the first installment after
the grace (not capitalised); interest-free periods charge no interest at all.
The interest carried after each row (0 outside a grace) is what
`amortize_carrying` returns beside the rows: a prepayment, a payoff or a
rescheduling inside the grace must still collect it.  A plan may start with
interest already carried (`deferred_interest`, e.g. the rest of a loan
re-amortised inside its grace); it is paid with the first installment after
the grace like the rest.  Row by row the interest a period earned is

    I_k = interest due_k + carried_k - carried_{k-1}

whether it is deferred (due 0, carried grows by I_k) or paid (carried back
to 0, the due interest includes what was carried).

Exact arithmetic on integers.  Amounts are counted in minor units (fen) and
every factor is an exact fraction a/b of Python ints: the Decimal annual
rate is exactly p/q (`Decimal.as_integer_ratio`), the year fraction is n/d,
so f = (p n) / (q d).  Then

    I_k = divide_rounded(B_{k-1} x a, b, mode)                      (fen)
    A   = divide_rounded(P a (a+b)^m, b ((a+b)^m - b^m), mode)      (fen)

the second being P r (1+r)^m / ((1+r)^m - 1) with r = a/b multiplied out:
(1+r)^m is the big-integer fraction (a+b)^m / b^m, so A is the exact
rational, rounded once.  `money.divide_rounded` implements the four modes
on integers (`money.round_quotient`); nothing is ever approximated, so a tie is always seen as a tie
and the rows are those of the exact rationals (a reference implementation
on `fractions.Fraction` in the tests checks every field of every row).

Amounts in and out are `Money` (`AmortizationPlan`, `level_installment`,
`annuity_rows`' principal); the loops count its minor units.

Fast path.  The common case -- level installments, declining balance,
equal factors, no grace, no multiple -- runs a branch-free loop over plain
ints, ``I = (B x a + c) // b`` with c = `money.floor_offset` of the mode
(b // 2 half-up, 0 down, b - 1 up: floor((x + c)/b) is the mode's rounding
of x/b for x >= 0); half-even takes `money.divide_rounded`, for its tie rule.
Balances only fall while A exceeds P x f, so the path applies when the
balance before the last period is still positive; otherwise (the rounded
installment repays the loan early) the general loop, which clamps and stops,
takes over.  A property test checks both give identical rows.

Worked example (docs/domain.md §4.1): P = 10,000, r = 1 %, m = 12:
A = 10,000 x 0.01 x 1.01^12 / (1.01^12 - 1) = 888.4879 -> 888.49;
in fen, r = 1/100 and A = round(1,000,000 x 101^12 / (100 x (101^12 - 100^12)))
= 88,849; I_1 = 100.00, principal 788.49, B_1 = 9,211.51; ... I_12 = 8.80
and the last installment is 879.67 + 8.80 = 888.47; total interest 661.86.
Equal principal on the same terms (docs/domain.md §4.2): 833.33 + 100.00 = 933.33 first,
833.37 + 8.33 = 841.70 last, total interest 650.00.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from itertools import repeat

from microcredit.lending.daycount import YearFraction
from microcredit.lending.money import CURRENCIES, Money, RoundingMode, RoundingPolicy, divide_rounded, floor_offset
from microcredit.lending.periods import PeriodPlan
from microcredit.lending.schedule.model import (
    FlatInterest,
    Installment,
    InterestMethod,
    MultipleRounding,
    RepaymentMethod,
)

__all__ = [
    "AmortizationPlan",
    "AnnuityRow",
    "Ratio",
    "amortize",
    "amortize_carrying",
    "annuity_rows",
    "level_installment",
    "level_payment",
    "level_rows",
    "nominal_pmt",
    "period_rate",
]

Ratio = tuple[int, int]
"""An exact non-negative fraction (numerator, denominator > 0) of Python ints."""

_ZERO_RATE: Ratio = (0, 1)
_new_row = tuple.__new__


@dataclass(frozen=True, slots=True, kw_only=True)
class AmortizationPlan:
    """How a balance is amortised over given periods (everything but the dates).

    Amounts are `Money` in the rounding policy's currency; None means none (no fee, no
    fixed installment, nothing carried in).
    """

    principal: Money
    annual_rate: Decimal
    method: RepaymentMethod
    interest_method: InterestMethod
    rounding: RoundingPolicy
    installment_multiple: Money | None = None
    grace_on_principal: int = 0
    grace_on_interest_payment: int = 0
    interest_free_periods: int = 0
    fee_per_installment: Money | None = None
    fixed_installment: Money | None = None
    fixed_principal: Money | None = None
    first_number: int = 1
    deferred_interest: Money | None = None
    flat_interest: FlatInterest = FlatInterest.PER_PERIOD
    multiple_rounding: MultipleRounding = MultipleRounding.INSTALLMENT
    level_rate: Decimal | None = None
    """The one nominal periodic rate the level installment is computed at by `nominal_pmt`
    (`LevelInstallment.NOMINAL_PMT`); None: the exact annuity over the periods' own factors."""

    def __post_init__(self) -> None:
        code = self.rounding.currency
        for amount in (
            self.principal,
            self.installment_multiple,
            self.fee_per_installment,
            self.fixed_installment,
            self.fixed_principal,
            self.deferred_interest,
        ):
            if amount is not None and amount.currency != code:
                raise ValueError(f"a {code} plan cannot hold {amount.currency} amounts")


@functools.lru_cache(maxsize=8192)
def period_rate(annual_rate: Decimal, fraction: YearFraction) -> Ratio:
    """annual_rate x fraction as an exact fraction in lowest terms: 0.12 x 1/12 -> (1, 100)."""
    p, q = annual_rate.as_integer_ratio()
    numerator = p * fraction.numerator
    denominator = q * fraction.denominator
    if denominator < 0:
        numerator, denominator = -numerator, -denominator
    if numerator < 0:
        raise ValueError("interest factors cannot be negative")
    return Fraction(numerator, denominator).as_integer_ratio()


def _round_to_multiple(numerator: int, denominator: int, multiple: int | None, mode: RoundingMode) -> int:
    """numerator/denominator (minor units) rounded to a whole number of `multiple` minor units."""
    if multiple is None:
        return divide_rounded(numerator, denominator, mode)
    return divide_rounded(numerator, denominator * multiple, mode) * multiple


def level_payment(principal: int, rates: Sequence[Ratio], mode: RoundingMode, multiple: int | None = None) -> int:
    """The level payment (minor units) repaying `principal` (minor units) over periods at `rates`.

    The integer kernel of `level_installment`: the annuity is computed as a
    fraction of Python ints and rounded once, to a unit or to `multiple`
    (a positive number of minor units).
    """
    m = len(rates)
    first = rates[0]
    if rates.count(first) == m:
        return _annuity(principal, first, m, multiple, mode)
    # The annuity factor sum_k prod_{i<=k} b_i/(a_i+b_i) = d_1 (1 + d_2 (1 + ... (1 + d_m))), by
    # Horner from the last period as one fraction n/q of Python ints, never reduced (a gcd per
    # period cost more than the products); principal / (n/q) is rounded once, like any rational.
    a, b = rates[-1]
    n, q = b, a + b
    for a, b in reversed(rates[:-1]):
        n, q = b * (q + n), (a + b) * q
    return _round_to_multiple(principal * q, n, multiple, mode)


def _annuity(principal: int, rate: Ratio, m: int, multiple: int | None, mode: RoundingMode) -> int:
    """P r (1+r)^m / ((1+r)^m - 1) with r = a/b, i.e. P a (a+b)^m / (b ((a+b)^m - b^m)), rounded."""
    a, b = rate
    if a == 0:
        return _round_to_multiple(principal, m, multiple, mode)
    growth = (a + b) ** m
    return _round_to_multiple(principal * a * growth, b * (growth - b**m), multiple, mode)


def level_installment(
    principal: Money,
    factors: Sequence[Decimal | Fraction],
    *,
    rounding: RoundingPolicy,
    multiple: Money | None = None,
) -> Money:
    """The level payment repaying `principal` over periods with interest `factors`, rounded."""
    if principal.currency != rounding.currency:
        raise ValueError(f"a {rounding.currency} policy cannot round {principal.currency}")
    rates = [Fraction(f).as_integer_ratio() for f in factors]
    payment = level_payment(principal.minor, rates, rounding.mode, _multiple(multiple))
    return Money(payment, principal.currency)


def nominal_pmt(principal: int, rate: Decimal, periods: int, mode: RoundingMode, multiple: int | None = None,
                places: int = 2) -> int:
    """Fineract's level installment (rule K4): ``FinanicalFunctions.pmt`` in binary floating point.

    The payment repaying `principal` (minor units; `places` decimals) in `periods` payments at
    the periodic `rate`, computed with IEEE doubles in the order Fineract's Java computes it,
    read back as the shortest decimal of that double (``BigDecimal.valueOf(double)``) and
    rounded by `mode` to `multiple` minor units (None: one).  5,000.00 at 0.00986301369864
    (12 % x 30/365) over 18 periods: 304.5288… -> 30453, or 30500 to a multiple of 100.
    """
    balance = -float(Decimal(principal).scaleb(-places))  # house-rules: allow float (Fineract's PMT is a double)
    r = float(rate)  # house-rules: allow float (Fineract's PMT is a double)
    if r == 0:
        payment = -balance / periods
    else:
        growth = (r + 1) ** periods
        payment = (0 + balance * growth) * r / (1 * (1 - growth))
    exact = Decimal(repr(payment)).scaleb(places).as_integer_ratio()
    return _round_to_multiple(exact[0], exact[1], multiple, mode)


def _multiple(multiple: Money | None) -> int | None:
    """An installment multiple in minor units (None: the currency's unit)."""
    if multiple is None:
        return None
    if multiple.minor <= 0:
        raise ValueError("the multiple must be positive")
    return multiple.minor


def _rows(
    first_number: int,
    dates: PeriodPlan,
    n: int,
    principals: Sequence[int],
    interests: Sequence[int],
    fee: int,
    balances: Sequence[int],
    currency: str,
) -> tuple[Installment, ...]:
    columns = zip(
        range(first_number, first_number + n),
        dates.due_dates,
        dates.starts,
        dates.ends,
        dates.days,
        principals,
        interests,
        repeat(fee, n),
        balances,
        repeat(currency, n),
        strict=False,
    )
    return tuple(map(_new_row, repeat(Installment, n), columns))


AnnuityRow = tuple[int, int, int, int, int]  # number, payment, interest, principal, balance after — minor units


def annuity_rows(principal: Money, rate: Ratio, n: int, *, mode: RoundingMode) -> list[AnnuityRow] | None:
    """The exact equal-installment (等额本息) schedule in minor units: the engine's core loop.

    `rate` = a/b per period (exact), `n` periods.  Each row is (number,
    payment, interest, principal part, balance after) in minor units of the
    principal's currency; interest is balance × a / b rounded once by `mode`;
    the last row repays the balance (it absorbs the rounding residue).
    Exactly what `build_schedule` puts in its rows for a plain annuity,
    without dates or row objects — the like-for-like counterpart of a float
    amortization table.

        rows = annuity_rows(Money(1_000_000, "CNY"), (1, 100), 12, mode=RoundingMode.HALF_UP)
        rows[0]  == (1, 88849, 10000, 78849, 921151)
        rows[-1] == (12, 88847, 880, 87967, 0)

    None when the rounded installment would repay the loan before the last
    period (the general loop handles that case).
    """
    principal_minor = principal.minor
    a, b = rate
    if n < 2 or a <= 0:
        return None
    installment = _annuity(principal_minor, rate, n, None, mode)
    if installment * b <= principal_minor * a:
        return None
    rows: list[AnnuityRow] = []
    append = rows.append
    balance = principal_minor
    c = floor_offset(mode, b)
    if c is None:  # half-even: the tie rule needs the quotient's parity
        for k in range(1, n):
            interest = divide_rounded(balance * a, b, mode)
            part = installment - interest
            balance -= part
            append((k, installment, interest, part, balance))
    else:
        for k in range(1, n):
            interest = (balance * a + c) // b
            part = installment - interest
            balance -= part
            append((k, installment, interest, part, balance))
    if balance <= 0:
        return None
    interest = divide_rounded(balance * a, b, mode)
    append((n, balance + interest, interest, balance, 0))
    return rows


def level_rows(
    principal: Money,
    rate: Ratio,
    dates: PeriodPlan,
    policy: RoundingPolicy,
    fee_minor: int,
    first_number: int,
) -> tuple[tuple[Installment, ...], int] | None:
    """Level installments at one positive `rate` over every period of `dates`, and their total interest.

    The fast path (the schedule builder's kernel): no grace, no multiple, declining balance —
    `annuity_rows` with dates and row objects added; the fee per installment in minor units.
    None when it does not apply; the general loop then gives the rows.
    """
    n = dates.count
    core = annuity_rows(principal, rate, n, mode=policy.mode)
    if core is None:
        return None
    _, _, interests, principals, balances = zip(*core, strict=True)
    rows = _rows(first_number, dates, n, principals, interests, fee_minor, balances, policy.currency)
    return rows, sum(interests)


def _principal_grace(plan: AmortizationPlan, n: int) -> int:
    if plan.method in (RepaymentMethod.INTEREST_ONLY, RepaymentMethod.BULLET):
        return n - 1
    return min(plan.grace_on_principal, n - 1)


def _interest_grace(plan: AmortizationPlan, n: int) -> int:
    if plan.method is RepaymentMethod.BULLET:
        return n - 1
    return min(plan.grace_on_interest_payment, n - 1)


def _plain(plan: AmortizationPlan, rates: Sequence[Ratio]) -> bool:
    return (
        plan.method is RepaymentMethod.EQUAL_INSTALLMENT
        and plan.interest_method is InterestMethod.DECLINING_BALANCE
        and plan.installment_multiple is None
        and plan.fixed_installment is None
        and not plan.grace_on_principal
        and not plan.grace_on_interest_payment
        and not plan.interest_free_periods
        and plan.deferred_interest is None
        and plan.level_rate is None
        and rates.count(rates[0]) == len(rates)
    )


def amortize(
    plan: AmortizationPlan,
    dates: PeriodPlan,
    fractions: Sequence[YearFraction],
    *,
    fast: bool = True,
) -> tuple[Installment, ...]:
    """Installments of `plan` over the periods of `dates`, interest on `fractions`."""
    return amortize_carrying(plan, dates, fractions, fast=fast)[0]


def amortize_carrying(
    plan: AmortizationPlan,
    dates: PeriodPlan,
    fractions: Sequence[YearFraction],
    *,
    fast: bool = True,
) -> tuple[tuple[Installment, ...], tuple[int, ...]]:
    """The installments, and the interest (minor units) carried unpaid after each (0 outside a grace)."""
    n = dates.count
    if n == 0 or len(fractions) != n:
        raise ValueError("one year fraction is needed per period")
    principal = plan.principal.minor
    fee = 0 if plan.fee_per_installment is None else plan.fee_per_installment.minor
    rates = [period_rate(plan.annual_rate, f) for f in fractions]
    if fast and _plain(plan, rates):
        level = level_rows(plan.principal, rates[0], dates, plan.rounding, fee, plan.first_number)
        if level is not None:
            return level[0], (0,) * len(level[0])
    return _general(plan, dates, rates, principal, fee)


def _spread_flat_interest(plan: AmortizationPlan, rates: Sequence[Ratio], principal: int,
                          free: int) -> list[int] | None:
    """Each period's flat interest under ``total_spread`` (None under ``per_period``): the term's
    total, principal x the sum of the factors, rounded once, divided over the interest-bearing
    periods (rounded), the last of them taking the residue."""
    if plan.flat_interest is not FlatInterest.TOTAL_SPREAD:
        return None
    mode = plan.rounding.mode
    total_rate = sum((Fraction(a, b) for a, b in rates[free:]), Fraction(0))
    total = divide_rounded(principal * total_rate.numerator, total_rate.denominator, mode)
    bearing = len(rates) - free
    if bearing <= 0:
        return [0] * len(rates)
    each = divide_rounded(total, bearing, mode)
    return [0] * free + [each] * (bearing - 1) + [total - each * (bearing - 1)]


def _general(
    plan: AmortizationPlan, dates: PeriodPlan, rates: Sequence[Ratio], principal: int, fee: int
) -> tuple[tuple[Installment, ...], tuple[int, ...]]:
    """The reference loop: every method, grace, deferral, multiple and clamp."""
    n = dates.count
    mode = plan.rounding.mode
    free = plan.interest_free_periods
    rates = [_ZERO_RATE if k < free else rate for k, rate in enumerate(rates)]
    grace = _principal_grace(plan, n)
    interest_grace = _interest_grace(plan, n)
    flat = plan.interest_method is InterestMethod.FLAT
    level = plan.method is RepaymentMethod.EQUAL_INSTALLMENT
    paying = n - grace
    multiple = _multiple(plan.installment_multiple)

    spread = _spread_flat_interest(plan, rates, principal, free) if flat else None
    shares = flat and level and plan.fixed_installment is None and plan.multiple_rounding is MultipleRounding.SHARES
    installment = 0
    equal_part = 0
    if shares and plan.fixed_principal is not None:
        equal_part = plan.fixed_principal.minor
    elif shares:
        equal_part = _round_to_multiple(principal, paying, multiple, mode)
    elif level:
        if plan.fixed_installment is not None:
            installment = plan.fixed_installment.minor
        elif spread is not None:
            installment = _round_to_multiple(principal + sum(spread[grace:]), paying, multiple, mode)
        elif flat:
            flat_interest = sum(divide_rounded(principal * a, b, mode) for a, b in rates[grace:])
            installment = _round_to_multiple(principal + flat_interest, paying, multiple, mode)
        elif plan.level_rate is not None:
            places = CURRENCIES[plan.rounding.currency].places
            installment = nominal_pmt(principal, plan.level_rate, paying, mode, multiple, places)
        else:
            installment = level_payment(principal, rates[grace:], mode, multiple)
    elif plan.fixed_principal is not None:
        equal_part = plan.fixed_principal.minor
    else:
        equal_part = divide_rounded(principal, paying, mode)

    principals: list[int] = []
    interests: list[int] = []
    balances: list[int] = []
    carried: list[int] = []
    balance = principal
    deferred = 0 if plan.deferred_interest is None else plan.deferred_interest.minor
    last = n - 1
    for k in range(n):
        a, b = rates[k]
        if spread is not None:
            interest = spread[k]
        else:
            interest = divide_rounded((principal if flat else balance) * a, b, mode) if a else 0
        if k == last:
            part = balance
        elif k < grace:
            part = 0
        elif shares:
            part = equal_part + _round_to_multiple(interest, 1, multiple, mode) - interest
        else:
            part = (installment - interest) if level else equal_part
            if part > balance:
                part = balance
            elif part < 0:
                part = 0
        if k < interest_grace and k != last:
            deferred += interest
            interest_due = 0
        else:
            interest_due = interest + deferred
            deferred = 0
        balance -= part
        principals.append(part)
        interests.append(interest_due)
        balances.append(balance)
        carried.append(deferred)
        if not balance and not deferred and k >= grace:
            break
    currency = plan.rounding.currency
    rows = _rows(plan.first_number, dates, len(principals), principals, interests, fee, balances, currency)
    return rows, tuple(carried)
