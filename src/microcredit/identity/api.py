"""Routes of identity: codes, sign-in, sessions, passwords, second factor, OAuth, roles, login history."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import TypeAdapter
from sqlalchemy.orm import Session

from microcredit.api.deps import (
    DB,
    InstitutionId,
    Kit,
    Meta,
    OAuth,
    WallClock,
    authenticated,
    kept_answer,
    public,
    rate_limit,
    require,
)
from microcredit.api.exports import XLSX_RESPONSES, xlsx_response
from microcredit.api.params import Id, IdFilter, PageNo, PageSize
from microcredit.identity import scope, service
from microcredit.identity.permissions import PERMISSIONS, DataScope
from microcredit.identity.principal import Principal
from microcredit.identity.schemas import (
    InstitutionBrief,
    LoginAttemptRead,
    LoginRead,
    MeRead,
    OAuthExchangeRead,
    OAuthLink,
    OAuthTicket,
    PasswordChange,
    PasswordLogin,
    PasswordReset,
    PermissionRead,
    PhoneChange,
    Reauthenticate,
    RoleCreate,
    RoleRead,
    RoleUpdate,
    SessionRead,
    SmsCodeRequest,
    SmsCodeSent,
    SmsLogin,
    TotpConfirm,
    TotpEnrolmentRead,
    TotpEnrolmentStart,
    TotpLogin,
)
from microcredit.identity.service.oauth import OAuthGateway
from microcredit.parties import service as parties
from microcredit.parties.schemas import Registration, RegistrationAccepted
from microcredit.parties.service.borrowers import NewBorrower
from microcredit.parties.service.organisation import InstitutionInfo
from microcredit.platform.crypto import mask_phone
from microcredit.platform.export import Column
from microcredit.platform.paging import PageRequest, all_rows, paginate
from microcredit.platform.ratelimit import Limit
from microcredit.platform.refcache import ReferenceCache
from microcredit.platform.routing import UnitOfWorkRoute
from microcredit.platform.schema import Message, Page

router = APIRouter(tags=["identity"], route_class=UnitOfWorkRoute)

_login_limit = rate_limit("login", lambda s: Limit(s.rate_limits.login_per_ip_per_minute, 60))
_register_limit = rate_limit("register", lambda s: Limit(s.rate_limits.register_per_ip_per_hour, 3600))
_sms_limit = rate_limit("sms", lambda s: Limit(s.rate_limits.sms_per_ip_per_hour, 3600))


def _brief(inst: Any) -> InstitutionBrief:
    return InstitutionBrief(id=inst.id, code=inst.code, name=inst.name, name_en=inst.name_en,
                            business_date=inst.business_date, timezone=inst.timezone)


def login_read(result: service.login.LoginResult) -> LoginRead:
    """The API shape of a sign-in outcome."""
    s = result.session
    return LoginRead(status=result.status, token=s.token if s else None,
                     expires_at=s.idle_expires_at if s else None,
                     absolute_expires_at=s.absolute_expires_at if s else None, mfa_token=result.mfa_token)


@router.post("/auth/register", response_model=RegistrationAccepted, status_code=202,
             operation_id="register_borrower", summary="Register as a borrower (SMS-verified)",
             dependencies=[public(), _register_limit])
def register_borrower(body: Registration, session: DB, kit: Kit, meta: Meta,
                      institution: InstitutionId) -> RegistrationAccepted:
    """Phone + SMS code, real name, resident ID number (validated), password; then sign in with them.

    The answer is the same when the ID number already belongs to a borrower here (nothing is
    created; the owner is told by SMS), so that a phone's SMS code does not tell whether someone
    is a customer."""
    phone = service.accounts.parse_phone(body.phone)
    data = NewBorrower(real_name=body.real_name, id_number=body.id_number, phone=phone, **body.profile())
    parties.borrowers.register_online(
        session=session, kit=kit, institution_id=institution, data=data, password=body.password,
        sms_code=body.sms_code, oauth_ticket=body.oauth_ticket, meta=meta,
        consents=body.consents.model_dump() if body.consents else None)
    return RegistrationAccepted(phone_masked=mask_phone(phone))


_ME = TypeAdapter(MeRead)


@router.get("/auth/me", response_model=MeRead, operation_id="get_me", summary="The signed-in user")
async def get_me(request: Request, principal: Principal = authenticated(allow_enrolment=True)) -> Response:
    """Who the caller is, what they may do and how far they see."""
    # Kept with the token's cached principal (api.deps.kept_answer): a repeated read costs no query.
    return await kept_answer(request, principal, "auth.me",
                             lambda session, kit, institutions: _me_json(session, kit, institutions, principal))


def _me_json(session: Session, kit: service.IdentityKit, institutions: ReferenceCache[InstitutionInfo] | None,
             principal: Principal) -> bytes:
    account, phone, providers = service.accounts.account_phone_providers(session=session, kit=kit,
                                                                          user_id=principal.user_id)
    inst = parties.organisation.institution_info(session=session, cache=institutions,
                                                 institution_id=principal.institution_id)
    branch = parties.organisation.branch(session=session, branch_id=principal.branch_id) \
        if principal.branch_id else None
    borrower_id = parties.borrowers.own_profile_id(session=session, principal=principal) \
        if principal.kind == "borrower" else None
    staff = parties.staff.staff_of_user(session=session, user_id=principal.user_id) \
        if principal.kind == "staff" else None
    return _ME.dump_json(MeRead(
        user_id=account.id, kind=account.kind, display_name=account.display_name, phone_masked=mask_phone(phone),
        institution=_brief(inst), branch_id=principal.branch_id, branch_name=branch.name if branch else None,
        branch_name_en=branch.name_en if branch else None,
        roles=list(principal.roles), permissions=sorted(principal.permissions) if principal.stage == "full" else [],
        scope=principal.scope, stage=principal.stage, totp_enabled=account.totp_enabled,
        has_password=account.has_password,
        linked_providers=providers,
        borrower_id=borrower_id, staff_id=staff.id if staff else None))


@router.post("/auth/sms-codes", status_code=202, response_model=SmsCodeSent, operation_id="request_sms_code",
             summary="Send a verification code by SMS",
             dependencies=[public(), _sms_limit])
def request_sms_code(body: SmsCodeRequest, session: DB, kit: Kit, meta: Meta, institution: InstitutionId
                     ) -> SmsCodeSent:
    """Send a 6-digit code (5 minutes, one use). The answer is the same whether or not the number is registered."""
    phone = service.accounts.parse_phone(body.phone)
    sent = service.accounts.request_sms_code(session=session, kit=kit, institution_id=institution,
                                             kind=body.kind, phone=phone, purpose=body.purpose, meta=meta)
    return SmsCodeSent(phone_masked=sent.phone_masked, expires_in=sent.expires_in, resend_after=sent.resend_after)


@router.post("/auth/login", response_model=LoginRead, operation_id="login_with_password",
             summary="Sign in with phone and password", dependencies=[public(), _login_limit])
def login_with_password(body: PasswordLogin, session: DB, kit: Kit, meta: Meta, institution: InstitutionId
                        ) -> LoginRead:
    """Phone + password. Repeated failures are delayed, then lock the number for 30 minutes."""
    result = service.login.login_with_password(session=session, kit=kit, institution_id=institution,
                                               kind=body.kind, phone=body.phone, password=body.password,
                                               meta=meta)
    return login_read(result)


@router.post("/auth/login/sms", response_model=LoginRead, operation_id="login_with_sms_code",
             summary="Sign in with phone and SMS code", dependencies=[public(), _login_limit])
def login_with_sms(body: SmsLogin, session: DB, kit: Kit, meta: Meta, institution: InstitutionId) -> LoginRead:
    """Phone + a code requested with purpose `login`."""
    result = service.login.login_with_sms(session=session, kit=kit, institution_id=institution, kind=body.kind,
                                          phone=body.phone, code=body.code, meta=meta)
    return login_read(result)


@router.post("/auth/login/totp", response_model=LoginRead, operation_id="login_second_factor",
             summary="Complete sign-in with the authenticator code", dependencies=[public(), _login_limit])
def login_second_factor(body: TotpLogin, session: DB, kit: Kit, meta: Meta) -> LoginRead:
    """The TOTP step after a correct password, for users with a second factor."""
    return login_read(service.login.complete_second_factor(session=session, kit=kit, mfa_token=body.mfa_token,
                                                           code=body.code, meta=meta))


@router.post("/auth/password/reset", response_model=Message, operation_id="reset_password",
             summary="Reset a forgotten password with an SMS code", dependencies=[public(), _login_limit])
def reset_password(body: PasswordReset, session: DB, kit: Kit, meta: Meta, institution: InstitutionId) -> Message:
    """Sets the new password, lifts a lockout and ends every session."""
    phone = service.accounts.parse_phone(body.phone)
    service.accounts.reset_password_with_sms(session=session, kit=kit, institution_id=institution, kind=body.kind,
                                             phone=phone, code=body.code, new_password=body.new_password,
                                             meta=meta)
    return Message()


@router.post("/auth/logout", response_model=Message, operation_id="logout", summary="Sign out")
def logout(session: DB, kit: Kit,
           principal: Principal = authenticated(allow_enrolment=True)) -> Message:
    """End the current session."""
    service.sessions.logout(session=session, kit=kit, principal=principal)
    return Message()


@router.post("/auth/reauthenticate", response_model=Message, operation_id="reauthenticate",
             summary="Confirm the current password before a sensitive change")
def reauthenticate(body: Reauthenticate, session: DB, kit: Kit,
                   principal: Principal = authenticated()) -> Message:
    """Marks the session as recently authenticated (for 5 minutes)."""
    service.accounts.confirm_password(session=session, kit=kit, principal=principal, password=body.password)
    return Message()


@router.post("/auth/password", response_model=LoginRead, operation_id="change_password",
             summary="Change one's password")
def change_password(body: PasswordChange, session: DB, kit: Kit,
                    principal: Principal = authenticated(allow_enrolment=True)) -> LoginRead:
    """Every session ends; the answer carries a new token for this one."""
    issued = service.accounts.change_password(session=session, kit=kit, principal=principal,
                                              current_password=body.current_password,
                                              new_password=body.new_password)
    status = "mfa_enrolment_required" if issued.stage == "mfa_enrolment" else "authenticated"
    return LoginRead(status=status, token=issued.token, expires_at=issued.idle_expires_at,
                     absolute_expires_at=issued.absolute_expires_at)


@router.post("/auth/phone", response_model=Message, operation_id="change_phone",
             summary="Change one's phone number")
def change_phone(body: PhoneChange, session: DB, kit: Kit, principal: Principal = authenticated()) -> Message:
    """Needs the current password and a code sent to the new number (purpose `change_phone`)."""
    new_phone = service.accounts.parse_phone(body.new_phone, field="new_phone")
    service.accounts.change_phone(session=session, kit=kit, principal=principal,
                                  current_password=body.current_password, new_phone=new_phone, code=body.code)
    return Message()


@router.post("/auth/totp/enrolment", response_model=TotpEnrolmentRead, operation_id="start_totp_enrolment",
             summary="Begin enrolling an authenticator app (staff)")
def start_totp_enrolment(body: TotpEnrolmentStart, session: DB, kit: Kit,
                         principal: Principal = authenticated(allow_enrolment=True)) -> TotpEnrolmentRead:
    """A new secret, shown as a QR code; active only after confirmation."""
    e = service.accounts.begin_totp_enrolment(session=session, kit=kit, principal=principal,
                                              current_password=body.current_password)
    return TotpEnrolmentRead(secret=e.secret, otpauth_uri=e.otpauth_uri, qr_svg_data_uri=e.qr_svg_data_uri)


@router.post("/auth/totp/enrolment/confirm", response_model=LoginRead, operation_id="confirm_totp_enrolment",
             summary="Confirm the authenticator app with its first code")
def confirm_totp_enrolment(body: TotpConfirm, session: DB, kit: Kit,
                           principal: Principal = authenticated(allow_enrolment=True)) -> LoginRead:
    """Activates the second factor; answers with a new, full session."""
    issued = service.accounts.confirm_totp_enrolment(session=session, kit=kit, principal=principal, code=body.code)
    assert issued is not None
    return LoginRead(status="authenticated", token=issued.token, expires_at=issued.idle_expires_at,
                     absolute_expires_at=issued.absolute_expires_at)


@router.get("/auth/sessions", response_model=list[SessionRead], operation_id="list_my_sessions",
            summary="The caller's live sessions")
def list_my_sessions(session: DB, kit: Kit, principal: Principal = authenticated()) -> list[SessionRead]:
    """Where the caller is signed in."""
    rows = service.sessions.live_sessions(session=session, kit=kit, user_id=principal.user_id)
    return [SessionRead(id=r.id, auth_method=r.auth_method, created_at=r.created_at, last_seen_at=r.last_seen_at,
                        ip=r.ip, user_agent=r.user_agent, current=r.id == principal.session_id) for r in rows]


@router.delete("/auth/sessions/{session_id}", status_code=204, operation_id="end_my_session",
               summary="End one of the caller's sessions", response_class=Response)
def end_my_session(session_id: Id, session: DB, kit: Kit, principal: Principal = authenticated()) -> Response:
    """Signs out that device (a lost phone, a shared computer)."""
    service.sessions.end_own_session(session=session, kit=kit, principal=principal, session_id=session_id)
    return Response(status_code=204)


# --- OAuth ------------------------------------------------------------------

@router.get("/auth/oauth/{provider}/authorize", operation_id="oauth_authorize", status_code=302,
            summary="Start a WeChat/Alipay sign-in (redirects to the provider)",
            response_class=RedirectResponse, dependencies=[public(), _login_limit])
def oauth_authorize(provider: str, session: DB, kit: Kit, oauth: OAuth, institution: InstitutionId,
                    next: Annotated[str | None, Query(max_length=255)] = None) -> RedirectResponse:
    """Redirect the browser to the provider's authorisation page (state + PKCE)."""
    url = service.oauth.start(session=session, kit=kit, gateway=oauth, institution_id=institution,
                              provider_name=provider, next_path=next)
    return RedirectResponse(url, status_code=302)


