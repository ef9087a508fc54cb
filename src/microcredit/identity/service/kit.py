"""What identity's use cases work with besides the database session.

A use case of identity takes `session=` and `kit=`: the clock, the security
policy, the keys of personal data, the password hasher, the rate limiter, the
store of SMS codes, the name SMS are signed with and the process's cache of
principals. Each is a typed port; the
composition root (`microcredit.runtime`) builds one kit per process, and a test
or a worker builds its own from the same parts. Nothing here knows the web app.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.orm import Session

from microcredit.clock import Clock
from microcredit.config import SecuritySettings
from microcredit.identity.passwords import PasswordHasher
from microcredit.identity.service.principals import PrincipalCache
from microcredit.platform.crypto import Keyring
from microcredit.platform.ratelimit import RateLimiter


class SmsCodeStore(Protocol):
    """Keeps the hash of the current code per phone and purpose."""

    def save(self, *, session: Session, phone_index: str, purpose: str, code_hash: str) -> None:
        """Replace any earlier code with this one."""
        ...

    def check(self, *, session: Session, phone_index: str, purpose: str, code_hash: str) -> bool:
        """Use the code if it matches (one use); count a wrong attempt otherwise."""
        ...


class SenderName(Protocol):
    """The signature 【…】 of SMS sent on behalf of an institution, in a language."""

    def __call__(self, session: Session, institution_id: int, language: str) -> str:
        """The sender's name, e.g. the institution's name (its English form in English)."""
        ...


@dataclass(frozen=True, slots=True)
class IdentityKit:
    """The typed parts identity's use cases call."""

    clock: Clock
    policy: SecuritySettings
    keys: Keyring
    hasher: PasswordHasher
    limiter: RateLimiter
    codes: SmsCodeStore
    sender_name: SenderName
    principals: PrincipalCache | None = None  # None: every request asks the database
