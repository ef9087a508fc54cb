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

The request-only dependencies of a route are solved as one (`_inline_dependencies`).
FastAPI solves each dependency of each request anew -- a recursive
`solve_dependencies` call, four parameter lists, a cache key, the kind of the
callable worked out again -- and a signed-in read declares three or four that
need nothing but the request: the unit of work (`db`), the identity kit, the
access check (`require`), the clock or the settings.  `UnitOfWorkRoute` gives
FastAPI a stand-in of the route whose signature has one dependency in their
place, at the position of the first of them, which runs them in their declared
order -- the same callables, the access check among them, an async generator
entered on the same function-scoped exit stack with FastAPI's own
`_solve_generator` -- and hands their values to the route under their names.
What they do is unchanged; only FastAPI's bookkeeping around each goes.  Only
`async` dependencies that take nothing but the request (and no
sub-dependency) are inlined, and only those that no other dependency of the
route also uses (FastAPI's per-request cache would otherwise hand that one a
second value, e.g. a second unit of work); they can only move earlier, never
later, than a dependency that stays with FastAPI, so an access check still
runs before anything it guards.  A dependency override (tests) of an inlined
callable is honoured, solved by FastAPI's own machinery.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Coroutine, Sequence
from contextlib import AsyncExitStack
from typing import Annotated, Any

import anyio
import fastapi.dependencies.utils as _fastapi_dependencies
from fastapi import Depends, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import (
    _solve_generator,  # FastAPI's own entry of a generator dependency on its exit stack (same behaviour)
    get_dependant,
    get_parameterless_sub_dependant,
    get_typed_return_annotation,
    get_typed_signature,
    solve_dependencies,
)
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams

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


_INLINED = "mc_inlined"  # the stand-in's one dependency: the inlined values, in order
_FUNCTION_STACK = "fastapi_function_astack"


def _inlinable(dep: Dependant) -> bool:
    """An `async` dependency of the request alone: nothing for FastAPI to validate, no sub-dependency."""
    call = dep.call
    if call is None or dep.name is None or not dep.use_cache or dep.concurrency is not None:
        return False
    if (dep.dependencies or dep.path_params or dep.query_params or dep.header_params or dep.cookie_params
            or dep.body_params or dep.own_oauth_scopes or dep.parent_oauth_scopes):
        return False
    if (dep.websocket_param_name or dep.http_connection_param_name or dep.response_param_name
            or dep.background_tasks_param_name or dep.security_scopes_param_name):
        return False
    if inspect.isasyncgenfunction(call):
        return dep.scope == "function"  # entered on the function-scoped stack, as FastAPI would
    return inspect.iscoroutinefunction(call)


def _calls(dep: Dependant) -> set[Any]:
    out = set()
    for sub in dep.dependencies:
        out.add(sub.call)
        out |= _calls(sub)
    return out


async def _solve_overridden(request: Request, step: Dependant, call: Callable[..., Any], provider: Any) -> Any:
    """An override of an inlined dependency, solved as FastAPI solves any dependency."""
    dep = get_dependant(path=step.path or "", call=call, name=step.name, scope=step.scope)
    solved = await solve_dependencies(request=request, dependant=dep, dependency_overrides_provider=provider,
                                      async_exit_stack=request.scope["fastapi_inner_astack"],
                                      embed_body_fields=False)
    if solved.errors:
        raise AssertionError(f"the override of {step.name} takes parameters it was not given")
    if inspect.isasyncgenfunction(call) or inspect.isgeneratorfunction(call):
        stack = request.scope[_FUNCTION_STACK] if step.scope == "function" else request.scope["fastapi_inner_astack"]
        return await _solve_generator(request=request, dependant=dep, stack=stack, sub_values=solved.values)
    if inspect.iscoroutinefunction(call):
        return await call(**solved.values)
    return await run_in_threadpool(call, **solved.values)


