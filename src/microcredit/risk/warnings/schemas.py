"""Early warning's API shapes."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import ConfigDict, Field

from microcredit.platform.schema import InputSchema, OutputSchema

Rule = Literal["score_drop", "first_missed_payment", "repeated_partial_payments", "bureau_delinquency",
               "concentration"]
Action = Literal["freeze_limit", "step_up_collection", "ask_guarantor", "review_portfolio", "call_early"]
WarningStatus = Literal["open", "proposed", "actioned", "dismissed"]


class ScoreRead(OutputSchema):
    """A loan's behaviour score on one business date."""

    scored_on: date
    score: int
    grade: str
    dpd: int
    model: str

    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [
        {"scored_on": "2026-12-01", "score": 640, "grade": "B", "dpd": 0, "model": "behaviour-points-v1"}]})


class RiskWarningRead(OutputSchema):
    """A warning in the queue."""

    id: int
    rule: Rule
    severity: str
    subject: str
    raised_on: date
    status: WarningStatus
    loan_id: int | None
    loan_number: str | None = None
    borrower_id: int | None
    borrower_name: str | None = None
    branch_id: int | None
    score: int | None
    details: dict[str, Any]
    suggested_action: Action
    assigned_user_id: int | None
    proposed_action: Action | None
    proposal_note: str | None
    proposed_by_user_id: int | None
    proposed_at: datetime | None
    decided_by_user_id: int | None
    decided_at: datetime | None
    decision_note: str | None
    outcome: dict[str, Any] | None
    version: int

    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [
        {"id": 7, "rule": "first_missed_payment", "severity": "medium", "subject": "loan:12",
         "raised_on": "2026-12-01", "status": "open", "loan_id": 12, "loan_number": "L-20261001-000012",
         "borrower_id": 5, "borrower_name": "张三", "branch_id": 2, "score": 590, "details": {"dpd": 1},
         "suggested_action": "step_up_collection", "assigned_user_id": 9, "proposed_action": None,
         "proposal_note": None, "proposed_by_user_id": None, "proposed_at": None, "decided_by_user_id": None,
         "decided_at": None, "decision_note": None, "outcome": None, "version": 1}]})


class RiskWarningDetail(RiskWarningRead):
    """A warning with the loan's score history and whether the borrower is frozen."""

    scores: list[ScoreRead] = Field(default_factory=list)
    borrower_frozen: bool = False


class Proposal(InputSchema):
    """The action proposed on a warning (the suggested one when omitted)."""

    action: Action | None = None
    note: str | None = Field(default=None, max_length=500)

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"action": "step_up_collection", "note": "首期逾期，电话未接通"}]})


class Decision(InputSchema):
    """A second person's approval of the proposed action."""

    note: str | None = Field(default=None, max_length=500)

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"note": "同意"}]})


class Dismissal(InputSchema):
    """Why a warning needs nothing done."""

    note: str = Field(min_length=1, max_length=500)

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"note": "借款人已说明原因并补缴"}]})


class ThresholdsRead(OutputSchema):
    """An institution's thresholds (docs/risk.md, Early warning)."""

    score_drop_points: int
    score_drop_days: int
    first_missed_dpd: int
    partial_installments: int
    bureau_refresh_days: int
    concentration_min_loans: int
    concentration_share: Decimal
    cooldown_days: int

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"score_drop_points": 60, "score_drop_days": 30, "first_missed_dpd": 1, "partial_installments": 2,
         "bureau_refresh_days": 30, "concentration_min_loans": 5, "concentration_share": "0.30",
         "cooldown_days": 30}]})


class ThresholdsUpdate(InputSchema):
    """Thresholds to change (the others keep their values); each has a range (422 naming it otherwise)."""

    score_drop_points: int | None = None
    score_drop_days: int | None = None
    first_missed_dpd: int | None = None
    partial_installments: int | None = None
    bureau_refresh_days: int | None = None
    concentration_min_loans: int | None = None
    concentration_share: Decimal | None = Field(default=None, max_digits=4, decimal_places=2)
    cooldown_days: int | None = None

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"score_drop_points": 80, "concentration_share": "0.25"}]})
