"""The loans' folds of the day, kept per database and process: one fold per loan and day, not one per step.

The close of business brings each loan to the day (`loans.advance`, which folds it) and then reads
the same fold four or five times more: classify, auto-debit, reminders, the features, early
warning — each in a task (a transaction) of its own. A fold is a function of the loan's terms, its
events and the date, so the fold `advance` made answers the later steps as long as the loan is as it
was then. `FoldMemo` keeps, for each loan, the last fold made in this process and the stamp of the
loan row it was made from; `loans.state_of` asks it first.

What keeps it exact (a memo is a cache: a miss folds again, it never answers another loan's state):

- **Only committed folds are kept.** A fold is staged in the session that made it, and reaches
  the memo when that session's transaction commits; a rollback (of the transaction, or of the
  savepoint it was made in — the close of business does each loan in one) drops what was staged
  inside it. A fold made from an event that was rolled back is never kept.
- **The stamp is the committed row.** At the commit the fold is stamped with the loan row's
  `events_count` and `version` (SQLAlchemy's version counter: every UPDATE of the row moves it, and a
  committed version is never written again). Events are only ever added, with the next `seq`, so a
  committed (events_count, version) names one list of events and one set of terms. A reader whose
  loan row carries another stamp — the loan took an event, its terms or anything else changed, in
  this process or another — folds again. A fold is staged only when it folded exactly
  `events_count` events (a reader racing a writer under READ COMMITTED may see one more) and only
  kept when the loan's terms and event count at the commit are those it was folded from.
- **Per database.** The runtime attaches one memo to its `Database` (`Database.share`), so two
  databases in one process (the tests' twins) never answer each other's loans; a session without
  one folds every time. A bulk UPDATE or DELETE statement on loans or their events through a
  session of the database (none in the application; a script's) forgets all of its folds.

Across processes (Celery workers) each has its own memo: a worker that did not advance a loan folds
it itself. The memo holds one fold per loan, at most `max_entries` loans (the oldest forgotten
first): a day over more loans than that misses for the earliest partitions, since the steps run one
after the other over all partitions (docs/cob.md, "Speed").
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from sqlalchemy import event, inspect
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction

from microcredit.db.engine import staged_for_commit
from microcredit.lending import loan as core
from microcredit.platform import staging
from microcredit.servicing.models import Loan

FOLD_MEMO = "microcredit_servicing_folds"  # session.info (from the session factory): the database's FoldMemo
_STAGED = staged_for_commit("microcredit_servicing_folds_staged")  # session.info: folds made in the open transaction
DEFAULT_MAX_ENTRIES = 20_000  # a fold with its parsed events is up to ~19 KB (12-installment loans): <= ~400 MB
_TABLES = frozenset({"loans", "loan_events"})


class Stamped(Protocol):
    """What a fold is recalled by: the loan row's id and stamp (the ORM's `Loan`, or a row read by a statement)."""

    @property
    def id(self) -> int: ...

    @property
    def events_count(self) -> int: ...

    @property
    def version(self) -> int: ...


@dataclass(frozen=True, slots=True)
class _Kept:
    on: date
    events_count: int
    version: int
    state: core.LoanState


@dataclass(frozen=True, slots=True)
class _Staged:
    transaction: SessionTransaction
    loan: Loan
    on: date
    events_count: int
    terms: Any  # the loan's terms JSON (the object) the fold was made from
    state: core.LoanState


@dataclass(frozen=True, slots=True)
class _StagedWritten:
    """A fold of a loan whose row the caller wrote by a statement (no ORM object): the stamp it wrote."""

    transaction: SessionTransaction
    loan_id: int
    on: date
    events_count: int
    version: int
    state: core.LoanState


class FoldMemo:
    """The last committed fold of each loan of one database in this process (module docstring)."""

    def __init__(self, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._kept: dict[int, _Kept] = {}
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        self.earlier_hits = 0
        _watch(self)

    def recall(self, loan: Stamped, on: date) -> core.LoanState | None:
        """The fold of `loan` on `on` when one was kept from the row as this loan object shows it."""
        kept = self._kept.get(loan.id)
        if kept is not None and kept.on == on and kept.events_count == loan.events_count \
                and kept.version == loan.version:
            self.hits += 1
            return kept.state
        self.misses += 1
        return None

    def recall_earlier(self, loan: Stamped, on: date) -> core.LoanState | None:
        """The fold of `loan` kept from the row as this loan object shows it, made on a day before `on` (the same
        events and terms: a fold of them on `on` may start from it, `kernel.fold_later`)."""
        kept = self._kept.get(loan.id)
        if kept is not None and kept.on < on and kept.events_count == loan.events_count \
                and kept.version == loan.version:
            self.earlier_hits += 1
            return kept.state
        return None

    def _keep(self, loan_id: int, kept: _Kept) -> None:
        with self._lock:
            self._kept.pop(loan_id, None)
            if len(self._kept) >= self.max_entries:
                self._kept.pop(next(iter(self._kept)), None)  # the oldest kept
            self._kept[loan_id] = kept

    def forget_all(self) -> None:
        """Forget every fold (rows changed behind the ORM's back)."""
        with self._lock:
            self._kept.clear()

    def __len__(self) -> int:
        return len(self._kept)


def memo_of(session: Session) -> FoldMemo | None:
    """The fold memo of the session's database, when the runtime attached one."""
    memo: FoldMemo | None = session.info.get(FOLD_MEMO)
    return memo


def recall(session: Session, loan: Stamped, on: date) -> core.LoanState | None:
    """The loan's kept fold on `on`, or None (fold it, then `stage` it)."""
    memo = memo_of(session)
    return memo.recall(loan, on) if memo is not None else None


def recall_earlier(session: Session, loan: Stamped, on: date) -> core.LoanState | None:
    """The loan's kept fold of a day before `on` over the same events (`FoldMemo.recall_earlier`), or None."""
    memo = memo_of(session)
    return memo.recall_earlier(loan, on) if memo is not None else None


def stage(session: Session, loan: Loan, on: date, folded_events: int, state: core.LoanState) -> None:
    """A fold of `loan` on `on` over `folded_events` events, kept if the session's transaction commits."""
    if memo_of(session) is None or folded_events != loan.events_count:
        return
    transaction = session.get_nested_transaction() or session.get_transaction()
    if transaction is None:
        return
    staged: list[_Staged | _StagedWritten] = session.info.setdefault(_STAGED, [])
    staged.append(_Staged(transaction, loan, on, folded_events, loan.terms, state))


def stage_written(session: Session, *, loan_id: int, on: date, events_count: int, version: int,
                  state: core.LoanState) -> None:
    """A fold of the loan on `on` over all its `events_count` events, kept if the session's transaction commits,
    stamped `version`: for a caller that has just written the loan's row by a statement (no ORM object), with that
    `events_count` and moved its version to `version` under the row's lock (`quiet_overdue`). Versions are never
    written twice: if the row changes again before the commit, its version moves past the stamp and the fold
    never answers (a miss, as any)."""
    if memo_of(session) is None:
        return
    transaction = session.get_nested_transaction() or session.get_transaction()
    if transaction is None:
        return
    staged: list[_Staged | _StagedWritten] = session.info.setdefault(_STAGED, [])
    staged.append(_StagedWritten(transaction, loan_id, on, events_count, version, state))


# -- following the session's transactions ------------------------------------------------------------------

_watching = False
_watch_lock = threading.Lock()


def _after_commit(session: Session) -> None:
    if session.get_nested_transaction() is not None:  # a savepoint released: not committed yet
        return
    staged: list[_Staged | _StagedWritten] = session.info.pop(_STAGED, [])
    memo = memo_of(session)
    if memo is None:
        return
    for s in staged:
        if isinstance(s, _StagedWritten):
            memo._keep(s.loan_id, _Kept(s.on, s.events_count, s.version, s.state))
            continue
        state = inspect(s.loan)
        if state.expired or state.deleted or state.detached or {"version", "events_count", "terms"} & state.unloaded:
            continue
        if s.loan.events_count != s.events_count or s.loan.terms is not s.terms:
            continue  # the loan took an event, or new terms, after the fold in the same transaction
        memo._keep(s.loan.id, _Kept(s.on, s.events_count, s.loan.version, s.state))


def _after_soft_rollback(session: Session, previous: SessionTransaction) -> None:
    staging.forget_rolled_back(session, _STAGED, previous, lambda s: s.transaction)


def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the outermost transaction ended (committed: already taken)
        session.info.pop(_STAGED, None)


def _on_execute(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete):
        return
    if getattr(getattr(state.statement, "table", None), "name", None) in _TABLES:
        memo = memo_of(state.session)
        if memo is not None:
            memo.forget_all()


def _watch(memo: FoldMemo) -> None:
    global _watching
    with _watch_lock:
        if _watching:
            return
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_soft_rollback", _after_soft_rollback)
        event.listen(Session, "after_transaction_end", _after_transaction_end)
        event.listen(Session, "do_orm_execute", _on_execute)
        _watching = True
