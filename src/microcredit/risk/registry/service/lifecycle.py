"""A model version's life: registered as a draft, proposed for a role, approved or rejected by a second officer.

Maker–checker: a user holding `risk.model.manage` proposes (with a reason); a *different* user
holding `risk.model.approve` approves or rejects (with a reason). Approval is one transaction:
the version takes the role, the version that held it (of the same purpose) is retired, and the proposal
records which version it replaced; a version proposed for champion that was the challenger leaves the challenger
slot empty. Everything is audited (`risk_model.*`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from microcredit.audit import service as audit
from microcredit.clock import Clock
from microcredit.platform.actor import Actor
from microcredit.risk.fraud import anomaly
from microcredit.risk.learning import artefact
from microcredit.risk.registry import repository as repo
from microcredit.risk.registry.errors import (
    ArtefactInvalid,
    ModelKindMismatch,
    ModelNotFound,
    PromotionDecided,
    PromotionPending,
    ReportInvalid,
    SelfApproval,
    VersionNotPromotable,
    VersionNotRetirable,
)
from microcredit.risk.registry.models import RiskModel, RiskModelPromotion, RiskModelVersion

ARTEFACT_MAX_BYTES = 16 * 1024 * 1024 - 1  # MariaDB's MEDIUMBLOB
REPORT_MAX_BYTES = 4 * 1024 * 1024
HEADLINE = ("auc", "ks", "gini", "brier", "psi")
ANOMALY_FORMAT = "isolation-forest/1"
ANOMALY_KIND = "isolation_forest"


def parse_report(content: bytes | None) -> dict[str, Any] | None:
    """The validation report as a JSON object (None: no report given)."""
    if content is None or not content.strip():
        return None
    if len(content) > REPORT_MAX_BYTES:
        raise ReportInvalid(field="report")
    try:
        document = json.loads(content)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ReportInvalid(field="report") from None
    if not isinstance(document, dict):
        raise ReportInvalid(field="report")
    return document


def metrics_of(report: Mapping[str, Any] | None) -> dict[str, float]:
    """The headline figures a report has (AUC, KS, Gini, Brier, PSI), from `metrics`, `test` or its top level.

    Reports differ by trainer and version; whatever is missing is simply absent.
    """
    if not report:
        return {}
    out: dict[str, float] = {}
    for place in (report, report.get("test"), report.get("holdout"), report.get("cv"), report.get("metrics")):
        if not isinstance(place, Mapping):
            continue
        for key in HEADLINE:
            value = place.get(key)
            if isinstance(value, Mapping):
                value = value.get("mean")
            if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
                out[key] = float(value)  # house-rules: allow float (a model metric, not money)
    return out


def register(*, session: Session, clock: Clock, actor: Actor, institution_id: int, code: str, blob: bytes,
             report: bytes | None, note: str | None = None) -> RiskModelVersion:
    """A new draft version of model `code` (the model is created on its first version).

    The artefact is loaded once (hash, format and tables checked) before anything is stored; a
    model keeps its kind (a scorecard's code never receives a tree ensemble).
    """
    if not blob or len(blob) > ARTEFACT_MAX_BYTES:
        raise ArtefactInvalid(field="artefact")
    sha256 = artefact.digest(blob)
    try:
        fmt = str(json.loads(blob)["format"])
        if fmt == ANOMALY_FORMAT:  # the fraud check's isolation forest (checked the same way: digest, shape)
            kind, purpose, features = ANOMALY_KIND, "fraud_anomaly", list(anomaly.Forest.from_json(
                blob.decode(), sha256).body()["features"])
        else:
            served = artefact.load(blob, sha256)
            kind, purpose, features = served.kind, "credit", list(served.features)
    except (artefact.ArtefactError, KeyError, TypeError, ValueError) as exc:
        raise ArtefactInvalid(str(exc), field="artefact") from None
    document = parse_report(report)
    model = repo.model(session, institution_id, code)
    now = clock.now()
    if model is None:
        model = RiskModel(institution_id=institution_id, code=code, kind=kind, created_at=now)
        repo.add(session, model)
    elif model.kind != kind:
        raise ModelKindMismatch(field="artefact")
    version = RiskModelVersion(
        institution_id=institution_id, model_id=model.id, number=repo.latest_number(session, model.id) + 1,
        status="draft", purpose=purpose, format=fmt, artefact=blob, sha256=sha256, size=len(blob), features=features,
        report=document, metrics=metrics_of(document), note=note, registered_at=now,
        registered_by_user_id=actor.user_id)
    repo.add(session, version)
    audit.record(session=session, clock=clock, actor=actor, action="risk_model.registered",
                 entity_type="risk_model_version", entity_id=version.id, institution_id=institution_id,
                 after={"model": code, "version": version.number, "kind": model.kind, "sha256": sha256,
                        "metrics": version.metrics})
    return version


def models(*, session: Session, institution_id: int) -> list[tuple[RiskModel, list[RiskModelVersion]]]:
    """Each model with its versions, newest first."""
    versions = repo.versions(session, institution_id)
    return [(m, [v for v in versions if v.model_id == m.id]) for m in repo.models(session, institution_id)]


def find(*, session: Session, institution_id: int, code: str, number: int,
         for_update: bool = False) -> tuple[RiskModel, RiskModelVersion]:
    """One version of one model."""
    model = repo.model(session, institution_id, code)
    version = None if model is None else repo.version(session, institution_id, model.id, number,
                                                      for_update=for_update)
    if model is None or version is None:
        raise ModelNotFound()
    return model, version


def label(session: Session, version: RiskModelVersion) -> str:
    """code@number."""
    model = repo.model_by_id(session, version.model_id)
    return f"{model.code if model else '?'}@{version.number}"


def role_fits(version: RiskModelVersion, target: str) -> bool:
    """Whether a version of its purpose may hold the role: the anomaly model is only ever in force (champion);
    it has no shadow challenger."""
    return version.purpose == "credit" or target == "champion"


def propose(*, session: Session, clock: Clock, actor: Actor, institution_id: int, code: str, number: int,
            target: str, reason: str) -> RiskModelPromotion:
    """Propose a draft (or the challenger, for champion) for `target`; waits for a second officer."""
    _, version = find(session=session, institution_id=institution_id, code=code, number=number, for_update=True)
    allowed = ("draft", "challenger") if target == "champion" else ("draft",)
    if version.status not in allowed or not role_fits(version, target):
        raise VersionNotPromotable(field="target")
    if any(p.status == "pending" for p in repo.promotions(session, institution_id, version_id=version.id)):
        raise PromotionPending()
    promotion = RiskModelPromotion(institution_id=institution_id, version_id=version.id, target=target,
                                   status="pending", reason=reason, proposed_at=clock.now(),
                                   proposed_by_user_id=actor.user_id)
    repo.add(session, promotion)
    audit.record(session=session, clock=clock, actor=actor, action="risk_model.promotion_proposed",
                 entity_type="risk_model_version", entity_id=version.id, institution_id=institution_id,
                 after={"model": label(session, version), "target": target, "reason": reason,
                        "promotion": promotion.id})
    return promotion


def _pending(session: Session, actor: Actor, institution_id: int, promotion_id: int) -> RiskModelPromotion:
    promotion = repo.promotion(session, institution_id, promotion_id, for_update=True)
    if promotion is None:
        raise ModelNotFound()
    if promotion.status != "pending":
        raise PromotionDecided()
    if actor.user_id is None or promotion.proposed_by_user_id == actor.user_id:
        raise SelfApproval()
    return promotion


def approve(*, session: Session, clock: Clock, actor: Actor, institution_id: int, promotion_id: int,
            reason: str) -> RiskModelPromotion:
    """Approve: the version takes its role and the one that held it is retired, in the caller's transaction."""
    repo.lock_models(session, institution_id)
    promotion = _pending(session, actor, institution_id, promotion_id)
    version = repo.version_by_id(session, promotion.version_id)
    assert version is not None
    session.refresh(version, with_for_update=True)
    allowed = ("draft", "challenger") if promotion.target == "champion" else ("draft",)
    if version.status not in allowed or not role_fits(version, promotion.target):
        raise VersionNotPromotable(field="target")
    now = clock.now()
    before = version.status
    old = repo.in_role(session, institution_id, promotion.target, for_update=True, purpose=version.purpose)
    if old is not None and old.id != version.id:
        old.status, old.retired_at = "retired", now
        session.flush()  # the old holder leaves the role before the new one takes it
    version.status, version.promoted_at = promotion.target, now
    promotion.status, promotion.decided_at = "approved", now
    promotion.decided_by_user_id, promotion.decision_reason = actor.user_id, reason
    promotion.replaced_version_id = old.id if old is not None and old.id != version.id else None
    session.flush()
    audit.record(session=session, clock=clock, actor=actor, action="risk_model.promotion_approved",
                 entity_type="risk_model_version", entity_id=version.id, institution_id=institution_id,
                 before={"status": before,
                         "replaced": label(session, old) if old is not None and old.id != version.id else None},
                 after={"model": label(session, version), "status": version.status, "reason": reason,
                        "promotion": promotion.id})
    return promotion


def reject(*, session: Session, clock: Clock, actor: Actor, institution_id: int, promotion_id: int,
           reason: str) -> RiskModelPromotion:
    """Reject with a reason: nothing changes but the proposal's answer."""
    promotion = _pending(session, actor, institution_id, promotion_id)
    promotion.status, promotion.decided_at = "rejected", clock.now()
    promotion.decided_by_user_id, promotion.decision_reason = actor.user_id, reason
    session.flush()
    version = repo.version_by_id(session, promotion.version_id)
    assert version is not None
    audit.record(session=session, clock=clock, actor=actor, action="risk_model.promotion_rejected",
                 entity_type="risk_model_version", entity_id=version.id, institution_id=institution_id,
                 after={"model": label(session, version), "target": promotion.target, "reason": reason,
                        "promotion": promotion.id})
    return promotion


def retire(*, session: Session, clock: Clock, actor: Actor, institution_id: int, code: str, number: int,
           reason: str) -> RiskModelVersion:
    """Retire a draft or the challenger (the champion is only replaced); pending proposals of it are rejected."""
    _, version = find(session=session, institution_id=institution_id, code=code, number=number, for_update=True)
    if version.status not in ("draft", "challenger"):
        raise VersionNotRetirable()
    before = version.status
    now = clock.now()
    version.status, version.retired_at = "retired", now
    for p in repo.promotions(session, institution_id, version_id=version.id):
        if p.status == "pending":
            p.status, p.decided_at, p.decided_by_user_id, p.decision_reason = "rejected", now, actor.user_id, reason
    session.flush()
    audit.record(session=session, clock=clock, actor=actor, action="risk_model.retired",
                 entity_type="risk_model_version", entity_id=version.id, institution_id=institution_id,
                 before={"status": before}, after={"model": label(session, version), "status": "retired",
                                                   "reason": reason})
    return version


def promotions(*, session: Session, institution_id: int) -> list[RiskModelPromotion]:
    """The institution's proposals, newest first."""
    return repo.promotions(session, institution_id)
