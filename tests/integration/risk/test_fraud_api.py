"""Fraud detection on real databases: a ring found at review opens a case; the investigator reads the ring,
adds a note and records a verdict; the label declines the next application sharing an identifier; the scan
finds a ring the review never saw; bad input changes nothing."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from microcredit.lending.money import Money
from microcredit.risk import samples
from microcredit.risk import service as risk
from microcredit.risk.assessment import ApplicantFacts, Decision
from microcredit.risk.fraud.models import FraudCase, FraudLabel
from tests.factories import make_institution, make_staff
from tests.integration.helpers import assert_problem, audit_records, shared_client, signed_in, snapshot

API = "/api/v1/risk/fraud"


@pytest.fixture
def client(runtime, backend):
    yield from shared_client(runtime, backend)


@pytest.fixture
def world(session, runtime):
    inst = make_institution(session, runtime)
    officer = make_staff(session, runtime, inst, roles=("risk_officer",), password=None)
    loan_officer = make_staff(session, runtime, inst, roles=("loan_officer",), password=None)
    h = {"officer": signed_in(session, runtime, officer.user),
         "loan_officer": signed_in(session, runtime, loan_officer.user)}
    session.commit()
    return inst, h


def applicant(inst_id: int, n: int, **changes: object) -> ApplicantFacts:
    """A different person (ID number, phone, card) each `n`, submitted at 17:30 Beijing time (sequence code 941:
    the bureau simulator's clean file; the tests pick `n` whose simulated file approves)."""
    base = samples.base_facts(institution_id=inst_id)
    values: dict[str, object] = {
        "application_number": f"FR{n:06d}",
        "id_number": samples.sample_id_number("941", born=date(1980, 1, 1) + timedelta(days=n)),
        "phone": f"139{n:08d}", "device_id": f"dev-{n}", "bank_card": f"62220000{n:08d}",
        "submitted_at": datetime(2026, 12, 1, 9, 30, tzinfo=UTC), **changes}
    return replace(base, **values)  # type: ignore[arg-type]


def test_a_ring_at_review_goes_to_the_investigator_and_the_verdict_feeds_back(client, session, world, database):
    inst, h = world
    # Three different people on one device: the third makes a ring and is referred.
    first = [risk.assess(session, applicant(inst.id, n, device_id="dev-shared")) for n in (101, 102)]
    assert [a.decision for a in first] == [Decision.APPROVE, Decision.APPROVE]
    third = risk.assess(session, applicant(inst.id, 104, device_id="dev-shared"))
    assert third.decision == Decision.REFER, [(r.code, r.outcome) for r in third.results if r.outcome != "pass"]
    ring = next(r for r in third.results if r.code == "fraud_ring")
    assert (ring.outcome, ring.params["persons"]) == ("flag", 3)
    session.commit()

    assert_problem(client.get(f"{API}/cases", headers=h["loan_officer"]), 403)
    page = client.get(f"{API}/cases", params={"status": "open"}, headers=h["officer"]).json()
    assert page["total"] == 1
    case = page["items"][0]
    assert (case["source"], case["application_number"], case["persons"]) == ("review", "FR000104", 3)
    assert case["members"] == ["FR000101", "FR000102", "FR000104"]
    assert "fraud_ring" in case["signals"]["codes"]

    detail = client.get(f"{API}/cases/{case['id']}", headers=h["officer"]).json()
    kinds = sorted(n["kind"] for n in detail["nodes"])
    assert kinds == ["application", "application", "application", "device_id", "ip"]  # the IP shows, but links nobody
    device = next(n for n in detail["nodes"] if n["kind"] == "device_id")
    assert "dev-shared" not in device["label"]  # masked
    assert sorted(e["source"] for e in detail["edges"] if e["target"] == device["id"]) == [
        "a:FR000101", "a:FR000102", "a:FR000104"]
    assert [n["flagged"] for n in detail["nodes"] if n["id"] == "a:FR000104"] == [True]

    r = client.post(f"{API}/cases/{case['id']}/notes", json={"body": "三人同一设备"}, headers=h["officer"])
    assert r.status_code == 201, r.text

    # Bad input changes nothing: an unknown verdict, an empty reason, a stale lock, another case.
    before = snapshot(database)
    bad = assert_problem(client.post(f"{API}/cases/{case['id']}/verdict", headers=h["officer"],
                                     json={"verdict": "maybe", "reason": "x", "lock_version": 1}), 422)
    assert bad["errors"][0]["field"] == "verdict"
    assert_problem(client.post(f"{API}/cases/{case['id']}/verdict", headers=h["officer"],
                               json={"verdict": "fraud", "reason": "", "lock_version": 1}), 422)
    stale = assert_problem(client.post(f"{API}/cases/{case['id']}/verdict", headers=h["officer"],
                                       json={"verdict": "fraud", "reason": "同一设备", "lock_version": 9}), 409)
    assert stale["field"] == "lock_version"
    missing = assert_problem(client.post(f"{API}/cases/999999/verdict", headers=h["officer"],
                                         json={"verdict": "fraud", "reason": "x", "lock_version": 1}), 404)
    assert missing["code"] == "fraud_case_not_found"
    assert not before.diff(snapshot(database))

    r = client.post(f"{API}/cases/{case['id']}/verdict", headers=h["officer"],
                    json={"verdict": "fraud", "reason": "同一设备批量申请", "lock_version": detail["lock_version"]})
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["verdict"]) == ("closed", "fraud")
    assert [n["body"] for n in r.json()["notes"]] == ["三人同一设备"]
    again = assert_problem(client.post(f"{API}/cases/{case['id']}/verdict", headers=h["officer"],
                                       json={"verdict": "not_fraud", "reason": "x", "lock_version": 2}), 409)
    assert again["code"] == "fraud_case_closed"
    labels = client.get(f"{API}/labels", headers=h["officer"]).json()
    assert sorted((lb["application_number"], lb["label"]) for lb in labels) == [
        ("FR000101", "fraud"), ("FR000102", "fraud"), ("FR000104", "fraud")]
    assert len(audit_records(session, "risk_fraud_case.decided", case["id"])) == 1
    assert len(audit_records(session, "risk_fraud_case.noted", case["id"])) == 1

    # The label is used: a new person on the same device is declined; a stranger is not.
    fourth = risk.assess(session, applicant(inst.id, 105, device_id="dev-shared"))
    assert fourth.decision == Decision.DECLINE
    assert [r.code for r in fourth.results if r.outcome == "fail"] == ["fraud_confirmed_link"]
    assert risk.assess(session, applicant(inst.id, 107)).decision == Decision.APPROVE

    # A later case holding the same applications is found not to be fraud (the device was a shop's tablet):
    # the latest verdict is the label; the earlier stays on record. The link no longer declines.
    cleared = FraudCase(institution_id=inst.id, source="scan", status="open", application_number=None,
                        members=["FR000101", "FR000102", "FR000104"], persons=3, signals={},
                        opened_at=datetime(2026, 12, 1, 10, 0, tzinfo=UTC))
    session.add(cleared)
    session.commit()
    r = client.post(f"{API}/cases/{cleared.id}/verdict", headers=h["officer"],
                    json={"verdict": "not_fraud", "reason": "门店平板, 已核实", "lock_version": 1})
    assert r.status_code == 200, r.text
    labels = client.get(f"{API}/labels", headers=h["officer"]).json()
    assert sorted((lb["application_number"], lb["label"]) for lb in labels) == [
        ("FR000101", "not_fraud"), ("FR000102", "not_fraud"), ("FR000104", "not_fraud")]
    assert session.scalar(select(func.count()).select_from(FraudLabel).where(
        FraudLabel.institution_id == inst.id)) == 6
    fifth = risk.assess(session, applicant(inst.id, 108, device_id="dev-shared"))
    assert "fraud_confirmed_link" not in [r.code for r in fifth.results if r.outcome == "fail"]


