"""Opaque session tokens: stored hashed, new per sign-in, idle and absolute expiry, revocation."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

from sqlalchemy import select

from microcredit.identity.models import UserSession
from tests.factories import make_borrower, make_staff
from tests.integration.identity.support import API, bearer, code, me, password_login, signed_in


def token_of(auth: dict[str, str]) -> str:
    return auth["Authorization"].removeprefix("Bearer ")


def test_tokens_are_long_random_and_only_their_hash_is_stored(client, session, runtime, inst):
    b = make_borrower(session, runtime, inst)
    session.commit()
    token = token_of(bearer(password_login(client, inst, b.phone, b.password)))
    assert len(token) >= 43
    assert re.fullmatch(r"[A-Za-z0-9_-]+", token)
    rows = session.execute(select(UserSession.__table__)).all()
    assert len(rows) == 1
    row = rows[0]._mapping
    assert row["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert not any(token in str(value) for value in row.values())


def test_each_sign_in_gets_a_new_token(client, session, runtime, inst):
    b = make_borrower(session, runtime, inst)
    session.commit()
    first, second = (bearer(password_login(client, inst, b.phone, b.password)) for _ in range(2))
    assert first != second
    assert me(client, first).status_code == me(client, second).status_code == 200


def test_unknown_or_malformed_tokens_are_refused(client):
    for value in ("Bearer " + "A" * 43, "Bearer", "Basic abc", "Bearer " + "x" * 300, ""):
        r = client.get(f"{API}/auth/me", headers={"Authorization": value})
        assert (r.status_code, code(r)) == (401, "not_authenticated"), value


def test_staff_sessions_end_after_30_idle_minutes_and_use_refreshes_them(client, session, runtime, clock, inst):
    s = make_staff(session, runtime, inst, roles=("loan_officer",))
    session.commit()
    auth = bearer(password_login(client, inst, s.phone, s.password, kind="staff"))
    for _ in range(3):  # used every 29 minutes: an hour and a half, still alive
        clock.advance(timedelta(minutes=29))
        assert me(client, auth).status_code == 200
    clock.advance(timedelta(minutes=30))
    r = me(client, auth)
    assert (r.status_code, code(r)) == (401, "session_expired")


def test_a_session_idle_just_under_30_minutes_survives(client, session, runtime, clock, inst):
    s = make_staff(session, runtime, inst, roles=("loan_officer",))
    session.commit()
    auth = bearer(password_login(client, inst, s.phone, s.password, kind="staff"))
    clock.advance(timedelta(minutes=29, seconds=59))
    assert me(client, auth).status_code == 200


def test_sessions_end_at_the_absolute_limit_however_busy(client, session, runtime, clock, inst):
    s = make_staff(session, runtime, inst, roles=("loan_officer",))
    session.commit()
    auth = bearer(password_login(client, inst, s.phone, s.password, kind="staff"))
    signed_in_at = clock.now()
    while clock.now() < signed_in_at + timedelta(hours=11, minutes=40):
        clock.advance(timedelta(minutes=20))
        assert me(client, auth).status_code == 200, clock.now()
    clock.set(signed_in_at + timedelta(hours=12))
    assert code(me(client, auth)) == "session_expired"


def test_logout_ends_only_this_session(client, session, runtime, inst):
    b = make_borrower(session, runtime, inst)
    session.commit()
    phone_auth, web_auth = (bearer(password_login(client, inst, b.phone, b.password)) for _ in range(2))
    assert client.post(f"{API}/auth/logout", headers=phone_auth).json() == {"ok": True, "message": None}
    assert code(me(client, phone_auth)) == "session_expired"
    assert me(client, web_auth).status_code == 200
    reason = session.execute(select(UserSession.revoked_reason).where(
        UserSession.revoked_at.is_not(None))).scalar_one()
    assert reason == "logout"


def test_a_password_change_ends_every_other_session(client, session, runtime, inst):
    b = make_borrower(session, runtime, inst)
    session.commit()
    here, elsewhere = (bearer(password_login(client, inst, b.phone, b.password)) for _ in range(2))
    r = client.post(f"{API}/auth/password", headers=here,
                    json={"current_password": b.password, "new_password": "a brand new passphrase"})
    assert r.json()["status"] == "authenticated", r.text
    assert [code(me(client, a)) for a in (here, elsewhere)] == ["session_expired", "session_expired"]
    assert me(client, bearer(r)).status_code == 200


def test_disabling_an_account_ends_its_sessions(client, session, runtime, inst):
    officer = make_staff(session, runtime, inst, roles=("loan_officer",))
    admin = make_staff(session, runtime, inst, roles=("administrator",), password=None)
    session.commit()
    auth = bearer(password_login(client, inst, officer.phone, officer.password, kind="staff"))
    r = client.post(f"{API}/staff/{officer.staff_id}/disable", headers=signed_in(session, runtime, admin.user))
    assert r.status_code == 200, r.text
    assert code(me(client, auth)) == "session_expired"
    enabled = client.post(f"{API}/staff/{officer.staff_id}/enable", headers=signed_in(session, runtime, admin.user))
    assert enabled.status_code == 200
    assert code(me(client, auth)) == "session_expired"  # re-enabling does not revive old sessions


def test_a_role_change_ends_the_sessions(client, session, runtime, inst):
    officer = make_staff(session, runtime, inst, roles=("loan_officer",))
    admin = make_staff(session, runtime, inst, roles=("administrator",), password=None)
    session.commit()
    auth = bearer(password_login(client, inst, officer.phone, officer.password, kind="staff"))
    r = client.patch(f"{API}/staff/{officer.staff_id}", headers=signed_in(session, runtime, admin.user),
                     json={"roles": ["collector"]})
    assert r.status_code == 200, r.text
    assert code(me(client, auth)) == "session_expired"
    fresh = bearer(password_login(client, inst, officer.phone, officer.password, kind="staff"))
    assert me(client, fresh).json()["roles"] == ["collector"]


def test_the_caller_sees_their_live_sessions(client, session, runtime, inst):
    b = make_borrower(session, runtime, inst)
    session.commit()
    old = bearer(password_login(client, inst, b.phone, b.password))
    client.post(f"{API}/auth/logout", headers=old)
    first = bearer(password_login(client, inst, b.phone, b.password))
    second = bearer(client.post(f"{API}/auth/login", json={"phone": b.phone, "password": b.password},
                                headers={"X-Institution": inst.code, "User-Agent": "Phone app/2.1"}))
    listed = client.get(f"{API}/auth/sessions", headers=first).json()
    assert [(s["current"], s["user_agent"], s["auth_method"]) for s in listed] == [
        (False, "Phone app/2.1", "password"), (True, "testclient", "password")]
    assert all("token" not in key for s in listed for key in s)
    assert me(client, second).status_code == 200
