"""The close of business's part of early warning: each running loan scored, its borrower's credit report
re-read when due, the rules run, and warnings raised and routed; then, once over the institution, the
concentration check.

`monitor_loan` (step 90, per loan): the behaviour score of the day is stored (replaced if the step runs
again on the same date, so a resumed run gives the same history); the borrower's report is re-read
every `bureau_refresh_days` (the first read on a day spread by the borrower's id, so that a portfolio's
first month does not ask the bureau for everybody at once); the loan rules run on the facts; a rule
that fires raises a warning unless one of the same rule on the loan is still open or was raised within
`cooldown_days` (so re-running a date raises nothing twice). `monitor_loans` is its set-based part over a
partition in the close of business (issue 18): the same outcome for the loans it does, read and written for
them all at once, and only the warnings raised done loan by loan; it leaves to `monitor_loan` the loans whose
fold of the day is not cached and those whose borrower's report is due to be re-read. `check_concentration`
(step 95, once): the day's scores grouped by branch (region) and product (sector).

A warning goes to the loan's officer (the one who opened it, if they still hold
`risk.warning.handle`), else to the first handler of the loan's branch, else of the institution: an
in-app notification, and an SMS queued in the outbox. The bureau's `overdue_accounts` counts accounts
overdue at any lender; the simulator does not report our own loans, a real bureau would (our own
delinquency is already in the score's DPD).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Protocol

from sqlalchemy.orm import Session

from microcredit.audit import service as audit
from microcredit.clock import Clock
from microcredit.cob.service import steps as cob
from microcredit.identity import service as identity
from microcredit.integrations.bureau import CreditBureau
from microcredit.integrations.email import EmailChannel
from microcredit.notifications import service as notifications
from microcredit.parties import service as parties
from microcredit.platform.actor import Actor
from microcredit.risk.warnings import repository as repo
from microcredit.risk.warnings.behaviour import BehaviourInput, BehaviourModel, PointsModel, score_all
from microcredit.risk.warnings.models import BehaviourScoreRow, BureauRefresh, RiskWarning
from microcredit.risk.warnings.rules import (
    Finding,
    GroupFacts,
    LoanFacts,
    Thresholds,
    concentration_findings,
    loan_findings,
)
from microcredit.risk.warnings.service import thresholds as thresholds_service
from microcredit.servicing.service import loans, quiet
from microcredit.servicing.service.quiet import DayFacts

POINTS = PointsModel()
POSITION, CONCENTRATION_POSITION = 90, 95  # in the close of business: after features (80)
HANDLE = "risk.warning.handle"
LANGUAGE = "zh-CN"
RULE_NAMES = {"score_drop": ("评分下降", "score drop"), "first_missed_payment": ("首次逾期", "first missed payment"),
              "repeated_partial_payments": ("多次部分还款", "repeated partial payments"),
              "bureau_delinquency": ("他行新增逾期", "new delinquency elsewhere"),
              "concentration": ("风险集中", "concentration")}
ACTION_NAMES = {"freeze_limit": ("冻结额度", "freeze the limit"),
                "step_up_collection": ("加强催收", "step up collection"),
                "ask_guarantor": ("要求增加保证人", "ask for a guarantor"),
                "review_portfolio": ("复核该组贷款", "review the portfolio")}


@dataclass(frozen=True, slots=True)
class MonitorKit:
    """What monitoring takes: the clock, identity's kit (staff phones, the SMS signature, keys), the bureau
    and the behaviour model (the points model unless a learnt one replaces it)."""

    clock: Clock
    identity: identity.IdentityKit
    bureau: CreditBureau
    model: BehaviourModel = POINTS
    email: EmailChannel | None = None
    """E-mail to an assignee who has an address (staff_members.email); None: in-app and SMS only."""


def monitor_loan(*, session: Session, kit: MonitorKit, institution_id: int, loan_id: int, on: date
                 ) -> Mapping[str, int]:
    """Step 90 on one loan (module docstring): score stored, bureau refreshed when due, rules run."""
    loan = loans.get(session=session, institution_id=institution_id, loan_id=loan_id)
    if loan.status != "active":
        return {"scored": 0, "warnings": 0, "bureau_refreshed": 0}
    t = thresholds_service.of(session=session, institution_id=institution_id)
    dpd = quiet.dpd_on(session=session, loan=loan, on=on)  # the cached fold's when it is of today: no fold
    features = cob.behaviour_of(session=session, loan_id=loan_id)
    refreshed, now_elsewhere, before_elsewhere = _bureau(session, kit, t, institution_id, loan.borrower_id, on)
    facts = _input(dpd, features, now_elsewhere)
    result = kit.model.score(facts)
    row = repo.score_on(session, loan_id, on)
    if row is None:
        row = BehaviourScoreRow(institution_id=institution_id, loan_id=loan_id, scored_on=on, score=result.score,
                                grade=result.grade, dpd=dpd, model=result.model)
        repo.add(session, row)
    else:
        row.score, row.grade, row.dpd, row.model = result.score, result.grade, dpd, result.model
    recent = tuple(r.score for r in repo.scores(session, loan_id, since=on - timedelta(days=t.score_drop_days),
                                                before=on))
    findings = _findings(t, facts, result.score, recent, repo.was_past_due(session, loan_id, on), refreshed,
                         before_elsewhere)
    raised = 0
    for finding in findings:
        warning = _raise(session, kit, t, institution_id=institution_id, on=on, finding=finding,
                         subject=f"loan:{loan.id}", branch_id=loan.branch_id, loan_id=loan.id,
                         borrower_id=loan.borrower_id, score=result.score, number=loan.number,
                         officer_id=loan.opened_by_user_id)
        raised += warning is not None
    session.flush()
    return {"scored": 1, "warnings": raised, "bureau_refreshed": int(refreshed)}


class _Features(Protocol):
    """The behaviour features the score reads (`cob.behaviour_of`'s row, or `cob.behaviours_of`'s)."""

    @property
    def late_payments(self) -> int: ...
    @property
    def partial_payments(self) -> int: ...
    @property
    def days_since_last_payment(self) -> int | None: ...
    @property
    def max_dpd(self) -> int: ...


def _input(dpd: int, features: _Features | None, overdue_elsewhere: int | None) -> BehaviourInput:
    """What the score reads of a loan: its DPD of the day, its features (none yet: zeros), the bureau's count."""
    return BehaviourInput(dpd=dpd, max_dpd=max(features.max_dpd if features else 0, dpd),
                          late_payments=features.late_payments if features else 0,
                          partial_installments=features.partial_payments if features is not None else 0,
                          days_since_last_payment=features.days_since_last_payment if features else None,
                          overdue_elsewhere=overdue_elsewhere or 0)


