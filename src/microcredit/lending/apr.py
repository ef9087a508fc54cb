"""Annualised rate (APR) by internal rate of return, in Decimal.

PBOC Announcement 〔2021〕 No. 3 requires the annualised rate to be shown,
computed by the compound (IRR) method over the principal actually occupied.
The cash flows are the borrower's: CF_0 = + net cash received (principal
minus fees deducted at disbursement), CF_t = - everything paid in period t
(principal + interest + fees, third-party fees included).  Each `CashFlow`
carries `Money`; the solver works on their exact Decimal values (`irr` and
`xirr_daily` take plain Decimals).  The periodic rate r solves

    sum_t CF_t / (1 + r)^t = 0

and is found by Newton's method on [-0.99, 1] per period (the upper end
doubled, up to 2^20, while the root lies above it: a 10-year bullet loan at
12 % is one period earning 120 %), falling back to bisection whenever a
Newton step leaves the bracket; it stops when
|NPV| < 1e-9 (docs/domain.md §2.3).  Then

    nominal APR = r x periods per year        EAR = (1 + r)^k - 1

For irregular dates (a broken first period, the 20th-of-quarter rule,
revolving draws) the same equation is solved XIRR-style on actual days:
t is the number of days since disbursement and r a daily rate, so
EAR = (1 + r_day)^basis - 1 and the nominal APR is restated at the
schedule's own frequency, k x ((1 + EAR)^(1/k) - 1), which equals r x k
when the dates are regular.  The day basis is a stated parameter (365 by
default) and is recorded in the result.

Worked examples (docs/domain.md §2.3, tolerance 0.005 percentage points):

- A: +10,000; 12 x -888.49 -> r = 1.0000 %/month, APR 12.00 %, EAR 12.68 %;
- B: +12,000; 12 x -1,072 -> r = 1.0862 %, APR 13.03 %, EAR 13.84 %;
- C: +9,500 (500 deducted); 12 x -888.49 -> r = 1.8214 %, APR 21.86 %;
- E: +10,000; 11 x -100; -10,100 -> APR 12.00 %.

Open question (docs/domain.md §6.1): the annex of 2021 No. 3 is assumed to
annualise as periodic IRR x periods per year (nominal), not as the
effective (1 + r)^12 - 1.  Both figures are in the result; the nominal one
is the disclosed APR.
"""

from __future__ import annotations

import decimal
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from microcredit.lending.money import ENGINE_CONTEXT, Money, in_engine_context

__all__ = [
    "AprDisclosure",
    "AprMethod",
    "CashFlow",
    "disclose",
    "irr",
    "xirr_daily",
]

_ZERO = Decimal(0)
_ONE = Decimal(1)
# Stop when the NPV is this small beside the largest flow: a fixed 1e-9 let the rate of a
# 1-yuan loan off 1e-9 away from its root; relative to the flows, 24 of the 50 digits hold.
_RELATIVE_TOLERANCE = Decimal("1e-24")
_LOW = Decimal("-0.99")
_HIGH = Decimal(1)
_CEILING = Decimal(2**20)
_RATE_PLACES = Decimal("1e-12")


class AprMethod(StrEnum):
    """How the periodic rate was found."""

    PERIODIC_IRR = "periodic_irr"
    XIRR_DAYS = "xirr_days"


@dataclass(frozen=True, slots=True)
class CashFlow:
    """A borrower's cash flow: + received, - paid, on a date at period index `period`."""

    on: date
    amount: Money
    period: int


@dataclass(frozen=True, slots=True)
class AprDisclosure:
    """The annualised-rate disclosure of a loan (fractions, e.g. 0.12 = 12 %)."""

    nominal_annual_rate: Decimal
    apr: Decimal
    ear: Decimal
    periodic_rate: Decimal
    periods_per_year: Decimal
    method: AprMethod
    day_basis: int
    net_cash_received: Money
    total_payments: Money
    total_cost_of_credit: Money
    cash_flows: tuple[CashFlow, ...]

    @property
    def apr_percent(self) -> Decimal:
        """The APR in percent, 2 places (as displayed)."""
        return self.apr.scaleb(2, ENGINE_CONTEXT).quantize(Decimal("0.01"), context=ENGINE_CONTEXT)

    @property
    def ear_percent(self) -> Decimal:
        """The effective annual rate in percent, 2 places."""
        return self.ear.scaleb(2, ENGINE_CONTEXT).quantize(Decimal("0.01"), context=ENGINE_CONTEXT)


def _npv_and_slope(flows: Sequence[tuple[int, Decimal]], rate: Decimal) -> tuple[Decimal, Decimal]:
    """NPV at `rate` and its derivative, for flows at integer times."""
    v = _ONE / (_ONE + rate)
    npv = _ZERO
    slope = _ZERO
    for t, amount in flows:
        discounted = amount * v**t
        npv += discounted
        slope -= t * discounted * v
    return npv, slope


