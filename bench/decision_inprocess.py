"""One submission's cost in process: SQL statements and CPU time per automated decision, no HTTP.

    .venv/bin/python bench/decision_inprocess.py [--drafts 400] [--backends sqlite,postgresql]
                                                  [--before SRC] [--profile FILE]

The drafts are made the way `bench/decision.py` makes them (the demo, the product `BENCH`, one
walk-in draft per new borrower at the loan officer's branch); then each is submitted through
`origination.service.applications.submit` -- what `POST /applications/{id}/submit` calls -- in its
own unit of work, one after another, with a counter of the statements sent to the database (every
cursor execution, BEGIN and COMMIT not included). The first quarter of the drafts warms the process
up (imports, compiled rules, caches) and is not counted. CPU is `time.process_time()` of this
process (the database server's own time on PostgreSQL is not in it): the machine is shared, so
wall time is given beside it but moves with the load.

`--before SRC` runs the same measurement again in a child process with `SRC` (e.g. an export of
main's `src/`) first on the path, on a fresh database of its own, so a before/after comes from one
invocation; `--rounds N` alternates the two N times and keeps each one's least CPU and wall time
(the machine is shared: the least is the least disturbed). `--profile FILE` writes a cProfile of
the counted submissions (the first backend, first round). The last line is one JSON object: per
backend, statements and CPU ms per decision (and `before`).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import event, select

sys.path.insert(0, str(Path(__file__).resolve().parent))

import decision as bench
import request_path as rp
from microcredit.config import Settings
from microcredit.demo import _as
from microcredit.identity import service as identity
from microcredit.origination import service as origination
from microcredit.parties import service as parties
from microcredit.parties.models import Branch
from microcredit.runtime import build_runtime


def _kind(statement: str) -> str:
    words = statement.split()
    head = words[0].upper() if words else "?"
    if head in ("SELECT", "WITH"):
        table = next((w for i, w in enumerate(words) if i and words[i - 1].upper() == "FROM"), "?")
        return f"SELECT {table}"
    if head == "INSERT":
        return f"INSERT {words[2] if len(words) > 2 else '?'}"
    if head in ("UPDATE", "DELETE"):
        return f"{head} {words[1] if head == 'UPDATE' else words[2]}"
    return head


def _caller() -> str:
    """Where in microcredit's code a statement came from (the innermost frames outside db/ and platform/)."""
    frames = [f for f in traceback.extract_stack() if "/microcredit/" in f.filename
              and "/microcredit/db/" not in f.filename]
    return " < ".join(f"{f.filename.split('/microcredit/')[-1]}:{f.lineno}" for f in reversed(frames[-3:]))


trace_on = False


