"""Accounts: creating users, SMS codes, passwords, phone changes, unlocks, second factors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from microcredit.audit import service as audit
from microcredit.errors import FieldProblem, NotFound, PermissionDenied, ValidationFailed
from microcredit.identity import repository as repo
from microcredit.identity.errors import (
    InvalidCredentials,
    InvalidTotp,
    PhoneAlreadyRegistered,
    ReauthenticationRequired,
)
from microcredit.identity.models import User
from microcredit.identity.passwords import check_policy
from microcredit.identity.principal import Principal
from microcredit.identity.service import login, sessions, smscodes, totp
from microcredit.identity.service.roles import assign_roles
from microcredit.identity.tokens import new_numeric_code
from microcredit.notifications import service as notifications
from microcredit.notifications.templates import PURPOSE_TEXT
from microcredit.platform.actor import Actor, RequestMeta
from microcredit.platform.crypto import mask_phone
from microcredit.platform.ratelimit import Limit, cooldown, hit
from microcredit.platform.validators import InvalidIdentifier, validate_phone

if TYPE_CHECKING:
    from microcredit.context import AppContext

_PHONE = "users.phone"


def phone_index(ctx: AppContext, phone: str) -> str:
    """The blind index of a normalised phone number."""
    return ctx.blind_index(phone, domain="phone")


def parse_phone(value: str, field: str = "phone") -> str:
    """Validate a phone number or raise a field error."""
    try:
        return validate_phone(value)
    except InvalidIdentifier as exc:
        raise ValidationFailed([FieldProblem(field, exc.code, "not a mainland mobile number (11 digits, 1[3-9]…)",
                                             "请输入正确的11位手机号")]) from None


def phone_of(ctx: AppContext, user: User) -> str:
    """Decrypt a user's phone number."""
    return ctx.cipher.decrypt(user.phone_ciphertext, context=_PHONE)


def create_user(*, session: Session, ctx: AppContext, institution_id: int, kind: str, phone: str,
                display_name: str, password: str | None, branch_id: int | None = None,
                role_codes: tuple[str, ...] = (), context_words: tuple[str, ...] = ()) -> User:
    """Create a user; the phone must be free within the institution and kind."""
    idx = ensure_phone_free(session=session, ctx=ctx, institution_id=institution_id, kind=kind, phone=phone)
    pw_hash = None
    if password is not None:
        check_new_password(ctx=ctx, password=password, context=(phone, *context_words))
        pw_hash = ctx.hasher.hash(password)
    now = ctx.clock.now()
    user = User(institution_id=institution_id, kind=kind, branch_id=branch_id, display_name=display_name,
                phone_ciphertext=ctx.cipher.encrypt(phone, context=_PHONE), phone_index=idx,
                password_hash=pw_hash, status="active", totp_enabled=False,
                password_changed_at=now if pw_hash else None, created_at=now)
    session.add(user)
    session.flush()
    if role_codes:
        assign_roles(session=session, user=user, role_codes=role_codes)
    return user


def ensure_phone_free(*, session: Session, ctx: AppContext, institution_id: int, kind: str, phone: str) -> str:
    """Refuse a phone another user of the institution and kind has; returns its blind index."""
    idx = phone_index(ctx, phone)
    if repo.user_by_phone(session, institution_id=institution_id, kind=kind, phone_index=idx) is not None:
        raise PhoneAlreadyRegistered(field="phone")
    return idx


def check_new_password(*, ctx: AppContext, password: str, context: tuple[str, ...] = ()) -> None:
    """Apply the password policy (length, common passwords, own identifiers)."""
    check_policy(password, min_length=ctx.settings.security.password_min_length,
                 max_length=ctx.settings.security.password_max_length, context=context)


def get_user(*, session: Session, user_id: int) -> User:
    """A user, or NotFound."""
    user = repo.get_user(session, user_id)
    if user is None:
        raise NotFound()
    return user


