"""Collections' API shapes (money as strings)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal, Self

from pydantic import ConfigDict, Field, model_validator

from microcredit.platform.schema import InputSchema, MoneyStr, MultiLine, OutputSchema, field_error, money_bounds

ActionKind = Literal["sms", "call", "visit", "promise", "legal_referral", "negative_report_notice", "bureau_report"]
CallOutcome = Literal["reached", "no_answer", "busy", "wrong_number", "refused", "switched_off"]
ContactParty = Literal["borrower", "guarantor", "group_member", "other"]
CaseStatus = Literal["open", "promised", "closed"]
PositiveMoney = Annotated[MoneyStr, money_bounds(gt="0", le="100000000")]
Code = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[a-z][a-z0-9_]*$")]


class ActionCreate(InputSchema):
    """An action on a case. Contacts (sms, call, visit) pass the compliance gates first."""

    kind: ActionKind
    outcome: CallOutcome | None = Field(default=None, description="A call's outcome (required for a call)")
    contact_party: ContactParty = "borrower"
    contact_ref: str | None = Field(default=None, max_length=100, description=(
        "Whom, besides the borrower: a group member's borrower id, or the id of an active guarantor of the "
        "case's loan (`CaseDetail.guarantors`)"))
    contact_reason: str | None = Field(default=None, max_length=200, description="Why a third party (logged)")
    template: Code | None = Field(default=None, description="An SMS's template code (required for an SMS)")
    language: Literal["zh-CN", "en"] = "zh-CN"
    notes: Annotated[str, MultiLine()] | None = Field(default=None, max_length=2000)
    document_ids: list[int] = Field(default_factory=list, max_length=10,
                                    description="Photos of a visit (documents uploaded for the borrower)")
    promise_date: date | None = None
    promise_amount: PositiveMoney | None = None

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"kind": "call", "outcome": "reached", "notes": "答应周五前还款"},
        {"kind": "promise", "promise_date": "2026-12-10", "promise_amount": "900.00"},
        {"kind": "sms", "template": "reminder"},
        {"kind": "call", "outcome": "reached", "contact_party": "guarantor", "contact_ref": "12"}]})

    @model_validator(mode="after")
    def _required(self) -> Self:
        missing = {"call": ["outcome"], "sms": ["template"], "promise": ["promise_date", "promise_amount"],
                   "visit": ["notes"]}.get(self.kind, [])
        absent = [f for f in missing if getattr(self, f) is None]
        if absent:
            raise field_error("action_field_required", f"{', '.join(absent)}: required for a {self.kind}",
                              f"{', '.join(absent)}：该类行动必填")
        return self


class ActionRead(OutputSchema):
    """An action logged on a case."""

    id: int
    case_id: int
    kind: str
    outcome: str | None
    effective: bool
    contact_party: str | None
    contact_ref: str | None
    contact_reason: str | None
    template: str | None
    text: str | None
    notes: str | None
    document_ids: list[int]
    promise_date: date | None
    promise_amount: MoneyStr | None
    promise_status: str | None
    local_date: date
    at: datetime
    user_id: int | None
    user_name: str | None = None


class Overdue(OutputSchema):
    """Overdue amounts by component."""

    principal: MoneyStr
    interest: MoneyStr
    fee: MoneyStr
    penalty: MoneyStr


class CaseRead(OutputSchema):
    """A case in a list."""

    id: int
    loan_id: int
    loan_number: str | None = None
    borrower_id: int
    borrower_name: str | None = None
    branch_id: int | None
    status: CaseStatus
    close_reason: str | None
    stage: str
    dpd: int
    overdue: Overdue
    overdue_total: MoneyStr
    priority: int
    recovered: MoneyStr
    assigned_user_id: int | None
    assigned_name: str | None = None
    agency: str | None
    opened_on: date
    closed_on: date | None
    version: int


class DebtorRead(OutputSchema):
    """The debtor as the collector sees them."""

    borrower_id: int
    name: str
    phone_masked: str
    time_zone: str
    local_time: datetime
    night_contact_consent: bool
    group_member_ids: list[int]


class LoanLine(OutputSchema):
    """One of the debtor's loans."""

    id: int
    number: str
    status: str
    principal: MoneyStr
    outstanding_principal: MoneyStr
    dpd: int
    next_due_date: date | None


class CaseGuarantor(OutputSchema):
    """An active guarantor of the case's loan, whom the rules may allow contacting (phone masked)."""

    id: int
    name: str
    relation: str = Field(examples=["spouse"])
    kind: str = Field(examples=["joint_liability"])
    phone_masked: str = Field(examples=["139****2222"])


