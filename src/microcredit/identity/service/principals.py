"""The principal cache: who a bearer token is, remembered for a few seconds for reads.

Resolving a token costs four queries (the session, the user, the roles, their
permissions) and, in the API, a unit of work of its own. A signed-in client
makes many reads in a row with the same token, so the API remembers, per
process, the `Principal` a token resolved to, for `seconds` (the setting
`security.principal_cache_seconds`, 2 s by default; 0 switches it off), and
answers reads (GET, HEAD) from it. Writes always resolve against the database.

What keeps it exact:

- **Expiry** — an entry keeps the session's idle and absolute expiry and is
  not used at or after either (the database is asked, and says 401).
- **Idle timer** — an entry is not used once the session's idle timer is due
  a refresh (`sessions.TOUCH_EVERY`), so the refresh happens as before.
- **Every change in this process** — any flush, in any database session of
  the process, that changes a user, a session, a user's roles, a role or its
  permissions forgets the users concerned (a bulk UPDATE or DELETE of those
  tables forgets everyone), at the flush and again at the commit. Sign-out,
  revocation, lock, disable, password change and role changes are all such
  changes, so the next request of this process sees them.
- **A fetch that raced a change** — an entry fetched before a change to its
  user but stored after it is refused (each change takes a sequence number).

Across worker processes the entries of *other* processes are not told: a
change made in one worker is seen by a read in another after at most
`seconds` (writes see it at once). docs/operations.md says so.

**Views.** An entry also keeps, by name, answers built for its token -- the
signed-in user's own page (`GET /auth/me`) -- so that a repeated read costs
no query and no thread at all (`view`, `keep_view`). A view lives and dies
with its entry: it is dropped with it (every change above, expiry, the idle
timer, `seconds` after the entry was resolved), and it is refused when it was
read before the entry was resolved or before a change to its user. What a view
shows beyond the identity tables -- another domain's rows, such as the
borrower's profile id or the branch's name -- is declared with `concern`
(`parties` declares its tables), and a change to such a row forgets the
entries it concerns exactly as a change to the user does. So a view is as
exact as the principal: at once within the process, within `seconds` across
processes -- plus the bound of any cache the view's builder itself reads
through (`/auth/me`'s institution comes from `platform.refcache`: within
`seconds` + `reference_cache_seconds`).
"""

from __future__ import annotations

import itertools
import threading
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from microcredit.clock import Clock
from microcredit.db import rows
from microcredit.identity.models import OAuthIdentity, Role, RolePermission, User, UserRole, UserSession
from microcredit.identity.principal import Principal
from microcredit.platform.actor import RequestMeta

ALL = None
# Changes to these rows change who a token is, what it may do, or what its views show: a row's user
# (a function of the row), or ALL (everyone: a role's permissions). `concern` adds other domains' tables.
_CONCERNS: dict[type, Callable[[Any], int] | None] = {
    User: lambda u: u.id, UserSession: lambda s: s.user_id, UserRole: lambda r: r.user_id,
    OAuthIdentity: lambda o: o.user_id, Role: ALL, RolePermission: ALL}
_TABLES: set[str] = {m.__tablename__ for m in _CONCERNS}  # type: ignore[attr-defined]
rows.watch_flushes(*_TABLES)  # heard at the flush: never written past it (`db.rows`)
_PENDING = "microcredit_principals_forget"  # session.info key: user ids (or None: everyone) to forget at commit


def concern(model: type, user_of: Callable[[Any], int] | None) -> None:
    """Rows of `model` that a principal's views show: a change to one forgets its user's entries
    (`user_of(row)`), or everyone's (`user_of` None: rows many users' views show, such as a branch)."""
    _CONCERNS[model] = user_of
    _TABLES.add(model.__tablename__)  # type: ignore[attr-defined]
    rows.watch_flushes(model.__tablename__)  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class _Entry:
    principal: Principal
    cached_at: datetime
    last_seen_at: datetime
    idle_expires_at: datetime
    absolute_expires_at: datetime
    views: Mapping[str, Any] = field(default_factory=dict)  # never changed in place: a new entry replaces it


