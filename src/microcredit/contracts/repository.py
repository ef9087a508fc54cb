"""Every query of the contracts domain."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from microcredit.contracts.models import ArchiveRenewal, Contract, ContractTemplate


def add(session: Session, row: Contract | ContractTemplate | ArchiveRenewal) -> None:
    """Write a row (flushed, so it has its id)."""
    session.add(row)
    session.flush()


def templates(session: Session, *, institution_id: int) -> list[ContractTemplate]:
    """Every template version of an institution, by code then newest version first."""
    return list(session.scalars(select(ContractTemplate).where(ContractTemplate.institution_id == institution_id)
                                .order_by(ContractTemplate.code, ContractTemplate.number.desc())))


def template_version(session: Session, *, institution_id: int, code: str, number: int,
                     for_update: bool = False) -> ContractTemplate | None:
    """One version of a template."""
    query = select(ContractTemplate).where(ContractTemplate.institution_id == institution_id,
                                           ContractTemplate.code == code, ContractTemplate.number == number)
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).first()


def template_by_id(session: Session, template_id: int) -> ContractTemplate | None:
    """A template version by id."""
    return session.get(ContractTemplate, template_id)


def versions_in_status(session: Session, *, institution_id: int, code: str, status: str) -> list[ContractTemplate]:
    """The versions of a template in one status (a published or draft one is normally alone)."""
    return list(session.scalars(select(ContractTemplate).where(
        ContractTemplate.institution_id == institution_id, ContractTemplate.code == code,
        ContractTemplate.status == status).order_by(ContractTemplate.number.desc())))


def last_number(session: Session, *, institution_id: int, code: str) -> int:
    """The highest version number of a template (0 when it has none)."""
    return session.scalar(select(func.coalesce(func.max(ContractTemplate.number), 0)).where(
        ContractTemplate.institution_id == institution_id, ContractTemplate.code == code)) or 0


def of_application(session: Session, application_id: int, *, for_update: bool = False) -> Contract | None:
    """The contract of an application, if it has one."""
    query = select(Contract).where(Contract.application_id == application_id)
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).first()


def waiting_count(session: Session, *, institution_id: int | None, branch_id: int | None) -> int:
    """Contracts ready and not yet signed, in a scope (None: every institution / branch)."""
    query = select(func.count()).select_from(Contract).where(Contract.status == "ready")
    if institution_id is not None:
        query = query.where(Contract.institution_id == institution_id)
    if branch_id is not None:
        query = query.where(Contract.branch_id == branch_id)
    return session.scalar(query) or 0


def pending_publication_count(session: Session, *, institution_id: int, not_by: int | None) -> int:
    """Template drafts whose publication waits for approval, not requested by `not_by`."""
    query = select(func.count()).select_from(ContractTemplate).where(
        ContractTemplate.institution_id == institution_id, ContractTemplate.status == "draft",
        ContractTemplate.review_status == "pending")
    if not_by is not None:
        query = query.where((ContractTemplate.requested_by_user_id != not_by)
                            | ContractTemplate.requested_by_user_id.is_(None))
    return session.scalar(query) or 0


def contract_for_update(session: Session, contract_id: int) -> Contract | None:
    """A contract by id, locked for the transaction."""
    return session.scalars(select(Contract).where(Contract.id == contract_id).with_for_update()).first()


def archive_due(session: Session, *, horizon: datetime, institution_id: int | None) -> list[tuple[int, str]]:
    """The signed contracts (id, number) whose archive time stamp's certificate ends before `horizon`, or whose file
    has not been read for it yet, oldest first."""
    query = select(Contract.id, Contract.number).where(
        Contract.signed_pdf_key.is_not(None),
        or_(Contract.archive_valid_until.is_(None), Contract.archive_valid_until < horizon))
    if institution_id is not None:
        query = query.where(Contract.institution_id == institution_id)
    return [(i, n) for i, n in session.execute(query.order_by(Contract.id))]
