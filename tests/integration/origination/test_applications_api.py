"""Applications over HTTP: apply with a plan, submit through the automated review, each decision, the
timeline, withdrawal, wrong-state refusals, field errors, and who sees what.

The automated review is a fake here (`support.use_review`): these tests are about what origination
does with each decision, not about the rules (risk's tests).
"""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import event, select

from microcredit.notifications.models import OutboxMessage
from microcredit.origination.models import Application, ApplicationRuleResult
from microcredit.risk.assessment import Decision, Outcome, Stage
from tests.factories import make_borrower, make_branch, make_institution, make_staff
from tests.integration.helpers import assert_problem, audit_records, shared_client, signed_in, snapshot
from tests.integration.origination.support import CLEAN, PLAN, assessment, publish_product, result, use_review

ME = "/api/v1/me/applications"


@pytest.fixture
def client(runtime, backend):
    """A client of the worker's app for this backend."""
    yield from shared_client(runtime, backend)


@pytest.fixture
def world(session, runtime):
    """An institution with a published product, a branch, a borrower there and a loan officer."""
    inst = make_institution(session, runtime)
    branch = make_branch(session, runtime, inst)
    publish_product(session, runtime, inst)
    borrower = make_borrower(session, runtime, inst, branch=branch, password=None, real_name="王小明")
    officer = make_staff(session, runtime, inst, roles=("loan_officer",), branch=branch, password=None)
    h = {**signed_in(session, runtime, borrower.user), "X-Device-Id": "dev-123"}
    ho = signed_in(session, runtime, officer.user)
    session.commit()
    return {"inst": inst, "branch": branch, "borrower": borrower, "officer": officer, "h": h, "ho": ho}


def _draft(client, h, **changes):
    r = client.post(ME, headers=h, json={**PLAN, **changes})
    assert r.status_code == 201, r.text
    return r.json()


def _sms(session, inst_id):
    session.expire_all()
    return [m.template for m in session.scalars(select(OutboxMessage).where(OutboxMessage.institution_id == inst_id)
                                                .order_by(OutboxMessage.id))]


def test_apply_submit_and_approved_with_every_result_stored(client, session, world, monkeypatch):
    fake = use_review(monkeypatch, assessment(Decision.APPROVE, grade="B", reasons=("income_stable",)))
    draft = _draft(client, world["h"])
    assert (draft["status"], draft["number"], draft["product_version_number"]) == ("draft", None, 1)
    assert (draft["period_unit"], draft["amount"], draft["channel"]) == ("month", "8000.00", "online")
    assert [e["to_status"] for e in draft["timeline"]] == ["draft"]

    r = client.post(f"{ME}/{draft['id']}/submit", headers=world["h"])
    assert r.status_code == 200, r.text
    mine = r.json()
    assert mine["status"] == "approved"
    assert re.fullmatch(rf"{world['inst'].code}-20261125-\d{{6}}", mine["number"]), mine["number"]
    assert mine["annual_rate_percent"] == "7"  # grade B of the product's table
    assert mine["levels_required"] is None
    assert [(e["from_status"], e["to_status"], e["actor"]) for e in mine["timeline"]] == [
        (None, "draft", "borrower"), ("draft", "submitted", "borrower"), ("submitted", "approved", "system")]
    assert "score" not in mine
    assert "results" not in mine
    assert mine["decline_reasons"] == []

    # The facts risk read: the applicant, the plan, the velocity from this table, the device.
    [facts] = fake.seen
    assert (facts.name, facts.id_number, facts.phone) == ("王小明", world["borrower"].id_number,
                                                         world["borrower"].phone)
    assert (facts.region_code, str(facts.birth_date), facts.customer_type) == ("360102", "1990-01-01", "consumer")
    assert (str(facts.amount), facts.term, facts.purpose, str(facts.monthly_spending)) == (
        "8000.00", 6, "agriculture", "2500.00")
    assert facts.required_documents == frozenset({"id_card"})
    assert facts.documents == frozenset()
    assert (facts.velocity.id_number_24h, facts.velocity.phone_24h, facts.velocity.device_24h) == (1, 1, 1)
    assert facts.device_id == "dev-123"
    assert facts.application_number == mine["number"]

    stored = session.scalars(select(ApplicationRuleResult).where(
        ApplicationRuleResult.application_id == draft["id"]).order_by(ApplicationRuleResult.seq)).all()
    assert [(s.submission, s.stage, s.code, s.outcome, s.message) for s in stored] == [
        (1, str(r.stage), r.code, str(r.outcome), r.message) for r in CLEAN]
    assert stored[1].params == {"age": 36}

    staff = client.get(f"/api/v1/applications/{draft['id']}", headers=world["ho"]).json()
    assert (staff["score"], staff["grade"], staff["reasons"], staff["rule_set"]) == (712, "B", ["income_stable"],
                                                                                  "test@1")
    assert len(staff["results"]) == len(CLEAN)
    assert staff["borrower_name"] == "王小明"
    assert _sms(session, world["inst"].id) == ["application_submitted", "application_approved"]
    assert [a.after["status"] for a in audit_records(session, "application.approved", draft["id"])] == ["approved"]
    assert len(audit_records(session, "application.submitted", draft["id"])) == 1


