"""Routes of risk: rule sets (versions, drafts, publishing, preview), the blacklist, credit reports, the simulator.

Rule sets and the blacklist are the caller's institution's. Reading rules
needs `risk.read` (risk officers, approvers, auditors); changing them and the
blacklist `risk.manage`. A stored credit report is read with `loan.read`
(every view audited); the bureau simulator's lookup is a demo tool for
`risk.manage`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Path

from microcredit.api.deps import DB, WallClock, require
from microcredit.api.params import Id
from microcredit.identity.principal import Principal
from microcredit.platform.crypto import mask_id_number
from microcredit.platform.routing import UnitOfWorkRoute
from microcredit.platform.validators import InvalidIdentifier, validate_id_number
from microcredit.risk import samples
from microcredit.risk import service as risk
from microcredit.risk.assessment import ApplicantFacts, Assessment, Outcome, Stage, Velocity
from microcredit.risk.errors import SampleInvalid
from microcredit.risk.models import RuleSet, RuleSetVersion
from microcredit.risk.rules import Rule
from microcredit.risk.schemas import (
    AssessmentRead,
    BlacklistCreate,
    BlacklistRead,
    BlacklistRemove,
    BureauReportRead,
    DraftCreate,
    DraftUpdate,
    EarlyDefaultCell,
    EarlyDefaultMeasure,
    EarlyDefaultsRead,
    PreviewRequest,
    PreviewRow,
    RuleRead,
    RuleResultRead,
    RuleSetRead,
    SampleFacts,
    SimulatorLookup,
    VersionRead,
    VersionSummary,
)

router = APIRouter(prefix="/risk", tags=["risk"], route_class=UnitOfWorkRoute)
Code = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$", examples=["default"])]
Number = Annotated[int, Path(ge=1, le=1_000_000, description="A version number", examples=[2])]
ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such rule set or version (`rule_set_not_found`)"},
    409: {"description": "Not a draft (`rule_set_version_not_draft`), a draft exists (`rule_set_draft_exists`), "
                         "or the draft moved (`conflict`, field `lock_version`)"},
    422: {"description": "A rule is wrong: `rule_does_not_compile`, `rule_unknown_variable`, `rule_not_boolean` "
                         "… with `errors[].field` = `rules[<i>].expression` …"}}


def _summary(v: RuleSetVersion) -> VersionSummary:
    return VersionSummary.model_validate(v, from_attributes=True)


def _rule_set(session: DB, rs: RuleSet) -> RuleSetRead:
    versions = risk.rulesets.versions(session=session, rule_set=rs)
    return RuleSetRead(
        id=rs.id, code=rs.code, name=rs.name,
        published_number=next((v.number for v in versions if v.status == "published"), None),
        draft_number=next((v.number for v in versions if v.status == "draft"), None),
        versions=[_summary(v) for v in versions])


def _version(rs: RuleSet, v: RuleSetVersion) -> VersionRead:
    return VersionRead(**_summary(v).model_dump(), rule_set=rs.code, parameters=dict(v.parameters),
                       rules=[RuleRead.model_validate(r) for r in v.rules])


def _assessment(a: Assessment) -> AssessmentRead:
    return AssessmentRead(
        decision=a.decision.value, rule_set=a.rule_set, score=a.score, grade=a.grade, reasons=list(a.reasons),
        needed=list(a.needed), max_amount=a.max_amount,
        results=[RuleResultRead(stage=r.stage.value, code=r.code, outcome=r.outcome.value, message=r.message,
                                params=dict(r.params)) for r in a.results])


def _institution_rule_set(session: DB, clock: WallClock, principal: Principal, code: str) -> RuleSet:
    risk.rulesets.seed_defaults(session=session, clock=clock, institution_id=principal.institution_id)
    return risk.rulesets.rule_set(session=session, institution_id=principal.institution_id, code=code)


# --- rule sets ----------------------------------------------------------------------------


@router.get("/rule-sets", response_model=list[RuleSetRead], operation_id="list_risk_rule_sets",
            summary="The institution's rule sets")
def list_risk_rule_sets(session: DB, clock: WallClock, principal: Principal = require("risk.read")) -> Any:
    """Each rule set with its versions (the one `published` is in force; at most one `draft`)."""
    risk.rulesets.seed_defaults(session=session, clock=clock, institution_id=principal.institution_id)
    return [_rule_set(session, rs)
            for rs in risk.rulesets.rule_sets(session=session, institution_id=principal.institution_id)]


@router.get("/rule-sets/{rule_set_code}/versions/{version_number}", response_model=VersionRead,
            operation_id="get_risk_rule_set_version", summary="One version with its parameters and rules",
            responses=ERRORS)
def get_risk_rule_set_version(rule_set_code: Code, version_number: Number, session: DB, clock: WallClock,
                              principal: Principal = require("risk.read")) -> Any:
    """Parameters and rules exactly as stored."""
    rs = _institution_rule_set(session, clock, principal, rule_set_code)
    return _version(rs, risk.rulesets.version(session=session, rule_set=rs, number=version_number))


@router.post("/rule-sets/{rule_set_code}/versions", response_model=VersionRead, status_code=201,
             operation_id="create_risk_rule_set_draft", summary="A new draft from the version in force",
             responses=ERRORS)
def create_risk_rule_set_draft(rule_set_code: Code, body: DraftCreate, session: DB, clock: WallClock,
                               principal: Principal = require("risk.manage")) -> Any:
    """Copies the parameters and rules in force into a new draft numbered after the last version (audited)."""
    rs = _institution_rule_set(session, clock, principal, rule_set_code)
    return _version(rs, risk.rulesets.create_draft(session=session, clock=clock, actor=principal.actor,
                                                   rule_set=rs, note=body.note))


@router.patch("/rule-sets/{rule_set_code}/versions/{version_number}", response_model=VersionRead,
              operation_id="update_risk_rule_set_draft", summary="Edit a draft", responses=ERRORS)
def update_risk_rule_set_draft(rule_set_code: Code, version_number: Number, body: DraftUpdate, session: DB,
                               clock: WallClock, principal: Principal = require("risk.manage")) -> Any:
    """Every expression is compiled and type-checked first; one wrong rule refuses the whole edit (audited)."""
    rs = _institution_rule_set(session, clock, principal, rule_set_code)
    current = risk.rulesets.version(session=session, rule_set=rs, number=version_number)
    parameters = {**current.parameters, **body.parameters} if body.parameters is not None else None
    rules = None if body.rules is None else [
        Rule(stage=Stage(r.stage), code=r.code, expression=r.expression, outcome=Outcome(r.outcome),
             message=r.message, params=dict(r.params), needed=r.needed) for r in body.rules]
    return _version(rs, risk.rulesets.edit_draft(
        session=session, clock=clock, actor=principal.actor, rule_set=rs, number=version_number,
        parameters=parameters, rules=rules, note=body.note, lock_version=body.lock_version))


@router.post("/rule-sets/{rule_set_code}/versions/{version_number}/publish", response_model=VersionRead,
             operation_id="publish_risk_rule_set_version", summary="Put a draft in force", responses=ERRORS)
def publish_risk_rule_set_version(rule_set_code: Code, version_number: Number, session: DB, clock: WallClock,
                                  principal: Principal = require("risk.manage")) -> Any:
    """The draft is in force from now on; the version before is retired; neither changes again (audited)."""
    rs = _institution_rule_set(session, clock, principal, rule_set_code)
    return _version(rs, risk.rulesets.publish(session=session, clock=clock, actor=principal.actor, rule_set=rs,
                                              number=version_number))


def _typed_sample(i: int, s: SampleFacts, institution_id: int) -> ApplicantFacts:
    try:
        resident = validate_id_number(s.id_number)
    except InvalidIdentifier:
        raise SampleInvalid(field=f"samples[{i}].id_number") from None
    base = samples.base_facts(institution_id=institution_id)
    return replace(
        base, application_number=f"SAMPLE-{s.name}", name=s.applicant_name, id_number=resident.number,
        region_code=resident.region, amount=s.amount, term=s.term, period_unit=s.period_unit,
        customer_type=s.customer_type, monthly_income=s.monthly_income,
        monthly_debt_payments=s.monthly_debt_payments, monthly_spending=s.monthly_spending,
        documents=frozenset(s.documents) if s.documents is not None else base.required_documents,
        velocity=Velocity(id_number_24h=s.velocity_id_number_24h, phone_24h=s.velocity_phone_24h))


@router.post("/rule-sets/{rule_set_code}/versions/{version_number}/preview", response_model=list[PreviewRow],
             operation_id="preview_risk_rule_set_version",
             summary="Decide the sample applications under the version in force and under this one",
             responses=ERRORS)
def preview_risk_rule_set_version(rule_set_code: Code, version_number: Number, body: PreviewRequest, session: DB,
                                  clock: WallClock, principal: Principal = require("risk.read")) -> Any:
    """Built-in samples (clean, blacklisted, thin file, high DTI, velocity, missing income …) and the ones typed
    in; reports and ID checks come from the simulators, nothing is stored."""
    rs = _institution_rule_set(session, clock, principal, rule_set_code)
    extra = {s.name: _typed_sample(i, s, principal.institution_id) for i, s in enumerate(body.samples)}
    rows = risk.rulesets.preview(session=session, clock=clock, rule_set=rs, number=version_number, extra=extra)
    return [PreviewRow(name=r.name, amount=r.facts.amount, id_number_masked=mask_id_number(r.facts.id_number),
                       changed=(r.current.decision, r.current.grade) != (r.draft.decision, r.draft.grade),
                       current=_assessment(r.current), draft=_assessment(r.draft)) for r in rows]


# --- blacklist ------------------------------------------------------------------------------


def _cell(cell: risk.outcomes.Cell) -> EarlyDefaultCell:
    def measure(m: risk.outcomes.Measure) -> EarlyDefaultMeasure:
        return EarlyDefaultMeasure(counted=m.counted, defaults=m.defaults, rate=m.rate)

    return EarlyDefaultCell(band=cell.band, vintage=cell.vintage, loans=cell.loans, dpd30_3m=measure(cell.early),
                            dpd90_6m=measure(cell.late))


@router.get("/early-defaults", response_model=EarlyDefaultsRead, operation_id="get_risk_early_defaults",
            summary="Early default rates by score band and vintage")
def get_risk_early_defaults(session: DB, principal: Principal = require("risk.read")) -> Any:
    """The institution's loans paid out, by the grade of their decision and the month paid out: how many were
    30+ days past due within 3 months on book and 90+ within 6 (docs/risk.md, "Early defaults")."""
    table = risk.outcomes.early_defaults(session=session, source=risk.current().outcomes,
                                         institution_id=principal.institution_id)
    return EarlyDefaultsRead(as_of=table.as_of, bands=list(table.bands), vintages=list(table.vintages),
                             cells=[_cell(c) for c in table.cells], by_band=[_cell(c) for c in table.by_band],
                             by_vintage=[_cell(c) for c in table.by_vintage], total=_cell(table.total))


@router.get("/blacklist", response_model=list[BlacklistRead], operation_id="list_risk_blacklist",
            summary="The institution's blacklist")
def list_risk_blacklist(session: DB, principal: Principal = require("risk.manage"),
                        include_removed: bool = False) -> Any:
    """Entries newest first, values masked; removed ones with `include_removed`."""
    return risk.blacklist.entries(session=session, institution_id=principal.institution_id,
                                  include_removed=include_removed)


@router.post("/blacklist", response_model=BlacklistRead, status_code=201, operation_id="add_risk_blacklist_entry",
             summary="Put an ID number, phone or device on the blacklist",
             responses={409: {"description": "On the list already (`blacklist_duplicate`)"},
                        422: {"description": "Not a valid value (`blacklist_value_invalid`, field `value`)"}})
def add_risk_blacklist_entry(body: BlacklistCreate, session: DB,
                             principal: Principal = require("risk.manage")) -> Any:
    """Stored encrypted with a blind index (ID numbers are validated first); audited with the masked value."""
    return risk.blacklist.add(session=session, actor=principal.actor, institution_id=principal.institution_id,
                              kind=body.kind, value=body.value, reason=body.reason)


@router.post("/blacklist/{blacklist_id}/remove", response_model=BlacklistRead,
             operation_id="remove_risk_blacklist_entry", summary="Take an entry off the blacklist",
             responses={409: {"description": "Removed before (`blacklist_entry_removed`)"}})
def remove_risk_blacklist_entry(blacklist_id: Id, body: BlacklistRemove, session: DB,
                                principal: Principal = require("risk.manage")) -> Any:
    """The entry is kept with who removed it, when and why (audited)."""
    return risk.blacklist.remove(session=session, actor=principal.actor, institution_id=principal.institution_id,
                                 entry_id=blacklist_id, reason=body.reason)


# --- credit reports ----------------------------------------------------------------------------


@router.get("/bureau-reports/{report_id}", response_model=BureauReportRead, operation_id="get_risk_bureau_report",
            summary="A credit report an assessment read")
def get_risk_bureau_report(report_id: Id, session: DB, principal: Principal = require("loan.read")) -> Any:
    """The stored report (identity masked); every view is audited."""
    row = risk.bureau_report(session=session, actor=principal.actor, institution_id=principal.institution_id,
                             report_id=report_id)
    return BureauReportRead(id=row.id, application_number=row.application_number, source=row.source,
                            report_number=row.report_number, queried_on=row.queried_on, created_at=row.created_at,
                            report=row.body)


@router.post("/simulator/bureau-report", response_model=dict[str, Any], operation_id="simulate_risk_bureau_report",
             summary="What the credit bureau simulator answers for an ID number (demo)")
def simulate_risk_bureau_report(body: SimulatorLookup, clock: WallClock,
                                principal: Principal = require("risk.manage")) -> Any:
    """The simulator's report, in the stored shape; nothing is stored and no real bureau is asked."""
    del principal
    try:
        resident = validate_id_number(body.id_number)
    except InvalidIdentifier:
        raise SampleInvalid(field="id_number") from None
    return risk.simulated_report(id_number=resident.number, name=body.name, on=body.on or clock.now().date())

