"""Risk through the API: a risk officer drafts, previews and publishes rules; the blacklist; credit reports."""

from __future__ import annotations

import pytest

from microcredit.risk import samples
from microcredit.risk import service as risk
from microcredit.risk.assessment import Decision
from tests.factories import make_institution, make_staff
from tests.integration.helpers import assert_problem, audit_records, shared_client, signed_in, snapshot

API = "/api/v1/risk"


@pytest.fixture
def client(runtime, backend):
    yield from shared_client(runtime, backend)


@pytest.fixture
def world(session, runtime):
    inst = make_institution(session, runtime)
    officer = make_staff(session, runtime, inst, roles=("risk_officer",), password=None)
    approver = make_staff(session, runtime, inst, roles=("approver_l2",), password=None)
    h = {"officer": signed_in(session, runtime, officer.user), "approver": signed_in(session, runtime, approver.user)}
    session.commit()
    return inst, h


def decisions(rows, which):
    return {r["name"]: r[which]["decision"] for r in rows}


def test_draft_edit_preview_publish(client, session, world, database):
    inst, h = world
    sets = client.get(f"{API}/rule-sets", headers=h["approver"]).json()
    assert [(s["code"], s["published_number"], s["draft_number"]) for s in sets] == [("default", 1, None)]
    draft = client.post(f"{API}/rule-sets/default/versions", json={"note": "收紧"}, headers=h["officer"])
    assert draft.status_code == 201, draft.text
    assert (draft.json()["number"], draft.json()["status"]) == (2, "draft")
    assert_problem(client.post(f"{API}/rule-sets/default/versions", json={}, headers=h["officer"]), 409)

    # Lower the approval envelope: the clean sample (¥20,000) is referred under the draft.
    r = client.patch(f"{API}/rule-sets/default/versions/2", headers=h["officer"],
                     json={"parameters": {"approve_max_amount": 1_000_000}, "lock_version": 1})
    assert r.status_code == 200, r.text
    assert r.json()["parameters"]["approve_max_amount"] == 1_000_000
    assert r.json()["parameters"]["max_dti_pct"] == 55  # the others stay
    rows = client.post(f"{API}/rule-sets/default/versions/2/preview", json={}, headers=h["approver"]).json()
    assert decisions(rows, "current")["clean"] == "approve"
    assert decisions(rows, "draft")["clean"] == "refer"
    assert next(r for r in rows if r["name"] == "clean")["changed"] is True
    assert decisions(rows, "draft")["blacklisted"] == "decline"
    assert {r["name"] for r in rows} >= {"thin_file", "high_dti", "velocity", "missing_income"}

    r = client.post(f"{API}/rule-sets/default/versions/2/publish", headers=h["officer"])
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "published"
    sets = client.get(f"{API}/rule-sets", headers=h["officer"]).json()
    assert [v["status"] for v in sets[0]["versions"]] == ["published", "retired"]
    assert len(audit_records(session, "risk_rule_set.published")) >= 1
    # What is published never changes.
    before = snapshot(database)
    for method, path, body in (("PATCH", "versions/2", {"note": "x"}), ("PATCH", "versions/1", {"note": "x"}),
                               ("POST", "versions/2/publish", None)):
        assert_problem(client.request(method, f"{API}/rule-sets/default/{path}", json=body, headers=h["officer"]),
                       409)
    assert not before.diff(snapshot(database))
    # assess now decides with version 2.
    assessed = risk.assess(session, samples.base_facts(institution_id=inst.id))
    assert (assessed.rule_set, assessed.decision) == ("default@2", Decision.REFER)


def test_a_rule_that_does_not_compile_is_refused_beside_the_rule(client, world, database):
    _inst, h = world
    client.post(f"{API}/rule-sets/default/versions", json={}, headers=h["officer"])
    rules = client.get(f"{API}/rule-sets/default/versions/2", headers=h["officer"]).json()["rules"]
    rules[3]["expression"] = "bureau.open_public_records >"
    before = snapshot(database)
    r = client.patch(f"{API}/rule-sets/default/versions/2", json={"rules": rules}, headers=h["officer"])
    body = assert_problem(r, 422)
    assert body["code"] == "rule_does_not_compile"
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("rules[3].expression", "rule_does_not_compile")]
    assert not before.diff(snapshot(database))
    rules[3]["expression"] = "score > 1"
    body = assert_problem(client.patch(f"{API}/rule-sets/default/versions/2", json={"rules": rules},
                                       headers=h["officer"]), 422)
    assert body["errors"][0]["code"] == "rule_unknown_variable"


