"""Postings and reversals at the same moment, on databases that really commit (SQLite, PostgreSQL, MariaDB).

Many reversals of one entry at once: exactly one is posted, every other caller
hears `entry_already_reversed` (never a 5xx). A burst of postings: every one
is written, and the books verify.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from microcredit.api.app import create_app
from microcredit.clock import FrozenClock
from microcredit.db.engine import Database
from microcredit.db.migrate import upgrade
from microcredit.ledger import service as ledger
from microcredit.runtime import Runtime, build_runtime
from tests.conftest import START, fresh_database_url, make_settings
from tests.factories import make_institution, make_staff
from tests.integration.helpers import idempotency_key, signed_in

pytestmark = pytest.mark.xdist_group("concurrency")  # one worker: the requests are the parallelism
CALLERS = 12
API = "/api/v1/ledger"


@pytest.fixture(scope="module", params=["sqlite", "postgresql", "mysql"])
def live(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[tuple[Runtime, Any, dict[str, str]]]:
    """A migrated database that really commits, an institution and a signed-in finance user."""
    tmp: Path = tmp_path_factory.mktemp("ledger-concurrency")
    database = Database(fresh_database_url(request.param, tmp, suffix="_ledger_conc"), sqlite_busy_timeout_ms=200)
    upgrade(database.engine)
    runtime = build_runtime(make_settings(tmp), database=database, clock=FrozenClock(START))
    with database.session() as session:
        inst = make_institution(session, runtime)
        finance = make_staff(session, runtime, inst, roles=("finance",), password=None)
        headers = signed_in(session, runtime, finance.user)
        session.commit()
        yield runtime, inst, headers
    runtime.close()


@pytest.fixture(scope="module")
def client(live: tuple[Runtime, Any, dict[str, str]]) -> Iterator[TestClient]:
    with TestClient(create_app(runtime=live[0])) as test_client:
        yield test_client


def _at_once(calls: list[Any]) -> list[Any]:
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(lambda call: call(), calls))


def _entry(amount: str) -> dict[str, Any]:
    return {"business_date": "2026-11-20", "description": "并发记账", "lines": [
        {"account_code": "1002", "debit": amount}, {"account_code": "4001", "credit": amount}]}


def test_many_reversals_of_one_entry_post_one(client, live):
    _runtime, _inst, h = live
    entry = client.post(f"{API}/entries", json=_entry("10.00"), headers={**h, **idempotency_key()}).json()
    answers = _at_once([
        (lambda: client.post(f"{API}/entries/{entry['id']}/reverse", json={}, headers={**h, **idempotency_key()}))
        for _ in range(CALLERS)])
    outcomes = Counter((r.status_code, r.json().get("code")) for r in answers)
    assert outcomes == {(201, None): 1, (409, "entry_already_reversed"): CALLERS - 1}, outcomes


def test_a_burst_of_postings_is_written_whole_and_verifies(client, live):
    runtime, inst, h = live
    answers = _at_once([
        (lambda i=i: client.post(f"{API}/entries", json=_entry(f"{i + 1}.00"), headers={**h, **idempotency_key()}))
        for i in range(CALLERS)])
    assert [r.status_code for r in answers] == [201] * CALLERS, [r.text for r in answers if r.status_code != 201]
    with runtime.db.session() as session:
        report = ledger.books.verify(session=session, institution_id=inst.id)
        tb = ledger.reports.trial_balance_report(session=session, institution_id=inst.id,
                                                 date_to=START.date())
    assert report.ok, report.problems
    assert all(t.balanced for t in tb.totals)
    bank = next(r for a, r in tb.rows if a.code == "1002")
    # The other test's 10.00 and its reversal leave nothing, whichever runs first; the burst adds 1 + 2 + … + 12.
    assert bank.closing_debit.minor - bank.closing_credit.minor == sum(range(1, CALLERS + 1)) * 100
