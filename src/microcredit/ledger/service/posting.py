"""Posting: a balanced entry written in the caller's transaction, and its reversal by counter-entry.

`post` is what every domain that moves money calls (servicing posts in the
same transaction as the loan change): it checks, writes the entry, its lines
and its per-currency totals, audits it and flushes — it never commits, so the
entry and the business change it records commit together or not at all. A
refusal raises before anything is written.

Checks, in order: at least one debit and one credit; every amount positive
(`line_amount_invalid`); every account an active account of the institution
in the amount's currency (`account_not_found`, `account_closed`,
`currency_mismatch`); Σ debits = Σ credits per currency (`entry_unbalanced`,
field `lines`); the date after the closed period (`period_closed`) and, when
the caller says so, not after the business date; a source posts once
(`entry_source_posted`).

Basis: an entry is tagged `both` (the default: it belongs to the cash and the
accrual books alike), `accrual` or `cash`. The tag is on the entry, not the
account, because the same event posts differently in the two books while the
accounts are the same ones: interest falling due is `Dr interest receivable /
Cr interest income` in the accrual book and nothing in the cash book, whose
`Dr bank / Cr interest income` comes on receipt. Each book's reports read the
entries tagged with it or `both`; every entry balances, so each book does.

A reversal posts the original's lines on the opposite sides, references the
original, and is allowed once per entry (the database's unique constraint on
`reverses_entry_id` holds it even against a race). It is dated the original's
date if that period is open, else the day after the closed date. A reversal
is not itself reversed: the entry is posted again instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from microcredit.audit import service as audit
from microcredit.clock import Clock
from microcredit.db.rows import as_written
from microcredit.errors import NotFound
from microcredit.ledger import repository as repo
from microcredit.ledger.balances import Posting, Side, imbalance, reversed_postings, totals
from microcredit.ledger.errors import (
    AccountClosed,
    AccountNotFound,
    EntryAlreadyReversed,
    EntryDateInFuture,
    EntryTooShort,
    EntryUnbalanced,
    LineAmountInvalid,
    LineCurrencyMismatch,
    ReversalNotReversible,
    SourceAlreadyPosted,
)
from microcredit.ledger.models import BASES, EntryTotal, JournalEntry, JournalLine, LedgerAccount, LedgerBook
from microcredit.ledger.service import accounts as chart
from microcredit.ledger.service import periods
from microcredit.ledger.service.accounts import AccountRef
from microcredit.lending.money import Money
from microcredit.platform.actor import Actor

__all__ = [
    "MANUAL",
    "Draft",
    "EntryView",
    "Posted",
    "Source",
    "entries_of_sources",
    "entries_query",
    "entry_view",
    "entry_views",
    "find_by_source",
    "post",
    "post_many",
    "reverse",
]


@dataclass(frozen=True)
class Source:
    """What caused an entry: a kind ("manual", "loan_event" …) and, except for manual entries, its id there."""

    kind: str
    ref: str | None = None


MANUAL = Source("manual")


@dataclass(frozen=True)
class EntryView:
    """An entry with its lines (and their accounts), totals and the entry that reversed it, if any."""

    entry: JournalEntry
    lines: list[tuple[JournalLine, LedgerAccount]]
    totals: dict[str, tuple[int, int]]
    reversed_by: int | None


@dataclass(frozen=True, slots=True)
class Posted:
    """An entry `post_many` wrote: its id and what its callers read of it (no ORM object: a close of business
    posts thousands at once, and nobody reads them back as objects)."""

    id: int
    basis: str
    business_date: date
    source: Source
    created_at: datetime


@dataclass(frozen=True)
class Draft:
    """One entry to post (`post_many`): its description, lines, source, basis and the entry it reverses."""

    description: str
    postings: Sequence[Posting]
    source: Source = MANUAL
    basis: str = "both"
    reverses: JournalEntry | None = None


def _check_shape(postings: Sequence[Posting]) -> None:
    sides = {p.side for p in postings}
    if len(postings) < 2 or sides != {Side.DEBIT, Side.CREDIT}:
        raise EntryTooShort(field="lines")
    for i, p in enumerate(postings):
        if not isinstance(p.amount, Money) or not p.amount.is_positive:
            raise LineAmountInvalid(field=f"lines.{i}.amount")


def _check_lines(accounts: Mapping[str, AccountRef], postings: Sequence[Posting]) -> None:
    for i, p in enumerate(postings):
        account = accounts.get(p.account)
        if account is None:
            raise AccountNotFound(field=f"lines.{i}.account_code")
        if account.status != "active":
            raise AccountClosed(field=f"lines.{i}.account_code")
        if account.currency != p.amount.currency:
            raise LineCurrencyMismatch(field=f"lines.{i}.amount")
    differences = imbalance(postings)
    if differences:
        raise EntryUnbalanced(field="lines", params={"differences": ", ".join(
            f"{code} {m}" for code, m in differences.items())})


def post(*, session: Session, clock: Clock, actor: Actor, institution_id: int, business_date: date,
         description: str, postings: Sequence[Posting], source: Source = MANUAL, basis: str = "both",
         not_after: date | None = None, reverses: JournalEntry | None = None) -> JournalEntry:
    """Write a balanced entry in the caller's transaction (flushed, audited, never committed)."""
    draft = Draft(description, postings, source, basis, reverses)
    (posted,) = post_many(session=session, clock=clock, actor=actor, institution_id=institution_id,
                          business_date=business_date, not_after=not_after, drafts=[draft])
    return as_written(JournalEntry(id=posted.id, **_entry_row(draft, institution_id, business_date, actor,
                                                                 posted.created_at)))


