"""Routes of collections: the collector's cases and actions, the manager's assignment, rules and figures.

Refusals of the compliance gates are problem documents naming the field, the code and the rule
(`rule`): the workbench shows which rule refused the action."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, File, Query, Request, UploadFile

from microcredit.api.deps import DB, Kit, WallClock, require, require_any, runtime_of
from microcredit.api.params import Id, IdFilter, PageNo, PageSize
from microcredit.collections.models import CollectionAction, CollectionCase
from microcredit.collections.schemas import (
    ActionCreate,
    ActionRead,
    AgencyRead,
    Assignment,
    CaseDetail,
    CaseGuarantor,
    CaseRead,
    CaseStatus,
    CollectorFiguresRead,
    CollectorRead,
    DebtorPrefsRead,
    DebtorRead,
    DebtorUpdate,
    LoanLine,
    Overdue,
    PerformanceRead,
    SettingsBody,
    SettingsRead,
    SmsTemplateRead,
    StageRead,
    SyncRead,
)
from microcredit.collections.service import actions, cases, messages, performance, settings, sync_cases
from microcredit.documents.schemas import DocumentRead
from microcredit.identity.principal import Principal
from microcredit.lending.money import Money
from microcredit.parties import service as parties
from microcredit.platform.paging import PageRequest
from microcredit.platform.ratelimit import Limit, hit
from microcredit.platform.routing import UnitOfWorkRoute
from microcredit.platform.schema import Page
from microcredit.servicing.service import loans

router = APIRouter(tags=["collections"], route_class=UnitOfWorkRoute)
GATES: dict[int | str, dict[str, Any]] = {
    409: {"description": "The case is closed (`case_closed`)"},
    422: {"description": "A compliance gate refused it (`rule`: quiet_hours, effective_calls_per_day, "
                         "attempts_per_number_per_day, third_party_contact, prohibited_phrase, "
                         "negative_report_notice), or a field is missing"}}


def _case(c: CollectionCase, names: dict[int, str], users: dict[int, str], numbers: dict[int, str]) -> CaseRead:
    values = {k: getattr(c, k) for k in CaseRead.model_fields if hasattr(c, k) and k != "overdue"}
    return CaseRead.model_validate({
        **values, "overdue": Overdue(**{k: Money(v, "CNY") for k, v in c.overdue.items()}),
        "borrower_name": names.get(c.borrower_id), "loan_number": numbers.get(c.loan_id),
        "assigned_name": users.get(c.assigned_user_id) if c.assigned_user_id else None})


def _cases(session: Any, rows: list[CollectionCase]) -> list[CaseRead]:
    names = parties.borrowers.borrower_names(session=session, borrower_ids=list({c.borrower_id for c in rows}))
    users = cases.user_names(session=session, user_ids=[c.assigned_user_id for c in rows if c.assigned_user_id])
    numbers = {x.id: x.number for x in loans.by_ids(session=session, loan_ids=[c.loan_id for c in rows])}
    return [_case(c, names, users, numbers) for c in rows]


def _actions(session: Any, rows: list[CollectionAction]) -> list[ActionRead]:
    users = cases.user_names(session=session, user_ids=[a.user_id for a in rows if a.user_id])
    return [ActionRead.model_validate(a).model_copy(update={"user_name": users.get(a.user_id) if a.user_id else None})
            for a in rows]


@router.get("/collections/my-cases", response_model=Page[CaseRead], operation_id="list_my_collection_cases",
            summary="My collection cases, highest priority first")
def list_my_cases(session: DB, principal: Principal = require("collection.act"), page: PageNo = 1,
                  page_size: PageSize = 20) -> Page[CaseRead]:
    """Cases assigned to the caller and not closed, by priority (days past due × overdue amount)."""
    r = cases.list_cases(session=session, principal=principal, page=PageRequest(page, page_size), mine=True)
    return Page(items=_cases(session, list(r.items)), total=r.total, page=r.page, page_size=r.page_size)


@router.get("/collections/cases", response_model=Page[CaseRead], operation_id="list_collection_cases",
            summary="Collection cases in scope")
def list_cases(session: DB, principal: Principal = require("collection.manage"), page: PageNo = 1,
               page_size: PageSize = 20, sort: Annotated[str | None, Query(max_length=40)] = None,
               status: CaseStatus | None = None, stage: Annotated[str | None, Query(max_length=32)] = None,
               assigned_user_id: IdFilter = None,
               unassigned: bool = False) -> Page[CaseRead]:
    """Highest priority first unless sorted (priority, dpd, id, opened_on, overdue_total; '-' descending)."""
    r = cases.list_cases(session=session, principal=principal, page=PageRequest(page, page_size, sort),
                         status=status, stage=stage, assigned_user_id=assigned_user_id, unassigned=unassigned)
    return Page(items=_cases(session, list(r.items)), total=r.total, page=r.page, page_size=r.page_size)


@router.get("/collections/cases/{case_id}", response_model=CaseDetail, operation_id="get_collection_case",
            summary="A case: the debtor, their loans and cases, the contact history")
def get_case(case_id: Id, session: DB, kit: Kit,
             principal: Principal = require_any("collection.act", "collection.manage")) -> CaseDetail:
    """The debtor's local time and consent, so that the workbench shows when contact is allowed."""
    case = cases.visible(session=session, principal=principal, case_id=case_id)
    return _detail(session, kit, case)