def _findings(t: Thresholds, facts: BehaviourInput, score: int, recent: tuple[int, ...], was_past_due: bool,
              refreshed: bool, before_elsewhere: int | None) -> list[Finding]:
    """The loan rules on the day's facts (`recent`: the scores of the last `score_drop_days` days before it)."""
    past_due_before = was_past_due or facts.max_dpd > facts.dpd or facts.late_payments > 0
    return loan_findings(LoanFacts(score=score, recent_scores=recent, dpd=facts.dpd, past_due_before=past_due_before,
                                   partial_installments=facts.partial_installments,
                                   overdue_elsewhere=facts.overdue_elsewhere if refreshed else None,
                                   overdue_elsewhere_before=before_elsewhere), t)


def monitor_loans(*, session: Session, kit: MonitorKit, institution_id: int, on: date, ids: list[int]) -> cob.Bulk:
    """Step 90 over a partition's loans at once (set-based, the same outcome as `monitor_loan` on each): the
    thresholds read once; the loans whose cached fold is of the day (their DPD), their features, their scores of
    today and highest of the last `score_drop_days` days, whether they were past due on an earlier day (for the
    few loans that rule turns on), and their borrowers' last two bureau reports, each in one query; the scores
    written in one INSERT and one UPDATE; the warnings' quiet check in one query; only a rule that fires raises
    (and routes, notifies, audits) loan by loan. Left to `monitor_loan`: a loan without the day's cached fold (it
    folds), and one whose borrower's report is due to be re-read today (the bureau is asked once, by the first of
    the borrower's loans, in the order of the loans)."""
    day = quiet.day_facts(session, institution_id=institution_id, on=on, ids=ids)
    if not day:
        return cob.Bulk(frozenset(), {})
    t = thresholds_service.of(session=session, institution_id=institution_id)
    reports = repo.latest_refreshes(session, sorted({x.borrower_id for x in day.values()}), upto=on)
    bureau: dict[int, tuple[bool, int | None, int | None]] = {}
    for loan_id, loan in day.items():
        latest = reports.get(loan.borrower_id, [])
        if latest and latest[0].refreshed_on == on:  # read today (by another loan, or by this day's earlier run)
            bureau[loan_id] = (True, latest[0].overdue_accounts,
                               latest[1].overdue_accounts if len(latest) > 1 else None)
        elif not _refresh_due(t, latest[0] if latest else None, loan.borrower_id, on):
            bureau[loan_id] = (False, latest[0].overdue_accounts if latest else None, None)
    if not bureau:
        return cob.Bulk(frozenset(), {})
    first, last = min(bureau), max(bureau)
    kept = {r.loan_id: r for r in repo.scores_on(session, first, last, on)}
    # The highest score of the last `score_drop_days` days is all `score_drop` reads of them.
    peak = repo.peaks(session, first, last, since=on - timedelta(days=t.score_drop_days), before=on)
    features = cob.behaviours_of(session=session, loan_ids=sorted(bureau))
    facts_of = {loan_id: _input(day[loan_id].dpd, features.get(loan_id), bureau[loan_id][1]) for loan_id in bureau}
    # Whether a loan was past due on an earlier scored day matters only to `first_missed_payment`, on a loan past
    # due today whose features do not already say it was before: only those are looked up.
    past_due = repo.past_due_before(session, sorted(
        loan_id for loan_id, f in facts_of.items()
        if f.dpd >= t.first_missed_dpd and not (f.max_dpd > f.dpd or f.late_payments > 0)), on)
    new: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    fired: list[tuple[DayFacts, int, Finding]] = []
    refreshed_count = 0
    order = sorted(bureau)
    # The partition's scores at once (the model's batch: the points model's over NumPy columns), each the score
    # `monitor_loan` gives the loan (tests/unit/risk/warnings/test_behaviour.py).
    results = score_all(kit.model, [facts_of[loan_id] for loan_id in order])
    for loan_id, result in zip(order, results, strict=True):
        loan, (refreshed, _, before_elsewhere), facts = day[loan_id], bureau[loan_id], facts_of[loan_id]
        row = kept.get(loan_id)
        if row is None:
            new.append({"institution_id": institution_id, "loan_id": loan_id, "scored_on": on, "score": result.score,
                        "grade": result.grade, "dpd": loan.dpd, "model": result.model})
        elif (row.score, row.grade, row.dpd, row.model) != (result.score, result.grade, loan.dpd, result.model):
            changed.append({"b_id": row.id, "b_score": result.score, "b_grade": result.grade, "b_dpd": loan.dpd,
                            "b_model": result.model})
        refreshed_count += int(refreshed)
        recent = (peak[loan_id],) if loan_id in peak else ()
        fired.extend((loan, result.score, finding) for finding in _findings(
            t, facts, result.score, recent, loan_id in past_due, refreshed, before_elsewhere))
    repo.add_scores(session, new)
    repo.set_scores(session, changed)
    quiet_now = repo.quiet_subjects(session, institution_id, sorted({f"loan:{loan.loan_id}" for loan, _, _ in fired}),
                                    on - timedelta(days=max(t.cooldown_days - 1, 0)))
    raised = 0
    for loan, score, finding in fired:
        if (finding.rule, f"loan:{loan.loan_id}") in quiet_now:
            continue
        warning = _raise(session, kit, t, institution_id=institution_id, on=on, finding=finding,
                         subject=f"loan:{loan.loan_id}", branch_id=loan.branch_id, loan_id=loan.loan_id,
                         borrower_id=loan.borrower_id, score=score, number=loan.number, officer_id=loan.officer_id)
        raised += warning is not None
    session.flush()
    return cob.Bulk(frozenset(bureau), {"scored": len(bureau), "warnings": raised, "bureau_refreshed": refreshed_count})


