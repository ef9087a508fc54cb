"""The audit log: chained records, tamper detection (by raw SQL), the API and CLI checks, concurrent appends."""

from __future__ import annotations

import itertools
import sqlite3
import threading
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy import event as sa_event
from typer.testing import CliRunner

from microcredit.audit import service as audit
from microcredit.audit.models import AuditHead, AuditRecord
from microcredit.cli import app as cli
from microcredit.clock import SystemClock
from microcredit.db.copy import COPY_MIN_ROWS
from microcredit.db.engine import Database, make_engine
from microcredit.db.migrate import upgrade
from microcredit.platform.actor import Actor, RequestMeta
from tests.conftest import fresh_database_url
from tests.factories import make_branch, make_institution, make_staff
from tests.integration.helpers import assert_problem, shared_client, signed_in, workbook_rows


@pytest.fixture
def client(runtime, backend):
    """A client of the worker's app for this backend (building an app per test costs ~0.1 s)."""
    yield from shared_client(runtime, backend)


def _chain(database: Database, clock, n: int = 5) -> list[AuditRecord]:
    """Append `n` records (the service, in one unit of work) and return the whole log."""
    with database.unit_of_work() as s:
        for i in range(n):
            audit.record(session=s, clock=clock, actor=Actor.system(request_id=f"req-{i}"), action="test.action",
                         entity_type="thing", entity_id=i, before={"n": i}, after={"n": i + 1})
    with database.unit_of_work(write=False) as s:
        return list(s.scalars(select(AuditRecord).order_by(AuditRecord.seq)))


def _verify(database: Database, anchor: str | None = None) -> audit.VerifyResult:
    with database.unit_of_work(write=False) as s:
        return audit.verify(session=s, anchor=anchor)


def _execute(database: Database, statement) -> None:
    with database.unit_of_work() as s:
        s.execute(statement)


def test_actions_write_records_chained_by_hash(client, session, runtime, clock):
    inst = make_institution(session, runtime)
    branch = make_branch(session, runtime, inst)
    admin = make_staff(session, runtime, inst, roles=("administrator",), password=None)
    h = signed_in(session, runtime, admin.user)
    session.commit()
    r = client.patch(f"/api/v1/branches/{branch.id}", json={"name": "审计支行"},
                     headers={**h, "X-Request-ID": "audit-test-0001", "User-Agent": "audit-test/1.0"})
    assert r.status_code == 200, r.text

    log = client.get("/api/v1/audit-log", headers=h, params={"page_size": 100}).json()
    newest = log["items"][0]
    assert {k: newest[k] for k in ("action", "actor_user_id", "actor_name", "actor_kind", "entity_type",
                                   "entity_id", "ip", "request_id", "before", "after", "institution_id")} == {
        "action": "branch.updated", "actor_user_id": admin.user.id, "actor_name": admin.user.display_name,
        "actor_kind": "staff", "entity_type": "branch", "entity_id": str(branch.id), "ip": "testclient",
        "request_id": "audit-test-0001", "before": {"name": "测试支行"}, "after": {"name": "审计支行"},
        "institution_id": inst.id}
    assert newest["at"].startswith(clock.now().strftime("%Y-%m-%dT%H:%M:%S"))
    session.expire_all()
    rows = list(session.scalars(select(AuditRecord).order_by(AuditRecord.seq)))
    assert [r.seq for r in rows] == list(range(1, len(rows) + 1))
    assert rows[-1].user_agent == "audit-test/1.0"
    previous = audit.GENESIS
    for rec in rows:
        assert rec.prev_hash == previous
        assert rec.hash == audit.record_hash(rec)
        previous = rec.hash
    head = session.get(AuditHead, 1)
    assert (head.seq, head.hash) == (rows[-1].seq, rows[-1].hash)
    result = _verify(runtime.db)
    assert (result.ok, result.records, result.problems) == (True, len(rows), ())

    v = client.post("/api/v1/audit-log/verify", headers=h).json()
    assert (v["ok"], v["records"], v["first_bad_seq"], v["problems"]) == (True, len(rows), None, [])
    # The check itself is audited.
    assert client.get("/api/v1/audit-log", headers=h).json()["items"][0]["action"] == "audit.verified"


