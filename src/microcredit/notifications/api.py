"""Routes of the outbox monitor (what was sent, what waits, what failed; retry and cancel) and of the
caller's own in-app notifications (/me/notifications: list, unread count, mark read).

No answer carries a message's text (it may hold a verification code): rows show the
template, the masked recipient and how delivery went, from plain columns written at
enqueue time. Staff see their institution's messages; platform administrators all.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response

from microcredit.api.deps import DB, Meta, WallClock, authenticated, require
from microcredit.api.exports import XLSX_RESPONSES, xlsx_response
from microcredit.api.params import Id, PageNo, PageSize
from microcredit.audit import service as audit
from microcredit.identity.principal import Principal
from microcredit.notifications import service
from microcredit.notifications.models import SENDABLE, OutboxMessage
from microcredit.notifications.schemas import (
    InboxMessageRead,
    InboxPage,
    OutboxMessageRead,
    OutboxSummaryRead,
    ReadAllResult,
    Status,
)
from microcredit.platform.export import Column
from microcredit.platform.paging import PageRequest, all_rows, paginate
from microcredit.platform.routing import UnitOfWorkRoute
from microcredit.platform.schema import Page

router = APIRouter(tags=["notifications"], route_class=UnitOfWorkRoute)
Topic = Annotated[str | None, Query(max_length=64, description="The channel", examples=["sms"])]
Template = Annotated[str | None, Query(max_length=64, description="The message template",
                                       examples=["verification_code"])]
Since = Annotated[datetime | None, Query(description="Queued at or after (ISO 8601)")]
Until = Annotated[datetime | None, Query(description="Queued before (ISO 8601)")]
StatusFilter = Annotated[Status | None, Query(description="Only messages in this status")]
Sort = Annotated[str | None, Query(description="id, created_at, attempts, next_attempt_at, last_attempt_at or "
                                   "delivered_at; '-' first for descending")]
COLUMNS = [Column("id", "编号", "Id"), Column("institution_id", "机构", "Institution"),
           Column("topic", "渠道", "Channel"), Column("template", "模板", "Template"),
           Column("recipient_masked", "接收人", "Recipient"), Column("status", "状态", "Status"),
           Column("attempts", "尝试次数", "Attempts"), Column("last_error", "最近错误", "Last error"),
           Column("created_at", "生成时间(UTC)", "Queued (UTC)"),
           Column("last_attempt_at", "最近尝试(UTC)", "Last attempt (UTC)"),
           Column("next_attempt_at", "下次尝试(UTC)", "Next attempt (UTC)"),
           Column("not_before", "暂缓至(UTC)", "Held until (UTC)"),
           Column("delivered_at", "送达时间(UTC)", "Delivered (UTC)"),
           Column("cancelled_at", "取消时间(UTC)", "Cancelled (UTC)")]


def _scope(principal: Principal) -> int | None:
    """The institution whose messages the caller sees; None: all (platform administrators)."""
    return None if principal.sees_all_institutions else principal.institution_id


def _read(m: OutboxMessage) -> OutboxMessageRead:
    return OutboxMessageRead(
        id=m.id, institution_id=m.institution_id, topic=m.topic, template=m.template,
        recipient_masked=m.recipient_masked, status=m.status,
        attempts=m.attempts, last_error=m.last_error, created_at=m.created_at, last_attempt_at=m.last_attempt_at,
        next_attempt_at=m.next_attempt_at if m.status in SENDABLE else None, delivered_at=m.dispatched_at,
        cancelled_at=m.cancelled_at, not_before=m.not_before if m.status in SENDABLE else None)


@router.get("/outbox", response_model=Page[OutboxMessageRead], operation_id="list_outbox_messages",
            summary="Queued, delivered and failed messages")
def list_outbox_messages(session: DB, principal: Principal = require("outbox.read"), status: StatusFilter = None,
                         topic: Topic = None, template: Template = None, since: Since = None, until: Until = None,
                         page: PageNo = 1, page_size: PageSize = 20,
                         sort: Sort = None) -> Page[OutboxMessageRead]:
    """Messages in scope, newest first: template, masked recipient, attempts, last error, times — never the text."""
    stmt = service.messages_query(institution_id=_scope(principal), sort=sort, status=status, topic=topic,
                                  template=template, since=since, until=until)
    r = paginate(session, stmt, PageRequest(page, page_size))
    return Page(items=[_read(m) for m in r.items], total=r.total, page=r.page, page_size=r.page_size)


@router.get("/outbox/export", operation_id="export_outbox_messages", summary="The messages as .xlsx",
            response_class=Response, responses=XLSX_RESPONSES)
def export_outbox_messages(session: DB, meta: Meta, principal: Principal = require("outbox.read"),
                           status: StatusFilter = None, topic: Topic = None, template: Template = None,
                           since: Since = None, until: Until = None, sort: Sort = None) -> Response:
    """The filtered messages as an Excel workbook (the same columns as the list: never a text)."""
    stmt = service.messages_query(institution_id=_scope(principal), sort=sort, status=status, topic=topic,
                                  template=template, since=since, until=until)
    rows = [_read(m).model_dump() for m in all_rows(session, stmt)]
    return xlsx_response("outbox", COLUMNS, rows, meta.language)


@router.get("/outbox/summary", response_model=OutboxSummaryRead, operation_id="summarise_outbox",
            summary="How many messages stand in each status")
def summarise_outbox(session: DB, principal: Principal = require("outbox.read"), topic: Topic = None,
                     template: Template = None, since: Since = None, until: Until = None) -> OutboxSummaryRead:
    """Counts per status in scope (the list's filters other than status), and the attempts after which one dies."""
    counts = service.summary(session=session, institution_id=_scope(principal), topic=topic, template=template,
                             since=since, until=until)
    return OutboxSummaryRead(**counts, max_attempts=service.MAX_ATTEMPTS)


@router.post("/outbox/{message_id}/retry", response_model=OutboxMessageRead, operation_id="retry_outbox_message",
             summary="Send a failed message again now",
             responses={409: {"description": "Delivered (`outbox_message_delivered`) or cancelled "
                                             "(`outbox_message_cancelled`): final"}})
def retry_outbox_message(message_id: Id, session: DB, clock: WallClock,
                         principal: Principal = require("outbox.manage")) -> OutboxMessageRead:
    """A dead, retrying or pending message becomes due now and is attempted right after this request (audited).

    A dead message gets one more attempt: it is dead again if that fails. A held message (`not_before`:
    a collection SMS queued in the debtor's quiet hours) becomes due when its hold ends, not before.
    The answer shows the message as queued; read it again for the outcome.
    """
    change = service.retry(session=session, clock=clock, institution_id=_scope(principal), message_id=message_id)
    _audit(session, clock, principal, "outbox.retried", change)
    return _read(change.message)


@router.post("/outbox/{message_id}/cancel", response_model=OutboxMessageRead, operation_id="cancel_outbox_message",
             summary="Make sure a message is never sent",
             responses={409: {"description": "Delivered (`outbox_message_delivered`) or already cancelled "
                                             "(`outbox_message_cancelled`)"}})
def cancel_outbox_message(message_id: Id, session: DB, clock: WallClock,
                          principal: Principal = require("outbox.manage")) -> OutboxMessageRead:
    """A pending, retrying or dead message is cancelled: the dispatcher never sends it (audited, final)."""
    change = service.cancel(session=session, clock=clock, institution_id=_scope(principal), message_id=message_id)
    _audit(session, clock, principal, "outbox.cancelled", change)
    return _read(change.message)


def _audit(session: DB, clock: WallClock, principal: Principal, action: str, change: service.Transition) -> None:
    """The audit record of an operator's action, in the institution the message belongs to."""
    m = change.message
    audit.record(session=session, clock=clock, actor=principal.actor, action=action, entity_type="outbox_message",
                 entity_id=m.id, institution_id=m.institution_id,
                 before={"status": change.before, "attempts": m.attempts},
                 after={"status": change.after, "template": m.template, "recipient": m.recipient_masked})


# --- the caller's own in-app notifications --------------------------------------------------------

@router.get("/me/notifications", response_model=InboxPage, operation_id="list_my_notifications",
            summary="The caller's in-app notifications, newest first, with the unread count")
def list_my_notifications(session: DB, principal: Principal = authenticated(), page: PageNo = 1,
                          page_size: PageSize = 20) -> InboxPage:
    """Each notification is a template key and its parameters: the app renders the text in the reader's language."""
    r = service.inbox(session=session, user_id=principal.user_id, page=PageRequest(page, page_size))
    return InboxPage(items=[InboxMessageRead.model_validate(m) for m in r.items], total=r.total, page=r.page,
                     page_size=r.page_size, unread=service.unread_count(session=session, user_id=principal.user_id))


@router.post("/me/notifications/read-all", response_model=ReadAllResult, operation_id="mark_all_my_notifications_read",
             summary="Mark every notification of the caller read")
def mark_all_my_notifications_read(session: DB, clock: WallClock,
                                   principal: Principal = authenticated()) -> ReadAllResult:
    """Only the caller's own notifications change."""
    marked = service.mark_all_read(session=session, clock=clock, user_id=principal.user_id)
    return ReadAllResult(marked=marked, unread=0)


@router.post("/me/notifications/{notification_id}/read", response_model=InboxMessageRead,
             operation_id="mark_my_notification_read", summary="Mark one of the caller's notifications read")
def mark_my_notification_read(notification_id: Id, session: DB, clock: WallClock,
                              principal: Principal = authenticated()) -> InboxMessageRead:
    """Another user's notification is not found (404); one already read stays as it was."""
    m = service.mark_read(session=session, clock=clock, user_id=principal.user_id, message_id=notification_id)
    return InboxMessageRead.model_validate(m)
