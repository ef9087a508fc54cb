"""The outbox: enqueue in the business transaction, deliver after commit, at least once.

`enqueue_sms` writes an `outbox_messages` row inside the caller's transaction,
so a message exists if and only if the action that caused it committed. The
dispatcher (`dispatch_pending`) runs on a timer (`serve`'s poller, every
`OUTBOX_POLL_SECONDS`, in each worker) and on `microcredit outbox dispatch`; a
request that queued a message somebody is waiting for right now (a one-time
code: `urgent=True`; an operator's "send now": `retry`) also runs it right after
its commit (`deliver_after_commit`). Everything else — receipts, decision
notices, reminders — waits for the timer, so no request pays for delivering it.
A run delivers its SMS together in one short transaction (rows another dispatcher
holds are skipped), other topics each in its own, and retries with growing back-off
when the channel fails. Delivery is at least once: the payload carries
the outbox id as the message id so that channels can drop a duplicate.

A message's life (`OutboxStatus`)::

    pending ──deliver──▶ delivered
       │ fails
       ▼
    retrying ──fails MAX_ATTEMPTS times in all──▶ dead
       ▲                                           │
       └────────────── retry (a person) ───────────┘
    pending | retrying | dead ──cancel (a person)──▶ cancelled

Other topics than SMS are work a domain hands to the outbox to be done after its request has
answered — a payment provider's callback (`payment_callback`) is stored by the callback route and
applied here. `enqueue` stores such a message, once per `dedupe_key`; the dispatcher hands its payload
to the handler of its topic (`Handler`, given by the composition root), in the message's transaction:
what the handler changes commits with the message's delivery, or rolls back with its failure.

Back-off after the n-th failure: min(2ⁿ, 3600) seconds, so the twelve attempts
span about two hours. A dead message is no longer tried; `retry` makes it due
at once for one more attempt (it is dead again if that fails too). The payload
is encrypted (it carries verification codes); the monitor's list reads only the
plain columns written at enqueue time — template, masked recipient, institution —
and an error the channel reports is stored with the text, the phone number and
the text's numbers scrubbed out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from microcredit.clock import Clock
from microcredit.db.engine import Database
from microcredit.errors import NotFound
from microcredit.integrations.sms import SmsChannel
from microcredit.notifications import repository
from microcredit.notifications.errors import MessageAlreadyDelivered, MessageCancelled
from microcredit.notifications.models import InboxMessage, InboxSms, OutboxMessage
from microcredit.notifications.models import OutboxStatus as OutboxStatus  # the callers' name for it
from microcredit.notifications.templates import SMS_TEMPLATES, render_sms
from microcredit.platform.crypto import FieldCipher, mask_phone
from microcredit.platform.paging import PageRequest, PageResult, all_rows, order_by, paginate
from microcredit.platform.todo import Todo

log = structlog.get_logger(__name__)
_CONTEXT = "outbox_messages.payload"
MAX_ATTEMPTS = 12
MAX_BACKOFF_SECONDS = 3600
# The unit of work's mark that the request's boundary dispatches after the commit (`deliver_after_commit`).
DELIVER_AFTER_COMMIT = "outbox_deliver_after_commit"
BATCH = 100  # messages one dispatch takes at most (and notifications it texts): the timer repeats while full
SORT_KEYS = {"id": OutboxMessage.id, "created_at": OutboxMessage.created_at, "attempts": OutboxMessage.attempts,
             "next_attempt_at": OutboxMessage.next_attempt_at, "last_attempt_at": OutboxMessage.last_attempt_at,
             "delivered_at": OutboxMessage.dispatched_at}


def enqueue_sms(*, session: Session, cipher: FieldCipher, clock: Clock, institution_id: int | None, phone: str,
                template: str, params: dict[str, Any], language: str,
                not_before: datetime | None = None, urgent: bool = False, flush: bool = True) -> OutboxMessage:
    """Queue an SMS for delivery after the current transaction commits (not before `not_before`, if given:
    the dispatcher leaves it until then).

    `urgent`: somebody is waiting for this text right now (a one-time code, or the answer a code request
    gets instead of a code): the request delivers it itself, right after its commit
    (`deliver_after_commit`). Otherwise the outbox's timer delivers it (`serve`: within
    `OUTBOX_POLL_SECONDS`), and the request does not pay for it.

    `flush` False: the row is written by the transaction's next flush (at the latest its commit), together
    with the other rows of its kind (one INSERT where the database returns ids in bulk); no id until then.

    `institution_id` is the institution the message is sent for (it decides who sees it in
    the monitor); None only for messages no institution owns.
    """
    msg = OutboxMessage(**sms_row(cipher=cipher, clock=clock, institution_id=institution_id, phone=phone,
                                  template=template, params=params, language=language, not_before=not_before))
    repository.add(session, msg, flush=flush or urgent)  # an urgent message's id: what the request delivers
    if urgent:
        deliver_after_commit(session, msg.id)
    return msg


def sms_row(*, cipher: FieldCipher, clock: Clock, institution_id: int | None, phone: str, template: str,
            params: dict[str, Any], language: str, not_before: datetime | None = None) -> dict[str, Any]:
    """The outbox row of an SMS as `enqueue_sms` queues it (its column values), for `write_messages`."""
    text = render_sms(template, language, {k: str(v) for k, v in params.items()})
    payload = json.dumps({"phone": phone, "text": text, "template": template}, ensure_ascii=False)
    now = clock.now()
    return {"topic": "sms", "payload_ciphertext": cipher.encrypt(payload, context=_CONTEXT),
            "status": OutboxStatus.PENDING.value, "institution_id": institution_id, "template": template,
            "recipient_masked": mask_phone(phone), "created_at": now,
            "next_attempt_at": max(now, not_before) if not_before is not None else now, "attempts": 0,
            "not_before": not_before if not_before is not None and not_before > now else None}


def write_messages(session: Session, *, inbox: Sequence[dict[str, Any]] = (),
                   sms: Sequence[dict[str, Any]] = ()) -> None:
    """Write in-app notifications (`inbox_row`) and SMS (`sms_row`) nobody needs the ids of, in the caller's
    transaction: one INSERT per table for all the rows (no ORM objects, no flush). The SMS wait for the
    outbox's timer, as `enqueue_sms`'s that are not urgent."""
    repository.insert_inbox_rows(session, inbox)
    repository.insert_outbox_rows(session, sms)


def write_sms(session: Session, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Write SMS (`sms_row`) as `write_messages` does — one INSERT for all, no ORM objects, no flush — when the
    caller keeps their ids (the close of business's reminders record theirs): the ids in the order of `rows`."""
    return repository.insert_outbox_rows_returning_ids(session, rows)


