"""TOTP second factor (RFC 6238, 30-second steps, 6 digits) for staff.

Enrolment makes a random 160-bit secret, stores it encrypted, and shows it as
an `otpauth://` URI and a QR code; the factor becomes active only once the
user proves it with a valid code; a re-enrolment keeps the current factor
active until the new secret is confirmed. Each code is accepted once: the step it
belongs to is remembered and older or equal steps are refused (ASVS 6.5.1).
One step of clock drift either way is tolerated. Roles marked `requires_mfa`
(administrators by default) cannot get a full session without it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyotp
import segno
from sqlalchemy.orm import Session

from microcredit.identity import repository as repo
from microcredit.identity.models import User
from microcredit.identity.service.kit import IdentityKit

ISSUER = "microcredit"
_CONTEXT = "users.totp_secret"
_PENDING = "users.totp_pending_secret"
STEP = 30


@dataclass(frozen=True)
class Enrolment:
    """What the user scans into an authenticator app."""

    secret: str
    otpauth_uri: str
    qr_svg_data_uri: str


def mfa_required_by_roles(*, session: Session, user: User) -> bool:
    """Whether any of the user's roles requires a second factor."""
    return any(r.requires_mfa for r in repo.roles_of(session, user.id))


def begin_enrolment(*, session: Session, kit: IdentityKit, user: User, account_label: str) -> Enrolment:
    """Make a new secret, kept pending: the current factor (if any) stays active until it is confirmed."""
    secret = pyotp.random_base32(32)
    user.totp_pending_secret_ciphertext = kit.keys.cipher.encrypt(secret, context=_PENDING)
    session.flush()
    uri = pyotp.TOTP(secret).provisioning_uri(name=account_label, issuer_name=ISSUER)
    qr = segno.make(uri, error="m").svg_data_uri(scale=5)
    return Enrolment(secret=secret, otpauth_uri=uri, qr_svg_data_uri=qr)


def _matching_step(kit: IdentityKit, secret: str, code: str) -> int | None:
    code = code.strip()
    if not (len(code) == 6 and code.isdigit()):
        return None
    now = kit.clock.now().timestamp()
    generator = pyotp.TOTP(secret)
    for drift in (0, -1, 1):
        at = now + drift * STEP
        if pyotp.utils.strings_equal(generator.at(at), code):
            return int(at // STEP)
    return None


def verify(*, session: Session, kit: IdentityKit, user: User, code: str) -> bool:
    """Check a code against the user's active secret, once per step."""
    if user.totp_secret_ciphertext is None or not user.totp_enabled:
        return False
    secret = kit.keys.cipher.decrypt(user.totp_secret_ciphertext, context=_CONTEXT)
    step = _matching_step(kit, secret, code)
    if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
        return False
    user.totp_last_step = step
    session.flush()
    return True


def confirm_enrolment(*, session: Session, kit: IdentityKit, user: User, code: str) -> bool:
    """Make the pending secret the active factor if `code` is valid for it."""
    if user.totp_pending_secret_ciphertext is None:
        return False
    secret = kit.keys.cipher.decrypt(user.totp_pending_secret_ciphertext, context=_PENDING)
    step = _matching_step(kit, secret, code)
    if step is None:
        return False
    user.totp_secret_ciphertext = kit.keys.cipher.encrypt(secret, context=_CONTEXT)
    user.totp_pending_secret_ciphertext = None
    user.totp_enabled = True
    user.totp_last_step = step
    session.flush()
    return True


def reset(*, session: Session, user: User) -> None:
    """Remove the factor (staff reset); the user enrols again at next sign-in."""
    user.totp_secret_ciphertext = None
    user.totp_pending_secret_ciphertext = None
    user.totp_enabled = False
    user.totp_last_step = None
    session.flush()
