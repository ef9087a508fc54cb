"""Request dependencies: the transaction, the caller, permissions, idempotency, rate limits.

* `db` — one unit of work per request: committed when the route returns,
  rolled back when it raises (except refusals that keep their trace), and the
  outbox dispatched after the commit.
* `require("borrower.read")` — every route declares exactly one access rule:
  a permission, `authenticated()` (any signed-in user; used for one's own
  account), or `public()`. The route × role matrix test reads these marks.
* `idempotent("operation")` — the `Idempotency-Key` mechanism for routes that
  move money or create things that must exist once.
* `rate_limit(...)` — per-IP request limits for the abuse-prone public routes.
"""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Hashable
from typing import Annotated, Any

import anyio
import structlog
from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from microcredit.clock import Clock
from microcredit.config import Settings
from microcredit.errors import DomainError, NotAuthenticated, PermissionDenied
from microcredit.identity import service as identity
from microcredit.identity.errors import SecondFactorRequired
from microcredit.identity.principal import Principal
from microcredit.identity.service.oauth import OAuthGateway
from microcredit.integrations.payments import PaymentProvider
from microcredit.notifications import service as notifications
from microcredit.parties import service as parties
from microcredit.parties.service.organisation import InstitutionInfo
from microcredit.platform import idempotency, refcache
from microcredit.platform.actor import RequestMeta
from microcredit.platform.flights import Flights
from microcredit.platform.ratelimit import Limit, hit
from microcredit.platform.refcache import ReferenceCache
from microcredit.runtime import Runtime

from .problems import language_of

log = structlog.get_logger(__name__)

# Dependencies that do no I/O are `async def`: FastAPI runs a plain `def` dependency in the thread
# pool, and a trip there and back costs more than what most of them do.


def runtime_of(request: Request) -> Runtime:
    """The process's runtime (built by the app factory)."""
    runtime: Runtime = request.app.state.runtime
    return runtime


async def _kit(request: Request) -> identity.IdentityKit:
    return runtime_of(request).identity


async def _clock(request: Request) -> Clock:
    return runtime_of(request).clock


async def _settings(request: Request) -> Settings:
    return runtime_of(request).settings


async def _oauth(request: Request) -> OAuthGateway:
    return runtime_of(request).oauth


async def _payments(request: Request) -> PaymentProvider:
    return runtime_of(request).payments


async def _institutions(request: Request) -> ReferenceCache[InstitutionInfo] | None:
    return runtime_of(request).institutions


# The typed parts a route hands to the services it calls (never the runtime itself).
Kit = Annotated[identity.IdentityKit, Depends(_kit)]
WallClock = Annotated[Clock, Depends(_clock)]
Config = Annotated[Settings, Depends(_settings)]
OAuth = Annotated[OAuthGateway, Depends(_oauth)]
Payments = Annotated[PaymentProvider, Depends(_payments)]
Institutions = Annotated[ReferenceCache[InstitutionInfo] | None, Depends(_institutions)]


def client_ip(request: Request, settings: Settings) -> str | None:
    """The caller's IP; X-Forwarded-For is trusted only from configured proxies.

    Each proxy appends the address it saw, so the entries are read from the right: the first
    one that is not a trusted proxy is the client. The left-most entries are whatever the
    client sent and must not be believed (rotating them would dodge the per-IP limits).
    """
    peer = request.client.host if request.client else None
    trusted = [p.strip() for p in settings.trusted_proxies.split(",") if p.strip()]
    if peer and trusted and any(ip_in(peer, t) for t in trusted):
        forwarded = request.headers.get("x-forwarded-for", "")
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        for hop in reversed(hops):
            if not any(ip_in(hop, t) for t in trusted):
                return hop[:64]
        if hops:
            return hops[0][:64]
    return peer


def ip_in(ip: str, network: str) -> bool:
    """Whether `ip` is `network` (an address or a CIDR network)."""
    try:
        return ipaddress.ip_address(ip) in ipaddress.ip_network(network, strict=False)
    except ValueError:
        return ip == network


