"""SMS delivery: the channel interface and the built-in SMS operator simulator.

A real deployment plugs in its operator (Aliyun SMS, Tencent Cloud SMS, a
carrier gateway) by implementing `SmsChannel`. The embedded default and the
tests use `SimulatedSmsOperator`, which "delivers" by storing the text where
the demo's message box (GET /_sim/sms) and the tests can read it. Production
mode refuses to start with the simulator switched on.

To show what a failing operator does to the outbox, the simulator refuses every
number that starts with a configured prefix (`MICROCREDIT_SMS_SIMULATOR_FAIL_PREFIX`,
e.g. `1990000`): the send raises `SmsRefused`, as a real gateway's error would.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session

from microcredit.clock import Clock
from microcredit.integrations import repository as repo
from microcredit.integrations.models import SimulatedSms
from microcredit.platform.crypto import BlindIndex, mask_phone


class SmsChannel(Protocol):
    """Sends one text message; returns the operator's message reference."""

    name: str

    def send(self, *, session: Session, phone: str, text: str, message_id: str) -> str:
        """Deliver `text` to `phone`; `message_id` makes a retried send idempotent."""
        ...


@dataclass(frozen=True)
class InboxMessage:
    """A message as the simulated phone shows it."""

    id: int
    phone_masked: str
    text: str
    sent_at: datetime


class SmsRefused(Exception):
    """The operator refused a message (the simulator: a number with the configured failing prefix)."""


class SimulatedSmsOperator:
    """SMS operator SIMULATOR: records messages instead of sending them; refuses numbers with `fail_prefix`."""

    name = "simulator"

    def __init__(self, *, blind_index: BlindIndex, clock: Clock, fail_prefix: str = "") -> None:
        self.blind_index = blind_index
        self.clock = clock
        self.fail_prefix = fail_prefix

    def send(self, *, session: Session, phone: str, text: str, message_id: str) -> str:
        """Store the message as delivered to `phone` (or refuse it, for a number with the failing prefix)."""
        if self.fail_prefix and phone.startswith(self.fail_prefix):
            raise SmsRefused(f"simulator: numbers starting {self.fail_prefix} are refused "
                             "(MICROCREDIT_SMS_SIMULATOR_FAIL_PREFIX)")
        msg = SimulatedSms(phone_index=self.blind_index(phone, domain="phone"),
                           phone_masked=mask_phone(phone), text=text, sent_at=self.clock.now())
        repo.add_sms(session, msg)
        return f"sim-{msg.id}"

    def inbox(self, session: Session, phone: str, limit: int = 20) -> list[InboxMessage]:
        """The newest messages delivered to `phone`."""
        rows = repo.sms_to(session, self.blind_index(phone, domain="phone"), limit)
        return [InboxMessage(r.id, r.phone_masked, r.text, r.sent_at) for r in rows]

    def recent(self, session: Session, limit: int = 50) -> list[InboxMessage]:
        """The newest messages to any phone (the demo's message box)."""
        rows = repo.recent_sms(session, limit)
        return [InboxMessage(r.id, r.phone_masked, r.text, r.sent_at) for r in rows]
