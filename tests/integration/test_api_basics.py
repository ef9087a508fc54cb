"""What every response shares: problem documents, request ids, health, metrics, security headers, money as text."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from pydantic import SecretStr

from microcredit.api.app import create_app
from microcredit.db.engine import Database
from microcredit.db.migrate import head_revision, upgrade
from microcredit.runtime import build_runtime
from tests.conftest import fresh_database_url
from tests.factories import institution_header, make_borrower, make_institution
from tests.integration.helpers import assert_problem, signed_in

SECURITY_HEADERS = {"x-content-type-options": "nosniff", "x-frame-options": "DENY",
                    "referrer-policy": "strict-origin-when-cross-origin"}


def _secure(response) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (name, response.headers)
    assert "permissions-policy" in response.headers
    assert re.fullmatch(r"[A-Za-z0-9._-]{8,64}", response.headers["x-request-id"])


def test_validation_errors_name_every_field_in_chinese_by_default_and_in_english(client, session, runtime):
    inst = make_institution(session, runtime)
    session.commit()
    r = client.post("/api/v1/auth/register", headers=institution_header(inst), json={})
    body = assert_problem(r, 422)
    assert (body["code"], body["field"], body["detail"]) == ("validation_failed", None, "输入有误，请检查标出的字段")
    assert sorted(e["field"] for e in body["errors"]) == ["id_number", "password", "phone", "real_name"]
    assert {(e["code"], e["message"]) for e in body["errors"]} == {("missing", "必填")}
    assert body["type"] == "https://microcredit.dev/problems/validation_failed"
    _secure(r)

    en = assert_problem(client.post("/api/v1/auth/register", json={"phone": "13800138000", "real_name": "张三",
                                                                    "id_number": "11010519491231002X",
                                                                    "password": "pw", "sms_code": "12ab56"},
                                    headers={**institution_header(inst), "Accept-Language": "en-GB,en;q=0.8"}), 422)
    assert (en["detail"], en["field"]) == ("Some fields are not valid", "sms_code")
    assert en["errors"] == [{"field": "sms_code", "code": "string_pattern_mismatch",
                             "message": "String should match pattern '^\\d{6}$'"}]

    nested = assert_problem(client.post("/api/v1/auth/register", headers=institution_header(inst), json={
        "phone": "13800138000", "real_name": "张三", "id_number": "11010519491231002X", "password": "x" * 20,
        "sms_code": "123456", "nickname": "extra"}), 422)
    assert [(e["field"], e["code"], e["message"]) for e in nested["errors"]] == [
        ("nickname", "extra_forbidden", "不允许的字段")]
    broken = assert_problem(client.post("/api/v1/auth/register", headers={**institution_header(inst),
                                                                         "Content-Type": "application/json"},
                                        content=b'{"phone": '), 422)
    # Truncated JSON names the body (never the character offset the parser stopped at).
    assert (broken["code"], broken["field"]) == ("body_malformed", "body")
    assert broken["errors"] == [{"field": "body", "code": "body_malformed", "message": "请求体不是有效的 JSON"}]
    domain = assert_problem(client.post("/api/v1/auth/register", headers={**institution_header(inst),
                                                                         "Accept-Language": "en"}, json={
        "phone": "13800138000", "real_name": "张三", "id_number": "110105194912310021", "password": "x" * 20,
        "sms_code": "123456"}), 422)
    assert (domain["code"], domain["field"]) == ("id_number_checksum", "id_number")
    assert domain["detail"] == "The ID number's check character is wrong: check for a typo"
    assert domain["errors"] == [{"field": "id_number", "code": "id_number_checksum", "message": domain["detail"]}]


def test_unknown_routes_and_methods_are_problems(client):
    r = client.get("/api/v1/no-such-thing")
    body = assert_problem(r, 404)
    assert (body["code"], body["detail"]) == ("not_found", "找不到该资源")
    _secure(r)
    assert assert_problem(client.get("/api/v1/no-such-thing", headers={"Accept-Language": "en"}), 404)["detail"] \
        == "Not found"
    assert assert_problem(client.delete("/api/v1/auth/login"), 405)["code"] == "method_not_allowed"
    unknown = assert_problem(client.get("/api/v1/public/config", headers={"X-Institution": "NOWHERE"}), 404)
    assert unknown["field"] == "institution"


def test_a_crash_answers_500_without_internals(runtime):
    app = create_app(runtime=runtime)

    @app.post("/api/v1/test-crash")
    def crash() -> None:
        raise RuntimeError("secret internals: password=hunter2 at /srv/app.py line 42")

    with TestClient(app, raise_server_exceptions=False) as client:
        r = client.post("/api/v1/test-crash", headers={"X-Request-ID": "crash-request-0001"})
    body = assert_problem(r, 500)
    assert (body["code"], body["detail"]) == ("internal_error", "系统繁忙，请稍后重试")
    assert body["request_id"] == "crash-request-0001"
    for leak in ("hunter2", "RuntimeError", "Traceback", "app.py", "secret"):
        assert leak not in r.text
    assert r.headers["x-request-id"] == "crash-request-0001"
    _secure(r)


def test_request_ids_are_echoed_or_made(client):
    r = client.get("/healthz", headers={"X-Request-ID": "client-chosen-id.42"})
    assert r.headers["x-request-id"] == "client-chosen-id.42"
    for sent in ({}, {"X-Request-ID": "bad id with spaces"}, {"X-Request-ID": "short"},
                 {"X-Request-ID": "x" * 65}):
        made = client.get("/api/v1/no-such-thing", headers=sent)
        assert re.fullmatch(r"[0-9a-f]{32}", made.headers["x-request-id"]), sent
        assert made.json()["request_id"] == made.headers["x-request-id"]
    again = client.get("/healthz")
    assert again.headers["x-request-id"] != made.headers["x-request-id"]


def test_ready_only_once_migrated(backend, worker_tmp, settings, clock):
    database = Database(fresh_database_url(backend, worker_tmp, "_readiness"))
    try:
        runtime = build_runtime(settings, database=database, clock=clock)
        with TestClient(create_app(runtime=runtime)) as client:
            r = client.get("/readyz")
            assert r.status_code == 503
            assert r.json() == {"status": "unavailable",
                                "checks": {"database": f"at migration None, code expects {head_revision()}"}}
            alive = client.get("/healthz")
            assert (alive.status_code, alive.json()["status"]) == (200, "ok")
            _secure(alive)
            assert database.engine is not None
            upgrade(database.engine)
            ready = client.get("/readyz")
            assert (ready.status_code, ready.json()) == (200, {"status": "ok", "checks": {"database": "ok"}})
    finally:
        database.dispose()


def test_metrics_count_requests_by_route_template(client, session, runtime):
    inst = make_institution(session, runtime)
    session.commit()
    client.get("/healthz")
    client.get("/healthz")
    client.get(f"/api/v1/institutions/{inst.id}")
    runtime.settings.metrics_token = SecretStr("a-metrics-token-of-some-length")
    r = client.get("/metrics", headers={"Authorization": "Bearer a-metrics-token-of-some-length"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    text = r.text
    assert re.search(r'microcredit_http_requests_total\{method="GET",route="/healthz",status="200"\} [2-9]', text)
    assert 'route="/api/v1/institutions/{institution_id}",status="401"' in text
    assert f"/institutions/{inst.id}" not in text
    assert "microcredit_http_request_seconds_bucket" in text


def test_money_travels_as_decimal_strings(client, session, runtime):
    inst = make_institution(session, runtime)
    b = make_borrower(session, runtime, inst, password=None)
    h = signed_in(session, runtime, b.user)
    session.commit()
    refused = assert_problem(client.patch("/api/v1/me/profile", headers=h, json={"monthly_income": 1234.5}), 422)
    assert [(e["field"], e["code"]) for e in refused["errors"]] == [("monthly_income", "money_not_string")]
    assert "字符串" in refused["errors"][0]["message"]  # in the request's language (zh-CN by default)
    for bad, code in (("12.345", "money_decimals"), ("abc", "money_invalid"), ("NaN", "money_invalid"),
                      ("Infinity", "money_invalid"), ("1e5", "money_invalid"), ("８００００", "money_invalid"),
                      (80000, "money_not_string"), (True, "money_not_string")):
        r = client.patch("/api/v1/me/profile", headers=h, json={"total_assets": bad})
        errors = assert_problem(r, 422)["errors"]
        assert [(e["field"], e["code"]) for e in errors] == [("total_assets", code)], bad
    r = client.patch("/api/v1/me/profile", headers=h, json={"monthly_income": "1234.5", "total_assets": "80000"})
    assert r.status_code == 200, r.text
    change = r.json()["pending_change"]["changes"]
    assert change == {"monthly_income": {"old": None, "new": "1234.50"},
                      "total_assets": {"old": None, "new": "80000.00"}}
    schema = client.get("/api/v1/openapi.json").json()["components"]["schemas"]
    assert schema["BorrowerRead"]["properties"]["monthly_income"]["anyOf"][0]["type"] == "string"
