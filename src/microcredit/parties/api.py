"""Routes of parties: registration, the caller, institutions, branches, staff, borrowers, reviews."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from microcredit.api.deps import (
    DB,
    Ctx,
    IdempotencyGuard,
    InstitutionId,
    Meta,
    authenticated,
    idempotent,
    public,
    rate_limit,
    require,
)
from microcredit.api.exports import XLSX_RESPONSES, xlsx_response
from microcredit.errors import PermissionDenied
from microcredit.identity import service as identity
from microcredit.identity.principal import Principal
from microcredit.identity.schemas import (
    InstitutionBrief,
    LoginRead,
    MeRead,
    OAuthProviderRead,
    PublicConfig,
)
from microcredit.parties import service
from microcredit.parties.errors import IdentifierInQuery
from microcredit.parties.models import Borrower, Branch, Institution, ProfileChange
from microcredit.parties.schemas import (
    BankCardCreate,
    BankCardRead,
    BorrowerDetail,
    BorrowerRead,
    BorrowerSearch,
    BorrowerUpdate,
    BranchCreate,
    BranchRead,
    BranchUpdate,
    BusinessDateSet,
    ChangeRead,
    InstitutionCreate,
    InstitutionRead,
    InstitutionUpdate,
    OfflineRegistration,
    ProfileFields,
    Registration,
    RegistrationRead,
    ReviewDecision,
    SensitiveRead,
    StaffCreate,
    StaffRead,
    StaffUpdate,
)
from microcredit.parties.service.borrowers import NewBorrower
from microcredit.parties.service.staff import StaffView
from microcredit.platform.crypto import mask_phone
from microcredit.platform.export import Column
from microcredit.platform.paging import PageRequest
from microcredit.platform.ratelimit import Limit
from microcredit.platform.schema import Page

router = APIRouter(tags=["parties"])
PageNo = Annotated[int, Query(ge=1)]
PageSize = Annotated[int, Query(ge=1, le=100)]
_register_limit = rate_limit("register", lambda c: Limit(c.settings.rate_limits.register_per_ip_per_hour, 3600))
PROFILE_FIELDS = ("customer_type", "occupation", "employer", "email", "province", "city", "address",
                  "monthly_income", "total_assets", "total_liabilities")


def _brief(inst: Institution) -> InstitutionBrief:
    return InstitutionBrief(id=inst.id, code=inst.code, name=inst.name, name_en=inst.name_en,
                            business_date=inst.business_date, timezone=inst.timezone)


def _new_borrower(body: Registration | OfflineRegistration, phone: str) -> NewBorrower:
    return NewBorrower(real_name=body.real_name, id_number=body.id_number, phone=phone,
                       **{k: getattr(body, k) for k in PROFILE_FIELDS if getattr(body, k) is not None})


# --- public ------------------------------------------------------------------

@router.get("/public/config", response_model=PublicConfig, operation_id="get_public_config",
            summary="What the web app needs before sign-in", dependencies=[public()])
def get_public_config(session: DB, ctx: Ctx, institution: InstitutionId) -> PublicConfig:
    """Institution, sign-in providers, whether the SMS simulator's message box is on, password rules."""
    inst = service.organisation.institution(session=session, institution_id=institution)
    sec = ctx.settings.security
    return PublicConfig(
        institution=_brief(inst), mode=ctx.settings.mode.value,
        oauth_providers=[OAuthProviderRead(name=p.name, display_name=p.display_name, simulator=p.simulator)
                         for p in ctx.settings.oauth_providers],
        sms_simulator=ctx.settings.sms_simulator, password_min_length=sec.password_min_length,
        password_max_length=sec.password_max_length, lockout_threshold=sec.lockout_threshold)


@router.post("/auth/register", response_model=RegistrationRead, status_code=201, operation_id="register_borrower",
             summary="Register as a borrower (SMS-verified)", dependencies=[public(), _register_limit])
def register_borrower(body: Registration, session: DB, ctx: Ctx, meta: Meta,
                      institution: InstitutionId) -> RegistrationRead:
    """Phone + SMS code, real name, resident ID number (validated, unique), password. Signs in at once."""
    phone = identity.accounts.parse_phone(body.phone)
    borrower, issued = service.borrowers.register_online(
        session=session, ctx=ctx, institution_id=institution, data=_new_borrower(body, phone),
        password=body.password, sms_code=body.sms_code, oauth_ticket=body.oauth_ticket, meta=meta)
    return RegistrationRead(borrower=BorrowerRead.model_validate(borrower),
                            login=LoginRead(status="authenticated", token=issued.token,
                                            expires_at=issued.idle_expires_at,
                                            absolute_expires_at=issued.absolute_expires_at))


