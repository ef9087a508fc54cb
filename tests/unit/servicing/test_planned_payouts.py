"""A product's planned tranches (days after the first payout, percent of the approved amount) as a loan's
planned disbursements: dated from the first payout, each share to the fen, never more than approved."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from microcredit.lending.money import Money
from microcredit.servicing.service.loans import planned_payouts

FIRST = date(2026, 3, 2)


def test_sixty_forty_of_eight_thousand():
    plan = [{"after_days": 0, "percent": "60"}, {"after_days": 30, "percent": "40"}]
    out = planned_payouts(plan, Money.parse("8000.00", "CNY"), FIRST)
    assert [(p.on, str(p.amount)) for p in out] == [(FIRST, "4800.00"), (FIRST + timedelta(days=30), "3200.00")]


def test_thirds_of_a_fen_odd_amount_give_the_last_the_rest():
    plan = [{"after_days": d, "percent": "33.3333"} for d in (0, 10)] + [{"after_days": 20, "percent": "33.3334"}]
    out = planned_payouts(plan, Money.parse("100.01", "CNY"), FIRST)
    assert [str(p.amount) for p in out] == ["33.34", "33.34", "33.33"]


@given(principal=st.integers(min_value=1, max_value=10**10),
       shares=st.lists(st.integers(min_value=1, max_value=10_000), min_size=1, max_size=8))
def test_the_shares_add_up_to_at_most_the_amount_and_all_of_it_when_the_plan_is_whole(principal, shares):
    # Each share within half a fen of its percent (when none rounds to nothing), none empty.
    total = sum(shares)
    percents = [Decimal(s) * 100 / total for s in shares]
    percents = [p.quantize(Decimal("0.0001")) for p in percents]
    percents[-1] = Decimal(100) - sum(percents[:-1])
    if percents[-1] <= 0:
        return
    plan = [{"after_days": i, "percent": str(p)} for i, p in enumerate(percents)]
    out = planned_payouts(plan, Money(principal, "CNY"), FIRST)
    assert sum(p.amount.minor for p in out) == principal
    assert all(p.amount.is_positive for p in out)
    if len(out) == len(plan):
        for p, pct in zip(out[:-1], percents[:-1], strict=True):
            assert abs(Decimal(p.amount.minor) - Decimal(principal) * pct / 100) <= Decimal("0.5")
    part = planned_payouts(plan[:-1], Money(principal, "CNY"), FIRST) if len(plan) > 1 else []
    assert sum(p.amount.minor for p in part) <= principal
