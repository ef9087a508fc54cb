"""Applications decided over HTTP: decisions/s and p50/p95/p99 against `microcredit serve`, beside /healthz.

    .venv/bin/python bench/decision.py [--seconds 10] [--connections 32] [--applications 3000]
                                       [--backends sqlite,postgresql] [--workers 1] [--before SRC]

Issue 16's benchmark. For each backend -- SQLite always (a file, WAL), PostgreSQL when
`MICROCREDIT_TEST_POSTGRES_URL` names a server (``set -a; . /tmp/mc-svc-main/env; set +a``), and
`redis`: PostgreSQL with the rate limits in Redis when `MICROCREDIT_TEST_REDIS_URL` names one too -- a
fresh database is migrated and filled by the real operations: the demo (`microcredit.demo.seed`),
a product `BENCH` (consumer loans of 1,000-30,000 over 6-12 months, by grade, no documents
required, so the figure is the decision's and not the uploads'), and `--applications` borrowers at
the loan officer's branch, each with one walk-in draft for that product made through the
origination service (ID numbers all different, so the bureau simulator gives the realistic mix of
files it gives any population, and the velocity rules see one application per person). Then
`microcredit serve` runs as its own process; the loan officer signs in through the API, and
`--connections` keep-alive connections submit the drafts, one `POST /api/v1/applications/{id}/submit`
each: the whole automated review -- completeness, eligibility, the identity check and the credit
report (both simulators, zero latency), knock-outs, fraud, score, decision -- and the application's
transition, results and audit in one transaction. Every answer must be 200 with a decided status;
the bench counts the others. In the same run and the same way, `GET /healthz` gives the ceiling of
the stack on this machine. The server's per-user submit limit is lifted for the run (one officer
submits them all); everything else is production's (JSON logs to /dev/null, the outbox dispatcher
off so that SMS delivery does not share the CPU with the decisions: it runs after commit anyway).

With `--before SRC` (an export of main's `src/`), each backend's database gets twice the drafts
and the code in SRC is served first on one half, then this code on the other: a before/after from
one invocation (`before` in each backend's figures).

The last line is one JSON object: `decisions_per_s`, `p50_ms`, `p95_ms`, `p99_ms`,
`healthz_rps`, `throughput_ratio_to_healthz` (the first backend: SQLite), the outcomes, every
figure per backend and the load (`uptime`) before the run. Target (issue 16): >= 3,000
decisions/s with p99 <= 20 ms and >= 30 % of /healthz's throughput.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import queue
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent))

import request_path as rp
from microcredit.config import Settings
from microcredit.db.engine import normalise_url
from microcredit.db.migrate import upgrade
from microcredit.demo import _as, _product_terms, demo_id_number, seed
from microcredit.identity import service as identity
from microcredit.lending.money import Money
from microcredit.origination import service as origination
from microcredit.origination.schemas import ApplicationCreate
from microcredit.parties import service as parties
from microcredit.parties.models import Branch
from microcredit.parties.service.borrowers import NewBorrower
from microcredit.platform.actor import Actor
from microcredit.products import service as products
from microcredit.runtime import build_runtime

OFFICER_PHONE = "13900000002"  # 李强, the demo's loan officer at branch BR01
DECIDED = {"approved", "declined", "referred", "returned"}
REGIONS = ("360102", "360111", "360121", "360103", "110105", "310101", "440106", "510107")


def _bench_product(first_day: date) -> Any:
    return _product_terms(
        first_day, name_zh="压测消费贷", name_en="Benchmark consumer loan", amount_min="1000.00",
        amount_max="30000.00", term_min=6, term_max=12, repayment_methods=["equal_installment"],
        rate={"kind": "by_grade", "grades": {"A": "7.2", "B": "8.4", "C": "9.6", "D": "10.5", "E": "11.4"}},
        customer_types=["consumer"], required_documents=[],
        approval_policy=[{"up_to_amount": "10000.00", "worst_grade": "C", "levels": 1},
                         {"up_to_amount": "30000.00", "worst_grade": "E", "levels": 2}])


def _fill(env: dict[str, str], applications: int) -> list[int]:
    """The demo, the bench product, and one walk-in draft per new borrower; returns the drafts' ids."""
    settings = Settings(**{k[len("MICROCREDIT_"):].lower(): v for k, v in env.items()
                           if k in ("MICROCREDIT_DATABASE_URL", "MICROCREDIT_DATA_DIR")})
    runtime = build_runtime(settings)
    assert runtime.db.engine is not None
    upgrade(runtime.db.engine)
    kit = runtime.identity
    with runtime.db.unit_of_work() as session:
        seed(session=session, kit=kit)
        inst = parties.organisation.institution_by_code(session=session, code="DEMO")
        actor = Actor.system(inst.id)
        products.catalogue.create_product(session=session, clock=kit.clock, actor=actor, institution_id=inst.id,
                                          code="BENCH", terms=_bench_product(date(inst.business_date.year, 1, 1)))
        products.catalogue.publish(session=session, clock=kit.clock, actor=actor, institution_id=inst.id,
                                   institution_kind=inst.kind, business_date=inst.business_date, code="BENCH",
                                   number=1,
                                   calendars=products.calendar.calendars_of(session=session, institution_id=inst.id))
    ids: list[int] = []
    batch = 250
    for start in range(0, applications, batch):
        with runtime.db.unit_of_work() as session:
            inst = parties.organisation.institution_by_code(session=session, code="DEMO")
            branch_id = session.scalar(select(Branch.id).where(Branch.institution_id == inst.id,
                                                               Branch.code == "BR01"))
            officer_id = identity.accounts.user_ids_by_phone(session=session, kit=kit, phone=OFFICER_PHONE,
                                                             kind="staff")[0]
            officer = _as(officer_id, "loan_officer", inst.id, branch_id, "李强")
            for n in range(start, min(start + batch, applications)):
                phone = f"137{n:08d}"
                birth = date(1965 + n % 35, 1 + n % 12, 1 + n % 28)
                # Sequence codes below 900: the bureau simulator's fixed scenarios (9xx) stay out of it.
                id_number = demo_id_number(REGIONS[n % len(REGIONS)], birth, 100 + (n // 28) % 800)
                data = NewBorrower(real_name=f"压测{n:05d}", id_number=id_number, phone=phone,
                                   customer_type="consumer", occupation="职员",
                                   monthly_income=Money.parse(f"{4000 + 500 * (n % 20)}.00", "CNY"))
                user = identity.accounts.create_user(session=session, kit=kit, institution_id=inst.id,
                                                     kind="borrower", phone=phone, display_name=data.real_name,
                                                     password=None, role_codes=("borrower",))
                borrower = parties.borrowers.create_profile(
                    session, kit, institution_id=inst.id, data=data, user=user, channel="branch",
                    branch_id=branch_id, registered_by=None,
                    resident=parties.borrowers.parse_id_number(data.id_number, on=inst.business_date))
                plan = ApplicationCreate(
                    product_code="BENCH", amount=Money.parse(f"{2000 + 1000 * (n % 25)}.00", "CNY"),
                    term=6 + 6 * (n % 2), repayment_method="equal_installment", purpose="consumption",
                    monthly_debt_payments=Money.parse(f"{300 * (n % 7)}.00", "CNY"),
                    monthly_spending=Money.parse(f"{1500 + 250 * (n % 9)}.00", "CNY"))
                draft = origination.applications.create_walk_in(
                    session=session, kit=kit, principal=officer, borrower_id=borrower.id, plan=plan,
                    device_id=None, ip=None)
                ids.append(draft.id)
    runtime.close()
    return ids


def _submit_all(port: int, token: str, ids: list[int], seconds: float, connections: int) -> dict[str, Any]:
    """Submit drafts from a shared queue on keep-alive connections until the time or the drafts run out."""
    todo: queue.SimpleQueue[int] = queue.SimpleQueue()
    for i in ids:
        todo.put(i)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    latencies: list[float] = []
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def worker() -> None:
        mine: list[float] = []
        seen: Counter[str] = Counter()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.perf_counter() < stop:
            try:
                application = todo.get_nowait()
            except queue.Empty:
                break
            began = time.perf_counter()
            try:
                conn.request("POST", f"/api/v1/applications/{application}/submit", body=b"{}", headers=headers)
                response = conn.getresponse()
                body = response.read()
                status = json.loads(body).get("status") if response.status == 200 else None
                seen[status if status in DECIDED else f"http_{response.status}"] += 1
            except OSError:
                seen["connection_error"] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            mine.append(time.perf_counter() - began)
        conn.close()
        with lock:
            latencies.extend(mine)
            outcomes.update(seen)

    began = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    latencies.sort()
    decided = sum(outcomes[s] for s in DECIDED)

    def pct(p: float) -> float:
        return round(1000 * latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))], 2) if latencies else 0

    return {"decisions_per_s": round(decided / elapsed, 1), "requests": len(latencies), "decided": decided,
            "p50_ms": pct(50), "p95_ms": pct(95), "p99_ms": pct(99), "seconds": round(elapsed, 2),
            "outcomes": dict(sorted(outcomes.items())), "ran_out_of_drafts": todo.empty()}