def _inline_dependencies(path: str, endpoint: Callable[..., Any],
                         route_dependencies: Sequence[Any]) -> Callable[..., Any]:
    """`endpoint`, or a stand-in whose request-only dependencies are solved as one (the module docstring).

    `route_dependencies` are the route's own `dependencies=[...]`, which FastAPI solves first: what they use
    is not inlined either."""
    full = get_dependant(path=path, call=endpoint)
    shared: set[Any] = set()
    for depends in route_dependencies:
        extra = get_parameterless_sub_dependant(depends=depends, path=path)
        shared.add(extra.call)
        shared |= _calls(extra)
    for dep in full.dependencies:
        if not _inlinable(dep):
            shared.add(dep.call)
            shared |= _calls(dep)
    steps = [dep for dep in full.dependencies if _inlinable(dep) and dep.call not in shared]
    if len(steps) < 2:
        return endpoint
    names = tuple(step.name or "" for step in steps)
    firsts: dict[Any, int] = {}  # a callable declared twice is solved once (FastAPI's cache), as before
    plan = [firsts.setdefault(step.call, i) for i, step in enumerate(steps)]
    kinds = [("generator" if inspect.isasyncgenfunction(step.call) else "coroutine") for step in steps]
    request_names = [step.request_param_name or "" for step in steps]

    async def solve_inlined(request: Request) -> tuple[Any, ...]:
        provider = request.scope.get("app")
        overrides = getattr(provider, "dependency_overrides", None)
        values: list[Any] = []
        for i, step in enumerate(steps):
            if plan[i] != i:
                values.append(values[plan[i]])
                continue
            call = step.call
            assert call is not None
            if overrides and call in overrides:
                values.append(await _solve_overridden(request, step, overrides[call], provider))
                continue
            kwargs: dict[str, Any] = {request_names[i]: request} if request_names[i] else {}
            if kinds[i] == "generator":
                values.append(await _solve_generator(request=request, dependant=step,
                                                     stack=request.scope[_FUNCTION_STACK], sub_values=kwargs))
            else:
                values.append(await call(**kwargs))
        return tuple(values)

    marks = [getattr(step.call, "mc_access", None) for step in steps]
    mark = next((m for m in marks if m is not None), None)
    if mark is not None:
        solve_inlined.mc_access = mark  # type: ignore[attr-defined]  # the route's access rule (api.guard)

    signature = get_typed_signature(endpoint)
    inlined = set(names)
    params: list[inspect.Parameter] = []
    for param in signature.parameters.values():
        if param.name == names[0]:
            params.append(inspect.Parameter(_INLINED, inspect.Parameter.KEYWORD_ONLY,
                                            annotation=Annotated[tuple[Any, ...], Depends(solve_inlined)]))
        if param.name not in inlined:
            params.append(param.replace(kind=inspect.Parameter.KEYWORD_ONLY))
    target = endpoint

    @functools.wraps(endpoint)
    async def with_inlined(**kwargs: Any) -> Any:
        kwargs.update(zip(names, kwargs.pop(_INLINED), strict=True))
        return await target(**kwargs)

    with_inlined.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        params, return_annotation=get_typed_return_annotation(endpoint) or inspect.Signature.empty)
    with_inlined.mc_inlined = names  # type: ignore[attr-defined]  # for tests and the curious
    return with_inlined


_SEQUENCE_CHECK = "field_annotation_is_sequence"  # FastAPI's, as its request parsing looks it up


