"""Every query of the identity domain."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.orm import Session

from microcredit.db.rows import columns_by_id
from microcredit.identity.models import (
    LoginAttempt,
    LoginThrottle,
    OAuthFlow,
    OAuthIdentity,
    PendingLogin,
    Role,
    RolePermission,
    SmsCode,
    User,
    UserRole,
    UserSession,
)


def add(session: Session, row: Any) -> None:
    """Add a new row of identity's tables and flush it (so it has its id)."""
    session.add(row)
    session.flush()


def get_role(session: Session, role_id: int) -> Role | None:
    """The role with this id."""
    return session.get(Role, role_id)


def get_user_session(session: Session, session_id: int) -> UserSession | None:
    """The session (sign-in) with this id."""
    return session.get(UserSession, session_id)


def get_user(session: Session, user_id: int) -> User | None:
    """The user with this id."""
    return session.get(User, user_id)


def phone_ciphertext(session: Session, user_id: int) -> str | None:
    """The user's encrypted phone number alone (no ORM object), or None for no such user."""
    row = columns_by_id(session, User, user_id, ("phone_ciphertext",))
    return None if row is None else str(row.phone_ciphertext)


def user_by_phone(session: Session, *, institution_id: int, kind: str, phone_index: str) -> User | None:
    """The user of `kind` with this phone in the institution."""
    return session.scalar(
        select(User).where(
            User.institution_id == institution_id, User.kind == kind, User.phone_index == phone_index
        )
    )


def users_by_ids(session: Session, ids: Sequence[int]) -> dict[int, User]:
    """Users by id."""
    if not ids:
        return {}
    return {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids)))}


def display_names_by_ids(session: Session, ids: Sequence[int]) -> dict[int, str]:
    """Users' display names by id (the two columns, no entity)."""
    if not ids:
        return {}
    return {uid: name for uid, name in session.execute(select(User.id, User.display_name).where(User.id.in_(ids)))}


def roles_of(session: Session, user_id: int) -> list[Role]:
    """The roles a user holds."""
    return list(
        session.scalars(
            select(Role).join(UserRole, UserRole.role_id == Role.id).where(UserRole.user_id == user_id)
            .order_by(Role.code)
        )
    )


def role_codes_of_users(session: Session, user_ids: Sequence[int]) -> dict[int, list[str]]:
    """Role codes per user, for lists."""
    out: dict[int, list[str]] = {uid: [] for uid in user_ids}
    if not user_ids:
        return out
    rows = session.execute(
        select(UserRole.user_id, Role.code).join(Role, Role.id == UserRole.role_id)
        .where(UserRole.user_id.in_(user_ids)).order_by(Role.code)
    )
    for uid, code in rows:
        out[uid].append(code)
    return out


def permissions_of_roles(session: Session, role_ids: Sequence[int]) -> set[str]:
    """The union of the permissions granted by the roles."""
    if not role_ids:
        return set()
    return set(session.scalars(select(RolePermission.permission).where(RolePermission.role_id.in_(role_ids))))


def permissions_by_role(session: Session, role_ids: Sequence[int]) -> dict[int, list[str]]:
    """Each role's permissions."""
    out: dict[int, list[str]] = {rid: [] for rid in role_ids}
    if role_ids:
        for rid, perm in session.execute(
            select(RolePermission.role_id, RolePermission.permission)
            .where(RolePermission.role_id.in_(role_ids)).order_by(RolePermission.permission)
        ):
            out[rid].append(perm)
    return out


def role_by_code(session: Session, *, institution_id: int, code: str) -> Role | None:
    """A role of the institution by its code."""
    return session.scalar(select(Role).where(Role.institution_id == institution_id, Role.code == code))


def list_roles(session: Session, *, institution_id: int) -> list[Role]:
    """All roles of an institution."""
    return list(session.scalars(select(Role).where(Role.institution_id == institution_id).order_by(Role.id)))


def set_role_permissions(session: Session, role: Role, permissions: Sequence[str]) -> None:
    """Replace the role's permissions."""
    session.execute(delete(RolePermission).where(RolePermission.role_id == role.id))
    session.add_all(RolePermission(role_id=role.id, permission=p) for p in sorted(set(permissions)))


