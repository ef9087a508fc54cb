"""Concurrent writes never reach the caller as errors (issue 22).

Many requests at the same moment against a real, committing database of each
kind (SQLite in WAL mode, PostgreSQL, MariaDB): failed sign-ins to one account,
wrong SMS codes for one phone, edits of one borrower by two staff members.  No
answer is a 5xx, none is a 409 the request did not cause itself, and the
protections stay exact: the lockout evaluates the same number of guesses as it
would one request at a time, a code's attempts are counted once each.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from microcredit.api.app import create_app, iter_routes
from microcredit.clock import FrozenClock
from microcredit.db.engine import Database
from microcredit.db.migrate import upgrade
from microcredit.identity.models import LoginThrottle
from microcredit.parties.models import Borrower
from microcredit.platform.routing import UnitOfWorkRoute
from microcredit.runtime import Runtime, build_runtime
from tests.conftest import START, fresh_database_url, make_settings
from tests.factories import (
    CONSENTS,
    institution_header,
    last_sms_code,
    make_borrower,
    make_institution,
    make_staff,
    next_id_number,
    next_phone,
)
from tests.integration.helpers import signed_in
from tests.integration.identity.support import password_login, request_code, sms_login

pytestmark = pytest.mark.xdist_group("concurrency")  # one worker: the requests are the parallelism
CALLERS = 24


@pytest.fixture(scope="module", params=["sqlite", "postgresql", "mysql"])
def live(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Runtime, Any]]:
    """A migrated database that really commits, the runtime on it and an institution."""
    tmp: Path = tmp_path_factory.mktemp("concurrency")
    url = fresh_database_url(request.param, tmp, suffix="_concurrency")
    # A short SQLite busy timeout makes writers meet `database is locked` in a test-sized burst
    # (the default, 10 s, hides it until a real burst); the retries must absorb it.
    database = Database(url, sqlite_busy_timeout_ms=200)
    upgrade(database.engine)
    settings = make_settings(tmp, trusted_proxies="testclient")
    runtime = build_runtime(settings, database=database, clock=FrozenClock(START))
    with database.session() as session:
        inst = make_institution(session, runtime)
        session.commit()
        yield runtime, inst
    runtime.close()


@pytest.fixture(scope="module")
def client(live: tuple[Runtime, Any]) -> Iterator[TestClient]:
    with TestClient(create_app(runtime=live[0])) as test_client:
        yield test_client


def _at_once(calls: list[Any]) -> list[Any]:
    """Run the calls from as many threads at once; their responses, in order."""
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(lambda call: call(), calls))


def _from(n: int) -> dict[str, str]:
    return {"X-Forwarded-For": f"198.51.100.{n}"}


def _no_server_errors(responses: list[Any]) -> Counter[tuple[int, str | None]]:
    answers = Counter((r.status_code, r.json().get("code") if r.content else None) for r in responses)
    assert not [a for a in answers if a[0] >= 500 or a[0] == 409], answers
    return answers


def test_every_route_runs_its_unit_of_work_with_retries(client: TestClient) -> None:
    routes = [route for _, route in iter_routes(client.app)]  # type: ignore[arg-type]
    assert len(routes) > 50
    assert [route.path for route in routes if not isinstance(route, UnitOfWorkRoute)] == []


def test_simultaneous_failed_sign_ins_to_one_account(live: tuple[Runtime, Any], client: TestClient) -> None:
    runtime, inst = live
    with runtime.db.session() as session:
        borrower = make_borrower(session, runtime, inst)
        session.commit()
    responses = _at_once([
        (lambda n=n: password_login(client, inst, borrower.phone, "not the password", extra_headers=_from(n)))
        for n in range(CALLERS)
    ])
    answers = _no_server_errors(responses)
    # With the clock standing still the policy evaluates two guesses, then delays every other one.
    assert answers == {(401, "invalid_credentials"): 2, (429, "login_delayed"): CALLERS - 2}
    with runtime.db.session() as session:
        throttles = session.scalars(select(LoginThrottle).where(LoginThrottle.institution_id == inst.id)).all()
        assert [t.failures for t in throttles if t.failures] == [2]


def test_simultaneous_wrong_sms_codes_for_one_phone(live: tuple[Runtime, Any], client: TestClient) -> None:
    runtime, inst = live
    with runtime.db.session() as session:
        borrower = make_borrower(session, runtime, inst)
        session.commit()
    assert request_code(client, inst, borrower.phone, "login").status_code == 202
    responses = _at_once([
        (lambda n=n: sms_login(client, inst, borrower.phone, f"{n:06d}", extra_headers=_from(100 + n)))
        for n in range(CALLERS)
    ])
    answers = _no_server_errors(responses)
    assert set(answers) <= {(422, "invalid_sms_code"), (429, "login_delayed")}, answers
    assert answers[(422, "invalid_sms_code")] == 2  # the same two guesses as above: the lockout counts them


def test_staff_editing_one_borrower_at_the_same_moment_all_succeed(live: tuple[Runtime, Any],
                                                                     client: TestClient) -> None:
    # The edit locks the borrower's row before reading it, so the edits queue; where one still
    # meets a version it did not read (StaleDataError), its unit of work is run again.
    runtime, inst = live
    with runtime.db.session() as session:
        borrower = make_borrower(session, runtime, inst)
        staff = [make_staff(session, runtime, inst, roles=("administrator",)) for _ in range(2)]
        headers = [signed_in(session, runtime, s.user) for s in staff]
        session.commit()
        before = borrower.borrower.version
        borrower_id = borrower.borrower.id
    path = f"/api/v1/borrowers/{borrower_id}"
    edits = 6
    responses = _at_once([
        (lambda n=n: client.patch(path, headers=headers[n % 2], json={"occupation": f"职业 {n}"}))
        for n in range(edits)
    ])
    refused = [r.json() for r in responses if r.status_code != 200]
    assert Counter(r.status_code for r in responses) == {200: edits}, refused
    with runtime.db.session() as session:
        row = session.get(Borrower, borrower_id)
        assert row is not None
        assert row.version == before + edits


def test_simultaneous_registrations_with_one_id_number_make_one_borrower(live: tuple[Runtime, Any],
                                                                          client: TestClient) -> None:
    # Each caller proves their own phone; all use the same ID number.  The answers are alike
    # (202: registration reveals nothing), and exactly one borrower holds the number.
    runtime, inst = live
    callers = 6
    phones = [next_phone() for _ in range(callers)]
    codes = []
    for n, phone in enumerate(phones):
        assert request_code(client, inst, phone, "register", extra_headers=_from(200 + n)).status_code == 202
        codes.append(last_sms_code(client, phone))
    id_number = next_id_number()
    responses = _at_once([
        (lambda n=n: client.post("/api/v1/auth/register", headers={**institution_header(inst), **_from(200 + n)},
                                 json={"phone": phones[n], "sms_code": codes[n], "real_name": "同号人",
                                       "id_number": id_number, "password": "a quite long passphrase",
                                       "consents": CONSENTS}))
        for n in range(callers)
    ])
    answers = _no_server_errors(responses)
    assert answers == {(202, None): callers}, answers
    with runtime.db.session() as session:
        index = runtime.keys.blind_index(id_number, domain="id_number")
        holders = session.scalars(select(Borrower).where(Borrower.institution_id == inst.id,
                                                         Borrower.id_number_index == index)).all()
        assert len(holders) == 1


def _photo(n: int, size: tuple[int, int] = (32, 24)) -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, (n * 40 % 256, 90, 160)).save(out, format="JPEG")
    return out.getvalue()


def test_simultaneous_uploads_for_one_borrower_leave_one_active_document_and_no_twin(
        live: tuple[Runtime, Any], client: TestClient) -> None:
    # Four staff members at once (the per-user upload limit's counter would queue one user's uploads
    # by itself). The upload locks the borrower's row first, so the replacement of the active document
    # of a type and the duplicate check see the uploads before them.
    from microcredit.documents import service as documents

    runtime, inst = live
    with runtime.db.session() as session:
        borrower_id = make_borrower(session, runtime, inst).borrower.id
        staff = [make_staff(session, runtime, inst, roles=("administrator",)) for _ in range(4)]
        headers = [signed_in(session, runtime, s.user) for s in staff]
        session.commit()

    def upload(n: int, type_: str, data: bytes) -> Any:
        return client.post(f"/api/v1/borrowers/{borrower_id}/documents", headers=headers[n], data={"type": type_},
                           files={"file": ("p.jpg", data, "image/jpeg")})

    distinct = _at_once([(lambda n=n: upload(n, "id_card", _photo(n))) for n in range(4)])
    assert Counter(r.status_code for r in distinct) == {201: 4}, [r.text for r in distinct]
    same = _at_once([(lambda n=n: upload(n, "income_proof", _photo(0, (40, 30)))) for n in range(4)])
    assert Counter(r.status_code for r in same) == {201: 1, 409: 3}, [r.text for r in same]
    with runtime.db.session() as session:
        docs = documents.list_for_borrower(session=session, borrower_id=borrower_id, include_inactive=True)
        assert Counter((d.type, d.status) for d in docs) == {("id_card", "active"): 1, ("id_card", "replaced"): 3,
                                                              ("income_proof", "active"): 1}
