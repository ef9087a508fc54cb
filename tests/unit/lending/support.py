"""Shared test helpers: money and terms factories, hypothesis settings and strategies, a rounding oracle.

The oracle rounds exact `Fraction`s with integer arithmetic, independently
of the `decimal` module the engine uses, so the properties compare the
engine against arithmetic it does not share.  The factories state the
conventions the core needs (it has no defaults): `CNY` half-up, ACT/360,
equal installments on the declining balance, interest per repayment period.
"""

from __future__ import annotations

import decimal
import os
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from microcredit.lending.allocation import InstallmentDue
from microcredit.lending.calendar import BusinessDayRule
from microcredit.lending.daycount import ACT_360, ACT_364, ACT_365F, ACT_ACT_ISDA, THIRTY_360
from microcredit.lending.fees import Fee, FeeBasis, FeeKind, Payee
from microcredit.lending.money import Money, RoundingMode, RoundingPolicy
from microcredit.lending.periods import Frequency, MonthEndRule, PeriodSpec, PeriodUnit
from microcredit.lending.schedule import (
    InterestCalculation,
    InterestMethod,
    LoanTerms,
    RepaymentMethod,
)

_EXACT = decimal.Context(prec=1000)
CNY = RoundingPolicy("CNY", RoundingMode.HALF_UP)


def cny(text: str) -> Money:
    """An amount of yuan written as text: ``cny("888.49")``."""
    return Money.parse(text, "CNY")


def fen(units: int) -> Money:
    """An amount of yuan from a count of fen."""
    return Money(units, "CNY")


def due(number: int, on: date, principal: str = "0", interest: str = "0", fee: str = "0",
        penalty: str = "0") -> InstallmentDue:
    """What an installment owes, amounts in yuan as text."""
    return InstallmentDue(number, on, cny(principal), cny(interest), cny(fee), cny(penalty))


def make_terms(**values: object) -> LoanTerms:
    """`LoanTerms` with the conventions the tests take unless they say otherwise (CNY half-up, ACT/360).

    `principal` may be given as text (yuan).
    """
    defaults: dict[str, object] = {
        "method": RepaymentMethod.EQUAL_INSTALLMENT,
        "interest_method": InterestMethod.DECLINING_BALANCE,
        "interest_calculation": InterestCalculation.SAME_AS_REPAYMENT,
        "day_count": ACT_360,
        "rounding": CNY,
    }
    defaults.update(values)
    if isinstance(defaults.get("principal"), str):
        defaults["principal"] = cny(str(defaults["principal"]))
    if isinstance(defaults.get("installment_multiple"), str):
        defaults["installment_multiple"] = cny(str(defaults["installment_multiple"]))
    return LoanTerms(**defaults)  # type: ignore[arg-type]

# MC_HYP_EXAMPLES raises the number of examples for a deeper search than CI's (e.g. 2000), with
# fresh random examples each run; without it the 60 examples are the same on every run (see
# tests/conftest.py: what passes here passes in CI).
LENDING = settings(
    max_examples=int(os.environ.get("MC_HYP_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize="MC_HYP_EXAMPLES" not in os.environ,
)


def round_exact(value: Fraction, places: int = 2, mode: RoundingMode = RoundingMode.HALF_UP) -> Decimal:
    """Round an exact fraction to `places` with integer arithmetic (the test oracle)."""
    scaled = value * 10**places
    sign = -1 if scaled < 0 else 1
    magnitude = abs(scaled)
    q, r = divmod(magnitude.numerator, magnitude.denominator)
    d = magnitude.denominator
    if mode is RoundingMode.DOWN:
        up = False
    elif mode is RoundingMode.UP:
        up = r > 0
    elif mode is RoundingMode.HALF_UP:
        up = 2 * r >= d
    else:
        up = 2 * r > d or (2 * r == d and q % 2 == 1)
    units = sign * (q + (1 if up else 0))
    return Decimal(units).scaleb(-places, _EXACT)


money_cents = st.integers(min_value=10_000, max_value=1_000_000_000).map(fen)
rates = st.integers(min_value=0, max_value=360_000).map(lambda bp: Decimal(bp).scaleb(-6))
start_dates = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))
day_counts = st.sampled_from([ACT_360, ACT_365F, ACT_364, ACT_ACT_ISDA, THIRTY_360])
frequencies = st.sampled_from(
    [
        Frequency.monthly(),
        Frequency.quarterly(),
        Frequency.weekly(),
        Frequency.biweekly(),
        Frequency(PeriodUnit.MONTH, 2),
        Frequency(PeriodUnit.DAY, 10),
    ]
)
policies = st.builds(RoundingPolicy, st.just("CNY"), st.sampled_from(list(RoundingMode)))


