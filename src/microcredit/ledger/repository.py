"""Every query of the ledger."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Select, and_, func, insert, or_, select
from sqlalchemy.orm import Session

from microcredit.db import copy
from microcredit.db.rows import table_of
from microcredit.ledger.models import (
    EntryTotal,
    JournalEntry,
    JournalLine,
    LedgerAccount,
    LedgerBook,
    PeriodEvent,
)

# Sums of one account: (account_id, currency, debit_minor, credit_minor).
AccountSums = dict[int, tuple[int, int]]


def add(session: Session, *rows: Any) -> None:
    """Write rows (flushed, so they have their ids)."""
    session.add_all(rows)
    session.flush()


_ENTRIES = table_of(JournalEntry)
# Built once (the statement's cache key and compiled form are then the same object's every time).
_INSERT_ONE_ENTRY = insert(_ENTRIES).returning(_ENTRIES.c.id)
_INSERT_ENTRIES_BY_SOURCE = insert(_ENTRIES).returning(_ENTRIES.c.source_kind, _ENTRIES.c.source_ref, _ENTRIES.c.id)
_INSERT_ENTRIES_IN_ORDER = insert(_ENTRIES).returning(_ENTRIES.c.id, sort_by_parameter_order=True)


def insert_entries(session: Session, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Write journal entries in the session's transaction (no ORM objects, no flush) and give their ids in the
    rows' order. A large batch on PostgreSQL (`db.copy.uses_copy`): its ids taken from the key's sequence first,
    the rows written with them by COPY. One row: one `INSERT … RETURNING id`. Rows whose sources are all named and
    distinct (every loan event's and close of business's batch; the unique constraint's key): one multi-row
    statement per batch on every backend, the ids matched by (source kind, ref), since a backend may return the
    rows in any order. Otherwise SQLAlchemy's ordered RETURNING (`sort_by_parameter_order`: batched where the
    backend can say the order, a row at a time where not)."""
    if not rows:
        return []
    connection = session.connection()
    if copy.uses_copy(session, len(rows)):
        taken = copy.next_ids(session, _ENTRIES, len(rows))
        copy.insert_many(session, _ENTRIES, [{"id": entry_id, **row}
                                             for entry_id, row in zip(taken, rows, strict=True)])
        return taken
    if len(rows) == 1:
        return [connection.execute(_INSERT_ONE_ENTRY, rows[0]).scalar_one()]
    sources = [(r["source_kind"], r["source_ref"]) for r in rows]
    if all(ref is not None for _kind, ref in sources) and len(set(sources)) == len(sources):
        ids = {(kind, ref): entry_id for kind, ref, entry_id in connection.execute(_INSERT_ENTRIES_BY_SOURCE,
                                                                                    list(rows))}
        return [ids[s] for s in sources]
    return list(connection.execute(_INSERT_ENTRIES_IN_ORDER, list(rows)).scalars())


def insert_rows(session: Session, model: Any, rows: Sequence[dict[str, Any]]) -> None:
    """Write rows nobody reads back in this transaction at once (no ORM objects, no RETURNING): COPY for a large
    batch on PostgreSQL, else one multi-row insert (`db.copy.insert_many`), on the session's connection (its
    transaction), past the ORM's bulk path, which would look at every row's dict again."""
    copy.insert_many(session, table_of(model), rows)


# --- accounts --------------------------------------------------------------------------------


def accounts(session: Session, *, institution_id: int) -> list[LedgerAccount]:
    """The institution's chart, by code."""
    return list(session.scalars(select(LedgerAccount).where(LedgerAccount.institution_id == institution_id)
                                .order_by(LedgerAccount.code)))


def account(session: Session, *, institution_id: int, account_id: int) -> LedgerAccount | None:
    """One account of the institution by id."""
    return session.scalars(select(LedgerAccount).where(LedgerAccount.institution_id == institution_id,
                                                       LedgerAccount.id == account_id)).one_or_none()


def accounts_by_code(session: Session, *, institution_id: int, codes: Iterable[str]) -> dict[str, LedgerAccount]:
    """The institution's accounts with these codes."""
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    rows = session.scalars(select(LedgerAccount).where(LedgerAccount.institution_id == institution_id,
                                                       LedgerAccount.code.in_(wanted)))
    return {a.code: a for a in rows}


def account_codes(session: Session, *, institution_id: int) -> set[str]:
    """Every account code of the institution."""
    return set(session.scalars(select(LedgerAccount.code).where(LedgerAccount.institution_id == institution_id)))


