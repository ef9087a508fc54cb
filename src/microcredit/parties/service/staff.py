"""Staff: employees, their sign-in accounts, roles, branch, and account care.

An administrator never chooses a staff member's password (ASVS 6.4.6): a new
employee signs in the first time with an SMS code to their own phone and may
then set a password; roles that require it make them enrol TOTP first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from microcredit.audit import service as audit
from microcredit.errors import NotFound, PermissionDenied
from microcredit.identity import service as identity
from microcredit.identity.principal import Principal
from microcredit.parties import repository as repo
from microcredit.parties.errors import CodeTaken, NothingToChange
from microcredit.parties.models import StaffMember
from microcredit.parties.service import organisation, scope
from microcredit.platform.actor import Actor
from microcredit.platform.paging import PageRequest, PageResult, all_rows, order_by, paginate

if TYPE_CHECKING:
    from microcredit.context import AppContext
    from microcredit.identity.models import User

STAFF_SORTS = {"name": StaffMember.name, "employee_number": StaffMember.employee_number,
               "created_at": StaffMember.created_at}


@dataclass(frozen=True)
class StaffView:
    """A staff member with their account's state."""

    staff: StaffMember
    user: User
    roles: list[str]
    locked: bool


def _view(session: Session, ctx: AppContext, staff: StaffMember, user: User) -> StaffView:
    throttle = identity.login.lock_state(session=session, ctx=ctx, user=user)
    locked = bool(throttle and throttle.locked_until and throttle.locked_until > ctx.clock.now())
    roles = identity.roles.role_codes_of_users(session=session, user_ids=[user.id])[user.id]
    return StaffView(staff=staff, user=user, roles=roles, locked=locked)


def create_staff(*, session: Session, ctx: AppContext, principal: Principal, institution_id: int | None,
                 name: str, employee_number: str, phone: str, roles: tuple[str, ...],
                 branch_id: int | None = None, position: str | None = None,
                 email: str | None = None) -> StaffView:
    """A new employee with a sign-in account (no password: first sign-in by SMS code)."""
    inst_id = scope.institution_for_write(principal, institution_id)
    organisation.institution(session=session, institution_id=inst_id)
    organisation.branch_in_institution(session=session, institution_id=inst_id, branch_id=branch_id)
    if repo.staff_by_employee_number(session, institution_id=inst_id, number=employee_number) is not None:
        raise CodeTaken(field="employee_number")
    user = identity.accounts.create_user(session=session, ctx=ctx, institution_id=inst_id, kind="staff",
                                         phone=phone, display_name=name, password=None, branch_id=branch_id,
                                         role_codes=roles)
    staff = add_staff_record(session=session, ctx=ctx, actor=principal.actor, user=user, name=name,
                             employee_number=employee_number, position=position, email=email)
    return _view(session, ctx, staff, user)


def add_staff_record(*, session: Session, ctx: AppContext, actor: Actor, user: User, name: str,
                     employee_number: str, position: str | None = None, email: str | None = None) -> StaffMember:
    """The staff record of an existing staff user (audited)."""
    if repo.staff_by_employee_number(session, institution_id=user.institution_id, number=employee_number):
        raise CodeTaken(field="employee_number")
    staff = StaffMember(user_id=user.id, institution_id=user.institution_id, name=name,
                        employee_number=employee_number, position=position, email=email,
                        created_at=ctx.clock.now())
    session.add(staff)
    session.flush()
    roles = identity.roles.role_codes_of_users(session=session, user_ids=[user.id])[user.id]
    audit.record(session=session, clock=ctx.clock, actor=actor, action="staff.created", entity_type="staff",
                 entity_id=staff.id, institution_id=user.institution_id,
                 after={"name": name, "employee_number": employee_number, "branch_id": user.branch_id,
                        "roles": roles, "position": position})
    return staff


def get_staff(*, session: Session, ctx: AppContext, principal: Principal, staff_id: int) -> StaffView:
    """A staff member the caller may see."""
    staff = session.get(StaffMember, staff_id)
    if staff is None:
        raise NotFound()
    user = identity.accounts.get_user(session=session, user_id=staff.user_id)
    scope.ensure_visible(principal, institution_id=staff.institution_id, branch_id=user.branch_id)
    return _view(session, ctx, staff, user)


def staff_of_user(*, session: Session, user_id: int) -> StaffMember | None:
    """The staff record of a user, if they are staff."""
    return repo.staff_by_user(session, user_id)


