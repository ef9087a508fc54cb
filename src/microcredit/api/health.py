"""Liveness, readiness and metrics.

`/metrics` tells which routes are used and how they fail: it answers only
callers from `settings.metrics_allow` (default: this host) or with the
`settings.metrics_token` bearer token; everyone else gets a 404.
"""

from __future__ import annotations

import hmac
import json
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from microcredit import __version__
from microcredit.api.deps import client_ip, ip_in
from microcredit.config import Settings
from microcredit.db.migrate import current_revision, head_revision
from microcredit.errors import NotFound
from microcredit.platform.routing import UnitOfWorkRoute

router = APIRouter(tags=["operations"], route_class=UnitOfWorkRoute)


# The liveness answer never changes in a process: rendered once. A route that returns a Response is not
# validated or serialized again by FastAPI (its `response_model` only documents it).
_ALIVE = json.dumps({"status": "ok", "version": __version__}, separators=(",", ":")).encode()


async def healthz() -> Response:
    """The process is up (it does not look at dependencies)."""
    return Response(_ALIVE, media_type="application/json")


router.add_api_route("/healthz", healthz, methods=["GET"], operation_id="healthz",
                     summary="Liveness: the process answers", response_model=dict[str, Any])


@router.get("/readyz", operation_id="readyz", summary="Readiness: database migrated, Redis reachable",
            responses={503: {"description": "Not ready; `checks` says what failed"}})
def readyz(request: Request) -> JSONResponse:
    """Ready to serve: the database answers and is at the newest migration; Redis answers if configured."""
    runtime = request.app.state.runtime
    checks: dict[str, str] = {}
    try:
        assert runtime.db.engine is not None
        with runtime.db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        rev, head = current_revision(runtime.db.engine), head_revision()
        checks["database"] = "ok" if rev == head else f"at migration {rev}, code expects {head}"
    except Exception as exc:  # any failure means not ready
        checks["database"] = f"error: {type(exc).__name__}"
    if runtime.redis is not None:
        try:
            runtime.redis.ping()
            checks["redis"] = "ok"
        except Exception as exc:  # any failure means not ready
            checks["redis"] = f"error: {type(exc).__name__}"
    ok = all(v == "ok" for v in checks.values())
    return JSONResponse({"status": "ok" if ok else "unavailable", "checks": checks},
                        status_code=200 if ok else 503)


def metrics_allowed(request: Request, settings: Settings) -> bool:
    """The caller sent the metrics token (when one is set), or comes from an allowed address."""
    token = settings.metrics_token.get_secret_value()
    if token:
        scheme, _, sent = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(sent.strip().encode(), token.encode()):
            return True
    ip = client_ip(request, settings)
    allowed = [a.strip() for a in settings.metrics_allow.split(",") if a.strip()]
    return ip is not None and any(ip_in(ip, a) for a in allowed)


@router.get("/metrics", operation_id="metrics", summary="Prometheus metrics (restricted by configuration)",
            response_class=Response)
def metrics(request: Request) -> Response:
    """Prometheus text exposition of the process's counters and histograms (404 to callers not allowed)."""
    if not metrics_allowed(request, request.app.state.runtime.settings):
        raise NotFound()
    registry = request.app.state.metrics.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
