"""Routes of origination: the borrower's own applications and the staff's (walk-in, lists, detail), and
group applications (小组联保: the officer's, and each member's consent)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query

from microcredit.api.deps import DB, Config, Kit, Meta, require, require_any
from microcredit.api.params import Id, IdFilter, PageNo, PageSize
from microcredit.errors import FieldProblem, ValidationFailed
from microcredit.identity.principal import Principal
from microcredit.origination import service
from microcredit.origination.schemas import (
    AffordabilityRead,
    ApplicationCreate,
    ApplicationDetail,
    ApplicationRuleResultRead,
    ApplicationSummary,
    ApplicationUpdate,
    BorrowerNote,
    CoMemberRead,
    ConsentRequest,
    DeclineReason,
    EventRead,
    GroupApplicationCreate,
    GroupApplicationMemberRead,
    GroupApplicationRead,
    GroupApplicationStatus,
    GroupApplicationSummary,
    GuarantorCreate,
    GuarantorPartyRead,
    GuarantorRead,
    GuarantorRelease,
    GuarantorSensitiveRead,
    MyApplicationRead,
    MyGroupRead,
    NoteRequest,
    QueueCounts,
    QueueItem,
    ReviewActionRequest,
    ReviewGroupRead,
    ReviewRead,
    ReviewStepRead,
    StatusCounts,
    StatusName,
    WalkInApplicationCreate,
    WithdrawRequest,
)
from microcredit.origination.service.applications import ApplicationView
from microcredit.origination.service.group_applications import GroupApplicationView
from microcredit.platform.paging import PageRequest
from microcredit.platform.ratelimit import Limit, hit
from microcredit.platform.routing import UnitOfWorkRoute
from microcredit.platform.schema import Page

router = APIRouter(tags=["origination"], route_class=UnitOfWorkRoute)

DeviceId = Annotated[str | None, Header(alias="X-Device-Id", max_length=64,
                                        description="The device's id, generated once by the app and kept")]
SUBMIT_RESPONSES: dict[int | str, dict[str, Any]] = {
    409: {"description": "Not in a status that can be submitted (`application_wrong_state`)"},
    429: {"description": "Too many submissions by this user in the hour (`rate_limited`)"}}


def _submit_limit(session: DB, kit: Kit, settings: Config,
                  principal: Principal = require("application.apply_own")) -> None:
    hit(kit.limiter, f"application_submit:user:{principal.user_id}",
        Limit(settings.rate_limits.application_submit_per_user_per_hour, 3600), session=session)


def _staff_submit_limit(session: DB, kit: Kit, settings: Config,
                        principal: Principal = require("loan.apply")) -> None:
    hit(kit.limiter, f"application_submit:user:{principal.user_id}",
        Limit(settings.rate_limits.application_submit_per_user_per_hour, 3600), session=session)


def _summary(a: Any, name: str | None = None) -> ApplicationSummary:
    return ApplicationSummary.model_validate(a).model_copy(update={"borrower_name": name})


def _plan(view: ApplicationView) -> dict[str, Any]:
    a = view.application
    data = ApplicationSummary.model_validate(a).model_dump()
    return {**data, "borrower_name": view.borrower_name, "purpose_note": a.purpose_note,
            "monthly_income": a.monthly_income, "monthly_debt_payments": a.monthly_debt_payments,
            "monthly_spending": a.monthly_spending, "employment": a.employment,
            "annual_rate_percent": a.annual_rate_percent, "levels_required": a.levels_required, "version": a.version,
            "timeline": [EventRead.model_validate(e) for e in view.events],
            "review_level": a.review_level if a.status in ("referred", "human_review", "counter_offered") else None,
            "counter_amount": a.counter_amount, "counter_term": a.counter_term, "human_review": a.human_review,
            "human_review_requested_at": a.human_review_requested_at}


def _affordability(view: ApplicationView) -> AffordabilityRead | None:
    r = service.applications.affordability_of(view)
    if r is None:
        return None
    p = r.params
    return AffordabilityRead(
        code=r.code, outcome=r.outcome, grade=p["grade"], rate_percent=p["rate"], asked=p["asked"],
        grade_limit=p["grade_limit"], existing_payments=p["existing"], installment=p["installment"],
        income=p.get("income"), dsr_percent=p.get("dsr"), max_dsr_percent=p.get("max_dsr"),
        dsr_limit=p.get("dsr_limit"), offer=p["offer"])


def _mine(view: ApplicationView) -> MyApplicationRead:
    a = view.application
    priced = _affordability(view)
    # The offer is told while people decide on it (referred, or the counter-offer made at it).
    offered = priced is not None and priced.outcome == "flag" and a.status in ("referred", "counter_offered")
    return MyApplicationRead(
        offer=priced.offer if offered and priced else None,
        offer_reason=priced.code if offered and priced and priced.code != "affordability" else None,
        **_plan(view), decline_reasons=[DeclineReason.model_validate(r)
                                        for r in service.applications.borrower_reasons(view)],
        needed=list(a.needed or []) if a.status == "returned" else [],
        score_factors=service.approvals.score_factors(a),
        human_review_available=service.approvals.human_review_available(a))


def _detail(view: ApplicationView, session: Any = None) -> ApplicationDetail:
    a = view.application
    guarantors = [] if session is None or a.group_application_id is None else [
        GuarantorRead(guarantor_borrower_id=g.guarantor_borrower_id, guarantor_name=name, group_id=g.group_id,
                      group_application_id=g.group_application_id, kind=g.kind, recorded_on=g.recorded_on)
        for g, name in service.group_applications.guarantors(session=session, application_id=a.id)]
    return ApplicationDetail(
        guarantors=guarantors,
        **_plan(view), officer_user_id=a.officer_user_id, device_id=a.device_id, client_ip=a.client_ip,
        decision=a.decision, rule_set=a.rule_set, score=a.score, grade=a.grade, reasons=list(a.reasons or []),
        needed=list(a.needed or []), max_amount=a.max_amount, bureau_report_id=a.bureau_report_id,
        results=[ApplicationRuleResultRead.model_validate(r) for r in view.results], affordability=_affordability(view))


# --- the borrower's own applications ---------------------------------------------------------------

@router.post("/me/applications", response_model=MyApplicationRead, status_code=201,
             operation_id="create_my_application", summary="Apply with this plan (a draft)")
def create_my_application(body: ApplicationCreate, session: DB, kit: Kit, meta: Meta, device_id: DeviceId = None,
                          principal: Principal = require("application.apply_own")) -> MyApplicationRead:
    """A draft under the product version on offer today; each field out of its range is named (422)."""
    a = service.applications.create_own(session=session, kit=kit, principal=principal, plan=body,
                                        device_id=device_id, ip=meta.ip)
    return _mine(service.applications.get_own(session=session, principal=principal, application_id=a.id))


@router.get("/me/applications", response_model=Page[ApplicationSummary], operation_id="list_my_applications",
            summary="The borrower's own applications")
def list_my_applications(session: DB, principal: Principal = require("application.read_own"), page: PageNo = 1,
                         page_size: PageSize = 20) -> Page[ApplicationSummary]:
    """Newest first."""
    r = service.applications.list_own(session=session, principal=principal, page=PageRequest(page, page_size))
    return Page(items=[_summary(a) for a in r.items], total=r.total, page=r.page, page_size=r.page_size)


@router.get("/me/applications/{application_id}", response_model=MyApplicationRead,
            operation_id="get_my_application", summary="One of the borrower's own applications")
def get_my_application(application_id: Id, session: DB, principal: Principal = require("application.read_own")
                       ) -> MyApplicationRead:
    """The plan, the timeline, a decline's reasons and what is needed (never the score or fraud flags)."""
    return _mine(service.applications.get_own(session=session, principal=principal, application_id=application_id))


