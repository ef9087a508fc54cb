"""Brute force: growing delays, a 30-minute lock after 5 failures, per-IP limits, unlocks.

The delays and the lock are kept per phone number (its blind index), whether or not an
account has it, so an unknown number must behave exactly like a known one.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from microcredit.config import SecuritySettings
from tests.conftest import START
from tests.factories import last_sms_code, make_borrower, make_staff, next_phone
from tests.integration.identity.support import (
    API,
    bearer,
    code,
    me,
    password_login,
    request_code,
    reset_password,
    shape,
    signed_in,
    sms_login,
)

WRONG = "not the password"


def lock(client, clock, attempt) -> list[tuple]:
    """Fail until locked, waiting out each delay; the answers on the way."""
    answers = []
    for _ in range(20):
        r = attempt()
        answers.append((r.status_code, code(r)))
        if r.status_code == 429 and code(r) == "login_delayed":
            clock.advance(timedelta(seconds=int(r.headers["retry-after"])))
        elif r.status_code == 423:
            return answers
    raise AssertionError(f"never locked: {answers}")


def run_attack(client, clock, inst, phone: str, final_password: str) -> list[tuple]:
    """The documented sequence of five failures with the clock moved by hand; each answer's shape."""
    clock.set(START)
    steps = [
        (0, WRONG),            # failure 1
        (0, WRONG),            # failure 2
        (0, WRONG),            # delayed 1 s
        (0, final_password),   # delayed too, whatever the password
        (1, WRONG),            # failure 3
        (0, WRONG),            # delayed 2 s
        (2, WRONG),            # failure 4
        (3, WRONG),            # still delayed 1 s of 4
        (1, WRONG),            # failure 5: locked for 30 minutes
        (0, final_password),   # locked, even with the right password
        (29 * 60 + 59, final_password),
    ]
    answers = []
    for wait, password in steps:
        clock.advance(timedelta(seconds=wait))
        answers.append(shape(password_login(client, inst, phone, password)))
    return answers


def test_five_failures_lock_for_30_minutes_after_growing_delays(client, session, runtime, clock, inst):
    b = make_borrower(session, runtime, inst)
    session.commit()
    answers = run_attack(client, clock, inst, b.phone, b.password)
    assert [(status, problem, retry) for status, problem, retry, _ in answers] == [
        (401, "invalid_credentials", None),
        (401, "invalid_credentials", None),
        (429, "login_delayed", "1"),
        (429, "login_delayed", "1"),
        (401, "invalid_credentials", None),
        (429, "login_delayed", "2"),
        (401, "invalid_credentials", None),
        (429, "login_delayed", "1"),
        (423, "account_locked", None),
        (423, "account_locked", None),
        (423, "account_locked", None),
    ]
    locked_at = START + timedelta(seconds=7)
    locked_until = (locked_at + timedelta(minutes=30)).isoformat()
    assert {body["locked_until"] for _, _, _, body in answers[8:]} == {locked_until}
    assert [body["retry_after"] for _, _, _, body in answers if body.get("code") == "login_delayed"] == [1, 1, 2, 1]
    # 30 minutes after the lock, the right password works again.
    clock.set(locked_at + timedelta(minutes=30))
    assert password_login(client, inst, b.phone, b.password).status_code == 200


def test_an_unknown_number_behaves_exactly_like_a_known_one(client, session, runtime, clock, inst):
    b = make_borrower(session, runtime, inst)
    session.commit()
    known = run_attack(client, clock, inst, b.phone, b.password)
    unknown = run_attack(client, clock, inst, next_phone(), b.password)
    assert known == unknown


def test_the_lock_ends_existing_sessions(client, session, runtime, clock, inst):
    b = make_borrower(session, runtime, inst)
    session.commit()
    auth = bearer(password_login(client, inst, b.phone, b.password))
    assert me(client, auth).status_code == 200
    assert lock(client, clock, lambda: password_login(client, inst, b.phone, WRONG))[-1] == (423, "account_locked")
    r = me(client, auth)
    assert (r.status_code, code(r)) == (401, "session_expired")


def test_failed_sms_sign_ins_count_too(client, session, runtime, clock, inst):
    b = make_borrower(session, runtime, inst)
    session.commit()
    request_code(client, inst, b.phone, "login")
    right = last_sms_code(client, b.phone)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    answers = lock(client, clock, lambda: sms_login(client, inst, b.phone, wrong))
    assert answers.count((422, "invalid_sms_code")) == 4
    assert code(password_login(client, inst, b.phone, b.password)) == "account_locked"


def test_the_threshold_is_configurable_but_never_above_10(app_with, session, runtime, clock, inst):
    with pytest.raises(ValidationError):
        SecuritySettings(lockout_threshold=11)
    with pytest.raises(ValidationError):
        SecuritySettings(lockout_minutes=29)
    _, client = app_with(security=SecuritySettings(lockout_threshold=3, delay_after_failures=5))
    b = make_borrower(session, runtime, inst)
    session.commit()
    answers = [code(password_login(client, inst, b.phone, WRONG)) for _ in range(3)]
    assert answers == ["invalid_credentials", "invalid_credentials", "account_locked"]


