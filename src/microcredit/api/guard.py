"""The request guard: refusals that must come before anything reads the body.

A pure ASGI middleware (no buffering), in this order:

1. A path or query string holding a control character is refused (404 for a
   path, 422 `control_character` naming the parameter for a query) — such
   text would reach SQL or logs otherwise.
2. A request without `Authorization: Bearer …` to a route that requires a
   sign-in is answered 401 `not_authenticated` at once. FastAPI reads and
   parses a body before it resolves any dependency, so without this check an
   anonymous caller could make the server read and parse megabytes on every
   protected route.
3. A body longer than its limit (`settings.limits`: JSON bodies, multipart
   uploads) is answered 413 `body_too_large`: at once when `Content-Length`
   says so, otherwise as soon as the streamed bytes pass the limit (chunked
   transfer), before the whole body is read.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from microcredit.config import LimitSettings
from microcredit.errors import DomainError, FieldProblem, NotAuthenticated, NotFound, ValidationFailed
from microcredit.platform.text import find_control

from .problems import handle_domain_error


class BodyTooLarge(HTTPException):
    """The body passed its limit while it streamed in (raised from `receive`; rendered as 413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413)
        self.limit = limit


class BodyTooLargeProblem(DomainError):
    """The body is longer than the limit for its content type."""

    code = "body_too_large"
    status = 413
    message_zh = "请求内容过大（上限 {limit} 字节）"
    message_en = "The request body is too large (limit {limit} bytes)"


def access_of(route: APIRoute) -> tuple[str, str | None] | None:
    """The access rule a route declares: ('permission', code), ('authenticated', None) or ('public', None)."""
    stack = [route.dependant]
    while stack:
        dep = stack.pop()
        mark = getattr(dep.call, "mc_access", None)
        if mark is not None:
            return mark  # type: ignore[no-any-return]
        stack.extend(dep.dependencies)
    return None


def _first_segment(path: str) -> str:
    return path.split("/", 2)[1] if path.startswith("/") else ""


def _has_bearer(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return scheme.lower() == "bearer" and bool(token.strip())
    return False


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def body_limit(scope: Scope, limits: LimitSettings) -> int:
    """The limit of this request's body, by its content type."""
    for name, value in scope.get("headers", ()):
        if name == b"content-type" and value.lower().startswith(b"multipart/form-data"):
            return limits.upload_body_bytes
    return limits.json_body_bytes


class RequestGuardMiddleware:
    """Pure ASGI middleware: control characters in the URL, sign-in before body, body size limits."""

    def __init__(self, app: ASGIApp, limits: Callable[[], LimitSettings],
                 routes: Callable[[], list[tuple[str, APIRoute]]]) -> None:
        self.app = app
        self.limits = limits
        self.routes = routes
        # The protected routes by the first segment of their path ("api", ...): a request elsewhere
        # (/healthz, the web app's files) is not matched against every route's pattern.
        self._protected: dict[str, list[tuple[re.Pattern[str], set[str], APIRoute]]] | None = None

    def _protected_route(self, scope: Scope) -> APIRoute | None:
        """The route this request goes to, if it requires a signed-in caller."""
        if self._protected is None:
            protected: dict[str, list[tuple[re.Pattern[str], set[str], APIRoute]]] = {}
            for path, route in self.routes():
                if (access_of(route) or ("public", None))[0] != "public":
                    protected.setdefault(_first_segment(path), []).append(
                        (compile_path(path)[0], set(route.methods or ()), route))
            self._protected = protected
        method = scope.get("method", "GET")
        for pattern, methods, route in self._protected.get(_first_segment(scope["path"]), ()):
            if method in methods and pattern.match(scope["path"]):
                return route
        return None

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, error: DomainError) -> None:
        response = await handle_domain_error(Request(scope), error)
        await response(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if find_control(scope["path"]) is not None:
            await self._refuse(scope, receive, send, NotFound())
            return
        raw_query = scope.get("query_string", b"")
        if raw_query:
            for name, value in parse_qsl(raw_query.decode("utf-8", "replace"), keep_blank_values=True):
                if find_control(name) is not None or find_control(value) is not None:
                    await self._refuse(scope, receive, send, ValidationFailed([FieldProblem(
                        name if find_control(name) is None else "query", "control_character",
                        "must not contain control characters", "不能包含控制字符")]))
                    return
        if not _has_bearer(scope):
            route = self._protected_route(scope)
            if route is not None:
                scope["route"] = route  # the metrics count the refusal under the route's template
                await self._refuse(scope, receive, send, NotAuthenticated())
                return
        limit = body_limit(scope, self.limits())
        length = _content_length(scope)
        if length is not None and length > limit:
            await self._refuse(scope, receive, send, BodyTooLargeProblem(params={"limit": limit}))
            return

        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message: dict[str, Any] = dict(await receive())
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, counting_receive, send)
