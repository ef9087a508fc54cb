"""Every query of collections: settings, cases, actions, debtors."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, bindparam, func, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from microcredit.collections.models import CollectionAction, CollectionCase, CollectionDebtor, CollectionSettings
from microcredit.db.rows import id_chunks, row_by_id, table_of
from microcredit.lending.money import Money


def add(session: Session, *rows: object) -> None:
    """Stage new rows and flush them (so they have their ids)."""
    session.add_all(list(rows))
    session.flush()


def settings_of(session: Session, institution_id: int) -> CollectionSettings | None:
    """The institution's saved settings (None: the defaults apply)."""
    return session.get(CollectionSettings, institution_id)


def debtor(session: Session, borrower_id: int) -> CollectionDebtor | None:
    """A debtor's contact preferences, if recorded."""
    return session.get(CollectionDebtor, borrower_id)


def get_case(session: Session, case_id: int, *, for_update: bool = False) -> CollectionCase | None:
    """The case with this id (row-locked with `for_update`)."""
    return row_by_id(session, CollectionCase, case_id, for_update=for_update)


def live_case_of_loan(session: Session, loan_id: int) -> CollectionCase | None:
    """A loan's case not closed (at most one)."""
    return session.scalar(select(CollectionCase).where(CollectionCase.loan_id == loan_id,
                                                       CollectionCase.status != "closed"))


def live_cases(session: Session, institution_id: int) -> list[CollectionCase]:
    """The institution's cases not closed, oldest first."""
    return list(session.scalars(select(CollectionCase).where(
        CollectionCase.institution_id == institution_id, CollectionCase.status != "closed")
        .order_by(CollectionCase.id)))


def live_case_rows(session: Session, institution_id: int, *, first: int, last: int) -> list[Any]:
    """The institution's cases not closed of the loans with ids in [first, last] (a partition of loans), by loan, as
    rows of the columns the sync reads and writes (no ORM objects)."""
    return list(session.execute(select(
        CollectionCase.id, CollectionCase.loan_id, CollectionCase.borrower_id, CollectionCase.status,
        CollectionCase.stage, CollectionCase.stage_floor, CollectionCase.dpd, CollectionCase.overdue,
        CollectionCase.overdue_total, CollectionCase.priority, CollectionCase.recovered, CollectionCase.opened_on,
        CollectionCase.synced_on, CollectionCase.updated_at, CollectionCase.version).where(
        CollectionCase.institution_id == institution_id, CollectionCase.status != "closed",
        CollectionCase.loan_id >= first, CollectionCase.loan_id <= last).order_by(CollectionCase.loan_id)).all())


def live_case_loan_ids(session: Session, institution_id: int) -> list[int]:
    """The loans of the institution's cases not closed, by id (one column: what a sync walks besides the loans past
    due)."""
    return list(session.scalars(select(CollectionCase.loan_id).where(
        CollectionCase.institution_id == institution_id, CollectionCase.status != "closed")
        .order_by(CollectionCase.loan_id)))


_INSERTS_RETURNING_IDS = {model: insert(table_of(model)).returning(table_of(model).c.id, sort_by_parameter_order=True)
                         for model in (CollectionCase, CollectionAction)}


def insert_returning_ids(session: Session, model: type[CollectionCase | CollectionAction],
                         rows: Sequence[dict[str, Any]]) -> list[int]:
    """Write new cases or actions (their column values) as one Core INSERT … RETURNING on the session's connection
    (no ORM objects, no flush): their ids in the order of `rows` (SQLAlchemy's insertmanyvalues sorts them)."""
    if not rows:
        return []
    return [int(r[0]) for r in session.connection().execute(_INSERTS_RETURNING_IDS[model], list(rows))]


def debtor_rows(session: Session, borrower_ids: Iterable[int]) -> dict[int, Any]:
    """The recorded contact preferences (borrower_id, time_zone, night_contact_consent) of these debtors, by borrower
    (a debtor who recorded none is left out; a query per `db.rows.id_chunks`)."""
    return {row.borrower_id: row for ids in id_chunks(sorted(set(borrower_ids))) for row in session.execute(
        select(CollectionDebtor.borrower_id, CollectionDebtor.time_zone, CollectionDebtor.night_contact_consent)
        .where(CollectionDebtor.borrower_id.in_(ids)))}


def cases_by_ids_in_order(session: Session, case_ids: Iterable[int]) -> list[CollectionCase]:
    """Cases by id, oldest first (a query per `db.rows.id_chunks`: any number of ids)."""
    return [case for ids in id_chunks(case_ids)
            for case in session.scalars(select(CollectionCase).where(CollectionCase.id.in_(ids))
                                        .order_by(CollectionCase.id))]


