"""The API process serves the built web app: history-mode fallback, long-cached assets, fresh index."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from microcredit.api.app import create_app
from microcredit.runtime import build_runtime
from tests.conftest import make_settings

# Serving files does not depend on the database: one backend is enough.
pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


@pytest.fixture
def web_client(tmp_path: Path, database, clock):
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><title>app</title>")
    (dist / "assets" / "index-Ab12Cd.js").write_text("console.log(1)")
    (dist / "favicon.svg").write_text("<svg/>")
    (tmp_path / "secret.txt").write_text("outside the web root")
    settings = make_settings(tmp_path, web_dist=dist)
    with TestClient(create_app(runtime=build_runtime(settings, database=database, clock=clock))) as client:
        yield client


def test_pages_fall_back_to_the_index_which_is_never_cached(web_client):
    for path in ("/", "/login", "/staff/borrowers/12", "/oauth/complete"):
        r = web_client.get(path)
        assert r.status_code == 200, path
        assert "<title>app</title>" in r.text
        assert r.headers["cache-control"] == "no-cache, no-store, must-revalidate"
    assert web_client.head("/staff").status_code == 200


def test_hashed_assets_are_cached_for_a_year(web_client):
    r = web_client.get("/assets/index-Ab12Cd.js")
    assert r.status_code == 200
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert web_client.get("/favicon.svg").headers["cache-control"] == "no-cache"


def test_missing_files_api_paths_and_escapes_are_not_the_index(web_client):
    assert web_client.get("/assets/gone.js").status_code == 404
    assert web_client.get("/robots.txt").status_code == 404
    r = web_client.get("/api/v1/no-such-route")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    assert web_client.get("/_sim/nothing").status_code == 404
    escaped = web_client.get("/..%2Fsecret.txt")
    assert "outside the web root" not in escaped.text


def test_paths_the_file_system_cannot_hold_are_not_server_errors(web_client):
    # A NUL byte made Path.resolve raise ValueError and an over-long name OSError: HTTP 500.
    for path in ("/%00", "/assets/a%00.js", "/" + "a" * 5000, "/assets/" + "b" * 300 + ".js"):
        assert web_client.get(path).status_code in (200, 404), path[:20]


# The build's per-route documents (web/scripts/route-documents.ts), as it writes them: index.html with
# the route's own chunks preloaded, its .br/.gz copies, and pages/routes.json with vue-router's matching.
ROUTES = [
    ("home", "^/?$", "HomeView"),
    ("login", "^/login/?$", "LoginView"),
    ("product", "^/products/(?:[A-Z0-9_-]+)/?$", "OfferView"),
    ("apply", "^/products/(?:[A-Z0-9_-]+)/apply/?$", "ApplyView"),
    ("my-contract", "^/applications/(?:\\d+)/contract/?$", "MyContractView"),
    ("my-application", "^/applications/(?:\\d+)/?$", "MyApplicationView"),
    ("staff-login", "^/staff/login/?$", "StaffLoginView"),
    ("escape", "^/escape/?$", "Escape"),
]


def document(chunk: str) -> str:
    return f'<!doctype html><title>app</title><link rel="modulepreload" crossorigin href="/assets/{chunk}-x1.js">'


@pytest.fixture
def routed_client(tmp_path: Path, database, clock):
    dist = tmp_path / "dist"
    (dist / "pages").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><title>app</title>")
    listed = []
    for name, pattern, chunk in ROUTES:
        where = "../outside.html" if name == "escape" else f"pages/{name}.html"
        (dist / where).write_text(document(chunk))
        listed.append({"name": name, "pattern": pattern, "document": where})
    (dist / "pages" / "login.html.gz").write_bytes(gzip.compress(document("LoginView").encode()))
    (dist / "pages" / "routes.json").write_text(json.dumps({"routes": listed}))
    settings = make_settings(tmp_path, web_dist=dist)
    with TestClient(create_app(runtime=build_runtime(settings, database=database, clock=clock))) as client:
        yield client


def named_chunk(response) -> str | None:
    """The chunk the served document preloads, or None for the plain index.html."""
    found = re.search(r'href="/assets/([A-Za-z]+)-x1\.js"', response.text)
    return found.group(1) if found else None


def test_a_page_gets_the_document_naming_its_routes_chunks(routed_client):
    expected = {
        "/": "HomeView",
        "/login": "LoginView",
        "/LOGIN/": "LoginView",  # vue-router matches case-insensitively, with an optional trailing slash
        "/products/CONSUMER": "OfferView",
        "/products/consumer": "OfferView",
        "/products/CONSUMER/apply": "ApplyView",
        "/applications/12": "MyApplicationView",
        "/applications/12/contract": "MyContractView",
        "/staff/login": "StaffLoginView",
    }
    for path, chunk in expected.items():
        r = routed_client.get(path)
        assert r.status_code == 200, path
        assert named_chunk(r) == chunk, path
        # It depends on the address: never stored, and no validator two addresses' copies could share.
        assert r.headers["cache-control"] == "no-cache, no-store, must-revalidate", path
        assert "etag" not in r.headers, path
        assert "last-modified" not in r.headers, path


def test_other_addresses_get_the_plain_index(routed_client):
    # An unknown page, the console (the client routes it to its own frame), a parameter the route's
    # pattern refuses (full-width digits are not \d there), a longer path, a listed document outside the root.
    for path in (
        "/no-such-page",
        "/staff/borrowers/12",
        "/applications/１２",
        "/applications/x",
        "/login/more",
        "/escape",
    ):
        r = routed_client.get(path)
        assert r.status_code == 200, path
        assert r.text == "<!doctype html><title>app</title>", path
        assert r.headers["cache-control"] == "no-cache, no-store, must-revalidate", path


def test_a_route_document_goes_out_precompressed(routed_client):
    with routed_client.stream("GET", "/login", headers={"Accept-Encoding": "gzip"}) as r:
        body = b"".join(r.iter_raw())
    assert r.headers["content-encoding"] == "gzip"
    assert r.headers["vary"] == "Accept-Encoding"
    assert gzip.decompress(body).decode() == document("LoginView")
    # The plain index.html, asked by its name (what the service worker precaches), is the build's own file.
    r = routed_client.get("/index.html")
    assert r.text == "<!doctype html><title>app</title>"
    assert r.headers["cache-control"] == "no-cache"


def test_a_document_gone_since_start_up_falls_back_to_the_index(routed_client, tmp_path: Path):
    # A new build put in place under the running server: its list is read again only at the next start.
    (tmp_path / "dist" / "pages" / "login.html").unlink()
    (tmp_path / "dist" / "pages" / "login.html.gz").unlink()
    r = routed_client.get("/login")
    assert r.status_code == 200
    assert r.text == "<!doctype html><title>app</title>"
