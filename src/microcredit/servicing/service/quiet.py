"""The quiet loans' day, set-based: a partition's loans whose day is only an accrual, brought to it at once.

On most days most running loans only accrue: no installment falls due, nothing is overdue, no payment,
no penalty. For such a loan `loans.advance` folds its events on the day to learn three figures that
change — the interest the running period has earned by the day (`accrued_interest`), the payoff
quote's accrued interest (and so its total) and the state's date — and posts nothing: the books
recognise an installment's interest when it falls due (`servicing.books`), so a day inside a period
moves no money. `advance_quiet` does that for a partition in one query and one UPDATE, from the loan
row's accrual columns (`servicing.service.accrual`, written with every cached fold), with the accrual
computed by `lending.batch.accrue` on int64 columns; it reads and writes no JSON.

A loan is **quiet** on `day` when its row says so (one query per partition, its rows locked as `advance`
locks each): active, zero days past due, the cached fold made from all its events (`state_seq ==
events_count`) on an earlier day, its next due date after `day`, its accrual columns set (its terms and
fold allow a quiet day and the formula reproduced the fold's figures: `accrual.accrual_of`, checked when
the fold was made) and `accrual_until` — the first due date or period end after the fold's day — after
`day`, so the running period and its balance are the same on both days; and none of its events of
another type than a disbursement, a repayment or a penalty, nor dated after the fold's day (no waiver,
deferral, rescheduling, charge, reversal, prepayment, write-off ...). Any other loan goes through
`advance` one by one, unchanged (and a quiet loan may always go that way: both give the same row).

The new figures are those of `prepayment.accrued_to` and `payoff_quote` on `day`: interest = balance x
rate x (days from the period's start) / basis, rounded once by the loan's mode — on the schedule's
balance for `accrued_interest`, on the principal still owed of the installments not yet due for the
payoff. The UPDATE (`repository.move_quiet_accruals`: one UPDATE ... FROM unnest(arrays) on PostgreSQL,
an executemany elsewhere) moves `accrued_interest`, `payoff_accrued`, `state_as_of`, the row's
`version` like the ORM's (so the fold memo's stamp of the row changes) and `updated_at`; the cached JSON
is left as it was and read composed with the columns (`accrual.cached_state`). Running the day again
finds the loans already on `day` (`state_as_of < day` fails): nothing changes. The loans are never in
the session's identity map.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from microcredit.clock import Clock
from microcredit.lending.batch import accrue
from microcredit.lending.money import RoundingMode
from microcredit.servicing import repository as repo
from microcredit.servicing.models import Loan
from microcredit.servicing.service import accrual, loans

QUIET_EVENT_TYPES = ("disbursement", "repayment", "penalty")


@dataclass
class QuietDay:
    """What `advance_quiet` did: the loans it brought to the day (the others are left to `advance`)."""

    advanced: list[int] = field(default_factory=list)


def candidates(session: Session, *, institution_id: int, day: date, first: int, last: int) -> list[Any]:
    """The partition's loans whose row says their day is only an accrual (locked, as `advance` locks): their
    accrual columns."""
    return repo.quiet_candidates(session, institution_id=institution_id, day=day, first=first, last=last,
                                 event_types=QUIET_EVENT_TYPES)


def advance_quiet(*, session: Session, clock: Clock, institution_id: int, day: date, first: int, last: int,
                  only: Collection[int] | None = None) -> QuietDay:
    """Bring the quiet loans of ids [first, last] (of `only`, when given) to `day` at once (module
    docstring); the rest are left."""
    report = QuietDay()
    rows = [row for row in candidates(session, institution_id=institution_id, day=day, first=first, last=last)
            if only is None or row.id in only]
    if not rows:
        return report
    groups: dict[tuple[int, str], list[Any]] = {}
    for row in rows:
        groups.setdefault((row.accrual_basis, row.accrual_rounding), []).append(row)
    ids: list[int] = []
    accrued: list[int] = []
    payoff: list[int] = []
    epoch = np.datetime64(day, "D")
    for (basis, rounding), ones in groups.items():
        rate = np.fromiter((o.accrual_rate for o in ones), dtype=np.int64, count=len(ones))
        base = np.fromiter((o.accrual_base for o in ones), dtype=np.int64, count=len(ones))
        future = np.fromiter((o.accrual_future for o in ones), dtype=np.int64, count=len(ones))
        starts = np.array([o.accrual_from for o in ones], dtype="datetime64[D]")
        days = (epoch - starts).astype(np.int64)  # an actual day count (`accrual.accrual_of`)
        mode = RoundingMode(rounding)
        ids.extend(o.id for o in ones)
        accrued.extend(accrue(base, rate, days, basis, mode=mode).tolist())
        payoff.extend(accrue(future, rate, days, basis, mode=mode).tolist())
    repo.move_quiet_accruals(session, day=day, now=clock.now(), ids=ids, accrued=accrued, payoff_accrued=payoff)
    report.advanced = sorted(ids)
    return report


@dataclass(frozen=True, slots=True)
class Cached:
    """A loan's cached fold when it is the fold of `on` over all its events (what `state_of` would give, as the
    API writes it): the later steps of the close of business read it instead of folding again."""

    loan_id: int
    currency: str
    state: dict[str, Any]


def cached_on(session: Session, *, institution_id: int, on: date, ids: Collection[int]) -> dict[int, Cached]:
    """The running loans of `ids` whose cached fold is their fold on `on` (made from every event, on that day),
    in one query; a loan left out is read by folding."""
    if not ids:
        return {}
    wanted = set(ids)
    found: dict[int, Cached] = {}
    for row in repo.folded_on(session, institution_id=institution_id, on=on, first=min(ids), last=max(ids)):
        state = accrual.cached_state_of(row) if row.id in wanted else None
        if state is not None and state.get("as_of") == on.isoformat():
            found[row.id] = Cached(row.id, row.currency, state)
    return found


@dataclass(frozen=True, slots=True)
class DayFacts:
    """What early warning reads of the running loans of a partition whose cached fold is the fold of the day over
    all their events, as columns (one value a loan in each, by loan id ascending): who each belongs to and its days
    past due (the `dpd` `dpd_on` answers for it). Columns, not an object a loan: the set-based step reads these of
    every loan of a partition and needs the number, branch and officer only of the few it raises a warning on."""

    loan_ids: tuple[int, ...] = ()
    numbers: tuple[str, ...] = ()
    borrower_ids: tuple[int, ...] = ()
    branch_ids: tuple[int | None, ...] = ()
    officer_ids: tuple[int | None, ...] = ()
    dpd: tuple[int, ...] = ()


def day_facts(session: Session, *, institution_id: int, on: date, ids: Collection[int]) -> DayFacts:
    """The loans of `ids` whose cached fold is their fold on `on` over all events, with their days past due, in
    one query by the id range of `ids` that reads no JSON; a loan left out is read (and folded) one by one."""
    if not ids:
        return DayFacts()
    wanted = set(ids)
    rows = [row for row in repo.day_facts_on(session, institution_id=institution_id, on=on, first=min(ids),
                                             last=max(ids)) if row[0] in wanted]
    return DayFacts(*zip(*rows, strict=True)) if rows else DayFacts()


def dpd_on(*, session: Session, loan: Loan, on: date) -> int:
    """The loan's days past due on `on`: the cached fold's when it is the fold of that day over all events,
    else folded."""
    if loan.state_as_of == on and loan.state_seq == loan.events_count and loan.state is not None:
        return int(loan.dpd)
    return loans.state_of(session=session, loan=loan, as_of=on).dpd


def day_columns_query(*, institution_id: int, on: date, first: int, last: int) -> Any:
    """The active loans of ids [first, last] whose kept fold is their fold on `on` over all events, with the later
    steps' columns written (`accrual.day_columns`; a loan folded before those columns existed is not among them), as
    a subquery a later step's statement joins, so that a loan with nothing to do is done in SQL without a row of it
    read into Python: `loan_id`, `number`, `currency`, `dpd`, `bucket`, `category`, `principal` (outstanding, minor
    units), `late_payments`, `partial_payments`, `last_paid_on`."""
    return repo.day_columns_query(institution_id=institution_id, on=on, first=first, last=last)


@dataclass(frozen=True, slots=True)
class UnpaidDues:
    """A running loan's unsettled installments by its kept fold of the day over all its events, from its
    `unpaid_dues` column, in installment order; its days past due and repayments (`repaid`) by that fold."""

    loan_id: int
    number: str
    currency: str
    borrower_user_id: int
    dues: list[accrual.Unpaid]
    dpd: int = 0
    repaid: tuple[tuple[date, int], ...] = ()
    branch_id: int | None = None
    borrower_id: int = 0

    def due_by(self, day: date) -> dict[str, int]:
        """What is outstanding, by component (minor units), on the installments due by `day` (`LoanState.due_now` of
        the fold of `day`)."""
        due = {"principal": 0, "interest": 0, "fee": 0, "penalty": 0}
        for row in self.dues:
            if row.due_date <= day:
                due["principal"] += row.principal
                due["interest"] += row.interest
                due["fee"] += row.fee
                due["penalty"] += row.penalty
        return due

    def repaid_from(self, first: date) -> int:
        """The repayments (minor units) valued on `first` or later."""
        return sum(minor for day, minor in self.repaid if day >= first)


def unpaid_dues(session: Session, *, institution_id: int, on: date, ids: Collection[int]) -> dict[int, UnpaidDues]:
    """The loans of `ids` whose kept fold is their fold on `on` over all events, with their unsettled installments,
    in one query that reads no JSON; a loan left out (no fold of the day, or folded before migration 0045) is read
    another way."""
    if not ids:
        return {}
    return {row.id: UnpaidDues(row.id, row.number, row.currency, row.borrower_user_id,
                               accrual.unpaid_dues(row.unpaid_dues), int(row.dpd),
                               tuple(accrual.repaid(row.repaid or "")), row.branch_id, row.borrower_id)
            for row in repo.unpaid_dues_on(session, institution_id=institution_id, on=on, ids=ids)}


def overdue_ids(session: Session, *, institution_id: int, business_date: date) -> list[int]:
    """The ids of `loans.overdue` (the active loans past due or with an installment unpaid from before the day), by
    id, without reading them."""
    return repo.overdue_loan_ids(session, institution_id, business_date)


def nothing_due(session: Session, *, institution_id: int, on: date, ids: Collection[int],
                through: date, or_earliest_not_on: Collection[date] | None = None) -> frozenset[int]:
    """The loans of `ids` whose kept fold is their fold on `on` over all events and has no installment unsettled
    and due by `through` — or, with `or_earliest_not_on`, whose earliest unsettled installment falls due on none
    of those dates (auto-debit's retry days) — by the columns, in one query that returns only ids."""
    if not ids:
        return frozenset()
    wanted = set(ids)
    return frozenset(row.id for row in repo.day_columns_on(session, institution_id=institution_id, on=on,
                                                           first=min(ids), last=max(ids),
                                                           nothing_due_through=through,
                                                           earliest_due_not_on=or_earliest_not_on)
                     if row.id in wanted)