def deliver_after_commit(session: Session, message_id: int) -> None:
    """Ask the request's boundary (`api.deps.db`) to deliver this message right after this unit of work
    commits: somebody is waiting for it now. The request delivers only the messages so marked, not what
    else is queued (that is the timer's). (Outside a request nothing reads the mark: the timer or
    `microcredit outbox dispatch` delivers.)"""
    session.info.setdefault(DELIVER_AFTER_COMMIT, set()).add(message_id)


def enqueue(*, session: Session, cipher: FieldCipher, clock: Clock, topic: str, institution_id: int | None,
            template: str, recipient_masked: str | None, payload: dict[str, Any],
            dedupe_key: str | None = None) -> tuple[OutboxMessage, bool]:
    """Queue work of `topic` for the dispatcher (delivered after the current transaction commits); with
    `dedupe_key`, once: the message stored under it already is returned instead. (message, new)."""
    if dedupe_key is not None:
        found = repository.by_dedupe_key(session, topic, dedupe_key)
        if found is not None:
            return found, False
    now = clock.now()
    msg = OutboxMessage(topic=topic, dedupe_key=dedupe_key,
                        payload_ciphertext=cipher.encrypt(json.dumps(payload, ensure_ascii=False), context=_CONTEXT),
                        status=OutboxStatus.PENDING.value, institution_id=institution_id, template=template,
                        recipient_masked=recipient_masked, created_at=now, next_attempt_at=now, attempts=0)
    try:
        with session.begin_nested():
            repository.add(session, msg)
    except IntegrityError:  # the same message stored by another request meanwhile
        found = repository.by_dedupe_key(session, topic, dedupe_key or "", latest=True)
        if found is None:
            raise
        return found, False
    return msg, True


# Does the work of a message of a topic other than SMS, in the message's transaction; raises on failure.
Handler = Callable[[Session, dict[str, Any]], None]


@dataclass(frozen=True)
class DispatchReport:
    """What one dispatch run did (`dead`: failures that used up the last attempt, counted in `failed` too)."""

    delivered: int
    failed: int
    dead: int = 0
    texted: int = 0  # in-app notifications queued as SMS first (`text_notifications`)

    def full(self, limit: int = BATCH) -> bool:
        """Whether the run took as many as it could: more may be waiting."""
        return self.texted >= limit or self.delivered + self.failed >= limit


