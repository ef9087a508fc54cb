"""Handling warnings: the queue in the caller's scope, a warning's detail, and its action by maker-checker.

One person holding `risk.warning.handle` proposes an action (`propose`: the suggested one or another
that applies to the warning's subject); a second person approves it (`approve`: the action is applied
in the same transaction and the warning is `actioned`, with what was done as its `outcome`) or
dismisses the warning (`dismiss`, also possible before anything was proposed). Nobody approves their own
proposal; each step is audited.

The actions, and what applying one does:

- `freeze_limit` — there are no credit lines (revolving limits) in the system yet, so no limit is cut: the
  borrower is frozen (`risk_borrower_freezes`), which the automated review reads to refer the borrower's
  new applications to a person (`risk.assess`, via the referral check the composition root registers).
- `step_up_collection` — collections opens the loan's case now, or moves it to its next stage and keeps
  that stage as the case's floor (`collections.cases.step_up`); refused if the loan is not past due.
- `ask_guarantor` — the borrower is asked to add a guarantor: an in-app notification and an SMS.
- `review_portfolio` — a concentration warning's review, recorded (the loans are the handlers' to act on).

- `call_early` — the loan is called early (宣布提前到期): servicing's `loans.accelerate` records the
  acceleration on the business date (the principal left and the interest to the day fall due; posted,
  audited and the borrower told, as when servicing calls it directly). Calling a loan early is a
  decision of those who approve loan changes: the approver must also hold `loan.change.approve`
  (branch managers do), or the approval is refused (`warning_action_not_permitted`). What the loan
  cannot take (closed, already called) is refused with servicing's problem and nothing changes.

Lifting a freeze (`lift_freeze`) is one step by a holder of `risk.manage` (the risk officer), with the
reason, audited: a freeze does not refuse anyone, it only sends the borrower's new applications to a
person, so undoing it needs no second person (the freeze itself took two). The freeze row keeps the
day it was lifted; the audit record keeps who lifted it and why.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from microcredit.audit import service as audit
from microcredit.clock import Clock
from microcredit.collections import service as collections
from microcredit.errors import NotFound
from microcredit.identity import scope
from microcredit.identity import service as identity
from microcredit.identity.principal import Principal
from microcredit.notifications import service as notifications
from microcredit.parties import service as parties
from microcredit.platform.paging import PageRequest, PageResult, paginate
from microcredit.platform.todo import Todo
from microcredit.risk.assessment import ApplicantFacts
from microcredit.risk.service import RiskKit
from microcredit.risk.warnings import repository as repo
from microcredit.risk.warnings.errors import (
    ActionNotForSubject,
    ActionNotPermitted,
    NotFrozen,
    SelfApproval,
    WarningWrongState,
)
from microcredit.risk.warnings.models import BehaviourScoreRow, BorrowerFreeze, RiskWarning
from microcredit.servicing.service import loans

LOAN_ACTIONS = ("freeze_limit", "step_up_collection", "ask_guarantor", "call_early")
# Actions whose approver needs a permission beyond `risk.warning.handle`: calling a loan early is servicing's
# decision on a loan change.
APPROVER_NEEDS = {"call_early": "loan.change.approve"}
FROZEN = "early_warning_freeze"  # the reason code of a referral (risk.rule.early_warning_freeze)
LANGUAGE = "zh-CN"


def queue(*, session: Session, principal: Principal, page: PageRequest, rule: str | None = None,
          status: str | None = None, branch_id: int | None = None, loan_id: int | None = None
          ) -> PageResult[RiskWarning]:
    """Warnings in the caller's scope, newest first, filtered by rule, status, branch or loan."""
    f = scope.filters(principal)
    # A branch-scoped caller sees their branch (head office: rows of no branch) whatever they ask.
    branch: int | bool | None = f.branch_id if f.branch_id is not False else (
        branch_id if branch_id is not None else False)
    return paginate(session, repo.warnings_query(institution_id=f.institution_id, branch_id=branch, rule=rule,
                                                 status=status, loan_id=loan_id), page)


def todos(*, session: Session, principal: Principal) -> list[Todo]:
    """For those who handle warnings: open warnings in scope, and proposals by someone else to approve."""
    if not principal.can("risk.warning.handle") or principal.institution_id is None:
        return []
    f = scope.filters(principal)

    def query(status: str) -> Any:
        return repo.warnings_query(institution_id=f.institution_id, branch_id=f.branch_id, rule=None, status=status,
                                   loan_id=None)

    return [Todo("risk_warnings_open", repo.count(session, query("open"))),
            Todo("risk_warning_actions_waiting", repo.count(session, query("proposed"),
                                                            not_proposed_by=principal.user_id))]


