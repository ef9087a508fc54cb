"""Every query of the audit domain."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, select

from microcredit.audit.models import AuditRecord


def records_query(*, institution_id: int | None, action: str | None = None, actor_user_id: int | None = None,
                  entity_type: str | None = None, entity_id: str | None = None,
                  since: datetime | None = None, until: datetime | None = None) -> Select[Any]:
    """Audit records filtered (the caller sorts and pages)."""
    stmt = select(AuditRecord)
    if institution_id is not None:
        stmt = stmt.where(AuditRecord.institution_id == institution_id)
    if action:
        stmt = stmt.where(AuditRecord.action.like(f"{action}%"))
    if actor_user_id is not None:
        stmt = stmt.where(AuditRecord.actor_user_id == actor_user_id)
    if entity_type:
        stmt = stmt.where(AuditRecord.entity_type == entity_type)
    if entity_id:
        stmt = stmt.where(AuditRecord.entity_id == entity_id)
    if since is not None:
        stmt = stmt.where(AuditRecord.at >= since)
    if until is not None:
        stmt = stmt.where(AuditRecord.at < until)
    return stmt
