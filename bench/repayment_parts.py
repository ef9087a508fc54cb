"""The parts of a repayment's route that issue 17's svcpath step changed, each timed the old way and the new way.

    .venv/bin/python bench/repayment_parts.py [--backend sqlite|postgresql] [--rounds 30] [--calls 20]

`bench/repay_in_process.py --baseline-src` compares two whole code versions, but in two processes minutes
apart: on this shared machine the load moves more between them than the change does. Here both ways run in
one process on one database, alternated round by round (old, new, old, new, …), so a drift of the machine
falls on both; the figure is the CPU time (`time.process_time()`) per call, the median over the rounds, and
the statements each sends. The old ways are the code as it was (main at a8a84be), copied here:

- the principal of a request that writes: the session, the user, the roles, the roles' permissions
  (4 queries) against the session with its user and the roles with their permissions (2);
- an idempotency key claimed: read it, then insert it in a savepoint, against one
  `INSERT … ON CONFLICT DO NOTHING RETURNING` (SQLite and PostgreSQL), each claim its own transaction;
- the answer's ledger trail of a loan with `--events` events: the entries as ORM entities against their
  (source, id, book) columns;
- the answer's JSON: serialised for the stored response and again by `JSONResponse`, against once.

A demo database with one disbursed loan (`bench/repayments.py`'s `_fill`) and `--events` repayments. The last
line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="sqlite", choices=("sqlite", "postgresql"))
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--calls", type=int, default=20, help="calls of each way per round")
    parser.add_argument("--events", type=int, default=20, help="repayments on the loan before the trail is read")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).parent))
    from sqlalchemy import event, select
    from starlette.responses import JSONResponse

    import request_path as rp
    from microcredit.config import Settings
    from microcredit.identity import repository as idrepo
    from microcredit.identity.service import sessions
    from microcredit.ledger import repository as ledger_repo
    from microcredit.ledger.models import JournalEntry
    from microcredit.lending.money import Money
    from microcredit.parties import service as parties
    from microcredit.platform import idempotency
    from microcredit.platform.actor import Actor, RequestMeta
    from microcredit.platform.models import IdempotencyRecord
    from microcredit.runtime import build_runtime
    from microcredit.servicing.service import loans
    from repayments import FINANCE_PHONE, _fill

    load_before = rp._uptime()
    tmp = Path(tempfile.mkdtemp(prefix="mc-bench-parts-"))
    url, pg_name = rp._database_url(args.backend, tmp)
    try:
        ids = _fill({"MICROCREDIT_DATABASE_URL": url, "MICROCREDIT_DATA_DIR": str(tmp)}, 1)
        runtime = build_runtime(Settings(database_url=url, data_dir=str(tmp)))
        db, kit = runtime.db, runtime.identity
        assert db.engine is not None
        with db.unit_of_work() as session:
            inst_id = parties.organisation.institution_by_code(session=session, code="DEMO").id
        for _ in range(args.events):
            with db.unit_of_work() as session:
                loans.repay(session=session, clock=runtime.clock, actor=Actor.system(inst_id), institution_id=inst_id,
                            loan_id=ids[0], amount=Money.parse("5.00", "CNY"), idempotency_key=str(uuid.uuid4()))
        from fastapi.testclient import TestClient

        from microcredit.api.app import create_app
        from microcredit.demo import DEMO_PASSWORD

        client = TestClient(create_app(runtime=runtime))
        signed = client.post("/api/v1/auth/login", json={"phone": FINANCE_PHONE, "password": DEMO_PASSWORD,
                                                          "kind": "staff"})
        token = signed.json()["token"]
        answer = client.post(f"/api/v1/loans/{ids[0]}/repayments", json={"amount": "5.00", "channel": "bank_transfer"},
                             headers={"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())}).json()
        hashed = sessions.token_hash(token)
        meta = RequestMeta(ip="127.0.0.1", user_agent="bench")
        with db.unit_of_work(write=False) as session:
            loan = loans.repo.get(session, ids[0])  # the read a route makes through `loans.visible`
            assert loan is not None
            rows = loans.events(session=session, loan=loan)
            refs = [f"{loan.id}:{row.seq}:{basis}" for row in rows for basis in ("both", "cash", "accrual")]

        def principal_old() -> None:
            with db.unit_of_work(write=False) as session:
                row = idrepo.session_by_token_hash(session, hashed)
                assert row is not None
                user = idrepo.get_user(session, row.user_id)
                assert user is not None
                roles = idrepo.roles_of(session, user.id)
                idrepo.permissions_of_roles(session, [r.id for r in roles])

        def principal_new() -> None:
            with db.unit_of_work(write=False) as session:
                sessions.authenticate(session=session, kit=kit, token=token, meta=meta, touch=False)

        def claim_old() -> None:  # platform.idempotency.claim as it was (main at a8a84be), a first request
            with db.unit_of_work() as session:
                key = str(uuid.uuid4())
                found = session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.principal == "user:1",
                                                                        IdempotencyRecord.key == key))
                assert found is None
                with session.begin_nested():
                    session.add(IdempotencyRecord(principal="user:1", key=key, operation="op", request_hash="h",
                                                  created_at=runtime.clock.now()))

        def claim_new() -> None:
            with db.unit_of_work() as session:
                record, _ = idempotency.claim(session=session, clock=runtime.clock, principal="user:1",
                                              key=str(uuid.uuid4()), operation="op", request_hash="h")
                assert record is not None

        def trail_old() -> None:
            with db.unit_of_work(write=False) as session:
                found = list(session.scalars(select(JournalEntry).where(
                    JournalEntry.institution_id == inst_id, JournalEntry.source_kind == "loan_event",
                    JournalEntry.source_ref.in_(refs)).order_by(JournalEntry.id)))
                assert found

        def trail_new() -> None:
            with db.unit_of_work(write=False) as session:
                assert ledger_repo.entry_ids_by_sources(session, institution_id=inst_id, kind="loan_event", refs=refs)

        def json_old() -> None:
            json.dumps(answer, ensure_ascii=False, separators=(",", ":")).encode()
            JSONResponse(answer)

        def json_new() -> None:
            json.dumps(answer, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()

        counted = [0]
        event.listen(db.engine, "before_cursor_execute", lambda *_: counted.__setitem__(0, counted[0] + 1))
        parts: dict[str, tuple[Callable[[], None], Callable[[], None]]] = {
            "principal": (principal_old, principal_new), "claim": (claim_old, claim_new),
            "trail": (trail_old, trail_new), "answer_json": (json_old, json_new)}
        out: dict[str, Any] = {}
        for name, ways in parts.items():
            times: tuple[list[float], list[float]] = ([], [])
            statements = [0, 0]
            for way in ways:  # warm up: compiled-statement caches, first-use costs
                way()
            for _ in range(args.rounds):
                for i, way in enumerate(ways):
                    counted[0] = 0
                    began = time.process_time()
                    for _ in range(args.calls):
                        way()
                    times[i].append(1000 * (time.process_time() - began) / args.calls)
                    statements[i] = counted[0] // args.calls
            old, new = statistics.median(times[0]), statistics.median(times[1])
            out[name] = {"old_cpu_ms": round(old, 3), "new_cpu_ms": round(new, 3),
                         "old_statements": statements[0], "new_statements": statements[1]}
            print(f"{name:12s} old {old:7.3f} ms CPU, {statements[0]} statements   "
                  f"new {new:7.3f} ms CPU, {statements[1]} statements   ({new / old:.2f}x)", file=sys.stderr)
        runtime.close()
        answer_bytes = len(json.dumps(answer, ensure_ascii=False).encode())
        print(json.dumps({"backend": args.backend, "events": len(rows), "answer_bytes": answer_bytes,
                          "load_before": load_before, "load_after": rp._uptime(), **out}))
    finally:
        if pg_name is not None:
            rp._drop(pg_name)


if __name__ == "__main__":
    main()
