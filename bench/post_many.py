"""The ledger's `post_many` per entry: CPU time and statements, commit and audit seal included, beside a baseline.

    .venv/bin/python bench/post_many.py [--backends sqlite,postgresql] [--batches 20] [--singles 300]
                                        [--baseline-src /tmp/before/src] [--profile out.prof]

Issues 17 and 18 (task led24). `ledger.posting.post_many` writes every money movement; two shapes pay for it:

* **batch**: 500 drafts of 2 lines in one call (close of business's classify step on a portfolio's first day:
  one provision entry per loan, `cob.service.steps._classify_moved`), `--batches` units of work;
* **single**: 1 draft of 5 lines (a repayment's entry: bank against principal, interest, fee and penalty
  receivable), `--singles` units of work.

Each unit of work is timed from its start through its commit and the audit seal that follows it (SQLite seals
in the transaction, `audit.SEALS_AT_COMMIT`; elsewhere the session seals after the commit), on a fresh database
(migrated, one institution with its default chart). Figures: CPU milliseconds per entry (`time.process_time`:
firmer than wall clock on a shared machine), wall milliseconds per entry, SQL statements per unit of work. After
the runs the books are checked (`ledger verify`'s balance check: every entry's lines balance) and the audit chain
verified with nothing left unsealed. With `--baseline-src SRC` the same measure runs first in a child process on
the code in SRC (``git archive <commit> src | tar -x -C /tmp/before``). Last line: one JSON object.
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
from datetime import date
from pathlib import Path
from typing import Any

SRC = os.environ.get("POST_MANY_SRC") or str(Path(__file__).resolve().parents[1] / "src")
sys.path.insert(0, SRC)

from sqlalchemy import event, func, select  # noqa: E402

from microcredit.audit import service as audit  # noqa: E402
from microcredit.audit.models import AuditRecord  # noqa: E402
from microcredit.clock import SystemClock  # noqa: E402
from microcredit.db.engine import Database, make_engine  # noqa: E402
from microcredit.db.migrate import upgrade  # noqa: E402
from microcredit.ledger import service as ledger  # noqa: E402
from microcredit.ledger.models import JournalEntry, JournalLine  # noqa: E402
from microcredit.lending.money import Money  # noqa: E402
from microcredit.parties.service import organisation  # noqa: E402
from microcredit.platform.actor import Actor  # noqa: E402

DAY = date(2026, 12, 5)
M = ledger.DEFAULT_POSTING_MAP


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


def _provision(n: int) -> ledger.posting.Draft:
    amount = Money(1000 + n % 97, "CNY")
    return ledger.posting.Draft(f"贷款损失准备 L{n} / loan loss provision",
                                [ledger.Posting(M.provision_expense, ledger.Side.DEBIT, amount),
                                 ledger.Posting(M.loss_provision, ledger.Side.CREDIT, amount)],
                                ledger.Source("cob_provision", f"{n}:{DAY.isoformat()}:0:{amount.minor}"), "accrual")


def _repayment(n: int) -> ledger.posting.Draft:
    parts = [(M.loan_principal, 40_000), (M.interest_receivable, 3_000), (M.fee_receivable, 500),
             (M.penalty_receivable, 120 + n % 7)]
    total = sum(minor for _code, minor in parts)
    credits = [ledger.Posting(code, ledger.Side.CREDIT, Money(minor, "CNY")) for code, minor in parts]
    return ledger.posting.Draft(f"贷款还款 R{n} / loan repayment",
                                [ledger.Posting(M.bank, ledger.Side.DEBIT, Money(total, "CNY")), *credits],
                                ledger.Source("loan_event", f"{n}:both"), "both")


def _measure(url: str, batches: int, singles: int, profile: str | None) -> dict[str, Any]:
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    db = Database(url)
    clock = SystemClock()
    with db.unit_of_work() as s:
        inst = organisation.create_institution(session=s, clock=clock, actor=Actor.system(), code="BENCH",
                                               name="bench", business_date=DAY)
        inst_id = inst.id
    actor = Actor.system(inst_id)
    statements = [0]

    @event.listens_for(db.engine, "before_cursor_execute")
    def _count(*_a: Any) -> None:
        statements[0] += 1

    def one(drafts: list[ledger.posting.Draft]) -> None:
        with db.unit_of_work() as s:
            ledger.posting.post_many(session=s, clock=clock, actor=actor, institution_id=inst_id, business_date=DAY,
                                     drafts=drafts, not_after=DAY)

    out: dict[str, Any] = {}
    n = 0
    profiler = None
    if profile:
        import cProfile
        profiler = cProfile.Profile()
    for shape, units, size, make in (("batch", batches, 500, _provision), ("single", singles, 1, _repayment)):
        one([make(10_000_000 + k) for k in range(size)])  # warm: statement caches, the chart's cache
        n_before, cpu, wall = statements[0], 0.0, 0.0
        for _ in range(units):
            drafts = [make(n + k) for k in range(size)]
            n += size
            if profiler:
                profiler.enable()
            c0, t0 = time.process_time(), time.perf_counter()
            one(drafts)
            cpu += time.process_time() - c0
            wall += time.perf_counter() - t0
            if profiler:
                profiler.disable()
        entries = units * size
        out[shape] = {"cpu_ms_per_entry": round(1000 * cpu / entries, 4), "wall_ms_per_entry": round(
            1000 * wall / entries, 4), "statements_per_unit": round((statements[0] - n_before) / units, 2),
            "entries": entries}
    if profiler and profile:
        profiler.dump_stats(profile)
    audit.seal_left(db)
    with db.unit_of_work(write=False) as s:
        unbalanced = s.execute(select(JournalLine.entry_id).group_by(JournalLine.entry_id, JournalLine.currency)
                               .having(func.sum(JournalLine.debit_minor) != func.sum(JournalLine.credit_minor))
                               .limit(1)).first()
        entries_count = s.scalar(select(func.count()).select_from(JournalEntry))
        audited = s.scalar(select(func.count()).select_from(AuditRecord).where(
            AuditRecord.entity_type == "ledger_entry"))
        unsealed = s.scalar(select(AuditRecord.id).where(AuditRecord.seq.is_(None)).limit(1))
        verified = audit.verify(session=s)
    db.dispose()
    out["books_balanced"] = unbalanced is None
    out["every_entry_audited"] = entries_count == audited
    out["audit_verified"] = verified.ok and unsealed is None
    return out


def _child(args: argparse.Namespace, src: str, backend: str) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", backend, "--batches", str(args.batches), "--singles",
           str(args.singles)]
    done = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "POST_MANY_SRC": src}, check=False)
    if done.returncode:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"the run on {src} failed")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _one_backend(backend: str, batches: int, singles: int, profile: str | None) -> dict[str, Any] | None:
    with tempfile.TemporaryDirectory() as tmp:
        name = f"bench_post_many_{uuid.uuid4().hex[:8]}"
        url = _url(backend, Path(tmp), name)
        if url is None:
            return None
        try:
            return _measure(url, batches, singles, profile)
        finally:
            _drop(backend, name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--batches", type=int, default=20, help="units of work of 500 two-line entries")
    parser.add_argument("--singles", type=int, default=300, help="units of work of one five-line entry")
    parser.add_argument("--baseline-src", metavar="SRC")
    parser.add_argument("--profile", metavar="PATH", help="cProfile the timed units (PATH.<backend>)")
    parser.add_argument("--child", metavar="BACKEND", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_one_backend(args.child, args.batches, args.singles, None)))
        return
    load = subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()
    print(f"load before: {load}", flush=True)
    results: dict[str, Any] = {}
    for backend in args.backends.split(","):
        runs: dict[str, Any] = {}
        if args.baseline_src:
            runs["baseline"] = _child(args, str(Path(args.baseline_src).resolve()), backend)
        fig = _one_backend(backend, args.batches, args.singles,
                           f"{args.profile}.{backend}" if args.profile else None)
        if fig is None:
            continue
        runs["this"] = fig
        for label, r in runs.items():
            for shape in ("batch", "single"):
                f = r[shape]
                print(f"{backend:10} {label:8} {shape:6} {f['cpu_ms_per_entry']:8.3f} CPU ms/entry "
                      f"{f['wall_ms_per_entry']:8.3f} wall ms/entry {f['statements_per_unit']:7.1f} stmts/unit  "
                      f"balanced {r['books_balanced']} audited {r['every_entry_audited']} "
                      f"verified {r['audit_verified']}", flush=True)
        results[backend] = runs
    load_after = subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()
    print(json.dumps({"bench": "post_many", "load_before": load, "load_after": load_after, "results": results}))


if __name__ == "__main__":
    main()
