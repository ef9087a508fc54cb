"""A loan's life over HTTP: opened from an approved application, disbursed, repaid (on time, late,
back-dated), prepaid and reversed — each money movement posted in the same transaction, the books
balanced in both bases and equal to the loans' sub-ledger; repeat-safe by idempotency key; bad input
refused with a field and a code, changing nothing.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from microcredit.ledger import service as ledger
from microcredit.lending.calendar import is_business_day
from microcredit.lending.money import Money
from microcredit.parties import service as parties
from microcredit.platform.actor import Actor
from microcredit.platform.idempotency import IdempotencyKeyReused
from microcredit.products import service as products
from microcredit.risk.assessment import Decision
from microcredit.servicing.service import loans
from tests.factories import make_borrower, make_branch, make_institution, make_staff
from tests.integration.helpers import (
    assert_problem,
    idempotency_key,
    shared_client,
    sign_contract,
    signed_in,
    snapshot,
)
from tests.integration.origination.support import PLAN, assessment, publish_product, use_review

LOANS = "/api/v1/loans"


def refused(response, status, code, field=None):
    """A problem document of `status` and `code`, naming `field` (when given)."""
    body = assert_problem(response, status)
    assert body["code"] == code, body
    if field is not None:
        fields = [body.get("field")] + [e.get("field") for e in body.get("errors", [])]
        assert field in fields, body
    return body


@pytest.fixture
def client(runtime, backend):
    """A client of the worker's app for this backend."""
    yield from shared_client(runtime, backend)


@pytest.fixture
def world(client, session, runtime, monkeypatch):
    """An institution with a product, a borrower whose application (8,000 over 6 months) is approved at
    grade B (7 %) and whose contract is signed, and a finance user."""
    return make_world(client, session, runtime, monkeypatch)


def make_world(client, session, runtime, monkeypatch, **product_changes):
    """The `world` fixture's loan, its product's terms changed by `product_changes`."""
    inst = make_institution(session, runtime)
    branch = make_branch(session, runtime, inst)
    publish_product(session, runtime, inst, **product_changes)
    borrower = make_borrower(session, runtime, inst, branch=branch, password=None, real_name="王小明")
    finance = make_staff(session, runtime, inst, roles=("finance",), password=None)
    manager = make_staff(session, runtime, inst, roles=("branch_manager",), password=None)
    other = make_borrower(session, runtime, inst, branch=branch, password=None)
    hb, hf, ho, hm = (signed_in(session, runtime, u.user) for u in (borrower, finance, other, manager))
    session.commit()
    use_review(monkeypatch, assessment(Decision.APPROVE, grade="B"))
    draft = client.post("/api/v1/me/applications", headers=hb, json=PLAN).json()
    decided = client.post(f"/api/v1/me/applications/{draft['id']}/submit", headers=hb).json()
    assert decided["status"] == "approved", decided
    sign_contract(client, runtime, hb, borrower.phone, draft["id"])  # only a signed contract is paid out
    return {"inst": inst, "hb": hb, "hf": hf, "ho": ho, "hm": hm, "application_id": draft["id"]}


def key(headers):
    """`headers` with a fresh Idempotency-Key (every money movement needs one)."""
    return {**headers, **idempotency_key()}


def _move_to(session, runtime, inst_id, day):
    parties.organisation.set_business_date_as(session=session, clock=runtime.clock, actor=Actor.system(inst_id),
                                              institution_id=inst_id, new_date=day, override_allowed=True)
    session.commit()


def _books_hold_the_loans(session, inst_id, day):
    """Every entry balances, and on both bases the control accounts equal the loans' sub-ledger."""
    session.expire_all()
    report = ledger.books.verify(session=session, institution_id=inst_id, subledger=loans.control_balances)
    assert report.ok, report.problems
    assert report.controls == 5
    expected = loans.subledger(session=session, institution_id=inst_id)
    for basis in ("accrual", "cash"):
        report = ledger.reports.trial_balance_report(session=session, institution_id=inst_id, date_to=day,
                                                     basis=basis, include_empty=True)
        balances = {account.code: (row.closing_debit - row.closing_credit).minor for account, row in report.rows}
        assert all(t.debit == t.credit and t.closing_debit == t.closing_credit for t in report.totals), basis
        assert balances["130101"] == expected["130101"].minor, basis
        assert balances["2241"] == expected["2241"].minor, basis
        if basis == "accrual":
            for code in ("1132", "1133", "1134"):
                assert balances[code] == expected[code].minor, code
    return expected