def _detail(session: Any, kit: Any, case: CollectionCase) -> CaseDetail:
    borrower = parties.groups.borrower(session=session, borrower_id=case.borrower_id)
    prefs = actions.debtor(session=session, borrower_id=case.borrower_id)
    zone = messages.time_zone_of(session, prefs, case.institution_id)
    debtor = DebtorRead(borrower_id=borrower.id, name=borrower.real_name, phone_masked=borrower.phone_masked,
                        time_zone=str(zone), local_time=kit.clock.now().astimezone(zone),
                        night_contact_consent=bool(prefs and prefs.night_contact_consent),
                        group_member_ids=parties.groups.fellow_members(session=session, borrower_id=borrower.id))
    others = [c for c in cases.cases_of_debtor(session=session, borrower_id=case.borrower_id) if c.id != case.id]
    [read, *other_reads] = _cases(session, [case, *others])
    return CaseDetail(**read.model_dump(), debtor=debtor, other_cases=other_reads,
                      loans=[LoanLine.model_validate(x) for x in loans.of_borrower(session=session,
                                                                                 borrower_id=borrower.id)],
                      guarantors=[CaseGuarantor.model_validate(g, from_attributes=True)
                                  for g in actions.guarantors_of_case(session, case)],
                      actions=_actions(session, cases.history(session=session, borrower_id=case.borrower_id)),
                      templates=[x["code"] for x in settings.rules(session=session,
                                                                   institution_id=case.institution_id).sms_templates])


@router.post("/collections/cases/{case_id}/actions", response_model=ActionRead, status_code=201,
             operation_id="log_collection_action", summary="Log an action on a case (through the gates)",
             responses=GATES)
def log_action(case_id: Id, body: ActionCreate, session: DB, kit: Kit,
               principal: Principal = require("collection.act")) -> ActionRead:
    """An SMS from a template (queued), a call and its outcome, a visit with notes and photos, a promise to pay,
    a legal referral, the notice before negative information is reported, the report itself."""
    action = actions.log(session=session, clock=kit.clock, kit=kit, principal=principal, case_id=case_id, data=body)
    return _actions(session, [action])[0]


@router.post("/collections/cases/{case_id}/photos", response_model=DocumentRead, status_code=201,
             operation_id="add_collection_visit_photo", summary="Add a photo taken on a field visit")
def add_visit_photo(request: Request, case_id: Id, session: DB, clock: WallClock,
                    file: Annotated[UploadFile, File(description="A JPEG, PNG or WebP photo; judged by its content")],
                    principal: Principal = require("collection.act")) -> Any:
    """The photo is checked and stored as the borrower's document (`visit_photo`, tied to the case, kept
    beside the others); the visit's action names it in `document_ids`. Staff who may read the borrower
    open it at `GET /documents/{id}/content` (each view audited)."""
    runtime = runtime_of(request)
    policy = runtime.settings.documents
    hit(runtime.limiter, f"document_upload:user:{principal.user_id}",
        Limit(policy.uploads_per_user_per_hour, 3600), session=session, field="file")
    return actions.add_photo(session=session, clock=clock, storage=runtime.files, policy=policy, principal=principal,
                             case_id=case_id, data=file.file.read(), filename=file.filename,
                             declared_type=file.content_type)


@router.put("/collections/cases/{case_id}/assignment", response_model=CaseRead,
            operation_id="assign_collection_case", summary="Assign a case to a collector or an agency")
def assign_case(case_id: Id, body: Assignment, session: DB, kit: Kit,
                principal: Principal = require("collection.manage")) -> CaseRead:
    """A collector of the institution, or an agency on the allow-list (`not_a_collector` otherwise)."""
    case = cases.assign(session=session, clock=kit.clock, principal=principal, case_id=case_id,
                        user_id=body.user_id, agency=body.agency)
    return _cases(session, [case])[0]