def _entry_row(d: Draft, institution_id: int, business_date: date, actor: Actor, now: datetime) -> dict[str, Any]:
    return {"institution_id": institution_id, "business_date": business_date, "description": d.description,
            "source_kind": d.source.kind, "source_ref": d.source.ref, "basis": d.basis,
            "reverses_entry_id": d.reverses.id if d.reverses else None, "created_by_user_id": actor.user_id,
            "created_at": now}


def post_many(*, session: Session, clock: Clock, actor: Actor, institution_id: int, business_date: date,
              drafts: Sequence[Draft], not_after: date | None = None,
              then: Callable[[Sequence[Posted]], Sequence[audit.Entry]] | None = None) -> list[Posted]:
    """Write several balanced entries of one date at once (a loan event's entry per book): each is checked
    as `post` checks one, and nothing is written unless all pass; then the accounts are read once, the
    period checked once, the sources looked up once, the entries written at once (COPY for a large batch on
    PostgreSQL: `repository.insert_entries`) and audited under one take of the audit chain's head
    (`audit.record_many`). `then`, given the entries written, names the caller's own audit records, appended
    after the entries' under the same take (the loan event the entries post, with their ids). Returns the
    entries as `Posted` (id, basis, date, source), not ORM objects."""
    for d in drafts:
        if d.basis not in BASES:
            raise ValueError(f"unknown basis {d.basis!r}")
        _check_shape(d.postings)
    # The books row and the chart depend on nothing else the caller has pending (a loan's UPDATE, its event):
    # not flushed before these reads. Books or accounts changed in this transaction are written first (the books
    # row is read as the lock returns it, which would undo a pending change, and the chart must see pending
    # accounts).
    if any(isinstance(row, (LedgerBook, LedgerAccount)) for row in (*session.new, *session.dirty)):
        session.flush()
    with session.no_autoflush:
        book = periods.shared_book(session=session, institution_id=institution_id)
        accounts = chart.posting_chart(session=session, institution_id=institution_id, version=book.version).accounts
    for d in drafts:
        _check_lines(accounts, d.postings)
    if not_after is not None and business_date > not_after:
        raise EntryDateInFuture(field="business_date", params={"business_date": not_after.isoformat()})
    periods.ensure_open(book, business_date)
    _check_sources([d.source for d in drafts])
    # What the caller has pending is written first, as before the entries (a no-op where the caller wrote its
    # rows as statements: servicing's hot path); then the entries as Core statements, no ORM flush.
    session.flush()
    now = clock.now()
    rows = [_entry_row(d, institution_id, business_date, actor, now) for d in drafts]
    try:
        ids = repo.insert_entries(session, rows)
    except IntegrityError as exc:
        if _SOURCE_TAKEN.search(str(exc.orig)):
            raise SourceAlreadyPosted(field="source") from exc
        raise
    entries = [Posted(entry_id, d.basis, business_date, d.source, now) for entry_id, d in zip(ids, drafts, strict=True)]
    sums: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    records: list[audit.Entry] = []
    for entry_id, d in zip(ids, drafts, strict=True):
        by_currency = totals(d.postings)
        sums += [{"entry_id": entry_id, "currency": code, "debit_minor": dr, "credit_minor": cr}
                 for code, (dr, cr) in by_currency.items()]
        lines += [{"entry_id": entry_id, "line_no": i + 1, "account_id": accounts[p.account].id,
                   "business_date": business_date, "basis": d.basis, "currency": p.amount.currency,
                   "debit_minor": p.debit_minor, "credit_minor": p.credit_minor, "memo": p.memo}
                  for i, p in enumerate(d.postings)]
        records.append(audit.Entry(
            action="ledger.entry_reversed" if d.reverses else "ledger.entry_posted",
            entity_type="ledger_entry", entity_id=entry_id, institution_id=institution_id,
            after={"business_date": business_date.isoformat(), "source": d.source.kind, "source_ref": d.source.ref,
                   "basis": d.basis, "reverses": d.reverses.id if d.reverses else None,
                   "totals": {code: str(Money(dr, code)) for code, (dr, _c) in by_currency.items()}}))
    repo.insert_rows(session, EntryTotal, sums)  # nothing reads these rows back here
    repo.insert_rows(session, JournalLine, lines)
    audit.record_many(session=session, clock=clock, actor=actor, entries=records + list(then(entries) if then else ()))
    return list(entries)


