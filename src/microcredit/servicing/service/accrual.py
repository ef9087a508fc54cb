"""The quiet loans' figures in columns: what a day that is only an accrual reads and changes, on the loan row.

Servicing writes them whenever it writes the cached fold (`loans.refresh`, from the fold's own JSON and the
loan's terms), so the close of business's quiet selection (`quiet.advance_quiet`) reads no JSON and its UPDATE
writes none: the day moves `accrued_interest`, `payoff_accrued` and `state_as_of` only.

`accrual_of` is the whole test of whether a loan's later days may be quiet, made once when the fold is made
(before, `quiet` made it from the JSON every day): the loan's terms (no interest recalculation, progressive or
cumulative schedule, planned disbursements or tranches; a fixed-basis actual day count — ACT/360, ACT/364,
ACT/365F —, a declining balance, no interest grace or interest-free periods, a rate of at most 8 decimals) and
its fold (running, no days past due, no credit held, not restructured, accelerated or written off, no
installment outside the schedule, every installment due by the fold's day settled, the running period known
to end — a period ends where the next begins; the last one's end is known only without a business-day rule —
and earning), and **the check**: the formula (`lending.batch.accrue`: balance x rate x days since the period's
start / basis, rounded once by the loan's mode) for the fold's own day gives, to the fen, the accrued interest
and the payoff's accrual the fold holds, and the fold's interest base is the running balance. Anything else:
None, the columns NULL, the loan's days go through `advance`.

What depends on the day is left to the selection: a day before `accrual_until` (the first due date or period
end after the fold's day) keeps the same running period and balance, so its accrual is the formula on that day.

**The cached JSON stays correct for every reader by composition on read** (`cached_state`): when the quiet
day has moved the columns past the JSON (`state_as_of` after the JSON's `as_of`), the JSON's date, accrued
interest and payoff (its accrual, total and total after credit — credit is zero for such a loan) are those of
the columns; nothing else of the JSON changes on such a day (the rest of the fold is the same: same period,
same installments, no event). Composing costs a dict copy per read, only for loans the quiet path moved; the
other way (the JSON marked stale and folded again on read) would fold every quiet loan again in each later
step of the close of business, what the columns are there to avoid.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from microcredit.lending import loan as core
from microcredit.lending.batch import RATE_SCALE, accrue
from microcredit.lending.daycount import DaysInMonth, DaysInYear
from microcredit.lending.loan import minor
from microcredit.lending.money import Money, RoundingMode
from microcredit.lending.schedule.model import InterestMethod

COLUMNS = ("accrual_rate", "accrual_basis", "accrual_rounding", "accrual_from", "accrual_until", "accrual_base",
           "accrual_future", "accrued_interest", "payoff_accrued")


@dataclass(frozen=True, slots=True)
class Accrual:
    """A loan's accrual columns (`Loan.accrual_*`; money in minor units)."""

    rate: int  # annual rate x RATE_SCALE
    basis: int
    rounding: str
    start: date  # the running period's first day
    until: date  # the first due date or period end after the fold's day: days before it are quiet
    base: int  # the running balance (the interest base)
    future: int  # the principal still owed of the installments not yet due (the payoff's base)
    accrued: int  # the accrued interest on the fold's day
    payoff_accrued: int  # the payoff's accrued interest on the fold's day

    def columns(self) -> dict[str, Any]:
        return dict(zip(COLUMNS, (self.rate, self.basis, self.rounding, self.start, self.until, self.base,
                                  self.future, self.accrued, self.payoff_accrued), strict=True))


NONE: dict[str, Any] = dict.fromkeys(COLUMNS)


def interest(balance: int, rate: int, days: int, basis: int, rounding: str) -> int:
    """balance x rate/1e8 x days / basis in minor units, rounded once (`lending.batch.accrue` for one loan)."""
    return int(accrue(np.array([balance], dtype=np.int64), np.array([rate], dtype=np.int64),
                      np.array([days], dtype=np.int64), basis, mode=RoundingMode(rounding))[0])


