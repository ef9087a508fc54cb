"""Acceleration (宣布贷款提前到期) as an event of the fold.

Worked on the docs/domain.md §4.1 loan (10,000 at 12 % ACT/360, 12 × 888.49 from 2025-01-15);
the properties run on test_fold.py's random histories (every variant of terms there).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from microcredit.lending.loan import (
    Acceleration,
    ChargeAdded,
    EventRefused,
    LoanBook,
    PreClosure,
    Repayment,
    Reversal,
    WriteOff,
    fold,
)
from microcredit.lending.money import Money
from microcredit.lending.prepayment import standing

from ..support import LENDING, cny
from .test_fold import DISBURSED, START, TERMS, histories, on_time

CALLED = Acceleration(id="call", on=date(2025, 5, 1))
LATE = [DISBURSED, *on_time(1, 2)]  # installment 3 (due 2025-04-15) missed


def test_the_whole_principal_falls_due_with_interest_to_the_day_and_arrears_keep_their_date():
    state = fold(TERMS, [*LATE, CALLED], as_of=date(2025, 5, 1))
    rows = state.installments
    assert [r.number for r in rows] == [1, 2, 3, 4]
    # Installment 3 stays overdue as it was; installment 4 is the called one, due on the day:
    # the 7,610.80 left and 16 days of interest (7,610.80 × 12 % × 16/360 = 40.59), no more.
    assert (rows[2].due_date, rows[2].outstanding.total) == (date(2025, 4, 15), cny("888.49"))
    assert (rows[3].due_date, rows[3].due.principal, rows[3].due.interest, rows[3].due.fee) == (
        date(2025, 5, 1), cny("7610.80"), cny("40.59"), cny("0.00"))
    assert state.accelerated_on == date(2025, 5, 1)
    assert state.outstanding.total == state.due_now.total == cny("8539.88")
    assert state.payoff is not None
    assert state.payoff.total == cny("8539.88")
    assert state.principal_identity()
    # Days past due: from 2025-04-15 for the old arrears; nothing more accrues as interest later.
    assert state.dpd == 16
    later = fold(TERMS, [*LATE, CALLED], as_of=date(2025, 6, 20))
    assert later.dpd == 66
    assert later.outstanding.total == cny("8539.88")


def test_days_past_due_count_from_the_acceleration_date_when_nothing_was_overdue():
    events = [DISBURSED, *on_time(1, 2, 3), Acceleration(id="call", on=date(2025, 5, 1))]
    assert fold(TERMS, events, as_of=date(2025, 5, 1)).dpd == 0
    assert fold(TERMS, events, as_of=date(2025, 5, 11)).dpd == 10


def test_a_repayment_after_the_call_pays_the_arrears_first_then_the_called_amount():
    events = [*LATE, CALLED, Repayment(id="pay", on=date(2025, 5, 5), amount=cny("1000.00"))]
    state = fold(TERMS, events, as_of=date(2025, 5, 5))
    assert state.installments[2].settled
    assert state.installments[3].outstanding.total == cny("8539.88") - cny("1000.00") - cny("0.00")
    paid_off = fold(TERMS, [*events, Repayment(id="rest", on=date(2025, 5, 6), amount=cny("7539.88"))],
                    as_of=date(2025, 5, 6))
    assert paid_off.status.value == "closed"


def test_charges_already_added_to_a_future_installment_stay_owed_on_the_called_one():
    charge = ChargeAdded(id="doc", on=date(2025, 4, 20), amount=cny("30.00"), name="document fee",
                         due_on=date(2025, 6, 15))
    state = fold(TERMS, [*LATE, charge, CALLED], as_of=date(2025, 5, 1))
    assert state.installments[3].due.fee == cny("30.00")
    assert state.outstanding.total == cny("8569.88")


@pytest.mark.parametrize(("events", "code"), [
    ([CALLED], "not_disbursed"),
    ([*LATE, CALLED, Acceleration(id="again", on=date(2025, 5, 2))], "already_accelerated"),
    ([*LATE, Acceleration(id="late", on=date(2026, 2, 1))], "nothing_to_accelerate"),
    ([*LATE, WriteOff(id="wo", on=date(2025, 4, 30)), CALLED], "written_off"),
])
def test_an_acceleration_the_loan_cannot_take_is_refused(events, code):
    with pytest.raises(EventRefused) as refused:
        fold(TERMS, events, as_of=date(2026, 6, 1))
    assert refused.value.code == code


def test_reversing_the_call_restores_the_schedule_it_replaced():
    undone = fold(TERMS, [*LATE, CALLED, Reversal(id="undo", on=date(2025, 5, 2), target="call")],
                  as_of=date(2025, 5, 2))
    never = fold(TERMS, LATE, as_of=date(2025, 5, 2))
    assert replace(undone, reversed=()) == never
    assert undone.accelerated_on is None
    assert len(undone.installments) == 12


# --- properties on random histories -------------------------------------------------------


def _called(terms, events, day):
    """(state before on `day`, state after the call on `day`), the history cut at `day`."""
    kept = [e for e in events if e.on <= day]
    targets = {e.id for e in kept}
    kept = [e for e in kept if not isinstance(e, Reversal) or e.target in targets]
    try:
        before = fold(terms, kept, as_of=day)
        after = fold(terms, [*kept, Acceleration(id="call", on=day)], as_of=day)
    except EventRefused:
        assume(False)
        raise
    return kept, before, after


@LENDING
@given(histories(), st.integers(min_value=0, max_value=400))
def test_the_total_due_after_a_call_is_principal_plus_interest_to_the_day_plus_charges(history, offset):
    terms, events = history
    day = START + timedelta(days=offset)
    _, before, after = _called(terms, events, day)
    assert before.payoff is not None
    assert before.schedule is not None
    # What was charged to installments still to fall due stays owed (charges added beyond the
    # scheduled per-installment fees and penalties); what they were scheduled to charge (interest
    # for a period that never runs, its per-installment fees) is not.  Interest is to the day.
    ended = standing(before.schedule, day).ended
    scheduled = {row.number: row for row in before.schedule.installments[ended:]}
    zero = Money.zero("CNY")
    interest = fees = zero
    for row in before.installments:
        if row.number in scheduled:
            fees += row.outstanding.fee - scheduled[row.number].fees
        else:
            interest += row.outstanding.interest
            fees += row.outstanding.fee
    expected = (before.outstanding.principal + interest + before.accrued_interest + before.payoff.deferred_interest
                + fees + before.outstanding.penalty)
    credit_used = before.credit_balance - after.credit_balance
    if terms.recalculation is None:
        # (With a recalculation, interest paid ahead of its due date is netted against the
        # interest the actual balance earns, so the installments' interest is not the
        # schedule's; the call then charges what the recalculation charges to the day.)
        assert after.outstanding.total + credit_used == expected
    # Everything has fallen due, and a payoff quote on the day is exactly what is due (but for
    # a pre-closure to the rest date, which quotes interest to that date by contract, and a
    # down payment or fee at disbursement still owed, which the quote leaves out: see the report).
    assert after.due_now == after.outstanding
    rest_date_quote = terms.recalculation is not None and terms.recalculation.pre_closure is PreClosure.TILL_REST_DATE
    down_owed = any(r.number <= 0 and not r.settled for r in after.installments)
    if after.payoff is not None and not rest_date_quote and not down_owed:
        assert after.payoff.total == after.outstanding.total
    assert after.principal_identity()
    assert after.accelerated_on == day


@LENDING
@given(histories(), st.integers(min_value=0, max_value=400), st.integers(min_value=0, max_value=200))
def test_the_fold_with_a_call_is_deterministic_and_reversing_it_restores_the_loan(history, offset, later):
    terms, events = history
    day = START + timedelta(days=offset)
    kept, _, _ = _called(terms, events, day)
    called = [*kept, Acceleration(id="call", on=day)]
    as_of = day + timedelta(days=later)
    assert fold(terms, called, as_of=as_of) == fold(terms, list(called), as_of=as_of)
    book = LoanBook.open(terms)
    for event in called:
        book = book.record(event)
    assert book.state(as_of=as_of) == fold(terms, called, as_of=as_of)
    undone = fold(terms, [*called, Reversal(id="undo", on=as_of, target="call")], as_of=as_of)
    assert replace(undone, reversed=()) == replace(fold(terms, kept, as_of=as_of), reversed=())
