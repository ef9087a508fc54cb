"""No plaintext ID numbers, bank card numbers or phone numbers at rest; no SMS codes or session tokens either.

Borrowers are registered through the API (online with an SMS code, and at a
branch), add bank cards, edit their profiles, are searched and revealed; a
guarantor is added to an application and revealed. Then
the raw storage is read: the SQLite database file and its write-ahead log
byte by byte, and on every database every column of every table with SELECT.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from microcredit.api.app import create_app
from microcredit.db.engine import Database, make_engine
from microcredit.db.migrate import upgrade
from microcredit.identity.models import SmsCode, UserSession
from microcredit.models_registry import load_all_models
from microcredit.parties.models import Institution
from microcredit.platform.validators import id_check_character
from microcredit.runtime import Runtime, build_runtime
from tests.conftest import fresh_database_url, make_settings
from tests.factories import CONSENTS, institution_header, last_sms_code, make_branch, make_institution, make_staff
from tests.integration.helpers import shared_client, signed_in
from tests.integration.origination.support import PLAN, publish_product

PASSWORD = "Plain-Text-Never-42"


@pytest.fixture
def client(runtime, backend):
    """A client of the worker's app for this backend (building an app per test costs ~0.1 s)."""
    yield from shared_client(runtime, backend)


@dataclass
class Secrets:
    """What must never be stored in clear."""

    id_numbers: list[str] = field(default_factory=list)
    cards: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    sms_codes: list[str] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)

    @property
    def at_rest(self) -> list[str]:
        """Values that may appear nowhere in the database."""
        return self.id_numbers + self.cards + self.phones + self.tokens + [PASSWORD]


def _id_number(born: date, seq: int) -> str:
    first17 = f"360102{born:%Y%m%d}{seq:03d}"
    return first17 + id_check_character(first17)


def exercise(client: TestClient, inst: Institution, officer: dict[str, str], branch_id: int) -> Secrets:
    """Register, edit, search and reveal borrowers through the API; return the values used."""
    s = Secrets()
    pub = institution_header(inst)
    # Online registration with an SMS code (an ID number ending in X).
    phone, number = "13812345670", _id_number(date(1986, 4, 9), 2)
    number = number if number.endswith("X") else _id_number(date(1986, 4, 9), 12)
    assert client.post("/api/v1/auth/sms-codes", headers=pub,
                       json={"phone": phone, "purpose": "register"}).status_code == 202
    code = last_sms_code(client, phone)
    r = client.post("/api/v1/auth/register", headers=pub, json={
        "phone": phone, "sms_code": code, "real_name": "明文检查", "id_number": number, "password": PASSWORD,
        "monthly_income": "5000.00", "consents": CONSENTS})
    assert r.status_code == 202, r.text
    login = client.post("/api/v1/auth/login", headers=pub,
                        json={"phone": phone, "password": PASSWORD, "kind": "borrower"})
    assert login.status_code == 200, login.text
    token = login.json()["token"]
    me = {"Authorization": f"Bearer {token}"}
    s.id_numbers.append(number)
    s.phones.append(phone)
    s.sms_codes.append(code)
    s.tokens.append(token)
    card = "6225881414207430"
    assert client.post("/api/v1/me/bank-cards", headers=me,
                       json={"bank_name": "中国农业银行", "card_number": card}).status_code == 201
    s.cards.append(card)
    assert client.patch("/api/v1/me/profile", headers=me,
                        json={"monthly_income": "8000.00", "city": "南昌市"}).status_code == 200

    # A walk-in borrower registered at the branch, with two cards, edited, searched and revealed.
    phone2, number2 = "13912345671", _id_number(date(1975, 12, 31), 7)
    r = client.post("/api/v1/borrowers", headers={**officer, "Idempotency-Key": "scan-1"},
                    json={"phone": phone2, "real_name": "网点客户", "id_number": number2, "branch_id": branch_id,
                          "consent_signed": True})
    assert r.status_code == 201, r.text
    walk_in = r.json()["id"]
    s.id_numbers.append(number2)
    s.phones.append(phone2)
    for card2 in ("6217000010001234567", "6225881414207431"):
        assert client.post(f"/api/v1/borrowers/{walk_in}/bank-cards", headers=officer,
                           json={"bank_name": "中国建设银行", "card_number": card2}).status_code == 201
        s.cards.append(card2)
    assert client.patch(f"/api/v1/borrowers/{walk_in}", headers=officer,
                        json={"occupation": "果农", "monthly_income": "4000.00"}).status_code == 200
    for q in (number2, phone2, number2[-4:]):
        assert [b["id"] for b in client.post("/api/v1/borrowers/search", headers=officer, json={"q": q}
                                             ).json()["items"]] == [walk_in]
    revealed = client.post(f"/api/v1/borrowers/{walk_in}/reveal", headers=officer).json()
    assert revealed["id_number"] == number2

    # A guarantor of the walk-in borrower's draft application, added by the officer and revealed.
    draft = client.post("/api/v1/applications", headers=officer, json={**PLAN, "borrower_id": walk_in})
    assert draft.status_code == 201, draft.text
    phone3, number3 = "13612345672", _id_number(date(1968, 2, 29), 5)
    r = client.post(f"/api/v1/applications/{draft.json()['id']}/guarantors", headers=officer, json={
        "name": "担保检查", "id_number": number3, "phone": phone3, "relation": "spouse", "kind": "joint_liability",
        "amount": "3000.00", "consent_signed": True})
    assert r.status_code == 201, r.text
    s.id_numbers.append(number3)
    s.phones.append(phone3)
    assert client.post(f"/api/v1/applications/{draft.json()['id']}/guarantors/{r.json()['id']}/reveal",
                       headers=officer).json() == {"id_number": number3, "phone": phone3}

    # The walk-in borrower signs in with an SMS code.
    assert client.post("/api/v1/auth/sms-codes", headers=pub,
                       json={"phone": phone2, "purpose": "login"}).status_code == 202
    code2 = last_sms_code(client, phone2)
    r = client.post("/api/v1/auth/login/sms", headers=pub, json={"phone": phone2, "code": code2})
    assert r.status_code == 200, r.text
    s.sms_codes.append(code2)
    s.tokens.append(r.json()["token"])
    assert client.get("/api/v1/me/profile", headers={"Authorization": f"Bearer {r.json()['token']}"}
                      ).status_code == 200
    return s


