"""The outbox (messages written in the business transaction, delivered after it commits) and the
in-app inbox (notifications a user reads in the app)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from microcredit.db.base import Base
from microcredit.db.types import BigIntPK, UTCDateTime


class OutboxStatus(enum.StrEnum):
    """Where a message stands.

    * `pending` — waiting for its first attempt;
    * `retrying` — failed at least once, will be tried again at `next_attempt_at`;
    * `dead` — failed `MAX_ATTEMPTS` times: no longer tried until someone retries it;
    * `delivered` — the channel accepted it (final);
    * `cancelled` — someone decided it will not be sent (final).
    """

    PENDING = "pending"
    RETRYING = "retrying"
    DEAD = "dead"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


class InboxSms(enum.StrEnum):
    """Whether an in-app notification is texted too (None: the app only)."""

    PENDING = "pending"
    QUEUED = "queued"
    NO_PHONE = "no_phone"


# The statuses the dispatcher sends; the others wait for a person (dead) or are final.
SENDABLE = (OutboxStatus.PENDING.value, OutboxStatus.RETRYING.value)


class OutboxMessage(Base):
    """A message to deliver at least once (its payload is encrypted: it may carry codes).

    What the outbox monitor shows — template, masked recipient, institution — is kept
    in plain columns written at enqueue time, so that listing never decrypts a payload.
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        Index("ix_outbox_inst_status", "institution_id", "status", "created_at"),
        Index("ux_outbox_dedupe", "topic", "dedupe_key", unique=True),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    topic: Mapped[str] = mapped_column(String(64))  # the channel, e.g. "sms", or "payment_callback"
    # What makes a message the same as one stored already (unique per topic; None: nothing does).
    dedupe_key: Mapped[str | None] = mapped_column(String(128), nullable=True)
    payload_ciphertext: Mapped[str] = mapped_column(Text, info={"encrypted": "outbox_messages.payload"})
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.PENDING.value)
    # None on messages queued before the monitor existed (migration 0007).
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("institutions.id"), nullable=True)
    template: Mapped[str | None] = mapped_column(String(64), nullable=True)
    recipient_masked: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Held until then (a collection SMS queued in the debtor's quiet hours): no attempt, not even a retry's,
    # is made before it. None: not held.
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)  # delivered at
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)


class InboxMessage(Base):
    """An in-app notification to one user: a template key and its parameters, rendered by the app.

    The text is not stored: the app renders it from its catalogues in the reader's language.
    `params` hold only what the text shows (an application number, an amount, a count; never
    a secret or a full ID number). The subject (kind + id, e.g. "application", 42) is where a
    tap leads; no foreign key, as with documents.

    `sms_status` says whether it is texted as well (`InboxSms`): None in the app only; 'pending' until the
    dispatcher, which holds the keys to the phone number, queues it as an SMS in the outbox
    (`sms_outbox_id`), then 'queued'; 'no_phone' when the user has no number to text.
    """

    __tablename__ = "inbox_messages"
    __table_args__ = (Index("ix_inbox_user", "user_id", "read_at", "id"),
                      Index("ix_inbox_sms", "sms_status", "id"))

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("institutions.id"), nullable=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    template: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    subject_kind: Mapped[str | None] = mapped_column(String(32), nullable=True)
    subject_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    sms_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    sms_outbox_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
