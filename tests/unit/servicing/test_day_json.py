"""`quiet_overdue.day_json`: the cached fold's JSON of a later day made from an earlier day's JSON and the later
fold's day fields is, whenever it answers, `state_json` of the later fold, field for field (the close of business's
overdue day writes it instead of formatting the whole fold)."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from microcredit.lending.loan import Disbursement, EventRefused, Repayment, kernel
from microcredit.lending.money import Money
from microcredit.products.service.replay import state_json
from microcredit.servicing.service.quiet_overdue import day_json

from ..lending.loan.test_fold import START, TERMS, due_date, histories
from ..lending.loan.test_kernel import COVERED, KINDS


@settings(max_examples=300)
@given(histories(variants=COVERED, kinds=KINDS), st.integers(min_value=0, max_value=520),
       st.integers(min_value=1, max_value=60))
def test_the_day_json_is_the_folds_json_whenever_it_answers(history, days, later):
    terms, events = history
    first = START + timedelta(days=days)
    second = first + timedelta(days=later)
    try:
        earlier = kernel.try_fold(terms, events, as_of=first)
        state = kernel.fold(terms, events, as_of=second)
    except EventRefused:
        return  # cut at a day, a history may not be one (a reversal of an event after it)
    if earlier is None:
        return
    made = day_json(state_json(earlier.state()), state, events)
    if made is not None:
        assert made == state_json(state)


def test_an_unpaid_loan_past_its_first_due_date_moves_a_day_by_its_day_fields():
    """The overdue tenth's day: a loan left unpaid after its first due date, one day later — answered, and equal;
    across its second due date — not answered (an installment fell due)."""
    events = [Disbursement(id="d", on=START, amount=Money(1_000_000, "CNY"))]
    day = due_date(1) + timedelta(days=5)
    stored = state_json(kernel.fold(TERMS, events, as_of=day))
    state = kernel.fold(TERMS, events, as_of=day + timedelta(days=1))
    made = day_json(stored, state, events)
    assert made is not None
    assert made == state_json(state)
    assert made["dpd"] == stored["dpd"] + 1
    assert day_json(stored, kernel.fold(TERMS, events, as_of=due_date(2)), events) is None
    paid = [*events, Repayment(id="r", on=day + timedelta(days=1), amount=Money(5_000, "CNY"))]  # value-dated after
    assert day_json(stored, kernel.fold(TERMS, paid, as_of=day + timedelta(days=1)), paid) is None