def _minor(text: str, currency: str) -> int:
    return Money.parse(text, currency).minor


def accrual_of(terms: core.Terms, state: dict[str, Any], currency: str) -> Accrual | None:
    """The loan's accrual columns from its terms and its fold as the API writes it (`state`), or None when its
    later days cannot be only an accrual (module docstring)."""
    contract = terms.contract
    day_count = contract.day_count
    if (terms.recalculation is not None or terms.progressive is not None
            or terms.cumulative_recalculation is not None or terms.expected_disbursements or terms.tranches
            or day_count.days_in_month is not DaysInMonth.ACTUAL or day_count.days_in_year is DaysInYear.ACTUAL
            or contract.interest_method is not InterestMethod.DECLINING_BALANCE
            or contract.grace_on_interest_payment or contract.interest_free_periods):
        return None
    scaled = contract.annual_rate * RATE_SCALE
    if scaled != scaled.to_integral_value():
        return None
    payoff = state.get("payoff")
    if (state.get("status") != "active" or state.get("dpd") != 0 or _minor(state["credit_balance"], currency) != 0
            or state.get("restructured_on") is not None or state.get("accelerated_on") is not None
            or state.get("written_off_on") is not None or state.get("planned_disbursements")
            or state.get("projected_schedule") is not None or payoff is None
            or payoff["after_credit"] != payoff["total"]):
        return None
    on = date.fromisoformat(state["as_of"])
    rows = sorted(state["installments"], key=lambda r: r["number"])
    if not rows or any(r["number"] < 1 for r in rows):
        return None
    dues = [date.fromisoformat(r["due_date"]) for r in rows]
    if any(due <= on and _minor(r["outstanding"]["total"], currency) for r, due in zip(rows, dues, strict=True)):
        return None  # overdue
    # A period ends where the next begins (`periods.generate_periods`); the last one's end is its due date only
    # without a business-day rule (else unknown: None). `prepayment.standing`: the installments whose period has
    # ended or that have fallen due are a prefix; the next is running.
    none_rule = contract.periods.business_day_rule.value == "none"
    ends = [date.fromisoformat(r["period_start"]) for r in rows[1:]] + [dues[-1] if none_rule else None]
    ended = [(end is not None and end <= on) or due <= on for end, due in zip(ends, dues, strict=True)]
    count = sum(ended)
    if ended != [k < count for k in range(len(rows))] or count == len(rows) or ends[count] is None:
        return None
    running = rows[count]
    start = date.fromisoformat(running["period_start"])
    if start > on or _minor(running["due"]["interest"], currency) <= 0:
        return None
    balance = _minor(running["balance_after"], currency) + _minor(running["due"]["principal"], currency)
    if _minor(state["interest_base"], currency) != balance:
        return None
    until = min([d for d in dues if d > on] + [e for e in ends if e is not None and e > on])
    future = sum(_minor(r["outstanding"]["principal"], currency) for r in rows[count:])
    rate, basis, rounding = int(scaled), day_count.basis, RoundingMode(contract.rounding.mode).value
    days = day_count.days(start, on)
    accrued, payoff_accrued = _minor(state["accrued_interest"], currency), _minor(payoff["accrued_interest"], currency)
    if (interest(balance, rate, days, basis, rounding) != accrued
            or interest(future, rate, days, basis, rounding) != payoff_accrued):
        return None  # the check: the formula does not reproduce the fold's figures
    return Accrual(rate=rate, basis=basis, rounding=rounding, start=start, until=until, base=balance, future=future,
                   accrued=accrued, payoff_accrued=payoff_accrued)


DAY_COLUMNS = ("unpaid_due_from", "bucket", "category", "late_payments", "partial_payments", "last_paid_on",
               "unpaid_dues", "repaid")