def list_staff(*, session: Session, ctx: AppContext, principal: Principal, page: PageRequest,
               q: str | None = None, branch_id: int | None = None, role: str | None = None,
               export: bool = False) -> PageResult[StaffView] | list[StaffView]:
    """Staff in the caller's scope, searchable by name, number, position; by branch and role."""
    f = scope.filters(principal)
    wanted_branch: int | bool | None = f.branch_id
    if branch_id is not None:
        outside = f.branch_id is not False and f.branch_id != branch_id
        wanted_branch = -1 if outside else branch_id  # -1: outside the caller's scope, nothing
    user_ids = identity.accounts.user_ids_matching(session=session, institution_id=f.institution_id,
                                                   kind="staff", branch_id=wanted_branch, role=role)
    stmt = repo.staff_query(institution_id=f.institution_id, user_ids=user_ids, q=q)
    stmt = order_by(stmt, page.sort, STAFF_SORTS, [StaffMember.id])
    if export:
        rows = all_rows(session, stmt)
        users = identity.accounts.users_by_ids(session=session, user_ids=[s.user_id for s in rows])
        return [_view(session, ctx, s, users[s.user_id]) for s in rows]
    result = paginate(session, stmt, page)
    users = identity.accounts.users_by_ids(session=session, user_ids=[s.user_id for s in result.items])
    return PageResult(items=[_view(session, ctx, s, users[s.user_id]) for s in result.items],
                      total=result.total, page=result.page, page_size=result.page_size)


def update_staff(*, session: Session, ctx: AppContext, principal: Principal, staff_id: int,
                 roles: tuple[str, ...] | None = None, branch_id: int | bool | None = False,
                 **values: Any) -> StaffView:
    """Edit name, position, email, branch (`False`: unchanged) and roles (audited)."""
    view = get_staff(session=session, ctx=ctx, principal=principal, staff_id=staff_id)
    staff, user = view.staff, view.user
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for key, value in values.items():
        if value is not None and getattr(staff, key) != value:
            before[key], after[key] = getattr(staff, key), value
            setattr(staff, key, value)
    if "name" in after:
        user.display_name = after["name"]
    if branch_id is not False and branch_id != user.branch_id:
        organisation.branch_in_institution(session=session, institution_id=staff.institution_id,
                                           branch_id=branch_id if isinstance(branch_id, int) else None)
        before["branch_id"], after["branch_id"] = user.branch_id, branch_id
        user.branch_id = branch_id if isinstance(branch_id, int) else None
    if roles is not None and sorted(roles) != sorted(view.roles):
        if user.id == principal.user_id:
            raise PermissionDenied("you cannot change your own roles")
        identity.roles.assign_roles(session=session, user=user, role_codes=roles)
        before["roles"], after["roles"] = view.roles, sorted(roles)
        identity.sessions.revoke_all(session=session, ctx=ctx, user_id=user.id, reason="roles_changed")
    if not after:
        raise NothingToChange()
    session.flush()
    audit.record(session=session, clock=ctx.clock, actor=principal.actor, action="staff.updated",
                 entity_type="staff", entity_id=staff.id, institution_id=staff.institution_id,
                 before=before, after=after)
    return _view(session, ctx, staff, user)


def set_active(*, session: Session, ctx: AppContext, principal: Principal, staff_id: int,
               active: bool) -> StaffView:
    """Disable (ending all sessions) or re-enable a staff account."""
    view = get_staff(session=session, ctx=ctx, principal=principal, staff_id=staff_id)
    identity.accounts.set_status(session=session, ctx=ctx, actor=principal, user=view.user, active=active)
    return _view(session, ctx, view.staff, view.user)


def unlock(*, session: Session, ctx: AppContext, principal: Principal, staff_id: int) -> StaffView:
    """Lift a staff member's lockout."""
    view = get_staff(session=session, ctx=ctx, principal=principal, staff_id=staff_id)
    identity.accounts.unlock(session=session, ctx=ctx, actor=principal, user=view.user)
    return _view(session, ctx, view.staff, view.user)


def reset_second_factor(*, session: Session, ctx: AppContext, principal: Principal,
                        staff_id: int) -> StaffView:
    """Remove a staff member's TOTP so they enrol again."""
    view = get_staff(session=session, ctx=ctx, principal=principal, staff_id=staff_id)
    identity.accounts.reset_totp(session=session, ctx=ctx, actor=principal, user=view.user)
    return _view(session, ctx, view.staff, view.user)


def end_sessions(*, session: Session, ctx: AppContext, principal: Principal, staff_id: int) -> StaffView:
    """End every session of a staff member (a lost laptop, a departure)."""
    view = get_staff(session=session, ctx=ctx, principal=principal, staff_id=staff_id)
    identity.accounts.end_sessions(session=session, ctx=ctx, actor=principal, user=view.user)
    return _view(session, ctx, view.staff, view.user)
