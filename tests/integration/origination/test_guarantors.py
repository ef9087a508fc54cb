"""Guarantors of an application over HTTP: added by the officer with their ID number and phone validated
(problem+json naming the field) and stored encrypted, listed masked, released before the decision, fixed
after it and read on the loan; every change audited, a refusal changes nothing."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from microcredit.origination.models import Guarantor
from microcredit.risk.assessment import Decision
from tests.factories import make_borrower, make_branch, make_institution, make_staff, next_id_number, next_phone
from tests.integration.helpers import (
    assert_problem,
    audit_records,
    shared_client,
    sign_contract,
    signed_in,
    snapshot,
)
from tests.integration.origination.support import PLAN, assessment, publish_product, use_review

ME = "/api/v1/me/applications"
A = "/api/v1/applications"


@pytest.fixture
def client(runtime, backend):
    """A client of the worker's app for this backend."""
    yield from shared_client(runtime, backend)


@pytest.fixture
def world(client, session, runtime):
    """A borrower's draft application at a branch; its officer, an officer of another branch, finance."""
    inst = make_institution(session, runtime)
    branch, other = make_branch(session, runtime, inst), make_branch(session, runtime, inst)
    publish_product(session, runtime, inst)
    borrower = make_borrower(session, runtime, inst, branch=branch, password=None, real_name="王小明")
    officer = make_staff(session, runtime, inst, roles=("loan_officer",), branch=branch, password=None)
    stranger = make_staff(session, runtime, inst, roles=("loan_officer",), branch=other, password=None)
    collector = make_staff(session, runtime, inst, roles=("collector",), branch=branch, password=None)
    finance = make_staff(session, runtime, inst, roles=("finance",), password=None)
    hb, ho, hs, hc, hf = (signed_in(session, runtime, u.user) for u in (borrower, officer, stranger, collector,
                                                                        finance))
    session.commit()
    draft = client.post(ME, headers=hb, json=PLAN)
    assert draft.status_code == 201, draft.text
    return {"inst": inst, "borrower": borrower, "hb": hb, "ho": ho, "hs": hs, "hc": hc, "hf": hf,
            "application_id": draft.json()["id"]}


def guarantor(**changes):
    body = {"name": "张担保", "id_number": next_id_number(date(1970, 3, 8)), "phone": next_phone(),
            "relation": "spouse", "kind": "joint_liability", "amount": "8000.00", "consent_signed": True}
    return {**body, **changes}


def add(client, world, headers=None, **changes):
    return client.post(f"{A}/{world['application_id']}/guarantors", headers=headers or world["ho"],
                       json=guarantor(**changes))


def test_an_officer_adds_a_guarantor_stored_encrypted_and_listed_masked(client, session, world):
    body = guarantor()
    r = client.post(f"{A}/{world['application_id']}/guarantors", headers=world["ho"], json=body)
    assert r.status_code == 201, r.text
    g = r.json()
    assert (g["name"], g["relation"], g["kind"], g["amount"], g["status"]) == (
        "张担保", "spouse", "joint_liability", "8000.00", "active")
    assert g["phone_masked"] == body["phone"][:3] + "****" + body["phone"][-4:]
    assert g["id_number_masked"] != body["id_number"]
    assert g["id_number_masked"][-4:] == body["id_number"][-4:]
    assert "id_number" not in g
    assert "phone" not in g
    # At rest: the ID number and phone are ciphertext only; the blind indexes are not the values.
    row = session.execute(select(Guarantor.__table__).where(Guarantor.id == g["id"])).one()
    text = "\x00".join(str(v) for v in row)
    assert body["id_number"] not in text
    assert body["phone"] not in text
    assert row.consent_document_id is not None
    assert len(row.consent_content_hash) == 64
    # Listed for staff in scope, with the same masked fields; the full values only by an audited reveal.
    listed = client.get(f"{A}/{world['application_id']}/guarantors", headers=world["ho"]).json()
    assert [x["id"] for x in listed] == [g["id"]]
    assert audit_records(session, "guarantor.added", g["id"])[0].after["phone"] == g["phone_masked"]
    shown = client.post(f"{A}/{world['application_id']}/guarantors/{g['id']}/reveal", headers=world["ho"])
    assert shown.status_code == 200, shown.text
    assert shown.json() == {"id_number": body["id_number"], "phone": body["phone"]}
    assert audit_records(session, "guarantor.sensitive_viewed", g["id"])[0].after == {"fields": ["id_number", "phone"]}
    # a collector does not see them in full
    assert_problem(client.post(f"{A}/{world['application_id']}/guarantors/{g['id']}/reveal", headers=world["hc"]),
                   403)
    # another branch's officer: not found, no hint
    assert_problem(client.get(f"{A}/{world['application_id']}/guarantors", headers=world["hs"]), 404)
    assert_problem(add(client, world, world["hs"]), 404)


