"""Sign-in: phone + password, phone + SMS code, then the second factor when required.

Brute force is met three ways (ASVS 6.1.1/6.3.1, PCI DSS 8.3.4):

1. **Per identifier** (the phone's blind index, whether or not an account has
   it): after `delay_after_failures` failures each further attempt must wait
   1 s, 2 s, 4 s … after the last one; at `lockout_threshold` failures (5 by
   default, never more than 10) the identifier is locked for `lockout_minutes`
   (30) or until an SMS-verified password reset or a staff unlock. Because the
   counter belongs to the identifier and not to an account, an unknown number
   is delayed and "locked" exactly like a known one: the answers reveal
   nothing about who is registered.
2. **Per IP**: at most `ip_failures_per_hour` failures an hour from one address.
3. **Per request**: the API's rate limit on the login endpoints.

Every attempt — success or not — is written to `login_attempts` with time,
IP, user agent, method and outcome. Failures are errors that keep their
changes, so the trace survives the refusal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import Session

from microcredit.audit import service as audit
from microcredit.identity import repository as repo
from microcredit.identity.errors import (
    AccountDisabled,
    AccountLocked,
    InvalidCredentials,
    InvalidSmsCode,
    InvalidTotp,
    LoginDelayed,
    LoginRateLimited,
)
from microcredit.identity.models import LoginAttempt, LoginThrottle, PendingLogin, User
from microcredit.identity.service import sessions, smscodes, totp
from microcredit.identity.service.kit import IdentityKit
from microcredit.identity.tokens import new_token, token_hash
from microcredit.notifications import service as notifications
from microcredit.platform.actor import Actor, RequestMeta
from microcredit.platform.paging import order_by
from microcredit.platform.ratelimit import Limit
from microcredit.platform.validators import InvalidIdentifier, validate_phone

PENDING_LOGIN_TTL = timedelta(minutes=5)
PENDING_LOGIN_ATTEMPTS = 5


@dataclass(frozen=True)
class LoginResult:
    """Either a session, or a request for the second factor."""

    status: str  # "authenticated" | "mfa_required" | "mfa_enrolment_required"
    session: sessions.IssuedSession | None = None
    mfa_token: str | None = None
    user_id: int | None = None


def _attempt(session: Session, kit: IdentityKit, *, institution_id: int, kind: str, user_id: int | None,
             identifier_index: str | None, method: str, outcome: str, meta: RequestMeta) -> None:
    repo.add_attempt(session, LoginAttempt(
        at=kit.clock.now(), institution_id=institution_id, user_id=user_id, kind=kind,
        identifier_index=identifier_index, method=method, outcome=outcome, ip=meta.ip,
        user_agent=(meta.user_agent or "")[:255] or None,
    ))


def _ip_limit(kit: IdentityKit) -> Limit:
    return Limit(kit.policy.ip_failures_per_hour, 3600)


def _check_gates(session: Session, kit: IdentityKit, throttle: LoginThrottle | None, *,
                 meta: RequestMeta) -> str | None:
    """The outcome that stops this attempt before any check, or None to go on."""
    now = kit.clock.now()
    sec = kit.policy
    if meta.ip:
        hits, _ = kit.limiter.peek(f"login-fail:ip:{meta.ip}", _ip_limit(kit), session=session)
        if hits >= sec.ip_failures_per_hour:
            return "ip_limited"
    if throttle is None:
        return None
    if throttle.locked_until is not None and throttle.locked_until > now:
        return "locked"
    if throttle.failures >= sec.delay_after_failures and throttle.last_failure_at is not None:
        wait = timedelta(seconds=2 ** (throttle.failures - sec.delay_after_failures))
        if now < throttle.last_failure_at + wait:
            return "delayed"
    return None


def _raise_gate(session: Session, outcome: str, throttle: LoginThrottle, kit: IdentityKit,
                meta: RequestMeta) -> None:
    now = kit.clock.now()
    if outcome == "ip_limited":
        _, retry_after = kit.limiter.peek(f"login-fail:ip:{meta.ip}", _ip_limit(kit), session=session)
        raise LoginRateLimited(retry_after)
    if outcome == "locked":
        assert throttle.locked_until is not None
        until = throttle.locked_until
        minutes = max(1, int((until - now).total_seconds() + 59) // 60)
        raise AccountLocked(params={"minutes": minutes}, extra={"locked_until": until.isoformat()})
    sec = kit.policy
    assert throttle.last_failure_at is not None
    wait = throttle.last_failure_at + timedelta(seconds=2 ** (throttle.failures - sec.delay_after_failures))
    retry = max(1, int((wait - now).total_seconds() + 0.999))
    raise LoginDelayed(params={"retry_after": retry}, headers={"Retry-After": str(retry)},
                       extra={"retry_after": retry})


def _record_failure(session: Session, kit: IdentityKit, throttle: LoginThrottle, user: User | None, *,
                    meta: RequestMeta, language: str) -> bool:
    """Count a failure; lock at the threshold. Returns whether this failure locked."""
    now = kit.clock.now()
    sec = kit.policy
    throttle.failures += 1
    throttle.last_failure_at = now
    if meta.ip:
        kit.limiter.count(f"login-fail:ip:{meta.ip}", _ip_limit(kit), session=session)
    locked = throttle.failures >= sec.lockout_threshold
    if locked:
        throttle.locked_until = now + timedelta(minutes=sec.lockout_minutes)
        if user is not None:
            sessions.revoke_all(session=session, kit=kit, user_id=user.id, reason="locked")
            audit.record(session=session, clock=kit.clock,
                         actor=Actor.anonymous(meta, user.institution_id),
                         action="user.locked", entity_type="user", entity_id=user.id,
                         after={"locked_until": throttle.locked_until, "failures": throttle.failures})
            phone = kit.keys.cipher.decrypt(user.phone_ciphertext, context="users.phone")
            notifications.enqueue_sms(session=session, cipher=kit.keys.cipher, clock=kit.clock,
                                      institution_id=user.institution_id, phone=phone, template="account_locked",
                                      params={"signature": kit.sender_name(session, user.institution_id, language)},
                                      language=language)
    session.flush()
    return locked


def reauthentication_failed(*, session: Session, kit: IdentityKit, user: User, meta: RequestMeta) -> None:
    """A wrong current password (before a sensitive change) counts as a failed sign-in, and may lock."""
    throttle = repo.throttle(session, institution_id=user.institution_id, kind=user.kind,
                             identifier_index=user.phone_index, create=True)
    assert throttle is not None
    locked = _record_failure(session, kit, throttle, user, meta=meta, language=meta.language)
    _attempt(session, kit, institution_id=user.institution_id, kind=user.kind, user_id=user.id,
             identifier_index=user.phone_index, method="reauthentication",
             outcome="locked" if locked else "bad_credentials", meta=meta)


def clear_throttle(*, session: Session, kit: IdentityKit, institution_id: int, kind: str,
                   phone_index: str) -> bool:
    """Forget failures and lift a lock (successful login, SMS-verified reset, staff unlock)."""
    row = repo.throttle(session, institution_id=institution_id, kind=kind, identifier_index=phone_index,
                        create=False)
    if row is None:
        return False
    was_locked = row.locked_until is not None and row.locked_until > kit.clock.now()
    row.failures = 0
    row.locked_until = None
    row.last_failure_at = None
    session.flush()
    return was_locked


def lock_state(*, session: Session, kit: IdentityKit, user: User) -> LoginThrottle | None:
    """The throttle row of a user's phone, if it holds failures or a lock."""
    return repo.throttle(session, institution_id=user.institution_id, kind=user.kind,
                         identifier_index=user.phone_index, create=False)


