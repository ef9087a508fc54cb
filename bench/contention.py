"""Concurrent writers against each database: writes/s, p99 latency and errors, with and without retries.

    .venv/bin/python bench/contention.py [--writers 16] [--seconds 5]

For each database that is reachable -- SQLite always (a file, WAL), PostgreSQL
and MariaDB when `MICROCREDIT_TEST_POSTGRES_URL` / `MICROCREDIT_TEST_MYSQL_URL`
name a server (``scripts/services.sh start DIR`` starts both) -- a fresh
database is migrated and seeded (an institution, an administrator, one
borrower per writer), and `--writers` threads send staff edits of a borrower
profile (`PATCH /api/v1/borrowers/{id}`, a versioned row, audited) through the
application in-process for `--seconds`:

- spread: each writer edits its own borrower (the write lock and the audit
  chain are what they share);
- hot: every writer edits the same borrower (optimistic version conflicts).

Each scenario runs twice: with the unit-of-work retries (`db.retry`, the
default) and, as the baseline, with one attempt only (what the application did
before).  An error is any answer that is not 200.  The last line is one JSON
object: ``sqlite_errors``, ``pg_errors``, ``mysql_errors`` (with retries,
both scenarios), ``sqlite_writes_per_s`` (spread, with retries) and every
figure per database, scenario and mode.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import make_url

from microcredit.api.app import create_app
from microcredit.config import Mode, Settings
from microcredit.db.engine import Database, make_engine
from microcredit.db.migrate import upgrade
from microcredit.db.retry import DEFAULT_POLICY, RetryPolicy
from microcredit.identity import service as identity
from microcredit.identity.models import User
from microcredit.parties import service as parties
from microcredit.parties.service.borrowers import NewBorrower
from microcredit.platform.actor import Actor, RequestMeta
from microcredit.platform.validators import id_check_character
from microcredit.runtime import build_runtime

SERVERS = {"postgresql": "MICROCREDIT_TEST_POSTGRES_URL", "mysql": "MICROCREDIT_TEST_MYSQL_URL"}
NO_RETRY = RetryPolicy(attempts=1)


def _database_url(backend: str, tmp: Path) -> str | None:
    name = f"mc_bench_contention_{uuid.uuid4().hex[:8]}"
    if backend == "sqlite":
        return f"sqlite:///{tmp / name}.sqlite3"
    admin_url = os.environ.get(SERVERS[backend])
    if not admin_url:
        return None
    admin = make_engine(admin_url)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if backend == "postgresql":
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        else:
            conn.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))
    admin.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def _drop(backend: str, url: str) -> None:
    if backend == "sqlite":
        return
    name = make_url(url).database
    admin = make_engine(os.environ[SERVERS[backend]])
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if backend == "postgresql":
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        else:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
    admin.dispose()


def _id_number(n: int) -> str:
    body = f"110105199001{n % 28 + 1:02d}{n % 1000:03d}"
    return body + id_check_character(body)


def _seed(database: Database, runtime: Any, writers: int) -> tuple[dict[str, str], list[int]]:
    with database.session() as session:
        inst = parties.organisation.create_institution(
            session=session, clock=runtime.clock, actor=Actor.system(), code="BENCH", name="压测机构",
            business_date=runtime.clock.now().date())
        admin = identity.accounts.create_user(
            session=session, kit=runtime.identity, institution_id=inst.id, kind="staff", phone="13900000000",
            display_name="管理员", password="bench-password-1", role_codes=("administrator",))
        borrowers = []
        for n in range(writers):
            phone = f"139{n + 1:08d}"
            data = NewBorrower(real_name=f"借款人{n}", id_number=_id_number(n), phone=phone)
            user = identity.accounts.create_user(
                session=session, kit=runtime.identity, institution_id=inst.id, kind="borrower", phone=phone,
                display_name=data.real_name, password=None, role_codes=("borrower",))
            borrower = parties.borrowers.create_profile(
                session, runtime.identity, institution_id=inst.id, data=data, user=user, channel="online",
                branch_id=None, registered_by=None,
                resident=parties.borrowers.parse_id_number(data.id_number, on=inst.business_date))
            borrowers.append(borrower.id)
        admin_user = session.get(User, admin.id)
        assert admin_user is not None
        issued = identity.sessions.start_session(session=session, kit=runtime.identity, user=admin_user,
                                                 method="bench", meta=RequestMeta(ip="127.0.0.1"), stage="full")
        session.commit()
    return {"Authorization": f"Bearer {issued.token}"}, borrowers


def _run(client: TestClient, headers: dict[str, str], targets: list[int], seconds: float) -> dict[str, Any]:
    latencies: list[float] = []
    outcomes: Counter[int] = Counter()
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def writer(target: int, n: int) -> None:
        i = 0
        while time.perf_counter() < stop:
            i += 1
            began = time.perf_counter()
            r = client.patch(f"/api/v1/borrowers/{target}", headers=headers, json={"occupation": f"职业{n}-{i}"})
            took = time.perf_counter() - began
            with lock:
                latencies.append(took)
                outcomes[r.status_code] += 1

    threads = [threading.Thread(target=writer, args=(t, n)) for n, t in enumerate(targets)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    latencies.sort()
    ok = outcomes.get(200, 0)
    return {
        "writes_per_s": round(ok / elapsed, 1),
        "p99_ms": round(1000 * latencies[int(0.99 * (len(latencies) - 1))], 1) if latencies else None,
        "median_ms": round(1000 * statistics.median(latencies), 1) if latencies else None,
        "errors": sum(count for status, count in outcomes.items() if status != 200),
        "answers": {str(k): v for k, v in sorted(outcomes.items())},
    }


def bench(backend: str, writers: int, seconds: float) -> dict[str, Any] | None:
    tmp = Path(tempfile.mkdtemp(prefix="mc-bench-"))
    url = _database_url(backend, tmp)
    if url is None:
        return None
    results: dict[str, Any] = {}
    try:
        for mode, policy in (("retries", DEFAULT_POLICY), ("baseline", NO_RETRY)):
            database = Database(url, retry=policy)
            if mode == "retries":
                upgrade(database.engine)
            settings = Settings(mode=Mode.TEST, data_dir=tmp, log_level="WARNING", public_url="http://bench",
                                outbox_poll_seconds=0)
            runtime = build_runtime(settings, database=database)
            if mode == "retries":
                headers, borrowers = _seed(database, runtime, writers)
            with TestClient(create_app(runtime=runtime)) as client:
                for scenario, targets in (("spread", borrowers), ("hot", [borrowers[0]] * writers)):
                    results[f"{scenario}_{mode}"] = _run(client, headers, targets, seconds)
            runtime.close()
    finally:
        _drop(backend, url)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--writers", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    summary: dict[str, Any] = {"writers": args.writers, "seconds": args.seconds}
    print(f"{args.writers} writers, {args.seconds:.0f} s per run; baseline = one attempt (no unit-of-work retries)")
    print(f"{'database':<11}{'scenario':<8}{'with retries':>36}{'baseline':>36}")
    for backend in ("sqlite", "postgresql", "mysql"):
        results = bench(backend, args.writers, args.seconds)
        if results is None:
            print(f"{backend:<11}(no server: set {SERVERS[backend]})")
            continue
        summary[backend] = results
        for scenario in ("spread", "hot"):
            cells = []
            for mode in ("retries", "baseline"):
                r = results[f"{scenario}_{mode}"]
                cells.append(f"{r['writes_per_s']:>8} w/s p99 {r['p99_ms']:>7} ms err {r['errors']:>5}")
            print(f"{backend:<11}{scenario:<8}{cells[0]:>36}{cells[1]:>36}")
    for backend, key in (("sqlite", "sqlite_errors"), ("postgresql", "pg_errors"), ("mysql", "mysql_errors")):
        if backend in summary:
            summary[key] = summary[backend]["spread_retries"]["errors"] + summary[backend]["hot_retries"]["errors"]
    if "sqlite" in summary:
        summary["sqlite_writes_per_s"] = summary["sqlite"]["spread_retries"]["writes_per_s"]
    print(json.dumps(summary, ensure_ascii=False))


if __name__ == "__main__":
    main()