@router.get("/auth/oauth/{provider}/callback", operation_id="oauth_callback", status_code=302,
            summary="Where the provider returns the browser", response_class=RedirectResponse,
            dependencies=[public()])
def oauth_callback(provider: str, session: DB, kit: Kit, oauth: OAuth,
                   code: Annotated[str | None, Query(max_length=512)] = None,
                   state: Annotated[str | None, Query(max_length=256)] = None,
                   error: Annotated[str | None, Query(max_length=128)] = None,
                   auth_code: Annotated[str | None, Query(max_length=512, description="Alipay's code")] = None,
                   app_id: Annotated[str | None, Query(max_length=64, description="Alipay's app id")] = None,
                   ) -> RedirectResponse:
    """Exchange the code (Alipay: `auth_code`), then send the browser to the web app with a one-time ticket."""
    target = service.oauth.callback(session=session, kit=kit, gateway=oauth, provider_name=provider, code=code,
                                    state=state, error=error, auth_code=auth_code, app_id=app_id)
    return RedirectResponse(target, status_code=302)


def _exchange_read(oauth: OAuthGateway, ex: service.oauth.Exchange, unlinked_status: str) -> OAuthExchangeRead:
    display = oauth.provider(ex.provider).display_name
    if ex.result is None:
        return OAuthExchangeRead(status=unlinked_status, provider=ex.provider,
                                 provider_display_name=display, subject_name=ex.subject_name)
    read = login_read(ex.result)
    return OAuthExchangeRead(status=read.status, provider=ex.provider, provider_display_name=display,
                             subject_name=ex.subject_name, login=read)


