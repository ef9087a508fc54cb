"""Routes of the audit log: browse, export, verify the chain."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Response

from microcredit.api.deps import DB, Config, Meta, WallClock, require
from microcredit.api.exports import XLSX_RESPONSES, xlsx_response
from microcredit.api.params import IdFilter, PageNo, PageSize
from microcredit.audit import service
from microcredit.audit.schemas import AuditRecordRead, VerifyRead, VerifyRequest
from microcredit.identity import service as identity
from microcredit.identity.principal import Principal
from microcredit.parties import service as parties
from microcredit.platform.export import Column
from microcredit.platform.paging import PageRequest, all_rows, paginate
from microcredit.platform.routing import UnitOfWorkRoute
from microcredit.platform.schema import Page

router = APIRouter(tags=["audit"], route_class=UnitOfWorkRoute)
COLUMNS = [Column("seq", "序号", "Seq"), Column("at", "时间(UTC)", "Time (UTC)"),
           Column("actor_name", "操作人", "Actor"), Column("actor_kind", "身份", "Actor kind"),
           Column("action", "操作", "Action"), Column("entity_type", "对象", "Entity"),
           Column("entity_id", "对象编号", "Entity id"), Column("target_name", "对象名称", "Entity name"),
           Column("ip", "IP", "IP"),
           Column("before", "变更前", "Before"), Column("after", "变更后", "After"), Column("hash", "哈希", "Hash")]


def _query(principal: Principal, sort: str | None, **filters: Any) -> Any:
    inst = None if principal.sees_all_institutions else principal.institution_id
    return service.records_query(institution_id=inst, sort=sort, **filters)


def _target_names(session: DB, rows: list[Any], language: str) -> dict[tuple[str, str], str]:
    """Names of the records acted on, asked of the domain that owns each kind, one query per kind."""
    wanted: dict[str, set[int]] = {}
    for r in rows:
        if r.entity_type and r.entity_id and r.entity_id.isdigit():
            wanted.setdefault(r.entity_type, set()).add(int(r.entity_id))
    names: dict[tuple[str, str], str] = {}
    for kind, ids in wanted.items():
        if kind == "user":
            found = {i: a.display_name for i, a in
                     identity.accounts.accounts_by_ids(session=session, user_ids=list(ids)).items()}
        elif kind == "role":
            found = identity.roles.role_names(session=session, role_ids=list(ids), language=language)
        else:
            found = parties.organisation.display_names(session=session, entity_type=kind, ids=list(ids),
                                                       language=language)
        names.update({(kind, str(i)): name for i, name in found.items()})
    return names


def _reads(session: DB, rows: list[Any], language: str) -> list[AuditRecordRead]:
    users = identity.accounts.accounts_by_ids(session=session, user_ids=[r.actor_user_id for r in rows
                                                                      if r.actor_user_id])
    targets = _target_names(session, rows, language)
    out = []
    for r in rows:
        read = AuditRecordRead.model_validate(r)
        read.actor_name = users[r.actor_user_id].display_name if r.actor_user_id in users else None
        read.target_name = targets.get((r.entity_type, r.entity_id))
        out.append(read)
    return out


@router.get("/audit-log", response_model=Page[AuditRecordRead], operation_id="list_audit_records",
            summary="The audit log")
def list_audit_records(session: DB, meta: Meta, principal: Principal = require("audit.read"), action: str | None = None,
                       actor_user_id: IdFilter = None, entity_type: str | None = None,
                       entity_id: str | None = None, since: datetime | None = None,
                       until: datetime | None = None, page: PageNo = 1,
                       page_size: PageSize = 20,
                       sort: str | None = None) -> Page[AuditRecordRead]:
    """Who did what, when, from where, with before/after values; newest first."""
    stmt = _query(principal, sort, action=action, actor_user_id=actor_user_id, entity_type=entity_type,
                  entity_id=entity_id, since=since, until=until)
    r = paginate(session, stmt, PageRequest(page, page_size))
    return Page(items=_reads(session, list(r.items), meta.language), total=r.total, page=r.page, page_size=r.page_size)


@router.get("/audit-log/export", operation_id="export_audit_records", summary="The audit log as .xlsx",
            response_class=Response, responses=XLSX_RESPONSES)
def export_audit_records(session: DB, meta: Meta, principal: Principal = require("audit.read"),
                         action: str | None = None, actor_user_id: IdFilter = None,
                         entity_type: str | None = None, entity_id: str | None = None,
                         since: datetime | None = None, until: datetime | None = None,
                         sort: str | None = None) -> Response:
    """The filtered records as an Excel workbook."""
    stmt = _query(principal, sort, action=action, actor_user_id=actor_user_id, entity_type=entity_type,
                  entity_id=entity_id, since=since, until=until)
    rows = [{**r.model_dump(), "before": str(r.before or ""), "after": str(r.after or "")}
            for r in _reads(session, all_rows(session, stmt), meta.language)]
    return xlsx_response("audit-log", COLUMNS, rows, meta.language)


@router.post("/audit-log/verify", response_model=VerifyRead, operation_id="verify_audit_chain",
             summary="Recompute the hash chain")
def verify_audit_chain(session: DB, clock: WallClock, settings: Config, body: VerifyRequest | None = None,
                       principal: Principal = require("audit.verify")) -> VerifyRead:
    """Detects any edited, deleted or inserted record (and a truncated tail); with an anchor, a rewritten log.
    Records not sealed yet (milliseconds after their action) are counted, and a problem once older than the
    configured alarm."""
    anchor = body.anchor if body else None
    alarm = timedelta(seconds=settings.security.audit_unsealed_alarm_seconds)
    result = service.record_verification(session=session, clock=clock, actor=principal.actor,
                                         result=service.verify(session=session, anchor=anchor, now=clock.now(),
                                                               unsealed_alarm=alarm))
    return VerifyRead(ok=result.ok, records=result.records, head_seq=result.head_seq, head_hash=result.head_hash,
                      problems=list(result.problems), first_bad_seq=result.first_bad_seq, unsealed=result.unsealed)
