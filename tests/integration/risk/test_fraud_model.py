"""The fraud check's anomaly model trained from the institution's own applications, on real databases.

Too few applications are refused with nothing stored; enough (less those labelled fraud) train a draft of
`fraud_anomaly` with its sample size, threshold and score distribution; it is put in force only when a
second risk officer approves, beside the credit champion (roles per purpose); the fraud check then scores
with it and its threshold; a newer approved version retires it; a stored forest whose bytes no longer
match its SHA-256 is not served.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from microcredit.lending.money import Money
from microcredit.origination.models import Application
from microcredit.products import service as products
from microcredit.risk.fraud import anomaly
from microcredit.risk.fraud.models import FraudCase, FraudLabel
from microcredit.risk.fraud.service import detection, training
from microcredit.risk.registry import demo as registry_demo
from microcredit.risk.registry.models import RiskModelVersion
from tests.factories import make_borrower, make_institution, make_staff, next_id_number
from tests.integration.helpers import assert_problem, audit_records, shared_client, signed_in, snapshot
from tests.integration.origination.support import publish_product

API = "/api/v1/risk/fraud/anomaly-model"
MODELS = "/api/v1/risk/models"


@pytest.fixture
def client(runtime, backend):
    yield from shared_client(runtime, backend)


@pytest.fixture
def world(session, runtime):
    inst = make_institution(session, runtime)
    publish_product(session, runtime, inst)
    maker = make_staff(session, runtime, inst, roles=("risk_officer",), password=None)
    checker = make_staff(session, runtime, inst, roles=("risk_officer",), password=None)
    loan_officer = make_staff(session, runtime, inst, roles=("loan_officer",), password=None)
    borrowers = [make_borrower(session, runtime, inst, password=None,
                               id_number=next_id_number(born=date(1960 + 3 * i, 1 + i, 10))) for i in range(8)]
    h = {"maker": signed_in(session, runtime, maker.user), "checker": signed_in(session, runtime, checker.user),
         "loan_officer": signed_in(session, runtime, loan_officer.user)}
    session.commit()
    return inst, borrowers, h


def add_applications(session, inst, borrowers, start: int, count: int) -> list[str]:
    """`count` submitted applications of ordinary figures (seeded), as origination stores them."""
    version_id = products.catalogue.offer(session=session, institution_id=inst.id, code="FARM",
                                          on=inst.business_date)[1].id
    rnd = random.Random(start)
    numbers = []
    for n in range(start, start + count):
        b = borrowers[n % len(borrowers)]
        income = rnd.choice([6_000, 8_000, 12_000, 20_000, 30_000])
        at = datetime(2026, 11, 1, 1, tzinfo=UTC) + timedelta(hours=rnd.randint(0, 24 * 28))
        number = f"FM{n:06d}"
        session.add(Application(
            institution_id=inst.id, borrower_id=b.borrower.id, borrower_user_id=b.user.id, number=number,
            status="approved", product_code="FARM", product_version_id=version_id, product_version_number=1,
            amount=Money(rnd.choice([3_000, 5_000, 8_000, 10_000, 15_000]) * 100, "CNY"), term=rnd.choice([6, 12]),
            period_unit="month", repayment_method="equal_installment", purpose="business", channel="online",
            monthly_income=Money(income * 100, "CNY"), monthly_spending=Money(income * 40, "CNY"),
            monthly_debt_payments=Money(income * 10, "CNY"), id_number_index=b.borrower.id_number_index,
            submissions=1, submitted_at=at, created_at=at, updated_at=at))
        numbers.append(number)
    session.commit()
    return numbers


def label_fraud(session, inst, numbers: list[str]) -> None:
    """An investigator's verdict `fraud` on these applications."""
    now = datetime(2026, 12, 1, tzinfo=UTC)
    case = FraudCase(institution_id=inst.id, source="scan", status="closed", application_number=None,
                     members=numbers, persons=len(numbers), signals={"codes": ["fraud_ring"]}, opened_at=now,
                     verdict="fraud", verdict_reason="测试", decided_at=now)
    session.add(case)
    session.flush()
    session.add_all([FraudLabel(institution_id=inst.id, application_number=n, case_id=case.id, label="fraud",
                                labelled_at=now) for n in numbers])
    session.commit()


def promote(client, h, number: int) -> None:
    """Proposed for champion (in force) by one risk officer, approved by the other."""
    p = client.post(f"{MODELS}/fraud_anomaly/versions/{number}/promotions",
                    json={"target": "champion", "reason": "本机构申请训练"}, headers=h["maker"])
    assert p.status_code == 201, p.text
    assert_problem(client.post(f"{MODELS}/promotions/{p.json()['id']}/approve", json={"reason": "自批"},
                               headers=h["maker"]), 403)
    a = client.post(f"{MODELS}/promotions/{p.json()['id']}/approve", json={"reason": "复核同意"},
                    headers=h["checker"])
    assert a.status_code == 200, a.text


