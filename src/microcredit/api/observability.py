"""Request ids, structured logs, Prometheus metrics and security headers.

Every request gets an id (the caller's `X-Request-ID` if it is a sane token,
a new one otherwise), echoed in the response and bound to every log line of
the request. Metrics count requests and time them per route template (not per
URL, so ids do not explode the label space).
"""

from __future__ import annotations

import logging
import re
import secrets
import sys
import time
from typing import Any

import structlog
from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def configure_logging(*, json: bool, level: str) -> None:
    """structlog with either JSON lines (production) or readable console output."""
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
        structlog.processors.format_exc_info,
    ]
    processors.append(structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer())
    # HTTP client libraries log full request URLs at INFO, and WeChat's token request carries the
    # app secret in its URL: keep them at WARNING whatever the root level is.
    for noisy in ("httpx", "httpx2", "httpcore", "httpcore2"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )


class Metrics:
    """The process's Prometheus collectors (own registry: one app, one set)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("microcredit_http_requests_total", "HTTP requests",
                                ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("microcredit_http_request_seconds", "HTTP request latency",
                                 ["method", "route"], registry=self.registry,
                                 buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
        self.logins = Counter("microcredit_logins_total", "Sign-in attempts by outcome", ["outcome"],
                              registry=self.registry)
        # Full path templates by route object: FastAPI puts the route of an included router in
        # the scope, whose own `path` lacks the prefixes it was mounted under (/api/v1).
        self.route_paths: dict[int, str] = {}


SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"x-frame-options", b"DENY"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]

# Every /api response may carry a token or personal data (a revealed ID number, a profile): no
# cache (browser, proxy) keeps it. A route that wants otherwise sets its own Cache-Control.
NO_STORE = (b"cache-control", b"no-store")


_OURS = frozenset(h for h, _ in SECURITY_HEADERS) | {b"x-request-id", NO_STORE[0]}


def _request_id(headers: list[tuple[bytes, bytes]]) -> str:
    """The caller's `X-Request-ID` if it is a sane token, a new one otherwise (32 hex digits)."""
    for name, value in headers:
        if name.lower() == b"x-request-id":
            incoming = value.decode("latin-1")
            if _REQUEST_ID.match(incoming):
                return incoming
            break
    return secrets.token_hex(16)


class RequestContextMiddleware:
    """Pure ASGI middleware: request id, access log, metrics, security headers, no-store under /api.

    Per request it looks at one request header, adds its headers to the answer in one step when the
    route set none of them (the usual case), and counts and times the request through Prometheus
    children kept per label set (`labels()` validates and locks on every call): docs/performance.md,
    "Fifth pass".
    """

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics
        self.log = structlog.get_logger("microcredit.http")
        self._counted: dict[tuple[str, str, int], Any] = {}
        self._timed: dict[tuple[str, str], Any] = {}

    def _observe(self, method: str, template: str, status: int, elapsed: float) -> None:
        counter = self._counted.get((method, template, status))
        if counter is None:
            counter = self._counted[(method, template, status)] = self.metrics.requests.labels(
                method, template, str(status))
        counter.inc()
        timer = self._timed.get((method, template))
        if timer is None:
            timer = self._timed[(method, template)] = self.metrics.latency.labels(method, template)
        timer.observe(elapsed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope.get("headers", []))
        scope.setdefault("state", {})["request_id"] = request_id
        structlog.contextvars.bind_contextvars(request_id=request_id)
        start = time.perf_counter()
        status = 500
        api = scope["path"].startswith("/api/")
        ours = [(b"x-request-id", request_id.encode()), *SECURITY_HEADERS]
        if api:
            ours.append(NO_STORE)

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                hdrs = list(message.get("headers", []))
                present = {k.lower() for k, _ in hdrs}
                if present.isdisjoint(_OURS):
                    hdrs += ours
                else:  # the route set some itself (a Cache-Control of its own): those stay
                    hdrs.append(ours[0])
                    hdrs.extend(h for h in ours[1:] if h[0] not in present)
                message["headers"] = hdrs
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - start
            route = scope.get("route")
            template = self.metrics.route_paths.get(id(route)) or getattr(route, "path", None) or (
                "static" if not scope["path"].startswith("/api") else "unmatched")
            method = scope.get("method", "GET")
            self._observe(method, template, status, elapsed)
            if scope["path"].startswith("/api"):
                self.log.info("request", method=method, path=scope["path"], route=template, status=status,
                              ms=round(elapsed * 1000, 1))
            structlog.contextvars.unbind_contextvars("request_id")
