"""随借随还: the credit limit and the balance checked in the order movements happen."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from microcredit.lending.daycount import ACT_360
from microcredit.lending.money import Money
from microcredit.lending.revolving import DayCounting, Movement, MovementKind, RevolvingTerms, accrue_revolving

from .support import CNY, LENDING, cny, fen

D = Decimal
DRAW, REPAY = MovementKind.DRAW, MovementKind.REPAYMENT
DAY0 = date(2025, 3, 1)
DAY5 = DAY0 + timedelta(days=5)
LIMITED = RevolvingTerms(
    annual_rate=D("0.12"), day_count=ACT_360, counting=DayCounting.HEAD_NOT_TAIL, rounding=CNY, limit=cny("10000.00")
)


def _statement(*movements: tuple[date, MovementKind, str]) -> Money:
    result = accrue_revolving(
        [Movement(on, kind, cny(amount)) for on, kind, amount in movements], LIMITED, DAY0 + timedelta(days=30)
    )
    return result.total_interest


@pytest.mark.parametrize(
    ("movements", "interest"),
    [
        # At the 10,000 limit: repay 5,000 then draw 5,000 on day 5.  The draw was checked
        # first (draws sorted before repayments) and refused at 15,000.
        # 10,000 x 0.12 / 360 x 30 = 100.00: the day's closing balance is 10,000 throughout.
        (((DAY0, DRAW, "10000.00"), (DAY5, REPAY, "5000.00"), (DAY5, DRAW, "5000.00")), cny("100.00")),
        # Repay everything and draw it again the same day: still 10,000 every evening.
        (((DAY0, DRAW, "10000.00"), (DAY5, REPAY, "10000.00"), (DAY5, DRAW, "10000.00")), cny("100.00")),
        # Draw 4,000 then repay 4,000 the same day: 6,000 x 0.12 / 360 x 30 = 60.00.
        (((DAY0, DRAW, "6000.00"), (DAY5, DRAW, "4000.00"), (DAY5, REPAY, "4000.00")), cny("60.00")),
    ],
)
def test_movements_of_one_day_apply_in_the_order_given(
    movements: tuple[tuple[date, MovementKind, str], ...], interest: Money
) -> None:
    assert _statement(*movements) == interest


def test_the_limit_and_the_balance_are_still_checked_in_that_order() -> None:
    with pytest.raises(ValueError, match="credit limit"):
        _statement((DAY0, DRAW, "10000.00"), (DAY5, DRAW, "5000.00"), (DAY5, REPAY, "5000.00"))
    with pytest.raises(ValueError, match="exceeds the balance"):
        _statement((DAY0, DRAW, "1000.00"), (DAY5, REPAY, "2000.00"), (DAY5, DRAW, "1000.00"))


def test_movements_given_out_of_date_order_are_sorted_by_date_only() -> None:
    # A later day listed first still applies after the earlier days; the day's own order is kept.
    assert _statement((DAY5, REPAY, "5000.00"), (DAY5, DRAW, "5000.00"), (DAY0, DRAW, "10000.00")) == cny("100.00")


@st.composite
def days_of_movements(draw: st.DrawFn) -> list[Movement]:
    """Draws and repayments over a few days that keep the balance in [0, 10,000] in the order given."""
    movements: list[Movement] = [Movement(DAY0, DRAW, fen(draw(st.integers(1, 1_000_000))))]
    balance = movements[0].amount
    for day in range(1, draw(st.integers(1, 4)) + 1):
        on = DAY0 + timedelta(days=day * 3)
        for _ in range(draw(st.integers(1, 4))):
            room = cny("10000.00") - balance
            if balance and (not room or draw(st.booleans())):
                amount = fen(draw(st.integers(1, balance.minor)))
                movements.append(Movement(on, REPAY, amount))
                balance -= amount
            elif room:
                amount = fen(draw(st.integers(1, room.minor)))
                movements.append(Movement(on, DRAW, amount))
                balance += amount
    return movements


@LENDING
@given(days_of_movements())
def test_a_history_within_the_limit_in_its_own_order_is_accepted_and_charged_on_closing_balances(
    movements: list[Movement],
) -> None:
    settled = movements[-1].on + timedelta(days=3)
    statement = accrue_revolving(movements, LIMITED, settled)
    assert statement.movements == tuple(movements)
    # Interest depends on each day's closing balance only: netting a day's movements into one
    # movement of the net amount gives the same interest to the fen.
    net: dict[date, Money] = {}
    for m in movements:
        net[m.on] = net.get(m.on, cny("0")) + (m.amount if m.kind is DRAW else -m.amount)
    netted = [Movement(on, DRAW if amount.is_positive else REPAY, abs(amount)) for on, amount in net.items() if amount]
    assert accrue_revolving(netted, LIMITED, settled).total_interest == statement.total_interest
