"""随借随还、按日计息: revolving credit with daily interest.

The borrower draws and repays on any day; interest accrues every day on
the day's principal balance:

    interest = sum over days (balance of the day x annual rate / day basis)

computed exactly over the segments where the balance is constant and
rounded once; each segment's share is the difference of the rounded
running totals, so the shares add up to the total to the fen.

Which balance a day bears depends on the day-counting rule:

- ``head_not_tail`` (算头不算尾, the default): a draw bears interest on its
  day, a repayment stops interest on its day (the day's balance is the
  balance at the end of the day);
- ``both_ends`` (两头都算): the repayment day still bears interest on the
  amount repaid (repayments take effect at the end of the day).

The credit limit and the balance are checked movement by movement, in date
order and, within a day, in the order the movements are given: a borrower
at a 10,000 limit who repays 5,000 and then draws 5,000 on the same day
stays within it; drawing first would not.  Interest is unaffected by the
order within a day, since it is charged on the day's closing balance.

Worked example (docs/domain.md §4.4): draw 10,000 on day 0, repay 4,000 on day
20 and the remaining 6,000 on day 45, at 12 % on a 360-day basis:
10,000 x 0.12 / 360 x 20 + 6,000 x 0.12 / 360 x 25 = 66.67 + 50.00 = 116.67.
On a 365-day basis the total is 115.07; counting both ends it is
10,000 x 0.12 / 360 x 21 + 6,000 x 0.12 / 360 x 25 = 120.00.

The APR of a revolving statement is found XIRR-style on actual days (see
`apr`): draws are cash received, repayments and the interest settled on the
settlement date are cash paid.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from microcredit.lending.apr import AprDisclosure, CashFlow, disclose
from microcredit.lending.daycount import DayCount
from microcredit.lending.money import Money, RoundingPolicy, divide_rounded

__all__ = [
    "BalanceSegment",
    "DayCounting",
    "Movement",
    "MovementKind",
    "RevolvingStatement",
    "RevolvingTerms",
    "accrue_revolving",
]


class DayCounting(StrEnum):
    """Whether the repayment day bears interest."""

    HEAD_NOT_TAIL = "head_not_tail"  # 算头不算尾
    BOTH_ENDS = "both_ends"  # 两头都算


class MovementKind(StrEnum):
    """A draw (借) or a repayment of principal (还)."""

    DRAW = "draw"
    REPAYMENT = "repayment"


@dataclass(frozen=True, slots=True)
class Movement:
    """A draw or a principal repayment on a day."""

    on: date
    kind: MovementKind
    amount: Money

    def __post_init__(self) -> None:
        if not self.amount.is_positive:
            raise ValueError("a draw or repayment is a positive amount")


@dataclass(frozen=True, slots=True, kw_only=True)
class RevolvingTerms:
    """Rate, day count, counting rule, rounding and credit limit of a revolving line."""

    annual_rate: Decimal
    day_count: DayCount
    counting: DayCounting
    rounding: RoundingPolicy
    limit: Money | None = None


@dataclass(frozen=True, slots=True)
class BalanceSegment:
    """Days [start, end) at a constant principal balance, and their interest."""

    start: date
    end: date
    days: int
    balance: Money
    interest: Money


@dataclass(frozen=True)
class RevolvingStatement:
    """Interest on a revolving line up to a settlement date."""

    segments: tuple[BalanceSegment, ...]
    total_interest: Money
    closing_balance: Money
    settled_on: date
    movements: tuple[Movement, ...]
    nominal_annual_rate: Decimal
    day_basis: int

    @functools.cached_property
    def disclosure(self) -> AprDisclosure:
        """APR of the statement's cash flows (XIRR on days), interest paid on settlement."""
        flows = [CashFlow(m.on, m.amount if m.kind is MovementKind.DRAW else -m.amount, 0) for m in self.movements]
        flows.append(CashFlow(self.settled_on, -(self.total_interest + self.closing_balance), 0))
        flows = [flow for flow in flows if not flow.amount.is_zero]
        return disclose(
            cash_flows=flows,
            nominal_annual_rate=self.nominal_annual_rate,
            periods_per_year=Decimal(self.day_basis),
            regular=False,
            day_basis=self.day_basis,
        )


def accrue_revolving(
    movements: Sequence[Movement], terms: RevolvingTerms, settled_on: date | None = None
) -> RevolvingStatement:
    """Daily interest over `movements` up to `settled_on` (default: the last movement's day)."""
    if not movements:
        raise ValueError("a revolving statement needs at least one draw")
    # Movements of one day apply in the order given (a stable sort by date): repaying 5,000 then
    # drawing 5,000 at the limit is allowed.  Interest only sees the day's closing balance.
    ordered = sorted(movements, key=lambda m: m.on)
    end = settled_on if settled_on is not None else ordered[-1].on
    if end < ordered[-1].on:
        raise ValueError("the settlement date is before the last movement")
    both_ends = terms.counting is DayCounting.BOTH_ENDS
    if both_ends and end == date.max:
        raise ValueError("counting both ends, a statement cannot settle on 9999-12-31")
    shift = timedelta(days=1 if both_ends else 0)
    code = terms.rounding.currency
    changes: dict[date, Money] = {}
    zero = terms.rounding.zero
    balance = zero
    for movement in ordered:
        if movement.kind is MovementKind.DRAW:
            balance += movement.amount
            if terms.limit is not None and balance > terms.limit:
                raise ValueError(f"the draw on {movement.on} exceeds the credit limit")
            effective = movement.on
            delta = movement.amount
        else:
            if movement.amount > balance:
                raise ValueError(f"the repayment on {movement.on} exceeds the balance")
            balance -= movement.amount
            effective = movement.on + shift
            delta = -movement.amount
        changes[effective] = changes.get(effective, zero) + delta
    horizon = end + shift
    points = sorted(day for day in changes if day < horizon)
    segments: list[BalanceSegment] = []
    running = zero
    exact_total = Fraction(0)  # minor units
    rounded_total = zero
    rate = Fraction(terms.annual_rate)
    mode = terms.rounding.mode
    for index, start in enumerate(points):
        running += changes[start]
        stop = points[index + 1] if index + 1 < len(points) else horizon
        if stop <= start:
            continue
        fraction = terms.day_count.year_fraction(start, stop)
        exact_total += running.minor * rate * Fraction(*fraction)
        rounded = Money(divide_rounded(exact_total.numerator, exact_total.denominator, mode), code)
        segments.append(BalanceSegment(start, stop, (stop - start).days, running, rounded - rounded_total))
        rounded_total = rounded
    return RevolvingStatement(
        segments=tuple(segments),
        total_interest=rounded_total,
        closing_balance=balance,
        settled_on=end,
        movements=tuple(ordered),
        nominal_annual_rate=terms.annual_rate,
        day_basis=terms.day_count.basis,
    )
