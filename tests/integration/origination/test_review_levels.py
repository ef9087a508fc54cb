"""The review in levels over HTTP: 初审 → 复审 → 终审 by different people, the refusals (own application,
twice in one chain, a stale level), request for documents, counter-offers, overrides of the model,
the human review of an automatic decline (PIPL Art. 24), the queue's scope and SLA, the to-dos.

The automated review is a fake (`support.use_review`); the product's policy asks for three levels.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from microcredit.config import ReviewSettings
from microcredit.notifications.models import InboxMessage, OutboxMessage
from microcredit.origination.models import ApplicationReview
from microcredit.risk.assessment import Decision, Outcome, Stage
from tests.factories import make_borrower, make_branch, make_institution, make_staff
from tests.integration.helpers import assert_problem, audit_records, shared_client, signed_in
from tests.integration.origination.support import CLEAN, PLAN, assessment, publish_product, result, use_review

ME = "/api/v1/me/applications"
APPS = "/api/v1/applications"
THREE_LEVELS = [{"up_to_amount": "20000.00", "worst_grade": "E", "levels": 3}]


@pytest.fixture
def client(runtime, backend):
    """A client of the worker's app for this backend."""
    yield from shared_client(runtime, backend)


@pytest.fixture
def world(session, runtime):
    """An institution with a three-level product, a branch, a borrower there, a loan officer and approvers."""
    inst = make_institution(session, runtime)
    branch = make_branch(session, runtime, inst)
    publish_product(session, runtime, inst, approval_policy=THREE_LEVELS)
    borrower = make_borrower(session, runtime, inst, branch=branch, password=None, real_name="李四")
    officer = make_staff(session, runtime, inst, roles=("loan_officer",), branch=branch, password=None)

    def staff(*roles: str, at=branch):
        return signed_in(session, runtime, make_staff(session, runtime, inst, roles=roles, branch=at,
                                                      password=None).user)

    w = {"inst": inst, "branch": branch, "borrower": borrower, "h": signed_in(session, runtime, borrower.user),
         "ho": signed_in(session, runtime, officer.user), "officer": officer,
         "l1": staff("approver_l1"), "l1b": staff("approver_l1"), "l2": staff("approver_l2"),
         "l3": staff("approver_l3"), "staff": staff}
    session.commit()
    return w


def _referred(client, w, monkeypatch, *answers, plan=None):
    use_review(monkeypatch, *(answers or (assessment(Decision.REFER, grade="C"),)))
    draft = client.post(ME, headers=w["h"], json={**PLAN, **(plan or {})}).json()
    mine = client.post(f"{ME}/{draft['id']}/submit", headers=w["h"]).json()
    return mine


def _act(client, headers, app_id, action, level, **body):
    return client.post(f"{APPS}/{app_id}/review", headers=headers, json={"action": action, "level": level, **body})


def _sms(session, inst_id):
    session.expire_all()
    return [m.template for m in session.scalars(select(OutboxMessage).where(OutboxMessage.institution_id == inst_id)
                                                .order_by(OutboxMessage.id))]


