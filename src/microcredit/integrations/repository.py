"""Every query of the built-in simulators' tables."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from microcredit.integrations.models import SimulatedSms


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
