"""The outbox monitor's API: list and counts in scope, retry and cancel (audited), and never a message's text.

The SMS simulator refuses numbers starting with FAIL here (`sms_simulator_fail_prefix`), so a code
requested for such a number fails for real, right after the request, as a broken gateway would.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from microcredit.notifications import service as outbox
from microcredit.notifications.models import OutboxMessage
from microcredit.runtime import Runtime, build_runtime
from tests.conftest import make_settings
from tests.factories import institution_header, last_sms_code, make_institution, make_staff, next_phone
from tests.integration.helpers import (
    assert_problem,
    audit_records,
    shared_app,
    signed_in,
    snapshot,
    workbook_rows,
)

FAIL = "1990000"
_numbers = itertools.count(1)
API = "/api/v1/outbox"


def failing_phone() -> str:
    """A number the simulator refuses."""
    return f"{FAIL}{next(_numbers):04d}"


@pytest.fixture
def runtime(worker_tmp, database, clock) -> Runtime:
    """The test's runtime, with an SMS simulator that refuses the FAIL prefix."""
    return build_runtime(make_settings(worker_tmp, sms_simulator_fail_prefix=FAIL), database=database, clock=clock)


@pytest.fixture
def client(runtime, backend) -> Iterator[TestClient]:
    """A client of the worker's app for this backend."""
    with TestClient(shared_app(runtime, backend)) as test_client:
        yield test_client


@pytest.fixture
def world(session, runtime) -> SimpleNamespace:
    """An institution with an administrator and an auditor, and another institution with its administrator."""
    inst, other = make_institution(session, runtime), make_institution(session, runtime)
    admin = make_staff(session, runtime, inst, roles=("administrator",), password=None)
    auditor = make_staff(session, runtime, inst, roles=("auditor",), password=None)
    other_admin = make_staff(session, runtime, other, roles=("administrator",), password=None)
    w = SimpleNamespace(inst=inst, other=other, admin_user=admin.user, admin=signed_in(session, runtime, admin.user),
                        auditor=signed_in(session, runtime, auditor.user),
                        other_admin=signed_in(session, runtime, other_admin.user))
    session.commit()
    return w


def sign_in_again(session: Any, runtime: Runtime, w: SimpleNamespace) -> None:
    """A fresh administrator session (after the clock moved past the idle timeout)."""
    w.admin = signed_in(session, runtime, w.admin_user)
    session.commit()


def ask_code(client: TestClient, inst: Any, phone: str, purpose: str = "register") -> None:
    """Ask for an SMS code (queued, then dispatched right after the request)."""
    r = client.post("/api/v1/auth/sms-codes", json={"phone": phone, "purpose": purpose},
                    headers=institution_header(inst))
    assert r.status_code == 202, r.text


def code_in_outbox(session: Any, runtime: Runtime, message_id: int) -> str:
    """The verification code a message carries (read the way only the dispatcher may)."""
    session.expire_all()
    msg = session.get(OutboxMessage, message_id)
    text = json.loads(runtime.keys.cipher.decrypt(msg.payload_ciphertext, context="outbox_messages.payload"))["text"]
    return text.split("验证码为 ")[1][:6]


