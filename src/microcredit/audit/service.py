"""The audit log: append-only records chained by SHA-256, and their verification.

Each record's hash covers its content and the previous record's hash::

    hash_n = SHA-256(canonical_json(record_n without hash) ‖ hash_{n-1}),  hash_0 = 64 × "0"

Records carry a gapless sequence number, and the `audit_head` row keeps the
last sequence number and hash. `verify()` recomputes the chain: an edited
record breaks its own hash, a deleted one leaves a gap in the sequence or a
broken link, a truncated tail disagrees with the head.

A record is written in two steps (docs/architecture.md, "The audit log"):

1. *Written* with its action, in the action's transaction: no action without its
   record. A record is kept in the session until the commit (`write_pending`, run
   by `before_commit`), then the transaction's records are INSERTed in one
   statement *unsealed* -- `seq`, `prev_hash` and `hash` NULL. No shared row is
   taken: concurrent audited actions do not wait for each other here. A record made
   inside a savepoint that rolls back goes with it; a transaction that rolls back
   leaves none.
2. *Sealed* just after the commit (`seal`), in a short transaction of its own: the
   head is taken with SELECT … FOR UPDATE SKIP LOCKED -- held by another sealer, the
   seal returns at once -- the committed unsealed records are numbered in the order
   written (id), hashed, UPDATEd, the head advanced, committed. A sealer checks
   again after its commit, in a new transaction, and seals on while records are
   left: a writer whose seal found the head held committed before the holder's
   commit, so the holder's re-check sees its records (no record left behind). The
   session that wrote records seals them after its transaction has ended (its
   connection back in the pool: on SQLite the writer's turn given back); `audit
   verify`/`anchor` and the API process's background poller seal too (records left
   by a crash between the commit and the seal).

Between the commit and the seal (milliseconds) a record is in the table unsealed:
shown by the readers (no number yet), counted by `verify`, and reported as a
problem once older than `security.audit_unsealed_alarm_seconds`. Someone who edits
it in that window edits what gets sealed (docs/security.md).

SQLite has one writer at a time anyway, and a second write transaction per action
costs its writes (docs/performance.md, issue 17): there `write_pending` seals in
the action's own transaction (`SEALS_AT_COMMIT`): the same function, one flag.

Someone who can rewrite the whole table *and* the head can forge a consistent
chain; `audit anchor` prints the head hash to keep outside the database (a
ticket, a printed report) so that even that is caught (see docs/security.md).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import Connection, Engine, event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, SessionTransaction

from microcredit.audit import repository
from microcredit.audit.errors import AnchorMalformed
from microcredit.audit.models import AuditRecord
from microcredit.clock import Clock
from microcredit.db.engine import Database, staged_for_commit
from microcredit.platform import staging
from microcredit.platform.actor import Actor
from microcredit.platform.paging import order_by

GENESIS = "0" * 64


_PLAIN = frozenset({str, int, bool, type(None)})


def canonical(value: Any) -> Any:
    """Make `value` JSON-safe and stable: decimals and dates as strings, keys sorted later."""
    kind = type(value)
    if kind in _PLAIN:  # the common leaves first, by exact type: no ABC checks for them (a record has dozens)
        return value
    if kind is dict:
        return {str(k): v if type(v) in _PLAIN else canonical(v) for k, v in value.items()}
    if isinstance(value, Mapping):
        return {str(k): canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [canonical(v) for v in value]
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)  # Decimal, date, datetime, enums


@dataclass(slots=True)
class Pending:
    """A record made in a transaction and not yet written (the row `write_pending` writes), or one being sealed."""

    seq: int | None  # None: not sealed
    at: datetime
    institution_id: int | None
    actor_user_id: int | None
    actor_kind: str
    action: str
    entity_type: str | None
    entity_id: str | None
    ip: str | None
    user_agent: str | None
    request_id: str | None
    before: Any
    after: Any
    prev_hash: str | None
    hash: str | None
    made_in: SessionTransaction | None  # the savepoint it was made in (None: the transaction itself)

    def row(self) -> dict[str, Any]:
        """The values of its row in the audit table."""
        return {"seq": self.seq, "at": self.at, "institution_id": self.institution_id,
                "actor_user_id": self.actor_user_id, "actor_kind": self.actor_kind, "action": self.action,
                "entity_type": self.entity_type, "entity_id": self.entity_id, "ip": self.ip,
                "user_agent": self.user_agent, "request_id": self.request_id, "before": self.before,
                "after": self.after, "prev_hash": self.prev_hash, "hash": self.hash}


def _content(r: AuditRecord | Pending) -> dict[str, Any]:
    return {
        "seq": r.seq,
        "at": r.at.isoformat(timespec="microseconds"),
        "institution_id": r.institution_id,
        "actor_user_id": r.actor_user_id,
        "actor_kind": r.actor_kind,
        "action": r.action,
        "entity_type": r.entity_type,
        "entity_id": r.entity_id,
        "ip": r.ip,
        "user_agent": r.user_agent,
        "request_id": r.request_id,
        "before": r.before,
        "after": r.after,
        "prev_hash": r.prev_hash,
    }


def record_hash(r: AuditRecord | Pending) -> str:
    """The hash a record must carry."""
    data = json.dumps(_content(r), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(data.encode() + (r.prev_hash or "").encode()).hexdigest()


@dataclass(frozen=True)
class Entry:
    """One record to append: what was done to what, and the state before and after."""

    action: str
    entity_type: str | None = None
    entity_id: object | None = None
    before: Mapping[str, Any] | None = None
    after: Mapping[str, Any] | None = None
    institution_id: int | None = None


def record(
    *,
    session: Session,
    clock: Clock,
    actor: Actor,
    action: str,
    entity_type: str | None = None,
    entity_id: object | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    institution_id: int | None = None,
) -> Pending:
    """Append one record to the chain (in the caller's transaction)."""
    return record_many(session=session, clock=clock, actor=actor, entries=[Entry(
        action=action, entity_type=entity_type, entity_id=entity_id, before=before, after=after,
        institution_id=institution_id)])[0]


_PENDING = staged_for_commit("audit.unwritten")  # a read holding records is committed (db.engine.end_read)
_WRITTEN = "audit.written"  # session.info: the bind of a transaction that wrote records to seal after its commit
_TO_SEAL = "audit.to_seal"  # session.info: the same, once the transaction committed

SEALS_AT_COMMIT = frozenset({"sqlite"})
"""Backends whose records are sealed in the action's own transaction (`write_pending`): SQLite, whose writers take
turns anyway and for which a second write transaction per action costs (docs/performance.md, issue 17)."""

SEAL_BATCH = 500
"""Records a seal numbers per transaction (it goes on in the next one while more are left)."""

log = structlog.get_logger(__name__)


def record_many(*, session: Session, clock: Clock, actor: Actor, entries: Sequence[Entry]) -> list[Pending]:
    """Append several records of one actor, in order: what a use case that writes several audited things at
    once calls. They are written when the transaction commits and sealed after it (the module docstring)."""
    at: datetime = clock.now()
    if not session.in_transaction():
        session.begin()  # the records are the transaction's: its end writes or forgets them
    made_in = session.get_nested_transaction()
    user_agent = (actor.meta.user_agent or "")[:255] or None
    out = [Pending(
        seq=None, at=at,
        institution_id=e.institution_id if e.institution_id is not None else actor.institution_id,
        actor_user_id=actor.user_id, actor_kind=actor.kind, action=e.action, entity_type=e.entity_type,
        entity_id=None if e.entity_id is None else str(e.entity_id), ip=actor.meta.ip, user_agent=user_agent,
        request_id=actor.meta.request_id,
        before=canonical(e.before) if e.before is not None else None,
        after=canonical(e.after) if e.after is not None else None,
        prev_hash=None, hash=None, made_in=made_in) for e in entries]
    session.info.setdefault(_PENDING, []).extend(out)
    return out


def waiting(session: Session) -> list[Pending]:
    """The records this transaction made that its commit will write (not numbered yet), in order."""
    return list(session.info.get(_PENDING, []))


def write_pending(session: Session) -> None:
    """Write the records this transaction made, in order, in one INSERT, unsealed -- or, on a backend of
    `SEALS_AT_COMMIT`, numbered and hashed under the head, taken here and held to the commit (on SQLite the
    transaction's write lock has it already), and written sealed. Everything
    else pending is flushed first. Called by `before_commit`; call it yourself inside a savepoint to have the
    write's own failure there."""
    pending: list[Pending] = session.info.pop(_PENDING, [])
    if not pending:
        return
    session.flush()
    bind = session.get_bind()
    if bind.dialect.name not in SEALS_AT_COMMIT:
        repository.insert_records(session, [rec.row() for rec in pending])
        session.info[_WRITTEN] = bind
        return
    taken = repository.take_head(session, GENESIS, wait=True)
    assert taken is not None, "a head taken with wait is never None"
    seq, last = taken
    for rec in pending:
        seq += 1
        rec.seq, rec.prev_hash = seq, last
        rec.hash = last = record_hash(rec)
    repository.insert_records(session, [rec.row() for rec in pending])
    repository.advance_head(session, seq, last)


def _seal_round(session: Session, batch: int) -> int | None:
    """Number and hash the first `batch` committed unsealed records, in the order written, under the head;
    None (at once) if another sealer holds it."""
    taken = repository.take_head(session, GENESIS)
    if taken is None:
        return None
    seq, last = taken
    rows = repository.unsealed(session, batch)
    if not rows:
        return 0
    sealed = []
    for row in rows:
        seq += 1
        rec = Pending(seq=seq, at=row.at, institution_id=row.institution_id, actor_user_id=row.actor_user_id,
                      actor_kind=row.actor_kind, action=row.action, entity_type=row.entity_type,
                      entity_id=row.entity_id, ip=row.ip, user_agent=row.user_agent, request_id=row.request_id,
                      before=row.before, after=row.after, prev_hash=last, hash=None, made_in=None)
        last = record_hash(rec)
        sealed.append({"b_id": row.id, "b_seq": seq, "b_prev_hash": rec.prev_hash, "b_hash": last})
    repository.seal_records(session, sealed, head=(seq, last))
    return len(rows)


def seal(session: Session, *, batch: int = SEAL_BATCH) -> int:
    """Seal the committed unsealed records: number them in the order written, hash them, advance the head; in
    short transactions of `session` (which must have none open), `batch` records each. Returns at once when
    another sealer holds the head (its re-check after its commit covers what is left); after each of its own
    commits, checks again in a new transaction and goes on while records are left. Returns how many it sealed.

    A record numbered past the head (forged) makes the seal fail on `seq`'s uniqueness: logged, nothing sealed,
    and `verify` reports it (`record_verification`) and the unsealed records once they are old."""
    total = 0
    while True:
        try:
            with session.begin():
                sealed = _seal_round(session, batch)
        except IntegrityError:
            log.error("audit.seal_blocked", sealed=total)
            return total
        if sealed is None:
            return total
        total += sealed
        if not _any_unsealed_after(session):
            return total


RECHECK_AUTOCOMMIT = frozenset({"postgresql"})
"""The backends whose sealer re-checks after its commit with one autocommitted SELECT (`_any_unsealed_after`):
psycopg switches autocommit on the client, with nothing sent. PyMySQL sends a `SET autocommit` each way, so on
MariaDB the re-check stays a transaction of its own -- a SELECT and a COMMIT (the driver sends no BEGIN)."""


def _any_unsealed_after(session: Session) -> bool:
    """The sealer's re-check after its commit, which released the head: whether a record is left unsealed (one
    that a writer committed while this sealer held the head, whose own seal then found the head held and left
    it to this one). It must run after the commit -- inside the sealing transaction, a record committed between
    the check and the commit would be left to nobody. On a connection of the sealer's own with no transaction
    open (`seal_with` on an engine), one autocommitted SELECT where the driver allows it cheaply
    (`RECHECK_AUTOCOMMIT`); otherwise in a transaction of its own."""
    bind = session.get_bind()
    if isinstance(bind, Connection) and bind.dialect.name in RECHECK_AUTOCOMMIT and not bind.in_transaction():
        return repository.any_unsealed_autocommit(bind)
    with session.begin():
        return repository.any_unsealed(session)


def seal_with(bind: Engine | Connection) -> int:
    """`seal` in a session of its own on `bind` (an engine, or in tests the connection of an outer transaction,
    joined by savepoints)."""
    if isinstance(bind, Connection):
        with Session(bind=bind, join_transaction_mode="create_savepoint") as sealer:
            return seal(sealer)
    # One connection for the seal's transactions and its re-check: one checkout (and its ping) from the pool.
    with bind.connect() as connection, Session(bind=connection) as sealer:
        return seal(sealer)


def seal_left(db: Database) -> int:
    """Seal what is left unsealed (records of a process that ended between a commit and its seal, of a seal
    that failed): what `audit verify`/`anchor`, `microcredit housekeeping` and the API process's background
    poller run. One read when nothing is left."""
    with db.unit_of_work(write=False) as session:
        if not repository.any_unsealed(session):
            return 0
    with db.unit_of_work() as session:
        return seal(session)


@event.listens_for(Session, "before_commit")
def _write_at_commit(session: Session) -> None:
    write_pending(session)


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    if session.get_nested_transaction() is None and _WRITTEN in session.info:  # the transaction, not a savepoint
        session.info[_TO_SEAL] = session.info.pop(_WRITTEN)


@event.listens_for(Session, "after_soft_rollback")
def _forget_at_rollback(session: Session, previous: SessionTransaction) -> None:
    """A rolled-back transaction leaves no records; a rolled-back savepoint takes those made inside it."""
    staging.forget_rolled_back(session, _PENDING, previous, lambda rec: rec.made_in)


@event.listens_for(Session, "after_transaction_end")
def _seal_after_commit(session: Session, transaction: SessionTransaction) -> None:
    """The outermost transaction ended: forget what it did not write; if it committed records, seal them now --
    its connection is back in the pool (SQLite: the writer's turn given back). The action is committed whatever
    the seal does: a failure is logged and left to the next sealer."""
    if transaction.parent is not None:
        return
    session.info.pop(_PENDING, None)
    session.info.pop(_WRITTEN, None)
    bind = session.info.pop(_TO_SEAL, None)
    if bind is None:
        return
    try:
        seal_with(bind)
    except Exception:  # the action is committed; the poller or the next writer seals
        log.exception("audit.seal_failed")


@dataclass(frozen=True)
class VerifyResult:
    """What `verify` found."""

    ok: bool
    records: int
    head_seq: int
    head_hash: str
    problems: tuple[str, ...]
    first_bad_seq: int | None = None
    unsealed: int = 0  # records written and not sealed yet (not a problem unless old: `verify`)


def _iter_records(session: Session, batch: int = 2000) -> Iterator[tuple[int, AuditRecord]]:
    """The sealed records in sequence order, with their numbers (never None here)."""
    last = 0
    while True:
        rows = repository.records_after(session, last, batch)
        if not rows:
            return
        for r in rows:
            last = r.seq or 0
            yield last, r
        session.expunge_all()


UNSEALED_ALARM = timedelta(minutes=1)
"""How old an unsealed record may be before `verify` calls it a problem (`security.audit_unsealed_alarm_seconds`)."""


def verify(*, session: Session, anchor: str | None = None, now: datetime | None = None,
           unsealed_alarm: timedelta = UNSEALED_ALARM) -> VerifyResult:
    """Recompute the whole chain of sealed records; report edits, deletions, insertions and truncation.

    `anchor`, a head hash kept outside the database (`audit anchor`), must be in the
    chain, or the log was rewritten since it was taken. Records not sealed yet are
    counted; one whose time is more than `unsealed_alarm` before `now` is a problem:
    nobody sealed it (seal first: `seal`, as `audit verify` does).
    """
    if anchor is not None and not re.fullmatch(r"[0-9a-f]{64}", anchor):
        raise AnchorMalformed(field="anchor")
    problems: list[str] = []
    first_bad: int | None = None
    expected_prev: str | None = GENESIS
    expected_seq, count = 1, 0
    seen_anchor = anchor is None
    for seq, r in _iter_records(session):
        count += 1
        if seq != expected_seq:
            problems.append(f"records {expected_seq}..{seq - 1} are missing (deleted)")
            first_bad = first_bad or expected_seq
        if r.prev_hash != expected_prev:
            problems.append(f"record {seq} does not link to the record before it")
            first_bad = first_bad or seq
        if record_hash(r) != r.hash:
            problems.append(f"record {seq} was altered (its hash does not match its content)")
            first_bad = first_bad or seq
        if anchor is not None and r.hash == anchor:
            seen_anchor = True
        expected_prev, expected_seq = r.hash, seq + 1
    head = repository.head(session)
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS)
    if head_seq != expected_seq - 1 or head_hash != expected_prev:
        problems.append(
            f"the chain ends at record {expected_seq - 1} but the head says {head_seq} "
            "(records removed from the end, or the head was edited)"
        )
        first_bad = first_bad or min(head_seq, expected_seq - 1) + 1
    if not seen_anchor:
        problems.append("the anchored hash is not in the chain (the log was rewritten)")
    total = repository.count_sealed(session)
    if total != count:
        problems.append(f"{total - count} records sit outside the sequence")
    unsealed, oldest = repository.unsealed_summary(session)
    if now is not None and oldest is not None and oldest < now - unsealed_alarm:
        problems.append(f"{unsealed} records are not sealed, the oldest made at {oldest.isoformat()}: "
                        "nobody sealed them (a sealer fails, or the head is blocked)")
    return VerifyResult(ok=not problems, records=count, head_seq=head_seq, head_hash=head_hash,
                        problems=tuple(problems), first_bad_seq=first_bad, unsealed=unsealed)