@router.post("/auth/oauth/exchange", response_model=OAuthExchangeRead, operation_id="oauth_exchange",
             summary="Trade the one-time ticket for a session", dependencies=[public(), _login_limit])
def oauth_exchange(body: OAuthTicket, session: DB, kit: Kit, oauth: OAuth, meta: Meta) -> OAuthExchangeRead:
    """A linked account gets a session; an unknown one must prove a phone (`link_required`)."""
    ex = service.oauth.exchange(session=session, kit=kit, ticket=body.ticket, meta=meta)
    return _exchange_read(oauth, ex, "link_required")


@router.post("/auth/oauth/link", response_model=OAuthExchangeRead, operation_id="oauth_link",
             summary="Link the third-party account by proving a phone", dependencies=[public(), _login_limit])
def oauth_link(body: OAuthLink, session: DB, kit: Kit, oauth: OAuth, meta: Meta) -> OAuthExchangeRead:
    """Signs in the borrower with that phone; `registration_required` if nobody has it yet."""
    phone = service.accounts.parse_phone(body.phone)
    ex = service.oauth.link_with_phone(session=session, kit=kit, ticket=body.ticket, phone=phone, code=body.code,
                                       meta=meta)
    return _exchange_read(oauth, ex, "registration_required")


# --- roles and permissions ----------------------------------------------------