def meta_of(request: Request) -> RequestMeta:
    """Where the request comes from, and in which language to answer (worked out once per request)."""
    state = request.scope.setdefault("state", {})
    meta = state.get("mc_meta")
    if meta is None:
        meta = state["mc_meta"] = RequestMeta(
            ip=client_ip(request, runtime_of(request).settings), user_agent=request.headers.get("user-agent"),
            request_id=state.get("request_id"), language=language_of(request))
    return meta  # type: ignore[no-any-return]


async def get_meta(request: Request) -> RequestMeta:
    """Where the request comes from, and in which language to answer."""
    return meta_of(request)


Meta = Annotated[RequestMeta, Depends(get_meta)]


async def db(request: Request) -> AsyncIterator[Session]:
    """The request's unit of work; after it commits, delivers queued messages when one of them is urgent
    (`notifications.deliver_after_commit`: a one-time code somebody waits for). Others wait for the
    outbox's timer (`_lifespan`'s poller): a repayment's receipt costs its request nothing to deliver.

    Declared with `scope="function"`: FastAPI runs the exit of a yield dependency
    right after the route returns — so the transaction is committed *before* the
    response is sent. (With the default "request" scope it would run after the
    client already has the answer, and a fast follow-up request could miss the
    committed rows.)

    `async`, so that opening the session (no I/O: it connects at its first
    statement) costs no trip to the thread pool; the end of the unit of work
    (commit or rollback: I/O) runs there, shielded from cancellation -- unless
    a read's transaction already ended with the route, in its own trip
    (`platform.routing`), when nothing is left to do but close the session.
    """
    runtime = runtime_of(request)
    write = request.method not in ("GET", "HEAD", "OPTIONS")
    work = runtime.db.unit_of_work(write=write)
    session = work.__enter__()
    try:
        yield session
    except BaseException as exc:
        with anyio.CancelScope(shield=True):
            if isinstance(exc, DomainError) and exc.keeps_changes:
                # The trace is committed; an unanswered idempotency key is not.
                await run_in_threadpool(idempotency.release_unfinished, session=session)
            await run_in_threadpool(work.__exit__, type(exc), exc, exc.__traceback__)
        raise
    pending = session.info.pop(notifications.DELIVER_AFTER_COMMIT, None)
    if session.in_transaction():
        with anyio.CancelScope(shield=True):
            await run_in_threadpool(work.__exit__, None, None, None)
    else:
        work.__exit__(None, None, None)  # ended with the route (a read: db.engine.end_read): no I/O left
    if pending:
        await run_in_threadpool(dispatch_outbox, runtime, pending)  # its own urgent messages, nothing else


def dispatch_outbox(runtime: Runtime, only: Collection[int] | None = None) -> bool:
    """Deliver queued messages: SMS through the configured channel (none configured: they wait), the
    other topics to their handlers (a payment provider's stored callbacks, applied). `only`: these
    messages alone (a request's urgent ones).

    The request's transaction has committed by now: a failure here (the database busy while a
    failed attempt is recorded) must not reach the route, whose retry would run the committed
    request a second time. The messages stay pending for the next dispatch.

    True when the run took a full batch (`notifications.BATCH`): more may be waiting, and the outbox's
    timer goes on at once instead of waiting for its next period.
    """
    try:
        report = notifications.dispatch_pending(db=runtime.db, cipher=runtime.keys.cipher, clock=runtime.clock,
                                                sms=runtime.sms, addressee=runtime.addressee,
                                                handlers=runtime.outbox_handlers, only=only)
    except Exception as exc:  # committed already: never retried with the request
        log.warning("outbox.dispatch_deferred", error=str(exc) or type(exc).__name__)
        return False
    return report.full()


