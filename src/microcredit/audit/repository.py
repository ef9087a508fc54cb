"""Every query of the audit domain."""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, Select, bindparam, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.pool import Pool

from microcredit.audit.models import AuditHead, AuditRecord
from microcredit.db import copy
from microcredit.db.rows import table_of

HEAD_ID = 1
_INSERT = insert(AuditRecord)
_LOG = table_of(AuditRecord)
# Built once: each is run by every seal.
_HEAD = select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == HEAD_ID)
_HEAD_TAKE = _HEAD.with_for_update(skip_locked=True)
_HEAD_WAIT = _HEAD.with_for_update()
_HEAD_EXISTS = select(AuditHead.id).where(AuditHead.id == HEAD_ID)
# The engines (by their pools) that have seen the head row: it is never deleted, only moved -- a head not taken is
# then held, without asking again whether it exists (a round trip of every seal that finds it busy).
_HEAD_SEEN: weakref.WeakSet[Pool] = weakref.WeakSet()
_UNSEALED = select(_LOG).where(_LOG.c.seq.is_(None)).order_by(_LOG.c.id).limit(bindparam("batch"))
_ANY_UNSEALED = select(_LOG.c.id).where(_LOG.c.seq.is_(None)).limit(1)
_SEAL = (update(_LOG).where(_LOG.c.id == bindparam("b_id"))
         .values(seq=bindparam("b_seq"), prev_hash=bindparam("b_prev_hash"), hash=bindparam("b_hash")))
_ADVANCE = update(AuditHead).where(AuditHead.id == HEAD_ID).values(seq=bindparam("to_seq"), hash=bindparam("to_hash"))


def take_head(session: Session, genesis: str, *, wait: bool = False) -> tuple[int, str] | None:
    """The chain's head (last sequence number and hash), locked for this transaction -- or None at once if
    another transaction holds it (SELECT … FOR UPDATE SKIP LOCKED; with `wait`, FOR UPDATE: waits its turn and
    never returns None; SQLite renders no lock clause: its write transaction is exclusive already). Created (at
    `genesis`) by the very first seal.

    Two sealers of the very first records may both find no head: the loser's insert waits for the winner's
    commit and fails as a duplicate, then takes the winner's row (or finds it held and returns None)."""
    conn = session.connection()
    take = _HEAD_WAIT if wait else _HEAD_TAKE
    row = conn.execute(take).first()
    if row is None:
        pool = conn.engine.pool
        if not wait and (pool in _HEAD_SEEN or conn.execute(_HEAD_EXISTS).first() is not None):
            _HEAD_SEEN.add(pool)
            return None  # held by another sealer
        with contextlib.suppress(IntegrityError), session.begin_nested():
            session.add(AuditHead(id=HEAD_ID, seq=0, hash=genesis))
        row = conn.execute(take).first()
        if row is None:
            return None
    return int(row.seq), str(row.hash)


def advance_head(session: Session, seq: int, hash_: str) -> None:
    """Move the taken head to the last record sealed (one UPDATE through the connection, no flush)."""
    session.connection().execute(_ADVANCE, {"to_seq": seq, "to_hash": hash_})


def head(session: Session) -> AuditHead | None:
    """The chain's head row, if any record was ever sealed."""
    return session.get(AuditHead, HEAD_ID)


