"""The request's transaction is committed before the response leaves the server.

Otherwise a client that acts on an answer at once (the web app asks /auth/me the
moment a sign-in answers) can reach a second process — or the same one — before
the first transaction committed, and not find what it was just told exists.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text

from microcredit.api.app import create_app
from microcredit.db.engine import Database, make_engine
from microcredit.db.migrate import upgrade
from microcredit.runtime import build_runtime
from tests.conftest import make_settings
from tests.factories import make_institution, next_phone


def test_the_transaction_is_committed_before_the_response_starts(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'commit-order.sqlite3'}"
    engine = make_engine(url)
    upgrade(engine)
    runtime = build_runtime(make_settings(tmp_path), database=Database(url))
    with runtime.db.unit_of_work() as session:
        inst = make_institution(session, runtime)
        code = inst.code
    app = create_app(runtime=runtime)
    seen: dict[str, int] = {}

    async def observing_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        async def send_and_look(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start" and scope["path"].endswith("/auth/sms-codes"):
                with engine.connect() as other:  # another connection: sees only committed rows
                    seen["codes"] = other.execute(text("SELECT COUNT(*) FROM sms_codes")).scalar_one()
            await send(message)

        await app(scope, receive, send_and_look)

    with TestClient(observing_app) as client:
        r = client.post("/api/v1/auth/sms-codes", json={"phone": next_phone(), "purpose": "register"},
                        headers={"X-Institution": code})
    assert r.status_code == 202, r.text
    assert seen == {"codes": 1}
    runtime.close()
    engine.dispose()