def test_returned_for_a_document_resubmitted_and_approved_through_three_levels(client, session, world, monkeypatch):
    mine = _referred(client, world, monkeypatch, assessment(Decision.REFER, grade="C"),
                     assessment(Decision.REFER, grade="C"))
    app_id = mine["id"]
    assert (mine["status"], mine["levels_required"], mine["review_level"]) == ("referred", 3, 1)

    # 初审 asks for an income proof: back to the borrower, who resubmits; referred again, a new chain.
    r = _act(client, world["l1"], app_id, "request_documents", 1, needed=["income_proof"], note="请补充流水")
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["level"]) == ("returned", None)
    assert client.get(f"{ME}/{app_id}", headers=world["h"]).json()["needed"] == ["income_proof"]
    mine = client.post(f"{ME}/{app_id}/resubmit", headers=world["h"]).json()
    assert (mine["status"], mine["review_level"]) == ("referred", 1)

    # Three different people, one level each.
    seen = client.get(f"{APPS}/{app_id}/review", headers=world["l1b"]).json()
    assert (seen["chain"], seen["level"], seen["can_act"], seen["refusal"]) == (2, 1, True, None)
    r = _act(client, world["l1b"], app_id, "approve", 1, version=seen["version"], note="初审通过")
    assert (r.status_code, r.json()["status"], r.json()["level"]) == (200, "referred", 2), r.text
    assert client.get(f"{ME}/{app_id}", headers=world["h"]).json()["review_level"] == 2
    r = _act(client, world["l2"], app_id, "approve", 2)
    assert (r.json()["status"], r.json()["level"]) == ("referred", 3)
    r = _act(client, world["l3"], app_id, "approve", 3)
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["level"]) == ("approved", None)

    mine = client.get(f"{ME}/{app_id}", headers=world["h"]).json()
    assert (mine["status"], mine["annual_rate_percent"], mine["amount"]) == ("approved", "8", "8000.00")
    assert mine["decided_at"] is not None
    assert [(e["from_status"], e["to_status"], e["reason_code"]) for e in mine["timeline"][-4:]] == [
        ("submitted", "referred", "referred_to_review"), ("referred", "referred", "level1_approve"),
        ("referred", "referred", "level2_approve"), ("referred", "approved", "level3_approve")]
    steps = [(s.chain, s.level, s.action) for s in session.scalars(
        select(ApplicationReview).where(ApplicationReview.application_id == app_id).order_by(ApplicationReview.id))]
    assert steps == [(1, 1, "request_documents"), (2, 1, "approve"), (2, 2, "approve"), (2, 3, "approve")]
    assert [a.after["level"] for a in audit_records(session, "application.review.approve", app_id)] == [1, 2, 3]
    assert _sms(session, world["inst"].id)[-1] == "application_approved"
    assert "application_returned" in _sms(session, world["inst"].id)
    # Decided: nobody acts on it any more.
    assert assert_problem(_act(client, world["l3"], app_id, "approve", 3), 409)["code"] == "review_stale"


def test_nobody_reviews_their_own_application_or_acts_twice_in_one_chain(client, session, runtime, world,
                                                                        monkeypatch):
    # A loan officer who also approves takes a walk-in: they may not review it.
    both = make_staff(session, runtime, world["inst"], roles=("loan_officer", "approver_l1"), branch=world["branch"],
                      password=None)
    hb = signed_in(session, runtime, both.user)
    session.commit()
    use_review(monkeypatch, assessment(Decision.REFER, grade="C"))
    walk_in = client.post(APPS, headers=hb, json={**PLAN, "borrower_id": world["borrower"].borrower.id}).json()
    client.post(f"{APPS}/{walk_in['id']}/submit", headers=hb)
    assert client.get(f"{APPS}/{walk_in['id']}/review", headers=hb).json()["refusal"] == "review_own_application"
    before = client.get(f"{APPS}/{walk_in['id']}", headers=hb).json()["version"]
    assert assert_problem(_act(client, hb, walk_in["id"], "approve", 1), 403)["code"] == "review_own_application"
    assert client.get(f"{APPS}/{walk_in['id']}", headers=hb).json()["version"] == before
    # Their queue and to-do do not offer what they may not decide; another approver's do.
    def waiting(headers: dict[str, str]) -> tuple[list[int], int]:
        queue = client.get("/api/v1/reviews/queue", headers=headers).json()
        todos = {t["code"]: t["count"] for t in client.get("/api/v1/me/todos", headers=headers).json()["items"]}
        return [i["id"] for i in queue["items"]], todos.get("applications_level1", 0)
    assert waiting(hb) == ([], 0)
    assert waiting(world["l1"]) == ([walk_in["id"]], 1)

    # One person holding two levels acts at one of them only.
    two = world["staff"]("approver_l1", "approver_l2")
    session.commit()
    assert _act(client, two, walk_in["id"], "approve", 1).status_code == 200
    seen = client.get(f"{APPS}/{walk_in['id']}/review", headers=two).json()
    assert (seen["level"], seen["can_act"], seen["refusal"]) == (2, False, "review_twice_in_chain")
    assert client.get("/api/v1/reviews/queue", headers=two, params={"level": 2}).json()["items"] == []
    assert [i["id"] for i in client.get("/api/v1/reviews/queue", headers=world["l2"]).json()["items"]] == [
        walk_in["id"]]
    body = assert_problem(_act(client, two, walk_in["id"], "approve", 2), 403)
    assert body["code"] == "review_twice_in_chain"
    # A level-1 approver cannot act at level 2; a level-2 one can.
    assert assert_problem(_act(client, world["l1"], walk_in["id"], "approve", 2), 403)["code"] == (
        "review_level_not_allowed")
    assert _act(client, world["l2"], walk_in["id"], "approve", 2).status_code == 200