@pytest.mark.parametrize(("change", "field", "code"), [
    ({"id_number": "360102197003080001"}, "id_number", "id_number_checksum"),
    ({"id_number": "990102197003080011"}, "id_number", "id_number_region"),
    ({"id_number": next_id_number(date(2012, 5, 1))}, "id_number", "guarantor_underage"),
    ({"phone": "12345678901"}, "phone", "phone_format"),
    ({"consent_signed": False}, "consent_signed", "consent_required"),
    ({"relation": "landlord"}, "relation", None),
    ({"kind": "pledge"}, "kind", None),
    ({"amount": "-5.00"}, "amount", None),
])
def test_bad_guarantors_are_refused_naming_the_field_and_change_nothing(client, database, world, change, field,
                                                                        code):
    before = snapshot(database)
    r = assert_problem(add(client, world, **change), 422)
    assert r["field"] == field or [e["field"] for e in r["errors"]] == [field], r
    if code is not None:
        assert code in (r["code"], *(e["code"] for e in r["errors"])), r
    assert snapshot(database) == before


def test_the_borrower_is_not_their_own_guarantor_and_nobody_is_added_twice(client, database, world):
    before = snapshot(database)
    body = assert_problem(add(client, world, id_number=world["borrower"].id_number), 422)
    assert (body["code"], body["field"]) == ("guarantor_is_borrower", "id_number")
    assert snapshot(database) == before
    number = next_id_number(date(1968, 1, 2))
    assert add(client, world, id_number=number).status_code == 201
    body = assert_problem(add(client, world, id_number=number, name="张担保二"), 409)
    assert (body["code"], body["field"]) == ("guarantor_duplicate", "id_number")
    assert len(client.get(f"{A}/{world['application_id']}/guarantors", headers=world["ho"]).json()) == 1


def test_released_before_the_decision_then_fixed_on_the_loan(client, session, runtime, world, monkeypatch):
    kept = add(client, world).json()
    gone = add(client, world, name="李保人", relation="friend", kind="general", amount=None).json()
    assert gone["amount"] is None
    path = f"{A}/{world['application_id']}/guarantors/{gone['id']}/release"
    assert_problem(client.post(path, headers=world["ho"], json={"reason": ""}), 422)
    r = client.post(path, headers=world["ho"], json={"reason": "担保人撤回"})
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["release_reason"]) == ("released", "担保人撤回")
    assert audit_records(session, "guarantor.released", gone["id"])[0].after["reason"] == "担保人撤回"
    body = assert_problem(client.post(path, headers=world["ho"], json={"reason": "再次"}), 409)
    assert (body["code"], body["field"]) == ("guarantor_released", "guarantor_id")
    # decided: nobody is added or released any more
    use_review(monkeypatch, assessment(Decision.APPROVE, grade="B"))
    assert client.post(f"{ME}/{world['application_id']}/submit", headers=world["hb"]).json()["status"] == "approved"
    body = assert_problem(add(client, world), 409)
    assert body["code"] == "application_wrong_state"
    body = assert_problem(client.post(f"{A}/{world['application_id']}/guarantors/{kept['id']}/release",
                                      headers=world["ho"], json={"reason": "迟了"}), 409)
    assert body["code"] == "application_wrong_state"
    # the loan opened from it reads them
    sign_contract(client, runtime, world["hb"], world["borrower"].phone, world["application_id"])
    loan = client.post("/api/v1/loans", headers=world["hf"], json={"application_id": world["application_id"]})
    assert loan.status_code == 201, loan.text
    on_loan = client.get(f"/api/v1/loans/{loan.json()['id']}/guarantors", headers=world["ho"]).json()
    assert [(g["id"], g["status"]) for g in on_loan] == [(kept["id"], "active"), (gone["id"], "released")]