@router.get("/auth/me", response_model=MeRead, operation_id="get_me", summary="The signed-in user")
def get_me(session: DB, ctx: Ctx, principal: Principal = authenticated(allow_enrolment=True)) -> MeRead:
    """Who the caller is, what they may do and how far they see."""
    user = identity.accounts.get_user(session=session, user_id=principal.user_id)
    inst = service.organisation.institution(session=session, institution_id=principal.institution_id)
    branch = session.get(Branch, principal.branch_id) if principal.branch_id else None
    borrower = service.borrowers.own_profile(session=session, principal=principal) \
        if principal.kind == "borrower" else None
    staff = service.staff.staff_of_user(session=session, user_id=principal.user_id)
    return MeRead(
        user_id=user.id, kind=user.kind, display_name=user.display_name,
        phone_masked=mask_phone(identity.accounts.phone_of(ctx, user)), institution=_brief(inst),
        branch_id=principal.branch_id, branch_name=branch.name if branch else None, roles=list(principal.roles),
        permissions=sorted(principal.permissions) if principal.stage == "full" else [],
        scope=principal.scope, stage=principal.stage, totp_enabled=user.totp_enabled,
        has_password=user.password_hash is not None,
        linked_providers=identity.oauth.linked_providers(session=session, user_id=user.id),
        borrower_id=borrower.id if borrower else None, staff_id=staff.id if staff else None)


# --- institutions and the business date ------------------------------------------

@router.get("/institutions", response_model=Page[InstitutionRead], operation_id="list_institutions",
            summary="Institutions in scope")
def list_institutions(session: DB, principal: Principal = require("institution.read"), page: PageNo = 1,
                      page_size: PageSize = 20, sort: str | None = None) -> Page[InstitutionRead]:
    """The caller's institution, or all of them for platform administrators."""
    r = service.organisation.list_institutions(session=session, principal=principal,
                                               page=PageRequest(page, page_size, sort))
    return Page(items=[InstitutionRead.model_validate(i) for i in r.items], total=r.total, page=r.page,
                page_size=r.page_size)


INSTITUTION_COLUMNS = [Column("code", "编号", "Code"), Column("name", "名称", "Name"),
                       Column("name_en", "英文名称", "English name"), Column("kind", "类型", "Kind"),
                       Column("business_date", "营业日", "Business date"), Column("status", "状态", "Status"),
                       Column("contact_phone", "联系电话", "Phone"), Column("address", "地址", "Address")]


@router.get("/institutions/export", operation_id="export_institutions", summary="Institutions as .xlsx",
            response_class=Response, responses=XLSX_RESPONSES)
def export_institutions(session: DB, meta: Meta, principal: Principal = require("institution.read"),
                        sort: str | None = None) -> Response:
    """The institutions in scope as an Excel workbook."""
    rows = [InstitutionRead.model_validate(i).model_dump()
            for i in service.organisation.export_institutions(session=session, principal=principal, sort=sort)]
    return xlsx_response("institutions", INSTITUTION_COLUMNS, rows, meta.language)


@router.post("/institutions", response_model=InstitutionRead, status_code=201, operation_id="create_institution",
             summary="Create an institution (platform administrators)")
def create_institution(body: InstitutionCreate, session: DB, ctx: Ctx,
                       principal: Principal = require("institution.manage")) -> InstitutionRead:
    """A new institution, seeded with the default roles."""
    if not principal.sees_all_institutions:
        raise PermissionDenied("only the platform's administrators create institutions")
    inst = service.organisation.create_institution(session=session, ctx=ctx, actor=principal.actor,
                                                   **body.model_dump())
    return InstitutionRead.model_validate(inst)


@router.get("/institutions/{institution_id}", response_model=InstitutionRead, operation_id="get_institution",
            summary="One institution")
def get_institution(institution_id: int, session: DB,
                    principal: Principal = require("institution.read")) -> InstitutionRead:
    """An institution in scope."""
    return InstitutionRead.model_validate(service.organisation.get_institution(
        session=session, principal=principal, institution_id=institution_id))


@router.patch("/institutions/{institution_id}", response_model=InstitutionRead,
              operation_id="update_institution", summary="Change an institution")
