"""One business day of close of business over N active loans: loans/s per step and in total, peak memory.

    .venv/bin/python bench/cob.py [N] [--backends sqlite,postgresql] [--partition 2000] [--templates 12] [--days 1]

Issue 18's benchmark (not a test). For each backend -- PostgreSQL when `MICROCREDIT_TEST_POSTGRES_URL`
names a server (``set -a; . /tmp/mc-svc-main/env; set +a``), SQLite always (a file, WAL) -- and for two
sizes, N/10 (the baseline) and N, a fresh database is migrated and filled:

1. by the real operations: the demo (`microcredit.demo.seed`), two bench products (one with a guarantee
   fee per installment and a 50 % uplift penalty after 3 days' grace, one without fee and a margin penalty
   without grace) and `--templates` loans over both products, the three repayment methods and 6 and 12
   months -- each applied for, decided, its contract signed, opened and paid out through the services; the
   business date moved to the first due date, where nine of every ten templates are repaid what is due and
   the tenth is not (10 % overdue); then moved 12 days on;
2. DIRECTLY in the database (allowed for a bench only): each template's application, loan and event rows
   copied in bulk, with new ids and numbers, until there are N loans -- what servicing stores for a loan
   (its terms, events, the cached fold and the books' snapshot); the copies have no journal entries of
   their own (the bench does not verify the books).

Then ONE business day of close of business runs in a child process (`cob.runs.start` + `execute`, the
in-process runner, partitions of `--partition` loans; with `--days K`, K days one after the other in that
process, the last one measured: the steady state, where yesterday's close was made) and reports each
step's loans/s (from the run's own per-task durations), the whole day's seconds and loans/s, its CPU
seconds and SQL statements per loan (what load on a shared machine moves least) — in all, and per step inside
the step's own functions (`cpu_ms_per_loan`, `statements_per_loan`: the runner's claims, savepoints and commits
around them are in the total only) —, and the child's own peak resident memory (`VmHWM`; `_peak_mb` says
why not `ru_maxrss`); `--memory` follows the child with tracemalloc (what it holds after each day, its largest
holders); `--profile PATH` runs the measured day under cProfile (statistics in `PATH.<backend>.<n>`, read with
`python -m pstats`; that run's CPU figures are cProfile's too). With `--cold` the days before the
measured one are closed in another process, so the measured day's process starts with nothing kept (yesterday's
folds, the parsed terms and events): at 1,000,000 loans the overdue tenth is more than those caches hold, so most of
it meets every day what a cold process meets.
With `--baseline-src DIR/src` the filled database is copied first and the same day
is closed on the copy by that source tree's code (e.g. `git archive <commit> src | tar -x -C DIR`): the
baseline before a change and the figures after it, on the same loans in the same run. `scaling_ratio`
compares the time per loan at N with that at N/10 on PostgreSQL (SQLite when there is no PostgreSQL):
1.0 is linear in N, above 1 grows faster.

Last line: one JSON object with `n`, `pg_seconds`, `pg_peak_mb`, `sqlite_seconds`, `sqlite_peak_mb`,
`scaling_ratio`, the same per size under the size's name (`pg_1m_seconds`, `pg_1m_peak_mb`, `pg_100k_seconds`,
...) and every figure per backend and size.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, insert, make_url, select, text

sys.path.insert(0, str(Path(__file__).parent))

import request_path as rp
from microcredit.config import Settings
from microcredit.contracts import service as contracts
from microcredit.contracts import signing
from microcredit.db.engine import make_engine
from microcredit.db.migrate import upgrade
from microcredit.demo import _as, _product_terms, demo_id_number, seed
from microcredit.identity import service as identity
from microcredit.lending.money import Money
from microcredit.origination import service as origination
from microcredit.origination.models import Application
from microcredit.origination.schemas import ApplicationCreate
from microcredit.parties import service as parties
from microcredit.parties.models import Branch
from microcredit.parties.service.borrowers import NewBorrower
from microcredit.platform.actor import Actor, RequestMeta
from microcredit.products import service as products
from microcredit.risk.assessment import Assessment, Decision
from microcredit.runtime import build_runtime
from microcredit.servicing.models import Loan, LoanEvent
from microcredit.servicing.service import loans
from microcredit.worker import ProcessRunner

OFFICER_PHONE = "13900000002"  # 李强, the demo's loan officer at branch BR01
METHODS = ("equal_installment", "equal_principal", "interest_monthly_principal_at_maturity")
PRODUCTS = {
    "BENCHA": {"fees": [{"name": "担保费", "kind": "per_installment", "percent": "0.02", "payee": "guarantor"}],
               "penalty": {"basis": "uplift", "value_percent": "50", "grace_days": 3}},
    "BENCHB": {"fees": [], "day_count": "ACT/365F", "penalty": {"basis": "margin", "value_percent": "6",
                                                                "grace_days": 0}},
}
OVERDUE_EVERY = 10  # one template in ten is not repaid: 10 % of the loans are overdue
DAYS_AFTER_DUE = 12
COPY_BATCH = 5000


def _approve(session: Any, facts: Any) -> Assessment:
    """An assessor that approves at grade B (the bench measures the close of business, not the review)."""
    return Assessment(decision=Decision.APPROVE, results=(), rule_set="bench@1", score=720, grade="B")


def _settings(url: str, data_dir: Path) -> Settings:
    return Settings(database_url=url, data_dir=data_dir, outbox_poll_seconds=0)


def _templates(url: str, data_dir: Path, count: int) -> tuple[list[int], date]:
    """The demo, the bench products and `count` loans by the real operations (module docstring, 1)."""
    runtime = build_runtime(_settings(url, data_dir))
    assert runtime.db.engine is not None
    upgrade(runtime.db.engine)
    kit = runtime.identity
    with runtime.db.unit_of_work() as session:
        seed(session=session, kit=kit)
        inst = parties.organisation.institution_by_code(session=session, code="DEMO")
        actor = Actor.system(inst.id)
        for code, changes in PRODUCTS.items():
            terms = _product_terms(
                date(inst.business_date.year, 1, 1), name_zh=f"压测{code}", name_en=f"Benchmark {code}",
                amount_min="1000.00", amount_max="30000.00", term_min=6, term_max=12,
                repayment_methods=list(METHODS),
                rate={"kind": "by_grade", "grades": {"A": "7.2", "B": "8.4", "C": "9.6", "D": "10.5", "E": "11.4"}},
                customer_types=["consumer"], required_documents=[],
                approval_policy=[{"up_to_amount": "30000.00", "worst_grade": "E", "levels": 1}], **changes)
            products.catalogue.create_product(session=session, clock=kit.clock, actor=actor, institution_id=inst.id,
                                              code=code, terms=terms)
            products.catalogue.publish(session=session, clock=kit.clock, actor=actor, institution_id=inst.id,
                                       institution_kind=inst.kind, business_date=inst.business_date, code=code,
                                       number=1, calendars=products.calendar.calendars_of(session=session,
                                                                                          institution_id=inst.id))
    signing.init_demo_ca(runtime.settings.data_dir.resolve(), now=kit.clock.now())
    files = contracts.contracts.Files(storage=runtime.files, signer=signing.signer_files(runtime.settings))
    ids: list[int] = []
    with runtime.db.unit_of_work() as session:
        inst = parties.organisation.institution_by_code(session=session, code="DEMO")
        branch_id = session.scalar(select(Branch.id).where(Branch.institution_id == inst.id, Branch.code == "BR01"))
        officer_id = identity.accounts.user_ids_by_phone(session=session, kit=kit, phone=OFFICER_PHONE,
                                                         kind="staff")[0]
        officer = _as(officer_id, "loan_officer", inst.id, branch_id, "李强")
        for n in range(count):
            phone = f"137{n:08d}"
            data = NewBorrower(real_name=f"日终{n:03d}", id_number=demo_id_number("360102", date(1980, 1, 1 + n % 28),
                                                                                   300 + n), phone=phone,
                               customer_type="consumer", occupation="职员",
                               monthly_income=Money.parse("9000.00", "CNY"))
            user = identity.accounts.create_user(session=session, kit=kit, institution_id=inst.id, kind="borrower",
                                                 phone=phone, display_name=data.real_name, password=None,
                                                 role_codes=("borrower",))
            borrower = parties.borrowers.create_profile(
                session, kit, institution_id=inst.id, data=data, user=user, channel="branch", branch_id=branch_id,
                registered_by=None, resident=parties.borrowers.parse_id_number(data.id_number,
                                                                               on=inst.business_date))
            plan = ApplicationCreate(product_code=list(PRODUCTS)[n % 2],
                                     amount=Money.parse(f"{5000 + 1000 * (n % 20)}.00", "CNY"),
                                     term=(6, 12)[(n // 2) % 2], repayment_method=METHODS[(n // 4) % 3],
                                     purpose="consumption")
            draft = origination.applications.create_walk_in(session=session, kit=kit, principal=officer,
                                                             borrower_id=borrower.id, plan=plan, device_id=None,
                                                             ip=None)
            origination.applications.submit(session=session, kit=kit, principal=officer, application_id=draft.id,
                                            own=False, assess=_approve, language="zh-CN", notify=False)
            contract = contracts.contracts.open_contract(session=session, kit=kit, files=files, principal=officer,
                                                         application_id=draft.id, own=False)
            index = identity.accounts.phone_index(kit, phone)
            kit.codes.save(session=session, phone_index=index, purpose=contracts.contracts.SIGN_PURPOSE,
                           code_hash=identity.smscodes.code_hash(kit, index, contracts.contracts.SIGN_PURPOSE,
                                                                 "246810"))
            contracts.contracts.sign(session=session, kit=kit, files=files,
                                     principal=_as(user.id, "borrower", inst.id, None, data.real_name),
                                     application_id=draft.id, sms_code="246810", document_sha256=contract.pdf_sha256,
                                     device_id=None, meta=RequestMeta(ip="127.0.0.1"), notify=False)
            loan = loans.open_loan(session=session, clock=kit.clock, actor=Actor.system(inst.id),
                                   institution_id=inst.id, application_id=draft.id)
            loans.disburse(session=session, clock=kit.clock, actor=Actor.system(inst.id), institution_id=inst.id,
                           loan_id=loan.id, on=None)
            ids.append(loan.id)
    with runtime.db.unit_of_work() as session:
        inst = parties.organisation.institution_by_code(session=session, code="DEMO")
        actor = Actor.system(inst.id)
        due = min(loans.get(session=session, institution_id=inst.id, loan_id=i).next_due_date or date.max
                  for i in ids)
        parties.organisation.set_business_date_as(session=session, clock=kit.clock, actor=actor,
                                                  institution_id=inst.id, new_date=due, override_allowed=True)
    with runtime.db.unit_of_work() as session:
        for n, loan_id in enumerate(ids):
            if n % OVERDUE_EVERY == OVERDUE_EVERY - 1:
                continue
            loan = loans.get(session=session, institution_id=inst.id, loan_id=loan_id)
            state = loans.state_of(session=session, loan=loan, as_of=due)
            owed = state.due_now.total
            if owed.is_positive:
                loans.repay(session=session, clock=kit.clock, actor=actor, institution_id=inst.id, loan_id=loan_id,
                            amount=owed, on=due)
        day = due + timedelta(days=DAYS_AFTER_DUE)
        parties.organisation.set_business_date_as(session=session, clock=kit.clock, actor=actor,
                                                  institution_id=inst.id, new_date=day, override_allowed=True)
    runtime.close()
    return ids, day


def _copy(url: str, data_dir: Path, templates: list[int], n: int) -> None:
    """Bulk copies of the templates' application, loan and event rows until there are `n` loans (docstring, 2)."""
    runtime = build_runtime(_settings(url, data_dir))
    apps, loans_t, events_t = Application.__table__, Loan.__table__, LoanEvent.__table__
    with runtime.db.unit_of_work() as session:
        tloans = {r["id"]: dict(r) for r in session.execute(select(loans_t).where(loans_t.c.id.in_(templates)))
                  .mappings()}
        tapps = {r["id"]: dict(r) for r in session.execute(
            select(apps).where(apps.c.id.in_([x["application_id"] for x in tloans.values()]))).mappings()}
        tevents: dict[int, list[dict[str, Any]]] = {}
        for r in session.execute(select(events_t).where(events_t.c.loan_id.in_(templates))
                                 .order_by(events_t.c.loan_id, events_t.c.seq)).mappings():
            row = dict(r)
            row.pop("id")
            tevents.setdefault(row["loan_id"], []).append(row)
        next_app = (session.scalar(select(func.max(apps.c.id))) or 0) + 1
        next_loan = (session.scalar(select(func.max(loans_t.c.id))) or 0) + 1
    copies = n - len(templates)
    order = sorted(templates)
    for start in range(0, copies, COPY_BATCH):
        a_rows, l_rows, e_rows = [], [], []
        for k in range(start, min(start + COPY_BATCH, copies)):
            template = tloans[order[k % len(order)]]
            app = {**tapps[template["application_id"]], "id": next_app + k, "number": f"BA{k:09d}"}
            loan = {**template, "id": next_loan + k, "application_id": next_app + k, "number": f"BL{k:09d}"}
            a_rows.append(app)
            l_rows.append(loan)
            e_rows.extend({**e, "loan_id": next_loan + k, "idempotency_key": None}
                          for e in tevents[template["id"]])
        with runtime.db.unit_of_work() as session:
            session.execute(insert(apps), a_rows)
            session.execute(insert(loans_t), l_rows)
            session.execute(insert(events_t), e_rows)
    if url.startswith("postgresql"):
        with runtime.db.unit_of_work() as session:
            for table in ("applications", "loans"):
                session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                     f"(SELECT max(id) FROM {table}))"))
    runtime.close()


