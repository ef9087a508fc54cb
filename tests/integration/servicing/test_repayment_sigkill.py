"""The server killed with SIGKILL in the middle of a stream of repayments (issue 17, reliability).

A real `microcredit serve` process on a real, committing database takes repayments to one loan from
four clients at once; once some have been acknowledged it is killed with SIGKILL -- no shutdown, no
rollback, requests in flight cut off. A new server is started on the same database, and every
client sends again every repayment it has no answer for, under the same Idempotency-Key.

Afterwards:
- every repayment acknowledged before the kill is stored exactly once, with the amount sent;
- what was in flight is stored at most once: re-sent, it is either replayed (it had committed before
  the kill) or recorded now, never both;
- nothing is half-written: every repayment event has its entries in both books, the loan's cached
  figures equal a fold of its events, and `ledger verify` (every entry balanced, the control
  accounts equal to the loans) passes.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from microcredit.api.app import create_app
from microcredit.clock import FrozenClock
from microcredit.db.engine import Database
from microcredit.db.migrate import upgrade
from microcredit.ledger import service as ledger
from microcredit.parties import service as parties
from microcredit.platform.actor import Actor
from microcredit.risk.assessment import Decision
from microcredit.runtime import Runtime, build_runtime
from microcredit.servicing.service import loans
from tests.conftest import START, fresh_database_url, make_settings
from tests.factories import make_borrower, make_institution, make_staff
from tests.integration.helpers import signed_in
from tests.integration.origination.support import PLAN, assessment, publish_product, use_review

# Not in the "concurrency" group: the server is its own process, and the three databases may run on three workers.
CLIENTS = 4
PER_CLIENT = 15
KILL_AFTER = 12  # acknowledged repayments before the kill
DAY = date(2026, 12, 20)


@pytest.fixture(scope="module", params=["sqlite", "postgresql", "mysql"])
def live(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[tuple[Runtime, Any, str, Path]]:
    """A migrated database that really commits, the runtime on it, an institution with a product;
    also the database URL and the data directory a served process needs to share it."""
    tmp: Path = tmp_path_factory.mktemp("sigkill")
    url = fresh_database_url(request.param, tmp, suffix="_kill")
    database = Database(url, sqlite_busy_timeout_ms=30_000)
    upgrade(database.engine)
    runtime = build_runtime(make_settings(tmp), database=database, clock=FrozenClock(START))
    with database.session() as session:
        inst = make_institution(session, runtime)
        publish_product(session, runtime, inst)
        session.commit()
        yield runtime, inst, url, tmp
    runtime.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(url: str, data_dir: Path) -> tuple[subprocess.Popen[bytes], int]:
    """`microcredit serve` on the test's database and keys; returns once /healthz answers."""
    port = _free_port()
    env = {**os.environ, "MICROCREDIT_DATABASE_URL": url, "MICROCREDIT_DATA_DIR": str(data_dir),
           "MICROCREDIT_MODE": "test", "MICROCREDIT_OUTBOX_POLL_SECONDS": "0", "MICROCREDIT_LOG_LEVEL": "WARNING",
           "MICROCREDIT_PUBLIC_URL": "http://testserver"}
    env.pop("MICROCREDIT_REDIS_URL", None)
    log = (data_dir / f"serve-{port}.log").open("wb")  # read when a test fails
    proc = subprocess.Popen([str(Path(sys.executable).parent / "microcredit"), "serve", "--port", str(port)],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    end = time.monotonic() + 120
    while time.monotonic() < end:
        assert proc.poll() is None, f"the server exited with {proc.returncode}"
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                conn.close()
                return proc, port
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError("the server did not answer /healthz")


class Stream:
    """Clients each sending their own repayments in order, one connection each, noting which ones
    were acknowledged (200 read in full) and which got no answer (the connection broke)."""

    def __init__(self, loan_id: int, headers: dict[str, str]) -> None:
        self.loan_id, self.headers = loan_id, headers
        self.plans = [[(str(uuid.uuid4()), f"{1 + c}.{n:02d}") for n in range(PER_CLIENT)] for c in range(CLIENTS)]
        self.acknowledged: dict[str, dict[str, Any]] = {}
        self.unanswered: set[str] = set()
        self.errors: list[tuple[int, dict[str, Any]]] = []
        self.lock = threading.Lock()

    def send(self, port: int, key: str, amount: str, timeout: float = 30) -> tuple[int, dict[str, Any], bool]:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        try:
            conn.request("POST", f"/api/v1/loans/{self.loan_id}/repayments",
                         body=json.dumps({"amount": amount, "channel": "cash"}),
                         headers={**self.headers, "Idempotency-Key": key, "Content-Type": "application/json"})
            response = conn.getresponse()
            body = json.loads(response.read())
            return response.status, body, response.getheader("Idempotent-Replayed") == "true"
        finally:
            conn.close()

    def run_client(self, port: int, plan: list[tuple[str, str]]) -> None:
        for key, amount in plan:
            try:
                status, body, _ = self.send(port, key, amount)
            except (OSError, http.client.HTTPException, json.JSONDecodeError):
                with self.lock:
                    self.unanswered.add(key)
                continue
            with self.lock:
                if status == 200:
                    self.acknowledged[key] = body
                else:
                    self.errors.append((status, body))
                    return

    def count(self) -> int:
        with self.lock:
            return len(self.acknowledged)


def test_repayments_acknowledged_before_a_sigkill_are_stored_exactly_once(live, monkeypatch) -> None:
    runtime, inst, url, data_dir = live
    use_review(monkeypatch, assessment(Decision.APPROVE, grade="B"))
    with runtime.db.session() as session:
        borrower = make_borrower(session, runtime, inst, password=None)
        finance = make_staff(session, runtime, inst, roles=("finance",), password=None)
        hb, hf = signed_in(session, runtime, borrower.user), signed_in(session, runtime, finance.user)
        # The served process runs on the wall clock: its session must not have expired by that clock.
        served = signed_in(session, build_runtime(runtime.settings, database=runtime.db), finance.user)
        session.commit()
    with TestClient(create_app(runtime=runtime)) as client:
        draft = client.post("/api/v1/me/applications", headers=hb, json={**PLAN, "amount": "20000.00"}).json()
        assert client.post(f"/api/v1/me/applications/{draft['id']}/submit", headers=hb).json()["status"] == "approved"
        loan = client.post("/api/v1/loans", headers=hf, json={"application_id": draft["id"]}).json()
        disbursed = client.post(f"/api/v1/loans/{loan['id']}/disbursements",
                                headers={**hf, "Idempotency-Key": str(uuid.uuid4())}, json={})
        assert disbursed.status_code == 200, disbursed.text
    with runtime.db.session() as session:
        parties.organisation.set_business_date_as(session=session, clock=runtime.clock, actor=Actor.system(inst.id),
                                                  institution_id=inst.id, new_date=DAY, override_allowed=True)
        session.commit()

    stream = Stream(loan["id"], served)
    server, port = _serve(url, data_dir)
    clients = [threading.Thread(target=stream.run_client, args=(port, plan)) for plan in stream.plans]
    try:
        for t in clients:
            t.start()
        end = time.monotonic() + 120
        while stream.count() < KILL_AFTER and time.monotonic() < end:
            time.sleep(0.005)
        assert stream.count() >= KILL_AFTER, stream.errors[:3] or "too few acknowledged before the deadline"
        os.kill(server.pid, signal.SIGKILL)
        server.wait()
        for t in clients:
            t.join(timeout=120)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    assert not stream.errors, stream.errors[:3]
    acknowledged_before = dict(stream.acknowledged)
    # The kill came in the middle: some were acknowledged, some never got an answer.
    assert KILL_AFTER <= len(acknowledged_before) < CLIENTS * PER_CLIENT
    assert stream.unanswered

    # A new server on the same database; every client sends again what it has no answer for.
    server, port = _serve(url, data_dir)
    amounts = {key: amount for plan in stream.plans for key, amount in plan}
    replayed: set[str] = set()
    try:
        for key in sorted(stream.unanswered):
            status, body, was_replayed = stream.send(port, key, amounts[key])
            assert status == 200, body
            stream.acknowledged[key] = body
            if was_replayed:
                replayed.add(key)
        # An acknowledged one sent again is a replay of the same event, not a second payment.
        key = next(iter(acknowledged_before))
        status, body, was_replayed = stream.send(port, key, amounts[key])
        assert (status, was_replayed, body["event"]["event_id"]) == (
            200, True, acknowledged_before[key]["event"]["event_id"])
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()

    assert len(stream.acknowledged) == CLIENTS * PER_CLIENT
    with runtime.db.session() as session:
        stored = loans.get(session=session, institution_id=inst.id, loan_id=loan["id"])
        rows = [r for r in loans.events(session=session, loan=stored) if r.type == "repayment"]
        by_key: dict[str | None, list[Any]] = {}
        for r in rows:
            by_key.setdefault(r.idempotency_key, []).append(r)
        # Every repayment sent is stored exactly once, with its amount, under the event acknowledged.
        assert set(by_key) == set(amounts)
        assert all(len(v) == 1 for v in by_key.values())
        for key, body in stream.acknowledged.items():
            (row,) = by_key[key]
            assert row.payload["amount"] == amounts[key]
            assert row.event_id == body["event"]["event_id"]
        # Nothing half-written: each repayment has its entries in both books ...
        trail = loans.trail(session=session, loan=stored, rows=rows)
        assert all(len(trail.get(r.seq, [])) == 2 for r in rows), {r.event_id: trail.get(r.seq) for r in rows}
        # ... the cached figures are the fold of the stored events ...
        state = loans.state_of(session=session, loan=stored)
        assert stored.outstanding_principal == state.outstanding.principal
        # ... and the books verify, control accounts against the loans.
        report = ledger.books.verify(session=session, institution_id=inst.id, subledger=loans.control_balances)
        assert report.ok, report.problems
        assert report.entries == 1 + 2 * CLIENTS * PER_CLIENT
    # Something was in flight at the kill, and re-sending it never doubled it: either it had
    # committed (a replay) or it had not (recorded now); both kinds are counted above.
    assert replayed <= stream.unanswered
