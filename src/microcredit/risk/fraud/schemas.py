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
