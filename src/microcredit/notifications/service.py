"""The outbox: enqueue in the business transaction, deliver after commit, at least once.

`enqueue_sms` writes an `outbox_messages` row inside the caller's transaction,
so a message exists if and only if the action that caused it committed. The
dispatcher (`dispatch_pending`) runs after the request commits and, in `serve`,
on a timer; each message is delivered in its own short transaction and retried
with growing back-off when the channel fails. Delivery is at least once: the
payload carries the outbox id as the message id so that channels can drop a
duplicate.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy.orm import Session

from microcredit.clock import Clock
from microcredit.db.engine import Database
from microcredit.integrations.sms import SmsChannel
from microcredit.notifications import repository
from microcredit.notifications.models import OutboxMessage
from microcredit.notifications.templates import render_sms
from microcredit.platform.crypto import FieldCipher

log = structlog.get_logger(__name__)
_CONTEXT = "outbox_messages.payload"
MAX_ATTEMPTS = 12


def enqueue_sms(*, session: Session, cipher: FieldCipher, clock: Clock, phone: str, template: str,
                params: dict[str, Any], language: str) -> OutboxMessage:
    """Queue an SMS for delivery after the current transaction commits."""
    text = render_sms(template, language, {k: str(v) for k, v in params.items()})
    payload = json.dumps({"phone": phone, "text": text, "template": template}, ensure_ascii=False)
    now = clock.now()
    msg = OutboxMessage(topic="sms", payload_ciphertext=cipher.encrypt(payload, context=_CONTEXT),
                        created_at=now, next_attempt_at=now, attempts=0)
    repository.add(session, msg)
    session.info["outbox_pending"] = True
    return msg


@dataclass(frozen=True)
class DispatchReport:
    """What one dispatch run did."""

    delivered: int
    failed: int


def dispatch_pending(*, db: Database, cipher: FieldCipher, clock: Clock, sms: SmsChannel,
                     limit: int = 100) -> DispatchReport:
    """Deliver due messages, each in its own transaction; failures are retried later."""
    delivered = failed = 0
    with db.unit_of_work(write=False) as session:
        ids = repository.due_ids(session, now=clock.now(), limit=limit)
    for message_id in ids:
        try:
            with db.unit_of_work() as session:
                msg = repository.undelivered_for_update(session, message_id, skip_locked=db.backend != "sqlite")
                if msg is None:
                    continue  # another dispatcher took it
                _deliver(session, msg, cipher=cipher, clock=clock, sms=sms)
            delivered += 1
        except Exception as exc:  # a channel failure must not stop the others
            failed += 1
            log.warning("outbox.delivery_failed", message_id=message_id, error=str(exc))
            with db.unit_of_work() as session:
                msg = repository.get(session, message_id)
                if msg is not None and msg.dispatched_at is None:
                    msg.attempts += 1
                    msg.last_error = str(exc)[:1000]
                    msg.next_attempt_at = clock.now() + timedelta(seconds=min(3600, 2 ** msg.attempts))
    return DispatchReport(delivered=delivered, failed=failed)


def _deliver(session: Session, msg: OutboxMessage, *, cipher: FieldCipher, clock: Clock,
             sms: SmsChannel) -> None:
    payload = json.loads(cipher.decrypt(msg.payload_ciphertext, context=_CONTEXT))
    if msg.topic != "sms":
        raise ValueError(f"no channel for topic {msg.topic!r}")
    sms.send(session=session, phone=payload["phone"], text=payload["text"], message_id=f"outbox-{msg.id}")
    msg.attempts += 1
    msg.dispatched_at = clock.now()
    msg.last_error = None


def pending_count(*, session: Session) -> int:
    """Messages not yet delivered."""
    return repository.count_undelivered(session)


def purge_delivered(*, session: Session, clock: Clock, older_than: timedelta = timedelta(days=30)) -> int:
    """Delete messages delivered more than `older_than` ago (their payloads carried codes)."""
    return repository.delete_delivered_before(session, clock.now() - older_than)