# The unique constraint on (institution, source kind, source ref), as each database names it in its message.
_SOURCE_TAKEN = re.compile(r"source_kind|source_ref|uq_ledger_entries_institution_id", re.IGNORECASE)


def _check_sources(sources: Sequence[Source]) -> None:
    """A source posts once: refused if the batch names one twice. One that posted before is refused by the
    database's unique constraint when the entries are written (`post_many`): no query to ask first, and
    the constraint holds against a race that a query could not."""
    seen = [(s.kind, s.ref) for s in sources if s.ref is not None]
    if len(set(seen)) < len(seen):
        raise SourceAlreadyPosted(field="source")


def postings_of(session: Session, entry: JournalEntry) -> tuple[Posting, ...]:
    """An entry's lines as postings (by account code)."""
    view = entry_view(session=session, institution_id=entry.institution_id, entry_id=entry.id)
    return tuple(Posting(a.code, Side.DEBIT if line.debit_minor else Side.CREDIT,
                         Money(line.debit_minor or line.credit_minor, line.currency), line.memo)
                 for line, a in view.lines)


def find_by_source(*, session: Session, institution_id: int, source: Source) -> JournalEntry | None:
    """The entry a source already posted, if any (a source with a ref posts once)."""
    if source.ref is None:
        return None
    return repo.entry_by_source(session, institution_id=institution_id, kind=source.kind, ref=source.ref)


def entries_of_sources(*, session: Session, institution_id: int, kind: str, refs: Sequence[str]
                       ) -> dict[str, list[tuple[int, str]]]:
    """The entries (id, basis) each source posted, by source ref (a loan's events: their trail in the books)."""
    out: dict[str, list[tuple[int, str]]] = {}
    for ref, entry_id, basis in repo.entry_ids_by_sources(session, institution_id=institution_id, kind=kind,
                                                          refs=list(refs)):
        out.setdefault(ref, []).append((entry_id, basis))
    return out


def reverse(*, session: Session, clock: Clock, actor: Actor, institution_id: int, entry_id: int,
            business_date: date | None = None, description: str | None = None,
            not_after: date | None = None) -> JournalEntry:
    """Post the counter-entry of an entry (once), dated its date if open, else the day after the closed date."""
    original = repo.entry(session, institution_id=institution_id, entry_id=entry_id, lock=True)
    if original is None:
        raise NotFound()
    if original.reverses_entry_id is not None:
        raise ReversalNotReversible()
    if repo.reversal_of(session, original.id) is not None:
        raise EntryAlreadyReversed()
    if business_date is None:
        closed = periods.closed_through(session=session, institution_id=institution_id)
        business_date = original.business_date
        if closed is not None and business_date <= closed:
            business_date = closed + timedelta(days=1)
    return post(session=session, clock=clock, actor=actor, institution_id=institution_id,
                business_date=business_date,
                description=description or f"冲销分录 #{original.id} / Reversal of entry #{original.id}",
                postings=reversed_postings(postings_of(session, original)), source=Source("reversal"),
                basis=original.basis, reverses=original, not_after=not_after)


def entries_query(*, institution_id: int, date_from: date | None = None, date_to: date | None = None,
                  source_kind: str | None = None, account_id: int | None = None) -> Select[Any]:
    """The institution's entries matching the filters, newest first (for paging)."""
    return repo.entries_query(institution_id=institution_id, date_from=date_from, date_to=date_to,
                              source_kind=source_kind, account_id=account_id)


def entry_views(*, session: Session, institution_id: int, entries: Sequence[JournalEntry]) -> list[EntryView]:
    """Entries with their lines, accounts, totals and reversals (two queries per kind, not per entry)."""
    ids = [e.id for e in entries]
    lines = repo.lines_of(session, ids)
    stored = repo.totals_of(session, ids)
    reversals = repo.reversals_of(session, ids)
    accounts = {a.id: a for a in repo.accounts(session, institution_id=institution_id)}
    return [EntryView(entry=e, lines=[(line, accounts[line.account_id]) for line in lines[e.id]],
                      totals={t.currency: (t.debit_minor, t.credit_minor) for t in stored[e.id]},
                      reversed_by=reversals.get(e.id)) for e in entries]


def entry_view(*, session: Session, institution_id: int, entry_id: int) -> EntryView:
    """One entry of the institution with its lines, or NotFound."""
    entry = repo.entry(session, institution_id=institution_id, entry_id=entry_id)
    if entry is None:
        raise NotFound()
    return entry_views(session=session, institution_id=institution_id, entries=[entry])[0]
