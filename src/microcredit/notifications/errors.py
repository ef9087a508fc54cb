"""Refusals of the notifications domain (the outbox monitor's actions)."""

from __future__ import annotations

from microcredit.errors import Conflict


class MessageAlreadyDelivered(Conflict):
    """A delivered message is final: it can be neither sent again nor cancelled."""

    code = "outbox_message_delivered"
    message_zh = "该消息已送达，不能重发或取消"
    message_en = "This message was delivered; it cannot be retried or cancelled"


class MessageCancelled(Conflict):
    """A cancelled message is final: it will not be sent, and a retry does not bring it back."""

    code = "outbox_message_cancelled"
    message_zh = "该消息已取消，不会再发送"
    message_en = "This message was cancelled; it will not be sent"
