"""Two risk officers approving two proposals for champion at the same moment, on every database (committing):
both approvals succeed one after the other, and the institution ends with exactly one champion.

Approvals of an institution lock its models first (`repository.lock_models`), so the second reads the
champion the first made and retires it. (Without the lock, on PostgreSQL the second's locking read of the
old champion waits, then finds it retired, does not see the new one, and two champions remain.)
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from microcredit.api.app import create_app
from microcredit.risk.registry import demo
from microcredit.risk.registry import repository as registry_repository
from microcredit.risk.registry.models import RiskModelVersion
from microcredit.runtime import Runtime
from tests.factories import make_institution, make_staff
from tests.integration.helpers import committing_runtime, signed_in

pytestmark = pytest.mark.xdist_group("concurrency")  # one worker: the requests are the parallelism
API = "/api/v1/risk"


@pytest.fixture(scope="module", params=["sqlite", "postgresql", "mysql"])
def live(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Runtime, Any]]:
    """A migrated database that really commits, the runtime on it, an institution."""
    runtime = committing_runtime(request.param, tmp_path_factory, "registry_race")
    with runtime.db.session() as session:
        inst = make_institution(session, runtime)
        session.commit()
        yield runtime, inst
    runtime.close()


def test_two_champions_approved_at_once_leave_one_champion(live: tuple[Runtime, Any], monkeypatch) -> None:
    runtime, inst = live
    # Widen the window between finding the champion and writing the new one, so that the two overlap.
    in_role = registry_repository.in_role

    def slow_in_role(*args: Any, **kwargs: Any) -> Any:
        found = in_role(*args, **kwargs)
        time.sleep(0.3)
        return found

    monkeypatch.setattr(registry_repository, "in_role", slow_in_role)
    with runtime.db.session() as session:
        officers = [signed_in(session, runtime, make_staff(session, runtime, inst, roles=("risk_officer",),
                                                           password=None).user) for _ in range(3)]
        session.commit()
    maker, checkers = officers[0], officers[1:]
    with TestClient(create_app(runtime=runtime)) as client:
        ids = []
        for variant in (1, 2, 1):
            files = {"artefact": ("model.json", demo.blob(variant), "application/json"),
                     "report": ("report.json", json.dumps(demo.report(variant)).encode(), "application/json")}
            assert client.post(f"{API}/models", data={"code": "race"}, files=files, headers=maker).status_code == 201
        first = client.post(f"{API}/models/race/versions/1/promotions", headers=maker,
                            json={"target": "champion", "reason": "首个"}).json()
        assert client.post(f"{API}/models/promotions/{first['id']}/approve", headers=checkers[0],
                           json={"reason": "同意"}).status_code == 200
        for number in (2, 3):
            ids.append(client.post(f"{API}/models/race/versions/{number}/promotions", headers=maker,
                                   json={"target": "champion", "reason": "竞争"}).json()["id"])
        start = threading.Barrier(2)

        def approve(args: tuple[int, dict[str, str]]) -> Any:
            promotion_id, headers = args
            start.wait()
            return client.post(f"{API}/models/promotions/{promotion_id}/approve", headers=headers,
                               json={"reason": "同意"})

        with ThreadPoolExecutor(max_workers=2) as pool:
            responses = list(pool.map(approve, zip(ids, checkers, strict=True)))
    assert [r.status_code for r in responses] == [200, 200], [r.text for r in responses]
    with runtime.db.session() as session:
        statuses = sorted(session.scalars(select(RiskModelVersion.status)))
    assert statuses == ["champion", "retired", "retired"]
