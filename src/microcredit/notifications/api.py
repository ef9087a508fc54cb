"""Routes of the outbox monitor: what was sent, what waits, what failed; retry and cancel.

No answer carries a message's text (it may hold a verification code): rows show the
template, the masked recipient and how delivery went, from plain columns written at
enqueue time. Staff see their institution's messages; platform administrators all.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response

from microcredit.api.deps import DB, Meta, WallClock, require
from microcredit.api.exports import XLSX_RESPONSES, xlsx_response
from microcredit.api.params import Id, PageNo, PageSize
from microcredit.audit import service as audit
from microcredit.identity.principal import Principal
from microcredit.notifications import service
from microcredit.notifications.models import SENDABLE, OutboxMessage
from microcredit.notifications.schemas import OutboxMessageRead, OutboxSummaryRead, Status
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
        cancelled_at=m.cancelled_at)


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

    A dead message gets one more attempt: it is dead again if that fails. The answer shows the
    message as queued; read it again for the outcome.
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