def update_institution(institution_id: int, body: InstitutionUpdate, session: DB, ctx: Ctx,
                       principal: Principal = require("institution.manage")) -> InstitutionRead:
    """Name, contact, address, status (audited)."""
    return InstitutionRead.model_validate(service.organisation.update_institution(
        session=session, ctx=ctx, principal=principal, institution_id=institution_id,
        **body.model_dump(exclude_unset=True)))


@router.put("/institutions/{institution_id}/business-date", response_model=InstitutionRead,
            operation_id="set_business_date", summary="Set the business date (demo and test only)")
def set_business_date(institution_id: int, body: BusinessDateSet, session: DB, ctx: Ctx,
                      principal: Principal = require("business_date.set")) -> InstitutionRead:
    """Refused in production, where only close of business advances the date."""
    return InstitutionRead.model_validate(service.organisation.set_business_date(
        session=session, ctx=ctx, principal=principal, institution_id=institution_id,
        new_date=body.business_date))


# --- branches ----------------------------------------------------------------------

BRANCH_COLUMNS = [Column("code", "编号", "Code"), Column("name", "名称", "Name"),
                  Column("region_code", "地区码", "Region"), Column("address", "地址", "Address"),
                  Column("status", "状态", "Status"), Column("created_at", "创建时间(UTC)", "Created (UTC)")]


@router.get("/branches", response_model=Page[BranchRead], operation_id="list_branches", summary="Branches")
def list_branches(session: DB, principal: Principal = require("branch.read"), q: str | None = None,
                  institution_id: int | None = None, page: PageNo = 1, page_size: PageSize = 20,
                  sort: str | None = None) -> Page[BranchRead]:
    """Branches in scope, searched by name or code."""
    r = service.organisation.list_branches(session=session, principal=principal, q=q,
                                           institution_id=institution_id, page=PageRequest(page, page_size, sort))
    return Page(items=[BranchRead.model_validate(b) for b in r.items], total=r.total, page=r.page,
                page_size=r.page_size)


@router.get("/branches/export", operation_id="export_branches", summary="Branches as .xlsx",
            response_class=Response, responses=XLSX_RESPONSES)
def export_branches(session: DB, meta: Meta, principal: Principal = require("branch.read"),
                    q: str | None = None, sort: str | None = None) -> Response:
    """The filtered branches as an Excel workbook."""
    branches = service.organisation.export_branches(session=session, principal=principal, q=q, sort=sort)
    rows = [BranchRead.model_validate(b).model_dump() for b in branches]
    return xlsx_response("branches", BRANCH_COLUMNS, rows, meta.language)


@router.post("/branches", response_model=BranchRead, status_code=201, operation_id="create_branch",
             summary="Create a branch")
def create_branch(body: BranchCreate, session: DB, ctx: Ctx,
                  principal: Principal = require("branch.manage")) -> BranchRead:
    """A new branch of the caller's institution."""
    return BranchRead.model_validate(service.organisation.create_branch(
        session=session, ctx=ctx, principal=principal, **body.model_dump()))


@router.get("/branches/{branch_id}", response_model=BranchRead, operation_id="get_branch", summary="One branch")
def get_branch(branch_id: int, session: DB, principal: Principal = require("branch.read")) -> BranchRead:
    """A branch in scope."""
    return BranchRead.model_validate(service.organisation.get_branch(session=session, principal=principal,
                                                                     branch_id=branch_id))


@router.patch("/branches/{branch_id}", response_model=BranchRead, operation_id="update_branch",
              summary="Change a branch")
def update_branch(branch_id: int, body: BranchUpdate, session: DB, ctx: Ctx,
                  principal: Principal = require("branch.manage")) -> BranchRead:
    """Name, region, address, status (audited)."""
    return BranchRead.model_validate(service.organisation.update_branch(
        session=session, ctx=ctx, principal=principal, branch_id=branch_id, **body.model_dump(exclude_unset=True)))


# --- staff ---------------------------------------------------------------------------

STAFF_COLUMNS = [Column("employee_number", "工号", "Employee no."), Column("name", "姓名", "Name"),
                 Column("position", "职位", "Position"), Column("branch_id", "网点", "Branch"),
                 Column("phone_masked", "手机", "Phone"), Column("roles", "角色", "Roles"),
                 Column("status", "状态", "Status"), Column("locked", "已锁定", "Locked"),
                 Column("last_login_at", "最近登录(UTC)", "Last sign-in (UTC)")]


