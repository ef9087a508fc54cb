"""A refusal that keeps its other changes does not leave its Idempotency-Key 'in progress'."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from microcredit.api.app import create_app
from microcredit.api.deps import DB, IdempotencyGuard, idempotent, require
from microcredit.identity.errors import InvalidCredentials
from microcredit.identity.principal import Principal
from microcredit.platform.models import IdempotencyRecord
from tests.factories import make_institution, make_staff
from tests.integration.helpers import idempotency_key, signed_in


def test_the_key_is_released_when_the_refusal_keeps_its_trace(session, runtime):
    inst = make_institution(session, runtime)
    staff = make_staff(session, runtime, inst, roles=("loan_officer",))
    auth = signed_in(session, runtime, staff.user)
    session.commit()
    app = create_app(runtime=runtime)
    router = APIRouter()

    @router.post("/api/v1/_test/refuse-with-trace")
    def refuse(session: DB, principal: Principal = require("borrower.register"),
               guard: IdempotencyGuard = idempotent("test.refuse")) -> None:
        raise InvalidCredentials()  # keeps_changes: its trace (here: nothing else) is committed

    app.include_router(router)
    key = idempotency_key()
    with TestClient(app) as client:
        first = client.post("/api/v1/_test/refuse-with-trace", headers={**auth, **key}, json={})
        again = client.post("/api/v1/_test/refuse-with-trace", headers={**auth, **key}, json={})
    assert first.json()["code"] == again.json()["code"] == "invalid_credentials"
    assert session.scalar(select(func.count()).select_from(IdempotencyRecord)) == 0


def test_an_answer_over_64_kib_is_stored_and_replayed(session, runtime):
    """MySQL's BLOB stops at 64 KiB; a loan with a few hundred events answers with more."""
    inst = make_institution(session, runtime)
    staff = make_staff(session, runtime, inst, roles=("loan_officer",))
    auth = signed_in(session, runtime, staff.user)
    session.commit()
    app = create_app(runtime=runtime)
    router = APIRouter()
    rows = [{"n": n, "text": "事件" * 20} for n in range(2_000)]  # ~150 KiB as JSON

    @router.post("/api/v1/_test/large-answer")
    def large(session: DB, principal: Principal = require("borrower.register"),
              guard: IdempotencyGuard = idempotent("test.large")) -> object:
        return guard.respond(200, {"rows": rows})

    app.include_router(router)
    key = idempotency_key()
    with TestClient(app) as client:
        first = client.post("/api/v1/_test/large-answer", headers={**auth, **key}, json={})
        again = client.post("/api/v1/_test/large-answer", headers={**auth, **key}, json={})
    assert first.status_code == again.status_code == 200, first.text
    assert len(first.content) > 128 * 1024
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json() == first.json() == {"rows": rows}
    # The first answer is sent as the bytes stored under the key (serialised once): a replay is the same bytes.
    assert again.content == first.content
    assert again.headers["content-type"] == first.headers["content-type"] == "application/json"