def test_a_decline_tells_the_borrower_the_reasons_but_not_the_score_or_fraud_flags(client, session, world,
                                                                                     monkeypatch):
    results = (*CLEAN[:3], result(Stage.KNOCKOUT, "debt_to_income", Outcome.FAIL, ratio="0.72", limit="0.5"),
               result(Stage.FRAUD, "velocity_device", Outcome.FLAG, count=5))
    use_review(monkeypatch, assessment(Decision.DECLINE, results, score=None, grade=None))
    draft = _draft(client, world["h"])
    mine = client.post(f"{ME}/{draft['id']}/submit", headers=world["h"]).json()
    assert mine["status"] == "declined"
    assert mine["decline_reasons"] == [{"code": "debt_to_income", "message": "risk.rule.debt_to_income",
                                        "params": {"ratio": "0.72", "limit": "0.5"}}]
    assert "velocity_device" not in str(client.get(f"{ME}/{draft['id']}", headers=world["h"]).json())
    assert mine["timeline"][-1]["reason_code"] == "debt_to_income"
    staff = client.get(f"/api/v1/applications/{draft['id']}", headers=world["ho"]).json()
    assert [r["code"] for r in staff["results"] if r["outcome"] == "flag"] == ["velocity_device"]
    assert _sms(session, world["inst"].id) == ["application_submitted", "application_declined"]
    # A decision is final: no withdrawal, no resubmission.
    for action in ("withdraw", "resubmit", "submit"):
        body = assert_problem(client.post(f"{ME}/{draft['id']}/{action}", headers=world["h"], json={}), 409)
        assert body["code"] == "application_wrong_state"


def test_returned_then_edited_and_resubmitted(client, session, world, monkeypatch):
    fake = use_review(monkeypatch, assessment(Decision.RETURN, needed=("income_proof",)),
                      assessment(Decision.APPROVE, grade="A"))
    draft = _draft(client, world["h"])
    mine = client.post(f"{ME}/{draft['id']}/submit", headers=world["h"]).json()
    assert (mine["status"], mine["needed"]) == ("returned", ["income_proof"])
    number = mine["number"]

    r = client.patch(f"{ME}/{draft['id']}", headers=world["h"], json={"monthly_income": "9000.00"})
    assert r.status_code == 200, r.text
    assert_problem(client.post(f"{ME}/{draft['id']}/submit", headers=world["h"]), 409)  # a returned one resubmits
    mine = client.post(f"{ME}/{draft['id']}/resubmit", headers=world["h"]).json()
    assert (mine["status"], mine["number"], mine["annual_rate_percent"], mine["needed"]) == (
        "approved", number, "6", [])
    assert [e["to_status"] for e in mine["timeline"]] == ["draft", "submitted", "returned", "submitted", "approved"]
    assert str(fake.seen[1].monthly_income) == "9000.00"
    stored = {s for s in session.scalars(select(ApplicationRuleResult.submission).where(
        ApplicationRuleResult.application_id == draft["id"]))}
    assert stored == {1, 2}
    assert _sms(session, world["inst"].id) == ["application_submitted", "application_returned",
                                               "application_submitted", "application_approved"]
    assert_problem(client.patch(f"{ME}/{draft['id']}", headers=world["h"], json={"term": 9}), 409)