def _disbursed(client, world):
    opened = client.post(LOANS, headers=world["hf"], json={"application_id": world["application_id"]})
    assert opened.status_code == 201, opened.text
    loan = opened.json()
    r = client.post(f"{LOANS}/{loan['id']}/disbursements", headers={**world["hf"], "Idempotency-Key": "d-1"},
                    json={"channel": "bank_transfer", "reference": "B-0001"})
    assert r.status_code == 200, r.text
    return r.json()


def test_a_loan_opened_disbursed_and_repaid_on_time_to_the_end(client, session, runtime, world):
    desk = client.get(f"{LOANS}/desk", headers=world["hf"]).json()
    assert [(a["id"], a["borrower_name"], a["annual_rate_percent"]) for a in desk["approved"]] == [
        (world["application_id"], "王小明", "7")]
    assert desk["pending"] == []
    opened = client.post(LOANS, headers=world["hf"], json={"application_id": world["application_id"]})
    assert opened.status_code == 201, opened.text
    loan = opened.json()
    assert (loan["status"], loan["principal"], loan["state"]) == ("pending_disbursement", "8000.00", None)
    assert loan["terms"]["terms"]["annual_rate"] == "7"
    again = client.post(LOANS, headers=world["hf"], json={"application_id": world["application_id"]})
    refused(again, 409, "loan_already_opened", field="application_id")
    desk = client.get(f"{LOANS}/desk", headers=world["hf"]).json()
    assert (desk["approved"], [x["id"] for x in desk["pending"]]) == ([], [loan["id"]])

    r = client.post(f"{LOANS}/{loan['id']}/disbursements", headers=key(world["hf"]), json={})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["loan"]["status"] == "active"
    assert [e["basis"] for e in body["entries"]] == ["both"]
    schedule = body["loan"]["state"]["installments"]
    assert len(schedule) == 6
    inst_id = world["inst"].id
    for n, row in enumerate(schedule, start=1):
        _move_to(session, runtime, inst_id, date.fromisoformat(row["due_date"]))
        paid = client.post(f"{LOANS}/{loan['id']}/repayments", headers={**world["hf"], "Idempotency-Key": f"r{n}"},
                           json={"amount": row["due"]["total"], "channel": "cash"})
        assert paid.status_code == 200, paid.text
        assert {e["basis"] for e in paid.json()["entries"]} == {"cash", "accrual"}
        _books_hold_the_loans(session, inst_id, date.fromisoformat(row["due_date"]))
    final = paid.json()["loan"]
    assert (final["status"], final["outstanding_principal"], final["dpd"]) == ("closed", "0.00", 0)
    # The borrower sees it as their own; another borrower does not.
    mine = client.get(f"/api/v1/me/loans/{loan['id']}", headers=world["hb"])
    assert mine.status_code == 200
    assert mine.json()["status"] == "closed"
    assert [x["id"] for x in client.get("/api/v1/me/loans", headers=world["hb"]).json()["items"]] == [loan["id"]]
    refused(client.get(f"/api/v1/me/loans/{loan['id']}", headers=world["ho"]), 404, "not_found")