@dataclass(frozen=True, slots=True)
class Addressee:
    """Where and how to text a user: the phone number (None: none on file), the sender's signature for the
    institution, the language of the text."""

    phone: str | None
    signature: str
    language: str


# The composition root's lookup of a user's addressee (identity holds the phone number and its keys).
AddresseeLookup = Callable[[Session, int, int | None], Addressee]


class DeliveryFailed(Exception):
    """The channel refused or failed; the message says why, with the message's secrets scrubbed out."""


def dispatch_pending(*, db: Database, cipher: FieldCipher, clock: Clock, sms: SmsChannel | None,
                     addressee: AddresseeLookup | None = None, limit: int = BATCH,
                     handlers: Mapping[str, Handler] | None = None,
                     only: Collection[int] | None = None) -> DispatchReport:
    """Deliver due messages; failures are retried later, or die.

    SMS go through `sms` (None: they wait for a channel), together in one transaction (`_deliver_together`);
    the other topics to their `handlers` (a topic with none waits), each in its own transaction (what a
    handler changes commits or rolls back with its message alone). With `addressee`, the in-app
    notifications to be texted too are first queued as SMS (`text_notifications`), so one dispatch delivers
    them. `only`: these messages alone, if due (a request's own urgent messages: `deliver_after_commit`),
    and no notification texted.
    """
    handlers = handlers or {}
    topics = (*handlers, *(("sms",) if sms is not None else ()))
    texted = text_notifications(db=db, cipher=cipher, clock=clock, addressee=addressee, limit=limit) \
        if addressee is not None and sms is not None and only is None else 0
    delivered = failed = dead = 0
    if not topics or (only is not None and not only):
        return DispatchReport(delivered=0, failed=0, texted=texted)
    now = clock.now()
    with db.unit_of_work(write=False) as session:
        due = repository.due(session, now=now, limit=limit, topics=topics, only=only)
    texts = [i for i, topic in due if topic == "sms"]
    alone = [i for i, topic in due if topic != "sms"]
    if texts:
        try:
            delivered, failed, dead = _deliver_together(db, texts, cipher=cipher, clock=clock, sms=sms, now=now)
        except Exception as exc:  # not the channel (the database?): each again in its own transaction
            log.warning("outbox.batch_split", messages=len(texts), error=str(exc) or type(exc).__name__)
            alone = texts + alone
    for message_id in alone:
        try:
            with db.unit_of_work() as session:
                msg = repository.sendable_for_update(session, message_id, skip_locked=db.backend != "sqlite",
                                                     due_by=now)
                if msg is None:
                    continue  # another dispatcher took it (or tried it and put it off), or it was cancelled
                _deliver(session, msg, cipher=cipher, clock=clock, sms=sms, handlers=handlers)
            delivered += 1
        except Exception as exc:  # a channel failure must not stop the others
            failed += 1
            error = str(exc) or type(exc).__name__
            log.warning("outbox.delivery_failed", message_id=message_id, error=error)
            with db.unit_of_work() as session:
                msg = repository.sendable_for_update(session, message_id, skip_locked=False)
                if msg is not None and _record_failure(msg, error=error, now=clock.now()):
                    dead += 1
                    log.error("outbox.dead", message_id=message_id, attempts=msg.attempts)
    return DispatchReport(delivered=delivered, failed=failed, dead=dead, texted=texted)


def _deliver_together(db: Database, message_ids: list[int], *, cipher: FieldCipher, clock: Clock,
                      sms: SmsChannel | None, now: datetime) -> tuple[int, int, int]:
    """Deliver SMS in one transaction: locked in one statement (on PostgreSQL and MariaDB those another
    dispatcher holds are skipped: `SKIP LOCKED`), each sent under a savepoint (a send that fails rolls back
    what it wrote, and its failure is counted on its message in the same transaction), all marked in one
    flush. (delivered, failed, dead)."""
    delivered = failed = dead = 0
    with db.unit_of_work() as session:
        messages = repository.sendable_many_for_update(session, message_ids, skip_locked=db.backend != "sqlite",
                                                       due_by=now)
        for msg in messages:
            try:
                with session.begin_nested():
                    _deliver(session, msg, cipher=cipher, clock=clock, sms=sms, handlers={})
                delivered += 1
            except DeliveryFailed as exc:  # the channel's refusal; anything else fails the run
                failed += 1
                log.warning("outbox.delivery_failed", message_id=msg.id, error=str(exc))
                if _record_failure(msg, error=str(exc) or type(exc).__name__, now=clock.now()):
                    dead += 1
                    log.error("outbox.dead", message_id=msg.id, attempts=msg.attempts)
    return delivered, failed, dead


