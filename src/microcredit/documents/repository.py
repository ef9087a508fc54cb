"""Every query of the documents domain."""

from __future__ import annotations

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session

from microcredit.documents.models import Document


def add(session: Session, row: Document) -> None:
    """Write a document row (flushed, so it has its id)."""
    session.add(row)
    session.flush()


def get(session: Session, document_id: int) -> Document | None:
    """One document by id, whatever its status."""
    return session.get(Document, document_id)


_ACTIVE_TYPES = select(Document.type).distinct().where(Document.borrower_id == bindparam("borrower_id"),
                                                       Document.status == "active")  # built once: every decision


def active_types(session: Session, *, borrower_id: int) -> list[str]:
    """The types of the borrower's active documents (each once)."""
    return list(session.scalars(_ACTIVE_TYPES, {"borrower_id": borrower_id}))


def of_borrower(session: Session, *, borrower_id: int, include_inactive: bool) -> list[Document]:
    """A borrower's documents, newest first; only the active ones unless asked."""
    query = select(Document).where(Document.borrower_id == borrower_id)
    if not include_inactive:
        query = query.where(Document.status == "active")
    return list(session.scalars(query.order_by(Document.uploaded_at.desc(), Document.id.desc())))


def active_of_type_for_update(session: Session, *, borrower_id: int, type_: str) -> list[Document]:
    """The borrower's active documents of one type (normally one), locked where the database can."""
    return list(session.scalars(select(Document).where(
        Document.borrower_id == borrower_id, Document.type == type_, Document.status == "active")
        .order_by(Document.id).with_for_update()))


def with_digest(session: Session, *, borrower_id: int, digests: tuple[str, ...]) -> Document | None:
    """The borrower's not-removed document whose stored or uploaded bytes have one of these SHA-256 digests."""
    return session.scalars(select(Document).where(
        Document.borrower_id == borrower_id, Document.status != "removed",
        or_(Document.sha256.in_(digests), Document.original_sha256.in_(digests)))
        .order_by(Document.id).limit(1)).first()
