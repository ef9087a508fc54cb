"""A contract template's publication by maker–checker, over HTTP on every database: an editor requests it,
another administrator approves it and the next contract is made from it (contracts made before keep theirs);
the requester cannot decide their own request; a rejection (with its reason) keeps the version in force and
hands the draft back for editing; a pending draft is frozen and not requested twice; approvers see it among
their to-dos. Two approvers deciding at once: tests/integration/contracts/test_template_publication_race.py."""

from __future__ import annotations

import hashlib
import subprocess

import pytest

from microcredit.risk.assessment import Decision
from tests.factories import make_borrower, make_branch, make_institution, make_staff
from tests.integration.helpers import assert_problem, audit_records, shared_client, signed_in, snapshot
from tests.integration.origination.support import PLAN, assessment, publish_product, use_review

T = "/api/v1/contract-templates"
ME = "/api/v1/me/applications"
MARK = "（第二版：仲裁条款）"


@pytest.fixture
def client(runtime, backend):
    """A client of the worker's app for this backend."""
    yield from shared_client(runtime, backend)


@pytest.fixture
def world(session, runtime):
    """An institution with a product, two administrators (editor and checker), a loan officer, two borrowers."""
    inst = make_institution(session, runtime)
    branch = make_branch(session, runtime, inst)
    publish_product(session, runtime, inst)
    editor, checker = (make_staff(session, runtime, inst, roles=("administrator",), password=None) for _ in range(2))
    officer = make_staff(session, runtime, inst, roles=("loan_officer",), branch=branch, password=None)
    borrowers = [make_borrower(session, runtime, inst, branch=branch, password=None) for _ in range(2)]
    w = {"editor": signed_in(session, runtime, editor.user), "checker": signed_in(session, runtime, checker.user),
         "officer": signed_in(session, runtime, officer.user), "editor_id": editor.user.id,
         "checker_id": checker.user.id, "borrowers": [signed_in(session, runtime, b.user) for b in borrowers]}
    session.commit()
    return w