def test_an_approver_reads_but_does_not_change_rules(client, world):
    _inst, h = world
    assert_problem(client.post(f"{API}/rule-sets/default/versions", json={}, headers=h["approver"]), 403)
    assert client.get(f"{API}/rule-sets/default/versions/1", headers=h["approver"]).status_code == 200


def test_blacklist_through_the_api(client, session, world):
    _inst, h = world
    number = samples.samples()["blacklisted"].id_number
    r = client.post(f"{API}/blacklist", json={"kind": "id_number", "value": number, "reason": "冒用身份"},
                    headers=h["officer"])
    assert r.status_code == 201, r.text
    entry = r.json()
    assert entry["value_masked"] != number
    assert "*" in entry["value_masked"]
    assert number not in r.text
    assert_problem(client.post(f"{API}/blacklist", json={"kind": "id_number", "value": number, "reason": "x"},
                               headers=h["officer"]), 409)
    body = assert_problem(client.post(f"{API}/blacklist", json={"kind": "phone", "value": "12345", "reason": "x"},
                                      headers=h["officer"]), 422)
    assert (body["code"], body["field"]) == ("blacklist_value_invalid", "value")
    assert [e["id"] for e in client.get(f"{API}/blacklist", headers=h["officer"]).json()] == [entry["id"]]
    r = client.post(f"{API}/blacklist/{entry['id']}/remove", json={"reason": "误报"}, headers=h["officer"])
    assert r.status_code == 200
    assert r.json()["removed_reason"] == "误报"
    assert client.get(f"{API}/blacklist", headers=h["officer"]).json() == []
    assert len(client.get(f"{API}/blacklist?include_removed=true", headers=h["officer"]).json()) == 1
    assert {a.action for a in audit_records(session, "risk_blacklist.added")} == {"risk_blacklist.added"}
    assert_problem(client.get(f"{API}/blacklist", headers=h["approver"]), 403)


def test_bureau_report_view_is_audited_and_the_simulator_lookup(client, session, world):
    inst, h = world
    assessed = risk.assess(session, samples.base_facts(institution_id=inst.id))
    session.commit()
    r = client.get(f"{API}/bureau-reports/{assessed.bureau_report_id}", headers=h["approver"])
    assert r.status_code == 200, r.text
    assert r.json()["report"]["scenario"] == "clean_thick"
    assert len(r.json()["report"]["accounts"][0]["grid"]) == 24
    assert audit_records(session, "risk_bureau_report.viewed", int(assessed.bureau_report_id or 0))
    other = make_institution(session, client.app.state.runtime)
    foreign = risk.assess(session, samples.base_facts(institution_id=other.id))
    session.commit()
    assert_problem(client.get(f"{API}/bureau-reports/{foreign.bureau_report_id}", headers=h["approver"]), 404)
    number = samples.sample_id_number("911")
    r = client.post(f"{API}/simulator/bureau-report", json={"id_number": number}, headers=h["officer"])
    assert r.status_code == 200
    assert r.json()["scenario"] == "serious_delinquency"
    body = assert_problem(client.post(f"{API}/simulator/bureau-report", json={"id_number": "110105199005179110"},
                                      headers=h["officer"]), 422)
    assert body["field"] == "id_number"


def test_preview_takes_typed_samples(client, world):
    _inst, h = world
    sample = {"name": "typed", "id_number": samples.sample_id_number("921"), "amount": "10000.00", "term": 6,
              "monthly_income": "9000.00"}
    rows = client.post(f"{API}/rule-sets/default/versions/1/preview", json={"samples": [sample]},
                       headers=h["officer"]).json()
    typed = next(r for r in rows if r["name"] == "typed")
    assert typed["draft"]["decision"] == "decline"
    assert "too_many_inquiries" in {x["code"] for x in typed["draft"]["results"] if x["outcome"] == "fail"}
    body = assert_problem(client.post(f"{API}/rule-sets/default/versions/1/preview",
                                      json={"samples": [{**sample, "id_number": "110105199005179110"}]},
                                      headers=h["officer"]), 422)
    assert body["field"] == "samples[0].id_number"
