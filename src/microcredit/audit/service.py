"""The audit log: append-only records chained by SHA-256, and their verification.

Each record's hash covers its content and the previous record's hash::

    hash_n = SHA-256(canonical_json(record_n without hash) ‖ hash_{n-1}),  hash_0 = 64 × "0"

Records carry a gapless sequence number, and the `audit_head` row keeps the
last sequence number and hash. `verify()` recomputes the chain: an edited
record breaks its own hash, a deleted one leaves a gap in the sequence or a
broken link, a truncated tail disagrees with the head. Appends take the head
row's lock (SELECT … FOR UPDATE; SQLite's write transaction is exclusive), so
concurrent writers cannot fork the chain. The record is written in the same
transaction as the action it describes: no action without its record.

The head is taken at commit, not when a record is made (`chain_pending`, run by
the session's `before_commit`): a record is kept in the session until then, and
just before the transaction commits — after everything else it changes has been
flushed, so it holds every other lock it needs — the head is locked, the
transaction's records get their numbers and hashes in the order they were made and
are written once, in one multi-row INSERT, and the commit releases the lock. The
one row every audited action shares is thus held for the commit only, not across
the work (a repayment's fold, postings and notifications). A record made inside a
savepoint that rolls back goes with it, and a transaction that rolls back leaves
none. Records are numbered in commit order; `at` stays the time of the action. A
record is thus not in the table before its transaction commits: nothing reads the
log inside the transaction that writes it.

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
from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, SessionTransaction

from microcredit.audit import repository
from microcredit.audit.errors import AnchorMalformed
from microcredit.audit.models import AuditRecord
from microcredit.clock import Clock
from microcredit.db.engine import staged_for_commit
from microcredit.platform import staging
from microcredit.platform.actor import Actor
from microcredit.platform.paging import order_by

GENESIS = "0" * 64


def canonical(value: Any) -> Any:
    """Make `value` JSON-safe and stable: decimals and dates as strings, keys sorted later."""
    if isinstance(value, Mapping):
        return {str(k): canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [canonical(v) for v in value]
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)  # Decimal, date, datetime, enums


@dataclass(slots=True)
class Pending:
    """A record made in a transaction and not yet chained: the row written at commit (`chain_pending`)."""

    seq: int
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
    prev_hash: str
    hash: str
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
    return hashlib.sha256(data.encode() + r.prev_hash.encode()).hexdigest()


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


_PENDING = staged_for_commit("audit.unchained")  # a read holding records is committed (db.engine.end_read)


def record_many(*, session: Session, clock: Clock, actor: Actor, entries: Sequence[Entry]) -> list[Pending]:
    """Append several records of one actor, in order: what a use case that writes several audited things at
    once calls. They are numbered, hashed and written when the transaction commits (the module docstring)."""
    at: datetime = clock.now()
    if not session.in_transaction():
        session.begin()  # the records are the transaction's: its end writes or forgets them
    made_in = session.get_nested_transaction()
    user_agent = (actor.meta.user_agent or "")[:255] or None
    out = [Pending(
        seq=0, at=at,
        institution_id=e.institution_id if e.institution_id is not None else actor.institution_id,
        actor_user_id=actor.user_id, actor_kind=actor.kind, action=e.action, entity_type=e.entity_type,
        entity_id=None if e.entity_id is None else str(e.entity_id), ip=actor.meta.ip, user_agent=user_agent,
        request_id=actor.meta.request_id,
        before=canonical(e.before) if e.before is not None else None,
        after=canonical(e.after) if e.after is not None else None,
        prev_hash="", hash="", made_in=made_in) for e in entries]
    session.info.setdefault(_PENDING, []).extend(out)
    return out


def waiting(session: Session) -> list[Pending]:
    """The records this transaction made that its commit will write (not numbered yet), in order."""
    return list(session.info.get(_PENDING, []))


def chain_pending(session: Session) -> None:
    """Number, hash and write the records this transaction made, in order, under the head's lock (taken here
    and held to the commit). Everything else pending is flushed first, so that the head is the last lock
    taken. Called by `before_commit`; call it yourself inside a savepoint to have the append's own failure
    there (`record_verification`)."""
    pending: list[Pending] = session.info.pop(_PENDING, [])
    if not pending:
        return
    session.flush()
    head = repository.head_for_update(session, GENESIS)
    seq, last = head.seq, head.hash
    for rec in pending:
        seq += 1
        rec.seq, rec.prev_hash = seq, last
        rec.hash = last = record_hash(rec)
    repository.insert_records(session, [rec.row() for rec in pending])
    repository.advance_head(session, head, seq, last)


@event.listens_for(Session, "before_commit")
def _chain_at_commit(session: Session) -> None:
    chain_pending(session)


@event.listens_for(Session, "after_soft_rollback")
def _forget_at_rollback(session: Session, previous: SessionTransaction) -> None:
    """A rolled-back transaction leaves no records; a rolled-back savepoint takes those made inside it."""
    staging.forget_rolled_back(session, _PENDING, previous, lambda rec: rec.made_in)


@event.listens_for(Session, "after_transaction_end")
def _forget_at_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the outermost transaction ended (a commit wrote them already)
        session.info.pop(_PENDING, None)


@dataclass(frozen=True)
class VerifyResult:
    """What `verify` found."""

    ok: bool
    records: int
    head_seq: int
    head_hash: str
    problems: tuple[str, ...]
    first_bad_seq: int | None = None


def _iter_records(session: Session, batch: int = 2000) -> Iterator[AuditRecord]:
    last = 0
    while True:
        rows = repository.records_after(session, last, batch)
        if not rows:
            return
        yield from rows
        last = rows[-1].seq
        session.expunge_all()


def verify(*, session: Session, anchor: str | None = None) -> VerifyResult:
    """Recompute the whole chain; report edits, deletions, insertions and truncation.

    `anchor`, a head hash kept outside the database (`audit anchor`), must be in the
    chain, or the log was rewritten since it was taken.
    """
    if anchor is not None and not re.fullmatch(r"[0-9a-f]{64}", anchor):
        raise AnchorMalformed(field="anchor")
    problems: list[str] = []
    first_bad: int | None = None
    expected_prev, expected_seq, count = GENESIS, 1, 0
    seen_anchor = anchor is None
    for r in _iter_records(session):
        count += 1
        if r.seq != expected_seq:
            problems.append(f"records {expected_seq}..{r.seq - 1} are missing (deleted)")
            first_bad = first_bad or expected_seq
        if r.prev_hash != expected_prev:
            problems.append(f"record {r.seq} does not link to the record before it")
            first_bad = first_bad or r.seq
        if record_hash(r) != r.hash:
            problems.append(f"record {r.seq} was altered (its hash does not match its content)")
            first_bad = first_bad or r.seq
        if anchor is not None and r.hash == anchor:
            seen_anchor = True
        expected_prev, expected_seq = r.hash, r.seq + 1
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
    total = repository.count_records(session)
    if total != count:
        problems.append(f"{total - count} records sit outside the sequence")
    return VerifyResult(ok=not problems, records=count, head_seq=head_seq, head_hash=head_hash,
                        problems=tuple(problems), first_bad_seq=first_bad)


def record_verification(*, session: Session, clock: Clock, actor: Actor, result: VerifyResult) -> VerifyResult:
    """Audit a verification; a forged record blocking the next append must not hide what was found."""
    try:
        with session.begin_nested():
            record(session=session, clock=clock, actor=actor, action="audit.verified",
                   after={"ok": result.ok, "records": result.records})
            chain_pending(session)
    except IntegrityError:
        return replace(result, ok=False, problems=(*result.problems, f"record {result.head_seq + 1} exists "
                                                   "although the head ends before it: new records cannot be added"))
    return result


def records_query(*, institution_id: int | None, sort: str | None = None, **filters: Any) -> Any:
    """Audit records filtered and sorted (allow-listed keys), for paging or export."""
    stmt = repository.records_query(institution_id=institution_id, **filters)
    return order_by(stmt, sort, {"seq": AuditRecord.seq, "at": AuditRecord.at, "action": AuditRecord.action},
                    [AuditRecord.seq.desc()])


def entity_history(*, session: Session, entity_type: str, entity_id: object, action: str | None = None,
                   limit: int = 500) -> list[AuditRecord]:
    """What the log holds about one entity (e.g. every view of a document), newest first."""
    return list(repository.entity_records(session, entity_type=entity_type, entity_id=str(entity_id),
                                          action=action, limit=limit))
