"""Approval levels of group loans (小组联保): a member referred to people is reviewed at the levels the
product's approval policy asks for the **group's** total and the worst grade among its members, not at
their own amount and grade; the review screen says so. The others go on as the automated review decided.

And a member leaving the group while its application is open: their part is withdrawn and they are
told, the group application goes on without it (held below 3 members); a late joiner is not added;
leaving with a loan approved for the group is refused (servicing's matter).

The product (tests' GRP): up to 5,000 and grade C or better → 1 level; up to 20,000 → 2; above → 3.
The automated review is a fake (`support.use_review`), answering the members in the group's order.
"""

from __future__ import annotations

from sqlalchemy import select

from microcredit.audit.models import AuditRecord
from microcredit.notifications.models import InboxMessage, OutboxMessage
from microcredit.origination.models import ApplicationGuarantor
from microcredit.parties.models import Branch
from microcredit.risk.assessment import Decision
from tests.factories import make_staff
from tests.integration.groups.test_group_lending import GA, GROUPS, _apply, _consent, _group, client, world  # noqa: F401
from tests.integration.helpers import assert_problem, signed_in, snapshot
from tests.integration.origination.support import assessment, use_review


def _approvers(session, runtime, w, group):
    branch = session.get(Branch, group["branch_id"])
    l1 = make_staff(session, runtime, w["inst"], roles=("approver_l1",), branch=branch, password=None)
    l2 = make_staff(session, runtime, w["inst"], roles=("approver_l2",), password=None)
    headers = signed_in(session, runtime, l1.user), signed_in(session, runtime, l2.user)
    session.commit()
    return headers


def _all_consent(client, w, ga):  # noqa: F811
    apps = [m["application_id"] for m in ga["members"]]
    for i, app_id in enumerate(apps):
        r = _consent(client, w, i, app_id)
        assert r.status_code == 200, r.text
    return apps


def test_a_small_member_of_a_large_group_is_reviewed_at_the_groups_levels(client, session, runtime,  # noqa: F811
                                                                          monkeypatch, world):  # noqa: F811
    """3,000 at grade B alone needs one level; in a group of 16,000 it needs two, as a 16,000 loan does. The
    members approved automatically stay approved: the group application is not held back by the referral."""
    w = world
    group = _group(client, w)
    hl1, hl2 = _approvers(session, runtime, w, group)
    use_review(monkeypatch, assessment(Decision.REFER, grade="B"), assessment(Decision.APPROVE, grade="B"),
               assessment(Decision.APPROVE, grade="B"))
    ga = _apply(client, w, group, amounts=("3000.00", "6000.00", "7000.00")).json()
    apps = _all_consent(client, w, ga)
    detail = client.get(f"{GA}/{ga['id']}", headers=w["ho"]).json()
    assert (detail["status"], [m["application_status"] for m in detail["members"]]) == (
        "submitted", ["referred", "approved", "approved"])
    referred = apps[0]
    review = client.get(f"/api/v1/applications/{referred}/review", headers=hl1).json()
    assert (review["level"], review["levels_required"]) == (1, 2)
    assert review["group"] == {"group_application_id": ga["id"], "group_name": group["name"],
                               "total": "16000.00", "members": 3, "worst_grade": "B"}

    # Level 1's approval is not the last: the member waits at 复审, as a 16,000 loan would.
    r = client.post(f"/api/v1/applications/{referred}/review", headers=hl1, json={"action": "approve", "level": 1})
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["level"]) == ("referred", 2)
    r = client.post(f"/api/v1/applications/{referred}/review", headers=hl2, json={"action": "approve", "level": 2})
    assert (r.status_code, r.json()["status"]) == (200, "approved"), r.text
    # The members approved automatically were not referred: no levels, and they stay approved.
    approved = client.get(f"/api/v1/applications/{apps[1]}/review", headers=hl1).json()
    assert (approved["status"], approved["levels_required"], approved["group"]["total"]) == (
        "approved", None, "16000.00")


