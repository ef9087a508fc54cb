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
them all at once as columns, the reports due read once per borrower, and only the warnings raised done loan by
loan; it leaves to `monitor_loan` the loans whose fold of the day is not cached. `check_concentration`
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
from microcredit.risk.warnings.behaviour import (
    BehaviourColumns,
    BehaviourInput,
    BehaviourModel,
    PointsModel,
    ScoreColumns,
    score_columns,
)
from microcredit.risk.warnings.models import BehaviourScoreRow, BureauRefresh, RiskWarning
from microcredit.risk.warnings.rules import (
    Finding,
    GroupFacts,
    LoanFacts,
    Thresholds,
    concentration_findings,
    loan_findings,
    may_fire,
)
from microcredit.risk.warnings.service import thresholds as thresholds_service
from microcredit.servicing.service import loans, quiet

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
    """The behaviour features the score reads (`cob.behaviour_of`'s row, or `cob.behaviours_between`'s)."""

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
    today and highest of the last `score_drop_days` days, and their borrowers' last two bureau reports, each in one
    query by the partition's id range, as columns (no object a loan, no `IN` list of ids); a borrower whose report is
    due today has it read here, once, in the order of each borrower's first loan (as `monitor_loan` reads it on the
    first of them); the scores by the model over the columns, written in one statement (an UPDATE for a re-run's);
    the rules (`_findings`, as `monitor_loan`) asked only of the loans `rules.may_fire` keeps, and whether those
    were past due on an earlier day read for the few the first-missed rule turns on; the warnings' quiet check in
    one query; only a rule that fires raises (and routes, notifies, audits) loan by loan. Left to `monitor_loan`: a
    loan without the day's cached fold (it folds)."""
    day = quiet.day_facts(session, institution_id=institution_id, on=on, ids=ids)
    if not day.loan_ids:
        return cob.Bulk(frozenset(), {})
    t = thresholds_service.of(session=session, institution_id=institution_id)
    reports = repo.latest_refreshes(session, loans.partition_borrowers(),
                                    {"loans_first": day.loan_ids[0], "loans_last": day.loan_ids[-1]}, upto=on)
    bureau: dict[int, tuple[bool, int | None, int | None]] = {}
    read: list[BureauRefresh] = []
    for borrower_id in dict.fromkeys(day.borrower_ids):  # in the order of each borrower's first loan
        latest = reports.get(borrower_id, [])
        answer = _bureau_known(t, latest, borrower_id, on)
        if answer is None:  # due today: read now, as `monitor_loan` on the borrower's first loan reads it
            read.append(_report(session, kit, institution_id, borrower_id, on))
            answer = (True, None, latest[0][1] if latest else None)
        bureau[borrower_id] = answer
    # Stored unless another worker's partition stored the borrower's report of the day first: that one is read back.
    stored = repo.add_refreshes(session, read, on)
    for borrower_id, overdue in stored.items():
        bureau[borrower_id] = (True, overdue, bureau[borrower_id][2])
    loan_ids, dpd = list(day.loan_ids), list(day.dpd)
    known = [bureau[borrower_id] for borrower_id in day.borrower_ids]
    first, last = loan_ids[0], loan_ids[-1]
    kept = {r.loan_id: r for r in repo.scores_on(session, first, last, on)}
    # The highest score of the last `score_drop_days` days is all `score_drop` reads of them.
    peaks = repo.peaks(session, first, last, since=on - timedelta(days=t.score_drop_days), before=on)
    features = cob.behaviours_between(session=session, first=first, last=last)
    facts = _inputs(dpd, [features.get(loan_id) for loan_id in loan_ids], [k[1] for k in known])
    # The partition's scores at once (the points model's over NumPy columns), each the score `monitor_loan` gives
    # the loan (tests/unit/risk/warnings/test_behaviour.py).
    result = score_columns(kit.model, facts)
    peak = [peaks.get(loan_id) for loan_id in loan_ids]
    refreshed = [k[0] for k in known]
    candidates = may_fire(t, score=result.score, peak=peak, dpd=dpd, partial_installments=facts.partial_installments,
                          compared=[k[0] and k[2] is not None for k in known]).nonzero()[0].tolist()
    # Whether a loan was past due on an earlier scored day matters only to `first_missed_payment`, on a loan past
    # due today whose features do not already say it was before: only those are looked up.
    past_due = repo.past_due_before(session, [
        loan_ids[i] for i in candidates if facts.dpd[i] >= t.first_missed_dpd
        and not (facts.max_dpd[i] > facts.dpd[i] or facts.late_payments[i] > 0)], on)
    fired: list[tuple[int, Finding]] = []  # (the loan's place in the columns, what fired), in the order of the loans
    for i in candidates:
        recent = () if (highest := peak[i]) is None else (highest,)
        fired.extend((i, finding) for finding in _findings(
            t, facts.row(i), result.score[i], recent, loan_ids[i] in past_due, refreshed[i], known[i][2]))
    _write_scores(session, institution_id, on, kept, loan_ids, result, dpd)
    quiet_now = repo.quiet_subjects(session, institution_id, sorted({f"loan:{loan_ids[i]}" for i, _ in fired}),
                                    on - timedelta(days=max(t.cooldown_days - 1, 0)))
    raised = 0
    for i, finding in fired:
        if (finding.rule, f"loan:{loan_ids[i]}") in quiet_now:
            continue
        warning = _raise(session, kit, t, institution_id=institution_id, on=on, finding=finding,
                         subject=f"loan:{loan_ids[i]}", branch_id=day.branch_ids[i], loan_id=loan_ids[i],
                         borrower_id=day.borrower_ids[i], score=result.score[i], number=day.numbers[i],
                         officer_id=day.officer_ids[i])
        raised += warning is not None
    session.flush()
    return cob.Bulk(frozenset(loan_ids), {"scored": len(loan_ids), "warnings": raised,
                                          "bureau_refreshed": sum(refreshed)})


def _inputs(dpd: list[int], features: list[_Features | None], overdue_elsewhere: list[int | None]
            ) -> BehaviourColumns:
    """`_input` of many loans, as columns."""
    return BehaviourColumns(
        dpd=dpd, max_dpd=[max(f.max_dpd if f is not None else 0, d) for f, d in zip(features, dpd, strict=True)],
        late_payments=[f.late_payments if f is not None else 0 for f in features],
        partial_installments=[f.partial_payments if f is not None else 0 for f in features],
        days_since_last_payment=[f.days_since_last_payment if f is not None else None for f in features],
        overdue_elsewhere=[n or 0 for n in overdue_elsewhere])


def _write_scores(session: Session, institution_id: int, on: date, kept: dict[int, Any], loan_ids: list[int],
                  result: ScoreColumns, dpd: list[int]) -> None:
    """The day's scores: new ones in one statement; a score already there (the day run again) replaced if it
    differs, in one executemany UPDATE."""
    if not kept:
        repo.add_scores(session, institution_id, on, {"loan_id": loan_ids, "score": result.score,
                                                      "grade": result.grade, "dpd": dpd, "model": result.model})
        return
    new = [j for j, loan_id in enumerate(loan_ids) if loan_id not in kept]
    repo.add_scores(session, institution_id, on, {
        "loan_id": [loan_ids[j] for j in new], "score": [result.score[j] for j in new],
        "grade": [result.grade[j] for j in new], "dpd": [dpd[j] for j in new], "model": [result.model[j] for j in new]})
    changed: list[dict[str, Any]] = []
    for j, loan_id in enumerate(loan_ids):
        row = kept.get(loan_id)
        now = (result.score[j], result.grade[j], dpd[j], result.model[j])
        if row is not None and (row.score, row.grade, row.dpd, row.model) != now:
            changed.append({"b_id": row.id, "b_score": now[0], "b_grade": now[1], "b_dpd": now[2], "b_model": now[3]})
    repo.set_scores(session, changed)


def _refresh_due(t: Thresholds, last_on: date | None, borrower_id: int, on: date) -> bool:
    if last_on is None:
        return borrower_id % t.bureau_refresh_days == on.toordinal() % t.bureau_refresh_days
    return (on - last_on).days >= t.bureau_refresh_days


def _bureau_known(t: Thresholds, latest: list[tuple[date, int]], borrower_id: int, on: date
                  ) -> tuple[bool, int | None, int | None] | None:
    """`_bureau`'s answer from a borrower's last two reports (refreshed on, overdue accounts), newest first, when no
    report is to be read today; None when one is."""
    if latest and latest[0][0] == on:  # read today (by another loan, or by this day's earlier run)
        return True, latest[0][1], latest[1][1] if len(latest) > 1 else None
    if _refresh_due(t, latest[0][0] if latest else None, borrower_id, on):
        return None
    return False, latest[0][1] if latest else None, None


def _bureau(session: Session, kit: MonitorKit, t: Thresholds, institution_id: int, borrower_id: int, on: date
            ) -> tuple[bool, int | None, int | None]:
    """(re-read today?, accounts overdue elsewhere by the latest report, by the one before it)."""
    latest = repo.refreshes(session, borrower_id, upto=on)
    if latest and latest[0].refreshed_on == on:  # another loan of the borrower read it today
        return True, latest[0].overdue_accounts, latest[1].overdue_accounts if len(latest) > 1 else None
    last = latest[0] if latest else None
    if not _refresh_due(t, last.refreshed_on if last else None, borrower_id, on):
        return False, last.overdue_accounts if last else None, None
    report = _report(session, kit, institution_id, borrower_id, on)
    stored = repo.add_refreshes(session, [report], on)  # another worker's of the same day, if it stored one first
    return True, stored[borrower_id], last.overdue_accounts if last else None


def _report(session: Session, kit: MonitorKit, institution_id: int, borrower_id: int, on: date) -> BureauRefresh:
    """The borrower's credit report read from the bureau today, as the row that keeps what it said (not yet added)."""
    borrower = parties.groups.borrower(session=session, borrower_id=borrower_id)
    resident = parties.borrowers.resident_id_of(kit=kit.identity, borrower=borrower)
    report = kit.bureau.report(id_number=resident.number, name=borrower.real_name, on=on)
    return BureauRefresh(institution_id=institution_id, borrower_id=borrower_id, refreshed_on=on,
                         report_number=report.report_number, overdue_accounts=report.summary.overdue_accounts,
                         overdue_minor=report.summary.overdue_minor)


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
