"""Tables of the built-in simulators (stand-ins for services that cannot exist here)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from microcredit.db.base import Base
from microcredit.db.types import BigIntPK, MoneyColumn, UTCDateTime
from microcredit.lending.money import Money


class SimulatedSms(Base):
    """A text message 'delivered' by the SMS operator simulator (what a phone would show)."""

    __tablename__ = "sim_sms_messages"
    __table_args__ = (Index("ix_sim_sms_phone", "phone_index", "sent_at"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    phone_index: Mapped[str] = mapped_column(String(64))
    phone_masked: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SimulatedEmail(Base):
    """An e-mail 'delivered' by the e-mail server simulator (what a mailbox would show)."""

    __tablename__ = "sim_email_messages"
    __table_args__ = (Index("ix_sim_email_address", "address_index", "sent_at"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    address_index: Mapped[str] = mapped_column(String(64))
    address_masked: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    message_id: Mapped[str] = mapped_column(String(100))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SimulatedPayment(Base):
    """A payment as the payment provider simulator holds it (its side: what it settled, and when)."""

    __tablename__ = "sim_payment_orders"
    __table_args__ = (UniqueConstraint("reference"), Index("ix_sim_payment_settle", "settle_at"))

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    provider_reference: Mapped[str] = mapped_column(String(40), unique=True)
    reference: Mapped[str] = mapped_column(String(80))  # the merchant's (ours)
    kind: Mapped[str] = mapped_column(String(8))  # payout | collect | online
    amount: Mapped[Money] = mapped_column(MoneyColumn("CNY"))
    account: Mapped[str] = mapped_column(String(64))
    account_masked: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Drawn when the payment is opened: "succeeded" or the failure reason; the callback's fate.
    outcome: Mapped[str] = mapped_column(String(32))
    duplicate: Mapped[bool] = mapped_column(Boolean)
    late: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(12))  # pending | succeeded | failed
    settle_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)  # online: set when paid
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    callbacks_sent: Mapped[int] = mapped_column(Integer)