def test_referred_keeps_the_levels_the_policy_asks_for_and_can_be_withdrawn(client, session, world, monkeypatch):
    use_review(monkeypatch, assessment(Decision.REFER, grade="D"))
    draft = _draft(client, world["h"], amount="4000.00")
    mine = client.post(f"{ME}/{draft['id']}/submit", headers=world["h"]).json()
    # 4,000 at grade D: the first row (≤ 5,000, no worse than C) does not cover D; the second asks 2 levels.
    assert (mine["status"], mine["levels_required"]) == ("referred", 2)
    r = client.post(f"{ME}/{draft['id']}/withdraw", headers=world["h"], json={"note": "不需要了"})
    assert r.status_code == 200, r.text
    last = r.json()["timeline"][-1]
    assert (last["from_status"], last["to_status"], last["reason_code"], last["note"]) == (
        "referred", "withdrawn", "withdrawn_by_borrower", "不需要了")
    assert len(audit_records(session, "application.withdrawn", draft["id"])) == 1


def test_a_draft_is_withdrawn_and_then_nothing_moves_it(client, session, world, monkeypatch):
    use_review(monkeypatch, assessment(Decision.APPROVE))
    draft = _draft(client, world["h"])
    assert client.post(f"{ME}/{draft['id']}/withdraw", headers=world["h"], json={}).json()["status"] == "withdrawn"
    for action in ("submit", "withdraw"):
        body = assert_problem(client.post(f"{ME}/{draft['id']}/{action}", headers=world["h"], json={}), 409)
        assert (body["code"], body["field"]) == ("application_wrong_state", "status")


def test_the_plan_is_checked_field_by_field_against_the_product_version(client, session, runtime, world):
    h = world["h"]
    body = assert_problem(client.post(ME, headers=h, json={**PLAN, "amount": "50000.00", "term": 24,
                                                           "repayment_method": "bullet"}), 422)
    fields = {e["field"]: e["code"] for e in body["errors"]}
    assert fields == {"amount": "amount_out_of_range", "term": "term_out_of_range",
                      "repayment_method": "method_not_offered"}
    assert assert_problem(client.post(ME, headers=h, json={**PLAN, "product_code": "NOPE"}), 404)["field"] == \
        "product_code"
    assert assert_problem(client.post(ME, headers=h, json={**PLAN, "amount": 8000}), 422)["errors"][0]["field"] == \
        "amount"
    publish_product(session, runtime, world["inst"], code="YOUNG", age_max=30, customer_types=["farmer"])
    session.commit()
    body = assert_problem(client.post(ME, headers=h, json={**PLAN, "product_code": "YOUNG"}), 422)
    assert {e["field"]: e["code"] for e in body["errors"]} == {"age": "age_not_eligible",
                                                               "customer_type": "customer_type_not_eligible"}
    draft = _draft(client, h)
    body = assert_problem(client.patch(f"{ME}/{draft['id']}", headers=h, json={"term": 2}), 422)
    assert (body["field"], body["errors"][0]["code"]) == ("term", "term_out_of_range")


def test_prefilled_from_the_profile(client, session, runtime):
    from microcredit.lending.money import Money

    inst = make_institution(session, runtime)
    publish_product(session, runtime, inst)
    farmer = make_borrower(session, runtime, inst, password=None, customer_type="farmer",
                           monthly_income=Money.parse("6500.00", "CNY"))
    h = signed_in(session, runtime, farmer.user)
    session.commit()
    draft = _draft(client, h)
    assert (draft["monthly_income"], draft["employment"], draft["branch_id"]) == ("6500.00", "farmer", None)


