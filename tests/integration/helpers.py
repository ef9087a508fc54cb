"""Helpers of the integration tests: signed-in callers, database snapshots, problem documents."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import Integer, func, literal, select, union_all
from sqlalchemy.orm import Session

from microcredit.api.app import create_app
from microcredit.api.deps import dispatch_outbox
from microcredit.api.problems import PROBLEM_MEDIA_TYPE, Problem
from microcredit.audit import service as audit_service
from microcredit.audit.models import AuditHead, AuditRecord
from microcredit.clock import FrozenClock
from microcredit.db.engine import Database
from microcredit.db.migrate import upgrade
from microcredit.identity import service as identity
from microcredit.identity.models import User
from microcredit.models_registry import load_all_models
from microcredit.platform.actor import RequestMeta
from microcredit.runtime import Runtime, build_runtime
from tests.conftest import START, fresh_database_url, make_settings

PROBLEM_FIELDS = frozenset(Problem.model_fields)
_APPS: dict[str, FastAPI] = {}


def shared_app(runtime: Runtime, backend: str) -> FastAPI:
    """One app per backend and process (building one costs ~0.1 s), pointed at this test's runtime."""
    app = _APPS.get(backend)
    if app is None:
        app = _APPS[backend] = create_app(runtime=runtime)
        return app
    app.state.runtime = runtime
    return app


def shared_client(runtime: Runtime, backend: str) -> Iterator[TestClient]:
    """A TestClient on `shared_app` (for a module's `client` fixture)."""
    with TestClient(shared_app(runtime, backend)) as client:
        yield client


def signed_in(session: Session, runtime: Runtime, user: User) -> dict[str, str]:
    """Auth headers of a new, full (second-factor-complete) session of `user`, without a password check."""
    issued = identity.sessions.start_session(session=session, kit=runtime.identity, user=user, method="test",
                                             meta=RequestMeta(ip="127.0.0.1"), stage="full")
    return {"Authorization": f"Bearer {issued.token}"}


def idempotency_key() -> dict[str, str]:
    """A fresh Idempotency-Key header."""
    return {"Idempotency-Key": str(uuid.uuid4())}


@dataclass(frozen=True)
class Snapshot:
    """Row counts (and sums of version columns) of every table, and the audit chain's head."""

    tables: dict[str, tuple[int, int]]
    audit_head: tuple[int, str] | None

    def diff(self, other: Snapshot) -> dict[str, Any]:
        """What differs between two snapshots (empty when equal)."""
        out: dict[str, Any] = {name: (value, other.tables.get(name)) for name, value in self.tables.items()
                               if other.tables.get(name) != value}
        if self.audit_head != other.audit_head:
            out["audit_head"] = (self.audit_head, other.audit_head)
        return out


def snapshot(database: Database) -> Snapshot:
    """Count every table of the models in one statement (updates of versioned rows show in the sums)."""
    parts = []
    for table in load_all_models().sorted_tables:
        # Optimistic-lock counters only: consent documents' `version` is a published label ("1.0").
        counted = "version" in table.c and isinstance(table.c.version.type, Integer)
        version = func.coalesce(func.sum(table.c.version), 0) if counted else literal(0)
        parts.append(select(literal(table.name).label("name"), func.count().label("n"),
                            version.label("v")).select_from(table))
    with database.unit_of_work(write=False) as s:
        rows = s.execute(union_all(*parts)).all()
        head = s.execute(select(AuditHead.seq, AuditHead.hash)).first()
    return Snapshot(tables={str(r[0]): (int(r[1]), int(r[2])) for r in rows},
                    audit_head=(int(head[0]), str(head[1])) if head else None)


def assert_problem(response: Any, *statuses: int) -> dict[str, Any]:
    """The response is a problem document with one of `statuses` and only the problem fields."""
    assert response.status_code in statuses, (response.status_code, response.text)
    assert response.headers["content-type"].startswith(PROBLEM_MEDIA_TYPE), response.headers["content-type"]
    body: dict[str, Any] = response.json()
    assert set(body) <= PROBLEM_FIELDS, set(body) - PROBLEM_FIELDS
    assert body["status"] == response.status_code
    assert body["code"]
    assert body["detail"]
    return body


