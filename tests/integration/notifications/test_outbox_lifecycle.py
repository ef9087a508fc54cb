"""A message's life in the outbox: pending → delivered; failing → retrying → dead after MAX_ATTEMPTS;
retry makes it due; cancel stops it; delivered and cancelled are final; finished messages are purged."""

from __future__ import annotations

import json
import threading
import time
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, Table, insert, select

from microcredit.db.engine import make_engine
from microcredit.db.migrate import alembic_config, upgrade
from microcredit.errors import NotFound
from microcredit.notifications import service as outbox
from microcredit.notifications.errors import MessageAlreadyDelivered, MessageCancelled
from microcredit.notifications.models import OutboxMessage
from tests.conftest import fresh_database_url
from tests.factories import make_institution, next_phone


class Channel:
    """An SMS channel that fails (echoing what it refused, as gateways do) until told to work."""

    name = "test"

    def __init__(self, *, failing: bool) -> None:
        self.failing = failing
        self.calls = 0
        self.sent: list[tuple[str, str, str]] = []

    def send(self, *, session: Any, phone: str, text: str, message_id: str) -> str:
        self.calls += 1
        if self.failing:
            raise RuntimeError(f"gateway refused {phone}: {text!r}")
        self.sent.append((phone, text, message_id))
        return f"ok-{self.calls}"


def _queue(session: Any, runtime: Any, *, institution_id: int | None = None, template: str = "verification_code",
           phone: str | None = None) -> OutboxMessage:
    params = {"signature": "测试", "code": "246810", "minutes": 5, "purpose_zh": "登录", "purpose_en": "sign in"}
    msg = outbox.enqueue_sms(session=session, cipher=runtime.keys.cipher, clock=runtime.clock,
                             institution_id=institution_id, phone=phone or next_phone(), template=template,
                             params=params if template == "verification_code" else {"signature": "测试"},
                             language="zh-CN")
    session.commit()
    return msg


def _dispatch(runtime: Any, channel: Channel) -> outbox.DispatchReport:
    return outbox.dispatch_pending(db=runtime.db, cipher=runtime.keys.cipher, clock=runtime.clock, sms=channel)


def _state(session: Any, message_id: int) -> OutboxMessage:
    session.expire_all()
    msg = session.get(OutboxMessage, message_id)
    assert msg is not None
    return msg


def test_a_message_is_pending_then_delivered(session, runtime, clock):
    inst = make_institution(session, runtime)
    phone = next_phone()
    msg = _queue(session, runtime, institution_id=inst.id, phone=phone)
    assert (msg.status, msg.attempts, msg.template, msg.recipient_masked, msg.institution_id) == (
        "pending", 0, "verification_code", f"{phone[:3]}****{phone[-4:]}", inst.id)
    channel = Channel(failing=False)
    clock.advance(timedelta(seconds=1))
    assert _dispatch(runtime, channel) == outbox.DispatchReport(delivered=1, failed=0, dead=0)
    done = _state(session, msg.id)
    assert (done.status, done.attempts, done.last_error) == ("delivered", 1, None)
    assert done.dispatched_at == done.last_attempt_at == clock.now()
    assert [(p, m) for p, _, m in channel.sent] == [(phone, f"outbox-{msg.id}")]
    assert "246810" in channel.sent[0][1]
    assert _dispatch(runtime, channel).delivered == 0  # delivered once, never again


