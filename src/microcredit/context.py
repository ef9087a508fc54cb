"""The composition root: builds the long-lived parts one process shares.

The API's app factory, the CLI and the tests all call `build_context()`; the
services receive the parts they need as keyword arguments, never by reaching
for globals.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from microcredit.clock import Clock, SystemClock
from microcredit.config import Settings
from microcredit.db.engine import Database
from microcredit.identity.passwords import PasswordHasher
from microcredit.platform.crypto import BlindIndex, FieldCipher
from microcredit.platform.ratelimit import DatabaseRateLimiter, RateLimiter, RedisRateLimiter


@dataclass
class AppContext:
    """Everything a request or a command needs besides its database session."""

    settings: Settings
    db: Database
    clock: Clock
    cipher: FieldCipher
    blind_index: BlindIndex
    hasher: PasswordHasher
    rate_limiter: RateLimiter
    redis: Any | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    # Resolves an institution's SMS signature (签名, e.g. its name); set by build_context so that
    # lower layers (identity) can sign messages without depending on parties.
    signature_resolver: Callable[[Session, int], str] | None = None

    def sms_signature(self, session: Session, institution_id: int) -> str:
        """The signature 【…】 of SMS sent on behalf of an institution."""
        if self.settings.sms_signature:
            return self.settings.sms_signature
        if self.signature_resolver is None:
            return "microcredit"
        return self.signature_resolver(session, institution_id)

    @property
    def secret_key(self) -> bytes:
        """The key that signs short-lived values (SMS code hashes, OAuth state)."""
        return self.settings.security.secret_key.get_secret_value().encode()

    def close(self) -> None:
        """Release connections."""
        self.db.dispose()
        if self.redis is not None:
            self.redis.close()


def connect_redis(url: str) -> Any:
    """A Redis client for `url` (decoded responses)."""
    import redis

    return redis.Redis.from_url(url, decode_responses=True, socket_timeout=5,
                                socket_connect_timeout=5, health_check_interval=30)


def _institution_name(session: Session, institution_id: int) -> str:
    from microcredit.parties import service as parties

    return parties.organisation.institution(session=session, institution_id=institution_id).name


def build_context(settings: Settings, *, database: Database | None = None,
                  clock: Clock | None = None, redis: Any | None = None) -> AppContext:
    """Assemble the process's parts from `settings` (pieces may be injected by tests)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    clock = clock or SystemClock()
    db = database or Database(settings.resolved_database_url, echo=settings.database_echo)
    sec = settings.security
    if redis is None and settings.redis_url:
        redis = connect_redis(settings.redis_url)
    limiter: RateLimiter = RedisRateLimiter(redis, clock) if redis is not None else DatabaseRateLimiter(clock)
    return AppContext(
        signature_resolver=_institution_name,
        settings=settings,
        db=db,
        clock=clock,
        cipher=FieldCipher.from_spec(sec.field_keys.get_secret_value(), sec.active_field_key),
        blind_index=BlindIndex(sec.blind_index_key.get_secret_value().encode()),
        hasher=PasswordHasher(time_cost=sec.argon2_time_cost, memory_kib=sec.argon2_memory_kib),
        rate_limiter=limiter,
        redis=redis,
    )