@in_engine_context
def _solve(flows: Sequence[tuple[int, Decimal]], guess: Decimal) -> Decimal:
    """The root of NPV(r) in [-0.99, 1] (or above 1, up to 2^20) by safeguarded Newton."""
    try:
        return _newton(flows, guess)
    except decimal.Overflow:  # 1 / (1 - 0.99)^t beyond 10^999999: t > 499,999 periods (days)
        raise ValueError("the cash flows span too many periods to find their rate") from None


def _newton(flows: Sequence[tuple[int, Decimal]], guess: Decimal) -> Decimal:
    low, high = _LOW, _HIGH
    npv_low, _ = _npv_and_slope(flows, low)
    npv_high, _ = _npv_and_slope(flows, high)
    # A long period (a 10-year bullet loan at 12 % earns 120 %) may put the root above 100 %.
    while npv_high != 0 and (npv_low > 0) == (npv_high > 0) and high < _CEILING:
        high *= 2
        npv_high, _ = _npv_and_slope(flows, high)
    if npv_low == 0:
        return low
    if npv_high == 0:
        return high
    if (npv_low > 0) == (npv_high > 0):
        raise ValueError("the cash flows have no rate of return between -99 % and 104,857,600 % a period")
    rate = guess if low < guess < high else (low + high) / 2
    tolerance = _RELATIVE_TOLERANCE * max(abs(amount) for _, amount in flows)
    for _ in range(300):
        npv, slope = _npv_and_slope(flows, rate)
        if abs(npv) < tolerance:
            return rate
        if (npv > 0) == (npv_low > 0):
            low, npv_low = rate, npv
        else:
            high = rate
        step_ok = slope != 0
        candidate = rate - npv / slope if step_ok else rate
        if not step_ok or not low < candidate < high:
            candidate = (low + high) / 2
        if candidate == rate:
            return rate
        rate = candidate
    return rate


def irr(amounts: Sequence[Decimal], guess: Decimal = Decimal("0.01")) -> Decimal:
    """Periodic IRR of flows at times 0, 1, 2, ... (one amount per period)."""
    return _solve(list(enumerate(amounts)), guess)


def xirr_daily(flows: Sequence[tuple[date, Decimal]], guess: Decimal = Decimal("0.0003")) -> Decimal:
    """Daily IRR of dated flows: sum CF_i / (1 + r)^(days since the first date) = 0."""
    first = min(on for on, _ in flows)
    return _solve([((on - first).days, amount) for on, amount in flows], guess)


@in_engine_context
def disclose(
    *,
    cash_flows: Sequence[CashFlow],
    nominal_annual_rate: Decimal,
    periods_per_year: Decimal,
    regular: bool,
    day_basis: int,
) -> AprDisclosure:
    """APR, EAR and total cost of credit of a borrower's cash flows (+ received, - paid)."""
    if not cash_flows or not cash_flows[0].amount.is_positive:
        raise ValueError("the first cash flow must be the positive amount received")
    code = cash_flows[0].amount.currency
    received = Money.total((flow.amount for flow in cash_flows if flow.amount.is_positive), code)
    paid = -Money.total((flow.amount for flow in cash_flows if flow.amount.is_negative), code)
    if regular:
        periodic = _solve([(flow.period, flow.amount.amount) for flow in cash_flows], Decimal("0.01"))
        apr = periodic * periods_per_year
        ear = (_ONE + periodic) ** periods_per_year - _ONE
        method = AprMethod.PERIODIC_IRR
    else:
        periodic = xirr_daily([(flow.on, flow.amount.amount) for flow in cash_flows])
        ear = (_ONE + periodic) ** day_basis - _ONE
        apr = periods_per_year * ((_ONE + ear) ** (_ONE / periods_per_year) - _ONE)
        method = AprMethod.XIRR_DAYS
    try:
        apr, ear = apr.quantize(_RATE_PLACES), ear.quantize(_RATE_PLACES)
    except decimal.InvalidOperation:  # 10^38 or more: no room for 12 places in 50 digits
        raise ValueError("the effective annual rate is too large to state") from None
    return AprDisclosure(
        nominal_annual_rate=nominal_annual_rate,
        apr=apr,
        ear=ear,
        periodic_rate=periodic.quantize(Decimal("1e-16")),
        periods_per_year=periods_per_year,
        method=method,
        day_basis=day_basis,
        net_cash_received=received,
        total_payments=paid,
        total_cost_of_credit=paid - received,
        cash_flows=tuple(cash_flows),
    )