def test_a_failing_message_retries_with_back_off_then_dies_after_max_attempts(session, runtime, clock):
    phone = next_phone()
    msg = _queue(session, runtime, phone=phone)
    channel = Channel(failing=True)

    report = _dispatch(runtime, channel)
    assert report == outbox.DispatchReport(delivered=0, failed=1, dead=0)
    first = _state(session, msg.id)
    assert (first.status, first.attempts) == ("retrying", 1)
    assert first.next_attempt_at == clock.now() + timedelta(seconds=2)
    # The gateway echoed the phone and the text: neither is kept, nor the code in it.
    assert first.last_error is not None
    assert "246810" not in first.last_error
    assert phone not in first.last_error
    assert f"{phone[:3]}****{phone[-4:]}" in first.last_error

    assert _dispatch(runtime, channel).failed == 0  # not due yet: nothing is tried
    assert channel.calls == 1

    waits = []
    for attempt in range(2, outbox.MAX_ATTEMPTS + 1):
        due = _state(session, msg.id).next_attempt_at
        waits.append(int((due - clock.now()).total_seconds()))
        clock.advance(due - clock.now())
        report = _dispatch(runtime, channel)
        assert report.failed == 1
        now = _state(session, msg.id)
        assert now.attempts == attempt
        assert now.status == ("dead" if attempt == outbox.MAX_ATTEMPTS else "retrying")
        assert report.dead == (1 if attempt == outbox.MAX_ATTEMPTS else 0)
    assert waits == [2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048]  # then the 12th failure is the last

    clock.advance(timedelta(days=1))
    assert _dispatch(runtime, channel) == outbox.DispatchReport(delivered=0, failed=0, dead=0)
    assert channel.calls == outbox.MAX_ATTEMPTS  # a dead message is no longer tried
    assert outbox.pending_count(session=session) == 0


def _dead(session: Any, runtime: Any, clock: Any) -> tuple[OutboxMessage, Channel]:
    msg = _queue(session, runtime)
    channel = Channel(failing=True)
    for _ in range(outbox.MAX_ATTEMPTS):
        clock.advance(timedelta(hours=1))
        _dispatch(runtime, channel)
    assert _state(session, msg.id).status == "dead"
    return msg, channel


def test_retry_makes_a_dead_message_due_for_one_more_attempt(session, runtime, clock):
    msg, channel = _dead(session, runtime, clock)
    change = outbox.retry(session=session, clock=clock, institution_id=None, message_id=msg.id)
    session.commit()
    assert (change.before, change.after) == ("dead", "retrying")
    assert session.info.pop(outbox.DELIVER_AFTER_COMMIT) == {msg.id}  # "send now": the request's boundary dispatches
    assert _state(session, msg.id).next_attempt_at == clock.now()

    _dispatch(runtime, channel)  # still failing: dead again at once, one attempt later
    again = _state(session, msg.id)
    assert (again.status, again.attempts) == ("dead", outbox.MAX_ATTEMPTS + 1)

    outbox.retry(session=session, clock=clock, institution_id=None, message_id=msg.id)
    session.commit()
    channel.failing = False
    assert _dispatch(runtime, channel).delivered == 1
    assert _state(session, msg.id).status == "delivered"


def test_retry_brings_a_retrying_message_forward(session, runtime, clock):
    msg = _queue(session, runtime)
    channel = Channel(failing=True)
    _dispatch(runtime, channel)
    assert _state(session, msg.id).next_attempt_at > clock.now()
    change = outbox.retry(session=session, clock=clock, institution_id=None, message_id=msg.id)
    session.commit()
    assert (change.before, change.after) == ("retrying", "retrying")
    channel.failing = False
    assert _dispatch(runtime, channel).delivered == 1  # at once, without waiting out the back-off


def test_a_held_message_is_not_sent_early_even_when_retried(session, runtime, clock):
    """A message held until a time (a collection SMS queued in the debtor's quiet hours) is not made due
    before it by "send now": the retry moves it to the end of its hold; after the hold, a retry is "now"."""
    until = clock.now() + timedelta(hours=9)
    msg = outbox.enqueue_sms(session=session, cipher=runtime.keys.cipher, clock=clock, institution_id=None,
                             phone=next_phone(), template="verification_code", language="zh-CN",
                             params={"signature": "测试", "code": "246810", "minutes": 5, "purpose_zh": "登录",
                                     "purpose_en": "sign in"}, not_before=until)
    session.commit()
    channel = Channel(failing=False)
    assert (_state(session, msg.id).not_before, _state(session, msg.id).next_attempt_at) == (until, until)

    change = outbox.retry(session=session, clock=clock, institution_id=None, message_id=msg.id)
    session.commit()
    assert (change.before, change.after) == ("pending", "pending")
    assert _state(session, msg.id).next_attempt_at == until  # not now
    clock.advance(timedelta(hours=8, minutes=59))
    assert _dispatch(runtime, channel).delivered == 0
    assert channel.calls == 0
    clock.advance(timedelta(minutes=1))
    assert _dispatch(runtime, channel).delivered == 1

    # A message queued with a hold already over is not held.
    late = outbox.enqueue_sms(session=session, cipher=runtime.keys.cipher, clock=clock, institution_id=None,
                              phone=next_phone(), template="verification_code", language="zh-CN",
                              params={"signature": "测试", "code": "246810", "minutes": 5, "purpose_zh": "登录",
                                      "purpose_en": "sign in"}, not_before=clock.now() - timedelta(minutes=5))
    session.commit()
    assert (_state(session, late.id).not_before, _state(session, late.id).next_attempt_at) == (None, clock.now())