def rows(client: TestClient, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    r = client.get(API, headers=headers, params={"page_size": 100, **params})
    assert r.status_code == 200, r.text
    return r.json()["items"]


def test_a_failed_message_is_listed_retried_and_cancelled_without_its_code(client, session, runtime, world):
    phone, good = failing_phone(), next_phone()
    ask_code(client, world.inst, phone)
    ask_code(client, world.inst, good)
    delivered_code = last_sms_code(client, good)

    listed = rows(client, world.admin)
    assert [(m["status"], m["recipient_masked"]) for m in listed] == [
        ("delivered", f"{good[:3]}****{good[-4:]}"), ("retrying", f"{phone[:3]}****{phone[-4:]}")]
    failed = listed[1]
    failing_code = code_in_outbox(session, runtime, failed["id"])
    assert failed["template"] == "verification_code"
    assert failed["topic"] == "sms"
    assert failed["attempts"] == 1
    assert failed["institution_id"] == world.inst.id
    assert "MICROCREDIT_SMS_SIMULATOR_FAIL_PREFIX" in failed["last_error"]
    assert failed["next_attempt_at"] is not None
    assert (failed["delivered_at"], listed[0]["next_attempt_at"]) == (None, None)
    assert set(failed) == {"id", "institution_id", "topic", "template", "recipient_masked", "status", "attempts",
                           "last_error", "created_at", "last_attempt_at", "next_attempt_at", "delivered_at",
                           "cancelled_at", "not_before"}

    retried = client.post(f"{API}/{failed['id']}/retry", headers=world.admin)
    assert retried.status_code == 200, retried.text
    assert retried.json()["status"] == "retrying"
    after = rows(client, world.admin, status="retrying")
    assert [(m["id"], m["attempts"]) for m in after] == [(failed["id"], 2)]  # tried again right after the retry
    [record] = audit_records(session, "outbox.retried", failed["id"])
    assert (record.institution_id, record.before["status"], record.after["status"]) == (
        world.inst.id, "retrying", "retrying")

    cancelled = client.post(f"{API}/{failed['id']}/cancel", headers=world.admin)
    assert cancelled.status_code == 200, cancelled.text
    assert (cancelled.json()["status"], cancelled.json()["next_attempt_at"]) == ("cancelled", None)
    assert audit_records(session, "outbox.cancelled", failed["id"])[0].after["status"] == "cancelled"
    assert rows(client, world.admin, status="retrying") == []

    before = snapshot(runtime.db)
    for action in ("retry", "cancel"):
        body = assert_problem(client.post(f"{API}/{failed['id']}/{action}", headers=world.admin), 409)
        assert body["code"] == "outbox_message_cancelled"
        body = assert_problem(client.post(f"{API}/{listed[0]['id']}/{action}", headers=world.admin), 409)
        assert body["code"] == "outbox_message_delivered"
    assert before.diff(snapshot(runtime.db)) == {}

    # No answer of the monitor carries a code, a full phone number or a message's text.
    sheet = workbook_rows(client.get(f"{API}/export", headers=world.admin))
    assert [(r[0], r[5]) for r in sheet[1:]] == [(listed[0]["id"], "delivered"), (failed["id"], "cancelled")]
    answers = [client.get(API, headers=world.admin, params={"status": s}).text
               for s in ("pending", "retrying", "dead", "delivered", "cancelled")]
    answers.append(" ".join(str(cell) for row in sheet for cell in row))
    answers += [client.get(API, headers=world.admin).text, client.get(f"{API}/summary", headers=world.admin).text,
                retried.text, cancelled.text]
    for text in answers:
        for secret in (failing_code, delivered_code, phone, good, "验证码", "verification code"):
            assert secret not in text


def test_a_message_that_keeps_failing_dies_and_a_retry_gives_it_one_more_attempt(client, session, runtime, world,
                                                                                clock):
    ask_code(client, world.inst, failing_phone())
    [msg] = rows(client, world.admin)
    for _ in range(outbox.MAX_ATTEMPTS - 1):
        clock.advance(timedelta(hours=1))
        outbox.dispatch_pending(db=runtime.db, cipher=runtime.keys.cipher, clock=clock, sms=runtime.sms)
    sign_in_again(session, runtime, world)
    [dead] = rows(client, world.admin, status="dead")
    assert (dead["id"], dead["attempts"], dead["next_attempt_at"]) == (msg["id"], outbox.MAX_ATTEMPTS, None)
    summary = client.get(f"{API}/summary", headers=world.admin).json()
    assert summary == {"pending": 0, "retrying": 0, "dead": 1, "delivered": 0, "cancelled": 0,
                       "max_attempts": outbox.MAX_ATTEMPTS}

    r = client.post(f"{API}/{msg['id']}/retry", headers=world.admin)
    assert r.status_code == 200, r.text
    assert audit_records(session, "outbox.retried", msg["id"])[0].before == {
        "status": "dead", "attempts": outbox.MAX_ATTEMPTS}
    [again] = rows(client, world.admin, status="dead")  # tried once more right away, and failed
    assert again["attempts"] == outbox.MAX_ATTEMPTS + 1


def test_filters_and_counts(client, session, runtime, world, clock):
    ask_code(client, world.inst, next_phone())  # delivered, at START
    clock.advance(timedelta(days=1))
    sign_in_again(session, runtime, world)
    ask_code(client, world.inst, failing_phone())  # retrying, a day later
    clock.advance(timedelta(minutes=1))
    msg = outbox.enqueue_sms(session=session, cipher=runtime.keys.cipher, clock=clock, institution_id=world.inst.id,
                             phone=next_phone(), template="account_locked", params={"signature": "测"},
                             language="zh-CN")  # pending: no request dispatched it
    session.commit()

    assert [m["id"] for m in rows(client, world.admin, status="pending")] == [msg.id]
    assert [m["template"] for m in rows(client, world.admin, template="account_locked")] == ["account_locked"]
    assert len(rows(client, world.admin, template="verification_code")) == 2
    assert rows(client, world.admin, topic="email") == []
    day_two = (clock.now() - timedelta(hours=1)).isoformat()
    assert [m["status"] for m in rows(client, world.admin, since=day_two)] == ["pending", "retrying"]
    assert [m["status"] for m in rows(client, world.admin, until=day_two)] == ["delivered"]
    assert [m["status"] for m in rows(client, world.admin, sort="created_at")] == ["delivered", "retrying",
                                                                                    "pending"]
    assert rows(client, world.admin, sort="-attempts")[0]["attempts"] == 1

    counts = client.get(f"{API}/summary", headers=world.admin).json()
    assert counts == {"pending": 1, "retrying": 1, "dead": 0, "delivered": 1, "cancelled": 0,
                      "max_attempts": outbox.MAX_ATTEMPTS}
    assert client.get(f"{API}/summary", headers=world.admin, params={"since": day_two}).json()["delivered"] == 0

    page = client.get(API, headers=world.admin, params={"page_size": 2, "page": 2}).json()
    assert (page["total"], len(page["items"])) == (3, 1)
    for params, field in (({"status": "lost"}, "status"), ({"sort": "payload_ciphertext"}, "sort"),
                          ({"page_size": 101}, "page_size")):
        body = assert_problem(client.get(API, headers=world.admin, params=params), 422)
        assert body["errors"][0]["field"] == field, body


def test_staff_see_and_act_on_their_institutions_messages_only(client, session, runtime, world):
    ask_code(client, world.inst, failing_phone())
    ask_code(client, world.other, failing_phone())
    [mine] = rows(client, world.admin)
    [theirs] = rows(client, world.other_admin)
    assert (mine["institution_id"], theirs["institution_id"]) == (world.inst.id, world.other.id)
    assert client.get(f"{API}/summary", headers=world.admin).json()["retrying"] == 1
    assert [m["id"] for m in rows(client, world.auditor)] == [mine["id"]]  # auditors read, but do not act

    before = snapshot(runtime.db)
    for action in ("retry", "cancel"):
        assert_problem(client.post(f"{API}/{theirs['id']}/{action}", headers=world.admin), 404)
        assert_problem(client.post(f"{API}/{theirs['id'] + 1000}/{action}", headers=world.admin), 404)
    assert_problem(client.post(f"{API}/{mine['id']}/cancel", headers=world.auditor), 403)
    assert before.diff(snapshot(runtime.db)) == {}

    platform = make_institution(session, runtime, platform=True)
    operator = make_staff(session, runtime, platform, roles=("administrator",), password=None)
    h = signed_in(session, runtime, operator.user)
    session.commit()
    assert {m["id"] for m in rows(client, h)} >= {mine["id"], theirs["id"]}
    r = client.post(f"{API}/{theirs['id']}/cancel", headers=h)
    assert r.status_code == 200, r.text
    # The record belongs to the message's institution, so that its own auditors see it.
    assert audit_records(session, "outbox.cancelled", theirs["id"])[0].institution_id == world.other.id


def test_messages_record_their_institution_template_and_masked_recipient(client, session, world):
    phone = next_phone()
    ask_code(client, world.inst, phone)
    session.expire_all()
    msg = session.scalars(select(OutboxMessage).where(OutboxMessage.institution_id == world.inst.id)).one()
    assert (msg.template, msg.recipient_masked, msg.status) == (
        "verification_code", f"{phone[:3]}****{phone[-4:]}", "delivered")