@dataclass(frozen=True)
class CodeSent:
    """What the caller may know after asking for a code (the same whether or not it was sent)."""

    phone_masked: str
    expires_in: int
    resend_after: int


def request_sms_code(*, session: Session, ctx: AppContext, institution_id: int, kind: str, phone: str,
                     purpose: str, meta: RequestMeta) -> CodeSent:
    """Send a verification code by SMS, throttled; reveals nothing about registration.

    register/change_phone to a taken number: a notice instead of a code.
    login/reset_password for an unknown number: nothing is sent.
    """
    signature = ctx.sms_signature(session, institution_id)
    sec = ctx.settings.security
    idx = phone_index(ctx, phone)
    limiter = ctx.rate_limiter
    cooldown(limiter, f"sms:resend:{purpose}:{idx}", sec.sms_resend_seconds, session=session, field="phone")
    hit(limiter, f"sms:day:{idx}", Limit(sec.sms_per_phone_per_day, 86400), session=session, field="phone")
    # Per IP: the route's rate limit counts `sms:ip:<ip>`; counting it here as well halved the limit.
    exists = repo.user_by_phone(session, institution_id=institution_id, kind=kind, phone_index=idx) is not None
    if (purpose in ("register", "change_phone")) and exists:
        notifications.enqueue_sms(session=session, cipher=ctx.cipher, clock=ctx.clock, phone=phone,
                                  template="already_registered", params={"signature": signature},
                                  language=meta.language)
    elif purpose in ("login", "reset_password") and not exists:
        pass  # nobody to send to; the answer looks the same
    else:
        code = new_numeric_code(6)
        smscodes.store_for(ctx).save(session=session, phone_index=idx, purpose=purpose,
                                     code_hash=smscodes.code_hash(ctx, idx, purpose, code))
        zh, en = PURPOSE_TEXT[purpose]
        notifications.enqueue_sms(
            session=session, cipher=ctx.cipher, clock=ctx.clock, phone=phone, template="verification_code",
            params={"signature": signature, "code": code, "minutes": sec.sms_code_ttl_seconds // 60,
                    "purpose_zh": zh, "purpose_en": en},
            language=meta.language)
    return CodeSent(phone_masked=mask_phone(phone), expires_in=sec.sms_code_ttl_seconds,
                    resend_after=sec.sms_resend_seconds)


def _check_current_password(*, session: Session, ctx: AppContext, principal: Principal, user: User,
                            password: str) -> None:
    """Refuse a wrong current password; it counts towards the lockout like a failed sign-in."""
    if not ctx.hasher.verify(user.password_hash, password):
        if user.password_hash is not None:  # a session token alone must not allow endless guessing
            login.reauthentication_failed(session=session, ctx=ctx, user=user, meta=principal.meta)
        raise ReauthenticationRequired(field="current_password")


def confirm_password(*, session: Session, ctx: AppContext, principal: Principal, password: str) -> None:
    """Re-authenticate: check the caller's current password and note the time."""
    user = get_user(session=session, user_id=principal.user_id)
    _check_current_password(session=session, ctx=ctx, principal=principal, user=user, password=password)
    sessions.mark_reauthenticated(session=session, ctx=ctx, principal=principal)


def change_password(*, session: Session, ctx: AppContext, principal: Principal, current_password: str | None,
                    new_password: str) -> sessions.IssuedSession:
    """Change one's password (current password required if one is set); all sessions end, a new one starts."""
    user = get_user(session=session, user_id=principal.user_id)
    if user.password_hash is not None:
        if current_password is None:
            raise ReauthenticationRequired(field="current_password")
        _check_current_password(session=session, ctx=ctx, principal=principal, user=user,
                                password=current_password)
    else:
        sessions.require_recent_auth(ctx=ctx, principal=principal, field=None)
    check_new_password(ctx=ctx, password=new_password, context=(phone_of(ctx, user),))
    user.password_hash = ctx.hasher.hash(new_password)
    user.password_changed_at = ctx.clock.now()
    sessions.revoke_all(session=session, ctx=ctx, user_id=user.id, reason="password_changed")
    audit.record(session=session, clock=ctx.clock, actor=principal.actor, action="user.password_changed",
                 entity_type="user", entity_id=user.id)
    return sessions.start_session(session=session, ctx=ctx, user=user, method="password_change",
                                  meta=principal.meta,
                                  stage="mfa_enrolment" if principal.stage == "mfa_enrolment" else "full")


