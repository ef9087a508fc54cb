"""Claiming an idempotency key: a first request gets a record to complete, a repeat the stored answer.

On SQLite and PostgreSQL the claim is one `INSERT … ON CONFLICT DO NOTHING RETURNING`, the record handed
back without being read; on MariaDB a read, then an insert in a savepoint. Each way must behave the same.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import event, func, select

from microcredit.platform import idempotency
from microcredit.platform.models import IdempotencyRecord


def _claim(session, runtime, key: str = "k-1", request_hash: str = "h-1", operation: str = "op"):
    return idempotency.claim(session=session, clock=runtime.clock, principal="user:7", key=key,
                             operation=operation, request_hash=request_hash)


def test_a_first_claim_is_completed_and_a_repeat_gets_the_stored_answer(session, runtime):
    record, stored = _claim(session, runtime)
    assert stored is None
    assert record is not None
    assert record.id == session.scalar(select(IdempotencyRecord.id).where(IdempotencyRecord.key == "k-1"))
    assert (record.principal, record.key, record.operation, record.request_hash) == ("user:7", "k-1", "op", "h-1")
    assert record.created_at == runtime.clock.now()

    with pytest.raises(idempotency.RequestInProgress):  # the first has no answer yet
        _claim(session, runtime)
    idempotency.complete(session=session, record=record, status_code=201, body={"id": 5, "名": "张三"})
    session.expire_all()  # the answer as stored, not the object in memory
    again, stored = _claim(session, runtime)
    assert again is None
    assert stored == idempotency.StoredResponse(201, json.dumps({"id": 5, "名": "张三"}, ensure_ascii=False,
                                                                separators=(",", ":")).encode(), "application/json")
    with pytest.raises(idempotency.IdempotencyKeyReused):
        _claim(session, runtime, request_hash="h-other")
    with pytest.raises(idempotency.IdempotencyKeyReused):
        _claim(session, runtime, operation="op-other")
    other, stored = _claim(session, runtime, key="k-2")  # another key: a first request of its own
    assert other is not None
    assert stored is None
    assert session.scalar(select(func.count()).select_from(IdempotencyRecord)) == 2


def test_an_unanswered_claim_is_released(session, runtime):
    record, _ = _claim(session, runtime)
    answered, _ = _claim(session, runtime, key="k-2")
    assert record is not None
    assert answered is not None
    idempotency.complete(session=session, record=answered, status_code=200, body={})
    idempotency.release_unfinished(session=session)
    assert list(session.scalars(select(IdempotencyRecord.key))) == ["k-2"]
    again, stored = _claim(session, runtime)  # the released key serves a retry as a first request
    assert again is not None
    assert stored is None


def test_a_first_claim_on_sqlite_and_postgresql_is_one_statement(session, runtime, backend):
    session.connection()  # the transaction begun before counting
    sent: list[str] = []
    listener = lambda *args: sent.append(args[2])  # noqa: E731 - (conn, cursor, statement, ...)
    engine = session.get_bind().engine
    event.listen(engine, "before_cursor_execute", listener)
    try:
        _claim(session, runtime)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert len(sent) == (1 if backend in ("sqlite", "postgresql") else 4), sent  # MariaDB: a read, a savepoint round it
