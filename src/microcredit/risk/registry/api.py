"""Routes of the model registry: register, list, detail, propose, approve, reject, retire; scores, comparison, drift.

Reading needs `risk.read`; registering, proposing and retiring `risk.model.manage`; approving or
rejecting a proposal `risk.model.approve`, and never by whoever proposed it (`self_approval`).
What the models said of one application is read with `loan.read` (the review screen).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, Query, UploadFile

from microcredit.api.deps import DB, WallClock, require
from microcredit.api.params import Id
from microcredit.identity.principal import Principal
from microcredit.platform.routing import UnitOfWorkRoute
from microcredit.risk.registry import repository as repo
from microcredit.risk.registry.models import RiskModelPromotion, RiskModelVersion
from microcredit.risk.registry.schemas import (
    ModelBandRead,
    ModelComparisonRead,
    ModelDecisionBody,
    ModelDriftRead,
    ModelPromotionRead,
    ModelProposalCreate,
    ModelRead,
    ModelScoreRead,
    ModelVersionDetail,
    ModelVersionSummary,
)
from microcredit.risk.registry.service import lifecycle, serving

router = APIRouter(prefix="/risk", tags=["risk"], route_class=UnitOfWorkRoute)
ModelCode = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$",
                                examples=["retail_scorecard"])]
Number = Annotated[int, Path(ge=1, le=1_000_000, description="A version number", examples=[2])]
ERRORS: dict[int | str, dict[str, Any]] = {
    403: {"description": "You proposed it: another risk officer decides (`self_approval`)"},
    404: {"description": "No such model, version or proposal (`risk_model_not_found`)"},
    409: {"description": "`risk_model_not_promotable`, `risk_model_promotion_pending`, `risk_model_promotion_decided`, "
                         "`risk_model_not_retirable`, `risk_model_kind_mismatch`"},
    422: {"description": "`risk_model_artefact_invalid` (field `artefact`), `risk_model_report_invalid` (field "
                         "`report`)"}}


def _summary(session: DB, v: RiskModelVersion) -> ModelVersionSummary:
    model = repo.model_by_id(session, v.model_id)
    return ModelVersionSummary(
        model=model.code if model else "?", number=v.number, status=v.status, format=v.format,
        sha256=v.sha256, size=v.size, features=list(v.features), metrics=dict(v.metrics), note=v.note,
        registered_at=v.registered_at, registered_by_user_id=v.registered_by_user_id, promoted_at=v.promoted_at,
        retired_at=v.retired_at)


def _promotion(session: DB, p: RiskModelPromotion, principal: Principal) -> ModelPromotionRead:
    version = repo.version_by_id(session, p.version_id)
    assert version is not None
    model = repo.model_by_id(session, version.model_id)
    replaced = repo.version_by_id(session, p.replaced_version_id) if p.replaced_version_id else None
    return ModelPromotionRead(
        id=p.id, model=model.code if model else "?", number=version.number, target=p.target,
        status=p.status, reason=p.reason, proposed_at=p.proposed_at,
        proposed_by_user_id=p.proposed_by_user_id, decided_at=p.decided_at, decided_by_user_id=p.decided_by_user_id,
        decision_reason=p.decision_reason, replaced=lifecycle.label(session, replaced) if replaced else None,
        mine=p.proposed_by_user_id is not None and p.proposed_by_user_id == principal.actor.user_id)


@router.get("/models", response_model=list[ModelRead], operation_id="list_risk_models",
            summary="The institution's credit models and their versions")
def list_risk_models(session: DB, principal: Principal = require("risk.read")) -> Any:
    """Each model with its versions newest first: status, hash, features and headline metrics."""
    return [ModelRead(code=m.code, kind=m.kind, created_at=m.created_at,
                      versions=[_summary(session, v) for v in versions])
            for m, versions in lifecycle.models(session=session, institution_id=principal.institution_id)]


@router.post("/models", response_model=ModelVersionSummary, status_code=201, operation_id="register_risk_model_version",
             summary="Register a model version: upload the artefact and its validation report", responses=ERRORS)
def register_risk_model_version(
        session: DB, clock: WallClock,
        code: Annotated[str, Form(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$",
                                  description="The model's code; a new code creates the model")],
        artefact: Annotated[UploadFile, File(description="The artefact (model.json) `microcredit risk train` wrote")],
        report: Annotated[UploadFile | None, File(description="The validation report (report.json)")] = None,
        note: Annotated[str | None, Form(max_length=255)] = None,
        principal: Principal = require("risk.model.manage")) -> Any:
    """A new draft version: the artefact is loaded once (hash, format, tables) before it is stored (audited)."""
    blob = artefact.file.read(lifecycle.ARTEFACT_MAX_BYTES + 1)
    content = report.file.read(lifecycle.REPORT_MAX_BYTES + 1) if report is not None else None
    return _summary(session, lifecycle.register(
        session=session, clock=clock, actor=principal.actor, institution_id=principal.institution_id, code=code,
        blob=blob, report=content, note=note))


@router.get("/models/promotions", response_model=list[ModelPromotionRead], operation_id="list_risk_model_promotions",
            summary="Proposals to promote model versions, newest first")
def list_risk_model_promotions(session: DB, principal: Principal = require("risk.read")) -> Any:
    """Pending ones wait for a second risk officer."""
    return [_promotion(session, p, principal)
            for p in lifecycle.promotions(session=session, institution_id=principal.institution_id)]


@router.get("/models/comparison", response_model=ModelComparisonRead, operation_id="compare_risk_models",
            summary="The champion and the challenger on the same applications")
def compare_risk_models(session: DB, principal: Principal = require("risk.read")) -> Any:
    """Agreement of grades and decisions, and score differences, over the applications both scored."""
    champion = repo.in_role(session, principal.institution_id, "champion")
    challenger = repo.in_role(session, principal.institution_id, "challenger")
    names = {"champion": lifecycle.label(session, champion) if champion else None,
             "challenger": lifecycle.label(session, challenger) if challenger else None}
    if champion is None or challenger is None:
        return ModelComparisonRead(**names, applications=0, grade_agreement=None, decision_agreement=None,
                              mean_point_difference=None, mean_abs_point_difference=None, grade_matrix={})
    c = serving.compare(session=session, institution_id=principal.institution_id, champion_id=champion.id,
                        challenger_id=challenger.id)
    return ModelComparisonRead(**names, applications=c.applications, grade_agreement=c.grade_agreement,
                          decision_agreement=c.decision_agreement, mean_point_difference=c.mean_point_difference,
                          mean_abs_point_difference=c.mean_abs_point_difference, grade_matrix=c.grade_matrix)


@router.get("/model-scores", response_model=list[ModelScoreRead], operation_id="list_risk_model_scores",
            summary="What the models said of one application")
def list_risk_model_scores(session: DB, application_number: Annotated[str, Query(min_length=1, max_length=64)],
                           principal: Principal = require("loan.read")) -> Any:
    """The champion's score that decided and the challenger's in the shadow, with reasons in words."""
    rows = serving.scores_of(session=session, institution_id=principal.institution_id,
                             application_number=application_number)
    out = []
    for r in rows:
        version = repo.version_by_id(session, r.version_id)
        out.append(ModelScoreRead.model_validate({
            "model": lifecycle.label(session, version) if version else "?", "role": r.role, "points": r.points,
            "pd": r.pd, "grade": r.grade, "decision": r.decision, "reasons": r.reasons, "scored_at": r.scored_at}))
    return out


@router.get("/models/{model_code}/versions/{version_number}", response_model=ModelVersionDetail,
            operation_id="get_risk_model_version", summary="One version with its validation report",
            responses=ERRORS)
def get_risk_model_version(model_code: ModelCode, version_number: Number, session: DB,
                           principal: Principal = require("risk.read")) -> Any:
    """The report as registered, the words of each feature, whether the bytes still match their hash, proposals."""
    model, version = lifecycle.find(session=session, institution_id=principal.institution_id, code=model_code,
                                    number=version_number)
    ok = serving.integrity(session, version)
    labels: dict[str, dict[str, str]] = {}
    if ok:
        served = serving.load(version.artefact, version.sha256)
        labels = {f: {lang: served.label(f, lang) for lang in serving.LANGUAGES} for f in served.features}
    session.refresh(version, attribute_names=["report"])
    return ModelVersionDetail(
        **_summary(session, version).model_dump(), kind=model.kind, report=version.report,
        integrity="ok" if ok else "mismatch", labels=labels,
        promotions=[_promotion(session, p, principal) for p in repo.promotions(session, principal.institution_id,
                                                                    version_id=version.id)])


@router.get("/models/{model_code}/versions/{version_number}/drift", response_model=ModelDriftRead,
            operation_id="get_risk_model_drift", summary="PSI of recent applications' scores", responses=ERRORS)
def get_risk_model_drift(model_code: ModelCode, version_number: Number, session: DB,
                         principal: Principal = require("risk.read")) -> Any:
    """The last 5,000 scores by this version against the score distribution of its validation report."""
    _, version = lifecycle.find(session=session, institution_id=principal.institution_id, code=model_code,
                                number=version_number)
    d = serving.drift(session=session, institution_id=principal.institution_id, version=version)
    return ModelDriftRead(model=f"{model_code}@{version_number}", applications=d.applications, psi=d.psi,
                     bands=[ModelBandRead(low=b.low, high=b.high, expected=b.expected, actual=b.actual)
                            for b in d.bands], missing=d.missing)


@router.post("/models/{model_code}/versions/{version_number}/promotions", response_model=ModelPromotionRead,
             status_code=201, operation_id="propose_risk_model_promotion",
             summary="Propose a version for champion or challenger", responses=ERRORS)
def propose_risk_model_promotion(model_code: ModelCode, version_number: Number, body: ModelProposalCreate, session: DB,
                                 clock: WallClock, principal: Principal = require("risk.model.manage")) -> Any:
    """A draft (or the challenger, for champion) waits for a second risk officer's approval (audited)."""
    return _promotion(session, lifecycle.propose(
        session=session, clock=clock, actor=principal.actor, institution_id=principal.institution_id,
        code=model_code, number=version_number, target=body.target, reason=body.reason), principal)


