"""Routes whose unit of work is run again after a transient database error.

A route's unit of work is the `DB` dependency: opened before the route runs,
committed when it returns (FastAPI's function-scoped exit stack, which closes
*after* the handler, so a commit error is not raised inside the handler).
`UnitOfWorkRoute` gives each attempt its own function-scoped exit stack and
runs the whole handler again -- dependencies, validation, the route, the
commit -- after an error that `db.retry.is_transient` calls transient, up to
the database's `RetryPolicy`.  The request body is read once and kept by the
`Request`, so every attempt sees the same input.

Every router in the application is built with ``route_class=UnitOfWorkRoute``
(`tests/integration/test_concurrency.py` checks that no route escapes).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from contextlib import AsyncExitStack
from typing import Any

import anyio
from fastapi import Request, Response
from fastapi.routing import APIRoute

from microcredit.db.retry import DEFAULT_POLICY, RetryPolicy, is_transient

__all__ = ["UnitOfWorkRoute"]

_STACK = "fastapi_function_astack"


def _policy(request: Request) -> RetryPolicy:
    # The runtime (composition root) sits above this module: read its database's policy by name.
    database = getattr(getattr(request.app.state, "runtime", None), "db", None)
    policy = getattr(database, "retry", None)
    return policy if isinstance(policy, RetryPolicy) else DEFAULT_POLICY


class UnitOfWorkRoute(APIRoute):
    """An API route that retries its unit of work after a transient database error."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            policy = _policy(request)
            outer = request.scope.get(_STACK)
            attempt = 1
            while True:
                try:
                    async with AsyncExitStack() as stack:
                        request.scope[_STACK] = stack
                        response = await handler(request)
                    return response
                except Exception as exc:
                    if attempt >= policy.attempts or not is_transient(exc):
                        raise
                    await anyio.sleep(policy.pause(attempt))
                    attempt += 1
                finally:
                    request.scope[_STACK] = outer

        return run