def _phone_index(kit: IdentityKit, phone: str) -> str | None:
    try:
        return kit.keys.blind_index(validate_phone(phone), domain="phone")
    except InvalidIdentifier:
        return None


def _finish(session: Session, kit: IdentityKit, user: User, *, method: str, meta: RequestMeta,
            phone_index: str) -> LoginResult:
    """Credentials are right: ask for the second factor, or clear the failures and open a session."""
    if user.totp_enabled:
        # Failures are cleared only once the second factor is right too: wrong codes count
        # towards the lockout, so knowing the password does not allow endless guessing.
        token = new_token()
        now = kit.clock.now()
        session.add(PendingLogin(user_id=user.id, token_hash=token_hash(token), auth_method=method,
                                 attempts=0, created_at=now, expires_at=now + PENDING_LOGIN_TTL))
        _attempt(session, kit, institution_id=user.institution_id, kind=user.kind, user_id=user.id,
                 identifier_index=phone_index, method=method, outcome="mfa_required", meta=meta)
        return LoginResult(status="mfa_required", mfa_token=token, user_id=user.id)
    clear_throttle(session=session, kit=kit, institution_id=user.institution_id, kind=user.kind,
                   phone_index=phone_index)
    stage = "mfa_enrolment" if totp.mfa_required_by_roles(session=session, user=user) else "full"
    issued = sessions.start_session(session=session, kit=kit, user=user, method=method, meta=meta,
                                    stage=stage)
    _attempt(session, kit, institution_id=user.institution_id, kind=user.kind, user_id=user.id,
             identifier_index=phone_index, method=method, outcome="success", meta=meta)
    status = "mfa_enrolment_required" if stage == "mfa_enrolment" else "authenticated"
    return LoginResult(status=status, session=issued, user_id=user.id)