@pytest.mark.parametrize("start", ["pending", "retrying", "dead"])
def test_cancel_stops_a_message_for_good(start, session, runtime, clock):
    if start == "dead":
        msg, channel = _dead(session, runtime, clock)
    else:
        msg, channel = _queue(session, runtime), Channel(failing=True)
        if start == "retrying":
            _dispatch(runtime, channel)
    calls = channel.calls
    change = outbox.cancel(session=session, clock=clock, institution_id=None, message_id=msg.id)
    session.commit()
    assert (change.before, change.after) == (start, "cancelled")
    cancelled = _state(session, msg.id)
    assert (cancelled.status, cancelled.cancelled_at) == ("cancelled", clock.now())

    channel.failing = False
    clock.advance(timedelta(days=1))
    assert _dispatch(runtime, channel) == outbox.DispatchReport(delivered=0, failed=0, dead=0)
    assert channel.calls == calls  # never sent
    with pytest.raises(MessageCancelled):
        outbox.retry(session=session, clock=clock, institution_id=None, message_id=msg.id)
    with pytest.raises(MessageCancelled):
        outbox.cancel(session=session, clock=clock, institution_id=None, message_id=msg.id)


def test_a_delivered_message_refuses_retry_and_cancel(session, runtime, clock):
    msg = _queue(session, runtime)
    _dispatch(runtime, Channel(failing=False))
    for action in (outbox.retry, outbox.cancel):
        with pytest.raises(MessageAlreadyDelivered) as refused:
            action(session=session, clock=clock, institution_id=None, message_id=msg.id)
        assert (refused.value.code, refused.value.status) == ("outbox_message_delivered", 409)
    assert _state(session, msg.id).status == "delivered"


def test_another_institutions_message_is_not_found(session, runtime, clock):
    mine, theirs = make_institution(session, runtime), make_institution(session, runtime)
    msg = _queue(session, runtime, institution_id=theirs.id)
    for action in (outbox.retry, outbox.cancel):
        with pytest.raises(NotFound):
            action(session=session, clock=clock, institution_id=mine.id, message_id=msg.id)
    with pytest.raises(NotFound):
        outbox.cancel(session=session, clock=clock, institution_id=None, message_id=msg.id + 1000)
    assert _state(session, msg.id).status == "pending"


def test_housekeeping_purges_finished_messages_after_thirty_days(session, runtime, clock):
    delivered, cancelled = _queue(session, runtime), _queue(session, runtime)
    outbox.cancel(session=session, clock=clock, institution_id=None, message_id=cancelled.id)
    session.commit()
    _dispatch(runtime, Channel(failing=False))
    dead, _ = _dead(session, runtime, clock)
    waiting, retrying = _queue(session, runtime), _queue(session, runtime)
    outbox.cancel(session=session, clock=clock, institution_id=None, message_id=waiting.id)  # not yet
    session.rollback()
    _dispatch(runtime, Channel(failing=True))  # both fail once: retrying
    outbox.retry(session=session, clock=clock, institution_id=None, message_id=waiting.id)
    outbox.cancel(session=session, clock=clock, institution_id=None, message_id=retrying.id)
    session.rollback()
    assert [_state(session, m.id).status for m in (delivered, cancelled, dead, waiting, retrying)] == [
        "delivered", "cancelled", "dead", "retrying", "retrying"]

    assert outbox.purge_finished(session=session, clock=clock) == 0
    clock.advance(timedelta(days=31))
    assert outbox.purge_finished(session=session, clock=clock) == 3
    session.expire_all()
    assert sorted(session.scalars(select(OutboxMessage.id))) == sorted([waiting.id, retrying.id])


