"""Server-side pages: the total is right on every page, and only a full page (or one past the end) counts."""

from __future__ import annotations

from sqlalchemy import event, select

from microcredit.parties.models import Branch
from microcredit.platform.paging import PageRequest, paginate
from tests.factories import make_branch, make_institution


def _paged(session, stmt, page, size):
    sent: list[str] = []

    def note(_conn, _cursor, statement, *_args):
        sent.append(statement)

    conn = session.connection()
    event.listen(conn, "before_cursor_execute", note)
    try:
        result = paginate(session, stmt, PageRequest(page, size))
    finally:
        event.remove(conn, "before_cursor_execute", note)
    return result, sum(1 for s in sent if "count(" in s.lower())


def test_a_short_page_tells_the_total_without_counting(session, runtime):
    inst = make_institution(session, runtime)
    for _ in range(5):
        make_branch(session, runtime, inst)
    stmt = select(Branch).where(Branch.institution_id == inst.id).order_by(Branch.id)
    expected = {  # (page, size): (items on the page, count queries)
        (1, 10): (5, 0), (1, 5): (5, 1), (1, 2): (2, 1), (3, 2): (1, 0), (4, 2): (0, 1), (9, 2): (0, 1)}
    for (page, size), (items, counts) in expected.items():
        result, counted = _paged(session, stmt, page, size)
        assert (len(result.items), result.total, counted) == (items, 5, counts), (page, size)
    empty = select(Branch).where(Branch.institution_id == -1)
    result, counted = _paged(session, empty, 1, 20)
    assert (result.items, result.total, counted) == ([], 0, 0)