def visible(*, session: Session, principal: Principal, warning_id: int, for_update: bool = False) -> RiskWarning:
    """A warning in the caller's scope (else not found)."""
    warning = repo.warning(session, warning_id, for_update=for_update)
    if warning is None:
        raise NotFound(field="warning_id")
    scope.ensure_visible(principal, institution_id=warning.institution_id, branch_id=warning.branch_id)
    return warning


def scores(*, session: Session, loan_id: int) -> list[BehaviourScoreRow]:
    """A loan's behaviour score history, oldest first."""
    return repo.scores(session, loan_id)


def loan_scores(*, session: Session, principal: Principal, loan_id: int) -> list[BehaviourScoreRow]:
    """A loan's score history, for a caller who may see the loan."""
    loan = loans.visible(session=session, principal=principal, loan_id=loan_id)
    return repo.scores(session, loan.id)


def frozen(*, session: Session, borrower_id: int) -> BorrowerFreeze | None:
    """The borrower's freeze in force (None: not frozen)."""
    return repo.active_freeze(session, borrower_id)


def referral(session: Session, facts: ApplicantFacts, kit: RiskKit) -> str | None:
    """The automated review's referral check: an application of a frozen borrower goes to people."""
    index = kit.keys.blind_index(facts.id_number, domain="id_number")
    return FROZEN if repo.frozen_id_number(session, facts.institution_id, index) else None


def _allowed(warning: RiskWarning, action: str) -> bool:
    return action in LOAN_ACTIONS if warning.loan_id is not None else action == "review_portfolio"


def propose(*, session: Session, clock: Clock, principal: Principal, warning_id: int, action: str | None,
            note: str | None) -> RiskWarning:
    """Propose an action on an open warning (the suggested one when `action` is None)."""
    warning = visible(session=session, principal=principal, warning_id=warning_id, for_update=True)
    if warning.status != "open":
        raise WarningWrongState(field="warning_id", params={"status": warning.status})
    chosen = action or warning.suggested_action
    if not _allowed(warning, chosen):
        raise ActionNotForSubject(field="action")
    warning.status, warning.proposed_action, warning.proposal_note = "proposed", chosen, note
    warning.proposed_by_user_id, warning.proposed_at = principal.user_id, clock.now()
    session.flush()
    audit.record(session=session, clock=clock, actor=principal.actor, action="risk_warning.action_proposed",
                 entity_type="risk_warning", entity_id=warning.id, institution_id=warning.institution_id,
                 after={"action": chosen, "note": note, "loan_id": warning.loan_id})
    return warning


def approve(*, session: Session, clock: Clock, kit: identity.IdentityKit, principal: Principal, warning_id: int,
            note: str | None) -> RiskWarning:
    """Approve the proposed action (not one's own): it is applied now and the warning is actioned."""
    warning = visible(session=session, principal=principal, warning_id=warning_id, for_update=True)
    if warning.status != "proposed" or warning.proposed_action is None:
        raise WarningWrongState(field="warning_id", params={"status": warning.status})
    if warning.proposed_by_user_id == principal.user_id:
        raise SelfApproval(field="warning_id")
    needed = APPROVER_NEEDS.get(warning.proposed_action)
    if needed is not None and not principal.can(needed):
        raise ActionNotPermitted(field="warning_id", params={"permission": needed})
    today = parties.organisation.business_date(session=session, institution_id=warning.institution_id)
    outcome = _apply(session, clock, kit, principal, warning, today)
    warning.status, warning.outcome, warning.decision_note = "actioned", outcome, note
    warning.decided_by_user_id, warning.decided_at = principal.user_id, clock.now()
    session.flush()
    audit.record(session=session, clock=clock, actor=principal.actor, action="risk_warning.action_approved",
                 entity_type="risk_warning", entity_id=warning.id, institution_id=warning.institution_id,
                 after={"action": warning.proposed_action, "outcome": outcome, "note": note,
                        "loan_id": warning.loan_id})
    return warning