@st.composite
def fee_lists(draw: st.DrawFn) -> tuple[Fee, ...]:
    """Zero to three fees of any kind, fixed or a percentage (of the principal; for fees charged
    once of the principal and interest or the interest alone; for fees per installment of each
    installment's principal + interest)."""
    fees = []
    for index in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(list(FeeKind)))
        if draw(st.booleans()):
            amount = fen(draw(st.integers(0, 50_000)))
            fees.append(Fee(f"fee{index}", kind, draw(st.sampled_from(list(Payee))), amount=amount))
        else:
            rate = Decimal(draw(st.integers(0, 300))).scaleb(-4)
            once = kind in (FeeKind.UPFRONT_DEDUCTED, FeeKind.AT_DISBURSEMENT)
            if once:
                basis = draw(st.sampled_from([FeeBasis.PRINCIPAL, FeeBasis.PRINCIPAL_AND_INTEREST, FeeBasis.INTEREST]))
            elif kind is FeeKind.PER_INSTALLMENT:
                basis = draw(st.sampled_from([FeeBasis.PRINCIPAL, FeeBasis.INSTALLMENT]))
            else:
                basis = FeeBasis.PRINCIPAL
            fees.append(Fee(f"fee{index}", kind, Payee.LENDER, rate=rate, basis=basis,
                            waivable=draw(st.booleans())))
    return tuple(fees)


@st.composite
def loan_terms(draw: st.DrawFn, *, plain: bool = False) -> LoanTerms:
    """Random products and loans; `plain` gives monthly, fee-free, grace-free annuities."""
    principal = draw(money_cents)
    rate = draw(rates)
    start = draw(start_dates)
    if plain:
        return make_terms(
            principal=principal,
            annual_rate=rate,
            periods=PeriodSpec(start, Frequency.monthly(), draw(st.integers(1, 60))),
            rounding=draw(policies),
        )
    frequency = draw(frequencies)
    count = draw(st.integers(1, 48))
    first_due = None
    if draw(st.booleans()):
        first_due = start + timedelta(days=draw(st.integers(1, 70)))
    method = draw(st.sampled_from(list(RepaymentMethod)))
    grace_principal = draw(st.integers(0, count - 1))
    grace_interest = draw(st.integers(0, count - 1))
    free = draw(st.integers(0, count))
    fees = draw(fee_lists())
    deducted = sum(
        (f.amount.amount if f.amount is not None else principal.amount * (f.rate or 0))
        for f in fees
        if f.kind in (FeeKind.UPFRONT_DEDUCTED, FeeKind.AT_DISBURSEMENT)
    )
    if deducted >= principal.amount:
        fees = ()
    return LoanTerms(
        principal=principal,
        annual_rate=rate,
        periods=PeriodSpec(
            start,
            frequency,
            count,
            first_due_date=first_due,
            month_end=draw(st.sampled_from(list(MonthEndRule))),
            business_day_rule=draw(st.sampled_from(list(BusinessDayRule))),
        ),
        method=method,
        interest_method=draw(st.sampled_from(list(InterestMethod))),
        interest_calculation=draw(st.sampled_from(list(InterestCalculation))),
        day_count=draw(day_counts),
        rounding=draw(policies),
        installment_multiple=draw(st.sampled_from([None, cny("1"), cny("10")])),
        grace_on_principal=grace_principal,
        grace_on_interest_payment=grace_interest,
        interest_free_periods=free,
        fees=fees,
    )
