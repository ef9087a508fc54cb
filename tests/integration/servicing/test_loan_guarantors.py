"""Guarantors of a running loan over HTTP, and the guarantor search.

Staff who may add guarantors on applications add one to an active loan (what early warning's
`ask_guarantor` asks for) with the same checks, encryption and consent, and release one; a loan not
active is refused (problem+json naming the field) and a refusal changes nothing. Collections may then
contact the new guarantor. The search finds a person by phone or ID number (blind index) or by name,
across every loan they guarantee, only in the caller's scope.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from microcredit.collections import service as collections
from microcredit.origination.models import Guarantor
from microcredit.parties import service as parties
from microcredit.platform.actor import Actor
from microcredit.risk.assessment import Decision
from microcredit.servicing.service import loans
from tests.factories import make_borrower, make_branch, make_institution, make_staff, next_id_number, next_phone
from tests.integration.helpers import (
    assert_problem,
    audit_records,
    idempotency_key,
    shared_client,
    sign_contract,
    signed_in,
    snapshot,
)
from tests.integration.origination.support import PLAN, assessment, publish_product, use_review

LOANS = "/api/v1/loans"
SEARCH = "/api/v1/guarantors/search"


@pytest.fixture
def client(runtime, backend):
    """A client of the worker's app for this backend."""
    yield from shared_client(runtime, backend)


def _loan(client, session, runtime, world, branch, *, disburse=True):
    """A borrower of `branch` with an approved application, its loan opened (and paid out)."""
    borrower = make_borrower(session, runtime, world["inst"], branch=branch, password=None)
    hb = signed_in(session, runtime, borrower.user)
    session.commit()
    draft = client.post("/api/v1/me/applications", headers=hb, json=PLAN).json()
    assert client.post(f"/api/v1/me/applications/{draft['id']}/submit", headers=hb).json()["status"] == "approved"
    sign_contract(client, runtime, hb, borrower.phone, draft["id"])
    loan = client.post(LOANS, headers=world["hf"], json={"application_id": draft["id"]}).json()
    if disburse:
        r = client.post(f"{LOANS}/{loan['id']}/disbursements", headers={**world["hf"], **idempotency_key()}, json={})
        assert r.status_code == 200, r.text
        loan = r.json()["loan"]
    return {**loan, "borrower": borrower}


@pytest.fixture
def world(client, session, runtime, monkeypatch):
    """Two branches; an officer of each, a collector of the first, finance; a running loan at the first."""
    inst = make_institution(session, runtime)
    branch, other = make_branch(session, runtime, inst), make_branch(session, runtime, inst)
    publish_product(session, runtime, inst)
    officer = make_staff(session, runtime, inst, roles=("loan_officer",), branch=branch, password=None)
    stranger = make_staff(session, runtime, inst, roles=("loan_officer",), branch=other, password=None)
    collector = make_staff(session, runtime, inst, roles=("collector",), branch=branch, password=None)
    finance = make_staff(session, runtime, inst, roles=("finance",), password=None)
    ho, hs, hc, hf = (signed_in(session, runtime, u.user) for u in (officer, stranger, collector, finance))
    session.commit()
    use_review(monkeypatch, assessment(Decision.APPROVE, grade="B"))
    world = {"inst": inst, "branch": branch, "other": other, "ho": ho, "hs": hs, "hc": hc, "hf": hf,
             "users": {"ho": officer.user, "hs": stranger.user, "hc": collector.user, "hf": finance.user}}
    world["loan"] = _loan(client, session, runtime, world, branch)
    return world


def guarantor(**changes):
    body = {"name": "孙保证", "id_number": next_id_number(date(1975, 4, 9)), "phone": next_phone(),
            "relation": "friend", "kind": "joint_liability", "amount": "5000.00", "consent_signed": True}
    return {**body, **changes}


def add(client, headers, loan_id, **changes):
    return client.post(f"{LOANS}/{loan_id}/guarantors", headers=headers, json=guarantor(**changes))