def test_a_stale_level_or_version_is_refused_and_changes_nothing(client, session, world, monkeypatch):
    app_id = _referred(client, world, monkeypatch)["id"]
    seen = client.get(f"{APPS}/{app_id}/review", headers=world["l1"]).json()
    body = assert_problem(_act(client, world["l1"], app_id, "approve", 2), 409)
    assert (body["code"], body["field"]) == ("review_stale", "level")
    assert assert_problem(_act(client, world["l1"], app_id, "approve", 1, version=seen["version"] + 1),
                          409)["code"] == "review_stale"
    assert client.get(f"{APPS}/{app_id}/review", headers=world["l1"]).json()["steps"] == []
    # A draft is not waiting for a review at all.
    draft = client.post(ME, headers=world["h"], json=PLAN).json()
    assert assert_problem(_act(client, world["l1"], draft["id"], "approve", 1), 409)["code"] == (
        "application_wrong_state")


def test_counter_offer_accepted_goes_on_and_rejected_withdraws(client, session, world, monkeypatch):
    app_id = _referred(client, world, monkeypatch)["id"]
    higher = assert_problem(_act(client, world["l1"], app_id, "counter_offer", 1, amount="9000.00"), 422)
    assert higher["errors"][0]["field"] == "amount"
    out_of_range = assert_problem(_act(client, world["l1"], app_id, "counter_offer", 1, term=1), 422)
    assert out_of_range["errors"][0]["field"] == "term"
    r = _act(client, world["l1"], app_id, "counter_offer", 1, amount="5000.00", term=3, note="降低额度")
    assert (r.status_code, r.json()["status"]) == (200, "counter_offered"), r.text
    mine = client.get(f"{ME}/{app_id}", headers=world["h"]).json()
    assert (mine["counter_amount"], mine["counter_term"], mine["amount"]) == ("5000.00", 3, "8000.00")
    assert _sms(session, world["inst"].id)[-1] == "application_counter_offer"
    [inbox] = session.scalars(select(InboxMessage).where(InboxMessage.template == "application_counter_offer",
                                                         InboxMessage.subject_id == app_id)).all()
    assert (inbox.user_id, inbox.params["amount"], inbox.params["term"]) == (world["borrower"].user.id, "5000.00", 3)
    # Nobody acts while the borrower decides.
    assert assert_problem(_act(client, world["l2"], app_id, "approve", 1), 409)["code"] == "review_stale"

    mine = client.post(f"{ME}/{app_id}/counter-offer/accept", headers=world["h"], json={}).json()
    assert (mine["status"], mine["amount"], mine["term"], mine["review_level"]) == ("referred", "5000.00", 3, 2)
    assert (mine["counter_amount"], mine["timeline"][-1]["reason_code"]) == (None, "counter_offer_accepted")
    # The one who made the offer acted at level 1 of this chain.
    l1_and_2 = world["staff"]("approver_l2")
    session.commit()
    assert _act(client, l1_and_2, app_id, "approve", 2).status_code == 200
    assert _act(client, world["l3"], app_id, "approve", 3).json()["status"] == "approved"

    other = _referred(client, world, monkeypatch)["id"]
    _act(client, world["l1"], other, "counter_offer", 1, term=3)
    mine = client.post(f"{ME}/{other}/counter-offer/reject", headers=world["h"], json={"note": "额度不够"}).json()
    assert (mine["status"], mine["timeline"][-1]["reason_code"]) == ("withdrawn", "counter_offer_rejected")
    assert assert_problem(client.post(f"{ME}/{other}/counter-offer/accept", headers=world["h"], json={}),
                          409)["code"] == "application_wrong_state"


def test_overrides_of_the_model_need_a_coded_reason(client, session, world, monkeypatch):
    low = _referred(client, world, monkeypatch, assessment(Decision.REFER, grade="D"))["id"]
    seen = client.get(f"{APPS}/{low}/review", headers=world["l1"]).json()
    assert seen["override_needed"] == ["approve", "counter_offer"]
    body = assert_problem(_act(client, world["l1"], low, "approve", 1), 422)
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("override_reason", "override_reason_required")]
    r = _act(client, world["l1"], low, "approve", 1, override_reason="guarantor_offered")
    assert r.status_code == 200, r.text
    assert r.json()["steps"][-1]["override_reason"] == "guarantor_offered"
    assert audit_records(session, "application.review.approve", low)[0].after["override_reason"] == (
        "guarantor_offered")

    high = _referred(client, world, monkeypatch, assessment(Decision.REFER, grade="A"))["id"]
    no_reason = assert_problem(_act(client, world["l1"], high, "decline", 1, override_reason="adverse_information"),
                               422)
    assert no_reason["errors"][0]["field"] == "reason_code"
    no_override = assert_problem(_act(client, world["l1"], high, "decline", 1, reason_code="high_debt"), 422)
    assert no_override["errors"][0]["field"] == "override_reason"
    assert assert_problem(_act(client, world["l1"], high, "decline", 1, reason_code="nonsense"), 422)
    r = _act(client, world["l1"], high, "decline", 1, reason_code="high_debt", override_reason="adverse_information")
    assert r.json()["status"] == "declined"
    mine = client.get(f"{ME}/{high}", headers=world["h"]).json()
    assert (mine["timeline"][-1]["reason_code"], mine["human_review_available"]) == ("high_debt", False)
    assert _sms(session, world["inst"].id)[-1] == "application_declined"