@router.patch("/me/applications/{application_id}", response_model=MyApplicationRead,
              operation_id="update_my_application", summary="Edit a draft or a returned application")
def update_my_application(application_id: Id, body: ApplicationUpdate, session: DB, kit: Kit,
                          principal: Principal = require("application.apply_own")) -> MyApplicationRead:
    """Only the fields sent change; the plan is checked against the product version again."""
    service.applications.update(session=session, kit=kit, principal=principal, application_id=application_id,
                                changes=body.model_dump(exclude_unset=True), own=True)
    return _mine(service.applications.get_own(session=session, principal=principal, application_id=application_id))


@router.post("/me/applications/{application_id}/submit", response_model=MyApplicationRead,
             operation_id="submit_my_application", summary="Submit a draft (decided at once)",
             responses=SUBMIT_RESPONSES, dependencies=[Depends(_submit_limit)])
def submit_my_application(application_id: Id, session: DB, kit: Kit, meta: Meta,
                          principal: Principal = require("application.apply_own")) -> MyApplicationRead:
    """Numbered, reviewed automatically and decided in this request: approved, declined, referred or returned."""
    view = service.applications.submit(session=session, kit=kit, principal=principal, application_id=application_id,
                                       own=True, assess=service.review.default_assessor(), language=meta.language,
                                       action="submit")
    return _mine(view)


