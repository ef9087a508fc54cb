"""Money taken at a branch above the institution's threshold waits for a second person; a credit
balance is refunded by maker-checker. Each recorded movement is posted in the same transaction and
the books stay equal to the loans' sub-ledger; bad input is refused with a field and a code."""

from __future__ import annotations

import subprocess
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from microcredit.contracts import rendering
from microcredit.lending.money import Money
from microcredit.notifications.models import InboxMessage
from microcredit.platform.actor import Actor
from microcredit.servicing.service import loans
from tests.factories import make_staff
from tests.integration.helpers import audit_records, signed_in, snapshot
from tests.integration.servicing import test_loans_api as base
from tests.integration.servicing.test_loans_api import (
    LOANS,
    _books_hold_the_loans,
    _disbursed,
    _move_to,
    key,
    make_world,
    refused,
)

# The loan's world of test_loans_api: an approved application, a finance user and a branch manager.
client = base.client
world = base.world


def test_the_threshold_is_read_by_staff_and_set_by_an_administrator(client, session, runtime, world):
    assert client.get("/api/v1/servicing/settings", headers=world["hf"]).json()["repayment_approval_above"] is None
    refused(client.put("/api/v1/servicing/settings", headers=world["hf"],
                       json={"repayment_approval_above": "1000.00"}), 403, "permission_denied")
    admin = make_staff(session, runtime, world["inst"], roles=("administrator",), password=None)
    ha = signed_in(session, runtime, admin.user)
    session.commit()
    refused(client.put("/api/v1/servicing/settings", headers=ha, json={"repayment_approval_above": "-1.00"}), 422,
            "validation_failed", field="repayment_approval_above")
    put = client.put("/api/v1/servicing/settings", headers=ha, json={"repayment_approval_above": "1000.00"})
    assert put.status_code == 200, put.text
    assert client.get("/api/v1/servicing/settings", headers=world["hf"]).json()["repayment_approval_above"] == \
        "1000.00"


def _set(client, session, runtime, world, amount):
    """The institution's threshold set to `amount` by an administrator."""
    admin = make_staff(session, runtime, world["inst"], roles=("administrator",), password=None)
    h = signed_in(session, runtime, admin.user)
    session.commit()
    r = client.put("/api/v1/servicing/settings", headers=h, json={"repayment_approval_above": amount})
    assert r.status_code == 200, r.text


def test_a_cash_repayment_above_the_threshold_waits_for_a_second_person(client, session, runtime, world):
    loan = _disbursed(client, world)["loan"]
    inst_id = world["inst"].id
    first = loan["state"]["installments"][0]
    day = date.fromisoformat(first["due_date"])
    _move_to(session, runtime, inst_id, day)
    _set(client, session, runtime, world, "1000.00")
    path = f"{LOANS}/{loan['id']}"
    # At or below the threshold: recorded at once, as always.
    small = client.post(f"{path}/repayments", headers=key(world["hf"]), json={"amount": "1000.00", "channel": "cash"})
    assert small.status_code == 200, small.text
    events = small.json()["event"]["seq"]
    # Above it: a pending change, nothing recorded, nothing posted.
    h = {**world["hf"], "Idempotency-Key": "teller-0001"}
    body = {"amount": "1500.00", "channel": "cash", "reference": "柜面 0001"}
    pending = client.post(f"{path}/repayments", headers=h, json=body)
    assert pending.status_code == 202, pending.text
    change = pending.json()
    assert (change["kind"], change["status"], change["details"]["amount"]) == ("repayment", "pending", "1500.00")
    assert change["details"]["on"] == day.isoformat()
    assert len(client.get(path, headers=world["hf"]).json()["events"]) == events
    # The same request again finds the same change; another request under the key is refused.
    again = client.post(f"{path}/repayments", headers=h, json=body)
    assert (again.status_code, again.json()["id"]) == (202, change["id"])
    refused(client.post(f"{path}/repayments", headers=h, json={**body, "amount": "1600.00"}), 422,
            "idempotency_key_reused")
    # A transfer above it waits too; a borrower's own mobile payment is not a teller's.
    transfer = client.post(f"{path}/repayments", headers=key(world["hf"]),
                           json={"amount": "1200.00", "channel": "bank_transfer"})
    assert transfer.status_code == 202, transfer.text
    # The queue lists both for the checker; the maker cannot approve.
    queue = client.get("/api/v1/loan-changes", headers=world["hm"]).json()["items"]
    assert [c["id"] for c in queue] == [change["id"], transfer.json()["id"]]
    refused(client.post(f"/api/v1/loan-changes/{change['id']}/approve", headers=world["hf"], json={}), 403,
            "permission_denied")
    # Confirmed by the manager the next day: recorded, valued on the day the money was taken.
    _move_to(session, runtime, inst_id, day + timedelta(days=1))
    approved = client.post(f"/api/v1/loan-changes/{change['id']}/approve", headers=world["hm"], json={})
    assert approved.status_code == 200, approved.text
    after = client.get(path, headers=world["hf"]).json()
    event = after["events"][-1]
    assert (event["type"], event["payload"]["amount"], event["value_date"]) == ("repayment", "1500.00",
                                                                                day.isoformat())
    assert event["reference"] == "柜面 0001"
    assert sorted(e["basis"] for e in event["entries"]) == ["accrual", "cash"]
    # The teller's key now names the recorded event: the same request once more records nothing.
    assert client.post(f"{path}/repayments", headers=h, json=body).status_code == 202
    assert len(client.get(path, headers=world["hf"]).json()["events"]) == events + 1
    _books_hold_the_loans(session, inst_id, day + timedelta(days=1))