def test_the_same_idempotency_key_records_once_and_another_request_under_it_is_refused(client, session, runtime,
                                                                                         world):
    loan = _disbursed(client, world)["loan"]
    _move_to(session, runtime, world["inst"].id, date(2026, 12, 10))
    headers = {**world["hf"], "Idempotency-Key": "pay-77"}
    first = client.post(f"{LOANS}/{loan['id']}/repayments", headers=headers, json={"amount": "500.00"})
    assert first.status_code == 200
    assert first.json()["repeated"] is False
    before = snapshot(runtime.db)
    second = client.post(f"{LOANS}/{loan['id']}/repayments", headers=headers, json={"amount": "500.00"})
    assert second.status_code == 200, second.text
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.json() == first.json()
    assert snapshot(runtime.db) == before
    other = client.post(f"{LOANS}/{loan['id']}/repayments", headers=headers, json={"amount": "600.00"})
    refused(other, 422, "idempotency_key_reused")
    assert snapshot(runtime.db) == before
    # The disbursement's key likewise: the same request again changes nothing.
    again = client.post(f"{LOANS}/{loan['id']}/disbursements", headers={**world["hf"], "Idempotency-Key": "d-1"},
                        json={"channel": "bank_transfer", "reference": "B-0001"})
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert snapshot(runtime.db) == before
    # Without a key a money movement is refused before anything happens.
    refused(client.post(f"{LOANS}/{loan['id']}/repayments", headers=world["hf"], json={"amount": "1.00"}), 400,
            "idempotency_key_invalid")
    assert snapshot(runtime.db) == before


def test_the_loan_keeps_the_key_so_a_repeat_by_another_caller_records_nothing(client, session, runtime, world):
    loan = _disbursed(client, world)["loan"]
    _move_to(session, runtime, world["inst"].id, date(2026, 12, 10))
    inst_id = world["inst"].id
    actor = Actor.system(inst_id)
    first = loans.repay(session=session, clock=runtime.clock, actor=actor, institution_id=inst_id, loan_id=loan["id"],
                        amount=Money.parse("300.00", "CNY"), on=date(2026, 12, 10), idempotency_key="cb-9")
    repeat = loans.repay(session=session, clock=runtime.clock, actor=actor, institution_id=inst_id,
                         loan_id=loan["id"], amount=Money.parse("300.00", "CNY"), on=date(2026, 12, 10),
                         idempotency_key="cb-9")
    assert repeat.repeated
    assert repeat.event.id == first.event.id
    assert repeat.entries == ()
    with pytest.raises(IdempotencyKeyReused):
        loans.repay(session=session, clock=runtime.clock, actor=actor, institution_id=inst_id, loan_id=loan["id"],
                    amount=Money.parse("301.00", "CNY"), on=date(2026, 12, 10), idempotency_key="cb-9")


def test_bad_input_is_refused_with_a_field_and_changes_nothing(client, session, runtime, world):
    opened = client.post(LOANS, headers=world["hf"], json={"application_id": world["application_id"]}).json()
    path = f"{LOANS}/{opened['id']}"
    before = snapshot(runtime.db)
    refused(client.post(f"{path}/repayments", headers=key(world["hf"]), json={"amount": "100.00"}), 409,
                   "loan_wrong_state", field="status")
    assert snapshot(runtime.db) == before
    loan = client.post(f"{path}/disbursements", headers=key(world["hf"]), json={}).json()["loan"]
    before = snapshot(runtime.db)
    for amount in ("0.00", "-5.00", "1.005", "abc"):
        r = client.post(f"{path}/repayments", headers=key(world["hf"]), json={"amount": amount})
        refused(r, 422, "validation_failed", field="amount")
    future = (date.fromisoformat(loan["disbursed_on"]) + timedelta(days=3)).isoformat()
    refused(client.post(f"{path}/repayments", headers=key(world["hf"]), json={"amount": "10.00", "on": future}),
                   422, "value_date_in_future", field="on")
    refused(client.post(f"{path}/reversals", headers=key(world["hf"]), json={"event_id": "r99", "note": "错"}),
                   422, "loan_event_refused", field="event_id")
    refused(client.post(f"{path}/repayments", headers=key(world["hb"]), json={"amount": "10.00"}), 403,
                   "permission_denied")
    assert snapshot(runtime.db) == before


