"""Every query of the audit domain."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from microcredit.audit.models import AuditHead, AuditRecord

HEAD_ID = 1
_INSERT = insert(AuditRecord)
_HEAD_LOCK = select(AuditHead).where(AuditHead.id == HEAD_ID).with_for_update()  # built once: every commit


def head_for_update(session: Session, genesis: str) -> AuditHead:
    """The chain's head row, locked for the append; created (at `genesis`) by the very first append.

    Two writers of the very first append may both find no head: the loser's insert
    waits for the winner's commit and fails as a duplicate, then locks the winner's row.
    """
    lock = _HEAD_LOCK
    head = session.execute(lock).scalar_one_or_none()
    if head is None:
        with contextlib.suppress(IntegrityError), session.begin_nested():
            session.add(AuditHead(id=HEAD_ID, seq=0, hash=genesis))
        head = session.execute(lock).scalar_one()
    return head


_ADVANCE = update(AuditHead).where(AuditHead.id == HEAD_ID).values(seq=bindparam("to_seq"), hash=bindparam("to_hash"))


def advance_head(session: Session, head: AuditHead, seq: int, hash_: str) -> None:
    """Move the locked head to the last record written: one UPDATE through the connection (no flush), the loaded
    row given the same values as its state in the database."""
    session.connection().execute(_ADVANCE, {"to_seq": seq, "to_hash": hash_})
    set_committed_value(head, "seq", seq)
    set_committed_value(head, "hash", hash_)


def head(session: Session) -> AuditHead | None:
    """The chain's head row, if any record was ever appended."""
    return session.get(AuditHead, HEAD_ID)


def insert_records(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Write numbered and hashed records in one statement: no ORM objects (nobody reads them back), and the
    Core insert with the rows' parameters (a multi-row INSERT where the driver makes one, else the driver's
    executemany). The ORM's bulk insert costs twice its CPU, a `.values([...])` ten times."""
    session.connection().execute(_INSERT, list(rows))


def records_after(session: Session, seq: int, limit: int) -> Sequence[AuditRecord]:
    """The next `limit` records after sequence number `seq`, in order."""
    return session.scalars(select(AuditRecord).where(AuditRecord.seq > seq).order_by(AuditRecord.seq)
                           .limit(limit)).all()


def count_records(session: Session) -> int:
    """All records, whatever their sequence numbers."""
    return session.scalar(select(func.count()).select_from(AuditRecord)) or 0


def records_query(*, institution_id: int | None, action: str | None = None, actor_user_id: int | None = None,
                  entity_type: str | None = None, entity_id: str | None = None,
                  since: datetime | None = None, until: datetime | None = None) -> Select[Any]:
    """Audit records filtered (the caller sorts and pages)."""
    stmt = select(AuditRecord)
    if institution_id is not None:
        stmt = stmt.where(AuditRecord.institution_id == institution_id)
    if action:
        stmt = stmt.where(AuditRecord.action.like(f"{action}%"))
    if actor_user_id is not None:
        stmt = stmt.where(AuditRecord.actor_user_id == actor_user_id)
    if entity_type:
        stmt = stmt.where(AuditRecord.entity_type == entity_type)
    if entity_id:
        stmt = stmt.where(AuditRecord.entity_id == entity_id)
    if since is not None:
        stmt = stmt.where(AuditRecord.at >= since)
    if until is not None:
        stmt = stmt.where(AuditRecord.at < until)
    return stmt


def entity_records(session: Session, *, entity_type: str, entity_id: str, action: str | None = None,
                   limit: int = 500) -> Sequence[AuditRecord]:
    """The records about one entity (of one action when given), newest first."""
    stmt = select(AuditRecord).where(AuditRecord.entity_type == entity_type, AuditRecord.entity_id == entity_id)
    if action:
        stmt = stmt.where(AuditRecord.action == action)
    return session.scalars(stmt.order_by(AuditRecord.seq.desc()).limit(limit)).all()