def _open_attempt(session: Session, kit: IdentityKit, *, institution_id: int, kind: str, phone_index: str,
                  method: str, meta: RequestMeta) -> tuple[LoginThrottle, User | None]:
    """The identifier's throttle and the user behind it, once the lock, delay and IP gates let it through."""
    throttle = repo.throttle(session, institution_id=institution_id, kind=kind, identifier_index=phone_index,
                             create=True)
    assert throttle is not None
    user = repo.user_by_phone(session, institution_id=institution_id, kind=kind, phone_index=phone_index)
    gate = _check_gates(session, kit, throttle, meta=meta)
    if gate is not None:
        _attempt(session, kit, institution_id=institution_id, kind=kind, user_id=user.id if user else None,
                 identifier_index=phone_index, method=method, outcome=gate, meta=meta)
        _raise_gate(session, gate, throttle, kit, meta)
    return throttle, user


def login_with_password(*, session: Session, kit: IdentityKit, institution_id: int, kind: str, phone: str,
                        password: str, meta: RequestMeta) -> LoginResult:
    """Phone + password."""
    phone_index = _phone_index(kit, phone)
    if phone_index is None:
        kit.hasher.verify(None, password)  # same cost as a real check
        _attempt(session, kit, institution_id=institution_id, kind=kind, user_id=None,
                 identifier_index=None, method="password", outcome="bad_credentials", meta=meta)
        raise InvalidCredentials(field="phone")
    throttle, user = _open_attempt(session, kit, institution_id=institution_id, kind=kind,
                                   phone_index=phone_index, method="password", meta=meta)
    ok = kit.hasher.verify(user.password_hash if user else None, password)
    if not ok or user is None:
        locked = _record_failure(session, kit, throttle, user, meta=meta, language=meta.language)
        _attempt(session, kit, institution_id=institution_id, kind=kind, user_id=user.id if user else None,
                 identifier_index=phone_index, method="password",
                 outcome="locked" if locked else "bad_credentials", meta=meta)
        if locked:
            _raise_gate(session, "locked", throttle, kit, meta)
        raise InvalidCredentials(field="password")
    if user.status != "active":
        _attempt(session, kit, institution_id=institution_id, kind=kind, user_id=user.id,
                 identifier_index=phone_index, method="password", outcome="disabled", meta=meta)
        raise AccountDisabled()
    assert user.password_hash is not None
    if kit.hasher.needs_rehash(user.password_hash):
        user.password_hash = kit.hasher.hash(password)
    return _finish(session, kit, user, method="password", meta=meta, phone_index=phone_index)


