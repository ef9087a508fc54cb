"""A borrower's own edits: contact fields apply at once, credit-relevant ones wait for staff review."""

from __future__ import annotations

from microcredit.lending.money import Money
from microcredit.parties.models import ProfileChange
from tests.factories import make_borrower
from tests.integration.helpers import assert_problem, audit_records, signed_in


def _borrower(session, runtime, org, **fields):
    handle = make_borrower(session, runtime, org.inst, branch=org.a, password=None, **fields)
    headers = signed_in(session, runtime, handle.user)
    session.commit()
    return handle, headers


def test_contact_fields_apply_at_once_and_credit_fields_wait(client, session, runtime, staff_as, org):
    b, bh = _borrower(session, runtime, org, monthly_income=Money.parse("5000.00", "CNY"), occupation="厨师")
    r = client.patch("/api/v1/me/profile", headers=bh, json={
        "email": "me@example.com", "city": "九江市", "monthly_income": "9000.00", "occupation": "厨师长"})
    assert r.status_code == 200, r.text
    me = r.json()
    assert (me["email"], me["city"]) == ("me@example.com", "九江市")
    assert (me["monthly_income"], me["occupation"]) == ("5000.00", "厨师")
    pending = me["pending_change"]
    assert pending["status"] == "pending"
    assert pending["changes"] == {"monthly_income": {"old": "5000.00", "new": "9000.00"},
                                  "occupation": {"old": "厨师", "new": "厨师长"}}
    [record] = audit_records(session, "borrower.profile_updated", b.borrower.id)
    assert (record.actor_user_id, record.actor_kind) == (b.user.id, "borrower")
    assert record.before == {"email": None, "city": None}
    assert record.after == {"email": "me@example.com", "city": "九江市", "pending_change": pending["id"]}

    officer, h = staff_as("loan_officer", branch=org.a)
    queue = client.get("/api/v1/profile-changes", headers=h).json()
    assert [(c["id"], c["borrower_name"]) for c in queue["items"]] == [(pending["id"], "测试借款人")]

    r = client.post(f"/api/v1/profile-changes/{pending['id']}/approve", headers=h, json={})
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["reviewed_by_user_id"]) == ("approved", officer.user.id)
    mine = client.get("/api/v1/me/profile", headers=bh).json()
    assert (mine["monthly_income"], mine["occupation"], mine["pending_change"]) == ("9000.00", "厨师长", None)
    assert [c["status"] for c in mine["recent_changes"]] == ["approved"]
    [approved] = audit_records(session, "profile_change.approved", b.borrower.id)
    assert approved.before == {"monthly_income": "5000.00", "occupation": "厨师"}
    assert approved.after == {"monthly_income": "9000.00", "occupation": "厨师长", "change_id": pending["id"],
                              "reason": None}
    assert client.get("/api/v1/profile-changes", headers=h).json()["total"] == 0
    again = assert_problem(client.post(f"/api/v1/profile-changes/{pending['id']}/reject", headers=h,
                                       json={"reason": "晚了"}), 409)
    assert again["code"] == "change_not_pending"


def test_a_rejection_needs_a_reason_and_leaves_the_values(client, session, runtime, staff_as, org):
    b, bh = _borrower(session, runtime, org, monthly_income=Money.parse("3000.00", "CNY"))
    change = client.patch("/api/v1/me/profile", headers=bh, json={"monthly_income": "30000.00"}).json()
    change_id = change["pending_change"]["id"]
    _, h = staff_as("branch_manager")
    for body in ({}, {"reason": "   "}):
        refused = assert_problem(client.post(f"/api/v1/profile-changes/{change_id}/reject", headers=h, json=body),
                                 422)
        assert [(e["field"], e["code"]) for e in refused["errors"]] == [("reason", "reason_required")]
    r = client.post(f"/api/v1/profile-changes/{change_id}/reject", headers=h, json={"reason": "收入证明不足"})
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["review_reason"]) == ("rejected", "收入证明不足")
    mine = client.get("/api/v1/me/profile", headers=bh).json()
    assert (mine["monthly_income"], mine["pending_change"]) == ("3000.00", None)
    assert [(c["status"], c["review_reason"]) for c in mine["recent_changes"]] == [("rejected", "收入证明不足")]
    [record] = audit_records(session, "profile_change.rejected", b.borrower.id)
    assert record.after == {"change_id": change_id, "reason": "收入证明不足"}


def test_a_newer_change_supersedes_the_pending_one(client, session, runtime, staff_as, org):
    _, bh = _borrower(session, runtime, org)
    first = client.patch("/api/v1/me/profile", headers=bh, json={"employer": "甲公司"}).json()["pending_change"]
    second = client.patch("/api/v1/me/profile", headers=bh, json={"employer": "乙公司", "customer_type": "farmer"}
                          ).json()["pending_change"]
    assert second["id"] != first["id"]
    assert second["changes"] == {"employer": {"old": None, "new": "乙公司"},
                                 "customer_type": {"old": "consumer", "new": "farmer"}}
    _, h = staff_as("loan_officer", branch=org.a)
    assert [c["id"] for c in client.get("/api/v1/profile-changes", headers=h).json()["items"]] == [second["id"]]
    old = assert_problem(client.post(f"/api/v1/profile-changes/{first['id']}/approve", headers=h, json={}), 409)
    assert old["code"] == "change_not_pending"
    statuses = client.get("/api/v1/profile-changes", headers=h, params={"status": "superseded"}).json()
    assert [c["id"] for c in statuses["items"]] == [first["id"]]
    # Sending a field back to its current value takes it out of review; sending it again changes nothing.
    kept = client.patch("/api/v1/me/profile", headers=bh, json={"customer_type": "consumer"}).json()["pending_change"]
    assert kept["changes"] == {"employer": {"old": None, "new": "乙公司"}}
    unchanged = assert_problem(client.patch("/api/v1/me/profile", headers=bh, json={"customer_type": "consumer"}),
                               422)
    assert unchanged["code"] == "nothing_to_change"
    extra = assert_problem(client.patch("/api/v1/me/profile", headers=bh, json={"real_name": "改名"}), 422)
    assert extra["errors"][0]["field"] == "real_name"


def test_the_requester_cannot_review_their_own_change(client, session, runtime, staff_as, org):
    """A change requested by a staff member (on a borrower's behalf) needs another reviewer."""
    officer, h = staff_as("loan_officer", branch=org.a)
    b = make_borrower(session, runtime, org.inst, branch=org.a, password=None)
    change = ProfileChange(institution_id=org.inst.id, borrower_id=b.borrower.id, branch_id=org.a.id,
                           changes={"occupation": {"old": None, "new": "渔民"}}, status="pending",
                           requested_by_user_id=officer.user.id, requested_at=runtime.clock.now())
    session.add(change)
    session.commit()
    own = assert_problem(client.post(f"/api/v1/profile-changes/{change.id}/approve", headers=h, json={}), 403)
    assert own["code"] == "permission_denied"
    _, other = staff_as("loan_officer", branch=org.a)
    assert client.post(f"/api/v1/profile-changes/{change.id}/approve", headers=other, json={}).status_code == 200


def test_a_borrower_adds_a_card_to_their_own_profile(client, session, runtime, org):
    _, bh = _borrower(session, runtime, org)
    r = client.post("/api/v1/me/bank-cards", headers=bh,
                    json={"bank_name": "邮储银行", "card_number": "6221881234567890123"})
    assert r.status_code == 201, r.text
    assert (r.json()["card_masked"], r.json()["is_primary"]) == ("622188*********0123", True)
    assert "6221881234567890123" not in client.get("/api/v1/me/profile", headers=bh).text
