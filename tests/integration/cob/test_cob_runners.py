"""The other runners give what the in-process runner gives: two Celery worker processes over the test Redis, and a
pool of two local processes (`--runner processes`).

Three databases are set up alike (as in the SIGKILL test). On the first, `microcredit cob run --runner celery`
hands each step's partitions (one loan each) to two `celery -A microcredit.worker` processes; on the second,
`microcredit cob run --runner processes --processes 2` works them on a pool of two processes at once; on the third
the same dates are closed in-process (once, for both comparisons). Every loan, ledger line, classification,
feature row and reminder must be the same, both workers (both processes) must have worked tasks, and the books must
verify.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from microcredit.cob.models import CobRun
from microcredit.ledger import service as ledger
from microcredit.runtime import Runtime
from microcredit.servicing.service import loans
from tests.integration.cob.support import Portfolio, picture
from tests.integration.cob.test_cob_sigkill import FROM, UNTIL, twin_databases

BIN = Path(sys.executable).parent
# One worker for the module: each database's three copies are made once, and its in-process run serves both tests.
pytestmark = pytest.mark.xdist_group("cob_runners")


@pytest.fixture(scope="module", params=["sqlite", "postgresql", "mysql"])
def twins(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[list[tuple[Runtime, Portfolio, str, Path]]]:
    """Three databases with the same portfolio (closed by the Celery workers, by the pool, in-process)."""
    yield from twin_databases(request.param, tmp_path_factory, ("celery", "pool", "inproc"))


@pytest.fixture(scope="module")
def in_process(twins: list[tuple[Runtime, Portfolio, str, Path]]) -> dict[str, Any]:
    """The third database's dates closed by the in-process runner: what every runner must give."""
    runtime, portfolio, url, data_dir = twins[2]
    assert _cob(_env(url, data_dir), data_dir, portfolio.inst.code) == 0, (data_dir / "cob.log").read_text()[-3000:]
    return picture(runtime, portfolio.inst.id)


def _same_as_in_process(runtime: Runtime, portfolio: Portfolio, want: dict[str, Any]) -> None:
    got: dict[str, Any] = picture(runtime, portfolio.inst.id)
    assert len(got["runs"]) == (UNTIL - FROM).days + 1
    assert {status for _, status, _, _ in got["runs"]} == {"done"}
    for key in want:
        assert got[key] == want[key], key
    with runtime.db.unit_of_work(write=False) as s:
        report = ledger.books.verify(session=s, institution_id=portfolio.inst.id, subledger=loans.control_balances)
        assert report.ok, report.problems


def _env(url: str, data_dir: Path, redis: str | None = None, queue: str | None = None) -> dict[str, str]:
    env = {**os.environ, "MICROCREDIT_DATABASE_URL": url, "MICROCREDIT_DATA_DIR": str(data_dir),
           "MICROCREDIT_MODE": "test", "MICROCREDIT_LOG_LEVEL": "WARNING", "MICROCREDIT_COB_PARTITION_SIZE": "1",
           "MICROCREDIT_PUBLIC_URL": "http://testserver"}
    env.pop("MICROCREDIT_REDIS_URL", None)
    if redis is not None and queue is not None:
        env.update({"MICROCREDIT_REDIS_URL": redis, "MICROCREDIT_COB_QUEUE": queue})
    return env


def _cob(env: dict[str, str], data_dir: Path, inst_code: str, *extra: str) -> int:
    with (data_dir / "cob.log").open("ab") as log:
        return subprocess.run([str(BIN / "microcredit"), "cob", "run", "--until", UNTIL.isoformat(), "--institution",
                               inst_code, *extra], env=env, stdout=log, stderr=subprocess.STDOUT, timeout=900,
                              check=False).returncode


def test_two_celery_workers_close_the_dates_as_the_in_process_runner_does(twins, in_process, redis_url) -> None:
    celery_rt, on_celery, celery_url, celery_dir = twins[0]
    queue = f"cob-test-{uuid.uuid4().hex[:12]}"
    env = _env(celery_url, celery_dir, redis_url, queue)
    workers: list[tuple[subprocess.Popen[bytes], Path]] = []
    try:
        for n in (1, 2):
            log = celery_dir / f"worker{n}.log"
            proc = subprocess.Popen([str(BIN / "celery"), "-A", "microcredit.worker", "worker", "--pool", "solo",
                                     "--concurrency", "1", "--loglevel", "INFO", "-Q", queue, "-n", f"w{n}-{queue}@%h",
                                     "--without-gossip", "--without-mingle", "--without-heartbeat"],
                                    env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
            workers.append((proc, log))
        assert _cob(env, celery_dir, on_celery.inst.code, "--runner", "celery") == 0, \
            (celery_dir / "cob.log").read_text()[-3000:]
    finally:
        for proc, _ in workers:
            proc.terminate()
        for proc, _ in workers:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    # Both workers took tasks.
    for _, log in workers:
        text = log.read_text()
        assert "Task microcredit.cob.work_task" in text, text[-2000:]
        assert "succeeded" in text, text[-2000:]
    _same_as_in_process(celery_rt, on_celery, in_process)


def test_a_pool_of_two_processes_closes_the_dates_as_the_in_process_runner_does(twins, in_process) -> None:
    pool_rt, on_pool, pool_url, pool_dir = twins[1]
    assert _cob(_env(pool_url, pool_dir), pool_dir, on_pool.inst.code, "--runner", "processes",
                "--processes", "2") == 0, (pool_dir / "cob.log").read_text()[-3000:]
    # Both processes worked tasks (one line a `cob run`: "tasks worked by process: <pid>: <n>, <pid>: <n>").
    worked = re.findall(r"tasks worked by process: (.*)", (pool_dir / "cob.log").read_text())
    assert worked, (pool_dir / "cob.log").read_text()[-3000:]
    counts = dict(part.split(": ") for part in worked[-1].split(", "))
    assert len(counts) == 2, worked
    assert all(int(n) > 0 for n in counts.values()), worked
    with pool_rt.db.unit_of_work(write=False) as s:
        runners = {runner for (runner,) in s.execute(select(CobRun.runner).where(
            CobRun.institution_id == on_pool.inst.id))}
    assert runners == {"processes"}
    _same_as_in_process(pool_rt, on_pool, in_process)