def _staff_read(ctx: Ctx, v: StaffView) -> StaffRead:
    s, u = v.staff, v.user
    return StaffRead(id=s.id, user_id=u.id, institution_id=s.institution_id, branch_id=u.branch_id, name=s.name,
                     employee_number=s.employee_number, position=s.position, email=s.email,
                     phone_masked=mask_phone(identity.accounts.phone_of(ctx, u)), roles=v.roles, status=u.status,
                     locked=v.locked, totp_enabled=u.totp_enabled, last_login_at=u.last_login_at,
                     created_at=s.created_at)


@router.get("/staff", response_model=Page[StaffRead], operation_id="list_staff", summary="Staff")
def list_staff(session: DB, ctx: Ctx, principal: Principal = require("staff.read"), q: str | None = None,
               branch_id: int | None = None, role: str | None = None, page: PageNo = 1,
               page_size: PageSize = 20, sort: str | None = None) -> Page[StaffRead]:
    """Staff in scope, searched by name, employee number or position; by branch and role."""
    r = service.staff.list_staff(session=session, ctx=ctx, principal=principal, q=q, branch_id=branch_id,
                                 role=role, page=PageRequest(page, page_size, sort))
    assert not isinstance(r, list)
    return Page(items=[_staff_read(ctx, v) for v in r.items], total=r.total, page=r.page, page_size=r.page_size)


@router.get("/staff/export", operation_id="export_staff", summary="Staff as .xlsx", response_class=Response,
            responses=XLSX_RESPONSES)
def export_staff(session: DB, ctx: Ctx, meta: Meta, principal: Principal = require("staff.read"),
                 q: str | None = None, branch_id: int | None = None, role: str | None = None,
                 sort: str | None = None) -> Response:
    """The filtered staff as an Excel workbook."""
    views = service.staff.list_staff(session=session, ctx=ctx, principal=principal, q=q, branch_id=branch_id,
                                     role=role, page=PageRequest(1, 20, sort), export=True)
    assert isinstance(views, list)
    rows = [{**_staff_read(ctx, v).model_dump(), "roles": ", ".join(v.roles)} for v in views]
    return xlsx_response("staff", STAFF_COLUMNS, rows, meta.language)


@router.post("/staff", response_model=StaffRead, status_code=201, operation_id="create_staff",
             summary="Create a staff member")
def create_staff(body: StaffCreate, session: DB, ctx: Ctx, principal: Principal = require("staff.manage")
                 ) -> StaffRead:
    """An employee with a sign-in account; they sign in first with an SMS code (no password is chosen for them)."""
    phone = identity.accounts.parse_phone(body.phone)
    view = service.staff.create_staff(session=session, ctx=ctx, principal=principal,
                                      institution_id=body.institution_id, name=body.name,
                                      employee_number=body.employee_number, phone=phone,
                                      roles=tuple(body.roles), branch_id=body.branch_id, position=body.position,
                                      email=body.email)
    return _staff_read(ctx, view)


@router.get("/staff/{staff_id}", response_model=StaffRead, operation_id="get_staff", summary="One staff member")
def get_staff(staff_id: int, session: DB, ctx: Ctx, principal: Principal = require("staff.read")) -> StaffRead:
    """A staff member in scope."""
    return _staff_read(ctx, service.staff.get_staff(session=session, ctx=ctx, principal=principal,
                                                    staff_id=staff_id))


@router.patch("/staff/{staff_id}", response_model=StaffRead, operation_id="update_staff",
              summary="Change a staff member")
def update_staff(staff_id: int, body: StaffUpdate, session: DB, ctx: Ctx,
                 principal: Principal = require("staff.manage")) -> StaffRead:
    """Name, position, e-mail, branch and roles (a role change ends their sessions)."""
    values = body.model_dump(exclude_unset=True)
    roles = values.pop("roles", None)
    branch: int | bool | None = values.pop("branch_id") if "branch_id" in values else False
    view = service.staff.update_staff(session=session, ctx=ctx, principal=principal, staff_id=staff_id,
                                      roles=tuple(roles) if roles is not None else None, branch_id=branch,
                                      **values)
    return _staff_read(ctx, view)


@router.post("/staff/{staff_id}/disable", response_model=StaffRead, operation_id="disable_staff",
             summary="Disable a staff account")
def disable_staff(staff_id: int, session: DB, ctx: Ctx, principal: Principal = require("staff.manage")
                  ) -> StaffRead:
    """The account can no longer sign in; its sessions end."""
    return _staff_read(ctx, service.staff.set_active(session=session, ctx=ctx, principal=principal,
                                                     staff_id=staff_id, active=False))


