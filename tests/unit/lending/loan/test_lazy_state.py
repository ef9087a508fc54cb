"""The kernel's `LoanState` gives its rarely read parts lazily (`state.later`): equal to the eager state.

The kernel folds a loan to integer columns and makes the status, the days past due, the class and
the totals at once; the disbursements, the schedule, the installments, the payments and the payoff
quote (`LAZY_FIELDS`) are made from the columns when first read.  These tests hold the lazy state
to the reference fold's eager one field by field, whatever order the fields are first read in,
and check the mechanism itself: made once, kept, pickled, replaced, compared and hashed made.
"""

from __future__ import annotations

import pickle
from dataclasses import fields, replace
from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from microcredit.lending.allocation import Component
from microcredit.lending.loan import EventRefused, LoanStatus, Repayment, kernel
from microcredit.lending.loan.fold import reference_fold
from microcredit.lending.loan.state import LAZY_FIELDS, LoanState, later
from microcredit.lending.money import Money

from ..support import LENDING, cny
from .test_fold import DISBURSED, START, TERMS, due_date, histories
from .test_kernel import COVERED, KINDS

NAMES = tuple(f.name for f in fields(LoanState))


def _pending(state: LoanState) -> set[str]:
    """The lazy fields not made yet."""
    return {name for name in LAZY_FIELDS if f"_later_{name}" in vars(state)}


@LENDING
@given(histories(variants=COVERED, kinds=KINDS), st.integers(min_value=0, max_value=520),
       st.permutations(NAMES))
def test_the_lazy_state_is_the_eager_state_field_by_field_read_in_any_order(history, days, order):
    terms, events = history
    as_of = START + timedelta(days=days)
    try:
        eager = reference_fold(terms, events, as_of=as_of)
    except EventRefused:
        return  # cut at `as_of`, not a history (a reversal of an event still to come): test_kernel's case
    folded = kernel.try_fold(terms, events, as_of=as_of)
    assert folded is not None
    lazy = folded.state()
    if lazy.status is LoanStatus.ACTIVE:
        # Nothing of the lazy parts is made by folding (what a close of business does not read).
        assert {"disbursements", "schedule", "installments"} <= _pending(lazy)
        assert bool(folded._columns.payments) == ("payments" in _pending(lazy))
    for name in order:
        assert getattr(lazy, name) == getattr(eager, name), name
        assert getattr(lazy, name) is getattr(lazy, name), f"{name} made again on a second read"
    assert not _pending(lazy)
    assert lazy == eager
    assert hash(lazy) == hash(eager)


@LENDING
@given(histories(variants=COVERED, kinds=KINDS), st.sampled_from(("pickle", "replace", "eq", "hash", "repr")))
def test_a_state_not_yet_read_pickles_replaces_compares_hashes_and_prints_as_the_eager_one(history, how):
    terms, events = history
    try:
        eager = reference_fold(terms, events, as_of=date(2026, 1, 1))
    except EventRefused:
        return
    folded = kernel.try_fold(terms, events, as_of=date(2026, 1, 1))
    assert folded is not None
    lazy = folded.state()
    if how == "pickle":
        assert pickle.loads(pickle.dumps(lazy)) == eager
    elif how == "replace":
        assert replace(lazy, dpd=lazy.dpd + 1) == replace(eager, dpd=eager.dpd + 1)
    elif how == "eq":
        assert eager == lazy
    elif how == "hash":
        assert hash(lazy) == hash(eager)
    else:
        assert repr(lazy) == repr(eager)


def test_each_lazy_field_is_made_once_on_its_first_read_and_only_then():
    calls: list[str] = []

    def make(name: str, value: object) -> object:
        calls.append(name)
        return value

    state = reference_fold(TERMS, [DISBURSED], as_of=START)
    given_later = {name: later(make, name, getattr(state, name)) for name in LAZY_FIELDS}
    lazy = LoanState(**{**{name: getattr(state, name) for name in NAMES}, **given_later})
    assert calls == []
    assert lazy.installments == state.installments
    assert calls == ["installments"]
    assert lazy.installments is lazy.installments
    assert calls == ["installments"]
    assert lazy == state
    assert sorted(calls) == sorted(LAZY_FIELDS)


def test_the_lazy_installments_and_payments_read_the_right_columns():
    """A worked example: any lazy value read from a wrong column (paid for owed, interest for
    fee, another installment's row) differs from these figures."""
    # 10,000.00 at 12 % over 12 months: installment 888.49 (100.00 interest in the first month).
    first = due_date(1)
    events = [
        DISBURSED,
        Repayment(id="r1", on=first, amount=cny("150.00")),  # interest 100.00, then 50.00 of principal
    ]
    folded = kernel.try_fold(TERMS, events, as_of=first)
    assert folded is not None
    state = folded.state()
    one = state.installments[0]
    assert one.number == 1
    assert one.due_date == first
    assert (one.due.principal, one.due.interest, one.due.fee, one.due.penalty) == (
        cny("788.49"), cny("100.00"), cny("0.00"), cny("0.00"))
    assert (one.paid.principal, one.paid.interest, one.paid.fee, one.paid.penalty) == (
        cny("50.00"), cny("100.00"), cny("0.00"), cny("0.00"))
    assert (one.outstanding.principal, one.outstanding.interest) == (cny("738.49"), cny("0.00"))
    assert one.balance_after == cny("9211.51")
    assert state.installments[1].paid.total == cny("0.00")
    assert state.installments[1].outstanding == state.installments[1].due
    (payment,) = state.payments
    assert (payment.event_id, payment.on, payment.amount, payment.credit) == ("r1", first, cny("150.00"), cny("0.00"))
    assert [(line.installment, line.component, line.amount) for line in payment.lines] == [
        (1, Component.INTEREST, cny("100.00")), (1, Component.PRINCIPAL, cny("50.00"))]
    assert state.disbursements[0].amount == DISBURSED.amount
    assert state.disbursements[0].on == START
    assert state.payoff is not None
    assert state.payoff.principal == DISBURSED.amount - cny("50.00")
    assert state.payoff.total == state.payoff.principal + state.payoff.accrued_interest + state.payoff.overdue_interest
    assert state == reference_fold(TERMS, events, as_of=first)
    assert state.outstanding.total == Money(folded.outstanding_minor, "CNY")
