"""A group's repayment meeting schedule (小组例会) over HTTP: set, changed, refused, removed and audited;
members' loans synced to it — every installment due on a meeting (monthly, weekly), the contract
showing the same dates, the payout re-dating on the meetings of the schedule the loan was made with —
and a loan whose frequency does not match left on its own dates, saying why.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from microcredit.audit.models import AuditRecord
from microcredit.lending.meetings import MeetingFrequency, is_meeting
from microcredit.parties import service as parties
from microcredit.platform.actor import Actor
from microcredit.risk.assessment import Decision
from tests.factories import make_borrower, make_branch, make_institution, make_staff
from tests.integration.helpers import assert_problem, shared_client, sign_contract, signed_in, snapshot
from tests.integration.origination.support import assessment, publish_product, use_review

GROUPS, LOANS = "/api/v1/groups", "/api/v1/loans"
MONTHLY = {"frequency": "monthly", "first_on": "2026-12-03", "time_of_day": "09:30", "place": "城关村委会"}
WEEKLY = {"frequency": "weekly", "first_on": "2026-11-20", "time_of_day": "18:00", "place": "李家院子"}


@pytest.fixture
def client(runtime, backend):
    yield from shared_client(runtime, backend)


@pytest.fixture
def world(client, session, runtime, monkeypatch):
    """A monthly (GRP) and a weekly (GRPW) group-lending product, a loan officer, finance, and an active group of
    three borrowers, signed in; the business date is 2026-11-25."""
    inst = make_institution(session, runtime)
    branch = make_branch(session, runtime, inst)
    publish_product(session, runtime, inst, code="GRP", group_lending=True, customer_types=["consumer", "farmer"])
    publish_product(session, runtime, inst, code="GRPW", group_lending=True, customer_types=["consumer", "farmer"],
                    period_unit="week", term_min=4, term_max=26,
                    repayment_methods=["equal_installment", "equal_principal"])
    officer = make_staff(session, runtime, inst, roles=("loan_officer",), branch=branch, password=None)
    finance = make_staff(session, runtime, inst, roles=("finance",), password=None)
    people = [make_borrower(session, runtime, inst, branch=branch, password=None, real_name=name)
              for name in ("王大山", "李小红", "张三丰")]
    ho, hf = signed_in(session, runtime, officer.user), signed_in(session, runtime, finance.user)
    hb = [{**signed_in(session, runtime, p.user), "X-Device-Id": f"dev-{i}"} for i, p in enumerate(people)]
    session.commit()
    use_review(monkeypatch, assessment(Decision.APPROVE, grade="B"))
    ids = [p.borrower.id for p in people]
    group = client.post(GROUPS, headers=ho, json={"name": "城关一组", "member_ids": ids, "leader_id": ids[0]}).json()
    return {"inst": inst, "people": people, "ids": ids, "ho": ho, "hf": hf, "hb": hb, "group": group}


def _approved(client, w, product="GRP", term=6):
    """The group's applications, consented and approved: the members' application ids in order."""
    ga = client.post("/api/v1/group-applications", headers=w["ho"], json={
        "group_id": w["group"]["id"], "product_code": product, "term": term, "repayment_method": "equal_installment",
        "purpose": "agriculture", "members": [{"borrower_id": b, "amount": "5000.00"} for b in w["ids"]]})
    assert ga.status_code == 201, ga.text
    apps = {m["borrower_id"]: m["application_id"] for m in ga.json()["members"]}
    for i, b in enumerate(w["ids"]):
        assert client.post(f"/api/v1/me/applications/{apps[b]}/consent", headers=w["hb"][i],
                           json={"agree_joint_liability": True}).status_code == 200
    return [apps[b] for b in w["ids"]]


def _opened(client, runtime, w, app_id, i=0):
    """The member's contract signed and their loan opened (not paid out): the contract and the loan."""
    contract = sign_contract(client, runtime, w["hb"][i], w["people"][i].phone, app_id)
    r = client.post(LOANS, headers=w["hf"], json={"application_id": app_id})
    assert r.status_code in (200, 201), r.text
    return contract, r.json()


def _paid_out(client, w, loan_id):
    r = client.post(f"{LOANS}/{loan_id}/disbursements", headers={**w["hf"], "Idempotency-Key": f"d-{loan_id}"},
                    json={})
    assert r.status_code == 200, r.text
    return r.json()["loan"]


def _due_dates(loan):
    return [date.fromisoformat(i["due_date"]) for i in loan["state"]["installments"]]


