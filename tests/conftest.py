"""Shared fixtures: real databases built by the migrations, one rolled-back transaction per test.

Integration tests take the `backend` fixture, parametrised over SQLite,
PostgreSQL and MariaDB; tests of files take `file_storage`, parametrised over
local disk and S3 (moto_server). The servers are the ones `scripts/services.sh` starts
(`make test` does it); their URLs come from `MICROCREDIT_TEST_*_URL`. Under
`make test` (`MICROCREDIT_TEST_REQUIRE_SERVICES=1`) a missing server is an
error, never a skip; running pytest by hand without the servers skips those
parameters with a message saying so.

Each pytest-xdist worker gets its own databases (`mc_test_gw0` …) and Redis
database number, migrated once; every test then runs inside a transaction on
one connection that is rolled back at the end (commits inside become
savepoints), so tests never see each other's rows.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import uuid
import zlib
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from microcredit.clock import FrozenClock
from microcredit.config import Mode, Settings
from microcredit.db.engine import Database, make_engine
from microcredit.db.migrate import upgrade
from microcredit.platform.storage import LocalStorage, S3Storage, Storage
from microcredit.runtime import Runtime, build_runtime, connect_redis

# Property tests draw the same examples on every run (derived from each test), so that a run of the
# suite here and CI's run on the same commit agree; a deeper, random search is asked for with
# MC_HYP_EXAMPLES (docs/testing.md), and what it finds becomes a worked example.
hypothesis_settings.register_profile("microcredit", derandomize="MC_HYP_EXAMPLES" not in os.environ)
hypothesis_settings.load_profile("microcredit")

BACKENDS = ("sqlite", "postgresql", "mysql")
ENV = {"postgresql": "MICROCREDIT_TEST_POSTGRES_URL", "mysql": "MICROCREDIT_TEST_MYSQL_URL",
       "s3": "MICROCREDIT_TEST_S3_URL"}
REQUIRE = os.environ.get("MICROCREDIT_TEST_REQUIRE_SERVICES") == "1"
START = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


# Names of this run's databases carry the run's id, so two runs on the same servers never touch
# each other's data; this worker's databases are dropped when it ends.
RUN_ID = (os.environ.get("PYTEST_XDIST_TESTRUNUID") or uuid.uuid4().hex)[:8]
_CREATED: list[tuple[str, str, str]] = []  # (backend, admin url, database name)


# The longest tests, with their seconds in CI (summed over their database parameters; set-up
# included), start first: with `--dist loadgroup` the workers then take them while the many short
# tests are still queued, and both workers finish together instead of one running a minute-long
# test alone at the end. Measured in CI (docs/testing.md); a test missing here only runs in its
# collected place. Keyed by the test function's name (each is unique in the suite).
SLOW_FIRST = {
    "test_sixty_days_of_cob_equal_the_per_loan_operations_applied_one_by_one": 160,
    "test_a_cob_killed_at_random_points_and_resumed_equals_a_clean_run": 75,
    "test_the_demo_portfolio_has_loans_in_every_state_on_verified_books": 74,
    "test_two_celery_workers_close_the_dates_as_the_in_process_runner_does": 67,
    "test_a_pool_of_two_processes_closes_the_dates_as_the_in_process_runner_does": 67,  # the same: kept by database
    "test_repayments_acknowledged_before_a_sigkill_are_stored_exactly_once": 52,
    "test_no_generated_request_makes_a_server_error": 43,
    "test_the_cob_commands_close_dates_in_order_show_them_and_refuse_a_date_twice": 33,
    "test_a_portfolio_closed_day_by_day_accrues_collects_classifies_provisions_and_reminds": 39,
    "test_migrate_then_demo_prints_the_logins_and_is_idempotent": 27,
    "test_closing_a_date_again_changes_nothing": 22,
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Put the longest tests (SLOW_FIRST) first, longest first; the rest keep their order."""
    weight = {id(item): SLOW_FIRST.get(getattr(item, "originalname", item.name), 0) for item in items}
    items.sort(key=lambda item: -weight[id(item)])


def worker_id() -> str:
    """The xdist worker name, or 'main'."""
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def service_url(backend: str) -> str | None:
    """The server URL for `backend`, or None (skip or fail, as the run requires)."""
    url = os.environ.get(ENV[backend])
    if url:
        return url
    message = f"{ENV[backend]} is not set: start the servers with scripts/services.sh (make test does)"
    if REQUIRE:
        pytest.fail(message)
    pytest.skip(message)
    return None


