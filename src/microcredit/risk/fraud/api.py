"""Routes of fraud detection: the investigator's queue, a case with its ring, notes, verdicts, the scan, labels;
the anomaly model trained from the institution's applications.

The investigator's routes need `risk.fraud.investigate` (risk officers); cases are the caller's institution's.
The anomaly model is read with `risk.read` and trained with `risk.model.manage`; it is put in force through
the model registry's promotion routes (`/risk/models/{code}/versions/{n}/promotions`, approved by a second
risk officer).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from microcredit.api.deps import DB, Config, require
from microcredit.api.params import Id, PageNo, PageSize
from microcredit.identity.principal import Principal
from microcredit.platform.routing import UnitOfWorkRoute
from microcredit.platform.schema import Page
from microcredit.risk.fraud import service as fraud
from microcredit.risk.fraud.check import Thresholds
from microcredit.risk.fraud.models import FraudCase
from microcredit.risk.fraud.schemas import (
    AnomalyModelRead,
    AnomalyTrainCreate,
    AnomalyVersionRead,
    CaseSource,
    CaseStatus,
    FraudCaseDetail,
    FraudCaseRead,
    LabelRead,
    NoteCreate,
    NoteRead,
    PendingProposal,
    RingEdge,
    RingNode,
    ScanRead,
    ScoreBand,
    VerdictCreate,
)
from microcredit.risk.fraud.service import training
from microcredit.risk.registry.models import RiskModelVersion
from microcredit.risk.registry.service import lifecycle
from microcredit.risk.service import current

router = APIRouter(prefix="/risk/fraud", tags=["risk"], route_class=UnitOfWorkRoute)
PERMISSION = "risk.fraud.investigate"
ERRORS: dict[int | str, dict[str, Any]] = {404: {"description": "No such case (`fraud_case_not_found`)"}}


def _detail(session: DB, row: FraudCase) -> FraudCaseDetail:
    pic = fraud.cases.picture(session=session, row=row)
    return FraudCaseDetail(
        **FraudCaseRead.model_validate(row, from_attributes=True).model_dump(),
        nodes=[RingNode(id=n.id, kind=n.kind, label=n.label, flagged=n.flagged) for n in pic.nodes],
        edges=[RingEdge(source=s, target=t) for s, t in pic.edges],
        notes=[NoteRead.model_validate(n, from_attributes=True) for n in fraud.cases.notes(session=session, row=row)])


@router.get("/cases", response_model=Page[FraudCaseRead], operation_id="list_fraud_cases",
            summary="The investigator's queue")
def list_fraud_cases(session: DB, principal: Principal = require(PERMISSION), page: PageNo = 1,
                     page_size: PageSize = 20, status: CaseStatus | None = None,
                     source: CaseSource | None = None) -> Any:
    """Cases oldest first, filtered by status (`open`, `closed`) and source (`review`, `scan`)."""
    rows, total = fraud.cases.page(session=session, institution_id=principal.institution_id, status=status,
                                   source=source, offset=(page - 1) * page_size, limit=page_size)
    return Page(items=[FraudCaseRead.model_validate(r, from_attributes=True) for r in rows], total=total, page=page,
                page_size=page_size)


@router.get("/cases/{fraud_case_id}", response_model=FraudCaseDetail, operation_id="get_fraud_case",
            summary="A case with its ring (nodes and edges) and notes", responses=ERRORS)
def get_fraud_case(fraud_case_id: Id, session: DB, principal: Principal = require(PERMISSION)) -> Any:
    """The members, the signals, every identifier two or more members gave (masked), the notes."""
    return _detail(session, fraud.cases.get(session=session, institution_id=principal.institution_id,
                                            case_id=fraud_case_id))


@router.post("/cases/{fraud_case_id}/notes", response_model=NoteRead, status_code=201,
             operation_id="add_fraud_case_note", summary="Add a note to a case", responses=ERRORS)
def add_fraud_case_note(fraud_case_id: Id, body: NoteCreate, session: DB,
                        principal: Principal = require(PERMISSION)) -> Any:
    """Audited (the audit keeps the note's length, not its text)."""
    return fraud.cases.add_note(session=session, kit=current(), actor=principal.actor,
                                institution_id=principal.institution_id, case_id=fraud_case_id, body=body.body)


@router.post("/cases/{fraud_case_id}/verdict", response_model=FraudCaseDetail, operation_id="decide_fraud_case",
             summary="Record the verdict: fraud or not fraud",
             responses={**ERRORS, 409: {"description": "The case has a verdict (`fraud_case_closed`) or moved "
                                                        "(`conflict`, field `lock_version`)"}})
def decide_fraud_case(fraud_case_id: Id, body: VerdictCreate, session: DB,
                      principal: Principal = require(PERMISSION)) -> Any:
    """Closes the case and labels each member application (audited); a `fraud` label makes the review decline
    new applications sharing an identifier with it."""
    row = fraud.cases.decide(session=session, kit=current(), actor=principal.actor,
                             institution_id=principal.institution_id, case_id=fraud_case_id, verdict=body.verdict,
                             reason=body.reason, lock_version=body.lock_version)
    return _detail(session, row)


@router.post("/scan", response_model=ScanRead, operation_id="scan_fraud_rings",
             summary="Find rings among the applications reviewed and open a case for each new one")
def scan_fraud_rings(session: DB, principal: Principal = require(PERMISSION)) -> Any:
    """The batch scan (also `microcredit risk fraud-scan`); audited."""
    r = fraud.scan(session=session, kit=current(), actor=principal.actor, institution_id=principal.institution_id)
    return ScanRead(applications=r.applications, rings=r.rings, opened=r.opened)


@router.get("/labels", response_model=list[LabelRead], operation_id="list_fraud_labels",
            summary="Every verdict per application (the training export)")
def list_fraud_labels(session: DB, principal: Principal = require(PERMISSION)) -> Any:
    """Application number, label, case and when, oldest first."""
    return [LabelRead.model_validate(r, from_attributes=True)
            for r in fraud.cases.labels(session=session, institution_id=principal.institution_id)]


def _anomaly_version(session: DB, principal: Principal, v: RiskModelVersion) -> AnomalyVersionRead:
    session.refresh(v, attribute_names=["report"])
    r = v.report or {}
    waiting = next((p for p in lifecycle.promotions(session=session, institution_id=principal.institution_id)
                    if p.version_id == v.id and p.status == "pending"), None)
    return AnomalyVersionRead(
        model=training.MODEL_CODE, number=v.number, status=v.status, sha256=v.sha256, registered_at=v.registered_at,
        note=v.note, sample=int(r.get("sample", 0)), excluded_fraud=int(r.get("excluded_fraud", 0)),
        contamination=r.get("contamination", 0), threshold=r.get("threshold", 0), flagged=int(r.get("flagged", 0)),
        quantiles=dict(r.get("quantiles", {})), histogram=[ScoreBand(**b) for b in r.get("score_histogram", [])],
        pending=None if waiting is None else PendingProposal(
            id=waiting.id, reason=waiting.reason, proposed_at=waiting.proposed_at,
            mine=waiting.proposed_by_user_id is not None and waiting.proposed_by_user_id == principal.actor.user_id))


@router.get("/anomaly-model", response_model=AnomalyModelRead, operation_id="get_fraud_anomaly_model",
            summary="The anomaly model in force and the versions trained from the institution's applications")
def get_fraud_anomaly_model(session: DB, settings: Config, principal: Principal = require("risk.read")) -> Any:
    """Which forest the fraud check uses and its threshold; each trained version with its sample size, chosen
    contamination and threshold, score distribution and the proposal waiting to put it in force."""
    model = fraud.detection.in_force(session, principal.institution_id)
    versions = [v for _, vs in lifecycle.models(session=session, institution_id=principal.institution_id)
                for v in vs if v.purpose == "fraud_anomaly"]
    return AnomalyModelRead(
        in_force=model.label, threshold=model.threshold or Thresholds().fraud_anomaly_review, problem=model.problem,
        min_applications=settings.fraud_model_min_applications, default_contamination=training.DEFAULT_CONTAMINATION,
        versions=[_anomaly_version(session, principal, v) for v in versions])


@router.post("/anomaly-model/versions", response_model=AnomalyVersionRead, status_code=201,
             operation_id="train_fraud_anomaly_model",
             summary="Train the anomaly model from the institution's submitted applications (a draft)",
             responses={422: {"description": "Too few applications (`fraud_model_sample_too_small`, field "
                                             "`applications`): nothing is stored, the model in force stays"}})
def train_fraud_anomaly_model(body: AnomalyTrainCreate, session: DB, settings: Config,
                              principal: Principal = require("risk.model.manage")) -> Any:
    """Trains on the latest submitted applications (less those labelled fraud) and registers a draft version of
    `fraud_anomaly` (audited); a second risk officer approves its promotion to put it in force."""
    trained = training.train(session=session, kit=current(), actor=principal.actor,
                             institution_id=principal.institution_id, contamination=body.contamination,
                             note=body.note, min_applications=settings.fraud_model_min_applications)
    return _anomaly_version(session, principal, trained.version)