def text_notifications(*, db: Database, cipher: FieldCipher, clock: Clock, addressee: AddresseeLookup,
                       limit: int = 100) -> int:
    """Queue as SMS the in-app notifications asked to be texted too; the number queued.

    The business transaction that wrote the notification had no keys to the phone number, so it only
    marked the row (`InboxSms.PENDING`). Here the rows are locked (on PostgreSQL and MariaDB those another
    dispatcher holds are skipped), each one's SMS rendered in the addressee's language with the institution's
    signature and written to the outbox, and the row marked with it, all in one transaction: a notification
    is texted once, however many dispatchers run. A failure rolls the batch back, and its rows are then
    queued one by one, each in its own transaction (one that fails again stays pending for the next run).
    """
    ids: list[int] = []
    try:
        with db.unit_of_work() as session:
            rows = repository.inbox_to_text_many_for_update(session, limit=limit, skip_locked=db.backend != "sqlite")
            ids = [row.id for row in rows]
            queued = [(row, message) for row in rows
                      if (message := _text(session, row, cipher=cipher, clock=clock, addressee=addressee,
                                           flush=False)) is not None]
            session.flush()  # the messages' ids, for their rows
            for row, message in queued:
                row.sms_status, row.sms_outbox_id = InboxSms.QUEUED.value, message.id
        return len(queued)
    except Exception as exc:
        log.info("inbox.batch_split", error=str(exc) or type(exc).__name__)
    count = 0
    for message_id in ids:
        try:
            with db.unit_of_work() as session:
                one = repository.inbox_to_text_for_update(session, message_id, skip_locked=db.backend != "sqlite")
                if one is None:
                    continue  # another dispatcher queued it
                message = _text(session, one, cipher=cipher, clock=clock, addressee=addressee, flush=True)
                if message is not None:
                    one.sms_status, one.sms_outbox_id = InboxSms.QUEUED.value, message.id
                    count += 1
        except Exception as exc:  # stays pending for the next dispatch; the others go on
            log.warning("inbox.texting_deferred", inbox_id=message_id, error=str(exc) or type(exc).__name__)
    return count


def _text(session: Session, row: InboxMessage, *, cipher: FieldCipher, clock: Clock, addressee: AddresseeLookup,
          flush: bool) -> OutboxMessage | None:
    """The SMS of a notification, queued (None: the addressee has no phone, and the row says so)."""
    to = addressee(session, row.user_id, row.institution_id)
    if to.phone is None:
        row.sms_status = InboxSms.NO_PHONE.value
        return None
    params = {"signature": to.signature, **{k: "" if v is None else str(v) for k, v in row.params.items()}}
    return enqueue_sms(session=session, cipher=cipher, clock=clock, institution_id=row.institution_id,
                       phone=to.phone, template=row.template, params=params, language=to.language, flush=flush)


def _deliver(session: Session, msg: OutboxMessage, *, cipher: FieldCipher, clock: Clock,
             sms: SmsChannel | None, handlers: Mapping[str, Handler]) -> None:
    payload = json.loads(cipher.decrypt(msg.payload_ciphertext, context=_CONTEXT))
    handler = handlers.get(msg.topic)
    if handler is not None:
        handler(session, payload)  # a failure rolls back the message's transaction, its changes with it
    elif msg.topic == "sms" and sms is not None:
        try:
            sms.send(session=session, phone=payload["phone"], text=payload["text"], message_id=f"outbox-{msg.id}")
        except Exception as exc:
            raise DeliveryFailed(scrub(str(exc) or type(exc).__name__, phone=payload["phone"],
                                       text=payload["text"])) from exc
    else:
        raise ValueError(f"no channel for topic {msg.topic!r}")
    msg.attempts += 1
    msg.status = OutboxStatus.DELIVERED.value
    msg.dispatched_at = msg.last_attempt_at = clock.now()
    msg.last_error = None


def _record_failure(msg: OutboxMessage, *, error: str, now: datetime) -> bool:
    """Count a failed attempt; schedule the next one, or declare the message dead. True when it died."""
    msg.attempts += 1
    msg.last_error = error[:1000]
    msg.last_attempt_at = now
    if msg.attempts >= MAX_ATTEMPTS:
        msg.status = OutboxStatus.DEAD.value
        return True
    msg.status = OutboxStatus.RETRYING.value
    msg.next_attempt_at = now + timedelta(seconds=min(MAX_BACKOFF_SECONDS, 2 ** msg.attempts))
    return False


