"""The web app's static files, served by the API process at `/`.

Hashed assets (`/assets/*`, built by Vite with content hashes in their names)
are cached for a year as immutable; `index.html`, the service worker and the
other unhashed files at the root are revalidated on every load (`no-cache`), so
a new release is picked up at the next page load. Paths that are not files and
not API routes fall back to `index.html` (history-mode routing in the browser).

The build writes a brotli (`.br`) and a gzip (`.gz`) copy beside every text
file worth compressing. A request gets the best copy its `Accept-Encoding`
allows — br, then gzip, then the file itself — with `Content-Encoding` set and
`Vary: Accept-Encoding` on every file, so shared caches keep the copies apart.
Nothing is compressed at request time. A hashed asset goes out without the
validators (`ETag`, `Last-Modified`) and `Accept-Ranges`: it is never
revalidated nor fetched in parts, and on HTTP/1.1 each of the 10-20 files of a
page's first load would carry them (issue 20, docs/performance.md).

A page's address gets the document the build wrote for its route when there is
one (`pages/routes.json`, web/scripts/route-documents.ts): index.html naming the
route's own chunks as module preloads, so the browser fetches them beside the
entry instead of after it has run. The first route whose pattern matches the
address wins; other addresses get index.html. Either way the answer is never
stored (it depends on the address; the service worker answers later visits with
the plain index.html).
"""

from __future__ import annotations

import json
import mimetypes
import os
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, Response
from starlette.exceptions import HTTPException

from microcredit.config import Settings

RESERVED = ("/api/", "/_sim/", "/healthz", "/readyz", "/metrics")
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
NEVER_STORE = "no-cache, no-store, must-revalidate"
# The precompressed copies, best first, with the suffix the build gives them.
ENCODINGS = (("br", ".br"), ("gzip", ".gz"))
# Types Python's table may not know (the web app manifest) or may guess differently on other systems.
MEDIA_TYPES = {".webmanifest": "application/manifest+json", ".js": "text/javascript", ".mjs": "text/javascript"}


def default_web_dist() -> Path:
    """web/dist next to the source tree (a development checkout)."""
    return Path(__file__).resolve().parents[3] / "web" / "dist"


def accepted_encodings(header: str) -> set[str]:
    """The content codings an `Accept-Encoding` value allows (q > 0), `*` standing for any not named."""
    allowed: dict[str, bool] = {}
    for part in header.split(","):
        name, _, params = part.strip().partition(";")
        name = name.strip().lower()
        if not name:
            continue
        q = Decimal(1)
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    q = Decimal(value.strip())
                except InvalidOperation:
                    q = Decimal(0)  # an unreadable weight refuses rather than guesses
        allowed[name] = q > 0
    star = allowed.get("*", False)
    return {coding for coding, _ in ENCODINGS if allowed.get(coding, star)}


def media_type(path: Path) -> str:
    """The file's media type, from its name."""
    return MEDIA_TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"


class PlainFileResponse(FileResponse):
    """A file that is never revalidated — cached as immutable, or never stored (a page's document, whose
    copies differ by address and could share Starlette's mtime-and-size ETag): its length, but no
    validators and no `Accept-Ranges`."""

    def __init__(self, path: Path, media_type: str, headers: dict[str, str]) -> None:
        super().__init__(path, media_type=media_type, headers=headers)
        del self.headers["accept-ranges"]

    def set_stat_headers(self, stat_result: os.stat_result) -> None:
        self.headers.setdefault("content-length", str(stat_result.st_size))


def file_response(path: Path, request: Request, cache_control: str) -> FileResponse:
    """The file, or its best precompressed copy the client accepts (br > gzip > identity)."""
    headers = {"Cache-Control": cache_control, "Vary": "Accept-Encoding"}
    response = PlainFileResponse if cache_control in (IMMUTABLE, NEVER_STORE) else FileResponse
    accepted = accepted_encodings(request.headers.get("accept-encoding", ""))
    for coding, suffix in ENCODINGS:
        if coding in accepted:
            copy = path.with_name(path.name + suffix)
            if copy.is_file():
                headers["Content-Encoding"] = coding
                return response(copy, media_type=media_type(path), headers=headers)
    return response(path, media_type=media_type(path), headers=headers)


def route_documents(root: Path) -> list[tuple[re.Pattern[str], Path]]:
    """The build's per-route documents: each route's address pattern and its file (none without the list).

    The patterns are vue-router's matching as the build wrote it (JavaScript regex syntax of the
    simple kind: classes, `\\d`, groups), so they are matched case-insensitively and ASCII-only like
    there. A listed file that is missing or outside the web root is left out.
    """
    listing = root / "pages" / "routes.json"
    if not listing.is_file():
        return []
    documents = []
    for route in json.loads(listing.read_text(encoding="utf-8"))["routes"]:
        document = (root / route["document"]).resolve()
        if document.is_file() and document.is_relative_to(root):
            documents.append((re.compile(route["pattern"], re.IGNORECASE | re.ASCII), document))
    return documents


def mount_web(app: FastAPI, settings: Settings) -> None:
    """Serve the built web app if there is one."""
    root = (settings.web_dist or default_web_dist()).resolve()
    index = root / "index.html"
    if not index.is_file():
        return
    documents = route_documents(root)

    def document_for(path: str) -> Path:
        """The document for the page at `/path`: its route's, or index.html."""
        address = "/" + path
        found = next((document for pattern, document in documents if pattern.fullmatch(address)), index)
        return found if found.is_file() else index  # a build replaced under the running server

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
            return file_response(candidate, request, IMMUTABLE if path.startswith("assets/") else REVALIDATE)
        if path.startswith("assets/") or "." in path.rsplit("/", 1)[-1]:
            raise HTTPException(404)  # a missing file, not a page
        return file_response(document_for(path), request, NEVER_STORE)
