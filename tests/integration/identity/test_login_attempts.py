"""Every sign-in attempt is recorded with time, IP, user agent, method and outcome."""

from __future__ import annotations

from datetime import timedelta

import pyotp

from microcredit.config import SecuritySettings
from tests.conftest import START
from tests.factories import last_sms_code, make_borrower, make_institution, make_staff, next_phone
from tests.integration.identity.support import API, code, password_login, request_code, signed_in, sms_login

AGENT = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) MicroMessenger/8.0"


def history(client, auth, **params):
    """GET /login-attempts (newest first)."""
    r = client.get(f"{API}/login-attempts", headers=auth, params=params)
    assert r.status_code == 200, r.text
    return r.json()


def test_every_attempt_is_recorded(app_with, session, runtime, clock, inst):
    _, client = app_with(trusted_proxies="testclient,10.0.0.0/8")
    b = make_borrower(session, runtime, inst)
    officer = make_staff(session, runtime, inst, roles=("loan_officer",), totp=True)
    manager = make_staff(session, runtime, inst, roles=("branch_manager",), password=None)
    session.commit()
    unknown = next_phone()
    via = {"X-Forwarded-For": "203.0.113.7, 10.0.0.1", "User-Agent": AGENT}

    def step(seconds, r, expected):
        assert code(r) == expected, r.text
        clock.advance(timedelta(seconds=seconds))

    step(1, password_login(client, inst, b.phone, b.password, extra_headers=via), None)
    step(0, password_login(client, inst, b.phone, "wrong one", extra_headers=via), "invalid_credentials")
    step(0, password_login(client, inst, b.phone, "wrong two", extra_headers=via), "invalid_credentials")
    step(1, password_login(client, inst, b.phone, "wrong three", extra_headers=via), "login_delayed")
    step(0, password_login(client, inst, unknown, "a guess", extra_headers=via), "invalid_credentials")
    request_code(client, inst, b.phone, "login", extra_headers=via)
    step(0, sms_login(client, inst, b.phone, last_sms_code(client, b.phone), extra_headers=via), None)
    r = password_login(client, inst, officer.phone, officer.password, kind="staff", extra_headers=via)
    assert r.json()["status"] == "mfa_required"
    wrong_totp = f"{(int(pyotp.TOTP(officer.totp_secret).at(clock.now())) + 1) % 1_000_000:06d}"
    r = client.post(f"{API}/auth/login/totp", json={"mfa_token": r.json()["mfa_token"], "code": wrong_totp},
                    headers=via)
    assert code(r) == "invalid_totp"

    auth = signed_in(session, runtime, manager.user)
    page = history(client, auth, page_size=100)
    rows = [(a["method"], a["outcome"], a["user_id"], a["kind"]) for a in reversed(page["items"])]
    assert rows == [
        ("password", "success", b.user.id, "borrower"),
        ("password", "bad_credentials", b.user.id, "borrower"),
        ("password", "bad_credentials", b.user.id, "borrower"),
        ("password", "delayed", b.user.id, "borrower"),
        ("password", "bad_credentials", None, "borrower"),
        ("sms", "success", b.user.id, "borrower"),
        ("password", "mfa_required", officer.user.id, "staff"),
        ("totp", "bad_second_factor", officer.user.id, "staff"),
    ]
    assert page["total"] == 8
    assert {(a["ip"], a["user_agent"]) for a in page["items"]} == {("203.0.113.7", AGENT)}
    assert [a["at"][:19] for a in reversed(page["items"])][:4] == [
        (START + timedelta(seconds=s)).strftime("%Y-%m-%dT%H:%M:%S") for s in (0, 1, 1, 1)]
    names = {a["user_name"] for a in page["items"] if a["user_id"] == b.user.id}
    assert names == {b.user.display_name}


def test_the_history_filters_and_pages_on_the_server(client, session, runtime, clock, inst):
    b = make_borrower(session, runtime, inst)
    manager = make_staff(session, runtime, inst, roles=("branch_manager",), password=None)
    session.commit()
    password_login(client, inst, b.phone, b.password)
    for _ in range(3):
        clock.advance(timedelta(minutes=1))
        password_login(client, inst, next_phone(), "a guess")
    auth = signed_in(session, runtime, manager.user)
    assert history(client, auth, outcome="success")["total"] == 1
    assert history(client, auth, user_id=b.user.id)["items"][0]["outcome"] == "success"
    page = history(client, auth, outcome="bad_credentials", page_size=2, page=2)
    assert (page["total"], len(page["items"])) == (3, 1)
    since = (clock.now() - timedelta(seconds=90)).isoformat()
    assert history(client, auth, since=since)["total"] == 2
    oldest_first = history(client, auth, sort="at")["items"]
    assert oldest_first[0]["outcome"] == "success"


def test_the_history_stays_within_the_institution(client, session, runtime, inst):
    other = make_institution(session, runtime)
    stranger = make_borrower(session, runtime, other)
    manager = make_staff(session, runtime, inst, roles=("branch_manager",), password=None)
    session.commit()
    password_login(client, other, stranger.phone, stranger.password)
    assert history(client, signed_in(session, runtime, manager.user))["total"] == 0


def test_the_history_needs_its_permission_and_exports(client, session, runtime, inst):
    officer = make_staff(session, runtime, inst, roles=("loan_officer",), password=None)
    auditor = make_staff(session, runtime, inst, roles=("auditor",), password=None)
    session.commit()
    r = client.get(f"{API}/login-attempts", headers=signed_in(session, runtime, officer.user))
    assert (r.status_code, code(r)) == (403, "permission_denied")
    password_login(client, inst, next_phone(), "a guess")
    r = client.get(f"{API}/login-attempts/export", headers=signed_in(session, runtime, auditor.user))
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    assert r.content[:2] == b"PK"


def test_attempts_refused_by_the_per_ip_limit_are_recorded_too(app_with, session, runtime, inst):
    _, client = app_with(security=SecuritySettings(ip_failures_per_hour=10), trusted_proxies="testclient")
    b = make_borrower(session, runtime, inst)
    manager = make_staff(session, runtime, inst, roles=("branch_manager",), password=None)
    session.commit()
    via = {"X-Forwarded-For": "203.0.113.9", "User-Agent": AGENT}
    for _ in range(10):
        password_login(client, inst, next_phone(), "a guess", extra_headers=via)
    r = password_login(client, inst, b.phone, b.password, extra_headers=via)
    assert (r.status_code, code(r)) == (429, "rate_limited")
    latest = history(client, signed_in(session, runtime, manager.user))["items"][0]
    assert (latest["user_id"], latest["method"], latest["ip"], latest["user_agent"]) == \
        (b.user.id, "password", "203.0.113.9", AGENT)
    assert latest["outcome"] not in ("success", "bad_credentials")
