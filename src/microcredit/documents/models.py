"""Tables of documents: one row per file a borrower (or staff for them) uploaded.

A document belongs to a borrower (their KYC file, reused across applications)
and may also point at a subject — an application, a contract, later a voucher —
by `subject_kind` + `subject_id`, deliberately without a foreign key (those
tables live in domains above this one). The bytes live in storage
(platform.storage) under `storage_key`, a generated name, never the uploader's;
the original filename is kept sanitised, for display only. A new document of a
type replaces the active one (status `replaced`, the row and its file kept);
nothing is deleted by an upload.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from microcredit.db.base import Base
from microcredit.db.types import BigIntPK, UTCDateTime

# The products' DocumentTypeName list (products.product_schemas), repeated: documents sit below products.
DOCUMENT_TYPES = (
    "id_card", "household_register", "marriage_certificate", "income_proof", "bank_statement",
    "asset_proof", "business_licence", "tax_record", "land_contract", "guarantee_letter",
    "visit_photo",
)
# Types of which a borrower may have many at once: a new one is added beside the others, replacing none
# (a collector's photos of a field visit, each tied to its collection case).
MANY_AT_ONCE = frozenset({"visit_photo"})
STATUSES = ("active", "replaced", "removed")
# online: the borrower on the web; branch: staff for a walk-in borrower; app: a mobile app.
CHANNELS = ("online", "branch", "app")
SUBJECT_KINDS = ("application", "contract", "voucher", "collection_case")
CONTENT_TYPES = ("image/jpeg", "image/png", "image/webp", "application/pdf")


class Document(Base):
    """One uploaded file of a borrower, its storage key, digest and who uploaded it."""

    __tablename__ = "documents"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'replaced', 'removed')", name="status"),
        Index("ix_documents_borrower", "borrower_id", "type", "status"),
        Index("ix_documents_borrower_sha", "borrower_id", "sha256"),
        Index("ix_documents_subject", "subject_kind", "subject_id"),
        Index("ix_documents_inst_branch", "institution_id", "branch_id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"), nullable=True)
    borrower_id: Mapped[int] = mapped_column(ForeignKey("borrowers.id"))
    subject_kind: Mapped[str | None] = mapped_column(String(32), nullable=True)  # one of SUBJECT_KINDS
    subject_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # no foreign key: see above
    type: Mapped[str] = mapped_column(String(32))  # one of DOCUMENT_TYPES
    storage_key: Mapped[str] = mapped_column(String(200), unique=True)
    sha256: Mapped[str] = mapped_column(String(64))  # of the stored bytes
    original_sha256: Mapped[str] = mapped_column(String(64))  # of the bytes as uploaded (before re-encoding)
    size: Mapped[int] = mapped_column(BigInteger)  # stored bytes
    content_type: Mapped[str] = mapped_column(String(64))  # detected from the content, one of CONTENT_TYPES
    original_filename: Mapped[str] = mapped_column(String(200))  # sanitised, display only
    uploaded_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    channel: Mapped[str] = mapped_column(String(16))  # one of CHANNELS
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="active")  # one of STATUSES
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"), nullable=True)
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
