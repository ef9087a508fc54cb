"""`microcredit cob run` killed with SIGKILL at random points, several times, then resumed (issue 18).

Two databases are set up alike (the same institution, product and loans, made in the same order, so
the same ids). On the first, `microcredit cob run --until D` runs in a subprocess and is killed with
SIGKILL at random moments — no shutdown, no rollback, a partition cut off half-way — several times,
then run again to the end. On the second the same command runs once, uninterrupted. Every loan's
figures, every ledger line, every classification, feature row and reminder must be the same on both,
and the books must verify.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from microcredit.api.app import create_app
from microcredit.clock import FrozenClock
from microcredit.db.engine import Database
from microcredit.db.migrate import upgrade
from microcredit.ledger import service as ledger
from microcredit.runtime import Runtime, build_runtime
from microcredit.servicing.service import loans
from tests.conftest import START, fresh_database_url, make_settings
from tests.integration.cob.support import Portfolio, move_to, open_portfolio, picture, twin_of

KILLS = 4
FROM, UNTIL = date(2026, 12, 21), date(2026, 12, 30)  # across the first due date (12-25)


def _setup(backend: str, tmp: Path, suffix: str) -> tuple[Runtime, Portfolio, str]:
    url = fresh_database_url(backend, tmp, suffix=suffix)
    database = Database(url, sqlite_busy_timeout_ms=30_000)
    upgrade(database.engine)
    runtime = build_runtime(make_settings(tmp), database=database, clock=FrozenClock(START))
    with database.session() as session, TestClient(create_app(runtime=runtime)) as client, \
            pytest.MonkeyPatch.context() as mp:
        portfolio = open_portfolio(client, session, runtime, mp)
        move_to(session, runtime, portfolio.inst.id, FROM - timedelta(days=1))
    return runtime, portfolio, url


def twin_databases(backend: str, tmp_path_factory: pytest.TempPathFactory, names: tuple[str, ...]
                   ) -> Iterator[list[tuple[Runtime, Portfolio, str, Path]]]:
    """Databases of `backend` with the same portfolio, one per name (made on the first, copied to the
    others); closed afterwards."""
    tmp: Path = tmp_path_factory.mktemp(f"cob-{names[0]}")
    runtime, portfolio, url = _setup(backend, tmp, f"_cob_{names[0]}")
    out = [(runtime, portfolio, url, tmp)]
    for name in names[1:]:
        twin_tmp: Path = tmp_path_factory.mktemp(f"cob-{name}")
        twin, twin_url = twin_of(runtime, backend, url, tmp, twin_tmp, f"_cob_{name}")
        out.append((twin, portfolio, twin_url, twin_tmp))
    yield out
    for runtime, *_ in out:
        runtime.close()


@pytest.fixture(scope="module", params=["sqlite", "postgresql", "mysql"])
def twins(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[list[tuple[Runtime, Portfolio, str, Path]]]:
    """Two databases with the same portfolio (one to be killed and resumed, one run cleanly)."""
    yield from twin_databases(request.param, tmp_path_factory, ("killed", "clean"))


def _cob(url: str, data_dir: Path, inst_code: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "MICROCREDIT_DATABASE_URL": url, "MICROCREDIT_DATA_DIR": str(data_dir),
           "MICROCREDIT_MODE": "test", "MICROCREDIT_LOG_LEVEL": "WARNING", "MICROCREDIT_COB_PARTITION_SIZE": "1",
           "MICROCREDIT_PUBLIC_URL": "http://testserver"}
    env.pop("MICROCREDIT_REDIS_URL", None)
    log = (data_dir / "cob.log").open("ab")  # read when a test fails
    return subprocess.Popen([str(Path(sys.executable).parent / "microcredit"), "cob", "run", "--until",
                             UNTIL.isoformat(), "--institution", inst_code, "--force"],
                            env=env, stdout=log, stderr=subprocess.STDOUT)


def test_a_cob_killed_at_random_points_and_resumed_equals_a_clean_run(twins) -> None:
    (killed_rt, killed, killed_url, killed_dir), (clean_rt, clean, clean_url, clean_dir) = twins
    assert killed.loan_ids == clean.loan_ids
    rng = random.Random(int(os.environ.get("COB_KILL_SEED", "18")))
    cut = 0
    for _ in range(KILLS):
        proc = _cob(killed_url, killed_dir, killed.inst.code)
        time.sleep(rng.uniform(1.5, 6.0))
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            cut += 1
        proc.wait()
    assert cut, "every run finished before its kill: nothing was cut off"
    finished = _cob(killed_url, killed_dir, killed.inst.code)
    assert finished.wait(timeout=600) == 0, (killed_dir / "cob.log").read_text()[-3000:]
    reference = _cob(clean_url, clean_dir, clean.inst.code)
    assert reference.wait(timeout=600) == 0, (clean_dir / "cob.log").read_text()[-3000:]

    got, want = picture(killed_rt, killed.inst.id), picture(clean_rt, clean.inst.id)
    assert got["runs"] == [(FROM + timedelta(days=n), "done", 3, 0) for n in range((UNTIL - FROM).days + 1)]
    for key in want:
        assert got[key] == want[key], key
    with killed_rt.db.unit_of_work(write=False) as s:
        report = ledger.books.verify(session=s, institution_id=killed.inst.id, subledger=loans.control_balances)
        assert report.ok, report.problems
