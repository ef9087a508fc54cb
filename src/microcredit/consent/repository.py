"""Every query of the consent domain."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from microcredit.consent.models import ConsentDocument, ConsentRecord


def add(session: Session, row: ConsentDocument | ConsentRecord) -> None:
    """Write a document version or a consent record (flushed, so it has its id)."""
    session.add(row)
    session.flush()


def current_documents(session: Session, *, institution_id: int, now: datetime) -> list[ConsentDocument]:
    """The institution's versions in effect at `now`: per kind, the one that took effect last."""
    rows = session.scalars(
        select(ConsentDocument).where(ConsentDocument.institution_id == institution_id,
                                      ConsentDocument.effective_from <= now)
        .order_by(ConsentDocument.kind, ConsentDocument.effective_from.desc(), ConsentDocument.id.desc()))
    current: dict[str, ConsentDocument] = {}
    for row in rows:
        current.setdefault(row.kind, row)
    return list(current.values())


def document(session: Session, *, institution_id: int, kind: str, version: str) -> ConsentDocument | None:
    """One version of one of the institution's documents."""
    return session.scalars(select(ConsentDocument).where(
        ConsentDocument.institution_id == institution_id, ConsentDocument.kind == kind,
        ConsentDocument.version == version)).one_or_none()


def versions(session: Session, *, institution_id: int, kind: str) -> list[ConsentDocument]:
    """Every published version of one document, newest first."""
    return list(session.scalars(select(ConsentDocument).where(
        ConsentDocument.institution_id == institution_id, ConsentDocument.kind == kind)
        .order_by(ConsentDocument.effective_from.desc(), ConsentDocument.id.desc())))


def records_of_user(session: Session, user_id: int) -> list[ConsentRecord]:
    """A person's consent records, newest first."""
    return list(session.scalars(select(ConsentRecord).where(ConsentRecord.user_id == user_id)
                                .order_by(ConsentRecord.accepted_at.desc(), ConsentRecord.id.desc())))


def records_of_borrower(session: Session, borrower_id: int) -> list[ConsentRecord]:
    """A borrower's consent records, newest first."""
    return list(session.scalars(select(ConsentRecord).where(ConsentRecord.borrower_id == borrower_id)
                                .order_by(ConsentRecord.accepted_at.desc(), ConsentRecord.id.desc())))


def record_for_update(session: Session, record_id: int) -> ConsentRecord | None:
    """One consent record, locked where the database can."""
    return session.scalars(select(ConsentRecord).where(ConsentRecord.id == record_id)
                           .with_for_update()).one_or_none()