DB = Annotated[Session, Depends(db, scope="function")]


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _authenticate(runtime: Runtime, token: str, meta: RequestMeta) -> Principal:
    with runtime.db.unit_of_work(write=False) as session:
        principal = identity.sessions.authenticate(session=session, kit=runtime.identity, token=token, meta=meta,
                                                   touch=False)
    if principal.touch_due:
        with runtime.db.unit_of_work(write=True) as session:
            identity.sessions.touch(session=session, kit=runtime.identity, principal=principal)
    return principal


async def current_principal(request: Request) -> Principal:
    """The signed-in caller (401 when there is none).

    A read (GET, HEAD) is answered from the process's principal cache when the token was
    resolved moments ago (`identity.service.principals`: no query, no thread); anything else
    resolves the token against the database, in the thread pool.

    The access checks below call it directly rather than through `Depends`: FastAPI solves
    every dependency of every request anew (its cache keys, its parameter lists), and the
    chain check → principal → request metadata → settings was four of the seven dependants
    a signed-in read solved. The principal is kept on the request, so a route that also
    depends on `current_principal` (the idempotency guard) gets the same one.
    """
    state = request.scope.setdefault("state", {})
    cached = state.get("principal")
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    token = _bearer(request)
    if token is None:
        raise NotAuthenticated()
    state["token"] = token  # for kept_answer: the headers are looked through once
    runtime = runtime_of(request)
    meta = meta_of(request)
    principal = None
    if request.method in ("GET", "HEAD"):
        principal = await _cached_principal(runtime, token, meta)
    if principal is None:
        principal = await run_in_threadpool(_authenticate, runtime, token, meta)
    state["principal"] = principal
    return principal


# Work on the principal cache's misses, in the air per token: one resolution (or view) at a time.
_FLIGHTS = Flights()
# A waiter looks again after at most this many flights (two: a resolution that refreshed the idle
# timer keeps nothing, the one after it does), then resolves the token itself.
_FLIGHTS_WAITED = 2


async def _cached_principal(runtime: Runtime, token: str, meta: RequestMeta) -> Principal | None:
    """A read's principal from the cache; on a miss, the first request of the token resolves it and the
    others in flight wait for it, then read the cache again (`platform.flights`). None: resolve it."""
    kit = runtime.identity
    for _ in range(_FLIGHTS_WAITED):
        principal = identity.sessions.cached(kit=kit, token=token, meta=meta)
        if principal is not None or not identity.sessions.caching(kit=kit):
            return principal
        ran, principal = await _FLIGHTS.join(("principal", token),
                                             lambda: run_in_threadpool(_authenticate, runtime, token, meta))
        if ran:
            return principal
    return identity.sessions.cached(kit=kit, token=token, meta=meta)


async def _kept(flight: Hashable, look: Callable[[], bytes | None], *, caching: bool,
                build_and_keep: Callable[[], Awaitable[bytes]], build: Callable[[], Awaitable[bytes]]) -> bytes:
    """A kept answer's bytes: what `look` finds; on a miss, the first request of `flight` builds and
    keeps it while the others in flight wait and look again (`platform.flights`); without caching, or
    when what was built could not be kept, built for this request alone."""
    body = look()
    if body is None and caching:
        ran, body = await _FLIGHTS.join(flight, build_and_keep)
        if not ran:
            body = look()
    if body is None:
        body = await build()
    return body


# Builds a view from the read's session, the identity kit and the institutions' cache: JSON bytes.
ViewBuilder = Callable[[Session, identity.IdentityKit, "ReferenceCache[InstitutionInfo] | None"], bytes]


def _build_view(runtime: Runtime, token: str, name: str, principal: Principal, build: ViewBuilder) -> bytes:
    kit = runtime.identity
    mark = identity.sessions.view_mark(kit=kit)
    with runtime.db.unit_of_work(write=False) as session:
        body = build(session, kit, runtime.institutions)
    identity.sessions.keep_view(kit=kit, token=token, name=name, value=body, principal=principal, mark=mark)
    return body