def test_a_teller_cannot_confirm_their_own_repayment(client, session, runtime, world):
    loan = _disbursed(client, world)["loan"]
    _set(client, session, runtime, world, "10.00")
    both = make_staff(session, runtime, world["inst"], roles=("finance", "branch_manager"), password=None)
    h = signed_in(session, runtime, both.user)
    session.commit()
    change = client.post(f"{LOANS}/{loan['id']}/repayments", headers=key(h),
                         json={"amount": "100.00", "channel": "cash"}).json()
    before = snapshot(runtime.db)
    refused(client.post(f"/api/v1/loan-changes/{change['id']}/approve", headers=h, json={}), 403, "self_approval")
    assert snapshot(runtime.db) == before


def test_bad_repayments_above_the_threshold_are_refused_and_change_nothing(client, session, runtime, world):
    loan = _disbursed(client, world)["loan"]
    _set(client, session, runtime, world, "10.00")
    path = f"{LOANS}/{loan['id']}/repayments"
    before = snapshot(runtime.db)
    far = (date.fromisoformat(loan["disbursed_on"]) + timedelta(days=30)).isoformat()
    refused(client.post(path, headers=key(world["hf"]), json={"amount": "100.00", "channel": "cash", "on": far}),
            422, "value_date_in_future", field="on")
    refused(client.post(path, headers=key(world["hf"]), json={"amount": "100.001", "channel": "cash"}), 422,
            "validation_failed", field="amount")
    refused(client.post(path, headers=key(world["hf"]), json={"amount": "0.00", "channel": "cash"}), 422,
            "validation_failed", field="amount")
    assert snapshot(runtime.db) == before