@router.post("/me/applications/{application_id}/resubmit", response_model=MyApplicationRead,
             operation_id="resubmit_my_application", summary="Resubmit a returned application",
             responses=SUBMIT_RESPONSES, dependencies=[Depends(_submit_limit)])
def resubmit_my_application(application_id: Id, session: DB, kit: Kit, meta: Meta,
                            principal: Principal = require("application.apply_own")) -> MyApplicationRead:
    """After the material asked for is added: reviewed and decided again."""
    view = service.applications.submit(session=session, kit=kit, principal=principal, application_id=application_id,
                                       own=True, assess=service.review.default_assessor(), language=meta.language,
                                       action="resubmit")
    return _mine(view)


@router.post("/me/applications/{application_id}/withdraw", response_model=MyApplicationRead,
             operation_id="withdraw_my_application", summary="Withdraw one's application before a decision")
def withdraw_my_application(application_id: Id, body: WithdrawRequest, session: DB, kit: Kit,
                            principal: Principal = require("application.apply_own")) -> MyApplicationRead:
    """From draft, submitted, returned or referred; a decided application cannot be withdrawn (409)."""
    return _mine(service.applications.withdraw(session=session, kit=kit, principal=principal,
                                               application_id=application_id, note=body.note, own=True))


# --- staff ---------------------------------------------------------------------------------------

@router.post("/applications", response_model=ApplicationDetail, status_code=201,
             operation_id="create_walk_in_application", summary="Create an application for a walk-in borrower")
def create_walk_in_application(body: WalkInApplicationCreate, session: DB, kit: Kit, meta: Meta,
                               device_id: DeviceId = None, principal: Principal = require("loan.apply")
                               ) -> ApplicationDetail:
    """A draft for a borrower in the officer's scope; the officer is recorded."""
    plan = ApplicationCreate(**body.model_dump(exclude={"borrower_id"}))
    a = service.applications.create_walk_in(session=session, kit=kit, principal=principal,
                                            borrower_id=body.borrower_id, plan=plan, device_id=device_id, ip=meta.ip)
    return _detail(service.applications.get_for_staff(session=session, principal=principal, application_id=a.id),
                   session)


@router.get("/applications", response_model=Page[ApplicationSummary], operation_id="list_applications",
            summary="List applications")
def list_applications(session: DB, principal: Principal = require("loan.read"), status: StatusName | None = None,
                      product_code: Annotated[str | None, Query(max_length=32)] = None, branch_id: IdFilter = None,
                      date_from: Annotated[date | None, Query(description="Created on or after this day")] = None,
                      date_to: Annotated[date | None, Query(description="Created on or before this day")] = None,
                      page: PageNo = 1, page_size: PageSize = 20, sort: str | None = None
                      ) -> Page[ApplicationSummary]:
    """Applications in scope (a branch officer: their branch), newest first."""
    r, names = service.applications.list_for_staff(
        session=session, principal=principal, page=PageRequest(page, page_size, sort), status=status,
        product_code=product_code, branch_id=branch_id, date_from=date_from, date_to=date_to)
    return Page(items=[_summary(a, names.get(a.borrower_id)) for a in r.items], total=r.total, page=r.page,
                page_size=r.page_size)


@router.get("/applications/counts", response_model=StatusCounts, operation_id="count_applications",
            summary="Applications in scope per status")