def _where(filename: str) -> str:
    return filename.split("site-packages/")[-1].split("/src/")[-1]


def _peak_mb() -> int:
    """This process's own peak resident memory (MB): `VmHWM` of /proc/self/status on Linux. Not
    `getrusage(RUSAGE_SELF).ru_maxrss`: for a child made by fork and exec, Linux carries the forking parent's peak
    over into it at exec (fs/exec.c keeps the larger of the two in `signal->maxrss`), so the child of a parent that
    filled 30,000 loans reported the parent's 2 GB as its own. Elsewhere, `ru_maxrss`."""
    with contextlib.suppress(OSError), open("/proc/self/status") as status:  # Linux only
        for line in status:
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def _memory_now(label: str, memory: list[dict[str, Any]], top: int = 12) -> None:
    """With `--memory`: what Python holds now (tracemalloc: current, peak since the last mark, the largest
    holders by file and line) and the process's peak resident memory so far."""
    import tracemalloc

    if not tracemalloc.is_tracing():
        return
    current, peak = tracemalloc.get_traced_memory()
    stats = tracemalloc.take_snapshot().filter_traces(
        (tracemalloc.Filter(False, tracemalloc.__file__),)).statistics("lineno")
    memory.append({"at": label, "traced_mb": round(current / 2**20, 1), "traced_peak_mb": round(peak / 2**20, 1),
                   "rss_peak_mb": _peak_mb(),
                   "top": [f"{s.size / 2**20:.1f} MB {s.count} blocks {_where(s.traceback[0].filename)}:"
                           f"{s.traceback[0].lineno}" for s in stats[:top]]})
    tracemalloc.reset_peak()


