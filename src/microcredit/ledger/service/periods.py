"""Period close: the books are closed through a date; nothing is posted on or before it.

An accountant closes the books through a date (`ledger.close`): the closed
date only moves forward and never past the business date. Reopening moves it
back (to an earlier date, or to nothing closed) and needs its own permission
(`ledger.reopen`) and a reason. Both are kept as events and audited.

Postings read the closed date under a shared row lock on the institution's
books row (`SELECT … FOR SHARE` on PostgreSQL and MariaDB), and a close
takes the exclusive lock, so a close waits for the postings in flight and a
posting that arrives after it sees the new date: a closed period never gains
an entry afterwards. (SQLite serialises writers anyway.)
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from microcredit.audit import service as audit
from microcredit.clock import Clock
from microcredit.ledger import repository as repo
from microcredit.ledger.errors import CloseDateInvalid, PeriodClosed, ReopenDateInvalid
from microcredit.ledger.models import LedgerBook, PeriodEvent
from microcredit.platform.actor import Actor

__all__ = ["PeriodEvent", "check_open", "close", "closed_through", "ensure_open", "history", "reopen", "shared_book"]


def _book(session: Session, institution_id: int, lock: str | None) -> LedgerBook:
    book = repo.book(session, institution_id, lock=lock)
    if book is None:  # an institution whose chart was never seeded has open books
        book = LedgerBook(institution_id=institution_id, closed_through=None)
        repo.add(session, book)
    return book


def closed_through(*, session: Session, institution_id: int) -> date | None:
    """The date the books are closed through (None: nothing closed)."""
    book = repo.book(session, institution_id)
    return book.closed_through if book else None


def check_open(*, session: Session, institution_id: int, business_date: date, field: str = "business_date") -> None:
    """Refuse (`period_closed`) a posting dated on or before the closed date; hold the books' shared lock."""
    ensure_open(shared_book(session=session, institution_id=institution_id), business_date, field)


def shared_book(*, session: Session, institution_id: int) -> LedgerBook:
    """The institution's books row under the shared lock a posting holds to its commit (its closed date, and
    its version: the chart's stamp, `accounts.posting_chart`)."""
    return _book(session, institution_id, "share")


def ensure_open(book: LedgerBook, business_date: date, field: str = "business_date") -> None:
    """Refuse (`period_closed`) a date on or before the books' closed date."""
    if book.closed_through is not None and business_date <= book.closed_through:
        raise PeriodClosed(field=field, params={"closed_through": book.closed_through.isoformat()})


def close(*, session: Session, clock: Clock, actor: Actor, institution_id: int, through: date,
          business_date: date | None = None) -> PeriodEvent:
    """Close the books through `through` (after the current closed date, not after the business date; audited)."""
    book = _book(session, institution_id, "update")
    before = book.closed_through
    if (before is not None and through <= before) or (business_date is not None and through > business_date):
        raise CloseDateInvalid(field="through", params={"closed_through": before.isoformat() if before else "—"})
    book.closed_through = through
    event = PeriodEvent(institution_id=institution_id, action="close", closed_before=before, closed_after=through,
                        reason=None, user_id=actor.user_id, at=clock.now())
    repo.add(session, event)
    audit.record(session=session, clock=clock, actor=actor, action="ledger.period_closed", entity_type="ledger_book",
                 entity_id=institution_id, institution_id=institution_id,
                 before={"closed_through": before}, after={"closed_through": through})
    return event


def reopen(*, session: Session, clock: Clock, actor: Actor, institution_id: int, through: date | None,
           reason: str) -> PeriodEvent:
    """Move the closed date back to `through` (None: nothing closed), with a reason (audited)."""
    book = _book(session, institution_id, "update")
    before = book.closed_through
    if before is None or (through is not None and through >= before):
        raise ReopenDateInvalid(field="through", params={"closed_through": before.isoformat() if before else "—"})
    book.closed_through = through
    event = PeriodEvent(institution_id=institution_id, action="reopen", closed_before=before, closed_after=through,
                        reason=reason, user_id=actor.user_id, at=clock.now())
    repo.add(session, event)
    audit.record(session=session, clock=clock, actor=actor, action="ledger.period_reopened",
                 entity_type="ledger_book", entity_id=institution_id, institution_id=institution_id,
                 before={"closed_through": before}, after={"closed_through": through, "reason": reason})
    return event


def history(*, session: Session, institution_id: int) -> list[PeriodEvent]:
    """The latest closes and reopenings, newest first."""
    return repo.period_events(session, institution_id=institution_id)
