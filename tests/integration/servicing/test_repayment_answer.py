"""The answer to a repayment, pinned: lean, and field for field what the loan's own read says after it.

The route builds its answer from what recording already has (the fold's snapshot, the new event and its
entries) and reads nothing for it; these tests hold each of its fields to the generic read of the loan
(`GET /loans/{id}`: every event read again with its trail in the ledger and its recorder's name), so a
shortcut that drifted — a balance, the version, the event's trail, the recorder's name — fails here; and they
hold its size constant as the loan's history grows.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import jsonschema
import pytest
from sqlalchemy import delete, select

from microcredit.identity.models import User
from microcredit.lending import loan as core
from microcredit.platform.models import IdempotencyRecord
from microcredit.products import service as products
from microcredit.servicing.models import Loan, LoanEvent
from microcredit.servicing.schemas import RepaymentRecordedRead
from microcredit.servicing.service import loans
from tests.integration.helpers import shared_client
from tests.integration.servicing.test_loans_api import LOANS, _disbursed, _move_to, key, make_world

# What the OpenAPI document says the answer is (the schema as serialised, `$defs` resolved within it).
ANSWER_SCHEMA = RepaymentRecordedRead.model_json_schema(mode="serialization")
LEAN_STATE = ("as_of", "totals", "credit_balance", "payoff")
LEAN_LOAN = ("id", "number", "currency", "status", "version", "outstanding_principal", "dpd", "next_due_date",
             "closed_on")


@pytest.fixture
def client(runtime, backend):
    """A client of the worker's app for this backend."""
    yield from shared_client(runtime, backend)


@pytest.fixture
def world(client, session, runtime, monkeypatch):
    """The loans tests' world: an approved, signed application and a finance user."""
    return make_world(client, session, runtime, monkeypatch)


def _repay(client, world, loan_id, amount, headers=None, **extra):
    paid = client.post(f"{LOANS}/{loan_id}/repayments", headers=headers or key(world["hf"]),
                       json={"amount": amount, "channel": "cash", **extra})
    assert paid.status_code == 200, paid.text
    return paid


def _assert_is_the_read(client, world, answer):
    """Every field of the lean answer equals the loan's read after it (GET), and the answer is the schema's."""
    jsonschema.validate(answer, ANSWER_SCHEMA)
    loan = client.get(f"{LOANS}/{answer['loan']['id']}", headers=world["hf"]).json()
    assert answer["loan"] == {**{k: loan[k] for k in LEAN_LOAN}, **{k: loan["state"][k] for k in LEAN_STATE}}
    event = next(e for e in loan["events"] if e["seq"] == answer["event"]["seq"])
    assert answer["event"] == event
    assert answer["entries"] == event["entries"]
    assert answer["entries"], "the entries it posted"
    assert answer["allocation"] == next(p for p in loan["state"]["payments"] if p["event_id"] == event["event_id"])
    assert answer["receipt"] == f"{LOANS}/{loan['id']}/events/{event['seq']}/document"
    return loan


def test_the_answer_is_the_loans_read_field_for_field_and_does_not_grow_with_the_history(client, session, runtime,
                                                                                       world):
    loan_id = _disbursed(client, world)["loan"]["id"]
    sizes = []
    for _ in range(30):
        paid = _repay(client, world, loan_id, "3.00")
        _assert_is_the_read(client, world, paid.json())
        sizes.append(len(paid.content))
    assert set(paid.json()) == {"loan", "event", "allocation", "entries", "receipt", "repeated"}
    assert "events" not in paid.json()["loan"]
    assert "installments" not in paid.json()["loan"]
    # A few bytes may move (the event's number, ids, amounts' digits); the history is not in it.
    assert max(sizes) - min(sizes) < 40, sizes
    # A reversal (its own entries, and counter-entries re-posting the later payments) and payments after it.
    loan = client.get(f"{LOANS}/{loan_id}", headers=world["hf"]).json()
    undone = loan["events"][5]["event_id"]
    r = client.post(f"{LOANS}/{loan_id}/reversals", headers=key(world["hf"]),
                    json={"event_id": undone, "note": "退票 bounced"})
    assert r.status_code == 200, r.text
    for _ in range(3):
        _assert_is_the_read(client, world, _repay(client, world, loan_id, "5.00").json())