def test_a_credit_balance_is_refunded_by_maker_checker(client, session, runtime, world):
    loan = _disbursed(client, world)["loan"]
    inst_id = world["inst"].id
    path = f"{LOANS}/{loan['id']}"
    # No credit yet: refused when proposed, naming the field.
    before = snapshot(runtime.db)
    refused(client.post(f"{path}/changes", headers=world["hf"], json={
        "kind": "refund", "reason_code": "overpayment", "note": "退多缴"}), 422, "no_credit_balance", field="amount")
    assert snapshot(runtime.db) == before
    # The borrower pays off everything and 50.00 more.
    day = date.fromisoformat(loan["disbursed_on"]) + timedelta(days=20)
    _move_to(session, runtime, inst_id, day)
    payoff = client.get(path, headers=world["hf"]).json()["state"]["payoff"]["total"]
    extra = str(Money.parse(payoff, "CNY") + Money.parse("50.00", "CNY"))
    paid = client.post(f"{path}/prepayments", headers=key(world["hf"]),
                       json={"amount": extra, "mode": "shorten_term", "channel": "bank_transfer"})
    assert paid.status_code == 200, paid.text
    state = paid.json()["loan"]["state"]
    assert state["credit_balance"] == "50.00", state
    assert paid.json()["loan"]["status"] == "overpaid"
    refused(client.post(f"{path}/changes", headers=world["hf"], json={
        "kind": "refund", "amount": "50.01", "reason_code": "overpayment", "note": "退多缴"}), 422,
        "loan_event_refused", field="amount")
    proposed = client.post(f"{path}/changes", headers=world["hf"], json={
        "kind": "refund", "reason_code": "overpayment", "note": "退多缴款至借款人银行卡"})
    assert proposed.status_code == 201, proposed.text
    assert proposed.json()["details"]["amount"] == "50.00"
    approved = client.post(f"/api/v1/loan-changes/{proposed.json()['id']}/approve", headers=world["hm"], json={})
    assert approved.status_code == 200, approved.text
    after = client.get(path, headers=world["hf"]).json()
    assert (after["status"], after["state"]["credit_balance"], after["state"]["refunded"]) == (
        "closed", "0.00", "50.00")
    event = after["events"][-1]
    assert event["type"] == "refund"
    assert sorted(e["basis"] for e in event["entries"]) == ["accrual", "cash"]
    _books_hold_the_loans(session, inst_id, day)


def _text(pdf: bytes) -> str:
    """The text of a PDF, by poppler's pdftotext (the reader's view, not ours)."""
    done = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True)
    return done.stdout.decode()


def test_receipts_and_vouchers_state_the_amount_its_words_allocation_and_entries(client, session, runtime, world):
    disbursed = _disbursed(client, world)
    loan = disbursed["loan"]
    path = f"{LOANS}/{loan['id']}"
    voucher = client.get(f"{path}/events/1/document", headers=world["hf"])
    assert voucher.status_code == 200, voucher.text
    assert voucher.headers["content-type"] == "application/pdf"
    text = _text(voucher.content)
    for expected in ("放款凭证", "8000.00", "人民币捌仟元整", "银行转账", "B-0001"):
        assert expected in text, (expected, text)
    assert loan["number"] in text
    assert "王小明" in text
    assert world["inst"].name in text
    for entry in disbursed["entries"]:
        assert f"No. {entry['id']}" in text
    first = loan["state"]["installments"][0]
    _move_to(session, runtime, world["inst"].id, date.fromisoformat(first["due_date"]))
    paid = client.post(f"{path}/repayments", headers=key(world["hf"]),
                       json={"amount": first["due"]["total"], "channel": "cash", "reference": "柜面 0002"}).json()
    seq = paid["event"]["seq"]
    assert paid["event"]["has_document"] is True
    receipt = _text(client.get(f"{path}/events/{seq}/document", headers=world["hf"]).content)
    for expected in ("还款回单", first["due"]["total"], "现金"):
        assert expected in receipt, (expected, receipt)
    assert first["due"]["principal"] in receipt
    assert first["due"]["interest"] in receipt
    assert "柜面 0002" in receipt
    words = rendering.amount_in_words(Decimal(first["due"]["total"]))
    assert words in receipt.replace(" ", ""), (words, receipt)
    # The borrower downloads their own; another borrower finds nothing; an event with no document: 404.
    own = client.get(f"/api/v1/me/loans/{loan['id']}/events/{seq}/document", headers=world["hb"])
    assert own.status_code == 200
    assert "还款回单" in _text(own.content)
    refused(client.get(f"/api/v1/me/loans/{loan['id']}/events/{seq}/document", headers=world["ho"]), 404, "not_found")
    refused(client.get(f"{path}/events/99/document", headers=world["hf"]), 404, "not_found")
    # Who downloaded which is audited (the refused ones are not).
    downloads = audit_records(session, "loan.document_downloaded", loan["id"])
    assert [(r.after["seq"], r.after["document"]) for r in downloads] == [(1, "voucher"), (seq, "receipt"),
                                                                          (seq, "receipt")]