def test_an_officer_adds_a_guarantor_to_a_running_loan_and_releases_one(client, session, world):
    loan = world["loan"]
    assert loan["status"] == "active"
    body = guarantor()
    r = client.post(f"{LOANS}/{loan['id']}/guarantors", headers=world["ho"], json=body)
    assert r.status_code == 201, r.text
    g = r.json()
    assert (g["name"], g["status"], g["amount"], g["application_id"]) == (
        "孙保证", "active", "5000.00", loan["application_id"])
    assert g["phone_masked"] == body["phone"][:3] + "****" + body["phone"][-4:]
    # encrypted at rest, the consent in force recorded, as on an application
    row = session.execute(select(Guarantor.__table__).where(Guarantor.id == g["id"])).one()
    text = "\x00".join(str(v) for v in row)
    assert body["id_number"] not in text
    assert body["phone"] not in text
    assert len(row.consent_content_hash) == 64
    added = audit_records(session, "guarantor.added_to_loan", g["id"])
    assert [a.after["loan_id"] for a in added] == [loan["id"]]
    assert audit_records(session, "guarantor.added", g["id"]) == []
    listed = client.get(f"{LOANS}/{loan['id']}/guarantors", headers=world["ho"]).json()
    assert [(x["id"], x["status"]) for x in listed] == [(g["id"], "active")]
    # the same person twice on the loan: refused, naming the ID number
    before = snapshot_of(session, world)
    dup = assert_problem(add(client, world["ho"], loan["id"], id_number=body["id_number"], name="孙保证二"), 409)
    assert (dup["code"], dup["field"]) == ("guarantor_duplicate", "id_number")
    assert snapshot_of(session, world) == before
    # released, with the reason; then the same person may be added again
    path = f"{LOANS}/{loan['id']}/guarantors/{g['id']}/release"
    assert_problem(client.post(path, headers=world["ho"], json={"reason": ""}), 422)
    r = client.post(path, headers=world["ho"], json={"reason": "借款人已提供抵押"})
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["release_reason"]) == ("released", "借款人已提供抵押")
    released = audit_records(session, "guarantor.released_from_loan", g["id"])
    assert (released[0].after["reason"], released[0].after["loan_id"]) == ("借款人已提供抵押", loan["id"])
    again = assert_problem(client.post(path, headers=world["ho"], json={"reason": "再次"}), 409)
    assert (again["code"], again["field"]) == ("guarantor_released", "guarantor_id")
    assert add(client, world["ho"], loan["id"], id_number=body["id_number"]).status_code == 201


def snapshot_of(session, world):
    """The rows a refused add could have written (guarantors and audit records)."""
    session.expire_all()
    return (len(session.scalars(select(Guarantor.id)).all()),
            len(audit_records(session, "guarantor.added_to_loan")))


@pytest.mark.parametrize(("change", "field", "code"), [
    ({"id_number": "360102197003080001"}, "id_number", "id_number_checksum"),
    ({"id_number": next_id_number(date(2012, 5, 1))}, "id_number", "guarantor_underage"),
    ({"phone": "12345678901"}, "phone", "phone_format"),
    ({"consent_signed": False}, "consent_signed", "consent_required"),
])
def test_bad_guarantors_on_a_loan_are_refused_naming_the_field(client, database, world, change, field, code):
    before = snapshot(database)
    r = assert_problem(add(client, world["ho"], world["loan"]["id"], **change), 422)
    assert r["field"] == field or [e["field"] for e in r["errors"]] == [field], r
    assert code in (r["code"], *(e["code"] for e in r["errors"])), r
    assert snapshot(database) == before


def test_only_an_active_loan_in_scope_takes_or_releases_a_guarantor(client, database, session, runtime, world):
    loan = world["loan"]
    # the borrower themself, another branch's officer (not found: no hint), a collector (no permission)
    body = assert_problem(add(client, world["ho"], loan["id"], id_number=loan["borrower"].id_number), 422)
    assert (body["code"], body["field"]) == ("guarantor_is_borrower", "id_number")
    assert_problem(add(client, world["hs"], loan["id"]), 404)
    assert_problem(add(client, world["hc"], loan["id"]), 403)
    kept = add(client, world["ho"], loan["id"]).json()
    # not paid out yet: refused
    waiting = _loan(client, session, runtime, world, world["branch"], disburse=False)
    before = snapshot(database)
    body = assert_problem(add(client, world["ho"], waiting["id"]), 409)
    assert (body["code"], body["field"]) == ("loan_wrong_state", "status")
    # paid off: closed, refused to add and to release
    payoff = loan["state"]["payoff"]["after_credit"]
    done = client.post(f"{LOANS}/{loan['id']}/prepayments", headers={**world["hf"], **idempotency_key()},
                       json={"amount": payoff, "mode": "shorten_term"})
    assert done.status_code == 200, done.text
    assert done.json()["loan"]["status"] == "closed"
    before = snapshot(database)
    body = assert_problem(add(client, world["ho"], loan["id"]), 409)
    assert (body["code"], body["field"]) == ("loan_wrong_state", "status")
    assert "closed" in body["detail"]
    body = assert_problem(client.post(f"{LOANS}/{loan['id']}/guarantors/{kept['id']}/release", headers=world["ho"],
                                      json={"reason": "结清"}), 409)
    assert body["code"] == "loan_wrong_state"
    assert snapshot(database) == before