def reset_password_with_sms(*, session: Session, ctx: AppContext, institution_id: int, kind: str, phone: str,
                            code: str, new_password: str, meta: RequestMeta) -> None:
    """Forgotten password: prove the phone by SMS, set a new password, lift any lock, end all sessions."""
    idx = phone_index(ctx, phone)
    # The policy first: a code in Redis is used up at once, so a refused password must not cost it.
    check_new_password(ctx=ctx, password=new_password, context=(phone,))
    smscodes.verify_code(session=session, ctx=ctx, phone_index=idx, purpose="reset_password", code=code)
    user = repo.user_by_phone(session, institution_id=institution_id, kind=kind, phone_index=idx)
    if user is None:  # a code can only have been sent to a registered phone
        raise InvalidCredentials(field="phone")
    user.password_hash = ctx.hasher.hash(new_password)
    user.password_changed_at = ctx.clock.now()
    was_locked = login.clear_throttle(session=session, ctx=ctx, institution_id=institution_id, kind=kind,
                                      phone_index=idx)
    sessions.revoke_all(session=session, ctx=ctx, user_id=user.id, reason="password_reset")
    actor = Actor.anonymous(meta, institution_id).as_user(user.id, user.kind, institution_id)
    audit.record(session=session, clock=ctx.clock, actor=actor, action="user.password_reset",
                 entity_type="user", entity_id=user.id, after={"unlocked": was_locked, "via": "sms"})


def change_phone(*, session: Session, ctx: AppContext, principal: Principal, current_password: str,
                 new_phone: str, code: str) -> None:
    """Move the account to a new phone: current password plus a code sent to the new phone."""
    user = get_user(session=session, user_id=principal.user_id)
    _check_current_password(session=session, ctx=ctx, principal=principal, user=user, password=current_password)
    new_idx = phone_index(ctx, new_phone)
    smscodes.verify_code(session=session, ctx=ctx, phone_index=new_idx, purpose="change_phone", code=code)
    if repo.user_by_phone(session, institution_id=user.institution_id, kind=user.kind,
                          phone_index=new_idx) is not None:
        raise PhoneAlreadyRegistered(field="new_phone")
    old_masked = mask_phone(phone_of(ctx, user))
    user.phone_ciphertext = ctx.cipher.encrypt(new_phone, context=_PHONE)
    user.phone_index = new_idx
    sessions.revoke_all(session=session, ctx=ctx, user_id=user.id, reason="phone_changed",
                        keep_session_id=principal.session_id)
    audit.record(session=session, clock=ctx.clock, actor=principal.actor, action="user.phone_changed",
                 entity_type="user", entity_id=user.id, before={"phone": old_masked},
                 after={"phone": mask_phone(new_phone)})


def set_status(*, session: Session, ctx: AppContext, actor: Principal, user: User, active: bool) -> None:
    """Disable or re-enable an account; disabling ends its sessions."""
    if user.id == actor.user_id and not active:
        raise PermissionDenied("you cannot disable your own account")
    before = user.status
    user.status = "active" if active else "disabled"
    if not active:
        sessions.revoke_all(session=session, ctx=ctx, user_id=user.id, reason="disabled")
    audit.record(session=session, clock=ctx.clock, actor=actor.actor,
                 action="user.enabled" if active else "user.disabled", entity_type="user", entity_id=user.id,
                 before={"status": before}, after={"status": user.status})