def test_changes_waiting_are_a_to_do_for_checkers_not_for_their_maker(client, session, runtime, world):
    loan = _disbursed(client, world)["loan"]
    _set(client, session, runtime, world, "10.00")

    def waiting(headers):
        items = {t["code"]: t["count"] for t in client.get("/api/v1/me/todos", headers=headers).json()["items"]}
        return items.get("loan_changes_waiting")

    assert waiting(world["hm"]) == 0
    assert waiting(world["hf"]) is None  # finance proposes; it does not check
    client.post(f"{LOANS}/{loan['id']}/repayments", headers=key(world["hf"]), json={"amount": "100.00",
                                                                                 "channel": "cash"})
    assert waiting(world["hm"]) == 1
    both = make_staff(session, runtime, world["inst"], roles=("finance", "branch_manager"), password=None)
    h = signed_in(session, runtime, both.user)
    session.commit()
    client.post(f"{LOANS}/{loan['id']}/repayments", headers=key(h), json={"amount": "200.00", "channel": "cash"})
    assert waiting(world["hm"]) == 2
    assert waiting(h) == 1  # their own is not their work


def test_a_prepayment_in_cash_above_the_threshold_waits_too(client, session, runtime, world):
    loan = _disbursed(client, world)["loan"]
    inst_id = world["inst"].id
    _set(client, session, runtime, world, "1000.00")
    path = f"{LOANS}/{loan['id']}"
    day = date.fromisoformat(loan["disbursed_on"]) + timedelta(days=20)
    _move_to(session, runtime, inst_id, day)
    body = {"amount": "2000.00", "mode": "shorten_term", "channel": "cash", "reference": "柜面 P-0001"}
    pending = client.post(f"{path}/prepayments", headers=key(world["hf"]), json=body)
    assert pending.status_code == 202, pending.text
    change = pending.json()
    assert (change["kind"], change["details"]["mode"]) == ("prepayment", "shorten_term")
    approved = client.post(f"/api/v1/loan-changes/{change['id']}/approve", headers=world["hm"], json={})
    assert approved.status_code == 200, approved.text
    after = client.get(path, headers=world["hf"]).json()
    event = after["events"][-1]
    assert (event["type"], event["payload"]["mode"], event["reference"]) == ("prepayment", "shorten_term",
                                                                             "柜面 P-0001")
    assert after["state"]["principal_prepaid"] != "0.00"
    _books_hold_the_loans(session, inst_id, day)


def test_a_products_own_threshold_replaces_the_institutions_for_its_loans(client, session, runtime, monkeypatch):
    world = make_world(client, session, runtime, monkeypatch, repayment_approval_above="500.00")
    loan = _disbursed(client, world)["loan"]
    assert loan["terms"]["repayment_approval_above"] == "500.00"  # kept with the loan, as the version said
    first = loan["state"]["installments"][0]
    _move_to(session, runtime, world["inst"].id, date.fromisoformat(first["due_date"]))
    _set(client, session, runtime, world, "5000.00")  # the institution's is higher: the product's rules
    path = f"{LOANS}/{loan['id']}/repayments"
    assert client.post(path, headers=key(world["hf"]), json={"amount": "500.00", "channel": "cash"}).status_code == 200
    waits = client.post(path, headers=key(world["hf"]), json={"amount": "600.00", "channel": "cash"})
    assert (waits.status_code, waits.json()["kind"]) == (202, "repayment")
    # Lower for the institution than for the product: still the product's.
    _set(client, session, runtime, world, "100.00")
    assert client.post(path, headers=key(world["hf"]), json={"amount": "300.00", "channel": "cash"}).status_code == 200


