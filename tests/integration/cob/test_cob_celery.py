"""The Celery runner: two worker processes over the test Redis give what the in-process runner gives.

Two databases are set up alike (as in the SIGKILL test). On the first, `microcredit cob run --runner
celery` hands each step's partitions (one loan each) to two `celery -A microcredit.worker` processes;
on the second the same dates are closed in-process. Every loan, ledger line, classification, feature
row and reminder must be the same, both workers must have worked tasks, and the books must verify.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from microcredit.ledger import service as ledger
from microcredit.runtime import Runtime
from microcredit.servicing.service import loans
from tests.integration.cob.support import Portfolio, picture
from tests.integration.cob.test_cob_sigkill import FROM, UNTIL, twin_databases

BIN = Path(sys.executable).parent


@pytest.fixture(scope="module", params=["sqlite", "postgresql", "mysql"])
def twins(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[list[tuple[Runtime, Portfolio, str, Path]]]:
    """Two databases with the same portfolio (one closed by the Celery workers, one in-process)."""
    yield from twin_databases(request.param, tmp_path_factory, ("celery", "inproc"))


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


def test_two_celery_workers_close_the_dates_as_the_in_process_runner_does(twins, redis_url) -> None:
    (celery_rt, on_celery, celery_url, celery_dir), (inproc_rt, in_process, inproc_url, inproc_dir) = twins
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
    assert _cob(_env(inproc_url, inproc_dir), inproc_dir, in_process.inst.code) == 0, \
        (inproc_dir / "cob.log").read_text()[-3000:]

    # Both workers took tasks.
    for _, log in workers:
        text = log.read_text()
        assert "Task microcredit.cob.work_task" in text, text[-2000:]
        assert "succeeded" in text, text[-2000:]
    got: dict[str, Any] = picture(celery_rt, on_celery.inst.id)
    want: dict[str, Any] = picture(inproc_rt, in_process.inst.id)
    assert len(got["runs"]) == (UNTIL - FROM).days + 1
    assert {status for _, status, _, _ in got["runs"]} == {"done"}
    for key in want:
        assert got[key] == want[key], key
    with celery_rt.db.unit_of_work(write=False) as s:
        report = ledger.books.verify(session=s, institution_id=on_celery.inst.id, subledger=loans.control_balances)
        assert report.ok, report.problems