def test_a_borrower_sees_only_their_own_applications(client, session, runtime, world, monkeypatch):
    use_review(monkeypatch, assessment(Decision.APPROVE))
    mine = _draft(client, world["h"])
    other = make_borrower(session, runtime, world["inst"], branch=world["branch"], password=None)
    ho = signed_in(session, runtime, other.user)
    session.commit()
    theirs = _draft(client, ho)
    assert [a["id"] for a in client.get(ME, headers=world["h"]).json()["items"]] == [mine["id"]]
    before = snapshot(runtime.db)
    for method, url in (("GET", f"{ME}/{theirs['id']}"), ("PATCH", f"{ME}/{theirs['id']}"),
                        ("POST", f"{ME}/{theirs['id']}/submit"), ("POST", f"{ME}/{theirs['id']}/withdraw")):
        assert_problem(client.request(method, url, headers=world["h"], json={}), 404)
    assert before.diff(snapshot(runtime.db)) == {}
    assert_problem(client.get(f"/api/v1/applications/{mine['id']}", headers=world["h"]), 403)


def test_walk_in_by_a_loan_officer_listed_and_counted_in_scope(client, session, runtime, world, monkeypatch):
    use_review(monkeypatch, assessment(Decision.REFER, grade="C"), assessment(Decision.APPROVE))
    ho = world["ho"]
    r = client.post("/api/v1/applications", headers=ho, json={**PLAN, "borrower_id": world["borrower"].borrower.id})
    assert r.status_code == 201, r.text
    walk_in = r.json()
    assert (walk_in["channel"], walk_in["officer_user_id"], walk_in["branch_id"]) == (
        "walk_in", world["officer"].user.id, world["branch"].id)
    decided = client.post(f"/api/v1/applications/{walk_in['id']}/submit", headers=ho).json()
    assert decided["status"] == "referred"
    assert decided["timeline"][1]["actor"] == "staff"
    _draft(client, world["h"])

    page = client.get("/api/v1/applications", headers=ho).json()
    assert page["total"] == 2
    assert {a["borrower_name"] for a in page["items"]} == {"王小明"}
    assert [a["id"] for a in client.get("/api/v1/applications", headers=ho,
                                        params={"status": "referred"}).json()["items"]] == [walk_in["id"]]
    assert client.get("/api/v1/applications", headers=ho, params={"product_code": "NONE"}).json()["total"] == 0
    on_day = client.get("/api/v1/applications", headers=ho, params={"date_from": "2026-11-25",
                                                                    "date_to": "2026-11-25"}).json()
    assert on_day["total"] == 2  # the test clock's wall time is that business day in Shanghai
    counts = client.get("/api/v1/applications/counts", headers=ho).json()
    assert (counts["counts"]["referred"], counts["counts"]["draft"], counts["total"]) == (1, 1, 2)

    # Another branch's officer neither lists nor reaches them.
    elsewhere = make_staff(session, runtime, world["inst"], roles=("loan_officer",),
                           branch=make_branch(session, runtime, world["inst"]), password=None)
    he = signed_in(session, runtime, elsewhere.user)
    session.commit()
    assert client.get("/api/v1/applications", headers=he).json()["total"] == 0
    assert_problem(client.get(f"/api/v1/applications/{walk_in['id']}", headers=he), 404)
    assert_problem(client.post(f"/api/v1/applications/{walk_in['id']}/withdraw", headers=he, json={}), 404)
    r = client.post(f"/api/v1/applications/{walk_in['id']}/withdraw", headers=ho, json={"note": "客户放弃"})
    assert r.json()["timeline"][-1]["reason_code"] == "withdrawn_by_staff"


def test_a_referred_application_is_a_to_do_of_the_approvers_in_scope(client, session, runtime, world, monkeypatch):
    def waiting(headers: dict[str, str]) -> int | None:
        items = client.get("/api/v1/me/todos", headers=headers).json()["items"]
        return next((t["count"] for t in items if t["code"] == "applications_level1"), None)

    approver = signed_in(session, runtime, make_staff(session, runtime, world["inst"], roles=("approver_l1",),
                                                      branch=world["branch"], password=None).user)
    other_branch = signed_in(session, runtime, make_staff(
        session, runtime, world["inst"], roles=("approver_l1",), branch=make_branch(session, runtime, world["inst"]),
        password=None).user)
    session.commit()
    assert waiting(approver) == 0
    use_review(monkeypatch, assessment(Decision.REFER, grade="C"))
    r = client.post("/api/v1/applications", headers=world["ho"],
                    json={**PLAN, "borrower_id": world["borrower"].borrower.id})
    client.post(f"/api/v1/applications/{r.json()['id']}/submit", headers=world["ho"])
    assert waiting(approver) == 1
    assert waiting(other_branch) == 0  # another branch's approver does not see it
    assert waiting(world["ho"]) is None  # a loan officer does not approve: no such to-do at all


