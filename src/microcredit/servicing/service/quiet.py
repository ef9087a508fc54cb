"""The quiet loans' day, set-based: a partition's loans whose day is only an accrual, brought to it at once.

On most days most running loans only accrue: no installment falls due, nothing is overdue, no payment,
no penalty. For such a loan `loans.advance` folds its events on the day to learn three figures that
change — the interest the running period has earned by the day (`accrued_interest`), the payoff
quote's accrued interest (and so its total) and the state's date — and posts nothing: the books
recognise an installment's interest when it falls due (`servicing.books`), so a day inside a period
moves no money. `advance_quiet` does that for a partition in one query and one executemany UPDATE,
with the accrual computed by `lending.batch.accrue` on int64 columns.

A loan is **quiet** on `day` only when everything below holds; any other loan goes through `advance`
one by one, unchanged (and a quiet loan may always go that way: both give the same row):

- the loan row (one query per partition, its rows locked as `advance` locks each): active, zero days
  past due, the cached fold made from all its events (`state_seq == events_count`) on an earlier day,
  its next due date after `day`, and none of its events of another type than a disbursement, a
  repayment or a penalty, nor dated after the fold's day (no waiver, deferral, rescheduling, charge,
  reversal, prepayment, write-off ...);
- its terms: no interest recalculation, no progressive or cumulative schedule, no planned
  disbursements, a fixed-basis actual day count (ACT/360, ACT/364, ACT/365F), a declining balance,
  no interest grace or interest-free periods, a rate of at most 8 decimal places;
- its cached fold: running, no credit held, not restructured, accelerated or written off, no
  installment outside the schedule, every installment due by the fold's day settled, none falling due
  after it through `day`, no period ending after it through `day` (a period ends where the next one
  begins; the last one's end is known only without a business-day rule), so the running period and its
  balance are the same on both days, and that period earning (its interest positive);
- and the check: the accrual recomputed for the fold's own day from the same columns equals, to the
  fen, the accrued interest and payoff figures the fold stored, and the stored interest base is the
  running balance. A loan whose figures the formula does not reproduce is not quiet. (On a fold made
  on the period's first day both stored accruals are 0 and the check is of the base alone; the rate is
  the contract's, which no event of the kinds allowed changes.)

The new figures are then those of `prepayment.accrued_to` and `payoff_quote` on `day`: interest =
balance x rate x (days from the period's start) / basis, rounded once by the loan's mode — on the
schedule's balance for `accrued_interest`, on the principal still owed of the installments not yet due
for the payoff. The UPDATE moves the row's `version` like the ORM's (so the fold memo's stamp of the
row changes) and `updated_at`. Running the day again finds the loans' folds already on `day`
(`state_as_of < day` fails): nothing changes. The loans are never in the session's identity map.
"""

from __future__ import annotations

import copy
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from microcredit.clock import Clock
from microcredit.lending.batch import RATE_SCALE, accrue
from microcredit.lending.daycount import DaysInMonth, DaysInYear
from microcredit.lending.money import Money
from microcredit.lending.schedule.model import InterestMethod
from microcredit.servicing import repository as repo
from microcredit.servicing.models import Loan
from microcredit.servicing.service import loans

QUIET_EVENT_TYPES = ("disbursement", "repayment", "penalty")


@dataclass
class QuietDay:
    """What `advance_quiet` did: the loans it brought to the day, and why the others were left."""

    advanced: list[int] = field(default_factory=list)
    left: dict[str, int] = field(default_factory=dict)

    def leave(self, why: str) -> None:
        self.left[why] = self.left.get(why, 0) + 1


@dataclass(frozen=True, slots=True)
class _Quiet:
    loan_id: int
    version: int
    state: dict[str, Any]
    currency: str
    rate: int
    basis: int
    mode: Any
    prev_days: int
    new_days: int
    schedule_balance: int
    future_principal: int
    accrued: int
    payoff_accrued: int


def candidates(session: Session, *, institution_id: int, day: date, first: int, last: int) -> list[Any]:
    """The partition's loans whose row says their day may be only an accrual (locked, as `advance` locks)."""
    return repo.quiet_candidates(session, institution_id=institution_id, day=day, first=first, last=last,
                                 event_types=QUIET_EVENT_TYPES)


