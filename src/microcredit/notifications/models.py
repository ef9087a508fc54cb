"""The outbox: messages written in the business transaction, delivered after it commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from microcredit.db.base import Base
from microcredit.db.types import BigIntPK, UTCDateTime


class OutboxMessage(Base):
    """A message to deliver at least once (its payload is encrypted: it may carry codes)."""

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_pending", "dispatched_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    topic: Mapped[str] = mapped_column(String(64))  # e.g. "sms"
    payload_ciphertext: Mapped[str] = mapped_column(Text, info={"encrypted": "outbox_messages.payload"})
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