async def kept_answer(request: Request, principal: Principal, name: str, build: ViewBuilder) -> Response:
    """A signed-in read's JSON answer, kept with the caller's token in the principal cache.

    For an answer about the caller alone (their own page): the first read builds it with `build`
    in a read transaction of its own, in one trip to the thread pool, and keeps the bytes with the
    token's cached principal; the next reads of that token are answered from memory -- no session,
    no query, no thread -- for as long as the principal itself would be. Every change that
    `identity.service.principals` watches (the user, the session, the roles, what other domains
    declare with `concern`) forgets it. Call it only after the route's access check passed.
    """
    token = request.scope["state"].get("token") or _bearer(request) or ""
    runtime = runtime_of(request)
    kit = runtime.identity
    body = await _kept(("view", name, token), lambda: identity.sessions.view(kit=kit, token=token, name=name),
                       caching=identity.sessions.caching(kit=kit),
                       build_and_keep=lambda: run_in_threadpool(_build_view, runtime, token, name, principal, build),
                       build=lambda: run_in_threadpool(_build_view, runtime, token, name, principal, build))
    return Response(body, media_type="application/json")


# Builds a list's page from a read's session and the identity kit: JSON bytes.
PageBuilder = Callable[[Session, identity.IdentityKit], bytes]
KEPT_PAGES = 2_000  # pages kept per list and process (a page of 20 borrowers is ~10 KB)


def _build_page(runtime: Runtime, build: PageBuilder) -> bytes:
    with runtime.db.unit_of_work(write=False) as session:
        return build(session, runtime.identity)


async def kept_page(request: Request, name: str, *, model: type, key: Any, build: PageBuilder) -> Response:
    """A list's page as JSON, kept per process by `key` and forgotten when a row of `model` changes.

    For a list that reads the table of `model` alone: `key` must hold everything the page depends
    on -- the caller's data scope as well as the query -- so that two callers share a page only
    when they would have read the same rows (None: not kept, built for this request). The first
    read builds it with `build` in a read transaction of its own, in one trip to the thread pool;
    later reads with the same key are answered from memory -- no session, no query, no thread --
    until any row of `model` changes or `performance.reference_cache_seconds` pass
    (`platform.refcache`: a change in this process forgets every page at its flush and again at its
    commit, and a build that raced a change is not kept; another worker process's change is seen
    after at most those seconds -- the trade-off the reference data and the principal cache make,
    docs/performance.md). Concurrent misses of a key wait for the first one's build
    (`platform.flights`). Call it only after the route's access check.
    """
    runtime = runtime_of(request)
    if runtime.references is None or key is None:
        return Response(await run_in_threadpool(_build_page, runtime, build), media_type="application/json")
    cache = runtime.references.cache(f"page.{name}", model=model, key_of=refcache.every_key, max_entries=KEPT_PAGES)

    async def build_and_keep() -> bytes:
        mark = cache.mark()  # a change between here and `keep` leaves the page unkept
        value = await run_in_threadpool(_build_page, runtime, build)
        cache.keep(key, value, mark)
        return value

    body = await _kept(("page", name, key), lambda: cache.fresh(key), caching=cache.enabled,
                       build_and_keep=build_and_keep, build=lambda: run_in_threadpool(_build_page, runtime, build))
    return Response(body, media_type="application/json")


def _mark(fn: Callable[..., Any], kind: str, permission: str | None) -> Callable[..., Any]:
    fn.mc_access = (kind, permission)  # type: ignore[attr-defined]
    return fn


def require(permission: str) -> Any:
    """The caller must hold `permission` (in a full, second-factor-complete session)."""

    async def check(request: Request) -> Principal:
        principal = await current_principal(request)
        if principal.stage != "full":
            raise SecondFactorRequired()
        if permission not in principal.permissions:
            raise PermissionDenied()
        return principal

    return Depends(_mark(check, "permission", permission))


def require_any(*permissions: str) -> Any:
    """The caller must hold one of `permissions` (marked as the permissions joined by `|`)."""

    async def check(request: Request) -> Principal:
        principal = await current_principal(request)
        if principal.stage != "full":
            raise SecondFactorRequired()
        if not any(p in principal.permissions for p in permissions):
            raise PermissionDenied()
        return principal

    return Depends(_mark(check, "permission", "|".join(permissions)))


