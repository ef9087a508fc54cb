"""Routes of early warning: the queue, a warning's detail and its action (propose, approve, dismiss), a loan's
score history, and the institution's thresholds."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from microcredit.api.deps import DB, Kit, require
from microcredit.api.params import Id, IdFilter, PageNo, PageSize
from microcredit.identity import scope
from microcredit.identity.principal import Principal
from microcredit.parties import service as parties
from microcredit.platform.paging import PageRequest
from microcredit.platform.routing import UnitOfWorkRoute
from microcredit.platform.schema import Page
from microcredit.risk.warnings.models import RiskWarning
from microcredit.risk.warnings.schemas import (
    Decision,
    Dismissal,
    Proposal,
    RiskWarningDetail,
    RiskWarningRead,
    Rule,
    ScoreRead,
    ThresholdsRead,
    ThresholdsUpdate,
    WarningStatus,
)
from microcredit.risk.warnings.service import handling, thresholds
from microcredit.servicing.service import loans

router = APIRouter(tags=["early warning"], route_class=UnitOfWorkRoute)
HANDLE = "risk.warning.handle"
DECIDED: dict[int | str, dict[str, Any]] = {
    409: {"description": "The warning is not in a state that takes this (`warning_wrong_state`)"},
    422: {"description": "The action does not apply to the warning (`warning_action_not_applicable`), or "
                         "collections refused it (`loan_not_overdue`)"}}


def _reads(session: Any, rows: list[RiskWarning]) -> list[RiskWarningRead]:
    names = parties.borrowers.borrower_names(session=session,
                                             borrower_ids=list({w.borrower_id for w in rows if w.borrower_id}))
    numbers = {x.id: x.number for x in loans.by_ids(session=session,
                                                    loan_ids=[w.loan_id for w in rows if w.loan_id])}
    return [RiskWarningRead.model_validate(w).model_copy(update={
        "loan_number": numbers.get(w.loan_id) if w.loan_id else None,
        "borrower_name": names.get(w.borrower_id) if w.borrower_id else None}) for w in rows]


def _detail(session: Any, warning: RiskWarning) -> RiskWarningDetail:
    [read] = _reads(session, [warning])
    history = handling.scores(session=session, loan_id=warning.loan_id) if warning.loan_id else []
    frozen = warning.borrower_id is not None and handling.frozen(session=session,
                                                                 borrower_id=warning.borrower_id) is not None
    return RiskWarningDetail(**read.model_dump(), scores=[ScoreRead.model_validate(s) for s in history],
                         borrower_frozen=frozen)


@router.get("/risk/warnings", response_model=Page[RiskWarningRead], operation_id="list_risk_warnings",
            summary="Early warnings in scope, newest first")
def list_warnings(session: DB, principal: Principal = require(HANDLE), page: PageNo = 1, page_size: PageSize = 20,
                  rule: Rule | None = None, status: WarningStatus | None = None, branch_id: IdFilter = None,
                  loan_id: IdFilter = None) -> Page[RiskWarningRead]:
    """Filtered by rule, status, branch (a branch-scoped caller sees their own) or loan."""
    r = handling.queue(session=session, principal=principal, page=PageRequest(page, page_size), rule=rule,
                       status=status, branch_id=branch_id, loan_id=loan_id)
    return Page(items=_reads(session, list(r.items)), total=r.total, page=r.page, page_size=r.page_size)


@router.get("/risk/warnings/{warning_id}", response_model=RiskWarningDetail, operation_id="get_risk_warning",
            summary="A warning with the loan's behaviour score history")
def get_warning(warning_id: Id, session: DB, principal: Principal = require(HANDLE)) -> RiskWarningDetail:
    """The suggested action, what was proposed and decided, and the borrower's freeze."""
    return _detail(session, handling.visible(session=session, principal=principal, warning_id=warning_id))


@router.post("/risk/warnings/{warning_id}/propose", response_model=RiskWarningDetail,
             operation_id="propose_risk_warning_action", summary="Propose the action on a warning",
             responses=DECIDED)
