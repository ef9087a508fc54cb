"""Online registration: SMS-proven phone, GB 11643-1999 ID number unique per institution, password policy."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from microcredit.identity import service as identity
from microcredit.parties.models import Borrower
from microcredit.platform.validators import id_check_character
from tests.factories import (
    CONSENTS,
    institution_header,
    last_sms_code,
    make_borrower,
    make_institution,
    next_id_number,
    next_phone,
)
from tests.integration.helpers import audit_records, outbox_timer, serve_with_cipher
from tests.integration.identity.support import API, bearer, code, me, password_login, request_code

PASSWORD = "a quite long passphrase"


def register(client, inst, phone: str, sms_code: str | None, id_number: str, password: str = PASSWORD,
             **extra: Any):
    """POST /auth/register."""
    body = {"phone": phone, "sms_code": sms_code, "real_name": "王五", "id_number": id_number,
            "password": password, "consents": CONSENTS, **extra}
    return client.post(f"{API}/auth/register", json=body, headers=institution_header(inst))


def new_code(client, inst, phone: str) -> str:
    """Request a `register` code for `phone` and read it from the simulator."""
    assert request_code(client, inst, phone, "register").status_code == 202
    return last_sms_code(client, phone)


def id_number(born: date, region: str = "360102", sequence: int = 17) -> str:
    """A valid ID number of someone born on `born`."""
    first17 = f"{region}{born:%Y%m%d}{sequence:03d}"
    return first17 + id_check_character(first17)


def test_registration_then_sign_in_keeps_the_id_number_encrypted(client, session, runtime, inst):
    phone, number = next_phone(), id_number(date(1990, 5, 17), sequence=123)
    r = register(client, inst, phone, new_code(client, inst, phone), number)
    assert r.status_code == 202, r.text
    assert r.json() == {"status": "received", "phone_masked": f"{phone[:3]}****{phone[-4:]}"}
    auth = bearer(password_login(client, inst, phone, PASSWORD))
    assert me(client, auth).json()["kind"] == "borrower"
    borrower = client.get(f"{API}/me/profile", headers=auth).json()
    assert borrower["id_number_masked"] == "360102********123" + number[-1]
    assert borrower["phone_masked"] == f"{phone[:3]}****{phone[-4:]}"
    assert (borrower["gender"], borrower["birth_year"], borrower["channel"]) == ("male", 1990, "online")
    ciphertext, index = session.execute(select(Borrower.id_number_ciphertext, Borrower.id_number_index)
                                        .where(Borrower.id == borrower["id"])).one()
    assert number not in ciphertext
    assert runtime.keys.cipher.decrypt(ciphertext, context="borrowers.id_number") == number
    assert index == runtime.keys.blind_index(number, domain="id_number")
    assert password_login(client, inst, phone, PASSWORD).status_code == 200


# Each failing part of the ID number has its own code (docs/domain.md §1.1), and none of them uses up
# the SMS code: the registrant fixes the typo and registers with the same code.
GOOD = id_number(date(1990, 1, 1), sequence=31)


def with_check(first17: str) -> str:
    return first17 + id_check_character(first17)


#   bad ID number                                  code                    what is wrong
BAD_IDS = [
    (GOOD[:17], "id_number_format"),              # 17 characters
    (GOOD[:17] + "Y", "id_number_format"),        # Y is no check character
    (with_check("99" + GOOD[2:17]), "id_number_region"),
    (with_check("36010219900230031"), "id_number_birth_date"),   # 30 February
    (id_number(date(2027, 1, 1)), "id_number_birth_date"),       # after the business date
    (GOOD[:17] + ("0" if GOOD[17] != "0" else "1"), "id_number_checksum"),
]


@pytest.mark.parametrize(("bad", "expected"), BAD_IDS)
def test_each_id_number_error_has_its_code_and_keeps_the_sms_code(client, inst, bad, expected):
    phone = next_phone()
    sms_code = new_code(client, inst, phone)
    r = register(client, inst, phone, sms_code, bad)
    assert (r.status_code, code(r)) == (422, expected), r.text
    assert r.json()["field"] == "id_number"
    assert [e["field"] for e in r.json()["errors"]] == ["id_number"]
    assert register(client, inst, phone, sms_code, GOOD).status_code == 202


@dataclass
class NoDecrypt:
    """A cipher that refuses to decrypt borrowers' data: uniqueness must come from the blind index alone."""

    inner: Any

    def encrypt(self, plaintext: str, *, context: str) -> str:
        return self.inner.encrypt(plaintext, context=context)

    def decrypt(self, token: str, *, context: str) -> str:
        if context.startswith("borrowers."):  # the owner's phone (users.phone) is read, to tell them
            raise AssertionError(f"decrypted {context} during registration")
        return self.inner.decrypt(token, context=context)


