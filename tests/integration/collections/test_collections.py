"""Collections over HTTP on loans made late by real operations (open, sign, disburse, move the business
date, `advance`): cases opened, escalated and closed by the sync; the compliance gates at their edges
(quiet hours 21:59 / 22:00 / 07:59 / 08:00, the 3rd and 4th effective call, the 6th and 7th attempt),
third parties, prohibited phrases, the notice before a bureau report; promises kept and broken."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from microcredit.collections import repository as repo
from microcredit.collections import service as collections
from microcredit.lending.money import Money
from microcredit.notifications import service as outbox
from microcredit.notifications.models import OutboxMessage
from microcredit.parties import service as parties
from microcredit.platform.actor import Actor
from microcredit.risk.assessment import Decision
from microcredit.servicing.service import loans
from tests.factories import make_borrower, make_branch, make_institution, make_staff, next_id_number, next_phone
from tests.integration.helpers import (
    assert_problem,
    idempotency_key,
    outbox_timer,
    shared_client,
    sign_contract,
    signed_in,
    snapshot,
)
from tests.integration.origination.support import PLAN, assessment, publish_product, use_review

C = "/api/v1/collections"


@pytest.fixture
def client(runtime, backend):
    """A client of the worker's app for this backend."""
    yield from shared_client(runtime, backend)


def shanghai(day: date, hh: int, mm: int) -> datetime:
    """A wall-clock time in Shanghai (UTC+8), as UTC."""
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=UTC) - timedelta(hours=8)


def at(session, runtime, world, when):
    """Put the clock at `when` and sign the staff in again (sessions expire while the clock moves)."""
    runtime.clock.set(when)
    for name in ("hc", "hm", "hf", "ho"):
        world[name] = signed_in(session, runtime, world["users"][name])
    session.commit()


def move_to(session, runtime, world, day):
    """Move the business date and bring the loan's books to it (what the close of business does)."""
    inst = world["inst"]
    parties.organisation.set_business_date_as(session=session, clock=runtime.clock, actor=Actor.system(inst.id),
                                              institution_id=inst.id, new_date=day, override_allowed=True)
    loans.advance(session=session, clock=runtime.clock, actor=Actor.system(inst.id), institution_id=inst.id,
                  loan_id=world["loan_id"], business_date=day)
    session.commit()


def sync(session, runtime, world, day):
    report = collections.sync_cases(session=session, clock=runtime.clock, kit=runtime.identity,
                                    institution_id=world["inst"].id,
                                    business_date=day)
    session.commit()
    return report


@pytest.fixture
def world(client, session, runtime, monkeypatch):
    """A loan of 8,000 over 6 months paid out on 2026-11-25 to a borrower of a branch with two collectors
    (the second with a case already, so the first has the lower load); a manager; finance."""
    inst = make_institution(session, runtime)
    branch = make_branch(session, runtime, inst)
    publish_product(session, runtime, inst)
    borrower = make_borrower(session, runtime, inst, branch=branch, password=None, real_name="王小明")
    member = make_borrower(session, runtime, inst, branch=branch, password=None, real_name="李四")
    finance = make_staff(session, runtime, inst, roles=("finance",), password=None)
    manager = make_staff(session, runtime, inst, roles=("branch_manager",), password=None)
    collector = make_staff(session, runtime, inst, roles=("collector",), branch=branch, password=None)
    officer = make_staff(session, runtime, inst, roles=("loan_officer",), branch=branch, password=None)
    hb, hf, hm, hc, ho = (signed_in(session, runtime, u.user) for u in (borrower, finance, manager, collector, officer))
    session.commit()
    use_review(monkeypatch, assessment(Decision.APPROVE, grade="B"))
    draft = client.post("/api/v1/me/applications", headers=hb, json=PLAN).json()
    # Guarantors added by the officer: two sharing one phone (a couple), a third released before the decision.
    shared, own = next_phone(), next_phone()
    found = {}
    for key, name, phone in (("g1", "张担保", shared), ("g2", "赵担保", shared), ("g3", "钱担保", own)):
        r = client.post(f"/api/v1/applications/{draft['id']}/guarantors", headers=ho, json={
            "name": name, "id_number": next_id_number(date(1972, 6, 1)), "phone": phone, "relation": "relative",
            "kind": "joint_liability", "consent_signed": True})
        assert r.status_code == 201, r.text
        found[key] = r.json()["id"]
    assert client.post(f"/api/v1/applications/{draft['id']}/guarantors/{found['g3']}/release", headers=ho,
                       json={"reason": "撤回"}).status_code == 200
    assert client.post(f"/api/v1/me/applications/{draft['id']}/submit", headers=hb).json()["status"] == "approved"
    sign_contract(client, runtime, hb, borrower.phone, draft["id"])
    loan = client.post("/api/v1/loans", headers=hf, json={"application_id": draft["id"]}).json()
    r = client.post(f"/api/v1/loans/{loan['id']}/disbursements", headers={**hf, **idempotency_key()}, json={})
    assert r.status_code == 200, r.text
    users = {"hc": collector.user, "hm": manager.user, "hf": finance.user, "ho": officer.user}
    return {"inst": inst, "branch": branch, "loan_id": loan["id"], "borrower": borrower, "member": member,
            "users": users, **{k: str(v) for k, v in found.items()},
            "collector": collector, "hb": hb, "hf": hf, "hm": hm, "hc": hc, "ho": ho,
            "first_due": date.fromisoformat(r.json()["loan"]["next_due_date"])}


