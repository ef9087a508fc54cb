"""Backup and restore round trips: SQLite (online backup API), PostgreSQL (pg_dump), MariaDB (mariadb-dump)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select, update
from typer.testing import CliRunner

from microcredit.audit import service as audit
from microcredit.cli import app as cli
from microcredit.db.backup import BackupError, backup, restore
from microcredit.db.engine import Database, make_engine
from microcredit.db.migrate import current_revision, head_revision, upgrade
from microcredit.lending.money import Money
from microcredit.models_registry import load_all_models
from microcredit.parties.models import BankAccount, Borrower, Branch, ProfileChange
from microcredit.platform.actor import Actor
from microcredit.runtime import Runtime, build_runtime
from tests.conftest import fresh_database_url, make_settings
from tests.factories import make_borrower, make_branch, make_institution, make_staff


def _committed(backend: str, tmp: Path, suffix: str) -> str:
    url = fresh_database_url(backend, tmp, suffix)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


def _fill(runtime: Runtime) -> None:
    """An institution with a branch, staff, a borrower with a bank card and a pending change."""
    with runtime.db.unit_of_work() as s:
        inst = make_institution(s, runtime)
        branch = make_branch(s, runtime, inst)
        make_staff(s, runtime, inst, roles=("loan_officer",), branch=branch, password=None)
        b = make_borrower(s, runtime, inst, branch=branch, password=None, real_name="备份客户",
                          monthly_income=Money.parse("12345.67", "CNY"))
        s.add(BankAccount(borrower_id=b.borrower.id, bank_name="中国银行", card_index="idx", luhn_valid=True,
                          card_ciphertext=runtime.keys.cipher.encrypt("6225881414207430",
                                                                      context="bank_accounts.card_number"),
                          card_masked="622588******7430", is_primary=True, created_at=runtime.clock.now()))
        s.add(ProfileChange(institution_id=inst.id, borrower_id=b.borrower.id, branch_id=branch.id,
                            changes={"occupation": {"old": None, "new": "教师"}}, status="pending",
                            requested_by_user_id=b.user.id, requested_at=runtime.clock.now()))
        audit.record(session=s, clock=runtime.clock, actor=Actor.system(inst.id), action="test.backup_marker",
                     after={"note": "备份前"})


def _change(runtime: Runtime) -> None:
    """What happens after the backup: edits, deletions, insertions, more audit records."""
    with runtime.db.unit_of_work() as s:
        s.execute(update(Borrower).values(real_name="改过的名字", monthly_income=Money(1, "CNY")))
        s.execute(delete(ProfileChange))
        s.execute(delete(BankAccount))
        inst_id = s.scalars(select(Branch.institution_id)).first()
        s.add(Branch(institution_id=inst_id, code="AFTER", name="备份后新网点", status="active",
                     created_at=runtime.clock.now()))
        audit.record(session=s, clock=runtime.clock, actor=Actor.system(inst_id), action="test.after_backup")


def _flat(output: str) -> str:
    """CLI output without the console's line wrapping."""
    return " ".join(output.split())


def contents(database: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in primary-key order."""
    out = {}
    with database.unit_of_work(write=False) as s:
        for table in load_all_models().sorted_tables:
            out[table.name] = [tuple(r) for r in s.execute(select(table).order_by(*table.primary_key.columns))]
    return out


def test_backup_and_restore_round_trip(backend, worker_tmp, clock):
    url = _committed(backend, worker_tmp, "_backup")
    database = Database(url)
    runtime = build_runtime(make_settings(worker_tmp), database=database, clock=clock)
    try:
        _fill(runtime)
        before = contents(database)
        assert len(before["borrowers"]) == 1
        assert len(before["bank_accounts"]) == 1
        target = worker_tmp / f"{backend}.backup"
        info = backup(url, target)
        assert (info.backend, info.bytes) == (backend, target.stat().st_size)
        assert target.read_bytes().startswith(f"MICROCREDIT-BACKUP v1 {backend}\n".encode())

        _change(runtime)
        assert contents(database) != before
        database.dispose()
        restore(url, target)
        assert contents(database) == before
        assert current_revision(database.engine) == head_revision()
        with database.unit_of_work(write=False) as s:
            assert audit.verify(session=s).ok
        # The restored database takes writes again (sequences and auto-increments carried over).
        _change(runtime)
        with database.unit_of_work(write=False) as s:
            assert audit.verify(session=s).ok
    finally:
        database.dispose()

    # A backup is restored only into a database of its own kind.
    other = "sqlite" if backend != "sqlite" else "postgresql"
    if other == "sqlite":
        scratch = _committed("sqlite", worker_tmp, "_backup_scratch")
        scratch_file = Path(scratch.removeprefix("sqlite:///"))
        untouched = scratch_file.read_bytes()
        with pytest.raises(BackupError, match=f"this is a {backend} backup; the target database is sqlite"):
            restore(scratch, target)
        assert scratch_file.read_bytes() == untouched
    else:
        with pytest.raises(BackupError, match="this is a sqlite backup; the target database is postgresql"):
            restore("postgresql://nobody@127.0.0.1:1/none", target)
    junk = worker_tmp / "not-a-backup.bin"
    junk.write_bytes(b"PGDMP\x00 something else")
    with pytest.raises(BackupError, match="is not a microcredit backup"):
        restore(url, junk)


def test_the_cli_backs_up_and_restores_sqlite(worker_tmp, clock):
    url = _committed("sqlite", worker_tmp, "_backup_cli")
    database = Database(url)
    runtime = build_runtime(make_settings(worker_tmp), database=database, clock=clock)
    _fill(runtime)
    before = contents(database)
    env = {"MICROCREDIT_DATABASE_URL": url, "MICROCREDIT_MODE": "test", "MICROCREDIT_DATA_DIR": str(worker_tmp)}
    runner = CliRunner()
    target = worker_tmp / "cli.backup"
    r = runner.invoke(cli, ["backup", str(target)], env=env)
    assert r.exit_code == 0, r.output
    assert f"wrote {target} (sqlite" in _flat(r.output)

    _change(runtime)
    changed = contents(database)
    declined = runner.invoke(cli, ["restore", str(target)], env=env, input="n\n")
    assert declined.exit_code == 1
    assert contents(database) == changed
    r = runner.invoke(cli, ["restore", str(target), "--yes"], env=env)
    assert r.exit_code == 0, r.output
    assert "restored" in r.output
    assert contents(database) == before

    missing = runner.invoke(cli, ["restore", str(worker_tmp / "cli.backup.missing"), "--yes"], env=env)
    assert missing.exit_code == 1
    assert missing.exception is None or isinstance(missing.exception, SystemExit)  # an answer, not a crash
    assert "does not exist" in _flat(missing.output)
    assert contents(database) == before
    database.dispose()