def test_a_recovery_in_cash_above_the_threshold_waits_for_a_second_person(client, session, runtime, world):
    loan = _disbursed(client, world)["loan"]
    inst_id = world["inst"].id
    path = f"{LOANS}/{loan['id']}"
    _set(client, session, runtime, world, "1000.00")
    # Not written off yet: refused at once, whatever the amount, and nothing waits.
    before = snapshot(runtime.db)
    refused(client.post(f"{path}/recoveries", headers=key(world["hf"]), json={"amount": "1500.00", "channel": "cash"}),
            409, "loan_wrong_state")
    assert before.diff(snapshot(runtime.db)) == {}
    day = date.fromisoformat(loan["state"]["installments"][2]["due_date"]) + timedelta(days=100)
    _move_to(session, runtime, inst_id, day)
    proposed = client.post(f"{path}/changes", headers=world["hf"], json={
        "kind": "write_off", "reason_code": "uncollectible", "note": "逾期100天，失联"}).json()
    assert client.post(f"/api/v1/loan-changes/{proposed['id']}/approve", headers=world["hm"], json={}).status_code \
        == 200
    events = len(client.get(path, headers=world["hf"]).json()["events"])
    # More than was written off: refused at once, naming the amount.
    before = snapshot(runtime.db)
    refused(client.post(f"{path}/recoveries", headers=key(world["hf"]),
                        json={"amount": "99999.00", "channel": "cash"}), 422, "loan_event_refused", field="amount")
    assert before.diff(snapshot(runtime.db)) == {}
    # At or below the threshold: recorded at once.
    assert client.post(f"{path}/recoveries", headers=key(world["hf"]),
                       json={"amount": "1000.00", "channel": "cash"}).status_code == 200
    # Above it: a pending change of kind recovery, nothing recorded; the teller cannot confirm it.
    h = {**world["hf"], "Idempotency-Key": "teller-v-0001"}
    body = {"amount": "1500.00", "channel": "cash", "reference": "柜面 V-0001"}
    pending = client.post(f"{path}/recoveries", headers=h, json=body)
    assert pending.status_code == 202, pending.text
    change = pending.json()
    assert (change["kind"], change["status"], change["details"]) == (
        "recovery", "pending", {"amount": "1500.00", "on": day.isoformat(), "channel": "cash"})
    assert len(client.get(path, headers=world["hf"]).json()["events"]) == events + 1
    assert client.post(f"{path}/recoveries", headers=h, json=body).json()["id"] == change["id"]
    # Confirmed by the manager the next day: recorded on the written-off loan, valued on the day taken.
    _move_to(session, runtime, inst_id, day + timedelta(days=1))
    approved = client.post(f"/api/v1/loan-changes/{change['id']}/approve", headers=world["hm"], json={})
    assert approved.status_code == 200, approved.text
    after = client.get(path, headers=world["hf"]).json()
    event = after["events"][-1]
    assert (event["type"], event["payload"]["amount"], event["value_date"], event["reference"]) == (
        "recovery", "1500.00", day.isoformat(), "柜面 V-0001")
    assert (after["status"], after["state"]["recovered"]) == ("written_off", "2500.00")
    assert len(audit_records(session, "loan.change_approved")) == 2
    _books_hold_the_loans(session, inst_id, day + timedelta(days=1))



def test_history_recorded_with_notify_off_tells_the_borrower_nothing(client, session, runtime, world):
    """The demo's back-dated days pass `notify=False` (through the payments' callback, the teller's request
    and its approval, to `loans.record`); the same operation without it tells the borrower."""
    loan = _disbursed(client, world)["loan"]
    inst_id = world["inst"].id
    _move_to(session, runtime, inst_id, date.fromisoformat(loan["state"]["installments"][0]["due_date"]))
    actor = Actor.system(inst_id)

    def told() -> list[str]:
        session.expire_all()
        return [m.template for m in session.scalars(select(InboxMessage).where(
            InboxMessage.subject_kind == "loan", InboxMessage.subject_id == loan["id"]).order_by(InboxMessage.id))]

    before = told()
    assert before == ["loan_disbursed"]
    quiet = loans.repay(session=session, clock=runtime.clock, actor=actor, institution_id=inst_id,
                        loan_id=loan["id"], amount=Money.parse("100.00", "CNY"), notify=False)
    session.commit()
    assert quiet.event.type == "repayment"
    assert told() == before
    loans.repay(session=session, clock=runtime.clock, actor=actor, institution_id=inst_id, loan_id=loan["id"],
                amount=Money.parse("100.00", "CNY"))
    session.commit()
    assert told() == [*before, "loan_repayment_recorded"]