def count_applications(session: DB, principal: Principal = require("loan.read"),
                       product_code: Annotated[str | None, Query(max_length=32)] = None, branch_id: IdFilter = None,
                       date_from: date | None = None, date_to: date | None = None) -> StatusCounts:
    """The counts beside the list's status filter."""
    found = service.applications.counts(session=session, principal=principal, product_code=product_code,
                                        branch_id=branch_id, date_from=date_from, date_to=date_to)
    return StatusCounts(counts=found, total=sum(found.values()))


@router.get("/applications/{application_id}", response_model=ApplicationDetail, operation_id="get_application",
            summary="One application with every rule result")
def get_application(application_id: Id, session: DB, principal: Principal = require("loan.read")
                    ) -> ApplicationDetail:
    """The applicant's plan and figures, every rule result by stage, score, grade, reasons and the timeline
    (and, for a group member's, the mutual guarantee: who stands for it)."""
    return _detail(service.applications.get_for_staff(session=session, principal=principal,
                                                      application_id=application_id), session)


@router.post("/applications/{application_id}/submit", response_model=ApplicationDetail,
             operation_id="submit_application", summary="Submit a walk-in application (decided at once)",
             responses=SUBMIT_RESPONSES, dependencies=[Depends(_staff_submit_limit)])
def submit_application(application_id: Id, session: DB, kit: Kit, meta: Meta,
                       principal: Principal = require("loan.apply")) -> ApplicationDetail:
    """A draft, or a returned application with its material added: reviewed and decided in this request."""
    view = service.applications.submit(session=session, kit=kit, principal=principal, application_id=application_id,
                                       own=False, assess=service.review.default_assessor(), language=meta.language)
    return _detail(service.applications.get_for_staff(session=session, principal=principal,
                                                      application_id=view.application.id), session)


@router.post("/applications/{application_id}/withdraw", response_model=ApplicationDetail,
             operation_id="withdraw_application", summary="Withdraw an application before a decision")
def withdraw_application(application_id: Id, body: WithdrawRequest, session: DB, kit: Kit,
                         principal: Principal = require("loan.apply")) -> ApplicationDetail:
    """From draft, submitted, returned or referred (audited, with the note)."""
    view = service.applications.withdraw(session=session, kit=kit, principal=principal,
                                         application_id=application_id, note=body.note, own=False)
    return _detail(service.applications.get_for_staff(session=session, principal=principal,
                                                      application_id=view.application.id), session)


# --- guarantors ------------------------------------------------------------------------------------

GUARANTOR_EDITORS = require_any(*service.guarantors.EDITOR_PERMISSIONS)
GUARANTOR_RESPONSES: dict[int | str, dict[str, Any]] = {
    409: {"description": "The application was decided (`application_wrong_state`), the person is already its "
                         "guarantor (`guarantor_duplicate`) or was released (`guarantor_released`)"}}


def _guarantor(g: Any) -> GuarantorPartyRead:
    return GuarantorPartyRead.model_validate(g, from_attributes=True)


@router.get("/applications/{application_id}/guarantors", response_model=list[GuarantorPartyRead],
            operation_id="list_application_guarantors", summary="The guarantors of an application")
def list_application_guarantors(application_id: Id, session: DB, principal: Principal = require("loan.read")
                                ) -> list[GuarantorPartyRead]:
    """Active and released, in the order added; ID number and phone masked."""
    return [_guarantor(g) for g in service.guarantors.list_for_staff(session=session, principal=principal,
                                                                     application_id=application_id)]


@router.post("/applications/{application_id}/guarantors", response_model=GuarantorPartyRead, status_code=201,
             operation_id="add_application_guarantor", summary="Add a guarantor to an application before its decision",
             responses=GUARANTOR_RESPONSES)
def add_application_guarantor(application_id: Id, body: GuarantorCreate, session: DB, kit: Kit,
                              principal: Principal = GUARANTOR_EDITORS) -> GuarantorPartyRead:
    """The ID number is validated as a borrower's (422 naming `id_number` and the part that is wrong), the
    phone as a mainland mobile number; both are stored encrypted. `consent_signed` must be true (audited)."""
    data = service.guarantors.NewGuarantor(name=body.name, id_number=body.id_number, phone=body.phone,
                                           relation=body.relation, kind=body.kind, amount=body.amount)
    return _guarantor(service.guarantors.add(session=session, kit=kit, principal=principal,
                                             application_id=application_id, data=data,
                                             consent_signed=body.consent_signed))