def test_a_back_dated_repayment_and_a_reversal_are_corrected_by_counter_entries(client, session, runtime, world):
    loan = _disbursed(client, world)["loan"]
    first, second = loan["state"]["installments"][:2]
    inst_id = world["inst"].id
    late = date.fromisoformat(second["due_date"]) + timedelta(days=5)
    _move_to(session, runtime, inst_id, late)
    path = f"{LOANS}/{loan['id']}"
    r1 = client.post(f"{path}/repayments", headers=key(world["hf"]), json={"amount": first["due"]["total"]})
    assert r1.status_code == 200
    assert r1.json()["loan"]["dpd"] > 0
    _books_hold_the_loans(session, inst_id, late)
    # Keyed in now, paid on the first due date: the later payment moves on to the second installment.
    r2 = client.post(f"{path}/repayments", headers=key(world["hf"]),
                     json={"amount": first["due"]["total"], "on": first["due_date"]})
    assert r2.status_code == 200, r2.text
    state = client.get(path, headers=world["hf"]).json()["state"]  # the answer is lean: the loan is read
    assert state["installments"][0]["outstanding"]["total"] == "0.00"
    assert state["installments"][1]["outstanding"]["total"] == "0.00"
    _books_hold_the_loans(session, inst_id, late)
    # The back-dated transfer bounced: reversed, the later payment pays the first installment again.
    bounced = r2.json()["event"]["event_id"]
    r3 = client.post(f"{path}/reversals", headers=key(world["hf"]), json={"event_id": bounced, "note": "退票"})
    assert r3.status_code == 200, r3.text
    again = r3.json()["loan"]["state"]
    assert again["installments"][0]["outstanding"]["total"] == "0.00"
    assert again["installments"][1]["outstanding"]["total"] == second["due"]["total"]
    assert r3.json()["loan"]["outstanding_principal"] == r1.json()["loan"]["outstanding_principal"]
    _books_hold_the_loans(session, inst_id, late)


def test_a_prepayment_shortens_the_term_and_the_rest_pays_it_off(client, session, runtime, world):
    loan = _disbursed(client, world)["loan"]
    inst_id = world["inst"].id
    first = loan["state"]["installments"][0]
    day = date.fromisoformat(first["due_date"])
    _move_to(session, runtime, inst_id, day)
    path = f"{LOANS}/{loan['id']}"
    paid = client.post(f"{path}/repayments", headers=key(world["hf"]), json={"amount": first["due"]["total"]})
    assert paid.status_code == 200, paid.text
    pre = client.post(f"{path}/prepayments", headers=key(world["hf"]),
                      json={"amount": "3000.00", "mode": "shorten_term", "channel": "mobile_payment"})
    assert pre.status_code == 200, pre.text
    after = pre.json()["loan"]
    assert len([r for r in after["state"]["installments"] if r["outstanding"]["total"] != "0.00"]) < 5
    _books_hold_the_loans(session, inst_id, day)
    payoff = after["state"]["payoff"]["after_credit"]
    # Settled early in full: a prepayment of the payoff amount (a repayment would only pay what is due and
    # hold the rest as credit).
    done = client.post(f"{path}/prepayments", headers=key(world["hf"]), json={"amount": payoff,
                                                                              "mode": "shorten_term"})
    assert done.status_code == 200, done.text
    assert done.json()["loan"]["status"] == "closed"
    expected = _books_hold_the_loans(session, inst_id, day)
    assert expected["130101"] == Money.zero("CNY")


def test_verify_finds_a_control_account_moved_by_hand(client, session, runtime, world):
    _disbursed(client, world)
    inst_id = world["inst"].id
    session.expire_all()
    assert ledger.books.verify(session=session, institution_id=inst_id, subledger=loans.control_balances).ok
    ledger.post(session=session, clock=runtime.clock, actor=Actor.system(inst_id), institution_id=inst_id,
                business_date=world["inst"].business_date, description="手工调账",
                postings=[ledger.Posting("130101", ledger.Side.DEBIT, Money(1, "CNY")),
                          ledger.Posting("1002", ledger.Side.CREDIT, Money(1, "CNY"))])
    report = ledger.books.verify(session=session, institution_id=inst_id, subledger=loans.control_balances)
    assert not report.ok
    assert any("account 130101 holds" in p for p in report.problems), report.problems


