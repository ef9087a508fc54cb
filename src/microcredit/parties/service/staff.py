"""Staff: employees, their sign-in accounts, roles, branch, and account care.

An administrator never chooses a staff member's password (ASVS 6.4.6): a new
employee signs in the first time with an SMS code to their own phone and may
then set a password; roles that require it make them enrol TOTP first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from microcredit.audit import service as audit
from microcredit.errors import NotFound, PermissionDenied
from microcredit.identity import scope
from microcredit.identity import service as identity
from microcredit.identity.principal import Principal
from microcredit.parties import repository as repo
from microcredit.parties.errors import CodeTaken, NothingToChange
from microcredit.parties.models import StaffMember
from microcredit.parties.service import organisation
from microcredit.platform.actor import Actor
from microcredit.platform.paging import PageRequest, PageResult, all_rows, order_by, paginate

STAFF_SORTS = {"name": StaffMember.name, "employee_number": StaffMember.employee_number,
               "created_at": StaffMember.created_at}


@dataclass(frozen=True)
class StaffView:
    """A staff member with their account's state."""

    staff: StaffMember
    account: identity.accounts.Account
    roles: list[str]
    locked: bool


def _view(session: Session, kit: identity.IdentityKit, staff: StaffMember,
          account: identity.accounts.Account) -> StaffView:
    locked = identity.accounts.locked_until(session=session, kit=kit, user_id=account.id) is not None
    roles = identity.roles.role_codes_of_users(session=session, user_ids=[account.id])[account.id]
    return StaffView(staff=staff, account=account, roles=roles, locked=locked)


def _refreshed(session: Session, kit: identity.IdentityKit, view: StaffView) -> StaffView:
    return _view(session, kit, view.staff, identity.accounts.get_account(session=session, user_id=view.account.id))


def create_staff(*, session: Session, kit: identity.IdentityKit, principal: Principal, institution_id: int | None,
                 name: str, employee_number: str, phone: str, roles: tuple[str, ...],
                 branch_id: int | None = None, position: str | None = None,
                 email: str | None = None) -> StaffView:
    """A new employee with a sign-in account (no password: first sign-in by SMS code)."""
    inst_id = scope.institution_for_write(principal, institution_id)
    organisation.institution(session=session, institution_id=inst_id)
    organisation.branch_in_institution(session=session, institution_id=inst_id, branch_id=branch_id)
    if repo.staff_by_employee_number(session, institution_id=inst_id, number=employee_number) is not None:
        raise CodeTaken(field="employee_number")
    user = identity.accounts.create_user(session=session, kit=kit, institution_id=inst_id, kind="staff",
                                         phone=phone, display_name=name, password=None, branch_id=branch_id,
                                         role_codes=roles)
    staff = add_staff_record(session=session, kit=kit, actor=principal.actor, user=user, name=name,
                             employee_number=employee_number, position=position, email=email)
    return _view(session, kit, staff, user)


def add_staff_record(*, session: Session, kit: identity.IdentityKit, actor: Actor,
                     user: identity.accounts.Account, name: str,
                     employee_number: str, position: str | None = None, email: str | None = None) -> StaffMember:
    """The staff record of an existing staff user (audited)."""
    if repo.staff_by_employee_number(session, institution_id=user.institution_id, number=employee_number):
        raise CodeTaken(field="employee_number")
    staff = StaffMember(user_id=user.id, institution_id=user.institution_id, name=name,
                        employee_number=employee_number, position=position, email=email,
                        created_at=kit.clock.now())
    session.add(staff)
    session.flush()
    roles = identity.roles.role_codes_of_users(session=session, user_ids=[user.id])[user.id]
    audit.record(session=session, clock=kit.clock, actor=actor, action="staff.created", entity_type="staff",
                 entity_id=staff.id, institution_id=user.institution_id,
                 after={"name": name, "employee_number": employee_number, "branch_id": user.branch_id,
                        "roles": roles, "position": position})
    return staff


def get_staff(*, session: Session, kit: identity.IdentityKit, principal: Principal, staff_id: int) -> StaffView:
    """A staff member the caller may see."""
    staff = repo.get_staff(session, staff_id)
    if staff is None:
        raise NotFound()
    account = identity.accounts.get_account(session=session, user_id=staff.user_id)
    scope.ensure_visible(principal, institution_id=staff.institution_id, branch_id=account.branch_id)
    return _view(session, kit, staff, account)


def staff_of_user(*, session: Session, user_id: int) -> StaffMember | None:
    """The staff record of a user, if they are staff."""
    return repo.staff_by_user(session, user_id)