def login_with_sms(*, session: Session, kit: IdentityKit, institution_id: int, kind: str, phone: str,
                   code: str, meta: RequestMeta) -> LoginResult:
    """Phone + SMS code (the code was requested with purpose 'login')."""
    phone_index = _phone_index(kit, phone)
    if phone_index is None:
        _attempt(session, kit, institution_id=institution_id, kind=kind, user_id=None,
                 identifier_index=None, method="sms", outcome="bad_credentials", meta=meta)
        raise InvalidSmsCode(field="phone")
    throttle, user = _open_attempt(session, kit, institution_id=institution_id, kind=kind,
                                   phone_index=phone_index, method="sms", meta=meta)
    try:
        smscodes.verify_code(session=session, kit=kit, phone_index=phone_index, purpose="login", code=code)
        if user is None:
            raise InvalidSmsCode(field="sms_code")
    except InvalidSmsCode:
        locked = _record_failure(session, kit, throttle, user, meta=meta, language=meta.language)
        _attempt(session, kit, institution_id=institution_id, kind=kind, user_id=user.id if user else None,
                 identifier_index=phone_index, method="sms",
                 outcome="locked" if locked else "bad_credentials", meta=meta)
        if locked:
            _raise_gate(session, "locked", throttle, kit, meta)
        raise
    if user.status != "active":
        _attempt(session, kit, institution_id=institution_id, kind=kind, user_id=user.id,
                 identifier_index=phone_index, method="sms", outcome="disabled", meta=meta)
        raise AccountDisabled()
    return _finish(session, kit, user, method="sms", meta=meta, phone_index=phone_index)


def login_with_identity(*, session: Session, kit: IdentityKit, user: User, method: str,
                        meta: RequestMeta) -> LoginResult:
    """A third-party login (OAuth) that resolved to `user`."""
    if user.status != "active":
        _attempt(session, kit, institution_id=user.institution_id, kind=user.kind, user_id=user.id,
                 identifier_index=user.phone_index, method=method, outcome="disabled", meta=meta)
        raise AccountDisabled()
    throttle = lock_state(session=session, kit=kit, user=user)
    if throttle is not None and throttle.locked_until is not None and throttle.locked_until > kit.clock.now():
        _attempt(session, kit, institution_id=user.institution_id, kind=user.kind, user_id=user.id,
                 identifier_index=user.phone_index, method=method, outcome="locked", meta=meta)
        _raise_gate(session, "locked", throttle, kit, meta)
    return _finish(session, kit, user, method=method, meta=meta, phone_index=user.phone_index)


def complete_second_factor(*, session: Session, kit: IdentityKit, mfa_token: str, code: str,
                           meta: RequestMeta) -> LoginResult:
    """The TOTP step after a correct password."""
    pending = repo.pending_login_by_token_hash(session, token_hash(mfa_token))
    now = kit.clock.now()
    if pending is None or pending.consumed_at is not None or pending.expires_at <= now \
            or pending.attempts >= PENDING_LOGIN_ATTEMPTS:
        raise InvalidTotp(field="code")
    user = repo.get_user(session, pending.user_id)
    if user is None or user.status != "active":
        raise InvalidTotp(field="code")
    if not totp.verify(session=session, kit=kit, user=user, code=code):
        pending.attempts += 1
        throttle = repo.throttle(session, institution_id=user.institution_id, kind=user.kind,
                                 identifier_index=user.phone_index, create=True)
        assert throttle is not None
        locked = _record_failure(session, kit, throttle, user, meta=meta, language=meta.language)
        _attempt(session, kit, institution_id=user.institution_id, kind=user.kind, user_id=user.id,
                 identifier_index=user.phone_index, method="totp",
                 outcome="locked" if locked else "bad_second_factor", meta=meta)
        session.flush()
        if locked:
            _raise_gate(session, "locked", throttle, kit, meta)
        raise InvalidTotp(field="code")
    pending.consumed_at = now
    clear_throttle(session=session, kit=kit, institution_id=user.institution_id, kind=user.kind,
                   phone_index=user.phone_index)
    issued = sessions.start_session(session=session, kit=kit, user=user,
                                    method=f"{pending.auth_method}+totp", meta=meta)
    _attempt(session, kit, institution_id=user.institution_id, kind=user.kind, user_id=user.id,
             identifier_index=user.phone_index, method="totp", outcome="success", meta=meta)
    return LoginResult(status="authenticated", session=issued, user_id=user.id)


def attempts_query(*, institution_id: int | None, user_id: int | None, outcome: str | None,
                   since: datetime | None, until: datetime | None, sort: str | None) -> Select[Any]:
    """Sign-in attempts, filtered and sorted (allow-listed keys), for paging or export."""
    stmt = repo.attempts_query(institution_id=institution_id, user_id=user_id, outcome=outcome, since=since,
                               until=until)
    return order_by(stmt, sort, {"at": LoginAttempt.at, "outcome": LoginAttempt.outcome},
                    [LoginAttempt.id.desc()])
