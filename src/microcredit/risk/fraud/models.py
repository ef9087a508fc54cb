"""Tables of fraud detection: identifiers seen, the investigator's cases with their notes, and the labels.

`risk_fraud_identifiers` keeps, per reviewed application, each identifier it gave as a blind index (never
the value; a masked form for the investigator's picture) with the person's blind index: the identifier
graph is built from it. `risk_fraud_cases` is the investigator's queue: a case per application referred or
declined for fraud (source `review`) and per ring the batch scan finds (source `scan`), with its members,
the signals and the verdict. `risk_fraud_case_notes` are the case's notes. `risk_fraud_labels` are the
verdicts per application (fraud / not_fraud): what the fraud check reads back (a shared identifier with
a `fraud` label declines) and what training exports.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from microcredit.db.base import Base
from microcredit.db.types import BigIntPK, UTCDateTime

CASE_SOURCES = ("review", "scan")
CASE_STATUSES = ("open", "closed")
VERDICTS = ("fraud", "not_fraud")


class FraudIdentifier(Base):
    """One identifier one application gave (blind-indexed)."""

    __tablename__ = "risk_fraud_identifiers"
    __table_args__ = (
        UniqueConstraint("institution_id", "application_number", "kind", name="uq_risk_fraud_identifiers_app_kind"),
        Index("ix_risk_fraud_identifiers_value", "institution_id", "kind", "value_index"),
        Index("ix_risk_fraud_identifiers_person", "institution_id", "person_index"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    application_number: Mapped[str] = mapped_column(String(64))
    person_index: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    value_index: Mapped[str] = mapped_column(String(64))
    value_masked: Mapped[str] = mapped_column(String(64))
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime)


class FraudCase(Base):
    """A case of the investigator's queue."""

    __tablename__ = "risk_fraud_cases"
    __table_args__ = (
        Index("ix_risk_fraud_cases_queue", "institution_id", "status", "opened_at"),
        CheckConstraint("source IN ('review', 'scan')", name="source"),
        CheckConstraint("status IN ('open', 'closed')", name="status"),
        CheckConstraint("verdict IS NULL OR verdict IN ('fraud', 'not_fraud')", name="verdict"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    source: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(8))
    application_number: Mapped[str | None] = mapped_column(String(64), nullable=True)  # the one reviewed
    members: Mapped[list[str]] = mapped_column(JSON)  # application numbers in the case
    persons: Mapped[int] = mapped_column(Integer)
    signals: Mapped[dict[str, Any]] = mapped_column(JSON)  # codes fired, anomaly score, ring size …
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    verdict: Mapped[str | None] = mapped_column(String(12), nullable=True)
    verdict_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decided_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    lock_version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": lock_version}  # noqa: RUF012 (SQLAlchemy reads a plain dict)


class FraudCaseNote(Base):
    """An investigator's note on a case."""

    __tablename__ = "risk_fraud_case_notes"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("risk_fraud_cases.id"), index=True)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)


class FraudLabel(Base):
    """A verdict on one application: the label training and the fraud check read."""

    __tablename__ = "risk_fraud_labels"
    __table_args__ = (
        UniqueConstraint("case_id", "application_number", name="uq_risk_fraud_labels_case_app"),
        Index("ix_risk_fraud_labels_app", "institution_id", "application_number"),
        CheckConstraint("label IN ('fraud', 'not_fraud')", name="label"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    application_number: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[int] = mapped_column(ForeignKey("risk_fraud_cases.id"))
    label: Mapped[str] = mapped_column(String(12))
    labelled_at: Mapped[datetime] = mapped_column(UTCDateTime)