def advance_quiet(*, session: Session, clock: Clock, institution_id: int, day: date, first: int, last: int,
                  only: Collection[int] | None = None) -> QuietDay:
    """Bring the quiet loans of ids [first, last] (of `only`, when given) to `day` at once (module
    docstring); the rest are left."""
    report = QuietDay()
    quiet: list[_Quiet] = []
    for row in candidates(session, institution_id=institution_id, day=day, first=first, last=last):
        if only is not None and row.id not in only:
            continue
        one = _quiet(session, row, day, report)
        if one is not None:
            quiet.append(one)
    if not quiet:
        return report
    groups: dict[tuple[int, Any], list[_Quiet]] = {}
    for one in quiet:
        groups.setdefault((one.basis, one.mode), []).append(one)
    now = clock.now()
    params: list[dict[str, Any]] = []
    for (basis, mode), ones in groups.items():
        rate = np.array([o.rate for o in ones], dtype=np.int64)
        schedule = np.array([o.schedule_balance for o in ones], dtype=np.int64)
        future = np.array([o.future_principal for o in ones], dtype=np.int64)
        prev_days = np.array([o.prev_days for o in ones], dtype=np.int64)
        new_days = np.array([o.new_days for o in ones], dtype=np.int64)
        checks = (accrue(schedule, rate, prev_days, basis, mode=mode),
                  accrue(future, rate, prev_days, basis, mode=mode))
        accrued = accrue(schedule, rate, new_days, basis, mode=mode)
        payoff = accrue(future, rate, new_days, basis, mode=mode)
        for i, one in enumerate(ones):
            if int(checks[0][i]) != one.accrued or int(checks[1][i]) != one.payoff_accrued:
                report.leave("not_reproduced")
                continue
            state = _moved(one, day, int(accrued[i]), int(payoff[i]))
            params.append({"b_id": one.loan_id, "b_state": state, "b_now": now})
            report.advanced.append(one.loan_id)
    if params:
        repo.move_quiet_states(session, day=day, rows=params)
    report.advanced.sort()
    return report


def _minor(text: str, currency: str) -> int:
    return Money.parse(text, currency).minor


def _quiet(session: Session, row: Any, day: date, report: QuietDay) -> _Quiet | None:
    """The loan's accrual columns when its terms and cached fold allow the quiet day, else None (counted)."""
    loan = Loan(id=row.id, number=row.number, terms=row.terms, opened_at=row.opened_at,
                institution_id=row.institution_id)
    terms = loans.core_terms(session, loan)
    contract = terms.contract
    day_count = contract.day_count
    if (terms.recalculation is not None or terms.progressive is not None
            or terms.cumulative_recalculation is not None or terms.expected_disbursements or terms.tranches
            or day_count.days_in_month is not DaysInMonth.ACTUAL or day_count.days_in_year is DaysInYear.ACTUAL
            or contract.interest_method is not InterestMethod.DECLINING_BALANCE
            or contract.grace_on_interest_payment or contract.interest_free_periods):
        report.leave("terms")
        return None
    scaled = contract.annual_rate * RATE_SCALE
    if scaled != scaled.to_integral_value():
        report.leave("terms")
        return None
    state: dict[str, Any] = row.state
    prev: date = row.state_as_of
    code = row.currency
    payoff = state.get("payoff")
    if (state.get("status") != "active" or state.get("as_of") != prev.isoformat() or state.get("dpd") != 0
            or _minor(state["credit_balance"], code) != 0 or state.get("restructured_on") is not None
            or state.get("accelerated_on") is not None or state.get("written_off_on") is not None
            or state.get("planned_disbursements") or state.get("projected_schedule") is not None or payoff is None
            or payoff["after_credit"] != payoff["total"]):
        report.leave("state")
        return None
    rows = sorted(state["installments"], key=lambda r: r["number"])
    if any(r["number"] < 1 for r in rows) or not rows:
        report.leave("state")
        return None
    dues = [date.fromisoformat(r["due_date"]) for r in rows]
    if any(prev < due <= day for due in dues) or any(
            due <= prev and _minor(r["outstanding"]["total"], code) for r, due in zip(rows, dues, strict=True)):
        report.leave("due")  # an installment falls due, or one is overdue
        return None
    # A period ends where the next begins (`periods.generate_periods`); the last one's end is its due date
    # only without a business-day rule (else unknown here: not quiet). `prepayment.standing`: the
    # installments whose period has ended or that have fallen due are a prefix; the next is running.
    none_rule = contract.periods.business_day_rule.value == "none"
    ends = [date.fromisoformat(r["period_start"]) for r in rows[1:]] + [dues[-1] if none_rule else None]
    ended = [(end is not None and end <= prev) or due <= prev for end, due in zip(ends, dues, strict=True)]
    ended_then = [(end is not None and end <= day) or due <= day for end, due in zip(ends, dues, strict=True)]
    count = sum(ended)
    if ended != ended_then or ended != [k < count for k in range(len(rows))] or count == len(rows) \
            or ends[count] is None:
        report.leave("period")  # a period ends on the way, or the last one runs under a business-day rule
        return None
    running = rows[count]
    start = date.fromisoformat(running["period_start"])
    if start > prev or _minor(running["due"]["interest"], code) <= 0:
        report.leave("period")
        return None
    balance = _minor(running["balance_after"], code) + _minor(running["due"]["principal"], code)
    if _minor(state["interest_base"], code) != balance:
        report.leave("not_reproduced")
        return None
    future = sum(_minor(r["outstanding"]["principal"], code) for r in rows[count:])
    return _Quiet(loan_id=row.id, version=row.version, state=state, currency=code, rate=int(scaled),
                  basis=day_count.basis, mode=contract.rounding.mode, prev_days=day_count.days(start, prev),
                  new_days=day_count.days(start, day), schedule_balance=balance, future_principal=future,
                  accrued=_minor(state["accrued_interest"], code),
                  payoff_accrued=_minor(payoff["accrued_interest"], code))


