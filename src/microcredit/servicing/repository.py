"""Every query of servicing: loans and their events."""

from __future__ import annotations

import functools
from collections.abc import Collection, Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Select, Update, bindparam, exists, func, insert, or_, select, type_coerce, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from microcredit.db.rows import (
    forget_row,
    id_chunks,
    insert_written,
    row_by_id,
    table_of,
    update_from_columns,
    write_changes,
)
from microcredit.lending.money import Money
from microcredit.servicing.models import (
    CollectionSheet,
    Loan,
    LoanChange,
    LoanEvent,
    Payment,
    ReconciliationBreak,
    ServicingSettings,
)

_LOANS = table_of(Loan)
_EVENTS = table_of(LoanEvent)
_NEXT_VERSION = _LOANS.c.version + 1  # made once: `update_from_columns` keeps its statement by this expression


def add(session: Session, *rows: object) -> None:
    """Stage new rows and flush them (so they have their ids)."""
    session.add_all(list(rows))
    session.flush()


def stage(session: Session, *rows: object) -> None:
    """Stage new rows, written by the next flush (with whatever else the use case writes)."""
    session.add_all(list(rows))


def insert_event(session: Session, event: LoanEvent) -> LoanEvent:
    """Write a loan's new event now, as a Core `INSERT … RETURNING id` on the session's connection (no ORM object
    pending, no flush), and give it as the row written (`db.rows.insert_written`: outside the session)."""
    return insert_written(session, event)


def write_loan(session: Session, loan: Loan) -> None:
    """Write what changed on a loan the session holds now, as one Core UPDATE with the version check
    (`db.rows.write_changes`: a lost race raises `StaleDataError`, which the unit of work retries)."""
    write_changes(session, loan)


def get(session: Session, loan_id: int, *, for_update: bool = False) -> Loan | None:
    """The loan with this id (row-locked for the transaction, `for_update`: then read again from the
    row, not from the session, so that what a transaction that held the lock before changed is seen)."""
    return row_by_id(session, Loan, loan_id, for_update=for_update)


def by_application(session: Session, application_id: int) -> Loan | None:
    """The loan opened from an application, if any."""
    return session.scalar(select(Loan).where(Loan.application_id == application_id))


def by_applications(session: Session, application_ids: list[int]) -> list[Loan]:
    """The loans opened from these applications (by id)."""
    if not application_ids:
        return []
    return list(session.scalars(select(Loan).where(Loan.application_id.in_(application_ids)).order_by(Loan.id)))


def events_of(session: Session, loan_id: int) -> list[LoanEvent]:
    """A loan's events in the order recorded."""
    return list(session.scalars(select(LoanEvent).where(LoanEvent.loan_id == loan_id).order_by(LoanEvent.seq)))


def event_by_key(session: Session, loan_id: int, key: str) -> LoanEvent | None:
    """The event recorded under an idempotency key on a loan."""
    return session.scalar(select(LoanEvent).where(LoanEvent.loan_id == loan_id, LoanEvent.idempotency_key == key))


def get_in_scope_locked(session: Session, loan_id: int, *, institution_id: int | None,
                        branch_id: int | bool | None) -> Loan | None:
    """The loan with this id if the scope (as `loans_query`) holds it, row-locked for the transaction and read
    from the row (as `get(..., for_update=True)`); a loan outside the scope is not locked."""
    forget_row(session, Loan, loan_id)
    stmt = loans_query(institution_id=institution_id, branch_id=branch_id).where(Loan.id == loan_id)
    return session.scalars(stmt.with_for_update().execution_options(populate_existing=True)).one_or_none()


