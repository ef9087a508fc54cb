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

A plain `def` route makes one trip to the thread pool, not three. FastAPI would
run the route there, then validate its answer there in a second trip, and the
unit of work's end (the commit: I/O) would take a third.  `UnitOfWorkRoute`
hands FastAPI an `async` wrapper of the route that, in one trip, runs the
route, validates its answer against the response model while the transaction
is still open (an ORM object's attributes may still load), and ends a read's
transaction if it wrote nothing (`db.engine.end_read`); FastAPI's own
validation of the already-validated answer, back on the event loop, is an
instance check.  A route that raises, or whose answer fails validation,
leaves the transaction to the unit of work as before (rolled back).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Coroutine
from contextlib import AsyncExitStack
from typing import Any

import anyio
from fastapi import Request, Response
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from microcredit.db.engine import end_read
from microcredit.db.retry import DEFAULT_POLICY, RetryPolicy, is_transient

__all__ = ["UnitOfWorkRoute"]

_STACK = "fastapi_function_astack"


def _policy(request: Request) -> RetryPolicy:
    # The runtime (composition root) sits above this module: read its database's policy by name.
    database = getattr(getattr(request.app.state, "runtime", None), "db", None)
    policy = getattr(database, "retry", None)
    return policy if isinstance(policy, RetryPolicy) else DEFAULT_POLICY


_INVALID = object()


def _validated(route: APIRoute, result: Any) -> Any:
    """`result` checked against the route's response model (as FastAPI will); `_INVALID` when it fails."""
    field = route.response_field
    if field is None or isinstance(result, Response):
        return result
    value, errors = field.validate(result, {}, loc=("response",))
    return _INVALID if errors else value


def _in_one_trip(route: APIRoute, endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """An `async` stand-in for a plain route: the route, its answer's validation and a read's end, in one trip."""

    def route_validate_end_read(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        result = endpoint(*args, **kwargs)
        value = _validated(route, result)
        if value is _INVALID:
            return result  # FastAPI reports the invalid answer; the unit of work rolls back
        for arg in kwargs.values():
            if isinstance(arg, Session):
                end_read(arg)
        return value

    @functools.wraps(endpoint)
    async def one_trip(*args: Any, **kwargs: Any) -> Any:
        return await run_in_threadpool(route_validate_end_read, args, kwargs)

    return one_trip


class UnitOfWorkRoute(APIRoute):
    """An API route that retries its unit of work after a transient database error."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if not inspect.iscoroutinefunction(endpoint) and inspect.isfunction(endpoint):
            endpoint = _in_one_trip(self, endpoint)
        super().__init__(path, endpoint, **kwargs)

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
