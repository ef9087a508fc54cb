"""`db.rows.write_changes`: a row's changes written as one Core UPDATE, as the flush would write them.

The hot path of a repayment writes the loan this way (`servicing.repository.write_loan`); what it must keep of
the flush: only the changed columns, the optimistic version check (a lost race raises `StaleDataError`, which
the unit of work retries), and the object left clean (a later flush writes nothing again). A table a flush
listener watches (the reference and principal caches) is still written by the flush, which they hear.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from microcredit.db.retry import is_transient
from microcredit.db.rows import write_changes
from microcredit.ledger.models import LedgerBook
from tests.factories import make_borrower, make_institution


@pytest.fixture
def inst(session, runtime):
    inst = make_institution(session, runtime)
    session.flush()
    return inst


@pytest.fixture
def book(session, inst):
    found = session.get(LedgerBook, inst.id)
    assert found is not None
    return found


@pytest.fixture
def sent(session):
    """The statements the session's engine sends from here on."""
    out: list[str] = []

    def listen(_conn, _cursor, statement, *_args):
        out.append(" ".join(statement.split()))

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", listen)
    yield out
    event.remove(engine, "before_cursor_execute", listen)


@pytest.fixture
def flushes(session):
    """How many flushes the session has made from here on."""
    count = [0]

    def listen(*_args):
        count[0] += 1

    event.listen(Session, "after_flush", listen)
    yield count
    event.remove(Session, "after_flush", listen)


def test_the_changed_columns_are_written_once_with_the_version_moved(session, book, sent, flushes):
    before = book.version
    book.closed_through, book.institution_id = date(2026, 10, 31), book.institution_id  # the second unchanged
    sent.clear()
    write_changes(session, book)
    assert len(sent) == 1
    assert sent[0].startswith("UPDATE ledger_books SET closed_through=")
    assert "institution_id=" not in sent[0].split("WHERE")[0]
    assert flushes[0] == 0  # a statement, not a flush
    assert book.version == before + 1
    assert book not in session.dirty
    session.flush()  # nothing left for the flush
    assert len(sent) == 1
    row = session.execute(select(LedgerBook.closed_through, LedgerBook.version)
                          .where(LedgerBook.institution_id == book.institution_id)).one()
    assert tuple(row) == (date(2026, 10, 31), before + 1)


def test_nothing_changed_writes_nothing(session, book, sent):
    before = book.version
    book.closed_through = book.closed_through
    sent.clear()
    write_changes(session, book)
    assert sent == []
    assert book.version == before


def test_a_version_moved_by_another_writer_raises_what_the_unit_of_work_retries(session, book):
    # Another transaction's write, played by a statement the session does not see.
    session.connection().execute(update(LedgerBook.__table__)
                                 .where(LedgerBook.__table__.c.institution_id == book.institution_id)
                                 .values(version=book.version + 1))
    book.closed_through = date(2026, 10, 31)
    with pytest.raises(StaleDataError) as caught:
        write_changes(session, book)
    assert is_transient(caught.value)


def test_a_table_the_caches_watch_is_written_by_the_flush_they_hear(session, runtime, inst, flushes):
    borrower = make_borrower(session, runtime, inst).borrower  # the principals' cache watches borrowers
    session.flush()
    flushes[0] = 0
    borrower.occupation = "教师"
    write_changes(session, borrower)
    assert flushes[0] == 1
    assert borrower not in session.dirty
