"""Runs: open a business date, work its tasks (step x partition) in order, finish, retry failures.

`start` opens the run of a date in one transaction: the run, its tasks (every registered step over
every partition of the active loans by id range, all `pending`), and the institution's business
date moved to the date (so what the steps record — an auto-debit's repayment — is dated on it, as
servicing requires). `execute` works the tasks in order, each in a unit of work of its own: the
task is marked `running` (committed, for the monitor), then its loans are done one by one, each in a
savepoint (a loan that fails is a `cob_failures` row and is skipped by the later steps of the run),
and the task's counts and `done` commit with the work. A run killed anywhere resumes at its first
task not done; a task caught half-way had committed nothing, and every step is idempotent (servicing's
advance posts only differences, postings and reminders are keyed), so the resumed run gives what an
uninterrupted one gives. When every task is done the run writes its report and is `done`, or
`done_with_failures` until `retry` has run every failed loan again.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial

import structlog
from sqlalchemy.orm import Session

from microcredit.audit import service as audit
from microcredit.clock import Clock
from microcredit.cob import repository as repo
from microcredit.cob.errors import (
    DateNotAfterBusinessDate,
    PreviousRunUnfinished,
    RetryNotLatest,
    RunInProgress,
    RunNotFinished,
    RunNotFound,
)
from microcredit.cob.models import CobFailure, CobRun, CobTask
from microcredit.cob.service.steps import CobKit, LoanAt, registered, step
from microcredit.db.engine import Database
from microcredit.parties import service as parties
from microcredit.platform.actor import Actor
from microcredit.platform.paging import PageRequest, PageResult, paginate
from microcredit.servicing.service import loans

ERROR_CHARS = 2000
log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Progress:
    """One task finished (for a progress display)."""

    step: str
    partition: int
    partitions: int
    loans: int
    failed: int


Listener = Callable[[Progress], None]


def partitions(ids: list[int], size: int) -> list[tuple[int, int]]:
    """Loan-id ranges of at most `size` loans each, covering `ids` (ascending)."""
    return [(ids[i], ids[min(i + size, len(ids)) - 1]) for i in range(0, len(ids), size)]


def start(*, session: Session, clock: Clock, actor: Actor, institution_id: int, on: date | None,
          partition_size: int, lease_seconds: int, force: bool = False, runner: str = "in_process") -> CobRun:
    """Open the run of `on` (default: the day after the business date), or give back the unfinished run
    of that date to resume (refused while its heartbeat is fresh, unless `force`)."""
    unfinished = repo.unfinished_run(session, institution_id)
    if unfinished is not None:
        if on is not None and on != unfinished.business_date:
            raise PreviousRunUnfinished(field="business_date",
                                        params={"business_date": unfinished.business_date.isoformat()})
        fresh = clock.now() - unfinished.heartbeat_at < timedelta(seconds=lease_seconds)
        if fresh and not force:
            raise RunInProgress(field="business_date", params={"business_date": unfinished.business_date.isoformat()})
        unfinished.heartbeat_at = clock.now()
        session.flush()
        return unfinished
    today = parties.organisation.business_date(session=session, institution_id=institution_id)
    target = on or today + timedelta(days=1)
    if target <= today:
        raise DateNotAfterBusinessDate(field="business_date", params={"business_date": today.isoformat()})
    now = clock.now()
    run = CobRun(institution_id=institution_id, business_date=target, previous_date=today, status="running",
                 runner=runner, partition_size=partition_size, loans=0, failures=0, started_at=now, heartbeat_at=now,
                 started_by_user_id=actor.user_id)
    repo.add(session, run)
    session.flush()
    ids = loans.active_ids(session=session, institution_id=institution_id)
    ranges = partitions(ids, partition_size)
    run.loans = len(ids)
    everything = [(ids[0], ids[-1])] if ids else [(0, 0)]
    for s in registered():
        for n, (first, last) in enumerate(everything if s.whole is not None else ranges, start=1):
            repo.add(session, CobTask(run_id=run.id, step=s.name, position=s.position, partition=n,
                                      first_loan_id=first, last_loan_id=last, state="pending", loans=0, failed=0,
                                      counts={}, attempts=0, duration_ms=0))
    parties.organisation.close_business_date(session=session, clock=clock, actor=actor,
                                             institution_id=institution_id, new_date=target)
    session.flush()
    audit.record(session=session, clock=clock, actor=actor, action="cob.run_started", entity_type="cob_run",
                 entity_id=run.id, institution_id=institution_id,
                 after={"business_date": target, "previous_date": today, "loans": len(ids),
                        "partitions": len(ranges)})
    return run


# Works the given tasks of one step (task ids) and answers (loans done, loans failed) for each, in order.
StepRunner = Callable[[int, list[int]], list[tuple[int, int]]]


def execute(*, db: Database, kit: CobKit, run_id: int, listener: Listener | None = None,
            runner: StepRunner | None = None) -> None:
    """Work every task of the run not yet done, step after step, then finish the run (resumable).

    `runner` works one step's partitions: by default here, one after the other; the Celery runner
    (`microcredit.worker`) hands them to workers, which may take them in any order or at once."""
    plan = db.run(lambda s: [(t.id, t.step, t.partition, t.state) for t in repo.tasks(s, run_id)], write=False)
    steps: dict[str, list[tuple[int, int, str]]] = {}
    for task_id, name, partition, state in plan:
        steps.setdefault(name, []).append((task_id, partition, state))
    for name, tasks in steps.items():
        todo = [(task_id, partition) for task_id, partition, state in tasks if state != "done"]
        if not todo:
            continue
        if runner is None:
            for task_id, partition in todo:
                loans_done, failed = work_task(db=db, kit=kit, run_id=run_id, task_id=task_id)
                if listener is not None:
                    listener(Progress(name, partition, len(tasks), loans_done, failed))
            continue
        for (_, partition), (loans_done, failed) in zip(todo, runner(run_id, [t for t, _ in todo]), strict=True):
            if listener is not None:
                listener(Progress(name, partition, len(tasks), loans_done, failed))
    db.run(lambda s: _finish(s, kit.clock, run_id))


def work_task(*, db: Database, kit: CobKit, run_id: int, task_id: int) -> tuple[int, int]:
    """One task (a step over a partition): marked running, then its loans done and the task `done`,
    each in a unit of work of its own; a task already done is left as it is. (loans done, failed)."""
    db.run(partial(_mark_running, clock=kit.clock, task_id=task_id))
    return db.run(partial(_work, kit=kit, run_id=run_id, task_id=task_id))


def _mark_running(session: Session, *, clock: Clock, task_id: int) -> None:
    task = _task(session, task_id)
    if task.state != "done":
        task.state, task.started_at = "running", clock.now()
        task.attempts += 1


def _task(session: Session, task_id: int) -> CobTask:
    task = repo.task(session, task_id, for_update=True)
    if task is None:
        raise RunNotFound(field="task_id")
    return task


def _work(session: Session, *, kit: CobKit, run_id: int, task_id: int) -> tuple[int, int]:
    """One task: each active loan of the partition through the step, failures recorded; done with its work."""
    task = _task(session, task_id)
    if task.state == "done":
        return task.loans, task.failed
    # The run row is read, not locked: a lock held for the whole task would make the workers of a step take their
    # partitions one after another. Its heartbeat is written at the task's end (the UPDATE's lock held only to the
    # commit); of two workers writing it, the last write stays.
    run = repo.run(session, run_id)
    if run is None:
        raise RunNotFound(field="run_id")
    began = time.monotonic()
    skipped = {f.loan_id for f in repo.open_failures(session, run_id)}
    the_step = step(task.step)
    if the_step.whole is not None:  # once over the institution: a failure leaves the task to resume
        with session.begin_nested():
            counts = dict(the_step.whole(session, kit, run.institution_id, run.business_date))
        task.loans, task.failed, task.counts = run.loans, 0, counts
        task.state, task.finished_at = "done", kit.clock.now()
        task.duration_ms = int((time.monotonic() - began) * 1000)
        run.heartbeat_at = kit.clock.now()
        session.flush()
        return task.loans, 0
    assert the_step.run is not None
    ids = loans.active_ids(session=session, institution_id=run.institution_id, first=task.first_loan_id,
                           last=task.last_loan_id)
    totals: dict[str, int] = {}
    done = failed = 0
    bulk_done: frozenset[int] = frozenset()
    if the_step.bulk is not None:  # the set-based part first; what it cannot prove goes loan by loan below
        todo = [loan_id for loan_id in ids if loan_id not in skipped]
        try:
            with session.begin_nested():
                bulk = the_step.bulk(session, kit, run.institution_id, run.business_date, todo)
        except Exception:  # the set-based part is an optimisation: on any error every loan goes one by one
            log.exception("cob_bulk_failed", step=task.step, task_id=task.id)
        else:
            bulk_done = bulk.done
            done += len(bulk_done)
            totals["set_based"] = len(bulk_done)  # of the loans done, how many by the set-based part
            for key, value in bulk.counts.items():
                totals[key] = totals.get(key, 0) + value
    for loan_id in ids:
        if loan_id in skipped or loan_id in bulk_done:
            continue
        try:
            with session.begin_nested():
                result = the_step.run(session, kit, LoanAt(run.institution_id, loan_id, run.business_date))
        except Exception as exc:  # one bad loan never stops the portfolio: recorded, skipped, retried later
            failed += 1
            repo.add(session, CobFailure(run_id=run_id, task_id=task.id, loan_id=loan_id, step=task.step,
                                         error=_error_text(exc), at=kit.clock.now(), retried=False))
            continue
        done += 1
        for key, value in result.items():
            totals[key] = totals.get(key, 0) + value
    task.loans, task.failed, task.counts = done, failed, totals
    task.state, task.finished_at = "done", kit.clock.now()
    task.duration_ms = int((time.monotonic() - began) * 1000)
    run.heartbeat_at = kit.clock.now()
    session.flush()
    return done, failed


def _error_text(exc: BaseException) -> str:
    lines = traceback.format_exception_only(type(exc), exc)
    return "".join(lines).strip()[:ERROR_CHARS]


def _run(session: Session, run_id: int) -> CobRun:
    run = repo.run(session, run_id, for_update=True)
    if run is None:
        raise RunNotFound(field="run_id")
    return run


def _finish(session: Session, clock: Clock, run_id: int) -> None:
    run = _run(session, run_id)
    tasks = repo.tasks(session, run_id)
    if any(t.state != "done" for t in tasks):
        return
    before = run.status
    run.failures = repo.open_failure_count(session, run_id)
    run.status = "done_with_failures" if run.failures else "done"
    run.report = report_of(run, tasks)
    if run.finished_at is None or before != run.status:
        run.finished_at = clock.now()
    run.heartbeat_at = clock.now()
    session.flush()
    if before == "running":
        audit.record(session=session, clock=clock, actor=Actor.system(run.institution_id), action="cob.run_finished",
                     entity_type="cob_run", entity_id=run.id, institution_id=run.institution_id,
                     after={"business_date": run.business_date, "status": run.status, "failures": run.failures})


def report_of(run: CobRun, tasks: list[CobTask]) -> dict[str, object]:
    """The run report: per step, partitions, loans, failures, counts and milliseconds."""
    steps: dict[str, dict[str, object]] = {}
    for t in tasks:
        entry = steps.setdefault(t.step, {"position": t.position, "partitions": 0, "loans": 0, "failed": 0,
                                          "duration_ms": 0, "counts": {}})
        entry["partitions"] = int(str(entry["partitions"])) + 1
        entry["loans"] = int(str(entry["loans"])) + t.loans
        entry["failed"] = int(str(entry["failed"])) + t.failed
        entry["duration_ms"] = int(str(entry["duration_ms"])) + t.duration_ms
        counts = entry["counts"]
        assert isinstance(counts, dict)
        for key, value in t.counts.items():
            counts[key] = counts.get(key, 0) + value
    return {"business_date": run.business_date.isoformat(), "loans": run.loans, "failures": run.failures,
            "steps": steps}


def retry(*, db: Database, kit: CobKit, institution_id: int, run_id: int) -> tuple[int, int]:
    """Run every failed loan of the latest run again, from the step it failed through the last one;
    returns (fixed, still failing). Each loan in a unit of work of its own."""
    def check(session: Session) -> list[int]:
        run = _run(session, run_id)
        if run.institution_id != institution_id:
            raise RunNotFound(field="run_id")
        if run.status == "running":
            raise RunNotFinished(field="run_id")
        latest = repo.latest_run(session, institution_id)
        if latest is None or latest.id != run.id:
            raise RetryNotLatest(field="run_id")
        return sorted({f.loan_id for f in repo.open_failures(session, run_id)})

    fixed = failing = 0
    for loan_id in db.run(check):
        if db.run(partial(_retry_loan, kit=kit, run_id=run_id, loan_id=loan_id)):
            fixed += 1
        else:
            failing += 1
    db.run(lambda s: _after_retry(s, kit.clock, run_id, fixed, failing))
    return fixed, failing


def _retry_loan(session: Session, *, kit: CobKit, run_id: int, loan_id: int) -> bool:
    run = _run(session, run_id)
    open_rows = [f for f in repo.open_failures(session, run_id) if f.loan_id == loan_id]
    if not open_rows:
        return True
    first = min(step(f.step).position for f in open_rows)
    try:
        with session.begin_nested():
            for s in registered():
                if s.position >= first and s.run is not None:
                    s.run(session, kit, LoanAt(run.institution_id, loan_id, run.business_date))
    except Exception as exc:  # still failing: kept open with the new error
        for f in open_rows:
            f.retry_result = _error_text(exc)
        session.flush()
        return False
    for f in open_rows:
        f.retried, f.retry_result = True, "fixed"
    session.flush()
    return True


def _after_retry(session: Session, clock: Clock, run_id: int, fixed: int, failing: int) -> None:
    run = _run(session, run_id)
    run.failures = repo.open_failure_count(session, run_id)
    run.status = "done_with_failures" if run.failures else "done"
    run.report = report_of(run, repo.tasks(session, run_id))
    session.flush()
    audit.record(session=session, clock=clock, actor=Actor.system(run.institution_id), action="cob.run_retried",
                 entity_type="cob_run", entity_id=run.id, institution_id=run.institution_id,
                 after={"fixed": fixed, "failing": failing, "status": run.status})


# --- reads ------------------------------------------------------------------------------------------------


def get(*, session: Session, institution_id: int, run_id: int) -> CobRun:
    """A run of the institution."""
    run = repo.run(session, run_id)
    if run is None or run.institution_id != institution_id:
        raise RunNotFound(field="run_id")
    return run


def tasks(*, session: Session, run: CobRun) -> list[CobTask]:
    """A run's tasks in order."""
    return repo.tasks(session, run.id)


def failures(*, session: Session, run: CobRun) -> list[CobFailure]:
    """A run's failures."""
    return repo.failures(session, run.id)


def list_runs(*, session: Session, institution_id: int, page: PageRequest) -> PageResult[CobRun]:
    """A page of the institution's runs, newest date first."""
    return paginate(session, repo.runs_query(institution_id=institution_id), page)


def latest(*, session: Session, institution_id: int) -> CobRun | None:
    """The institution's latest run."""
    return repo.latest_run(session, institution_id)
