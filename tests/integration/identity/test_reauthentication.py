"""Re-authentication before changing password, phone or second factor (ASVS 7.5.1)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.factories import last_sms_code, make_borrower, make_staff, next_phone
from tests.integration.identity.support import (
    API,
    bearer,
    code,
    me,
    password_login,
    request_code,
    sms_login,
)

NEW = "a brand new passphrase"


def change_password(client, auth, current, new=NEW):
    body = {"new_password": new} if current is None else {"current_password": current, "new_password": new}
    return client.post(f"{API}/auth/password", headers=auth, json=body)


@pytest.mark.parametrize("current", [None, "", "not the password", "Test-Passphrase-42 "])
def test_a_password_change_needs_the_current_password(client, session, runtime, inst, current):
    b = make_borrower(session, runtime, inst)
    session.commit()
    auth = bearer(password_login(client, inst, b.phone, b.password))
    r = change_password(client, auth, current)
    assert (r.status_code, code(r), r.json()["field"]) == (401, "reauthentication_required", "current_password")
    assert me(client, auth).status_code == 200  # a refused change ends nothing
    assert password_login(client, inst, b.phone, b.password).status_code == 200


def test_a_password_change_with_the_current_password(client, session, runtime, clock, inst):
    b = make_borrower(session, runtime, inst)
    session.commit()
    auth = bearer(password_login(client, inst, b.phone, b.password))
    r = change_password(client, auth, b.password)
    assert r.status_code == 200, r.text
    assert code(password_login(client, inst, b.phone, b.password)) == "invalid_credentials"
    clock.advance(timedelta(seconds=1))
    assert password_login(client, inst, b.phone, NEW).status_code == 200


@pytest.mark.parametrize(("new", "why"), [("password1234", "common"), ("short", "too short"),
                                          ("my number {phone}", "own phone")])
def test_a_new_password_follows_the_policy(client, session, runtime, inst, new, why):
    b = make_borrower(session, runtime, inst)
    session.commit()
    auth = bearer(password_login(client, inst, b.phone, b.password))
    r = change_password(client, auth, b.password, new.format(phone=b.phone))
    assert (r.status_code, code(r)) == (422, "password_rejected"), why
    assert me(client, auth).status_code == 200


def test_an_account_without_password_sets_one_right_after_an_sms_sign_in(client, session, runtime, clock, inst):
    b = make_borrower(session, runtime, inst, password=None)
    session.commit()
    request_code(client, inst, b.phone, "login")
    auth = bearer(sms_login(client, inst, b.phone, last_sms_code(client, b.phone)))
    clock.advance(timedelta(minutes=6))  # past the 5-minute re-authentication window
    assert code(change_password(client, auth, None)) == "reauthentication_required"
    clock.advance(timedelta(seconds=60))
    request_code(client, inst, b.phone, "login")
    fresh = bearer(sms_login(client, inst, b.phone, last_sms_code(client, b.phone)))
    r = change_password(client, fresh, None)
    assert r.status_code == 200, r.text
    assert me(client, bearer(r)).json()["has_password"] is True


def test_reauthenticate_checks_the_password(client, session, runtime, inst):
    b = make_borrower(session, runtime, inst)
    session.commit()
    auth = bearer(password_login(client, inst, b.phone, b.password))
    r = client.post(f"{API}/auth/reauthenticate", headers=auth, json={"password": "not the password"})
    assert (r.status_code, code(r)) == (401, "reauthentication_required")
    assert client.post(f"{API}/auth/reauthenticate", headers=auth, json={"password": b.password}).json()["ok"]


def change_phone(client, auth, current, new_phone, sms_code):
    return client.post(f"{API}/auth/phone", headers=auth,
                       json={"current_password": current, "new_phone": new_phone, "code": sms_code})


def test_a_phone_change_needs_the_password_and_a_code_sent_to_the_new_phone(client, session, runtime, clock, inst):
    b = make_borrower(session, runtime, inst)
    session.commit()
    auth = bearer(password_login(client, inst, b.phone, b.password))
    other_device = bearer(password_login(client, inst, b.phone, b.password))
    new_phone = next_phone()
    request_code(client, inst, new_phone, "change_phone")
    new_code = last_sms_code(client, new_phone)
    # The right code but a wrong password; then the right password with a code for the old phone.
    assert code(change_phone(client, auth, "not the password", new_phone, new_code)) == "reauthentication_required"
    request_code(client, inst, b.phone, "change_phone")  # a notice: the old phone is registered
    assert code(change_phone(client, auth, b.password, new_phone, "000000")) == "invalid_sms_code"
    r = change_phone(client, auth, b.password, new_phone, new_code)
    assert r.status_code == 200, r.text
    assert me(client, auth).json()["phone_masked"] == f"{new_phone[:3]}****{new_phone[-4:]}"
    assert code(me(client, other_device)) == "session_expired"  # the other sessions end
    assert code(password_login(client, inst, b.phone, b.password)) == "invalid_credentials"
    clock.advance(timedelta(seconds=1))
    assert password_login(client, inst, new_phone, b.password).status_code == 200


def test_a_phone_change_to_a_registered_phone_is_refused(client, session, runtime, inst):
    b = make_borrower(session, runtime, inst)
    taken = make_borrower(session, runtime, inst)
    session.commit()
    auth = bearer(password_login(client, inst, b.phone, b.password))
    request_code(client, inst, taken.phone, "change_phone")
    assert "已注册" in client.get("/_sim/sms", params={"phone": taken.phone}).json()[0]["text"]
    r = change_phone(client, auth, b.password, taken.phone, "123456")
    assert code(r) in ("invalid_sms_code", "phone_already_registered")


def test_totp_enrolment_needs_the_password(client, session, runtime, inst):
    s = make_staff(session, runtime, inst, roles=("loan_officer",))
    session.commit()
    auth = bearer(password_login(client, inst, s.phone, s.password, kind="staff"))
    r = client.post(f"{API}/auth/totp/enrolment", headers=auth, json={"current_password": "not the password"})
    assert (r.status_code, code(r)) == (401, "reauthentication_required")
    r = client.post(f"{API}/auth/totp/enrolment", headers=auth, json={"current_password": s.password})
    assert r.status_code == 200
    assert r.json()["otpauth_uri"].startswith("otpauth://totp/")


def test_borrowers_have_no_second_factor_to_enrol(client, session, runtime, inst):
    b = make_borrower(session, runtime, inst)
    session.commit()
    auth = bearer(password_login(client, inst, b.phone, b.password))
    r = client.post(f"{API}/auth/totp/enrolment", headers=auth, json={"current_password": b.password})
    assert (r.status_code, code(r)) == (403, "permission_denied")


@pytest.mark.parametrize("route", ["reauthenticate", "password", "phone", "totp"])
def test_wrong_current_passwords_count_towards_the_lockout(client, session, runtime, clock, inst, route):
    # A stolen session token must not allow unlimited guessing of the password.
    s = make_staff(session, runtime, inst, roles=("loan_officer",))
    session.commit()
    auth = bearer(password_login(client, inst, s.phone, s.password, kind="staff"))
    guesses = {
        "reauthenticate": lambda guess: client.post(f"{API}/auth/reauthenticate", headers=auth,
                                                    json={"password": guess}),
        "password": lambda guess: change_password(client, auth, guess),
        "phone": lambda guess: change_phone(client, auth, guess, next_phone(), "123456"),
        "totp": lambda guess: client.post(f"{API}/auth/totp/enrolment", headers=auth,
                                          json={"current_password": guess}),
    }[route]
    answers = []
    for n in range(5):
        clock.advance(timedelta(seconds=2 ** n))
        answers.append(code(guesses(f"guess number {n}")))
    assert answers[0] == "reauthentication_required"
    assert code(me(client, auth)) == "session_expired"  # the lock ended the session
    assert code(password_login(client, inst, s.phone, s.password, kind="staff")) == "account_locked"