class _WaitSampler(threading.Thread):
    """`pg_stat_activity` of the bench's database every 0.25 s while the decisions run: what the server's
    transactions (active, or idle in a transaction) wait on, grouped by wait event and the statement's start."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.engine = create_engine(normalise_url(url), isolation_level="AUTOCOMMIT", pool_size=1)
        self.done = threading.Event()
        self.samples = 0
        self.groups: Counter[str] = Counter()

    def run(self) -> None:
        query = text("SELECT coalesce(wait_event_type, '-') || ' / ' || coalesce(wait_event, '-') || ' at ' "
                     "|| left(regexp_replace(query, '\\s+', ' ', 'g'), 60) FROM pg_stat_activity "
                     "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                     "AND backend_type = 'client backend' AND state IN ('active', 'idle in transaction')")
        with self.engine.connect() as conn:
            while not self.done.wait(0.25):
                self.samples += 1
                self.groups.update(conn.execute(query).scalars())
        self.engine.dispose()

    def stop(self) -> dict[str, Any]:
        self.done.set()
        self.join()
        total = sum(self.groups.values())
        at_counter = sum(n for label, n in self.groups.items() if "rate_limit_counters" in label)
        return {"samples": self.samples, "transactions": total, "at_rate_limit_counters": at_counter,
                "top": self.groups.most_common(5)}


def _run(env: dict[str, str], ids: list[int], args: argparse.Namespace) -> dict[str, Any]:
    """Serve `env` (its PYTHONPATH: whose code), submit `ids` after a warm-up, then drive /healthz."""
    proc, port = rp._serve(env, args.workers)
    try:
        token = rp._login(port, OFFICER_PHONE, "staff")
        # A short warm-up on a few drafts (first-use costs: imports, compiled rules, caches).
        warm, timed = ids[: args.connections * 4], ids[args.connections * 4:]
        _submit_all(port, token, warm, rp.WARM_UP_SECONDS, args.connections)
        url = env["MICROCREDIT_DATABASE_URL"]
        sampler = _WaitSampler(url) if args.sample_waits and url.startswith("postgresql") else None
        if sampler is not None:
            sampler.start()
        decisions = _submit_all(port, token, timed, args.seconds, args.connections)
        if sampler is not None:
            decisions["waits"] = sampler.stop()
        health = rp.load(f"http://127.0.0.1:{port}/healthz", None, args)
    finally:
        rp._stop(proc)
    ratio = round(decisions["decisions_per_s"] / health["rps"], 3) if health["rps"] else None
    return {**decisions, "healthz_rps": health["rps"], "healthz_p99_ms": health["p99_ms"],
            "throughput_ratio_to_healthz": ratio}


def bench_backend(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="mc-bench-decision-"))
    url, pg_name = rp._database_url("sqlite" if backend == "sqlite" else "postgresql", tmp)
    env = {**os.environ, "MICROCREDIT_DATABASE_URL": url, "MICROCREDIT_DATA_DIR": str(tmp),
           "MICROCREDIT_OUTBOX_POLL_SECONDS": "0", "MICROCREDIT_LOG_JSON": "true",
           "MICROCREDIT_RATE_LIMITS__APPLICATION_SUBMIT_PER_USER_PER_HOUR": "100000000"}
    env.pop("MICROCREDIT_REDIS_URL", None)
    if backend == "redis":
        # Rate limits in Redis, as a multi-worker deployment has them. In the database (the default), every
        # submission of the one officer the bench signs in as counts on one row: until 5 December 2026 it was
        # locked from the count to the commit and the decisions queued on it; now each hit commits on its own
        # (`platform.ratelimit`), which `--sample-waits` shows.
        env["MICROCREDIT_REDIS_URL"] = os.environ["MICROCREDIT_TEST_REDIS_URL"]
    try:
        began = time.perf_counter()
        # With --before, twice the drafts: the first half for the code in SRC (served first), the second for
        # this code -- same database, so this code's run also sees the decisions the first one wrote.
        ids = _fill(env, args.applications * (2 if args.before else 1))
        print(f"  {backend}: {len(ids)} drafts made in {time.perf_counter() - began:.0f} s", flush=True)
        before = None
        if args.before:
            before = _run({**env, "PYTHONPATH": str(Path(args.before).resolve())}, ids[:args.applications], args)
            ids = ids[args.applications:]
        return {"backend": backend, **_run(env, ids, args), "before": before}
    finally:
        if pg_name is not None:
            rp._drop(pg_name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--applications", type=int, default=3000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads for /healthz")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--sample-waits", action="store_true",
                        help="PostgreSQL: sample what the transactions wait on (pg_stat_activity, every 0.25 s)")
    parser.add_argument("--before", metavar="SRC", help="also serve the code in SRC (e.g. an export of main's src/, "
                        "put on PYTHONPATH) on drafts of the same database, first, for a before/after in one run")
    args = parser.parse_args()
    load_before = rp._uptime()
    print(f"load before: {load_before}")
    backends = [b for b in args.backends.split(",")
                if b == "sqlite" or (b == "postgresql" and os.environ.get("MICROCREDIT_TEST_POSTGRES_URL"))
                or (b == "redis" and os.environ.get("MICROCREDIT_TEST_POSTGRES_URL")
                    and os.environ.get("MICROCREDIT_TEST_REDIS_URL"))]
    results = []
    for backend in backends:
        r = bench_backend(backend, args)
        results.append(r)
        print(f"{backend:>10}: {r['decisions_per_s']:>8} decisions/s  p50 {r['p50_ms']} ms  p95 {r['p95_ms']} ms  "
              f"p99 {r['p99_ms']} ms   | /healthz {r['healthz_rps']} req/s (p99 {r['healthz_p99_ms']} ms)  "
              f"ratio {r['throughput_ratio_to_healthz']}   outcomes {r['outcomes']}"
              + ("  (ran out of drafts: raise --applications)" if r["ran_out_of_drafts"] else ""), flush=True)
        b = r["before"]
        if b is not None:
            print(f"{'before':>10}: {b['decisions_per_s']:>8} decisions/s  p50 {b['p50_ms']} ms  p95 {b['p95_ms']} ms  "
                  f"p99 {b['p99_ms']} ms   | /healthz {b['healthz_rps']} req/s (p99 {b['healthz_p99_ms']} ms)  "
                  f"ratio {b['throughput_ratio_to_healthz']}   outcomes {b['outcomes']}", flush=True)
    first = results[0]
    print(json.dumps({"decisions_per_s": first["decisions_per_s"], "p50_ms": first["p50_ms"],
                      "p95_ms": first["p95_ms"], "p99_ms": first["p99_ms"], "healthz_rps": first["healthz_rps"],
                      "throughput_ratio_to_healthz": first["throughput_ratio_to_healthz"],
                      "outcomes": first["outcomes"], "backends": results, "load_before": load_before,
                      "target": {"decisions_per_s": 3000, "p99_ms": 20, "throughput_ratio_to_healthz": 0.3}}))


if __name__ == "__main__":
    main()
