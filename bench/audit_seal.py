"""Audited commits on one database: sealing in the action's transaction vs. sealing after the commit.

    .venv/bin/python bench/audit_seal.py [--seconds 4] [--threads 1,8] [--backends sqlite,postgresql]

Issue 17, the audit chain (docs/architecture.md, "The audit log"). A record is written unsealed with its
action and sealed after the commit in a second, short transaction (`audit.service.seal`); on SQLite it may
instead be numbered and hashed in the action's own transaction (`audit.service.SEALS_AT_COMMIT`). This
measures both on each backend, in-process (no HTTP): `--threads` threads each commit units of work holding
one small row change (an `institutions` row's name) and one audit record, for `--seconds`. Per mode: commits/s,
the process's CPU milliseconds per commit (`time.process_time`: firmer than wall-clock figures under load),
and afterwards the chain verified with no record left unsealed. "at commit" is the baseline of the same run.

The last line is one JSON object: per backend, threads and mode the commits/s and CPU ms per commit, and the
load (`uptime`) before the run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from microcredit.audit import service as audit
from microcredit.audit.models import AuditRecord
from microcredit.clock import SystemClock
from microcredit.db.engine import Database, make_engine
from microcredit.db.migrate import upgrade
from microcredit.parties.models import Institution
from microcredit.platform.actor import Actor, RequestMeta

MODES = {"at commit": frozenset({"sqlite", "postgresql", "mysql"}), "after commit": frozenset()}


def _url(backend: str, tmp: Path, name: str) -> str | None:
    if backend == "sqlite":
        return f"sqlite:///{tmp / name}.db"
    server = os.environ.get("MICROCREDIT_TEST_POSTGRES_URL")
    if backend != "postgresql" or not server:
        return None
    admin = make_engine(server).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    admin.dispose()
    return server.rsplit("/", 1)[0] + f"/{name}"


def _drop(backend: str, name: str) -> None:
    server = os.environ.get("MICROCREDIT_TEST_POSTGRES_URL")
    if backend == "postgresql" and server:
        admin = make_engine(server).execution_options(isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        admin.dispose()


def _run(url: str, threads: int, seconds: float) -> dict[str, Any]:
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    db = Database(url)
    with db.unit_of_work() as s:
        inst = Institution(code="BENCH", name="bench", name_en="bench", business_date=date(2026, 12, 5),
                           created_at=datetime.now(UTC))
        s.add(inst)
        s.flush()
        inst_id = inst.id
    clock, actor = SystemClock(), Actor(kind="system", meta=RequestMeta())
    stop, counts = threading.Event(), [0] * threads

    def work(n: int) -> None:
        i = 0
        while not stop.is_set():
            with db.unit_of_work() as s:
                s.execute(update(Institution).where(Institution.id == inst_id).values(name=f"bench {n}.{i}"))
                audit.record(session=s, clock=clock, actor=actor, action="bench.seal", entity_id=i)
            i += 1
        counts[n] = i

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    cpu0, t0 = time.process_time(), time.perf_counter()
    for w in workers:
        w.start()
    time.sleep(seconds)
    stop.set()
    for w in workers:
        w.join()
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - t0
    audit.seal_left(db)
    with db.unit_of_work(write=False) as s:
        unsealed = s.scalar(select(AuditRecord.id).where(AuditRecord.seq.is_(None)).limit(1))
        result = audit.verify(session=s)
    db.dispose()
    total = sum(counts)
    return {"commits_per_s": round(total / wall, 1), "cpu_ms_per_commit": round(1000 * cpu / max(total, 1), 3),
            "commits": total, "verified": result.ok and unsealed is None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=4)
    parser.add_argument("--threads", default="1,8")
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(f"load before: {load}", flush=True)
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        k = 0
        for backend in args.backends.split(","):
            for threads in (int(t) for t in args.threads.split(",")):
                for mode, seals_at_commit in MODES.items():
                    k += 1
                    url = _url(backend, Path(tmp), f"bench_seal_{k}")
                    if url is None:
                        continue
                    audit.SEALS_AT_COMMIT = seals_at_commit
                    fig = _run(url, threads, args.seconds)
                    _drop(backend, f"bench_seal_{k}")
                    out.setdefault(backend, {}).setdefault(str(threads), {})[mode] = fig
                    print(f"{backend:10} threads {threads:2}  {mode:12}  {fig['commits_per_s']:8.1f} commits/s  "
                          f"{fig['cpu_ms_per_commit']:6.2f} CPU ms/commit  verified {fig['verified']}", flush=True)
    print(json.dumps({"bench": "audit_seal", "load_before": load, "results": out}))


if __name__ == "__main__":
    main()