@router.post("/staff/{staff_id}/enable", response_model=StaffRead, operation_id="enable_staff",
             summary="Re-enable a staff account")
def enable_staff(staff_id: int, session: DB, ctx: Ctx, principal: Principal = require("staff.manage")
                 ) -> StaffRead:
    """The account may sign in again."""
    return _staff_read(ctx, service.staff.set_active(session=session, ctx=ctx, principal=principal,
                                                     staff_id=staff_id, active=True))


@router.post("/staff/{staff_id}/unlock", response_model=StaffRead, operation_id="unlock_staff",
             summary="Unlock a locked staff account")
def unlock_staff(staff_id: int, session: DB, ctx: Ctx, principal: Principal = require("user.unlock")) -> StaffRead:
    """Lifts a lockout after failed sign-ins (audited)."""
    return _staff_read(ctx, service.staff.unlock(session=session, ctx=ctx, principal=principal, staff_id=staff_id))


@router.post("/staff/{staff_id}/end-sessions", response_model=StaffRead, operation_id="end_staff_sessions",
             summary="End every session of a staff member")
def end_staff_sessions(staff_id: int, session: DB, ctx: Ctx, principal: Principal = require("staff.manage")
                       ) -> StaffRead:
    """They are signed out everywhere at once (audited)."""
    return _staff_read(ctx, service.staff.end_sessions(session=session, ctx=ctx, principal=principal,
                                                       staff_id=staff_id))


@router.post("/staff/{staff_id}/reset-second-factor", response_model=StaffRead,
             operation_id="reset_staff_second_factor", summary="Reset a staff member's authenticator")
def reset_staff_second_factor(staff_id: int, session: DB, ctx: Ctx,
                              principal: Principal = require("staff.manage")) -> StaffRead:
    """They enrol again at their next sign-in; their sessions end."""
    return _staff_read(ctx, service.staff.reset_second_factor(session=session, ctx=ctx, principal=principal,
                                                              staff_id=staff_id))


# --- borrowers -------------------------------------------------------------------------

BORROWER_COLUMNS = [Column("id", "编号", "No."), Column("real_name", "姓名", "Name"),
                    Column("id_number_masked", "身份证号", "ID number"), Column("phone_masked", "手机", "Phone"),
                    Column("customer_type", "客户类型", "Customer type"), Column("branch_id", "网点", "Branch"),
                    Column("occupation", "职业", "Occupation"),
                    Column("monthly_income", "月收入", "Monthly income", money=True),
                    Column("channel", "渠道", "Channel"), Column("created_at", "登记时间(UTC)", "Registered (UTC)")]


def _change_read(c: ProfileChange, name: str | None = None) -> ChangeRead:
    return ChangeRead(id=c.id, borrower_id=c.borrower_id, borrower_name=name, changes=c.changes, status=c.status,
                      requested_at=c.requested_at, reviewed_at=c.reviewed_at,
                      reviewed_by_user_id=c.reviewed_by_user_id, review_reason=c.review_reason)


def _detail(session: DB, ctx: Ctx, b: Borrower) -> BorrowerDetail:
    user = identity.accounts.get_user(session=session, user_id=b.user_id)
    throttle = identity.login.lock_state(session=session, ctx=ctx, user=user)
    today = service.organisation.business_date(session=session, institution_id=b.institution_id)
    pending = service.borrowers.pending_change(session=session, borrower_id=b.id)
    data: dict[str, Any] = BorrowerRead.model_validate(b).model_dump()
    return BorrowerDetail(
        **data, age=service.borrowers.age_of(ctx=ctx, borrower=b, on=today),
        locked=bool(throttle and throttle.locked_until and throttle.locked_until > ctx.clock.now()),
        account_status=user.status, has_password=user.password_hash is not None,
        bank_cards=[BankCardRead.model_validate(c) for c in service.borrowers.bank_cards(session=session,
                                                                                         borrower_id=b.id)],
        pending_change=_change_read(pending, b.real_name) if pending else None,
        recent_changes=[_change_read(c, b.real_name)
                        for c in service.borrowers.changes_of(session=session, borrower_id=b.id)])


def _search(session: DB, ctx: Ctx, principal: Principal, body: BorrowerSearch, *, export: bool) -> Any:
    return service.borrowers.search_borrowers(
        session=session, ctx=ctx, principal=principal, q=body.q, customer_type=body.customer_type,
        channel=body.channel, branch_id=body.branch_id, page=PageRequest(body.page, body.page_size, body.sort),
        export=export)