@router.put("/collections/debtors/{borrower_id}", response_model=DebtorPrefsRead,
            operation_id="set_collection_debtor", summary="A debtor's time zone and consent to night contact")
def set_debtor(borrower_id: Id, body: DebtorUpdate, session: DB, kit: Kit,
               principal: Principal = require("collection.act")) -> DebtorPrefsRead:
    """The quiet hours are read in the debtor's time zone; with their consent they do not apply."""
    row = actions.set_debtor(session=session, clock=kit.clock, principal=principal, borrower_id=borrower_id,
                             time_zone=body.time_zone, night_contact_consent=body.night_contact_consent)
    return DebtorPrefsRead.model_validate(row)


@router.get("/collections/collectors", response_model=list[CollectorRead], operation_id="list_collectors",
            summary="Collectors and their open cases")
def list_collectors(session: DB, principal: Principal = require("collection.manage")) -> list[CollectorRead]:
    """Staff whose roles grant collection.act, with their cases not closed (for assignment)."""
    return [CollectorRead(user_id=a.id, name=a.display_name, branch_id=a.branch_id, live_cases=n)
            for a, n in cases.collectors(session=session, principal=principal)]


def _settings(r: settings.Rules) -> SettingsRead:
    return SettingsRead(stages=[StageRead(**s) for s in r.stages], quiet_from_minute=r.quiet_from_minute,
                        quiet_until_minute=r.quiet_until_minute,
                        max_effective_calls_per_day=r.max_effective_calls_per_day,
                        max_attempts_per_number_per_day=r.max_attempts_per_number_per_day,
                        contact_guarantors=r.contact_guarantors, contact_group_members=r.contact_group_members,
                        prohibited_phrases=r.prohibited_phrases,
                        sms_templates=[SmsTemplateRead(**t) for t in r.sms_templates],
                        agencies=[AgencyRead(**a) for a in r.agencies],
                        version=r.version)


@router.get("/collections/settings", response_model=SettingsRead, operation_id="get_collection_settings",
            summary="The institution's collection rules")
def get_settings(session: DB, principal: Principal = require("collection.manage")) -> SettingsRead:
    """Stages and entry rules, contact window, call limits, third parties, prohibited phrases, templates."""
    return _settings(settings.rules(session=session, institution_id=principal.institution_id))


@router.put("/collections/settings", response_model=SettingsRead, operation_id="update_collection_settings",
            summary="Save the institution's collection rules",
            responses={422: {"description": "Stages out of order (`bad_stages`), a template using a prohibited "
                                            "phrase (`prohibited_phrase`) or an unknown placeholder "
                                            "(`unknown_placeholder`), a stage's SMS naming no template "
                                            "(`unknown_template`), an agency taking an unknown stage "
                                            "(`unknown_stage`), two agencies of one name "
                                            "(`duplicate_agency`) or two templates of one code "
                                            "(`duplicate_template`)"}})
def update_settings(body: SettingsBody, session: DB, kit: Kit,
                    principal: Principal = require("collection.manage")) -> SettingsRead:
    """All fields at once; audited with the rules before."""
    values = body.model_dump(mode="json")
    return _settings(settings.update(session=session, clock=kit.clock, principal=principal, values=values))


@router.get("/collections/performance", response_model=PerformanceRead, operation_id="get_collection_performance",
            summary="Collector performance over a period")
def get_performance(session: DB, principal: Principal = require("collection.manage"),
                    first: date | None = None, last: date | None = None) -> PerformanceRead:
    """Cases worked, amounts recovered, promises made, kept and broken; default the last 30 days."""
    end = last or parties.organisation.business_date(session=session, institution_id=principal.institution_id)
    start = first or end - timedelta(days=29)
    rows = performance.figures(session=session, principal=principal, first=start, last=end)
    return PerformanceRead(first=start, last=end, collectors=[CollectorFiguresRead.model_validate(r) for r in rows])


@router.post("/collections/sync", response_model=SyncRead, operation_id="sync_collection_cases",
             summary="Open, escalate and close cases now (what the close of business does)")
def sync(session: DB, kit: Kit, principal: Principal = require("collection.manage")) -> SyncRead:
    """On the institution's business date; running it again the same day changes nothing."""
    day = parties.organisation.business_date(session=session, institution_id=principal.institution_id)
    report = sync_cases(session=session, clock=kit.clock, kit=kit, institution_id=principal.institution_id,
                        business_date=day)
    return SyncRead.model_validate(report, from_attributes=True)
