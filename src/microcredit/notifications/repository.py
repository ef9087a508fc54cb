"""Every query of the notifications domain (the outbox)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, delete, func, insert, or_, select, update
from sqlalchemy.orm import Session

from microcredit.db.rows import insert_written, table_of
from microcredit.notifications.models import SENDABLE, InboxMessage, InboxSms, OutboxMessage, OutboxStatus


def add(session: Session, message: OutboxMessage, *, flush: bool = True) -> None:
    """Queue a message (flushed, so it has its id; `flush` False: written by the transaction's next flush)."""
    session.add(message)
    if flush:
        session.flush()


_INSERT_OUTBOX = insert(table_of(OutboxMessage))
_INSERT_INBOX = insert(table_of(InboxMessage))


def insert_outbox_rows(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Queue messages from their column values in one statement (a multi-row INSERT where the driver makes one,
    else the driver's executemany), through the session's connection: no ORM objects, no flush, no ids."""
    if rows:
        session.connection().execute(_INSERT_OUTBOX, list(rows))


def insert_outbox_rows_returning_ids(session: Session, rows: Sequence[dict[str, Any]]) -> list[int]:
    """`insert_outbox_rows` with the new rows' ids, in the order of `rows` (one INSERT … RETURNING where the
    database has it; SQLAlchemy's insertmanyvalues sorts them by the parameters' order)."""
    if not rows:
        return []
    stmt = _INSERT_OUTBOX.returning(table_of(OutboxMessage).c.id, sort_by_parameter_order=True)
    return [int(r[0]) for r in session.connection().execute(stmt, list(rows))]


def get(session: Session, message_id: int) -> OutboxMessage | None:
    """The message with this id."""
    return session.get(OutboxMessage, message_id)


def due(session: Session, *, now: datetime, limit: int, topics: tuple[str, ...],
        only: Collection[int] | None = None) -> list[tuple[int, str]]:
    """(id, topic) of pending or retrying messages of `topics` whose next attempt is due, oldest first; `only`:
    among these messages alone."""
    stmt = (select(OutboxMessage.id, OutboxMessage.topic)
            .where(OutboxMessage.status.in_(SENDABLE), OutboxMessage.next_attempt_at <= now,
                   OutboxMessage.topic.in_(topics)))
    if only is not None:
        stmt = stmt.where(OutboxMessage.id.in_(list(only)))
    return [(int(i), str(t)) for i, t in session.execute(stmt.order_by(OutboxMessage.id).limit(limit))]


def sendable_many_for_update(session: Session, message_ids: Collection[int], *, skip_locked: bool,
                             due_by: datetime) -> list[OutboxMessage]:
    """`sendable_for_update` of several messages in one statement (those another dispatcher holds: skipped)."""
    stmt = select(OutboxMessage).where(OutboxMessage.id.in_(list(message_ids)), OutboxMessage.status.in_(SENDABLE),
                                       OutboxMessage.next_attempt_at <= due_by).order_by(OutboxMessage.id)
    return list(session.scalars(stmt.with_for_update(skip_locked=skip_locked)
                                .execution_options(populate_existing=True)))


def by_dedupe_key(session: Session, topic: str, key: str, *, latest: bool = False) -> OutboxMessage | None:
    """The message of `topic` stored under `key`, if any. `latest`: a locking read, which sees a row committed
    since the transaction's snapshot (MariaDB's repeatable read would not)."""
    stmt = select(OutboxMessage).where(OutboxMessage.topic == topic, OutboxMessage.dedupe_key == key)
    return session.scalar(stmt.with_for_update() if latest else stmt)


def sendable_for_update(session: Session, message_id: int, *, skip_locked: bool,
                        due_by: datetime | None = None) -> OutboxMessage | None:
    """The message, locked, if it is still to be sent (not delivered, dead or cancelled meanwhile).

    With `due_by`, only if it is due by then (another dispatcher may have tried it since it was
    found due, and put it off). With `skip_locked`, a message another dispatcher holds is skipped.
    """
    stmt = select(OutboxMessage).where(OutboxMessage.id == message_id, OutboxMessage.status.in_(SENDABLE))
    if due_by is not None:
        stmt = stmt.where(OutboxMessage.next_attempt_at <= due_by)
    return session.scalar(stmt.with_for_update(skip_locked=skip_locked).execution_options(populate_existing=True))


def for_update(session: Session, message_id: int) -> OutboxMessage | None:
    """The message, locked (waits for a dispatcher delivering it right now), as it now stands."""
    return session.scalar(select(OutboxMessage).where(OutboxMessage.id == message_id).with_for_update()
                          .execution_options(populate_existing=True))


def count_sendable(session: Session) -> int:
    """Messages waiting to be sent (pending or retrying)."""
    return int(session.scalar(select(func.count()).select_from(OutboxMessage)
                              .where(OutboxMessage.status.in_(SENDABLE))) or 0)


def messages_query(*, institution_id: int | None, status: str | None = None, topic: str | None = None,
                   template: str | None = None, since: datetime | None = None,
                   until: datetime | None = None) -> Select[Any]:
    """Messages filtered (the caller sorts and pages); `institution_id` None: every institution."""
    return select(OutboxMessage).where(*_filters(institution_id=institution_id, status=status, topic=topic,
                                                 template=template, since=since, until=until))


def counts_by_status(session: Session, *, institution_id: int | None, topic: str | None = None,
                     template: str | None = None, since: datetime | None = None,
                     until: datetime | None = None) -> dict[str, int]:
    """How many messages stand in each status (statuses with none are left out)."""
    stmt = (select(OutboxMessage.status, func.count())
            .where(*_filters(institution_id=institution_id, status=None, topic=topic, template=template,
                             since=since, until=until))
            .group_by(OutboxMessage.status))
    return {str(status): int(n) for status, n in session.execute(stmt).all()}


def _filters(*, institution_id: int | None, status: str | None, topic: str | None, template: str | None,
             since: datetime | None, until: datetime | None) -> list[Any]:
    out: list[Any] = []
    if institution_id is not None:
        out.append(OutboxMessage.institution_id == institution_id)
    if status is not None:
        out.append(OutboxMessage.status == status)
    if topic:
        out.append(OutboxMessage.topic == topic)
    if template:
        out.append(OutboxMessage.template == template)
    if since is not None:
        out.append(OutboxMessage.created_at >= since)
    if until is not None:
        out.append(OutboxMessage.created_at < until)
    return out


def delete_finished_before(session: Session, before: datetime) -> int:
    """Delete messages delivered, cancelled or dead since before `before`; returns how many."""
    finished = or_(
        and_(OutboxMessage.status == OutboxStatus.DELIVERED.value, OutboxMessage.dispatched_at < before),
        and_(OutboxMessage.status == OutboxStatus.CANCELLED.value, OutboxMessage.cancelled_at < before),
        and_(OutboxMessage.status == OutboxStatus.DEAD.value, OutboxMessage.last_attempt_at < before),
    )
    result = session.execute(delete(OutboxMessage).where(finished))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# --- the in-app inbox ----------------------------------------------------------------------------


def add_inbox(session: Session, message: InboxMessage, *, flush: bool = True) -> InboxMessage:
    """Store an in-app notification: written now, with its id (a Core `INSERT … RETURNING id`, no flush: the
    message given back is the row written, outside the session); `flush` False: staged, written by the
    transaction's next flush."""
    if not flush:
        session.add(message)
        return message
    return insert_written(session, message)


def insert_inbox_rows(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Store in-app notifications from their column values in one statement (as `insert_outbox_rows`)."""
    if rows:
        session.connection().execute(_INSERT_INBOX, list(rows))


def inbox_to_text(session: Session, *, limit: int) -> list[int]:
    """Ids of in-app notifications waiting to be queued as SMS, oldest first."""
    return list(session.scalars(select(InboxMessage.id).where(InboxMessage.sms_status == InboxSms.PENDING.value)
                                .order_by(InboxMessage.id).limit(limit)))


def inbox_to_text_for_update(session: Session, message_id: int, *, skip_locked: bool) -> InboxMessage | None:
    """The notification, locked, if it still waits to be texted (a dispatcher holding it: skipped)."""
    return session.scalar(select(InboxMessage).where(InboxMessage.id == message_id,
                                                     InboxMessage.sms_status == InboxSms.PENDING.value)
                          .with_for_update(skip_locked=skip_locked).execution_options(populate_existing=True))


def inbox_to_text_many_for_update(session: Session, *, limit: int, skip_locked: bool) -> list[InboxMessage]:
    """Up to `limit` notifications waiting to be texted, oldest first, locked (those a dispatcher holds: skipped)."""
    stmt = (select(InboxMessage).where(InboxMessage.sms_status == InboxSms.PENDING.value)
            .order_by(InboxMessage.id).limit(limit))
    return list(session.scalars(stmt.with_for_update(skip_locked=skip_locked)
                                .execution_options(populate_existing=True)))


def inbox_query(*, user_id: int) -> Select[Any]:
    """A user's in-app notifications, newest first."""
    return select(InboxMessage).where(InboxMessage.user_id == user_id).order_by(InboxMessage.id.desc())


def inbox_unread(session: Session, *, user_id: int) -> int:
    """How many of a user's in-app notifications are unread."""
    return int(session.scalar(select(func.count()).select_from(InboxMessage)
                              .where(InboxMessage.user_id == user_id, InboxMessage.read_at.is_(None))) or 0)


def inbox_message(session: Session, *, user_id: int, message_id: int) -> InboxMessage | None:
    """One of a user's in-app notifications (another user's: None)."""
    return session.scalar(select(InboxMessage).where(InboxMessage.id == message_id,
                                                     InboxMessage.user_id == user_id))


def inbox_mark_all_read(session: Session, *, user_id: int, at: datetime) -> int:
    """Mark every unread notification of a user read; how many were."""
    result = session.execute(update(InboxMessage).where(InboxMessage.user_id == user_id,
                                                        InboxMessage.read_at.is_(None))
                             .values(read_at=at).execution_options(synchronize_session=False))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
