"""The web app's files go out precompressed: the copy the request's Accept-Encoding prefers (br > gzip > identity)."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from microcredit.api.app import COMPRESS_MIN_BYTES, create_app
from microcredit.api.static import accepted_encodings
from microcredit.runtime import build_runtime
from tests.conftest import make_settings

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)

SCRIPT = b"console.log('the app');\n" * 200
STYLE = b"body{margin:0}\n" * 200


@pytest.fixture
def web_client(tmp_path: Path, database, clock):
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_bytes(b"<!doctype html><title>app</title>" + b" " * 2000)
    (dist / "index.html.br").write_bytes(b"BR:index")
    (dist / "index.html.gz").write_bytes(gzip.compress((dist / "index.html").read_bytes()))
    (dist / "assets" / "index-Ab12Cd.js").write_bytes(SCRIPT)
    (dist / "assets" / "index-Ab12Cd.js.br").write_bytes(b"BR:script")  # marks which copy was sent
    (dist / "assets" / "index-Ab12Cd.js.gz").write_bytes(b"GZ:script")
    (dist / "assets" / "index-Ef34Gh.css").write_bytes(STYLE)  # the build left no copies of this one
    (dist / "sw.js").write_bytes(b"self.addEventListener('fetch', () => {})")
    (dist / "sw.js.gz").write_bytes(b"GZ:sw")
    (dist / "manifest.webmanifest").write_text('{"name": "app"}')
    settings = make_settings(tmp_path, web_dist=dist)
    with TestClient(create_app(runtime=build_runtime(settings, database=database, clock=clock))) as client:
        yield client


def raw(client: TestClient, path: str, accept: str | None, method: str = "GET"):
    """The response as it went over the wire (the client's own decoding off)."""
    headers = {"Accept-Encoding": accept} if accept is not None else {"Accept-Encoding": ""}
    with client.stream(method, path, headers=headers) as r:
        return r, b"".join(r.iter_raw())


def test_brotli_is_preferred_when_accepted(web_client):
    r, body = raw(web_client, "/assets/index-Ab12Cd.js", "gzip, deflate, br, zstd")
    assert r.headers["content-encoding"] == "br"
    assert body == b"BR:script"
    assert r.headers["content-type"].startswith("text/javascript")
    assert r.headers["vary"] == "Accept-Encoding"
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert r.headers["content-length"] == str(len(b"BR:script"))
    # Immutable: never revalidated nor fetched in parts, so no validators or range advertisement (issue 20).
    for header in ("etag", "last-modified", "accept-ranges"):
        assert header not in r.headers, header


def test_unhashed_files_keep_their_validators(web_client):
    r, _ = raw(web_client, "/sw.js", "gzip")
    assert r.headers["cache-control"] == "no-cache"
    assert r.headers["etag"]
    assert r.headers["last-modified"]


def test_gzip_when_brotli_is_not_accepted(web_client):
    r, body = raw(web_client, "/assets/index-Ab12Cd.js", "gzip, deflate")
    assert r.headers["content-encoding"] == "gzip"
    assert body == b"GZ:script"
    assert r.headers["vary"] == "Accept-Encoding"


def test_the_file_itself_without_accept_encoding(web_client):
    for accept in (None, "identity", "deflate"):
        r, body = raw(web_client, "/assets/index-Ab12Cd.js", accept)
        assert "content-encoding" not in r.headers, accept
        assert body == SCRIPT
        assert r.headers["vary"] == "Accept-Encoding"


def test_q_zero_refuses_a_coding(web_client):
    r, body = raw(web_client, "/assets/index-Ab12Cd.js", "br;q=0, gzip;q=0.8")
    assert (r.headers["content-encoding"], body) == ("gzip", b"GZ:script")
    r, body = raw(web_client, "/assets/index-Ab12Cd.js", "br;q=0, gzip;q=0")
    assert "content-encoding" not in r.headers
    assert body == SCRIPT
    r, body = raw(web_client, "/assets/index-Ab12Cd.js", "*;q=0")
    assert "content-encoding" not in r.headers
    r, body = raw(web_client, "/assets/index-Ab12Cd.js", "*")
    assert r.headers["content-encoding"] == "br"


def test_a_missing_copy_falls_back(web_client):
    # No copies at all: the file itself, still marked as varying.
    r, body = raw(web_client, "/assets/index-Ef34Gh.css", "br, gzip")
    assert "content-encoding" not in r.headers
    assert body == STYLE
    assert r.headers["content-type"].startswith("text/css")
    assert r.headers["vary"] == "Accept-Encoding"
    # Only a gzip copy: br is asked for first, gzip is what there is.
    r, body = raw(web_client, "/sw.js", "br, gzip")
    assert (r.headers["content-encoding"], body) == ("gzip", b"GZ:sw")
    assert r.headers["cache-control"] == "no-cache"


def test_head_gives_the_headers_of_the_chosen_copy(web_client):
    r, body = raw(web_client, "/assets/index-Ab12Cd.js", "br", method="HEAD")
    assert r.status_code == 200
    assert body == b""
    assert r.headers["content-encoding"] == "br"
    assert r.headers["content-length"] == str(len(b"BR:script"))
    assert r.headers["vary"] == "Accept-Encoding"


def test_pages_get_the_compressed_index_never_stored(web_client):
    r, body = raw(web_client, "/calculator", "gzip")
    assert r.headers["content-encoding"] == "gzip"
    assert gzip.decompress(body).startswith(b"<!doctype html>")
    assert r.headers["cache-control"] == "no-cache, no-store, must-revalidate"
    assert r.headers["content-type"].startswith("text/html")


def test_the_manifest_has_its_media_type(web_client):
    r = web_client.get("/manifest.webmanifest")
    assert r.headers["content-type"].startswith("application/manifest+json")
    assert r.headers["cache-control"] == "no-cache"


def test_larger_api_responses_are_gzipped_and_small_ones_left_alone(web_client):
    r, body = raw(web_client, "/api/v1/openapi.json", "gzip, br")
    assert r.headers["content-encoding"] == "gzip"
    assert len(gzip.decompress(body)) > COMPRESS_MIN_BYTES
    assert "Accept-Encoding" in r.headers["vary"]
    r, body = raw(web_client, "/api/v1/openapi.json", None)
    assert "content-encoding" not in r.headers
    small, body = raw(web_client, "/api/v1/no-such-route", "gzip")  # a short problem document
    assert len(body) < COMPRESS_MIN_BYTES
    assert "content-encoding" not in small.headers
    assert small.headers["content-type"].startswith("application/problem+json")
    # Outside the API nothing is compressed on the fly.
    health, _ = raw(web_client, "/readyz", "gzip")
    assert "content-encoding" not in health.headers


@pytest.mark.parametrize(("header", "expected"), [
    ("", set()),
    ("gzip", {"gzip"}),
    ("GZIP, BR", {"gzip", "br"}),
    ("br;q=0.5, gzip;q=1.0", {"gzip", "br"}),
    ("br;q=0, gzip", {"gzip"}),
    ("br; q=0.0", set()),
    ("*", {"gzip", "br"}),
    ("*;q=0, gzip", {"gzip"}),
    ("br;q=nonsense", set()),
])
def test_accept_encoding_parsing(header, expected, backend):
    assert accepted_encodings(header) == expected