def record_verification(*, session: Session, clock: Clock, actor: Actor, result: VerifyResult) -> VerifyResult:
    """Audit a verification; a forged record blocking the next seal must not hide what was found.

    A record numbered past the head takes a number the next seal gives: every seal fails on it (the actions go
    on, their records stay unsealed). Reported here; on a backend that seals at commit (`SEALS_AT_COMMIT`) the
    verification's own record cannot be written either."""
    blocker = repository.first_past(session, result.head_seq)
    try:
        with session.begin_nested():
            record(session=session, clock=clock, actor=actor, action="audit.verified",
                   after={"ok": result.ok, "records": result.records})
            write_pending(session)
    except IntegrityError:
        blocker = blocker if blocker is not None else result.head_seq + 1
    if blocker is None:
        return result
    return replace(result, ok=False, problems=(*result.problems, f"record {blocker} exists although the head ends "
                                               "before it: new records cannot be sealed"))


def records_query(*, institution_id: int | None, sort: str | None = None, **filters: Any) -> Any:
    """Audit records filtered and sorted (allow-listed keys), for paging or export."""
    stmt = repository.records_query(institution_id=institution_id, **filters)
    # In the order written (id): a record not sealed yet has no number, and the numbers follow the order in
    # which the records were sealed, within milliseconds of it.
    return order_by(stmt, sort, {"seq": AuditRecord.id, "at": AuditRecord.at, "action": AuditRecord.action},
                    [AuditRecord.id.desc()])


def entity_history(*, session: Session, entity_type: str, entity_id: object, action: str | None = None,
                   limit: int = 500) -> list[AuditRecord]:
    """What the log holds about one entity (e.g. every view of a document), newest first."""
    return list(repository.entity_records(session, entity_type=entity_type, entity_id=str(entity_id),
                                          action=action, limit=limit))