def active_children(session: Session, account_id: int) -> int:
    """How many active sub-accounts an account has."""
    return session.scalar(select(func.count()).select_from(LedgerAccount).where(
        LedgerAccount.parent_id == account_id, LedgerAccount.status == "active")) or 0


# --- books and periods -----------------------------------------------------------------------


def book(session: Session, institution_id: int, *, lock: str | None = None) -> LedgerBook | None:
    """The institution's books row; `lock` "share" (postings) or "update" (close, reopen)."""
    stmt = select(LedgerBook).where(LedgerBook.institution_id == institution_id)
    if lock == "share":
        stmt = stmt.with_for_update(read=True)
    elif lock == "update":
        stmt = stmt.with_for_update()
    if lock is not None:  # what the lock returns, not a copy this session read before (its version stamps the chart)
        stmt = stmt.execution_options(populate_existing=True)
    return session.scalars(stmt).one_or_none()


def period_events(session: Session, *, institution_id: int, limit: int = 100) -> list[PeriodEvent]:
    """The latest closes and reopenings, newest first."""
    return list(session.scalars(select(PeriodEvent).where(PeriodEvent.institution_id == institution_id)
                                .order_by(PeriodEvent.id.desc()).limit(limit)))


# --- entries ---------------------------------------------------------------------------------


def entry(session: Session, *, institution_id: int, entry_id: int, lock: bool = False) -> JournalEntry | None:
    """One entry of the institution (locked where the database can, for a reversal)."""
    stmt = select(JournalEntry).where(JournalEntry.institution_id == institution_id, JournalEntry.id == entry_id)
    if lock:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).one_or_none()


def entry_by_source(session: Session, *, institution_id: int, kind: str, ref: str) -> JournalEntry | None:
    """The entry a source posted, if any."""
    return session.scalars(select(JournalEntry).where(
        JournalEntry.institution_id == institution_id, JournalEntry.source_kind == kind,
        JournalEntry.source_ref == ref)).one_or_none()


def entry_ids_by_sources(session: Session, *, institution_id: int, kind: str, refs: list[str]
                         ) -> list[tuple[str, int, str]]:
    """(source ref, entry id, basis) of the entries these sources posted, by id: the columns alone, no entity."""
    if not refs:
        return []
    return [(ref or "", entry_id, basis) for ref, entry_id, basis in session.execute(
        select(JournalEntry.source_ref, JournalEntry.id, JournalEntry.basis).where(
            JournalEntry.institution_id == institution_id, JournalEntry.source_kind == kind,
            JournalEntry.source_ref.in_(refs)).order_by(JournalEntry.id))]


def reversal_of(session: Session, entry_id: int) -> JournalEntry | None:
    """The entry that reversed `entry_id`, if any."""
    return session.scalars(select(JournalEntry).where(JournalEntry.reverses_entry_id == entry_id)).one_or_none()


def reversals_of(session: Session, entry_ids: Sequence[int]) -> dict[int, int]:
    """original id -> reversing entry id, for these entries."""
    if not entry_ids:
        return {}
    rows = session.execute(select(JournalEntry.reverses_entry_id, JournalEntry.id)
                           .where(JournalEntry.reverses_entry_id.in_(list(entry_ids))))
    return {int(orig): int(rev) for orig, rev in rows if orig is not None}


def lines_of(session: Session, entry_ids: Sequence[int]) -> dict[int, list[JournalLine]]:
    """The lines of these entries, in order."""
    out: dict[int, list[JournalLine]] = {i: [] for i in entry_ids}
    if not entry_ids:
        return out
    for line in session.scalars(select(JournalLine).where(JournalLine.entry_id.in_(list(entry_ids)))
                                .order_by(JournalLine.entry_id, JournalLine.line_no)):
        out[line.entry_id].append(line)
    return out


def totals_of(session: Session, entry_ids: Sequence[int]) -> dict[int, list[EntryTotal]]:
    """The stored per-currency totals of these entries."""
    out: dict[int, list[EntryTotal]] = {i: [] for i in entry_ids}
    if not entry_ids:
        return out
    for t in session.scalars(select(EntryTotal).where(EntryTotal.entry_id.in_(list(entry_ids)))
                             .order_by(EntryTotal.entry_id, EntryTotal.currency)):
        out[t.entry_id].append(t)
    return out