def test_the_migration_gives_existing_messages_a_status_and_administrators_the_permissions(backend, worker_tmp):
    """Rows queued before 0007 get their status from what they recorded; system roles get the grants."""
    engine = make_engine(fresh_database_url(backend, worker_tmp, "_outbox_mig"))
    try:
        before = ScriptDirectory.from_config(alembic_config()).get_revision("0007").down_revision
        with engine.begin() as conn:
            command.upgrade(alembic_config(connection=conn), str(before))
        meta = MetaData()
        messages = Table("outbox_messages", meta, autoload_with=engine)
        institutions = Table("institutions", meta, autoload_with=engine)
        roles = Table("roles", meta, autoload_with=engine)
        grants = Table("role_permissions", meta, autoload_with=engine)
        at = datetime(2026, 11, 25, 2, 0)
        with engine.begin() as conn:
            conn.execute(insert(messages), [
                {"id": 1, "topic": "sms", "payload_ciphertext": "x", "created_at": at, "attempts": 0,
                 "next_attempt_at": at, "dispatched_at": None},
                {"id": 2, "topic": "sms", "payload_ciphertext": "x", "created_at": at, "attempts": 3,
                 "next_attempt_at": at, "dispatched_at": None},
                {"id": 3, "topic": "sms", "payload_ciphertext": "x", "created_at": at, "attempts": 12,
                 "next_attempt_at": at, "dispatched_at": None},
                {"id": 4, "topic": "sms", "payload_ciphertext": "x", "created_at": at, "attempts": 2,
                 "next_attempt_at": at, "dispatched_at": at},
            ])
            conn.execute(insert(institutions), [{
                "id": 1, "code": "OLD", "name": "旧机构", "kind": "microcredit_company", "timezone": "Asia/Shanghai",
                "currency": "CNY", "business_date": date(2026, 11, 25), "status": "active", "created_at": at,
                "version": 1}])
            role = {"institution_id": 1, "name_zh": "角色", "name_en": "Role", "data_scope": "institution",
                    "requires_mfa": False, "version": 1}
            conn.execute(insert(roles), [
                {**role, "id": 1, "code": "administrator", "is_system": True},
                {**role, "id": 2, "code": "auditor", "is_system": True},
                {**role, "id": 3, "code": "administrator_copy", "is_system": False},
            ])
            conn.execute(insert(grants), [{"role_id": 1, "permission": "audit.read"}])
        upgrade(engine)
        messages = Table("outbox_messages", MetaData(), autoload_with=engine)
        with engine.connect() as conn:
            statuses = dict(conn.execute(select(messages.c.id, messages.c.status).order_by(messages.c.id)).all())
            # (later migrations grant more, e.g. 0011 the ledger's permissions: only these are 0007's)
            granted = sorted(conn.execute(select(grants.c.role_id, grants.c.permission).where(
                grants.c.permission.like("outbox.%") | (grants.c.permission == "audit.read"))).all())
        assert statuses == {1: "pending", 2: "retrying", 3: "dead", 4: "delivered"}
        assert granted == [(1, "audit.read"), (1, "outbox.manage"), (1, "outbox.read"), (2, "outbox.read")]
    finally:
        engine.dispose()


def test_the_payload_stays_encrypted_and_names_its_template(session, runtime):
    msg = _queue(session, runtime, template="account_locked")
    assert "测试" not in msg.payload_ciphertext
    payload = json.loads(runtime.keys.cipher.decrypt(msg.payload_ciphertext, context="outbox_messages.payload"))
    assert payload["template"] == msg.template == "account_locked"