def with_pending_promises(session: Session, case_ids: Iterable[int]) -> set[int]:
    """Which of these cases have a promise to pay not yet kept or broken (a query per `db.rows.id_chunks`)."""
    return {case_id for ids in id_chunks(case_ids) for case_id in session.scalars(
        select(CollectionAction.case_id).where(
            CollectionAction.case_id.in_(ids), CollectionAction.promise_status == "pending").distinct())}


def update_cases(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Write the sync's figures of many cases in one executemany UPDATE (`b_id`, `b_version` and the new values),
    with the ORM's optimistic check: each row's version moves by one, and a row changed meanwhile (its version moved)
    raises `StaleDataError`, which the unit of work retries."""
    if not rows:
        return
    table = table_of(CollectionCase)
    result = session.connection().execute(
        update(table).where(table.c.id == bindparam("b_id"), table.c.version == bindparam("b_version"))
        .values(status=bindparam("b_status"), stage=bindparam("b_stage"), dpd=bindparam("b_dpd"),
                overdue=bindparam("b_overdue"), overdue_total=bindparam("b_overdue_total"),
                priority=bindparam("b_priority"), recovered=bindparam("b_recovered"),
                synced_on=bindparam("b_synced_on"), updated_at=bindparam("b_updated_at"),
                version=table.c.version + 1), list(rows))
    if session.get_bind().dialect.supports_sane_multi_rowcount and result.rowcount != len(rows):
        raise StaleDataError(f"UPDATE of collection_cases expected {len(rows)} rows; {result.rowcount} matched")


def cases_of_borrower(session: Session, borrower_id: int) -> list[CollectionCase]:
    """A debtor's cases, newest first."""
    return list(session.scalars(select(CollectionCase).where(CollectionCase.borrower_id == borrower_id)
                                .order_by(CollectionCase.id.desc())))


def cases_query(*, institution_id: int | None, branch_id: int | bool | None, status: str | None = None,
                stage: str | None = None, assigned_user_id: int | None = None, unassigned: bool = False,
                live: bool = False) -> Select[Any]:
    """Cases in scope (`branch_id` False: any branch), filtered."""
    stmt = select(CollectionCase)
    if institution_id is not None:
        stmt = stmt.where(CollectionCase.institution_id == institution_id)
    if branch_id is not False:
        stmt = stmt.where(CollectionCase.branch_id.is_(None) if branch_id is None
                          else CollectionCase.branch_id == branch_id)
    if status is not None:
        stmt = stmt.where(CollectionCase.status == status)
    if live:
        stmt = stmt.where(CollectionCase.status != "closed")
    if stage is not None:
        stmt = stmt.where(CollectionCase.stage == stage)
    if assigned_user_id is not None:
        stmt = stmt.where(CollectionCase.assigned_user_id == assigned_user_id)
    if unassigned:
        stmt = stmt.where(CollectionCase.assigned_user_id.is_(None), CollectionCase.agency.is_(None))
    return stmt


def live_counts_by_user(session: Session, user_ids: Iterable[int]) -> dict[int, int]:
    """Cases not closed per assigned user."""
    ids = sorted(set(user_ids))
    if not ids:
        return {}
    rows = session.execute(select(CollectionCase.assigned_user_id, func.count()).where(
        CollectionCase.assigned_user_id.in_(ids), CollectionCase.status != "closed")
        .group_by(CollectionCase.assigned_user_id))
    return {int(u or 0): int(n) for u, n in rows}


def actions_of_borrower(session: Session, borrower_id: int) -> list[CollectionAction]:
    """Every action logged about a debtor, newest first."""
    return list(session.scalars(select(CollectionAction).where(CollectionAction.borrower_id == borrower_id)
                                .order_by(CollectionAction.id.desc())))


def calls_on(session: Session, *, borrower_id: int, local_date: date, effective: bool | None = None,
             contact_party: str | None = None, contact_ref: str | None = None) -> int:
    """Calls logged about a debtor on their local day (only effective ones; only to one contact)."""
    stmt = select(func.count()).select_from(CollectionAction).where(
        CollectionAction.borrower_id == borrower_id, CollectionAction.local_date == local_date,
        CollectionAction.kind == "call")
    if effective is not None:
        stmt = stmt.where(CollectionAction.effective.is_(effective))
    if contact_party is not None:
        stmt = stmt.where(CollectionAction.contact_party == contact_party, CollectionAction.contact_ref == contact_ref)
    return int(session.scalar(stmt) or 0)


def calls_to_number(session: Session, *, institution_id: int, number_index: str, local_date: date) -> int:
    """Calls to one number (by its blind index) on a local day, about any debtor of the institution."""
    return int(session.scalar(select(func.count()).select_from(CollectionAction).where(
        CollectionAction.institution_id == institution_id, CollectionAction.number_index == number_index,
        CollectionAction.local_date == local_date, CollectionAction.kind == "call")) or 0)


def has_action(session: Session, *, case_id: int, kind: str) -> bool:
    """Whether an action of this kind was logged on the case."""
    return session.scalar(select(CollectionAction.id).where(CollectionAction.case_id == case_id,
                                                            CollectionAction.kind == kind).limit(1)) is not None


def unreached_since_reached(session: Session, *, case_id: int) -> int:
    """Calls to the borrower on the case that did not reach them since the last one that did."""
    last = session.scalar(select(func.max(CollectionAction.id)).where(
        CollectionAction.case_id == case_id, CollectionAction.kind == "call",
        CollectionAction.contact_party == "borrower", CollectionAction.effective.is_(True))) or 0
    return int(session.scalar(select(func.count()).select_from(CollectionAction).where(
        CollectionAction.case_id == case_id, CollectionAction.kind == "call",
        CollectionAction.contact_party == "borrower", CollectionAction.effective.is_(False),
        CollectionAction.id > last)) or 0)


def pending_promises(session: Session, case_ids: Iterable[int]) -> list[CollectionAction]:
    """Promises to pay not yet kept or broken on these cases, oldest first (a query per `db.rows.id_chunks` of
    cases: any number of them)."""
    found = [action for ids in id_chunks(case_ids) for action in session.scalars(select(CollectionAction).where(
        CollectionAction.case_id.in_(ids), CollectionAction.promise_status == "pending"))]
    return sorted(found, key=lambda action: action.id)


def promises_due(session: Session, *, institution_id: int, on: date, assigned_user_id: int | None) -> int:
    """Pending promises falling due on `on` (on the cases of one collector)."""
    stmt = (select(func.count()).select_from(CollectionAction)
            .join(CollectionCase, CollectionCase.id == CollectionAction.case_id)
            .where(CollectionAction.institution_id == institution_id, CollectionAction.promise_status == "pending",
                   CollectionAction.promise_date == on))
    if assigned_user_id is not None:
        stmt = stmt.where(CollectionCase.assigned_user_id == assigned_user_id)
    return int(session.scalar(stmt) or 0)


def count(session: Session, stmt: Select[Any]) -> int:
    """The number of rows a query of cases selects."""
    return int(session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)


def actions_between(session: Session, *, institution_id: int, start: datetime, end: datetime,
                    branch_id: int | bool | None = False) -> list[CollectionAction]:
    """Actions logged in [start, end) in the institution (on cases of one branch)."""
    stmt = select(CollectionAction).where(CollectionAction.institution_id == institution_id,
                                          CollectionAction.at >= start, CollectionAction.at < end)
    if branch_id is not False:
        stmt = stmt.join(CollectionCase, CollectionCase.id == CollectionAction.case_id).where(
            CollectionCase.branch_id.is_(None) if branch_id is None else CollectionCase.branch_id == branch_id)
    return list(session.scalars(stmt.order_by(CollectionAction.id)))


def cases_by_ids(session: Session, case_ids: Iterable[int]) -> dict[int, CollectionCase]:
    """Cases by id (a query per `db.rows.id_chunks`: any number of ids)."""
    return {c.id: c for ids in id_chunks(case_ids)
            for c in session.scalars(select(CollectionCase).where(CollectionCase.id.in_(ids)))}


def refused_by(session: Session, *, case_id: int, contact_party: str, contact_ref: str | None) -> bool:
    """Whether a contact refused (on a call logged on the case): they are not called again."""
    return session.scalar(select(CollectionAction.id).where(
        CollectionAction.case_id == case_id, CollectionAction.kind == "call", CollectionAction.outcome == "refused",
        CollectionAction.contact_party == contact_party, CollectionAction.contact_ref == contact_ref)
        .limit(1)) is not None


def recovered_of(session: Session, user_id: int) -> list[Money]:
    """What was recovered on each case assigned to the user."""
    return list(session.scalars(select(CollectionCase.recovered).where(CollectionCase.assigned_user_id == user_id)))
