"""Deferral (展期) and rescheduling (重新安排还款计划) as events of the fold.

Worked on the docs/domain.md §4.1 loan (10,000 at 12 %, 12 × 888.49 from 2025-01-15);
the deferral figures are `restructure`'s worked example (its module docstring).
The invariants (principal conserved, reversal, order, the kept book) run with
both events in test_fold.py's random histories.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from microcredit.lending.classification import RiskCategory
from microcredit.lending.loan import (
    Deferral,
    EventRefused,
    LoanBook,
    Rescheduling,
    Reversal,
    fold,
)
from microcredit.lending.restructure import DeferralInterest

from ..support import cny
from .test_fold import DISBURSED, TERMS, due_date, on_time

DEFER = Deferral(id="defer", on=date(2025, 4, 10), from_installment=4, periods=2,
                 interest=DeferralInterest.PAYABLE, restructuring=True)


def test_a_deferral_inserts_interest_only_installments_and_moves_the_rest_on():
    state = fold(TERMS, [DISBURSED, *on_time(1, 2, 3), DEFER], as_of=date(2025, 4, 20))
    rows = state.installments
    assert len(rows) == 14
    assert [(r.number, r.due_date, r.due.principal, r.due.interest) for r in rows[3:5]] == [
        (4, date(2025, 5, 15), cny("0.00"), cny("76.11")),
        (5, date(2025, 6, 15), cny("0.00"), cny("76.11")),
    ]
    assert (rows[5].due_date, rows[5].due.principal, rows[5].due.interest) == (
        date(2025, 7, 15), cny("812.38"), cny("76.11"))
    assert rows[-1].due_date == date(2026, 3, 15)
    assert state.principal_identity()
    # Granted for financial difficulty: a performing loan is 关注 during the observation period.
    assert state.restructured_on == date(2025, 4, 10)
    assert state.dpd == 0
    assert state.classification.category is RiskCategory.SPECIAL_MENTION


def test_a_waived_deferral_charges_no_interest_and_a_commercial_one_is_not_a_restructuring():
    waived = Deferral(id="defer", on=date(2025, 4, 10), from_installment=4, periods=2,
                      interest=DeferralInterest.WAIVED, restructuring=False)
    state = fold(TERMS, [DISBURSED, *on_time(1, 2, 3), waived], as_of=date(2025, 4, 20))
    assert [r.due.total for r in state.installments[3:5]] == [cny("0.00"), cny("0.00")]
    assert state.restructured_on is None
    assert state.classification.category is RiskCategory.NORMAL


def test_the_observation_period_lasts_a_year_from_the_first_new_due_date():
    events = [DISBURSED, *on_time(1, 2, 3), DEFER]
    # First new due date 2025-05-15; observed until 2026-05-15 (after the last installment).
    paid = [*events, *(r for r in on_time(*range(4, 15)) if r.on >= date(2025, 5, 1))]
    assert fold(TERMS, paid, as_of=date(2026, 5, 14)).classification.category is RiskCategory.SPECIAL_MENTION


def test_a_new_overdue_during_observation_makes_the_loan_substandard():
    late = fold(TERMS, [DISBURSED, *on_time(1, 2, 3), DEFER], as_of=date(2025, 5, 20))
    assert late.dpd == 5
    assert late.classification.category is RiskCategory.SUBSTANDARD


def test_a_rescheduling_replaces_the_future_and_can_take_the_overdue_principal_in():
    # Installment 3 missed; on 2025-04-20 the loan is rescheduled over 12 months at 10 %.
    before = fold(TERMS, [DISBURSED, *on_time(1, 2)], as_of=date(2025, 4, 20))
    overdue = before.installments[2].outstanding
    balance = before.installments[2].balance_after
    event = Rescheduling(id="rs", on=date(2025, 4, 20), installments=12, annual_rate=Decimal("0.10"),
                         capitalise_overdue_principal=True)
    state = fold(TERMS, [DISBURSED, *on_time(1, 2), event], as_of=date(2025, 4, 20))
    rows = state.installments
    assert len(rows) == 3 + 12
    # Installment 3 keeps its interest as arrears; its principal moved into the new schedule.
    assert rows[2].outstanding.principal == cny("0.00")
    assert rows[2].outstanding.interest == overdue.interest
    new = rows[3:]
    assert sum((r.due.principal for r in new), cny("0.00")) == balance + overdue.principal
    assert new[0].due_date == date(2025, 5, 20)
    assert state.principal_identity()
    assert state.restructured_on == date(2025, 4, 20)
    # The first new installment pays 10 % on the new principal (plus 5 days accrued at 12 %).
    assert state.schedule is not None
    assert state.schedule.nominal_annual_rate == Decimal("0.10")


def test_a_rescheduled_loan_can_still_be_prepaid_and_reversing_the_rescheduling_restores_it():
    event = Rescheduling(id="rs", on=date(2025, 4, 20), installments=6)
    book = LoanBook.open(TERMS)
    for e in [DISBURSED, *on_time(1, 2, 3), event]:
        book = book.record(e)
    state = book.state(as_of=date(2025, 4, 20))
    assert len(state.installments) == 3 + 6
    book = book.record(Reversal(id="undo", on=date(2025, 4, 21), target="rs"))
    assert book.state(as_of=date(2025, 4, 21)).installments == fold(
        TERMS, [DISBURSED, *on_time(1, 2, 3)], as_of=date(2025, 4, 21)).installments


@pytest.mark.parametrize(
    ("event", "code"),
    [
        (Deferral(id="x", on=date(2025, 4, 20), from_installment=3, periods=1,
                  interest=DeferralInterest.PAYABLE, restructuring=False), "installment_not_deferrable"),
        (Deferral(id="x", on=date(2025, 4, 10), from_installment=4, periods=0,
                  interest=DeferralInterest.PAYABLE, restructuring=False), "periods_not_positive"),
        (Rescheduling(id="x", on=date(2025, 4, 10), installments=0), "periods_not_positive"),
        (Rescheduling(id="x", on=date(2025, 4, 10), installments=6, annual_rate=Decimal("12")),
         "rate_out_of_range"),
    ],
)
def test_restructurings_the_loan_cannot_take_are_refused(event, code):
    with pytest.raises(EventRefused) as refused:
        fold(TERMS, [DISBURSED, *on_time(1, 2, 3), event], as_of=date(2025, 5, 1))
    assert refused.value.code == code


def test_a_deferral_after_a_rescheduling_is_refused_and_nothing_left_cannot_be_rescheduled():
    rescheduled = Rescheduling(id="rs", on=date(2025, 4, 20), installments=6)
    later = Deferral(id="x", on=date(2025, 4, 25), from_installment=4, periods=1,
                     interest=DeferralInterest.PAYABLE, restructuring=True)
    with pytest.raises(EventRefused) as refused:
        fold(TERMS, [DISBURSED, *on_time(1, 2, 3), rescheduled, later], as_of=date(2025, 5, 1))
    assert refused.value.code == "rescheduled_loan"
    paid = [DISBURSED, *on_time(*range(1, 13))]
    with pytest.raises(EventRefused) as nothing:
        fold(TERMS, [*paid, Rescheduling(id="rs", on=due_date(12), installments=3)], as_of=due_date(12))
    assert nothing.value.code == "nothing_to_reschedule"