def test_collections_may_contact_a_guarantor_added_while_the_loan_runs(client, session, runtime, world):
    loan, inst = world["loan"], world["inst"]
    day = date.fromisoformat(loan["next_due_date"]) + timedelta(days=10)
    parties.organisation.set_business_date_as(session=session, clock=runtime.clock, actor=Actor.system(inst.id),
                                              institution_id=inst.id, new_date=day, override_allowed=True)
    loans.advance(session=session, clock=runtime.clock, actor=Actor.system(inst.id), institution_id=inst.id,
                  loan_id=loan["id"], business_date=day)
    case_id = collections.sync_cases(session=session, clock=runtime.clock, kit=runtime.identity, institution_id=inst.id,
                                     business_date=day).opened[0]
    runtime.clock.set(datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC))  # 10:00 in Shanghai
    for name in ("ho", "hc"):
        world[name] = signed_in(session, runtime, world["users"][name])
    session.commit()
    cases = "/api/v1/collections/cases"
    assert client.get(f"{cases}/{case_id}", headers=world["hc"]).json()["guarantors"] == []
    g = add(client, world["ho"], loan["id"]).json()

    def call(ref):
        return client.post(f"{cases}/{case_id}/actions", headers=world["hc"], json={
            "kind": "call", "outcome": "reached", "contact_party": "guarantor", "contact_ref": ref})

    detail = client.get(f"{cases}/{case_id}", headers=world["hc"]).json()
    assert [x["id"] for x in detail["guarantors"]] == [g["id"]]
    r = call(str(g["id"]))
    assert r.status_code == 201, r.text
    assert (r.json()["contact_party"], r.json()["contact_ref"]) == ("guarantor", str(g["id"]))
    # released from the loan: no longer a guarantor collections may reach
    assert client.post(f"{LOANS}/{loan['id']}/guarantors/{g['id']}/release", headers=world["ho"],
                       json={"reason": "撤回"}).status_code == 200
    body = assert_problem(call(str(g["id"])), 422)
    assert (body["code"], body["field"]) == ("third_party_contact", "contact_ref")


def test_the_search_finds_a_person_across_loans_and_only_in_scope(client, session, runtime, world):
    person = guarantor(name="周多保")
    second = _loan(client, session, runtime, world, world["branch"])
    elsewhere = _loan(client, session, runtime, world, world["other"])
    for loan_id, headers in ((world["loan"]["id"], world["ho"]), (second["id"], world["ho"]),
                             (elsewhere["id"], world["hs"])):
        r = client.post(f"{LOANS}/{loan_id}/guarantors", headers=headers, json=person)
        assert r.status_code == 201, r.text
    assert add(client, world["ho"], second["id"], name="吴另人").status_code == 201  # someone else
    # released on one loan: still found, shown released
    first_g = client.get(f"{LOANS}/{world['loan']['id']}/guarantors", headers=world["ho"]).json()[0]
    assert client.post(f"{LOANS}/{world['loan']['id']}/guarantors/{first_g['id']}/release", headers=world["ho"],
                       json={"reason": "更换"}).status_code == 200

    def search(headers, q):
        r = client.post(SEARCH, headers=headers, json={"q": q})
        assert r.status_code == 200, r.text
        return r.json()

    for q in (person["phone"], person["id_number"], f"{person['phone'][:3]} {person['phone'][3:7]} "
              f"{person['phone'][7:]}", person["id_number"].lower(), "周多"):
        found = search(world["ho"], q)
        assert len(found) == 1, (q, found)
        p = found[0]
        assert (p["name"], p["phone_masked"]) == ("周多保", person["phone"][:3] + "****" + person["phone"][-4:])
        assert p["id_number_masked"][-4:] == person["id_number"][-4:]
        assert person["id_number"] not in str(p)
        assert person["phone"] not in str(p)
        # the officer's branch: the two loans there, not the other branch's
        assert sorted((x["loan_id"], x["status"]) for x in p["guarantees"]) == sorted(
            [(world["loan"]["id"], "released"), (second["id"], "active")])
        assert p["active_loans"] == 1
        assert {x["loan_number"] for x in p["guarantees"]} == {world["loan"]["number"], second["number"]}
    # the other branch's officer sees only theirs; head office (finance, institution scope) sees all three
    other = search(world["hs"], person["phone"])
    assert [x["loan_id"] for x in other[0]["guarantees"]] == [elsewhere["id"]]
    everywhere = search(world["hf"], person["id_number"])
    assert {x["loan_id"] for x in everywhere[0]["guarantees"]} == {world["loan"]["id"], second["id"], elsewhere["id"]}
    assert everywhere[0]["active_loans"] == 2
    # a borrower's phone is not a guarantor's; nothing found is an empty list; too short a term is refused
    assert search(world["ho"], world["loan"]["borrower"].phone) == []
    body = assert_problem(client.post(SEARCH, headers=world["ho"], json={"q": "周"}), 422)
    assert [e["field"] for e in body["errors"]] == ["q"]
    assert_problem(client.post(SEARCH, headers=signed_in_borrower(session, runtime, world), json={"q": "周多"}), 403)


def signed_in_borrower(session, runtime, world):
    headers = signed_in(session, runtime, world["loan"]["borrower"].user)
    session.commit()
    return headers