# Each tampering returns the problem verify() must report first, and the first bad sequence number.

def _edit_after(database, rows):
    _execute(database, update(AuditRecord).where(AuditRecord.seq == rows[-3].seq).values(after={"n": 999}))
    return f"record {rows[-3].seq} was altered", rows[-3].seq


def _edit_actor(database, rows):
    _execute(database, update(AuditRecord).where(AuditRecord.seq == rows[1].seq).values(ip="10.0.0.66"))
    return f"record {rows[1].seq} was altered", rows[1].seq


def _delete_middle(database, rows):
    gone = rows[-3].seq
    _execute(database, delete(AuditRecord).where(AuditRecord.seq == gone))
    return f"records {gone}..{gone} are missing (deleted)", gone


def _delete_last(database, rows):
    last = rows[-1].seq
    _execute(database, delete(AuditRecord).where(AuditRecord.seq == last))
    return f"the chain ends at record {last - 1} but the head says {last}", last


def _delete_last_and_rewind_head(database, rows):
    last = rows[-1].seq
    _execute(database, delete(AuditRecord).where(AuditRecord.seq == last))
    _execute(database, update(AuditHead).values(seq=last - 1, hash=rows[-2].hash[::-1]))
    return f"the chain ends at record {last - 1} but the head says {last - 1}", last


def _insert_forged(database, rows):
    forged = AuditRecord(seq=rows[-1].seq + 1, at=rows[-1].at, institution_id=None, actor_user_id=None,
                         actor_kind="system", action="test.forged", entity_type=None, entity_id=None, ip=None,
                         user_agent=None, request_id=None, before=None, after={"forged": True},
                         prev_hash=rows[-1].hash)
    forged.hash = audit.record_hash(forged)  # a forger who knows the algorithm
    values = {c.key: getattr(forged, c.key) for c in AuditRecord.__table__.columns if c.key != "id"}
    _execute(database, insert(AuditRecord).values(**values))
    return f"the chain ends at record {forged.seq} but the head says {rows[-1].seq}", forged.seq


def _insert_outside_the_sequence(database, rows):
    values = {c.key: getattr(rows[1], c.key) for c in AuditRecord.__table__.columns if c.key != "id"}
    _execute(database, insert(AuditRecord).values(**{**values, "seq": -2}))
    return "1 records sit outside the sequence", None


def _edit_head(database, rows):
    last = rows[-1].seq
    _execute(database, update(AuditHead).values(seq=last + 2))
    return f"the chain ends at record {last} but the head says {last + 2}", last + 1


TAMPERING = [_edit_after, _edit_actor, _delete_middle, _delete_last, _delete_last_and_rewind_head, _insert_forged,
             _insert_outside_the_sequence, _edit_head]


@pytest.mark.parametrize("tamper", TAMPERING, ids=[t.__name__[1:] for t in TAMPERING])
def test_tampering_is_detected(tamper, client, session, runtime, database, clock):
    inst = make_institution(session, runtime)
    auditor = make_staff(session, runtime, inst, roles=("auditor",), password=None)
    h = signed_in(session, runtime, auditor.user)
    session.commit()
    rows = _chain(database, clock)
    assert _verify(database).ok
    problem, first_bad = tamper(database, rows)
    result = _verify(database)
    assert not result.ok
    assert result.problems[0].startswith(problem), result.problems
    assert result.first_bad_seq == first_bad

    v = client.post("/api/v1/audit-log/verify", headers=h).json()
    assert (v["ok"], v["first_bad_seq"]) == (False, first_bad)
    assert v["problems"][:len(result.problems)] == list(result.problems)
    if tamper is _insert_forged:  # the forged record takes the next number: nothing more can be sealed
        assert v["problems"][-1] == f"record {first_bad} exists although the head ends before it: new records " \
                                    "cannot be sealed"


