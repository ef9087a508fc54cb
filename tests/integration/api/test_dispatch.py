"""Routers are tried only for requests their routes' first segments admit, with the same answers as before."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi import APIRouter
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Match

from microcredit.api.app import create_app, iter_routes
from microcredit.api.dispatch import index_by_segment
from microcredit.runtime import Runtime

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _scope(method: str, path: str) -> dict[str, Any]:
    return {"type": "http", "method": method, "path": path, "root_path": "", "headers": [], "query_string": b""}


def test_every_router_answers_every_request_as_its_full_match_does(runtime: Runtime):
    app = create_app(runtime=runtime)
    narrowed = [e for e in app.router.routes if hasattr(e.matches, "keys")]
    assert len(narrowed) >= 19  # every domain router under /api/v1
    paths = [re.sub(r"\{[^}]+\}", "1", p) for p, _ in iter_routes(app)]
    paths += ["/", "/healthz/", "/api/v1", "/api/v1/", "/api/v1/nothing", "/api/v1/borrowers/", "/app/loans",
              "/api/v1/auth/me/extra", "/api/v1/borrowers/1/2/3"]
    for path in paths:
        for method in METHODS:
            for entry in narrowed:
                full = type(entry).matches(entry, _scope(method, path))
                assert entry.matches(_scope(method, path))[0] == full[0], (method, path, entry)


def test_a_list_is_not_matched_against_the_routers_before_its_own(runtime: Runtime, monkeypatch: pytest.MonkeyPatch):
    app = create_app(runtime=runtime)
    tried: list[str] = []
    original = APIRoute.matches

    def counting(self: APIRoute, scope: Any) -> Any:
        tried.append(self.path)
        return original(self, scope)

    monkeypatch.setattr(APIRoute, "matches", counting)
    for entry in app.router.routes:  # as FastAPI's router looks for the route, in order
        if entry.matches(_scope("GET", "/api/v1/borrowers"))[0] == Match.FULL:
            break
    assert "/borrowers" in tried, "the list's route was not matched"
    assert not [p for p in tried if p.startswith("/auth")], "identity's routes were tried for /borrowers"


def test_a_route_added_to_a_router_after_the_index_is_still_reached(runtime: Runtime):
    router = APIRouter()

    @router.get("/first")
    async def first() -> dict[str, str]:
        return {"route": "first"}

    app = create_app(runtime=runtime)
    app.include_router(router, prefix="/late")
    assert index_by_segment(app) == 1
    with TestClient(app) as client:
        assert client.get("/late/first").json() == {"route": "first"}

        @router.get("/second")
        async def second() -> dict[str, str]:
            return {"route": "second"}

        assert client.get("/late/second").json() == {"route": "second"}
        assert client.get("/late/third").status_code == 404


def test_a_router_with_a_parameter_in_its_first_segments_is_matched_in_full(runtime: Runtime):
    router = APIRouter()

    @router.get("/{anything}/x")
    async def anything(anything: str) -> dict[str, str]:
        return {"anything": anything}

    app = create_app(runtime=runtime)
    app.include_router(router)
    assert index_by_segment(app) == 0
    with TestClient(app) as client:
        assert client.get("/whatever/x").json() == {"anything": "whatever"}
