"""Tables of the built-in simulators (stand-ins for services that cannot exist here)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from microcredit.db.base import Base
from microcredit.db.types import BigIntPK, UTCDateTime


class SimulatedSms(Base):
    """A text message 'delivered' by the SMS operator simulator (what a phone would show)."""

    __tablename__ = "sim_sms_messages"
    __table_args__ = (Index("ix_sim_sms_phone", "phone_index", "sent_at"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    phone_index: Mapped[str] = mapped_column(String(64))
    phone_masked: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