def day_columns(state: core.LoanState) -> dict[str, Any]:
    """What the close of business's later steps read of the fold (`Loan.unpaid_due_from` ...), as those steps
    compute it from a fold (`cob.service.steps`: auto-debit and reminders the unsettled installments' due dates,
    classify the bucket and class, features the late and partial payments and the last payment; reminders the
    unsettled installments' due dates and amounts, `unpaid_dues`; collections those and the repayments, `repaid`).
    A quiet day
    changes none of them: no event, and no installment falls due before `accrual_until`. Read from the fold's
    installments and payments in minor units (`lending.loan.minor`)."""
    rows = minor.installments(state)
    due_of = {row.number: row.due_date for row in rows}
    paid = [p for p in minor.payments(state) if p.event_id is not None]
    unsettled = [row for row in rows if not row.settled]
    return {"unpaid_due_from": min((row.due_date for row in unsettled), default=None),
            "bucket": state.bucket.name, "category": int(state.classification.category),
            "late_payments": sum(1 for p in paid if any(due_of.get(line[0], p.on) < p.on for line in p.lines)),
            "partial_payments": sum(1 for row in unsettled if row.due_date <= state.as_of and sum(row.paid) > 0),
            "last_paid_on": max((p.on for p in paid), default=None),
            "unpaid_dues": ",".join(
                f"{row.number}:{row.due_date.isoformat()}:{row.outstanding[0]}:{row.outstanding[1]}:"
                f"{row.outstanding[2]}:{row.outstanding[3]}" for row in unsettled),
            "repaid": ",".join(f"{p.on.isoformat()}:{p.amount}" for p in paid)}


@dataclass(frozen=True, slots=True)
class Unpaid:
    """An unsettled installment as the `unpaid_dues` column keeps it: its number, due date and what is outstanding
    of each component (minor units)."""

    number: int
    due_date: date
    principal: int
    interest: int
    fee: int
    penalty: int

    @property
    def total(self) -> int:
        return self.principal + self.interest + self.fee + self.penalty


def unpaid_dues(text: str) -> list[Unpaid]:
    """The `unpaid_dues` column read back, in installment order."""
    out: list[Unpaid] = []
    for one in text.split(",") if text else ():
        number, day, principal, interest, fee, penalty = one.split(":")
        out.append(Unpaid(int(number), date.fromisoformat(day), int(principal), int(interest), int(fee), int(penalty)))
    return out


def repaid(text: str) -> list[tuple[date, int]]:
    """The `repaid` column read back: (day, amount in minor units) of each repayment or prepayment (the payments
    with an event: not credit used), in the fold's order."""
    out: list[tuple[date, int]] = []
    for one in text.split(",") if text else ():
        day, minor = one.split(":")
        out.append((date.fromisoformat(day), int(minor)))
    return out


def cached_state(state: dict[str, Any] | None, *, state_as_of: date | None, currency: str,
                 accrued_interest: int | None, payoff_accrued: int | None) -> dict[str, Any] | None:
    """The loan's cached fold as of `state_as_of`, as the API writes it: the stored JSON, with its accrual
    fields from the columns when a quiet day moved them past it (module docstring)."""
    if state is None or state_as_of is None or state.get("as_of") == state_as_of.isoformat() \
            or accrued_interest is None or payoff_accrued is None:
        return state
    moved = copy.copy(state)
    payoff = dict(state["payoff"])
    total = _minor(payoff["total"], currency) + payoff_accrued - _minor(payoff["accrued_interest"], currency)
    payoff["accrued_interest"] = str(Money(payoff_accrued, currency))
    payoff["total"] = payoff["after_credit"] = str(Money(total, currency))
    moved["payoff"] = payoff
    moved["as_of"] = state_as_of.isoformat()
    moved["accrued_interest"] = str(Money(accrued_interest, currency))
    return moved


def cached_state_of(loan: Any) -> dict[str, Any] | None:
    """`cached_state` of a loan row (the ORM's, or a row with the same columns)."""
    return cached_state(loan.state, state_as_of=loan.state_as_of, currency=loan.currency,
                        accrued_interest=loan.accrued_interest, payoff_accrued=loan.payoff_accrued)