def test_a_message_another_dispatcher_just_tried_is_not_tried_again_at_once(session, runtime, monkeypatch):
    """Two dispatchers found it due; the first tried it and put it off: the second leaves it alone."""
    msg = _queue(session, runtime)
    found_due = outbox.repository.due

    def due_then_tried_by_another(s: Any, *, now: Any, limit: int, topics: tuple[str, ...],
                                  only: Any = None) -> list[tuple[int, str]]:
        due = found_due(s, now=now, limit=limit, topics=topics, only=only)
        monkeypatch.setattr(outbox.repository, "due", found_due)
        _dispatch(runtime, Channel(failing=True))  # the other dispatcher, between our look-up and our lock
        return due

    monkeypatch.setattr(outbox.repository, "due", due_then_tried_by_another)
    second = Channel(failing=True)
    assert _dispatch(runtime, second) == outbox.DispatchReport(delivered=0, failed=0, dead=0)
    assert second.calls == 0
    assert _state(session, msg.id).attempts == 1


def _enqueue_work(session: Any, runtime: Any, key: str) -> tuple[OutboxMessage, bool]:
    return outbox.enqueue(session=session, cipher=runtime.keys.cipher, clock=runtime.clock, topic="test_work",
                          institution_id=None, template="test_work", recipient_masked=None, payload={"n": 1},
                          dedupe_key=key)


def test_work_with_a_dedupe_key_is_stored_once_even_by_two_racing_transactions(session, runtime):
    first, new = _enqueue_work(session, runtime, "k-1")
    session.commit()
    again, new_again = _enqueue_work(session, runtime, "k-1")
    assert (new, new_again, again.id) == (True, False, first.id)
    # Two transactions storing the same key at once: the second waits for the first's row, then finds it.
    stored = threading.Event()
    answers: list[tuple[int, bool]] = []

    def holder() -> None:
        with runtime.db.unit_of_work() as s:
            msg, created = _enqueue_work(s, runtime, "k-2")
            answers.append((msg.id, created))
            stored.set()
            time.sleep(0.5)

    thread = threading.Thread(target=holder)
    thread.start()
    assert stored.wait(30)
    with runtime.db.unit_of_work() as s:
        msg, created = _enqueue_work(s, runtime, "k-2")
        answers.append((msg.id, created))
    thread.join()
    assert answers == [(answers[0][0], True), (answers[0][0], False)]
    session.expire_all()
    rows = session.scalars(select(OutboxMessage).where(OutboxMessage.topic == "test_work")).all()
    assert sorted(m.dedupe_key or "" for m in rows) == ["k-1", "k-2"]


def test_a_topic_without_a_handler_waits_and_a_handlers_failure_rolls_its_changes_back(session, runtime):
    msg, _ = _enqueue_work(session, runtime, "k-3")
    session.commit()
    # No handler for the topic (and no SMS channel): it is not tried.
    report = outbox.dispatch_pending(db=runtime.db, cipher=runtime.keys.cipher, clock=runtime.clock, sms=None)
    assert report == outbox.DispatchReport(delivered=0, failed=0)
    assert (_state(session, msg.id).status, _state(session, msg.id).attempts) == ("pending", 0)
    seen: list[dict[str, Any]] = []

    def failing(s: Any, payload: dict[str, Any]) -> None:
        seen.append(payload)
        s.get(OutboxMessage, msg.id).template = "changed_by_the_handler"
        raise RuntimeError("not now")

    report = outbox.dispatch_pending(db=runtime.db, cipher=runtime.keys.cipher, clock=runtime.clock, sms=None,
                                     handlers={"test_work": failing})
    assert (report.failed, seen) == (1, [{"n": 1}])
    after = _state(session, msg.id)
    assert (after.status, after.attempts, after.last_error, after.template) == ("retrying", 1, "not now",
                                                                                 "test_work")
    runtime.clock.advance(timedelta(seconds=2))
    report = outbox.dispatch_pending(db=runtime.db, cipher=runtime.keys.cipher, clock=runtime.clock, sms=None,
                                     handlers={"test_work": lambda s, payload: seen.append(payload)})
    assert report.delivered == 1
    assert _state(session, msg.id).status == "delivered"