def test_failures_per_ip_are_limited(app_with, session, runtime, clock, inst):
    _, client = app_with(security=SecuritySettings(ip_failures_per_hour=10), trusted_proxies="testclient")
    b = make_borrower(session, runtime, inst)
    session.commit()
    attacker, other = {"X-Forwarded-For": "203.0.113.7"}, {"X-Forwarded-For": "198.51.100.2"}
    for _ in range(10):  # one failure each on ten numbers: no number is delayed or locked
        r = password_login(client, inst, next_phone(), WRONG, extra_headers=attacker)
        assert code(r) == "invalid_credentials"
    r = password_login(client, inst, b.phone, b.password, extra_headers=attacker)
    assert (r.status_code, code(r)) == (429, "rate_limited")
    assert 0 < int(r.headers["retry-after"]) <= 3600
    assert password_login(client, inst, b.phone, b.password, extra_headers=other).status_code == 200
    clock.advance(timedelta(hours=1))
    assert password_login(client, inst, b.phone, b.password, extra_headers=attacker).status_code == 200


def test_staff_unlock_a_staff_member(client, session, runtime, clock, inst):
    officer = make_staff(session, runtime, inst, roles=("loan_officer",))
    manager = make_staff(session, runtime, inst, roles=("branch_manager",), password=None)
    session.commit()
    lock(client, clock, lambda: password_login(client, inst, officer.phone, WRONG, kind="staff"))
    auth = signed_in(session, runtime, manager.user)
    assert client.get(f"{API}/staff/{officer.staff_id}", headers=auth).json()["locked"] is True
    # Unlocking needs `user.unlock`: the officer's colleagues cannot.
    colleague = make_staff(session, runtime, inst, roles=("loan_officer",), password=None)
    r = client.post(f"{API}/staff/{officer.staff_id}/unlock", headers=signed_in(session, runtime, colleague.user))
    assert (r.status_code, code(r)) == (403, "permission_denied")
    r = client.post(f"{API}/staff/{officer.staff_id}/unlock", headers=auth)
    assert r.status_code == 200, r.text
    assert r.json()["locked"] is False
    assert password_login(client, inst, officer.phone, officer.password, kind="staff").status_code == 200


def test_staff_unlock_a_borrower(client, session, runtime, clock, inst):
    b = make_borrower(session, runtime, inst)
    manager = make_staff(session, runtime, inst, roles=("branch_manager",), password=None)
    session.commit()
    lock(client, clock, lambda: password_login(client, inst, b.phone, WRONG))
    r = client.post(f"{API}/borrowers/{b.borrower.id}/unlock", headers=signed_in(session, runtime, manager.user))
    assert r.status_code == 200, r.text
    assert password_login(client, inst, b.phone, b.password).status_code == 200


def test_an_sms_verified_reset_unlocks(client, session, runtime, clock, inst):
    b = make_borrower(session, runtime, inst)
    session.commit()
    lock(client, clock, lambda: password_login(client, inst, b.phone, WRONG))
    request_code(client, inst, b.phone, "reset_password")
    r = reset_password(client, inst, b.phone, last_sms_code(client, b.phone), "a fresh passphrase")
    assert r.status_code == 200, r.text
    assert code(password_login(client, inst, b.phone, b.password)) == "invalid_credentials"
    clock.advance(timedelta(seconds=1))
    assert password_login(client, inst, b.phone, "a fresh passphrase").status_code == 200


def test_an_sms_verified_reset_ends_every_session(client, session, runtime, inst):
    b = make_borrower(session, runtime, inst)
    session.commit()
    first, second = (bearer(password_login(client, inst, b.phone, b.password)) for _ in range(2))
    request_code(client, inst, b.phone, "reset_password")
    assert reset_password(client, inst, b.phone, last_sms_code(client, b.phone), "a fresh passphrase"
                          ).status_code == 200
    assert [code(me(client, auth)) for auth in (first, second)] == ["session_expired", "session_expired"]


def test_a_reset_for_an_unknown_number_is_refused_like_a_wrong_code(client, inst):
    phone = next_phone()
    request_code(client, inst, phone, "reset_password")
    r = reset_password(client, inst, phone, "123456", "a fresh passphrase")
    assert (r.status_code, code(r)) == (422, "invalid_sms_code")


def test_a_spoofed_forwarded_for_entry_does_not_escape_the_per_ip_limit(app_with, session, runtime, inst):
    # The trusted proxy appends the address it saw to whatever X-Forwarded-For the client sent, so
    # only the right-most entries are trustworthy; the client picks the left-most one freely.
    _, client = app_with(security=SecuritySettings(ip_failures_per_hour=10), trusted_proxies="testclient")
    b = make_borrower(session, runtime, inst)
    session.commit()
    for n in range(10):
        spoofed = {"X-Forwarded-For": f"198.51.100.{n}, 203.0.113.7"}
        assert code(password_login(client, inst, next_phone(), WRONG, extra_headers=spoofed)) == \
            "invalid_credentials"
    r = password_login(client, inst, b.phone, b.password, extra_headers={"X-Forwarded-For": "192.0.2.99, 203.0.113.7"})
    assert (r.status_code, code(r)) == (429, "rate_limited")
