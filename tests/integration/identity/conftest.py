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
from microcredit.context import AppContext, build_context
from microcredit.db.engine import Database
from microcredit.integrations.sms import SimulatedSmsOperator
from microcredit.parties.models import Institution
from tests.conftest import make_settings
from tests.factories import make_institution

_APPS: dict[str, FastAPI] = {}


def app_for(ctx: AppContext) -> FastAPI:
    """The worker's application for these settings, serving `ctx`."""
    key = ctx.settings.model_dump_json()
    app = _APPS.get(key)
    if app is None:
        app = _APPS[key] = create_app(ctx=ctx)
    else:
        ctx.extras.setdefault("sms_channel", SimulatedSmsOperator(blind_index=ctx.blind_index, clock=ctx.clock))
        app.state.ctx = ctx
    return app


@pytest.fixture
def client(ctx: AppContext) -> Iterator[TestClient]:
    """A TestClient on the application, serving the test's context."""
    with TestClient(app_for(ctx)) as test_client:
        yield test_client


@pytest.fixture
def inst(session: Any, ctx: AppContext) -> Institution:
    """An institution with its default roles (committed, so the app sees it)."""
    institution = make_institution(session, ctx)
    session.commit()
    return institution


@pytest.fixture
def app_with(database: Database, clock: FrozenClock, worker_tmp: Path
             ) -> Iterator[Callable[..., tuple[AppContext, TestClient]]]:
    """Build another app on the test's database and clock, with settings overrides (and Redis if given)."""
    opened: list[TestClient] = []

    def make(*, redis: Any = None, **overrides: Any) -> tuple[AppContext, TestClient]:
        ctx = build_context(make_settings(worker_tmp, **overrides), database=database, clock=clock, redis=redis)
        client = TestClient(app_for(ctx))
        client.__enter__()
        opened.append(client)
        return ctx, client

    yield make
    for client in opened:
        client.__exit__(None, None, None)