def _refresh_due(t: Thresholds, last: BureauRefresh | None, borrower_id: int, on: date) -> bool:
    if last is None:
        return borrower_id % t.bureau_refresh_days == on.toordinal() % t.bureau_refresh_days
    return (on - last.refreshed_on).days >= t.bureau_refresh_days


def _bureau(session: Session, kit: MonitorKit, t: Thresholds, institution_id: int, borrower_id: int, on: date
            ) -> tuple[bool, int | None, int | None]:
    """(re-read today?, accounts overdue elsewhere by the latest report, by the one before it)."""
    latest = repo.refreshes(session, borrower_id, upto=on)
    if latest and latest[0].refreshed_on == on:  # another loan of the borrower read it today
        return True, latest[0].overdue_accounts, latest[1].overdue_accounts if len(latest) > 1 else None
    last = latest[0] if latest else None
    if not _refresh_due(t, last, borrower_id, on):
        return False, last.overdue_accounts if last else None, None
    borrower = parties.groups.borrower(session=session, borrower_id=borrower_id)
    resident = parties.borrowers.resident_id_of(kit=kit.identity, borrower=borrower)
    report = kit.bureau.report(id_number=resident.number, name=borrower.real_name, on=on)
    repo.add(session, BureauRefresh(institution_id=institution_id, borrower_id=borrower_id, refreshed_on=on,
                                    report_number=report.report_number,
                                    overdue_accounts=report.summary.overdue_accounts,
                                    overdue_minor=report.summary.overdue_minor))
    return True, report.summary.overdue_accounts, last.overdue_accounts if last else None