def loans_query(*, institution_id: int | None, branch_id: int | bool | None, borrower_id: int | None = None,
                borrower_user_id: int | None = None, status: str | None = None) -> Select[Any]:
    """Loans within a scope (`branch_id` False: any branch), filtered."""
    stmt = select(Loan)
    if institution_id is not None:
        stmt = stmt.where(Loan.institution_id == institution_id)
    if branch_id is not False:
        stmt = stmt.where(Loan.branch_id == branch_id) if branch_id is not None else stmt.where(
            Loan.branch_id.is_(None))
    if borrower_id is not None:
        stmt = stmt.where(Loan.borrower_id == borrower_id)
    if borrower_user_id is not None:
        stmt = stmt.where(Loan.borrower_user_id == borrower_user_id)
    if status is not None:
        stmt = stmt.where(Loan.status == status)
    return stmt


def loans_of(session: Session, institution_id: int) -> Iterable[Loan]:
    """Every loan of an institution, by id (for the sub-ledger check)."""
    return session.scalars(select(Loan).where(Loan.institution_id == institution_id).order_by(Loan.id))


def count(session: Session, institution_id: int) -> int:
    """How many loans an institution has."""
    return int(session.scalar(select(func.count()).select_from(Loan).where(Loan.institution_id == institution_id))
               or 0)


def opened_for(session: Session, application_ids: list[int]) -> set[int]:
    """Which of these applications have a loan."""
    if not application_ids:
        return set()
    return set(session.scalars(select(Loan.application_id).where(Loan.application_id.in_(application_ids))))


def get_change(session: Session, change_id: int, *, for_update: bool = False) -> LoanChange | None:
    """A loan change by id (row-locked for the transaction, `for_update`)."""
    return row_by_id(session, LoanChange, change_id, for_update=for_update)


def changes_of(session: Session, loan_id: int) -> list[LoanChange]:
    """A loan's changes, newest first."""
    return list(session.scalars(select(LoanChange).where(LoanChange.loan_id == loan_id)
                                .order_by(LoanChange.id.desc())))


def changes_query(*, institution_id: int | None, branch_id: int | bool | None, status: str | None) -> Select[Any]:
    """Changes within a scope (`branch_id` False: any branch), oldest first."""
    stmt = select(LoanChange).order_by(LoanChange.id)
    if institution_id is not None:
        stmt = stmt.where(LoanChange.institution_id == institution_id)
    if branch_id is not False:
        stmt = stmt.where(LoanChange.branch_id == branch_id) if branch_id is not None else stmt.where(
            LoanChange.branch_id.is_(None))
    if status is not None:
        stmt = stmt.where(LoanChange.status == status)
    return stmt


def change_by_key(session: Session, loan_id: int, key: str) -> LoanChange | None:
    """The change proposed under an idempotency key on a loan."""
    return session.scalar(select(LoanChange).where(LoanChange.loan_id == loan_id, LoanChange.idempotency_key == key))


def settings_of(session: Session, institution_id: int) -> ServicingSettings | None:
    """An institution's servicing settings (none until first set)."""
    return session.get(ServicingSettings, institution_id)


@functools.lru_cache(maxsize=4)
def _threshold_and(business_date: Any) -> Select[Any]:
    threshold = select(ServicingSettings.repayment_approval_above).where(
        ServicingSettings.institution_id == bindparam("of_institution")).scalar_subquery()
    return select(threshold, business_date)


def threshold_and_business_date(session: Session, institution_id: int, *, business_date: Any
                                ) -> tuple[Money | None, date]:
    """The institution's repayment threshold (None: not set) and its business date, in one statement:
    `business_date` is parties' scalar subquery of it, bound by `of_institution` (`business_date_subquery`)."""
    row = session.execute(_threshold_and(business_date), {"of_institution": institution_id}).one()
    return row[0], row[1]


def count_changes_waiting(*, institution_id: int | None, branch_id: int | bool | None, not_by: int) -> Select[Any]:
    """How many pending changes a scope holds that `not_by` did not propose (a checker's work)."""
    waiting = changes_query(institution_id=institution_id, branch_id=branch_id, status="pending").where(
        (LoanChange.requested_by_user_id != not_by) | LoanChange.requested_by_user_id.is_(None)).order_by(None)
    return select(func.count()).select_from(waiting.subquery())