def child(url: str, data_dir: Path, partition: int, days: int = 1, trace_memory: bool = False,
          profile: str | None = None, unmeasured: bool = False, processes: int = 0) -> None:
    """One business day of close of business; prints the figures as JSON (run in a process of its own).
    With `days` > 1 the days before it are closed first, not measured (the steady state: the loans' standing
    and features rows exist, yesterday's close was made). With `trace_memory` (`--memory`) tracemalloc follows
    the process: what it holds after the setup and after each day (the JSON's `memory`; it slows the run, so
    the CPU figures of such a run are not the day's). With `profile` (`--profile`) the measured day runs under
    cProfile, its statistics written to that file (`python -m pstats`; the CPU figures are then cProfile's too)."""
    import cProfile
    import tracemalloc

    from microcredit.cob import service as cob
    from microcredit.cob.models import CobRun

    memory: list[dict[str, Any]] = []
    if trace_memory:
        tracemalloc.start()

    runtime = build_runtime(_settings(url, data_dir))
    kit = runtime.cob
    with runtime.db.unit_of_work() as session:
        inst = parties.organisation.institution_by_code(session=session, code="DEMO")
        inst_id = inst.id
    statements = [0]

    def count(*_: Any) -> None:
        statements[0] += 1

    _memory_now("setup", memory)
    # The days before the measured one (`--cold`: all of this process's days) on a pool of their own when the
    # measured day has one: the first day over copied loans is the heavy one (every overdue loan's case opened).
    warm_pool = ProcessRunner(runtime.settings, processes) if processes and unmeasured else None
    for day in range(days if unmeasured else days - 1):
        warm = runtime.db.run(lambda s: cob.runs.start(session=s, clock=kit.clock, actor=Actor.system(inst_id),
                                                       institution_id=inst_id, on=None, partition_size=partition,
                                                       lease_seconds=kit.lease_seconds).id)
        cob.runs.execute(db=runtime.db, kit=kit, run_id=warm, runner=warm_pool)
        _memory_now(f"day {day + 1}", memory)
    if warm_pool is not None:
        warm_pool.close()
    if unmeasured:
        runtime.close()
        print("{}")
        return
    assert runtime.db.engine is not None
    per_step = _measure_steps(cob.steps)
    overdue = _measure_overdue()
    event.listen(runtime.db.engine, "before_cursor_execute", count)
    event.listen(runtime.db.engine, "before_cursor_execute", per_step.statement)
    profiler = cProfile.Profile() if profile else None
    pool = ProcessRunner(runtime.settings, processes) if processes else None
    pool_before = pool.usage() if pool is not None else []  # started and built before the day (not measured)
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    began = time.perf_counter()
    if profiler is not None:
        profiler.enable()
    run_id = runtime.db.run(lambda s: cob.runs.start(session=s, clock=kit.clock, actor=Actor.system(inst_id),
                                                     institution_id=inst_id, on=None, partition_size=partition,
                                                     lease_seconds=kit.lease_seconds).id)
    cob.runs.execute(db=runtime.db, kit=kit, run_id=run_id, runner=pool)
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(profile)
    seconds = time.perf_counter() - began
    used = resource.getrusage(resource.RUSAGE_SELF)
    pool_after = pool.usage() if pool is not None else []
    if pool is not None:
        pool.close()
    pool_cpu = sum(after[1] - before[1] for before, after in zip(pool_before, pool_after, strict=True))
    pool_peaks = [round(after[2] / 1024) for after in pool_after]
    _memory_now(f"day {days} (measured)", memory)
    cpu_seconds = used.ru_utime + used.ru_stime - cpu.ru_utime - cpu.ru_stime + pool_cpu
    day_statements = statements[0]
    with runtime.db.unit_of_work(write=False) as session:
        run = session.get(CobRun, run_id)
        assert run is not None
        report, status, n = run.report, run.status, run.loans
    runtime.close()
    steps = {name: {"loans": s["loans"], "failed": s["failed"], "seconds": s["duration_ms"] / 1000,
                    "loans_per_s": round(s["loans"] / max(s["duration_ms"] / 1000, 1e-3))}
             for name, s in (report or {}).get("steps", {}).items()}
    for name, figures in steps.items():  # inside the step's own functions (the runner's work around them apart)
        if processes:
            break  # measured in this process only: the pool's processes are not
        inside = per_step.figures.get(name, [0.0, 0])
        figures["cpu_ms_per_loan"] = round(1000 * inside[0] / max(n, 1), 3)
        figures["statements_per_loan"] = round(inside[1] / max(n, 1), 2)
    print(json.dumps({"loans": n, "status": status, "seconds": round(seconds, 2),
                      "cpu_seconds": round(cpu_seconds, 2), "statements_per_loan":
                      None if processes else round(day_statements / max(n, 1), 1),
                      "loans_per_s": round(n / seconds), "peak_mb": _peak_mb() + sum(pool_peaks),
                      "processes": processes, "process_peaks_mb": pool_peaks,
                      "rusage_peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                      "steps": steps, "overdue": None if processes else {"loans": overdue[1], "cpu_ms_per_overdue_loan":
                                                  round(1000 * overdue[0] / max(overdue[1], 1), 3),
                                                  "gc_ms_per_overdue_loan":
                                                  round(1000 * overdue[2] / max(overdue[1], 1), 3)},
                      **({"memory": memory} if memory else {})}))


