"""Early warning over real loans (SQLite, PostgreSQL, MariaDB): closes of business score the loans and raise
warnings (first missed payment, score drop, concentration), idempotently on a re-run; a warning's action is
proposed by one person and applied on a second person's approval (collection stepped up, borrower frozen),
audited; refusals change nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from microcredit.cob import service as cob
from microcredit.collections.models import CollectionCase
from microcredit.integrations.email import SimulatedEmailServer
from microcredit.integrations.models import SimulatedEmail
from microcredit.notifications.models import InboxMessage, OutboxMessage
from microcredit.parties.models import StaffMember
from microcredit.platform.actor import Actor
from microcredit.risk.warnings.models import BehaviourScoreRow, BureauRefresh, RiskWarning
from microcredit.risk.warnings.service import thresholds
from tests.factories import make_staff
from tests.integration.cob.support import move_to, open_portfolio
from tests.integration.helpers import assert_problem, audit_records, shared_client, signed_in, snapshot

W = "/api/v1/risk/warnings"


@pytest.fixture
def client(runtime, backend):
    yield from shared_client(runtime, backend)


def close(runtime, inst_id, day):
    """Close `day` in-process, as `microcredit cob run` does."""
    run_id = runtime.db.run(lambda s: cob.runs.start(session=s, clock=runtime.clock, actor=Actor.system(inst_id),
                                                     institution_id=inst_id, on=day, partition_size=2,
                                                     lease_seconds=60).id)
    cob.runs.execute(db=runtime.db, kit=runtime.cob, run_id=run_id)


@pytest.fixture
def late(client, session, runtime, monkeypatch):
    """Three loans (the first paid by auto-debit, the two others not) closed from the day before the first due
    date to five days after it (past the product's grace days); a loan officer and a branch manager who handle
    warnings; concentration set to fire at half of at least two loans; credit reports re-read daily."""
    p = open_portfolio(client, session, runtime, monkeypatch)
    officer = make_staff(session, runtime, p.inst, roles=("loan_officer",), password=None)
    manager = make_staff(session, runtime, p.inst, roles=("branch_manager",), password=None)
    # The officer has an e-mail address (warnings routed to them are mailed too); the manager has none.
    session.get(StaffMember, officer.staff_id).email = "Li.Officer@example.com"
    thresholds.update(session=session, clock=runtime.clock, actor=Actor.system(p.inst.id), institution_id=p.inst.id,
                      changes={"concentration_min_loans": 2, "bureau_refresh_days": 1})
    session.commit()
    due = p.first_due
    move_to(session, runtime, p.inst.id, due - timedelta(days=2))
    days = [due + timedelta(days=n) for n in range(-1, 6)]
    for day in days:
        close(runtime, p.inst.id, day)
    ho, hm = signed_in(session, runtime, officer.user), signed_in(session, runtime, manager.user)
    session.commit()
    return {"p": p, "due": due, "days": days, "ho": ho, "hm": hm, "officer": officer, "manager": manager}


def test_close_of_business_scores_loans_and_raises_warnings_once(client, session, runtime, database, late):
    p = late["p"]
    session.expire_all()
    history = session.scalars(select(BehaviourScoreRow).where(BehaviourScoreRow.loan_id == p.loan_ids[1])
                              .order_by(BehaviourScoreRow.scored_on)).all()
    assert [r.scored_on for r in history] == late["days"]
    dpds = [r.dpd for r in history]
    first_late = late["days"][next(i for i, d in enumerate(dpds) if d > 0)]
    assert dpds[-1] > 0
    assert dpds == sorted(dpds)
    assert history[0].score > history[-1].score  # past due: the score falls
    assert session.scalar(select(BureauRefresh.id).where(BureauRefresh.institution_id == p.inst.id)) is not None
    warnings = session.scalars(select(RiskWarning).where(RiskWarning.institution_id == p.inst.id)).all()
    by_rule = sorted((w.rule, w.loan_id, w.raised_on) for w in warnings)
    late_loans = p.loan_ids[1:]  # the first was paid by auto-debit
    assert [x for x in by_rule if x[0] == "first_missed_payment"] == [
        ("first_missed_payment", loan_id, first_late) for loan_id in late_loans]
    assert [x[1] for x in by_rule if x[0] == "score_drop"] == late_loans
    concentration = [w for w in warnings if w.rule == "concentration"]
    assert [(w.subject, w.details["loans"], w.details["deteriorating"]) for w in concentration] == [
        (f"product:{p_code}", 3, 2) for p_code in {w.subject.split(":")[1] for w in concentration}]
    assert all(w.status == "open" and w.assigned_user_id is not None for w in warnings)
    # Routed: an in-app notification and an SMS in the outbox per warning.
    inbox = session.scalars(select(InboxMessage).where(InboxMessage.template == "early_warning_raised")).all()
    assert sorted(m.subject_id for m in inbox if m.institution_id == p.inst.id) == sorted(w.id for w in warnings)
    assert session.scalar(select(OutboxMessage.id).where(OutboxMessage.template == "early_warning_raised",
                                                         OutboxMessage.institution_id == p.inst.id)) is not None

    # And an e-mail (the e-mail server simulator's mailbox) to an assignee who has an address, once per warning.
    mails = session.scalars(select(SimulatedEmail).order_by(SimulatedEmail.id)).all()
    to_officer = sorted(f"risk_warning:{w.id}:{w.assigned_user_id}" for w in warnings
                        if w.assigned_user_id == late["officer"].user.id)
    assert to_officer
    assert sorted(m.message_id for m in mails if m.message_id.startswith("risk_warning:")
                  and m.message_id.endswith(f":{late['officer'].user.id}")) == to_officer
    assert not any(m.message_id.endswith(f":{late['manager'].user.id}") for m in mails)
    box = SimulatedEmailServer(blind_index=runtime.keys.blind_index, clock=runtime.clock)
    mailbox = box.mailbox(session, "li.officer@example.com", limit=100)
    assert len(mailbox) == len(to_officer)
    assert mailbox[0].address_masked == "L********r@example.com"
    assert "贷后预警" in mailbox[0].subject

    # Every step done again on the last date (what a resumed run may do): nothing changes.
    before = snapshot(database)
    last = late["days"][-1]
    for s in cob.steps.registered():
        if s.whole is not None:
            runtime.db.run(lambda x, s=s: s.whole(x, runtime.cob, p.inst.id, last))
            continue
        for loan_id in p.loan_ids:
            at = cob.steps.LoanAt(p.inst.id, loan_id, last)
            runtime.db.run(lambda x, s=s, at=at: s.run(x, runtime.cob, at))
    assert before.diff(snapshot(database)) == {}

    # The queue, filtered, and the detail with the score history.
    page = client.get(W, headers=late["hm"], params={"rule": "first_missed_payment", "status": "open"}).json()
    assert page["total"] == 2
    assert {w["loan_id"] for w in page["items"]} == set(late_loans)
    assert all(w["loan_number"] and w["borrower_name"] for w in page["items"])
    detail = client.get(f"{W}/{page['items'][0]['id']}", headers=late["hm"]).json()
    assert [s["scored_on"] for s in detail["scores"]] == [d.isoformat() for d in late["days"]]
    assert detail["suggested_action"] == "step_up_collection"
    scores = client.get(f"/api/v1/risk/loans/{detail['loan_id']}/behaviour-scores", headers=late["hm"]).json()
    assert [s["score"] for s in scores] == [s["score"] for s in detail["scores"]]


def test_an_action_is_proposed_then_applied_on_a_second_persons_approval(client, session, runtime, database, late):
    p = late["p"]
    page = client.get(W, headers=late["hm"], params={"rule": "first_missed_payment"}).json()
    warning = page["items"][0]
    session.expire_all()
    case = session.scalar(select(CollectionCase).where(CollectionCase.loan_id == warning["loan_id"]))
    assert case is not None
    assert case.stage == "reminder"  # opened by collections' own step

    # Bad input and refusals change nothing.
    before = snapshot(database)
    assert assert_problem(client.post(f"{W}/{warning['id']}/propose", headers=late["ho"],
                                      json={"action": "sell_the_loan"}), 422)["field"] == "action"
    refused = assert_problem(client.post(f"{W}/{warning['id']}/propose", headers=late["ho"],
                                         json={"action": "review_portfolio"}), 422)
    assert (refused["code"], refused["field"]) == ("warning_action_not_applicable", "action")
    assert assert_problem(client.post(f"{W}/{warning['id']}/approve", headers=late["hm"], json={}),
                          409)["code"] == "warning_wrong_state"
    bad = assert_problem(client.put("/api/v1/risk/warning-thresholds", headers=late["hm"],
                                    json={"score_drop_points": 5}), 403)
    assert bad["code"] == "permission_denied"
    assert before.diff(snapshot(database)) == {}

    proposed = client.post(f"{W}/{warning['id']}/propose", headers=late["ho"], json={"note": "电话未接通"})
    assert proposed.status_code == 200, proposed.text
    assert (proposed.json()["status"], proposed.json()["proposed_action"]) == ("proposed", "step_up_collection")
    # The proposal waits on the manager's to-dos, not on the proposer's.
    def waiting(headers):
        items = client.get("/api/v1/me/todos", headers=headers).json()["items"]
        return {t["code"]: t["count"] for t in items}["risk_warning_actions_waiting"]

    assert (waiting(late["hm"]), waiting(late["ho"])) == (1, 0)
    mine = client.post(f"{W}/{warning['id']}/approve", headers=late["ho"], json={})
    assert assert_problem(mine, 403)["code"] == "warning_self_approval"
    # The phone stage texts its template on entry: a case stepped up into it is texted as a synced one is.
    rules = client.get("/api/v1/collections/settings", headers=late["hm"]).json()
    rules.pop("version")
    rules["stages"][1]["sms_template"] = "reminder"
    assert client.put("/api/v1/collections/settings", headers=late["hm"], json=rules).status_code == 200
    texts = select(OutboxMessage.id).where(OutboxMessage.template == "collection_message")
    texted_before = len(session.scalars(texts).all())
    approved = client.post(f"{W}/{warning['id']}/approve", headers=late["hm"], json={"note": "同意"})
    assert approved.status_code == 200, approved.text
    body = approved.json()
    assert body["status"] == "actioned"
    assert body["outcome"]["case_id"] == case.id
    session.expire_all()
    case = session.get(CollectionCase, case.id)
    assert case.stage == case.stage_floor == body["outcome"]["stage"] == "phone"
    assert len(session.scalars(texts).all()) == texted_before + 1
    [sms] = [a for a in audit_records(session, "collection.sms", case.id) if a.after["stage"] == "phone"]
    assert (sms.after["template"], sms.after["automatic"]) == ("reminder", True)
    assert [r.after["action"] for r in audit_records(session, "risk_warning.action_approved", warning["id"])] == [
        "step_up_collection"]
    assert audit_records(session, "risk_warning.action_proposed", warning["id"])
    assert audit_records(session, "collection.case_escalated", case.id)[-1].after["reason"] == \
        f"risk_warning:{warning['id']}"
    # The next close of business keeps the stepped-up stage.
    close(runtime, p.inst.id, late["days"][-1] + timedelta(days=1))
    session.expire_all()
    assert session.get(CollectionCase, case.id).stage == body["outcome"]["stage"]

    # A score drop's freeze: the borrower is frozen; on the loan, the warnings show with their outcome.
    drop = client.get(W, headers=late["hm"], params={"rule": "score_drop", "loan_id": warning["loan_id"]}).json()
    [drop_warning] = drop["items"]
    assert client.post(f"{W}/{drop_warning['id']}/propose", headers=late["hm"], json={}).status_code == 200
    frozen = client.post(f"{W}/{drop_warning['id']}/approve", headers=late["ho"], json={}).json()
    assert frozen["borrower_frozen"] is True
    assert frozen["outcome"]["credit_line"] is None
    # The freeze is lifted in one step by the risk officer, with the reason (not by those who handle warnings).
    lift = f"{W}/{drop_warning['id']}/lift-freeze"
    assert assert_problem(client.post(lift, headers=late["hm"], json={"note": "已核实"}), 403)["code"] == \
        "permission_denied"
    risk_officer = make_staff(session, runtime, p.inst, roles=("risk_officer",), password=None)
    h_risk = signed_in(session, runtime, risk_officer.user)
    session.commit()
    lifted = client.post(lift, headers=h_risk, json={"note": "已核实收入恢复"})
    assert lifted.status_code == 200, lifted.text
    assert lifted.json()["borrower_frozen"] is False
    assert audit_records(session, "risk_warning.freeze_lifted", drop_warning["id"])[0].after["note"] == "已核实收入恢复"
    assert assert_problem(client.post(lift, headers=h_risk, json={"note": "再次"}), 409)["code"] == \
        "borrower_not_frozen"
    on_loan = client.get(W, headers=late["ho"], params={"loan_id": warning["loan_id"]}).json()
    assert {(w["rule"], w["status"]) for w in on_loan["items"]} == {("first_missed_payment", "actioned"),
                                                                   ("score_drop", "actioned")}
    # A concentration warning is dismissed with a reason; a decided one takes nothing more.
    [conc, *_] = client.get(W, headers=late["hm"], params={"rule": "concentration"}).json()["items"]
    assert assert_problem(client.post(f"{W}/{conc['id']}/dismiss", headers=late["hm"], json={}), 422)
    dismissed = client.post(f"{W}/{conc['id']}/dismiss", headers=late["hm"], json={"note": "季节性"}).json()
    assert dismissed["status"] == "dismissed"
    assert assert_problem(client.post(f"{W}/{conc['id']}/propose", headers=late["hm"], json={}),
                          409)["code"] == "warning_wrong_state"


def test_thresholds_are_the_institutions_and_refused_out_of_range(client, session, runtime, database):
    from tests.factories import make_institution

    inst = make_institution(session, runtime)
    risk = make_staff(session, runtime, inst, roles=("risk_officer",), password=None)
    h = signed_in(session, runtime, risk.user)
    session.commit()
    url = "/api/v1/risk/warning-thresholds"
    assert client.get(url, headers=h).json()["score_drop_points"] == 60
    before = snapshot(database)
    bad = assert_problem(client.put(url, headers=h, json={"score_drop_points": 80, "concentration_share": "1.5"}), 422)
    assert (bad["code"], bad["field"]) == ("warning_thresholds_invalid", "concentration_share")
    assert before.diff(snapshot(database)) == {}
    ok = client.put(url, headers=h, json={"score_drop_points": 80, "concentration_share": "0.25"})
    assert ok.status_code == 200, ok.text
    assert (ok.json()["score_drop_points"], ok.json()["concentration_share"], ok.json()["cooldown_days"]) == (
        80, "0.25", 30)
    assert audit_records(session, "risk_warning.thresholds_changed", inst.id)


def test_a_frozen_borrowers_new_application_is_referred_to_people(session, runtime):
    from dataclasses import replace as changed

    from microcredit.risk import samples
    from microcredit.risk import service as risk
    from microcredit.risk.assessment import Decision
    from microcredit.risk.warnings.models import BorrowerFreeze
    from tests.factories import make_borrower, make_institution

    inst = make_institution(session, runtime)
    holder = make_borrower(session, runtime, inst, password=None)
    facts = samples.base_facts(institution_id=inst.id)
    assert risk.assess(session, facts).decision == Decision.APPROVE
    warning = RiskWarning(institution_id=inst.id, borrower_id=holder.borrower.id, subject="loan:0", rule="score_drop",
                          severity="high", raised_on=inst.business_date, details={}, suggested_action="freeze_limit",
                          status="actioned", created_at=runtime.clock.now())
    session.add(warning)
    session.flush()
    freeze = BorrowerFreeze(institution_id=inst.id, borrower_id=holder.borrower.id, warning_id=warning.id,
                            id_number_index=runtime.keys.blind_index(facts.id_number, domain="id_number"),
                            frozen_on=inst.business_date, created_at=runtime.clock.now())
    session.add(freeze)
    session.flush()
    referred = risk.assess(session, facts)
    assert referred.decision == Decision.REFER
    assert [(r.code, r.outcome) for r in referred.results][-1] == ("early_warning_freeze", "flag")
    # Another institution's freeze, or a lifted one, refers nothing.
    assert risk.assess(session, changed(facts, institution_id=make_institution(session, runtime).id)
                       ).decision != Decision.REFER
    freeze.lifted_on = inst.business_date
    session.flush()
    assert risk.assess(session, facts).decision == Decision.APPROVE


class _Bureau:
    """The simulator's report with the accounts overdue elsewhere set by the test, read by read."""

    name = "scripted"

    def __init__(self, overdue: list[int]) -> None:
        from microcredit.integrations.bureau import SimulatedBureau

        self.inner, self.overdue = SimulatedBureau(), list(overdue)

    def report(self, *, id_number, name, on):
        from dataclasses import replace as changed

        report = self.inner.report(id_number=id_number, name=name, on=on)
        return changed(report, summary=changed(report.summary, overdue_accounts=self.overdue.pop(0)))


def test_a_refreshed_bureau_report_with_more_accounts_overdue_elsewhere_raises_a_warning(client, session, runtime,
                                                                                        monkeypatch):
    from microcredit.risk.warnings.service import monitoring

    p = open_portfolio(client, session, runtime, monkeypatch, amounts=("8000.00",))
    make_staff(session, runtime, p.inst, roles=("loan_officer",), password=None)
    thresholds.update(session=session, clock=runtime.clock, actor=Actor.system(p.inst.id), institution_id=p.inst.id,
                      changes={"bureau_refresh_days": 10})
    session.commit()
    kit = monitoring.MonitorKit(clock=runtime.clock, identity=runtime.identity, bureau=_Bureau([0, 0, 2]))
    [loan_id] = p.loan_ids
    start = p.first_due - timedelta(days=25)
    # The first read falls on the day the borrower's id spreads it to; from then on every 10 days.
    for day in [start + timedelta(days=n) for n in range(30)]:
        runtime.db.run(lambda s, day=day: monitoring.monitor_loan(session=s, kit=kit, institution_id=p.inst.id,
                                                                  loan_id=loan_id, on=day))
    session.expire_all()
    reads = session.scalars(select(BureauRefresh).order_by(BureauRefresh.refreshed_on)).all()
    reads = [r for r in reads if r.institution_id == p.inst.id]
    assert [r.overdue_accounts for r in reads] == [0, 0, 2]
    assert [(reads[1].refreshed_on - reads[0].refreshed_on).days, (reads[2].refreshed_on - reads[1].refreshed_on).days
            ] == [10, 10]
    [warning] = session.scalars(select(RiskWarning).where(RiskWarning.institution_id == p.inst.id,
                                                          RiskWarning.rule == "bureau_delinquency")).all()
    assert (warning.raised_on, warning.details, warning.suggested_action) == (
        reads[2].refreshed_on, {"before": 0, "now": 2}, "freeze_limit")


def test_calling_the_loan_early_is_applied_through_servicing_by_one_who_approves_loan_changes(
        client, session, runtime, database, late):
    page = client.get(W, headers=late["hm"], params={"rule": "first_missed_payment"}).json()
    warning = page["items"][0]
    loan_path = f"/api/v1/loans/{warning['loan_id']}"
    proposed = client.post(f"{W}/{warning['id']}/propose", headers=late["ho"],
                           json={"action": "call_early", "note": "多次违约"})
    assert proposed.status_code == 200, proposed.text
    assert proposed.json()["proposed_action"] == "call_early"
    # A second loan officer handles warnings but does not decide loan changes: refused, nothing changes.
    other = make_staff(session, runtime, late["p"].inst, roles=("loan_officer",), password=None)
    h_other = signed_in(session, runtime, other.user)
    session.commit()
    before = snapshot(database)
    refused = assert_problem(client.post(f"{W}/{warning['id']}/approve", headers=h_other, json={}), 403)
    assert refused["code"] == "warning_action_not_permitted"
    assert before.diff(snapshot(database)) == {}
    approved = client.post(f"{W}/{warning['id']}/approve", headers=late["hm"], json={"note": "同意提前收回"})
    assert approved.status_code == 200, approved.text
    outcome = approved.json()["outcome"]
    loan = client.get(loan_path, headers=late["hm"]).json()
    assert loan["state"]["accelerated_on"] == outcome["accelerated_on"]
    call = next(e for e in loan["events"] if e["type"] == "acceleration")
    assert (call["payload"]["reason"], call["event_id"]) == ("early_warning", outcome["event_id"])
    assert outcome["amount_due"] == loan["state"]["payoff"]["total"]
    assert audit_records(session, "loan.acceleration", warning["loan_id"])
    # The loan is called once: another warning's call is refused by servicing, and nothing changes.
    drop = client.get(W, headers=late["hm"], params={"rule": "score_drop", "loan_id": warning["loan_id"]}).json()
    [drop_warning] = drop["items"]
    assert client.post(f"{W}/{drop_warning['id']}/propose", headers=late["ho"],
                       json={"action": "call_early"}).status_code == 200
    before = snapshot(database)
    again = assert_problem(client.post(f"{W}/{drop_warning['id']}/approve", headers=late["hm"], json={}), 422)
    assert again["code"] == "loan_event_refused"
    assert before.diff(snapshot(database)) == {}