def scalar_count(session: Session, stmt: Select[Any]) -> int:
    """The value of a count query."""
    return int(session.scalar(stmt) or 0)


# --- payments through the provider ------------------------------------------------------------


def payment(session: Session, payment_id: int, *, for_update: bool = False) -> Payment | None:
    """A payment by id (row-locked, `for_update`, read again from the row)."""
    return row_by_id(session, Payment, payment_id, for_update=for_update)


def payment_by_key(session: Session, institution_id: int, key: str) -> Payment | None:
    """The payment recorded under an idempotency key in an institution."""
    return session.scalar(select(Payment).where(Payment.institution_id == institution_id,
                                                Payment.idempotency_key == key))


def payment_by_provider_reference(session: Session, provider: str, reference: str) -> Payment | None:
    """The payment the provider knows by `reference`."""
    return session.scalar(select(Payment).where(Payment.provider == provider, Payment.provider_reference == reference))


def payments_by_merchant_references(session: Session, provider: str, references: list[str]) -> dict[str, Payment]:
    """Payments by their provider reference (the statement's lines), of one provider."""
    if not references:
        return {}
    rows = session.scalars(select(Payment).where(Payment.provider == provider,
                                                 Payment.provider_reference.in_(references)))
    return {str(p.provider_reference): p for p in rows}


def payments_of_loan(session: Session, loan_id: int) -> list[Payment]:
    """A loan's payments, newest first."""
    return list(session.scalars(select(Payment).where(Payment.loan_id == loan_id).order_by(Payment.id.desc())))


def payments_decided_between(session: Session, institution_id: int, provider: str, start: datetime,
                             end: datetime) -> list[Payment]:
    """An institution's payments through `provider` settled in [start, end)."""
    return list(session.scalars(select(Payment).where(
        Payment.institution_id == institution_id, Payment.provider == provider, Payment.status != "requested",
        Payment.settled_at >= start, Payment.settled_at < end).order_by(Payment.id)))


def autodebits_for(session: Session, loan_id: int, due_date: date) -> list[Payment]:
    """The auto-debit attempts for one due date of a loan, oldest first."""
    return list(session.scalars(select(Payment).where(Payment.loan_id == loan_id, Payment.channel == "auto_debit",
                                                      Payment.due_date == due_date).order_by(Payment.id)))


def active_loans(session: Session, institution_id: int, ids: list[int] | None = None) -> list[Loan]:
    """An institution's active loans, by id (only those of `ids` when given)."""
    stmt = select(Loan).where(Loan.institution_id == institution_id, Loan.status == "active")
    if ids is not None:
        stmt = stmt.where(Loan.id.in_(ids))
    return list(session.scalars(stmt.order_by(Loan.id)))


def active_loan_ids(session: Session, institution_id: int, first: int | None = None,
                    last: int | None = None) -> list[int]:
    """The ids of an institution's active loans, ascending (those in [first, last] when given). A Core statement on
    the table (no ORM entity: each close-of-business task reads its partition's ids by it, 2,000 at a time),
    fetched at once (`.all()`: iterating a result fetches it a row at a time, ~1 µs a row more on PostgreSQL)."""
    stmt = select(_LOANS.c.id).where(_LOANS.c.institution_id == institution_id, _LOANS.c.status == "active")
    if first is not None:
        stmt = stmt.where(_LOANS.c.id >= first)
    if last is not None:
        stmt = stmt.where(_LOANS.c.id <= last)
    return list(session.execute(stmt.order_by(_LOANS.c.id)).scalars().all())


def break_exists(session: Session, institution_id: int, statement_date: date, kind: str, reference: str) -> bool:
    """Whether this break was stored already (a statement reconciled again)."""
    return session.scalar(select(func.count()).select_from(ReconciliationBreak).where(
        ReconciliationBreak.institution_id == institution_id, ReconciliationBreak.statement_date == statement_date,
        ReconciliationBreak.kind == kind, ReconciliationBreak.reference == reference)) != 0


