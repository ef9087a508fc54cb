"""Online self-registration: what a spent SMS code and the per-IP limit protect against."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from microcredit.api.app import create_app
from microcredit.runtime import build_runtime
from tests.factories import CONSENTS, institution_header, last_sms_code, make_borrower, next_id_number, next_phone
from tests.integration.helpers import assert_problem

PASSWORD = "A-Registration-Passphrase"


def _register(client, inst, phone: str, code: str, number: str):
    return client.post("/api/v1/auth/register", headers=institution_header(inst), json={
        "phone": phone, "sms_code": code, "real_name": "新客户", "id_number": number, "password": PASSWORD,
        "consents": CONSENTS})


def _code(client, inst, phone: str) -> str:
    r = client.post("/api/v1/auth/sms-codes", headers=institution_header(inst),
                    json={"phone": phone, "purpose": "register"})
    assert r.status_code == 202, r.text
    return last_sms_code(client, phone)


def test_a_code_spent_on_a_registered_id_number_stays_spent(client, session, runtime, org):
    """Otherwise one code would ask, again and again, whether ID numbers are borrowers here."""
    existing = make_borrower(session, runtime, org.inst, password=None)
    session.commit()
    phone = next_phone()
    code = _code(client, org.inst, phone)
    taken = _register(client, org.inst, phone, code, existing.id_number)
    assert (taken.status_code, taken.json()["status"]) == (202, "received")  # as a success would answer
    again = assert_problem(_register(client, org.inst, phone, code, next_id_number()), 422)
    assert (again["code"], again["field"]) == ("invalid_sms_code", "sms_code")
    assert _register(client, org.inst, phone, _code_after_wait(client, runtime, org.inst, phone), next_id_number()
                     ).status_code == 202


def _code_after_wait(client, runtime, inst, phone: str) -> str:
    from datetime import timedelta

    runtime.clock.advance(timedelta(seconds=runtime.settings.security.sms_resend_seconds))
    return _code(client, inst, phone)


@pytest.fixture(params=["database", "redis"])
def limited_client(request, settings, database, clock):
    """A client whose limits live in the database, or in Redis."""
    redis = request.getfixturevalue("redis_client") if request.param == "redis" else None
    runtime = build_runtime(settings, database=database, clock=clock, redis=redis)
    with TestClient(create_app(runtime=runtime)) as client:
        yield client, runtime


def test_registration_is_limited_per_ip(limited_client, org, session):
    client, runtime = limited_client
    session.commit()
    limit = runtime.settings.rate_limits.register_per_ip_per_hour
    for _ in range(limit):
        r = _register(client, org.inst, next_phone(), "000000", next_id_number())
        assert assert_problem(r, 422)["code"] == "invalid_sms_code"
    r = _register(client, org.inst, next_phone(), "000000", next_id_number())
    refused = assert_problem(r, 429)
    assert refused["code"] == "rate_limited"
    assert 0 < refused["retry_after"] <= 3600
    assert r.headers["retry-after"] == str(refused["retry_after"])
    assert assert_problem(client.post("/api/v1/auth/register", headers=institution_header(org.inst), json={}),
                          429)["code"] == "rate_limited"
