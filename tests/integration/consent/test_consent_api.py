"""Consent through the API: registration needs the three current consents, staff and borrowers see them."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from microcredit.consent.models import ConsentRecord
from microcredit.parties.models import Borrower
from tests.factories import (
    CONSENTS,
    PASSWORD,
    institution_header,
    last_sms_code,
    make_branch,
    make_institution,
    make_staff,
    next_id_number,
    next_phone,
)
from tests.integration.helpers import assert_problem, audit_records, shared_client, signed_in, snapshot
from tests.integration.identity.support import bearer, password_login

API = "/api/v1"


@pytest.fixture
def client(runtime, backend):
    """A client of the worker's app for this backend."""
    yield from shared_client(runtime, backend)


@pytest.fixture
def inst(session, runtime):
    """A fresh institution (its default documents, version 1.0, seeded on creation)."""
    inst = make_institution(session, runtime)
    session.commit()
    return inst


def staff(session, runtime, inst, role: str, **kw: Any) -> tuple[Any, dict[str, str]]:
    """A signed-in staff member of `inst` with one role."""
    handle = make_staff(session, runtime, inst, roles=(role,), password=None, **kw)
    h = signed_in(session, runtime, handle.user)
    session.commit()
    return handle, h


def code_for(client, inst, phone: str) -> str:
    """Request a `register` SMS code and read it from the simulator."""
    r = client.post(f"{API}/auth/sms-codes", headers=institution_header(inst), json={"phone": phone,
                                                                                  "purpose": "register"})
    assert r.status_code == 202, r.text
    return last_sms_code(client, phone)


def register(client, inst, phone: str, code: str, number: str, consents: Any = CONSENTS) -> Any:
    body: dict[str, Any] = {"phone": phone, "sms_code": code, "real_name": "新客户", "id_number": number,
                            "password": PASSWORD}
    if consents is not None:
        body["consents"] = consents
    return client.post(f"{API}/auth/register", headers={**institution_header(inst), "User-Agent": "consent-test/1"},
                       json=body)


def join(client, inst, phone: str, code: str, number: str) -> tuple[dict[str, str], int]:
    """Register (answered 202 whatever the ID number), sign in, and return (auth headers, borrower id)."""
    r = register(client, inst, phone, code, number)
    assert r.status_code == 202, r.text
    signed = password_login(client, inst, phone, PASSWORD)
    assert signed.status_code == 200, signed.text
    headers = bearer(signed)
    return headers, client.get(f"{API}/me/profile", headers=headers).json()["id"]


def count(session, model: Any) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def test_the_registration_page_reads_the_current_documents_anonymously(client, inst):
    r = client.get(f"{API}/public/consent-documents", headers=institution_header(inst))
    assert r.status_code == 200, r.text
    docs = r.json()
    assert [(d["kind"], d["version"]) for d in docs] == list(CONSENTS.items())
    sensitive = docs[2]
    assert sensitive["title_zh"] == "敏感个人信息处理规则"
    assert "第二十九条" in sensitive["body_zh"]
    assert len(sensitive["content_hash"]) == 64


def test_registration_without_the_consents_is_refused_and_writes_nothing(client, session, runtime, inst):
    phone, number = next_phone(), next_id_number()
    code = code_for(client, inst, phone)
    before = snapshot(runtime.db)

    none = assert_problem(register(client, inst, phone, code, number, consents=None), 422)
    assert (none["code"], none["field"]) == ("consent_required", "consents")
    assert {e["field"] for e in none["errors"]} == {f"consents.{k}" for k in CONSENTS}
    # The sensitive-information consent is separate: the other two do not stand in for it.
    partial = assert_problem(register(client, inst, phone, code, number,
                                      consents={**CONSENTS, "sensitive_info": None}), 422)
    assert (partial["code"], partial["field"]) == ("consent_required", "consents")
    assert partial["errors"] == [{"field": "consents.sensitive_info", "code": "consent_required",
                                  "message": partial["errors"][0]["message"]}]
    assert before.diff(snapshot(runtime.db)) == {}

    # The code was not used up by the refusals.
    r = register(client, inst, phone, code, number)
    assert r.status_code == 202, r.text


def test_a_stale_version_is_refused_after_a_new_one_is_published(client, session, runtime, inst):
    _, admin = staff(session, runtime, inst, "administrator")
    r = client.post(f"{API}/consent-documents", headers=admin, json={
        "kind": "privacy_policy", "version": "2.0", "title_zh": "隐私政策（第二版）", "title_en": "Privacy policy (v2)",
        "body_zh": "新的正文", "body_en": "The new text"})
    assert r.status_code == 201, r.text
    published = r.json()
    [event] = audit_records(session, "consent_document.published", published["id"])
    assert event.after == {"kind": "privacy_policy", "version": "2.0", "content_hash": published["content_hash"]}
    again = assert_problem(client.post(f"{API}/consent-documents", headers=admin, json={
        "kind": "privacy_policy", "version": "2.0", "title_zh": "改", "title_en": "Changed", "body_zh": "改",
        "body_en": "Changed"}), 409)
    assert (again["code"], again["field"]) == ("consent_version_taken", "version")

    current = client.get(f"{API}/public/consent-documents", headers=institution_header(inst)).json()
    assert {d["kind"]: d["version"] for d in current} == {**CONSENTS, "privacy_policy": "2.0"}
    # The old version stays readable (it is what earlier borrowers accepted).
    old = client.get(f"{API}/consent-documents/privacy_policy/versions/1.0", headers=admin)
    assert (old.status_code, old.json()["title_zh"]) == (200, "隐私政策")

    phone, number = next_phone(), next_id_number()
    code = code_for(client, inst, phone)
    before = snapshot(runtime.db)
    stale = assert_problem(register(client, inst, phone, code, number), 422)
    assert (stale["code"], stale["field"]) == ("consent_version_stale", "consents")
    assert [(e["field"], e["code"]) for e in stale["errors"]] == [("consents.privacy_policy",
                                                                   "consent_version_stale")]
    assert before.diff(snapshot(runtime.db)) == {}
    r = register(client, inst, phone, code, number, consents={**CONSENTS, "privacy_policy": "2.0"})
    assert r.status_code == 202, r.text


