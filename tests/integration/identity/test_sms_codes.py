"""SMS verification codes: 6 digits, 5 minutes, one use, throttled, attempts limited, stored hashed."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from microcredit.config import RateLimitSettings
from microcredit.identity.models import SmsCode
from microcredit.identity.tokens import keyed_hash
from microcredit.integrations.models import SimulatedSms
from microcredit.notifications.models import OutboxMessage
from tests.factories import last_sms_code, make_borrower, next_phone
from tests.integration.identity.support import (
    bearer,
    code,
    me,
    request_code,
    reset_password,
    shape,
    sms_login,
)


def sms_texts(client, phone):
    """Texts delivered to `phone` by the simulator, newest first."""
    return [m["text"] for m in client.get("/_sim/sms", params={"phone": phone}).json()]


def test_a_code_leaves_through_the_outbox_and_reaches_the_simulator(client, session, runtime, inst):
    phone = next_phone()
    r = request_code(client, inst, phone, "register")
    assert r.status_code == 202, r.text
    assert r.json() == {"phone_masked": f"{phone[:3]}****{phone[-4:]}", "expires_in": 300, "resend_after": 60}
    sms_code = last_sms_code(client, phone)
    assert len(sms_code) == 6
    assert sms_code.isdigit()
    assert "5 分钟" in sms_texts(client, phone)[0]
    # The message went through the outbox (encrypted payload) and was delivered after the commit.
    outbox = session.execute(select(OutboxMessage.topic, OutboxMessage.payload_ciphertext,
                                    OutboxMessage.dispatched_at)).all()
    assert len(outbox) == 1
    topic, payload, dispatched_at = outbox[0]
    assert topic == "sms"
    assert dispatched_at is not None
    assert sms_code not in payload
    assert phone not in payload
    decrypted = json.loads(runtime.keys.cipher.decrypt(payload, context="outbox_messages.payload"))
    assert decrypted["phone"] == phone
    assert sms_code in decrypted["text"]
    delivered = session.execute(select(SimulatedSms.phone_masked, SimulatedSms.text)).all()
    assert [(m, sms_code in t) for m, t in delivered] == [(r.json()["phone_masked"], True)]


def test_the_code_is_stored_only_as_a_keyed_hash(client, session, runtime, inst):
    phone = next_phone()
    request_code(client, inst, phone, "register")
    sms_code = last_sms_code(client, phone)
    index = runtime.keys.blind_index(phone, domain="phone")
    rows = session.execute(select(SmsCode.phone_index, SmsCode.purpose, SmsCode.code_hash, SmsCode.attempts,
                                  SmsCode.created_at, SmsCode.expires_at, SmsCode.consumed_at)).all()
    assert len(rows) == 1
    row = rows[0]
    assert sms_code not in "|".join(str(v) for v in row)
    assert phone not in "|".join(str(v) for v in row)
    assert row.phone_index == index
    assert row.purpose == "register"
    assert row.code_hash == keyed_hash(runtime.keys.signing_key, index, "register", sms_code)
    assert row.expires_at - row.created_at == timedelta(minutes=5)


@pytest.mark.parametrize(("wait", "works"), [(timedelta(minutes=4, seconds=59), True),
                                             (timedelta(minutes=5), False)])
def test_a_code_lives_five_minutes(client, session, runtime, clock, inst, wait, works):
    b = make_borrower(session, runtime, inst, password=None)
    session.commit()
    request_code(client, inst, b.phone, "login")
    sms_code = last_sms_code(client, b.phone)
    clock.advance(wait)
    r = sms_login(client, inst, b.phone, sms_code)
    if works:
        assert (r.status_code, r.json()["status"]) == (200, "authenticated"), r.text
    else:
        assert (r.status_code, code(r)) == (422, "invalid_sms_code")


def test_a_code_is_used_once(client, session, runtime, inst):
    b = make_borrower(session, runtime, inst, password=None)
    session.commit()
    request_code(client, inst, b.phone, "login")
    sms_code = last_sms_code(client, b.phone)
    first = sms_login(client, inst, b.phone, sms_code)
    assert me(client, bearer(first)).status_code == 200
    again = sms_login(client, inst, b.phone, sms_code)
    assert (again.status_code, code(again)) == (422, "invalid_sms_code")


def test_a_code_is_bound_to_its_phone_and_purpose(client, session, runtime, inst):
    b = make_borrower(session, runtime, inst, password=None)
    other = make_borrower(session, runtime, inst, password=None)
    session.commit()
    request_code(client, inst, b.phone, "reset_password")
    reset_code = last_sms_code(client, b.phone)
    assert code(sms_login(client, inst, b.phone, reset_code)) == "invalid_sms_code"  # another purpose
    request_code(client, inst, other.phone, "login")
    assert code(sms_login(client, inst, b.phone, last_sms_code(client, other.phone))) == "invalid_sms_code"


@pytest.mark.parametrize("offset", [0, 50, 59])
def test_resend_is_refused_for_60_seconds_wherever_the_first_send_falls(client, clock, inst, offset):
    # The test clock stands at a whole minute; `offset` puts the first send later in that minute.
    clock.advance(timedelta(seconds=offset))
    phone = next_phone()
    assert request_code(client, inst, phone, "register").status_code == 202
    sent_at = clock.now()
    for elapsed in (1, 15, 59):
        clock.set(sent_at + timedelta(seconds=elapsed))
        r = request_code(client, inst, phone, "register")
        assert (r.status_code, code(r)) == (429, "rate_limited"), f"{elapsed} s after the first send"
        assert int(r.headers["retry-after"]) == r.json()["retry_after"] == 60 - elapsed
        assert r.json()["field"] == "phone"
    assert len(sms_texts(client, phone)) == 1  # nothing more was sent
    clock.set(sent_at + timedelta(seconds=60))
    assert request_code(client, inst, phone, "register").status_code == 202
    assert len(sms_texts(client, phone)) == 2


def test_a_new_code_replaces_the_previous_one(client, session, runtime, clock, inst):
    b = make_borrower(session, runtime, inst, password=None)
    session.commit()
    request_code(client, inst, b.phone, "login")
    old = last_sms_code(client, b.phone)
    clock.advance(timedelta(seconds=60))
    request_code(client, inst, b.phone, "login")
    new = last_sms_code(client, b.phone)
    if old != new:
        assert code(sms_login(client, inst, b.phone, old)) == "invalid_sms_code"
    assert sms_login(client, inst, b.phone, new).status_code == 200


def test_at_most_ten_codes_a_day_per_phone(client, clock, inst):
    phone = next_phone()
    for n in range(10):
        assert request_code(client, inst, phone, "register").status_code == 202, n
        clock.advance(timedelta(seconds=61))
    r = request_code(client, inst, phone, "register")
    assert (r.status_code, code(r)) == (429, "rate_limited")
    assert 0 < int(r.headers["retry-after"]) <= 86400
    assert len(sms_texts(client, phone)) == 10
    # Another purpose counts against the same daily allowance.
    assert code(request_code(client, inst, phone, "login")) == "rate_limited"


def test_per_ip_limit_counts_each_request_once(app_with, inst):
    _, client = app_with(rate_limits=RateLimitSettings(sms_per_ip_per_hour=5))
    answers = [request_code(client, inst, next_phone(), "register").status_code for _ in range(6)]
    assert answers == [202] * 5 + [429]


def test_five_wrong_attempts_kill_the_code(client, session, runtime, clock, inst):
    b = make_borrower(session, runtime, inst)
    session.commit()
    # Four wrong attempts leave the code usable...
    request_code(client, inst, b.phone, "reset_password")
    right = last_sms_code(client, b.phone)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    for _ in range(4):
        assert code(reset_password(client, inst, b.phone, wrong, "a brand new passphrase")) == "invalid_sms_code"
    assert reset_password(client, inst, b.phone, right, "a brand new passphrase").status_code == 200
    # ...the fifth kills it: even the right code is refused afterwards.
    clock.advance(timedelta(seconds=60))
    request_code(client, inst, b.phone, "reset_password")
    right = last_sms_code(client, b.phone)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    for _ in range(5):
        assert code(reset_password(client, inst, b.phone, wrong, "another new passphrase")) == "invalid_sms_code"
    assert code(reset_password(client, inst, b.phone, right, "another new passphrase")) == "invalid_sms_code"
    attempts = session.execute(select(SmsCode.attempts).order_by(SmsCode.id.desc()).limit(1)).scalar_one()
    assert attempts == 5


@pytest.mark.parametrize("purpose", ["register", "login", "reset_password", "change_phone"])
def test_the_answer_is_the_same_for_registered_and_unknown_numbers(client, session, runtime, inst, purpose):
    b = make_borrower(session, runtime, inst)
    session.commit()

    def answer(r):
        status, problem, retry_after, body = shape(r)
        return status, problem, retry_after, {**body, "phone_masked": "…"}

    known = request_code(client, inst, b.phone, purpose)
    assert known.status_code == 202
    assert answer(known) == answer(request_code(client, inst, next_phone(), purpose))


def test_what_is_sent_depends_on_registration_but_the_answer_does_not(client, session, runtime, inst):
    b = make_borrower(session, runtime, inst)
    session.commit()
    request_code(client, inst, b.phone, "register")
    assert "已注册" in sms_texts(client, b.phone)[0]  # a notice, not a code
    assert not any(ch.isdigit() for ch in sms_texts(client, b.phone)[0].split("】", 1)[1])
    for purpose in ("login", "reset_password"):
        unknown = next_phone()
        request_code(client, inst, unknown, purpose)
        # A notice in the code's place: sent as urgently as a code (the same work before the answer, so its
        # timing tells nothing), with no code in it.
        [notice] = sms_texts(client, unknown)
        assert "尚未注册" in notice
        assert not any(ch.isdigit() for ch in notice.split("】", 1)[1])
