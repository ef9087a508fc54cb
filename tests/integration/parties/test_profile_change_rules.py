"""A borrower's pending change: later requests merge into it, it can be withdrawn, and an
approval never overwrites what staff changed in the meantime."""

from __future__ import annotations

from tests.factories import make_borrower
from tests.integration.helpers import assert_problem, signed_in


def _pending(client, h):
    return client.get("/api/v1/me/profile", headers=h).json()["pending_change"]


def test_a_second_request_keeps_the_fields_of_the_first(client, session, runtime, org):
    b = make_borrower(session, runtime, org.inst, branch=org.a)
    h = signed_in(session, runtime, b.user)
    session.commit()
    client.patch("/api/v1/me/profile", headers=h, json={"monthly_income": "9000.00"})
    client.patch("/api/v1/me/profile", headers=h, json={"occupation": "店主"})
    pending = _pending(client, h)
    assert {k: v["new"] for k, v in pending["changes"].items()} == {"monthly_income": "9000.00", "occupation": "店主"}


def test_sending_the_current_value_back_withdraws_that_field(client, session, runtime, org):
    b = make_borrower(session, runtime, org.inst, branch=org.a, occupation="教师")
    h = signed_in(session, runtime, b.user)
    session.commit()
    client.patch("/api/v1/me/profile", headers=h, json={"occupation": "店主", "monthly_income": "7000.00"})
    client.patch("/api/v1/me/profile", headers=h, json={"occupation": "教师"})
    assert set(_pending(client, h)["changes"]) == {"monthly_income"}
    r = client.patch("/api/v1/me/profile", headers=h, json={"monthly_income": None})
    assert r.status_code == 200, r.text
    assert _pending(client, h) is None
    statuses = [c["status"] for c in r.json()["recent_changes"]]
    assert statuses[0] == "withdrawn"


def test_a_borrower_withdraws_a_pending_change(client, session, runtime, org, staff_as):
    b = make_borrower(session, runtime, org.inst, branch=org.a)
    _, officer = staff_as("loan_officer", branch=org.a)
    h = signed_in(session, runtime, b.user)
    session.commit()
    change = client.patch("/api/v1/me/profile", headers=h, json={"total_assets": "50000.00"}).json()["pending_change"]
    r = client.post(f"/api/v1/me/profile-changes/{change['id']}/withdraw", headers=h)
    assert r.status_code == 200
    assert r.json()["status"] == "withdrawn"
    assert _pending(client, h) is None
    assert assert_problem(client.post(f"/api/v1/profile-changes/{change['id']}/approve", headers=officer, json={}),
                          409)["code"] == "change_not_pending"
    again = client.post(f"/api/v1/me/profile-changes/{change['id']}/withdraw", headers=h)
    assert assert_problem(again, 409)["code"] == "change_not_pending"


def test_someone_elses_change_cannot_be_withdrawn(client, session, runtime, org):
    mine = make_borrower(session, runtime, org.inst, branch=org.a)
    theirs = make_borrower(session, runtime, org.inst, branch=org.a)
    h_mine, h_theirs = signed_in(session, runtime, mine.user), signed_in(session, runtime, theirs.user)
    session.commit()
    change = client.patch("/api/v1/me/profile", headers=h_theirs,
                          json={"total_assets": "1.00"}).json()["pending_change"]
    assert_problem(client.post(f"/api/v1/me/profile-changes/{change['id']}/withdraw", headers=h_mine), 404)


def test_approval_refuses_a_change_whose_fields_staff_edited_since(client, session, runtime, org, staff_as):
    b = make_borrower(session, runtime, org.inst, branch=org.a)
    _, officer = staff_as("loan_officer", branch=org.a)
    h = signed_in(session, runtime, b.user)
    session.commit()
    change = client.patch("/api/v1/me/profile", headers=h, json={"monthly_income": "6000.00"}).json()["pending_change"]
    edited = client.patch(f"/api/v1/borrowers/{b.borrower.id}", headers=officer, json={"monthly_income": "6500.00"})
    assert edited.status_code == 200
    problem = assert_problem(client.post(f"/api/v1/profile-changes/{change['id']}/approve", headers=officer,
                                         json={}), 409)
    assert problem["code"] == "change_outdated"
    assert problem["fields"] == ["monthly_income"]
    assert problem["field"] is None  # not a form field: the whole request is outdated
    assert "月收入" in problem["detail"]
    profile = client.get("/api/v1/me/profile", headers=h).json()
    assert profile["monthly_income"] == "6500.00"


def test_a_merged_request_still_refuses_approval_over_a_staff_edit(client, session, runtime, org, staff_as):
    # The borrower asks for income 6,000; staff set 6,500; the borrower then adds an occupation.
    # The merged change took 6,500 as the income's "old" value, so approving it passed the
    # outdated check and silently overwrote the staff edit with the borrower's earlier 6,000.
    b = make_borrower(session, runtime, org.inst, branch=org.a)
    _, officer = staff_as("loan_officer", branch=org.a)
    h = signed_in(session, runtime, b.user)
    session.commit()
    client.patch("/api/v1/me/profile", headers=h, json={"monthly_income": "6000.00"})
    edited = client.patch(f"/api/v1/borrowers/{b.borrower.id}", headers=officer, json={"monthly_income": "6500.00"})
    assert edited.status_code == 200
    merged = client.patch("/api/v1/me/profile", headers=h, json={"occupation": "店主"}).json()["pending_change"]
    assert merged["changes"]["monthly_income"]["new"] == "6000.00"
    problem = assert_problem(client.post(f"/api/v1/profile-changes/{merged['id']}/approve", headers=officer,
                                         json={}), 409)
    assert problem["code"] == "change_outdated"
    assert problem["fields"] == ["monthly_income"]
    assert client.get("/api/v1/me/profile", headers=h).json()["monthly_income"] == "6500.00"


def test_identifiers_are_read_the_same_way_in_urls_and_in_searches(client, session, runtime, staff_as, org):
    _, h = staff_as("branch_manager")
    someone = make_borrower(session, runtime, org.inst, branch=org.a, password=None)
    session.commit()
    p = someone.phone
    for spelling in (f"{p[:3]}-{p[3:7]}-{p[7:]}", f"+86 {p}", f"0086{p}", f"({p[:3]}) {p[3:]}"):
        found = client.post("/api/v1/borrowers/search", headers=h, json={"q": spelling}).json()["items"]
        assert [b["id"] for b in found] == [someone.borrower.id], spelling
        refused = assert_problem(client.get("/api/v1/borrowers", headers=h, params={"q": spelling}), 422)
        assert refused["code"] == "identifier_in_query", spelling
