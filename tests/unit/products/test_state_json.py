"""The loan's stored snapshot built straight from the fold equals the schema's dump, field for field."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from microcredit.lending import fineract
from microcredit.lending.loan import (
    AsOf,
    Disbursement,
    EventRefused,
    LoanBook,
    PenaltyCharged,
    Prepayment,
    Recovery,
    Repayment,
    Reversal,
    WriteOff,
    fold,
    kernel,
)
from microcredit.lending.money import Money
from microcredit.products.service.replay import state_json, state_read
from tests.unit.lending.fineract.test_profile import SUPPORTED
from tests.unit.lending.loan.test_fold import PLAN, START, VARIANTS, histories
from tests.unit.products.test_replay import _case_document

# Every variant of the fold's tests, and the same with a planned tranche (planned disbursements and
# a projected schedule in the state).
WITH_PLAN = (*VARIANTS, *(replace(v, expected_disbursements=PLAN) for v in VARIANTS if v.tranches))


@st.composite
def loans(draw: st.DrawFn):  # type: ignore[no-untyped-def]
    """A random history (every kind of event the fold's tests draw), perhaps written off and recovered on,
    perhaps brought to a close of business, read on a random day."""
    terms, events = draw(histories(variants=WITH_PLAN))
    book = LoanBook.open(terms)
    for event in events:
        book = book.record(event)
    last = max(e.on for e in events)
    for kind in draw(st.lists(st.sampled_from(["write_off", "recovery", "as_of"]), max_size=3)):
        on = last + timedelta(days=draw(st.integers(min_value=0, max_value=200)))
        amount = Money(draw(st.integers(min_value=1, max_value=200_000)), "CNY")
        event = (WriteOff(id=f"w{len(book.events)}", on=on) if kind == "write_off"
                 else Recovery(id=f"v{len(book.events)}", on=on, amount=amount) if kind == "recovery"
                 else AsOf(id=f"a{len(book.events)}", on=on))
        try:
            book = book.record(event)
        except EventRefused:
            continue
        last = on
    # Servicing stores the snapshot as of its business date, never before an event's value date (value
    # dates in the future are refused): a day before some of the events is not a snapshot anyone stores,
    # and the fold may refuse it (a reversal kept whose target, valued later, is not yet there).
    as_of = max(last, START) + timedelta(days=draw(st.integers(min_value=0, max_value=900)))
    return fold(terms, list(book.events), as_of=as_of)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])  # a loan folds in tens of ms
@given(loans())
def test_the_snapshot_built_from_the_fold_is_the_schemas_dump(state):
    assert state_json(state) == state_read(state).model_dump(mode="json")


def test_the_snapshot_of_every_supported_fineract_case_is_the_schemas_dump():
    """Other currencies and Fineract's conventions (amounts with other places, progressive schedules)."""
    for case in SUPPORTED:
        document = _case_document(case, case.expected[-1].after_event)
        terms = fineract.terms_from_fineract(document["terms"])
        history = fineract.events_from_fineract(document["events"], terms.currency, terms=terms,
                                                strategies=fineract.transaction_strategies(document["terms"]),
                                                overdue=fineract.overdue_charge(document["terms"]))
        state = fold(terms, history.events, as_of=date.fromisoformat(document["as_of"]))
        assert state_json(state) == state_read(state).model_dump(mode="json"), case.id


@st.composite
def kernel_histories(draw: st.DrawFn):  # type: ignore[no-untyped-def]
    """A random history the kernel folds (`kernel.covers`), read after each of its events: the snapshots a
    loan's successive repayments write, sharing the kept parts of the ones before."""
    terms, events = draw(histories(variants=WITH_PLAN))
    if not kernel.covers(terms, events):
        events = [e for e in events if type(e) in (Disbursement, Repayment, Prepayment, Reversal, PenaltyCharged)]
    as_of = max([START, *(e.on for e in events)]) + timedelta(days=draw(st.integers(min_value=0, max_value=400)))
    return terms, events, as_of


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kernel_histories())
def test_the_snapshot_from_the_kernels_integers_is_the_schemas_dump_after_every_event(history):
    """The parts kept from one fold's snapshot (an installment, a payment) stand in the next fold's only where
    they are that fold's: after every event of a history, back-dated ones and reversals among them."""
    terms, events, as_of = history
    for end in range(1, len(events) + 1):
        try:
            state = fold(terms, events[:end], as_of=as_of)
        except EventRefused:
            continue
        assert state_json(state) == state_read(state).model_dump(mode="json")


def test_a_kernel_fold_is_written_from_its_integers_and_a_changed_state_from_its_objects():
    """`integer_view` is there for the kernel's fold, and gone from a state changed after it (`replace`), whose
    snapshot then comes from the objects — the same either way."""
    terms = VARIANTS[0]
    events = [Disbursement(id="d1", on=START, amount=Money(1_000_000, "CNY")),
              Repayment(id="r2", on=START + timedelta(days=31), amount=Money(90_000, "CNY")),
              Repayment(id="r3", on=START + timedelta(days=20), amount=Money(12_345, "CNY"))]  # back-dated
    state = fold(terms, events, as_of=START + timedelta(days=40))
    assert kernel.integer_view(state) is not None
    assert [p["event_id"] for p in state_json(state)["payments"] if p["event_id"]] == ["r3", "r2"]
    changed = replace(state, dpd=state.dpd)
    assert kernel.integer_view(changed) is None
    assert state_json(changed) == state_json(state) == state_read(state).model_dump(mode="json")
