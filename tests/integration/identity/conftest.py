"""Fixtures of the identity integration tests: an institution, and apps with other settings."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from microcredit.api.app import create_app
from microcredit.clock import FrozenClock
from microcredit.context import AppContext, build_context
from microcredit.db.engine import Database
from microcredit.parties.models import Institution
from tests.conftest import make_settings
from tests.factories import make_institution


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
        client = TestClient(create_app(ctx=ctx))
        client.__enter__()
        opened.append(client)
        return ctx, client

    yield make
    for client in opened:
        client.__exit__(None, None, None)
