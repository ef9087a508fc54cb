"""Reference data per process: rows that rarely change, read from memory for a few seconds.

An institution's name, time zone and business date are read by many requests
and change a few times a day (close of business moves the date; an
administrator renames). `ReferenceCache` keeps, per process, a value made from
such a row -- a frozen snapshot, never the ORM object -- for `seconds`
(`performance.reference_cache_seconds`, 2 s by default; 0 switches it off).

What keeps it exact within the process:

- **Every change in this process** -- any flush, in any database session of
  the process, that inserts, updates or deletes a row of the watched model
  forgets that row's entry, at the flush and again at the commit (a reader in
  another thread may have read the old committed row in between). A bulk
  UPDATE or DELETE of the table forgets every entry.
- **A read that raced a change** -- a value loaded before a change to its row
  but stored after it is refused (each change takes a sequence number).

- **A session that changed rows of the model** reads them itself until its
  transaction ends (`cached` does not answer it from memory, nor keep what it
  reads: it may be uncommitted), and a rollback forgets what it changed too.
- **A version stamp the caller reads anyway** (`get(..., current=...)`) -- a
  value whose stamp is not the one just read is loaded again: exact across
  processes too (the ledger's chart, stamped by the books row's version that
  every posting reads under its lock).

Across worker processes a change made in one is seen by the others after at
most `seconds` (at once with `current`). Use it only for values whose readers accept that bound (what
a page shows); a posting that needs the business date reads the row itself.

`ReferenceCaches` is one database's set of named caches in this process: the
runtime attaches it to its `Database`, so every session of that database finds
it (`cached(session, name, ...)`); a session without one (a script, a test's bare
session) simply reads the row each time. Keeping the caches per database keeps
two databases in one process (the tests) from answering each other's rows.
"""

from __future__ import annotations

import itertools
import threading
import weakref
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from microcredit.clock import Clock
from microcredit.db import rows

V = TypeVar("V")
_PENDING = "microcredit_refcache_forget"  # session.info: {cache: keys (or None: all)} to forget again at commit
REGISTRY = "microcredit_refcache_registry"  # session.info (from the session factory): the database's caches
ALL = None  # forget every entry (also what `key_of` may answer for a row whose change concerns every key)


def every_key(_row: Any) -> None:
    """`key_of` for a cache whose every entry may depend on any row (a list's pages, a total): a
    changed row forgets them all."""
    return ALL


@dataclass(frozen=True, slots=True)
class _Entry(Generic[V]):
    value: V
    stored_at: datetime


class ReferenceCache(Generic[V]):
    """Values made from rows of `model`, by key, kept `seconds`; forgotten when this process changes the row."""

    def __init__(self, *, clock: Clock, seconds: float, model: type | tuple[type, ...],
                 key_of: Callable[[Any], Hashable], max_entries: int = 10_000) -> None:
        self.clock = clock
        self.ttl = timedelta(seconds=seconds)
        self.model = model
        models = model if isinstance(model, tuple) else (model,)
        self.tables = frozenset(getattr(m, "__tablename__", None) for m in models)
        self.key_of = key_of
        self.max_entries = max_entries
        self._entries: dict[Hashable, _Entry[V]] = {}
        self._lock = threading.Lock()
        self._seq = itertools.count(1)
        self._now_seq = 0
        self._forgotten_at: dict[Hashable, int] = {}
        self._cleared_at = 0
        _watch(self)

    @property
    def enabled(self) -> bool:
        """Whether values are kept at all."""
        return self.ttl > timedelta(0)

    def get(self, key: Hashable, load: Callable[[], V], *, current: Callable[[V], bool] | None = None) -> V:
        """The value for `key`: from memory when fresh, else `load()` (remembered unless its row changed meanwhile).

        `current`, when given, is asked of a value kept in memory: False (the caller read a version
        stamp that says the rows changed since, in another process too) loads it again."""
        entry = self._entries.get(key)
        now = self.clock.now()
        if entry is not None and entry.stored_at <= now < entry.stored_at + self.ttl and (
                current is None or current(entry.value)):
            return entry.value
        mark = self._now_seq
        value = load()
        self._put(key, value, mark)
        return value

    def fresh(self, key: Hashable) -> V | None:
        """The value kept for `key` if it is still fresh, else None (nothing is loaded).

        With `mark` and `keep`, `get` in two halves for a caller that loads elsewhere (in the thread
        pool, while an event loop waits): take the `mark` *before* loading, `keep` the value after."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        now = self.clock.now()
        return entry.value if entry.stored_at <= now < entry.stored_at + self.ttl else None

    def mark(self) -> int:
        """Where the changes stand now: a value loaded after this is kept only if nothing changed since."""
        return self._now_seq

    def keep(self, key: Hashable, value: V, mark: int) -> bool:
        """Keep `value` (loaded after `mark`) for `key`, unless a change since `mark` may have moved it.

        True when kept."""
        return self._put(key, value, mark)

    def _put(self, key: Hashable, value: V, mark: int) -> bool:
        if not self.enabled:
            return False
        with self._lock:
            if self._cleared_at > mark or self._forgotten_at.get(key, 0) > mark:
                return False
            if len(self._entries) >= self.max_entries:
                self._entries.pop(next(iter(self._entries)))
            self._entries[key] = _Entry(value, self.clock.now())
            return True

    def forget(self, keys: set[Hashable] | None) -> None:
        """Forget these keys' values (None: every value)."""
        with self._lock:
            seq = next(self._seq)
            self._now_seq = seq
            if keys is None:
                self._cleared_at = seq
                self._forgotten_at.clear()
                self._entries.clear()
                return
            for key in keys:
                self._forgotten_at[key] = seq
                self._entries.pop(key, None)
            if len(self._forgotten_at) > self.max_entries:  # keep the bookkeeping bounded
                self._cleared_at = seq
                self._forgotten_at.clear()

    def __len__(self) -> int:
        return len(self._entries)