@router.post("/applications/{application_id}/guarantors/{guarantor_id}/release", response_model=GuarantorPartyRead,
             operation_id="release_application_guarantor", summary="Release a guarantor before the decision",
             responses=GUARANTOR_RESPONSES)
def release_application_guarantor(application_id: Id, guarantor_id: Id, body: GuarantorRelease, session: DB,
                                  kit: Kit, principal: Principal = GUARANTOR_EDITORS) -> GuarantorPartyRead:
    """Final; the guarantor stays on the list as released (audited with the reason)."""
    return _guarantor(service.guarantors.release(session=session, kit=kit, principal=principal,
                                                 application_id=application_id, guarantor_id=guarantor_id,
                                                 reason=body.reason))


@router.post("/applications/{application_id}/guarantors/{guarantor_id}/reveal",
             response_model=GuarantorSensitiveRead, operation_id="reveal_application_guarantor",
             summary="See a guarantor's full ID number and phone (audited)")
def reveal_application_guarantor(application_id: Id, guarantor_id: Id, session: DB, kit: Kit,
                                 principal: Principal = require("borrower.view_sensitive")) -> GuarantorSensitiveRead:
    """Each call writes an audit record of who saw what."""
    return GuarantorSensitiveRead(**service.guarantors.reveal(session=session, kit=kit, principal=principal,
                                                              application_id=application_id,
                                                              guarantor_id=guarantor_id))


# --- group applications (小组联保) -------------------------------------------------------------------

def _group(view: GroupApplicationView) -> GroupApplicationRead:
    ga = view.group_application
    return GroupApplicationRead(
        id=ga.id, group_id=ga.group_id, group_name=ga.group_name, branch_id=ga.branch_id,
        status=ga.status, product_code=ga.product_code, term=ga.term,
        repayment_method=ga.repayment_method, purpose=ga.purpose, created_at=ga.created_at,
        submitted_at=ga.submitted_at, held_reason="group_too_small" if ga.status == "held" else None,
        total_amount=service.group_applications.total(view),
        members=[GroupApplicationMemberRead(
            borrower_id=m.borrower_id, name=view.names.get(m.borrower_id), leader=m.leader, amount=m.amount,
            application_id=m.application_id, application_status=view.applications[m.application_id].status,
            application_number=view.applications[m.application_id].number, consent=m.consent,
            decided_at=m.decided_at) for m in view.members])


def _my_group(view: GroupApplicationView, application_id: int) -> MyGroupRead:
    ga = view.group_application
    me = next(m for m in view.members if m.application_id == application_id)
    mine = view.applications[application_id]
    return MyGroupRead(
        group_application_id=ga.id, group_name=ga.group_name, status=ga.status,
        product_code=ga.product_code, term=ga.term, period_unit=mine.period_unit,
        repayment_method=ga.repayment_method, my_amount=me.amount, my_consent=me.consent,
        total_amount=service.group_applications.total(view),
        members=[CoMemberRead(**m) for m in service.group_applications.masked_members(view, application_id)])


GROUP_REFUSALS: dict[int | str, dict[str, Any]] = {
    409: {"description": "The group application is no longer waiting (`group_application_wrong_state`) or the "
                         "member already answered (`group_consent_decided`)"}}


@router.post("/group-applications", response_model=GroupApplicationRead, status_code=201,
             operation_id="create_group_application", summary="Apply for a joint-liability group")
def create_group_application(body: GroupApplicationCreate, session: DB, kit: Kit, meta: Meta,
                             principal: Principal = require("loan.apply")) -> GroupApplicationRead:
    """One application per member, held until every member consents; each member is asked (SMS and in-app).

    Refused with field errors for a product without group lending (`product_not_group_lending`), a member
    list that is not the group's (`group_members_mismatch`) or an amount out of the product's range
    (`members.N.amount`).
    """
    return _group(service.group_applications.create(session=session, kit=kit, principal=principal, data=body,
                                                    ip=meta.ip, language=meta.language))


@router.get("/group-applications", response_model=Page[GroupApplicationSummary],
            operation_id="list_group_applications", summary="Group applications in scope")
