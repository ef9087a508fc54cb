"""Tables of the model registry.

`risk_models` names an institution's credit models (code, kind); `risk_model_versions` holds each
registered version and its purpose (`credit`, or `fraud_anomaly`: the fraud check's isolation forest
trained from the institution's applications; roles are held per purpose): the artefact's bytes and
SHA-256 (checked on every load), the features it reads, its validation report (JSON as
`microcredit risk train --report` writes it) and the headline metrics, and its status:

    draft ──(promotion approved)──▶ champion ──(a new champion approved)──▶ retired
      │                                  ▲
      └──(promotion approved)──▶ challenger ──(promoted to champion)──┘
    draft / challenger ──(retire)──▶ retired

(`approved` is not a stored state: a version is promoted the moment a second risk officer
approves the proposal.) At most one version of an institution is the champion and at most one the
challenger. `risk_model_promotions` records each proposal: who proposed which version for which
role, and who approved or rejected it, when and why (maker–checker: never the proposer).
`risk_model_scores` keeps what a model said of an application: the champion's score that
decided, and the challenger's score in the shadow (never deciding), with the features it read.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from microcredit.db.base import Base
from microcredit.db.types import BigIntPK, LongBinary, UTCDateTime

STATUSES = ("draft", "champion", "challenger", "retired")
ROLES = ("champion", "challenger")
# What a version is for: credit scoring (the champion decides, the challenger shadows) or the fraud check's
# anomaly model (its champion is the forest in force; it has no challenger). Roles are held per purpose.
PURPOSES = ("credit", "fraud_anomaly")
PROMOTION_STATUSES = ("pending", "approved", "rejected")


class RiskModel(Base):
    """A credit model of an institution: its code and kind (scorecard, lgbm, mlp …)."""

    __tablename__ = "risk_models"
    __table_args__ = (UniqueConstraint("institution_id", "code"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    code: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RiskModelVersion(Base):
    """One registered version of a model: the artefact, its hash, report, metrics and status."""

    __tablename__ = "risk_model_versions"
    __table_args__ = (
        UniqueConstraint("model_id", "number"),
        Index("ix_risk_model_versions_status", "institution_id", "status"),
        CheckConstraint("status IN ('draft', 'champion', 'challenger', 'retired')", name="status"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    model_id: Mapped[int] = mapped_column(ForeignKey("risk_models.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    purpose: Mapped[str] = mapped_column(String(16), default="credit", server_default="credit")
    format: Mapped[str] = mapped_column(String(64))
    artefact: Mapped[bytes] = mapped_column(LongBinary, deferred=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    features: Mapped[list[str]] = mapped_column(JSON)
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True, deferred=True)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(String(255), nullable=True)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    registered_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    promoted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class RiskModelPromotion(Base):
    """A proposal to make a version champion or challenger, and the second officer's answer."""

    __tablename__ = "risk_model_promotions"
    __table_args__ = (
        Index("ix_risk_model_promotions_status", "institution_id", "status"),
        CheckConstraint("target IN ('champion', 'challenger')", name="target"),
        CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="status"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    version_id: Mapped[int] = mapped_column(ForeignKey("risk_model_versions.id"), index=True)
    target: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(500))
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    proposed_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decided_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    decision_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    # The version that held the role before (retired, or made challenger, on approval).
    replaced_version_id: Mapped[int | None] = mapped_column(ForeignKey("risk_model_versions.id"), nullable=True)


class RiskModelScore(Base):
    """What one model version said of one application: deciding (champion) or in the shadow (challenger)."""

    __tablename__ = "risk_model_scores"
    __table_args__ = (
        Index("ix_risk_model_scores_application", "institution_id", "application_number"),
        Index("ix_risk_model_scores_version", "version_id", "scored_at"),
        CheckConstraint("role IN ('champion', 'challenger')", name="role"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    application_number: Mapped[str] = mapped_column(String(64))
    version_id: Mapped[int] = mapped_column(ForeignKey("risk_model_versions.id"))
    role: Mapped[str] = mapped_column(String(16))
    points: Mapped[int] = mapped_column(Integer)
    pd: Mapped[float] = mapped_column(Float)
    grade: Mapped[str] = mapped_column(String(2))
    decision: Mapped[str] = mapped_column(String(16))  # the decision with this model's score (shadow: had it decided)
    reasons: Mapped[list[dict[str, str]]] = mapped_column(JSON)  # [{"feature", "zh-CN", "en"}], costliest first
    features: Mapped[dict[str, Any]] = mapped_column(JSON)
    scored_at: Mapped[datetime] = mapped_column(UTCDateTime)