@router.post("/models/{model_code}/versions/{version_number}/retire", response_model=ModelVersionSummary,
             operation_id="retire_risk_model_version", summary="Retire a draft or the challenger", responses=ERRORS)
def retire_risk_model_version(model_code: ModelCode, version_number: Number, body: ModelDecisionBody, session: DB,
                              clock: WallClock, principal: Principal = require("risk.model.manage")) -> Any:
    """The champion is only replaced by approving another; pending proposals of the version are rejected."""
    return _summary(session, lifecycle.retire(
        session=session, clock=clock, actor=principal.actor, institution_id=principal.institution_id,
        code=model_code, number=version_number, reason=body.reason))


@router.post("/models/promotions/{promotion_id}/approve", response_model=ModelPromotionRead,
             operation_id="approve_risk_model_promotion", summary="Approve a proposal (a second risk officer)",
             responses=ERRORS)
def approve_risk_model_promotion(promotion_id: Id, body: ModelDecisionBody, session: DB, clock: WallClock,
                                 principal: Principal = require("risk.model.approve")) -> Any:
    """The version takes the role; the one that held it is retired, in the same transaction (audited)."""
    return _promotion(session, lifecycle.approve(
        session=session, clock=clock, actor=principal.actor, institution_id=principal.institution_id,
        promotion_id=promotion_id, reason=body.reason), principal)


@router.post("/models/promotions/{promotion_id}/reject", response_model=ModelPromotionRead,
             operation_id="reject_risk_model_promotion", summary="Reject a proposal (a second risk officer)",
             responses=ERRORS)
def reject_risk_model_promotion(promotion_id: Id, body: ModelDecisionBody, session: DB, clock: WallClock,
                                principal: Principal = require("risk.model.approve")) -> Any:
    """Nothing changes but the proposal's answer (audited)."""
    return _promotion(session, lifecycle.reject(
        session=session, clock=clock, actor=principal.actor, institution_id=principal.institution_id,
        promotion_id=promotion_id, reason=body.reason), principal)

