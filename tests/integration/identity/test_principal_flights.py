"""Concurrent reads of one token after its cache entry went: one resolution, the others wait for it.

When the principal cache's entry of a token expires (every `security.principal_cache_seconds`),
every read of that token in flight misses it at once. The first resolves the token (and builds
`/auth/me`'s page) in the thread pool; the others wait for it and read what it kept
(`platform.flights`). Each test sends a burst of concurrent requests through the ASGI
application on one event loop, as uvicorn would, and counts the resolutions.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx

from microcredit.api import deps
from microcredit.identity import service as identity
from tests.factories import make_borrower
from tests.integration.identity.conftest import app_for
from tests.integration.identity.support import API, bearer, code, me, password_login

BURST = 8


class Counted:
    """A thread-pool function counted, slowed a little (so a burst overlaps it) and run one at a time
    (the test's database is one connection, which threads must not share at once)."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn
        self.calls = 0
        self.lock = threading.Lock()

    def __call__(self, *args: Any) -> Any:
        with self.lock:
            self.calls += 1
            time.sleep(0.05)
            return self.fn(*args)


def _burst(runtime, auth: dict[str, str], path: str = "/auth/me", n: int = BURST) -> list[httpx.Response]:
    async def send() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app_for(runtime), raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            return list(await asyncio.gather(*(client.get(API + path, headers=auth) for _ in range(n))))

    return asyncio.run(send())


def _signed_in(client, session, runtime, inst):
    b = make_borrower(session, runtime, inst)
    session.commit()
    auth = bearer(password_login(client, inst, b.phone, b.password))
    first = me(client, auth)
    assert first.status_code == 200
    return b, auth, first.json()


def test_a_burst_after_the_entry_went_resolves_the_token_once(client, session, runtime, inst, monkeypatch):
    _b, auth, body = _signed_in(client, session, runtime, inst)
    authenticate, build = Counted(deps._authenticate), Counted(deps._build_view)
    monkeypatch.setattr(deps, "_authenticate", authenticate)
    monkeypatch.setattr(deps, "_build_view", build)
    runtime.identity.principals.forget(None)  # as when the entry expires
    answers = _burst(runtime, auth)
    assert [r.status_code for r in answers] == [200] * BURST
    assert all(r.json() == body for r in answers)
    assert (authenticate.calls, build.calls) == (1, 1)


def test_a_revocation_during_the_flight_is_not_handed_to_the_waiters(client, session, runtime, inst, monkeypatch):
    """A change made while the first request resolves the token: its result is not kept, so the
    waiters resolve the token themselves and see the change."""
    b, auth, _ = _signed_in(client, session, runtime, inst)
    real = deps._authenticate
    revoked = threading.Event()

    def resolve_then_revoke(*args: Any) -> Any:
        principal = real(*args)
        if not revoked.is_set():
            revoked.set()
            identity.sessions.revoke_all(session=session, kit=runtime.identity, user_id=b.user.id,
                                         reason="ended_by_staff")
            session.commit()
        return principal

    counted = Counted(resolve_then_revoke)
    monkeypatch.setattr(deps, "_authenticate", counted)
    runtime.identity.principals.forget(None)
    answers = _burst(runtime, auth)
    # The first one resolved the token before the revocation (a moment earlier, it would have been
    # answered from the cache); every request that waited sees the session ended.
    assert sorted((r.status_code, code(r)) for r in answers) == [(200, None)] + [(401, "session_expired")] * (BURST - 1)
    assert counted.calls == BURST


def test_the_waiters_resolve_the_token_themselves_when_the_flight_failed(client, session, runtime, inst,
                                                                          monkeypatch):
    _b, auth, _ = _signed_in(client, session, runtime, inst)
    real = deps._authenticate
    failed = threading.Event()

    def fail_once(*args: Any) -> Any:
        if not failed.is_set():
            failed.set()
            raise ConnectionError("the database went away")
        return real(*args)

    counted = Counted(fail_once)
    monkeypatch.setattr(deps, "_authenticate", counted)
    runtime.identity.principals.forget(None)
    answers = _burst(runtime, auth, n=4)
    assert sorted(r.status_code for r in answers) == [200, 200, 200, 500]
    # The one that failed, then one resolution for the waiters (the others read what it kept).
    assert counted.calls == 2


def test_with_the_cache_switched_off_every_read_resolves_its_token(app_with, session, inst, monkeypatch):
    from microcredit.config import SecuritySettings

    runtime, client = app_with(security=SecuritySettings(principal_cache_seconds=0))
    b = make_borrower(session, runtime, inst)
    session.commit()
    auth = bearer(password_login(client, inst, b.phone, b.password))
    counted = Counted(deps._authenticate)
    monkeypatch.setattr(deps, "_authenticate", counted)
    answers = _burst(runtime, auth, n=4)
    assert [r.status_code for r in answers] == [200] * 4
    assert counted.calls == 4