def test_velocity_counts_each_identifier_over_its_window(client, session, world, monkeypatch):
    fake = use_review(monkeypatch, assessment(Decision.REFER))
    for device in ("dev-1", "dev-1", "dev-2"):
        draft = _draft(client, {**world["h"], "X-Device-Id": device})
        assert client.post(f"{ME}/{draft['id']}/submit", headers=world["h"]).status_code == 200
    third = fake.seen[-1].velocity
    # This one included: three from the ID number and the phone, one from its device, and the
    # test client's address on all three.
    assert (third.id_number_24h, third.id_number_30d, third.phone_24h) == (3, 3, 3)
    assert (third.device_24h, third.ip_24h) == (1, 3)
    assert fake.seen[1].velocity.device_24h == 2
    # A draft never submitted does not count.
    _draft(client, world["h"])
    draft = _draft(client, world["h"])
    client.post(f"{ME}/{draft['id']}/submit", headers=world["h"])
    assert fake.seen[-1].velocity.id_number_24h == 4


def test_a_submission_writes_the_application_once_and_counts_itself_once(client, session, world, monkeypatch):
    """The application's row is written once a submission (the submission and its decision in one UPDATE, after
    the review); the velocity counts add the submission themselves — once, on a resubmission too."""
    fake = use_review(monkeypatch, assessment(Decision.RETURN, needed=("income_proof",)), assessment(Decision.REFER))
    draft = _draft(client, {**world["h"], "X-Device-Id": "dev-9"})
    updates: list[str] = []

    def count(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("UPDATE APPLICATIONS "):
            updates.append(statement)

    engine = session.get_bind()  # the test's connection, which the requests use too
    event.listen(engine, "before_cursor_execute", count)
    try:
        for action in ("submit", "resubmit"):
            r = client.post(f"{ME}/{draft['id']}/{action}", headers=world["h"])
            assert r.status_code == 200, r.text
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(updates) == 2
    assert [r["to_status"] for r in r.json()["timeline"]] == ["draft", "submitted", "returned", "submitted",
                                                               "referred"]
    assert [(f.velocity.id_number_24h, f.velocity.phone_24h, f.velocity.device_24h) for f in fake.seen] == [
        (1, 1, 1), (1, 1, 1)]
    session.expire_all()
    stored = session.get(Application, draft["id"])
    assert (stored.status, stored.submissions, stored.decision) == ("referred", 2, "refer")


def test_a_submission_flushes_nothing_and_answers_what_the_orm_reads_back(client, session, world, monkeypatch):
    """The decision's writes are Core statements (the application's UPDATE, the timeline, the messages): nothing is
    left for an ORM flush, and the answer is what the ORM reads back afterwards — the version the row has, the
    timeline byte for byte as the ORM's objects give it; a write over a version changed meanwhile fails as the
    ORM's would."""
    from sqlalchemy.orm import Session
    from sqlalchemy.orm.exc import StaleDataError

    from microcredit.origination import repository
    from microcredit.origination.models import ApplicationEvent
    from microcredit.origination.schemas import EventRead

    use_review(monkeypatch, assessment(Decision.RETURN, needed=("income_proof",)), assessment(Decision.APPROVE))
    draft = _draft(client, world["h"])
    flushed: list[str] = []

    def count(flushing, context, instances):
        flushed.extend(type(o).__name__ for o in (*flushing.new, *flushing.dirty))

    event.listen(Session, "before_flush", count)
    try:
        answers = [client.post(f"{ME}/{draft['id']}/{action}", headers=world["h"]) for action in ("submit", "resubmit")]
    finally:
        event.remove(Session, "before_flush", count)
    assert [r.status_code for r in answers] == [200, 200], answers[-1].text
    assert "Application" not in flushed
    session.expire_all()
    stored = session.get(Application, draft["id"])
    assert (stored.status, stored.version) == ("approved", draft["version"] + 2)
    assert answers[-1].json()["version"] == stored.version
    orm = [EventRead.model_validate(e).model_dump_json() for e in session.scalars(
        select(ApplicationEvent).where(ApplicationEvent.application_id == draft["id"]).order_by(ApplicationEvent.id))]
    assert [EventRead.model_validate(e).model_dump_json() for e in repository.events_of(session, draft["id"])] == orm
    assert answers[-1].json()["timeline"] == [json.loads(e) for e in orm]
    assert len(orm) == 5

    other = session.get(Application, draft["id"])
    session.execute(Application.__table__.update().where(Application.__table__.c.id == other.id)
                    .values(version=other.version + 1))
    other.purpose_note = "changed meanwhile"
    with pytest.raises(StaleDataError):
        repository.write_changes(session, other)
    session.rollback()


def test_numbers_follow_the_business_date_in_force_from_one_each_day(client, session, world, monkeypatch):
    """The counter's UPDATE reads the institution's business date in force itself: the numbers of a day run on,
    and the first submission after close of business moved the date starts the new day's count at 1 (its row
    inserted), the next one raised from it."""
    from datetime import timedelta

    from microcredit.parties.models import Institution

    use_review(monkeypatch, *(assessment(Decision.APPROVE) for _ in range(4)))
    drafts = [_draft(client, world["h"]) for _ in range(4)]

    def submit(draft):
        r = client.post(f"{ME}/{draft['id']}/submit", headers=world["h"])
        assert r.status_code == 200, r.text
        return r.json()["number"]

    day = world["inst"].business_date
    first = [submit(d) for d in drafts[:2]]
    session.execute(Institution.__table__.update().where(Institution.__table__.c.id == world["inst"].id)
                    .values(business_date=day + timedelta(days=1)))
    session.commit()
    then = [submit(d) for d in drafts[2:]]
    code = world["inst"].code
    n = int(first[0].rsplit("-", 1)[1])
    assert first == [f"{code}-{day:%Y%m%d}-{n:06d}", f"{code}-{day:%Y%m%d}-{n + 1:06d}"]
    assert then == [f"{code}-{day + timedelta(days=1):%Y%m%d}-{i:06d}" for i in (1, 2)]


def test_submissions_are_rate_limited_per_user(client, session, runtime, world, monkeypatch):
    use_review(monkeypatch, assessment(Decision.APPROVE))
    monkeypatch.setattr(runtime.settings.rate_limits, "application_submit_per_user_per_hour", 2)
    drafts = [_draft(client, world["h"]) for _ in range(3)]
    assert [client.post(f"{ME}/{d['id']}/submit", headers=world["h"]).status_code for d in drafts] == [200, 200, 429]
    session.expire_all()
    assert session.get(Application, drafts[2]["id"]).status == "draft"


def test_without_a_fake_the_submission_goes_through_risks_review(client, session, world):
    """The routes' default review is risk's: its rule set decides and every result it gave is stored."""
    draft = _draft(client, world["h"])
    r = client.post(f"{ME}/{draft['id']}/submit", headers=world["h"])
    assert r.status_code == 200, r.text
    mine = r.json()
    assert mine["status"] in ("approved", "declined", "referred", "returned")
    staff = client.get(f"/api/v1/applications/{draft['id']}", headers=world["ho"]).json()
    assert staff["rule_set"]
    assert staff["decision"] == {"approved": "approve", "declined": "decline",
                                                       "referred": "refer", "returned": "return"}[mine["status"]]
    assert staff["results"], staff
    assert {x["stage"] for x in staff["results"]} <= {str(s) for s in Stage}
    assert {x["outcome"] for x in staff["results"]} <= {str(o) for o in Outcome}
    # The product asks for an ID card, none is on file, and no income was given: the review asks for both.
    assert (mine["status"], mine["needed"]) == ("returned", ["id_card", "monthly_income"])