def get_break(session: Session, break_id: int, *, for_update: bool = False) -> ReconciliationBreak | None:
    """A reconciliation break by id (row-locked for the transaction, `for_update`)."""
    return row_by_id(session, ReconciliationBreak, break_id, for_update=for_update)


def breaks_query(*, institution_id: int | None, resolved: bool | None) -> Select[Any]:
    """Reconciliation breaks (newest first)."""
    stmt = select(ReconciliationBreak)
    if institution_id is not None:
        stmt = stmt.where(ReconciliationBreak.institution_id == institution_id)
    if resolved is not None:
        stmt = stmt.where(ReconciliationBreak.resolved.is_(resolved))
    return stmt


def open_breaks_count(session: Session, institution_id: int | None) -> int:
    """How many breaks are not resolved."""
    stmt = select(func.count()).select_from(ReconciliationBreak).where(ReconciliationBreak.resolved.is_(False))
    if institution_id is not None:
        stmt = stmt.where(ReconciliationBreak.institution_id == institution_id)
    return int(session.scalar(stmt) or 0)


def overdue_loans(session: Session, institution_id: int, business_date: date) -> list[Loan]:
    """The institution's active loans past due or with an installment unpaid from before `business_date`
    (the cache may not have been brought to that date yet), for collections."""
    return list(session.scalars(select(Loan).where(
        Loan.institution_id == institution_id, Loan.status == "active",
        (Loan.dpd > 0) | (Loan.next_due_date < business_date)).order_by(Loan.id)))


def overdue_loan_ids(session: Session, institution_id: int, business_date: date) -> list[int]:
    """The ids of `overdue_loans`, by id (no row read)."""
    return list(session.scalars(select(Loan.id).where(
        Loan.institution_id == institution_id, Loan.status == "active",
        (Loan.dpd > 0) | (Loan.next_due_date < business_date)).order_by(Loan.id)))


def loans_by_ids(session: Session, loan_ids: Iterable[int]) -> list[Loan]:
    """The loans with these ids, by id (a query per `db.rows.id_chunks`: any number of ids)."""
    return [loan for ids in id_chunks(loan_ids)
            for loan in session.scalars(select(Loan).where(Loan.id.in_(ids)).order_by(Loan.id))]


def loan_groups() -> Any:
    """The loans' id, branch and product code as a subquery (`loan_groups`) another domain's query may join."""
    return select(Loan.id, Loan.branch_id, Loan.product_code).subquery("loan_groups")


def partition_borrowers() -> Select[Any]:
    """The borrower ids of the loans of ids [`loans_first`, `loans_last`] (bound parameters, given when the query
    that takes it runs), as a query another domain's `IN` may take; one object, so that query is built once."""
    return _PARTITION_BORROWERS


_PARTITION_BORROWERS = select(Loan.borrower_id).where(Loan.id >= bindparam("loans_first"),
                                                      Loan.id <= bindparam("loans_last"))


def loans_of_borrower(session: Session, borrower_id: int) -> list[Loan]:
    """A borrower's loans, newest first."""
    return list(session.scalars(select(Loan).where(Loan.borrower_id == borrower_id).order_by(Loan.id.desc())))


def disbursed_loans(session: Session, institution_id: int, *, borrower_id: int | None = None,
                    until: date | None = None) -> list[Loan]:
    """The institution's loans paid out (on or before `until`), of one borrower when given, by id."""
    stmt = select(Loan).where(Loan.institution_id == institution_id, Loan.disbursed_on.is_not(None))
    if borrower_id is not None:
        stmt = stmt.where(Loan.borrower_id == borrower_id)
    if until is not None:
        stmt = stmt.where(Loan.disbursed_on <= until)
    return list(session.scalars(stmt.order_by(Loan.id)))


