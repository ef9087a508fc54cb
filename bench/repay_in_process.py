"""One repayment in process: SQL statements and CPU time per `servicing.loans.repay`, beside a baseline.

    .venv/bin/python bench/repay_in_process.py [--loans 20] [--repayments 150] [--backend sqlite]
                                               [--baseline-src /tmp/before/src] [--profile out.prof]

Issue 17's in-process measure (the HTTP bench, `bench/repayments.py`, is the target's judge; this one
says where a repayment's cost goes). `--loans` disbursed loans are filled by the real operations
(`bench/repayments.py`'s `_fill`), then `--repayments` repayments of 5.00 go to them in turn through
`servicing.loans.repay`, each in its own unit of work under its own idempotency key, with a counter
of the statements the engine sends (BEGIN and COMMIT not counted). CPU time is the process's
(`time.process_time()`): the machine is shared, so wall time is noisy and CPU time is the figure to
compare, and of the `--rounds` it is timed in the least round is the figure least disturbed by the
others' work. With `--baseline-src SRC` the same measure runs first in a child process on the code in SRC
(e.g. `git archive main src | tar -x -C /tmp/before`), on its own fresh database, so a before/after
comes from one invocation. With `--route` each repayment is instead the HTTP request
`POST /api/v1/loans/{id}/repayments` (5.00, bank transfer, its own `Idempotency-Key`) as the demo's
finance user, answered in process by the app (`fastapi.testclient`, no socket): the route's own reads
(the principal, the loan's visibility, the servicing settings, the trail and names) and the answer count too.
With `--history N` every loan first takes N more repayments, untimed: the cost of a repayment on a loan
with a longer history (the answer shows every event of the loan).
With `--profile FILE` the timed repayments are profiled (cProfile) in every thread: the bench's own and each
thread started meanwhile (with `--route` the app answers in the test client's portal thread and its thread
pool, where the bench's thread only waits), merged into FILE.
After the timed repayments, what they left queued for the outbox's timer (the receipts: `serve` delivers
them on its timer, not in the request) is delivered as the timer would, and its CPU printed per repayment
(`timer_cpu_ms_per_repayment`, not in the request's figures; 0 where the request delivered it itself).
The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Fill, then time the repayments; figures per repayment."""
    sys.path.insert(0, str(Path(__file__).parent))
    from sqlalchemy import event

    import microcredit
    import request_path as rp
    from microcredit.config import Settings
    from microcredit.lending.money import Money
    from microcredit.parties import service as parties
    from microcredit.platform.actor import Actor
    from microcredit.runtime import build_runtime
    from microcredit.servicing.service import loans
    from repayments import _fill

    tmp = Path(tempfile.mkdtemp(prefix="mc-bench-repay-inproc-"))
    url, pg_name = rp._database_url(args.backend, tmp)
    try:
        env = {"MICROCREDIT_DATABASE_URL": url, "MICROCREDIT_DATA_DIR": str(tmp)}
        ids = _fill(env, args.loans)
        runtime = build_runtime(Settings(database_url=url, data_dir=str(tmp)))
        engine = runtime.db.engine
        assert engine is not None
        counted = [0]

        shown: list[tuple[float, str]] = []

        last = [0.0]

        def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            counted[0] += 1
            if args.show_sql:  # with the CPU spent since the previous statement was sent (its own work among it)
                now = time.process_time()
                shown.append((now - last[0], " ".join(statement.split())[:130]))
                last[0] = now

        event.listen(engine, "before_cursor_execute", count)
        with runtime.db.unit_of_work() as session:
            inst_id = parties.organisation.institution_by_code(session=session, code="DEMO").id
        actor = Actor.system(inst_id)
        amount = Money.parse("5.00", "CNY")

        def pay(n: int) -> None:
            with runtime.db.unit_of_work() as session:
                loans.repay(session=session, clock=runtime.identity.clock, actor=actor, institution_id=inst_id,
                            loan_id=ids[n % len(ids)], amount=amount, idempotency_key=str(uuid.uuid4()))

        if args.route:
            from fastapi.testclient import TestClient

            from microcredit.api.app import create_app
            from microcredit.demo import DEMO_PASSWORD
            from repayments import FINANCE_PHONE

            client = TestClient(create_app(runtime=runtime))
            signed = client.post("/api/v1/auth/login", json={"phone": FINANCE_PHONE, "password": DEMO_PASSWORD,
                                                              "kind": "staff"})
            assert signed.status_code == 200, signed.text
            headers = {"Authorization": f"Bearer {signed.json()['token']}"}

            def pay(n: int) -> None:
                answer = client.post(f"/api/v1/loans/{ids[n % len(ids)]}/repayments",
                                     json={"amount": "5.00", "channel": "bank_transfer"},
                                     headers={**headers, "Idempotency-Key": str(uuid.uuid4())})
                assert answer.status_code == 200, answer.text

        def deliver_queued() -> int:
            """What the outbox's timer does in `serve` (the bench runs no timer): deliver what is queued."""
            from microcredit.notifications import service as notifications

            delivered = 0
            while True:
                report = notifications.dispatch_pending(db=runtime.db, cipher=runtime.keys.cipher,
                                                        clock=runtime.clock, sms=runtime.sms,
                                                        addressee=runtime.addressee, handlers=runtime.outbox_handlers)
                delivered += report.delivered
                if not (report.delivered or report.texted):
                    return delivered

        for n in range(min(len(ids), args.repayments)):  # warm up: first-use costs, caches
            pay(n)
        for n in range(args.history * len(ids)):  # a longer history on every loan, before anything is timed
            pay(n)
        deliver_queued()  # the warm-up's messages, so that the timed repayments' are measured alone below
        profiler = None
        threads: list[Any] = []  # with --route the app answers in the test client's threads: one profiler each
        if args.profile:
            import cProfile
            import threading

            def in_thread(*_: Any) -> None:
                thread_profiler = cProfile.Profile()
                threads.append(thread_profiler)
                thread_profiler.enable()

            threading.setprofile(in_thread)
            profiler = cProfile.Profile()
            profiler.enable()
        counted[0] = 0
        rounds: list[float] = []  # CPU ms per repayment of each round: the least is the figure least disturbed
        per_round = max(1, args.repayments // args.rounds)
        cpu, wall = time.process_time(), time.perf_counter()
        for start in range(0, args.repayments, per_round):
            began = time.process_time()
            for n in range(start, min(start + per_round, args.repayments)):
                pay(n)
            rounds.append(1000 * (time.process_time() - began) / (min(start + per_round, args.repayments) - start))
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        statements = counted[0]
        rounds.sort()
        if args.show_sql:  # 20 more repayments, each statement's CPU averaged by its place in the request
            runs: list[list[tuple[float, str]]] = []
            for n in range(20):
                shown.clear()
                last[0] = time.process_time()
                pay(n)
                runs.append([*shown, (time.process_time() - last[0], "(after the last statement: to the answer)")])
            same = [r for r in runs if [t for _, t in r] == [t for _, t in runs[0]]]
            total = sum(c for r in same for c, _ in r) / len(same)
            for i, (_, text) in enumerate(same[0]):
                spent = sum(r[i][0] for r in same) / len(same)
                print(f"{1000 * spent:6.2f} ms {100 * spent / total:5.1f} %  {text}", file=sys.stderr)
            print(f"{1000 * total:6.2f} ms per repayment ({len(same)} of 20 alike)", file=sys.stderr)
        if profiler is not None:
            import pstats
            import threading

            profiler.disable()
            threading.setprofile(None)  # type: ignore[arg-type]
            stats = pstats.Stats(profiler)
            for thread_profiler in threads:
                stats.add(thread_profiler)
            stats.dump_stats(args.profile)
        # The messages the timed repayments left for the outbox's timer (none where the request delivered
        # them itself): their delivery's CPU, outside any request, per repayment.
        began = time.process_time()
        deferred = deliver_queued()
        deferred_cpu = time.process_time() - began
        runtime.close()
        m = args.repayments
        return {"code": str(Path(microcredit.__file__).parent.parent), "backend": args.backend, "loans": len(ids),
                "route": bool(args.route), "history": args.history,
                "repayments": m, "statements_per_repayment": round(statements / m, 2),
                "cpu_ms_per_repayment": round(1000 * cpu / m, 2), "cpu_ms_least_round": round(rounds[0], 2),
                "cpu_ms_median_round": round(rounds[len(rounds) // 2], 2),
                "wall_ms_per_repayment": round(1000 * wall / m, 2),
                "timer_messages": deferred, "timer_cpu_ms_per_repayment": round(1000 * deferred_cpu / m, 2)}
    finally:
        if pg_name is not None:
            rp._drop(pg_name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=20)
    parser.add_argument("--repayments", type=int, default=150)
    parser.add_argument("--backend", default="sqlite", choices=("sqlite", "postgresql", "mysql"))
    parser.add_argument("--rounds", type=int, default=6, help="rounds the repayments are timed in (CPU ms: the "
                        "least and the median round are printed beside the mean)")
    parser.add_argument("--baseline-src", metavar="SRC", help="also measure the code in SRC (a checkout's src/)")
    parser.add_argument("--profile", metavar="FILE", help="cProfile the timed repayments into FILE")
    parser.add_argument("--show-sql", action="store_true", help="print one repayment's statements (stderr), each "
                        "with the CPU ms since the one before (the first: since the request began)")
    parser.add_argument("--history", type=int, default=0, metavar="N",
                        help="N more repayments on every loan before the timed ones (a loan with a longer history)")
    parser.add_argument("--route", action="store_true", help="each repayment a POST through the app in process")
    parser.add_argument("--json-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    load = os.getloadavg()
    results: dict[str, Any] = {"load_before": [round(x, 2) for x in load]}
    if args.baseline_src:
        child = [sys.executable, __file__, "--json-only", "--loans", str(args.loans), "--repayments",
                 str(args.repayments), "--backend", args.backend, "--rounds", str(args.rounds),
                 "--history", str(args.history),
                 *(["--route"] if args.route else [])]
        env = {**os.environ, "PYTHONPATH": os.path.abspath(args.baseline_src)}
        out = subprocess.run(child, env=env, check=True, capture_output=True, text=True).stdout
        results["before"] = json.loads(out.strip().splitlines()[-1])
    results["after"] = measure(args)
    if args.json_only:
        print(json.dumps(results["after"]))
        return
    for label in ("before", "after"):
        if label in results:
            r = results[label]
            print(f"{label:>6} ({r['backend']}, {r['code']}): {r['statements_per_repayment']} statements, "
                  f"{r['cpu_ms_per_repayment']} ms CPU (least round {r['cpu_ms_least_round']}, median "
                  f"{r['cpu_ms_median_round']}), {r['wall_ms_per_repayment']} ms wall per repayment; then the "
                  f"outbox timer: {r['timer_messages']} messages, {r['timer_cpu_ms_per_repayment']} ms CPU per "
                  "repayment")
    results["load_after"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(results))


if __name__ == "__main__":
    main()
