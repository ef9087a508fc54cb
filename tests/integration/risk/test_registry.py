"""The model registry on real databases: register, maker–checker promotion, the champion decides, the shadow.

Two risk officers: one proposes, the other approves; the proposer never approves their own. The
champion's score is the assessment's; the challenger's is stored beside it and never decides; an
artefact whose bytes no longer match their hash is not served.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from sqlalchemy import select, update

from microcredit.integrations.behaviour import SimulatedBehaviourSource
from microcredit.integrations.bureau import SimulatedBureau
from microcredit.risk import evaluation, features, samples
from microcredit.risk import service as risk
from microcredit.risk.assessment import Decision, Outcome
from microcredit.risk.learning import artefact
from microcredit.risk.registry import demo
from microcredit.risk.registry.models import RiskModelScore, RiskModelVersion
from microcredit.risk.registry.service import serving
from tests.factories import make_institution, make_staff
from tests.integration.helpers import assert_problem, audit_records, shared_client, signed_in, snapshot

API = "/api/v1/risk"


@pytest.fixture
def client(runtime, backend):
    yield from shared_client(runtime, backend)


@pytest.fixture
def world(session, runtime):
    inst = make_institution(session, runtime)
    maker = make_staff(session, runtime, inst, roles=("risk_officer",), password=None)
    checker = make_staff(session, runtime, inst, roles=("risk_officer",), password=None)
    officer = make_staff(session, runtime, inst, roles=("loan_officer",), password=None)
    h = {"maker": signed_in(session, runtime, maker.user), "checker": signed_in(session, runtime, checker.user),
         "officer": signed_in(session, runtime, officer.user)}
    session.commit()
    serving.clear_cache()
    return inst, h


def register(client, headers, variant, code="retail_scorecard", report=True):
    files = {"artefact": ("model.json", demo.blob(variant), "application/json")}
    if report:
        files["report"] = ("report.json", json.dumps(demo.report(variant)).encode(), "application/json")
    return client.post(f"{API}/models", data={"code": code}, files=files, headers=headers)


def promote(client, h, number, target):
    p = client.post(f"{API}/models/retail_scorecard/versions/{number}/promotions", headers=h["maker"],
                    json={"target": target, "reason": "验证报告通过"})
    assert p.status_code == 201, p.text
    r = client.post(f"{API}/models/promotions/{p.json()['id']}/approve", headers=h["checker"],
                    json={"reason": "复核同意"})
    assert r.status_code == 200, r.text
    return r.json()


def test_register_propose_approve_and_the_champion_decides(client, session, world, database):
    inst, h = world
    r = register(client, h["maker"], 1)
    assert r.status_code == 201, r.text
    v1 = r.json()
    assert (v1["number"], v1["status"], v1["sha256"]) == (1, "draft", artefact.digest(demo.blob(1)))
    assert v1["metrics"]["auc"] == pytest.approx(0.752)
    assert "inquiries_3m" in v1["features"]
    assert register(client, h["maker"], 2).json()["number"] == 2
    listed = client.get(f"{API}/models", headers=h["checker"]).json()
    assert [(m["code"], m["kind"], [v["number"] for v in m["versions"]]) for m in listed] == [
        ("retail_scorecard", "scorecard", [2, 1])]
    detail = client.get(f"{API}/models/retail_scorecard/versions/1", headers=h["checker"]).json()
    assert detail["integrity"] == "ok"
    assert detail["report"]["roc"]["fpr"][0] == 0
    assert detail["labels"]["dti_pct"]["zh-CN"] == "贷后负债收入比"

    # Without a champion the interim scorer decides, and no model score is stored.
    facts = samples.base_facts(institution_id=inst.id)
    interim = risk.assess(session, facts)
    assert all(r.startswith("risk.reason.") for r in interim.reasons)
    assert not session.scalars(select(RiskModelScore)).all()

    # Maker–checker: the proposer cannot approve; nothing changes.
    p = client.post(f"{API}/models/retail_scorecard/versions/1/promotions", headers=h["maker"],
                    json={"target": "champion", "reason": "首个冠军模型"})
    assert p.status_code == 201, p.text
    assert_problem(client.post(f"{API}/models/retail_scorecard/versions/1/promotions", headers=h["maker"],
                               json={"target": "champion", "reason": "再次"}), 409)
    before = snapshot(database)
    refused = assert_problem(client.post(f"{API}/models/promotions/{p.json()['id']}/approve", headers=h["maker"],
                                         json={"reason": "自己批"}), 403)
    assert refused["code"] == "self_approval"
    assert_problem(client.post(f"{API}/models/promotions/{p.json()['id']}/approve", headers=h["officer"],
                               json={"reason": "越权"}), 403)
    assert not before.diff(snapshot(database))
    approved = client.post(f"{API}/models/promotions/{p.json()['id']}/approve", headers=h["checker"],
                           json={"reason": "复核同意"})
    assert approved.status_code == 200, approved.text
    assert (approved.json()["status"], approved.json()["replaced"]) == ("approved", None)
    assert_problem(client.post(f"{API}/models/promotions/{p.json()['id']}/reject", headers=h["checker"],
                               json={"reason": "晚了"}), 409)
    assert len(audit_records(session, "risk_model.promotion_approved")) == 1

    # The champion decides: the assessment's score is the model's score of the point-in-time row.
    facts = replace(facts, application_number="MC-REG-1")
    assessed = risk.assess(session, facts)
    model = artefact.load(demo.blob(1), artefact.digest(demo.blob(1)))
    on = facts.submitted_at.date()
    row = features.features(facts, on=on, report=SimulatedBureau().report(id_number=facts.id_number,
                                                                           name=facts.name, on=on),
                            behaviour=SimulatedBehaviourSource().data(id_number=facts.id_number, until=on))
    expected = model.score_one(row)
    assert (assessed.score, assessed.grade) == (expected.points, expected.grade)
    assert assessed.reasons == tuple(f"risk.reason.{f}" for f in expected.reasons)
    scores = client.get(f"{API}/model-scores", params={"application_number": "MC-REG-1"}, headers=h["officer"])
    assert scores.status_code == 200, scores.text
    [champion] = scores.json()
    assert (champion["model"], champion["role"], champion["points"]) == ("retail_scorecard@1", "champion",
                                                                         expected.points)
    assert champion["decision"] == str(assessed.decision)
    assert all(w["zh-CN"] and w["en"] for w in champion["reasons"])

    # A challenger scores in the shadow: stored, never deciding.
    promote(client, h, 2, "challenger")
    shadowed = risk.assess(session, replace(facts, application_number="MC-REG-2"))
    assert (shadowed.score, shadowed.grade) == (assessed.score, assessed.grade)
    rows = client.get(f"{API}/model-scores", params={"application_number": "MC-REG-2"}, headers=h["officer"]).json()
    assert [(r["model"], r["role"]) for r in rows] == [("retail_scorecard@1", "champion"),
                                                       ("retail_scorecard@2", "challenger")]
    assert rows[1]["points"] != rows[0]["points"]
    comparison = client.get(f"{API}/models/comparison", headers=h["checker"]).json()
    assert (comparison["champion"], comparison["challenger"], comparison["applications"]) == (
        "retail_scorecard@1", "retail_scorecard@2", 1)
    assert comparison["mean_point_difference"] == rows[1]["points"] - rows[0]["points"]
    drift = client.get(f"{API}/models/retail_scorecard/versions/1/drift", headers=h["checker"]).json()
    assert drift["applications"] == 2
    assert drift["psi"] is not None
    assert len(drift["bands"]) == 5

    # The challenger becomes champion: the old champion is retired in the same transaction.
    result = promote(client, h, 2, "champion")
    assert result["replaced"] == "retail_scorecard@1"
    statuses = {v["number"]: v["status"]
                for v in client.get(f"{API}/models", headers=h["maker"]).json()[0]["versions"]}
    assert statuses == {1: "retired", 2: "champion"}
    assert risk.assess(session, replace(facts, application_number="MC-REG-3")).score == rows[1]["points"]
    # A retired version never returns; the champion is not retired alone.
    assert_problem(client.post(f"{API}/models/retail_scorecard/versions/1/promotions", headers=h["maker"],
                               json={"target": "challenger", "reason": "回来"}), 409)
    assert_problem(client.post(f"{API}/models/retail_scorecard/versions/2/retire", headers=h["maker"],
                               json={"reason": "停用"}), 409)


def test_a_tampered_artefact_is_not_served_and_people_decide(client, session, world):
    inst, h = world
    register(client, h["maker"], 1)
    promote(client, h, 1, "champion")
    facts = samples.base_facts(institution_id=inst.id)
    assert risk.assess(session, facts).decision == Decision.APPROVE
    tampered = demo.blob(1).replace(b'"base_points":480', b'"base_points":880')
    session.execute(update(RiskModelVersion).values(artefact=tampered))
    session.commit()
    serving.clear_cache()  # a new process: nothing verified yet
    detail = client.get(f"{API}/models/retail_scorecard/versions/1", headers=h["checker"]).json()
    assert detail["integrity"] == "mismatch"
    assert detail["labels"] == {}
    assessed = risk.assess(session, replace(facts, application_number="MC-TAMPER"))
    assert assessed.decision == Decision.REFER
    flag = [r for r in assessed.results if r.code == "model_unavailable"]
    assert flag
    assert flag[0].outcome == Outcome.FLAG
    assert flag[0].params["model"] == "retail_scorecard@1"
    report = SimulatedBureau().report(id_number=facts.id_number, name=facts.name, on=facts.submitted_at.date())
    bureau = evaluation.bureau_variables(report)
    interim = evaluation.score_of(facts, bureau, evaluation.dti_pct(facts, bureau))
    assert (assessed.score, assessed.grade) == (interim.points, interim.grade)  # the interim scorer's
    assert [r.application_number for r in session.scalars(select(RiskModelScore))] == [facts.application_number]


def test_bad_input_is_refused_with_a_field_and_nothing_changes(client, session, world, database):
    _inst, h = world
    before = snapshot(database)
    for blob, field in ((b"\x80\x04\x95pickle", "artefact"), (b'{"format": "sklearn.pickle"}', "artefact"),
                        (b"", "artefact")):
        r = client.post(f"{API}/models", data={"code": "x"}, headers=h["maker"],
                        files={"artefact": ("model.json", blob, "application/json")})
        problem = assert_problem(r, 422)
        assert problem["code"] == "risk_model_artefact_invalid"
        assert field in json.dumps(problem)
    r = client.post(f"{API}/models", data={"code": "x"}, headers=h["maker"],
                    files={"artefact": ("model.json", demo.blob(1), "application/json"),
                           "report": ("report.json", b"[1, 2]", "application/json")})
    assert assert_problem(r, 422)["code"] == "risk_model_report_invalid"
    assert_problem(client.post(f"{API}/models", data={"code": "Bad Code!"}, headers=h["maker"],
                               files={"artefact": ("model.json", demo.blob(1), "application/json")}), 422)
    assert_problem(client.post(f"{API}/models/nope/versions/1/promotions", headers=h["maker"],
                               json={"target": "champion", "reason": "不存在"}), 404)
    assert not before.diff(snapshot(database))
    register(client, h["maker"], 1)
    before = snapshot(database)
    assert_problem(client.post(f"{API}/models/retail_scorecard/versions/1/promotions", headers=h["maker"],
                               json={"target": "boss", "reason": "x"}), 422)
    assert_problem(client.post(f"{API}/models/retail_scorecard/versions/1/promotions", headers=h["maker"],
                               json={"target": "champion", "reason": ""}), 422)
    assert not before.diff(snapshot(database))


def test_a_rejected_proposal_changes_nothing_but_its_answer(client, session, world):
    _inst, h = world
    register(client, h["maker"], 1)
    p = client.post(f"{API}/models/retail_scorecard/versions/1/promotions", headers=h["maker"],
                    json={"target": "challenger", "reason": "试运行"}).json()
    assert assert_problem(client.post(f"{API}/models/promotions/{p['id']}/reject", headers=h["maker"],
                                      json={"reason": "自己驳回"}), 403)["code"] == "self_approval"
    r = client.post(f"{API}/models/promotions/{p['id']}/reject", headers=h["checker"], json={"reason": "KS 偏低"})
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["decision_reason"]) == ("rejected", "KS 偏低")
    v = client.get(f"{API}/models/retail_scorecard/versions/1", headers=h["maker"]).json()
    assert v["status"] == "draft"
    assert [x["status"] for x in v["promotions"]] == ["rejected"]
    retired = client.post(f"{API}/models/retail_scorecard/versions/1/retire", headers=h["maker"],
                          json={"reason": "不再使用"})
    assert retired.json()["status"] == "retired"
    assert len(audit_records(session, "risk_model.promotion_rejected")) == 1
    assert len(audit_records(session, "risk_model.retired")) == 1