@functools.cache
def _disbursed_of(borrower_id: Any) -> Any:
    return (select(Loan).where(Loan.institution_id == bindparam("institution_id"), Loan.borrower_id == borrower_id,
                               Loan.disbursed_on.is_not(None), Loan.disbursed_on <= bindparam("until"))
            .order_by(Loan.id))


def disbursed_loans_of(session: Session, borrower_id: Any, params: dict[str, Any], *, until: date) -> list[Loan]:
    """`disbursed_loans` of the borrower another domain's scalar subquery finds (`params` its values, with
    `institution_id`, the loans' too): one statement, built once per subquery."""
    return list(session.scalars(_disbursed_of(borrower_id), {**params, "until": until}))


def events_of_loans(session: Session, loan_ids: Iterable[int], *, chunk: int = 500) -> dict[int, list[LoanEvent]]:
    """The events of many loans in the order recorded, by loan (a query per `chunk` loans, not per loan)."""
    ids = sorted(set(loan_ids))
    out: dict[int, list[LoanEvent]] = {i: [] for i in ids}
    for start in range(0, len(ids), chunk):
        part = ids[start:start + chunk]
        for event in session.scalars(select(LoanEvent).where(LoanEvent.loan_id.in_(part))
                                     .order_by(LoanEvent.loan_id, LoanEvent.seq)):
            out[event.loan_id].append(event)
    return out


def collection_sheet_by_key(session: Session, group_id: int, key: str) -> CollectionSheet | None:
    """The group's collection sheet saved under the key, if any."""
    return session.scalar(select(CollectionSheet).where(CollectionSheet.group_id == group_id,
                                                        CollectionSheet.idempotency_key == key))


def collection_sheets_query(group_id: int) -> Select[Any]:
    """A group's saved collection sheets, newest meeting first."""
    return (select(CollectionSheet).where(CollectionSheet.group_id == group_id)
            .order_by(CollectionSheet.meeting_date.desc(), CollectionSheet.id.desc()))


def collection_sheet(session: Session, sheet_id: int, *, for_update: bool = False) -> CollectionSheet | None:
    """A saved collection sheet (row-locked for the transaction, `for_update`)."""
    return row_by_id(session, CollectionSheet, sheet_id, for_update=for_update)


def sheet_of_repayment(session: Session, institution_id: int, value_date: date, key: str | None
                       ) -> CollectionSheet | None:
    """The collection sheet whose line recorded the repayment with this idempotency key and value date (a
    sheet's repayments are valued on its meeting day and keyed by `CollectionSheet.line_key`), if any."""
    if key is None or not key.startswith("sheet:"):
        return None
    # Locked: a handover of the sheet either has committed (and the reversal sees it) or waits for the
    # reversal (and then finds the repayment reversed), never both counting the same cash.
    sheets = session.scalars(select(CollectionSheet).where(CollectionSheet.institution_id == institution_id,
                                                           CollectionSheet.meeting_date == value_date)
                             .with_for_update())
    return next((x for x in sheets if x.line_key == key), None)


def sheet_events(session: Session, loan_ids: Iterable[int], key: str
                 ) -> tuple[dict[int, LoanEvent], set[tuple[int, str]]]:
    """A sheet's repayments on its loans (by loan: the event recorded under the sheet's line key) and the
    events of those loans that a reversal has undone ((loan id, event id))."""
    ids = sorted(set(loan_ids))
    if not ids:
        return {}, set()
    rows = session.scalars(select(LoanEvent).where(
        LoanEvent.loan_id.in_(ids), or_(LoanEvent.idempotency_key == key, LoanEvent.type == "reversal")))
    recorded: dict[int, LoanEvent] = {}
    reversed_: set[tuple[int, str]] = set()
    for event in rows:
        if event.type == "reversal":
            reversed_.add((event.loan_id, str(event.payload.get("target"))))
        elif event.idempotency_key == key:
            recorded[event.loan_id] = event
    return recorded, reversed_