def check_concentration(*, session: Session, kit: MonitorKit, institution_id: int, on: date) -> Mapping[str, int]:
    """Step 95, once over the institution: the day's scored loans by branch and by product; a group where
    the deteriorating share reaches the threshold raises a warning to its handlers. The groups are counted in
    SQL (two GROUP BY queries over the day's scores joined to the loans' branch and product), not loan by loan."""
    t = thresholds_service.of(session=session, institution_id=institution_id)
    counts = repo.concentration_counts(session, institution_id, on, loans.groups())
    groups = [GroupFacts(kind, key, n, bad) for (kind, key), (n, bad) in sorted(counts.items())]
    raised = 0
    for group, finding in concentration_findings(groups, t):
        branch_id = int(group.key) if group.kind == "branch" else None
        warning = _raise(session, kit, t, institution_id=institution_id, on=on, finding=finding,
                         subject=f"{group.kind}:{group.key}", branch_id=branch_id, loan_id=None, borrower_id=None,
                         score=None, number=f"{group.kind}:{group.key}", officer_id=None)
        raised += warning is not None
    session.flush()
    return {"groups": len(groups), "warnings": raised}


def _raise(session: Session, kit: MonitorKit, t: Thresholds, *, institution_id: int, on: date, finding: Finding,
           subject: str, branch_id: int | None, loan_id: int | None, borrower_id: int | None, score: int | None,
           number: str, officer_id: int | None) -> RiskWarning | None:
    """A warning raised and routed, unless the rule is quiet on the subject (open, or within the cooldown)."""
    since = on - timedelta(days=max(t.cooldown_days - 1, 0))
    if repo.quiet_reason(session, institution_id, finding.rule, subject, since):
        return None
    assignee = _responsible(session, institution_id, branch_id, officer_id)
    warning = RiskWarning(institution_id=institution_id, branch_id=branch_id, loan_id=loan_id,
                          borrower_id=borrower_id, subject=subject, rule=finding.rule, severity=finding.severity,
                          raised_on=on, details=finding.details, score=score,
                          suggested_action=finding.suggested_action, status="open", assigned_user_id=assignee,
                          created_at=kit.clock.now())
    repo.add(session, warning)
    audit.record(session=session, clock=kit.clock, actor=Actor.system(institution_id), action="risk_warning.raised",
                 entity_type="risk_warning", entity_id=warning.id, institution_id=institution_id,
                 after={"rule": finding.rule, "subject": subject, "details": finding.details,
                        "suggested_action": finding.suggested_action, "assigned_user_id": assignee})
    if assignee is not None:
        _notify(session, kit, warning, assignee, number)
    return warning