def list_staff(*, session: Session, kit: identity.IdentityKit, principal: Principal, page: PageRequest,
               q: str | None = None, branch_id: int | None = None, role: str | None = None,
               locked: bool = False, export: bool = False) -> PageResult[StaffView] | list[StaffView]:
    """Staff in the caller's scope, searchable by name, number, position; by branch, role, locked out now."""
    f = scope.filters(principal)
    wanted_branch: int | bool | None = f.branch_id
    if branch_id is not None:
        outside = f.branch_id is not False and f.branch_id != branch_id
        wanted_branch = -1 if outside else branch_id  # -1: outside the caller's scope, nothing
    user_ids = identity.accounts.user_ids_matching(session=session, institution_id=f.institution_id,
                                                   kind="staff", branch_id=wanted_branch, role=role)
    if locked:
        locked_ids = set(identity.accounts.locked_user_ids(session=session, kit=kit, institution_id=f.institution_id,
                                                           kind="staff"))
        user_ids = [u for u in user_ids if u in locked_ids]
    stmt = repo.staff_query(institution_id=f.institution_id, user_ids=user_ids, q=q)
    stmt = order_by(stmt, page.sort, STAFF_SORTS, [StaffMember.id])
    if export:
        rows = all_rows(session, stmt)
        users = identity.accounts.accounts_by_ids(session=session, user_ids=[s.user_id for s in rows])
        return [_view(session, kit, s, users[s.user_id]) for s in rows]
    result = paginate(session, stmt, page)
    users = identity.accounts.accounts_by_ids(session=session, user_ids=[s.user_id for s in result.items])
    return PageResult(items=[_view(session, kit, s, users[s.user_id]) for s in result.items],
                      total=result.total, page=result.page, page_size=result.page_size)


def update_staff(*, session: Session, kit: identity.IdentityKit, principal: Principal, staff_id: int,
                 roles: tuple[str, ...] | None = None, branch_id: int | bool | None = False,
                 **values: Any) -> StaffView:
    """Edit name, position, email, branch (`False`: unchanged) and roles (audited)."""
    view = get_staff(session=session, kit=kit, principal=principal, staff_id=staff_id)
    staff, account = view.staff, view.account
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for key, value in values.items():
        if value is not None and getattr(staff, key) != value:
            before[key], after[key] = getattr(staff, key), value
            setattr(staff, key, value)
    new_branch: int | bool | None = False
    if branch_id is not False and branch_id != account.branch_id:
        new_branch = branch_id if isinstance(branch_id, int) else None
        organisation.branch_in_institution(session=session, institution_id=staff.institution_id,
                                           branch_id=new_branch)
        before["branch_id"], after["branch_id"] = account.branch_id, branch_id
    if "name" in after or new_branch is not False:
        account = identity.accounts.update_profile(session=session, user_id=account.id,
                                                   display_name=after.get("name"), branch_id=new_branch)
    if roles is not None and sorted(roles) != sorted(view.roles):
        if account.id == principal.user_id:
            raise PermissionDenied("you cannot change your own roles")
        identity.roles.set_roles(session=session, user_id=account.id, role_codes=roles)
        before["roles"], after["roles"] = view.roles, sorted(roles)
        identity.sessions.revoke_all(session=session, kit=kit, user_id=account.id, reason="roles_changed")
    if not after:
        raise NothingToChange()
    session.flush()
    audit.record(session=session, clock=kit.clock, actor=principal.actor, action="staff.updated",
                 entity_type="staff", entity_id=staff.id, institution_id=staff.institution_id,
                 before=before, after=after)
    return _view(session, kit, staff, account)


def set_active(*, session: Session, kit: identity.IdentityKit, principal: Principal, staff_id: int,
               active: bool) -> StaffView:
    """Disable (ending all sessions) or re-enable a staff account."""
    view = get_staff(session=session, kit=kit, principal=principal, staff_id=staff_id)
    identity.accounts.set_status(session=session, kit=kit, actor=principal, user_id=view.account.id, active=active)
    return _refreshed(session, kit, view)


def unlock(*, session: Session, kit: identity.IdentityKit, principal: Principal, staff_id: int) -> StaffView:
    """Lift a staff member's lockout."""
    view = get_staff(session=session, kit=kit, principal=principal, staff_id=staff_id)
    identity.accounts.unlock(session=session, kit=kit, actor=principal, user_id=view.account.id)
    return _refreshed(session, kit, view)


def reset_second_factor(*, session: Session, kit: identity.IdentityKit, principal: Principal,
                        staff_id: int) -> StaffView:
    """Remove a staff member's TOTP so they enrol again."""
    view = get_staff(session=session, kit=kit, principal=principal, staff_id=staff_id)
    identity.accounts.reset_totp(session=session, kit=kit, actor=principal, user_id=view.account.id)
    return _refreshed(session, kit, view)


def end_sessions(*, session: Session, kit: identity.IdentityKit, principal: Principal, staff_id: int) -> StaffView:
    """End every session of a staff member (a lost laptop, a departure)."""
    view = get_staff(session=session, kit=kit, principal=principal, staff_id=staff_id)
    identity.accounts.end_sessions(session=session, kit=kit, actor=principal, user_id=view.account.id)
    return _refreshed(session, kit, view)
