"""Sessions: opaque bearer tokens with idle and absolute expiry.

A session starts on every successful authentication with a new token (ASVS
7.2.4). It ends when idle longer than the idle timeout, at its absolute
lifetime, on logout, and for every session of the user on password change,
lock, disable and second-factor reset. Staff sessions are short (30 minutes
idle, 12 hours absolute by default); borrower sessions on their own phones
are longer (7 days idle, 30 days absolute). `authenticate` also refreshes the
idle timer, at most once a minute, so reading does not write on every request;
`cached` answers reads from the process's principal cache (`principals`), and
`view`/`keep_view` keep a read's whole answer with the token's cached principal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from microcredit.audit import service as audit
from microcredit.errors import NotAuthenticated, NotFound
from microcredit.identity import repository as repo
from microcredit.identity.errors import ReauthenticationRequired, SessionExpired
from microcredit.identity.models import User, UserSession
from microcredit.identity.permissions import DataScope
from microcredit.identity.principal import Principal
from microcredit.identity.service.kit import IdentityKit
from microcredit.identity.tokens import new_token, token_hash
from microcredit.platform.actor import RequestMeta

TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class IssuedSession:
    """A new session: the token (shown once) and when it ends."""

    token: str
    session_id: int
    user_id: int
    stage: str
    idle_expires_at: datetime
    absolute_expires_at: datetime


def _lifetimes(kit: IdentityKit, kind: str) -> tuple[timedelta, timedelta]:
    sec = kit.policy
    if kind == "borrower":
        return (timedelta(minutes=sec.borrower_session_idle_minutes),
                timedelta(hours=sec.borrower_session_absolute_hours))
    return timedelta(minutes=sec.session_idle_minutes), timedelta(hours=sec.session_absolute_hours)


def start_session(*, session: Session, kit: IdentityKit, user: User, method: str, meta: RequestMeta,
                  stage: str = "full") -> IssuedSession:
    """Open a session for `user` and return its token."""
    now = kit.clock.now()
    idle, absolute = _lifetimes(kit, user.kind)
    token = new_token()
    row = UserSession(
        user_id=user.id, token_hash=token_hash(token), auth_method=method, stage=stage,
        created_at=now, last_seen_at=now, idle_expires_at=min(now + idle, now + absolute),
        absolute_expires_at=now + absolute, reauthenticated_at=now, ip=meta.ip,
        user_agent=(meta.user_agent or "")[:255] or None,
    )
    session.add(row)
    user.last_login_at = now
    session.flush()
    return IssuedSession(token, row.id, user.id, stage, row.idle_expires_at, row.absolute_expires_at)


def authenticate(*, session: Session, kit: IdentityKit, token: str, meta: RequestMeta,
                 touch: bool = True) -> Principal:
    """The principal behind a bearer token, or `NotAuthenticated`/`SessionExpired`.

    With `touch=False` the idle timer is not refreshed here; the principal's
    `touch_due` tells the caller to call `touch` in a write transaction.
    """
    if not token or len(token) > 200:
        raise NotAuthenticated()
    hashed = token_hash(token)
    mark = kit.principals.mark() if kit.principals is not None else 0
    found = repo.session_and_user_by_token_hash(session, hashed)  # every request that writes resolves anew
    if found is None:
        raise NotAuthenticated()
    row, user = found
    now = kit.clock.now()
    if row.revoked_at is not None or row.idle_expires_at <= now or row.absolute_expires_at <= now:
        raise SessionExpired()
    if user is None or user.status != "active":
        raise SessionExpired()
    touch_due = now - row.last_seen_at >= TOUCH_EVERY
    if touch_due and touch:
        _touch(kit, row, user.kind)
        session.flush()
    roles: dict[int, tuple[str, str]] = {}  # role id -> (code, data scope), in the order of the codes
    permissions: set[str] = set()
    for role_id, code, data_scope, permission in repo.grants_of(session, user.id):
        roles[role_id] = (code, data_scope)
        if permission is not None:
            permissions.add(permission)
    scope = max((DataScope(s) for _, s in roles.values()), key=lambda s: s.rank, default=DataScope.OWN)
    if user.kind == "borrower":
        scope = DataScope.OWN  # a borrower never sees beyond their own records
    principal = Principal(
        user_id=user.id, kind=user.kind, institution_id=user.institution_id, branch_id=user.branch_id,
        display_name=user.display_name, session_id=row.id, permissions=frozenset(permissions),
        roles=tuple(code for code, _ in roles.values()), scope=scope, stage=row.stage,
        reauthenticated_at=row.reauthenticated_at, meta=meta, touch_due=touch_due and not touch,
    )
    if kit.principals is not None and not touch_due:
        kit.principals.put(hashed, principal, mark=mark, last_seen_at=row.last_seen_at,
                           idle_expires_at=row.idle_expires_at, absolute_expires_at=row.absolute_expires_at)
    return principal


def caching(*, kit: IdentityKit) -> bool:
    """Whether this process keeps principals for reads (`cached`) at all."""
    return kit.principals is not None and kit.principals.enabled


def cached(*, kit: IdentityKit, token: str, meta: RequestMeta) -> Principal | None:
    """The principal behind `token` from the process's cache, for a read; None to `authenticate`."""
    if kit.principals is None or not kit.principals.enabled or not token or len(token) > 200:
        return None
    return kit.principals.get(token_hash(token), meta)


