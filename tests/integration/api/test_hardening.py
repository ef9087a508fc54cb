"""What a fuzzer and an attacker found (issue 14 §7), each kept fixed: limits, strict types, clean text."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from pydantic import SecretStr

from microcredit.parties.models import Branch
from tests.factories import institution_header, make_borrower, make_branch, make_institution, make_staff
from tests.integration.helpers import assert_problem, signed_in, workbook_rows

MB = 1024 * 1024
QUOTE = {"amount": "10000", "annual_rate": "12", "term": 12, "repayment_method": "equal_installment",
         "start_date": "2026-01-15"}


def _asgi(app: Any, method: str, path: str, headers: dict[str, str], chunks: list[bytes]) -> tuple[int, int]:
    """Drive the ASGI app by hand: the answer's status, and how many body chunks the app asked for."""
    asked = 0
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal asked
        asked += 1
        if asked <= len(chunks):
            return {"type": "http.request", "body": chunks[asked - 1], "more_body": asked < len(chunks)}
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
             "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "", "query_string": b"",
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
             "client": ("127.0.0.1", 1234), "server": ("testserver", 80)}
    asyncio.run(app(scope, receive, send))
    return status, asked


@pytest.fixture
def inst(session, runtime):
    made = make_institution(session, runtime)
    session.commit()
    return made


def test_an_anonymous_body_to_a_signed_in_route_is_refused_unread(client, inst):
    chunk = b"[" + b"0," * (MB // 2)
    started = time.perf_counter()
    status, asked = _asgi(client.app, "POST", "/api/v1/borrowers/1/bank-cards",
                          {"content-type": "application/json"}, [chunk] * 50)
    assert (status, asked) == (401, 0)
    assert time.perf_counter() - started < 0.5
    r = client.post("/api/v1/staff", content=b"x" * (2 * MB), headers={"Content-Type": "application/json"})
    assert assert_problem(r, 401)["code"] == "not_authenticated"


def test_bodies_over_the_limit_are_refused_before_they_are_parsed(client, session, runtime, inst):
    staff = make_staff(session, runtime, inst, roles=("administrator",))
    h = signed_in(session, runtime, staff.user)
    session.commit()
    big = b"[" + b"0," * (5 * MB)
    r = client.post("/api/v1/quotes", content=big, headers={**institution_header(inst),
                                                            "Content-Type": "application/json"})
    body = assert_problem(r, 413)
    assert body["code"] == "body_too_large"
    r = client.post("/api/v1/staff", content=big, headers={**h, "Content-Type": "application/json"})
    assert assert_problem(r, 413)["code"] == "body_too_large"
    # Streamed without a length (chunked): refused once the limit is passed, not after the whole body.
    chunks = [b" " * 16 * 1024] * 64  # 1 MiB in 16 KiB pieces; the JSON limit is 64 KiB
    status, asked = _asgi(client.app, "POST", "/api/v1/quotes",
                          {"content-type": "application/json", "x-institution": inst.code}, chunks)
    assert status == 413
    assert asked <= 5
    # The limit is a setting.
    runtime.settings.limits.json_body_bytes = 2048
    r = client.post("/api/v1/quotes", json={**QUOTE, "fees": []}, headers={**institution_header(inst),
                                                                          "X-Pad": "x"})
    assert r.status_code == 200, r.text
    r = client.post("/api/v1/quotes", content=b"{" + b" " * 4096 + b"}", headers={
        **institution_header(inst), "Content-Type": "application/json"})
    assert assert_problem(r, 413)["code"] == "body_too_large"


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/api/v1/borrowers/9223372036854775808"),
    ("DELETE", "/api/v1/auth/sessions/9223372036854775808"),
    ("GET", "/api/v1/borrowers?page=100000000000000000"),
    ("GET", "/api/v1/borrowers?page_size=1000"),
    ("GET", "/api/v1/borrowers?branch_id=-9223372036854775809"),
    ("GET", "/api/v1/staff/0"),
])
def test_numbers_out_of_range_are_refused_never_overflowing(client, session, runtime, inst, method, path):
    staff = make_staff(session, runtime, inst, roles=("administrator",))
    h = signed_in(session, runtime, staff.user)
    session.commit()
    body = assert_problem(client.request(method, path, headers=h), 422)
    assert body["code"] == "validation_failed"
    assert body["field"] in ("borrower_id", "session_id", "page", "page_size", "branch_id", "staff_id")