class CaseDetail(CaseRead):
    """A case with its debtor, the debtor's loans and cases, the loan's guarantors and the contact history."""

    debtor: DebtorRead
    loans: list[LoanLine]
    guarantors: list[CaseGuarantor]
    other_cases: list[CaseRead]
    actions: list[ActionRead]
    templates: list[str] = Field(description="The codes of the institution's collection SMS templates")


class Assignment(InputSchema):
    """Give a case to a collector, or to an agency on the allow-list (exactly one)."""

    user_id: int | None = Field(default=None, ge=1)
    agency: str | None = Field(default=None, max_length=100)

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"user_id": 12}]})

    @model_validator(mode="after")
    def _one(self) -> Self:
        if (self.user_id is None) == (self.agency is None):
            raise field_error("collector_or_agency", "give a collector or an agency", "请选择催收员或委外机构之一")
        return self


class Stage(InputSchema):
    """A stage and its entry rule: from `min_dpd` days past due (and `min_amount` overdue, if set)."""

    code: Code
    min_dpd: int = Field(ge=1, le=10000)
    min_amount: PositiveMoney | None = None


class SmsTemplate(InputSchema):
    """A collection SMS template: {name}, {loan}, {dpd} and {amount} are filled in."""

    code: Code
    zh: str = Field(min_length=1, max_length=300)
    en: str = Field(min_length=1, max_length=500)


class SettingsBody(InputSchema):
    """An institution's collection rules."""

    stages: list[Stage] = Field(min_length=1, max_length=10)
    quiet_from_minute: int = Field(ge=0, lt=1440, description="Start of the quiet hours, minutes after midnight")
    quiet_until_minute: int = Field(ge=0, lt=1440, description="End of the quiet hours, minutes after midnight")
    max_effective_calls_per_day: int = Field(ge=0, le=3, description="At most 3 (GB/T 45251-2025)")
    max_attempts_per_number_per_day: int = Field(ge=0, le=6, description="At most 6 (CBA 2026 guideline)")
    contact_guarantors: bool
    contact_group_members: bool
    prohibited_phrases: list[Annotated[str, Field(min_length=1, max_length=50)]] = Field(max_length=500)
    sms_templates: list[SmsTemplate] = Field(max_length=30)
    agencies: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(max_length=50)

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "stages": [{"code": "reminder", "min_dpd": 1}, {"code": "phone", "min_dpd": 16},
                   {"code": "field_visit", "min_dpd": 31}, {"code": "legal", "min_dpd": 91, "min_amount": "1000.00"}],
        "quiet_from_minute": 1320, "quiet_until_minute": 480, "max_effective_calls_per_day": 3,
        "max_attempts_per_number_per_day": 6, "contact_guarantors": True, "contact_group_members": False,
        "prohibited_phrases": ["黑名单", "坐牢"], "sms_templates": [
            {"code": "reminder", "zh": "{name}您好，您的贷款 {loan} 已逾期 {dpd} 天。",
             "en": "Dear {name}, your loan {loan} is {dpd} day(s) past due."}],
        "agencies": []}]})


class StageRead(OutputSchema):
    """A stage as saved."""

    code: str
    min_dpd: int
    min_amount: str | None = None


class SettingsRead(OutputSchema):
    """The rules in force (the defaults until saved; `version` 0)."""

    stages: list[StageRead]
    quiet_from_minute: int
    quiet_until_minute: int
    max_effective_calls_per_day: int
    max_attempts_per_number_per_day: int
    contact_guarantors: bool
    contact_group_members: bool
    prohibited_phrases: list[str]
    sms_templates: list[dict[str, str]]
    agencies: list[str]
    version: int


class DebtorUpdate(InputSchema):
    """A debtor's time zone (None: the institution's) and consent to contact in the quiet hours."""

    time_zone: str | None = Field(default=None, max_length=64, examples=["Asia/Urumqi"])
    night_contact_consent: bool

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"time_zone": "Asia/Shanghai", "night_contact_consent": False}]})


class DebtorPrefsRead(OutputSchema):
    """A debtor's contact preferences as recorded."""

    borrower_id: int
    time_zone: str | None
    night_contact_consent: bool


class CollectorRead(OutputSchema):
    """A collector and their cases not closed."""

    user_id: int
    name: str
    branch_id: int | None
    live_cases: int


class CollectorFiguresRead(OutputSchema):
    """One collector's figures over the period."""

    user_id: int
    name: str
    live_cases: int
    cases_worked: int
    actions: int
    recovered: MoneyStr
    promises_made: int
    promises_kept: int
    promises_broken: int


class PerformanceRead(OutputSchema):
    """Collector performance over a period."""

    first: date
    last: date
    collectors: list[CollectorFiguresRead]


class SyncRead(OutputSchema):
    """What a sync did."""

    business_date: date
    opened: list[int]
    escalated: list[int]
    closed: list[int]
    promises_kept: list[int]
    promises_broken: list[int]
