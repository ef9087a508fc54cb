"""Two approvers acting on the same step at the same moment, on every database (a real, committing one):
one wins, the other is told `review_stale` (409), and the chain holds one act at that level.

The row is locked while the level is checked (FOR UPDATE on the servers, the write lock SQLite's
BEGIN IMMEDIATE takes), so the second reads the level the first moved it to. (Without the lock both
read level 1 -- seen with timestamps -- and the loser meets the unique act per level or the version
column; the unit of work retries it and the retry reads level 2: the same answer, a wasted attempt.)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from microcredit.api.app import create_app
from microcredit.origination import repository
from microcredit.origination.models import ApplicationReview
from microcredit.risk.assessment import Decision
from microcredit.runtime import Runtime
from tests.factories import make_borrower, make_branch, make_institution, make_staff
from tests.integration.helpers import committing_runtime, signed_in
from tests.integration.origination.support import PLAN, assessment, publish_product, use_review

pytestmark = pytest.mark.xdist_group("concurrency")  # one worker: the requests are the parallelism
ROUNDS = 4


@pytest.fixture(scope="module", params=["sqlite", "postgresql", "mysql"])
def live(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Runtime, Any]]:
    """A migrated database that really commits, the runtime on it, an institution with a two-level product."""
    runtime = committing_runtime(request.param, tmp_path_factory, "review_race")
    with runtime.db.session() as session:
        inst = make_institution(session, runtime)
        publish_product(session, runtime, inst,
                        approval_policy=[{"up_to_amount": "20000.00", "worst_grade": "E", "levels": 2}])
        session.commit()
        yield runtime, inst
    runtime.close()


def test_two_approvers_racing_on_one_step(live: tuple[Runtime, Any], monkeypatch) -> None:
    runtime, inst = live
    use_review(monkeypatch, assessment(Decision.REFER, grade="C"))
    # Widen the window between reading the application and writing the act, so that the two overlap.
    checked = repository.levels_acted

    def slow_levels_acted(*args: Any, **kwargs: Any) -> list[int]:
        time.sleep(0.3)
        return checked(*args, **kwargs)

    monkeypatch.setattr(repository, "levels_acted", slow_levels_acted)
    with runtime.db.session() as session:
        branch = make_branch(session, runtime, inst)
        borrower = make_borrower(session, runtime, inst, branch=branch, password=None)
        hb = signed_in(session, runtime, borrower.user)
        approvers = [signed_in(session, runtime, make_staff(session, runtime, inst, roles=("approver_l1",),
                                                            branch=branch, password=None).user) for _ in range(2)]
        session.commit()
    with TestClient(create_app(runtime=runtime)) as client:
        for _ in range(ROUNDS):
            app_id = client.post("/api/v1/me/applications", headers=hb, json=PLAN).json()["id"]
            assert client.post(f"/api/v1/me/applications/{app_id}/submit", headers=hb).json()["status"] == "referred"
            start = threading.Barrier(2)

            def approve(headers: dict[str, str], app_id: int = app_id, start: threading.Barrier = start) -> Any:
                start.wait()
                return client.post(f"/api/v1/applications/{app_id}/review", headers=headers,
                                   json={"action": "approve", "level": 1})

            with ThreadPoolExecutor(max_workers=2) as pool:
                responses = list(pool.map(approve, approvers))
            assert sorted(r.status_code for r in responses) == [200, 409], [r.text for r in responses]
            loser = next(r for r in responses if r.status_code == 409).json()
            assert (loser["code"], loser["field"]) == ("review_stale", "level")
            winner = next(r for r in responses if r.status_code == 200).json()
            assert (winner["status"], winner["level"]) == ("referred", 2)
            with runtime.db.session() as session:
                acts = session.scalar(select(func.count()).select_from(ApplicationReview).where(
                    ApplicationReview.application_id == app_id))
            assert acts == 1