def unlock(*, session: Session, ctx: AppContext, actor: Principal, user: User) -> bool:
    """Lift a lockout (staff action, audited). Returns whether the account was locked."""
    was_locked = login.clear_throttle(session=session, ctx=ctx, institution_id=user.institution_id,
                                      kind=user.kind, phone_index=user.phone_index)
    audit.record(session=session, clock=ctx.clock, actor=actor.actor, action="user.unlocked",
                 entity_type="user", entity_id=user.id, after={"was_locked": was_locked})
    return was_locked


def begin_totp_enrolment(*, session: Session, ctx: AppContext, principal: Principal,
                         current_password: str | None) -> totp.Enrolment:
    """Start (or restart) TOTP enrolment: needs the current password, or — for an account
    without one (first sign-in by SMS code) — an authentication within the last minutes."""
    user = get_user(session=session, user_id=principal.user_id)
    if user.kind != "staff":
        raise PermissionDenied()
    if user.password_hash is None:  # signed in by SMS code moments ago, or sign in again
        sessions.require_recent_auth(ctx=ctx, principal=principal, field=None)
    elif not current_password:  # nothing typed is not a wrong guess
        raise ReauthenticationRequired(field="current_password")
    else:
        _check_current_password(session=session, ctx=ctx, principal=principal, user=user,
                                password=current_password)
    label = f"{user.display_name} ({phone_of(ctx, user)[-4:]})"
    return totp.begin_enrolment(session=session, ctx=ctx, user=user, account_label=label)


def confirm_totp_enrolment(*, session: Session, ctx: AppContext, principal: Principal,
                           code: str) -> sessions.IssuedSession | None:
    """Activate TOTP; a session restricted to enrolment becomes a full one (new token)."""
    user = get_user(session=session, user_id=principal.user_id)
    if not totp.confirm_enrolment(session=session, ctx=ctx, user=user, code=code):
        raise InvalidTotp(field="code")
    audit.record(session=session, clock=ctx.clock, actor=principal.actor, action="user.totp_enrolled",
                 entity_type="user", entity_id=user.id)
    sessions.revoke_all(session=session, ctx=ctx, user_id=user.id, reason="second_factor_enrolled")
    return sessions.start_session(session=session, ctx=ctx, user=user, method="totp_enrolment",
                                  meta=principal.meta)


def reset_totp(*, session: Session, ctx: AppContext, actor: Principal, user: User) -> None:
    """Staff reset of someone's second factor (they enrol again); their sessions end."""
    totp.reset(session=session, user=user)
    sessions.revoke_all(session=session, ctx=ctx, user_id=user.id, reason="second_factor_reset")
    audit.record(session=session, clock=ctx.clock, actor=actor.actor, action="user.totp_reset",
                 entity_type="user", entity_id=user.id)


def users_by_ids(*, session: Session, user_ids: list[int]) -> dict[int, User]:
    """Users by id."""
    return repo.users_by_ids(session, user_ids)


def user_ids_matching(*, session: Session, institution_id: int | None, kind: str,
                      branch_id: int | bool | None = False, role: str | None = None) -> list[int]:
    """Ids of users of `kind` in an institution (None: all), a branch (False: any), holding `role`."""
    return repo.user_ids_matching(session, institution_id=institution_id, kind=kind, branch_id=branch_id,
                                  role=role)


def user_ids_by_phone(*, session: Session, ctx: AppContext, phone: str, kind: str) -> list[int]:
    """Ids of users of `kind` with this phone (any institution; callers scope the result)."""
    return repo.user_ids_by_phone_index(session, phone_index=phone_index(ctx, phone), kind=kind)


def end_sessions(*, session: Session, ctx: AppContext, actor: Principal, user: User) -> int:
    """Staff end every session of another user (ASVS 7.4.5); audited. Returns how many ended."""
    ended = sessions.revoke_all(session=session, ctx=ctx, user_id=user.id, reason="ended_by_staff")
    audit.record(session=session, clock=ctx.clock, actor=actor.actor, action="user.sessions_ended",
                 entity_type="user", entity_id=user.id, after={"sessions": ended})
    return ended