def test_a_replay_answers_the_same_bytes_and_a_repeat_through_the_loans_key_the_same_event(client, session, runtime,
                                                                                         world):
    loan_id = _disbursed(client, world)["loan"]["id"]
    headers = key(world["hf"])
    first = _repay(client, world, loan_id, "3.00", headers=headers)
    again = _repay(client, world, loan_id, "3.00", headers=headers)
    assert again.content == first.content
    # The key's stored answer gone (as for another caller or channel): the event's key on the loan answers.
    session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.key == headers["Idempotency-Key"]))
    session.commit()
    repeat = _repay(client, world, loan_id, "3.00", headers=headers).json()
    assert repeat["repeated"] is True
    assert {k: v for k, v in repeat.items() if k not in ("repeated", "loan")} == \
        {k: v for k, v in first.json().items() if k not in ("repeated", "loan")}
    _assert_is_the_read(client, world, repeat)


def test_a_recorder_renamed_since_is_named_as_the_read_names_them(client, session, runtime, world):
    loan_id = _disbursed(client, world)["loan"]["id"]
    first = _repay(client, world, loan_id, "3.00").json()
    user = session.get(User, first["event"]["user_id"])
    user.display_name = "改名后的出纳"
    session.commit()
    paid = _repay(client, world, loan_id, "3.00").json()
    assert paid["event"]["user_name"] == "改名后的出纳"
    _assert_is_the_read(client, world, paid)


def test_the_stored_snapshot_after_repayments_a_reversal_and_a_back_dated_one_is_its_history_folded_afresh(
        client, session, runtime, world):
    """The loan's stored snapshot (written from kept parts: `products.replay.state_json`; what the close of business,
    a recorded event's answer and the repayment's lean answer read) is, byte for byte, the schema's dump of the
    loan's events folded from scratch — after several repayments, a reversal re-allocating the later ones and a
    repayment back-dated before them; and so is the state in the reversal's answer."""
    loan = _disbursed(client, world)["loan"]
    loan_id, first = loan["id"], loan["state"]["installments"][0]
    late = date.fromisoformat(first["due_date"]) + timedelta(days=40)
    _move_to(session, runtime, world["inst"].id, late)

    def afresh() -> str:
        row = session.get(Loan, loan_id)
        session.refresh(row)
        events = [products.replay.event_of(loans._EVENT.validate_python(e.payload))
                  for e in session.scalars(select(LoanEvent).where(LoanEvent.loan_id == loan_id)
                                           .order_by(LoanEvent.seq))]
        state = core.fold(loans.core_terms(session, row), events, as_of=late)
        expected = json.dumps(products.replay.state_read(state).model_dump(mode="json"))
        assert row.state_as_of == late
        assert json.dumps(row.state) == expected
        return expected

    for amount in ("100.00", "250.00", "3.00", "700.00"):
        paid = _repay(client, world, loan_id, amount).json()
        assert paid["allocation"] == next(p for p in json.loads(afresh())["payments"]
                                          if p["event_id"] == paid["event"]["event_id"])
    loan = client.get(f"{LOANS}/{loan_id}", headers=world["hf"]).json()
    r = client.post(f"{LOANS}/{loan_id}/reversals", headers=key(world["hf"]),
                    json={"event_id": loan["events"][2]["event_id"], "note": "退票 bounced"})
    assert r.status_code == 200, r.text
    assert json.dumps(r.json()["loan"]["state"]) == afresh()
    _repay(client, world, loan_id, "400.00", on=first["due_date"])  # back-dated before the others
    afresh()
    _repay(client, world, loan_id, "5.00")
    afresh()
