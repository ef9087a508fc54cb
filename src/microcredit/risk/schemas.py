"""API shapes of risk: rule sets and versions, preview, blacklist, credit reports."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import ConfigDict, Field

from microcredit.platform.schema import InputSchema, MoneyStr, OutputSchema

StageName = Literal["completeness", "eligibility", "identity", "bureau", "knockout", "fraud", "score", "decision"]
RuleOutcome = Literal["fail", "flag", "missing"]
ParameterValue = bool | int | str | list[str]
BlacklistKind = Literal["id_number", "phone", "device_id"]

RULE_EXAMPLE: dict[str, Any] = {"stage": "knockout", "code": "too_many_inquiries",
                "expression": "bureau.inquiries_3m > params.max_inquiries_3m", "outcome": "fail", "message": "",
                "params": {"count": "bureau.inquiries_3m", "max": "params.max_inquiries_3m"}, "needed": ""}


class RuleBody(InputSchema):
    """One rule: when the CEL `expression` is true in its stage, the outcome is `outcome`."""

    model_config = ConfigDict(json_schema_extra={"examples": [RULE_EXAMPLE]})

    stage: StageName
    code: str = Field(min_length=2, max_length=48, description="a-z, 0-9, _; unique in the version")
    expression: str = Field(min_length=1, max_length=2000, description="A boolean CEL expression")
    outcome: RuleOutcome
    message: str = Field(default="", max_length=80, description="Catalogue key; empty: risk.rule.<code>")
    params: dict[str, str] = Field(default_factory=dict, description="Message parameter → CEL expression")
    needed: str = Field(default="", max_length=2000, description="For `missing`: a CEL list of what is needed")


class RuleRead(OutputSchema):
    """One rule of a version."""

    stage: StageName
    code: str
    expression: str
    outcome: RuleOutcome
    message: str
    params: dict[str, str]
    needed: str


class VersionSummary(OutputSchema):
    """A version without its rules."""

    number: int
    status: Literal["draft", "published", "retired"]
    note: str | None
    based_on_number: int | None
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
    lock_version: int


class VersionRead(VersionSummary):
    """A version with its parameters and rules."""

    rule_set: str
    parameters: dict[str, Any]
    rules: list[RuleRead]


class RuleSetRead(OutputSchema):
    """A rule set with its versions, newest first."""

    id: int
    code: str
    name: str
    published_number: int | None
    draft_number: int | None
    versions: list[VersionSummary]


class DraftCreate(InputSchema):
    """A new draft copied from the version in force."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"note": "收紧查询次数 / fewer inquiries"}]})

    note: str | None = Field(default=None, max_length=255)


class DraftUpdate(InputSchema):
    """New parameters, rules or note of a draft (what is left out stays); refused whole if one rule is wrong."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"parameters": {"max_inquiries_3m": 4}, "lock_version": 1}]})

    parameters: dict[str, ParameterValue] | None = Field(
        default=None, description="Named thresholds; merged into the draft's (null leaves them)")
    rules: list[RuleBody] | None = Field(default=None, max_length=200)
    note: str | None = Field(default=None, max_length=255)
    lock_version: int | None = Field(default=None, description="The version's lock_version as read (409 if moved)")


class SampleFacts(InputSchema):
    """A sample application typed in for the preview (money as strings in CNY)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "name": "my_case", "id_number": "110105199005179411", "amount": "30000.00", "term": 12,
        "monthly_income": "8000.00"}]})

    name: str = Field(min_length=1, max_length=40)
    id_number: str = Field(min_length=18, max_length=18, description="Picks the simulators' scenario")
    applicant_name: str = Field(default="张三", max_length=40)
    amount: MoneyStr = Field(description="Asked amount")
    term: int = Field(ge=1, le=360)
    period_unit: Literal["day", "week", "month"] = "month"
    customer_type: str = Field(default="individual", max_length=32)
    monthly_income: MoneyStr | None = None
    monthly_debt_payments: MoneyStr | None = None
    monthly_spending: MoneyStr | None = None
    documents: list[str] | None = Field(default=None, description="Default: the required documents")
    velocity_id_number_24h: int = Field(default=1, ge=0, le=1000)
    velocity_phone_24h: int = Field(default=1, ge=0, le=1000)