def insert_records(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Write records (unsealed) at once: no ORM objects (nobody reads them back); COPY for a large batch on
    PostgreSQL (a close of business's partition: `db.copy`), else the Core insert with the rows' parameters (a
    multi-row INSERT where the driver makes one, else the driver's executemany). The ORM's bulk insert costs
    twice its CPU, a `.values([...])` ten times."""
    if copy.uses_copy(session, len(rows)):
        copy.insert_many(session, _LOG, rows)
    else:
        session.connection().execute(_INSERT, list(rows))


def unsealed(session: Session, batch: int) -> Sequence[Row[Any]]:
    """The first `batch` committed records without a number, in the order they were written (id). Found by the
    unique index on `seq` (`seq IS NULL`) on every backend."""
    return session.connection().execute(_UNSEALED, {"batch": batch}).all()


def any_unsealed(session: Session) -> bool:
    """Whether a record without a number is there (the sealer's re-check)."""
    return session.connection().execute(_ANY_UNSEALED).first() is not None


def any_unsealed_autocommit(connection: Connection) -> bool:
    """`any_unsealed` as one statement of its own on `connection` (no transaction open on it): AUTOCOMMIT for the
    one SELECT, then the dialect's default level again -- no BEGIN and no COMMIT around it. Reads what was
    committed before it, as the first SELECT of a new READ COMMITTED transaction would. (The default as the
    dialect read it at its first connection: asking the connection for its level is a round trip of its own.)"""
    level = connection.default_isolation_level
    connection.execution_options(isolation_level="AUTOCOMMIT")
    try:
        found = connection.execute(_ANY_UNSEALED).first() is not None
        connection.rollback()  # the statement's autobegun "transaction": nothing is sent in AUTOCOMMIT
    finally:
        connection.execution_options(isolation_level=level)
    return found


def seal_records(session: Session, sealed: Sequence[dict[str, Any]], *, head: tuple[int, str]) -> None:
    """Give records their numbers and hashes (`b_id`, `b_seq`, `b_prev_hash`, `b_hash`) and move the taken head to
    `head` (the last one's number and hash). On PostgreSQL one statement, whatever the number of records: an
    `UPDATE … FROM unnest(arrays)` of the log in a WITH and the head's UPDATE (one round trip, four arrays).
    Elsewhere one UPDATE by id run as the driver's executemany, then the head's UPDATE."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(_SEAL_ARRAYS, {"ids": [r["b_id"] for r in sealed], "seqs": [r["b_seq"] for r in sealed],
                                          "prevs": [r["b_prev_hash"] for r in sealed],
                                          "hashes": [r["b_hash"] for r in sealed], "head_id": HEAD_ID,
                                          "to_seq": head[0], "to_hash": head[1]})
        return
    connection.execute(_SEAL, list(sealed))
    advance_head(session, *head)


# A data-modifying WITH runs to completion whether or not the statement reads it (PostgreSQL's documentation).
_SEAL_ARRAYS = text(
    "WITH sealed AS (UPDATE audit_log SET seq = v.seq, prev_hash = v.prev_hash, hash = v.hash "
    "FROM unnest(CAST(:ids AS BIGINT[]), CAST(:seqs AS BIGINT[]), CAST(:prevs AS VARCHAR[]), "
    "CAST(:hashes AS VARCHAR[])) AS v(id, seq, prev_hash, hash) WHERE audit_log.id = v.id) "
    "UPDATE audit_head SET seq = :to_seq, hash = :to_hash WHERE id = :head_id")


def unsealed_summary(session: Session) -> tuple[int, datetime | None]:
    """How many records are not sealed yet, and the oldest one's time."""
    row = session.execute(select(func.count(), func.min(AuditRecord.at)).where(AuditRecord.seq.is_(None))).one()
    return int(row[0] or 0), row[1]


def first_past(session: Session, seq: int) -> int | None:
    """The lowest sequence number above `seq` (a record numbered past the head blocks the next seal)."""
    return session.scalar(select(func.min(AuditRecord.seq)).where(AuditRecord.seq > seq))


def records_after(session: Session, seq: int, limit: int) -> Sequence[AuditRecord]:
    """The next `limit` sealed records after sequence number `seq`, in order."""
    return session.scalars(select(AuditRecord).where(AuditRecord.seq > seq).order_by(AuditRecord.seq)
                           .limit(limit)).all()


def count_sealed(session: Session) -> int:
    """All sealed records, whatever their sequence numbers."""
    return session.scalar(select(func.count()).select_from(AuditRecord).where(AuditRecord.seq.is_not(None))) or 0


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
    """The records about one entity (of one action when given), newest first (the order written: a record not
    sealed yet has no number)."""
    stmt = select(AuditRecord).where(AuditRecord.entity_type == entity_type, AuditRecord.entity_id == entity_id)
    if action:
        stmt = stmt.where(AuditRecord.action == action)
    return session.scalars(stmt.order_by(AuditRecord.id.desc()).limit(limit)).all()