def test_a_consistently_rewritten_history_is_caught_by_the_anchor(database, clock):
    rows = _chain(database, clock)
    anchor = rows[-1].hash
    # Someone rewrites record 2 and recomputes every later hash and the head: the chain is consistent again.
    with database.unit_of_work() as s:
        recs = list(s.scalars(select(AuditRecord).order_by(AuditRecord.seq)))
        recs[1].after = {"n": "rewritten"}
        for prev, rec in itertools.pairwise(recs):
            rec.prev_hash = prev.hash
            rec.hash = audit.record_hash(rec)
            s.flush()
        s.execute(update(AuditHead).values(hash=recs[-1].hash))
    assert _verify(database).ok
    result = _verify(database, anchor=anchor)
    assert not result.ok
    assert result.problems == ("the anchored hash is not in the chain (the log was rewritten)",)
    assert _verify(database, anchor=rows[0].hash).ok  # record 1 was left alone


def test_the_console_verifies_against_an_anchor_and_refuses_a_malformed_one(client, session, runtime):
    inst = make_institution(session, runtime)
    admin = make_staff(session, runtime, inst, roles=("administrator",), password=None)
    h = signed_in(session, runtime, admin.user)
    session.commit()
    first = client.post("/api/v1/audit-log/verify", headers=h).json()
    assert first["ok"]
    anchored = client.post("/api/v1/audit-log/verify", headers=h, json={"anchor": first["head_hash"]}).json()
    assert anchored["ok"], anchored
    unknown = client.post("/api/v1/audit-log/verify", headers=h, json={"anchor": "0" * 63 + "1"}).json()
    assert unknown["problems"] == ["the anchored hash is not in the chain (the log was rewritten)"]
    for malformed in ("xyz", "A" * 64, first["head_hash"][:-1]):
        r = client.post("/api/v1/audit-log/verify", headers=h, json={"anchor": malformed})
        assert (r.status_code, r.json()["code"], r.json()["field"]) == (422, "audit_anchor_malformed", "anchor")


def _committed_database(tmp: Path, backend: str, suffix: str) -> tuple[str, Database]:
    url = fresh_database_url(backend, tmp, suffix)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url, Database(url)


def test_the_cli_exits_1_on_a_tampered_database_and_0_on_an_intact_one(worker_tmp, clock):
    url, database = _committed_database(worker_tmp, "sqlite", "_audit_cli")
    rows = _chain(database, clock, n=4)
    # A record a crash left unsealed (between its commit and its seal): `audit verify` seals it first.
    _execute(database, insert(AuditRecord).values(at=clock.now(), actor_kind="system", action="left.unsealed"))
    database.dispose()
    env = {"MICROCREDIT_DATABASE_URL": url, "MICROCREDIT_MODE": "test", "MICROCREDIT_DATA_DIR": str(worker_tmp)}
    runner = CliRunner()

    ok = runner.invoke(cli, ["audit", "verify"], env=env)
    assert ok.exit_code == 0, ok.output
    assert "audit chain intact: 5 records" in ok.output
    anchored = runner.invoke(cli, ["audit", "verify", "--anchor", rows[1].hash], env=env)
    assert anchored.exit_code == 0, anchored.output
    malformed = runner.invoke(cli, ["audit", "verify", "--anchor", "not-a-hash"], env=env)
    assert malformed.exit_code == 1
    assert "64 hexadecimal characters" in malformed.output
    printed = runner.invoke(cli, ["audit", "anchor"], env=env)
    assert printed.output.split()[0] == "5"
    assert printed.output.split()[1] != rows[-1].hash  # the sealed record's

    with sqlite3.connect(url.removeprefix("sqlite:///")) as raw:
        raw.execute("UPDATE audit_log SET action = 'test.innocent' WHERE seq = 2")
    broken = runner.invoke(cli, ["audit", "verify"], env=env)
    assert broken.exit_code == 1, broken.output
    assert "audit chain BROKEN" in broken.output
    assert "record 2 was altered" in broken.output

    with sqlite3.connect(url.removeprefix("sqlite:///")) as raw:
        raw.execute("DELETE FROM audit_log WHERE seq = 2")
    deleted = runner.invoke(cli, ["audit", "verify"], env=env)
    assert deleted.exit_code == 1
    assert "records 2..2 are missing" in deleted.output


