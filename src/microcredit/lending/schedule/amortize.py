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

Fast path.  The common case -- level installments, declining balance,
equal factors, no grace, no multiple -- runs a branch-free loop and builds
its rows column-wise; the general loop handles everything else, and a
property test checks both give identical rows.  The fast loop replaces the
division ``B x num / den`` by one multiplication ``B x m`` where m is
num/den rounded *towards the side that cannot cross a rounding boundary*
(up for half-up and down, down for up), with just enough digits that the
error stays below the smallest gap between an exact result and a boundary:
B x num / den is a fraction with denominator M = 2 x 10^(places + e) x den
(e the decimal places of num), so it is either on a boundary or at least
1/M away from one, while |B x m - B x num / den| < B x m x 10^(1-p) for m
with p digits; p is chosen so that B_max x m x M < 10^(p-1).  The product
is exact in the 50-digit engine context.  Half-even needs exact ties and
always divides.

Worked example (DOMAIN.md §4.1): P = 10,000, r = 1 %, m = 12:
A = 10,000 x 0.01 x 1.01^12 / (1.01^12 - 1) = 888.4879 -> 888.49;
I_1 = 100.00, principal 788.49, B_1 = 9,211.51; ... I_12 = 8.80 and the
last installment is 879.67 + 8.80 = 888.47; total interest 661.86.
Equal principal on the same terms: 833.33 + 100.00 = 933.33 first,
833.37 + 8.33 = 841.70 last, total interest 650.00.
"""

from __future__ import annotations

import decimal
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import repeat

from microcredit.lending.daycount import YearFraction
from microcredit.lending.money import ENGINE_CONTEXT, ZERO, RoundingMode, RoundingPolicy
from microcredit.lending.periods import PeriodPlan
from microcredit.lending.schedule.model import Installment, InterestMethod, RepaymentMethod

__all__ = ["AmortizationPlan", "amortize", "exact_multiplier", "level_installment"]

_ONE = Decimal(1)
_new_row = tuple.__new__


@dataclass(frozen=True, slots=True)
class AmortizationPlan:
    """How a balance is amortised over given periods (everything but the dates)."""

    principal: Decimal
    annual_rate: Decimal
    method: RepaymentMethod
    interest_method: InterestMethod
    rounding: RoundingPolicy
    installment_multiple: Decimal | None = None
    grace_on_principal: int = 0
    grace_on_interest_payment: int = 0
    interest_free_periods: int = 0
    fee_per_installment: Decimal = ZERO
    fixed_installment: Decimal | None = None
    fixed_principal: Decimal | None = None
    first_number: int = 1


def _principal_grace(plan: AmortizationPlan, n: int) -> int:
    if plan.method in (RepaymentMethod.INTEREST_ONLY, RepaymentMethod.BULLET):
        return n - 1
    return min(plan.grace_on_principal, n - 1)


def _interest_grace(plan: AmortizationPlan, n: int) -> int:
    if plan.method is RepaymentMethod.BULLET:
        return n - 1
    return min(plan.grace_on_interest_payment, n - 1)


def level_installment(
    principal: Decimal,
    factors: Sequence[Decimal],
    rounding: RoundingPolicy,
    multiple: Decimal | None = None,
) -> Decimal:
    """The level payment repaying `principal` over periods with interest `factors`, rounded."""
    m = len(factors)
    first = factors[0]
    if factors.count(first) == m:
        if first == 0:
            exact = principal / m
        else:
            growth = (_ONE + first) ** m
            exact = principal * first * growth / (growth - _ONE)
    else:
        discount = _ONE
        annuity = ZERO
        for f in factors:
            discount /= _ONE + f
            annuity += discount
        exact = principal / annuity
    return rounding.round_to_multiple(exact, multiple)


def exact_multiplier(
    numerator: Decimal, denominator: int, max_balance: Decimal, policy: RoundingPolicy
) -> Decimal | None:
    """m with round(B x m) == round(B x numerator / denominator) for 0 <= B <= max_balance.

    None when no such single multiplier is safe (half-even rounding of a
    non-terminating ratio, or more digits than the engine context holds).
    """
    return _multiplier(numerator, denominator, max_balance.adjusted() + 1, policy)


@functools.lru_cache(maxsize=4096)
def _multiplier(numerator: Decimal, denominator: int, balance_digits: int, policy: RoundingPolicy) -> Decimal | None:
    with decimal.localcontext(ENGINE_CONTEXT):
        exponent = numerator.as_tuple().exponent
        assert isinstance(exponent, int)
        decimals = max(0, -exponent)
        gap_denominator = 2 * 10 ** (policy.places + decimals) * denominator
        bound = Decimal(10) ** balance_digits * numerator / denominator * gap_denominator
        if bound <= 0:
            return ZERO
        digits = bound.adjusted() + 3
        if digits > 34 or balance_digits + digits > 50:
            return None
        if policy.mode in (RoundingMode.HALF_UP, RoundingMode.DOWN):
            direction = decimal.ROUND_CEILING
        elif policy.mode is RoundingMode.UP:
            direction = decimal.ROUND_FLOOR
        else:
            exact_context = ENGINE_CONTEXT.copy()
            exact = exact_context.divide(numerator, Decimal(denominator))
            return None if exact_context.flags[decimal.Inexact] else exact
        context = decimal.Context(prec=digits, rounding=direction)
        return context.divide(numerator, Decimal(denominator))


def _numbers(first: int, n: int) -> range:
    return range(first, first + n)


def _rows(
    plan: AmortizationPlan,
    dates: PeriodPlan,
    n: int,
    principals: list[Decimal],
    interests: list[Decimal],
    totals: list[Decimal],
    balances: list[Decimal],
) -> tuple[Installment, ...]:
    columns = zip(
        _numbers(plan.first_number, n),
        dates.due_dates,
        dates.starts,
        dates.ends,
        dates.days,
        principals,
        interests,
        repeat(plan.fee_per_installment, n),
        totals,
        balances,
        strict=False,
    )
    return tuple(map(_new_row, repeat(Installment, n), columns))


def _fast_level(
    plan: AmortizationPlan, dates: PeriodPlan, numerator: Decimal, denominator: int
) -> tuple[Installment, ...] | None:
    """Level installments with equal factors and no grace; None if the fast path does not apply."""
    policy = plan.rounding
    n = dates.count
    principal = plan.principal
    factor = numerator / denominator
    installment = level_installment(principal, [factor] * n, policy, None)
    multiplier = exact_multiplier(numerator, denominator, principal, policy)
    if multiplier is None or installment <= principal * factor:
        return None
    quantum, rounding = policy.quantum, policy.rounding
    interests: list[Decimal] = []
    balances: list[Decimal] = []
    add_interest = interests.append
    add_balance = balances.append
    balance = principal
    for _ in range(n - 1):
        interest = (balance * multiplier).quantize(quantum, rounding)
        balance = balance - installment + interest
        add_interest(interest)
        add_balance(balance)
    if balance <= 0:
        return None
    last_interest = (balance * multiplier).quantize(quantum, rounding)
    interests.append(last_interest)
    principals = list(map(installment.__sub__, interests))
    principals[-1] = balance
    fee = plan.fee_per_installment
    level_total = installment + fee
    totals = [level_total] * n
    totals[-1] = balance + last_interest + fee
    balances.append(balance - balance)
    return _rows(plan, dates, n, principals, interests, totals, balances)


def _plain(plan: AmortizationPlan, fractions: Sequence[YearFraction]) -> bool:
    first = fractions[0]
    return (
        plan.method is RepaymentMethod.EQUAL_INSTALLMENT
        and plan.interest_method is InterestMethod.DECLINING_BALANCE
        and plan.installment_multiple is None
        and plan.fixed_installment is None
        and not plan.grace_on_principal
        and not plan.grace_on_interest_payment
        and not plan.interest_free_periods
        and plan.annual_rate > 0
        and len(fractions) > 1
        and fractions.count(first) == len(fractions)
    )


def amortize(
    plan: AmortizationPlan,
    dates: PeriodPlan,
    fractions: Sequence[YearFraction],
    *,
    fast: bool = True,
) -> tuple[Installment, ...]:
    """Installments of `plan` over the periods of `dates`, interest on `fractions`."""
    n = dates.count
    if n == 0 or len(fractions) != n:
        raise ValueError("one year fraction is needed per period")
    if fast and _plain(plan, fractions):
        numerator = plan.annual_rate * fractions[0].numerator
        rows = _fast_level(plan, dates, numerator, fractions[0].denominator)
        if rows is not None:
            return rows
    return _general(plan, dates, fractions)


def _general(plan: AmortizationPlan, dates: PeriodPlan, fractions: Sequence[YearFraction]) -> tuple[Installment, ...]:
    """The reference loop: every method, grace, deferral, multiple and clamp."""
    n = dates.count
    rate = plan.annual_rate
    free = plan.interest_free_periods
    numerators = [rate * f.numerator if k >= free else ZERO for k, f in enumerate(fractions)]
    denominators = [Decimal(f.denominator) for f in fractions]
    grace = _principal_grace(plan, n)
    interest_grace = _interest_grace(plan, n)
    principal = plan.principal
    policy = plan.rounding
    quantum, rounding = policy.quantum, policy.rounding
    flat = plan.interest_method is InterestMethod.FLAT
    level = plan.method is RepaymentMethod.EQUAL_INSTALLMENT
    paying = n - grace
    zero = policy.round(ZERO)

    installment = zero
    equal_part = zero
    if level:
        if plan.fixed_installment is not None:
            installment = plan.fixed_installment
        elif flat:
            flat_interest = sum(
                ((principal * numerators[k] / denominators[k]).quantize(quantum, rounding) for k in range(grace, n)),
                ZERO,
            )
            installment = policy.round_to_multiple((principal + flat_interest) / paying, plan.installment_multiple)
        else:
            factors = [numerators[k] / denominators[k] for k in range(grace, n)]
            installment = level_installment(principal, factors, policy, plan.installment_multiple)
    elif plan.fixed_principal is not None:
        equal_part = plan.fixed_principal
    else:
        equal_part = policy.round(principal / paying)

    fee = plan.fee_per_installment
    principals: list[Decimal] = []
    interests: list[Decimal] = []
    totals: list[Decimal] = []
    balances: list[Decimal] = []
    balance = principal
    deferred = zero
    last = n - 1
    for k in range(n):
        numerator = numerators[k]
        if numerator:
            base = principal if flat else balance
            interest = (base * numerator / denominators[k]).quantize(quantum, rounding)
        else:
            interest = zero
        if k == last:
            part = balance
        elif k < grace:
            part = zero
        else:
            part = (installment - interest) if level else equal_part
            if part > balance:
                part = balance
            elif part < 0:
                part = zero
        if k < interest_grace and k != last:
            deferred += interest
            interest_due = zero
        else:
            interest_due = interest + deferred
            deferred = zero
        balance = balance - part
        principals.append(part)
        interests.append(interest_due)
        totals.append(part + interest_due + fee)
        balances.append(balance)
        if not balance and not deferred and k >= grace:
            break
    return _rows(plan, dates, len(principals), principals, interests, totals, balances)
