"""The app factory: one FastAPI application per process, stateless across requests.

`create_app(settings)` assembles the context (database, clock, keys, limits),
the middleware (request ids, logs, metrics, security headers; the request guard:
sign-in before body, body limits; gzip for the larger API responses), the problem
handlers, the versioned API under `/api/v1`, the built-in simulators (when
switched on) and the web app's static files at `/`.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import structlog
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from microcredit import __version__, housekeeping
from microcredit.api import problems
from microcredit.api import public as public_routes
from microcredit.api import todos as todo_routes
from microcredit.api.deps import IdempotentReplay, dispatch_outbox, handle_replay
from microcredit.api.dispatch import index_by_segment
from microcredit.api.guard import RequestGuardMiddleware, access_of
from microcredit.api.health import router as health_router
from microcredit.api.observability import Metrics, RequestContextMiddleware, configure_logging
from microcredit.api.static import mount_web
from microcredit.audit import api as audit_routes
from microcredit.audit import service as audit
from microcredit.cob import api as cob_routes
from microcredit.collections import api as collections_routes
from microcredit.config import Settings
from microcredit.consent import api as consent_routes
from microcredit.contracts import api as contracts_routes
from microcredit.documents import api as documents_routes
from microcredit.identity import api as identity_routes
from microcredit.integrations.api import build_payments_router, build_sms_router
from microcredit.integrations.oauth_simulator import build_router as build_oauth_simulator
from microcredit.integrations.payments import SimulatedPaymentProvider
from microcredit.ledger import api as ledger_routes
from microcredit.notifications import api as notifications_routes
from microcredit.origination import api as origination_routes
from microcredit.parties import api as parties_routes
from microcredit.products import api as products_routes
from microcredit.risk import api as risk_routes
from microcredit.risk.fraud import api as risk_fraud_routes
from microcredit.risk.registry import api as risk_registry_routes
from microcredit.risk.warnings import api as warnings_routes
from microcredit.runtime import Runtime, build_runtime, settle_heap
from microcredit.servicing import api as servicing_routes

log = structlog.get_logger(__name__)
HOUSEKEEPING_EVERY = 3600  # seconds between purges of expired keys, windows and codes

API_PREFIX = "/api/v1"
# API responses from this size on go out gzipped to clients that accept it (a slow phone network pays
# per byte; below it the header and the CPU cost more than they save). The web app's files are not
# compressed here: the build precompresses them and api/static.py picks the copy.
COMPRESS_MIN_BYTES = 1024
# The routers mounted under /api/v1, in this order: each domain's routes, and the public configuration.
API_ROUTERS = (identity_routes.router, *parties_routes.ROUTERS, audit_routes.router, products_routes.router,
               consent_routes.router, ledger_routes.router, origination_routes.router, documents_routes.router,
               servicing_routes.router, risk_routes.router, risk_fraud_routes.router, contracts_routes.router,
               notifications_routes.router, collections_routes.router, public_routes.router, todo_routes.router,
               cob_routes.router, risk_registry_routes.router, warnings_routes.router)


def iter_routes(app: FastAPI) -> list[tuple[str, APIRoute]]:
    """Every API route with its full path (walks the routers we mounted, version-independent)."""
    out: list[tuple[str, APIRoute]] = []
    for prefix, router in app.state.mounted_routers:
        for route in router.routes:
            if isinstance(route, APIRoute):
                out.append((prefix + route.path, route))
    return out


class CompressApiResponses:
    """gzip (level 6) for API responses of at least COMPRESS_MIN_BYTES; every other path passes straight on."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.gzip = GZipMiddleware(app, minimum_size=COMPRESS_MIN_BYTES, compresslevel=6)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(API_PREFIX + "/"):
            await self.gzip(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes,
                         tags=app.openapi_tags)
    schema.setdefault("components", {}).setdefault("securitySchemes", {})["bearer"] = {
        "type": "http", "scheme": "bearer", "description": "Opaque session token from /auth/login"}
    for path, route in iter_routes(app):
        if not route.include_in_schema:
            continue
        access = access_of(route)
        for method in route.methods or ():
            op = schema["paths"].get(path, {}).get(method.lower())
            if op is None or access is None:
                continue
            kind, permission = access
            op["x-access"] = kind
            if permission:
                op["x-permission"] = permission
                named = " or ".join(f"`{p}`" for p in permission.split("|"))
                op["description"] = (op.get("description") or "") + f"\n\nRequires permission {named}."
            if kind != "public":
                op["security"] = [{"bearer": []}]
    app.openapi_schema = schema
    return schema