def _role_read(role: object, permissions: list[str]) -> RoleRead:
    return RoleRead.model_validate({**{k: getattr(role, k) for k in (
        "id", "code", "name_zh", "name_en", "data_scope", "requires_mfa", "is_system")}, "permissions": permissions})


@router.get("/permissions", response_model=list[PermissionRead], operation_id="list_permissions",
            summary="Every permission code")
def list_permissions(principal: Principal = require("role.read")) -> list[PermissionRead]:
    """The registry of permission codes with descriptions."""
    return [PermissionRead(code=p.code, zh=p.zh, en=p.en, reserved=p.reserved) for p in PERMISSIONS]


@router.get("/roles", response_model=list[RoleRead], operation_id="list_roles", summary="Roles of the institution")
def list_roles(session: DB, principal: Principal = require("role.read"),
               institution_id: IdFilter = None) -> list[RoleRead]:
    """Roles with their permissions and data scope."""
    inst = scope.institution_for_write(principal, institution_id)
    return [_role_read(r, perms) for r, perms in service.roles.list_roles(session=session, institution_id=inst)]


ROLE_COLUMNS = [Column("code", "编号", "Code"), Column("name_zh", "中文名称", "Chinese name"),
                Column("name_en", "英文名称", "English name"), Column("data_scope", "数据范围", "Data scope"),
                Column("requires_mfa", "需要动态口令", "Requires TOTP"), Column("is_system", "系统角色", "System role"),
                Column("permissions", "权限", "Permissions")]


