"""A route's request-only dependencies are solved as one (platform.routing._inline_dependencies).

What each dependency does must not change: the order they run in, an access check before what it guards,
a generator's exit after the route, one value per callable, FastAPI's overrides -- only FastAPI's per-
dependency bookkeeping goes.
"""

# No `from __future__ import annotations`: the routes below annotate with local aliases FastAPI must resolve.

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from microcredit.platform.routing import UnitOfWorkRoute


def _app(route_class: type[APIRoute] = UnitOfWorkRoute) -> tuple[FastAPI, list[str]]:
    ran: list[str] = []

    async def unit(request: Request) -> AsyncIterator[str]:
        ran.append("unit opened")
        try:
            yield f"unit:{request.url.path}"
        finally:
            ran.append("unit closed")

    async def kit() -> str:
        ran.append("kit")
        return "kit"

    async def check(request: Request) -> str:
        ran.append("check")
        if request.headers.get("x-allowed") != "yes":
            raise HTTPException(403, "no")
        return "alice"

    def counted(request: Request, u: Annotated[str, Depends(unit, scope="function")]) -> str:
        ran.append("counted")  # a sync dependency using the unit: FastAPI's, sharing its value
        return u

    Unit = Annotated[str, Depends(unit, scope="function")]  # noqa: N806
    Kit = Annotated[str, Depends(kit)]  # noqa: N806
    router = APIRouter(route_class=route_class)

    @router.get("/read")
    def read(u: Unit, k: Kit, n: int = 1, who: str = Depends(check)) -> dict[str, Any]:
        ran.append("route")
        return {"u": u, "k": k, "n": n, "who": who}

    @router.get("/twice")
    async def twice(u: Unit, k: Kit, again: Unit, who: str = Depends(check)) -> dict[str, Any]:
        ran.append("route")
        return {"same": u == again, "who": who}

    @router.get("/shared")
    def shared(u: Unit, k: Kit, c: str = Depends(counted), who: str = Depends(check)) -> dict[str, Any]:
        ran.append("route")
        return {"u": u, "c": c}

    app = FastAPI()
    app.include_router(router)
    return app, ran


def _route(app: FastAPI, path: str) -> APIRoute:
    for r in app.router.routes:
        for route in getattr(getattr(r, "original_router", None), "routes", [r]):
            if isinstance(route, APIRoute) and route.path == path:
                return route
    raise LookupError(path)


def test_the_request_only_dependencies_are_one_and_run_in_their_order():
    app, ran = _app()
    route = _route(app, "/read")
    assert route.endpoint.mc_inlined == ("u", "k", "who")  # type: ignore[attr-defined]
    assert len(route.dependant.dependencies) == 1  # FastAPI solves one dependency, not three
    r = TestClient(app).get("/read?n=3", headers={"x-allowed": "yes"})
    assert r.json() == {"u": "unit:/read", "k": "kit", "n": 3, "who": "alice"}
    assert ran == ["unit opened", "kit", "check", "route", "unit closed"]


def test_a_refused_check_stops_the_request_before_the_route_and_before_validation():
    app, ran = _app()
    client = TestClient(app)
    assert client.get("/read", headers={"x-allowed": "no"}).status_code == 403
    assert "route" not in ran
    assert ran[-1] == "unit closed"
    assert client.get("/read?n=notanumber").status_code == 403  # the check, not the parameter's 422, as before


def test_a_callable_declared_twice_gives_one_value():
    app, ran = _app()
    r = TestClient(app).get("/twice", headers={"x-allowed": "yes"})
    assert r.json() == {"same": True, "who": "alice"}
    assert ran.count("unit opened") == 1


def test_a_dependency_another_one_uses_stays_with_fastapi_and_is_shared():
    app, ran = _app()
    route = _route(app, "/shared")
    assert route.endpoint.mc_inlined == ("k", "who")  # type: ignore[attr-defined]  # not the unit
    r = TestClient(app).get("/shared", headers={"x-allowed": "yes"})
    assert r.json() == {"u": "unit:/shared", "c": "unit:/shared"}
    assert ran.count("unit opened") == 1  # inlining the unit would have opened a second one


def test_overrides_replace_the_inlined_callables():
    ran: list[str] = []

    async def kit() -> str:
        return "kit"

    async def check(request: Request) -> str:
        raise HTTPException(403, "no")

    router = APIRouter(route_class=UnitOfWorkRoute)

    @router.get("/r")
    async def r(k: str = Depends(kit), who: str = Depends(check)) -> dict[str, str]:
        ran.append("route")
        return {"k": k, "who": who}

    app = FastAPI()
    app.include_router(router)
    client = TestClient(app)
    assert client.get("/r").status_code == 403
    app.dependency_overrides[check] = lambda: "tester"
    app.dependency_overrides[kit] = lambda: "other kit"
    assert client.get("/r").json() == {"k": "other kit", "who": "tester"}


def test_every_request_runs_as_it_did_without_inlining():
    requests = [("/read?n=2", "yes"), ("/read", "no"), ("/read?n=x", "no"), ("/read?n=x", "yes"),
                ("/twice", "yes"), ("/twice", "no"), ("/shared", "yes"), ("/shared", "no")]
    for path, allowed in requests:
        answers = []
        for route_class in (UnitOfWorkRoute, APIRoute):
            app, ran = _app(route_class)
            r = TestClient(app).get(path, headers={"x-allowed": allowed})
            answers.append((r.status_code, r.json(), ran))
        (status, body, ran), (plain_status, plain_body, plain_ran) = answers
        assert (status, body) == (plain_status, plain_body), path
        if path == "/shared":
            # The check joins the first inlined dependency: it runs earlier than the one FastAPI keeps, never later
            # (refused, the kept dependency does not run at all).
            assert plain_ran.index("counted") < plain_ran.index("check")
            plain_ran = [x for x in plain_ran if x != "check"]
            plain_ran.insert(plain_ran.index("counted"), "check")
            if status == 403:
                plain_ran.remove("counted")
        assert ran == plain_ran, path


def test_the_openapi_document_is_the_same_as_without_inlining():
    inlined, _ = _app()
    plain, _ = _app(APIRoute)
    assert inlined.openapi() == plain.openapi()
