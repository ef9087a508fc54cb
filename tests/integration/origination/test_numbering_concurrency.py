"""Submissions at the same moment get distinct numbers, on every database (a real, committing one).

Each borrower submits their own draft from a thread of its own. On SQLite the day's counter row is
raised under the write lock, so the numbers are 1 … N with no gap and no repeat; on PostgreSQL and
MariaDB they come from a database sequence without a lock held to the commit, so they are distinct and
start at 1 but may have gaps (a value drawn by a submission that lost the race to begin the day, or
by an attempt that was retried). Nobody sees an error.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient

from microcredit.api.app import create_app
from microcredit.risk.assessment import Decision
from microcredit.runtime import Runtime
from tests.factories import make_borrower, make_institution
from tests.integration.helpers import committing_runtime, signed_in
from tests.integration.origination.support import PLAN, assessment, publish_product, use_review

pytestmark = pytest.mark.xdist_group("concurrency")  # one worker: the requests are the parallelism
CALLERS = 12


@pytest.fixture(scope="module", params=["sqlite", "postgresql", "mysql"])
def live(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Runtime, Any]]:
    """A migrated database that really commits, the runtime on it, and an institution with a product."""
    runtime = committing_runtime(request.param, tmp_path_factory, "numbering", sqlite_busy_timeout_ms=200)
    with runtime.db.session() as session:
        inst = make_institution(session, runtime)
        publish_product(session, runtime, inst)
        session.commit()
        yield runtime, inst
    runtime.close()


def test_simultaneous_submissions_get_distinct_numbers(live: tuple[Runtime, Any], monkeypatch) -> None:
    runtime, inst = live
    use_review(monkeypatch, assessment(Decision.APPROVE))
    with runtime.db.session() as session:
        headers = [signed_in(session, runtime, make_borrower(session, runtime, inst, password=None).user)
                   for _ in range(CALLERS)]
        session.commit()
    with TestClient(create_app(runtime=runtime)) as client:
        drafts = [client.post("/api/v1/me/applications", headers=h, json=PLAN).json()["id"] for h in headers]
        with ThreadPoolExecutor(max_workers=CALLERS) as pool:
            responses = list(pool.map(lambda pair: client.post(f"/api/v1/me/applications/{pair[1]}/submit",
                                                               headers=pair[0]), zip(headers, drafts, strict=True)))
    assert [r.status_code for r in responses] == [200] * CALLERS, [r.text for r in responses if r.status_code != 200]
    numbers = sorted(r.json()["number"] for r in responses)
    if runtime.db.backend == "sqlite":
        assert numbers == [f"{inst.code}-20261125-{n:06d}" for n in range(1, CALLERS + 1)]
    else:
        assert len(set(numbers)) == CALLERS
        assert all(n.startswith(f"{inst.code}-20261125-") for n in numbers)
        assert numbers[0] == f"{inst.code}-20261125-000001"
