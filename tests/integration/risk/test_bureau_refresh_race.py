"""Two close-of-business workers re-reading the same borrower's credit report on the same day (committing, on
every database): the first report stored stays, the second worker stores nothing, raises nothing, and reads the
first one's figures.

Early warning re-reads a borrower's report when it falls due, on the first of the borrower's loans it meets. A
borrower's loans may sit in different partitions, which the pool and Celery runners work at the same time: both
workers then find the report due and read it. Storing it was a plain INSERT, so the second worker's step failed on
the unique (borrower, day) key (`risk_bureau_refreshes`), its set-based part rolled back and its 2,000 loans went
one by one (the pool runner's first measured day: the early-warning step 0.4 s → 11.7 s).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from microcredit.parties.models import Institution
from microcredit.risk.warnings import repository as repo
from microcredit.risk.warnings.models import BureauRefresh
from microcredit.runtime import Runtime
from tests.factories import make_borrower, make_institution
from tests.integration.helpers import committing_runtime

pytestmark = pytest.mark.xdist_group("concurrency")
ON = date(2026, 12, 1)


@pytest.fixture(scope="module", params=["sqlite", "postgresql", "mysql"])
def live(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[tuple[Runtime, int, int]]:
    """A migrated database that really commits, the runtime on it, an institution and a borrower."""
    runtime = committing_runtime(request.param, tmp_path_factory, "bureau_race", sqlite_busy_timeout_ms=10_000)
    with runtime.db.session() as session:
        inst = make_institution(session, runtime)
        borrower = make_borrower(session, runtime, inst).borrower
        session.commit()
        ids = inst.id, borrower.id
    yield runtime, *ids
    runtime.close()


def _report(inst_id: int, borrower_id: int, overdue: int) -> BureauRefresh:
    return BureauRefresh(institution_id=inst_id, borrower_id=borrower_id, refreshed_on=ON,
                         report_number=f"R-{overdue}", overdue_accounts=overdue, overdue_minor=overdue * 100)


def test_the_second_worker_keeps_the_first_report_and_reads_its_figures(live: tuple[Runtime, int, int]) -> None:
    runtime, inst_id, borrower_id = live
    first = runtime.db.session()
    try:
        assert repo.add_refreshes(first, [_report(inst_id, borrower_id, 1)], ON) == {borrower_id: 1}
        answer: dict[str, Any] = {}

        def second_worker() -> None:
            try:
                with runtime.db.session() as s:
                    answer["stored"] = repo.add_refreshes(s, [_report(inst_id, borrower_id, 2)], ON)
                    s.commit()
            except Exception as exc:
                answer["error"] = exc

        worker = threading.Thread(target=second_worker)
        worker.start()
        time.sleep(0.5)  # the second worker's INSERT waits for the first's uncommitted key (or write lock)
        assert worker.is_alive(), answer
        first.commit()
    finally:
        first.close()
    worker.join(timeout=30)
    assert not worker.is_alive()
    assert "error" not in answer, answer.get("error")
    assert answer["stored"] == {borrower_id: 1}  # the first worker's figures, not its own read
    with runtime.db.session() as s:
        stored = s.execute(select(BureauRefresh.report_number, BureauRefresh.overdue_accounts).where(
            BureauRefresh.borrower_id == borrower_id, BureauRefresh.refreshed_on == ON)).all()
    assert [tuple(row) for row in stored] == [("R-1", 1)]


def test_a_report_already_stored_is_read_back_with_the_new_ones(live: tuple[Runtime, int, int]) -> None:
    """One statement for several borrowers: the new report stored, the one already there kept and read back."""
    runtime, inst_id, _ = live
    with runtime.db.session() as s:
        inst = s.get(Institution, inst_id)
        earlier, new = (make_borrower(s, runtime, inst).borrower.id for _ in range(2))
        assert repo.add_refreshes(s, [_report(inst_id, earlier, 3)], ON) == {earlier: 3}
        s.commit()
    with runtime.db.session() as s:
        stored = repo.add_refreshes(s, [_report(inst_id, new, 5), _report(inst_id, earlier, 7)], ON)
        s.commit()
    assert stored == {new: 5, earlier: 3}