def _page_of_borrowers(r: Any) -> Page[BorrowerRead]:
    return Page(items=[BorrowerRead.model_validate(b) for b in r.items], total=r.total, page=r.page,
                page_size=r.page_size)


def _borrowers_xlsx(rows: list[Any], language: str) -> Response:
    return xlsx_response("borrowers", BORROWER_COLUMNS,
                         [BorrowerRead.model_validate(b).model_dump() for b in rows], language)


def _no_identifier_in_url(q: str | None) -> None:
    if service.borrowers.is_full_identifier(q):
        raise IdentifierInQuery(field="q")


@router.post("/borrowers/search", response_model=Page[BorrowerRead], operation_id="search_borrowers",
             summary="Search borrowers (terms in the body)")
def search_borrowers(body: BorrowerSearch, session: DB, ctx: Ctx,
                     principal: Principal = require("borrower.read")) -> Page[BorrowerRead]:
    """By name, full ID number (exact, through its blind index), ID tail or phone; masked results in scope."""
    return _page_of_borrowers(_search(session, ctx, principal, body, export=False))


@router.post("/borrowers/search/export", operation_id="export_borrower_search", summary="Borrowers as .xlsx",
             response_class=Response, responses=XLSX_RESPONSES)
def export_borrower_search(body: BorrowerSearch, session: DB, ctx: Ctx, meta: Meta,
                           principal: Principal = require("borrower.export")) -> Response:
    """The borrowers matching the search (all pages, masked) as an Excel workbook."""
    return _borrowers_xlsx(_search(session, ctx, principal, body, export=True), meta.language)


@router.get("/borrowers", response_model=Page[BorrowerRead], operation_id="list_borrowers",
            summary="List borrowers")
def list_borrowers(session: DB, ctx: Ctx, principal: Principal = require("borrower.read"),
                   q: Annotated[str | None, Query(max_length=50, description="Name or the last digits of the "
                                                  "ID number; full ID numbers and phones go to POST "
                                                  "/borrowers/search")] = None,
                   customer_type: str | None = None, channel: str | None = None, branch_id: int | None = None,
                   page: PageNo = 1, page_size: PageSize = 20, sort: str | None = None) -> Page[BorrowerRead]:
    """Borrowers in scope (a branch officer: their branch), masked."""
    _no_identifier_in_url(q)
    r = service.borrowers.search_borrowers(session=session, ctx=ctx, principal=principal, q=q,
                                           customer_type=customer_type, channel=channel, branch_id=branch_id,
                                           page=PageRequest(page, page_size, sort))
    return _page_of_borrowers(r)


@router.get("/borrowers/export", operation_id="export_borrowers", summary="Borrowers as .xlsx",
            response_class=Response, responses=XLSX_RESPONSES)
def export_borrowers(session: DB, ctx: Ctx, meta: Meta, principal: Principal = require("borrower.export"),
                     q: str | None = None, customer_type: str | None = None, channel: str | None = None,
                     branch_id: int | None = None, sort: str | None = None) -> Response:
    """The filtered borrowers (masked) as an Excel workbook."""
    _no_identifier_in_url(q)
    rows = service.borrowers.search_borrowers(session=session, ctx=ctx, principal=principal, q=q,
                                              customer_type=customer_type, channel=channel, branch_id=branch_id,
                                              page=PageRequest(1, 20, sort), export=True)
    return _borrowers_xlsx(list(rows) if isinstance(rows, list) else [], meta.language)


@router.post("/borrowers", response_model=BorrowerRead, status_code=201, operation_id="register_walk_in_borrower",
             summary="Register a walk-in borrower at the branch (Idempotency-Key required)",
             responses={201: {"description": "Registered"}})
def register_walk_in_borrower(body: OfflineRegistration, session: DB, ctx: Ctx, meta: Meta,
                              principal: Principal = require("borrower.register"),
                              guard: IdempotencyGuard = idempotent("borrower.register")) -> Any:
    """The officer checked the ID card in person. The borrower signs in later with an SMS code."""
    phone = identity.accounts.parse_phone(body.phone)
    borrower = service.borrowers.register_offline(session=session, ctx=ctx, principal=principal,
                                                  data=_new_borrower(body, phone), branch_id=body.branch_id)
    if body.notify_by_sms:
        service.borrowers.notify_offline_registration(session=session, ctx=ctx, borrower=borrower, phone=phone,
                                                      language=meta.language)
    return guard.respond(201, BorrowerRead.model_validate(borrower))


