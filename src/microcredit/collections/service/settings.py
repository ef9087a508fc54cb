"""An institution's collection rules: the stages and their entry rules, the contact window, the call
limits, whom besides the debtor may be contacted, the prohibited phrases, the SMS templates and the
agencies cases may be given to. The defaults (`DEFAULTS`) apply until an institution saves its own."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from microcredit.audit import service as audit
from microcredit.clock import Clock
from microcredit.collections import repository as repo
from microcredit.collections.errors import (
    BadStages,
    DuplicateAgency,
    DuplicateTemplate,
    ProhibitedPhrase,
    QuietHoursShort,
    UnknownStage,
    UnknownTemplate,
)
from microcredit.collections.models import CollectionSettings
from microcredit.identity.principal import Principal

DEFAULT_STAGES: tuple[dict[str, Any], ...] = (
    {"code": "reminder", "min_dpd": 1, "min_amount": None},
    {"code": "phone", "min_dpd": 16, "min_amount": None},
    {"code": "field_visit", "min_dpd": 31, "min_amount": None},
    {"code": "legal", "min_dpd": 91, "min_amount": None},
)
# Threats, fake blacklists, exaggerated consequences and telling others about the debt (CBA 2026 guideline,
# GB/T 45251-2025): what a collection message must never say.
DEFAULT_PHRASES: tuple[str, ...] = (
    "黑名单", "坐牢", "拘留", "抓捕", "判刑", "通知你的家人", "通知您的家人", "通知你的单位", "通知您的单位", "曝光",
    "后果自负", "上门讨债", "全家",
    "blacklist", "jail", "prison", "arrest", "your family", "your employer", "expose you", "or else",
)
DEFAULT_TEMPLATES: tuple[dict[str, str], ...] = (
    {"code": "reminder",
     "zh": "{name}您好，您的贷款 {loan} 已逾期 {dpd} 天，逾期金额 {amount} 元，请尽快还款。如有困难，请联系我们协商。",
     "en": "Dear {name}, your loan {loan} is {dpd} day(s) past due, CNY {amount} overdue. Please repay soon; "
           "if you have difficulties, contact us to talk it over."},
    {"code": "promise_reminder",
     "zh": "{name}您好，提醒您按约定还款，贷款 {loan} 逾期金额 {amount} 元。谢谢您的配合。",
     "en": "Dear {name}, a reminder of the repayment you agreed for loan {loan}: CNY {amount} overdue. Thank you."},
)


@dataclass(frozen=True)
class Rules:
    """The rules in force for an institution (saved or default)."""

    stages: list[dict[str, Any]]
    quiet_from_minute: int
    quiet_until_minute: int
    max_effective_calls_per_day: int
    max_attempts_per_number_per_day: int
    contact_guarantors: bool
    contact_group_members: bool
    prohibited_phrases: list[str]
    sms_templates: list[dict[str, str]]
    agencies: list[dict[str, Any]]
    version: int = 0

    def agency(self, name: str | None) -> dict[str, Any] | None:
        """The agency of that name, if the rules list one."""
        return next((a for a in self.agencies if a["name"] == name), None)


DEFAULTS = Rules(stages=[dict(s) for s in DEFAULT_STAGES], quiet_from_minute=22 * 60, quiet_until_minute=8 * 60,
                 max_effective_calls_per_day=3, max_attempts_per_number_per_day=6, contact_guarantors=True,
                 contact_group_members=False, prohibited_phrases=list(DEFAULT_PHRASES),
                 sms_templates=[dict(t) for t in DEFAULT_TEMPLATES], agencies=[])
FIELDS = ("stages", "quiet_from_minute", "quiet_until_minute", "max_effective_calls_per_day",
          "max_attempts_per_number_per_day", "contact_guarantors", "contact_group_members", "prohibited_phrases",
          "sms_templates", "agencies")


def _agency(saved: str | dict[str, Any], stages: list[dict[str, Any]]) -> dict[str, Any]:
    """An agency as saved; rules saved before agencies had details kept only a name (every stage, active)."""
    if isinstance(saved, str):
        return {"name": saved, "contact": None, "commission_percent": None, "stages": [s["code"] for s in stages],
                "active": True}
    return saved


def rules(*, session: Session, institution_id: int) -> Rules:
    """The rules in force for the institution."""
    row = repo.settings_of(session, institution_id)
    if row is None:
        return DEFAULTS
    values = {f: getattr(row, f) for f in FIELDS}
    values["agencies"] = [_agency(a, row.stages) for a in row.agencies]
    return Rules(**values, version=row.version)


def prohibited_in(text: str, phrases: list[str]) -> str | None:
    """The first prohibited phrase `text` uses (case-insensitive), if any."""
    lowered = text.casefold()
    return next((p for p in phrases if p and p.casefold() in lowered), None)


FLOOR_FROM, FLOOR_UNTIL = 22 * 60, 8 * 60  # no contact 22:00-08:00 at least (GB/T 45251-2025; CBA 2026)


def quiet_at(minute: int, start: int, end: int) -> bool:
    """Whether a minute of the day falls in the quiet hours [start, end) (across midnight when start > end)."""
    return (minute >= start or minute < end) if start > end else start <= minute < end


def _check_quiet(start: int, end: int) -> None:
    """The quiet hours may be longer than 22:00-08:00, never shorter: the evening from 22:00 is checked against
    the start, the morning until 08:00 against the end."""
    if not all(quiet_at(m, start, end) for m in range(FLOOR_FROM, 24 * 60)):
        raise QuietHoursShort(field="quiet_from_minute")
    if not all(quiet_at(m, start, end) for m in range(FLOOR_UNTIL)):
        raise QuietHoursShort(field="quiet_until_minute")


def _check(values: dict[str, Any]) -> None:
    _check_quiet(values["quiet_from_minute"], values["quiet_until_minute"])
    stages = values["stages"]
    codes = [s["code"] for s in stages]
    days = [s["min_dpd"] for s in stages]
    if not stages or days[0] != 1 or any(b <= a for a, b in itertools.pairwise(days)) \
            or len(set(codes)) != len(codes):
        raise BadStages(field="stages")
    templates = [t["code"] for t in values["sms_templates"]]
    for i, code in enumerate(templates):
        if code in templates[:i]:
            raise DuplicateTemplate(field=f"sms_templates.{i}.code")
    for i, stage in enumerate(stages):
        if stage.get("sms_template") is not None and stage["sms_template"] not in templates:
            raise UnknownTemplate(field=f"stages.{i}.sms_template")
    names: set[str] = set()
    for i, agency in enumerate(values["agencies"]):
        if agency["name"] in names:
            raise DuplicateAgency(field=f"agencies.{i}.name")
        names.add(agency["name"])
        unknown = [code for code in agency["stages"] if code not in codes]
        if unknown:
            raise UnknownStage(field=f"agencies.{i}.stages", stage=unknown[0])
    for i, template in enumerate(values["sms_templates"]):
        for language in ("zh", "en"):
            phrase = prohibited_in(template[language], values["prohibited_phrases"])
            if phrase is not None:
                raise ProhibitedPhrase(field=f"sms_templates.{i}.{language}", phrase=phrase)


def update(*, session: Session, clock: Clock, principal: Principal, values: dict[str, Any]) -> Rules:
    """Save the caller's institution's rules (all fields; audited with the rules before)."""
    _check(values)
    before = rules(session=session, institution_id=principal.institution_id)
    row = repo.settings_of(session, principal.institution_id)
    if row is None:
        row = CollectionSettings(institution_id=principal.institution_id, updated_at=clock.now(),
                                 **{f: getattr(DEFAULTS, f) for f in FIELDS})
        repo.add(session, row)
    for f in FIELDS:
        setattr(row, f, values[f])
    row.updated_at, row.updated_by_user_id = clock.now(), principal.user_id
    session.flush()
    audit.record(session=session, clock=clock, actor=principal.actor, action="collection.settings_updated",
                 entity_type="institution", entity_id=principal.institution_id,
                 institution_id=principal.institution_id,
                 before={f: getattr(before, f) for f in FIELDS}, after={f: values[f] for f in FIELDS})
    return rules(session=session, institution_id=principal.institution_id)