class _PerStep:
    """CPU seconds (`time.process_time`) and SQL statements spent inside each step's functions (its set-based
    part, its per-loan function, its institution-wide one), by step name."""

    def __init__(self) -> None:
        self.figures: dict[str, list[float]] = {}
        self.current: str | None = None

    def statement(self, *_: Any) -> None:
        if self.current is not None:
            self.figures.setdefault(self.current, [0.0, 0])[1] += 1

    def wrap(self, name: str, fn: Any) -> Any:
        if fn is None:
            return None

        def timed(*args: Any, **kwargs: Any) -> Any:
            outer, self.current = self.current, name
            began = time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                self.figures.setdefault(name, [0.0, 0])[0] += time.process_time() - began
                self.current = outer
        return timed


def _measure_steps(steps: Any) -> _PerStep:
    """Each registered step's functions wrapped to count their CPU time and statements (the child only)."""
    import dataclasses

    per = _PerStep()
    for one in steps.registered():
        steps.register(dataclasses.replace(one, run=per.wrap(one.name, one.run), whole=per.wrap(one.name, one.whole),
                                           bulk=per.wrap(one.name, one.bulk)))
    return per


def _measure_overdue() -> list[float]:
    """[CPU seconds, loans, CPU seconds of the garbage collector's passes among them] inside servicing's set-based
    day of the overdue loans (`quiet_overdue.advance_overdue`, part of the advance step), from now on: its cost per
    overdue loan (docs/cob.md "Speed", change 19). The collector's share is apart because a full pass (~0.15 s at
    30,000 loans: it walks the whole heap) lands in whichever code allocates when it is due — in this part or not,
    from run to run. The same function in an older source tree (`--baseline-src`) is measured the same way."""
    import gc

    from microcredit.servicing.service import quiet_overdue

    figures = [0.0, 0, 0.0]
    day_of = quiet_overdue.advance_overdue
    inside = [False]
    began_pass = [0.0]

    def collector(phase: str, _info: dict[str, Any]) -> None:
        if inside[0]:
            if phase == "start":
                began_pass[0] = time.process_time()
            else:
                figures[2] += time.process_time() - began_pass[0]

    def timed(**kwargs: Any) -> Any:
        began = time.process_time()
        inside[0] = True
        try:
            done = day_of(**kwargs)
        finally:
            inside[0] = False
        figures[0] += time.process_time() - began
        figures[1] += len(done.advanced)
        return done

    gc.callbacks.append(collector)
    quiet_overdue.advance_overdue = timed
    return figures


