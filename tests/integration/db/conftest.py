"""Fixtures shared by the tests of the database helpers that write many rows at once."""

from __future__ import annotations

import pytest
from sqlalchemy import event


@pytest.fixture
def connection(session):
    """The test session's connection (its transaction, rolled back after the test)."""
    return session.connection()


@pytest.fixture
def statements(connection):
    """(statement, executemany) of what the connection sends from here on."""
    out: list[tuple[str, bool]] = []

    def listen(_conn, _cursor, statement, _parameters, _context, executemany):
        out.append((" ".join(statement.split()), executemany))

    engine = connection.engine
    event.listen(engine, "before_cursor_execute", listen)
    yield out
    event.remove(engine, "before_cursor_execute", listen)


def assert_sent_as_one(connection, statements, *, verb: str, postgresql: str, elsewhere: str) -> None:
    """The one `verb` statement sent: on PostgreSQL a single statement (whatever the number of rows) equal to
    `postgresql`, elsewhere an executemany beginning with `elsewhere`."""
    (statement, many), = [s for s in statements if s[0].startswith(verb)]
    if connection.dialect.name == "postgresql":
        assert not many
        assert statement == postgresql
    else:
        assert many
        assert statement.startswith(elsewhere)