@router.get("/borrowers/{borrower_id}", response_model=BorrowerDetail, operation_id="get_borrower",
            summary="One borrower")
def get_borrower(borrower_id: int, session: DB, ctx: Ctx, principal: Principal = require("borrower.read")
                 ) -> BorrowerDetail:
    """Profile (masked), account state, cards and changes."""
    return _detail(session, ctx, service.borrowers.get_borrower(session=session, principal=principal,
                                                                borrower_id=borrower_id))


@router.patch("/borrowers/{borrower_id}", response_model=BorrowerDetail, operation_id="update_borrower",
              summary="Edit a borrower (staff)")
def update_borrower(borrower_id: int, body: BorrowerUpdate, session: DB, ctx: Ctx,
                    principal: Principal = require("borrower.update")) -> BorrowerDetail:
    """Applied at once and audited with before/after values."""
    values = body.model_dump(exclude_unset=True)
    branch: int | bool | None = values.pop("branch_id") if "branch_id" in values else False
    b = service.borrowers.update_by_staff(session=session, ctx=ctx, principal=principal, borrower_id=borrower_id,
                                          values=values, branch_id=branch)
    return _detail(session, ctx, b)


@router.post("/borrowers/{borrower_id}/reveal", response_model=SensitiveRead, operation_id="reveal_borrower",
             summary="See the full ID number, phone and cards (audited)")
def reveal_borrower(borrower_id: int, session: DB, ctx: Ctx,
                    principal: Principal = require("borrower.view_sensitive")) -> SensitiveRead:
    """Each call writes an audit record of who saw what."""
    return SensitiveRead(**service.borrowers.reveal(session=session, ctx=ctx, principal=principal,
                                                    borrower_id=borrower_id))


@router.post("/borrowers/{borrower_id}/unlock", response_model=BorrowerDetail, operation_id="unlock_borrower",
             summary="Unlock a borrower's account")
def unlock_borrower(borrower_id: int, session: DB, ctx: Ctx, principal: Principal = require("user.unlock")
                    ) -> BorrowerDetail:
    """Lifts a lockout after failed sign-ins (audited)."""
    b = service.borrowers.get_borrower(session=session, principal=principal, borrower_id=borrower_id)
    identity.accounts.unlock(session=session, ctx=ctx, actor=principal,
                             user=identity.accounts.get_user(session=session, user_id=b.user_id))
    return _detail(session, ctx, b)


@router.post("/borrowers/{borrower_id}/bank-cards", response_model=BankCardRead, status_code=201,
             operation_id="add_borrower_bank_card", summary="Add a bank card to a borrower")
def add_borrower_bank_card(borrower_id: int, body: BankCardCreate, session: DB, ctx: Ctx,
                           principal: Principal = require("borrower.update")) -> BankCardRead:
    """Encrypted at rest, shown masked (first 6 + last 4)."""
    b = service.borrowers.get_borrower(session=session, principal=principal, borrower_id=borrower_id)
    return BankCardRead.model_validate(service.borrowers.add_bank_card(
        session=session, ctx=ctx, principal=principal, borrower=b, bank_name=body.bank_name,
        card_number=body.card_number, primary=body.primary))


# --- profile changes ---------------------------------------------------------------------

@router.get("/profile-changes", response_model=Page[ChangeRead], operation_id="list_profile_changes",
            summary="Changes waiting for review")
def list_profile_changes(session: DB, principal: Principal = require("borrower.review_change"),
                         status: str | None = "pending", page: PageNo = 1, page_size: PageSize = 20,
                         sort: str | None = None) -> Page[ChangeRead]:
    """Credit-relevant profile changes in scope (pending by default)."""
    r = service.borrowers.list_changes(session=session, principal=principal, status=status or None,
                                       page=PageRequest(page, page_size, sort))
    names = service.borrowers.borrower_names(session=session, borrower_ids=[c.borrower_id for c in r.items])
    return Page(items=[_change_read(c, names.get(c.borrower_id)) for c in r.items], total=r.total, page=r.page,
                page_size=r.page_size)


CHANGE_COLUMNS = [Column("id", "编号", "No."), Column("borrower_name", "借款人", "Borrower"),
                  Column("fields", "变更内容", "Changes"), Column("status", "状态", "Status"),
                  Column("requested_at", "申请时间(UTC)", "Requested (UTC)"),
                  Column("reviewed_at", "审核时间(UTC)", "Reviewed (UTC)"),
                  Column("review_reason", "审核意见", "Review note")]