def dismiss(*, session: Session, clock: Clock, principal: Principal, warning_id: int, note: str) -> RiskWarning:
    """Dismiss a warning not yet actioned (a proposal on it is dropped), with the reason."""
    warning = visible(session=session, principal=principal, warning_id=warning_id, for_update=True)
    if warning.status not in ("open", "proposed"):
        raise WarningWrongState(field="warning_id", params={"status": warning.status})
    before = warning.status
    warning.status, warning.decision_note = "dismissed", note
    warning.decided_by_user_id, warning.decided_at = principal.user_id, clock.now()
    session.flush()
    audit.record(session=session, clock=clock, actor=principal.actor, action="risk_warning.dismissed",
                 entity_type="risk_warning", entity_id=warning.id, institution_id=warning.institution_id,
                 before={"status": before}, after={"note": note, "loan_id": warning.loan_id})
    return warning


def lift_freeze(*, session: Session, clock: Clock, principal: Principal, warning_id: int,
                note: str) -> RiskWarning:
    """Lift the freeze in force on the warning's borrower (whichever warning froze them), with the reason."""
    warning = visible(session=session, principal=principal, warning_id=warning_id, for_update=True)
    held = repo.active_freeze(session, warning.borrower_id) if warning.borrower_id is not None else None
    if held is None:
        raise NotFrozen(field="warning_id")
    today = parties.organisation.business_date(session=session, institution_id=warning.institution_id)
    held.lifted_on = today
    session.flush()
    audit.record(session=session, clock=clock, actor=principal.actor, action="risk_warning.freeze_lifted",
                 entity_type="risk_warning", entity_id=warning.id, institution_id=warning.institution_id,
                 before={"freeze_id": held.id, "frozen_on": held.frozen_on.isoformat()},
                 after={"lifted_on": today.isoformat(), "note": note, "borrower_id": warning.borrower_id})
    return warning


def _apply(session: Session, clock: Clock, kit: identity.IdentityKit, principal: Principal, warning: RiskWarning,
           today: date) -> dict[str, Any]:
    """Do what the proposed action says (the module docstring); what was done, for the record."""
    action = warning.proposed_action
    if action == "review_portfolio" or warning.loan_id is None:
        return {"action": action, "reviewed": True}
    loan = loans.get(session=session, institution_id=warning.institution_id, loan_id=warning.loan_id)
    if action == "freeze_limit":
        held = repo.active_freeze(session, loan.borrower_id)
        if held is None:
            borrower = parties.groups.borrower(session=session, borrower_id=loan.borrower_id)
            held = BorrowerFreeze(institution_id=loan.institution_id, borrower_id=loan.borrower_id,
                                  id_number_index=borrower.id_number_index, warning_id=warning.id, frozen_on=today,
                                  created_at=clock.now())
            repo.add(session, held)
        return {"action": action, "credit_line": None, "borrower_frozen": True, "freeze_id": held.id,
                "new_applications": "referred"}
    if action == "step_up_collection":
        case = collections.cases.step_up(session=session, clock=clock, kit=kit, actor=principal.actor,
                                         institution_id=loan.institution_id, loan_id=loan.id, business_date=today,
                                         reason=f"risk_warning:{warning.id}")
        return {"action": action, "case_id": case.id, "stage": case.stage}
    if action == "call_early":
        note = f"风险预警 / early warning {warning.id}"
        if warning.proposal_note:
            note = f"{note}: {warning.proposal_note}"
        called = loans.accelerate(session=session, clock=clock, actor=principal.actor,
                                  institution_id=loan.institution_id, loan_id=loan.id, on=today,
                                  reason="early_warning", note=note[:500],
                                  idempotency_key=f"risk_warning:{warning.id}")
        return {"action": action, "event_id": called.event.event_id, "seq": called.event.seq,
                "accelerated_on": today.isoformat(), "amount_due": str(called.state.outstanding.total)}
    # ask_guarantor
    inbox = notifications.notify_user(session, clock=clock, institution_id=loan.institution_id,
                                      user_id=loan.borrower_user_id, template="guarantor_requested",
                                      params={"number": loan.number}, subject_kind="loan", subject_id=loan.id)
    phone = identity.accounts.phone(session=session, kit=kit, user_id=loan.borrower_user_id)
    sms = notifications.enqueue_sms(session=session, cipher=kit.keys.cipher, clock=clock,
                                    institution_id=loan.institution_id, phone=phone, template="guarantor_requested",
                                    params={"signature": kit.sender_name(session, loan.institution_id, LANGUAGE),
                                            "number": loan.number}, language=LANGUAGE)
    session.flush()
    return {"action": action, "inbox_id": inbox.id, "outbox_id": sms.id}
