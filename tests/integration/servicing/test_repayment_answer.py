"""The answer to a repayment, pinned: byte for byte what the loan's own read says, on a loan with many events.

The route builds its answer from what recording already has (the fold, the new event and its entries) and
the events' reads kept from earlier answers; these tests hold that answer to the generic read of the loan
(`GET /loans/{id}`: every event read again with its trail in the ledger and its recorder's name), so a
shortcut that drifted — an entry missing from an older event's trail, a renamed recorder, a key out of
order — fails here.
"""

from __future__ import annotations

import json

import pytest

from microcredit.identity.models import User
from tests.integration.helpers import shared_client
from tests.integration.servicing.test_loans_api import LOANS, _disbursed, key, make_world


@pytest.fixture
def client(runtime, backend):
    """A client of the worker's app for this backend."""
    yield from shared_client(runtime, backend)


@pytest.fixture
def world(client, session, runtime, monkeypatch):
    """The loans tests' world: an approved, signed application and a finance user."""
    return make_world(client, session, runtime, monkeypatch)


def _expected_bytes(client, world, loan_id):
    """What the answer to the last event must be, from the generic read of the loan after it."""
    read = client.get(f"{LOANS}/{loan_id}", headers=world["hf"])
    assert read.status_code == 200, read.text
    loan = read.json()
    event = loan["events"][-1]
    body = {"loan": loan, "event": event, "entries": event["entries"], "repeated": False}
    return json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


def _repay(client, world, loan_id, amount, **extra):
    paid = client.post(f"{LOANS}/{loan_id}/repayments", headers=key(world["hf"]),
                       json={"amount": amount, "channel": "cash", **extra})
    assert paid.status_code == 200, paid.text
    return paid


def test_the_answer_is_the_loans_read_byte_for_byte_on_a_loan_with_many_events(client, session, runtime, world):
    loan_id = _disbursed(client, world)["loan"]["id"]
    for _ in range(30):
        paid = _repay(client, world, loan_id, "3.00")
        assert paid.content == _expected_bytes(client, world, loan_id)
    body = paid.json()
    assert len(body["loan"]["events"]) == 31
    assert all(e["entries"] for e in body["loan"]["events"]), "every event's trail in the answer"
    # A reversal (its own entries, and counter-entries re-posting the later payments) and payments after it.
    undone = body["loan"]["events"][5]["event_id"]
    r = client.post(f"{LOANS}/{loan_id}/reversals", headers=key(world["hf"]),
                    json={"event_id": undone, "note": "退票 bounced"})
    assert r.status_code == 200, r.text
    assert r.content == _expected_bytes(client, world, loan_id)
    for _ in range(3):
        paid = _repay(client, world, loan_id, "5.00")
        assert paid.content == _expected_bytes(client, world, loan_id)


def test_a_recorder_renamed_since_is_named_as_the_read_names_them(client, session, runtime, world):
    loan_id = _disbursed(client, world)["loan"]["id"]
    first = _repay(client, world, loan_id, "3.00").json()
    user = session.get(User, first["event"]["user_id"])
    user.display_name = "改名后的出纳"
    session.commit()
    paid = _repay(client, world, loan_id, "3.00")
    assert paid.content == _expected_bytes(client, world, loan_id)
    assert {e["user_name"] for e in paid.json()["loan"]["events"]} == {"改名后的出纳"}
