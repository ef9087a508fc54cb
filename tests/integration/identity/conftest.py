"""Fixtures of the identity integration tests: an institution, and apps with other settings.

Building the FastAPI application takes about half a second (hundreds of routes), more than
most of these tests. An application holds no state of its own between requests — everything
lives in its context — so each worker builds one per distinct settings and every test points
it at its own context (database transaction, frozen clock, Redis).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from microcredit.api.app import create_app
from microcredit.clock import FrozenClock
from microcredit.db.engine import Database
from microcredit.parties.models import Institution
from microcredit.runtime import Runtime, build_runtime
from tests.conftest import make_settings
from tests.factories import make_institution

_APPS: dict[str, FastAPI] = {}


def app_for(runtime: Runtime) -> FastAPI:
    """The worker's application for these settings, serving `runtime`."""
    key = runtime.settings.model_dump_json()
    app = _APPS.get(key)
    if app is None:
        app = _APPS[key] = create_app(runtime=runtime)
    else:
        app.state.runtime = runtime
    return app


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    """A TestClient on the application, serving the test's context."""
    with TestClient(app_for(runtime)) as test_client:
        yield test_client


@pytest.fixture
def inst(session: Any, runtime: Runtime) -> Institution:
    """An institution with its default roles (committed, so the app sees it)."""
    institution = make_institution(session, runtime)
    session.commit()
    return institution


@pytest.fixture
def app_with(database: Database, clock: FrozenClock, worker_tmp: Path
             ) -> Iterator[Callable[..., tuple[Runtime, TestClient]]]:
    """Build another app on the test's database and clock, with settings overrides (and Redis if given)."""
    opened: list[TestClient] = []

    def make(*, redis: Any = None, oauth_transport: Any = None, **overrides: Any) -> tuple[Runtime, TestClient]:
        runtime = build_runtime(make_settings(worker_tmp, **overrides), database=database, clock=clock, redis=redis,
                                oauth_transport=oauth_transport)
        client = TestClient(app_for(runtime))
        client.__enter__()
        opened.append(client)
        return runtime, client

    yield make
    for client in opened:
        client.__exit__(None, None, None)