def test_a_holiday_added_after_the_loan_was_made_does_not_move_its_due_dates(client, session, runtime, world):
    loan = _disbursed(client, world)["loan"]
    dates = [row["due_date"] for row in loan["state"]["installments"]]
    inst_id = world["inst"].id
    third = date.fromisoformat(dates[2])
    actor = Actor.system(inst_id)
    products.calendar.set_year(session=session, clock=runtime.clock, actor=actor, institution_id=inst_id,
                               year=third.year, covered=True)
    products.calendar.add_day(session=session, clock=runtime.clock, actor=actor, institution_id=inst_id,
                              day=third, kind="holiday", name_zh="新增假日")
    session.commit()
    # A new quote would roll that day forward; the loan keeps the calendar it was made under.
    assert not is_business_day(third, products.calendar.holiday_calendar(session=session, institution_id=inst_id,
                                                                          first=third, last=third))
    again = client.get(f"{LOANS}/{loan['id']}", headers=world["hf"]).json()
    assert [row["due_date"] for row in again["state"]["installments"]] == dates


def test_a_waiver_is_proposed_by_one_person_and_recorded_only_when_another_approves(client, session, runtime, world):
    loan = _disbursed(client, world)["loan"]
    first = loan["state"]["installments"][0]
    inst_id = world["inst"].id
    day = date.fromisoformat(first["due_date"]) + timedelta(days=10)
    _move_to(session, runtime, inst_id, day)
    path = f"{LOANS}/{loan['id']}"
    interest = first["due"]["interest"]
    # More than is owed cannot be waived: refused when proposed, naming the field.
    too_much = client.post(f"{path}/changes", headers=world["hf"], json={
        "kind": "waiver", "installment": 1, "component": "interest", "amount": "9999.00",
        "reason_code": "hardship", "note": "困难减免"})
    refused(too_much, 422, "loan_event_refused", field="amount")
    proposed = client.post(f"{path}/changes", headers=world["hf"], json={
        "kind": "waiver", "installment": 1, "component": "interest", "amount": interest,
        "reason_code": "hardship", "note": "受灾，减免首期利息"})
    assert proposed.status_code == 201, proposed.text
    change = proposed.json()
    assert change["status"] == "pending"
    # Nothing is recorded yet.
    assert client.get(path, headers=world["hf"]).json()["state"]["installments"][0]["waived"]["interest"] == "0.00"
    # The finance user cannot approve (no permission); the manager cannot reject without a reason.
    refused(client.post(f"/api/v1/loan-changes/{change['id']}/approve", headers=world["hf"], json={}), 403,
            "permission_denied")
    queued = client.get("/api/v1/loan-changes", headers=world["hm"]).json()["items"]
    assert [c["id"] for c in queued] == [change["id"]]
    assert queued[0]["loan_number"].startswith("L-")  # the checker sees which loan and whose
    assert queued[0]["borrower_name"] == "王小明"
    approved = client.post(f"/api/v1/loan-changes/{change['id']}/approve", headers=world["hm"], json={"note": "同意"})
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    after = client.get(path, headers=world["hf"]).json()
    assert after["state"]["installments"][0]["waived"]["interest"] == interest
    assert after["events"][-1]["type"] == "waiver"
    assert [e["basis"] for e in after["events"][-1]["entries"]] == ["accrual"]
    again = client.post(f"/api/v1/loan-changes/{change['id']}/approve", headers=world["hm"], json={})
    refused(again, 409, "loan_change_decided")
    _books_hold_the_loans(session, inst_id, day)


def test_nobody_decides_their_own_proposal(client, session, runtime, world):
    loan = _disbursed(client, world)["loan"]
    inst_id = world["inst"].id
    manager_and_finance = make_staff(session, runtime, world["inst"], roles=("finance", "branch_manager"),
                                     password=None)
    h = signed_in(session, runtime, manager_and_finance.user)
    session.commit()
    proposed = client.post(f"{LOANS}/{loan['id']}/changes", headers=h, json={
        "kind": "write_off", "reason_code": "uncollectible", "note": "失联"}).json()
    before = snapshot(runtime.db)
    refused(client.post(f"/api/v1/loan-changes/{proposed['id']}/approve", headers=h, json={}), 403, "self_approval")
    refused(client.post(f"/api/v1/loan-changes/{proposed['id']}/reject", headers=h, json={"note": "x"}), 403,
            "self_approval")
    assert snapshot(runtime.db) == before
    # Its author may withdraw it; then it cannot be decided.
    assert client.post(f"/api/v1/loan-changes/{proposed['id']}/cancel", headers=h).json()["status"] == "cancelled"
    refused(client.post(f"/api/v1/loan-changes/{proposed['id']}/approve", headers=world["hm"], json={}), 409,
            "loan_change_decided")
    assert inst_id