def scrub(error: str, *, phone: str, text: str) -> str:
    """`error` without the message's text, its full phone number, or any number of 4+ digits the text holds.

    Operators' gateways like to echo what they refused ("invalid content: 您的验证码为 123456…");
    what is stored and shown must not let staff read a verification code.
    """
    out = error.replace(text, "[message text]") if text else error
    out = out.replace(phone, mask_phone(phone))
    for number in sorted(set(re.findall(r"\d{4,}", text)), key=len, reverse=True):
        out = out.replace(number, "*" * len(number))
    return out


def pending_count(*, session: Session) -> int:
    """Messages waiting to be sent (pending or retrying)."""
    return repository.count_sendable(session)


def purge_finished(*, session: Session, clock: Clock, older_than: timedelta = timedelta(days=30)) -> int:
    """Delete messages delivered, cancelled or dead more than `older_than` ago (their payloads carried codes)."""
    return repository.delete_finished_before(session, clock.now() - older_than)


# --- the outbox monitor -------------------------------------------------------------------------


def messages_query(*, institution_id: int | None, sort: str | None = None, status: str | None = None,
                   topic: str | None = None, template: str | None = None, since: datetime | None = None,
                   until: datetime | None = None) -> Any:
    """Messages filtered and sorted (allow-listed keys; newest first), for paging. None: every institution."""
    stmt = repository.messages_query(institution_id=institution_id, status=status, topic=topic, template=template,
                                     since=since, until=until)
    return order_by(stmt, sort, SORT_KEYS, [OutboxMessage.id.desc()])


def recent_messages(*, session: Session, institution_id: int | None, status: str | None = None,
                    limit: int = 50) -> list[OutboxMessage]:
    """The newest messages (of one status), for the command line."""
    return list(all_rows(session, messages_query(institution_id=institution_id, status=status), limit=limit))


def summary(*, session: Session, institution_id: int | None, topic: str | None = None, template: str | None = None,
            since: datetime | None = None, until: datetime | None = None) -> dict[str, int]:
    """How many messages stand in each status (every status named, zeros included)."""
    counts = repository.counts_by_status(session, institution_id=institution_id, topic=topic, template=template,
                                         since=since, until=until)
    return {s.value: counts.get(s.value, 0) for s in OutboxStatus}


def todos(*, session: Session, institution_id: int | None) -> list[Todo]:
    """Messages that will not be sent unless someone acts (dead), in one institution or all.

    (Whether the caller may act on them is the route's question: this domain sits below access control.)
    """
    dead = repository.counts_by_status(session, institution_id=institution_id).get(OutboxStatus.DEAD.value, 0)
    return [Todo("outbox_dead", dead)]


@dataclass(frozen=True)
class Transition:
    """What an operator's action did to a message (for the audit record and the answer)."""

    message: OutboxMessage
    before: str
    after: str


def retry(*, session: Session, clock: Clock, institution_id: int | None, message_id: int) -> Transition:
    """Make a pending, retrying or dead message due now; a dead one gets one more attempt.

    A held message (`not_before`: a collection SMS queued in the debtor's quiet hours) becomes due when
    its hold ends, never earlier: "send now" does not send a collection message into the quiet hours.
    Delivered and cancelled messages are final (refused). The request's boundary delivers
    it right after the commit.
    """
    msg = _locked(session, institution_id=institution_id, message_id=message_id)
    before = msg.status
    msg.status = (OutboxStatus.RETRYING if msg.attempts > 0 else OutboxStatus.PENDING).value
    now = clock.now()
    msg.next_attempt_at = max(now, msg.not_before) if msg.not_before is not None else now
    session.flush()
    deliver_after_commit(session, msg.id)  # the operator asked to send it now
    return Transition(message=msg, before=before, after=msg.status)


def cancel(*, session: Session, clock: Clock, institution_id: int | None, message_id: int) -> Transition:
    """Make sure a message not yet delivered is never sent (refused once delivered or cancelled)."""
    msg = _locked(session, institution_id=institution_id, message_id=message_id)
    before = msg.status
    msg.status = OutboxStatus.CANCELLED.value
    msg.cancelled_at = clock.now()
    session.flush()
    return Transition(message=msg, before=before, after=msg.status)


