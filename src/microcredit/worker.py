"""The close of business's workers: partitions worked on other processes (a local pool) or machines (Celery).

    microcredit cob run --runner processes [--processes N]     (a step's partitions on N local processes at once)
    celery -A microcredit.worker worker --concurrency 2        (MICROCREDIT_REDIS_URL is the broker)
    microcredit cob run --runner celery                        (hands each step's partitions to them)

A task is one step over one partition (`cob.service.runs.work_task`): the worker builds the parts the
steps take from the settings (database, clock, keys, payment provider — no web app), works the task
in its own units of work and answers (loans done, loans failed). The runner waits for all the
partitions of a step before sending the next step's, so the order per loan is the in-process
runner's, and a task is idempotent: a task delivered twice (a worker lost mid-task, `acks_late`)
finds itself done or does again what had rolled back.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
from collections import Counter
from concurrent.futures import Future, ProcessPoolExecutor
from functools import cache
from typing import Any

from celery import Celery, group

from microcredit.config import Settings
from microcredit.runtime import Runtime, build_runtime, settle_heap

QUEUE = "microcredit.cob"
TASK_TIMEOUT_SECONDS = 3600
# How often the runner looks for its step's answers. Celery's default (0.5 s) was most of a small portfolio's run:
# a step's partitions answered in 10-70 ms and the next step was sent ~0.45 s later (the Celery COB test: 90 steps).
POLL_SECONDS = 0.02


def make_app(settings: Settings | None = None) -> Celery:
    """The Celery app over the settings' Redis (broker and results)."""
    settings = settings or Settings()
    if not settings.redis_url:
        raise ValueError("the Celery runner needs MICROCREDIT_REDIS_URL (the broker)")
    app = Celery("microcredit", broker=settings.redis_url, backend=settings.redis_url)
    app.conf.update(task_default_queue=settings.cob_queue or QUEUE, task_acks_late=True,
                    task_reject_on_worker_lost=True, worker_prefetch_multiplier=1, task_serializer="json",
                    result_serializer="json", accept_content=["json"], result_expires=86400,
                    broker_connection_retry_on_startup=True)
    return app


# `celery -A microcredit.worker worker` imports this module: the app is made from the environment here
# (the one module that does so at import: it is the worker's entry point, like the CLI's `main`).
app = make_app() if Settings().redis_url else Celery("microcredit")


@cache
def _runtime() -> Runtime:
    """The worker process's parts, built once (and the start-up heap settled: `settle_heap`)."""
    runtime = build_runtime(Settings())
    settle_heap()
    return runtime


@app.task(name="microcredit.cob.work_task")  # type: ignore[untyped-decorator]  # celery ships no types
def work_task(run_id: int, task_id: int) -> tuple[int, int]:
    """One step over one partition, on this worker."""
    from microcredit.cob.service import runs

    runtime = _runtime()
    loans_done, failed = runs.work_task(db=runtime.db, kit=runtime.cob, run_id=run_id, task_id=task_id)
    return loans_done, failed


def celery_runner(celery: Celery) -> Any:
    """A `runs.StepRunner` handing a step's partitions to the workers and waiting for all of them."""
    def run(run_id: int, task_ids: list[int]) -> list[tuple[int, int]]:
        jobs = group(celery.signature("microcredit.cob.work_task", args=(run_id, task_id)) for task_id in task_ids)
        answers = jobs.apply_async().get(timeout=TASK_TIMEOUT_SECONDS, interval=POLL_SECONDS)
        return [(int(a), int(b)) for a, b in answers]

    return run


# --- a pool of local processes ------------------------------------------------------------------------------------

_POOL_RUNTIME: list[Runtime] = []  # a pool process's parts, built at its start


def _start_process(settings: Settings) -> None:
    """A pool process's start: its parts built from the runner's settings, once."""
    _POOL_RUNTIME.append(build_runtime(settings))
    settle_heap()


def _pool_task(run_id: int, task_id: int) -> tuple[int, int, int]:
    """One step over one partition, in a pool process: (loans done, loans failed, the process's id)."""
    from microcredit.cob.service import runs

    runtime = _POOL_RUNTIME[0]
    loans_done, failed = runs.work_task(db=runtime.db, kit=runtime.cob, run_id=run_id, task_id=task_id)
    return loans_done, failed, os.getpid()


def _pool_usage() -> tuple[int, float, int]:
    """A pool process's id, CPU seconds so far and peak resident memory (KiB)."""
    used = resource.getrusage(resource.RUSAGE_SELF)
    return os.getpid(), used.ru_utime + used.ru_stime, used.ru_maxrss


class ProcessRunner:
    """A `runs.StepRunner` over `processes` local processes (`microcredit cob run --runner processes`): a step's
    partitions are worked at the same time, partition k by process k mod `processes` — the same process for a
    partition at every step, so the folds its advance kept answer the later steps there (`servicing.service.folds`)
    —, and the runner waits for all of them before the next step, as the Celery runner does. Each process builds its
    parts from the settings once (`build_runtime`, no web app) and works a task by `runs.work_task` in its own units
    of work: what a Celery worker does, without a broker, on one machine's cores.

    The processes are forked by `multiprocessing`'s fork server, a clean process that has imported the application
    (never a fork of a process holding database connections or threads). A process that dies mid-task breaks the
    pool: the step raises, the run stays `running` and resumes like any killed run (its task rows say what is
    done). Use it as a context manager, or `close()` it."""

    def __init__(self, settings: Settings, processes: int) -> None:
        if processes < 1:
            raise ValueError("a pool needs one process at least")
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["microcredit.runtime", "microcredit.cob.service"])
        self._pools = [ProcessPoolExecutor(max_workers=1, mp_context=context, initializer=_start_process,
                                           initargs=(settings,)) for _ in range(processes)]
        self.tasks_by_process: Counter[int] = Counter()
        """How many tasks each process (by its id) has worked so far."""

    def __call__(self, run_id: int, task_ids: list[int]) -> list[tuple[int, int]]:
        n = len(self._pools)
        futures: list[Future[tuple[int, int, int]]] = [self._pools[k % n].submit(_pool_task, run_id, task_id)
                                                       for k, task_id in enumerate(task_ids)]
        answers = [future.result() for future in futures]
        self.tasks_by_process.update(pid for _, _, pid in answers)
        return [(loans_done, failed) for loans_done, failed, _ in answers]

    def usage(self) -> list[tuple[int, float, int]]:
        """Each process's id, CPU seconds and peak resident memory (KiB) so far (started if it was not)."""
        return [pool.submit(_pool_usage).result() for pool in self._pools]

    def close(self) -> None:
        """Stop the processes (tasks not started are cancelled)."""
        for pool in self._pools:
            pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> ProcessRunner:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
