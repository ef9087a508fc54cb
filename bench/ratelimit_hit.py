"""CPU of one rate-limit hit in the database, in process, beside a unit of work without it.

    .venv/bin/python bench/ratelimit_hit.py [--hits 400] [--rounds 3] [--backends sqlite,postgresql]

For each backend a fresh database is migrated (PostgreSQL when `MICROCREDIT_TEST_POSTGRES_URL` names a
server); then `--hits` units of work each count one hit of one bucket (`DatabaseRateLimiter.count`, what
`platform.ratelimit.hit` does for a route) and run a `SELECT 1` -- the request's own first statement -- and,
as the baseline from the same run, as many units of work with the `SELECT 1` alone. CPU is
`time.process_time()` of this process, the least of `--rounds`; the hit's cost is the difference. For a
before/after, run it again with an older `src/` first on `PYTHONPATH`. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from microcredit.clock import SystemClock
from microcredit.db.engine import Database, make_engine
from microcredit.db.migrate import upgrade
from microcredit.platform.ratelimit import DatabaseRateLimiter, Limit


def _database(backend: str, tmp: Path) -> tuple[str, Callable[[], None]]:
    if backend == "sqlite":
        return f"sqlite:///{tmp / 'hits.sqlite3'}", lambda: None
    admin_url = os.environ["MICROCREDIT_TEST_POSTGRES_URL"]
    name = f"mc_bench_hits_{uuid.uuid4().hex[:8]}"

    def run(sql: str) -> None:
        admin = make_engine(admin_url)
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(sql))
        admin.dispose()

    run(f'CREATE DATABASE "{name}"')
    return (make_url(admin_url).set(database=name).render_as_string(hide_password=False),
            lambda: run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _least_ms(work: Callable[[], None], n: int, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        began = time.process_time()
        for _ in range(n):
            work()
        best = min(best, (time.process_time() - began) / n * 1000)
    return round(best, 3)


def bench(backend: str, hits: int, rounds: int) -> dict[str, float | str]:
    tmp = Path(tempfile.mkdtemp(prefix="mc-bench-hits-"))
    url, drop = _database(backend, tmp)
    try:
        db = Database(url)
        assert db.engine is not None
        upgrade(db.engine)
        limiter = DatabaseRateLimiter(SystemClock())
        bucket, limit = f"bench:{uuid.uuid4().hex}", Limit(10**9, 3600)

        def bare() -> None:
            with db.unit_of_work() as session:
                session.execute(text("SELECT 1"))

        def with_hit() -> None:
            with db.unit_of_work() as session:
                limiter.count(bucket, limit, session=session)
                session.execute(text("SELECT 1"))

        bare(), with_hit()  # first use: connections, compiled statements
        base = _least_ms(bare, hits, rounds)
        total = _least_ms(with_hit, hits, rounds)
        db.dispose()
        return {"backend": backend, "unit_ms": base, "unit_with_hit_ms": total, "hit_ms": round(total - base, 3)}
    finally:
        drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hits", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    results = []
    for backend in args.backends.split(","):
        if backend == "postgresql" and not os.environ.get("MICROCREDIT_TEST_POSTGRES_URL"):
            print("postgresql: skipped (MICROCREDIT_TEST_POSTGRES_URL not set)")
            continue
        r = bench(backend, args.hits, args.rounds)
        results.append(r)
        print(f"{backend:>10}: a unit of work {r['unit_ms']:.3f} ms CPU, with a hit {r['unit_with_hit_ms']:.3f} ms: "
              f"the hit {r['hit_ms']:.3f} ms (least of {args.rounds} x {args.hits})")
    print(json.dumps({"backends": results, "load_before": load}))


if __name__ == "__main__":
    main()