def _text(value: Any) -> str:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("latin-1")
    return str(value)


def assert_no_column_holds(database: Database, secrets: Secrets) -> None:
    """SELECT every column of every table; none may hold a secret (SMS codes: none in sms_codes)."""
    metadata = load_all_models()
    with database.unit_of_work(write=False) as s:
        scanned = 0
        for table in metadata.sorted_tables:
            for row in s.execute(select(table)).all():
                text = "\x00".join(_text(v) for v in row)
                scanned += 1
                for secret in secrets.at_rest:
                    assert secret not in text, f"{secret!r} stored in clear in {table.name}: {row}"
        assert scanned > 50
        codes = s.execute(select(SmsCode.__table__)).all()
        assert len(codes) == 2
        for row in codes:
            for code in secrets.sms_codes:
                assert code not in "\x00".join(_text(v) for v in row), f"SMS code {code} in sms_codes"
        sessions = s.execute(select(UserSession.__table__)).all()
        assert len(sessions) >= 3
        for row in sessions:
            for token in secrets.tokens:
                assert token not in "\x00".join(_text(v) for v in row)


def _arrange(runtime: Runtime, database: Database) -> tuple[Institution, dict[str, str], int]:
    with database.unit_of_work() as session:
        inst = make_institution(session, runtime)
        branch = make_branch(session, runtime, inst)
        publish_product(session, runtime, inst)
        officer = make_staff(session, runtime, inst, roles=("loan_officer",), branch=branch, password=None)
        headers = signed_in(session, runtime, officer.user)
        return inst, headers, branch.id


def test_no_column_of_any_table_holds_plaintext(client, runtime, database):
    inst, officer, branch_id = _arrange(runtime, database)
    secrets = exercise(client, inst, officer, branch_id)
    assert_no_column_holds(database, secrets)


def test_the_sqlite_file_and_its_log_hold_no_plaintext(worker_tmp, clock):
    url = fresh_database_url("sqlite", worker_tmp, "_scan")
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    database = Database(url)
    runtime = build_runtime(make_settings(worker_tmp), database=database, clock=clock)
    inst, officer, branch_id = _arrange(runtime, database)
    with TestClient(create_app(runtime=runtime)) as client:
        secrets = exercise(client, inst, officer, branch_id)
    assert_no_column_holds(database, secrets)

    path = Path(url.removeprefix("sqlite:///"))
    wal = Path(f"{path}-wal")
    assert wal.exists()
    raw = path.read_bytes() + wal.read_bytes()
    # The scan does read what the API wrote: the masked forms are there.
    for number in secrets.id_numbers:
        assert (number[:6] + "*" * 8 + number[14:]).encode() in raw
    assert b"622588******7430" in raw
    for secret in secrets.at_rest:
        for form in {secret, secret.lower()}:
            assert form.encode() not in raw, f"{form!r} is in the database file in clear"
            assert form.encode("utf-16-le") not in raw
    database.dispose()
    raw = path.read_bytes()  # after the last connection closed: checkpointed into the main file
    for secret in secrets.at_rest:
        assert secret.encode() not in raw
