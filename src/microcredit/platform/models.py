"""Tables of the shared mechanisms: rate-limit counters and idempotency keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from microcredit.db.base import Base
from microcredit.db.types import BigIntPK, LongBinary, UTCDateTime


class RateLimitCounter(Base):
    """Hits of one key in one fixed window (used when Redis is not configured)."""

    __tablename__ = "rate_limit_counters"
    __table_args__ = (UniqueConstraint("bucket", "window_start"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    bucket: Mapped[str] = mapped_column(String(200))
    window_start: Mapped[int] = mapped_column(Integer)
    hits: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class IdempotencyRecord(Base):
    """The first result of a request made with an `Idempotency-Key`."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("principal", "key"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    principal: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(255))
    operation: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    response_body: Mapped[bytes | None] = mapped_column(LongBinary, nullable=True)
    content_type: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