def test_a_write_off_then_a_recovery(client, session, runtime, world):
    loan = _disbursed(client, world)["loan"]
    inst_id = world["inst"].id
    day = date.fromisoformat(loan["state"]["installments"][2]["due_date"]) + timedelta(days=100)
    _move_to(session, runtime, inst_id, day)
    path = f"{LOANS}/{loan['id']}"
    proposed = client.post(f"{path}/changes", headers=world["hf"], json={
        "kind": "write_off", "reason_code": "uncollectible", "note": "逾期100天，失联"}).json()
    written = client.post(f"/api/v1/loan-changes/{proposed['id']}/approve", headers=world["hm"], json={})
    assert written.status_code == 200, written.text
    after = client.get(path, headers=world["hf"]).json()
    assert (after["status"], after["outstanding_principal"]) == ("written_off", "0.00")
    _books_hold_the_loans(session, inst_id, day)
    refused(client.post(f"{path}/repayments", headers=key(world["hf"]), json={"amount": "100.00"}), 409,
            "loan_wrong_state")
    recovered = client.post(f"{path}/recoveries", headers=key(world["hf"]), json={"amount": "1000.00"})
    assert recovered.status_code == 200, recovered.text
    assert [e["basis"] for e in recovered.json()["entries"]] == ["both"]
    assert recovered.json()["loan"]["state"]["recovered"] == "1000.00"
    _books_hold_the_loans(session, inst_id, day)


def test_the_locked_read_of_a_repayment_refuses_exactly_what_the_scope_check_refused(client, session, runtime, world):
    """The repayment's scope check is a condition of its one locked read (`loans.visible(..., for_update=True)`):
    for every data scope, the same loans are found and the same refused (not found) as by `visible`, and
    another institution's finance user is told the loan does not exist, the loan unchanged."""
    from microcredit.errors import NotFound
    from microcredit.identity.permissions import DataScope
    from microcredit.identity.principal import Principal

    loan = _disbursed(client, world)["loan"]
    inst = world["inst"]
    other_branch = make_branch(session, runtime, inst)
    row = loans.get(session=session, institution_id=inst.id, loan_id=loan["id"])
    assert row.branch_id is not None
    cases = [(DataScope.ALL, 999_999, None), (DataScope.INSTITUTION, inst.id, None),
             (DataScope.INSTITUTION, inst.id + 1, None), (DataScope.BRANCH, inst.id, row.branch_id),
             (DataScope.BRANCH, inst.id, other_branch.id), (DataScope.BRANCH, inst.id, None),
             (DataScope.BRANCH, inst.id + 1, row.branch_id), (DataScope.OWN, inst.id, row.branch_id)]
    seen = []
    for data_scope, institution_id, branch_id in cases:
        principal = Principal(user_id=1, kind="staff", institution_id=institution_id, branch_id=branch_id,
                              display_name="x", session_id=1, permissions=frozenset(), roles=(), scope=data_scope,
                              stage="full", reauthenticated_at=None)
        answers = []
        for for_update in (False, True):
            try:
                found = loans.visible(session=session, principal=principal, loan_id=loan["id"], for_update=for_update)
                answers.append(found.id)
            except NotFound:
                answers.append(None)
            session.rollback()
        assert answers[0] == answers[1], (data_scope, institution_id, branch_id)
        seen.append(answers[0])
    assert seen == [loan["id"], loan["id"], None, loan["id"], None, None, None, None]
    stranger = make_institution(session, runtime)
    finance = make_staff(session, runtime, stranger, roles=("finance",), password=None)
    headers = signed_in(session, runtime, finance.user)
    session.commit()
    before = client.get(f"{LOANS}/{loan['id']}", headers=world["hf"]).json()
    r = client.post(f"{LOANS}/{loan['id']}/repayments", headers=key(headers), json={"amount": "100.00"})
    refused(r, 404, "not_found")
    assert client.get(f"{LOANS}/{loan['id']}", headers=world["hf"]).json() == before
