"""Group lending (小组联保) over HTTP: forming a group (size bounds, one open group per borrower), a
group application (product without group lending refused, amounts checked per member), consent held
until the last member, all submitted and decided in one go, the mutual guarantee recorded, refusal →
member_refused, removal, cancellation, and who sees what.

The automated review is a fake (`support.use_review`): these tests are about the group flow.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from microcredit.lending.money import Money
from microcredit.notifications.models import InboxMessage, OutboxMessage
from microcredit.origination.models import Application, ApplicationGuarantor
from microcredit.parties.models import Branch
from microcredit.risk.assessment import Decision, Outcome, Stage
from tests.factories import make_borrower, make_branch, make_institution, make_staff
from tests.integration.helpers import assert_problem, shared_client, signed_in, snapshot
from tests.integration.origination.support import CLEAN, assessment, publish_product, result, use_review

GROUPS, GA = "/api/v1/groups", "/api/v1/group-applications"


@pytest.fixture
def client(runtime, backend):
    yield from shared_client(runtime, backend)


@pytest.fixture
def world(session, runtime):
    """An institution with a group-lending product (GRP) and one without (FARM), a loan officer and
    six borrowers of the branch, signed in."""
    inst = make_institution(session, runtime)
    branch = make_branch(session, runtime, inst)
    other_branch = make_branch(session, runtime, inst)
    publish_product(session, runtime, inst, code="GRP", group_lending=True, customer_types=["consumer", "farmer"])
    publish_product(session, runtime, inst, code="FARM")
    officer = make_staff(session, runtime, inst, roles=("loan_officer",), branch=branch, password=None)
    people = [make_borrower(session, runtime, inst, branch=branch, password=None, real_name=name)
              for name in ("王大山", "李小红", "张三丰", "赵四", "钱五", "孙六")]
    stranger = make_borrower(session, runtime, inst, branch=other_branch, password=None, real_name="周七")
    ho = signed_in(session, runtime, officer.user)
    hb = [{**signed_in(session, runtime, p.user), "X-Device-Id": f"dev-{i}"} for i, p in enumerate(people)]
    session.commit()
    return {"inst": inst, "officer": officer, "people": people, "stranger": stranger, "ho": ho, "hb": hb}


def _group(client, w, n=3, leader=0, name="城关一组"):
    ids = [p.borrower.id for p in w["people"][:n]]
    r = client.post(GROUPS, headers=w["ho"], json={"name": name, "member_ids": ids, "leader_id": ids[leader]})
    assert r.status_code == 201, r.text
    return r.json()


def _apply(client, w, group, amounts=("5000.00", "6000.00", "7000.00"), product="GRP"):
    members = [{"borrower_id": m["borrower_id"], "amount": a} for m, a in zip(group["member_list"], amounts,
                                                                             strict=True)]
    return client.post(GA, headers=w["ho"], json={"group_id": group["id"], "product_code": product, "term": 6,
                                                  "repayment_method": "equal_installment", "purpose": "agriculture",
                                                  "members": members})


def _consent(client, w, i, app_id):
    return client.post(f"/api/v1/me/applications/{app_id}/consent", headers=w["hb"][i],
                       json={"agree_joint_liability": True})


def test_group_size_bounds_leader_and_one_open_group(client, session, runtime, world):
    w = world
    ids = [p.borrower.id for p in w["people"]]
    two = client.post(GROUPS, headers=w["ho"], json={"name": "两人组", "member_ids": ids[:2], "leader_id": ids[0]})
    assert (two.status_code, two.json()["status"]) == (201, "forming")  # fewer than 3: not active
    # A borrower in an open group joins no other.
    assert_problem(client.post(GROUPS, headers=w["ho"], json={"name": "重复组", "member_ids": [ids[0], ids[2]]}),
                   409)
    g = two.json()
    r = client.post(f"{GROUPS}/{g['id']}/members", headers=w["ho"], json={"borrower_id": ids[2]})
    assert (r.json()["status"], r.json()["members"]) == ("active", 3)
    # A borrower of another branch is refused beside the field.
    r = client.post(f"{GROUPS}/{g['id']}/members", headers=w["ho"],
                    json={"borrower_id": w["stranger"].borrower.id})
    assert r.status_code in (404, 422)
    # The leader leaving: forming again until a new one is chosen.
    r = client.post(f"{GROUPS}/{g['id']}/members/{ids[0]}/remove", headers=w["ho"])
    assert (r.json()["status"], r.json()["leader_borrower_id"]) == ("forming", None)
    r = client.post(f"{GROUPS}/{g['id']}/members", headers=w["ho"], json={"borrower_id": ids[3]})
    r = client.put(f"{GROUPS}/{g['id']}/leader", headers=w["ho"], json={"borrower_id": ids[3]})
    assert r.json()["status"] == "active"
    body = assert_problem(client.put(f"{GROUPS}/{g['id']}/leader", headers=w["ho"], json={"borrower_id": ids[0]}),
                          422)
    assert body["errors"][0]["code"] == "group_leader_not_member"
    # More than 10 at once: refused by the schema; dissolving frees the members.
    assert client.post(GROUPS, headers=w["ho"], json={"name": "大组", "member_ids": list(range(1, 12))}
                       ).status_code == 422
    assert client.post(f"{GROUPS}/{g['id']}/dissolve", headers=w["ho"]).json()["status"] == "dissolved"
    assert client.post(GROUPS, headers=w["ho"], json={"name": "新组", "member_ids": ids[1:4]}).status_code == 201
    assert client.get(GROUPS, headers=w["ho"]).json()["total"] == 2  # the refused one was not made


def test_a_group_of_more_than_ten_is_refused(client, session, runtime, world):
    w = world
    group = _group(client, w, n=6)
    branch = session.get(Branch, group["branch_id"])
    more = [make_borrower(session, runtime, w["inst"], branch=branch, password=None) for _ in range(5)]
    session.commit()
    for m in more[:4]:
        assert client.post(f"{GROUPS}/{group['id']}/members", headers=w["ho"],
                           json={"borrower_id": m.borrower.id}).status_code == 200
    body = assert_problem(client.post(f"{GROUPS}/{group['id']}/members", headers=w["ho"],
                                      json={"borrower_id": more[4].borrower.id}), 422)
    assert (body["field"], body["errors"][0]["code"]) == ("borrower_id", "group_too_large")


def test_product_without_group_lending_is_refused(client, runtime, world):
    w = world
    group = _group(client, w)
    before = snapshot(runtime.db)
    body = assert_problem(_apply(client, w, group, product="FARM"), 422)
    assert (body["field"], body["errors"][0]["code"]) == ("product_code", "product_not_group_lending")
    body = assert_problem(_apply(client, w, group, amounts=("5000.00", "90000.00", "7000.00")), 422)
    assert body["errors"][0]["field"] == "members.1.amount"
    assert before.diff(snapshot(runtime.db)) == {}


def test_held_until_every_member_consents_then_all_submitted_and_guaranteed(client, session, monkeypatch, world):
    w = world
    fake = use_review(monkeypatch, assessment(Decision.APPROVE, grade="B"))
    group = _group(client, w)
    r = _apply(client, w, group)
    assert r.status_code == 201, r.text
    ga = r.json()
    assert ga["status"] == "awaiting_consent"
    apps = {m["borrower_id"]: m["application_id"] for m in ga["members"]}
    assert {m["application_status"] for m in ga["members"]} == {"awaiting_consent"}
    # Each member is asked: an SMS and an in-app notification leading to their application.
    session.expire_all()
    asked = session.scalars(select(InboxMessage).where(InboxMessage.template == "group_consent_requested")).all()
    assert sorted(m.subject_id for m in asked) == sorted(apps.values())
    assert len(session.scalars(select(OutboxMessage).where(OutboxMessage.template == "group_consent_requested")
                               ).all()) == 3

    ids = [p.borrower.id for p in w["people"][:3]]
    # The member's view: the group, co-members masked, amounts; not editable, not submittable by them.
    mine = client.get(f"/api/v1/me/applications/{apps[ids[1]]}/group", headers=w["hb"][1]).json()
    assert (mine["my_amount"], mine["total_amount"]) == ("6000.00", "18000.00")
    assert {m["name_masked"] for m in mine["members"]} == {"王**", "李**", "张**"}
    assert_problem(client.get(f"/api/v1/me/applications/{apps[ids[0]]}/group", headers=w["hb"][1]), 404)
    assert_problem(client.post(f"/api/v1/me/applications/{apps[ids[1]]}/submit", headers=w["hb"][1]), 409)
    assert_problem(client.patch(f"/api/v1/me/applications/{apps[ids[1]]}", headers=w["hb"][1],
                                json={"amount": "1000.00"}), 409)
    assert_problem(client.post(f"/api/v1/me/applications/{apps[ids[0]]}/consent", headers=w["hb"][1],
                               json={"agree_joint_liability": True}), 404)
    body = assert_problem(client.post(f"/api/v1/me/applications/{apps[ids[1]]}/consent", headers=w["hb"][1],
                                      json={"agree_joint_liability": False}), 422)
    assert body["field"] == "agree_joint_liability"

    assert _consent(client, w, 0, apps[ids[0]]).status_code == 200
    assert _consent(client, w, 1, apps[ids[1]]).json()["my_consent"] == "consented"
    assert_problem(_consent(client, w, 1, apps[ids[1]]), 409)  # answered once
    # Two of three: held, nothing submitted.
    session.expire_all()
    assert {a.status for a in session.scalars(select(Application).where(Application.id.in_(apps.values())))} \
        == {"awaiting_consent"}
    assert fake.seen == []

    last = _consent(client, w, 2, apps[ids[2]])
    assert last.status_code == 200, last.text
    assert last.json()["status"] == "submitted"
    detail = client.get(f"{GA}/{ga['id']}", headers=w["ho"]).json()
    assert {m["application_status"] for m in detail["members"]} == {"approved"}
    assert all(m["application_number"] for m in detail["members"])
    assert len(fake.seen) == 3
    # The member's own device and address went to the review, not the officer's.
    assert {f.device_id for f in fake.seen} == {"dev-0", "dev-1", "dev-2"}
    # The mutual guarantee: each application names the two co-members.
    session.expire_all()
    rows = session.scalars(select(ApplicationGuarantor)).all()
    by_app = {}
    for g in rows:
        by_app.setdefault(g.application_id, set()).add(g.guarantor_borrower_id)
    assert by_app == {apps[b]: set(ids) - {b} for b in ids}
    staff_view = client.get(f"/api/v1/applications/{apps[ids[0]]}", headers=w["ho"]).json()
    assert {g["guarantor_borrower_id"] for g in staff_view["guarantors"]} == {ids[1], ids[2]}
    assert {g["guarantor_name"] for g in staff_view["guarantors"]} == {"李小红", "张三丰"}
    assert staff_view["group_application_id"] == ga["id"]


def test_refusal_holds_then_removal_lets_the_rest_proceed(client, session, monkeypatch, world):
    w = world
    use_review(monkeypatch, assessment(Decision.APPROVE, grade="B"))
    group = _group(client, w, n=4)
    ga = _apply(client, w, group, amounts=("5000.00", "6000.00", "7000.00", "8000.00")).json()
    apps = [m["application_id"] for m in ga["members"]]
    for i in (0, 1, 2):
        assert _consent(client, w, i, apps[i]).status_code == 200
    r = client.post(f"/api/v1/me/applications/{apps[3]}/refuse", headers=w["hb"][3])
    assert r.json()["status"] == "member_refused"
    session.expire_all()
    assert session.get(Application, apps[0]).status == "awaiting_consent"  # held: nothing submitted
    listed = client.get(GA, headers=w["ho"], params={"status": "member_refused"}).json()
    assert [(g["id"], g["members"], g["consented"]) for g in listed["items"]] == [(ga["id"], 4, 3)]
    # The officer's to-do counts it until it is resolved.
    def held() -> int | None:
        items = client.get("/api/v1/me/todos", headers=w["ho"]).json()["items"]
        return {t["code"]: t["count"] for t in items}.get("group_applications_member_refused")
    assert held() == 1

    r = client.post(f"{GA}/{ga['id']}/members/{w['people'][3].borrower.id}/remove", headers=w["ho"])
    assert r.status_code == 200, r.text
    assert held() == 0
    body = r.json()
    assert body["status"] == "submitted"
    statuses = {m["borrower_id"]: (m["consent"], m["application_status"]) for m in body["members"]}
    assert statuses[w["people"][3].borrower.id] == ("removed", "withdrawn")
    assert {statuses[p.borrower.id] for p in w["people"][:3]} == {("consented", "approved")}
    # Three remain: removing another is refused.
    assert_problem(client.post(f"{GA}/{ga['id']}/members/{w['people'][0].borrower.id}/remove", headers=w["ho"]),
                   409)


def test_removal_keeps_three_and_cancel_withdraws_all(client, session, world):
    w = world
    group = _group(client, w)
    ga = _apply(client, w, group).json()
    apps = [m["application_id"] for m in ga["members"]]
    client.post(f"/api/v1/me/applications/{apps[0]}/refuse", headers=w["hb"][0])
    body = assert_problem(client.post(f"{GA}/{ga['id']}/members/{w['people'][0].borrower.id}/remove",
                                      headers=w["ho"]), 422)
    assert body["errors"][0]["code"] == "group_too_small"
    r = client.post(f"{GA}/{ga['id']}/cancel", headers=w["ho"])
    assert r.json()["status"] == "cancelled"
    assert {m["application_status"] for m in r.json()["members"]} == {"withdrawn"}
    assert_problem(_consent(client, w, 1, apps[1]), 409)
    # The members are free for a new group application.
    assert _apply(client, w, group).status_code == 201


def test_a_member_withdrawing_counts_as_a_refusal(client, session, world):
    w = world
    group = _group(client, w)
    ga = _apply(client, w, group).json()
    apps = [m["application_id"] for m in ga["members"]]
    r = client.post(f"/api/v1/me/applications/{apps[2]}/withdraw", headers=w["hb"][2], json={})
    assert r.status_code == 200, r.text
    assert client.get(f"{GA}/{ga['id']}", headers=w["ho"]).json()["status"] == "member_refused"


def test_a_member_referred_at_the_offer_is_countered_within_the_group_and_the_rest_go_on(client, session,
                                                                                         runtime, monkeypatch, world):
    """A member whose offer is below what they asked is referred with the offer as `max_amount`; the group is
    submitted and the others are decided as usual. A reviewer counters that member at the offer — the amount,
    never the group's term (one term for the group) — and the member accepts, going on in the review chain;
    the group's guarantees and what each member consented to stay as they were."""
    w = world
    group = _group(client, w)
    approver = make_staff(session, runtime, w["inst"], roles=("approver_l1",),
                          branch=session.get(Branch, group["branch_id"]), password=None)
    hl = signed_in(session, runtime, approver.user)
    session.commit()
    # The affordability result as risk's decision stage stores it (risk/pricing.py's `params`).
    offer = result(Stage.DECISION, "debt_service_ratio", Outcome.FLAG, grade="B", rate="7", asked="6000.00",
                   grade_limit="20000.00", existing="0.00", installment="1043.00", income="2000.00", dsr="52.2",
                   max_dsr="35", dsr_limit="700.00", offer="4000.00", min="1000.00")
    use_review(monkeypatch, assessment(Decision.APPROVE, grade="B"),
               assessment(Decision.REFER, (*CLEAN, offer), grade="B", max_amount=Money.parse("4000.00", "CNY")),
               assessment(Decision.APPROVE, grade="B"))
    ga = _apply(client, w, group).json()
    apps = [m["application_id"] for m in ga["members"]]
    for i, app_id in enumerate(apps):
        assert _consent(client, w, i, app_id).status_code == 200
    detail = client.get(f"{GA}/{ga['id']}", headers=w["ho"]).json()
    assert detail["status"] == "submitted"
    assert [m["application_status"] for m in detail["members"]] == ["approved", "referred", "approved"]
    referred = apps[1]
    mine = client.get(f"/api/v1/me/applications/{referred}", headers=w["hb"][1]).json()
    assert (mine["amount"], mine["offer"], mine["offer_reason"]) == ("6000.00", "4000.00", "debt_service_ratio")
    staff = client.get(f"/api/v1/applications/{referred}", headers=hl).json()
    assert (staff["max_amount"], len(staff["guarantors"])) == ("4000.00", 2)

    # A shorter term would take the member out of the group's one term: refused, nothing changes.
    before = snapshot(runtime.db)
    body = assert_problem(client.post(f"/api/v1/applications/{referred}/review", headers=hl,
                                      json={"action": "counter_offer", "level": 1, "amount": "4000.00", "term": 3}),
                          422)
    assert (body["field"], body["errors"][0]["code"]) == ("term", "counter_offer_group_term")
    assert snapshot(runtime.db).diff(before) == {}
    r = client.post(f"/api/v1/applications/{referred}/review", headers=hl,
                    json={"action": "counter_offer", "level": 1, "amount": "4000.00"})
    assert (r.status_code, r.json()["status"]) == (200, "counter_offered"), r.text
    mine = client.post(f"/api/v1/me/applications/{referred}/counter-offer/accept", headers=w["hb"][1],
                       json={}).json()
    assert (mine["amount"], mine["term"], mine["counter_amount"]) == ("4000.00", 6, None)
    assert mine["timeline"][-1]["reason_code"] == "counter_offer_accepted"
    # Accepted, the member's application goes on in the review chain the product's policy asks for; the group
    # application is not held back by it, nor are the others.
    detail = client.get(f"{GA}/{ga['id']}", headers=w["ho"]).json()
    assert (detail["status"], [m["application_status"] for m in detail["members"]]) == (
        "submitted", ["approved", mine["status"], "approved"])
    # What each member consented to (their part of the group application) is unchanged; the loan is the
    # accepted amount, and a lower amount only lowers what the co-members guarantee.
    assert [m["amount"] for m in detail["members"]] == ["5000.00", "6000.00", "7000.00"]
    session.expire_all()
    assert len(session.scalars(select(ApplicationGuarantor)
                               .where(ApplicationGuarantor.application_id == referred)).all()) == 2
