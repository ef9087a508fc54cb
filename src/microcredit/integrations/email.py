"""E-mail delivery: the channel interface and the built-in e-mail server simulator.

The same shape as `integrations.sms`: a real deployment plugs in its mail service (an SMTP relay, a
cloud mail API) by implementing `EmailChannel`; the embedded default and the tests use
`SimulatedEmailServer`, which "delivers" by storing the message in `sim_email_messages` (the
address kept as a blind index and masked, as the SMS simulator keeps phones), in the caller's
transaction, where the tests read it. A send is idempotent by `message_id`. Production mode refuses
to start with the simulator switched on (`MICROCREDIT_EMAIL_SIMULATOR`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session

from microcredit.clock import Clock
from microcredit.integrations import repository as repo
from microcredit.integrations.models import SimulatedEmail
from microcredit.platform.crypto import BlindIndex, mask_middle


class EmailChannel(Protocol):
    """Sends one e-mail; returns the service's message reference."""

    name: str

    def send(self, *, session: Session, to: str, subject: str, body: str, message_id: str) -> str:
        """Deliver the message to `to`; `message_id` makes a retried send idempotent."""
        ...


@dataclass(frozen=True)
class Mail:
    """An e-mail as the simulated mailbox shows it."""

    id: int
    address_masked: str
    subject: str
    body: str
    sent_at: datetime


def mask_email(address: str) -> str:
    """Mask the local part of an address (z***g@example.com)."""
    local, _, domain = address.partition("@")
    return f"{mask_middle(local, 1, 1) if len(local) > 2 else local[:1] + '*'}@{domain}"


class SimulatedEmailServer:
    """E-mail server SIMULATOR: records messages instead of sending them."""

    name = "simulator"

    def __init__(self, *, blind_index: BlindIndex, clock: Clock) -> None:
        self.blind_index = blind_index
        self.clock = clock

    def send(self, *, session: Session, to: str, subject: str, body: str, message_id: str) -> str:
        """Store the message as delivered to `to` (the same `message_id` again: the first one's reference)."""
        earlier = repo.email_by_message_id(session, message_id)
        if earlier is not None:
            return f"sim-mail-{earlier.id}"
        mail = SimulatedEmail(address_index=self._index(to), address_masked=mask_email(to), subject=subject[:200],
                              body=body, message_id=message_id[:100], sent_at=self.clock.now())
        repo.add_email(session, mail)
        return f"sim-mail-{mail.id}"

    def mailbox(self, session: Session, address: str, limit: int = 20) -> list[Mail]:
        """The newest messages delivered to `address`."""
        rows = repo.emails_to(session, self._index(address), limit)
        return [Mail(r.id, r.address_masked, r.subject, r.body, r.sent_at) for r in rows]

    def _index(self, address: str) -> str:
        return self.blind_index(address.strip().lower(), domain="email")
