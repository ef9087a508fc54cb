"""Money through the payment provider (its simulator) over HTTP: a payout of a signed contract recorded
only on the provider's confirmation; online repayments and prepayments confirmed by signed callbacks;
failed, late and duplicated callbacks changing nothing twice; callbacks answered at once and applied after
the answer by the outbox's dispatcher, retried with back-off, dead-lettered for staff and retried by them;
auto-debit with retries; reconciliation
of the provider's statement against our payments. The books verified after each.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, timedelta

import pytest

from microcredit.api.deps import dispatch_outbox
from microcredit.integrations.payments import SIGNATURE_HEADER, PaymentSimulation, SimulatedPaymentProvider, sign
from microcredit.ledger import service as ledger
from microcredit.notifications import service as notifications
from microcredit.parties import service as parties
from microcredit.platform.actor import Actor
from microcredit.risk.assessment import Decision
from microcredit.servicing.service import loans, payments
from tests.factories import make_borrower, make_branch, make_institution, make_staff
from tests.integration.helpers import (
    assert_problem,
    audit_records,
    idempotency_key,
    outbox_timer,
    shared_client,
    sign_contract,
    signed_in,
    snapshot,
)
from tests.integration.origination.support import PLAN, assessment, publish_product, use_review

LOANS = "/api/v1/loans"
CALLBACK = "/api/v1/payments/callbacks/simulator"
CARD, DECLINED = "6225881414207430", "6225881414200051"  # the simulator: a card ending 0051 lacks the money


def simulated(runtime, **behaviour):
    """The runtime with a payment provider simulator behaving as told."""
    provider = SimulatedPaymentProvider(clock=runtime.clock, secret=b"test-secret", public_url="http://testserver",
                                        simulation=PaymentSimulation(**behaviour))
    return replace(runtime, payment_provider=provider)


@pytest.fixture
def behaviour():
    """How the simulator behaves in a test (overridden by the tests that need delays or misfortune)."""
    return {"delay_seconds": 60}


@pytest.fixture
def rt(runtime, behaviour):
    return simulated(runtime, **behaviour)


@pytest.fixture
def client(rt, backend):
    yield from shared_client(rt, backend)


def key(headers):
    return {**headers, **idempotency_key()}


def refused(response, status, code, field=None):
    body = assert_problem(response, status)
    assert body["code"] == code, body
    if field is not None:
        assert field in [body.get("field")] + [e.get("field") for e in body.get("errors", [])], body
    return body


@pytest.fixture
def world(client, session, rt, monkeypatch):
    """An approved application (8,000 over 6 months) of a borrower with a bound card, its loan opened;
    a finance user; another borrower."""
    inst = make_institution(session, rt)
    branch = make_branch(session, rt, inst)
    publish_product(session, rt, inst)
    borrower = make_borrower(session, rt, inst, branch=branch, password=None, real_name="王小明")
    other = make_borrower(session, rt, inst, branch=branch, password=None)
    finance = make_staff(session, rt, inst, roles=("finance",), password=None)
    hb, hf, ho = (signed_in(session, rt, u.user) for u in (borrower, finance, other))
    session.commit()
    use_review(monkeypatch, assessment(Decision.APPROVE, grade="B"))
    draft = client.post("/api/v1/me/applications", headers=hb, json=PLAN).json()
    assert client.post(f"/api/v1/me/applications/{draft['id']}/submit", headers=hb).json()["status"] == "approved"
    card = client.post("/api/v1/me/bank-cards", headers=hb, json={"bank_name": "中国银行", "card_number": CARD})
    assert card.status_code == 201, card.text
    loan = client.post(LOANS, headers=hf, json={"application_id": draft["id"]}).json()
    return {"inst": inst, "borrower": borrower, "finance": finance, "hb": hb, "hf": hf, "ho": ho,
            "application_id": draft["id"],
            "loan_id": loan["id"], "card_id": card.json()["id"]}


# What taking in a callback writes (the stored notice, its audit record), whether or not applying it changes
# anything: a callback that must change nothing may change only these.
TAKEN_IN = {"outbox_messages", "audit_log", "audit_head"}


def payment_of(client, world, payment_id, headers="hf"):
    """The payment as staff (or the borrower) read it now."""
    path = f"{LOANS}/{world['loan_id']}/payments" if headers == "hf" else \
        f"/api/v1/me/loans/{world['loan_id']}/payments"
    return next(p for p in client.get(path, headers=world[headers]).json() if p["id"] == payment_id)


def deliver(client, rt):
    """POST the simulator's due callbacks to our public route, as the provider would; their answers (202, the
    callback stored; the test client runs the dispatch that applies it before it returns the answer)."""
    with rt.db.unit_of_work() as s:
        callbacks = rt.payments.due_callbacks(session=s)
    return [client.post(CALLBACK, content=c.body, headers={SIGNATURE_HEADER: c.signature,
                                                           "Content-Type": "application/json"}) for c in callbacks]


def books_verified(session, inst_id):
    session.expire_all()
    report = ledger.books.verify(session=session, institution_id=inst_id, subledger=loans.control_balances)
    assert report.ok, report.problems


def move_to(session, rt, inst_id, day):
    parties.organisation.set_business_date_as(session=session, clock=rt.clock, actor=Actor.system(inst_id),
                                              institution_id=inst_id, new_date=day, override_allowed=True)
    session.commit()


def paid_out(client, rt, world):
    """Sign, pay out, let the provider confirm: the active loan."""
    sign_contract(client, rt, world["hb"], world["borrower"].phone, world["application_id"])
    r = client.post(f"{LOANS}/{world['loan_id']}/payouts", headers=key(world["hf"]), json={})
    assert r.status_code == 201, r.text
    rt.clock.advance(timedelta(seconds=61))
    assert {x.status_code for x in deliver(client, rt)} <= {202}  # its callback(s), or none when late
    client.post(f"/api/v1/payments/{r.json()['id']}/poll", headers=world["hf"])
    loan = client.get(f"{LOANS}/{world['loan_id']}", headers=world["hf"]).json()
    assert loan["status"] == "active"
    return loan


def test_only_a_signed_contract_is_paid_out(client, session, rt, world):
    before = snapshot(rt.db)
    path = f"{LOANS}/{world['loan_id']}"
    refused(client.post(f"{path}/payouts", headers=key(world["hf"]), json={}), 409, "contract_not_signed", "loan_id")
    refused(client.post(f"{path}/disbursements", headers=key(world["hf"]), json={}), 409, "contract_not_signed")
    assert before.diff(snapshot(rt.db)) == {}


def test_a_payout_is_recorded_on_the_providers_confirmation_once(client, session, rt, world):
    sign_contract(client, rt, world["hb"], world["borrower"].phone, world["application_id"])
    path = f"{LOANS}/{world['loan_id']}"
    headers = {**world["hf"], "Idempotency-Key": "payout-1"}
    r = client.post(f"{path}/payouts", headers=headers, json={})
    assert r.status_code == 201, r.text
    payment = r.json()
    assert (payment["status"], payment["amount"], payment["direction"], payment["card_masked"]) == (
        "requested", "8000.00", "out", "622588******7430")
    # Nothing on the loan yet: the money has not left.
    loan = client.get(path, headers=world["hf"]).json()
    assert (loan["status"], loan["events"]) == ("pending_disbursement", [])
    # The same request again: the same payment; another payout while this one runs: refused.
    assert client.post(f"{path}/payouts", headers=headers, json={}).json()["id"] == payment["id"]
    refused(client.post(f"{path}/payouts", headers=key(world["hf"]), json={}), 409, "payout_in_progress")
    assert deliver(client, rt) == []  # not settled yet: no callback
    # The provider settles it: the callback confirms, the disbursement is recorded and posted.
    rt.clock.advance(timedelta(seconds=61))
    requested_on = world["inst"].business_date
    move_to(session, rt, world["inst"].id, requested_on + timedelta(days=2))
    [ack] = deliver(client, rt)
    assert ack.status_code == 202, ack.text
    assert ack.json() == {"payment_id": payment["id"], "status": "requested", "callback_id": ack.json()["callback_id"],
                          "repeated": False}  # taken in; applied after the answer
    loan = client.get(path, headers=world["hf"]).json()
    assert loan["status"] == "active"
    # Dated the day the money left (the settlement), not the day it was confirmed.
    assert loan["disbursed_on"] == requested_on.isoformat()
    [event] = loan["events"]
    assert (event["type"], event["payload"]["channel"], event["reference"]) == (
        "disbursement", "bank_transfer", payment["provider_reference"])
    assert event["entries"]
    [row] = client.get(f"{path}/payments", headers=world["hf"]).json()
    assert (row["status"], row["decided_by"], row["event_seq"]) == ("confirmed", "callback", 1)
    books_verified(session, world["inst"].id)
    # The callback again (a duplicate), and a poll: nothing changes (the SMS of the disbursement's
    # notification sent first, which the dispatch after any callback would send).
    dispatch_outbox(rt)
    before = snapshot(rt.db)
    with rt.db.unit_of_work() as s:
        from microcredit.integrations import repository as sim

        callback = rt.payments.callback_of(sim.sim_payment(s, payment["provider_reference"]))
    again = client.post(CALLBACK, content=callback.body, headers={SIGNATURE_HEADER: callback.signature})
    assert (again.status_code, again.json()["repeated"], again.json()["callback_id"]) == (
        202, True, ack.json()["callback_id"])
    assert again.json()["status"] == "confirmed"
    assert client.post(f"/api/v1/payments/{payment['id']}/poll", headers=world["hf"]).json()["status"] == "confirmed"
    assert before.diff(snapshot(rt.db)) == {}
    # The disbursed loan takes no second payout.
    refused(client.post(f"{path}/payouts", headers=key(world["hf"]), json={}), 409, "loan_wrong_state")


@pytest.mark.parametrize("behaviour", [{"delay_seconds": 0}])
def test_a_failed_payout_leaves_the_loan_undisbursed_and_says_why(client, session, rt, world):
    sign_contract(client, rt, world["hb"], world["borrower"].phone, world["application_id"])
    declined = client.post("/api/v1/me/bank-cards", headers=world["hb"],
                           json={"bank_name": "中国银行", "card_number": DECLINED, "primary": True}).json()
    path = f"{LOANS}/{world['loan_id']}"
    r = client.post(f"{path}/payouts", headers=key(world["hf"]), json={"card_id": declined["id"]})
    assert r.status_code == 201, r.text
    assert (r.json()["status"], r.json()["failure_reason"]) == ("failed", "insufficient_funds")
    assert client.get(path, headers=world["hf"]).json()["status"] == "pending_disbursement"
    outbox_timer(client)  # the notices so far are texted by the timer, as in `serve`
    before = snapshot(rt.db)
    assert [x.json()["status"] for x in deliver(client, rt)] == ["failed"]  # its callback: nothing new
    assert set(before.diff(snapshot(rt.db))) <= TAKEN_IN
    # Paid out again, to the good card: confirmed at once (no delay).
    r = client.post(f"{path}/payouts", headers=key(world["hf"]), json={"card_id": world["card_id"]})
    assert r.json()["status"] == "confirmed", r.text
    assert client.get(path, headers=world["hf"]).json()["status"] == "active"
    books_verified(session, world["inst"].id)


def test_a_callback_whose_signature_does_not_verify_changes_nothing(client, session, rt, world):
    sign_contract(client, rt, world["hb"], world["borrower"].phone, world["application_id"])
    payment = client.post(f"{LOANS}/{world['loan_id']}/payouts", headers=key(world["hf"]), json={}).json()
    body = json.dumps({"provider_reference": payment["provider_reference"], "merchant_reference": "x",
                       "kind": "payout", "amount": "8000.00", "currency": "CNY", "status": "succeeded",
                       "reason": None, "settled_at": None}).encode()
    before = snapshot(rt.db)
    for signature in ("", "0" * 64, sign(b"another-secret", body)):
        r = client.post(CALLBACK, content=body, headers={SIGNATURE_HEADER: signature})
        refused(r, 400, "callback_signature_invalid", "signature")
    refused(client.post("/api/v1/payments/callbacks/another", content=body,
                        headers={SIGNATURE_HEADER: sign(b"test-secret", body)}), 404, "payment_not_found")
    assert before.diff(snapshot(rt.db)) == {}
    # Signed right but for a payment we do not have: not found, nothing changed.
    unknown = body.replace(payment["provider_reference"].encode(), b"SIMNOSUCHPAYMENT0000000")
    refused(client.post(CALLBACK, content=unknown, headers={SIGNATURE_HEADER: sign(b"test-secret", unknown)}),
            404, "payment_not_found")
    assert before.diff(snapshot(rt.db)) == {}


@pytest.mark.parametrize("behaviour", [{"delay_seconds": 0, "duplicate_rate": 1.0}])
def test_an_online_repayment_is_recorded_once_though_its_callback_comes_twice(client, session, rt, world):
    loan = paid_out(client, rt, world)
    first_due = date.fromisoformat(loan["state"]["installments"][0]["due_date"])
    move_to(session, rt, world["inst"].id, first_due)
    installment = client.get(f"/api/v1/me/loans/{world['loan_id']}", headers=world["hb"]).json()
    due = installment["state"]["installments"][0]["due"]["total"]
    headers = key(world["hb"])
    r = client.post(f"/api/v1/me/loans/{world['loan_id']}/payments", headers=headers, json={"amount": due})
    assert r.status_code == 201, r.text
    payment = r.json()
    assert (payment["status"], payment["channel"], payment["purpose"]) == ("requested", "online", "repayment")
    assert payment["pay_url"].endswith(f"/_sim/payments/{payment['provider_reference']}")
    # The same request again: the same payment.
    assert client.post(f"/api/v1/me/loans/{world['loan_id']}/payments", headers=headers,
                       json={"amount": due}).json()["id"] == payment["id"]
    # The borrower pays on the simulated cashier page; the callback comes twice, one repayment recorded.
    paid = client.post(f"/_sim/payments/{payment['provider_reference']}/pay")
    assert paid.status_code == 200, paid.text
    assert paid.json()["callbacks_delivered"] == 2
    mine = client.get(f"/api/v1/me/loans/{world['loan_id']}", headers=world["hb"]).json()
    repayments = [e for e in mine["events"] if e["type"] == "repayment"]
    assert [(e["payload"]["amount"], e["payload"]["channel"]) for e in repayments] == [(due, "online")]
    assert mine["state"]["installments"][0]["outstanding"]["total"] == "0.00"
    [row] = [p for p in client.get(f"/api/v1/me/loans/{world['loan_id']}/payments", headers=world["hb"]).json()
             if p["purpose"] == "repayment"]
    assert (row["status"], row["event_seq"]) == ("confirmed", 2)
    books_verified(session, world["inst"].id)
    # Another borrower sees none of it and cannot pay on the loan.
    refused(client.get(f"/api/v1/me/loans/{world['loan_id']}/payments", headers=world["ho"]), 404, "not_found")
    refused(client.post(f"/api/v1/me/payments/{row['id']}/poll", headers=world["ho"]), 404, "not_found")
    refused(client.post(f"/api/v1/me/loans/{world['loan_id']}/payments", headers=key(world["ho"]),
                        json={"amount": "10.00"}), 404, "not_found")


@pytest.mark.parametrize("behaviour", [{"delay_seconds": 30, "late_rate": 1.0, "late_seconds": 600}])
def test_a_late_callback_after_a_poll_changes_nothing(client, session, rt, world):
    paid_out_late = sign_contract(client, rt, world["hb"], world["borrower"].phone, world["application_id"])
    assert paid_out_late["status"] == "signed"
    payout = client.post(f"{LOANS}/{world['loan_id']}/payouts", headers=key(world["hf"]), json={}).json()
    rt.clock.advance(timedelta(seconds=31))
    assert deliver(client, rt) == []  # settled, but the callback is late
    polled = client.post(f"/api/v1/payments/{payout['id']}/poll", headers=world["hf"]).json()
    assert (polled["status"], polled["decided_by"]) == ("confirmed", "poll")
    # A prepayment choosing a shorter term, confirmed by the borrower's poll.
    prepay = client.post(f"/api/v1/me/loans/{world['loan_id']}/payments", headers=key(world["hb"]),
                         json={"amount": "3000.00", "purpose": "prepayment", "mode": "shorten_term"}).json()
    client.post(f"/_sim/payments/{prepay['provider_reference']}/pay")
    rt.clock.advance(timedelta(seconds=31))
    assert client.post(f"/api/v1/me/payments/{prepay['id']}/poll", headers=world["hb"]).json()["status"] == \
        "confirmed"
    loan = client.get(f"/api/v1/me/loans/{world['loan_id']}", headers=world["hb"]).json()
    [event] = [e for e in loan["events"] if e["type"] == "prepayment"]
    assert (event["payload"]["mode"], event["payload"]["channel"]) == ("shorten_term", "online")
    assert len(loan["state"]["installments"]) < 6
    books_verified(session, world["inst"].id)
    # The late callbacks arrive: nothing changes.
    rt.clock.advance(timedelta(seconds=601))
    outbox_timer(client)  # the notices so far are texted by the timer, as in `serve`
    before = snapshot(rt.db)
    assert [x.json()["status"] for x in deliver(client, rt)] == ["confirmed", "confirmed"]
    assert set(before.diff(snapshot(rt.db))) <= TAKEN_IN


def test_bad_input_to_an_online_payment_is_refused_with_a_field_and_changes_nothing(client, session, rt, world):
    path = f"/api/v1/me/loans/{world['loan_id']}/payments"
    before = snapshot(rt.db)
    refused(client.post(path, headers=key(world["hb"]), json={"amount": "100.00"}), 409, "loan_wrong_state")
    for amount in ("0.00", "-5.00", "1.005", "abc", 100):
        refused(client.post(path, headers=key(world["hb"]), json={"amount": amount}), 422, "validation_failed",
                "amount")
    refused(client.post(path, headers=key(world["hb"]), json={"amount": "100.00", "purpose": "prepayment"}), 422,
            "prepayment_mode_required", "mode")
    refused(client.post(path, headers=key(world["hb"]), json={"amount": "100.00", "mode": "sideways"}), 422,
            "validation_failed", "mode")
    assert before.diff(snapshot(rt.db)) == {}


@pytest.mark.parametrize("behaviour", [{"delay_seconds": 0}])
def test_autodebit_collects_on_the_due_date_and_retries_a_failure(client, session, rt, world):
    loan = paid_out(client, rt, world)
    due = [date.fromisoformat(i["due_date"]) for i in loan["state"]["installments"]]
    inst_id = world["inst"].id
    # The due date: collected from the bound card, recorded as an auto-debit.
    move_to(session, rt, inst_id, due[0])
    with rt.db.unit_of_work() as s:
        report = payments.autodebit(session=s, clock=rt.clock, provider=rt.payments, institution_id=inst_id,
                                    on=due[0])
    assert (len(report.requested), report.confirmed, report.failed) == (1, 1, 0)
    with rt.db.unit_of_work() as s:  # the same day again: nothing new
        again = payments.autodebit(session=s, clock=rt.clock, provider=rt.payments, institution_id=inst_id,
                                   on=due[0])
    assert (again.requested, again.skipped) == ([], {"nothing_due": 1})
    mine = client.get(f"/api/v1/me/loans/{world['loan_id']}", headers=world["hb"]).json()
    assert [e["payload"]["channel"] for e in mine["events"] if e["type"] == "repayment"] == ["auto_debit"]
    # The second due date, the card now one that lacks the money: failed, tried again a day later, and
    # (the card replaced) three days after the due date it is collected.
    declined = client.post("/api/v1/me/bank-cards", headers=world["hb"],
                           json={"bank_name": "中国银行", "card_number": DECLINED, "primary": True})
    assert declined.status_code == 201, declined.text
    outcomes = []
    for offset in (0, 1, 2, 3):
        day = due[1] + timedelta(days=offset)
        move_to(session, rt, inst_id, day)
        if offset == 3:
            client.post("/api/v1/me/bank-cards", headers=world["hb"],
                        json={"bank_name": "中国银行", "card_number": "6217000010000000006", "primary": True})
        with rt.db.unit_of_work() as s:
            r = payments.autodebit(session=s, clock=rt.clock, provider=rt.payments, institution_id=inst_id, on=day)
        outcomes.append((len(r.requested), r.confirmed, r.failed))
    assert outcomes == [(1, 0, 1), (1, 0, 1), (0, 0, 0), (1, 1, 0)]
    attempts = [(p["attempt"], p["status"]) for p in client.get(f"{LOANS}/{world['loan_id']}/payments",
                                                                 headers=world["hf"]).json()
                if p["channel"] == "auto_debit" and p["due_date"] == due[1].isoformat()]
    assert sorted(attempts) == [(1, "failed"), (2, "failed"), (3, "confirmed")]
    books_verified(session, inst_id)


@pytest.mark.parametrize("behaviour", [{"delay_seconds": 0}])
def test_reconciliation_lists_every_break_once(client, session, rt, world):
    paid_out(client, rt, world)
    inst_id = world["inst"].id
    day = rt.clock.now().astimezone(payments.ZONE).date()
    pay = client.post(f"/api/v1/me/loans/{world['loan_id']}/payments", headers=key(world["hb"]),
                      json={"amount": "100.00"}).json()
    client.post(f"/_sim/payments/{pay['provider_reference']}/pay")
    statement = client.get("/_sim/payments/statement", params={"day": day.isoformat()})
    assert statement.status_code == 200
    lines = statement.text.strip().splitlines()
    assert lines[0] == "provider_reference,merchant_reference,kind,amount,currency,status,settled_at"
    assert len(lines) == 3  # the payout and the repayment
    # What the provider's statement says matches us: no break.
    hf = world["hf"]
    r = client.post("/api/v1/reconciliation/statements", headers=hf,
                    json={"statement_date": day.isoformat(), "statement": statement.text})
    assert (r.status_code, r.json()) == (200, [])
    # A statement that lost the payout, changed the repayment's amount and has a payment we never made.
    payout_line, repay_line = lines[1], lines[2]
    stranger = f"SIMSTRANGER0000000001,MC{inst_id}-999999,online,50.00,CNY,succeeded,{day.isoformat()}T10:00:00+08:00"
    tampered = "\n".join([lines[0], repay_line.replace(",100.00,", ",90.00,"), stranger]) + "\n"
    r = client.post("/api/v1/reconciliation/statements", headers=hf,
                    json={"statement_date": day.isoformat(), "statement": tampered})
    assert r.status_code == 200, r.text
    assert sorted(b["kind"] for b in r.json()) == ["amount_differs", "missing_ours", "missing_theirs"]
    assert payout_line.split(",")[0] in [b["provider_reference"] for b in r.json() if b["kind"] == "missing_theirs"]
    # Stored, listed, and a to-do of finance; the same statement again finds nothing new.
    again = client.post("/api/v1/reconciliation/statements", headers=hf,
                        json={"statement_date": day.isoformat(), "statement": tampered})
    assert again.json() == []
    assert client.get("/api/v1/reconciliation/breaks", headers=hf).json()["total"] == 3
    todos = {t["code"]: t["count"] for t in client.get("/api/v1/me/todos", headers=hf).json()["items"]}
    assert todos["reconciliation_breaks"] == 3
    # Not a statement: refused with a field, nothing stored.
    before = snapshot(rt.db)
    refused(client.post("/api/v1/reconciliation/statements", headers=hf,
                        json={"statement_date": day.isoformat(), "statement": "a,b\n1,2\n"}), 422,
            "statement_unreadable", "statement")
    assert before.diff(snapshot(rt.db)) == {}


@pytest.mark.parametrize("behaviour", [{"delay_seconds": 0}])
def test_finance_resolves_a_break_with_a_note_and_it_leaves_the_todos(client, session, rt, world):
    paid_out(client, rt, world)
    inst_id = world["inst"].id
    day = rt.clock.now().astimezone(payments.ZONE).date()
    stranger = f"SIMSTRANGER0000000002,MC{inst_id}-999998,online,50.00,CNY,succeeded,{day.isoformat()}T10:00:00+08:00"
    header = "provider_reference,merchant_reference,kind,amount,currency,status,settled_at"
    found = client.post("/api/v1/reconciliation/statements", headers=world["hf"],
                        json={"statement_date": day.isoformat(), "statement": f"{header}\n{stranger}\n"}).json()
    assert sorted(b["kind"] for b in found) == ["missing_ours", "missing_theirs"]
    one = next(b for b in found if b["kind"] == "missing_ours")
    path = f"/api/v1/reconciliation/breaks/{one['id']}/resolve"
    before = snapshot(rt.db)
    refused(client.post(path, headers=world["hf"], json={"note": ""}), 422, "validation_failed", "note")
    refused(client.post("/api/v1/reconciliation/breaks/999999/resolve", headers=world["hf"], json={"note": "x"}),
            404, "not_found")
    refused(client.post(path, headers=world["hb"], json={"note": "x"}), 403, "permission_denied")
    assert before.diff(snapshot(rt.db)) == {}
    r = client.post(path, headers=world["hf"], json={"note": "  渠道更正了对账单 / the provider corrected it  "})
    assert r.status_code == 200, r.text
    assert (r.json()["resolved"], r.json()["resolution_note"]) == (True, "渠道更正了对账单 / the provider corrected it")
    assert r.json()["resolved_at"] is not None
    open_ = client.get("/api/v1/reconciliation/breaks", headers=world["hf"]).json()
    assert [b["kind"] for b in open_["items"]] == ["missing_theirs"]
    resolved = client.get("/api/v1/reconciliation/breaks", headers=world["hf"], params={"resolved": True}).json()
    assert [b["id"] for b in resolved["items"]] == [one["id"]]
    todos = {t["code"]: t["count"] for t in client.get("/api/v1/me/todos", headers=world["hf"]).json()["items"]}
    assert todos["reconciliation_breaks"] == 1
    assert [a.after["note"] for a in audit_records(session, "payments.break_resolved", one["id"])] == [
        "渠道更正了对账单 / the provider corrected it"]
    before = snapshot(rt.db)
    refused(client.post(path, headers=world["hf"], json={"note": "again"}), 409, "break_already_resolved", "break_id")
    assert before.diff(snapshot(rt.db)) == {}


def test_an_approved_loan_is_called_off_before_payout_and_never_after(client, session, rt, world):
    """Cancelled before payout: the loan `cancelled`, the signed contract void (no longer signable or payable),
    the application withdrawn with the reason, the borrower told, each audited. Refused, changing nothing,
    once a payout was requested; bad input is refused with its field."""
    sign_contract(client, rt, world["hb"], world["borrower"].phone, world["application_id"])
    cancel = f"{LOANS}/cancellations"
    before = snapshot(rt.db)
    refused(client.post(cancel, headers=world["hf"], json={"application_id": world["application_id"]}), 422,
            "validation_failed", "note")
    refused(client.post(cancel, headers=world["hf"], json={"application_id": world["application_id"], "note": ""}),
            422, "validation_failed", "note")
    assert_problem(client.post(cancel, headers=world["hb"], json={"application_id": world["application_id"],
                                                                   "note": "x"}), 403)
    assert before.diff(snapshot(rt.db)) == {}

    done = client.post(cancel, headers=world["hf"], json={"application_id": world["application_id"],
                                                          "note": "借款人不再需要"})
    assert done.status_code == 201, done.text
    assert done.json()["loan_id"] == world["loan_id"]
    assert done.json()["contract_number"]
    assert client.get(f"{LOANS}/{world['loan_id']}", headers=world["hf"]).json()["status"] == "cancelled"
    application = client.get(f"/api/v1/me/applications/{world['application_id']}", headers=world["hb"]).json()
    assert application["status"] == "withdrawn"
    refused(client.post(f"{LOANS}/{world['loan_id']}/payouts", headers=key(world["hf"]), json={}), 409,
            "loan_wrong_state")
    inbox = client.get("/api/v1/me/notifications", headers=world["hb"]).json()["items"]
    assert "loan_cancelled" in [m["template"] for m in inbox]
    for action in ("loan.cancelled", "contract.voided", "application.cancelled"):
        assert [r.after["note"] for r in audit_records(session, action)] == ["借款人不再需要"], action
    again = client.post(cancel, headers=world["hf"], json={"application_id": world["application_id"], "note": "x"})
    refused(again, 409, "loan_wrong_state")


def test_a_loan_whose_payout_was_requested_cannot_be_called_off(client, session, rt, world):
    sign_contract(client, rt, world["hb"], world["borrower"].phone, world["application_id"])
    r = client.post(f"{LOANS}/{world['loan_id']}/payouts", headers=key(world["hf"]), json={})
    assert r.json()["status"] == "requested", r.text
    before = snapshot(rt.db)
    refused(client.post(f"{LOANS}/cancellations", headers=world["hf"],
                        json={"application_id": world["application_id"], "note": "太晚了"}),
            409, "payout_in_progress", "application_id")
    assert before.diff(snapshot(rt.db)) == {}


def _flaky_callbacks(monkeypatch):
    """Applying a callback fails (the database busy, say) while `fault["on"]`; polls are unaffected."""
    fault = {"on": True, "tries": 0}
    real = payments.apply

    def apply(*, via, **kw):
        if via == "callback":
            fault["tries"] += 1
            if fault["on"]:
                raise RuntimeError("database is busy (simulated)")
        return real(via=via, **kw)

    monkeypatch.setattr(payments, "apply", apply)
    return fault


def test_a_callback_is_answered_at_once_retried_with_back_off_and_dead_lettered_for_staff(
        client, session, rt, world, monkeypatch):
    fault = _flaky_callbacks(monkeypatch)
    sign_contract(client, rt, world["hb"], world["borrower"].phone, world["application_id"])
    path = f"{LOANS}/{world['loan_id']}"
    payment = client.post(f"{path}/payouts", headers=key(world["hf"]), json={}).json()
    rt.clock.advance(timedelta(seconds=61))
    # Taken in and answered although applying it fails: nothing on the loan, the notice kept to retry.
    [ack] = deliver(client, rt)
    assert (ack.status_code, ack.json()["repeated"]) == (202, False), ack.text
    assert fault["tries"] == 1
    assert payment_of(client, world, payment["id"])["status"] == "requested"
    assert client.get(path, headers=world["hf"]).json()["events"] == []
    admin = make_staff(session, rt, world["inst"], roles=("administrator",), password=None)
    session.commit()
    callback_id = ack.json()["callback_id"]

    def admin_headers():  # signed in afresh: hours pass on the test's clock
        headers = signed_in(session, rt, admin.user)
        session.commit()
        return headers

    def message():
        ha = admin_headers()
        return next(m for m in client.get("/api/v1/outbox", headers=ha, params={"page_size": 100}).json()["items"]
                    if m["id"] == callback_id)

    first = message()
    assert (first["topic"], first["template"], first["status"], first["attempts"]) == (
        "payment_callback", "payment_callback", "retrying", 1)
    assert "database is busy" in first["last_error"]
    assert first["recipient_masked"] == payment["provider_reference"]
    # The same notice again while it waits: the same stored callback, nothing more.
    assert [(r.status_code, r.json()["callback_id"], r.json()["repeated"]) for r in redeliver(client, rt, payment)] \
        == [(202, callback_id, True)]
    # Not due again before its back-off (2 s after the first failure, then 4, 8 … up to an hour).
    dispatch_outbox(rt)
    assert fault["tries"] == 1
    for n in range(2, notifications.MAX_ATTEMPTS + 1):
        rt.clock.advance(timedelta(seconds=min(notifications.MAX_BACKOFF_SECONDS, 2 ** (n - 1))))
        dispatch_outbox(rt)
        assert fault["tries"] == n
    dead = message()
    assert (dead["status"], dead["attempts"]) == ("dead", notifications.MAX_ATTEMPTS)
    assert "database is busy" in dead["last_error"]
    rt.clock.advance(timedelta(hours=2))
    dispatch_outbox(rt)
    assert fault["tries"] == notifications.MAX_ATTEMPTS  # dead: no longer tried
    world["hf"] = signed_in(session, rt, world["finance"].user)  # hours have passed: signed in afresh
    session.commit()
    assert payment_of(client, world, payment["id"])["status"] == "requested"
    # Once the cause is fixed, staff retry it from the monitor: applied once, posted, the books hold.
    fault["on"] = False
    retried = client.post(f"/api/v1/outbox/{callback_id}/retry", headers=admin_headers())
    assert retried.status_code == 200, retried.text
    dispatch_outbox(rt)
    assert message()["status"] == "delivered"
    row = payment_of(client, world, payment["id"])
    assert (row["status"], row["decided_by"], row["event_seq"]) == ("confirmed", "callback", 1)
    loan = client.get(path, headers=world["hf"]).json()
    assert loan["status"] == "active"
    assert [e["type"] for e in loan["events"]] == ["disbursement"]
    books_verified(session, world["inst"].id)


def redeliver(client, rt, payment):
    """The provider sends a payment's callback once more (as it does when unsure we got it)."""
    from microcredit.integrations import repository as sim

    with rt.db.unit_of_work() as s:
        callback = rt.payments.callback_of(sim.sim_payment(s, payment["provider_reference"]))
    return [client.post(CALLBACK, content=callback.body, headers={SIGNATURE_HEADER: callback.signature})]


