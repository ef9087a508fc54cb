"""Tables of consent: the institution's published documents and the consents given to them.

`consent_documents` holds every published version of an institution's user
agreement, privacy policy and notice on sensitive personal information; a row
is never edited (a change is a new version). `consent_records` holds one row
per acceptance: who, which document version (and the hash of the text they
saw), when, through which channel and from where; a withdrawal is recorded on
the row with its time, never by deleting it.

Here `version` is the label an institution publishes a document under ("1.0",
"2026-12"), not an optimistic-lock counter: neither table's rows are edited by
two people at once (documents never change; a record only gains its withdrawal).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from microcredit.db.base import Base
from microcredit.db.types import BigIntPK, UTCDateTime

# The documents a borrower accepts at registration, in the order they are shown.
KINDS = ("user_agreement", "privacy_policy", "sensitive_info")
# online: self-registration on the web; walk_in: recorded by staff at the branch; app: a mobile app.
CHANNELS = ("online", "walk_in", "app")


class ConsentDocument(Base):
    """One published version of one document of an institution (immutable once written)."""

    __tablename__ = "consent_documents"
    __table_args__ = (
        UniqueConstraint("institution_id", "kind", "version"),
        Index("ix_consent_documents_current", "institution_id", "kind", "effective_from"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    kind: Mapped[str] = mapped_column(String(32))  # one of KINDS
    version: Mapped[str] = mapped_column(String(32))
    title_zh: Mapped[str] = mapped_column(String(120))
    title_en: Mapped[str] = mapped_column(String(120))
    body_zh: Mapped[str] = mapped_column(Text)
    body_en: Mapped[str] = mapped_column(Text)
    # SHA-256 of the canonical text (both titles and bodies), so a record proves what was shown.
    content_hash: Mapped[str] = mapped_column(String(64))
    effective_from: Mapped[datetime] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)
    published_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)


class ConsentRecord(Base):
    """A person's acceptance of one document version, and its withdrawal if any."""

    __tablename__ = "consent_records"
    __table_args__ = (
        Index("ix_consent_records_user", "user_id", "kind"),
        Index("ix_consent_records_borrower", "borrower_id", "kind"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    borrower_id: Mapped[int | None] = mapped_column(ForeignKey("borrowers.id"), nullable=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("consent_documents.id"))
    kind: Mapped[str] = mapped_column(String(32))
    version: Mapped[str] = mapped_column(String(32))
    content_hash: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))  # one of CHANNELS
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    user_agent: Mapped[str | None] = mapped_column(String(255), nullable=True)
    # The staff member who confirmed a signed paper consent at the branch (walk_in).
    recorded_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    withdrawn_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
