"""Collections' API shapes (money as strings)."""

from __future__ import annotations

import string
from datetime import date, datetime
from typing import Annotated, Literal, Self

from pydantic import ConfigDict, Field, field_validator, model_validator

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
    """A stage and its entry rule: from `min_dpd` days past due (and `min_amount` overdue, if set); with
    `sms_template`, that template is texted to the borrower when a case enters the stage."""

    code: Code
    min_dpd: int = Field(ge=1, le=10000)
    min_amount: PositiveMoney | None = None
    sms_template: Code | None = Field(default=None, description=(
        "The code of one of `sms_templates`, queued to the borrower when a case enters the stage (at the end "
        "of the quiet hours if it enters in them); null: none"))


PLACEHOLDERS = ("name", "loan", "dpd", "amount")
"""What the sender fills in a collection SMS template: the borrower's name, the loan's number, the days
past due, the overdue amount."""


def placeholders_of(text: str) -> list[str]:
    """The placeholders a template's text names ({name} …); ValueError when its braces are malformed."""
    return [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]


def _template_text(text: str) -> str:
    try:
        names = placeholders_of(text)
    except ValueError:
        raise field_error("template_braces", "unbalanced { or } (write {name}, {loan}, {dpd} or {amount})",
                          "花括号不成对（可用 {name}、{loan}、{dpd}、{amount}）") from None
    unknown = [n for n in names if n not in PLACEHOLDERS]
    if unknown:
        raise field_error("unknown_placeholder",
                          f"unknown placeholder {{{unknown[0]}}}: only {{name}}, {{loan}}, {{dpd}} and {{amount}}",
                          f"未知占位符 {{{unknown[0]}}}：只能用 {{name}}、{{loan}}、{{dpd}}、{{amount}}")
    return text


class SmsTemplate(InputSchema):
    """A collection SMS template: {name}, {loan}, {dpd} and {amount} are filled in (no other placeholder)."""

    code: Code
    zh: str = Field(min_length=1, max_length=300)
    en: str = Field(min_length=1, max_length=500)

    @field_validator("zh", "en")
    @classmethod
    def _placeholders(cls, value: str) -> str:
        return _template_text(value)


class Agency(InputSchema):
    """A collection agency cases may be given to: a contact, its commission (percent of what it recovers), the
    stages whose cases it takes; an inactive one is kept (its cases keep its name) but given no new case."""

    name: str = Field(min_length=1, max_length=100)
    contact: str | None = Field(default=None, max_length=100, description="A person and a phone number, as typed")
    commission_percent: str | None = Field(default=None, pattern=r"^(100(\.0{1,2})?|\d{1,2}(\.\d{1,2})?)$",
                                           description='Percent of the amount recovered, e.g. "12.5"; at most 100')
    stages: list[Code] = Field(min_length=1, max_length=10, description="The stages whose cases it may take")
    active: bool = True


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
    agencies: list[Agency] = Field(max_length=50)

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "stages": [{"code": "reminder", "min_dpd": 1, "sms_template": "reminder"}, {"code": "phone", "min_dpd": 16},
                   {"code": "field_visit", "min_dpd": 31}, {"code": "legal", "min_dpd": 91, "min_amount": "1000.00"}],
        "quiet_from_minute": 1320, "quiet_until_minute": 480, "max_effective_calls_per_day": 3,
        "max_attempts_per_number_per_day": 6, "contact_guarantors": True, "contact_group_members": False,
        "prohibited_phrases": ["黑名单", "坐牢"], "sms_templates": [
            {"code": "reminder", "zh": "{name}您好，您的贷款 {loan} 已逾期 {dpd} 天。",
             "en": "Dear {name}, your loan {loan} is {dpd} day(s) past due."}],
        "agencies": [{"name": "华信催收", "contact": "周经理 13900001111", "commission_percent": "15",
                      "stages": ["field_visit", "legal"], "active": True}]}]})


class StageRead(OutputSchema):
    """A stage as saved."""

    code: str
    min_dpd: int
    min_amount: str | None = None
    sms_template: str | None = None


class SmsTemplateRead(OutputSchema):
    """A collection SMS template as saved."""

    code: str
    zh: str
    en: str


class AgencyRead(OutputSchema):
    """An agency as saved."""

    name: str
    contact: str | None
    commission_percent: str | None
    stages: list[str]
    active: bool


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
    sms_templates: list[SmsTemplateRead]
    agencies: list[AgencyRead]
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
    texted: list[int] = Field(description="Cases whose new stage's SMS was queued to the borrower")