def test_too_few_applications_are_refused_and_nothing_changes(client, session, world, database):
    inst, borrowers, h = world
    add_applications(session, inst, borrowers, 0, 40)
    before = snapshot(database)
    body = assert_problem(client.post(f"{API}/versions", json={"contamination": 0.02}, headers=h["maker"]), 422)
    assert (body["code"], body["field"]) == ("fraud_model_sample_too_small", "applications")
    assert "40" in body["detail"]
    assert str(training.MIN_APPLICATIONS) in body["detail"]
    assert snapshot(database).diff(before) == {}
    # Bad input and a caller without the permission change nothing either.
    body = assert_problem(client.post(f"{API}/versions", json={"contamination": 0.9}, headers=h["maker"]), 422)
    assert body["code"] == "validation_failed"
    assert_problem(client.post(f"{API}/versions", json={}, headers=h["loan_officer"]), 403)
    assert snapshot(database).diff(before) == {}
    state = client.get(API, headers=h["maker"]).json()
    assert (state["in_force"], state["threshold"], state["versions"]) == ("builtin", 0.68, [])


def test_trained_from_applications_approved_by_a_second_officer_then_in_force(client, session, world, runtime):
    inst, borrowers, h = world
    numbers = add_applications(session, inst, borrowers, 0, 230)
    label_fraud(session, inst, numbers[:6])
    r = client.post(f"{API}/versions", json={"contamination": 0.05, "note": "11月申请"}, headers=h["maker"])
    assert r.status_code == 201, r.text
    v1 = r.json()
    assert (v1["model"], v1["number"], v1["status"]) == ("fraud_anomaly", 1, "draft")
    assert (v1["sample"], v1["excluded_fraud"], v1["contamination"]) == (224, 6, 0.05)
    assert sum(b["count"] for b in v1["histogram"]) == 224
    # The threshold is the sample's 95th percentile (floored), and about 5 % of the sample reaches it.
    assert v1["threshold"] >= training.THRESHOLD_FLOOR
    assert 0.03 * 224 <= v1["flagged"] <= 0.08 * 224, v1
    [trained] = audit_records(session, "risk_fraud_model.trained")
    assert trained.after["sample"] == 224
    assert audit_records(session, "risk_model.registered")

    # The stored forest is the one trained from these figures: its digest names it, and it scores the sample.
    row = session.scalars(select(RiskModelVersion).where(RiskModelVersion.institution_id == inst.id)).one()
    assert (row.purpose, row.format) == ("fraud_anomaly", "isolation-forest/1")
    session.refresh(row, attribute_names=["artefact"])
    forest = anomaly.Forest.from_json(row.artefact.decode(), row.sha256)
    assert forest.rows == 224

    # A draft is not in force; it never takes the challenger's role.
    assert client.get(API, headers=h["maker"]).json()["in_force"] == "builtin"
    body = assert_problem(client.post(f"{MODELS}/fraud_anomaly/versions/1/promotions",
                                      json={"target": "challenger", "reason": "影子"}, headers=h["maker"]), 409)
    assert body["code"] == "risk_model_not_promotable"
    listed = client.get(API, headers=h["maker"]).json()["versions"]
    assert listed[0]["pending"] is None

    promote(client, h, 1)
    state = client.get(API, headers=h["checker"]).json()
    assert (state["in_force"], state["threshold"]) == ("fraud_anomaly@1", v1["threshold"])
    assert state["versions"][0]["status"] == "champion"
    # Roles are per purpose: the credit registry still has no champion.
    compared = client.get(f"{MODELS}/comparison", headers=h["maker"]).json()
    assert (compared["champion"], compared["challenger"]) == (None, None)
    used = detection.in_force(session, inst.id)
    assert (used.forest.digest, used.threshold) == (row.sha256, v1["threshold"])

    # A second version, approved, retires the first.
    add_applications(session, inst, borrowers, 1000, 30)
    r = client.post(f"{API}/versions", json={"contamination": 0.02}, headers=h["maker"])
    assert r.status_code == 201, r.text
    assert r.json()["sample"] == 254
    promote(client, h, 2)
    versions = {v["number"]: v["status"] for v in client.get(API, headers=h["maker"]).json()["versions"]}
    assert versions == {1: "retired", 2: "champion"}


def test_a_forest_whose_bytes_fail_their_digest_is_not_served(client, session, world):
    inst, borrowers, h = world
    add_applications(session, inst, borrowers, 0, 210)
    assert client.post(f"{API}/versions", json={}, headers=h["maker"]).status_code == 201
    promote(client, h, 1)
    row = session.scalars(select(RiskModelVersion).where(RiskModelVersion.institution_id == inst.id)).one()
    session.refresh(row, attribute_names=["artefact"])
    tampered = row.artefact.replace(b'"seed":19', b'"seed":20')
    assert tampered != row.artefact
    session.execute(update(RiskModelVersion).where(RiskModelVersion.id == row.id).values(artefact=tampered))
    session.commit()
    detection._forests.clear()
    state = client.get(API, headers=h["maker"]).json()
    assert (state["in_force"], state["threshold"]) == ("builtin", 0.68)
    assert "digest" in state["problem"]


def test_a_credit_artefact_and_a_forest_never_share_a_model_code(client, session, world):
    inst, borrowers, h = world
    add_applications(session, inst, borrowers, 0, 200)
    assert client.post(f"{API}/versions", json={}, headers=h["maker"]).status_code == 201
    r = client.post(MODELS, data={"code": "fraud_anomaly"},
                    files={"artefact": ("model.json", registry_demo.blob(), "application/json")}, headers=h["maker"])
    assert assert_problem(r, 409)["code"] == "risk_model_kind_mismatch"
    assert session.scalar(select(func.count()).select_from(RiskModelVersion)
                          .where(RiskModelVersion.institution_id == inst.id)) == 1
