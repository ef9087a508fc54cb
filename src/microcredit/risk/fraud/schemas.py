"""API shapes of fraud detection: the case queue, a case with its ring, notes, verdicts, the scan."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import ConfigDict, Field

from microcredit.platform.schema import InputSchema, OutputSchema

CaseStatus = Literal["open", "closed"]
CaseSource = Literal["review", "scan"]
Verdict = Literal["fraud", "not_fraud"]


class FraudCaseRead(OutputSchema):
    """A case of the queue."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": 7, "source": "review", "status": "open", "application_number": "AP20261203000012",
        "members": ["AP20261203000009", "AP20261203000012", "AP20261203000015"], "persons": 3,
        "signals": {"codes": ["fraud_ring"], "ring_persons": 3, "anomaly": 0.52}, "opened_at": "2026-12-03T02:00:00Z",
        "verdict": None, "verdict_reason": None, "decided_at": None, "decided_by_user_id": None,
        "lock_version": 1}]})

    id: int
    source: CaseSource
    status: CaseStatus
    application_number: str | None
    members: list[str]
    persons: int
    signals: dict[str, Any]
    opened_at: datetime
    verdict: Verdict | None
    verdict_reason: str | None
    decided_at: datetime | None
    decided_by_user_id: int | None
    lock_version: int


class RingNode(OutputSchema):
    """A node of the ring: an application or an identifier two or more members gave (masked)."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"id": "a:AP20261203000012", "kind": "application", "label": "AP20261203000012", "flagged": True},
        {"id": "i:3", "kind": "device_id", "label": "dev***a91", "flagged": False}]})

    id: str
    kind: str = Field(description="application, id_number, phone, device_id, ip or bank_card")
    label: str
    flagged: bool


class RingEdge(OutputSchema):
    """An application gave this identifier."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"source": "a:AP20261203000012", "target": "i:3"}]})

    source: str
    target: str


class NoteRead(OutputSchema):
    """A note on a case."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"id": 4, "body": "三人共用同一设备", "created_at": "2026-12-03T03:00:00Z", "created_by_user_id": 12}]})

    id: int
    body: str
    created_at: datetime
    created_by_user_id: int | None


class FraudCaseDetail(FraudCaseRead):
    """A case with its ring and notes."""

    nodes: list[RingNode]
    edges: list[RingEdge]
    notes: list[NoteRead]


class NoteCreate(InputSchema):
    """A note."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"body": "三人共用同一设备，电话回访均未接通"}]})

    body: str = Field(min_length=1, max_length=4000)


class VerdictCreate(InputSchema):
    """The verdict: fraud or not, why, and the case's `lock_version` as read."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"verdict": "fraud", "reason": "同一设备批量申请",
                                                               "lock_version": 1}]})

    verdict: Verdict
    reason: str = Field(min_length=1, max_length=500)
    lock_version: int = Field(ge=1)


class ScanRead(OutputSchema):
    """What the batch scan found."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"applications": 1200, "rings": 3, "opened": 2}]})

    applications: int
    rings: int
    opened: int


class LabelRead(OutputSchema):
    """A verdict on one application (the training export)."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"application_number": "AP20261203000012", "label": "fraud", "case_id": 7,
         "labelled_at": "2026-12-03T04:00:00Z"}]})

    application_number: str
    label: Verdict
    case_id: int
    labelled_at: datetime


class AnomalyTrainCreate(InputSchema):
    """Train the anomaly model from the institution's submitted applications."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"contamination": 0.02, "note": "2026 Q4 intake"}]})

    contamination: float = Field(default=0.02, ge=0.005, le=0.2,
                                 description="The share of usual applications the model should send to a person; "
                                             "the threshold is the training scores' (1 − contamination) quantile")
    note: str | None = Field(default=None, max_length=255)


class ScoreBand(OutputSchema):
    """Applications whose training score fell in [low, high) (open at the ends)."""

    low: float | None
    high: float | None
    count: int


class PendingProposal(OutputSchema):
    """A proposal to put the version in force, waiting for a second risk officer."""

    id: int
    reason: str
    proposed_at: datetime
    mine: bool


class AnomalyVersionRead(OutputSchema):
    """A version of the institution's anomaly model: its training sample, threshold and score distribution."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "model": "fraud_anomaly", "number": 2, "status": "draft", "sha256": "3f1c…", "registered_at":
        "2026-12-04T02:00:00Z", "note": None, "sample": 1840, "excluded_fraud": 3, "contamination": 0.02,
        "threshold": 0.6312, "flagged": 37, "quantiles": {"0.5": 0.41, "0.9": 0.52, "0.98": 0.63, "0.99": 0.66},
        "histogram": [{"low": None, "high": 0.3, "count": 0}, {"low": 0.3, "high": 0.35, "count": 12}],
        "pending": None}]})

    model: str
    number: int
    status: str
    sha256: str
    registered_at: datetime
    note: str | None
    sample: int
    excluded_fraud: int
    contamination: float
    threshold: float
    flagged: int
    quantiles: dict[str, float]
    histogram: list[ScoreBand]
    pending: PendingProposal | None


class AnomalyModelRead(OutputSchema):
    """The anomaly model in force, what training needs, and the versions trained from applications."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "in_force": "builtin", "threshold": 0.68, "problem": None, "min_applications": 200,
        "default_contamination": 0.02, "versions": []}]})

    in_force: str = Field(description="`builtin` (trained on the synthetic population) or the version's code@n")
    threshold: float = Field(description="The review threshold the fraud check applies with it (unless a rule set "
                                         "sets `fraud_anomaly_review`)")
    problem: str | None = Field(description="Why the institution's approved model is not served (integrity)")
    min_applications: int
    default_contamination: float
    versions: list[AnomalyVersionRead]