def test_a_callback_applied_after_a_poll_decided_the_payment_changes_nothing(client, session, rt, world,
                                                                             monkeypatch):
    fault = _flaky_callbacks(monkeypatch)
    sign_contract(client, rt, world["hb"], world["borrower"].phone, world["application_id"])
    path = f"{LOANS}/{world['loan_id']}"
    payment = client.post(f"{path}/payouts", headers=key(world["hf"]), json={}).json()
    rt.clock.advance(timedelta(seconds=61))
    [ack] = deliver(client, rt)
    assert ack.status_code == 202
    # The poll decides the payment while the callback waits for its retry (out of order).
    polled = client.post(f"/api/v1/payments/{payment['id']}/poll", headers=world["hf"]).json()
    assert (polled["status"], polled["decided_by"], polled["event_seq"]) == ("confirmed", "poll", 1)
    books_verified(session, world["inst"].id)
    outbox_timer(client)  # the notices so far are texted by the timer, as in `serve`
    before = snapshot(rt.db)
    fault["on"] = False
    rt.clock.advance(timedelta(seconds=2))
    dispatch_outbox(rt)
    assert fault["tries"] == 2
    # Applied: the stored callback is done with, and nothing else changed — no second disbursement.
    changed = before.diff(snapshot(rt.db))
    assert set(changed) <= TAKEN_IN, changed
    assert [e["type"] for e in client.get(path, headers=world["hf"]).json()["events"]] == ["disbursement"]
    assert payment_of(client, world, payment["id"])["decided_by"] == "poll"
    books_verified(session, world["inst"].id)