def audit_records(session: Any, action: str, entity_id: object | None = None) -> list[AuditRecord]:
    """Audit records of `action` (on one entity), oldest first — then the session's own transaction's, which
    its commit will write (a record is written at commit, numbered and hashed): those have no number yet.
    Reading them does not write them, so the test's session takes no lock another request would wait for."""
    stmt = select(AuditRecord).where(AuditRecord.action == action).order_by(AuditRecord.seq)
    if entity_id is not None:
        stmt = stmt.where(AuditRecord.entity_id == str(entity_id))
    waiting = [AuditRecord(**rec.row()) for rec in audit_service.waiting(session)
               if rec.action == action and (entity_id is None or rec.entity_id == str(entity_id))]
    session.expire_all()
    return [*session.scalars(stmt), *waiting]


def workbook_rows(response: Any) -> list[tuple[Any, ...]]:
    """The rows (header first) of an .xlsx download."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert response.headers["content-disposition"].startswith("attachment;")
    ws = load_workbook(io.BytesIO(response.content)).active
    assert ws is not None
    return [tuple(row) for row in ws.iter_rows(values_only=True)]


def serve_with_cipher(app: FastAPI, runtime: Runtime, cipher: Any) -> None:
    """Point `app` at `runtime` with another field cipher (e.g. one that refuses to decrypt)."""
    keys = replace(runtime.keys, cipher=cipher)
    app.state.runtime = replace(runtime, keys=keys, identity=replace(runtime.identity, keys=keys))


def sign_contract(client: TestClient, runtime: Runtime, borrower_headers: dict[str, str], phone: str,
                  application_id: int) -> dict[str, Any]:
    """Make, and sign as the borrower would (SMS code on the PDF's digest), the contract of an approved
    application; the institution signs it with the demo certificate. Only then can the loan be paid out."""
    import re

    from microcredit.contracts import signing

    signing.init_demo_ca(runtime.settings.data_dir.resolve(), now=runtime.clock.now())
    base = f"/api/v1/me/applications/{application_id}/contract"
    made = client.post(base, headers=borrower_headers)
    assert made.status_code == 200, made.text
    assert client.post(f"{base}/signing-code", headers=borrower_headers).status_code == 200
    messages = client.get("/_sim/sms", params={"phone": phone}).json()
    code = re.search(r"\b(\d{6})\b", messages[0]["text"])
    assert code, messages
    signed = client.post(f"{base}/sign", headers=borrower_headers,
                         json={"sms_code": code.group(1), "document_sha256": made.json()["pdf_sha256"]})
    assert signed.status_code == 200, signed.text
    assert signed.json()["status"] == "signed"
    result: dict[str, Any] = signed.json()
    return result


def outbox_timer(client: TestClient) -> None:
    """One period of `serve`'s outbox timer (`api.app._lifespan`'s poller, off in tests): deliver what is
    queued. Messages nobody waits for at once (receipts, notices) leave only this way; a one-time code
    leaves with its own request (`notifications.enqueue_sms(urgent=True)`)."""
    dispatch_outbox(client.app.state.runtime)


def committing_runtime(backend: str, tmp_path_factory: Any, name: str, *, sqlite_busy_timeout_ms: int = 5000
                       ) -> Runtime:
    """A fresh migrated database of `backend` that really commits (not the test's transaction rolled back at its
    end), with the runtime on it at `START`: for tests of concurrent transactions. The caller closes it."""
    tmp = tmp_path_factory.mktemp(name)
    database = Database(fresh_database_url(backend, tmp, suffix=f"_{name}"),
                        sqlite_busy_timeout_ms=sqlite_busy_timeout_ms)
    upgrade(database.engine)
    return build_runtime(make_settings(tmp), database=database, clock=FrozenClock(START))
