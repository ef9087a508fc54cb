"""Every query of the notifications domain (the outbox)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from microcredit.notifications.models import OutboxMessage


def add(session: Session, message: OutboxMessage) -> None:
    """Queue a message (flushed, so it has its id)."""
    session.add(message)
    session.flush()


def get(session: Session, message_id: int) -> OutboxMessage | None:
    """The message with this id."""
    return session.get(OutboxMessage, message_id)


def due_ids(session: Session, *, now: datetime, limit: int) -> list[int]:
    """Ids of undelivered messages whose next attempt is due, oldest first."""
    return list(session.scalars(
        select(OutboxMessage.id).where(OutboxMessage.dispatched_at.is_(None), OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.id).limit(limit)))


def undelivered_for_update(session: Session, message_id: int, *, skip_locked: bool) -> OutboxMessage | None:
    """The message, locked, unless it was delivered (or, with `skip_locked`, another dispatcher holds it)."""
    return session.scalar(
        select(OutboxMessage).where(OutboxMessage.id == message_id, OutboxMessage.dispatched_at.is_(None))
        .with_for_update(skip_locked=skip_locked))


def count_undelivered(session: Session) -> int:
    """Messages not yet delivered."""
    return int(session.scalar(select(func.count()).select_from(OutboxMessage)
                              .where(OutboxMessage.dispatched_at.is_(None))) or 0)


def delete_delivered_before(session: Session, before: datetime) -> int:
    """Delete messages delivered before `before`; returns how many."""
    result = session.execute(delete(OutboxMessage).where(OutboxMessage.dispatched_at < before))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
