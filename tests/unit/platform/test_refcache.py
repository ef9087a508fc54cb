"""`platform.refcache.cached`: one set of caches per database, exact for this process's changes.

A small model of its own on two SQLite files: what one database keeps is never the other's answer; a
session that changed a row reads it itself (its uncommitted value is kept for nobody); a commit makes
the next read see the change; a rollback forgets; `ALL` from `key_of` forgets every key.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from microcredit.clock import FrozenClock
from microcredit.db.engine import Database
from microcredit.platform.refcache import ALL, REGISTRY, ReferenceCaches, cached
from tests.conftest import START


class Base(DeclarativeBase):
    """The test's own tables, apart from the application's."""


class Thing(Base):
    __tablename__ = "things"
    id: Mapped[int] = mapped_column(primary_key=True)
    group: Mapped[int] = mapped_column()
    name: Mapped[str] = mapped_column(String(20))


class Other(Base):
    __tablename__ = "others"
    id: Mapped[int] = mapped_column(primary_key=True)


def _database(path: Path, name: str) -> Database:
    db = Database(f"sqlite:///{path}")
    assert db.engine is not None
    Base.metadata.create_all(db.engine)
    with db.unit_of_work() as s:
        s.add(Thing(id=1, group=1, name=name))
    db.share(REGISTRY, ReferenceCaches(clock=FrozenClock(START), seconds=60))
    return db


def _name(session: Session, thing_id: int = 1, *, calls: list[int] | None = None) -> str:
    def load() -> str:
        if calls is not None:
            calls.append(thing_id)
        thing = session.get(Thing, thing_id)
        assert thing is not None
        return thing.name

    return cached(session, "things", thing_id, load, model=Thing, key_of=lambda t: t.id)


@pytest.fixture
def db(tmp_path: Path) -> Database:
    return _database(tmp_path / "a.sqlite3", "first")


def test_each_database_keeps_its_own(tmp_path: Path, db: Database) -> None:
    other = _database(tmp_path / "b.sqlite3", "second")
    with db.unit_of_work() as s:
        assert _name(s) == "first"
    with other.unit_of_work() as s:
        assert _name(s) == "second"


def test_kept_until_this_process_changes_the_row(db: Database) -> None:
    calls: list[int] = []
    for _ in range(3):
        with db.unit_of_work() as s:
            assert _name(s, calls=calls) == "first"
    assert calls == [1]
    with db.unit_of_work() as s:
        thing = s.get(Thing, 1)
        assert thing is not None
        thing.name = "renamed"
        s.flush()
        # The changing session reads its own change; nobody else may be given it before the commit.
        assert _name(s, calls=calls) == "renamed"
        with db.unit_of_work(write=False) as reader:
            assert _name(reader) == "first"
    with db.unit_of_work() as s:
        assert _name(s) == "renamed"


def test_a_rolled_back_change_is_forgotten(db: Database) -> None:
    with db.unit_of_work() as s:
        assert _name(s) == "first"
    def rename_and_abandon() -> None:
        with db.unit_of_work() as s:
            thing = s.get(Thing, 1)
            assert thing is not None
            thing.name = "abandoned"
            s.flush()
            raise RuntimeError

    with pytest.raises(RuntimeError):
        rename_and_abandon()
    with db.unit_of_work() as s:
        assert _name(s) == "first"


def test_all_from_key_of_forgets_every_key_and_tuples_watch_each_model(db: Database) -> None:
    def load(s: Session) -> int:
        return len(s.query(Thing).all())

    def count(s: Session) -> int:
        return cached(s, "count", "every", lambda: load(s), model=(Other, Thing), key_of=lambda _row: ALL)

    with db.unit_of_work() as s:
        assert count(s) == 1
    with db.unit_of_work() as s:
        s.add(Thing(id=2, group=1, name="another"))
    with db.unit_of_work() as s:
        assert count(s) == 2


def test_without_caches_every_read_loads(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'c.sqlite3'}")
    assert db.engine is not None
    Base.metadata.create_all(db.engine)
    with db.unit_of_work() as s:
        s.add(Thing(id=1, group=1, name="x"))
    calls: list[int] = []
    for _ in range(2):
        with db.unit_of_work() as s:
            assert _name(s, calls=calls) == "x"
    assert calls == [1, 1]


def test_kept_in_two_halves_refuses_a_load_that_raced_a_change(db: Database) -> None:
    """`mark` before loading, `keep` after (a load made elsewhere, e.g. in the thread pool): a change
    committed in between means the loaded value may be the old one, so it is not kept."""
    registry = db._factory.kw["info"][REGISTRY]
    clock = registry.clock
    cache = registry.cache("halves", model=Thing, key_of=lambda _row: ALL, max_entries=2)
    mark = cache.mark()
    with db.unit_of_work() as s:  # the change lands while the value is being loaded
        thing = s.get(Thing, 1)
        assert thing is not None
        thing.name = "changed"
    assert not cache.keep("page", "first", mark)
    assert cache.fresh("page") is None
    assert cache.keep("page", "changed", cache.mark())
    assert cache.fresh("page") == "changed"
    clock.advance(timedelta(seconds=60))  # the cache's seconds
    assert cache.fresh("page") is None
    for key in ("a", "b", "c"):  # at most max_entries: the oldest goes
        assert cache.keep(key, key, cache.mark())
    assert [cache.fresh(k) for k in ("page", "a", "b", "c")] == [None, None, "b", "c"]
