"""The fold's integer kernel gives the reference fold's state, or hands the history over to it."""

from __future__ import annotations

import importlib
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from microcredit.lending.allocation import (
    INTEREST_PRINCIPAL_ACROSS_INSTALLMENTS,
    AllocationStrategy,
    Component,
    OverpaymentPolicy,
    Sweep,
)
from microcredit.lending.loan import (
    AsOf,
    ChargeAdded,
    Disbursement,
    EventRefused,
    LoanState,
    PenaltyCharged,
    Prepayment,
    Repayment,
    Terms,
    fold,
    kernel,
)
from microcredit.lending.loan.fold import reference_fold
from microcredit.lending.money import Money, RoundingMode, RoundingPolicy
from microcredit.lending.prepayment import PrepaymentMode

from ..support import LENDING, cny
from .test_fold import (
    AS_OF,
    DISBURSED,
    FEES_TRANCHED,
    INSTALLMENT_FEES,
    START,
    TERMS,
    TRANCHED,
    VARIANTS,
    due_date,
    histories,
    on_time,
)

# The terms the kernel covers: credit or prepaid principal, either mode, tranches, fees at
# disbursement and per installment (a percent of each installment's principal + interest among
# them), installment by installment or component by component.
COVERED = (
    TERMS,
    TRANCHED,
    replace(TRANCHED, overpayment=OverpaymentPolicy.PREPAY_PRINCIPAL,
            prepayment_mode=PrepaymentMode.REDUCE_INSTALLMENT),
    replace(TRANCHED, overpayment=OverpaymentPolicy.PREPAY_PRINCIPAL, prepayment_mode=PrepaymentMode.SHORTEN_TERM,
            strategy=INTEREST_PRINCIPAL_ACROSS_INSTALLMENTS),
    FEES_TRANCHED,
    INSTALLMENT_FEES,
    # Half-even: the kernel's integer schedule rounds the interest of the re-amortised rows by it.
    replace(TRANCHED, contract=replace(TRANCHED.contract, rounding=RoundingPolicy("CNY", RoundingMode.HALF_EVEN)),
            overpayment=OverpaymentPolicy.PREPAY_PRINCIPAL, prepayment_mode=PrepaymentMode.REDUCE_INSTALLMENT),
)
# Fineract's VERTICAL processing: component by component within each bucket (past due, due today).
PER_BUCKET = AllocationStrategy("vertical", (Component.PENALTY, Component.FEE, Component.INTEREST,
                                             Component.PRINCIPAL), Sweep.BY_COMPONENT_PER_BUCKET)
# Repayments (late, early, partial, over), prepayments in both modes, tranches, penalties and
# reversals, recorded in any order of value dates (back-dated ones among them).
KINDS = ("repay", "repay", "repay", "prepay", "reverse", "tranche", "penalty")


def _folded(terms: Terms, events: list, as_of: date) -> LoanState:
    folded = kernel.try_fold(terms, events, as_of=as_of)
    assert folded is not None, "the kernel handed a covered history over"
    return folded.state()


@LENDING
@given(histories(variants=COVERED, kinds=KINDS), st.integers(min_value=0, max_value=520))
def test_the_kernel_gives_the_reference_folds_state_on_any_day(history, days):
    terms, events = history
    assert kernel.covers(terms, events)
    as_of = START + timedelta(days=days)
    try:
        expected = reference_fold(terms, events, as_of=as_of)
    except EventRefused as refused:
        code = refused.code
    else:
        code = None
    if code is not None:
        # Cut at `as_of`, a history may not be one (a reversal of an event still to come): refused alike.
        with pytest.raises(EventRefused) as again:
            fold(terms, events, as_of=as_of)
        assert again.value.code == code
        return
    folded = kernel.try_fold(terms, events, as_of=as_of)
    assert folded is not None
    assert folded.outstanding_minor == expected.outstanding.total.minor
    assert folded.credit_minor == expected.credit_balance.minor
    assert folded.state() == expected
    assert fold(terms, events, as_of=as_of) == expected


@LENDING
@given(histories(variants=COVERED, kinds=KINDS))
def test_every_prefix_folded_by_the_kernel_is_the_references(history):
    terms, events = history
    for count in range(1, len(events) + 1):
        latest = max(e.on for e in events[:count])
        expected = reference_fold(terms, events[:count], as_of=latest)
        assert fold(terms, events[:count], as_of=latest) == expected


@LENDING
@given(histories(variants=VARIANTS))
def test_any_history_folds_to_the_references_state_whether_or_not_the_kernel_covers_it(history):
    terms, events = history
    state = fold(terms, events, as_of=AS_OF)
    assert state == reference_fold(terms, events, as_of=AS_OF)
    if kernel.covers(terms, events):
        assert kernel.try_fold(terms, events, as_of=AS_OF) is not None


@LENDING
@given(histories(variants=COVERED, kinds=KINDS), st.integers(min_value=0, max_value=520),
       st.lists(st.tuples(st.integers(min_value=1, max_value=12), st.integers(min_value=1, max_value=9_000)),
                min_size=1, max_size=3))