def _contract(client, headers, monkeypatch) -> dict:
    """A borrower's approved application and its contract, opened now (made from the template in force)."""
    use_review(monkeypatch, assessment(Decision.APPROVE, grade="B"))
    r = client.post(ME, headers=headers, json=PLAN)
    assert r.status_code == 201, r.text
    r = client.post(f"{ME}/{r.json()['id']}/submit", headers=headers)
    assert r.json()["status"] == "approved", r.text
    r = client.post(f"{ME}/{r.json()['id']}/contract", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def _pdf_text(client, headers, contract) -> str:
    pdf = client.get(f"{ME}/{contract['application_id']}/contract/file", headers=headers, params={"kind": "pdf"})
    assert hashlib.sha256(pdf.content).hexdigest() == contract["pdf_sha256"]
    return subprocess.run(["pdftotext", "-", "-"], input=pdf.content, capture_output=True, check=True).stdout.decode()


def _draft(client, w) -> dict:
    draft = client.post(f"{T}/loan/drafts", headers=w["editor"]).json()
    html = draft["html"].replace("第九条　争议解决", f"第九条　争议解决{MARK}")
    assert client.patch(f"{T}/loan/versions/2", headers=w["editor"], json={"html": html}).status_code == 200
    return draft


def _statuses(client, w) -> dict[int, tuple[str, str | None]]:
    return {v["number"]: (v["status"], v["review_status"]) for v in client.get(T, headers=w["checker"]).json()}


def test_requested_then_approved_by_another_is_used_for_the_next_contract(client, session, runtime, world,
                                                                          monkeypatch):
    w = world
    before = _contract(client, w["borrowers"][0], monkeypatch)
    assert before["template_number"] == 1
    _draft(client, w)
    requested = client.post(f"{T}/loan/versions/2/publication-request", headers=w["editor"])
    assert requested.status_code == 200, requested.text
    assert (requested.json()["status"], requested.json()["review_status"]) == ("draft", "pending")
    assert requested.json()["requested_by_user_id"] == w["editor_id"]

    # Waiting: the version in force is still the old one; the approver sees the request among the to-dos.
    todos = {t["code"]: t["count"] for t in client.get("/api/v1/me/todos", headers=w["checker"]).json()["items"]}
    assert todos["contract_templates_pending_approval"] == 1
    mine = {t["code"]: t["count"] for t in client.get("/api/v1/me/todos", headers=w["editor"]).json()["items"]}
    assert mine["contract_templates_pending_approval"] == 0  # not the requester's to approve
    assert _statuses(client, w) == {1: ("published", None), 2: ("draft", "pending")}

    approved = client.post(f"{T}/loan/versions/2/publication-request/approve", headers=w["checker"],
                           json={"reason": "法务已审阅"})
    assert approved.status_code == 200, approved.text
    body = approved.json()
    assert (body["status"], body["review_status"], body["reviewed_by_user_id"]) == \
        ("published", "approved", w["checker_id"])
    assert _statuses(client, w) == {1: ("retired", None), 2: ("published", "approved")}
    [record] = audit_records(session, "contract_template.publication_approved")
    assert (record.actor_user_id, record.after["requested_by"], record.after["reason"]) == \
        (w["checker_id"], w["editor_id"], "法务已审阅")
    assert len(audit_records(session, "contract_template.publication_requested")) == 1

    # The next contract is made from version 2; the one made before keeps version 1 and its file.
    after = _contract(client, w["borrowers"][1], monkeypatch)
    assert after["template_number"] == 2
    assert MARK in _pdf_text(client, w["borrowers"][1], after)
    again = client.get(f"{ME}/{before['application_id']}/contract", headers=w["borrowers"][0]).json()
    assert (again["template_number"], again["pdf_sha256"]) == (1, before["pdf_sha256"])
    assert MARK not in _pdf_text(client, w["borrowers"][0], again)
    todos = {t["code"]: t["count"] for t in client.get("/api/v1/me/todos", headers=w["checker"]).json()["items"]}
    assert todos["contract_templates_pending_approval"] == 0


def test_the_requester_cannot_approve_or_reject_their_own_request(client, runtime, world):
    w = world
    _draft(client, w)
    assert client.post(f"{T}/loan/versions/2/publication-request", headers=w["editor"]).status_code == 200
    before = snapshot(runtime.db)
    for path, body in (("approve", {}), ("reject", {"reason": "自己驳回"})):
        refused = assert_problem(client.post(f"{T}/loan/versions/2/publication-request/{path}",
                                             headers=w["editor"], json=body), 403)
        assert refused["code"] == "self_approval", refused
    assert before.diff(snapshot(runtime.db)) == {}
    assert _statuses(client, w) == {1: ("published", None), 2: ("draft", "pending")}


def test_a_pending_draft_is_frozen_and_not_requested_twice(client, runtime, world):
    w = world
    draft = _draft(client, w)
    # Nothing to decide before a request (and a published version is never requested).
    assert assert_problem(client.post(f"{T}/loan/versions/2/publication-request/approve", headers=w["checker"],
                                      json={}), 409)["code"] == "template_publication_not_pending"
    assert assert_problem(client.post(f"{T}/loan/versions/1/publication-request", headers=w["editor"]),
                          409)["code"] == "template_not_editable"
    assert client.post(f"{T}/loan/versions/2/publication-request", headers=w["editor"]).status_code == 200
    before = snapshot(runtime.db)
    again = client.post(f"{T}/loan/versions/2/publication-request", headers=w["editor"])
    assert assert_problem(again, 409)["code"] == "template_publication_pending"
    changed = client.patch(f"{T}/loan/versions/2", headers=w["editor"], json={"html": draft["html"]})
    assert assert_problem(changed, 409)["code"] == "template_publication_pending"
    assert assert_problem(client.post(f"{T}/loan/drafts", headers=w["editor"]), 409)["code"] == \
        "template_draft_exists"
    # A rejection needs its reason (beside the field), and changes nothing without it.
    no_reason = assert_problem(client.post(f"{T}/loan/versions/2/publication-request/reject", headers=w["checker"],
                                           json={"reason": ""}), 422)
    assert no_reason["errors"][0]["field"] == "reason", no_reason
    assert before.diff(snapshot(runtime.db)) == {}


def test_a_rejection_keeps_the_version_in_force_and_hands_the_draft_back(client, session, runtime, world,
                                                                         monkeypatch):
    w = world
    draft = _draft(client, w)
    assert client.post(f"{T}/loan/versions/2/publication-request", headers=w["editor"]).status_code == 200
    rejected = client.post(f"{T}/loan/versions/2/publication-request/reject", headers=w["checker"],
                           json={"reason": "仲裁机构名称有误"})
    assert rejected.status_code == 200, rejected.text
    assert (rejected.json()["status"], rejected.json()["review_status"], rejected.json()["review_reason"]) == \
        ("draft", "rejected", "仲裁机构名称有误")
    assert _statuses(client, w) == {1: ("published", None), 2: ("draft", "rejected")}
    assert audit_records(session, "contract_template.publication_rejected")[0].after["reason"] == "仲裁机构名称有误"
    # Decided: neither decided again nor approved now.
    assert assert_problem(client.post(f"{T}/loan/versions/2/publication-request/approve", headers=w["checker"],
                                      json={}), 409)["code"] == "template_publication_not_pending"
    contract = _contract(client, w["borrowers"][0], monkeypatch)
    assert contract["template_number"] == 1
    assert MARK not in _pdf_text(client, w["borrowers"][0], contract)

    # The editor corrects the draft and asks again; this time it is approved.
    fixed = draft["html"].replace("第九条　争议解决", "第九条　争议解决（仲裁：南昌仲裁委员会）")
    assert client.patch(f"{T}/loan/versions/2", headers=w["editor"], json={"html": fixed}).status_code == 200
    again = client.post(f"{T}/loan/versions/2/publication-request", headers=w["editor"]).json()
    assert (again["review_status"], again["review_reason"]) == ("pending", None)
    assert client.post(f"{T}/loan/versions/2/publication-request/approve", headers=w["checker"],
                       json={}).status_code == 200
    assert _statuses(client, w) == {1: ("retired", None), 2: ("published", "approved")}


def test_a_loan_officer_neither_requests_nor_approves(client, world):
    w = world
    _draft(client, w)
    for path in ("publication-request", "publication-request/approve", "publication-request/reject"):
        refused = client.post(f"{T}/loan/versions/2/{path}", headers=w["officer"], json={"reason": "x"})
        assert assert_problem(refused, 403)["code"] == "permission_denied"
