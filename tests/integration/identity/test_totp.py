"""TOTP second factor: optional for staff, required for administrators (RFC 6238, one use, ±1 step)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pyotp

from tests.factories import make_staff
from tests.integration.identity.support import (
    API,
    bearer,
    code,
    me,
    password_login,
    signed_in,
    totp_code,
)


def second_step(client, mfa_token, totp):
    return client.post(f"{API}/auth/login/totp", json={"mfa_token": mfa_token, "code": totp})


def enrol(client, clock, auth, password) -> tuple[str, dict[str, str]]:
    """Enrol an authenticator; the secret and the new full session."""
    r = client.post(f"{API}/auth/totp/enrolment", headers=auth, json={"current_password": password})
    assert r.status_code == 200, r.text
    secret = r.json()["secret"]
    uri = urlparse(r.json()["otpauth_uri"])
    assert parse_qs(uri.query)["secret"] == [secret]
    assert parse_qs(uri.query)["issuer"] == ["microcredit"]
    assert r.json()["qr_svg_data_uri"].startswith("data:image/svg+xml")
    r = client.post(f"{API}/auth/totp/enrolment/confirm", headers=auth, json={"code": totp_code(secret, clock.now())})
    assert (r.status_code, r.json()["status"]) == (200, "authenticated"), r.text
    return secret, bearer(r)


def test_an_administrator_without_totp_can_only_enrol(client, session, runtime, clock, inst):
    admin = make_staff(session, runtime, inst, roles=("administrator",))
    session.commit()
    r = password_login(client, inst, admin.phone, admin.password, kind="staff")
    assert r.json()["status"] == "mfa_enrolment_required", r.text
    restricted = bearer(r)
    profile = me(client, restricted).json()
    assert (profile["stage"], profile["permissions"], profile["totp_enabled"]) == ("mfa_enrolment", [], False)
    for method, path in (("GET", "/roles"), ("GET", "/staff"), ("GET", "/login-attempts"),
                         ("GET", "/auth/sessions")):
        denied = client.request(method, f"{API}{path}", headers=restricted)
        assert (denied.status_code, code(denied)) == (403, "second_factor_enrolment_required"), path

    secret, full = enrol(client, clock, restricted, admin.password)
    assert code(me(client, restricted)) == "session_expired"  # the restricted session is over
    assert me(client, full).json()["stage"] == "full"
    assert client.get(f"{API}/roles", headers=full).status_code == 200

    # From now on the password alone is not enough.
    clock.advance(timedelta(seconds=30))
    r = password_login(client, inst, admin.phone, admin.password, kind="staff")
    assert (r.json()["status"], r.json()["token"]) == ("mfa_required", None)
    r = second_step(client, r.json()["mfa_token"], totp_code(secret, clock.now()))
    assert r.json()["status"] == "authenticated", r.text
    assert client.get(f"{API}/roles", headers=bearer(r)).status_code == 200


def test_totp_is_optional_for_other_staff(client, session, runtime, clock, inst):
    officer = make_staff(session, runtime, inst, roles=("loan_officer",))
    session.commit()
    auth = bearer(password_login(client, inst, officer.phone, officer.password, kind="staff"))
    _secret, full = enrol(client, clock, auth, officer.password)
    assert me(client, full).json()["totp_enabled"] is True
    clock.advance(timedelta(seconds=30))
    r = password_login(client, inst, officer.phone, officer.password, kind="staff")
    assert r.json()["status"] == "mfa_required"


def test_a_code_is_accepted_once(client, session, runtime, clock, inst):
    officer = make_staff(session, runtime, inst, roles=("loan_officer",), totp=True)
    session.commit()
    current = totp_code(officer.totp_secret, clock.now())
    first = password_login(client, inst, officer.phone, officer.password, kind="staff")
    assert second_step(client, first.json()["mfa_token"], current).json()["status"] == "authenticated"
    clock.advance(timedelta(seconds=5))  # same 30-second step
    again = password_login(client, inst, officer.phone, officer.password, kind="staff")
    r = second_step(client, again.json()["mfa_token"], current)
    assert (r.status_code, code(r)) == (422, "invalid_totp")
    # An older code (the previous step, normally within the drift) is refused as well.
    r = second_step(client, again.json()["mfa_token"], totp_code(officer.totp_secret, clock.now(), -1))
    assert code(r) == "invalid_totp"
    clock.advance(timedelta(seconds=30))
    r = second_step(client, again.json()["mfa_token"], totp_code(officer.totp_secret, clock.now()))
    assert r.json()["status"] == "authenticated"


def test_one_step_of_drift_either_way(client, session, runtime, clock, inst):
    officer = make_staff(session, runtime, inst, roles=("loan_officer",), totp=True)
    session.commit()
    answers = {}
    for steps in (-2, -1, 1, 2):  # each on a fresh pending login, later steps after earlier ones
        clock.advance(timedelta(minutes=2))
        r = password_login(client, inst, officer.phone, officer.password, kind="staff")
        answers[steps] = second_step(client, r.json()["mfa_token"],
                                     totp_code(officer.totp_secret, clock.now(), steps)).status_code
    assert answers == {-2: 422, -1: 200, 1: 200, 2: 422}


def test_the_mfa_token_is_one_use_and_short_lived(client, session, runtime, clock, inst):
    officer = make_staff(session, runtime, inst, roles=("loan_officer",), totp=True)
    session.commit()
    token = password_login(client, inst, officer.phone, officer.password, kind="staff").json()["mfa_token"]
    assert second_step(client, token, totp_code(officer.totp_secret, clock.now())).status_code == 200
    clock.advance(timedelta(seconds=30))
    assert code(second_step(client, token, totp_code(officer.totp_secret, clock.now()))) == "invalid_totp"
    clock.advance(timedelta(minutes=1))
    stale = password_login(client, inst, officer.phone, officer.password, kind="staff").json()["mfa_token"]
    clock.advance(timedelta(minutes=5))
    assert code(second_step(client, stale, totp_code(officer.totp_secret, clock.now()))) == "invalid_totp"


def test_wrong_codes_count_towards_the_lockout(client, session, runtime, clock, inst):
    # Knowing the password must not allow guessing the second factor without end.
    officer = make_staff(session, runtime, inst, roles=("loan_officer",), totp=True)
    session.commit()
    answers = []
    for n in range(5):
        clock.advance(timedelta(seconds=2 ** n))
        r = password_login(client, inst, officer.phone, officer.password, kind="staff")
        answers.append(r.json().get("status") or code(r))
        if r.status_code == 200:
            wrong = f"{(int(totp_code(officer.totp_secret, clock.now())) + 500_000) % 1_000_000:06d}"
            answers.append(code(second_step(client, r.json()["mfa_token"], wrong)))
    clock.advance(timedelta(seconds=60))
    r = password_login(client, inst, officer.phone, officer.password, kind="staff")
    assert (r.status_code, code(r)) == (423, "account_locked"), answers


def test_staff_reset_a_second_factor(client, session, runtime, clock, inst):
    officer = make_staff(session, runtime, inst, roles=("approver_l3",), totp=True)  # a role that requires it
    admin = make_staff(session, runtime, inst, roles=("administrator",), password=None)
    session.commit()
    r = password_login(client, inst, officer.phone, officer.password, kind="staff")
    auth = bearer(second_step(client, r.json()["mfa_token"], totp_code(officer.totp_secret, clock.now())))
    reset = client.post(f"{API}/staff/{officer.staff_id}/reset-second-factor",
                        headers=signed_in(session, runtime, admin.user))
    assert (reset.status_code, reset.json()["totp_enabled"]) == (200, False), reset.text
    assert code(me(client, auth)) == "session_expired"
    clock.advance(timedelta(seconds=30))
    r = password_login(client, inst, officer.phone, officer.password, kind="staff")
    assert r.json()["status"] == "mfa_enrolment_required"
    _, full = enrol(client, clock, bearer(r), officer.password)
    assert me(client, full).json()["stage"] == "full"


def test_resetting_a_second_factor_needs_staff_manage(client, session, runtime, inst):
    officer = make_staff(session, runtime, inst, roles=("loan_officer",), totp=True, password=None)
    manager = make_staff(session, runtime, inst, roles=("branch_manager",), password=None)
    session.commit()
    r = client.post(f"{API}/staff/{officer.staff_id}/reset-second-factor",
                    headers=signed_in(session, runtime, manager.user))
    assert (r.status_code, code(r)) == (403, "permission_denied")


def test_a_wrong_confirmation_code_does_not_activate(client, session, runtime, clock, inst):
    officer = make_staff(session, runtime, inst, roles=("loan_officer",))
    session.commit()
    auth = bearer(password_login(client, inst, officer.phone, officer.password, kind="staff"))
    secret = client.post(f"{API}/auth/totp/enrolment", headers=auth,
                         json={"current_password": officer.password}).json()["secret"]
    wrong = f"{(int(pyotp.TOTP(secret).at(clock.now())) + 1) % 1_000_000:06d}"
    r = client.post(f"{API}/auth/totp/enrolment/confirm", headers=auth, json={"code": wrong})
    assert (r.status_code, code(r)) == (422, "invalid_totp")
    assert me(client, auth).json()["totp_enabled"] is False