def test_the_worst_grade_among_the_members_sets_the_levels(client, session, runtime, monkeypatch,  # noqa: F811
                                                           world):  # noqa: F811
    """A group of 4,500 (within one level's amount) with a member graded D: every referred member needs the
    two levels grade D needs — the first member too, though graded B and assessed before the D member."""
    w = world
    group = _group(client, w)
    hl1, _ = _approvers(session, runtime, w, group)
    use_review(monkeypatch, assessment(Decision.REFER, grade="B"), assessment(Decision.APPROVE, grade="A"),
               assessment(Decision.REFER, grade="D"))
    ga = _apply(client, w, group, amounts=("1000.00", "1500.00", "2000.00")).json()
    apps = _all_consent(client, w, ga)
    first = client.get(f"/api/v1/applications/{apps[0]}/review", headers=hl1).json()
    last = client.get(f"/api/v1/applications/{apps[2]}/review", headers=hl1).json()
    assert (first["levels_required"], last["levels_required"]) == (2, 2)
    assert (first["group"]["total"], first["group"]["worst_grade"]) == ("4500.00", "D")
    staff = client.get(f"/api/v1/applications/{apps[0]}", headers=hl1).json()
    assert staff["levels_required"] == 2
    r = client.post(f"/api/v1/applications/{apps[0]}/review", headers=hl1, json={"action": "approve", "level": 1})
    assert (r.status_code, r.json()["status"], r.json()["level"]) == (200, "referred", 2), r.text


# --- a member leaving the group while its application is open ----------------------------------------

def _leave(client, w, group, i):  # noqa: F811
    return client.post(f"{GROUPS}/{group['id']}/members/{w['people'][i].borrower.id}/remove", headers=w["ho"])


def test_a_member_leaving_before_submission_is_withdrawn_told_and_the_rest_go_on(client, session, monkeypatch,  # noqa: F811
                                                                               world):  # noqa: F811
    """Four members, three consented: the fourth leaves the group. Their part is withdrawn (reason
    `group_member_left`, told in-app and by SMS), the total is the rest's, and since the rest all consented
    the group application is submitted at once (as after the officer's removal). Audited."""
    w = world
    use_review(monkeypatch, assessment(Decision.APPROVE, grade="B"))
    group = _group(client, w, n=4)
    ga = _apply(client, w, group, amounts=("5000.00", "6000.00", "7000.00", "8000.00")).json()
    apps = [m["application_id"] for m in ga["members"]]
    for i in (0, 1, 2):
        assert _consent(client, w, i, apps[i]).status_code == 200
    r = _leave(client, w, group, 3)
    assert r.status_code == 200, r.text
    detail = client.get(f"{GA}/{ga['id']}", headers=w["ho"]).json()
    assert (detail["status"], detail["total_amount"], detail["held_reason"]) == ("submitted", "18000.00", None)
    assert [(m["consent"], m["application_status"]) for m in detail["members"]] == [
        ("consented", "approved")] * 3 + [("removed", "withdrawn")]
    left = client.get(f"/api/v1/me/applications/{apps[3]}", headers=w["hb"][3]).json()
    assert left["timeline"][-1]["reason_code"] == "group_member_left"
    session.expire_all()
    told = session.scalars(select(InboxMessage).where(InboxMessage.template == "group_member_left")).all()
    assert [m.subject_id for m in told] == [apps[3]]
    assert len(session.scalars(select(OutboxMessage).where(OutboxMessage.template == "group_member_left")).all()) == 1
    assert session.scalars(select(AuditRecord).where(AuditRecord.action == "group_application.member_left")).all()
    # Nobody stands for, or is stood for by, the member who left.
    guarantors = {(g.application_id, g.guarantor_borrower_id) for g in session.scalars(select(ApplicationGuarantor))}
    left_id = w["people"][3].borrower.id
    assert len(guarantors) == 6
    assert not {g for g in guarantors if left_id in g or g[0] == apps[3]}


def test_below_three_the_group_application_is_held_and_a_late_joiner_is_not_added(client, session, runtime,  # noqa: F811
                                                                                 world):  # noqa: F811
    """Three members, one leaves before consenting: held (`group_too_small`), their part withdrawn; a borrower
    who joins the group now is not in the application (next cycle). The officer cancels it."""
    w = world
    group = _group(client, w)
    ga = _apply(client, w, group).json()
    assert _leave(client, w, group, 1).status_code == 200
    joined = client.post(f"{GROUPS}/{group['id']}/members", headers=w["ho"],
                         json={"borrower_id": w["people"][4].borrower.id})
    assert joined.status_code == 200, joined.text
    detail = client.get(f"{GA}/{ga['id']}", headers=w["ho"]).json()
    assert (detail["status"], detail["held_reason"], detail["total_amount"]) == ("held", "group_too_small",
                                                                                 "12000.00")
    assert [m["borrower_id"] for m in detail["members"]] == [p.borrower.id for p in w["people"][:3]]
    assert detail["members"][1]["application_status"] == "withdrawn"
    # Held: there is nothing to consent to any more (409); the officer cancels.
    body = assert_problem(_consent(client, w, 0, ga["members"][0]["application_id"]), 409)
    assert body["code"] == "group_application_wrong_state"
    r = client.post(f"{GA}/{ga['id']}/cancel", headers=w["ho"])
    assert (r.status_code, r.json()["status"]) == (200, "cancelled"), r.text


