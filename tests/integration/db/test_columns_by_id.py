"""`db.rows.columns_by_id`: a few columns of a row by its key without an ORM object -- or the session's object
when it holds one, so that a change not yet flushed is never read past."""

from __future__ import annotations

from datetime import UTC, datetime

from microcredit.db.rows import columns_by_id
from microcredit.platform.models import RateLimitCounter

NAMES = ("bucket", "hits")


def _counter(session) -> int:
    """A row written and forgotten by the session (as another transaction's row is)."""
    row = RateLimitCounter(bucket="test:columns", window_start=60, hits=3,
                           expires_at=datetime(2026, 12, 5, tzinfo=UTC))
    session.add(row)
    session.flush()
    session.expunge(row)
    return row.id


def test_the_columns_come_as_a_row_without_an_object(session):
    key = _counter(session)
    found = columns_by_id(session, RateLimitCounter, key, NAMES)
    assert (found.bucket, found.hits) == ("test:columns", 3)
    assert not isinstance(found, RateLimitCounter)
    assert session.identity_map.get(session.identity_key(RateLimitCounter, key)) is None  # nothing built
    assert columns_by_id(session, RateLimitCounter, key + 1000, NAMES) is None


def test_an_object_the_session_holds_answers_with_its_unflushed_changes(session):
    key = _counter(session)
    held = session.get(RateLimitCounter, key)
    held.hits = 4  # not flushed: the table still says 3
    assert columns_by_id(session, RateLimitCounter, key, NAMES) is held
    assert held.hits == 4