def list_group_applications(session: DB, principal: Principal = require("loan.read"),
                            status: GroupApplicationStatus | None = None, page: PageNo = 1,
                            page_size: PageSize = 20) -> Page[GroupApplicationSummary]:
    """Newest first, with how many members consented."""
    r, counts = service.group_applications.list_for_staff(session=session, principal=principal,
                                                          page=PageRequest(page, page_size), status=status)
    return Page(items=[GroupApplicationSummary(
        id=ga.id, group_id=ga.group_id, group_name=ga.group_name, status=ga.status, product_code=ga.product_code,
        members=counts.get(ga.id, (0, 0))[0], consented=counts.get(ga.id, (0, 0))[1], created_at=ga.created_at)
        for ga in r.items], total=r.total, page=r.page, page_size=r.page_size)


@router.get("/group-applications/{group_application_id}", response_model=GroupApplicationRead,
            operation_id="get_group_application", summary="One group application with each member's consent")
def get_group_application(group_application_id: Id, session: DB,
                          principal: Principal = require("loan.read")) -> GroupApplicationRead:
    """Members, amounts, consent of each and their applications' statuses."""
    return _group(service.group_applications.get_for_staff(session=session, principal=principal,
                                                           group_application_id=group_application_id))


@router.post("/group-applications/{group_application_id}/members/{borrower_id}/remove",
             response_model=GroupApplicationRead, operation_id="remove_group_application_member",
             summary="Remove a member (their application is withdrawn)", responses=GROUP_REFUSALS)
def remove_group_application_member(group_application_id: Id, borrower_id: Id, session: DB, kit: Kit, meta: Meta,
                                    principal: Principal = require("loan.apply")) -> GroupApplicationRead:
    """At least 3 members must remain (`group_too_small`); if the rest all consented they are submitted now."""
    return _group(service.group_applications.remove_member(
        session=session, kit=kit, principal=principal, group_application_id=group_application_id,
        borrower_id=borrower_id, assess=service.review.default_assessor(), language=meta.language))


@router.post("/group-applications/{group_application_id}/cancel", response_model=GroupApplicationRead,
             operation_id="cancel_group_application", summary="Cancel a group application",
             responses=GROUP_REFUSALS)
def cancel_group_application(group_application_id: Id, session: DB, kit: Kit,
                             principal: Principal = require("loan.apply")) -> GroupApplicationRead:
    """Every member's waiting application is withdrawn."""
    return _group(service.group_applications.cancel(session=session, kit=kit, principal=principal,
                                                    group_application_id=group_application_id))


@router.get("/me/applications/{application_id}/group", response_model=MyGroupRead,
            operation_id="get_my_group_application", summary="The group application one's application is part of")
def get_my_group_application(application_id: Id, session: DB,
                             principal: Principal = require("application.read_own")) -> MyGroupRead:
    """The group, every member's amount (co-members' names masked), one's own consent (404: not a group member's)."""
    view = service.group_applications.my_group(session=session, principal=principal, application_id=application_id)
    return _my_group(view, application_id)


@router.post("/me/applications/{application_id}/consent", response_model=MyGroupRead,
             operation_id="consent_to_group_application", summary="Consent to the group application",
             responses=GROUP_REFUSALS)
def consent_to_group_application(application_id: Id, body: ConsentRequest, session: DB, kit: Kit, meta: Meta,
                                 device_id: DeviceId = None,
                                 principal: Principal = require("application.apply_own")) -> MyGroupRead:
    """Recorded with the time, address and device; the last member's consent submits every member's application."""
    if not body.agree_joint_liability:
        raise ValidationFailed([FieldProblem("agree_joint_liability", "joint_liability_not_accepted",
                                             "Accept the joint liability to consent", "同意前须确认承担联保责任")])
    view = service.group_applications.consent(
        session=session, kit=kit, principal=principal, application_id=application_id, ip=meta.ip,
        device_id=device_id, assess=service.review.default_assessor(), language=meta.language)
    return _my_group(view, application_id)


@router.post("/me/applications/{application_id}/refuse", response_model=MyGroupRead,
             operation_id="refuse_group_application", summary="Refuse the group application",
             responses=GROUP_REFUSALS)