def propose(warning_id: Id, body: Proposal, session: DB, kit: Kit,
            principal: Principal = require(HANDLE)) -> RiskWarningDetail:
    """The suggested action unless another is named; a second person approves it."""
    warning = handling.propose(session=session, clock=kit.clock, principal=principal, warning_id=warning_id,
                               action=body.action, note=body.note)
    return _detail(session, warning)


@router.post("/risk/warnings/{warning_id}/approve", response_model=RiskWarningDetail,
             operation_id="approve_risk_warning_action", summary="Approve and apply the proposed action",
             responses={**DECIDED, 403: {"description": "One's own proposal (`warning_self_approval`)"}})
def approve(warning_id: Id, body: Decision, session: DB, kit: Kit,
            principal: Principal = require(HANDLE)) -> RiskWarningDetail:
    """Applied in the same transaction (freeze, collection stepped up, guarantor asked); audited."""
    warning = handling.approve(session=session, clock=kit.clock, kit=kit, principal=principal,
                               warning_id=warning_id, note=body.note)
    return _detail(session, warning)


@router.post("/risk/warnings/{warning_id}/dismiss", response_model=RiskWarningDetail,
             operation_id="dismiss_risk_warning", summary="Dismiss a warning, with the reason", responses=DECIDED)
def dismiss(warning_id: Id, body: Dismissal, session: DB, kit: Kit,
            principal: Principal = require(HANDLE)) -> RiskWarningDetail:
    """Open or proposed warnings only."""
    warning = handling.dismiss(session=session, clock=kit.clock, principal=principal, warning_id=warning_id,
                               note=body.note)
    return _detail(session, warning)


@router.post("/risk/warnings/{warning_id}/lift-freeze", response_model=RiskWarningDetail,
             operation_id="lift_risk_warning_freeze", summary="Lift the freeze on the warning's borrower",
             responses={409: {"description": "The borrower is not frozen (`borrower_not_frozen`)"}})
def lift_freeze(warning_id: Id, body: Dismissal, session: DB, kit: Kit,
                principal: Principal = require("risk.manage")) -> RiskWarningDetail:
    """One step by the risk officer, with the reason (docs/risk.md: a freeze only refers applications)."""
    warning = handling.lift_freeze(session=session, clock=kit.clock, principal=principal, warning_id=warning_id,
                                   note=body.note)
    return _detail(session, warning)


@router.get("/risk/loans/{loan_id}/behaviour-scores", response_model=list[ScoreRead],
            operation_id="list_loan_behaviour_scores", summary="A loan's behaviour score history")
def loan_scores(loan_id: Id, session: DB, principal: Principal = require(HANDLE)) -> list[ScoreRead]:
    """Oldest first, one per business date closed."""
    rows = handling.loan_scores(session=session, principal=principal, loan_id=loan_id)
    return [ScoreRead.model_validate(s) for s in rows]


@router.get("/risk/warning-thresholds", response_model=ThresholdsRead, operation_id="get_warning_thresholds",
            summary="The institution's early-warning thresholds")
def get_thresholds(session: DB, principal: Principal = require(HANDLE)) -> ThresholdsRead:
    """The defaults until a risk officer changes them."""
    institution_id = scope.institution_for_write(principal, None)
    return ThresholdsRead.model_validate(thresholds.of(session=session, institution_id=institution_id).to_json())


@router.put("/risk/warning-thresholds", response_model=ThresholdsRead, operation_id="update_warning_thresholds",
            summary="Change early-warning thresholds")
def update_thresholds(body: ThresholdsUpdate, session: DB, kit: Kit,
                      principal: Principal = require("risk.manage")) -> ThresholdsRead:
    """Only the thresholds given change; one out of range refuses the whole change (422 naming it)."""
    institution_id = scope.institution_for_write(principal, None)
    changes = body.model_dump(exclude_none=True)
    after = thresholds.update(session=session, clock=kit.clock, actor=principal.actor,
                              institution_id=institution_id, changes=changes)
    return ThresholdsRead.model_validate(after.to_json())