def set_user_roles(session: Session, user_id: int, role_ids: Sequence[int]) -> None:
    """Replace the user's roles."""
    session.execute(delete(UserRole).where(UserRole.user_id == user_id))
    session.add_all(UserRole(user_id=user_id, role_id=r) for r in sorted(set(role_ids)))
    session.flush()


def count_users_with_role(session: Session, role_id: int) -> int:
    """How many users hold the role."""
    return session.scalar(select(func.count()).select_from(UserRole).where(UserRole.role_id == role_id)) or 0


def session_by_token_hash(session: Session, token_hash: str) -> UserSession | None:
    """The session whose token hashes to `token_hash`."""
    return session.scalar(select(UserSession).where(UserSession.token_hash == token_hash))


def session_and_user_by_token_hash(session: Session, token_hash: str) -> tuple[UserSession, User | None] | None:
    """The session whose token hashes to `token_hash` and its user (None if the user is gone), in one query."""
    row = session.execute(
        select(UserSession, User).outerjoin(User, User.id == UserSession.user_id)
        .where(UserSession.token_hash == token_hash)
    ).first()
    return None if row is None else (row[0], row[1])


def grants_of(session: Session, user_id: int) -> list[tuple[int, str, str, str | None]]:
    """The roles a user holds with their permissions, in one query: (role id, code, data scope, permission
    or None for a role granting nothing) rows, ordered by role code."""
    return [
        (role_id, code, scope, permission)
        for role_id, code, scope, permission in session.execute(
            select(Role.id, Role.code, Role.data_scope, RolePermission.permission)
            .join(UserRole, UserRole.role_id == Role.id)
            .outerjoin(RolePermission, RolePermission.role_id == Role.id)
            .where(UserRole.user_id == user_id)
            .order_by(Role.code, Role.id)
        )
    ]