def prepare_routes(app: FastAPI) -> None:
    """Build what FastAPI builds for each included route on its first match, before the first request.

    FastAPI makes each included router's effective routes (their request and response models) when
    a request first walks them: seconds of work on a loaded machine that would otherwise fall on the
    first requests after start. `microcredit serve` does it before it listens (tests, which build
    many apps and use few routes of each, do not).
    """
    for route in app.router.routes:
        effective = getattr(route, "effective_route_contexts", None)
        if callable(effective):
            list(effective())  # built as the iterator is consumed


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start the outbox poller (if configured) for the life of the process: the outbox's timer, which
    delivers every message no request delivered itself (receipts, notices: all but one-time codes), every
    `OUTBOX_POLL_SECONDS` and at once again while a run took a full batch. Each `serve --workers N`
    worker runs one; the dispatcher's row locks keep them from sending a message twice."""
    runtime: Runtime = app.state.runtime
    stop = threading.Event()
    poller = None
    if runtime.settings.outbox_poll_seconds > 0:
        def poll() -> None:
            last_housekeeping = 0.0
            while not stop.wait(runtime.settings.outbox_poll_seconds):
                try:
                    full = True  # a full batch: more are waiting (a burst of repayments' receipts)
                    while full and not stop.is_set():
                        full = dispatch_outbox(runtime)
                    audit.seal_left(runtime.db)  # records a crash left between a commit and its seal
                    now = runtime.clock.now().timestamp()
                    if now - last_housekeeping >= HOUSEKEEPING_EVERY:
                        with runtime.db.unit_of_work() as session:
                            counts = housekeeping.run(session=session, clock=runtime.clock)
                        last_housekeeping = now
                        log.info("housekeeping", **counts)
                except Exception:  # keep polling; the next round retries
                    log.exception("background.poll_failed")

        poller = threading.Thread(target=poll, name="outbox-poller", daemon=True)
        poller.start()
    try:
        yield
    finally:
        stop.set()
        if poller is not None:
            poller.join(timeout=5)


def create_served_app(settings: Settings | None = None) -> FastAPI:
    """The application `microcredit serve` runs in each worker process: built from `settings` (or the
    environment), routes prepared, the start-up heap settled."""
    app = create_app(settings)
    prepare_routes(app)
    settle_heap()
    return app


def create_app(settings: Settings | None = None, *, runtime: Runtime | None = None) -> FastAPI:
    """Build the application (over `runtime`, or one built from `settings`)."""
    settings = settings or (runtime.settings if runtime else Settings())
    settings.check_production()
    configure_logging(json=settings.log_json, level=settings.log_level)
    runtime = runtime or build_runtime(settings)

    app = FastAPI(
        lifespan=_lifespan,
        title="microcredit API",
        version=__version__,
        description="Microcredit (小额信贷) system. Errors are `application/problem+json` with a stable `code`; "
                    "money travels as decimal strings; every operation declares the permission it needs "
                    "(`x-permission`).",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
        # FastAPI's own OpenTelemetry layer off: this service's metrics are Prometheus' (/metrics) and
        # its logs structlog's, and the layer looks up three providers on every request to learn
        # that no SDK is set up (docs/performance.md, tenth pass).
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.runtime = runtime
    app.state.metrics = Metrics()
    # Added first, so it runs inside the request context (request id, logs, metrics, headers).
    app.add_middleware(RequestGuardMiddleware, limits=lambda: app.state.runtime.settings.limits,
                       routes=lambda: iter_routes(app))
    app.add_middleware(RequestContextMiddleware, metrics=app.state.metrics)
    app.add_middleware(CompressApiResponses)  # outermost: compresses the finished response
    problems.install(app)
    app.add_exception_handler(IdempotentReplay, handle_replay)

    app.state.mounted_routers = []
    # Routes are matched in order: the probes first, so a load balancer's health check is not
    # compared with every API route's pattern before its own. Their routes go straight into the
    # application's list, not as an included router: FastAPI (0.165) matches an included router's
    # request twice and moves its own bookkeeping in the scope around each -- 95 of the 375 Python
    # calls of a /healthz (docs/performance.md, tenth pass). The probes take nothing from an
    # inclusion (no prefix, no dependencies, no shared responses).
    app.router.routes.extend(health_router.routes)
    app.state.mounted_routers.append(("", health_router))
    # Each domain's router straight on the application, not under one /api/v1 router: FastAPI (0.165)
    # matches a request against every level of included routers twice (once to find the branch, once
    # more to run it) and walks the whole tree of routers for its change check each time, so a second
    # level made finding a route late in the list cost ~100 pattern tests (docs/performance.md).
    for router in API_ROUTERS:
        app.include_router(router, prefix=API_PREFIX, responses=problems.PROBLEM_RESPONSES)
        app.state.mounted_routers.append((API_PREFIX, router))

    if runtime.sms_simulator is not None:
        # The runtime of the moment: tests point one app at each test's database.
        sim_router = build_sms_router(operator=lambda: app.state.runtime.sms_simulator,
                                      db=lambda: app.state.runtime.db)
        app.include_router(sim_router)
        app.state.mounted_routers.append(("", sim_router))
    if isinstance(runtime.payments, SimulatedPaymentProvider):
        from microcredit.servicing.service import payments

        def receive(**kw: Any) -> Any:  # the public callback route's service: stored, applied after
            return payments.receive_callback(cipher=app.state.runtime.keys.cipher, **kw)

        pay_sim = build_payments_router(provider=lambda: app.state.runtime.payments, db=lambda: app.state.runtime.db,
                                        clock=lambda: app.state.runtime.clock, receive=receive,
                                        then=lambda: dispatch_outbox(app.state.runtime))
        app.include_router(pay_sim)
        app.state.mounted_routers.append(("", pay_sim))
    if any(p.simulator for p in settings.oauth_providers):
        oauth_sim = build_oauth_simulator(settings)
        app.include_router(oauth_sim)
        app.state.mounted_routers.append(("", oauth_sim))
    app.state.metrics.route_paths = {id(route): path for path, route in iter_routes(app)}
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    mount_web(app, settings)
    # A request is tried only against the routers whose routes share its first path segments.
    index_by_segment(app)
    return app