def _auto_declined(client, world, monkeypatch):
    results = (*CLEAN[:3], result(Stage.KNOCKOUT, "debt_to_income", Outcome.FAIL, ratio="0.72", limit="0.5"),
               result(Stage.FRAUD, "velocity_device", Outcome.FLAG, count=5))
    return _referred(client, world, monkeypatch, assessment(
        Decision.DECLINE, results, score=530, grade="E",
        reasons=("risk.reason.debt_to_income", "risk.reason.inquiries")))


def test_human_review_of_an_automatic_decline_upheld(client, session, world, monkeypatch):
    mine = _auto_declined(client, world, monkeypatch)
    app_id = mine["id"]
    assert (mine["status"], mine["human_review_available"]) == ("declined", True)
    assert mine["score_factors"] == ["risk.reason.debt_to_income", "risk.reason.inquiries"]
    assert "velocity_device" not in str(mine)
    r = client.post(f"{ME}/{app_id}/human-review", headers=world["h"], json={"note": "我已还清其他贷款"})
    assert r.status_code == 200, r.text
    mine = r.json()
    assert (mine["status"], mine["review_level"], mine["human_review"]) == ("human_review", 1, True)
    assert mine["timeline"][-1]["note"] == "我已还清其他贷款"
    assert _sms(session, world["inst"].id)[-1] == "application_human_review"
    again = assert_problem(client.post(f"{ME}/{app_id}/human-review", headers=world["h"], json={}), 409)
    assert again["code"] == "application_wrong_state"

    queue = client.get("/api/v1/reviews/queue", headers=world["l1"]).json()
    assert [(i["id"], i["human_review"], i["level"]) for i in queue["items"]] == [(app_id, True, 1)]
    # Only upheld or overturned: no documents, no counter-offer on a human review.
    assert assert_problem(_act(client, world["l1"], app_id, "counter_offer", 1, term=3, override_reason="other"),
                          409)["code"] == "application_wrong_state"
    r = _act(client, world["l1"], app_id, "decline", 1, reason_code="high_debt", note="负债仍高")
    assert r.json()["status"] == "declined"
    mine = client.get(f"{ME}/{app_id}", headers=world["h"]).json()
    assert (mine["timeline"][-1]["reason_code"], mine["human_review_available"]) == ("human_review_upheld", False)
    assert assert_problem(client.post(f"{ME}/{app_id}/human-review", headers=world["h"], json={}),
                          409)["code"] == "human_review_not_available"


def test_human_review_overturned_is_an_override_and_follows_the_policy(client, session, world, monkeypatch):
    app_id = _auto_declined(client, world, monkeypatch)["id"]
    client.post(f"{ME}/{app_id}/human-review", headers=world["h"], json={})
    assert assert_problem(_act(client, world["l1"], app_id, "approve", 1), 422)["errors"][0]["field"] == (
        "override_reason")
    r = _act(client, world["l1"], app_id, "approve", 1, override_reason="data_error")
    assert (r.json()["status"], r.json()["level"], r.json()["levels_required"]) == ("referred", 2, 3)
    mine = client.get(f"{ME}/{app_id}", headers=world["h"]).json()
    assert mine["timeline"][-1]["reason_code"] == "human_review_overturned"
    assert _act(client, world["l2"], app_id, "approve", 2, override_reason="data_error").status_code == 200
    assert _act(client, world["l3"], app_id, "approve", 3, override_reason="data_error").json()["status"] == (
        "approved")


