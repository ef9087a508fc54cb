"""Idempotency keys: a repeated money-moving request returns the first result.

Clients send `Idempotency-Key: <uuid>` with every request that moves money or
creates something that must exist once (a disbursement, a repayment, an
offline registration). The first request with a key stores its status and body
**in the same transaction** as the work it did; a repeat with the same key and
the same body gets the stored response back and changes nothing; a repeat with
the same key but a different body is refused (`idempotency_key_reused`).
Keys are scoped to the caller (the principal), so two callers cannot collide.

Two requests with one key racing each other: the second blocks on the unique
index until the first commits, then replays its result (PostgreSQL, MySQL);
SQLite serialises writers anyway. On PostgreSQL and SQLite a first request claims its key in one
statement (`INSERT … ON CONFLICT DO NOTHING RETURNING id`; nothing returned: the key is taken, read it);
on MariaDB, which has no such statement short of `INSERT IGNORE` (which would also swallow other
errors), the key is read first and inserted in a savepoint.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.sql.dml import ReturningInsert

from microcredit.clock import Clock
from microcredit.db.rows import write_changes
from microcredit.errors import Conflict, DomainError
from microcredit.platform.models import IdempotencyRecord

MAX_KEY_LENGTH = 255


class IdempotencyKeyReused(DomainError):
    """The key was used before with a different request."""

    code = "idempotency_key_reused"
    status = 422
    message_zh = "该幂等键已用于另一个不同的请求"
    message_en = "This Idempotency-Key was already used for a different request"


class IdempotencyKeyInvalid(DomainError):
    """The key is missing or malformed."""

    code = "idempotency_key_invalid"
    status = 400
    message_zh = "请求缺少有效的 Idempotency-Key 头（1–255 个可见字符）"
    message_en = "A valid Idempotency-Key header (1–255 visible characters) is required"


class RequestInProgress(Conflict):
    """A request with the same key is still running."""

    code = "idempotent_request_in_progress"
    message_zh = "相同幂等键的请求仍在处理中，请稍后重试"
    message_en = "A request with the same Idempotency-Key is still being processed; retry shortly"


@dataclass(frozen=True)
class StoredResponse:
    """The response remembered for a key."""

    status_code: int
    body: bytes
    content_type: str


def fingerprint(operation: str, body: bytes) -> str:
    """A hash of what the request asked for (operation and canonical body)."""
    try:
        canonical = json.dumps(json.loads(body or b"null"), sort_keys=True, separators=(",", ":"))
        data = canonical.encode()
    except ValueError:
        data = body
    return hashlib.sha256(operation.encode() + b"\x00" + data).hexdigest()


def validate_key(key: str | None) -> str:
    """Check the header's value: 1–255 printable ASCII characters."""
    if key is None or not (0 < len(key) <= MAX_KEY_LENGTH) or not key.isprintable() or not key.isascii():
        raise IdempotencyKeyInvalid(field="Idempotency-Key")
    return key


def claim(*, session: Session, clock: Clock, principal: str, key: str, operation: str,
          request_hash: str) -> tuple[IdempotencyRecord | None, StoredResponse | None]:
    """Claim `key` for this request, or return the stored response of the first one.

    Returns (record to complete, None) for a first request and (None, stored
    response) for a repeat.
    """
    if session.connection().dialect.name in _INSERT_OR_NOTHING:
        claimed = _claim_at_once(session, clock=clock, principal=principal, key=key, operation=operation,
                                 request_hash=request_hash)
        if claimed is not None:
            session.info.setdefault("idempotency_claims", []).append(claimed)
            return claimed, None
        existing = _find(session, principal, key)  # the key's first request committed before this one
        if existing is None:
            raise RequestInProgress()
    else:
        existing = _find(session, principal, key)
    if existing is None:
        record = IdempotencyRecord(principal=principal, key=key, operation=operation,
                                   request_hash=request_hash, created_at=clock.now())
        try:
            with session.begin_nested():
                session.add(record)
        except IntegrityError:
            existing = _find(session, principal, key)
            if existing is None:
                raise RequestInProgress() from None
        else:
            session.info.setdefault("idempotency_claims", []).append(record)
            return record, None
    if existing.request_hash != request_hash or existing.operation != operation:
        raise IdempotencyKeyReused(field="Idempotency-Key")
    if existing.status_code is None or existing.response_body is None:
        raise RequestInProgress()
    return None, StoredResponse(existing.status_code, existing.response_body,
                                existing.content_type or "application/json")


# Dialects with INSERT ... ON CONFLICT DO NOTHING RETURNING: a first request claims its key in one statement.
_INSERT_OR_NOTHING = frozenset({"postgresql", "sqlite"})


def _claim_at_once(session: Session, *, clock: Clock, principal: str, key: str, operation: str,
                   request_hash: str) -> IdempotencyRecord | None:
    """Insert the key's record unless the key is taken (then None), in one statement: no read before it and
    no savepoint around it. On PostgreSQL a first request with the key still open makes this wait for it,
    as the plain INSERT did, and then take nothing if it committed."""
    values = {"principal": principal, "key": key, "operation": operation, "request_hash": request_hash,
              "created_at": clock.now()}
    connection = session.connection()
    statement: ReturningInsert[tuple[int]]
    if connection.dialect.name == "postgresql":
        statement = postgresql.insert(IdempotencyRecord).values(**values).on_conflict_do_nothing().returning(
            IdempotencyRecord.id)
    else:
        statement = sqlite.insert(IdempotencyRecord).values(**values).on_conflict_do_nothing().returning(
            IdempotencyRecord.id)
    new_id = connection.execute(statement).scalar()
    if new_id is None:
        return None
    record = IdempotencyRecord(id=new_id, status_code=None, response_body=None, content_type=None, **values)
    make_transient_to_detached(record)  # the row as written: `complete` updates it, a release deletes it
    session.add(record)
    return record


def complete(*, session: Session, record: IdempotencyRecord, status_code: int, body: Any) -> bytes:
    """Remember the response of the first request (JSON-serialisable `body`); the JSON stored, which is
    what Starlette's `JSONResponse` would send (compact, UTF-8, no NaN): the caller sends these bytes."""
    record.status_code = status_code
    record.response_body = json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()
    record.content_type = "application/json"
    write_changes(session, record)  # one Core UPDATE of the record, not a flush of the unit of work
    return record.response_body


def release_unfinished(*, session: Session) -> None:
    """Forget keys claimed in this transaction that got no response (a refusal that keeps its
    other changes must not leave its key 'in progress' for ever; the client may retry with it)."""
    for record in session.info.pop("idempotency_claims", []):
        if record.status_code is None:
            session.delete(record)
    session.flush()


def purge(*, session: Session, clock: Clock, older_than: timedelta = timedelta(days=7)) -> int:
    """Forget keys older than `older_than` (a repeat after that is a new request)."""
    result = session.execute(
        delete(IdempotencyRecord).where(IdempotencyRecord.created_at < clock.now() - older_than)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _find(session: Session, principal: str, key: str) -> IdempotencyRecord | None:
    return session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.principal == principal, IdempotencyRecord.key == key
        )
    )
