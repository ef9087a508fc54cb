"""The API process serves the built web app: history-mode fallback, long-cached assets, fresh index."""

from __future__ import annotations

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
