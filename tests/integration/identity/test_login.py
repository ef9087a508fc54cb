"""Signing in with phone + password and with phone + SMS code."""

from __future__ import annotations

from datetime import timedelta

import argon2
from argon2 import extract_parameters
from sqlalchemy import select

from microcredit.identity.models import User
from tests.factories import last_sms_code, make_borrower, make_institution, make_staff, next_phone
from tests.integration.identity.support import (
    bearer,
    code,
    me,
    password_login,
    request_code,
    shape,
    sms_login,
)


def test_a_borrower_signs_in_with_phone_and_password(client, session, runtime, clock, inst):
    b = make_borrower(session, runtime, inst)
    session.commit()
    r = password_login(client, inst, b.phone, b.password)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "authenticated"
    assert body["mfa_token"] is None
    # Borrowers: 7 days idle, 30 days absolute (configurable).
    assert body["expires_at"].startswith((clock.now() + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M"))
    assert body["absolute_expires_at"].startswith((clock.now() + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M"))
    assert me(client, bearer(r)).json()["user_id"] == b.user.id


def test_staff_sign_in_as_staff_only(client, session, runtime, clock, inst):
    s = make_staff(session, runtime, inst, roles=("loan_officer",))
    session.commit()
    r = password_login(client, inst, s.phone, s.password, kind="staff")
    assert r.json()["status"] == "authenticated"
    assert r.json()["expires_at"].startswith((clock.now() + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M"))
    assert r.json()["absolute_expires_at"].startswith(
        (clock.now() + timedelta(hours=12)).strftime("%Y-%m-%dT%H:%M"))
    assert code(password_login(client, inst, s.phone, s.password, kind="borrower")) == "invalid_credentials"


def test_a_borrower_of_one_institution_cannot_sign_in_at_another(client, session, runtime, inst):
    b = make_borrower(session, runtime, inst)
    other = make_institution(session, runtime)
    session.commit()
    assert code(password_login(client, other, b.phone, b.password)) == "invalid_credentials"


def test_wrong_password_and_unknown_phone_get_the_same_answer(client, session, runtime, inst):
    b = make_borrower(session, runtime, inst)
    session.commit()
    wrong = password_login(client, inst, b.phone, "not the password")
    unknown = password_login(client, inst, next_phone(), "not the password")
    assert shape(wrong) == shape(unknown)
    assert (wrong.status_code, code(wrong), wrong.json()["field"]) == (401, "invalid_credentials", "password")


def test_the_password_is_checked_exactly_as_typed(client, session, runtime, clock, inst):
    b = make_borrower(session, runtime, inst, password="Ends with a space ")
    session.commit()
    for typed in ("Ends with a space", " Ends with a space ", "ends with a space ", "Ends with a space  "):
        clock.advance(timedelta(seconds=10))  # past the growing delay between failures
        assert code(password_login(client, inst, b.phone, typed)) == "invalid_credentials", repr(typed)
    clock.advance(timedelta(seconds=10))
    assert password_login(client, inst, b.phone, "Ends with a space ").status_code == 200


def test_phone_is_normalised_at_sign_in(client, session, runtime, inst):
    b = make_borrower(session, runtime, inst)
    session.commit()
    spaced = f"+86 {b.phone[:3]} {b.phone[3:7]} {b.phone[7:]}"
    assert password_login(client, inst, spaced, b.password).status_code == 200


def test_a_malformed_phone_is_refused_like_bad_credentials(client, inst):
    r = password_login(client, inst, "12800138000", "whatever password")
    assert (r.status_code, code(r)) == (401, "invalid_credentials")


def test_sms_sign_in_for_an_account_without_password(client, session, runtime, inst):
    b = make_borrower(session, runtime, inst, password=None)  # registered at a branch
    session.commit()
    assert code(password_login(client, inst, b.phone, "anything at all")) == "invalid_credentials"
    request_code(client, inst, b.phone, "login")
    r = sms_login(client, inst, b.phone, last_sms_code(client, b.phone))
    assert r.json()["status"] == "authenticated", r.text
    assert me(client, bearer(r)).json()["has_password"] is False


def test_sms_sign_in_answers_alike_for_unknown_numbers(client, session, runtime, inst):
    b = make_borrower(session, runtime, inst, password=None)
    session.commit()
    unknown = next_phone()
    request_code(client, inst, b.phone, "login")
    request_code(client, inst, unknown, "login")
    right = last_sms_code(client, b.phone)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    assert shape(sms_login(client, inst, b.phone, wrong)) == shape(sms_login(client, inst, unknown, wrong))
    assert code(sms_login(client, inst, unknown, wrong)) == "invalid_sms_code"


def test_a_disabled_account_cannot_sign_in(client, session, runtime, inst):
    s = make_staff(session, runtime, inst, roles=("loan_officer",))
    s.user.status = "disabled"
    session.commit()
    r = password_login(client, inst, s.phone, s.password, kind="staff")
    assert (r.status_code, code(r)) == (403, "account_disabled")
    # Without the right password the answer is the ordinary one: nothing is revealed.
    assert code(password_login(client, inst, s.phone, "wrong password", kind="staff")) == "invalid_credentials"


def test_a_weaker_hash_is_upgraded_at_sign_in(client, session, runtime, inst):
    b = make_borrower(session, runtime, inst)
    b.user.password_hash = argon2.PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(b.password)
    session.commit()
    assert password_login(client, inst, b.phone, b.password).status_code == 200
    stored = session.execute(select(User.password_hash).where(User.id == b.user.id)).scalar_one()
    params = extract_parameters(stored)
    assert (params.time_cost, params.memory_cost, params.parallelism) == (2, 19456, 1)
    assert password_login(client, inst, b.phone, b.password).status_code == 200


def test_the_public_config_tells_the_sign_in_rules(client, inst):
    r = client.get("/api/v1/public/config", headers={"X-Institution": inst.code})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["password_min_length"], body["password_max_length"], body["lockout_threshold"]) == (8, 128, 5)
    assert {p["name"] for p in body["oauth_providers"]} == {"wechat", "alipay"}
    assert body["institution"]["code"] == inst.code