# -- watching the ORM: every cache of the process hears every change to its model ------------------

_caches: weakref.WeakSet[ReferenceCache[Any]] = weakref.WeakSet()
_watching = False
_watch_lock = threading.Lock()


def _note(session: Session, cache: ReferenceCache[Any], keys: set[Hashable] | None) -> None:
    pending: dict[ReferenceCache[Any], set[Hashable] | None] = session.info.setdefault(_PENDING, {})
    before = pending.get(cache, set())
    pending[cache] = None if keys is None or before is None else before | keys
    cache.forget(keys)


def _after_flush(session: Session, _flush_context: UOWTransaction) -> None:
    changed = list(itertools.chain(session.new, session.dirty, session.deleted))
    for cache in list(_caches):
        keys = {cache.key_of(obj) for obj in changed if isinstance(obj, cache.model)}
        if keys:
            _note(session, cache, ALL if ALL in keys else keys)


def _on_execute(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete):
        return
    name = getattr(getattr(state.statement, "table", None), "name", None)
    for cache in list(_caches):
        if name in cache.tables:
            _note(state.session, cache, ALL)


def _after_commit(session: Session) -> None:
    for cache, keys in session.info.pop(_PENDING, {}).items():
        cache.forget(keys)


def _after_rollback(session: Session, _previous: Any) -> None:
    # What the transaction changed is forgotten again: a reader in between may have kept a value of it.
    for cache, keys in session.info.get(_PENDING, {}).items():
        cache.forget(keys)
    if not session.in_transaction():  # a savepoint's rollback: the transaction's changes still count
        session.info.pop(_PENDING, None)


def _watch(cache: ReferenceCache[Any]) -> None:
    global _watching
    _caches.add(cache)
    rows.watch_flushes(*(t for t in cache.tables if t))  # never written past the flush (`db.rows`)
    with _watch_lock:
        if _watching:
            return
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "do_orm_execute", _on_execute)
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_soft_rollback", _after_rollback)
        _watching = True


# -- one database's caches, reached through its sessions --------------------------------------------


class ReferenceCaches:
    """The named reference caches of one database in this process (each made on first use)."""

    def __init__(self, *, clock: Clock, seconds: float) -> None:
        self.clock = clock
        self.seconds = seconds
        self._caches: dict[str, ReferenceCache[Any]] = {}
        self._lock = threading.Lock()

    def cache(self, name: str, *, model: type | tuple[type, ...],
              key_of: Callable[[Any], Hashable], max_entries: int = 10_000) -> ReferenceCache[Any]:
        """The cache `name` (made with `model`, `key_of` and `max_entries` the first time it is asked for)."""
        found = self._caches.get(name)
        if found is None:
            with self._lock:
                found = self._caches.get(name)
                if found is None:
                    found = ReferenceCache(clock=self.clock, seconds=self.seconds, model=model, key_of=key_of,
                                           max_entries=max_entries)
                    self._caches[name] = found
        return found


def cached(session: Session, name: str, key: Hashable, load: Callable[[], V], *, model: type | tuple[type, ...],
           key_of: Callable[[Any], Hashable]) -> V:
    """`load()`'s value for `key` from the database's cache `name` when fresh (see the module's doc).

    Without caches on the session (none attached), or when this session itself changed rows of
    `model` in its open transaction, it is `load()` each time. The value must be a snapshot that
    outlives the session (never an ORM object) and must not be changed by its readers.
    """
    registry: ReferenceCaches | None = session.info.get(REGISTRY)
    if registry is None:
        return load()
    cache: ReferenceCache[V] = registry.cache(name, model=model, key_of=key_of)
    if cache in session.info.get(_PENDING, ()):
        return load()
    return cache.get(key, load)