def test_leaving_with_a_loan_approved_for_the_group_is_refused(client, session, runtime, monkeypatch,  # noqa: F811
                                                               world):  # noqa: F811
    w = world
    use_review(monkeypatch, assessment(Decision.APPROVE, grade="B"))
    group = _group(client, w, n=4)
    ga = _apply(client, w, group, amounts=("5000.00", "6000.00", "7000.00", "8000.00")).json()
    for i, m in enumerate(ga["members"]):
        assert _consent(client, w, i, m["application_id"]).status_code == 200
    before = snapshot(runtime.db)
    body = assert_problem(_leave(client, w, group, 0), 409)
    assert (body["field"], body["errors"][0]["code"]) == ("borrower_id", "group_member_loan_open")
    assert snapshot(runtime.db).diff(before) == {}


def _dissolve(client, w, group):  # noqa: F811
    return client.post(f"{GROUPS}/{group['id']}/dissolve", headers=w["ho"])


def test_dissolving_a_group_cancels_its_open_application_and_tells_the_members(client, session, monkeypatch,  # noqa: F811
                                                                              world):  # noqa: F811
    """Three members, two consented, one not yet. Dissolving the group withdraws every undecided part (reason
    `group_dissolved`, each member told in-app and by SMS), takes off the guarantees, cancels the group
    application (audited) and frees the members."""
    w = world
    group = _group(client, w)
    ga = _apply(client, w, group).json()
    apps = [m["application_id"] for m in ga["members"]]
    for i in (0, 1):
        assert _consent(client, w, i, apps[i]).status_code == 200
    r = _dissolve(client, w, group)
    assert (r.status_code, r.json()["status"]) == (200, "dissolved"), r.text
    detail = client.get(f"{GA}/{ga['id']}", headers=w["ho"]).json()
    assert detail["status"] == "cancelled"
    assert [m["application_status"] for m in detail["members"]] == ["withdrawn"] * 3
    mine = client.get(f"/api/v1/me/applications/{apps[2]}", headers=w["hb"][2]).json()
    assert mine["timeline"][-1]["reason_code"] == "group_dissolved"
    session.expire_all()
    told = session.scalars(select(InboxMessage).where(InboxMessage.template == "group_dissolved")).all()
    assert sorted(m.subject_id for m in told) == sorted(apps)
    assert len(session.scalars(select(OutboxMessage).where(OutboxMessage.template == "group_dissolved")).all()) == 3
    [cancelled] = session.scalars(select(AuditRecord).where(AuditRecord.action == "group_application.cancelled",
                                                            AuditRecord.entity_id == str(ga["id"]))).all()
    assert (cancelled.after["reason"], sorted(cancelled.after["withdrawn_application_ids"])) == (
        "group_dissolved", sorted(apps))
    assert not session.scalars(select(ApplicationGuarantor)).all()
    # The members are free: one of them is in a new group at once.
    assert _group(client, w, name="新联保小组")["status"] == "active"


def test_dissolving_a_group_whose_loan_is_approved_is_refused_and_changes_nothing(client, session, runtime,  # noqa: F811
                                                                                 monkeypatch, world):  # noqa: F811
    """Joint liability stands until the group's loans are repaid: with the members' loans approved, the
    dissolution is refused (`group_member_loan_open`) and nothing changes."""
    w = world
    use_review(monkeypatch, assessment(Decision.APPROVE, grade="B"))
    group = _group(client, w)
    ga = _apply(client, w, group).json()
    for i, m in enumerate(ga["members"]):
        assert _consent(client, w, i, m["application_id"]).status_code == 200
    before = snapshot(runtime.db)
    body = assert_problem(_dissolve(client, w, group), 409)
    assert body["errors"][0]["code"] == "group_member_loan_open"
    assert snapshot(runtime.db).diff(before) == {}