def _responsible(session: Session, institution_id: int, branch_id: int | None, officer_id: int | None) -> int | None:
    """The loan's officer if they handle warnings, else the branch's first handler, else the institution's."""
    handlers = identity.accounts.staff_holding(session=session, institution_id=institution_id, permission=HANDLE,
                                               branch_id=branch_id if branch_id is not None else False)
    if officer_id is not None and any(h.id == officer_id for h in handlers):
        return officer_id
    if not handlers and branch_id is not None:
        handlers = identity.accounts.staff_holding(session=session, institution_id=institution_id,
                                                   permission=HANDLE)
    return min((h.id for h in handlers), default=None)


def _notify(session: Session, kit: MonitorKit, warning: RiskWarning, user_id: int, number: str) -> None:
    """In-app, an SMS through the outbox (sent after commit by the dispatcher), and an e-mail through the
    e-mail channel when the assignee has an address (the simulator stores it in the same transaction)."""
    rule_zh, rule_en = RULE_NAMES[warning.rule]
    action_zh, action_en = ACTION_NAMES[warning.suggested_action]
    params: dict[str, Any] = {"number": number, "rule": warning.rule, "action": warning.suggested_action}
    notifications.notify_user(session, clock=kit.clock, institution_id=warning.institution_id, user_id=user_id,
                              template="early_warning_raised", params=params, subject_kind="risk_warning",
                              subject_id=warning.id)
    phone = identity.accounts.phone(session=session, kit=kit.identity, user_id=user_id)
    notifications.enqueue_sms(session=session, cipher=kit.identity.keys.cipher, clock=kit.clock,
                              institution_id=warning.institution_id, phone=phone, template="early_warning_raised",
                              params={"signature": kit.identity.sender_name(session, warning.institution_id,
                                                                            LANGUAGE),
                                      "number": number, "rule_zh": rule_zh, "rule_en": rule_en,
                                      "action_zh": action_zh, "action_en": action_en},
                              language=LANGUAGE)
    staff = parties.staff.staff_of_user(session=session, user_id=user_id)
    if kit.email is not None and staff is not None and staff.email:
        subject = f"贷后预警 / Early warning: {number} · {rule_zh} / {rule_en}"
        body = (f"贷款 {number} 触发贷后预警（{rule_zh}），建议措施：{action_zh}。"
                f"请登录员工端处理（预警 #{warning.id}）。\n\n"
                f"Loan {number} raised an early warning ({rule_en}); suggested action: {action_en}. Please handle it "
                f"in the staff console (warning #{warning.id}).")
        kit.email.send(session=session, to=staff.email, subject=subject, body=body,
                       message_id=f"risk_warning:{warning.id}:{user_id}")
