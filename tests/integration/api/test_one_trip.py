"""A plain route makes one trip to the thread pool (platform.routing), and a read ends its transaction there.

Without it FastAPI runs a `def` route in the pool, validates its answer in a
second trip, and the unit of work's commit takes a third: each trip costs a
hand-off between threads on every request.
"""

from __future__ import annotations

import functools
from typing import Any

import anyio.to_thread
import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy import event, func, select, update

from microcredit.api.app import create_app
from microcredit.api.deps import DB, public
from microcredit.audit import service as audit
from microcredit.db.engine import end_read
from microcredit.parties.models import Branch
from microcredit.platform.actor import Actor
from microcredit.platform.routing import UnitOfWorkRoute
from tests.factories import make_borrower, make_institution
from tests.integration.helpers import audit_records

API = "/api/v1"


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the functions sent to the thread pool."""
    sent: list[str] = []
    run_sync = anyio.to_thread.run_sync

    async def counting(func: Any, *args: Any, **kwargs: Any) -> Any:
        inner = func
        while isinstance(inner, functools.partial):
            inner = inner.func
        sent.append(getattr(inner, "__name__", repr(inner)))
        return await run_sync(func, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counting)
    return sent


def test_a_signed_in_read_makes_one_trip(client, session, runtime, trips):
    inst = make_institution(session, runtime)
    b = make_borrower(session, runtime, inst)
    session.commit()
    r = client.post(f"{API}/auth/login", json={"phone": b.phone, "password": b.password, "kind": "borrower"},
                    headers={"X-Institution": inst.code})
    auth = {"Authorization": f"Bearer {r.json()['token']}"}
    assert client.get(f"{API}/auth/sessions", headers=auth).status_code == 200  # resolves the token (its own trip)
    trips.clear()
    r = client.get(f"{API}/auth/sessions", headers=auth)
    assert r.status_code == 200
    assert len(r.json()) == 1
    assert trips == ["route_validate_end_read"]  # the route, its answer's validation and the read's end, together


def test_the_signed_in_users_own_page_makes_one_trip_and_then_none(client, session, runtime, trips):
    """`/auth/me` is kept with the token (api.deps.kept_answer): built in one trip, then answered on the loop."""
    inst = make_institution(session, runtime)
    b = make_borrower(session, runtime, inst)
    session.commit()
    r = client.post(f"{API}/auth/login", json={"phone": b.phone, "password": b.password, "kind": "borrower"},
                    headers={"X-Institution": inst.code})
    auth = {"Authorization": f"Bearer {r.json()['token']}"}
    assert client.get(f"{API}/auth/sessions", headers=auth).status_code == 200  # the token resolved and kept
    trips.clear()
    assert client.get(f"{API}/auth/me", headers=auth).json()["borrower_id"] == b.borrower.id
    assert trips == ["_build_view"]
    trips.clear()
    assert client.get(f"{API}/auth/me", headers=auth).json()["borrower_id"] == b.borrower.id
    assert trips == []


class Count(BaseModel):
    """The test routes' answer."""

    branches: int


def _app_with(runtime: Any, router: APIRouter) -> TestClient:
    app = create_app(runtime=runtime)
    before = len(app.router.routes)
    app.include_router(router)
    # Ahead of the web app's catch-all route, which exists once web/dist is built.
    added = app.router.routes[before:]
    del app.router.routes[before:]
    app.router.routes[0:0] = added
    return TestClient(app, raise_server_exceptions=False)


def test_a_write_and_an_invalid_answer_leave_the_transaction_to_the_unit_of_work(session, runtime):
    inst = make_institution(session, runtime)
    session.commit()
    router = APIRouter(route_class=UnitOfWorkRoute)

    @router.post("/_test/branch", response_model=Count, dependencies=[public()])
    def add_then_answer_badly(db: DB) -> Any:
        db.add(Branch(institution_id=inst.id, code="TRIP1", name="往返", status="active",
                      created_at=runtime.clock.now()))
        db.flush()
        return {"branches": "not a number"}

    @router.get("/_test/count", response_model=Count, dependencies=[public()])
    def count(db: DB) -> Count:
        return Count(branches=db.scalar(select(func.count()).select_from(Branch).where(
            Branch.institution_id == inst.id)) or 0)

    with _app_with(runtime, router) as client:
        assert client.get("/_test/count").json() == {"branches": 0}
        r = client.post("/_test/branch")
        assert r.status_code == 500  # the answer failed its model: nothing it wrote is kept
        assert client.get("/_test/count").json() == {"branches": 0}


def test_a_read_that_wrote_keeps_its_transaction(runtime):
    with runtime.db.unit_of_work(write=False) as session:
        session.scalar(select(func.count()).select_from(Branch))
        assert end_read(session)  # only read: ended now
        assert not session.in_transaction()
    with runtime.db.unit_of_work(write=False) as session:
        inst = make_institution(session, runtime)  # flushes
        assert inst.id is not None
        assert not end_read(session)  # wrote: the unit of work commits or rolls back as always
        assert session.in_transaction()
    with runtime.db.unit_of_work(write=True) as session:
        session.scalar(select(func.count()).select_from(Branch))
        assert not end_read(session)  # not a read unit of work
        assert session.in_transaction()


def test_a_read_that_wrote_nothing_is_closed_not_committed(runtime):
    """Nothing for a commit to do: the transaction is ended by the driver's rollback, without the commit's hooks."""
    commits: list[object] = []
    with runtime.db.unit_of_work(write=False) as session:
        event.listen(session, "after_commit", commits.append)
        session.scalar(select(func.count()).select_from(Branch))
        assert end_read(session)
        assert not session.in_transaction()
    assert commits == []  # neither end_read nor the unit of work's end committed


def test_a_read_with_audit_records_waiting_commits_them(session, runtime):
    """A personal-data view's record waits for the commit (audit.service): the read is committed, not closed."""
    inst = make_institution(session, runtime)
    session.commit()
    with runtime.db.unit_of_work(write=False) as read:
        read.scalar(select(func.count()).select_from(Branch))
        audit.record(session=read, clock=runtime.clock, actor=Actor.system(inst.id), action="borrower.sensitive_viewed",
                     entity_type="borrower", entity_id="trip-1")
        assert audit.waiting(read)
        assert end_read(read)  # ended now, by a commit that writes the record
    assert [r.entity_id for r in audit_records(session, "borrower.sensitive_viewed", "trip-1")] == ["trip-1"]


def test_a_read_that_wrote_through_its_connection_keeps_its_transaction(session, runtime):
    """A Core statement on the session's connection is no ORM execution: the connection itself tells."""
    inst = make_institution(session, runtime)
    session.add(Branch(institution_id=inst.id, code="TRIP2", name="往返", status="active",
                       created_at=runtime.clock.now()))
    session.commit()
    branches = Branch.__table__
    with runtime.db.unit_of_work(write=False) as read:
        read.scalar(select(func.count()).select_from(Branch))
        read.connection().execute(update(branches).where(branches.c.code == "TRIP2").values(name="改过"))
        assert not end_read(read)  # wrote: the unit of work commits it
        assert read.in_transaction()
    session.expire_all()
    assert session.scalar(select(Branch.name).where(Branch.code == "TRIP2")) == "改过"