def view(*, kit: IdentityKit, token: str, name: str) -> Any | None:
    """The answer `name` kept with this token's cached principal (`principals`), or None: build it."""
    if kit.principals is None or not kit.principals.enabled or not token or len(token) > 200:
        return None
    return kit.principals.view(token_hash(token), name)


def view_mark(*, kit: IdentityKit) -> tuple[int, datetime]:
    """What to take before reading the rows of a view: the cache's change mark and the time."""
    return (kit.principals.mark() if kit.principals is not None else 0), kit.clock.now()


def keep_view(*, kit: IdentityKit, token: str, name: str, value: Any, principal: Principal,
              mark: tuple[int, datetime]) -> bool:
    """Keep `value`, built for `principal` from rows read after `mark` (`view_mark`), as the answer `name` for
    this token's later reads -- unless the token's principal or anything the view shows changed meanwhile
    (`principals.PrincipalCache.keep_view`)."""
    if kit.principals is None or not kit.principals.enabled or not token or len(token) > 200:
        return False
    return kit.principals.keep_view(token_hash(token), name, value, principal=principal, mark=mark[0],
                                    read_at=mark[1])


def _touch(kit: IdentityKit, row: UserSession, kind: str) -> None:
    now = kit.clock.now()
    idle, _ = _lifetimes(kit, kind)
    row.last_seen_at = now
    row.idle_expires_at = min(now + idle, row.absolute_expires_at)


def touch(*, session: Session, kit: IdentityKit, principal: Principal) -> None:
    """Refresh the idle timer of the caller's session (still live: not revoked meanwhile)."""
    row = repo.get_user_session(session, principal.session_id)
    if row is not None and row.revoked_at is None:
        _touch(kit, row, principal.kind)
        session.flush()


def logout(*, session: Session, kit: IdentityKit, principal: Principal) -> None:
    """End the caller's session."""
    row = repo.get_user_session(session, principal.session_id)
    if row is not None and row.revoked_at is None:
        row.revoked_at = kit.clock.now()
        row.revoked_reason = "logout"
        session.flush()


def revoke_all(*, session: Session, kit: IdentityKit, user_id: int, reason: str,
               keep_session_id: int | None = None) -> int:
    """End every session of a user (password change, lock, disable...)."""
    return repo.revoke_sessions(session, user_id=user_id, now=kit.clock.now(), reason=reason,
                                keep_session_id=keep_session_id)


def require_recent_auth(*, kit: IdentityKit, principal: Principal, field: str | None = "current_password") -> None:
    """Refuse unless the caller authenticated within the re-authentication window.

    `field` names the form field that would fix it (None for an account without
    a password, which must sign in again instead).
    """
    window = timedelta(minutes=kit.policy.reauth_window_minutes)
    if principal.reauthenticated_at is None or kit.clock.now() - principal.reauthenticated_at > window:
        raise ReauthenticationRequired(field=field)


def mark_reauthenticated(*, session: Session, kit: IdentityKit, principal: Principal) -> None:
    """Note that the caller just proved their password."""
    row = repo.get_user_session(session, principal.session_id)
    if row is not None:
        row.reauthenticated_at = kit.clock.now()
        session.flush()


def live_sessions(*, session: Session, kit: IdentityKit, user_id: int) -> list[UserSession]:
    """A user's sessions that have not ended."""
    return repo.live_sessions(session, user_id=user_id, now=kit.clock.now())


def end_own_session(*, session: Session, kit: IdentityKit, principal: Principal, session_id: int) -> None:
    """End one of the caller's own sessions (e.g. a lost phone), by its id."""
    row = repo.get_user_session(session, session_id)
    if row is None or row.user_id != principal.user_id:
        raise NotFound()
    if row.revoked_at is None:
        row.revoked_at = kit.clock.now()
        row.revoked_reason = "ended_by_user"
        session.flush()
        audit.record(session=session, clock=kit.clock, actor=principal.actor, action="user.session_ended",
                     entity_type="user", entity_id=principal.user_id,
                     after={"session_id": session_id, "ip": row.ip, "user_agent": row.user_agent})
