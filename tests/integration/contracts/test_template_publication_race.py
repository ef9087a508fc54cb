"""Two administrators approving the same template publication at the same moment, on every database (a real,
committing one): one approves, the other is told `template_publication_not_pending` (409), and exactly one
version of the template is in force.

The draft's row is locked for the decision (FOR UPDATE on the servers, the write lock SQLite's BEGIN IMMEDIATE
takes), so the second reads the draft the first published.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from microcredit.api.app import create_app
from microcredit.contracts import repository
from microcredit.contracts.models import ContractTemplate
from microcredit.runtime import Runtime
from tests.factories import make_institution, make_staff
from tests.integration.helpers import committing_runtime, signed_in

pytestmark = pytest.mark.xdist_group("concurrency")  # one worker: the requests are the parallelism
T = "/api/v1/contract-templates"
ROUNDS = 2


@pytest.fixture(scope="module", params=["sqlite", "postgresql", "mysql"])
def live(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Runtime, Any]]:
    """A migrated database that really commits, the runtime on it, an institution."""
    runtime = committing_runtime(request.param, tmp_path_factory, "template_race")
    with runtime.db.session() as session:
        inst = make_institution(session, runtime)
        session.commit()
        yield runtime, inst
    runtime.close()


def test_two_approvers_racing_on_one_request(live: tuple[Runtime, Any], monkeypatch) -> None:
    runtime, inst = live
    # Widen the window between reading the request and publishing the draft, so that the two overlap.
    in_status = repository.versions_in_status

    def slow_versions_in_status(*args: Any, **kwargs: Any) -> list[ContractTemplate]:
        found = in_status(*args, **kwargs)
        time.sleep(0.3)
        return found

    monkeypatch.setattr(repository, "versions_in_status", slow_versions_in_status)
    with runtime.db.session() as session:
        editor, *checkers = (signed_in(session, runtime, make_staff(session, runtime, inst, roles=("administrator",),
                                                                    password=None).user) for _ in range(3))
        session.commit()
    with TestClient(create_app(runtime=runtime)) as client:
        for _ in range(ROUNDS):
            number = client.post(f"{T}/loan/drafts", headers=editor).json()["number"]
            assert client.post(f"{T}/loan/versions/{number}/publication-request", headers=editor).status_code == 200
            start = threading.Barrier(2)

            def approve(headers: dict[str, str], number: int = number, start: threading.Barrier = start) -> Any:
                start.wait()
                return client.post(f"{T}/loan/versions/{number}/publication-request/approve", headers=headers,
                                   json={"reason": "同意"})

            with ThreadPoolExecutor(max_workers=2) as pool:
                responses = list(pool.map(approve, checkers))
            codes = sorted(r.status_code for r in responses)
            assert codes == [200, 409], [r.text for r in responses]
            assert next(r for r in responses if r.status_code == 409).json()["code"] == \
                "template_publication_not_pending"
    with runtime.db.session() as session:
        rows = session.execute(select(ContractTemplate.number, ContractTemplate.status)
                               .where(ContractTemplate.institution_id == inst.id)
                               .order_by(ContractTemplate.number)).all()
    assert [tuple(r) for r in rows] == [(1, "retired"), (2, "retired"), (3, "published")]