class PreviewRequest(InputSchema):
    """Preview a version against the built-in samples and the ones typed in."""

    samples: list[SampleFacts] = Field(default_factory=list, max_length=20)


class RuleResultRead(OutputSchema):
    """One rule's result."""

    stage: StageName
    code: str
    outcome: Literal["pass", "fail", "flag", "missing"]
    message: str
    params: dict[str, str | int]


class AssessmentRead(OutputSchema):
    """A decision with its rule results and score."""

    decision: Literal["approve", "decline", "refer", "return"]
    rule_set: str
    score: int | None
    grade: str | None
    reasons: list[str]
    needed: list[str]
    max_amount: MoneyStr | None
    results: list[RuleResultRead]


class PreviewRow(OutputSchema):
    """One sample under the version in force and under the previewed one."""

    name: str
    amount: MoneyStr
    id_number_masked: str
    changed: bool
    current: AssessmentRead
    draft: AssessmentRead


class BlacklistCreate(InputSchema):
    """Put an identifier on the blacklist."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"kind": "id_number", "value": "110105199005179454", "reason": "冒用他人身份申请"}]})

    kind: BlacklistKind
    value: str = Field(min_length=1, max_length=128)
    reason: str = Field(min_length=1, max_length=255)


class BlacklistRemove(InputSchema):
    """Why an entry comes off the blacklist."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "核实为误报"}]})

    reason: str = Field(min_length=1, max_length=255)


class BlacklistRead(OutputSchema):
    """An entry (the value masked)."""

    id: int
    kind: BlacklistKind
    value_masked: str
    reason: str
    created_at: datetime
    created_by_user_id: int | None
    removed_at: datetime | None
    removed_by_user_id: int | None
    removed_reason: str | None


class BureauReportRead(OutputSchema):
    """A stored credit report."""

    id: int
    application_number: str | None
    source: str
    report_number: str
    queried_on: date
    created_at: datetime
    report: dict[str, Any]


class SimulatorLookup(InputSchema):
    """Ask the bureau simulator for a report (demo; nothing is stored)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"id_number": "110105199005179112", "name": "张三"}]})

    id_number: str = Field(min_length=18, max_length=18)
    name: str = Field(default="张三", min_length=1, max_length=40)
    on: date | None = None


class EarlyDefaultMeasure(OutputSchema):
    """One early default measure over a group of loans."""

    counted: int = Field(description="Loans whose window has been observed to its end, or that defaulted sooner")
    defaults: int
    rate: float | None = Field(description="defaults / counted; null when none is counted")


class EarlyDefaultCell(OutputSchema):
    """Loans of one score band paid out in one month (band null: every band; vintage null: every month)."""

    band: str | None = Field(description="The decision's grade A–E (`-`: none)", examples=["B"])
    vintage: str | None = Field(description="The month paid out, YYYY-MM", examples=["2026-09"])
    loans: int
    dpd30_3m: EarlyDefaultMeasure = Field(description="30+ days past due within 3 months on book")
    dpd90_6m: EarlyDefaultMeasure = Field(description="90+ days past due within 6 months on book")


_CELL_EXAMPLE: dict[str, Any] = {"band": "B", "vintage": "2026-09", "loans": 42,
                 "dpd30_3m": {"counted": 40, "defaults": 3, "rate": 0.075},
                 "dpd90_6m": {"counted": 0, "defaults": 0, "rate": None}}


class EarlyDefaultsRead(OutputSchema):
    """Early default rates of the loans paid out, by score band × vintage, with the totals (docs/risk.md)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "as_of": "2026-12-01", "bands": ["B"], "vintages": ["2026-09"], "cells": [_CELL_EXAMPLE],
        "by_band": [{**_CELL_EXAMPLE, "vintage": None}], "by_vintage": [{**_CELL_EXAMPLE, "band": None}],
        "total": {**_CELL_EXAMPLE, "band": None, "vintage": None}}]})

    as_of: date | None = Field(description="The business date the loans are followed to (null: no loans)")
    bands: list[str]
    vintages: list[str]
    cells: list[EarlyDefaultCell]
    by_band: list[EarlyDefaultCell]
    by_vintage: list[EarlyDefaultCell]
    total: EarlyDefaultCell
