"""Ending sessions on purpose (ASVS 7.4.5), re-enrolling an authenticator, the lockout's wording."""

from __future__ import annotations

from datetime import timedelta

from tests.factories import make_borrower, make_staff
from tests.integration.helpers import audit_records
from tests.integration.identity.support import API, bearer, code, me, password_login, signed_in, totp_code


def test_a_user_ends_one_of_their_own_sessions_and_no_one_elses(client, session, runtime, inst):
    b = make_borrower(session, runtime, inst)
    other = make_borrower(session, runtime, inst)
    session.commit()
    phone_session = bearer(password_login(client, inst, b.phone))
    laptop = bearer(password_login(client, inst, b.phone))
    stranger = signed_in(session, runtime, other.user)
    listed = client.get(f"{API}/auth/sessions", headers=laptop).json()
    assert len(listed) == 2
    phone_id = next(s["id"] for s in listed if not s["current"])

    assert client.delete(f"{API}/auth/sessions/{phone_id}", headers=stranger).status_code == 404
    assert me(client, phone_session).status_code == 200
    assert client.delete(f"{API}/auth/sessions/{phone_id}", headers=laptop).status_code == 204
    assert code(me(client, phone_session)) == "session_expired"
    assert me(client, laptop).status_code == 200
    [record] = audit_records(session, "user.session_ended", b.user.id)
    assert record.after["session_id"] == phone_id


def test_staff_end_every_session_of_a_colleague(client, session, runtime, inst):
    admin = make_staff(session, runtime, inst, roles=("administrator",), totp=True)
    officer = make_staff(session, runtime, inst, roles=("loan_officer",))
    admin_h = signed_in(session, runtime, admin.user)
    officer_h = signed_in(session, runtime, officer.user)
    r = client.post(f"{API}/staff/{officer.staff_id}/end-sessions", headers=admin_h)
    assert r.status_code == 200, r.text
    assert code(me(client, officer_h)) == "session_expired"
    assert code(client.post(f"{API}/staff/{officer.staff_id}/end-sessions", headers=officer_h)) in (
        "session_expired", "not_authenticated")


def test_re_enrolment_keeps_the_old_factor_until_the_new_one_is_confirmed(client, session, runtime, clock, inst):
    staff = make_staff(session, runtime, inst, roles=("loan_officer",), totp=True)
    auth = signed_in(session, runtime, staff.user)
    started = client.post(f"{API}/auth/totp/enrolment", headers=auth, json={"current_password": staff.password})
    assert started.status_code == 200
    new_secret = started.json()["secret"]
    # Abandoned half-way: the old authenticator still guards the sign-in.
    clock.advance(timedelta(minutes=1))
    r = password_login(client, inst, staff.phone, staff.password, kind="staff")
    assert r.json()["status"] == "mfa_required"
    wrong = client.post(f"{API}/auth/login/totp", json={"mfa_token": r.json()["mfa_token"],
                                                        "code": totp_code(new_secret, clock.now())})
    assert code(wrong) == "invalid_totp"
    right = client.post(f"{API}/auth/login/totp", json={"mfa_token": r.json()["mfa_token"],
                                                        "code": totp_code(staff.totp_secret, clock.now())})
    assert right.json()["status"] == "authenticated"
    # Confirmed: the new one replaces it.
    clock.advance(timedelta(minutes=1))
    confirmed = client.post(f"{API}/auth/totp/enrolment/confirm", headers=bearer(right),
                            json={"code": totp_code(new_secret, clock.now())})
    assert confirmed.status_code == 200, confirmed.text
    clock.advance(timedelta(minutes=1))
    r = password_login(client, inst, staff.phone, staff.password, kind="staff")
    old = client.post(f"{API}/auth/login/totp", json={"mfa_token": r.json()["mfa_token"],
                                                      "code": totp_code(staff.totp_secret, clock.now())})
    assert code(old) == "invalid_totp"


def test_staff_without_a_password_enrol_right_after_signing_in(client, session, runtime, clock, inst):
    staff = make_staff(session, runtime, inst, roles=("administrator",), password=None)
    auth = signed_in(session, runtime, staff.user)
    r = client.post(f"{API}/auth/totp/enrolment", headers=auth, json={})
    assert r.status_code == 200, r.text
    clock.advance(timedelta(minutes=runtime.settings.security.reauth_window_minutes, seconds=1))
    late = client.post(f"{API}/auth/totp/enrolment", headers=auth, json={})
    assert code(late) == "reauthentication_required"


def test_the_lockout_message_says_how_long_in_minutes(client, session, runtime, clock, inst):
    b = make_borrower(session, runtime, inst)
    session.commit()
    answers = []
    for _ in range(runtime.settings.security.lockout_threshold):
        answers.append(password_login(client, inst, b.phone, "wrong password 123"))
        clock.advance(timedelta(seconds=20))
    locked = answers[-1]
    assert code(locked) == "account_locked"
    assert "30 分钟" in locked.json()["detail"]
    clock.advance(timedelta(minutes=12))
    again = password_login(client, inst, b.phone, "wrong password 123", extra_headers={"Accept-Language": "en"})
    assert "18 more minutes" in again.json()["detail"]


def test_an_empty_password_at_enrolment_is_a_question_not_a_failed_guess(client, session, runtime, inst):
    staff = make_staff(session, runtime, inst, roles=("loan_officer",))
    auth = signed_in(session, runtime, staff.user)
    for _ in range(runtime.settings.security.lockout_threshold + 1):
        r = client.post(f"{API}/auth/totp/enrolment", headers=auth, json={})
        assert code(r) == "reauthentication_required"
    assert me(client, auth).status_code == 200  # not locked out, the session lives
    assert password_login(client, inst, staff.phone, staff.password, kind="staff").status_code == 200
