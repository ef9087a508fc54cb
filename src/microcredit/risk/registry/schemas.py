"""API shapes of the model registry: models and versions, promotions, scores, comparison, drift."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import ConfigDict, Field

from microcredit.platform.schema import InputSchema, OutputSchema

VersionStatus = Literal["draft", "champion", "challenger", "retired"]
Role = Literal["champion", "challenger"]


class ModelVersionSummary(OutputSchema):
    """A version without its artefact and report."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "model": "retail_scorecard", "number": 2, "status": "challenger", "format": "microcredit.scorecard/1",
        "sha256": "9f2c…", "size": 4210, "features": ["age", "dti_pct"], "metrics": {"auc": 0.78, "ks": 0.42},
        "note": None, "registered_at": "2026-12-03T08:00:00Z", "registered_by_user_id": 7,
        "promoted_at": None, "retired_at": None}]})

    model: str
    number: int
    status: VersionStatus
    format: str
    sha256: str
    size: int
    features: list[str]
    metrics: dict[str, float]
    note: str | None
    registered_at: datetime
    registered_by_user_id: int | None
    promoted_at: datetime | None
    retired_at: datetime | None


class ModelRead(OutputSchema):
    """A model with its versions, newest first."""

    code: str
    kind: str
    created_at: datetime
    versions: list[ModelVersionSummary]


class ModelPromotionRead(OutputSchema):
    """A proposal to promote a version, and its answer."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": 3, "model": "retail_scorecard", "number": 2, "target": "champion", "status": "pending",
        "reason": "AUC +0.02 on the 2026 hold-out", "proposed_at": "2026-12-03T08:10:00Z", "proposed_by_user_id": 7,
        "decided_at": None, "decided_by_user_id": None, "decision_reason": None, "replaced": None,
        "mine": False}]})

    id: int
    model: str
    number: int
    target: Role
    status: Literal["pending", "approved", "rejected"]
    reason: str
    proposed_at: datetime
    proposed_by_user_id: int | None
    decided_at: datetime | None
    decided_by_user_id: int | None
    decision_reason: str | None
    replaced: str | None = Field(description="code@number of the version that held the role (retired)")
    mine: bool = Field(description="The caller proposed it (and so may not decide it)")


class ModelVersionDetail(ModelVersionSummary):
    """A version with its validation report, its integrity and its proposals."""

    kind: str
    report: dict[str, Any] | None = Field(description="The validation report as registered (any sections)")
    integrity: Literal["ok", "mismatch"] = Field(description="Whether the stored bytes hash to `sha256` now")
    labels: dict[str, dict[str, str]] = Field(description="Each feature's words: feature -> {zh-CN, en}")
    promotions: list[ModelPromotionRead]


class ModelProposalCreate(InputSchema):
    """Propose a version for a role (a second risk officer approves)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"target": "champion",
                                                               "reason": "AUC +0.02 on the 2026 hold-out"}]})

    target: Role
    reason: str = Field(min_length=2, max_length=500)


class ModelDecisionBody(InputSchema):
    """Approve, reject or retire, with a reason."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "Validation report reviewed"}]})

    reason: str = Field(min_length=2, max_length=500)


class ModelReasonWords(OutputSchema):
    """A reason code with the model's words for it."""

    feature: str
    zh_cn: str = Field(alias="zh-CN", serialization_alias="zh-CN")
    en: str


class ModelScoreRead(OutputSchema):
    """What a model said of an application: deciding (champion) or in the shadow (challenger)."""

    model_config = ConfigDict(populate_by_name=True, json_schema_extra={"examples": [{
        "model": "retail_scorecard@1", "role": "champion", "points": 688, "pd": 0.021, "grade": "B",
        "decision": "approve", "reasons": [{"feature": "inquiries_3m", "zh-CN": "近3个月查询次数",
                                            "en": "inquiries in 3 months"}],
        "scored_at": "2026-12-03T09:00:00Z"}]})

    model: str
    role: Role
    points: int
    pd: float
    grade: str
    decision: str
    reasons: list[ModelReasonWords]
    scored_at: datetime


class ModelComparisonRead(OutputSchema):
    """The champion and the challenger on the applications both scored."""

    champion: str | None
    challenger: str | None
    applications: int
    grade_agreement: float | None
    decision_agreement: float | None
    mean_point_difference: float | None = Field(description="challenger − champion, points")
    mean_abs_point_difference: float | None
    grade_matrix: dict[str, dict[str, int]] = Field(description="champion grade -> challenger grade -> count")


class ModelBandRead(OutputSchema):
    """One score band's share in the training sample and among recent applications."""

    low: int | None
    high: int | None
    expected: float
    actual: float


class ModelDriftRead(OutputSchema):
    """PSI of recent applications' scores against the training sample (under 0.1 stable, above 0.25 shifted)."""

    model: str
    applications: int
    psi: float | None
    bands: list[ModelBandRead]
    missing: Literal["no_baseline", "no_scores"] | None = Field(
        description="Why there is no PSI: the report has no score distribution, or no application was scored")