@pytest.fixture
def case(client, session, runtime, world):
    """The loan 40 days late, its case opened by the sync (field visit); the clock at 10:00 in Shanghai."""
    day = world["first_due"] + timedelta(days=40)
    move_to(session, runtime, world, day)
    report = sync(session, runtime, world, day)
    at(session, runtime, world, shanghai(day, 10, 0))
    world["day"] = day
    return report.opened[0]


def act(client, world, case_id, **body):
    return client.post(f"{C}/cases/{case_id}/actions", headers=world["hc"], json=body)


def refused_by(response, rule, field=None):
    body = assert_problem(response, 422)
    assert (body["code"], body["rule"]) == (rule, rule), body
    if field:
        assert body["field"] == field, body
    return body


def test_sync_opens_escalates_and_closes_cases_from_the_loans_days_past_due(client, session, runtime, world):
    first = world["first_due"]
    assert sync(session, runtime, world, first).opened == []  # due today: not late
    move_to(session, runtime, world, first + timedelta(days=5))
    report = sync(session, runtime, world, first + timedelta(days=5))
    assert len(report.opened) == 1
    mine = client.get(f"{C}/my-cases", headers=world["hc"]).json()
    assert mine["total"] == 1  # the branch's only collector got it
    case = mine["items"][0]
    loan = client.get(f"/api/v1/loans/{world['loan_id']}", headers=world["hf"]).json()
    assert case["dpd"] == loan["dpd"] > 0
    assert case["stage"] == "reminder"
    assert case["status"] == "open"
    parts = [Money.parse(case["overdue"][c], "CNY") for c in ("principal", "interest", "fee", "penalty")]
    assert Money.total(parts, "CNY") == Money.parse(case["overdue_total"], "CNY") > Money.zero("CNY")
    assert case["priority"] == case["dpd"] * int(Money.parse(case["overdue_total"], "CNY").minor // 100)
    assert case["borrower_name"] == "王小明"
    assert case["assigned_name"] == world["collector"].user.display_name
    # the same date again changes nothing
    before = snapshot(runtime.db)
    again = sync(session, runtime, world, first + timedelta(days=5))
    assert (again.opened, again.escalated, again.closed) == ([], [], [])
    assert not {k for k in before.diff(snapshot(runtime.db)) if k.startswith("collection")}
    # later: escalated to the phone stage, then the field visit
    move_to(session, runtime, world, first + timedelta(days=20))
    assert sync(session, runtime, world, first + timedelta(days=20)).escalated == [case["id"]]
    assert client.get(f"{C}/cases/{case['id']}", headers=world["hc"]).json()["stage"] == "phone"
    move_to(session, runtime, world, first + timedelta(days=35))
    sync(session, runtime, world, first + timedelta(days=35))
    detail = client.get(f"{C}/cases/{case['id']}", headers=world["hc"]).json()
    assert detail["stage"] == "field_visit"
    assert [x["id"] for x in detail["loans"]] == [world["loan_id"]]
    # the borrower pays what is overdue: the sync closes the case as paid, with the amount recovered
    due = detail["overdue_total"]
    r = client.post(f"/api/v1/loans/{world['loan_id']}/repayments", headers={**world["hf"], **idempotency_key()},
                    json={"amount": due, "channel": "cash"})
    assert r.status_code == 200, r.text
    assert sync(session, runtime, world, first + timedelta(days=35)).closed == [case["id"]]
    closed = client.get(f"{C}/cases/{case['id']}", headers=world["hc"]).json()
    assert (closed["status"], closed["close_reason"], closed["recovered"]) == ("closed", "paid", due)
    assert client.get(f"{C}/my-cases", headers=world["hc"]).json()["total"] == 0


@pytest.mark.parametrize(("hh", "mm", "allowed"), [(21, 59, True), (22, 0, False), (7, 59, False), (8, 0, True)])
def test_no_contact_in_the_quiet_hours_at_their_edges(client, session, runtime, world, case, hh, mm, allowed):
    day = world["day"] + timedelta(days=1 if hh < 12 else 0)
    at(session, runtime, world, shanghai(day, hh, mm))
    before = snapshot(runtime.db)
    r = act(client, world, case, kind="call", outcome="no_answer")
    if allowed:
        assert r.status_code == 201, r.text
        assert r.json()["local_date"] == day.isoformat()
    else:
        body = refused_by(r, "quiet_hours", "kind")
        assert f"{hh:02d}:{mm:02d}" in body["detail"]
        assert before.diff(snapshot(runtime.db)) == {}  # a refusal changes nothing


def test_the_debtors_consent_or_time_zone_opens_the_window(client, session, runtime, world, case):
    at(session, runtime, world, shanghai(world["day"], 22, 30))
    refused_by(act(client, world, case, kind="sms", template="reminder"), "quiet_hours")
    url = f"{C}/debtors/{world['borrower'].borrower.id}"
    # in Urumqi (UTC+6) it is 20:30
    r = client.put(url, headers=world["hc"], json={"time_zone": "Asia/Urumqi", "night_contact_consent": False})
    assert r.status_code == 200, r.text
    assert act(client, world, case, kind="sms", template="reminder").status_code == 201
    client.put(url, headers=world["hc"], json={"time_zone": None, "night_contact_consent": True})
    r = act(client, world, case, kind="call", outcome="reached")
    assert r.status_code == 201, r.text
    refused = client.put(url, headers=world["hc"], json={"time_zone": "Mars/Base", "night_contact_consent": True})
    assert assert_problem(refused, 422)["code"] == "bad_time_zone"


def test_three_effective_calls_a_day_then_refused(client, session, runtime, world, case):
    for _ in range(3):
        assert act(client, world, case, kind="call", outcome="reached").status_code == 201
    body = refused_by(act(client, world, case, kind="call", outcome="no_answer"), "effective_calls_per_day")
    assert "3" in body["detail"]
    assert act(client, world, case, kind="visit", notes="上门未遇").status_code == 201  # not a call
    at(session, runtime, world, shanghai(world["day"] + timedelta(days=1), 9, 0))  # the debtor's next day
    assert act(client, world, case, kind="call", outcome="reached").status_code == 201


def test_six_attempts_to_a_number_a_day_then_refused(client, session, runtime, world, case):
    for _ in range(6):
        assert act(client, world, case, kind="call", outcome="no_answer").status_code == 201
    refused_by(act(client, world, case, kind="call", outcome="no_answer"), "attempts_per_number_per_day",
               "contact_ref")
    # another number (the guarantors') has its own count
    r = act(client, world, case, kind="call", outcome="no_answer", contact_party="guarantor", contact_ref=world["g1"])
    assert r.status_code == 201, r.text


def test_a_guarantors_number_is_counted_as_one_number_whichever_guarantor_is_named(client, session, runtime, world,
                                                                                    case):
    """Two guarantors share a phone: the 6 attempts a day are per that number, not per guarantor."""
    for ref in ("g1", "g2", "g1", "g2", "g1", "g2"):
        r = act(client, world, case, kind="call", outcome="no_answer", contact_party="guarantor",
                contact_ref=world[ref])
        assert r.status_code == 201, r.text
    for ref in ("g1", "g2"):
        refused_by(act(client, world, case, kind="call", outcome="no_answer", contact_party="guarantor",
                       contact_ref=world[ref]), "attempts_per_number_per_day", "contact_ref")
    # the borrower's own number is another number
    assert act(client, world, case, kind="call", outcome="no_answer").status_code == 201
    # the number index is kept on the actions, never the number itself
    logged = repo.calls_on(session, borrower_id=world["borrower"].borrower.id, local_date=world["day"],
                           contact_party="guarantor", contact_ref=world["g2"])
    assert logged == 3
    at(session, runtime, world, shanghai(world["day"] + timedelta(days=1), 9, 0))  # their next day
    assert act(client, world, case, kind="call", outcome="no_answer", contact_party="guarantor",
               contact_ref=world["g2"]).status_code == 201


def test_only_an_active_guarantor_of_the_loan_is_contacted_as_a_guarantor(client, database, world, case):
    detail = client.get(f"{C}/cases/{case}", headers=world["hc"]).json()
    listed = {str(g["id"]): g for g in detail["guarantors"]}
    assert set(listed) == {world["g1"], world["g2"]}  # the released one is not listed
    assert listed[world["g1"]]["relation"] == "relative"
    assert "****" in listed[world["g1"]]["phone_masked"]
    assert "phone" not in listed[world["g1"]]
    before = snapshot(database)
    for ref in ("张担保", world["g3"], str(int(world["g1"]) + 1000), None):  # a name, released, unknown, none
        body = refused_by(act(client, world, case, kind="call", outcome="reached", contact_party="guarantor",
                              contact_ref=ref), "third_party_contact", "contact_ref")
        assert "guarantor" in body["detail"] or "担保人" in body["detail"]
    refused_by(act(client, world, case, kind="visit", notes="上门", contact_party="guarantor", contact_ref=world["g3"]),
               "third_party_contact", "contact_ref")
    assert snapshot(database) == before
    r = act(client, world, case, kind="call", outcome="reached", contact_party="guarantor", contact_ref=world["g1"])
    assert r.status_code == 201, r.text
    assert (r.json()["contact_party"], r.json()["contact_ref"]) == ("guarantor", world["g1"])


def test_third_parties_only_as_the_rules_allow(client, session, runtime, world, case):
    refused_by(act(client, world, case, kind="call", outcome="reached", contact_party="other", contact_ref="邻居"),
               "third_party_contact", "contact_party")
    refused_by(act(client, world, case, kind="sms", template="reminder", contact_party="guarantor",
                   contact_ref=world["g1"]), "third_party_contact")
    # a group member: not by default; allowed, only when the borrower was unreachable and with a reason
    member = world["member"].borrower.id
    settings = client.get(f"{C}/settings", headers=world["hm"]).json()
    settings.pop("version")
    settings["contact_group_members"] = True
    settings["contact_guarantors"] = False
    assert client.put(f"{C}/settings", headers=world["hm"], json=settings).status_code == 200
    refused_by(act(client, world, case, kind="call", outcome="reached", contact_party="guarantor",
                   contact_ref=world["g1"]), "third_party_contact", "contact_party")
    as_member = {"kind": "call", "contact_party": "group_member", "contact_ref": str(member)}
    refused_by(act(client, world, case, outcome="reached", contact_reason="借款人失联", **as_member),
               "third_party_contact", "contact_ref")  # not in a group with the borrower
    third = make_borrower(session, runtime, world["inst"], branch=world["branch"], password=None)
    session.commit()
    ids = [world["borrower"].borrower.id, member, third.borrower.id]
    r = client.post("/api/v1/groups", headers=world["ho"], json={"name": "城关一组", "member_ids": ids,
                                                                  "leader_id": ids[1]})
    assert r.status_code == 201, r.text
    body = refused_by(act(client, world, case, outcome="reached", contact_reason="借款人失联", **as_member),
                      "third_party_contact", "contact_ref")
    assert "cannot be reached" in body["detail"] or "联系不上" in body["detail"]
    assert act(client, world, case, kind="call", outcome="no_answer").status_code == 201  # the borrower: unreached
    refused_by(act(client, world, case, outcome="reached", **as_member), "third_party_contact")  # no reason
    r = act(client, world, case, outcome="refused", contact_reason="借款人失联", **as_member)
    assert r.status_code == 201, r.text
    # who refused is not called again
    refused_by(act(client, world, case, outcome="reached", contact_reason="借款人失联", **as_member),
               "third_party_contact", "contact_ref")


def test_sms_from_a_template_and_the_prohibited_phrases(client, session, runtime, world, case):
    r = act(client, world, case, kind="sms", template="reminder", language="zh-CN")
    assert r.status_code == 201, r.text
    assert "王小明" in r.json()["text"]
    outbox_timer(client)  # queued with the action, delivered by the outbox's timer
    sent = client.get("/_sim/sms", params={"phone": world["borrower"].phone}).json()
    assert any("王小明" in m["text"] for m in sent)
    settings = client.get(f"{C}/settings", headers=world["hm"]).json()
    settings.pop("version")
    settings["sms_templates"].append({"code": "threat", "zh": "再不还款就把你列入黑名单", "en": "pay or else"})
    body = assert_problem(client.put(f"{C}/settings", headers=world["hm"], json=settings), 422)
    assert (body["code"], body["field"], body["rule"]) == ("prohibited_phrase", "sms_templates.2.zh",
                                                           "prohibited_phrase")
    # a phrase added to the list later stops a template saved before
    settings["sms_templates"].pop()
    settings["sms_templates"].append({"code": "firm", "zh": "请于三日内还款", "en": "Please repay within three days"})
    assert client.put(f"{C}/settings", headers=world["hm"], json=settings).status_code == 200
    row = repo.settings_of(session, world["inst"].id)
    row.prohibited_phrases = [*row.prohibited_phrases, "三日内"]
    session.commit()
    refused_by(act(client, world, case, kind="sms", template="firm"), "prohibited_phrase", "template")


def test_no_bureau_report_before_the_borrower_is_told(client, session, runtime, world, case):
    refused_by(act(client, world, case, kind="bureau_report"), "negative_report_notice", "kind")
    assert act(client, world, case, kind="negative_report_notice", notes="短信及电话告知").status_code == 201
    assert act(client, world, case, kind="bureau_report").status_code == 201


def test_promises_kept_and_broken_are_followed_up_by_the_sync(client, session, runtime, world, case):
    day = world["day"]
    r = act(client, world, case, kind="promise", promise_date=(day + timedelta(days=3)).isoformat(),
            promise_amount="100.00")
    assert r.status_code == 201, r.text
    assert client.get(f"{C}/cases/{case}", headers=world["hc"]).json()["status"] == "promised"
    past = act(client, world, case, kind="promise", promise_date=(day - timedelta(days=1)).isoformat(),
               promise_amount="100.00")
    assert assert_problem(past, 422)["field"] == "promise_date"
    r = client.post(f"/api/v1/loans/{world['loan_id']}/repayments", headers={**world["hf"], **idempotency_key()},
                    json={"amount": "100.00", "channel": "cash"})
    assert r.status_code == 200, r.text
    assert sync(session, runtime, world, day).promises_kept == [act_id := client.get(
        f"{C}/cases/{case}", headers=world["hc"]).json()["actions"][0]["id"]]
    assert act_id
    act(client, world, case, kind="promise", promise_date=(day + timedelta(days=2)).isoformat(),
        promise_amount="500.00")
    move_to(session, runtime, world, day + timedelta(days=2))
    assert sync(session, runtime, world, day + timedelta(days=2)).promises_broken == []  # not yet
    move_to(session, runtime, world, day + timedelta(days=3))
    assert len(sync(session, runtime, world, day + timedelta(days=3)).promises_broken) == 1
    detail = client.get(f"{C}/cases/{case}", headers=world["hc"]).json()
    assert [a["promise_status"] for a in detail["actions"] if a["kind"] == "promise"] == ["broken", "kept"]
    assert detail["status"] == "open"
    figures = client.get(f"{C}/performance", headers=world["hm"]).json()["collectors"]
    mine = next(f for f in figures if f["user_id"] == world["collector"].user.id)
    assert (mine["promises_made"], mine["promises_kept"], mine["promises_broken"]) == (2, 1, 1)
    assert mine["cases_worked"] == 1
    assert Money.parse(mine["recovered"], "CNY") >= Money.parse("100.00", "CNY")


def test_a_manager_reassigns_and_sees_the_unassigned(client, session, runtime, world, case):
    todos = {t["code"]: t["count"] for t in client.get("/api/v1/me/todos", headers=world["hm"]).json()["items"]}
    assert todos["collection_cases_unassigned"] == 0
    r = client.put(f"{C}/cases/{case}/assignment", headers=world["hm"], json={"agency": "某律所"})
    assert assert_problem(r, 422)["code"] == "not_a_collector"  # not on the allow-list
    finance = world["users"]["hf"].id  # no collector
    r = client.put(f"{C}/cases/{case}/assignment", headers=world["hm"], json={"user_id": finance})
    assert assert_problem(r, 422)["code"] == "not_a_collector"
    r = client.put(f"{C}/cases/{case}/assignment", headers=world["hm"],
                   json={"user_id": world["collector"].user.id})
    assert r.status_code == 200
    assert r.json()["assigned_user_id"] == world["collector"].user.id
    cases = client.get(f"{C}/cases", headers=world["hm"], params={"stage": "field_visit"}).json()
    assert [c["id"] for c in cases["items"]] == [case]
    assert client.get(f"{C}/my-cases", headers=world["ho"]).status_code == 403  # a loan officer is no collector


def test_a_visit_names_the_photos_taken_on_it_each_kept_and_only_its_own_case_s(client, session, runtime, world,
                                                                                  case):
    from tests.integration.documents.test_documents_api import photo

    def upload(colour, case_id=case):
        return client.post(f"{C}/cases/{case_id}/photos", headers=world["hc"],
                           files={"file": ("visit.jpg", photo(colour), "image/jpeg")})

    first, second = upload((200, 10, 10)), upload((10, 200, 10))
    assert (first.status_code, second.status_code) == (201, 201), first.text
    assert first.json()["type"] == "visit_photo"
    assert (first.json()["subject_kind"], first.json()["subject_id"]) == ("collection_case", case)
    ids = [first.json()["id"], second.json()["id"]]
    # Both kept: a second photo replaces nothing (unlike a borrower's document of a type).
    docs = client.get(f"/api/v1/borrowers/{world['borrower'].borrower.id}/documents", headers=world["hm"]).json()
    assert isinstance(docs, list), docs
    assert {d["id"]: d["status"] for d in docs if d["type"] == "visit_photo"} == {ids[0]: "active", ids[1]: "active"}
    # Not a photo: refused beside the file, nothing stored.
    before = snapshot(runtime.db)
    bad = client.post(f"{C}/cases/{case}/photos", headers=world["hc"],
                      files={"file": ("visit.jpg", b"not a picture at all", "image/jpeg")})
    assert assert_problem(bad, 422)["field"] == "file"
    assert before.diff(snapshot(runtime.db)) == {}
    # The visit names them; a document that is not a photo of this case's visits is not found.
    visit = act(client, world, case, kind="visit", notes="上门见到本人，店铺正常营业", document_ids=ids)
    assert visit.status_code == 201, visit.text
    assert visit.json()["document_ids"] == ids
    # Staff who may read the borrower open the photo (each view audited).
    content = client.get(f"/api/v1/documents/{ids[0]}/content", headers=world["hm"])
    assert (content.status_code, content.headers["content-type"]) == (200, "image/jpeg")
    borrower_id = world["borrower"].borrower.id
    id_card = client.post(f"/api/v1/borrowers/{borrower_id}/documents", headers=world["hm"], data={"type": "id_card"},
                          files={"file": ("id.jpg", photo((1, 2, 3)), "image/jpeg")})
    assert id_card.status_code == 201, id_card.text
    id_card = id_card.json()
    assert assert_problem(act(client, world, case, kind="visit", notes="x", document_ids=[id_card["id"]]),
                          404)["field"] == "document_ids"
    # Nobody uploads a visit photo as a borrower's own document.
    assert client.post(f"/api/v1/borrowers/{borrower_id}/documents", headers=world["hm"], data={"type": "visit_photo"},
                       files={"file": ("v.jpg", photo((4, 5, 6)), "image/jpeg")}).status_code == 422
    # Only those who act on cases add photos to them (a loan officer does not).
    assert client.post(f"{C}/cases/{case}/photos", headers=world["ho"],
                       files={"file": ("visit.jpg", photo((7, 8, 9)), "image/jpeg")}).status_code == 403


def rules_of(client, world):
    """The rules as read, ready to be sent back."""
    body = client.get(f"{C}/settings", headers=world["hm"]).json()
    body.pop("version")
    return body


def test_the_rules_refuse_unknown_placeholders_stage_templates_and_agency_stages_beside_the_field(
        client, database, world):
    base = rules_of(client, world)
    assert base["agencies"] == []
    before = snapshot(database)
    for change, field, code in (
            (lambda r: r["sms_templates"].append({"code": "odd", "zh": "{name}，余额 {balance}", "en": "x"}),
             "sms_templates.2.zh", "unknown_placeholder"),
            (lambda r: r["sms_templates"].append({"code": "odd", "zh": "好", "en": "Dear {name"}),
             "sms_templates.2.en", "template_braces"),
            (lambda r: r["stages"][1].update(sms_template="missing"), "stages.1.sms_template", "unknown_template"),
            (lambda r: r["sms_templates"].append(dict(r["sms_templates"][0])), "sms_templates.2.code",
             "duplicate_template"),
            (lambda r: r["agencies"].append({"name": "华信", "stages": ["court"]}), "agencies.0.stages",
             "unknown_stage"),
            (lambda r: r["agencies"].extend([{"name": "华信", "stages": ["legal"]}] * 2), "agencies.1.name",
             "duplicate_agency"),
            (lambda r: r["agencies"].append({"name": "华信", "stages": ["legal"], "commission_percent": "120"}),
             "agencies.0.commission_percent", None),
            (lambda r: r.update(quiet_from_minute=22 * 60 + 1), "quiet_from_minute", "quiet_hours_short"),
            (lambda r: r.update(quiet_until_minute=7 * 60 + 59), "quiet_until_minute", "quiet_hours_short"),
            (lambda r: r.update(quiet_from_minute=8 * 60, quiet_until_minute=22 * 60), "quiet_from_minute",
             "quiet_hours_short")):
        body = rules_of(client, world)
        change(body)
        problem = assert_problem(client.put(f"{C}/settings", headers=world["hm"], json=body), 422)
        fields = {e["field"]: e["code"] for e in problem.get("errors", [])} or {problem["field"]: problem["code"]}
        assert field in fields, problem
        if code is not None:
            assert fields[field] == code, problem
    assert snapshot(database) == before  # a refused save changes nothing
    body = rules_of(client, world)
    body["quiet_from_minute"], body["quiet_until_minute"] = 21 * 60 + 30, 8 * 60 + 30
    body["stages"][0]["sms_template"] = "reminder"
    body["sms_templates"].append({"code": "visit_notice", "zh": "{name}您好，贷款 {loan} 逾期 {dpd} 天。",
                                  "en": "Dear {name}, loan {loan} is {dpd} day(s) past due."})
    body["agencies"] = [{"name": "华信", "contact": "周经理 13900001111", "commission_percent": "12.5",
                         "stages": ["field_visit", "legal"], "active": True}]
    r = client.put(f"{C}/settings", headers=world["hm"], json=body)
    assert r.status_code == 200, r.text
    saved = r.json()
    assert (saved["quiet_from_minute"], saved["quiet_until_minute"]) == (1290, 510)
    assert saved["stages"][0]["sms_template"] == "reminder"
    assert saved["sms_templates"][-1]["code"] == "visit_notice"
    assert saved["agencies"] == body["agencies"]


def test_an_agency_takes_only_the_stages_it_may_and_none_once_inactive(client, session, world, case):
    body = rules_of(client, world)
    body["agencies"] = [{"name": "华信", "stages": ["legal"]}, {"name": "安达", "stages": ["field_visit"]}]
    assert client.put(f"{C}/settings", headers=world["hm"], json=body).status_code == 200
    r = client.put(f"{C}/cases/{case}/assignment", headers=world["hm"], json={"agency": "华信"})
    assert (assert_problem(r, 422)["code"], r.json()["field"]) == ("agency_not_taking", "agency")  # field visit
    r = client.put(f"{C}/cases/{case}/assignment", headers=world["hm"], json={"agency": "安达"})
    assert (r.status_code, r.json()["agency"]) == (200, "安达")
    body["agencies"][1]["active"] = False
    assert client.put(f"{C}/settings", headers=world["hm"], json=body).status_code == 200
    r = client.put(f"{C}/cases/{case}/assignment", headers=world["hm"], json={"agency": "安达"})
    assert assert_problem(r, 422)["code"] == "agency_not_taking"
    # Rules saved before agencies had details hold bare names: read as active, taking every stage.
    row = repo.settings_of(session, world["inst"].id)
    row.agencies = ["老机构"]
    session.commit()
    listed = client.get(f"{C}/settings", headers=world["hm"]).json()["agencies"]
    assert listed == [{"name": "老机构", "contact": None, "commission_percent": None,
                       "stages": ["reminder", "phone", "field_visit", "legal"], "active": True}]
    r = client.put(f"{C}/cases/{case}/assignment", headers=world["hm"], json={"agency": "老机构"})
    assert r.status_code == 200, r.text


def _stage_texts(session, runtime):
    """The collection SMS in the outbox: (text, when it may go out), oldest first."""
    rows = session.execute(select(OutboxMessage.payload_ciphertext, OutboxMessage.next_attempt_at)
                           .where(OutboxMessage.template == "collection_message").order_by(OutboxMessage.id)).all()
    cipher = runtime.identity.keys.cipher
    return [(json.loads(cipher.decrypt(p, context="outbox_messages.payload"))["text"], at) for p, at in rows]


def test_a_case_entering_a_stage_texts_its_template_now_or_when_the_quiet_hours_end(client, session, runtime,
                                                                                   world):
    body = rules_of(client, world)
    body["stages"][0]["sms_template"] = "reminder"
    body["sms_templates"].append({"code": "phone_notice",
                                  "zh": "{name}您好，贷款 {loan} 已逾期 {dpd} 天，我们将致电您。",
                                  "en": "Dear {name}, loan {loan} is {dpd} day(s) past due; we will call you."})
    body["stages"][1]["sms_template"] = "phone_notice"
    assert client.put(f"{C}/settings", headers=world["hm"], json=body).status_code == 200
    # Day 5 past due at 10:00 in Shanghai: the case opens in the reminder stage and its SMS goes now.
    day = world["first_due"] + timedelta(days=5)
    move_to(session, runtime, world, day)
    at(session, runtime, world, shanghai(day, 10, 0))
    report = sync(session, runtime, world, day)
    [case] = report.opened
    assert report.texted == [case]
    [(text, when)] = _stage_texts(session, runtime)
    assert "王小明" in text
    assert "逾期 5 天" in text
    assert when == shanghai(day, 10, 0)
    # Day 16 at 23:00 in Shanghai, in the quiet hours: escalated to phone, its SMS held until 08:00 the next day.
    day = world["first_due"] + timedelta(days=16)
    move_to(session, runtime, world, day)
    at(session, runtime, world, shanghai(day, 23, 0))
    report = sync(session, runtime, world, day)
    assert (report.escalated, report.texted) == ([case], [case])
    texts = _stage_texts(session, runtime)
    assert len(texts) == 2
    assert "我们将致电您" in texts[1][0]
    assert texts[1][1] == shanghai(day + timedelta(days=1), 8, 0)
    # "Send now" on the held message does not send it into the quiet hours: it stays due at 08:00.
    held = session.scalars(select(OutboxMessage).where(OutboxMessage.template == "collection_message")
                           .order_by(OutboxMessage.id.desc())).first()
    assert held.not_before == shanghai(day + timedelta(days=1), 8, 0)
    outbox.retry(session=session, clock=runtime.clock, institution_id=None, message_id=held.id)
    session.commit()
    assert _stage_texts(session, runtime)[1][1] == shanghai(day + timedelta(days=1), 8, 0)
    logged = [a for a in repo.actions_of_borrower(session, world["borrower"].borrower.id) if a.kind == "sms"]
    assert sorted((a.template, a.user_id, a.at) for a in logged) == [
        ("phone_notice", None, shanghai(day + timedelta(days=1), 8, 0)), ("reminder", None, shanghai(
            world["first_due"] + timedelta(days=5), 10, 0))]
    # The sync again that day: no stage entered, nothing more sent.
    assert sync(session, runtime, world, day).texted == []
    assert len(_stage_texts(session, runtime)) == 2
    # A stage without a template (field visit from day 31) sends nothing.
    day = world["first_due"] + timedelta(days=31)
    move_to(session, runtime, world, day)
    at(session, runtime, world, shanghai(day, 10, 0))
    report = sync(session, runtime, world, day)
    assert (report.escalated, report.texted) == ([case], [])