def sheets_handover_query(*, institution_id: int | None, branch_id: int | bool | None,
                          handed_over: bool | None, before: date | None = None) -> Select[Any]:
    """Saved sheets within a scope (`branch_id` False: any branch), waiting for their handover or handed over
    (None: both), meetings before `before` only if given; the oldest meeting first."""
    stmt = select(CollectionSheet)
    if institution_id is not None:
        stmt = stmt.where(CollectionSheet.institution_id == institution_id)
    if branch_id is not False:
        stmt = stmt.where(CollectionSheet.branch_id == branch_id) if branch_id is not None else stmt.where(
            CollectionSheet.branch_id.is_(None))
    if handed_over is not None:
        stmt = stmt.where(CollectionSheet.handed_over_at.is_not(None) if handed_over
                          else CollectionSheet.handed_over_at.is_(None))
    if before is not None:
        stmt = stmt.where(CollectionSheet.meeting_date < before)
    return stmt.order_by(CollectionSheet.meeting_date, CollectionSheet.id)


def count_of(session: Session, stmt: Select[Any]) -> int:
    """How many rows a query returns."""
    return scalar_count(session, select(func.count()).select_from(stmt.order_by(None).subquery()))


# --- the close of business's quiet day (servicing.service.quiet) ---------------------------------------------


def quiet_candidates(session: Session, *, institution_id: int, day: date, first: int, last: int,
                     event_types: Sequence[str]) -> list[Any]:
    """Active loans of ids [first, last], locked, current to a day before `day` over all their events, not past
    due, whose accrual columns say `day` is still in the running period (`accrual_until` after it), with only
    events of `event_types` and none dated after their kept fold: the accrual columns, no JSON."""
    other_event = exists().where(LoanEvent.loan_id == Loan.id,
                                 or_(LoanEvent.type.not_in(list(event_types)), LoanEvent.value_date > Loan.state_as_of))
    stmt = (select(Loan.id, Loan.accrual_rate, Loan.accrual_basis, Loan.accrual_rounding, Loan.accrual_from,
                   Loan.accrual_base, Loan.accrual_future)
            .where(Loan.institution_id == institution_id, Loan.status == "active", Loan.id >= first, Loan.id <= last,
                   Loan.dpd == 0, Loan.state_seq == Loan.events_count, Loan.state_as_of < day,
                   Loan.next_due_date > day, Loan.accrual_rate.is_not(None), Loan.accrual_until > day, ~other_event)
            .order_by(Loan.id).with_for_update())
    return list(session.execute(stmt).all())


def overdue_rows(session: Session, *, institution_id: int, day: date, first: int, last: int,
                 columns: Sequence[str]) -> list[Any]:
    """`columns` of the active loans of ids [first, last] already past due by their kept fold, current to a day before
    `day` over all their events, locked (as `get(for_update=True)` locks one), by id: Core rows, no ORM objects."""
    stmt = (select(*(_LOANS.c[name] for name in columns))
            .where(_LOANS.c.institution_id == institution_id, _LOANS.c.status == "active", _LOANS.c.id >= first,
                   _LOANS.c.id <= last, _LOANS.c.dpd > 0, _LOANS.c.state_seq == _LOANS.c.events_count,
                   _LOANS.c.state_as_of < day)
            .order_by(_LOANS.c.id).with_for_update())
    return list(session.execute(stmt).all())


def stored_events_of_loans(session: Session, loan_ids: Iterable[int], *, chunk: int = 500) -> dict[int, list[Any]]:
    """(loan_id, seq, payload) of the events of many loans in the order recorded, by loan: Core rows (what the
    engine's events are made of, `loans.core_events`), a query per `chunk` loans."""
    out: dict[int, list[Any]] = {}
    for part in id_chunks(loan_ids, chunk):
        for loan_id in part:
            out[loan_id] = []
        for row in session.execute(select(_EVENTS.c.loan_id, _EVENTS.c.seq, _EVENTS.c.payload)
                                   .where(_EVENTS.c.loan_id.in_(part))
                                   .order_by(_EVENTS.c.loan_id, _EVENTS.c.seq)).all():
            out[row.loan_id].append(row)
    return out


