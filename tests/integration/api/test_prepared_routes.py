"""`microcredit serve` prepares FastAPI's included routes before it listens: the first request builds nothing."""

from __future__ import annotations

from typing import Any

import fastapi.routing
import pytest
from fastapi.testclient import TestClient

from microcredit.api.app import create_app, prepare_routes
from microcredit.runtime import Runtime


def _first_request_builds(runtime: Runtime, monkeypatch: pytest.MonkeyPatch, *, prepared: bool) -> int:
    app = create_app(runtime=runtime)
    if prepared:
        prepare_routes(app)
    built: list[Any] = []
    original = fastapi.routing._IncludedRouter._build_effective_context

    def counting(self: Any, route: Any) -> Any:
        built.append(route)
        return original(self, route)

    monkeypatch.setattr(fastapi.routing._IncludedRouter, "_build_effective_context", counting)
    with TestClient(app) as client:
        # Matched and run (the test's database has no default institution: 404 institution_not_found).
        assert client.get("/api/v1/public/config").status_code in (200, 404)
    monkeypatch.undo()
    return len(built)


def test_a_prepared_app_builds_no_route_on_its_first_request(runtime, monkeypatch):
    assert _first_request_builds(runtime, monkeypatch, prepared=False) > 0  # what preparing saves
    assert _first_request_builds(runtime, monkeypatch, prepared=True) == 0
