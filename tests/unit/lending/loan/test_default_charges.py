"""Default charges of an overdue installment (issues 17 §7, 18 step 3): penalty interest, the late fee
(滞纳金) and the yearly ceiling on them together (DOMAIN's cap on default charges, docs/domain.md).

The loan is docs/domain.md §4.1's: 10,000.00 at 12 %, 12 monthly installments of 888.49; installment 1
(principal 788.49, interest 100.00) falls due on 15 February 2025.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from microcredit.lending.daycount import ACT_360
from microcredit.lending.delinquency import ChargeCap, LateFeeRule, PenaltyBasis, PenaltyRule
from microcredit.lending.loan import Repayment, fold, penalties_owed

from ..support import CNY, LENDING, cny, fen
from .test_fold import DISBURSED, TERMS, due_date

DUE = due_date(1)
PRINCIPAL, INTEREST = 78849, 10000  # installment 1, in fen
UPLIFT = PenaltyRule(basis=PenaltyBasis.UPLIFT, value=Decimal("0.5"), day_count=ACT_360,
                     compound_overdue_interest=False)  # 18 %
FEE = LateFeeRule(amount=cny("20.00"), rate=Decimal("0.02"), after_days=5)
CAP = ChargeCap(annual_rate=Decimal("0.24"), day_count=ACT_360)


def _first(events, on, **rules):
    state = fold(TERMS, [DISBURSED, *events], as_of=on)
    owed = penalties_owed(state, contract_rate=Decimal("0.12"), rounding=CNY, as_of=on, **rules)
    return next(o for o in owed if o.installment == 1)


def _fen(exact: Fraction) -> int:
    return int(exact + Fraction(1, 2))


def test_the_late_fee_is_charged_once_on_what_was_still_unpaid_on_its_day():
    # 5 days late, nothing paid: 20.00 + 2 % of 888.49 = 37.77, beside 5 days of penalty on the principal.
    on = DUE + timedelta(days=5)
    owed = _first([], on, rule=UPLIFT, late_fee_rule=FEE)
    penalty = _fen(Fraction(PRINCIPAL) * Fraction(18, 100) * Fraction(5, 360))
    assert owed.late_fee == cny("37.77")
    assert owed.accrued == owed.contractual == cny("37.77") + fen(penalty)
    # A day earlier there is no fee yet; weeks later it is still the same one fee.
    assert _first([], on - timedelta(days=1), rule=UPLIFT, late_fee_rule=FEE).late_fee == cny("0.00")
    assert _first([], on + timedelta(days=40), rule=UPLIFT, late_fee_rule=FEE).late_fee == cny("37.77")


def test_the_late_fee_follows_a_part_payment_before_its_day_and_is_never_charged_on_a_paid_installment():
    # 488.49 paid 3 days late (interest 100.00, then principal 388.49): 400.00 unpaid on day 5 -> 28.00.
    part = Repayment(id="p", on=DUE + timedelta(days=3), amount=cny("488.49"))
    assert _first([part], DUE + timedelta(days=9), rule=UPLIFT, late_fee_rule=FEE).late_fee == cny("28.00")
    # Paid in full on day 4 (with what penalty the grace-free rule has added): no fee, ever.
    paid = Repayment(id="p", on=DUE + timedelta(days=4), amount=cny("900.00"))
    assert _first([paid], DUE + timedelta(days=30), rule=UPLIFT, late_fee_rule=FEE).late_fee == cny("0.00")


def test_no_fee_within_the_grace_days_even_after_after_days():
    graced = PenaltyRule(basis=PenaltyBasis.UPLIFT, value=Decimal("0.5"), day_count=ACT_360, grace_days=7,
                        compound_overdue_interest=False)
    owed = fold(TERMS, [DISBURSED], as_of=DUE + timedelta(days=6))
    assert all(o.installment != 1 for o in penalties_owed(owed, contract_rate=Decimal("0.12"), rule=graced,
                                                          rounding=CNY, as_of=DUE + timedelta(days=6),
                                                          late_fee_rule=FEE))
    assert _first([], DUE + timedelta(days=8), rule=graced, late_fee_rule=FEE).late_fee == cny("37.77")


def test_the_ceiling_clips_a_penalty_rate_above_the_cap():
    # A fixed 36 % penalty rate with compound interest, 24 % ceiling on principal + interest unpaid.
    steep = PenaltyRule(basis=PenaltyBasis.FIXED, value=Decimal("0.36"), day_count=ACT_360,
                        compound_overdue_interest=True)
    on = DUE + timedelta(days=30)
    owed = _first([], on, rule=steep, cap=CAP)
    contractual = _fen(Fraction(PRINCIPAL + INTEREST) * Fraction(36, 100) * Fraction(30, 360))
    ceiling = _fen(Fraction(PRINCIPAL + INTEREST) * Fraction(24, 100) * Fraction(30, 360))
    assert owed.contractual.minor == contractual
    assert owed.accrued.minor == ceiling
    assert owed.clipped.minor == contractual - ceiling
    # Without a ceiling the contractual figure is what is owed.
    assert _first([], on, rule=steep).accrued.minor == contractual


def test_interest_the_overdue_principal_still_earns_counts_against_the_ceiling():
    steep = PenaltyRule(basis=PenaltyBasis.FIXED, value=Decimal("0.36"), day_count=ACT_360,
                        compound_overdue_interest=False)
    on = DUE + timedelta(days=30)
    owed = _first([], on, rule=steep, cap=CAP, overdue_earns_interest=True)
    # The principal's room is 24 % - 12 %; the unpaid interest keeps the whole 24 %.
    room = Fraction(PRINCIPAL) * Fraction(12, 100) + Fraction(INTEREST) * Fraction(24, 100)
    assert owed.accrued.minor == _fen(room * Fraction(30, 360))


def test_a_clipped_late_fee_is_charged_as_the_ceiling_makes_room_for_it():
    # The 18 % penalty leaves 24 % x 888.49 - 18 % x 788.49 = 71.31 a year of room beside it (0.20 a day).
    big = LateFeeRule(amount=cny("10.00"), rate=Decimal("0"), after_days=1)
    first = _first([], DUE + timedelta(days=1), rule=UPLIFT, late_fee_rule=big, cap=CAP)
    assert first.accrued == cny("0.59") < first.contractual  # one day of 24 % on 888.49
    assert _first([], DUE + timedelta(days=30), rule=UPLIFT, late_fee_rule=big, cap=CAP).clipped.is_positive
    later = _first([], DUE + timedelta(days=90), rule=UPLIFT, late_fee_rule=big, cap=CAP)
    assert later.accrued == later.contractual  # 90 days of room hold the fee and the penalty


@LENDING
@given(days=st.lists(st.integers(min_value=1, max_value=200), min_size=2, max_size=6, unique=True),
       pay_day=st.integers(min_value=0, max_value=200), pay=st.integers(min_value=0, max_value=100_000),
       value=st.sampled_from(["0.3", "0.5", "1.0", "2.0"]), fee_fen=st.integers(min_value=0, max_value=10_000),
       fee_pct=st.sampled_from(["0", "0.01", "0.05"]), after=st.integers(min_value=1, max_value=30),
       cap=st.sampled_from(["0.15", "0.24", "0.36"]), earns=st.booleans(), compound=st.booleans())
def test_default_charges_never_shrink_day_by_day_and_stay_within_the_ceiling(days, pay_day, pay, value, fee_fen,
                                                                             fee_pct, after, cap, earns, compound):
    """What the rules allow grows (or stays) as days pass, so charging the difference each day never needs
    taking anything back; it is never above the contractual figure, nor above the ceiling."""
    rule = PenaltyRule(basis=PenaltyBasis.UPLIFT, value=Decimal(value), day_count=ACT_360,
                       compound_overdue_interest=compound)
    fee = None if fee_fen == 0 and fee_pct == "0" else LateFeeRule(amount=fen(fee_fen),
                                                                  rate=Decimal(fee_pct), after_days=after)
    limit = ChargeCap(annual_rate=Decimal(cap), day_count=ACT_360)
    events = [Repayment(id="p", on=DUE + timedelta(days=pay_day), amount=fen(pay))] \
        if pay else []
    last = None
    for d in sorted(days):
        on = DUE + timedelta(days=d)
        if events and events[0].on > on:
            continue
        owed = _first(events, on, rule=rule, late_fee_rule=fee, cap=limit, overdue_earns_interest=earns)
        assert owed.accrued <= owed.contractual
        if last is not None:
            assert owed.accrued >= last
        last = owed.accrued
        unclipped = _first(events, on, rule=rule, late_fee_rule=fee)
        assert unclipped.accrued == unclipped.contractual == owed.contractual
