"""The Celery worker of the close of business: partitions worked on other processes or machines.

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

from functools import cache
from typing import Any

from celery import Celery, group

from microcredit.config import Settings
from microcredit.runtime import Runtime, build_runtime

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
    """The worker process's parts, built once."""
    return build_runtime(Settings())


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