def test_set_change_refuse_and_remove_a_schedule_audited(client, session, runtime, world):
    w = world
    url = f"{GROUPS}/{w['group']['id']}/meeting"
    assert_problem(client.get(url, headers=w["ho"]), 404)
    r = client.put(url, headers=w["ho"], json=MONTHLY)
    assert r.status_code == 200, r.text
    assert r.json()["next_meetings"] == ["2026-12-03", "2027-01-03", "2027-02-03"]
    # A monthly meeting after the 28th, a bad time, an empty place: refused beside the field, nothing changed.
    before = snapshot(runtime.db)
    body = assert_problem(client.put(url, headers=w["ho"], json={**MONTHLY, "first_on": "2026-12-29"}), 422)
    assert (body["errors"][0]["field"], body["errors"][0]["code"]) == ("first_on", "meeting_day_after_28th")
    body = assert_problem(client.put(url, headers=w["ho"], json={**MONTHLY, "first_on": "9999-12-15"}), 422)
    assert body["errors"][0]["code"] == "meeting_date_out_of_range"
    body = assert_problem(client.put(url, headers=w["ho"], json={**MONTHLY, "time_of_day": "25:00"}), 422)
    assert body["errors"][0]["field"] == "time_of_day"
    body = assert_problem(client.put(url, headers=w["ho"], json={**MONTHLY, "place": "x" * 201}), 422)
    assert body["errors"][0]["field"] == "place"
    assert before.diff(snapshot(runtime.db)) == {}
    # Weekly on 2026-11-20 (a Friday): the next three Fridays from the business date.
    r = client.put(url, headers=w["ho"], json=WEEKLY)
    assert r.json()["next_meetings"] == ["2026-11-27", "2026-12-04", "2026-12-11"]
    # Any member sees the next meeting in the app.
    mine = client.get("/api/v1/me/group-meeting", headers=w["hb"][2])
    assert mine.status_code == 200, mine.text
    assert {k: mine.json()[k] for k in ("group_name", "next_meeting", "time_of_day", "place")} == {
        "group_name": "城关一组", "next_meeting": "2026-11-27", "time_of_day": "18:00", "place": "李家院子"}
    assert client.delete(url, headers=w["ho"]).status_code == 204
    assert_problem(client.get(url, headers=w["ho"]), 404)
    assert_problem(client.get("/api/v1/me/group-meeting", headers=w["hb"][2]), 404)
    session.expire_all()
    entries = session.scalars(select(AuditRecord).where(AuditRecord.entity_type == "borrower_group",
                                                       AuditRecord.action.like("group.meeting%"))
                              .order_by(AuditRecord.id)).all()
    assert [(e.action, (e.before or {}).get("frequency"), (e.after or {}).get("frequency")) for e in entries] == [
        ("group.meeting_set", None, "monthly"), ("group.meeting_set", "monthly", "weekly"),
        ("group.meeting_removed", "weekly", None)]


def test_a_monthly_group_loan_falls_due_on_the_meetings_as_its_contract_says(client, session, runtime, world):
    w = world
    assert client.put(f"{GROUPS}/{w['group']['id']}/meeting", headers=w["ho"], json=MONTHLY).status_code == 200
    apps = _approved(client, w)
    contract, opened = _opened(client, runtime, w, apps[0])
    assert (opened["synced_to_meetings"], opened["meetings_reason"]) == (True, None)
    loan = _paid_out(client, w, opened["id"])
    due = _due_dates(loan)
    # Paid out 2026-11-25: the first meeting at least 7 days later is 12-03, then every 3rd of the month.
    assert due == [date(2026, 12, 3), date(2027, 1, 3), date(2027, 2, 3), date(2027, 3, 3), date(2027, 4, 3),
                   date(2027, 5, 3)]
    assert all(is_meeting(MeetingFrequency.MONTHLY, date(2026, 12, 3), d) for d in due)
    # The signed contract states the same schedule.
    assert [date.fromisoformat(r["due_date"]) for r in contract["terms"]["installments"]] == due


def test_the_payout_re_dates_on_the_schedule_the_loan_was_made_with(client, session, runtime, world):
    w = world
    url = f"{GROUPS}/{w['group']['id']}/meeting"
    assert client.put(url, headers=w["ho"], json=MONTHLY).status_code == 200
    apps = _approved(client, w)
    _, opened = _opened(client, runtime, w, apps[1], i=1)
    # The group now meets on the 10th; the loan already made keeps the 3rd.
    assert client.put(url, headers=w["ho"], json={**MONTHLY, "first_on": "2026-12-10"}).status_code == 200
    parties.organisation.set_business_date_as(session=session, clock=runtime.clock, actor=Actor.system(w["inst"].id),
                                              institution_id=w["inst"].id, new_date=date(2026, 11, 28),
                                              override_allowed=True)
    session.commit()
    loan = _paid_out(client, w, opened["id"])
    # Paid out 11-28: 12-03 is only 5 days later, so the first installment falls on the next meeting.
    assert _due_dates(loan)[:3] == [date(2027, 1, 3), date(2027, 2, 3), date(2027, 3, 3)]
    assert loan["terms"]["terms"]["start_date"] == "2026-11-28"


def test_a_weekly_group_loan_falls_due_on_the_weekly_meetings(client, session, runtime, world):
    w = world
    assert client.put(f"{GROUPS}/{w['group']['id']}/meeting", headers=w["ho"], json=WEEKLY).status_code == 200
    apps = _approved(client, w, product="GRPW", term=8)
    _, opened = _opened(client, runtime, w, apps[2], i=2)
    assert opened["synced_to_meetings"] is True
    due = _due_dates(_paid_out(client, w, opened["id"]))
    assert len(due) == 8
    assert due[0] == date(2026, 12, 4)  # the first Friday at least 7 days after 11-25
    assert all(is_meeting(MeetingFrequency.WEEKLY, date(2026, 11, 20), d) for d in due)


def test_a_frequency_that_does_not_match_leaves_the_loan_on_its_own_dates(client, session, runtime, world):
    w = world
    assert client.put(f"{GROUPS}/{w['group']['id']}/meeting", headers=w["ho"], json=WEEKLY).status_code == 200
    apps = _approved(client, w)  # monthly installments, weekly meetings
    contract, opened = _opened(client, runtime, w, apps[0])
    assert (opened["synced_to_meetings"], opened["meetings_reason"]) == (False, "frequency_mismatch")
    due = _due_dates(_paid_out(client, w, opened["id"]))
    assert due[:3] == [date(2026, 12, 25), date(2027, 1, 25), date(2027, 2, 25)]  # the payout's anniversary
    assert [date.fromisoformat(r["due_date"]) for r in contract["terms"]["installments"]] == due