@router.get("/profile-changes/export", operation_id="export_profile_changes", summary="Profile changes as .xlsx",
            response_class=Response, responses=XLSX_RESPONSES)
def export_profile_changes(session: DB, meta: Meta, principal: Principal = require("borrower.review_change"),
                           status: str | None = "pending", sort: str | None = None) -> Response:
    """The profile changes with the status (all pages) as an Excel workbook."""
    changes = service.borrowers.export_changes(session=session, principal=principal, status=status or None,
                                               sort=sort)
    names = service.borrowers.borrower_names(session=session, borrower_ids=[c.borrower_id for c in changes])
    zh = meta.language.startswith("zh")
    labels = {k: (zh_label if zh else en_label) for k, (zh_label, en_label) in
              service.borrowers.FIELD_LABELS.items()}
    rows = [{**_change_read(c, names.get(c.borrower_id)).model_dump(),
             "fields": "; ".join(f"{labels.get(k, k)}: {v['old'] or '—'} → {v['new'] or '—'}"
                                 for k, v in c.changes.items())}
            for c in changes]
    return xlsx_response("profile-changes", CHANGE_COLUMNS, rows, meta.language)


@router.post("/profile-changes/{change_id}/approve", response_model=ChangeRead,
             operation_id="approve_profile_change", summary="Approve a change (it takes effect)")
def approve_profile_change(change_id: int, body: ReviewDecision, session: DB, ctx: Ctx,
                           principal: Principal = require("borrower.review_change")) -> ChangeRead:
    """The new values are applied to the profile (audited)."""
    return _change_read(service.borrowers.review_change(session=session, ctx=ctx, principal=principal,
                                                        change_id=change_id, approve=True, reason=body.reason))


@router.post("/profile-changes/{change_id}/reject", response_model=ChangeRead,
             operation_id="reject_profile_change", summary="Reject a change with a reason")
def reject_profile_change(change_id: int, body: ReviewDecision, session: DB, ctx: Ctx,
                          principal: Principal = require("borrower.review_change")) -> ChangeRead:
    """The profile keeps its values; the borrower sees the reason."""
    return _change_read(service.borrowers.review_change(session=session, ctx=ctx, principal=principal,
                                                        change_id=change_id, approve=False, reason=body.reason))


# --- the borrower's own profile ----------------------------------------------------------

@router.get("/me/profile", response_model=BorrowerDetail, operation_id="get_my_profile",
            summary="The borrower's own profile")
def get_my_profile(session: DB, ctx: Ctx, principal: Principal = require("profile.read_own")) -> BorrowerDetail:
    """Masked profile, cards, the pending change if any, recent decisions."""
    return _detail(session, ctx, service.borrowers.own_profile(session=session, principal=principal))


@router.patch("/me/profile", response_model=BorrowerDetail, operation_id="update_my_profile",
              summary="Edit one's own profile")
def update_my_profile(body: ProfileFields, session: DB, ctx: Ctx,
                      principal: Principal = require("profile.update_own")) -> BorrowerDetail:
    """Contact fields apply now; income, assets, liabilities, occupation, employer, type wait for staff review."""
    b, _ = service.borrowers.update_own_profile(session=session, ctx=ctx, principal=principal,
                                                values=body.model_dump(exclude_unset=True))
    return _detail(session, ctx, b)


@router.post("/me/profile-changes/{change_id}/withdraw", response_model=ChangeRead,
             operation_id="withdraw_my_profile_change", summary="Take back one's pending change")
def withdraw_my_profile_change(change_id: int, session: DB, ctx: Ctx,
                               principal: Principal = require("profile.update_own")) -> ChangeRead:
    """The change is no longer reviewed; the profile keeps its values."""
    return _change_read(service.borrowers.withdraw_own_change(session=session, ctx=ctx, principal=principal,
                                                              change_id=change_id))


@router.post("/me/bank-cards", response_model=BankCardRead, status_code=201, operation_id="add_my_bank_card",
             summary="Add a bank card to one's profile")
def add_my_bank_card(body: BankCardCreate, session: DB, ctx: Ctx,
                     principal: Principal = require("profile.update_own")) -> BankCardRead:
    """Encrypted at rest, shown masked."""
    b = service.borrowers.own_profile(session=session, principal=principal)
    return BankCardRead.model_validate(service.borrowers.add_bank_card(
        session=session, ctx=ctx, principal=principal, borrower=b, bank_name=body.bank_name,
        card_number=body.card_number, primary=body.primary))