def _twin(backend: str, url: str, tmp: Path) -> tuple[str, str | None]:
    """A copy of the filled database (the same loans for the baseline code): its URL and PostgreSQL name."""
    if backend == "sqlite":
        shutil.copyfile(tmp / "bench.sqlite3", tmp / "baseline.sqlite3")
        return f"sqlite:///{tmp / 'baseline.sqlite3'}", None
    name = f"mc_bench_cob_{uuid.uuid4().hex[:8]}"
    admin = make_engine(os.environ["MICROCREDIT_TEST_POSTGRES_URL"])
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{make_url(url).database}"'))
    admin.dispose()
    return make_url(url).set(database=name).render_as_string(hide_password=False), name


def _close_day(url: str, tmp: Path, partition: int, src: str | None, days: int = 1,
               trace_memory: bool = False, profile: str | None = None, cold: bool = False,
               processes: int = 0) -> dict[str, Any]:
    """The last of `days` days closed in a child process (with `cold`, the days before it in another: the
    measured day's process has kept nothing of them), its figures."""
    env = {**os.environ, "MICROCREDIT_LOG_LEVEL": "WARNING"}
    env.pop("MICROCREDIT_REDIS_URL", None)
    if src is not None:
        env["PYTHONPATH"] = src

    def run(days: int, *extra: str) -> dict[str, Any]:
        out = subprocess.run([sys.executable, __file__, "--child", url, str(tmp), "--partition", str(partition),
                              "--days", str(days), *extra], env=env, capture_output=True, text=True, check=False)
        if out.returncode != 0:
            raise SystemExit(out.stderr[-4000:])
        result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
        return result

    measured = [*(["--memory"] if trace_memory else []), *(["--profile", profile] if profile else []),
                *(["--processes", str(processes)] if processes else [])]
    if cold and days > 1:
        run(days - 1, "--unmeasured", *(["--processes", str(processes)] if processes else []))
        return run(1, *measured)
    return run(days, *measured)


