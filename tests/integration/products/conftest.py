"""Fixtures of the products tests: a client on the worker's app, an institution with its calendar seeded."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from microcredit.parties.models import Institution
from tests.factories import make_institution
from tests.integration.helpers import shared_client


@pytest.fixture
def client(runtime, backend) -> Iterator[TestClient]:
    """A TestClient on the worker's app for this backend, pointed at the test's runtime."""
    yield from shared_client(runtime, backend)


@pytest.fixture
def seeded(session, runtime) -> Institution:
    """An institution whose calendar is seeded from the chinesecalendar package (2004-2026)."""
    return make_institution(session, runtime, calendar=True)
