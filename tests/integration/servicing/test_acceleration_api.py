"""Calling a loan early (宣布贷款提前到期) over HTTP: recorded, posted and audited in one transaction,
the books balanced; what the loan cannot take refused with a code, changing nothing; the borrower told."""

from __future__ import annotations

from datetime import date, timedelta

from microcredit.lending.money import Money
from tests.integration.helpers import audit_records, snapshot
from tests.integration.servicing import test_loans_api as base
from tests.integration.servicing.test_loans_api import LOANS, _books_hold_the_loans, _disbursed, _move_to, key, refused

# The loan's world of test_loans_api: an approved application, a finance user and a branch manager.
client = base.client
world = base.world

CALL = {"reason": "arrears", "note": "逾期 40 天，多次催收未果"}


def _late(client, session, runtime, world):
    """A disbursed loan whose first installment is 40 days late; (loan, path, business date)."""
    loan = _disbursed(client, world)["loan"]
    day = date.fromisoformat(loan["state"]["installments"][0]["due_date"]) + timedelta(days=40)
    _move_to(session, runtime, world["inst"].id, day)
    return loan, f"{LOANS}/{loan['id']}", day


def test_a_called_loan_owes_everything_now_and_the_books_hold_it(client, session, runtime, world):
    loan, path, day = _late(client, session, runtime, world)
    before = client.get(path, headers=world["hm"]).json()["state"]
    # Finance proposes changes, it does not decide them: calling a loan early is the checker's.
    refused(client.post(f"{path}/accelerations", headers=key(world["hf"]), json=CALL), 403, "permission_denied")
    called = client.post(f"{path}/accelerations", headers=key(world["hm"]), json=CALL)
    assert called.status_code == 200, called.text
    body = called.json()
    state = body["loan"]["state"]
    assert state["accelerated_on"] == day.isoformat()
    assert body["event"]["type"] == "acceleration"
    assert (body["event"]["payload"]["reason"], body["event"]["note"]) == ("arrears", CALL["note"])
    # Everything is due today: the principal left, the interest to the day, the arrears as they were.
    owed = Money.total((Money.parse(r["outstanding"]["total"], "CNY") for r in state["installments"]), "CNY")
    due_now = [r for r in state["installments"] if r["outstanding"]["total"] != "0.00"]
    assert all(date.fromisoformat(r["due_date"]) <= day for r in due_now)
    assert state["payoff"]["total"] == str(owed)
    assert before["payoff"]["total"] == str(owed)  # the payoff on the day is what is now due
    assert state["dpd"] == 40  # from the older due date
    # The interest to the day falls due: the accrual book recognises it (an entry), the cash book does not.
    assert [e["basis"] for e in body["entries"]] == ["accrual"]
    _books_hold_the_loans(session, world["inst"].id, day)
    [record] = audit_records(session, "loan.acceleration", loan["id"])
    assert record.after["event"]["type"] == "acceleration"
    assert record.after["entries"] == [e["id"] for e in body["entries"]]
    # The borrower is told what is now due, and sees it on their loan.
    inbox = client.get("/api/v1/me/notifications", headers=world["hb"]).json()["items"]
    told = next(m for m in inbox if m["template"] == "loan_accelerated")
    assert told["params"]["amount"] == str(owed)
    mine = client.get(f"/api/v1/me/loans/{loan['id']}", headers=world["hb"]).json()
    assert mine["state"]["accelerated_on"] == day.isoformat()
    # A repayment goes to what is due, and the books still hold.
    paid = client.post(f"{path}/repayments", headers=key(world["hf"]), json={"amount": "1000.00"})
    assert paid.status_code == 200, paid.text
    _books_hold_the_loans(session, world["inst"].id, day)


def test_what_the_loan_cannot_take_is_refused_and_changes_nothing(client, session, runtime, world):
    loan, path, day = _late(client, session, runtime, world)
    refused(client.post(f"{path}/accelerations", headers=key(world["hm"]),
                        json={**CALL, "on": (day + timedelta(days=1)).isoformat()}), 422, "value_date_in_future",
            field="on")
    refused(client.post(f"{path}/accelerations", headers=key(world["hm"]), json={**CALL, "reason": "whim"}), 422,
            "validation_failed", field="reason")
    assert client.post(f"{path}/accelerations", headers=key(world["hm"]), json=CALL).status_code == 200
    before = snapshot(runtime.db)
    again = refused(client.post(f"{path}/accelerations", headers=key(world["hm"]), json=CALL), 422,
                    "loan_event_refused")
    assert again["reason"] == "already_accelerated"
    assert snapshot(runtime.db) == before
    # Reversing the call restores the schedule (and the books, by counter-entries).
    events = client.get(path, headers=world["hm"]).json()["events"]
    call = next(e for e in events if e["type"] == "acceleration")
    undone = client.post(f"{path}/reversals", headers=key(world["hf"]), json={"event_id": call["event_id"],
                                                                             "note": "误操作 / by mistake"})
    assert undone.status_code == 200, undone.text
    assert undone.json()["loan"]["state"]["accelerated_on"] is None
    assert len(undone.json()["loan"]["state"]["installments"]) == len(loan["state"]["installments"])
    _books_hold_the_loans(session, world["inst"].id, day)