def entries_query(*, institution_id: int, date_from: date | None = None, date_to: date | None = None,
                  source_kind: str | None = None, account_id: int | None = None) -> Select[Any]:
    """Entries of the institution matching the filters, newest first."""
    stmt = select(JournalEntry).where(JournalEntry.institution_id == institution_id)
    if date_from is not None:
        stmt = stmt.where(JournalEntry.business_date >= date_from)
    if date_to is not None:
        stmt = stmt.where(JournalEntry.business_date <= date_to)
    if source_kind is not None:
        stmt = stmt.where(JournalEntry.source_kind == source_kind)
    if account_id is not None:
        stmt = stmt.where(JournalEntry.id.in_(select(JournalLine.entry_id).where(JournalLine.account_id == account_id)))
    return stmt.order_by(JournalEntry.business_date.desc(), JournalEntry.id.desc())


def entries_in_order(session: Session, *, institution_id: int | None, after_id: int = 0,
                     limit: int = 1000) -> list[JournalEntry]:
    """Entries by id (all institutions when None), a batch after `after_id` (verify and export walk them)."""
    stmt = select(JournalEntry).where(JournalEntry.id > after_id)
    if institution_id is not None:
        stmt = stmt.where(JournalEntry.institution_id == institution_id)
    return list(session.scalars(stmt.order_by(JournalEntry.id).limit(limit)))


def institutions_with_books(session: Session) -> list[int]:
    """Institutions that have a chart."""
    return list(session.scalars(select(LedgerAccount.institution_id).distinct().order_by(
        LedgerAccount.institution_id)))


# --- balances --------------------------------------------------------------------------------


def _bases(basis: str) -> tuple[str, ...]:
    return ("both", basis)


def sums_by_account(session: Session, *, institution_id: int, basis: str, before: date | None = None,
                    date_from: date | None = None, date_to: date | None = None) -> AccountSums:
    """account id -> (debits, credits) in minor units, of lines dated in [date_from, date_to] or before `before`."""
    stmt = (select(JournalLine.account_id, func.sum(JournalLine.debit_minor), func.sum(JournalLine.credit_minor))
            .join(LedgerAccount, LedgerAccount.id == JournalLine.account_id)
            .where(LedgerAccount.institution_id == institution_id, JournalLine.basis.in_(_bases(basis))))
    if before is not None:
        stmt = stmt.where(JournalLine.business_date < before)
    if date_from is not None:
        stmt = stmt.where(JournalLine.business_date >= date_from)
    if date_to is not None:
        stmt = stmt.where(JournalLine.business_date <= date_to)
    rows = session.execute(stmt.group_by(JournalLine.account_id))
    return {int(a): (int(d or 0), int(c or 0)) for a, d, c in rows}


def account_sums(session: Session, *, account_id: int, basis: str | None, before: date | None = None,
                 before_line: tuple[date, int, int] | None = None, date_from: date | None = None) -> tuple[int, int]:
    """(debits, credits) of one account's lines before a date, or before a line (date, entry id, line id)."""
    stmt = select(func.sum(JournalLine.debit_minor), func.sum(JournalLine.credit_minor)).where(
        JournalLine.account_id == account_id)
    if basis is not None:
        stmt = stmt.where(JournalLine.basis.in_(_bases(basis)))
    if before is not None:
        stmt = stmt.where(JournalLine.business_date < before)
    if date_from is not None:
        stmt = stmt.where(JournalLine.business_date >= date_from)
    if before_line is not None:
        d, e, i = before_line
        stmt = stmt.where(or_(JournalLine.business_date < d,
                              and_(JournalLine.business_date == d, JournalLine.entry_id < e),
                              and_(JournalLine.business_date == d, JournalLine.entry_id == e, JournalLine.id < i)))
    debit, credit = session.execute(stmt).one()
    return int(debit or 0), int(credit or 0)


def statement_query(*, account_id: int, basis: str, date_from: date | None, date_to: date | None) -> Any:
    """One account's lines with their entries, in date order, dated in the range."""
    stmt = (select(JournalLine, JournalEntry).join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
            .where(JournalLine.account_id == account_id, JournalLine.basis.in_(_bases(basis))))
    if date_from is not None:
        stmt = stmt.where(JournalLine.business_date >= date_from)
    if date_to is not None:
        stmt = stmt.where(JournalLine.business_date <= date_to)
    return stmt.order_by(JournalLine.business_date, JournalLine.entry_id, JournalLine.id)


def statement_rows(session: Session, stmt: Any) -> list[tuple[JournalLine, JournalEntry]]:
    """Run a statement query (the general ledger reads whole accounts)."""
    return [(line, entry) for line, entry in session.execute(stmt).all()]