def authenticated(*, allow_enrolment: bool = False) -> Any:
    """Any signed-in user, acting on their own account."""

    async def check(request: Request) -> Principal:
        principal = await current_principal(request)
        if principal.stage != "full" and not allow_enrolment:
            raise SecondFactorRequired()
        return principal

    return Depends(_mark(check, "authenticated", None))


def public() -> Any:
    """No sign-in needed (registration, login, quotes)."""

    async def check() -> None:
        return None

    return Depends(_mark(check, "public", None))


def institution_id(request: Request, session: DB, settings: Config,
                   x_institution: Annotated[str | None, Header(description="Institution code; "
                                                           "defaults to the deployment's")] = None) -> int:
    """The institution a public request is for (X-Institution header, or the default)."""
    code = x_institution or settings.default_institution
    return parties.organisation.institution_by_code(session=session, code=code).id


InstitutionId = Annotated[int, Depends(institution_id)]


def rate_limit(name: str, limit: Callable[[Settings], Limit]) -> Any:
    """At most `limit` (read from the settings) requests per IP per window to this route."""

    def check(request: Request, session: DB) -> None:
        runtime = runtime_of(request)
        ip = client_ip(request, runtime.settings) or "unknown"
        hit(runtime.limiter, f"{name}:ip:{ip}", limit(runtime.settings), session=session)

    return Depends(check)


class IdempotencyGuard:
    """The claimed key of a first request; `respond` stores and returns its result."""

    def __init__(self, session: Session, record: Any) -> None:
        self.session = session
        self.record = record

    def respond(self, status_code: int, body: Any) -> Response:
        """Remember `body` (a schema or JSON-able value) under the key and return it."""
        from fastapi.encoders import jsonable_encoder

        return self.respond_json(status_code, jsonable_encoder(body))

    def respond_json(self, status_code: int, data: Any) -> Response:
        """`respond` for a body already in JSON's types (dicts, lists, strings, numbers, None): not walked again,
        and serialised once -- the bytes stored under the key are the bytes sent."""
        if self.record is not None:
            body = idempotency.complete(session=self.session, record=self.record, status_code=status_code, body=data)
            return Response(body, status_code=status_code, media_type="application/json")
        return JSONResponse(data, status_code=status_code)


class IdempotentReplay(Exception):
    """A repeated request: answer with the stored response."""

    def __init__(self, stored: idempotency.StoredResponse) -> None:
        self.stored = stored


def idempotent(operation: str) -> Any:
    """Require an Idempotency-Key; replay the first result for a repeat."""

    async def guard(request: Request, clock: WallClock, session: DB,
                    principal: Principal = Depends(current_principal),
                    idempotency_key: Annotated[str | None, Header(
                        description="Client-generated unique key (UUID v4 recommended)")] = None,
                    ) -> IdempotencyGuard:
        key = idempotency.validate_key(idempotency_key)
        body = await request.body()
        # The claim writes (and on SQLite waits for the write lock): never on the event loop, where
        # that wait would stall every request -- the one holding the lock among them.
        record, stored = await run_in_threadpool(
            idempotency.claim, session=session, clock=clock, principal=f"user:{principal.user_id}", key=key,
            operation=operation, request_hash=idempotency.fingerprint(operation + request.url.path, body))
        if stored is not None:
            raise IdempotentReplay(stored)
        return IdempotencyGuard(session, record)

    return Depends(guard)


async def handle_replay(request: Request, exc: Exception) -> Any:
    """Answer a repeated request with the stored response."""
    from fastapi.responses import Response

    assert isinstance(exc, IdempotentReplay)
    return Response(exc.stored.body, status_code=exc.stored.status_code, media_type=exc.stored.content_type,
                    headers={"Idempotent-Replayed": "true"})
