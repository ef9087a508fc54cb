"""Tables of contracts: versioned contract templates, and one contract per approved application.

A template (`contract_templates`) has a code and numbered versions per institution: `draft` (editable),
`published` (exactly one per code in force; never changed again) and `retired`. A draft is published by
maker–checker: one person holding `product.manage` requests publication (`review_status` `pending`: the draft
is then frozen), a *different* person holding `contract.template.approve` approves it (it is published, the
version in force retired) or rejects it with a reason (`rejected`: the draft is editable again and may be
requested anew). The version in force is the one new contracts use. A version holds the
HTML (Jinja2, rendered in a sandbox with autoescape) the PDF is made from and the DOCX template
(docxtpl) of the editable copy.

A contract (`contracts`) belongs to one application. It keeps the template version it was made
from, a JSON snapshot of the terms it states (money as strings), the rendered PDF and DOCX
(storage keys and SHA-256 digests), and — once signed — the borrower's e-signature record (time,
IP, device, user agent, the SHA-256 of the PDF they read) and the institution's PAdES-signed PDF
(a new storage key and digest; the files are never overwritten).

An archived contract's PDF (B-LTA) stays verifiable as long as its last document time stamp's certificate
does. Renewing it (`contract_archive_renewals`) appends a new document time stamp over the whole file: a new
file under a new key, each renewal a row (when, the stamp's time, the digests before and after, the
certificate's end). The contract keeps its signed PDF's key and digest as they were, and points at the file a
download serves (`archive_pdf_key`: the latest renewal's, None before any) and at the end of its latest stamp's
certificate (`archive_valid_until`, which the renewal run selects on; None when not read yet).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from microcredit.db.base import Base
from microcredit.db.types import BigIntPK, LongBinary, LongText, UTCDateTime

TEMPLATE_STATUSES = ("draft", "published", "retired")
REVIEW_STATUSES = ("pending", "approved", "rejected")
STATUSES = ("ready", "signed", "void")


class ContractTemplate(Base):
    """One version of a contract template of an institution."""

    __tablename__ = "contract_templates"
    __table_args__ = (
        UniqueConstraint("institution_id", "code", "number"),
        CheckConstraint("status IN ('draft', 'published', 'retired')", name="status"),
        CheckConstraint("review_status IN ('pending', 'approved', 'rejected')", name="review_status"),
        Index("ix_contract_templates_inst_code", "institution_id", "code", "status"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    code: Mapped[str] = mapped_column(String(32))
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(120))
    language: Mapped[str] = mapped_column(String(8))
    html: Mapped[str] = mapped_column(LongText)
    docx: Mapped[bytes] = mapped_column(LongBinary)
    note: Mapped[str | None] = mapped_column(String(255), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    published_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    # Maker–checker of publication: the request (by an editor) and its review (by another person).
    review_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    requested_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    reviewed_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    review_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    lock_version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": lock_version}  # noqa: RUF012


class Contract(Base):
    """The loan contract of one approved application, its files and its signatures."""

    __tablename__ = "contracts"
    __table_args__ = (
        UniqueConstraint("application_id"),
        UniqueConstraint("institution_id", "number"),
        CheckConstraint("status IN ('ready', 'signed', 'void')", name="status"),
        Index("ix_contracts_inst_status", "institution_id", "status", "branch_id"),
        Index("ix_contracts_borrower", "borrower_id"),
        Index("ix_contracts_archive", "archive_valid_until"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"), nullable=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    borrower_id: Mapped[int] = mapped_column(ForeignKey("borrowers.id"))
    borrower_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    number: Mapped[str] = mapped_column(String(48))
    status: Mapped[str] = mapped_column(String(16))
    template_id: Mapped[int] = mapped_column(ForeignKey("contract_templates.id"))
    template_code: Mapped[str] = mapped_column(String(32))
    template_number: Mapped[int] = mapped_column(Integer)
    terms: Mapped[dict[str, Any]] = mapped_column(JSON)  # what the contract states; money as strings
    pdf_key: Mapped[str] = mapped_column(String(200))
    pdf_sha256: Mapped[str] = mapped_column(String(64))
    pdf_size: Mapped[int] = mapped_column(BigInteger)
    docx_key: Mapped[str] = mapped_column(String(200))
    docx_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    # The borrower's e-signature (re-authenticated with an SMS code).
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    signer_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    sign_ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    sign_device_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    sign_user_agent: Mapped[str | None] = mapped_column(String(255), nullable=True)
    signed_document_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The institution's PAdES-signed PDF (with the e-signature record on its last page).
    signed_pdf_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    signed_pdf_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    signed_pdf_size: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    institution_signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    certificate_subject: Mapped[str | None] = mapped_column(String(255), nullable=True)
    # The archive: the latest renewal of the signed PDF's document time stamps (None before any) and the end of
    # the certificate of the latest stamp of the file a download serves (None: not read yet).
    archive_pdf_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    archive_pdf_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    archive_valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class ArchiveRenewal(Base):
    """One renewal of a signed contract's document time stamps: a new file, the old one kept as it was."""

    __tablename__ = "contract_archive_renewals"
    __table_args__ = (
        # A file is renewed once: two runs racing over one contract cannot both append to the same version.
        UniqueConstraint("contract_id", "previous_sha256"),
        Index("ix_contract_archive_renewals_inst", "institution_id", "renewed_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"))
    renewed_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the clock's, when the run did it
    timestamp_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the new document time stamp's time
    previous_sha256: Mapped[str] = mapped_column(String(64))
    previous_valid_until: Mapped[datetime] = mapped_column(UTCDateTime)
    pdf_key: Mapped[str] = mapped_column(String(200))
    pdf_sha256: Mapped[str] = mapped_column(String(64))
    pdf_size: Mapped[int] = mapped_column(BigInteger)
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime)  # the new stamp's certificate's end
    tsa_subject: Mapped[str] = mapped_column(String(255))
