"""Passwords: argon2id hashes and the acceptance policy (OWASP ASVS 5 §6.2).

* Hashes are argon2id in PHC format with at least ASVS Appendix C's
  parameters (t=2, m=19 MiB, p=1 by default); a hash made with weaker
  parameters is upgraded at the next successful login (`needs_rehash`).
* Policy: 8 to 128 characters (at least 64 must be allowed), any characters,
  no composition rules, no periodic rotation; the most common passwords (a
  shipped list) are refused; the password is checked exactly as typed — no
  trimming, no case folding, no truncation.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from argon2 import PasswordHasher as _Argon2
from argon2 import Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from microcredit.errors import DomainError


class PasswordRejected(DomainError):
    """The new password breaks the policy."""

    code = "password_rejected"
    status = 422
    message_zh = "密码不符合要求：{reason_zh}"
    message_en = "The password is not acceptable: {reason_en}"


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, lower-cased."""
    text = resources.files("microcredit.identity").joinpath("data/common-passwords.txt").read_text()
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def check_policy(password: str, *, min_length: int = 8, max_length: int = 128,
                 context: tuple[str, ...] = ()) -> None:
    """Refuse a password that is too short, too long, common, or one of the user's own identifiers."""
    length = len(password)
    if length < min_length:
        raise PasswordRejected(field="password", params={
            "reason_zh": f"至少 {min_length} 个字符", "reason_en": f"use at least {min_length} characters"})
    if length > max_length:
        raise PasswordRejected(field="password", params={
            "reason_zh": f"最多 {max_length} 个字符", "reason_en": f"use at most {max_length} characters"})
    lowered = password.lower()
    if lowered in common_passwords() or len(set(password)) == 1:
        raise PasswordRejected(field="password", params={
            "reason_zh": "这是常见密码，容易被猜中", "reason_en": "it is a common password, easy to guess"})
    if any(c and c.lower() in lowered and len(c) >= 6 for c in context):
        raise PasswordRejected(field="password", params={
            "reason_zh": "不能包含手机号或证件号", "reason_en": "it must not contain your phone or ID number"})


class PasswordHasher:
    """argon2id hashing with configurable (never weaker than ASVS) parameters."""

    def __init__(self, *, time_cost: int = 2, memory_kib: int = 19456, parallelism: int = 1) -> None:
        if time_cost < 2 or memory_kib < 19456:
            raise ValueError("argon2id parameters below OWASP ASVS 5 Appendix C minimum")
        self._hasher = _Argon2(time_cost=time_cost, memory_cost=memory_kib,
                               parallelism=parallelism, type=Type.ID)

    def hash(self, password: str) -> str:
        """A PHC-format argon2id hash of `password` with a fresh salt."""
        return self._hasher.hash(password)

    def verify(self, stored: str | None, password: str) -> bool:
        """Whether `password` matches `stored`; a missing hash still costs a hash (no timing oracle)."""
        if stored is None:
            self._hasher.hash(password)
            return False
        try:
            return self._hasher.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored: str) -> bool:
        """Whether `stored` was made with other parameters than the current ones."""
        return self._hasher.check_needs_rehash(stored)
