"""Accounts: creating users, SMS codes, passwords, phone changes, unlocks, second factors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from microcredit.audit import service as audit
from microcredit.errors import FieldProblem, NotFound, PermissionDenied, ValidationFailed
from microcredit.identity import repository as repo
from microcredit.identity import scope
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
from microcredit.identity.service.kit import IdentityKit
from microcredit.identity.service.roles import assign_roles
from microcredit.identity.tokens import new_numeric_code
from microcredit.notifications import service as notifications
from microcredit.notifications.templates import PURPOSE_TEXT
from microcredit.platform.actor import Actor, RequestMeta
from microcredit.platform.crypto import mask_phone
from microcredit.platform.ratelimit import Limit, cooldown, hit
from microcredit.platform.todo import Todo
from microcredit.platform.validators import InvalidIdentifier, validate_phone

_PHONE = "users.phone"


@dataclass(frozen=True, slots=True)
class Account:
    """What other domains may know of a user account: a read model (identity's tables stay its own)."""

    id: int
    institution_id: int
    kind: str
    branch_id: int | None
    display_name: str
    status: str
    totp_enabled: bool
    has_password: bool
    last_login_at: datetime | None
    created_at: datetime


def account_of(user: User) -> Account:
    """The read model of a user row."""
    return Account(id=user.id, institution_id=user.institution_id, kind=user.kind, branch_id=user.branch_id,
                   display_name=user.display_name, status=user.status, totp_enabled=user.totp_enabled,
                   has_password=user.password_hash is not None, last_login_at=user.last_login_at,
                   created_at=user.created_at)


def phone_index(kit: IdentityKit, phone: str) -> str:
    """The blind index of a normalised phone number."""
    return kit.keys.blind_index(phone, domain="phone")


def parse_phone(value: str, field: str = "phone") -> str:
    """Validate a phone number or raise a field error."""
    try:
        return validate_phone(value)
    except InvalidIdentifier as exc:
        raise ValidationFailed([FieldProblem(field, exc.code, "not a mainland mobile number (11 digits, 1[3-9]…)",
                                             "请输入正确的11位手机号")]) from None


def phone_of(kit: IdentityKit, user: User) -> str:
    """Decrypt a user's phone number."""
    return kit.keys.cipher.decrypt(user.phone_ciphertext, context=_PHONE)


def create_user(*, session: Session, kit: IdentityKit, institution_id: int, kind: str, phone: str,
                display_name: str, password: str | None, branch_id: int | None = None,
                role_codes: tuple[str, ...] = (), context_words: tuple[str, ...] = ()) -> Account:
    """Create a user; the phone must be free within the institution and kind."""
    return account_of(_create_user(
        session=session, kit=kit, institution_id=institution_id, kind=kind, phone=phone,
        display_name=display_name, password=password, branch_id=branch_id, role_codes=role_codes,
        context_words=context_words))


def _create_user(*, session: Session, kit: IdentityKit, institution_id: int, kind: str, phone: str,
                 display_name: str, password: str | None, branch_id: int | None,
                 role_codes: tuple[str, ...], context_words: tuple[str, ...]) -> User:
    idx = ensure_phone_free(session=session, kit=kit, institution_id=institution_id, kind=kind, phone=phone)
    pw_hash = None
    if password is not None:
        check_new_password(kit=kit, password=password, context=(phone, *context_words))
        pw_hash = kit.hasher.hash(password)
    now = kit.clock.now()
    user = User(institution_id=institution_id, kind=kind, branch_id=branch_id, display_name=display_name,
                phone_ciphertext=kit.keys.cipher.encrypt(phone, context=_PHONE), phone_index=idx,
                password_hash=pw_hash, status="active", totp_enabled=False,
                password_changed_at=now if pw_hash else None, created_at=now)
    session.add(user)
    session.flush()
    if role_codes:
        assign_roles(session=session, user=user, role_codes=role_codes)
    return user


def ensure_phone_free(*, session: Session, kit: IdentityKit, institution_id: int, kind: str, phone: str) -> str:
    """Refuse a phone another user of the institution and kind has; returns its blind index."""
    idx = phone_index(kit, phone)
    if repo.user_by_phone(session, institution_id=institution_id, kind=kind, phone_index=idx) is not None:
        raise PhoneAlreadyRegistered(field="phone")
    return idx


def check_new_password(*, kit: IdentityKit, password: str, context: tuple[str, ...] = ()) -> None:
    """Apply the password policy (length, common passwords, own identifiers)."""
    check_policy(password, min_length=kit.policy.password_min_length,
                 max_length=kit.policy.password_max_length, context=context)


def _user(session: Session, user_id: int) -> User:
    user = repo.get_user(session, user_id)
    if user is None:
        raise NotFound()
    return user


def get_account(*, session: Session, user_id: int) -> Account:
    """A user's account, or NotFound."""
    return account_of(_user(session, user_id))


def accounts_by_ids(*, session: Session, user_ids: list[int]) -> dict[int, Account]:
    """Accounts by user id (missing ids are left out)."""
    return {uid: account_of(u) for uid, u in repo.users_by_ids(session, user_ids).items()}


def display_names(*, session: Session, user_ids: list[int]) -> dict[int, str]:
    """Users' display names by user id (missing ids are left out): for lists naming who did what."""
    return repo.display_names_by_ids(session, user_ids)


def account_phone_providers(*, session: Session, kit: IdentityKit, user_id: int
                            ) -> tuple[Account, str, list[str]]:
    """A user's account, phone number (decrypted) and linked providers (sorted), in one statement."""
    rows = repo.account_rows(session, user_id)
    if not rows:
        raise NotFound()
    r = rows[0]
    account = Account(id=r.id, institution_id=r.institution_id, kind=r.kind, branch_id=r.branch_id,
                      display_name=r.display_name, status=r.status, totp_enabled=bool(r.totp_enabled),
                      has_password=bool(r.has_password), last_login_at=r.last_login_at, created_at=r.created_at)
    providers = sorted(row.provider for row in rows if row.provider is not None)
    return account, kit.keys.cipher.decrypt(r.phone_ciphertext, context=_PHONE), providers


def phone(*, session: Session, kit: IdentityKit, user_id: int) -> str:
    """A user's phone number, decrypted (callers mask it unless the full value is allowed)."""
    ciphertext = repo.phone_ciphertext(session, user_id)  # the one column: no User object built for it
    if ciphertext is None:
        raise NotFound()
    return kit.keys.cipher.decrypt(ciphertext, context=_PHONE)


def phones(*, session: Session, kit: IdentityKit, user_ids: Sequence[int]) -> dict[int, str]:
    """`phone` of many users in one query (decrypted; a missing user is left out)."""
    return {uid: phone_of(kit, user) for uid, user in repo.users_by_ids(session, sorted(set(user_ids))).items()}


SMS_LANGUAGE = "zh-CN"  # no user keeps a language of their own yet: texts go out in Chinese, as reminders do


def sms_addressee(kit: IdentityKit) -> notifications.AddresseeLookup:
    """Where the dispatcher texts a user's in-app notifications: the phone on file, decrypted with the
    kit's keys, and the institution's SMS signature."""

    def addressee(session: Session, user_id: int, institution_id: int | None) -> notifications.Addressee:
        user = _user(session, user_id)
        institution = institution_id if institution_id is not None else user.institution_id
        return notifications.Addressee(phone=phone_of(kit, user), language=SMS_LANGUAGE,
                                       signature=kit.sender_name(session, institution, SMS_LANGUAGE))

    return addressee


def notify_registration_attempt(*, session: Session, kit: IdentityKit, user_id: int, language: str) -> None:
    """Tell a borrower, by SMS to the phone on file, that someone tried to register with their ID number."""
    user = _user(session, user_id)
    notifications.enqueue_sms(session=session, cipher=kit.keys.cipher, clock=kit.clock,
                              institution_id=user.institution_id, phone=phone_of(kit, user),
                              template="id_number_registration_attempt",
                              params={"signature": kit.sender_name(session, user.institution_id, language)},
                              language=language)


def update_profile(*, session: Session, user_id: int, display_name: str | None = None,
                   branch_id: int | bool | None = False) -> Account:
    """Change the name shown for a user and the branch anchoring a staff member's data scope
    (`branch_id=False`: unchanged; None: no branch)."""
    user = _user(session, user_id)
    if display_name is not None:
        user.display_name = display_name
    if branch_id is not False:
        user.branch_id = branch_id if isinstance(branch_id, int) else None
    session.flush()
    return account_of(user)


def locked_until(*, session: Session, kit: IdentityKit, user_id: int) -> datetime | None:
    """When the lockout of a user's phone ends, if it is locked now."""
    user = _user(session, user_id)
    row = repo.throttle(session, institution_id=user.institution_id, kind=user.kind,
                        identifier_index=user.phone_index, create=False)
    if row is None or row.locked_until is None or row.locked_until <= kit.clock.now():
        return None
    return row.locked_until


def open_session(*, session: Session, kit: IdentityKit, user_id: int, method: str,
                 meta: RequestMeta) -> sessions.IssuedSession:
    """Sign a user in at once (just registered with a proven phone): a new session."""
    return sessions.start_session(session=session, kit=kit, user=_user(session, user_id), method=method, meta=meta)


def set_totp_secret(*, session: Session, kit: IdentityKit, user_id: int, secret: str) -> None:
    """Give a user an active TOTP secret (seeding demo and test installations: the secret is known)."""
    user = _user(session, user_id)
    user.totp_secret_ciphertext = kit.keys.cipher.encrypt(secret, context="users.totp_secret")
    user.totp_enabled = True
    session.flush()


@dataclass(frozen=True)
class CodeSent:
    """What the caller may know after asking for a code (the same whether or not it was sent)."""

    phone_masked: str
    expires_in: int
    resend_after: int


def request_sms_code(*, session: Session, kit: IdentityKit, institution_id: int, kind: str, phone: str,
                     purpose: str, meta: RequestMeta) -> CodeSent:
    """Send a verification code by SMS, throttled; reveals nothing about registration.

    register/change_phone to a taken number: a notice instead of a code.
    login/reset_password for an unknown number: a notice instead of a code, too. Sending nothing there made
    the answer measurably faster than a known number's (no urgent SMS delivered before it), which told a
    caller who is registered; the notice is the same work, and tells the number's owner what happened.
    """
    signature = kit.sender_name(session, institution_id, meta.language)
    sec = kit.policy
    idx = phone_index(kit, phone)
    limiter = kit.limiter
    cooldown(limiter, f"sms:resend:{purpose}:{idx}", sec.sms_resend_seconds, session=session, field="phone")
    hit(limiter, f"sms:day:{idx}", Limit(sec.sms_per_phone_per_day, 86400), session=session, field="phone")
    # Per IP: the route's rate limit counts `sms:ip:<ip>`; counting it here as well halved the limit.
    exists = repo.user_by_phone(session, institution_id=institution_id, kind=kind, phone_index=idx) is not None
    if (purpose in ("register", "change_phone")) and exists:
        notifications.enqueue_sms(session=session, cipher=kit.keys.cipher, clock=kit.clock,
                                  institution_id=institution_id, phone=phone, template="already_registered",
                                  params={"signature": signature}, language=meta.language,
                                  urgent=True)  # in place of the code: sent as fast, telling nothing by its timing
    elif purpose in ("login", "reset_password") and not exists:
        notifications.enqueue_sms(session=session, cipher=kit.keys.cipher, clock=kit.clock,
                                  institution_id=institution_id, phone=phone, template="not_registered",
                                  params={"signature": signature}, language=meta.language,
                                  urgent=True)  # in place of the code, as fast: the timing tells nothing either
    else:
        code = new_numeric_code(6)
        kit.codes.save(session=session, phone_index=idx, purpose=purpose,
                       code_hash=smscodes.code_hash(kit, idx, purpose, code))
        zh, en = PURPOSE_TEXT[purpose]
        notifications.enqueue_sms(
            session=session, cipher=kit.keys.cipher, clock=kit.clock, institution_id=institution_id, phone=phone,
            template="verification_code",
            params={"signature": signature, "code": code, "minutes": sec.sms_code_ttl_seconds // 60,
                    "purpose_zh": zh, "purpose_en": en},
            language=meta.language, urgent=True)  # the person is on the page, waiting for the code
    return CodeSent(phone_masked=mask_phone(phone), expires_in=sec.sms_code_ttl_seconds,
                    resend_after=sec.sms_resend_seconds)


def _check_current_password(*, session: Session, kit: IdentityKit, principal: Principal, user: User,
                            password: str) -> None:
    """Refuse a wrong current password; it counts towards the lockout like a failed sign-in."""
    if not kit.hasher.verify(user.password_hash, password):
        if user.password_hash is not None:  # a session token alone must not allow endless guessing
            login.reauthentication_failed(session=session, kit=kit, user=user, meta=principal.meta)
        raise ReauthenticationRequired(field="current_password")


def confirm_password(*, session: Session, kit: IdentityKit, principal: Principal, password: str) -> None:
    """Re-authenticate: check the caller's current password and note the time."""
    user = _user(session, principal.user_id)
    _check_current_password(session=session, kit=kit, principal=principal, user=user, password=password)
    sessions.mark_reauthenticated(session=session, kit=kit, principal=principal)


def change_password(*, session: Session, kit: IdentityKit, principal: Principal, current_password: str | None,
                    new_password: str) -> sessions.IssuedSession:
    """Change one's password (current password required if one is set); all sessions end, a new one starts."""
    user = _user(session, principal.user_id)
    if user.password_hash is not None:
        if current_password is None:
            raise ReauthenticationRequired(field="current_password")
        _check_current_password(session=session, kit=kit, principal=principal, user=user,
                                password=current_password)
    else:
        sessions.require_recent_auth(kit=kit, principal=principal, field=None)
    check_new_password(kit=kit, password=new_password, context=(phone_of(kit, user),))
    user.password_hash = kit.hasher.hash(new_password)
    user.password_changed_at = kit.clock.now()
    sessions.revoke_all(session=session, kit=kit, user_id=user.id, reason="password_changed")
    audit.record(session=session, clock=kit.clock, actor=principal.actor, action="user.password_changed",
                 entity_type="user", entity_id=user.id)
    return sessions.start_session(session=session, kit=kit, user=user, method="password_change",
                                  meta=principal.meta,
                                  stage="mfa_enrolment" if principal.stage == "mfa_enrolment" else "full")


def reset_password_with_sms(*, session: Session, kit: IdentityKit, institution_id: int, kind: str, phone: str,
                            code: str, new_password: str, meta: RequestMeta) -> None:
    """Forgotten password: prove the phone by SMS, set a new password, lift any lock, end all sessions."""
    idx = phone_index(kit, phone)
    # The policy first: a code in Redis is used up at once, so a refused password must not cost it.
    check_new_password(kit=kit, password=new_password, context=(phone,))
    smscodes.verify_code(session=session, kit=kit, phone_index=idx, purpose="reset_password", code=code)
    user = repo.user_by_phone(session, institution_id=institution_id, kind=kind, phone_index=idx)
    if user is None:  # a code can only have been sent to a registered phone
        raise InvalidCredentials(field="phone")
    user.password_hash = kit.hasher.hash(new_password)
    user.password_changed_at = kit.clock.now()
    was_locked = login.clear_throttle(session=session, kit=kit, institution_id=institution_id, kind=kind,
                                      phone_index=idx)
    sessions.revoke_all(session=session, kit=kit, user_id=user.id, reason="password_reset")
    actor = Actor.anonymous(meta, institution_id).as_user(user.id, user.kind, institution_id)
    audit.record(session=session, clock=kit.clock, actor=actor, action="user.password_reset",
                 entity_type="user", entity_id=user.id, after={"unlocked": was_locked, "via": "sms"})


def change_phone(*, session: Session, kit: IdentityKit, principal: Principal, current_password: str,
                 new_phone: str, code: str) -> None:
    """Move the account to a new phone: current password plus a code sent to the new phone."""
    user = _user(session, principal.user_id)
    _check_current_password(session=session, kit=kit, principal=principal, user=user, password=current_password)
    new_idx = phone_index(kit, new_phone)
    smscodes.verify_code(session=session, kit=kit, phone_index=new_idx, purpose="change_phone", code=code)
    if repo.user_by_phone(session, institution_id=user.institution_id, kind=user.kind,
                          phone_index=new_idx) is not None:
        raise PhoneAlreadyRegistered(field="new_phone")
    old_masked = mask_phone(phone_of(kit, user))
    user.phone_ciphertext = kit.keys.cipher.encrypt(new_phone, context=_PHONE)
    user.phone_index = new_idx
    sessions.revoke_all(session=session, kit=kit, user_id=user.id, reason="phone_changed",
                        keep_session_id=principal.session_id)
    audit.record(session=session, clock=kit.clock, actor=principal.actor, action="user.phone_changed",
                 entity_type="user", entity_id=user.id, before={"phone": old_masked},
                 after={"phone": mask_phone(new_phone)})


def set_status(*, session: Session, kit: IdentityKit, actor: Principal, user_id: int, active: bool) -> None:
    """Disable or re-enable an account; disabling ends its sessions."""
    user = _user(session, user_id)
    if user.id == actor.user_id and not active:
        raise PermissionDenied("you cannot disable your own account")
    before = user.status
    user.status = "active" if active else "disabled"
    if not active:
        sessions.revoke_all(session=session, kit=kit, user_id=user.id, reason="disabled")
    audit.record(session=session, clock=kit.clock, actor=actor.actor,
                 action="user.enabled" if active else "user.disabled", entity_type="user", entity_id=user.id,
                 before={"status": before}, after={"status": user.status})


def unlock(*, session: Session, kit: IdentityKit, actor: Principal, user_id: int) -> bool:
    """Lift a lockout (staff action, audited). Returns whether the account was locked."""
    user = _user(session, user_id)
    was_locked = login.clear_throttle(session=session, kit=kit, institution_id=user.institution_id,
                                      kind=user.kind, phone_index=user.phone_index)
    audit.record(session=session, clock=kit.clock, actor=actor.actor, action="user.unlocked",
                 entity_type="user", entity_id=user.id, after={"was_locked": was_locked})
    return was_locked


def begin_totp_enrolment(*, session: Session, kit: IdentityKit, principal: Principal,
                         current_password: str | None) -> totp.Enrolment:
    """Start (or restart) TOTP enrolment: needs the current password, or — for an account
    without one (first sign-in by SMS code) — an authentication within the last minutes."""
    user = _user(session, principal.user_id)
    if user.kind != "staff":
        raise PermissionDenied()
    if user.password_hash is None:  # signed in by SMS code moments ago, or sign in again
        sessions.require_recent_auth(kit=kit, principal=principal, field=None)
    elif not current_password:  # nothing typed is not a wrong guess
        raise ReauthenticationRequired(field="current_password")
    else:
        _check_current_password(session=session, kit=kit, principal=principal, user=user,
                                password=current_password)
    label = f"{user.display_name} ({phone_of(kit, user)[-4:]})"
    return totp.begin_enrolment(session=session, kit=kit, user=user, account_label=label)


def confirm_totp_enrolment(*, session: Session, kit: IdentityKit, principal: Principal,
                           code: str) -> sessions.IssuedSession | None:
    """Activate TOTP; a session restricted to enrolment becomes a full one (new token)."""
    user = _user(session, principal.user_id)
    if not totp.confirm_enrolment(session=session, kit=kit, user=user, code=code):
        raise InvalidTotp(field="code")
    audit.record(session=session, clock=kit.clock, actor=principal.actor, action="user.totp_enrolled",
                 entity_type="user", entity_id=user.id)
    sessions.revoke_all(session=session, kit=kit, user_id=user.id, reason="second_factor_enrolled")
    return sessions.start_session(session=session, kit=kit, user=user, method="totp_enrolment",
                                  meta=principal.meta)


def reset_totp(*, session: Session, kit: IdentityKit, actor: Principal, user_id: int) -> None:
    """Staff reset of someone's second factor (they enrol again); their sessions end."""
    user = _user(session, user_id)
    totp.reset(session=session, user=user)
    sessions.revoke_all(session=session, kit=kit, user_id=user.id, reason="second_factor_reset")
    audit.record(session=session, clock=kit.clock, actor=actor.actor, action="user.totp_reset",
                 entity_type="user", entity_id=user.id)


def user_ids_matching(*, session: Session, institution_id: int | None, kind: str,
                      branch_id: int | bool | None = False, role: str | None = None) -> list[int]:
    """Ids of users of `kind` in an institution (None: all), a branch (False: any), holding `role`."""
    return repo.user_ids_matching(session, institution_id=institution_id, kind=kind, branch_id=branch_id,
                                  role=role)


def locked_user_ids(*, session: Session, kit: IdentityKit, institution_id: int | None, kind: str) -> list[int]:
    """Ids of users of `kind` whose account is locked out now (an institution, or all)."""
    return repo.locked_user_ids(session, institution_id=institution_id, now=kit.clock.now(), kind=kind)


def user_ids_by_phone(*, session: Session, kit: IdentityKit, phone: str, kind: str) -> list[int]:
    """Ids of users of `kind` with this phone (any institution; callers scope the result)."""
    return repo.user_ids_by_phone_index(session, phone_index=phone_index(kit, phone), kind=kind)


def end_sessions(*, session: Session, kit: IdentityKit, actor: Principal, user_id: int) -> int:
    """Staff end every session of another user (ASVS 7.4.5); audited. Returns how many ended."""
    user = _user(session, user_id)
    ended = sessions.revoke_all(session=session, kit=kit, user_id=user.id, reason="ended_by_staff")
    audit.record(session=session, clock=kit.clock, actor=actor.actor, action="user.sessions_ended",
                 entity_type="user", entity_id=user.id, after={"sessions": ended})
    return ended


def todos(*, session: Session, kit: IdentityKit, principal: Principal) -> list[Todo]:
    """Locked staff accounts and locked borrower accounts the caller may unlock (each kind has its own list)."""
    if not principal.can("user.unlock"):
        return []
    f = scope.filters(principal)
    return [Todo(code, repo.count_locked_users(session, institution_id=f.institution_id, now=kit.clock.now(),
                                               kind=kind, branch_id=f.branch_id))
            for code, kind in (("staff_locked", "staff"), ("borrowers_locked", "borrower"))]


def staff_holding(*, session: Session, institution_id: int, permission: str,
                  branch_id: int | bool | None = False) -> list[Account]:
    """Active staff of the institution whose roles grant `permission` (`branch_id` False: any branch):
    e.g. the collectors of a loan's branch, to assign its collection case to."""
    return [account_of(u) for u in repo.active_staff_holding(session, institution_id=institution_id,
                                                             permission=permission, branch_id=branch_id)]