def bench(backend: str, n: int, args: argparse.Namespace) -> dict[str, Any]:
    """A fresh database of `backend` with `n` loans, one day closed in a child process (and, with
    `--baseline-src`, the same day on a copy of the database by that source tree's code first)."""
    tmp = Path(tempfile.mkdtemp(prefix="mc-bench-cob-"))
    url, pg_name = rp._database_url(backend, tmp)
    drop = [pg_name]
    try:
        began = time.perf_counter()
        templates, _ = _templates(url, tmp, min(args.templates, n))
        _copy(url, tmp, templates, n)
        filled = time.perf_counter() - began
        fill_peak = _peak_mb()  # the bench's own process so far (the fills of this and the earlier sizes)
        baseline = None
        if args.baseline_src or args.processes:  # an older tree's code, or this one's in-process runner
            twin_url, twin_name = _twin(backend, url, tmp)
            drop.append(twin_name)
            baseline = _close_day(twin_url, tmp, args.partition, args.baseline_src, args.days, args.memory,
                                  cold=args.cold)
        profile = args.profile and f"{args.profile}.{backend}.{n}"
        result = _close_day(url, tmp, args.partition, None, args.days, args.memory, profile, cold=args.cold,
                            processes=args.processes)
        result.update(backend=backend, n=n, fill_seconds=round(filled, 1), fill_peak_mb=fill_peak, baseline=baseline)
        return result
    finally:
        for name in drop:
            if name is not None:
                rp._drop(name)


