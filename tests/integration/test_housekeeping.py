"""Housekeeping deletes what has expired and keeps what has not."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from microcredit import housekeeping
from microcredit.identity.models import SmsCode, UserSession
from microcredit.platform import idempotency
from microcredit.platform.models import IdempotencyRecord, RateLimitCounter
from microcredit.platform.ratelimit import Limit
from tests.factories import make_borrower, make_institution
from tests.integration.helpers import signed_in


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_expired_rows_go_and_live_ones_stay(session, runtime, clock):
    inst = make_institution(session, runtime)
    b = make_borrower(session, runtime, inst)
    signed_in(session, runtime, b.user)  # a live session
    runtime.identity.codes.save(session=session, phone_index="p1", purpose="login", code_hash="h1")
    runtime.limiter.count("test:bucket", Limit(5, 60), session=session)
    record, _ = idempotency.claim(session=session, clock=runtime.clock, principal="user:1", key="k-old",
                                  operation="op", request_hash="x")
    assert record is not None
    session.flush()

    assert housekeeping.run(session=session, clock=runtime.clock)["sms_codes"] == 0  # nothing has expired yet
    assert _count(session, SmsCode) == 1

    clock.advance(timedelta(days=8))
    idempotency.claim(session=session, clock=runtime.clock, principal="user:1", key="k-new",
                                 operation="op", request_hash="x")
    counts = housekeeping.run(session=session, clock=runtime.clock)
    assert counts["sms_codes"] == 1
    assert counts["idempotency_keys"] == 1
    assert counts["rate_limit_counters"] >= 1
    assert _count(session, SmsCode) == 0
    assert [r.key for r in session.scalars(select(IdempotencyRecord))] == ["k-new"]
    assert _count(session, RateLimitCounter) == 0
    assert _count(session, UserSession) == 1  # a borrower session lives 30 days, then is kept 200 more

    clock.advance(timedelta(days=30 + 200 - 8 - 1))
    assert housekeeping.run(session=session, clock=runtime.clock)["user_sessions"] == 0
    clock.advance(timedelta(days=2))
    assert housekeeping.run(session=session, clock=runtime.clock)["user_sessions"] == 1