def test_a_registered_id_number_is_found_by_its_blind_index_and_not_revealed(client, session, runtime, inst):
    """The answer is a success's: a caller holding a code for their own phone learns nothing about the
    ID number; nothing is created; the ID number's owner is told by SMS on the phone on file."""
    existing = make_borrower(session, runtime, inst)
    session.commit()
    fresh_phone = next_phone()
    fresh = register(client, inst, fresh_phone, new_code(client, inst, fresh_phone), next_id_number())
    phone = next_phone()
    sms_code = new_code(client, inst, phone)
    serve_with_cipher(client.app, runtime, NoDecrypt(runtime.keys.cipher))
    number = existing.id_number
    spelled_differently = f"{number[:6]} {number[6:14]} {number[14:].lower()}"
    r = register(client, inst, phone, sms_code, spelled_differently)
    assert (r.status_code, sorted(r.json())) == (fresh.status_code, sorted(fresh.json())) == (
        202, ["phone_masked", "status"])
    assert r.json() == {"status": "received", "phone_masked": f"{phone[:3]}****{phone[-4:]}"}
    assert password_login(client, inst, phone, PASSWORD).status_code == 401
    owners = session.scalars(select(Borrower).where(Borrower.id_number_index == existing.borrower.id_number_index))
    assert [b.id for b in owners] == [existing.borrower.id]
    assert client.get("/_sim/sms", params={"phone": existing.phone}).json() == []  # nobody waits on it: the timer
    outbox_timer(client)
    told = client.get("/_sim/sms", params={"phone": existing.phone}).json()
    assert len(told) == 1
    assert "身份证号码注册" in told[0]["text"]
    assert client.get("/_sim/sms", params={"phone": phone}).json()[0]["text"] != told[0]["text"]
    [record] = audit_records(session, "borrower.registration_refused", existing.borrower.id)
    assert number not in str(record.after)
    # The code is spent all the same.
    assert code(register(client, inst, phone, sms_code, next_id_number())) == "invalid_sms_code"


def test_full_width_digits_do_not_make_a_registered_id_number_new(client, session, runtime, inst):
    existing = make_borrower(session, runtime, inst)
    session.commit()
    phone = next_phone()
    full_width = existing.id_number[:2] + existing.id_number[2:].translate(
        str.maketrans("0123456789", "０１２３４５６７８９"))
    r = register(client, inst, phone, new_code(client, inst, phone), full_width)
    assert (r.status_code, code(r)) == (422, "id_number_format"), r.text


def test_the_same_id_number_may_register_at_another_institution(client, session, runtime, inst):
    other = make_institution(session, runtime)
    existing = make_borrower(session, runtime, other)
    session.commit()
    phone = next_phone()
    assert register(client, inst, phone, new_code(client, inst, phone), existing.id_number).status_code == 202
    assert password_login(client, inst, phone, PASSWORD).status_code == 200


@pytest.mark.parametrize(("born", "status"), [(date(2008, 11, 26), 422), (date(2008, 11, 25), 202)])
def test_borrowers_must_be_18_on_the_business_date(client, inst, born, status):
    # The institution's business date is 2026-11-25.
    phone = next_phone()
    r = register(client, inst, phone, new_code(client, inst, phone), id_number(born))
    assert r.status_code == status, r.text
    if status == 422:
        assert (code(r), r.json()["field"]) == ("borrower_underage", "id_number")


def test_a_phone_taken_meanwhile_is_refused(client, session, runtime, inst):
    phone = next_phone()
    sms_code = new_code(client, inst, phone)
    # Someone else gets the number registered after the code was sent (at a branch, say).
    identity.accounts.create_user(session=session, kit=runtime.identity, institution_id=inst.id, kind="borrower",
                                  phone=phone, display_name="先到者", password=None, role_codes=("borrower",))
    session.commit()
    r = register(client, inst, phone, sms_code, next_id_number())
    assert (r.status_code, code(r)) == (409, "phone_already_registered"), r.text


def test_without_a_valid_code_registration_reveals_nothing_about_phones_or_id_numbers(client, session, runtime, inst):
    existing = make_borrower(session, runtime, inst)
    session.commit()
    free_phone, fresh_id = next_phone(), next_id_number()

    def answer(phone: str, number: str):
        r = register(client, inst, phone, "000000", number)
        return r.status_code, code(r), r.json()["field"]

    baseline = answer(free_phone, fresh_id)
    assert baseline == (422, "invalid_sms_code", "sms_code")
    assert answer(existing.phone, fresh_id) == baseline       # a registered phone
    assert answer(free_phone, existing.id_number) == baseline  # a registered ID number


@pytest.mark.parametrize(("password", "why"), [
    ("password123", "common"),
    ("short", "too short"),
    ("my id is {id}", "contains the ID number"),
    ("call {phone} now", "contains the phone"),
])
def test_password_policy_at_registration_keeps_the_sms_code(client, inst, password, why):
    phone, number = next_phone(), next_id_number()
    sms_code = new_code(client, inst, phone)
    r = register(client, inst, phone, sms_code, number, password=password.format(id=number, phone=phone))
    assert (r.status_code, code(r)) == (422, "password_rejected"), why
    assert r.json()["field"] == "password"
    assert register(client, inst, phone, sms_code, number).status_code == 202


def test_a_wrong_or_missing_code_is_refused(client, inst):
    phone = next_phone()
    sms_code = new_code(client, inst, phone)
    wrong = f"{(int(sms_code) + 1) % 1_000_000:06d}"
    assert code(register(client, inst, phone, wrong, next_id_number())) == "invalid_sms_code"
    assert code(register(client, inst, phone, None, next_id_number())) == "invalid_sms_code"
    r = register(client, inst, phone, "12345", next_id_number())
    assert (r.status_code, code(r), r.json()["field"]) == (422, "validation_failed", "sms_code")
    assert register(client, inst, phone, sms_code, next_id_number()).status_code == 202


def test_a_code_for_another_phone_does_not_register_this_one(client, inst):
    phone, other = next_phone(), next_phone()
    assert code(register(client, inst, phone, new_code(client, inst, other), next_id_number())) == \
        "invalid_sms_code"


def test_invalid_phone_names_the_field(client, inst):
    r = register(client, inst, "12800138000", "123456", next_id_number())
    assert (r.status_code, r.json()["errors"][0]["field"], r.json()["errors"][0]["code"]) == \
        (422, "phone", "phone_format")