def _moved(one: _Quiet, day: date, accrued: int, payoff_accrued: int) -> dict[str, Any]:
    """The cached fold on `day`: its date, the accrued interest and the payoff quote's accrual and total."""
    state = copy.copy(one.state)
    payoff = dict(state["payoff"])
    total = _minor(payoff["total"], one.currency) + payoff_accrued - one.payoff_accrued
    payoff["accrued_interest"] = str(Money(payoff_accrued, one.currency))
    payoff["total"] = payoff["after_credit"] = str(Money(total, one.currency))
    state["payoff"] = payoff
    state["as_of"] = day.isoformat()
    state["accrued_interest"] = str(Money(accrued, one.currency))
    return state


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
    return {row.id: Cached(row.id, row.currency, row.state)
            for row in repo.folded_on(session, institution_id=institution_id, on=on, first=min(ids), last=max(ids))
            if row.id in wanted and row.state is not None and row.state.get("as_of") == on.isoformat()}


@dataclass(frozen=True, slots=True)
class DayFacts:
    """What early warning reads of a running loan whose cached fold is the fold of the day over all its events:
    who it belongs to and its days past due (the `dpd` `dpd_on` answers for it)."""

    loan_id: int
    number: str
    borrower_id: int
    branch_id: int | None
    officer_id: int | None
    dpd: int


def day_facts(session: Session, *, institution_id: int, on: date, ids: Collection[int]) -> dict[int, DayFacts]:
    """The loans of `ids` whose cached fold is their fold on `on` over all events, with their days past due, in
    one query that reads no JSON; a loan left out is read (and folded) one by one."""
    if not ids:
        return {}
    wanted = set(ids)
    return {row.id: DayFacts(row.id, row.number, row.borrower_id, row.branch_id, row.opened_by_user_id, int(row.dpd))
            for row in repo.day_facts_on(session, institution_id=institution_id, on=on, first=min(ids), last=max(ids))
            if row.id in wanted}


def dpd_on(*, session: Session, loan: Loan, on: date) -> int:
    """The loan's days past due on `on`: the cached fold's when it is the fold of that day over all events,
    else folded."""
    if loan.state_as_of == on and loan.state_seq == loan.events_count and loan.state is not None:
        return int(loan.dpd)
    return loans.state_of(session=session, loan=loan, as_of=on).dpd