@router.get("/roles/export", operation_id="export_roles", summary="Roles and their permissions as .xlsx",
            response_class=Response, responses=XLSX_RESPONSES)
def export_roles(session: DB, meta: Meta, principal: Principal = require("role.read"),
                 institution_id: IdFilter = None) -> Response:
    """Every role of the institution with its permissions, as an Excel workbook."""
    inst = scope.institution_for_write(principal, institution_id)
    rows = [{**_role_read(r, perms).model_dump(), "permissions": ", ".join(perms)}
            for r, perms in service.roles.list_roles(session=session, institution_id=inst)]
    return xlsx_response("roles", ROLE_COLUMNS, rows, meta.language)


@router.post("/roles", response_model=RoleRead, status_code=201, operation_id="create_role",
             summary="Create a custom role")
def create_role(body: RoleCreate, session: DB, clock: WallClock,
                principal: Principal = require("role.manage")) -> RoleRead:
    """A new role with a set of permissions and a data scope."""
    role = service.roles.create_role(session=session, clock=clock, actor=principal,
                                     institution_id=principal.institution_id, code=body.code,
                                     name_zh=body.name_zh, name_en=body.name_en, data_scope=body.data_scope,
                                     requires_mfa=body.requires_mfa, permissions=body.permissions)
    return _role_read(role, service.roles.permissions_of(session=session, role=role))