@pytest.mark.parametrize(("server", "without_head"), [
    ("postgresql", False), ("mysql", False), ("sqlite", False),
    # A database whose head row is missing (migrated before the migration created it): the
    # first two appends race to create it. (On MariaDB that race deadlocks; hence the row.)
    ("postgresql", True), ("sqlite", True),
])
def test_concurrent_appends_keep_one_chain(server, without_head, worker_tmp):
    """Two writers from an empty log on: every record gets the next number, and the chain links."""
    _, database = _committed_database(worker_tmp, server, "_audit_race")
    with database.unit_of_work() as s:
        assert s.execute(select(AuditHead.seq, AuditHead.hash)).all() == [(0, audit.GENESIS)]
        if without_head:
            s.execute(delete(AuditHead))
    clock = SystemClock()
    per_thread, errors = 15, []
    barrier = threading.Barrier(2)

    def writer(name: str) -> None:
        try:
            barrier.wait()
            for i in range(per_thread):
                with database.unit_of_work() as s:
                    audit.record(session=s, clock=clock, actor=Actor(kind="system", meta=RequestMeta()),
                                 action=f"race.{name}", entity_id=i)
        except Exception as exc:  # reported below with the thread's name
            errors.append((name, repr(exc)))

    threads = [threading.Thread(target=writer, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    try:
        assert errors == []
        with database.unit_of_work(write=False) as s:
            seqs = list(s.scalars(select(AuditRecord.seq).order_by(AuditRecord.seq)))
            per_writer = dict(s.execute(select(AuditRecord.action, func.count()).group_by(AuditRecord.action)).all())
        assert seqs == list(range(1, 2 * per_thread + 1))
        assert per_writer == {"race.a": per_thread, "race.b": per_thread}
        result = _verify(database)
        assert (result.ok, result.records, result.head_seq) == (True, 2 * per_thread, 2 * per_thread)
    finally:
        database.dispose()


@pytest.mark.parametrize("server", ["postgresql", "mysql"])
def test_an_open_transaction_holding_a_record_does_not_hold_the_head(server, worker_tmp):
    """The head is locked at commit only: a writer still working (its record made, not committed)
    does not make another wait; records are numbered in commit order, and the chain links."""
    _, database = _committed_database(worker_tmp, server, "_audit_open")
    clock, actor = SystemClock(), Actor(kind="system", meta=RequestMeta())
    try:
        with database.unit_of_work() as slow:
            audit.record(session=slow, clock=clock, actor=actor, action="open.slow")
            slow.flush()
            # Another transaction appends and commits while this one is still open; it would wait
            # on the head's row lock (here: give up after 2 s) if the record above held it.
            with database.unit_of_work() as quick:
                statement = "SET LOCAL lock_timeout = '2s'" if server == "postgresql" \
                    else "SET SESSION innodb_lock_wait_timeout = 2"
                quick.execute(text(statement))
                audit.record(session=quick, clock=clock, actor=actor, action="open.quick")
        with database.unit_of_work(write=False) as s:
            order = list(s.scalars(select(AuditRecord.action).order_by(AuditRecord.seq)))
        assert order == ["open.quick", "open.slow"]
        assert _verify(database).ok
    finally:
        database.dispose()


def test_a_record_made_in_a_savepoint_that_rolls_back_is_not_chained(database, clock):
    actor = Actor(kind="system", meta=RequestMeta())
    with database.unit_of_work() as s:
        before = s.scalar(select(AuditHead.seq))
        audit.record(session=s, clock=clock, actor=actor, action="kept.first")
        savepoint = s.begin_nested()
        audit.record(session=s, clock=clock, actor=actor, action="undone")
        s.flush()
        savepoint.rollback()  # the savepoint's work failed
        audit.record(session=s, clock=clock, actor=actor, action="kept.second")
    with database.unit_of_work(write=False) as s:
        rows = s.execute(select(AuditRecord.seq, AuditRecord.action).where(AuditRecord.seq > before)
                         .order_by(AuditRecord.seq)).all()
    assert rows == [(before + 1, "kept.first"), (before + 2, "kept.second")]
    assert _verify(database).ok


def test_savepoints_within_savepoints_and_a_rolled_back_transaction_leave_no_records(database, clock):
    """A record goes with the savepoint it was made in, even one released inside a savepoint that rolls
    back; a transaction that rolls back leaves none, and the next commit numbers on from the head."""
    actor = Actor(kind="system", meta=RequestMeta())
    with database.unit_of_work() as s:
        before = s.scalar(select(AuditHead.seq))

    def failing_action() -> None:
        with database.unit_of_work() as s:
            audit.record(session=s, clock=clock, actor=actor, action="rolled.back")
            raise RuntimeError("the action failed")

    with pytest.raises(RuntimeError):
        failing_action()
    with database.unit_of_work() as s:
        outer = s.begin_nested()
        inner = s.begin_nested()
        audit.record(session=s, clock=clock, actor=actor, action="inner.released")
        inner.commit()
        audit.record(session=s, clock=clock, actor=actor, action="outer.undone")
        outer.rollback()
        kept = s.begin_nested()
        audit.record(session=s, clock=clock, actor=actor, action="kept.in.savepoint")
        kept.commit()
        audit.record(session=s, clock=clock, actor=actor, action="kept.after")
    with database.unit_of_work(write=False) as s:
        rows = s.execute(select(AuditRecord.seq, AuditRecord.action).where(AuditRecord.seq > before)
                         .order_by(AuditRecord.seq)).all()
        assert s.scalar(select(func.count()).select_from(AuditRecord).where(AuditRecord.seq <= 0)) == 0
    assert rows == [(before + 1, "kept.in.savepoint"), (before + 2, "kept.after")]
    assert _verify(database).ok


def test_a_transactions_records_are_written_once_at_commit(database, clock):
    """One INSERT into the log at commit, and nothing written before the commit (the work before it does not
    touch the log's table); sealed after it -- on a server one UPDATE of the log (by id, every record of the
    transaction, the head's UPDATE with it on PostgreSQL), on SQLite numbered and hashed before they are written
    (`SEALS_AT_COMMIT`): no UPDATE."""
    actor = Actor(kind="system", meta=RequestMeta())
    sent: list[str] = []

    def watch(conn, cursor, statement, parameters, context, executemany):
        if "audit_log" in statement:
            sent.append(statement.split()[0].upper())

    with database.unit_of_work() as s:
        connection = s.connection()
        sa_event.listen(connection, "before_cursor_execute", watch)
        try:
            audit.record_many(session=s, clock=clock, actor=actor, entries=[
                audit.Entry(action=f"once.{i}", entity_type="thing", entity_id=i) for i in range(3)])
            s.flush()
            assert sent == []
            s.commit()
            sealed_after = database.backend not in audit.SEALS_AT_COMMIT
            # PostgreSQL numbers the records and moves the head in one statement (`WITH … UPDATE`).
            seal = "WITH" if database.backend == "postgresql" else "UPDATE"
            assert [w for w in sent if w != "SELECT"] == (["INSERT", seal] if sealed_after else ["INSERT"])
        finally:
            sa_event.remove(connection, "before_cursor_execute", watch)
    assert _verify(database).ok


def test_a_large_transactions_records_are_written_and_sealed_in_the_order_written(database, clock):
    """A batch from `db.copy.COPY_MIN_ROWS` records (COPY and one UPDATE from arrays on PostgreSQL): each record
    as written, numbered in the order written, the chain verified; a record without `before` reads back None."""
    n = COPY_MIN_ROWS + 5
    with database.unit_of_work() as s:
        audit.record_many(session=s, clock=clock, actor=Actor.system(request_id="big"), entries=[
            audit.Entry(action="test.batch", entity_type="thing", entity_id=i, before=None if i % 2 else {"n": i},
                        after={"n": i, "名": "值", "at": date(2026, 12, 5)}) for i in range(n)])
    with database.unit_of_work(write=False) as s:
        rows = list(s.scalars(select(AuditRecord).where(AuditRecord.action == "test.batch").order_by(AuditRecord.id)))
    assert [r.entity_id for r in rows] == [str(i) for i in range(n)]
    seqs = [r.seq for r in rows]
    assert None not in seqs
    assert seqs == list(range(seqs[0], seqs[0] + n))
    assert [r.before for r in rows[:2]] == [{"n": 0}, None]
    assert rows[1].after == {"n": 1, "名": "值", "at": "2026-12-05"}
    assert all(r.at.tzinfo is not None and r.request_id == "big" for r in rows)
    assert _verify(database).ok


def test_the_log_is_filtered_paged_and_exported(client, session, runtime, clock):
    inst = make_institution(session, runtime)
    branch = make_branch(session, runtime, inst)
    admin = make_staff(session, runtime, inst, roles=("administrator",), password=None)
    h = signed_in(session, runtime, admin.user)
    session.commit()
    for name in ("一号", "二号", "三号"):
        clock.advance(timedelta(minutes=1))
        assert client.patch(f"/api/v1/branches/{branch.id}", headers=h, json={"name": f"支行{name}"}).status_code == 200

    page = client.get("/api/v1/audit-log", headers=h, params={"action": "branch.updated", "page_size": 2}).json()
    assert (page["total"], [r["after"]["name"] for r in page["items"]]) == (3, ["支行三号", "支行二号"])
    oldest_first = client.get("/api/v1/audit-log", headers=h, params={"action": "branch.updated", "sort": "seq"})
    assert [r["after"]["name"] for r in oldest_first.json()["items"]] == ["支行一号", "支行二号", "支行三号"]
    since = (clock.now() - timedelta(seconds=90)).isoformat()
    recent = client.get("/api/v1/audit-log", headers=h, params={"since": since, "entity_type": "branch"}).json()
    assert [r["after"]["name"] for r in recent["items"]] == ["支行三号", "支行二号"]
    mine = client.get("/api/v1/audit-log", headers=h, params={"actor_user_id": admin.user.id,
                                                               "entity_id": str(branch.id)}).json()
    assert mine["total"] == 3
    assert {r["target_name"] for r in mine["items"]} == {"支行三号"}
    staff_created = client.get("/api/v1/audit-log", headers={**h, "Accept-Language": "en"},
                               params={"action": "staff.created"}).json()["items"]
    assert [r["target_name"] for r in staff_created] == [admin.user.display_name]
    bad = assert_problem(client.get("/api/v1/audit-log", headers=h, params={"sort": "hash"}), 422)
    assert bad["errors"][0]["field"] == "sort"

    rows = workbook_rows(client.get("/api/v1/audit-log/export", headers=h,
                                    params={"action": "branch.updated", "sort": "seq"}))
    assert rows[0] == ("序号", "时间(UTC)", "操作人", "身份", "操作", "对象", "对象编号", "对象名称", "IP", "变更前",
                       "变更后", "哈希")
    assert [(r[2], r[4], r[6], r[7]) for r in rows[1:]] == [
        (admin.user.display_name, "branch.updated", str(branch.id), "支行三号")] * 3  # the name it has now
    assert "支行一号" in rows[1][10]
    en = workbook_rows(client.get("/api/v1/audit-log/export", headers={**h, "Accept-Language": "en"},
                                  params={"action": "nothing.like.this"}))
    assert en == [("Seq", "Time (UTC)", "Actor", "Actor kind", "Action", "Entity", "Entity id", "Entity name", "IP",
                   "Before", "After", "Hash")]


# -- sealing: records written unsealed with their action, numbered and hashed after the commit --------------------


def _unsealed(database: Database) -> list[tuple[int, str]]:
    with database.unit_of_work(write=False) as s:
        return [tuple(r) for r in s.execute(select(AuditRecord.id, AuditRecord.action)
                                            .where(AuditRecord.seq.is_(None)).order_by(AuditRecord.id))]


@pytest.mark.parametrize("server", ["postgresql", "mysql", "sqlite"])
def test_many_concurrent_audited_commits_leave_no_record_unsealed(server, worker_tmp):
    """Writers commit records and seal after their commits while others hold the head (SKIP LOCKED: they go on at
    once): afterwards no record is left unsealed, the numbers have no gap, and the chain verifies -- the sealer's
    re-check after its commit picks up what a writer that found the head held committed."""
    _, database = _committed_database(worker_tmp, server, "_audit_many")
    clock = SystemClock()
    threads_n, commits, errors = 8, 20, []
    barrier = threading.Barrier(threads_n)

    def writer(name: int) -> None:
        try:
            barrier.wait()
            for i in range(commits):
                with database.unit_of_work() as s:
                    audit.record_many(session=s, clock=clock, actor=Actor(kind="system", meta=RequestMeta()),
                                      entries=[audit.Entry(action=f"many.{name}", entity_id=i)] * (1 + i % 3))
        except Exception as exc:  # reported below with the thread's name
            errors.append((name, repr(exc)))

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    try:
        assert errors == []
        expected = threads_n * sum(1 + i % 3 for i in range(commits))
        assert _unsealed(database) == []
        with database.unit_of_work(write=False) as s:
            seqs = list(s.scalars(select(AuditRecord.seq).order_by(AuditRecord.seq)))
        assert seqs == list(range(1, expected + 1))
        result = _verify(database)
        assert (result.ok, result.records, result.head_seq, result.unsealed) == (True, expected, expected, 0)
    finally:
        database.dispose()


@pytest.mark.parametrize("server", ["postgresql", "mysql"])
def test_a_record_committed_while_a_sealer_holds_the_head_is_sealed_by_that_sealers_re_check(server, worker_tmp,
                                                                                             monkeypatch, clock):
    """The re-check's window, held open: a sealer has read the unsealed records and holds the head; a writer
    commits a record now, and its own seal finds the head held and leaves it (SKIP LOCKED). When the sealer
    commits, its re-check (after the commit, autocommitted on PostgreSQL) finds the writer's record and seals it:
    nothing is left unsealed, the numbers have no gap. Without the re-check the writer's record stays unsealed."""
    _, database = _committed_database(worker_tmp, server, "_audit_recheck")
    actor = Actor(kind="system", meta=RequestMeta())
    read, go, errors = threading.Event(), threading.Event(), []
    unsealed = audit.repository.unsealed
    first = threading.local()

    def unsealed_then_wait(session, batch):  # the first sealer, after it read the records, holding the head
        rows = unsealed(session, batch)
        if getattr(first, "sealer", False) and not read.is_set():
            read.set()
            assert go.wait(30)
        return rows

    def first_writer() -> None:
        first.sealer = True
        try:
            with database.unit_of_work() as s:
                audit.record(session=s, clock=clock, actor=actor, action="recheck.first")
        except Exception as exc:  # reported below
            errors.append(repr(exc))

    monkeypatch.setattr(audit.repository, "unsealed", unsealed_then_wait)
    try:
        thread = threading.Thread(target=first_writer)
        thread.start()
        assert read.wait(30)
        with database.unit_of_work() as s:  # its seal after the commit finds the head held: returns at once
            audit.record(session=s, clock=clock, actor=actor, action="recheck.second")
        # Both unsealed: the first's being sealed (not committed yet), the second's left to that sealer.
        assert [a for _, a in _unsealed(database)] == ["recheck.first", "recheck.second"]
        go.set()
        thread.join(timeout=60)
        assert errors == []
        assert _unsealed(database) == []
        with database.unit_of_work(write=False) as s:
            sealed = list(s.execute(select(AuditRecord.seq, AuditRecord.action).order_by(AuditRecord.seq)))
        assert [tuple(r) for r in sealed] == [(1, "recheck.first"), (2, "recheck.second")]
        result = _verify(database)
        assert (result.ok, result.records, result.head_seq, result.unsealed) == (True, 2, 2, 0)
    finally:
        go.set()
        database.dispose()


def _hold_the_head(database: Database):
    """A transaction holding the head's row lock (what a sealer at work holds), on a connection of its own."""
    conn = database.engine.connect()
    conn.begin()
    conn.execute(select(AuditHead.seq).with_for_update())
    return conn


@pytest.mark.parametrize("server", ["postgresql", "mysql"])
def test_a_writer_does_not_wait_for_a_sealer_and_its_record_waits_unsealed(server, worker_tmp, clock):
    """While the head is held, an audited action commits without waiting (its seal skips the held head) and its
    record is in the log unsealed: counted by verify, not a problem -- until older than the alarm. Whoever seals
    next seals it."""
    _, database = _committed_database(worker_tmp, server, "_audit_held")
    actor = Actor(kind="system", meta=RequestMeta())
    try:
        _chain(database, clock, n=2)
        holder = _hold_the_head(database)
        try:
            with database.unit_of_work() as s:
                statement = "SET LOCAL lock_timeout = '2s'" if server == "postgresql" \
                    else "SET SESSION innodb_lock_wait_timeout = 2"
                s.execute(text(statement))
                audit.record(session=s, clock=clock, actor=actor, action="held.quick")
            assert [a for _, a in _unsealed(database)] == ["held.quick"]
            result = _verify(database)
            assert (result.ok, result.records, result.unsealed) == (True, 2, 1)
            with database.unit_of_work(write=False) as s:
                late = audit.verify(session=s, now=clock.now() + timedelta(minutes=2))
            assert not late.ok
            assert late.problems[0].startswith("1 records are not sealed, the oldest made at")
        finally:
            holder.rollback()
            holder.close()
        assert audit.seal_left(database) == 1
        assert _unsealed(database) == []
        result = _verify(database)
        assert (result.ok, result.records, result.head_seq, result.unsealed) == (True, 3, 3, 0)
    finally:
        database.dispose()


@pytest.mark.parametrize("server", ["postgresql", "mysql"])
def test_a_record_edited_before_it_is_sealed_is_sealed_as_edited(server, worker_tmp, clock):
    """The window of the design (docs/security.md): between a commit and its seal -- milliseconds, here held open --
    someone who can write the table can change a record, and it is sealed as it then is. After the seal, the same
    edit is caught."""
    _, database = _committed_database(worker_tmp, server, "_audit_window")
    actor = Actor(kind="system", meta=RequestMeta())
    try:
        holder = _hold_the_head(database)
        try:
            with database.unit_of_work() as s:
                audit.record(session=s, clock=clock, actor=actor, action="window.action", after={"amount": "100.00"})
            _execute(database, update(AuditRecord).where(AuditRecord.seq.is_(None)).values(after={"amount": "1.00"}))
        finally:
            holder.rollback()
            holder.close()
        assert audit.seal_left(database) == 1
        assert _verify(database).ok
        with database.unit_of_work(write=False) as s:
            assert s.scalar(select(AuditRecord.after).where(AuditRecord.seq == 1)) == {"amount": "1.00"}
        _execute(database, update(AuditRecord).where(AuditRecord.seq == 1).values(after={"amount": "100.00"}))
        assert _verify(database).problems[0].startswith("record 1 was altered")
    finally:
        database.dispose()


def test_unsealed_records_are_listed_in_the_order_written_and_sealed_by_the_next_sealer(client, session, runtime,
                                                                                        database, clock):
    """A record a crash left unsealed (here written by hand): the audit screen lists it without a number, newest
    first by the order written; `seal_left` (the poller's, `audit verify`'s) seals it, and the chain verifies."""
    inst = make_institution(session, runtime)
    admin = make_staff(session, runtime, inst, roles=("administrator",), password=None)
    h = signed_in(session, runtime, admin.user)
    session.commit()
    _chain(database, clock, n=2)
    _execute(database, insert(AuditRecord).values(at=clock.now(), institution_id=inst.id, actor_kind="system",
                                                  action="left.unsealed", after={"n": 1}))
    items = client.get("/api/v1/audit-log", headers=h, params={"page_size": 5}).json()["items"]
    assert [(r["action"], r["seq"], r["hash"]) for r in items[:1]] == [("left.unsealed", None, None)]
    assert items[1]["seq"] is not None
    assert _verify(database).unsealed == 1
    assert audit.seal_left(database) == 1
    result = _verify(database)
    assert (result.ok, result.unsealed) == (True, 0)
    items = client.get("/api/v1/audit-log", headers=h, params={"page_size": 5}).json()["items"]
    assert (items[0]["action"], items[0]["seq"]) == ("left.unsealed", result.head_seq)
