"""One piece of work in the air per key: concurrent misses of a cache wait for the first one's fetch.

A per-process cache that expires (the principal cache, `identity.service.principals`: 2 s) is missed
by every request in flight at the moment its entry goes: at 32 connections, 32 requests of the same
token each resolve it -- four queries and a trip to the thread pool each, all at once -- and every
other request on the event loop waits behind them (the p95/p99 of a signed-in read,
docs/performance.md, eighth pass). `Flights.join` lets the first of them do the work and the others
wait for it to land; then they look in the cache again.

A waiter is handed nothing by the flight: it reads the cache, which keeps its own rules (what a
change in the process forgets, a fetch that raced a change is refused). When the flight failed or
its result was not kept, the waiter does the work itself, as before. So a waiter sees what it would
have seen had it arrived a moment later, never anything the cache would not give it.

Flights are per event loop (per thread that runs one): a test client's loop never waits on another's.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable, Hashable
from typing import TypeVar

import anyio

__all__ = ["Flights"]

T = TypeVar("T")


class Flights:
    """Keys with work in the air, per event loop."""

    def __init__(self) -> None:
        self._air: dict[tuple[int, Hashable], anyio.Event] = {}

    async def join(self, key: Hashable, work: Callable[[], Awaitable[T]]) -> tuple[bool, T | None]:
        """Run `work` unless work for `key` is in the air; else wait until it lands.

        (True, result) to the caller that ran it (its error, if it raised); (False, None) to one that waited.
        """
        slot = (threading.get_ident(), key)
        landed = self._air.get(slot)
        if landed is not None:
            await landed.wait()
            return False, None
        landed = self._air[slot] = anyio.Event()
        try:
            return True, await work()
        finally:
            del self._air[slot]
            landed.set()

    def __len__(self) -> int:
        return len(self._air)
