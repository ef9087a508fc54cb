"""Routes of parties: staff members and the care of their accounts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from microcredit.api.deps import (
    DB,
    Kit,
    Meta,
    require,
)
from microcredit.api.exports import XLSX_RESPONSES, xlsx_response
from microcredit.api.params import Id, IdFilter, PageNo, PageSize
from microcredit.identity import service as identity
from microcredit.identity.principal import Principal
from microcredit.parties import service
from microcredit.parties.schemas import (
    StaffCreate,
    StaffRead,
    StaffUpdate,
)
from microcredit.parties.service.staff import StaffView
from microcredit.platform.crypto import mask_phone
from microcredit.platform.export import Column
from microcredit.platform.paging import PageRequest
from microcredit.platform.routing import UnitOfWorkRoute
from microcredit.platform.schema import Page

router = APIRouter(tags=["parties"], route_class=UnitOfWorkRoute)


# --- staff ---------------------------------------------------------------------------

STAFF_COLUMNS = [Column("employee_number", "工号", "Employee no."), Column("name", "姓名", "Name"),
                 Column("position", "职位", "Position"), Column("branch_id", "网点", "Branch"),
                 Column("phone_masked", "手机", "Phone"), Column("roles", "角色", "Roles"),
                 Column("status", "状态", "Status"), Column("locked", "已锁定", "Locked"),
                 Column("last_login_at", "最近登录(UTC)", "Last sign-in (UTC)")]


def _staff_read(session: DB, kit: Kit, v: StaffView) -> StaffRead:
    s, a = v.staff, v.account
    phone = identity.accounts.phone(session=session, kit=kit, user_id=a.id)
    return StaffRead(id=s.id, user_id=a.id, institution_id=s.institution_id, branch_id=a.branch_id, name=s.name,
                     employee_number=s.employee_number, position=s.position, email=s.email,
                     phone_masked=mask_phone(phone), roles=v.roles, status=a.status, locked=v.locked,
                     totp_enabled=a.totp_enabled, last_login_at=a.last_login_at, created_at=s.created_at)


@router.get("/staff", response_model=Page[StaffRead], operation_id="list_staff", summary="Staff")
def list_staff(session: DB, kit: Kit, principal: Principal = require("staff.read"), q: str | None = None,
               branch_id: IdFilter = None, role: str | None = None,
               locked: Annotated[bool, Query(description="Only accounts locked out now")] = False,
               page: PageNo = 1, page_size: PageSize = 20, sort: str | None = None) -> Page[StaffRead]:
    """Staff in scope, searched by name, employee number or position; by branch, role, locked out now."""
    r = service.staff.list_staff(session=session, kit=kit, principal=principal, q=q, branch_id=branch_id,
                                 role=role, locked=locked, page=PageRequest(page, page_size, sort))
    assert not isinstance(r, list)
    return Page(items=[_staff_read(session, kit, v) for v in r.items], total=r.total, page=r.page,
                page_size=r.page_size)


@router.get("/staff/export", operation_id="export_staff", summary="Staff as .xlsx", response_class=Response,
            responses=XLSX_RESPONSES)
def export_staff(session: DB, kit: Kit, meta: Meta, principal: Principal = require("staff.read"),
                 q: str | None = None, branch_id: IdFilter = None, role: str | None = None,
                 locked: bool = False, sort: str | None = None) -> Response:
    """The filtered staff as an Excel workbook."""
    views = service.staff.list_staff(session=session, kit=kit, principal=principal, q=q, branch_id=branch_id,
                                     role=role, locked=locked, page=PageRequest(1, 20, sort), export=True)
    assert isinstance(views, list)
    rows = [{**_staff_read(session, kit, v).model_dump(), "roles": ", ".join(v.roles)} for v in views]
    return xlsx_response("staff", STAFF_COLUMNS, rows, meta.language)


@router.post("/staff", response_model=StaffRead, status_code=201, operation_id="create_staff",
             summary="Create a staff member")
def create_staff(body: StaffCreate, session: DB, kit: Kit, principal: Principal = require("staff.manage")
                 ) -> StaffRead:
    """An employee with a sign-in account; they sign in first with an SMS code (no password is chosen for them)."""
    phone = identity.accounts.parse_phone(body.phone)
    view = service.staff.create_staff(session=session, kit=kit, principal=principal,
                                      institution_id=body.institution_id, name=body.name,
                                      employee_number=body.employee_number, phone=phone,
                                      roles=tuple(body.roles), branch_id=body.branch_id, position=body.position,
                                      email=body.email)
    return _staff_read(session, kit, view)


@router.get("/staff/{staff_id}", response_model=StaffRead, operation_id="get_staff", summary="One staff member")
def get_staff(staff_id: Id, session: DB, kit: Kit, principal: Principal = require("staff.read")) -> StaffRead:
    """A staff member in scope."""
    return _staff_read(session, kit, service.staff.get_staff(session=session, kit=kit, principal=principal,
                                                    staff_id=staff_id))


@router.patch("/staff/{staff_id}", response_model=StaffRead, operation_id="update_staff",
              summary="Change a staff member")
def update_staff(staff_id: Id, body: StaffUpdate, session: DB, kit: Kit,
                 principal: Principal = require("staff.manage")) -> StaffRead:
    """Name, position, e-mail, branch and roles (a role change ends their sessions)."""
    values = body.model_dump(exclude_unset=True)
    roles = values.pop("roles", None)
    branch: int | bool | None = values.pop("branch_id") if "branch_id" in values else False
    view = service.staff.update_staff(session=session, kit=kit, principal=principal, staff_id=staff_id,
                                      roles=tuple(roles) if roles is not None else None, branch_id=branch,
                                      **values)
    return _staff_read(session, kit, view)


@router.post("/staff/{staff_id}/disable", response_model=StaffRead, operation_id="disable_staff",
             summary="Disable a staff account")
def disable_staff(staff_id: Id, session: DB, kit: Kit, principal: Principal = require("staff.manage")
                  ) -> StaffRead:
    """The account can no longer sign in; its sessions end."""
    return _staff_read(session, kit, service.staff.set_active(session=session, kit=kit, principal=principal,
                                                     staff_id=staff_id, active=False))


@router.post("/staff/{staff_id}/enable", response_model=StaffRead, operation_id="enable_staff",
             summary="Re-enable a staff account")
def enable_staff(staff_id: Id, session: DB, kit: Kit, principal: Principal = require("staff.manage")
                 ) -> StaffRead:
    """The account may sign in again."""
    return _staff_read(session, kit, service.staff.set_active(session=session, kit=kit, principal=principal,
                                                     staff_id=staff_id, active=True))


@router.post("/staff/{staff_id}/unlock", response_model=StaffRead, operation_id="unlock_staff",
             summary="Unlock a locked staff account")
def unlock_staff(staff_id: Id, session: DB, kit: Kit, principal: Principal = require("user.unlock")) -> StaffRead:
    """Lifts a lockout after failed sign-ins (audited)."""
    return _staff_read(session, kit, service.staff.unlock(session=session, kit=kit, principal=principal,
                                                          staff_id=staff_id))


@router.post("/staff/{staff_id}/end-sessions", response_model=StaffRead, operation_id="end_staff_sessions",
             summary="End every session of a staff member")
def end_staff_sessions(staff_id: Id, session: DB, kit: Kit, principal: Principal = require("staff.manage")
                       ) -> StaffRead:
    """They are signed out everywhere at once (audited)."""
    return _staff_read(session, kit, service.staff.end_sessions(session=session, kit=kit, principal=principal,
                                                       staff_id=staff_id))


@router.post("/staff/{staff_id}/reset-second-factor", response_model=StaffRead,
             operation_id="reset_staff_second_factor", summary="Reset a staff member's authenticator")
def reset_staff_second_factor(staff_id: Id, session: DB, kit: Kit,
                              principal: Principal = require("staff.manage")) -> StaffRead:
    """They enrol again at their next sign-in; their sessions end."""
    return _staff_read(session, kit, service.staff.reset_second_factor(session=session, kit=kit, principal=principal,
                                                              staff_id=staff_id))


