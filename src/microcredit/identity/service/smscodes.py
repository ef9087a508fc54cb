"""SMS verification codes: 6 digits, 5 minutes, one use, limited attempts, stored hashed.

A code is stored only as HMAC-SHA256(secret key, phone index ‖ purpose ‖ code):
bound to its phone and purpose, useless if the table leaks. Sending is
throttled per phone (one per `sms_resend_seconds`, `sms_per_phone_per_day` a
day) and per IP. Each check of a wrong code uses up one attempt; after
`sms_code_max_attempts` the code is dead and a new one must be requested.

Codes live in Redis when it is configured (a hash per phone and purpose with
the code's lifetime as TTL; checks are atomic in a Lua script), in the
`sms_codes` table otherwise.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from microcredit.clock import Clock
from microcredit.identity import repository as repo
from microcredit.identity.errors import InvalidSmsCode
from microcredit.identity.models import SmsCode
from microcredit.identity.service.kit import IdentityKit
from microcredit.identity.tokens import constant_time_equal, keyed_hash

PURPOSES = ("register", "login", "reset_password", "change_phone", "link", "sign_contract")


class DatabaseSmsCodeStore:
    """Codes in the `sms_codes` table."""

    def __init__(self, *, clock: Clock, ttl_seconds: int, max_attempts: int) -> None:
        self.clock = clock
        self.ttl_seconds = ttl_seconds
        self.max_attempts = max_attempts

    def save(self, *, session: Session, phone_index: str, purpose: str, code_hash: str) -> None:
        now = self.clock.now()
        repo.retire_sms_codes(session, phone_index=phone_index, purpose=purpose, now=now)
        repo.add(session, SmsCode(phone_index=phone_index, purpose=purpose, code_hash=code_hash, attempts=0,
                                  created_at=now, expires_at=now + timedelta(seconds=self.ttl_seconds)))

    def check(self, *, session: Session, phone_index: str, purpose: str, code_hash: str) -> bool:
        now = self.clock.now()
        row = repo.latest_sms_code(session, phone_index=phone_index, purpose=purpose)
        if row is None or row.expires_at <= now:
            return False
        if row.attempts >= self.max_attempts:
            return False
        if constant_time_equal(row.code_hash, code_hash):
            row.consumed_at = now
            session.flush()
            return True
        row.attempts += 1
        session.flush()
        return False


# KEYS[1] = code key; ARGV = code_hash, max_attempts. Returns 1 when used, 0 otherwise.
_CHECK_LUA = """
local stored = redis.call('HGET', KEYS[1], 'hash')
if not stored then return 0 end
local attempts = tonumber(redis.call('HGET', KEYS[1], 'attempts') or '0')
if attempts >= tonumber(ARGV[2]) then return 0 end
if stored == ARGV[1] then redis.call('DEL', KEYS[1]) return 1 end
redis.call('HINCRBY', KEYS[1], 'attempts', 1)
return 0
"""


class RedisSmsCodeStore:
    """Codes in Redis, expiring by TTL."""

    def __init__(self, *, redis: Any, ttl_seconds: int, max_attempts: int, prefix: str = "mc:sms:") -> None:
        self.redis = redis
        self.ttl_seconds = ttl_seconds
        self.max_attempts = max_attempts
        self.prefix = prefix
        self._check = self.redis.register_script(_CHECK_LUA)

    def _key(self, phone_index: str, purpose: str) -> str:
        return f"{self.prefix}{purpose}:{phone_index}"

    def save(self, *, session: Session, phone_index: str, purpose: str, code_hash: str) -> None:
        key = self._key(phone_index, purpose)
        pipe = self.redis.pipeline()
        pipe.delete(key)
        pipe.hset(key, mapping={"hash": code_hash, "attempts": 0})
        pipe.expire(key, self.ttl_seconds)
        pipe.execute()

    def check(self, *, session: Session, phone_index: str, purpose: str, code_hash: str) -> bool:
        return bool(self._check(keys=[self._key(phone_index, purpose)], args=[code_hash, self.max_attempts]))


def code_hash(kit: IdentityKit, phone_index: str, purpose: str, code: str) -> str:
    """The stored form of a code."""
    return keyed_hash(kit.keys.signing_key, phone_index, purpose, code)


def verify_code(*, session: Session, kit: IdentityKit, phone_index: str, purpose: str, code: str,
                field: str = "sms_code") -> None:
    """Use up a matching code, or refuse with `InvalidSmsCode` (the attempt is remembered)."""
    if purpose not in PURPOSES:
        raise ValueError(purpose)
    normalised = code.strip()
    if not (len(normalised) == 6 and normalised.isdigit()):
        raise InvalidSmsCode(field=field)
    ok = kit.codes.check(session=session, phone_index=phone_index, purpose=purpose,
                         code_hash=code_hash(kit, phone_index, purpose, normalised))
    if not ok:
        raise InvalidSmsCode(field=field)