def test_a_waiver_within_the_products_change_threshold_is_recorded_by_one_person(client, session, runtime,
                                                                                   monkeypatch):
    world = make_world(client, session, runtime, monkeypatch, change_approval_above="20.00")
    loan = _disbursed(client, world)["loan"]
    assert loan["terms"]["change_approval_above"] == "20.00"  # kept with the loan, as the version said
    inst_id = world["inst"].id
    first = loan["state"]["installments"][0]
    day = date.fromisoformat(first["due_date"]) + timedelta(days=10)
    _move_to(session, runtime, inst_id, day)
    path = f"{LOANS}/{loan['id']}"
    interest = Decimal(first["due"]["interest"])
    assert interest > Decimal("20.00")
    waiver = {"kind": "waiver", "installment": 1, "component": "interest", "reason_code": "hardship",
              "note": "小额减免"}
    # At the threshold: recorded at once, approved by its proposer, posted in the same transaction.
    small = client.post(f"{path}/changes", headers=world["hf"], json={**waiver, "amount": "20.00"})
    assert small.status_code == 201, small.text
    change = small.json()
    assert (change["status"], change["decided_by_user_id"]) == ("approved", change["requested_by_user_id"])
    after = client.get(path, headers=world["hf"]).json()
    assert after["state"]["installments"][0]["waived"]["interest"] == "20.00"
    assert after["events"][-1]["type"] == "waiver"
    assert after["events"][-1]["seq"] == change["event_seq"]
    assert [e["basis"] for e in after["events"][-1]["entries"]] == ["accrual"]
    assert client.get("/api/v1/loan-changes", headers=world["hm"]).json()["items"] == []
    approved = audit_records(session, "loan.change_approved", change["id"])
    assert approved
    assert approved[0].after["within_threshold"] == "20.00"
    # A fen above it: waits for a second person, nothing recorded.
    events = len(after["events"])
    above = client.post(f"{path}/changes", headers=world["hf"], json={**waiver, "amount": "20.01"})
    assert (above.status_code, above.json()["status"]) == (201, "pending"), above.text
    assert len(client.get(path, headers=world["hf"]).json()["events"]) == events
    # Refused as before when the loan cannot take it, whatever the threshold: nothing changes.
    before = snapshot(runtime.db)
    refused(client.post(f"{path}/changes", headers=world["hf"], json={**waiver, "amount": "9999.00"}), 422,
            "loan_event_refused", field="amount")
    assert before.diff(snapshot(runtime.db)) == {}
    # A deferral has no amount to weigh: it always waits.
    deferral = client.post(f"{path}/changes", headers=world["hf"], json={
        "kind": "deferral", "from_installment": 3, "periods": 1, "interest": "payable", "restructuring": False,
        "reason_code": "hardship", "note": "展期一期"})
    assert (deferral.status_code, deferral.json()["status"]) == (201, "pending"), deferral.text
    _books_hold_the_loans(session, inst_id, day)


def test_without_a_change_threshold_every_waiver_waits(client, session, runtime, world):
    loan = _disbursed(client, world)["loan"]
    assert "change_approval_above" not in loan["terms"]
    first = loan["state"]["installments"][0]
    _move_to(session, runtime, world["inst"].id, date.fromisoformat(first["due_date"]) + timedelta(days=10))
    r = client.post(f"{LOANS}/{loan['id']}/changes", headers=world["hf"], json={
        "kind": "waiver", "installment": 1, "component": "interest", "amount": "0.01", "reason_code": "hardship",
        "note": "一分"})
    assert (r.status_code, r.json()["status"]) == (201, "pending"), r.text