@router.patch("/roles/{role_id}", response_model=RoleRead, operation_id="update_role", summary="Change a role")
def update_role(role_id: Id, body: RoleUpdate, session: DB, clock: WallClock,
                principal: Principal = require("role.manage")) -> RoleRead:
    """Names, scope, second-factor rule, permissions (audited with before/after)."""
    role = service.roles.get_role(session=session, institution_id=principal.institution_id, role_id=role_id)
    role = service.roles.update_role(session=session, clock=clock, actor=principal, role=role,
                                     name_zh=body.name_zh, name_en=body.name_en,
                                     data_scope=DataScope(body.data_scope) if body.data_scope else None,
                                     requires_mfa=body.requires_mfa, permissions=body.permissions)
    return _role_read(role, service.roles.permissions_of(session=session, role=role))


@router.delete("/roles/{role_id}", status_code=204, operation_id="delete_role", summary="Delete a custom role",
               response_class=Response)
def delete_role(role_id: Id, session: DB, clock: WallClock, principal: Principal = require("role.manage")) -> Response:
    """Only custom roles that nobody holds."""
    role = service.roles.get_role(session=session, institution_id=principal.institution_id, role_id=role_id)
    service.roles.delete_role(session=session, clock=clock, actor=principal, role=role)
    return Response(status_code=204)


# --- login history ------------------------------------------------------------

ATTEMPT_COLUMNS = [Column("at", "时间(UTC)", "Time (UTC)"), Column("user_name", "用户", "User"),
                   Column("kind", "类型", "Kind"), Column("method", "方式", "Method"),
                   Column("outcome", "结果", "Outcome"), Column("ip", "IP", "IP"),
                   Column("user_agent", "设备", "User agent")]


def _attempts(principal: Principal, user_id: int | None, outcome: str | None, since: datetime | None,
              until: datetime | None, sort: str | None) -> Any:
    inst = None if principal.sees_all_institutions else principal.institution_id
    return service.login.attempts_query(institution_id=inst, user_id=user_id, outcome=outcome, since=since,
                                        until=until, sort=sort)


def _attempt_reads(session: DB, rows: list[Any]) -> list[LoginAttemptRead]:
    users = service.accounts.accounts_by_ids(session=session, user_ids=[r.user_id for r in rows if r.user_id])
    return [LoginAttemptRead(id=r.id, at=r.at, user_id=r.user_id,
                             user_name=users[r.user_id].display_name if r.user_id in users else None,
                             kind=r.kind, method=r.method, outcome=r.outcome, ip=r.ip, user_agent=r.user_agent)
            for r in rows]


@router.get("/login-attempts", response_model=Page[LoginAttemptRead], operation_id="list_login_attempts",
            summary="Sign-in history (security audit)")
def list_login_attempts(session: DB, principal: Principal = require("security.login_history"),
                        user_id: IdFilter = None, outcome: str | None = None,
                        since: datetime | None = None, until: datetime | None = None,
                        page: PageNo = 1,
                        page_size: PageSize = 20,
                        sort: str | None = None) -> Page[LoginAttemptRead]:
    """Every attempt with time, IP, device and outcome, filtered and paged on the server."""
    stmt = _attempts(principal, user_id, outcome, since, until, sort)
    result = paginate(session, stmt, PageRequest(page, page_size))
    return Page(items=_attempt_reads(session, list(result.items)), total=result.total, page=result.page,
                page_size=result.page_size)


@router.get("/login-attempts/export", operation_id="export_login_attempts", summary="Sign-in history as .xlsx",
            response_class=Response, responses=XLSX_RESPONSES)
def export_login_attempts(session: DB, meta: Meta, principal: Principal = require("security.login_history"),
                          user_id: IdFilter = None, outcome: str | None = None,
                          since: datetime | None = None, until: datetime | None = None,
                          sort: str | None = None) -> Response:
    """The filtered rows (all pages) as an Excel workbook."""
    rows = _attempt_reads(session, all_rows(session, _attempts(principal, user_id, outcome, since, until, sort)))
    return xlsx_response("login-attempts", ATTEMPT_COLUMNS, [r.model_dump() for r in rows], meta.language)
