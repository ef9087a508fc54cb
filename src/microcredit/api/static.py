"""The web app's static files, served by the API process at `/`.

Hashed assets (`/assets/*`, built by Vite with content hashes in their names)
are cached for a year as immutable; `index.html` is never cached, so a new
release is picked up at the next page load. Paths that are not files and not
API routes fall back to `index.html` (history-mode routing in the browser).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, Response
from starlette.exceptions import HTTPException

from microcredit.config import Settings

RESERVED = ("/api/", "/_sim/", "/healthz", "/readyz", "/metrics")


def default_web_dist() -> Path:
    """web/dist next to the source tree (a development checkout)."""
    return Path(__file__).resolve().parents[3] / "web" / "dist"


def mount_web(app: FastAPI, settings: Settings) -> None:
    """Serve the built web app if there is one."""
    root = (settings.web_dist or default_web_dist()).resolve()
    index = root / "index.html"
    if not index.is_file():
        return

    @app.api_route("/{path:path}", methods=["GET", "HEAD"], include_in_schema=False)
    def web(path: str, request: Request) -> Response:
        if request.url.path.startswith(RESERVED):
            raise HTTPException(404)
        try:
            candidate = (root / path).resolve()
            found = bool(path) and candidate.is_file() and candidate.is_relative_to(root)
        except (ValueError, OSError):  # a NUL byte, a name too long: no such file
            raise HTTPException(404) from None
        if found:
            headers = {"Cache-Control": "public, max-age=31536000, immutable"} \
                if path.startswith("assets/") else {"Cache-Control": "no-cache"}
            return FileResponse(candidate, headers=headers)
        if path.startswith("assets/") or "." in path.rsplit("/", 1)[-1]:
            raise HTTPException(404)  # a missing file, not a page
        return FileResponse(index, headers={"Cache-Control": "no-cache, no-store, must-revalidate"})
