"""The borrower list's pages are kept per scope and query (`api.deps.kept_page`), never stale in this process.

A kept page is answered without a statement. Any change to a borrower row made in this process
-- through the ORM or a bulk UPDATE -- forgets every kept page, so the very next read shows it;
two scopes never share a page; the `locked` filter, which asks the accounts' lock-out state (and
time), is never kept. A change this process cannot see (another worker's, here a Core statement
past the ORM) is seen after `performance.reference_cache_seconds` -- the documented trade-off.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import event, update

from microcredit.identity.models import LoginThrottle
from microcredit.parties.models import Borrower
from tests.factories import make_borrower


def _names(client: Any, headers: dict[str, str], **params: Any) -> list[str]:
    answer = client.get("/api/v1/borrowers", headers=headers, params=params)
    assert answer.status_code == 200, answer.text
    return sorted(b["real_name"] for b in answer.json()["items"])


@contextmanager
def _statements(runtime: Any) -> Iterator[list[str]]:
    seen: list[str] = []
    engine = runtime.db._bind.engine

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "borrowers" in statement:
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_a_kept_page_is_answered_without_a_statement(client, session, runtime, staff_as, org):
    _, h = staff_as("loan_officer", branch=org.a)
    for name in ("甲一", "甲二"):
        make_borrower(session, runtime, org.inst, branch=org.a, password=None, real_name=name)
    session.commit()
    with _statements(runtime) as first:
        assert _names(client, h) == ["甲一", "甲二"]
    assert first, "the first read reads the borrowers"
    with _statements(runtime) as second:
        assert _names(client, h) == ["甲一", "甲二"]
    assert second == []
    assert _names(client, h, page_size=1) == ["甲二"]  # another query: another page (newest first)


def test_a_change_in_this_process_shows_at_once(client, session, runtime, staff_as, org):
    _, h = staff_as("loan_officer", branch=org.a)
    first = make_borrower(session, runtime, org.inst, branch=org.a, password=None, real_name="乙一")
    second = make_borrower(session, runtime, org.inst, branch=org.a, password=None, real_name="乙二")
    session.commit()
    assert _names(client, h) == ["乙一", "乙二"]

    make_borrower(session, runtime, org.inst, branch=org.a, password=None, real_name="乙三")  # a new row
    session.commit()
    assert _names(client, h) == sorted(["乙一", "乙二", "乙三"])

    first.borrower.real_name = "乙零"  # an ORM change (flush and commit)
    session.commit()
    assert _names(client, h) == sorted(["乙零", "乙二", "乙三"])

    session.execute(update(Borrower).where(Borrower.id == second.borrower.id).values(branch_id=org.b.id))
    session.commit()  # a bulk UPDATE: moved to another branch
    assert _names(client, h) == sorted(["乙零", "乙三"])


def test_a_rolled_back_change_leaves_the_committed_page(client, session, runtime, staff_as, org):
    _, h = staff_as("loan_officer", branch=org.a)
    one = make_borrower(session, runtime, org.inst, branch=org.a, password=None, real_name="丙一")
    session.commit()
    assert _names(client, h) == ["丙一"]
    one.borrower.real_name = "丙改"
    session.flush()
    # The tests' sessions share one connection: this read sees the flushed change and keeps it...
    assert _names(client, h) == ["丙改"]
    session.rollback()
    assert _names(client, h) == ["丙一"]  # ... and the rollback forgets it


def test_pages_are_kept_per_scope(client, session, runtime, staff_as, org):
    _, in_a = staff_as("loan_officer", branch=org.a)
    _, in_b = staff_as("loan_officer", branch=org.b)
    _, whole = staff_as("branch_manager")  # the institution's scope
    make_borrower(session, runtime, org.inst, branch=org.a, password=None, real_name="丁甲")
    make_borrower(session, runtime, org.inst, branch=org.b, password=None, real_name="丁乙")
    session.commit()
    assert _names(client, in_a) == ["丁甲"]
    assert _names(client, in_b) == ["丁乙"]  # the same query in another branch: another page
    assert _names(client, whole) == ["丁乙", "丁甲"]
    assert _names(client, in_a) == ["丁甲"]


def test_the_locked_filter_is_never_kept(client, session, runtime, staff_as, org):
    _, h = staff_as("branch_manager")
    locked = make_borrower(session, runtime, org.inst, branch=None, password=None, real_name="戊甲")
    session.commit()
    assert _names(client, h, locked=True) == []
    session.add(LoginThrottle(institution_id=org.inst.id, kind="borrower", identifier_index=locked.user.phone_index,
                              failures=5, locked_until=runtime.clock.now() + timedelta(minutes=5)))
    session.commit()  # no borrower row changed: only the accounts' state
    assert _names(client, h, locked=True) == ["戊甲"]
    runtime.clock.advance(timedelta(minutes=6))  # the lock ends by itself
    assert _names(client, h, locked=True) == []


def test_a_change_past_this_process_is_seen_after_the_reference_seconds(client, session, runtime, staff_as, org):
    _, h = staff_as("loan_officer", branch=org.a)
    one = make_borrower(session, runtime, org.inst, branch=org.a, password=None, real_name="己一")
    session.commit()
    assert _names(client, h) == ["己一"]
    # As another worker process would: a statement this process's sessions do not see.
    session.connection().execute(update(Borrower.__table__).where(Borrower.__table__.c.id == one.borrower.id)
                                 .values(real_name="己改"))
    session.commit()
    assert _names(client, h) == ["己一"]  # kept: the trade-off
    runtime.clock.advance(timedelta(seconds=runtime.settings.reference_cache_seconds))
    assert _names(client, h) == ["己改"]