def test_penalties_added_to_a_fold_give_the_fold_of_all_the_events(history, days, charged):
    """`fold_more` (the close of business's overdue day: the day's penalties added to the day's fold) answers
    only with the state of all the events folded again; where it cannot know that it answers None."""
    terms, events = history
    as_of = START + timedelta(days=days)
    try:
        folded = kernel.try_fold(terms, events, as_of=as_of)
    except EventRefused:
        return
    if folded is None:
        return
    penalties = [PenaltyCharged(id=f"n{k}", on=as_of, installment=number, amount=Money(minor, "CNY"))
                 for k, (number, minor) in enumerate(charged)]
    before = folded.state()
    more = kernel.fold_more(folded, penalties)
    try:
        expected = reference_fold(terms, [*events, *penalties], as_of=as_of)
    except EventRefused:
        assert more is None  # a penalty on an installment not yet due: the reference refuses it
        return
    if more is not None:
        assert more.state() == expected
        assert folded.state() is before
        assert before == reference_fold(terms, events, as_of=as_of)  # the first fold's columns not changed


def test_fold_more_adds_a_penalty_to_an_overdue_loan_and_leaves_what_it_cannot_know():
    """A loan left unpaid after its first due date, folded on a later day: the day's penalty added gives the
    reference's fold; a penalty dated another day, or after a reversal, is left to a whole fold (None)."""
    day = due_date(1) + timedelta(days=5)
    events = [Disbursement(id="d", on=START, amount=cny("10000.00"))]
    folded = kernel.try_fold(TERMS, events, as_of=day)
    assert folded is not None
    penalty = PenaltyCharged(id="n1", on=day, installment=1, amount=cny("3.21"))
    more = kernel.fold_more(folded, [penalty])
    assert more is not None
    assert more.state() == reference_fold(TERMS, [*events, penalty], as_of=day)
    assert more.state().installments[0].due.penalty == cny("3.21")
    assert kernel.fold_more(folded, [replace(penalty, on=day - timedelta(days=1))]) is None
    assert kernel.fold_more(folded, [replace(penalty, id="d")]) is None


@LENDING
@given(histories(variants=COVERED, kinds=KINDS), st.integers(min_value=0, max_value=520),
       st.integers(min_value=0, max_value=60))
def test_a_fold_read_on_a_later_day_is_the_fold_of_that_day(history, days, later):
    """`fold_later` (the close of business's overdue day: yesterday's kept fold read on the day) answers only with
    the state of the events folded on the later day; where it cannot know that it answers None."""
    terms, events = history
    first = START + timedelta(days=days)
    second = first + timedelta(days=later)
    try:
        folded = kernel.try_fold(terms, events, as_of=first)
        expected = reference_fold(terms, events, as_of=second)
    except EventRefused:
        return
    if folded is None:
        return
    before = folded.state()
    again = kernel.fold_later(before, events, as_of=second)
    if again is not None:
        assert again.state() == expected
        assert before == reference_fold(terms, events, as_of=first)  # the earlier fold's columns not changed
    if any(event.on > first for event in events):
        assert again is None  # an event taken on the later day, not the earlier: folded again


def test_fold_later_reads_an_overdue_loan_on_the_next_day_and_leaves_what_it_cannot_know():
    """A loan left unpaid after its first due date: its fold of one day read on the next is the next day's fold
    (the days past due, the accrual and the payoff moved), a penalty added to it too; a history that is not the one
    folded, or a day before, is left to a whole fold (None)."""
    day = due_date(1) + timedelta(days=5)
    events = [Disbursement(id="d", on=START, amount=cny("10000.00"))]
    folded = kernel.try_fold(TERMS, events, as_of=day)
    assert folded is not None
    nxt = day + timedelta(days=1)
    later = kernel.fold_later(folded.state(), events, as_of=nxt)
    assert later is not None
    assert later.state() == reference_fold(TERMS, events, as_of=nxt)
    assert later.state().dpd == folded.state().dpd + 1
    penalty = PenaltyCharged(id="n1", on=nxt, installment=1, amount=cny("3.21"))
    more = kernel.fold_more(later, [penalty])
    assert more is not None
    assert more.state() == reference_fold(TERMS, [*events, penalty], as_of=nxt)
    assert kernel.fold_later(folded.state(), [*events, penalty], as_of=nxt) is None  # another history
    assert kernel.fold_later(folded.state(), events, as_of=day - timedelta(days=1)) is None
    paid = Repayment(id="r", on=nxt, amount=cny("100.00"))
    assert kernel.fold_later(kernel.try_fold(TERMS, [*events, paid], as_of=day).state(), [*events, paid],
                             as_of=nxt) is None  # a repayment value-dated the later day: not taken the day before
    # Credit held: the next due date would use it (a payment the earlier fold does not have), so a whole fold.
    over = [*events, Repayment(id="r", on=day, amount=cny("2000.00"))]
    credit = kernel.try_fold(TERMS, over, as_of=day)
    assert credit is not None
    assert credit.state().credit_balance.is_positive
    assert kernel.fold_later(credit.state(), over, as_of=due_date(2)) is None
    assert reference_fold(TERMS, over, as_of=due_date(2)).payments[-1].event_id is None  # the credit used


