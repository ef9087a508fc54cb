"""Route matching by the path's first segments: a request is tried only against the routers that can match it.

FastAPI (0.165) keeps each `include_router` as one entry of the application's
routes and, for every request, asks the entries in order whether they match;
an entry answers by testing the pattern of **every** route of its router.  A
request for a domain late in `API_ROUTERS` (the borrowers, after identity's
routes; servicing, after eight domains) paid tens of pattern tests before its
own router was reached: 57 for `GET /api/v1/borrowers`, ~16 % of its profile
(docs/performance.md, "Fifth pass").

`index_by_segment(app)` gives each included router's entry a cheaper answer
first: the routes' first `DEPTH` path segments (`/api/v1/borrowers/{id}` ->
`("api", "v1", "borrowers")`) are known once, and an HTTP request whose first
segments are none of them does not match the router at all (`Match.NONE`,
exactly what its full test would say), so the router's patterns are not
tried.  A router with a route whose first segments hold a parameter, or a
route that is not a plain path (a mount), is always tried in full, and so is
a router that has gained routes since the index was made.  Which
route answers, a 405 for a known path with another method and the trailing-
slash redirect are unchanged: a request with the same first segments as a
route still goes through FastAPI's own matching, in the same order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from starlette._utils import get_route_path
from starlette.routing import BaseRoute, Match, Route, WebSocketRoute
from starlette.types import Scope

DEPTH = 3  # /api/v1/<domain's first segment>

_NO_MATCH: tuple[Match, Scope] = (Match.NONE, {})


def segments(path: str) -> tuple[str, ...]:
    """The first `DEPTH` segments of a path (`/a/b/` and `/a/b` alike)."""
    return tuple(path.strip("/").split("/", DEPTH)[:DEPTH])


def _keys(prefix: str, routes: list[BaseRoute]) -> frozenset[tuple[str, ...]] | None:
    """The first segments of every route, or None when one of them can not be known before matching."""
    keys = set()
    for route in routes:
        if not isinstance(route, Route | WebSocketRoute):
            return None  # a mount, a host, a router included in the router: matched in full
        key = segments(prefix + route.path)
        if any("{" in part for part in key):
            return None
        keys.add(key)
    return frozenset(keys)


def _narrowed(matches: Callable[[Scope], tuple[Match, Scope]], routes: list[BaseRoute],
              keys: frozenset[tuple[str, ...]]) -> Callable[[Scope], tuple[Match, Scope]]:
    count = len(routes)

    def by_segment(scope: Scope) -> tuple[Match, Scope]:
        # A route added to the router after the index was made: match in full rather than miss it.
        if scope["type"] == "http" and len(routes) == count and segments(get_route_path(scope)) not in keys:
            return _NO_MATCH
        return matches(scope)

    by_segment.keys = keys  # type: ignore[attr-defined]  # for tests and the curious
    return by_segment


def index_by_segment(app: FastAPI) -> int:
    """Narrow each included router of `app` to the requests its routes' first segments admit; how many were."""
    narrowed = 0
    for entry in app.router.routes:
        router: Any = getattr(entry, "original_router", None)
        context: Any = getattr(entry, "include_context", None)
        if router is None or context is None or hasattr(entry.matches, "keys"):
            continue
        keys = _keys(getattr(context, "prefix", ""), router.routes)
        if keys is None:
            continue
        entry.matches = _narrowed(entry.matches, router.routes, keys)  # type: ignore[method-assign,assignment]
        narrowed += 1
    return narrowed