def refuse_group_application(application_id: Id, session: DB, kit: Kit, meta: Meta, device_id: DeviceId = None,
                             principal: Principal = require("application.apply_own")) -> MyGroupRead:
    """The group application waits for the officer (remove this member, or cancel)."""
    view = service.group_applications.refuse(session=session, kit=kit, principal=principal,
                                             application_id=application_id, ip=meta.ip, device_id=device_id)
    return _my_group(view, application_id)


# --- the review in levels ------------------------------------------------------------------------------

APPROVERS = require_any(*service.approvals.LEVEL_PERMISSIONS.values())
REVIEW_RESPONSES: dict[int | str, dict[str, Any]] = {
    403: {"description": "Not the caller's level (`review_level_not_allowed`), their own application "
                         "(`review_own_application`), or a second level of one chain (`review_twice_in_chain`)"},
    409: {"description": "Someone acted first (`review_stale`), or not waiting for a review "
                         "(`application_wrong_state`)"},
    422: {"description": "A field is missing or wrong: `reason_code`, `needed`, `override_reason`, `amount`, `term`"}}


def _queue_item(e: Any) -> QueueItem:
    a = e.application
    return QueueItem(id=a.id, number=a.number, status=a.status, borrower_name=e.borrower_name, branch_id=a.branch_id,
                     product_code=a.product_code, amount=a.amount, term=a.term, period_unit=a.period_unit,
                     grade=a.grade, score=a.score, level=a.review_level, levels_required=a.levels_required,
                     human_review=a.human_review, level_entered_at=a.level_entered_at,
                     waiting_seconds=e.waiting_seconds, sla_due_at=e.due_at, sla_breached=e.breached)


def _review(view: Any) -> ReviewRead:
    a = view.application
    return ReviewRead(
        application_id=a.id, status=a.status, version=a.version, chain=a.review_chain,
        level=a.review_level if a.status in ("referred", "human_review", "counter_offered") else None,
        levels_required=a.levels_required, level_entered_at=a.level_entered_at, sla_due_at=view.due_at,
        sla_breached=view.breached, human_review=a.human_review, grade=a.grade, automated_decision=a.decision,
        override_needed=view.override_needed, offer=view.offer, can_act=view.refusal is None, refusal=view.refusal,
        group=None if view.group is None else ReviewGroupRead(
            group_application_id=view.group.group_application_id, group_name=view.group.group_name,
            total=view.group.total, members=view.group.members, worst_grade=view.group.worst_grade),
        steps=[ReviewStepRead.model_validate(r).model_copy(update={"user_name": view.names.get(r.user_id)})
               for r in view.steps])


@router.get("/reviews/queue", response_model=Page[QueueItem], operation_id="list_review_queue",
            summary="Applications waiting at the caller's approval levels")
def list_review_queue(session: DB, kit: Kit, settings: Config, principal: Principal = APPROVERS,
                      level: Annotated[int | None, Query(ge=1, le=3, description="One level only")] = None,
                      branch_id: IdFilter = None, page: PageNo = 1, page_size: PageSize = 20) -> Page[QueueItem]:
    """Referred applications and human review requests waiting at a level the caller may act on, in their
    scope (a level-1 approver: their branch), oldest at its level first, with the time waited, the SLA
    deadline (`review.level<L>_sla_hours` of the configuration, on the institution's clock) and whether
    it has passed."""
    r = service.approvals.queue(session=session, clock=kit.clock, sla=settings.review, principal=principal,
                                page=PageRequest(page, page_size), level=level, branch_id=branch_id)
    return Page(items=[_queue_item(e) for e in r.items], total=r.total, page=r.page, page_size=r.page_size)


@router.get("/reviews/counts", response_model=QueueCounts, operation_id="count_review_queue",
            summary="Waiting and SLA-breached counts per level of the caller")
def count_review_queue(session: DB, kit: Kit, settings: Config, principal: Principal = APPROVERS,
                       branch_id: IdFilter = None) -> QueueCounts:
    """The counts on the queue's tabs: `{"levels": {"1": 4}, "breached": {"1": 1}}`."""
    found = service.approvals.queue_counts(session=session, clock=kit.clock, sla=settings.review,
                                           principal=principal, branch_id=branch_id)
    return QueueCounts(levels={str(k): n for k, (n, _) in found.items()},
                       breached={str(k): late for k, (_, late) in found.items()})


