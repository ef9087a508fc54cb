"""`db.rows.write_changes`: a row's changes written as one Core UPDATE, as the flush would write them.

The hot path of a repayment writes the loan this way (`servicing.repository.write_loan`); what it must keep of
the flush: only the changed columns, the optimistic version check (a lost race raises `StaleDataError`, which
the unit of work retries), and the object left clean (a later flush writes nothing again).
"""

from __future__ import annotations

import pytest
from sqlalchemy import event, select, update
from sqlalchemy.orm.exc import StaleDataError

from microcredit.db.retry import is_transient
from microcredit.db.rows import write_changes
from microcredit.parties.models import Borrower
from tests.factories import make_borrower, make_institution


@pytest.fixture
def borrower(session, runtime):
    inst = make_institution(session, runtime)
    handle = make_borrower(session, runtime, inst)
    session.flush()
    return handle.borrower


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


def test_the_changed_columns_are_written_once_with_the_version_moved(session, borrower, sent):
    before = borrower.version
    borrower.occupation, borrower.employer = "教师", borrower.employer  # the second set to what it held
    sent.clear()
    write_changes(session, borrower)
    assert len(sent) == 1
    assert sent[0].startswith("UPDATE borrowers SET occupation=")
    assert "employer" not in sent[0]
    assert borrower.version == before + 1
    assert borrower not in session.dirty
    session.flush()  # nothing left for the flush
    assert len(sent) == 1
    row = session.execute(select(Borrower.occupation, Borrower.version).where(Borrower.id == borrower.id)).one()
    assert tuple(row) == ("教师", before + 1)


def test_nothing_changed_writes_nothing(session, borrower, sent):
    before = borrower.version
    borrower.occupation = borrower.occupation
    sent.clear()
    write_changes(session, borrower)
    assert sent == []
    assert borrower.version == before


def test_a_version_moved_by_another_writer_raises_what_the_unit_of_work_retries(session, borrower):
    # Another transaction's write, played by a statement the session does not see.
    session.connection().execute(update(Borrower.__table__).where(Borrower.__table__.c.id == borrower.id)
                                 .values(version=borrower.version + 1))
    borrower.occupation = "农民"
    with pytest.raises(StaleDataError) as caught:
        write_changes(session, borrower)
    assert is_transient(caught.value)