class PrincipalCache:
    """Principals by token hash, kept `seconds` for reads; forgotten on any change to their user."""

    def __init__(self, *, clock: Clock, seconds: float, touch_every: timedelta, max_entries: int = 50_000) -> None:
        self.clock = clock
        self.ttl = timedelta(seconds=seconds)
        self.touch_every = touch_every
        self.max_entries = max_entries
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()
        self._seq = itertools.count(1)
        self._forgotten_at: dict[int, int] = {}  # user id -> sequence number of the last change
        self._cleared_at = 0
        self._now_seq = 0
        _watch(self)

    @property
    def enabled(self) -> bool:
        """Whether entries are kept at all."""
        return self.ttl > timedelta(0)

    def mark(self) -> int:
        """A sequence number to take before resolving a token from the database (see `put`)."""
        return self._now_seq

    def _live(self, token_hash: str) -> _Entry | None:
        entry = self._entries.get(token_hash)
        if entry is None:
            return None
        now = self.clock.now()
        if (now - entry.cached_at >= self.ttl or now - entry.last_seen_at >= self.touch_every
                or entry.idle_expires_at <= now or entry.absolute_expires_at <= now or now < entry.cached_at):
            self._entries.pop(token_hash, None)
            return None
        return entry

    def get(self, token_hash: str, meta: RequestMeta) -> Principal | None:
        """The principal of a live, recently resolved session, with this request's `meta`; None to ask the database."""
        entry = self._live(token_hash)
        return None if entry is None else replace(entry.principal, meta=meta)

    def view(self, token_hash: str, name: str) -> Any | None:
        """The view `name` kept for this token's live entry (None: build it, then `keep_view`)."""
        entry = self._live(token_hash)
        return None if entry is None else entry.views.get(name)

    def keep_view(self, token_hash: str, name: str, value: Any, *, principal: Principal, mark: int,
                  read_at: datetime) -> bool:
        """Keep `value` -- built for `principal`, from rows read from `read_at` on, after `mark` was taken -- as
        the view `name` of this token's entry; unless there is no live entry, the entry holds another principal
        than the one the view was built for, the entry was resolved after `read_at` (the view would outlive
        `seconds`), or the entry's user changed since `mark`. Returns whether it was kept."""
        with self._lock:
            entry = self._live(token_hash)
            if (entry is None or entry.cached_at > read_at or self._cleared_at > mark
                    or self._forgotten_at.get(entry.principal.user_id, 0) > mark
                    or entry.principal != replace(principal, meta=RequestMeta(), touch_due=False)):
                return False
            self._entries[token_hash] = replace(entry, views={**entry.views, name: value})
            return True

    def put(self, token_hash: str, principal: Principal, *, mark: int, last_seen_at: datetime,
            idle_expires_at: datetime, absolute_expires_at: datetime) -> None:
        """Remember a principal resolved after `mark`, unless its user changed since."""
        if not self.enabled:
            return
        with self._lock:
            if self._cleared_at > mark or self._forgotten_at.get(principal.user_id, 0) > mark:
                return
            if len(self._entries) >= self.max_entries:
                self._entries.pop(next(iter(self._entries)))
            self._entries[token_hash] = _Entry(replace(principal, meta=RequestMeta()), self.clock.now(),
                                               last_seen_at, idle_expires_at, absolute_expires_at)

    def forget(self, user_ids: set[int] | None) -> None:
        """Forget the entries of these users (None: of everyone)."""
        with self._lock:
            seq = next(self._seq)
            self._now_seq = seq
            if user_ids is None:
                self._cleared_at = seq
                self._forgotten_at.clear()
                self._entries.clear()
                return
            for user_id in user_ids:
                self._forgotten_at[user_id] = seq
            for key in [k for k, e in self._entries.items() if e.principal.user_id in user_ids]:
                del self._entries[key]
            if len(self._forgotten_at) > self.max_entries:  # keep the bookkeeping bounded
                self._cleared_at = seq
                self._forgotten_at.clear()

    def __len__(self) -> int:
        return len(self._entries)


# -- watching the ORM: every cache of the process hears every change -------------------------------

_caches: weakref.WeakSet[PrincipalCache] = weakref.WeakSet()
_watching = False
_watch_lock = threading.Lock()


def _forget_everywhere(user_ids: set[int] | None) -> None:
    for cache in list(_caches):
        cache.forget(user_ids)


def _note(session: Session, user_ids: set[int] | None) -> None:
    pending = session.info.get(_PENDING, set())
    if user_ids is None or pending is None:
        session.info[_PENDING] = None
    else:
        session.info[_PENDING] = pending | user_ids
    _forget_everywhere(user_ids)


def _after_flush(session: Session, _flush_context: UOWTransaction) -> None:
    user_ids: set[int] = set()
    for obj in itertools.chain(session.new, session.dirty, session.deleted):
        model = type(obj)
        if model not in _CONCERNS:
            continue
        user_of = _CONCERNS[model]
        if user_of is ALL:
            _note(session, ALL)
            return
        if model is UserSession and obj in session.new:
            continue  # a sign-in: a new token, nothing cached for it yet (the user's other tokens stand)
        user_ids.add(user_of(obj))
    if user_ids:
        _note(session, user_ids)


def _on_execute(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) in _TABLES:
        _note(state.session, ALL)


def _after_commit(session: Session) -> None:
    if _PENDING in session.info:
        _forget_everywhere(session.info.pop(_PENDING))


def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)


def _watch(cache: PrincipalCache) -> None:
    global _watching
    _caches.add(cache)
    with _watch_lock:
        if _watching:
            return
        listeners: tuple[tuple[str, Any], ...] = (
            ("after_flush", _after_flush), ("do_orm_execute", _on_execute),
            ("after_commit", _after_commit), ("after_soft_rollback", lambda s, _t: _after_rollback(s)))
        for name, fn in listeners:
            event.listen(Session, name, fn)
        _watching = True