def _month_interest(balance: int, rate: Decimal) -> int:
    """A month's interest on `balance` (minor units) at the annual `rate`, exactly, rounded half up."""
    return int(Fraction(balance) * Fraction(rate) / 12 + Fraction(1, 2))


@LENDING
@given(histories(variants=(TRANCHED,), kinds=KINDS))
def test_the_kernels_schedule_charges_each_whole_month_the_fraction_references_interest(history):
    terms, events = history
    state = _folded(terms, events, AS_OF)
    assert state.schedule is not None
    moved = [e.on for e in events if isinstance(e, Prepayment | Disbursement)]
    for row in state.schedule.installments:
        if any(row.period_start <= day <= row.due_date for day in moved):
            continue  # a month a prepayment or a tranche split (its interest is split on the day)
        opening = row.balance_after.minor + row.principal.minor
        assert row.interest.minor == _month_interest(opening, terms.contract.annual_rate)
    for item in state.installments:
        assert item.due == item.paid + item.waived + item.written_off + item.outstanding
    paid_in = sum(e.amount.minor for e in state.payments)
    on_lines = sum(line.amount.minor for p in state.payments for line in p.lines)
    prepaid = state.principal_prepaid.minor + state.interest_prepaid.minor
    assert paid_in == on_lines + prepaid + state.credit_balance.minor


def test_a_loan_paid_on_time_folds_by_the_kernel_to_the_worked_example():
    events = [DISBURSED, *on_time(*range(1, 12)), Repayment(id="r12", on=due_date(12), amount=cny("888.47"))]
    state = _folded(TERMS, events, due_date(12))
    assert state.total("paid").interest == cny("661.86")
    assert state == reference_fold(TERMS, events, as_of=due_date(12))


def test_an_overpayment_held_as_credit_pays_the_next_due_date_in_the_kernel_too():
    events = [DISBURSED, Repayment(id="r1", on=due_date(1), amount=cny("1000.00")), AsOf(id="cob", on=due_date(2))]
    state = _folded(TERMS, events, due_date(2))
    assert [p.event_id for p in state.payments] == ["r1", None]
    assert state.payments[1].credit == -cny("111.51")
    assert state == reference_fold(TERMS, events, as_of=due_date(2))


@pytest.mark.parametrize(("terms", "events"), [
    (TERMS, [DISBURSED, ChargeAdded(id="c", on=due_date(1), amount=cny("10.00"), name="fee")]),
    # A repayment allocated by a strategy of its own (Fineract's goodwill credit, say).
    (TERMS, [DISBURSED, Repayment(id="r", on=due_date(1), amount=cny("900.00"), strategy=PER_BUCKET)]),
    (replace(TERMS, strategy=PER_BUCKET), [DISBURSED, *on_time(1, 2)]),
])
def test_a_history_the_kernel_does_not_fold_goes_to_the_reference(terms, events):
    assert not kernel.covers(terms, events)
    assert kernel.try_fold(terms, events, as_of=due_date(2)) is None
    assert fold(terms, events, as_of=due_date(2)) == reference_fold(terms, events, as_of=due_date(2))


@pytest.mark.parametrize(("events", "code"), [
    ([Repayment(id="r", on=START, amount=cny("1.00"))], "not_disbursed"),
    ([DISBURSED, Disbursement(id="t", on=due_date(2), amount=cny("1.00"))], "already_disbursed"),
    ([DISBURSED, DISBURSED], "duplicate_event_id"),
    ([Disbursement(id="d", on=START, amount=cny("10000.01"))], "above_approved_amount"),
])
def test_an_event_the_reference_refuses_is_refused_with_its_code(events, code):
    with pytest.raises(EventRefused) as refused:
        fold(TERMS, events, as_of=due_date(3))
    assert refused.value.code == code


def test_fold_takes_the_kernel_for_a_covered_history_and_the_reference_for_the_rest(monkeypatch):
    # What servicing calls (`loan.fold`) gets the kernel without asking for it.
    kernel_module = importlib.import_module("microcredit.lending.loan.kernel")

    covered = [DISBURSED, *on_time(1, 2), Prepayment(id="p", on=due_date(3), amount=cny("2888.49"),
                                                     mode=PrepaymentMode.REDUCE_INSTALLMENT)]
    expected = reference_fold(TERMS, covered, as_of=due_date(3))
    charged = [DISBURSED, ChargeAdded(id="c", on=due_date(1), amount=cny("10.00"), name="fee")]

    def refuse(*args: object, **kwargs: object) -> LoanState:
        raise AssertionError("the reference fold was asked")

    monkeypatch.setattr(kernel_module, "reference_fold", refuse)
    assert fold(TERMS, covered, as_of=due_date(3)) == expected
    with pytest.raises(AssertionError, match="reference fold was asked"):
        fold(TERMS, charged, as_of=due_date(1))