def test_the_scan_finds_a_ring_the_review_did_not_reach(client, session, world):
    inst, h = world
    # Returned for missing income before the fraud stage: identifiers recorded, no case.
    for n in (201, 202, 203):
        a = risk.assess(session, applicant(inst.id, n, bank_card="6222000099990000", monthly_income=None))
        assert a.decision == Decision.RETURN
    session.commit()
    assert client.get(f"{API}/cases", headers=h["officer"]).json()["total"] == 0
    r = client.post(f"{API}/scan", headers=h["officer"])
    assert r.status_code == 200, r.text
    assert r.json() == {"applications": 3, "rings": 1, "opened": 1}
    cases = client.get(f"{API}/cases", params={"source": "scan"}, headers=h["officer"]).json()["items"]
    assert [c["members"] for c in cases] == [["FR000201", "FR000202", "FR000203"]]
    # A second scan opens nothing new.
    assert client.post(f"{API}/scan", headers=h["officer"]).json()["opened"] == 0


def test_an_odd_hour_from_a_new_device_and_a_strong_anomaly_refer(session, world):
    inst, _ = world
    # A person's first application at night is not flagged: the device is the only one known for them.
    first = risk.assess(session, applicant(inst.id, 116, application_number="FR116A",
                                           submitted_at=datetime(2026, 12, 1, 19, 0, tzinfo=UTC)))
    assert "fraud_odd_hour_new_device" not in [r.code for r in first.results]
    # The same person at 03:30 in Beijing from a device they never applied from: referred.
    night = applicant(inst.id, 116, device_id="dev-116-other", submitted_at=datetime(2026, 12, 1, 19, 30, tzinfo=UTC))
    a = risk.assess(session, night)
    assert a.decision == Decision.REFER
    assert [r.code for r in a.results if r.outcome == "flag"] == ["fraud_odd_hour_new_device"]
    # The hour is the institution's: 16:30 UTC is 00:30 in Beijing but 22:30 in Urumqi (UTC+6).
    risk.assess(session, applicant(inst.id, 118, application_number="FR118A"))
    late = applicant(inst.id, 118, device_id="dev-118-other", submitted_at=datetime(2026, 12, 1, 16, 30, tzinfo=UTC))
    assert "fraud_odd_hour_new_device" in [r.code for r in risk.assess(session, late).results]
    west = replace(late, application_number="FR118C", timezone="Asia/Urumqi")
    assert "fraud_odd_hour_new_device" not in [r.code for r in risk.assess(session, west).results]
    # 100,000 over 36 months against an income of 80,000 and spending of 100, at 03:00 (a first application).
    odd = applicant(inst.id, 117, amount=Money(10_000_000, "CNY"), monthly_income=Money(8_000_000, "CNY"),
                    monthly_spending=Money(10_000, "CNY"), term=36,
                    submitted_at=datetime(2026, 12, 1, 19, 0, tzinfo=UTC))
    b = risk.assess(session, odd)
    assert "fraud_anomaly" in [r.code for r in b.results if r.outcome == "flag"], b.results