def test_every_integer_parameter_is_bounded(client):
    schema = client.get("/api/v1/openapi.json").json()
    unbounded = []
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            for p in op.get("parameters", []):
                s = p["schema"]
                options = s.get("anyOf", [s])
                for option in options:
                    if option.get("type") == "integer" and ("maximum" not in option or "minimum" not in option):
                        unbounded.append((method, path, p["name"]))
    assert unbounded == []


@pytest.mark.parametrize(("change", "field", "code"), [
    ({"amount": 100000}, "amount", "money_not_string"),
    ({"amount": "1e5"}, "amount", "money_invalid"),
    ({"amount": "１２３"}, "amount", "money_invalid"),
    ({"amount": "99999999999999999999999"}, "amount", "money_out_of_range"),
    ({"term": True}, "term", "int_type"),
    ({"term": "12"}, "term", "int_type"),
    ({"term": 12.0}, "term", "int_type"),
    ({"start_date": 0}, "start_date", "date_invalid"),
    ({"start_date": "2026-01-15T00:00:00"}, "start_date", "date_invalid"),
    ({"start_date": "20260115"}, "start_date", "date_invalid"),
])
def test_quotes_take_only_the_documented_types(client, inst, change, field, code):
    r = client.post("/api/v1/quotes", json={**QUOTE, **change}, headers=institution_header(inst))
    errors = assert_problem(r, 422)["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [(field, code)]


def test_staff_inputs_take_only_the_documented_types(client, session, runtime, inst):
    staff = make_staff(session, runtime, inst, roles=("administrator",))
    h = signed_in(session, runtime, staff.user)
    session.commit()
    cases = [
        ("PUT", f"/api/v1/institutions/{inst.id}/business-date", {"business_date": 0}, "business_date",
         "date_invalid"),
        ("POST", "/api/v1/roles", {"code": "analyst", "name_zh": "分析", "name_en": "Analyst", "requires_mfa": 0},
         "requires_mfa", "bool_type"),
        ("POST", "/api/v1/branches", {"code": "BRX", "name": "新支行", "institution_id": False}, "institution_id",
         "int_type"),
        ("POST", "/api/v1/branches", {"code": "BRX", "name": "新支行", "institution_id": 2**64}, "institution_id",
         "int_out_of_range"),
    ]
    for method, path, body, field, code in cases:
        errors = assert_problem(client.request(method, path, json=body, headers=h), 422)["errors"]
        assert [(e["field"], e["code"]) for e in errors] == [(field, code)], path


def test_every_request_model_refuses_loose_values():
    """Walk every request body model: its integer, boolean and date fields refuse look-alikes."""
    from pydantic import ValidationError

    from microcredit.api.app import create_app  # noqa: F401  (imports every domain's schemas)
    from microcredit.platform.schema import InputSchema, _edge_of

    loose = {"int": [True, "1", 1.0], "bool": [0, "true"], "date": [0, "2026-01-15T00:00:00"]}
    seen = 0
    stack = list(InputSchema.__subclasses__())
    while stack:
        model = stack.pop()
        stack.extend(model.__subclasses__())
        for name, field in model.model_fields.items():
            kind, _, _ = _edge_of(field)
            for value in loose.get(kind or "", []):
                seen += 1
                with pytest.raises(ValidationError) as caught:
                    model.model_validate({field.alias or name: value})
                codes = {e["type"] for e in caught.value.errors() if e["loc"][:1] == (field.alias or name,)}
                assert codes & {"int_type", "bool_type", "date_invalid"}, (model.__name__, name, value, codes)
    assert seen > 20


def test_control_characters_are_refused_and_text_is_nfc(client, session, runtime, inst):
    staff = make_staff(session, runtime, inst, roles=("administrator",))
    h = signed_in(session, runtime, staff.user)
    branch = make_branch(session, runtime, inst)
    b = make_borrower(session, runtime, inst, password=None)
    bh = signed_in(session, runtime, b.user)
    session.commit()
    reg = client.post("/api/v1/auth/register", headers=institution_header(inst), json={
        "phone": "13800138000", "sms_code": "123456", "real_name": "张\x01三", "id_number": "11010519491231002X",
        "password": "a long passphrase"})
    assert [(e["field"], e["code"]) for e in assert_problem(reg, 422)["errors"]] == [
        ("real_name", "control_character")]
    for method, path, body in (("PATCH", f"/api/v1/branches/{branch.id}", {"name": "城东\t支行"}),
                               ("PATCH", f"/api/v1/staff/{staff.staff_id}", {"name": "员工\x85"}),
                               ("PATCH", f"/api/v1/borrowers/{b.borrower.id}", {"address": "南昌\x00"})):
        errors = assert_problem(client.request(method, path, json=body, headers=h), 422)["errors"]
        assert [e["code"] for e in errors] == ["control_character"], path
    errors = assert_problem(client.patch("/api/v1/me/profile", headers=bh, json={"employer": "公司\x1b"}), 422)
    assert errors["field"] == "employer"
    q = assert_problem(client.get("/api/v1/branches", params={"q": "a\x00"}, headers=h), 422)
    assert (q["field"], q["code"]) == ("q", "validation_failed")
    assert q["errors"][0]["code"] == "control_character"
    r = client.patch(f"/api/v1/branches/{branch.id}", json={"name": "Cafe\u0301 支行"}, headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "Caf\u00e9 支行"


def test_exports_survive_control_characters_already_stored(client, session, runtime, inst):
    staff = make_staff(session, runtime, inst, roles=("administrator",))
    h = signed_in(session, runtime, staff.user)
    branch = make_branch(session, runtime, inst)
    stored = session.get(Branch, branch.id)
    stored.name = "旧\x01数据"
    session.commit()
    rows = workbook_rows(client.get("/api/v1/branches/export", headers=h))
    assert ("旧\ufffd数据" in {r[1] for r in rows[1:]})


def test_tokens_and_revealed_data_are_never_cached(client, session, runtime, inst):
    branch = make_branch(session, runtime, inst)
    staff = make_staff(session, runtime, inst, roles=("loan_officer",), branch=branch)
    b = make_borrower(session, runtime, inst, branch=branch)
    session.commit()
    login = client.post("/api/v1/auth/login", headers=institution_header(inst),
                        json={"phone": b.phone, "password": b.password, "kind": "borrower"})
    assert login.status_code == 200, login.text
    assert login.headers["cache-control"] == "no-store"
    h = signed_in(session, runtime, staff.user)
    session.commit()
    reveal = client.post(f"/api/v1/borrowers/{b.borrower.id}/reveal", headers=h)
    assert reveal.status_code == 200, reveal.text
    assert reveal.headers["cache-control"] == "no-store"
    assert client.get("/api/v1/nowhere").headers["cache-control"] == "no-store"


def test_metrics_are_closed_unless_configured(client, runtime):
    assert_problem(client.get("/metrics"), 404)  # the test client is not localhost
    runtime.settings.metrics_token = SecretStr("m" * 40)
    assert_problem(client.get("/metrics", headers={"Authorization": "Bearer wrong"}), 404)
    assert client.get("/metrics", headers={"Authorization": "Bearer " + "m" * 40}).status_code == 200
    runtime.settings.metrics_token = SecretStr("")
    runtime.settings.metrics_allow = "testclient"
    assert client.get("/metrics").status_code == 200


def test_malformed_bodies_name_the_body(client, inst):
    for content in (b'{"amount": "10', b"\xff\xfe", b"[1, 2"):
        r = client.post("/api/v1/quotes", content=content, headers={**institution_header(inst),
                                                                    "Content-Type": "application/json"})
        body = assert_problem(r, 422)
        assert (body["code"], body["field"]) == ("body_malformed", "body"), content
    not_an_object = assert_problem(client.post("/api/v1/quotes", json=[1, 2], headers=institution_header(inst)), 422)
    assert not_an_object["field"] == "body"