def _remember_sequence_annotations() -> None:
    """FastAPI's "is this parameter's annotation a sequence?", answered once per annotation.

    For every query, header, cookie and form field of every request, FastAPI (0.165,
    `dependencies.utils._get_multidict_value`) asks twice whether the field's annotation is a
    sequence (`?tag=a&tag=b`): `typing.get_origin`, `get_args` and `issubclass` over the
    annotation and its union members, ~15 calls a field -- a fifth of the calls of a list with a
    query model of ten fields, the same answer every time. The answer is a function of the
    annotation alone, so it is kept per annotation (a dictionary as big as the application's set
    of parameter annotations); an annotation that cannot be a dictionary key is asked as before.
    """
    original: Callable[[object], bool] = getattr(_fastapi_dependencies, _SEQUENCE_CHECK)
    if getattr(original, "mc_remembered", False):
        return
    answers: dict[object, bool] = {}

    def field_annotation_is_sequence(annotation: object) -> bool:
        try:
            return answers[annotation]
        except KeyError:
            answer = answers[annotation] = original(annotation)
            return answer
        except TypeError:  # unhashable (an Annotated with a list in its metadata)
            return original(annotation)

    field_annotation_is_sequence.mc_remembered = True  # type: ignore[attr-defined]
    field_annotation_is_sequence.mc_original = original  # type: ignore[attr-defined]
    setattr(_fastapi_dependencies, _SEQUENCE_CHECK, field_annotation_is_sequence)


_QUERY_PARSE = "request_params_to_args"  # FastAPI's, as `solve_dependencies` looks it up
MAX_KEPT_QUERIES = 4_096  # validated query strings kept per process (then all are forgotten at once)


def _frozen_query_models(fields: Sequence[Any]) -> bool:
    """Whether every field is a query model declared frozen (`model_config = ConfigDict(frozen=True)`)."""
    if not fields:
        return False
    for field in fields:
        model = _fastapi_dependencies._get_param_model(field)
        if model is None or not model.model_config.get("frozen"):
            return False
    return True


def _remember_query_models() -> None:
    """A route's query, validated once per query string when it is a frozen model.

    FastAPI (0.165) validates a query model (`Annotated[Model, Query()]`) field by field on every
    request: for each field its aliases, the multidict's value, then the model -- a quarter of the
    CPU of the borrower list once its page is kept (docs/performance.md, ninth pass). The result is
    a function of the query's items alone, so for a route whose query parameters are all frozen
    models (immutable: the value can be handed to every request) the values are kept per query
    items and route (a failed validation is not kept: it is raised anew). A frozen query model
    must therefore depend on nothing but the query string -- no default from the clock.
    """
    original: Callable[..., tuple[dict[str, Any], list[Any]]] = getattr(_fastapi_dependencies, _QUERY_PARSE)
    if getattr(original, "mc_remembered", False):
        return
    frozen: dict[int, tuple[Sequence[Any], bool]] = {}  # id(fields): (fields, all frozen models?)
    kept: dict[tuple[int, Any], tuple[Sequence[Any], dict[str, Any]]] = {}

    def request_params_to_args(fields: Sequence[Any], received_params: Any) -> tuple[dict[str, Any], list[Any]]:
        if not fields or not isinstance(received_params, QueryParams):
            return original(fields, received_params)
        # Each entry holds `fields` itself, so its id cannot be another list's while the entry lives.
        known = frozen.get(id(fields))
        if known is None or known[0] is not fields:
            known = frozen[id(fields)] = (fields, _frozen_query_models(fields))
        if not known[1]:
            return original(fields, received_params)
        key = (id(fields), tuple(received_params.multi_items()))
        found = kept.get(key)
        if found is not None and found[0] is fields:
            return dict(found[1]), []
        values, errors = original(fields, received_params)
        if not errors:
            if len(kept) >= MAX_KEPT_QUERIES:
                kept.clear()
            kept[key] = (fields, dict(values))
        return values, errors

    request_params_to_args.mc_remembered = True  # type: ignore[attr-defined]
    request_params_to_args.mc_original = original  # type: ignore[attr-defined]
    setattr(_fastapi_dependencies, _QUERY_PARSE, request_params_to_args)


class UnitOfWorkRoute(APIRoute):
    """An API route that retries its unit of work after a transient database error."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        _remember_sequence_annotations()
        _remember_query_models()
        if not inspect.iscoroutinefunction(endpoint) and inspect.isfunction(endpoint):
            endpoint = _in_one_trip(self, endpoint)
        if inspect.iscoroutinefunction(endpoint):
            endpoint = _inline_dependencies(path, endpoint, kwargs.get("dependencies") or ())
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