def test_staff_see_the_consents_with_time_version_and_channel(client, session, runtime, inst):
    phone = next_phone()
    _, borrower_id = join(client, inst, phone, code_for(client, inst, phone), next_id_number())
    _, manager = staff(session, runtime, inst, "branch_manager")

    records = client.get(f"{API}/borrowers/{borrower_id}/consents", headers=manager)
    assert records.status_code == 200, records.text
    seen = {rec["kind"]: rec for rec in records.json()}
    assert set(seen) == set(CONSENTS)
    for kind, rec in seen.items():
        assert (rec["version"], rec["channel"], rec["current"], rec["withdrawn_at"]) == (
            CONSENTS[kind], "online", True, None)
        assert rec["accepted_at"].startswith(runtime.clock.now().isoformat()[:19])
        assert rec["user_agent"] == "consent-test/1"
        assert len(rec["content_hash"]) == 64
    [given] = audit_records(session, "consent.given", borrower_id)
    assert given.after["channel"] == "online"
    assert given.after["documents"] == CONSENTS

    # Another institution's staff do not see them.
    other = make_institution(session, runtime)
    _, outsider = staff(session, runtime, other, "branch_manager")
    assert_problem(client.get(f"{API}/borrowers/{borrower_id}/consents", headers=outsider), 404)


def test_a_walk_in_registration_records_the_signed_consents(client, session, runtime, inst):
    branch = make_branch(session, runtime, inst)
    officer, h = staff(session, runtime, inst, "loan_officer", branch=branch)
    body = {"phone": next_phone(), "real_name": "线下客户", "id_number": next_id_number(date(1985, 3, 3)),
            "notify_by_sms": False}
    before = snapshot(runtime.db)
    refused = assert_problem(client.post(f"{API}/borrowers", headers={**h, "Idempotency-Key": "walk-in-consent-0"},
                                         json=body), 422)
    assert (refused["code"], refused["field"]) == ("consent_required", "consent_signed")
    assert before.diff(snapshot(runtime.db)) == {}

    r = client.post(f"{API}/borrowers", headers={**h, "Idempotency-Key": "walk-in-consent-1"},
                    json={**body, "consent_signed": True})
    assert r.status_code == 201, r.text
    records = client.get(f"{API}/borrowers/{r.json()['id']}/consents", headers=h).json()
    assert sorted((rec["kind"], rec["version"], rec["channel"], rec["recorded_by_user_id"]) for rec in records) == \
        sorted((kind, version, "walk_in", officer.user.id) for kind, version in CONSENTS.items())


def test_a_borrower_sees_withdraws_and_gives_again_their_consent(client, session, runtime, inst):
    phone = next_phone()
    me, borrower_id = join(client, inst, phone, code_for(client, inst, phone), next_id_number())
    mine = client.get(f"{API}/me/consents", headers=me)
    assert mine.status_code == 200, mine.text
    sensitive = next(rec for rec in mine.json() if rec["kind"] == "sensitive_info")

    # Someone else cannot withdraw it.
    other = client.post(f"{API}/auth/sms-codes", headers=institution_header(inst),
                        json={"phone": (p2 := next_phone()), "purpose": "register"})
    assert other.status_code == 202
    them, _ = join(client, inst, p2, last_sms_code(client, p2), next_id_number())
    assert_problem(client.post(f"{API}/me/consents/{sensitive['id']}/withdraw", headers=them), 404)

    withdrawn = client.post(f"{API}/me/consents/{sensitive['id']}/withdraw", headers=me)
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["withdrawn_at"].startswith(runtime.clock.now().isoformat()[:19])
    twice = assert_problem(client.post(f"{API}/me/consents/{sensitive['id']}/withdraw", headers=me), 409)
    assert twice["code"] == "consent_already_withdrawn"
    [event] = audit_records(session, "consent.withdrawn", borrower_id)
    assert event.after == {"kind": "sensitive_info", "version": "1.0", "consent_id": sensitive["id"]}

    _, manager = staff(session, runtime, inst, "branch_manager")
    seen = client.get(f"{API}/borrowers/{borrower_id}/consents", headers=manager).json()
    assert [rec["withdrawn_at"] is not None for rec in seen if rec["kind"] == "sensitive_info"] == [True]
    assert count(session, ConsentRecord) == 6  # the record is kept, not deleted

    stale = assert_problem(client.post(f"{API}/me/consents", headers=me,
                                       json={"kind": "sensitive_info", "version": "0.9"}), 422)
    assert stale["code"] == "consent_version_stale"
    again = client.post(f"{API}/me/consents", headers=me, json={"kind": "sensitive_info", "version": "1.0"})
    assert again.status_code == 201, again.text
    assert (again.json()["channel"], again.json()["withdrawn_at"]) == ("online", None)
    assert count(session, Borrower) == 2