def _line(r: dict[str, Any]) -> str:
    def one(label: str, x: dict[str, Any]) -> str:
        steps = "  ".join(f"{k} {v['loans_per_s']}/s" + (f" ({v['cpu_ms_per_loan']} ms, {v['statements_per_loan']} st)"
                                                        if "cpu_ms_per_loan" in v else "")
                          for k, v in x["steps"].items())
        late = x.get("overdue") or {}
        overdue = (f"  overdue tenth {late['loans']} loans, {late['cpu_ms_per_overdue_loan']} ms of CPU each "
                   f"({late.get('gc_ms_per_overdue_loan', 0)} of it the collector's)" if late else "")
        return (f"{label:>10} n={r['n']:>8}: {x['seconds']:>8} s  {x['loans_per_s']:>6} loans/s  "
                f"cpu {x['cpu_seconds']} s  {x['statements_per_loan']} statements/loan  "
                f"peak {x['peak_mb']} MB  status {x['status']}{overdue}\n{'':>12}{steps}")
    text_ = one(r["backend"], r) + f"  (filled in {r['fill_seconds']} s; the bench's own peak {r['fill_peak_mb']} MB)"
    if r.get("baseline"):
        b = r["baseline"]
        text_ = one("baseline", b) + "\n" + text_ + f"\n{'':>12}speed-up x{b['seconds'] / r['seconds']:.2f}"
    for label, x in (("baseline", r.get("baseline") or {}), (r["backend"], r)):
        for mark in x.get("memory", []):
            text_ += (f"\n{'':>12}{label} memory after {mark['at']}: traced {mark['traced_mb']} MB, traced peak "
                      f"{mark['traced_peak_mb']} MB, peak RSS {mark['rss_peak_mb']} MB\n" +
                      "\n".join(f"{'':>16}{line}" for line in mark["top"]))
    return text_