def revoke_sessions(session: Session, *, user_id: int, now: datetime, reason: str,
                    keep_session_id: int | None = None) -> int:
    """End every live session of a user (but `keep_session_id`)."""
    stmt = (
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
    )
    if keep_session_id is not None:
        stmt = stmt.where(UserSession.id != keep_session_id)
    result = session.execute(stmt)
    session.execute(
        update(PendingLogin)
        .where(PendingLogin.user_id == user_id, PendingLogin.consumed_at.is_(None))
        .values(consumed_at=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def live_sessions(session: Session, *, user_id: int, now: datetime) -> list[UserSession]:
    """Sessions of a user that have not ended."""
    return list(session.scalars(
        select(UserSession).where(
            UserSession.user_id == user_id, UserSession.revoked_at.is_(None),
            UserSession.absolute_expires_at > now, UserSession.idle_expires_at > now,
        ).order_by(UserSession.id.desc())
    ))


def pending_login_by_token_hash(session: Session, token_hash: str) -> PendingLogin | None:
    """A password-verified login waiting for its second factor."""
    return session.scalar(select(PendingLogin).where(PendingLogin.token_hash == token_hash))


def throttle(session: Session, *, institution_id: int, kind: str, identifier_index: str,
             create: bool) -> LoginThrottle | None:
    """The failure counter of a sign-in identifier, created on demand (row-locked where possible)."""
    stmt = select(LoginThrottle).where(
        LoginThrottle.institution_id == institution_id, LoginThrottle.kind == kind,
        LoginThrottle.identifier_index == identifier_index,
    ).with_for_update()
    row = session.scalar(stmt)
    if row is None and create:
        row = LoginThrottle(institution_id=institution_id, kind=kind,
                            identifier_index=identifier_index, failures=0)
        session.add(row)
        session.flush()
    return row


def _locked_users(stmt: Select[Any], *, institution_id: int | None, now: datetime, kind: str | None,
                  branch_id: int | bool | None) -> Select[Any]:
    stmt = (stmt.select_from(LoginThrottle)
            .join(User, (User.institution_id == LoginThrottle.institution_id) & (User.kind == LoginThrottle.kind)
                  & (User.phone_index == LoginThrottle.identifier_index))
            .where(LoginThrottle.locked_until > now))
    if institution_id is not None:
        stmt = stmt.where(LoginThrottle.institution_id == institution_id)
    if kind is not None:
        stmt = stmt.where(User.kind == kind)
    if branch_id is not False:
        stmt = stmt.where(User.branch_id == branch_id)
    return stmt


def count_locked_users(session: Session, *, institution_id: int | None, now: datetime, kind: str | None = None,
                       branch_id: int | bool | None = False) -> int:
    """Accounts (of `kind`, or any) whose phone is locked out now (one institution, or all; `branch_id=False`:
    any branch)."""
    stmt = _locked_users(select(func.count(func.distinct(User.id))), institution_id=institution_id, now=now,
                         kind=kind, branch_id=branch_id)
    return session.scalar(stmt) or 0


def locked_user_ids(session: Session, *, institution_id: int | None, now: datetime, kind: str) -> list[int]:
    """Ids of the accounts of `kind` whose phone is locked out now (one institution, or all)."""
    stmt = _locked_users(select(User.id).distinct(), institution_id=institution_id, now=now, kind=kind,
                         branch_id=False)
    return list(session.scalars(stmt))


def throttles_for(session: Session, *, institution_id: int, kind: str,
                  identifier_indexes: Sequence[str]) -> dict[str, LoginThrottle]:
    """Throttle rows by identifier, for showing lock state in lists."""
    if not identifier_indexes:
        return {}
    rows = session.scalars(select(LoginThrottle).where(
        LoginThrottle.institution_id == institution_id, LoginThrottle.kind == kind,
        LoginThrottle.identifier_index.in_(identifier_indexes)))
    return {r.identifier_index: r for r in rows}


def add_attempt(session: Session, attempt: LoginAttempt) -> None:
    """Record a sign-in attempt."""
    session.add(attempt)
    session.flush()


def attempts_query(*, institution_id: int | None, user_id: int | None = None,
                   outcome: str | None = None, since: datetime | None = None,
                   until: datetime | None = None) -> Select[Any]:
    """Sign-in attempts filtered (the caller paginates and sorts)."""
    stmt = select(LoginAttempt)
    if institution_id is not None:
        stmt = stmt.where(LoginAttempt.institution_id == institution_id)
    if user_id is not None:
        stmt = stmt.where(LoginAttempt.user_id == user_id)
    if outcome:
        stmt = stmt.where(LoginAttempt.outcome == outcome)
    if since is not None:
        stmt = stmt.where(LoginAttempt.at >= since)
    if until is not None:
        stmt = stmt.where(LoginAttempt.at < until)
    return stmt


def latest_sms_code(session: Session, *, phone_index: str, purpose: str) -> SmsCode | None:
    """The newest unconsumed code for a phone and purpose (row-locked where possible)."""
    return session.scalar(
        select(SmsCode).where(SmsCode.phone_index == phone_index, SmsCode.purpose == purpose,
                              SmsCode.consumed_at.is_(None))
        .order_by(SmsCode.id.desc()).limit(1).with_for_update()
    )


def retire_sms_codes(session: Session, *, phone_index: str, purpose: str, now: datetime) -> None:
    """Mark the earlier codes of a phone and purpose as used up."""
    session.execute(
        update(SmsCode).where(SmsCode.phone_index == phone_index, SmsCode.purpose == purpose,
                              SmsCode.consumed_at.is_(None)).values(consumed_at=now)
    )


def oauth_identity(session: Session, *, institution_id: int, provider: str, subject: str) -> OAuthIdentity | None:
    """The link of a third-party account, if any."""
    return session.scalar(select(OAuthIdentity).where(
        OAuthIdentity.institution_id == institution_id, OAuthIdentity.provider == provider,
        OAuthIdentity.subject == subject))


def account_rows(session: Session, user_id: int) -> list[Any]:
    """A user's account columns and phone ciphertext, one row per linked provider (`provider` None: none).

    One statement and no ORM rows built, for the signed-in user's own page (`/auth/me`), which
    otherwise read the user row and its linked providers in two.
    """
    stmt = (select(User.id, User.institution_id, User.kind, User.branch_id, User.display_name, User.status,
                   User.totp_enabled, User.password_hash.is_not(None).label("has_password"), User.last_login_at,
                   User.created_at, User.phone_ciphertext, OAuthIdentity.provider)
            .outerjoin(OAuthIdentity, OAuthIdentity.user_id == User.id).where(User.id == user_id))
    return list(session.execute(stmt).all())


def oauth_providers_of(session: Session, user_id: int) -> list[str]:
    """The providers of the third-party accounts linked to a user (the column only, no rows built)."""
    return list(session.scalars(select(OAuthIdentity.provider).where(OAuthIdentity.user_id == user_id)))


def oauth_flow_by_state(session: Session, state_hash: str) -> OAuthFlow | None:
    """The flow started with this state."""
    return session.scalar(select(OAuthFlow).where(OAuthFlow.state_hash == state_hash).with_for_update())


def oauth_flow_by_ticket(session: Session, ticket_hash: str) -> OAuthFlow | None:
    """The flow that issued this ticket."""
    return session.scalar(select(OAuthFlow).where(OAuthFlow.ticket_hash == ticket_hash).with_for_update())


def user_ids_matching(session: Session, *, institution_id: int | None, kind: str,
                      branch_id: int | bool | None = False, role: str | None = None) -> list[int]:
    """Ids of users by institution, kind, branch (False: any) and role code."""
    stmt = select(User.id).where(User.kind == kind)
    if institution_id is not None:
        stmt = stmt.where(User.institution_id == institution_id)
    if branch_id is not False:
        stmt = stmt.where(User.branch_id == branch_id)
    if role:
        stmt = stmt.join(UserRole, UserRole.user_id == User.id).join(Role, Role.id == UserRole.role_id) \
            .where(Role.code == role)
    return list(session.scalars(stmt))


def user_ids_by_phone_index(session: Session, *, phone_index: str, kind: str) -> list[int]:
    """Ids of users of `kind` whose phone has this blind index."""
    return list(session.scalars(select(User.id).where(User.phone_index == phone_index, User.kind == kind)))


def purge_expired(session: Session, *, short_lived_before: datetime, sessions_ended_before: datetime
                  ) -> dict[str, int]:
    """Delete codes, OAuth flows and pending logins expired before one time; sessions ended before another."""
    statements = {
        "sms_codes": delete(SmsCode).where(SmsCode.expires_at < short_lived_before),
        "oauth_flows": delete(OAuthFlow).where(OAuthFlow.expires_at < short_lived_before),
        "pending_logins": delete(PendingLogin).where(PendingLogin.expires_at < short_lived_before),
        "user_sessions": delete(UserSession).where(
            (UserSession.absolute_expires_at < sessions_ended_before)
            | (UserSession.revoked_at < sessions_ended_before)),
    }
    return {name: int(session.execute(stmt).rowcount or 0)  # type: ignore[attr-defined]
            for name, stmt in statements.items()}


def role_names(session: Session, role_ids: Sequence[int]) -> dict[int, tuple[str, str]]:
    """(Chinese name, English name) of roles by id."""
    if not role_ids:
        return {}
    rows = session.execute(select(Role.id, Role.name_zh, Role.name_en).where(Role.id.in_(set(role_ids))))
    return {rid: (zh, en) for rid, zh, en in rows}


def active_staff_holding(session: Session, *, institution_id: int, permission: str,
                         branch_id: int | bool | None = False) -> list[User]:
    """Active staff of the institution whose roles grant `permission` (`branch_id` False: any branch)."""
    stmt = (select(User).join(UserRole, UserRole.user_id == User.id)
            .join(RolePermission, RolePermission.role_id == UserRole.role_id)
            .where(User.institution_id == institution_id, User.kind == "staff", User.status == "active",
                   RolePermission.permission == permission).distinct().order_by(User.id))
    if branch_id is not False:
        stmt = stmt.where(User.branch_id.is_(None) if branch_id is None else User.branch_id == branch_id)
    return list(session.scalars(stmt))
