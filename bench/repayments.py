"""Repayments over HTTP: repayments/s and p50/p95/p99 against `microcredit serve`, beside /healthz.

    .venv/bin/python bench/repayments.py [--seconds 10] [--connections 32] [--loans 2000]
                                         [--backends postgresql,sqlite] [--workers 1] [--baseline-src SRC]

Issue 17's benchmark. For each backend -- PostgreSQL when `MICROCREDIT_TEST_POSTGRES_URL` names a
server (``set -a; . /tmp/mc-svc-main/env; set +a``), SQLite always (a file, WAL) -- a fresh database
is migrated and filled by the real operations: the demo (`microcredit.demo.seed`), a product
`BENCH`, and `--loans` borrowers each with an application submitted (decided by an approving
assessor: this bench is about repayments, not about the review), its contract made and signed
through the contracts service (the borrower's SMS code, the institution's PAdES signature with the
demo certificate: only a signed contract is paid out), its loan opened and disbursed through the
servicing service, then the business date moved 20 days on. The issue asks for
10,000 loans; filling costs ~40 ms a loan plus the contract's PDF and signatures, so the default
is 2,000 (`--loans 10000` for the full run). Then `microcredit serve` runs as its own process;
the demo's finance user signs in through
the API, and `--connections` keep-alive connections post repayments of 50.00 to the loans in
turn (`POST /api/v1/loans/{id}/repayments`, each under its own `Idempotency-Key`): each locks the
loan, folds its events, allocates, stores the event, posts a balanced entry per book and audits,
in one transaction. Every answer must be 200; the bench counts the others. In the same run and
the same way, `GET /healthz` gives the ceiling of the stack on this machine. Afterwards
`ledger verify` with the loans' sub-ledger runs on the database: `ledger_verified`.

With `--baseline-src SRC` (e.g. `git archive main src | tar -x -C /tmp/before`) the code in SRC is
served first on the same loans and measured the same way (`before` in each backend's figures), so a
before/after comes from one run.

The last line is one JSON object: `repayments_per_s`, `p50_ms`, `p95_ms`, `p99_ms`, `healthz_rps`,
`ledger_verified` (the first backend: PostgreSQL when there is one), every figure per backend and
the load (`uptime`) before the run. Target (issue 17): >= 1,000 repayments/s with p99 <= 50 ms on
PostgreSQL, ledger verified.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).parent))

import request_path as rp
from microcredit.config import Settings
from microcredit.contracts import service as contracts
from microcredit.contracts import signing
from microcredit.db.migrate import upgrade
from microcredit.demo import _as, _product_terms, demo_id_number, seed
from microcredit.identity import service as identity
from microcredit.ledger import service as ledger
from microcredit.lending.money import Money
from microcredit.origination import service as origination
from microcredit.origination.schemas import ApplicationCreate
from microcredit.parties import service as parties
from microcredit.parties.models import Branch
from microcredit.parties.service.borrowers import NewBorrower
from microcredit.platform.actor import Actor, RequestMeta
from microcredit.products import service as products
from microcredit.risk.assessment import Assessment, Decision
from microcredit.runtime import build_runtime
from microcredit.servicing.service import loans

OFFICER_PHONE = "13900000002"  # 李强, the demo's loan officer at branch BR01
FINANCE_PHONE = "13900000009"  # 冯琳, the demo's finance user
REGIONS = ("360102", "360111", "360121", "360103", "110105", "310101", "440106", "510107")
PAYMENT = "50.00"


def _approve(session: Any, facts: Any) -> Assessment:
    """An assessor that approves at grade B (the bench measures repayments, not the review)."""
    return Assessment(decision=Decision.APPROVE, results=(), rule_set="bench@1", score=720, grade="B")


def _fill(env: dict[str, str], count: int) -> list[int]:
    """The demo, the bench product and `count` disbursed loans; returns the loans' ids."""
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
        terms = _product_terms(
            date(inst.business_date.year, 1, 1), name_zh="压测消费贷", name_en="Benchmark consumer loan",
            amount_min="1000.00", amount_max="30000.00", term_min=6, term_max=12,
            repayment_methods=["equal_installment"],
            rate={"kind": "by_grade", "grades": {"A": "7.2", "B": "8.4", "C": "9.6", "D": "10.5", "E": "11.4"}},
            customer_types=["consumer"], required_documents=[],
            approval_policy=[{"up_to_amount": "30000.00", "worst_grade": "E", "levels": 1}])
        products.catalogue.create_product(session=session, clock=kit.clock, actor=actor, institution_id=inst.id,
                                          code="BENCH", terms=terms)
        products.catalogue.publish(session=session, clock=kit.clock, actor=actor, institution_id=inst.id,
                                   institution_kind=inst.kind, business_date=inst.business_date, code="BENCH",
                                   number=1,
                                   calendars=products.calendar.calendars_of(session=session, institution_id=inst.id))
    signing.init_demo_ca(runtime.settings.data_dir.resolve(), now=kit.clock.now())
    files = contracts.contracts.Files(storage=runtime.files, signer=signing.signer_files(runtime.settings))
    ids: list[int] = []
    batch = 200
    for start in range(0, count, batch):
        with runtime.db.unit_of_work() as session:
            inst = parties.organisation.institution_by_code(session=session, code="DEMO")
            branch_id = session.scalar(select(Branch.id).where(Branch.institution_id == inst.id,
                                                               Branch.code == "BR01"))
            officer_id = identity.accounts.user_ids_by_phone(session=session, kit=kit, phone=OFFICER_PHONE,
                                                             kind="staff")[0]
            officer = _as(officer_id, "loan_officer", inst.id, branch_id, "李强")
            for n in range(start, min(start + batch, count)):
                phone = f"136{n:08d}"
                birth = date(1965 + n % 35, 1 + n % 12, 1 + n % 28)
                id_number = demo_id_number(REGIONS[n % len(REGIONS)], birth, 100 + (n // 28) % 800)
                data = NewBorrower(real_name=f"还款{n:05d}", id_number=id_number, phone=phone,
                                   customer_type="consumer", occupation="职员",
                                   monthly_income=Money.parse("8000.00", "CNY"))
                user = identity.accounts.create_user(session=session, kit=kit, institution_id=inst.id,
                                                     kind="borrower", phone=phone, display_name=data.real_name,
                                                     password=None, role_codes=("borrower",))
                borrower = parties.borrowers.create_profile(
                    session, kit, institution_id=inst.id, data=data, user=user, channel="branch",
                    branch_id=branch_id, registered_by=None,
                    resident=parties.borrowers.parse_id_number(data.id_number, on=inst.business_date))
                plan = ApplicationCreate(product_code="BENCH", amount=Money.parse(f"{5000 + 1000 * (n % 20)}.00",
                                                                                   "CNY"),
                                         term=6 + 6 * (n % 2), repayment_method="equal_installment",
                                         purpose="consumption")
                draft = origination.applications.create_walk_in(
                    session=session, kit=kit, principal=officer, borrower_id=borrower.id, plan=plan,
                    device_id=None, ip=None)
                origination.applications.submit(session=session, kit=kit, principal=officer,
                                                application_id=draft.id, own=False, assess=_approve,
                                                language="zh-CN", notify=False)
                contract = contracts.contracts.open_contract(session=session, kit=kit, files=files, principal=officer,
                                                             application_id=draft.id, own=False)
                index = identity.accounts.phone_index(kit, phone)
                kit.codes.save(session=session, phone_index=index, purpose=contracts.contracts.SIGN_PURPOSE,
                               code_hash=identity.smscodes.code_hash(kit, index, contracts.contracts.SIGN_PURPOSE,
                                                                     "246810"))
                contracts.contracts.sign(session=session, kit=kit, files=files,
                                         principal=_as(user.id, "borrower", inst.id, None, data.real_name),
                                         application_id=draft.id, sms_code="246810",
                                         document_sha256=contract.pdf_sha256, device_id=None,
                                         meta=RequestMeta(ip="127.0.0.1"), notify=False)
                loan = loans.open_loan(session=session, clock=kit.clock, actor=Actor.system(inst.id),
                                       institution_id=inst.id, application_id=draft.id)
                loans.disburse(session=session, clock=kit.clock, actor=Actor.system(inst.id),
                               institution_id=inst.id, loan_id=loan.id, on=None)
                ids.append(loan.id)
    with runtime.db.unit_of_work() as session:
        inst = parties.organisation.institution_by_code(session=session, code="DEMO")
        parties.organisation.set_business_date_as(session=session, clock=kit.clock, actor=Actor.system(inst.id),
                                                  institution_id=inst.id,
                                                  new_date=inst.business_date + timedelta(days=20),
                                                  override_allowed=True)
    runtime.close()
    return ids


def _pay_all(port: int, token: str, ids: list[int], seconds: float, connections: int) -> dict[str, Any]:
    """Post repayments to the loans in turn on keep-alive connections for `seconds`."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    body = json.dumps({"amount": PAYMENT, "channel": "bank_transfer"}).encode()
    latencies: list[float] = []
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()
    stop = time.perf_counter() + seconds
    turn = iter(range(10**9))

    def worker() -> None:
        mine: list[float] = []
        seen: Counter[str] = Counter()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while time.perf_counter() < stop:
            with lock:
                loan = ids[next(turn) % len(ids)]
            began = time.perf_counter()
            try:
                conn.request("POST", f"/api/v1/loans/{loan}/repayments", body=body,
                             headers={**headers, "Idempotency-Key": str(uuid.uuid4())})
                response = conn.getresponse()
                response.read()
                seen["ok" if response.status == 200 else f"http_{response.status}"] += 1
            except OSError:
                seen["connection_error"] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
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

    def pct(p: float) -> float:
        return round(1000 * latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))], 2) if latencies else 0

    return {"repayments_per_s": round(outcomes["ok"] / elapsed, 1), "requests": len(latencies),
            "p50_ms": pct(50), "p95_ms": pct(95), "p99_ms": pct(99), "seconds": round(elapsed, 2),
            "outcomes": dict(sorted(outcomes.items()))}


def _verified(env: dict[str, str]) -> tuple[bool, int, list[str]]:
    settings = Settings(database_url=env["MICROCREDIT_DATABASE_URL"], data_dir=env["MICROCREDIT_DATA_DIR"])
    runtime = build_runtime(settings)
    try:
        with runtime.db.unit_of_work(write=False) as session:
            report = ledger.books.verify(session=session, subledger=loans.control_balances)
            return report.ok, report.entries, report.problems[:5]
    finally:
        runtime.close()


def bench_backend(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="mc-bench-repayments-"))
    url, pg_name = rp._database_url(backend, tmp)
    env = {**os.environ, "MICROCREDIT_DATABASE_URL": url, "MICROCREDIT_DATA_DIR": str(tmp),
           "MICROCREDIT_OUTBOX_POLL_SECONDS": "0", "MICROCREDIT_LOG_JSON": "true"}
    env.pop("MICROCREDIT_REDIS_URL", None)
    proc = None
    try:
        began = time.perf_counter()
        ids = _fill(env, args.loans)
        print(f"  {backend}: {len(ids)} loans disbursed in {time.perf_counter() - began:.0f} s", flush=True)
        before: dict[str, Any] | None = None
        if args.baseline_src:  # the code before, first, on the same loans (a repayment or two more each after it)
            proc, port = rp._serve({**env, "PYTHONPATH": os.path.abspath(args.baseline_src)}, args.workers)
            token = rp._login(port, FINANCE_PHONE, "staff")
            _pay_all(port, token, ids, rp.WARM_UP_SECONDS, args.connections)
            before = _pay_all(port, token, ids, args.seconds, args.connections)
            before["healthz_rps"] = rp.load(f"http://127.0.0.1:{port}/healthz", None, args)["rps"]
            rp._stop(proc)
            proc = None
        proc, port = rp._serve(env, args.workers)
        token = rp._login(port, FINANCE_PHONE, "staff")
        _pay_all(port, token, ids, rp.WARM_UP_SECONDS, args.connections)  # first-use costs
        paid = _pay_all(port, token, ids, args.seconds, args.connections)
        health = rp.load(f"http://127.0.0.1:{port}/healthz", None, args)
        rp._stop(proc)
        proc = None
        ok, entries, problems = _verified(env)
        return {"backend": backend, "loans": len(ids), **paid, "healthz_rps": health["rps"],
                "healthz_p99_ms": health["p99_ms"], "ledger_verified": ok, "entries": entries,
                "problems": problems, **({"before": before} if before is not None else {})}
    finally:
        if proc is not None:
            rp._stop(proc)
        if pg_name is not None:
            rp._drop(pg_name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--loans", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads for /healthz")
    parser.add_argument("--backends", default="postgresql,sqlite")
    parser.add_argument("--baseline-src", metavar="SRC", help="first serve the code in SRC (a checkout's src/, put "
                        "on PYTHONPATH) on the same loans, for a before/after in one run")
    args = parser.parse_args()
    load_before = rp._uptime()
    print(f"load before: {load_before}")
    backends = [b for b in args.backends.split(",")
                if b == "sqlite" or (b == "postgresql" and os.environ.get("MICROCREDIT_TEST_POSTGRES_URL"))]
    results = []
    for backend in backends:
        r = bench_backend(backend, args)
        results.append(r)
        print(f"{backend:>10}: {r['repayments_per_s']:>8} repayments/s  p50 {r['p50_ms']} ms  p95 {r['p95_ms']} ms  "
              f"p99 {r['p99_ms']} ms   | /healthz {r['healthz_rps']} req/s (p99 {r['healthz_p99_ms']} ms)   "
              f"ledger verified {r['ledger_verified']} ({r['entries']} entries)   outcomes {r['outcomes']}",
              flush=True)
        if "before" in r:
            b = r["before"]
            print(f"{'before':>10}: {b['repayments_per_s']:>8} repayments/s  p50 {b['p50_ms']} ms  "
                  f"p95 {b['p95_ms']} ms  p99 {b['p99_ms']} ms   | /healthz {b['healthz_rps']} req/s   "
                  f"outcomes {b['outcomes']}   (the code in {args.baseline_src})", flush=True)
    first = results[0]
    print(json.dumps({"repayments_per_s": first["repayments_per_s"], "p50_ms": first["p50_ms"],
                      "p95_ms": first["p95_ms"], "p99_ms": first["p99_ms"], "healthz_rps": first["healthz_rps"],
                      "ledger_verified": all(r["ledger_verified"] for r in results), "outcomes": first["outcomes"],
                      "backends": results, "load_before": load_before,
                      "target": {"repayments_per_s": 1000, "p99_ms": 50, "backend": "postgresql"}}))


if __name__ == "__main__":
    main()