def write_loan_days(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Many loans' columns written at once, as the per-loan path writes one (`write_loan`: `UPDATE loans SET … ,
    version = version + 1 WHERE id = ? AND version = ?`), by one executemany of that statement: each row its `id`,
    the `version` it was read with and the columns to set (the same columns in every row). A row not matched (its
    version moved) raises `StaleDataError`, which the unit of work retries. On the connection, no ORM objects and no
    flush: a copy of one of these loans the session holds is forgotten (read again when next asked for).

    Not one `UPDATE … FROM unnest(arrays)` on PostgreSQL (`move_quiet_accruals`): an array of JSON documents (the
    cached fold) is dumped as text and escaped in Python by the driver, ~1.4 ms a row; the executemany costs ~0.15 ms
    a row, most of it the JSON encoded."""
    if not rows:
        return
    names = tuple(name for name in rows[0] if name not in ("id", "version"))
    params = [{"key": row["id"], "was": row["version"], "now": row["version"] + 1,
               **{f"set_{name}": row[name] for name in names}} for row in rows]
    connection = session.connection()
    result = connection.execute(_loan_days(names), params)
    if connection.dialect.supports_sane_multi_rowcount and result.rowcount != len(rows):
        raise StaleDataError(f"UPDATE of {len(rows)} loans matched {result.rowcount}")
    for row in rows:
        forget_row(session, Loan, row["id"])


@functools.cache
def _loan_days(names: tuple[str, ...]) -> Update:
    """`write_loan_days`'s statement for these columns, built once (one cache key, one compiled form)."""
    return (update(_LOANS)
            .where(_LOANS.c.id == bindparam("key"), _LOANS.c.version == bindparam("was"))
            .values({_LOANS.c.version: bindparam("now"),
                     **{_LOANS.c[name]: bindparam(f"set_{name}", type_=_LOANS.c[name].type) for name in names}}))


def insert_events(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """New events written in the order given, by one executemany INSERT on the session's connection (no ORM
    objects: no flush)."""
    if rows:
        session.connection().execute(insert(_EVENTS), list(rows))


def move_quiet_accruals(session: Session, *, day: date, now: datetime, ids: Sequence[int], accrued: Sequence[int],
                        payoff_accrued: Sequence[int]) -> None:
    """Each loan's accrual columns and `state_as_of` moved to `day`, its version moved (so the fold memo's stamp
    stops matching), `updated_at` now; the cached JSON is not written (`accrual.cached_state` composes it). On
    PostgreSQL one UPDATE ... FROM unnest(arrays); elsewhere one executemany UPDATE. On the connection: the
    session's hook that forgets every kept fold on an UPDATE of loans is not needed, since the version moves."""
    update_from_columns(session, _LOANS, "id",
                        {"id": ids, "accrued_interest": accrued, "payoff_accrued": payoff_accrued},
                        also={"state_as_of": day, "updated_at": now, "version": _NEXT_VERSION})


def folded_on(session: Session, *, institution_id: int, on: date, first: int, last: int) -> list[Any]:
    """(id, currency, state, state_as_of, accrued_interest, payoff_accrued) of the active loans of ids [first,
    last] whose kept fold is of `on` over all events (`accrual.cached_state_of` composes the JSON)."""
    stmt = select(Loan.id, Loan.currency, Loan.state, Loan.state_as_of, Loan.accrued_interest,
                  Loan.payoff_accrued).where(
        Loan.institution_id == institution_id, Loan.status == "active", Loan.id >= first, Loan.id <= last,
        Loan.state_as_of == on, Loan.state_seq == Loan.events_count)
    return list(session.execute(stmt).all())


def day_facts_on(session: Session, *, institution_id: int, on: date, first: int, last: int) -> list[Any]:
    """(id, number, borrower_id, branch_id, opened_by_user_id, dpd) of the active loans of ids [first, last] whose
    kept fold is of `on` over all events (their `dpd` column is that fold's), by id: no JSON read."""
    return list(session.execute(_DAY_FACTS, {"institution_id": institution_id, "on": on, "first": first,
                                             "last": last}).all())


_DAY_FACTS = select(  # built once: every partition of the day asks
    Loan.id, Loan.number, Loan.borrower_id, Loan.branch_id, Loan.opened_by_user_id, Loan.dpd).where(
    Loan.institution_id == bindparam("institution_id"), Loan.status == "active", Loan.id >= bindparam("first"),
    Loan.id <= bindparam("last"), Loan.state_as_of == bindparam("on"), Loan.state_seq == Loan.events_count,
    Loan.state.is_not(None)).order_by(Loan.id)


def unpaid_dues_on(session: Session, *, institution_id: int, on: date, ids: Collection[int]) -> list[Any]:
    """(id, number, currency, borrower_user_id, dpd, unpaid_dues, repaid, branch_id, borrower_id) of the active loans
    of `ids` whose kept fold is of `on` over all events and carries the `unpaid_dues` column (`accrual.day_columns`).
    No JSON read."""
    stmt = select(Loan.id, Loan.number, Loan.currency, Loan.borrower_user_id, Loan.dpd, Loan.unpaid_dues,
                  Loan.repaid, Loan.branch_id, Loan.borrower_id).where(
        Loan.institution_id == institution_id, Loan.status == "active", Loan.id.in_(sorted(ids)),
        Loan.state_as_of == on, Loan.state_seq == Loan.events_count, Loan.unpaid_dues.is_not(None))
    return list(session.execute(stmt).all())


def _day_columns_where(institution_id: int, on: date, first: int, last: int) -> tuple[Any, ...]:
    """The active loans of ids [first, last] whose kept fold is of `on` over all events and carries the later steps'
    columns (`accrual.day_columns`)."""
    return (Loan.institution_id == institution_id, Loan.status == "active", Loan.id >= first, Loan.id <= last,
            Loan.state_as_of == on, Loan.state_seq == Loan.events_count, Loan.late_payments.is_not(None))


def day_columns_query(*, institution_id: int, on: date, first: int, last: int) -> Any:
    """The active loans of ids [first, last] whose kept fold is of `on` over all events and carries the later steps'
    columns, as a subquery another domain's statement joins (`day_columns`): loan_id, number, currency, dpd, bucket,
    category, principal (the outstanding principal in minor units), late_payments, partial_payments, last_paid_on."""
    return select(Loan.id.label("loan_id"), Loan.number, Loan.currency, Loan.dpd, Loan.bucket, Loan.category,
                  type_coerce(Loan.outstanding_principal, BigInteger).label("principal"), Loan.late_payments,
                  Loan.partial_payments, Loan.last_paid_on).where(
        *_day_columns_where(institution_id, on, first, last)).subquery("day_columns")


def day_columns_on(session: Session, *, institution_id: int, on: date, first: int, last: int,
                   nothing_due_through: date, earliest_due_not_on: Collection[date] | None = None) -> list[Any]:
    """(id,) of the active loans of ids [first, last] whose kept fold is of `on` over all events and carries the
    later steps' columns (`accrual.day_columns`) and that have no installment unsettled and due by
    `nothing_due_through`, or (with `earliest_due_not_on`) whose earliest unsettled installment's due date is none
    of those dates. No JSON read."""
    stmt = select(Loan.id).where(*_day_columns_where(institution_id, on, first, last))
    quiet = Loan.unpaid_due_from > nothing_due_through
    if earliest_due_not_on is not None:
        quiet = or_(quiet, Loan.unpaid_due_from.not_in(sorted(earliest_due_not_on)))
    stmt = stmt.where(or_(Loan.unpaid_due_from.is_(None), quiet))
    return list(session.execute(stmt).all())