def measure(backend: str, drafts: int, profile: str | None) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="mc-decide-inproc-"))
    url, pg_name = rp._database_url(backend, tmp)
    env = {**os.environ, "MICROCREDIT_DATABASE_URL": url, "MICROCREDIT_DATA_DIR": str(tmp)}
    try:
        ids = bench._fill(env, drafts)
        settings = Settings(database_url=url, data_dir=str(tmp))
        runtime = build_runtime(settings)
        kit = runtime.identity
        engine = runtime.db.engine
        assert engine is not None
        with runtime.db.unit_of_work() as session:
            inst = parties.organisation.institution_by_code(session=session, code="DEMO")
            branch_id = session.scalar(select(Branch.id).where(Branch.institution_id == inst.id,
                                                               Branch.code == "BR01"))
            officer_id = identity.accounts.user_ids_by_phone(session=session, kit=kit, phone=bench.OFFICER_PHONE,
                                                             kind="staff")[0]
            officer = _as(officer_id, "loan_officer", inst.id, branch_id, "李强")
        statements: Counter[str] = Counter()
        counting = [False]

        trace: list[str] = []

        @event.listens_for(engine, "before_cursor_execute")
        def _count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            if counting[0]:
                statements[_kind(statement)] += 1
                if trace_on:
                    trace.append(f"{_kind(statement):<40} {_caller()}")

        assess = origination.review.default_assessor()
        outcomes: Counter[str] = Counter()

        def submit(application_id: int) -> None:
            with runtime.db.unit_of_work() as session:
                view = origination.applications.submit(
                    session=session, kit=kit, principal=officer, application_id=application_id, own=False,
                    assess=assess, language="zh-CN")
                outcomes[view.application.status] += 1

        warm = max(1, len(ids) // 4)
        for i in ids[:warm]:
            submit(i)
        outcomes.clear()
        timed = ids[warm:]
        profiler = cProfile.Profile() if profile else None
        counting[0] = True
        cpu0, wall0 = time.process_time(), time.perf_counter()
        if profiler:
            profiler.enable()
        for i in timed:
            submit(i)
        if profiler:
            profiler.disable()
            profiler.dump_stats(profile)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        if trace_on:
            print("\n".join(trace[-int(sum(statements.values()) / len(timed)) - 5:]))
        counting[0] = False
        runtime.close()
        n = len(timed)
        return {"backend": backend, "decisions": n, "statements_per_decision": round(sum(statements.values()) / n, 2),
                "cpu_ms_per_decision": round(1000 * cpu / n, 2), "wall_ms_per_decision": round(1000 * wall / n, 2),
                "outcomes": dict(sorted(outcomes.items())),
                "statements": {k: round(v / n, 2) for k, v in statements.most_common()}}
    finally:
        if pg_name is not None:
            rp._drop(pg_name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drafts", type=int, default=400)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--before", help="a src/ directory to measure too (main's code), in a child process")
    parser.add_argument("--profile", help="write a cProfile of the counted submissions here (first backend)")
    parser.add_argument("--trace", action="store_true", help="print the statements of the last submission")
    parser.add_argument("--rounds", type=int, default=1, help="measure this many times (alternating with "
                        "--before) and keep the least CPU and wall time")
    parser.add_argument("--quiet", action="store_true", help="only the JSON line")
    args = parser.parse_args()
    global trace_on
    trace_on = args.trace
    backends = [b for b in args.backends.split(",")
                if b == "sqlite" or (b == "postgresql" and os.environ.get("MICROCREDIT_TEST_POSTGRES_URL"))]
    load = rp._uptime()
    before_rounds: list[dict[str, Any]] = []
    rounds: list[list[dict[str, Any]]] = []
    for _ in range(args.rounds):  # alternating, so that a change in the machine's load hits both alike
        if args.before:
            child = subprocess.run(
                [sys.executable, __file__, "--drafts", str(args.drafts), "--backends", ",".join(backends),
                 "--quiet"], env={**os.environ, "PYTHONPATH": str(Path(args.before).resolve())},
                capture_output=True, text=True, check=True)
            before_rounds.append(json.loads(child.stdout.strip().splitlines()[-1]))
        rounds.append([measure(b, args.drafts, args.profile if i == 0 and not rounds else None)
                       for i, b in enumerate(backends)])
    results = [_least(backend, [r[i] for r in rounds]) for i, backend in enumerate(backends)]
    before = None if not before_rounds else {"backends": [
        _least(backend, [next(x for x in r["backends"] if x["backend"] == backend) for r in before_rounds])
        for backend in backends]}
    if not args.quiet:
        print(f"load before: {load}, after: {rp._uptime()}; the least CPU and wall of {args.rounds} round(s)")
        for r in results:
            was = next((b for b in (before or {}).get("backends", []) if b["backend"] == r["backend"]), None)
            line = (f"{r['backend']:>10}: {r['statements_per_decision']:>6} statements  "
                    f"{r['cpu_ms_per_decision']:>6} ms CPU  {r['wall_ms_per_decision']:>6} ms wall  per decision")
            if was:
                line += (f"   | before: {was['statements_per_decision']} statements  "
                         f"{was['cpu_ms_per_decision']} ms CPU"
                         f"  {was['wall_ms_per_decision']} ms wall")
            print(line)
            print(f"{'':>12}outcomes {r['outcomes']}" + (f"  (before: {was['outcomes']})" if was else ""))
            print(f"{'':>12}CPU ms of each round {r['cpu_ms_rounds']}"
                  + (f"  (before: {was['cpu_ms_rounds']})" if was else ""))
            print(f"{'':>12}" + ", ".join(f"{k} {v}" for k, v in r["statements"].items()))
    print(json.dumps({"backends": results, "before": before, "load_before": load, "rounds": args.rounds}))


def _least(backend: str, runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One backend's rounds as one: the least CPU and wall time (the least disturbed by the machine's other
    work), every round's CPU beside it; the statements are the same each round."""
    best = min(runs, key=lambda r: r["cpu_ms_per_decision"])
    return {**best, "backend": backend, "wall_ms_per_decision": min(r["wall_ms_per_decision"] for r in runs),
            "cpu_ms_rounds": [r["cpu_ms_per_decision"] for r in runs]}


if __name__ == "__main__":
    main()
