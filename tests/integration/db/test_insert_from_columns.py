"""`db.rows.insert_from_columns`: many rows inserted at once from one array a column and values every row takes.

Early warning writes a partition's behaviour scores of the day this way (`risk.warnings.repository.add_scores`): on
PostgreSQL one `INSERT … SELECT … FROM unnest(arrays)`, elsewhere one executemany INSERT. What both must keep: every
given row written with its values and the shared ones, NULLs as NULL, any number of rows in one call, and the same
rows as one INSERT a row would give.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, select

from microcredit.db.rows import _insert_from, insert_from_columns, table_of
from microcredit.platform.models import IdempotencyRecord
from tests.integration.db.conftest import assert_sent_as_one

KEYS = table_of(IdempotencyRecord)
T0 = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)
COLUMNS = (KEYS.c.key, KEYS.c.status_code, KEYS.c.content_type, KEYS.c.created_at, KEYS.c.operation,
           KEYS.c.request_hash)


def _rows(connection: Any, principal: str) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in connection.execute(select(*COLUMNS).where(KEYS.c.principal == principal)
                                                 .order_by(KEYS.c.key))]


def test_writes_every_row_with_the_shared_values(connection, statements):
    written = insert_from_columns(connection, KEYS, {
        "key": ["b", "a", "c"], "status_code": [201, None, 409], "content_type": ["application/json", "x", None]},
        also={"principal": "p", "operation": "op", "request_hash": "h", "created_at": T0})
    assert written == 3
    assert _rows(connection, "p") == [("a", None, "x", T0, "op", "h"), ("b", 201, "application/json", T0, "op", "h"),
                                      ("c", 409, None, T0, "op", "h")]
    assert_sent_as_one(connection, statements, verb="INSERT", postgresql=PG_STATEMENT,
                       elsewhere="INSERT INTO idempotency_keys ")


PG_STATEMENT = ("INSERT INTO idempotency_keys (principal, operation, request_hash, created_at, key, status_code, "
                "content_type) SELECT %(s_principal)s::VARCHAR AS anon_1, %(s_operation)s::VARCHAR AS anon_2, "
                "%(s_request_hash)s::VARCHAR AS anon_3, %(s_created_at)s::TIMESTAMP WITHOUT TIME ZONE AS anon_4, "
                "v.key, v.status_code, v.content_type FROM unnest(CAST(%(a_key)s AS VARCHAR(255)[]), "
                "CAST(%(a_status_code)s AS INTEGER[]), CAST(%(a_content_type)s AS TEXT[])) "
                "AS v(key, status_code, content_type)")


def test_nothing_given_sends_nothing(connection, statements):
    assert insert_from_columns(connection, KEYS, {"key": [], "status_code": []}, also={"principal": "p"}) == 0
    assert insert_from_columns(connection, KEYS, {}) == 0
    assert statements == []


def test_columns_of_different_lengths_are_refused(connection):
    with pytest.raises(ValueError, match="lengths"):
        insert_from_columns(connection, KEYS, {"key": ["a", "b"], "status_code": [1]})


def test_a_column_of_nulls_only(connection):
    insert_from_columns(connection, KEYS, {"key": ["a", "b"], "status_code": [None, None],
                                           "content_type": [None, None]},
                        also={"principal": "n", "operation": "op", "request_hash": "h", "created_at": T0})
    assert [r[1:3] for r in _rows(connection, "n")] == [(None, None)] * 2


def test_twenty_thousand_rows_in_one_call(connection):
    n = 20_000
    assert insert_from_columns(connection, KEYS, {"key": [f"k{i:05d}" for i in range(n)],
                                                  "status_code": [i % 600 for i in range(n)]},
                               also={"principal": "big", "operation": "op", "request_hash": "h",
                                     "created_at": T0}) == n
    got = connection.execute(select(KEYS.c.key, KEYS.c.status_code).where(KEYS.c.principal == "big")
                             .order_by(KEYS.c.key)).all()
    assert [tuple(r) for r in got] == [(f"k{i:05d}", i % 600) for i in range(n)]


ROWS = st.lists(st.tuples(st.one_of(st.none(), st.integers(min_value=-(2**31), max_value=2**31 - 1)),
                          st.one_of(st.none(), st.text(st.characters(codec="utf-8", exclude_characters="\x00"),
                                                       max_size=12)),
                          st.integers(min_value=0, max_value=10**6)),
                max_size=12)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=ROWS)
def test_the_same_as_one_insert_a_row(connection, rows):
    """Random rows: the helper gives what one INSERT a row gives."""
    nested = connection.begin_nested()
    try:
        keys = [f"k{i:02d}" for i in range(len(rows))]
        shared = {"operation": "op", "request_hash": "h"}
        written = insert_from_columns(connection, KEYS, {
            "key": keys, "status_code": [r[0] for r in rows], "content_type": [r[1] for r in rows],
            "created_at": [T0 + timedelta(seconds=r[2]) for r in rows]}, also={"principal": "ours", **shared})
        assert written == len(rows)
        for key, (status, text, seconds) in zip(keys, rows, strict=True):
            connection.execute(insert(KEYS).values(principal="twin", key=key, status_code=status, content_type=text,
                                                   created_at=T0 + timedelta(seconds=seconds), **shared))
        assert _rows(connection, "ours") == _rows(connection, "twin")
    finally:
        nested.rollback()
    assert connection.execute(delete(KEYS).where(KEYS.c.principal.in_(["ours", "twin"]))).rowcount == 0


def test_the_statement_is_built_once(connection):
    """Built at the first call of a table, its columns and shared columns, then kept: later calls build nothing."""
    def write(n: int) -> None:
        insert_from_columns(connection, KEYS, {"status_code": [n, n], "key": [f"a{n}", f"b{n}"]},
                            also={"created_at": T0, "request_hash": "h", "operation": "op", "principal": "once"})

    write(0)
    before = _insert_from.cache_info()
    write(1)
    write(2)
    after = _insert_from.cache_info()
    assert (after.misses - before.misses, after.hits - before.hits) == (0, 2)
    assert len(_rows(connection, "once")) == 6
