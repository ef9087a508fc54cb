"""Every query of the built-in simulators' tables."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from microcredit.integrations.models import SimulatedEmail, SimulatedPayment, SimulatedSms


def add_sms(session: Session, message: SimulatedSms) -> None:
    """Store a message the simulated operator 'delivered'."""
    session.add(message)
    session.flush()


def sms_to(session: Session, phone_index: str, limit: int) -> list[SimulatedSms]:
    """The newest messages to one phone."""
    return list(session.scalars(select(SimulatedSms).where(SimulatedSms.phone_index == phone_index)
                                .order_by(SimulatedSms.id.desc()).limit(limit)))


def recent_sms(session: Session, limit: int) -> list[SimulatedSms]:
    """The newest messages to any phone."""
    return list(session.scalars(select(SimulatedSms).order_by(SimulatedSms.id.desc()).limit(limit)))


def add_email(session: Session, message: SimulatedEmail) -> None:
    """Store an e-mail the simulated server 'delivered'."""
    session.add(message)
    session.flush()


def email_by_message_id(session: Session, message_id: str) -> SimulatedEmail | None:
    """The e-mail already delivered under `message_id` (a retried send)."""
    return session.scalar(select(SimulatedEmail).where(SimulatedEmail.message_id == message_id).limit(1))


def emails_to(session: Session, address_index: str, limit: int) -> list[SimulatedEmail]:
    """The newest e-mails to one address."""
    return list(session.scalars(select(SimulatedEmail).where(SimulatedEmail.address_index == address_index)
                                .order_by(SimulatedEmail.id.desc()).limit(limit)))


def add_sim_payment(session: Session, row: SimulatedPayment) -> None:
    """Store a payment the simulated provider accepted."""
    session.add(row)
    session.flush()


def sim_payment(session: Session, provider_reference: str, *, for_update: bool = False) -> SimulatedPayment | None:
    """A simulated payment by the provider's reference."""
    stmt = select(SimulatedPayment).where(SimulatedPayment.provider_reference == provider_reference)
    return session.scalar(stmt.with_for_update() if for_update else stmt)


def sim_payment_by_reference(session: Session, reference: str) -> SimulatedPayment | None:
    """A simulated payment by the merchant's (our) reference."""
    return session.scalar(select(SimulatedPayment).where(SimulatedPayment.reference == reference))


def sim_payments_to_notify(session: Session) -> list[SimulatedPayment]:
    """Simulated payments whose callback has not been sent, oldest first."""
    return list(session.scalars(select(SimulatedPayment).where(SimulatedPayment.callbacks_sent == 0,
                                                               SimulatedPayment.settle_at.is_not(None))
                                .order_by(SimulatedPayment.id).with_for_update()))


def sim_payments_between(session: Session, start: datetime, end: datetime) -> list[SimulatedPayment]:
    """Simulated payments settling in [start, end), in order."""
    return list(session.scalars(select(SimulatedPayment).where(SimulatedPayment.settle_at >= start,
                                                               SimulatedPayment.settle_at < end)
                                .order_by(SimulatedPayment.settle_at, SimulatedPayment.id)))
