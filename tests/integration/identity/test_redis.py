"""SMS codes and rate limits against a real Redis (the database keeps none of them then)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from microcredit.config import RateLimitSettings
from microcredit.identity.models import SmsCode
from microcredit.identity.service import smscodes
from microcredit.identity.tokens import keyed_hash
from microcredit.platform.models import RateLimitCounter
from tests.factories import CONSENTS, institution_header, last_sms_code, make_borrower, next_id_number, next_phone
from tests.integration.identity.support import API, code, password_login, request_code, reset_password


@pytest.fixture
def redis_app(app_with, redis_client):
    """An app whose SMS codes and rate limits live in the test Redis."""
    return app_with(redis=redis_client, rate_limits=RateLimitSettings(sms_per_ip_per_hour=6))


def nothing_in_the_database(session) -> None:
    assert session.scalar(select(func.count()).select_from(SmsCode)) == 0
    assert session.scalar(select(func.count()).select_from(RateLimitCounter)) == 0


def test_a_code_lives_in_redis_hashed_with_its_lifetime(redis_app, redis_client, session, inst):
    runtime, client = redis_app
    phone = next_phone()
    assert request_code(client, inst, phone, "register").status_code == 202
    sms_code = last_sms_code(client, phone)
    index = runtime.keys.blind_index(phone, domain="phone")
    key = f"mc:sms:register:{index}"
    assert redis_client.hgetall(key) == {"hash": keyed_hash(runtime.keys.signing_key, index, "register", sms_code),
                                         "attempts": "0"}
    # Redis counts down in wall-clock time while the test runs: only the order of magnitude is stable.
    assert 240 <= redis_client.ttl(key) <= 300
    everything = {k: redis_client.dump(k) for k in redis_client.keys("*")}
    assert not any(sms_code.encode() in (value or b"") for value in everything.values())
    assert not any(phone in k for k in everything)
    # The throttles are Redis keys too, each expiring.
    hold = f"mc:rl:sms:resend:register:{index}:hold"
    assert 30 <= redis_client.ttl(hold) <= 61
    day = redis_client.keys(f"mc:rl:sms:day:{index}:86400:*")
    per_ip = redis_client.keys("mc:rl:sms:ip:testclient:3600:*")
    assert [redis_client.get(k) for k in day + per_ip] == ["1", "1"]
    assert all(0 < redis_client.ttl(k) <= 86401 for k in day + per_ip)
    nothing_in_the_database(session)


def test_registration_uses_the_redis_code_once(redis_app, redis_client, session, runtime, inst):
    app_runtime, client = redis_app
    phone = next_phone()
    request_code(client, inst, phone, "register")
    body = {"phone": phone, "sms_code": last_sms_code(client, phone), "real_name": "王五",
            "id_number": next_id_number(), "password": "a quite long passphrase", "consents": CONSENTS}
    assert client.post(f"{API}/auth/register", json=body, headers=institution_header(inst)).status_code == 202
    assert redis_client.exists(f"mc:sms:register:{app_runtime.keys.blind_index(phone, domain='phone')}") == 0
    again = client.post(f"{API}/auth/register", json={**body, "id_number": next_id_number()},
                        headers=institution_header(inst))
    assert code(again) == "invalid_sms_code"
    nothing_in_the_database(session)


def test_the_lua_script_limits_attempts(redis_app, redis_client, session, runtime, inst):
    app_runtime, client = redis_app
    b = make_borrower(session, runtime, inst)
    session.commit()
    request_code(client, inst, b.phone, "reset_password")
    right = last_sms_code(client, b.phone)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    for _ in range(5):
        assert code(reset_password(client, inst, b.phone, wrong, "a brand new passphrase")) == "invalid_sms_code"
    key = f"mc:sms:reset_password:{app_runtime.keys.blind_index(b.phone, domain='phone')}"
    assert redis_client.hget(key, "attempts") == "5"
    assert code(reset_password(client, inst, b.phone, right, "a brand new passphrase")) == "invalid_sms_code"
    assert redis_client.hget(key, "attempts") == "5"  # no more counting once the code is dead
    nothing_in_the_database(session)


def test_a_code_is_used_once_even_by_simultaneous_requests(redis_app, redis_client):
    app_runtime, _ = redis_app
    store = app_runtime.identity.codes
    assert isinstance(store, smscodes.RedisSmsCodeStore)
    index = app_runtime.keys.blind_index(next_phone(), domain="phone")
    right = smscodes.code_hash(app_runtime.identity, index, "login", "246810")
    store.save(session=None, phone_index=index, purpose="login", code_hash=right)
    start = threading.Barrier(8)

    def use(_):
        start.wait()
        return store.check(session=None, phone_index=index, purpose="login", code_hash=right)

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(use, range(8)))
    assert results.count(True) == 1
    assert redis_client.exists(f"mc:sms:login:{index}") == 0


def test_a_new_code_replaces_the_old_one_in_redis(redis_app, redis_client, clock, inst):
    app_runtime, client = redis_app
    phone = next_phone()
    request_code(client, inst, phone, "register")
    index = app_runtime.keys.blind_index(phone, domain="phone")
    key = f"mc:sms:register:{index}"
    redis_client.hset(key, "attempts", 3)
    clock.advance(timedelta(seconds=60))
    request_code(client, inst, phone, "register")
    latest = last_sms_code(client, phone)
    assert redis_client.hgetall(key) == {"hash": keyed_hash(app_runtime.keys.signing_key, index, "register", latest),
                                         "attempts": "0"}


@pytest.mark.parametrize("offset", [0, 45])
def test_resend_is_throttled_in_redis(redis_app, session, clock, inst, offset):
    _, client = redis_app
    clock.advance(timedelta(seconds=offset))
    phone = next_phone()
    assert request_code(client, inst, phone, "login").status_code == 202
    clock.advance(timedelta(seconds=20))
    r = request_code(client, inst, phone, "login")
    assert (r.status_code, code(r), r.headers["retry-after"]) == (429, "rate_limited", "40")
    clock.advance(timedelta(seconds=40))
    assert request_code(client, inst, phone, "login").status_code == 202
    nothing_in_the_database(session)


def test_sms_per_ip_limit_in_redis(redis_app, redis_client, session, inst):
    _, client = redis_app
    answers = [request_code(client, inst, next_phone(), "register").status_code for _ in range(7)]
    assert answers == [202] * 6 + [429]
    nothing_in_the_database(session)


def test_login_per_ip_limit_in_redis(app_with, redis_client, session, runtime, inst):
    _, client = app_with(redis=redis_client, rate_limits=RateLimitSettings(login_per_ip_per_minute=5))
    b = make_borrower(session, runtime, inst)
    session.commit()
    answers = [code(password_login(client, inst, next_phone(), "a guess")) for _ in range(5)]
    assert answers == ["invalid_credentials"] * 5
    r = password_login(client, inst, b.phone, b.password)
    assert (r.status_code, code(r)) == (429, "rate_limited")
    assert 0 < int(r.headers["retry-after"]) <= 60
    [requests] = redis_client.keys("mc:rl:login:ip:testclient:60:*")
    assert int(redis_client.get(requests)) >= 6
    [failures] = redis_client.keys("mc:rl:login-fail:ip:testclient:3600:*")
    assert redis_client.get(failures) == "5"
    assert 0 < redis_client.ttl(failures) <= 3601
    nothing_in_the_database(session)


def test_a_refused_new_password_does_not_use_up_the_reset_code(redis_app, session, runtime, inst):
    _, client = redis_app
    b = make_borrower(session, runtime, inst)
    session.commit()
    request_code(client, inst, b.phone, "reset_password")
    sms_code = last_sms_code(client, b.phone)
    assert code(reset_password(client, inst, b.phone, sms_code, "password")) == "password_rejected"
    assert reset_password(client, inst, b.phone, sms_code, "a brand new passphrase").status_code == 200
