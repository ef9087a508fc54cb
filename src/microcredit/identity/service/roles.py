"""Roles: the default set seeded into each institution, and their administration."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from microcredit.audit import service as audit
from microcredit.clock import Clock
from microcredit.errors import Conflict, NotFound
from microcredit.identity import repository as repo
from microcredit.identity.errors import UnknownPermission, UnknownRole
from microcredit.identity.models import Role, User
from microcredit.identity.permissions import DEFAULT_ROLES, PERMISSION_CODES, DataScope
from microcredit.identity.principal import Principal


def seed_default_roles(*, session: Session, institution_id: int, platform: bool = False) -> list[Role]:
    """Create the default roles of a new institution (idempotent).

    In the platform operator's institution (`platform=True`) the administrator
    role sees every institution; elsewhere it sees its own.
    """
    created: list[Role] = []
    for template in DEFAULT_ROLES:
        if repo.role_by_code(session, institution_id=institution_id, code=template.code) is not None:
            continue
        scope = DataScope.ALL if platform and template.code == "administrator" else template.scope
        role = Role(institution_id=institution_id, code=template.code, name_zh=template.zh,
                    name_en=template.en, data_scope=scope.value, requires_mfa=template.requires_mfa,
                    is_system=True)
        session.add(role)
        session.flush()
        repo.set_role_permissions(session, role, template.permissions)
        created.append(role)
    session.flush()
    return created


def set_roles(*, session: Session, user_id: int, role_codes: Iterable[str]) -> list[str]:
    """Give a user exactly these roles (codes of the user's institution); returns the codes."""
    user = repo.get_user(session, user_id)
    if user is None:
        raise NotFound()
    return [r.code for r in assign_roles(session=session, user=user, role_codes=role_codes)]


def assign_roles(*, session: Session, user: User, role_codes: Iterable[str]) -> list[Role]:
    """Give `user` exactly these roles (codes of the user's institution)."""
    roles: list[Role] = []
    for code in role_codes:
        role = repo.role_by_code(session, institution_id=user.institution_id, code=code)
        if role is None:
            raise UnknownRole(field="roles", params={"role": code})
        if (user.kind == "borrower") != (code == "borrower"):
            raise UnknownRole(field="roles", params={"role": code})
        roles.append(role)
    repo.set_user_roles(session, user.id, [r.id for r in roles])
    return roles


def _check_permissions(permissions: Iterable[str]) -> list[str]:
    perms = sorted(set(permissions))
    for p in perms:
        if p not in PERMISSION_CODES:
            raise UnknownPermission(field="permissions", params={"permission": p})
    return perms


def get_role(*, session: Session, institution_id: int, role_id: int) -> Role:
    """A role of the institution, or NotFound."""
    role = repo.get_role(session, role_id)
    if role is None or role.institution_id != institution_id:
        raise NotFound()
    return role


def list_roles(*, session: Session, institution_id: int) -> list[tuple[Role, list[str]]]:
    """Roles with their permissions."""
    roles = repo.list_roles(session, institution_id=institution_id)
    perms = repo.permissions_by_role(session, [r.id for r in roles])
    return [(r, perms[r.id]) for r in roles]


def permissions_of(*, session: Session, role: Role) -> list[str]:
    """One role's permissions."""
    return repo.permissions_by_role(session, [role.id])[role.id]


def create_role(*, session: Session, clock: Clock, actor: Principal, institution_id: int, code: str,
                name_zh: str, name_en: str, data_scope: DataScope, requires_mfa: bool,
                permissions: Iterable[str]) -> Role:
    """A new custom role."""
    if repo.role_by_code(session, institution_id=institution_id, code=code) is not None:
        raise Conflict(field="code")
    if data_scope is DataScope.ALL and not actor.sees_all_institutions:
        raise UnknownRole(field="data_scope", params={"role": code})
    perms = _check_permissions(permissions)
    role = Role(institution_id=institution_id, code=code, name_zh=name_zh, name_en=name_en,
                data_scope=data_scope.value, requires_mfa=requires_mfa, is_system=False)
    session.add(role)
    session.flush()
    repo.set_role_permissions(session, role, perms)
    audit.record(session=session, clock=clock, actor=actor.actor, action="role.created",
                 entity_type="role", entity_id=role.id, institution_id=institution_id,
                 after={"code": code, "scope": data_scope.value, "permissions": perms,
                        "requires_mfa": requires_mfa})
    return role


def update_role(*, session: Session, clock: Clock, actor: Principal, role: Role,
                name_zh: str | None = None, name_en: str | None = None, data_scope: DataScope | None = None,
                requires_mfa: bool | None = None, permissions: Iterable[str] | None = None) -> Role:
    """Change a role's names, scope, second-factor rule or permissions (audited with before/after)."""
    before = {"name_zh": role.name_zh, "name_en": role.name_en, "scope": role.data_scope,
              "requires_mfa": role.requires_mfa, "permissions": permissions_of(session=session, role=role)}
    # Only its names may change: a second factor borrowers cannot enrol would lock them all out.
    if role.code == "borrower" and (permissions is not None
                                    or (data_scope is not None and data_scope.value != role.data_scope)
                                    or (requires_mfa is not None and requires_mfa != role.requires_mfa)):
        raise Conflict("the borrower role is fixed", field="permissions" if permissions is not None else "role")
    if data_scope is DataScope.ALL and not actor.sees_all_institutions:
        raise UnknownRole(field="data_scope", params={"role": role.code})
    if name_zh is not None:
        role.name_zh = name_zh
    if name_en is not None:
        role.name_en = name_en
    if data_scope is not None:
        role.data_scope = data_scope.value
    if requires_mfa is not None:
        role.requires_mfa = requires_mfa
    if permissions is not None:
        repo.set_role_permissions(session, role, _check_permissions(permissions))
    session.flush()
    after = {"name_zh": role.name_zh, "name_en": role.name_en, "scope": role.data_scope,
             "requires_mfa": role.requires_mfa, "permissions": permissions_of(session=session, role=role)}
    audit.record(session=session, clock=clock, actor=actor.actor, action="role.updated",
                 entity_type="role", entity_id=role.id, institution_id=role.institution_id,
                 before=before, after=after)
    return role


def delete_role(*, session: Session, clock: Clock, actor: Principal, role: Role) -> None:
    """Delete a custom role nobody holds."""
    if role.is_system:
        raise Conflict("system roles cannot be deleted", field="role")
    if repo.count_users_with_role(session, role.id):
        raise Conflict("the role is still assigned", field="role")
    audit.record(session=session, clock=clock, actor=actor.actor, action="role.deleted",
                 entity_type="role", entity_id=role.id, institution_id=role.institution_id,
                 before={"code": role.code})
    repo.set_role_permissions(session, role, [])
    session.delete(role)
    session.flush()


def role_codes_of_users(*, session: Session, user_ids: list[int]) -> dict[int, list[str]]:
    """Role codes per user."""
    return repo.role_codes_of_users(session, user_ids)


def role_names(*, session: Session, role_ids: list[int], language: str) -> dict[int, str]:
    """Role names by id in `language`."""
    return {i: (en if language == "en" else zh) for i, (zh, en) in repo.role_names(session, role_ids).items()}
