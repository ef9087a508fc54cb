"""Walk-in registration at a branch: validation, the Idempotency-Key, the SMS, the first sign-in."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from microcredit.parties.models import Borrower
from microcredit.platform.validators import id_check_character
from tests.factories import institution_header, last_sms_code, next_id_number, next_phone
from tests.integration.helpers import assert_problem, audit_records, outbox_timer, snapshot


def _count(session, institution_id: int) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Borrower).where(Borrower.institution_id == institution_id))


def test_the_same_key_and_body_replays_the_first_answer(client, session, runtime, staff_as, org):
    officer, h = staff_as("loan_officer", branch=org.a)
    body = {"phone": next_phone(), "real_name": "孙二娘", "id_number": next_id_number(date(1980, 5, 17)),
            "occupation": "个体户", "monthly_income": "7000.00", "notify_by_sms": False, "consent_signed": True}
    key = {"Idempotency-Key": "3f1c7a2e-walk-in-0001"}

    first = client.post("/api/v1/borrowers", headers={**h, **key}, json=body)
    assert first.status_code == 201, first.text
    created = first.json()
    assert "idempotent-replayed" not in first.headers
    assert (created["branch_id"], created["channel"], created["monthly_income"]) == (org.a.id, "branch", "7000.00")
    assert created["id_number_masked"] == body["id_number"][:6] + "********" + body["id_number"][14:]
    assert body["id_number"] not in first.text
    assert body["phone"] not in first.text

    before = snapshot(runtime.db)
    again = client.post("/api/v1/borrowers", headers={**h, **key}, json=dict(reversed(body.items())))
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == created
    assert before.diff(snapshot(runtime.db)) == {}
    assert _count(session, org.inst.id) == 1
    [record] = audit_records(session, "borrower.registered", created["id"])
    assert (record.actor_user_id, record.after["channel"], record.after["branch_id"]) == (
        officer.user.id, "branch", org.a.id)

    reused = assert_problem(client.post("/api/v1/borrowers", headers={**h, **key},
                                        json={**body, "real_name": "孙三娘"}), 422)
    assert (reused["code"], reused["field"]) == ("idempotency_key_reused", "Idempotency-Key")
    for headers in (h, {**h, "Idempotency-Key": ""}, {**h, "Idempotency-Key": "k" * 256}):
        missing = assert_problem(client.post("/api/v1/borrowers", headers=headers,
                                             json={**body, "phone": next_phone(), "id_number": next_id_number()}),
                                 400)
        assert missing["code"] == "idempotency_key_invalid"
    assert before.diff(snapshot(runtime.db)) == {}


def test_keys_belong_to_their_caller(client, session, runtime, staff_as, org):
    _, h1 = staff_as("loan_officer", branch=org.a)
    _, h2 = staff_as("loan_officer", branch=org.a)
    key = {"Idempotency-Key": "shared-key-0001"}
    one = client.post("/api/v1/borrowers", headers={**h1, **key},
                      json={"phone": next_phone(), "real_name": "周一", "id_number": next_id_number(),
                            "notify_by_sms": False, "consent_signed": True})
    two = client.post("/api/v1/borrowers", headers={**h2, **key},
                      json={"phone": next_phone(), "real_name": "周二", "id_number": next_id_number(),
                            "notify_by_sms": False, "consent_signed": True})
    assert (one.status_code, two.status_code) == (201, 201)
    assert "idempotent-replayed" not in two.headers
    assert one.json()["id"] != two.json()["id"]


def test_a_failed_registration_keeps_no_key(client, session, runtime, staff_as, org):
    """A refusal is not remembered: the same key may be retried with the corrected body."""
    _, h = staff_as("loan_officer", branch=org.a)
    key = {"Idempotency-Key": "retry-after-typo"}
    good = next_id_number()
    typo = good[:-1] + ("0" if good[-1] != "0" else "1")
    body = {"phone": next_phone(), "real_name": "吴用", "id_number": typo, "notify_by_sms": False,
            "consent_signed": True}
    r = assert_problem(client.post("/api/v1/borrowers", headers={**h, **key}, json=body), 422)
    assert (r["code"], r["field"]) == ("id_number_checksum", "id_number")
    r = client.post("/api/v1/borrowers", headers={**h, **key}, json={**body, "id_number": good})
    assert r.status_code == 201, r.text


def test_identity_checks(client, session, runtime, staff_as, org):
    _, h = staff_as("loan_officer", branch=org.a)

    def register(**change):
        body = {"phone": next_phone(), "real_name": "测试人", "id_number": next_id_number(), "notify_by_sms": False,
                "consent_signed": True, **change}
        return client.post("/api/v1/borrowers", headers={**h, "Idempotency-Key": next_phone()}, json=body)

    taken = next_id_number()
    assert register(id_number=taken).status_code == 201
    minor17 = f"360102{date(2010, 1, 1):%Y%m%d}123"
    cases = [
        ({"id_number": taken}, 409, "id_number_already_registered"),
        ({"id_number": taken.lower() if taken.endswith("X") else " " + taken + " "}, 409,
         "id_number_already_registered"),
        ({"id_number": "990102199001011234"}, 422, "id_number_region"),
        ({"id_number": "360102199002301234"}, 422, "id_number_birth_date"),
        ({"id_number": "36010219900101123"}, 422, "id_number_format"),
        ({"id_number": minor17 + id_check_character(minor17)}, 422, "borrower_underage"),
        ({"phone": "23800138000"}, 422, "validation_failed"),
        ({"branch_id": org.b.id}, 404, "not_found"),
        ({"consent_signed": False}, 422, "consent_required"),
    ]
    for change, status, code in cases:
        body = assert_problem(register(**change), status)
        assert body["code"] == code, (change, body)
    assert _count(session, org.inst.id) == 1


def test_the_walk_in_borrower_is_told_by_sms_and_signs_in_with_a_code(client, session, runtime, staff_as, org):
    _, h = staff_as("loan_officer", branch=org.a)
    phone = next_phone()
    r = client.post("/api/v1/borrowers", headers={**h, "Idempotency-Key": "sms-walk-in"},
                    json={"phone": phone, "real_name": "郑和", "id_number": next_id_number(), "consent_signed": True})
    assert r.status_code == 201, r.text
    outbox_timer(client)
    [message] = client.get("/_sim/sms", params={"phone": phone}).json()
    assert message["text"].startswith("【测试机构】郑和，您已在网点完成登记")
    client.post("/api/v1/auth/sms-codes", headers=institution_header(org.inst),
                json={"phone": phone, "purpose": "login"})
    login = client.post("/api/v1/auth/login/sms", headers=institution_header(org.inst),
                        json={"phone": phone, "code": last_sms_code(client, phone)})
    assert login.status_code == 200, login.text
    me = client.get("/api/v1/me/profile", headers={"Authorization": f"Bearer {login.json()['token']}"}).json()
    assert (me["id"], me["has_password"], me["channel"]) == (r.json()["id"], False, "branch")


def test_a_duplicate_links_the_borrower_who_has_it_when_the_officer_sees_them(client, session, runtime, staff_as,
                                                                               org):
    _, east = staff_as("loan_officer", branch=org.a)
    _, west = staff_as("loan_officer", branch=org.b)
    phone, number = next_phone(), next_id_number()

    def register(h, **body):
        return client.post("/api/v1/borrowers", headers={**h, "Idempotency-Key": next_phone()},
                           json={"phone": next_phone(), "real_name": "测试人", "id_number": next_id_number(),
                                 "notify_by_sms": False, "consent_signed": True, **body})

    first = register(east, phone=phone, id_number=number)
    assert first.status_code == 201
    holder = first.json()["id"]
    same_phone = assert_problem(register(east, phone=phone), 409)
    assert (same_phone["code"], same_phone["field"], same_phone["conflict_with"]) == (
        "phone_already_registered", "phone", {"entity_type": "borrower", "id": holder, "name": "测试人"})
    same_id = assert_problem(register(east, id_number=number), 409)
    assert (same_id["code"], same_id["field"], same_id["conflict_with"]["id"]) == ("id_number_already_registered",
                                                                                   "id_number", holder)
    # an officer of another branch learns that the number is taken, not whose it is
    hidden = assert_problem(register(west, phone=phone), 409)
    assert hidden["code"] == "phone_already_registered"
    assert "conflict_with" not in hidden
    assert _count(session, org.inst.id) == 1
