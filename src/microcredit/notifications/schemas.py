"""API shapes of the outbox monitor and the in-app inbox. No outbox shape carries a message's text: it may
hold a verification code; an in-app notification carries its template key and parameters, not a text."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from microcredit.platform.schema import OutputSchema, Page

Status = Literal["pending", "retrying", "dead", "delivered", "cancelled"]


class OutboxMessageRead(OutputSchema):
    """One queued message as operators see it: what, to whom (masked), how it went — never its text."""

    id: int
    institution_id: int | None = Field(description="The institution it was sent for (None: queued before "
                                                   "the monitor recorded it)")
    topic: str = Field(description="The channel it leaves by", examples=["sms"])
    template: str | None = Field(description="The message template (None: queued before the monitor recorded it)",
                                 examples=["verification_code"])
    recipient_masked: str | None = Field(description="The recipient, masked", examples=["138****8000"])
    status: Status = Field(description="pending: waiting for its first attempt; retrying: failed, will be tried "
                                       "again at next_attempt_at; dead: failed max_attempts times, tried again "
                                       "only when retried; delivered; cancelled")
    attempts: int = Field(description="Delivery attempts so far")
    last_error: str | None = Field(description="Why the last attempt failed (the message's text, full phone "
                                               "number and numbers scrubbed out)")
    created_at: datetime
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None = Field(description="When it is tried next (only while pending or retrying)")
    not_before: datetime | None = Field(default=None, description=(
        "Held until then: never sent earlier, not even when retried (a collection SMS queued in the "
        "debtor's quiet hours goes at their end); null: not held"))
    delivered_at: datetime | None
    cancelled_at: datetime | None


class OutboxSummaryRead(OutputSchema):
    """How many messages stand in each status (with the list's filters other than status)."""

    pending: int
    retrying: int
    dead: int
    delivered: int
    cancelled: int
    max_attempts: int = Field(description="Failed attempts after which a message is dead", examples=[12])


class InboxMessageRead(OutputSchema):
    """One in-app notification: the app renders its text from `template` + `params` in the reader's language."""

    id: int
    template: str = Field(description="The text's key in the app's catalogues (under inbox.)",
                          examples=["application_approved"])
    params: dict[str, str | int | bool | None] = Field(description="What the text shows (never a secret)",
                                                       examples=[{"number": "MC-20261203-000001",
                                                                  "amount": "5000.00"}])
    subject_kind: str | None = Field(description="What it is about (where a tap leads)", examples=["application"])
    subject_id: int | None = Field(description="The id of what it is about", examples=[42])
    created_at: datetime
    read_at: datetime | None = Field(description="When the user read it (None: unread)")


class InboxPage(Page[InboxMessageRead]):
    """A page of the caller's in-app notifications, newest first, with the unread count over all pages."""

    unread: int = Field(description="Unread notifications of the caller, over all pages")


class ReadAllResult(OutputSchema):
    """How many notifications were marked read."""

    marked: int
    unread: int = Field(description="Unread notifications left (0)")
