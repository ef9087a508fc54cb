"""Reads of "the rows with these ids" take any number of ids (`db.rows.id_chunks`).

The close of business's collections step reads the loans of every overdue case that it cannot refresh from
columns; at 1,000,000 loans the overdue tenth is ~83,000 ids, and one `IN (...)` list of them is past what a
statement may bind (65,535 parameters on PostgreSQL and MariaDB, 32,766 on SQLite): the 1,000,000-loan bench
failed there. The repositories now read them a chunk at a time, in the same order.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from microcredit.collections import repository as cases
from microcredit.db.rows import IN_LIST_MAX, id_chunks
from microcredit.parties.models import Borrower
from microcredit.servicing import repository as servicing
from tests.factories import make_borrower, make_institution

MANY = 70_000  # past every backend's limit of bound parameters a statement


@given(st.lists(st.integers(min_value=1, max_value=10**9)), st.integers(min_value=1, max_value=50))
def test_chunks_are_the_distinct_ids_ascending_and_bounded(ids, size):
    chunks = list(id_chunks(ids, size))
    assert [i for chunk in chunks for i in chunk] == sorted(set(ids))
    assert all(0 < len(chunk) <= size for chunk in chunks)


def test_one_in_list_of_that_many_ids(session):
    """The failure the chunks avoid: PostgreSQL refuses one statement binding `MANY` ids (the server binds them);
    the MariaDB and SQLite drivers here take them (the first interpolates on the client, Python's SQLite allows
    more variables), so only PostgreSQL failed — the chunks are the same code on all three."""
    statement = select(Borrower.id).where(Borrower.id.in_(list(range(1, MANY + 1))))
    if session.get_bind().dialect.name == "postgresql":
        with pytest.raises(Exception, match=r"(?i)parameter|argument"):
            session.execute(statement).all()
        session.rollback()
    else:
        assert session.execute(statement).all() == []


def test_reads_by_id_take_more_ids_than_a_statement_may_bind(session, runtime):
    inst = make_institution(session, runtime)
    people = [make_borrower(session, runtime, inst) for _ in range(3)]
    session.flush()
    ids = [p.borrower.id for p in people]
    many = [*range(MANY + 10, 10, -1), *ids]  # unordered, with the real ones among them
    assert MANY > IN_LIST_MAX
    # The chunked read finds the real rows, in id order, binding no more than IN_LIST_MAX ids at a time.
    found = [b.id for chunk in id_chunks(many) for b in session.scalars(
        select(Borrower).where(Borrower.id.in_(chunk)).order_by(Borrower.id))]
    assert found == sorted(ids)
    assert servicing.loans_by_ids(session, many) == []  # no loans in this database, and no error
    assert cases.cases_by_ids_in_order(session, many) == []
    assert cases.cases_by_ids(session, many) == {}
    assert cases.with_pending_promises(session, many) == set()
    assert cases.pending_promises(session, many) == []