def _server_database(backend: str, admin_url: str, name: str) -> str:
    """Create (afresh) a database for this worker on a server; return its URL."""
    admin = make_engine(admin_url)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if backend == "postgresql":
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}" ENCODING \'UTF8\''))
        else:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
            conn.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))
    admin.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def fresh_database_url(backend: str, tmp_dir: Path, suffix: str = "") -> str:
    """A new, empty database of `backend` for this worker."""
    name = re.sub(r"\W", "_", f"mc_t_{RUN_ID}_{worker_id()}{suffix}")
    if backend == "sqlite":
        path = tmp_dir / f"{name}.sqlite3"
        for extra in ("", "-wal", "-shm"):
            Path(f"{path}{extra}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    admin = service_url(backend)
    assert admin is not None
    url = _server_database(backend, admin, name)
    _CREATED.append((backend, admin, name))
    return url


def clone_database(backend: str, source_url: str, tmp_dir: Path, suffix: str) -> str:
    """A new database of this worker holding a copy of `source_url`'s (rows, sequences, ids), for twin
    set-ups: one portfolio made through the API, then copied, instead of made twice. The source must
    have no open connections on PostgreSQL (dispose its engine first: a template database must be idle).
    SQLite through its backup API, PostgreSQL as a template, MariaDB through `mariadb-dump`."""
    target = fresh_database_url(backend, tmp_dir, suffix)
    if backend == "sqlite":
        src_path, dst_path = str(make_url(source_url).database), str(make_url(target).database)
        with closing(sqlite3.connect(src_path)) as src, closing(sqlite3.connect(dst_path)) as dst:
            src.backup(dst)
        return target
    source, name = make_url(source_url), make_url(target).database
    admin = make_engine(service_url(backend) or "")
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if backend == "postgresql":
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{source.database}"'))
    admin.dispose()
    if backend == "mysql":
        login = ["--no-defaults", f"--host={source.host}", f"--port={source.port}", f"--user={source.username}",
                 f"--password={source.password or ''}", "--default-character-set=utf8mb4"]
        dump = subprocess.run(["mariadb-dump", *login, "--single-transaction", "--skip-lock-tables", "--triggers",
                               "--routines", str(source.database)], capture_output=True, check=True).stdout
        subprocess.run(["mariadb", *login, str(name)], input=dump, capture_output=True, check=True)
    return target


def _drop_server_databases() -> None:
    for engine in _ENGINES.values():
        engine.dispose()
    for backend, admin_url, name in _CREATED:
        admin = make_engine(admin_url)
        try:
            with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                if backend == "postgresql":
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                else:
                    conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        finally:
            admin.dispose()


@pytest.fixture(scope="session", autouse=True)
def _cleanup_databases() -> Iterator[None]:
    """Drop this worker's server databases at the end of the run."""
    yield
    _drop_server_databases()


_ENGINES: dict[str, Engine] = {}


def migrated_engine(backend: str, tmp_dir: Path) -> Engine:
    """One migrated database per backend and worker, created on first use."""
    if backend not in _ENGINES:
        engine = make_engine(fresh_database_url(backend, tmp_dir))
        upgrade(engine)
        _ENGINES[backend] = engine
    return _ENGINES[backend]


@pytest.fixture(scope="session")
def worker_tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A temporary directory of this worker."""
    return tmp_path_factory.mktemp(f"mc-{worker_id()}")


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Each integration test runs on SQLite, PostgreSQL and MariaDB."""
    return str(request.param)


@pytest.fixture
def database(backend: str, worker_tmp: Path) -> Iterator[Database]:
    """A Database bound to one connection inside a transaction rolled back after the test."""
    engine = migrated_engine(backend, worker_tmp)
    conn = engine.connect()
    outer = conn.begin()
    try:
        yield Database(bind=conn)
    finally:
        outer.rollback()
        conn.close()


@pytest.fixture
def clock() -> FrozenClock:
    """A clock standing at 2026-11-25 10:00 Shanghai time."""
    return FrozenClock(START)


def make_settings(tmp: Path, **overrides: Any) -> Settings:
    """Settings for tests: test mode, quiet logs, no background dispatch."""
    values: dict[str, Any] = {"mode": Mode.TEST, "data_dir": tmp, "log_level": "WARNING",
                              "public_url": "http://testserver", "outbox_poll_seconds": 0}
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def settings(worker_tmp: Path) -> Settings:
    """Test settings."""
    return make_settings(worker_tmp)


_BUCKETS: set[str] = set()


def s3_test_storage() -> S3Storage:
    """This worker's bucket on the test S3 server (moto_server), created on first use."""
    url = service_url("s3")
    assert url is not None
    bucket = re.sub(r"[^a-z0-9-]", "-", f"mc-test-{RUN_ID}-{worker_id()}".lower())
    storage = S3Storage(bucket=bucket, endpoint_url=url, region="us-east-1", access_key_id="test",
                        secret_access_key="test", path_style=True, prefix=uuid.uuid4().hex[:8])
    if bucket not in _BUCKETS:
        storage.create_bucket()
        _BUCKETS.add(bucket)
    return storage


@pytest.fixture(params=("local", "s3"))
def file_storage(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    """Where a test's files go: a fresh local directory, or a fresh prefix in this worker's S3 bucket."""
    if request.param == "local":
        return LocalStorage(tmp_path / "storage")
    return s3_test_storage()


@pytest.fixture
def runtime(settings: Settings, database: Database, clock: FrozenClock) -> Runtime:
    """The runtime on the test's database and frozen clock (database rate limits, no Redis)."""
    return build_runtime(settings, database=database, clock=clock)


@pytest.fixture
def redis_url() -> str:
    """The test Redis server, on this worker's own database number."""
    url = os.environ.get("MICROCREDIT_TEST_REDIS_URL")
    if not url:
        message = "MICROCREDIT_TEST_REDIS_URL is not set: start the servers with scripts/services.sh"
        if REQUIRE:
            pytest.fail(message)
        pytest.skip(message)
    # Workers of one run sit side by side from a run-dependent start, so two of them never share a
    # database (hashing each worker's name on its own let gw0 and gw1 collide one run in 63).
    worker = worker_id()
    index = int(worker[2:]) if worker.startswith("gw") and worker[2:].isdigit() else 0
    number = 1 + (zlib.crc32(RUN_ID.encode()) + index) % 63
    return make_url(url).set(database=str(number)).render_as_string(hide_password=False)


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[Any]:
    """A Redis client on an emptied database."""
    client = connect_redis(redis_url)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def client(runtime: Runtime) -> Iterator[Any]:
    """A TestClient on the app built over the test's runtime."""
    from fastapi.testclient import TestClient

    from microcredit.api.app import create_app

    with TestClient(create_app(runtime=runtime)) as test_client:
        yield test_client


@pytest.fixture
def session(database: Database) -> Iterator[Any]:
    """A session for arranging data (flushes; the test's transaction is rolled back)."""
    s = database.session()
    yield s
    s.close()