def _locked(session: Session, *, institution_id: int | None, message_id: int) -> OutboxMessage:
    """The message, locked, in the caller's reach and still open to change; else NotFound or the refusal."""
    msg = repository.for_update(session, message_id)
    if msg is None or (institution_id is not None and msg.institution_id != institution_id):
        raise NotFound()
    if msg.status == OutboxStatus.DELIVERED:
        raise MessageAlreadyDelivered()
    if msg.status == OutboxStatus.CANCELLED:
        raise MessageCancelled()
    return msg


# --- the in-app inbox ----------------------------------------------------------------------------

INBOX_TEMPLATES = frozenset({"application_submitted", "application_returned", "application_approved",
                             "application_declined", "group_consent_requested", "group_member_left", "group_dissolved",
                             "application_counter_offer", "application_human_review", "contract_ready",
                             "contract_signed", "loan_disbursed", "loan_repayment_recorded", "loan_closed",
                             "loan_cancelled", "early_warning_raised", "guarantor_requested",
                             "loan_accelerated"})
# Parameters never stored in an in-app notification (the text is rendered by the app, for anyone who
# sees the screen): secrets and full identifiers.
_FORBIDDEN_PARAMS = frozenset({"code", "password", "id_number", "phone", "card_number", "token"})


def notify_user(session: Session, *, clock: Clock, institution_id: int | None, user_id: int, template: str,
                params: dict[str, Any], subject_kind: str | None = None,
                subject_id: int | None = None, sms: bool = False, flush: bool = True) -> InboxMessage:
    """An in-app notification for `user_id`, written in the caller's (business) transaction.

    Only the template key and its parameters are stored; the app renders the text from its
    catalogues in the reader's language. A parameter named like a secret is refused (a bug).
    With `sms`, the notification is texted too: the dispatcher queues it as an SMS of the same
    template after the commit (`text_notifications`), so a caller needs no keys to the phone.
    `flush` False: written by the transaction's next flush (as `enqueue_sms`'s), no id until then.
    """
    message = InboxMessage(**inbox_row(clock=clock, institution_id=institution_id, user_id=user_id,
                                       template=template, params=params, subject_kind=subject_kind,
                                       subject_id=subject_id, sms=sms))
    return repository.add_inbox(session, message, flush=flush)  # texted by the outbox's timer (`text_notifications`)


def inbox_row(*, clock: Clock, institution_id: int | None, user_id: int, template: str, params: dict[str, Any],
              subject_kind: str | None = None, subject_id: int | None = None, sms: bool = False) -> dict[str, Any]:
    """The row of an in-app notification as `notify_user` stores it (its column values, the same checks), for
    `write_messages`."""
    if template not in INBOX_TEMPLATES:
        raise ValueError(f"unknown in-app template {template!r}")
    if sms and template not in SMS_TEMPLATES:
        raise ValueError(f"no SMS template {template!r}")
    leaked = _FORBIDDEN_PARAMS & set(params)
    if leaked:
        raise ValueError(f"in-app notifications carry no secrets or full identifiers: {sorted(leaked)}")
    return {"institution_id": institution_id, "user_id": user_id, "template": template,
            "params": {k: v if isinstance(v, (int, bool)) or v is None else str(v) for k, v in params.items()},
            "subject_kind": subject_kind, "subject_id": subject_id, "created_at": clock.now(), "read_at": None,
            "sms_status": InboxSms.PENDING.value if sms else None, "sms_outbox_id": None}


def inbox(*, session: Session, user_id: int, page: PageRequest) -> PageResult[InboxMessage]:
    """A page of the user's in-app notifications, newest first."""
    return paginate(session, repository.inbox_query(user_id=user_id), page)


def unread_count(*, session: Session, user_id: int) -> int:
    """How many of the user's in-app notifications are unread."""
    return repository.inbox_unread(session, user_id=user_id)


def mark_read(*, session: Session, clock: Clock, user_id: int, message_id: int) -> InboxMessage:
    """Mark one of the user's notifications read (already read: unchanged); another user's is not found."""
    message = repository.inbox_message(session, user_id=user_id, message_id=message_id)
    if message is None:
        raise NotFound()
    if message.read_at is None:
        message.read_at = clock.now()
        session.flush()
    return message


def mark_all_read(*, session: Session, clock: Clock, user_id: int) -> int:
    """Mark every unread notification of the user read; how many were."""
    return repository.inbox_mark_all_read(session, user_id=user_id, at=clock.now())