@router.get("/applications/{application_id}/review", response_model=ReviewRead, operation_id="get_review",
            summary="An application's review: the chain so far, notes, SLA, and whether the caller may act")
def get_review(application_id: Id, session: DB, kit: Kit, settings: Config,
               principal: Principal = require("loan.read")) -> ReviewRead:
    """`can_act` false comes with `refusal`, the code an act would be refused with."""
    return _review(service.approvals.review_of(session=session, clock=kit.clock, sla=settings.review,
                                               principal=principal, application_id=application_id))


@router.post("/applications/{application_id}/review", response_model=ReviewRead, operation_id="act_on_review",
             summary="Approve, decline, request documents or counter-offer at the level it waits at",
             responses=REVIEW_RESPONSES)
def act_on_review(application_id: Id, body: ReviewActionRequest, session: DB, kit: Kit, settings: Config,
                  meta: Meta, principal: Principal = APPROVERS) -> ReviewRead:
    """An approval before the last level moves it to the next; at the last it is approved at the rate of its
    grade. Send the `level` (and `version`) you saw: if someone acted first the answer is 409 `review_stale`."""
    service.approvals.act(session=session, kit=kit, principal=principal, application_id=application_id,
                          action=body.action, level=body.level, version=body.version, reason_code=body.reason_code,
                          override_reason=body.override_reason, note=body.note,
                          needed=list(body.needed) if body.needed else None, amount=body.amount, term=body.term,
                          language=meta.language)
    return _review(service.approvals.review_of(session=session, clock=kit.clock, sla=settings.review,
                                               principal=principal, application_id=application_id))


@router.post("/applications/{application_id}/notes", response_model=ReviewStepRead, status_code=201,
             operation_id="add_review_note", summary="Add a note to an application (shown on the review screen)")
def add_review_note(application_id: Id, body: NoteRequest, session: DB, kit: Kit,
                    principal: Principal = require("loan.read")) -> ReviewStepRead:
    """Any staff member who sees the application; audited."""
    row = service.approvals.add_note(session=session, kit=kit, principal=principal, application_id=application_id,
                                     note=body.note)
    return ReviewStepRead.model_validate(row)


@router.post("/me/applications/{application_id}/counter-offer/accept", response_model=MyApplicationRead,
             operation_id="accept_counter_offer", summary="Accept the counter-offer")
def accept_counter_offer(application_id: Id, body: BorrowerNote, session: DB, kit: Kit, meta: Meta,
                         principal: Principal = require("application.apply_own")) -> MyApplicationRead:
    """The amount and term become the offer's; the review goes on at the next level (or it is approved)."""
    service.approvals.accept_counter(session=session, kit=kit, principal=principal, application_id=application_id,
                                     note=body.note, language=meta.language)
    return _mine(service.applications.get_own(session=session, principal=principal, application_id=application_id))


@router.post("/me/applications/{application_id}/counter-offer/reject", response_model=MyApplicationRead,
             operation_id="reject_counter_offer", summary="Reject the counter-offer (the application is withdrawn)")
def reject_counter_offer(application_id: Id, body: BorrowerNote, session: DB, kit: Kit,
                         principal: Principal = require("application.apply_own")) -> MyApplicationRead:
    """The application is withdrawn, with the note as the reason."""
    service.approvals.reject_counter(session=session, kit=kit, principal=principal, application_id=application_id,
                                     note=body.note)
    return _mine(service.applications.get_own(session=session, principal=principal, application_id=application_id))


@router.post("/me/applications/{application_id}/human-review", response_model=MyApplicationRead,
             operation_id="request_human_review", summary="Ask for a person to review an automatic decline",
             responses={409: {"description": "Not declined automatically, or asked once already "
                                             "(`human_review_not_available`)"}})
def request_human_review(application_id: Id, body: BorrowerNote, session: DB, kit: Kit, meta: Meta,
                         principal: Principal = require("application.apply_own")) -> MyApplicationRead:
    """PIPL Art. 24: once per application; it lands in the level-1 queue, marked as a human review request."""
    service.approvals.request_human_review(session=session, kit=kit, principal=principal,
                                           application_id=application_id, note=body.note, language=meta.language)
    return _mine(service.applications.get_own(session=session, principal=principal, application_id=application_id))