def _size_label(n: int) -> str:
    """1m for 1,000,000, 100k for 100,000, 1500 for 1,500: the size in the summary's key names."""
    for unit, label in ((1_000_000, "m"), (1_000, "k")):
        if n >= unit and n % unit == 0:
            return f"{n // unit}{label}"
    return str(n)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=100_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--partition", type=int, default=2000)
    parser.add_argument("--templates", type=int, default=12)
    parser.add_argument("--baseline-src", help="a source tree (its src/ directory) whose code closes the same day "
                                                   "on a copy of each database first: before/after in one run")
    parser.add_argument("--days", type=int, default=1, help="close this many days, measure the last (the days "
                                                                 "before it bring the loans to a steady state)")
    parser.add_argument("--memory", action="store_true", help="follow the child's memory with tracemalloc (what "
                        "it holds after each day, its largest holders; slows the run)")
    parser.add_argument("--profile", metavar="PATH", help="run the measured day under cProfile, its statistics "
                        "written to PATH.<backend>.<n> (slows the run: its CPU figures are not the day's)")
    parser.add_argument("--cold", action="store_true", help="with --days K > 1: close the first K-1 days in one "
                        "process and measure the last in a new one, which has kept nothing of them (no fold, terms "
                        "or events of yesterday in memory: what most of the overdue tenth meets at 1,000,000 loans, "
                        "more than the process's caches hold)")
    parser.add_argument("--processes", type=int, default=0, help="close the measured day with the pool runner of "
                        "this many local processes (`microcredit cob run --runner processes`), after the same day "
                        "on a twin database in-process as the baseline (0: in-process only)")
    parser.add_argument("--unmeasured", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child", nargs=2, metavar=("URL", "DATA_DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), args.partition, args.days, args.memory, args.profile, args.unmeasured,
              args.processes)
        return
    backends = [b for b in args.backends.split(",")
                if b == "sqlite" or (b == "postgresql" and os.environ.get("MICROCREDIT_TEST_POSTGRES_URL"))]
    results: dict[str, dict[int, dict[str, Any]]] = {}
    for backend in backends:
        for size in (max(args.n // 10, 1), args.n):
            r = bench(backend, size, args)
            results.setdefault(backend, {})[size] = r
            print(_line(r), flush=True)
    lead = "postgresql" if "postgresql" in results else backends[0]
    small, big = results[lead][max(args.n // 10, 1)], results[lead][args.n]
    ratio = (big["seconds"] / big["loans"]) / (small["seconds"] / small["loans"])
    print(f"scaling ({lead}): time per loan at n={args.n} / at n={args.n // 10} = {ratio:.2f} (1.00: linear)")
    summary: dict[str, Any] = {"n": args.n, "scaling_ratio": round(ratio, 2), "scaling_backend": lead}
    for backend, short in (("postgresql", "pg"), ("sqlite", "sqlite")):
        if backend in results:
            for size, r in results[backend].items():  # issue 18's names: pg_1m_seconds, pg_1m_peak_mb, ...
                summary[f"{short}_{_size_label(size)}_seconds"] = r["seconds"]
                summary[f"{short}_{_size_label(size)}_peak_mb"] = r["peak_mb"]
            summary[f"{short}_seconds"] = results[backend][args.n]["seconds"]
            summary[f"{short}_peak_mb"] = results[backend][args.n]["peak_mb"]
            summary[f"{short}_loans_per_s"] = results[backend][args.n]["loans_per_s"]
            summary[f"{short}_statements_per_loan"] = results[backend][args.n]["statements_per_loan"]
            if results[backend][args.n].get("baseline"):
                summary[f"{short}_baseline_seconds"] = results[backend][args.n]["baseline"]["seconds"]
                summary[f"{short}_baseline_statements_per_loan"] = \
                    results[backend][args.n]["baseline"]["statements_per_loan"]
    summary["runs"] = [r for sizes in results.values() for r in sizes.values()]
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
