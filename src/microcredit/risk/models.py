"""Tables of risk: rule sets and their versions, the blacklist, the credit reports read.

`risk_rule_sets` names an institution's rule sets (code "default" first);
`risk_rule_set_versions` holds each version's parameters and rules as JSON: a
draft is edited, then published, after which it never changes (the one
published before it becomes `retired`). Exactly one version of a rule set is
`published` at a time. `risk_blacklist` holds ID numbers (encrypted, found by
blind index, shown masked), phones and device ids with the reason; removal is
recorded on the row. `risk_bureau_reports` keeps every credit report an
assessment read, as JSON, found by the applicant's blind index.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from microcredit.db.base import Base
from microcredit.db.types import BigIntPK, UTCDateTime

VERSION_STATUSES = ("draft", "published", "retired")
BLACKLIST_KINDS = ("id_number", "phone", "device_id")


class RuleSet(Base):
    """A named rule set of an institution."""

    __tablename__ = "risk_rule_sets"
    __table_args__ = (UniqueConstraint("institution_id", "code"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RuleSetVersion(Base):
    """One version of a rule set: its parameters and rules (immutable once published)."""

    __tablename__ = "risk_rule_set_versions"
    __table_args__ = (
        UniqueConstraint("rule_set_id", "number"),
        CheckConstraint("status IN ('draft', 'published', 'retired')", name="status"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    rule_set_id: Mapped[int] = mapped_column(ForeignKey("risk_rule_sets.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON)
    rules: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(String(255), nullable=True)
    based_on_number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    published_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    # Optimistic lock of a draft's edits (two officers editing one draft).
    lock_version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": lock_version}  # noqa: RUF012 (SQLAlchemy reads a plain dict)


class BlacklistEntry(Base):
    """An identifier the institution refuses to lend to, with why, who and when; removal kept on the row."""

    __tablename__ = "risk_blacklist"
    __table_args__ = (
        Index("ix_risk_blacklist_lookup", "institution_id", "kind", "value_index"),
        CheckConstraint("kind IN ('id_number', 'phone', 'device_id')", name="kind"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    kind: Mapped[str] = mapped_column(String(16))
    value_ciphertext: Mapped[str] = mapped_column(Text, info={"encrypted": "risk_blacklist.value"})
    value_index: Mapped[str] = mapped_column(String(64))
    value_masked: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    removed_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    removed_reason: Mapped[str | None] = mapped_column(String(255), nullable=True)


class StoredBureauReport(Base):
    """A credit report an assessment read (the JSON of integrations.bureau.BureauReport)."""

    __tablename__ = "risk_bureau_reports"
    __table_args__ = (Index("ix_risk_bureau_reports_person", "institution_id", "id_number_index"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    id_number_index: Mapped[str] = mapped_column(String(64))
    application_number: Mapped[str | None] = mapped_column(String(64), nullable=True)
    source: Mapped[str] = mapped_column(String(32))
    report_number: Mapped[str] = mapped_column(String(64))
    queried_on: Mapped[date] = mapped_column(Date)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