def test_queue_scope_sla_and_todos(client, session, runtime, world, monkeypatch):
    app_id = _referred(client, world, monkeypatch)["id"]
    elsewhere = world["staff"]("approver_l1", at=make_branch(session, runtime, world["inst"]))
    session.commit()
    assert client.get("/api/v1/reviews/queue", headers=elsewhere).json()["total"] == 0
    assert client.get("/api/v1/reviews/queue", headers=world["l2"]).json()["total"] == 0  # waits at level 1
    assert_problem(client.get("/api/v1/reviews/queue", headers=world["ho"]), 403)  # a loan officer approves nothing
    [item] = client.get("/api/v1/reviews/queue", headers=world["l1"]).json()["items"]
    assert (item["id"], item["level"], item["sla_breached"], item["borrower_name"]) == (app_id, 1, False, "李四")

    def todos(headers):
        return {t["code"]: t["count"] for t in client.get("/api/v1/me/todos", headers=headers).json()["items"]
                if t["code"].startswith("applications_")}

    assert todos(world["l1"]) == {"applications_level1": 1, "applications_sla_breached": 0}
    assert todos(elsewhere) == {"applications_level1": 0, "applications_sla_breached": 0}
    assert todos(world["ho"]) == {}
    runtime.clock.advance(timedelta(hours=25))  # level 1's SLA is 24 hours (sessions idle out: new ones)
    world["l1"], world["l2"] = world["staff"]("approver_l1"), world["staff"]("approver_l2")
    session.commit()
    [item] = client.get("/api/v1/reviews/queue", headers=world["l1"]).json()["items"]
    assert (item["sla_breached"], item["waiting_seconds"]) == (True, 25 * 3600)
    assert todos(world["l1"]) == {"applications_level1": 1, "applications_sla_breached": 1}
    assert client.get("/api/v1/reviews/counts", headers=world["l1"]).json() == {"levels": {"1": 1},
                                                                              "breached": {"1": 1}}
    # Approved at level 1, it enters level 2 now: on time again.
    _act(client, world["l1"], app_id, "approve", 1)
    assert todos(world["l2"]) == {"applications_level2": 1, "applications_sla_breached": 0}
    [item] = client.get("/api/v1/reviews/queue", headers=world["l2"], params={"level": 2}).json()["items"]
    assert (item["level"], item["sla_breached"], item["waiting_seconds"]) == (2, False, 0)


def test_notes_by_any_staff_who_see_it(client, session, world, monkeypatch):
    app_id = _referred(client, world, monkeypatch)["id"]
    r = client.post(f"{APPS}/{app_id}/notes", headers=world["ho"], json={"note": "已电话核实经营情况"})
    assert (r.status_code, r.json()["action"], r.json()["level"]) == (201, "note", None), r.text
    assert assert_problem(client.post(f"{APPS}/{app_id}/notes", headers=world["ho"], json={"note": ""}), 422)
    seen = client.get(f"{APPS}/{app_id}/review", headers=world["l1"]).json()
    assert [(s["action"], s["note"], s["user_name"]) for s in seen["steps"]] == [
        ("note", "已电话核实经营情况", world["officer"].user.display_name)]
    # A note is not an act at a level: its writer may still act.
    assert seen["can_act"] is True
    # The borrower does not reach staff routes, nor another institution's approver.
    assert_problem(client.get(f"{APPS}/{app_id}/review", headers=world["h"]), 403)


def test_an_sla_in_working_hours_stops_overnight(client, session, runtime, world, monkeypatch):
    # 8 working hours at level 1, the working day 09:00-17:30 Shanghai; referred Wednesday 10:00, so
    # 7.5 hours run on Wednesday and the last half hour on Thursday morning: due Thursday 09:30.
    monkeypatch.setattr(runtime.settings, "review", ReviewSettings(level1_sla_hours=8, sla_in_working_hours=True))
    app_id = _referred(client, world, monkeypatch)["id"]
    [item] = client.get("/api/v1/reviews/queue", headers=world["l1"]).json()["items"]
    assert (item["id"], item["sla_due_at"], item["sla_breached"]) == (app_id, "2026-11-26T01:30:00Z", False)

    def breached():
        counts = client.get("/api/v1/reviews/counts", headers=world["l1"]).json()["breached"]["1"]
        [row] = client.get("/api/v1/reviews/queue", headers=world["l1"]).json()["items"]
        review = client.get(f"{APPS}/{app_id}/review", headers=world["l1"]).json()
        assert review["sla_breached"] is row["sla_breached"]  # the one application, three ways of asking
        return counts, row["sla_breached"]

    runtime.clock.advance(timedelta(hours=23, minutes=29))  # Thursday 09:29: 23.5 hours on the wall clock
    world["l1"] = world["staff"]("approver_l1")
    session.commit()
    assert breached() == (0, False)
    runtime.clock.advance(timedelta(minutes=2))  # 09:31
    assert breached() == (1, True)
