"""The fast path of the fold: the same events over mutable integer columns, the state built when read.

`loan.fold` is the reference: each event replaces a frozen book of `Money` values.  This module
folds the histories most loans have -- disbursements, repayments, prepayments, reversals, as-of
events -- over one mutable row per installment of integers (minor units):

    [number, due date, charged P, I, F, Pen, owed P, I, F, Pen]

sorted by (due date, number), with a cursor on the first row still owing, the payments kept as
integer lines in one flat list a loan, and the `LoanState` made only when it is read
(`KernelFold.state`).  A repayment is then a walk from the cursor over the rows due, the
allocation strategy's order within each (or across them), a few integer subtractions and its
lines appended to that list; no `Money`, no `InstallmentDue`, no book replaced.

For plain terms (`plain`: equal installments on the declining balance, no grace, multiple
or fee) the schedule is the kernel's own integer rows (`_IntegerPlan`): the builder's fast
path's rows at the first disbursement, then a tranche's or a prepayment's re-amortisation by
the recurrence `prepayment._reamortised` runs for these terms, on integers, and the
`Schedule` made only when the state is read.  Other terms call the reference's own functions
(`build_schedule`, `add_tranche`, and `prepayment.reamortise`'s steps: `standing`,
`accrued_to`, `partial_prepayment`) on the same inputs, so the schedule, the interest and
the prepayment's split are the reference's by construction
(docs/lending-engine.md, "The fold's integer kernel").

**What it covers** (`covers(terms, events)`, the predicate `loan.fold` consults; anything else
is folded by the reference):

- terms without interest recalculation, the progressive calculator's schedule, down payment,
  periods from the contract's start, Fineract's tranche replay or term-share
  or later-installments tranche principal; overpayments held as credit or prepaying principal (not paid ahead onto
  the next installments); any allocation strategy without an in-advance order that sweeps
  installment by installment or component by component (not Fineract's per-bucket VERTICAL);
- events `Disbursement` (first and tranches), `Repayment` (by the loan's strategy, not one of
  its own), `Prepayment`, `PenaltyCharged` (a close of business's penalty interest on an
  installment due), `AsOf`, `Reversal`.

Inside those, whatever the kernel does not expect -- an event the reference refuses, a
re-amortisation over an installment that is not exactly its schedule row -- raises the private
`_Fallback`, and `fold` folds the history again by the reference (which then refuses the
event with its code, or answers).  The kernel never gives a different answer: it gives the
reference's, or hands over to it.  Property tests (tests/unit/lending/loan/test_kernel.py)
and bench/replay.py check every state against the reference.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date
from itertools import islice
from operator import attrgetter, itemgetter
from typing import Any

from microcredit.lending.allocation import AllocationLine, Component, OverpaymentPolicy, Sweep
from microcredit.lending.calendar import HolidayCalendar
from microcredit.lending.classification import ClassificationInput, bucket_for, classify
from microcredit.lending.delinquency import installment_dpd
from microcredit.lending.loan.events import AsOf, Disbursement, Event, PenaltyCharged, Prepayment, Repayment, Reversal
from microcredit.lending.loan.fold import _effective, _planned, _reversed, reference_fold
from microcredit.lending.loan.state import (
    Amounts,
    Disbursed,
    InstallmentState,
    LoanState,
    LoanStatus,
    PaymentApplied,
    later,
)
from microcredit.lending.loan.terms import Terms
from microcredit.lending.money import Money, RoundingMode, divide_rounded, floor_offset
from microcredit.lending.periods import PeriodPlan, PeriodSpec, generate_periods
from microcredit.lending.prepayment import (
    PayoffQuote,
    PrepaymentMode,
    PrepaymentResult,
    Reamortisation,
    accrued_to,
    add_tranche,
    partial_prepayment,
    standing,
)
from microcredit.lending.schedule import (
    Installment,
    InterestCalculation,
    InterestMethod,
    LevelInstallment,
    LoanTerms,
    RepaymentMethod,
    Schedule,
    TranchePrincipal,
    build_schedule,
)
from microcredit.lending.schedule.amortize import Ratio, annuity_rows, level_payment, period_rate
from microcredit.lending.schedule.build import level_schedule, rebuilt_schedule

__all__ = ["COMPONENTS", "IntegerView", "KernelFold", "covers", "fold", "fold_columns", "fold_later",
           "integer_view", "level_after_first", "plain", "try_fold"]

_COVERED_EVENTS = frozenset({Disbursement, Repayment, Prepayment, PenaltyCharged, AsOf, Reversal})
_SWEEPS = (Sweep.BY_INSTALLMENT, Sweep.BY_COMPONENT)
_COLUMN = {Component.PRINCIPAL: 0, Component.INTEREST: 1, Component.FEE: 2, Component.PENALTY: 3}
_COMPONENTS = (Component.PRINCIPAL, Component.INTEREST, Component.FEE, Component.PENALTY)
COMPONENTS = _COMPONENTS
"""The components by column (`IntegerView.payments`' lines)."""

# A row: [number, due date, charged P, I, F, Pen, owed P, I, F, Pen] (minor units).
NUMBER, DUE, CHARGED, OWED = 0, 1, 2, 6
Row = list[Any]
# The payments: one flat list a loan (`_Columns.payments`), each payment seven values and its
# lines, three integers a line --
#     event id, on, amount, interest prepaid, principal prepaid, credit, line count,
#     installment, component column, amount, installment, ...
# -- one object for the garbage collector to track a loan instead of two tuples a payment
# (`_payments` reads it).
PAYMENT_HEAD, INTEREST_PREPAID, PRINCIPAL_PREPAID, CREDIT, LINES = 7, 3, 4, 5, 6
_new_row = tuple.__new__
_BY_DUE_DATE = itemgetter(DUE)
"""The rows' order is (due date, number): every list sorted by it is in that order but for the rows
it adds after them (`_install`: the rows kept, in that order, then new ones of higher numbers, in
number order), so a stable sort by the due date alone gives it -- without a key tuple a row."""
_BY_VALUE_DATE = attrgetter("on", "rank")


class _Fallback(Exception):
    """Something the kernel does not fold: the reference folds the history instead."""


def covers(terms: Terms, events: Sequence[Event]) -> bool:
    """Whether the kernel folds this loan (see the module docstring); false: the reference does."""
    return _covers_terms(terms) and all(
        type(event) in _COVERED_EVENTS and not (type(event) is Repayment and event.strategy is not None)
        for event in events)


def _covers_terms(terms: Terms) -> bool:
    contract = terms.contract
    return (
        terms.recalculation is None
        and terms.progressive is None
        and terms.cumulative_recalculation is None
        and terms.down_payment is None
        and not terms.tranche_replays_payments
        and not terms.charges_in_recorded_order
        and not terms.periods_from_contract_start
        and terms.strategy.in_advance_order is None
        and terms.strategy.sweep in _SWEEPS
        and terms.overpayment in (OverpaymentPolicy.CREDIT_BALANCE, OverpaymentPolicy.PREPAY_PRINCIPAL)
        and contract.tranche_principal is TranchePrincipal.REAMORTISE
    )


class _Columns:
    """The loan after some events, in mutable integer columns (private to the kernel)."""

    __slots__ = ("by_installment", "credit", "credit_through", "currency", "disbursed", "disbursed_on",
                 "disbursements", "first", "interest_prepaid", "order", "payments", "plan", "principal_prepaid",
                 "rows", "terms")

    def __init__(self, terms: Terms) -> None:
        self.terms = terms
        self.order = tuple(OWED + _COLUMN[c] for c in terms.strategy.order)
        self.by_installment = terms.strategy.sweep is Sweep.BY_INSTALLMENT
        self.currency = terms.currency
        self.plan: Reamortisation | _IntegerPlan | None = None
        self.rows: list[Row] = []
        self.first = 0
        """Every row before this index owes nothing."""
        self.credit = 0
        self.credit_through: date | None = None
        self.disbursed = 0
        self.disbursed_on: date | None = None
        self.disbursements: list[tuple[str, date, Money]] = []
        self.payments: list[Any] = []
        """The payments, flat (`PAYMENT_HEAD` values a payment, then its lines)."""
        self.principal_prepaid = 0
        self.interest_prepaid = 0

    def copy(self) -> _Columns:
        """The same columns, to step further without changing these (a state read from them reads them later)."""
        other = _Columns.__new__(_Columns)
        for name in _Columns.__slots__:
            setattr(other, name, getattr(self, name))
        other.rows = [list(row) for row in self.rows]
        other.payments = list(self.payments)
        other.disbursements = list(self.disbursements)
        return other

    # --- allocation ------------------------------------------------------------------------

    def _sweep(self, left: int, on: date, lines: list[Any]) -> int:
        """Put `left` on what the rows due by `on` owe, by the strategy (`allocation.allocate`
        over the same rows: oldest due date first), each line added to `lines` (the payments'
        log) as three integers (installment, component column, amount); what is left comes back."""
        rows, order = self.rows, self.order
        first, count = self.first, len(rows)
        while first < count:
            row = rows[first]
            if row[6] or row[7] or row[8] or row[9]:
                break
            first += 1
        self.first = first
        end = first
        while end < count and rows[end][DUE] <= on:
            end += 1
        if self.by_installment:
            for index in range(first, end):
                row = rows[index]
                for column in order:
                    owed = row[column]
                    if owed > 0:
                        taken = owed if owed < left else left
                        lines += (row[NUMBER], column - OWED, taken)
                        row[column] = owed - taken
                        left -= taken
                        if not left:
                            return 0
            return left
        for column in order:
            for index in range(first, end):
                row = rows[index]
                owed = row[column]
                if owed > 0:
                    taken = owed if owed < left else left
                    lines += (row[NUMBER], column - OWED, taken)
                    row[column] = owed - taken
                    left -= taken
                    if not left:
                        return 0
        return left

    def _use_credit(self, until: date) -> None:
        """`fold._use_credit`: the credit held used on each due date after `credit_through`.

        The due dates are read off the rows in order (they are sorted by due date) from the first
        still owing: on an earlier day the sweep would find nothing due that is owed."""
        since = self.credit_through
        if self.credit > 0:
            rows = self.rows
            count = len(rows)
            index = self.first
            while index < count and not (rows[index][6] or rows[index][7] or rows[index][8] or rows[index][9]):
                index += 1
            last = None
            while index < count:
                day = rows[index][DUE]
                index += 1
                if day > until:
                    break
                if day == last or (since is not None and day <= since):
                    continue
                last = day
                log = self.payments
                start = len(log)
                log += (None, day, 0, 0, 0, 0, 0)
                left = self._sweep(self.credit, day, log)
                if len(log) == start + PAYMENT_HEAD:  # nothing due was owed
                    del log[start:]
                else:
                    log[start + CREDIT] = left - self.credit
                    log[start + LINES] = (len(log) - start - PAYMENT_HEAD) // 3
                    self.credit = left
                    if left <= 0:
                        break
        if since is None or until > since:
            self.credit_through = until

    # --- events ----------------------------------------------------------------------------

    def step(self, event: Event) -> None:
        if self.plan is not None:
            if self.credit > 0:
                self._use_credit(event.on)
            elif self.credit_through is None or event.on > self.credit_through:
                self.credit_through = event.on  # `_use_credit` with nothing to use
        kind = type(event)
        if kind is Repayment or kind is Prepayment:
            self._repay(event)  # type: ignore[arg-type]
        elif kind is Disbursement:
            if self.plan is None:
                self._disburse(event)  # type: ignore[arg-type]
            else:
                self._tranche(event)  # type: ignore[arg-type]
        elif kind is PenaltyCharged:
            self._penalty(event)  # type: ignore[arg-type]
        elif kind is not AsOf:
            raise _Fallback

    def _amount(self, amount: Money) -> int:
        if amount.currency != self.currency or amount.minor <= 0:
            raise _Fallback  # the reference refuses it, with its code
        return amount.minor

    def _penalty(self, event: PenaltyCharged) -> None:
        """`fold._penalty`: charged to an installment already due, then the credit held used."""
        amount = self._amount(event.amount)
        if self.plan is None:
            raise _Fallback
        row = next((row for row in self.rows if row[NUMBER] == event.installment), None)
        if row is None or row[DUE] > event.on:
            raise _Fallback  # the reference refuses it (installment_unknown, installment_not_due)
        row[CHARGED + 3] += amount
        row[OWED + 3] += amount
        self.first = 0  # the installment may be one the cursor had passed
        if self.credit > 0:
            log = self.payments
            start = len(log)
            log += (None, event.on, 0, 0, 0, 0, 0)
            left = self._sweep(self.credit, event.on, log)
            if len(log) == start + PAYMENT_HEAD:
                del log[start:]
            else:
                log[start + CREDIT] = left - self.credit
                log[start + LINES] = (len(log) - start - PAYMENT_HEAD) // 3
                self.credit = left

    def _disburse(self, event: Disbursement) -> None:
        terms = self.terms
        contract = terms.contract
        amount = self._amount(event.amount)
        periods = contract.periods
        if event.amount > terms.approved_maximum or (
                periods.first_due_date is not None and periods.first_due_date <= event.on):
            raise _Fallback
        if _plain_contract(contract):
            plan = _IntegerPlan.disbursed(contract, event.amount, event.on, terms.calendar)
            if plan is not None:
                self.rows = [[r[0], r[1], r[5], r[6], 0, 0, r[5], r[6], 0, 0] for r in plan.rows]
                self.rows.sort(key=_BY_DUE_DATE)
                self.first = 0
                self.plan = plan
                self.disbursed = amount
                self.disbursed_on = event.on
                self.disbursements = [(event.id, event.on, event.amount)]
                self.credit_through = event.on
                return
        actual = replace(contract, principal=event.amount, periods=replace(periods, start=event.on))
        schedule = build_schedule(actual, calendar=terms.calendar)
        rows = [[r.number, r.due_date, r.principal_minor, r.interest_minor, r.fees_minor, 0,
                 r.principal_minor, r.interest_minor, r.fees_minor, 0] for r in schedule.installments]
        fees_now = schedule.totals.paid_at_disbursement_minor
        if fees_now > 0:
            rows.insert(0, [0, event.on, 0, 0, fees_now, 0, 0, 0, fees_now, 0])
        rows.sort(key=_BY_DUE_DATE)
        self.rows = rows
        self.first = 0
        if plain(actual, schedule):
            self.plan = _IntegerPlan.of(schedule, actual, terms.calendar)
        else:
            self.plan = Reamortisation(schedule, actual, terms.prepayment_mode, terms.calendar)
        self.disbursed = amount
        self.disbursed_on = event.on
        self.disbursements = [(event.id, event.on, event.amount)]
        self.credit_through = event.on

    def _replaced(self, plan: Reamortisation | _IntegerPlan, on: date) -> tuple[set[int], list[Row]]:
        """The installment numbers a re-amortisation on `on` replaces, and the rows that stay;
        each replaced row must owe exactly its schedule row (nothing paid ahead, no charge on
        it) -- otherwise the reference decides (it refuses, or sets charges aside)."""
        if type(plan) is _IntegerPlan:
            schedule_rows: Sequence[tuple[Any, ...]] = plan.rows
            ended = plan.standing(on)[0]
        else:
            assert isinstance(plan, Reamortisation)
            schedule_rows = plan.schedule.installments
            ended = standing(plan.schedule, on).ended
        scheduled = {r[0]: r for r in schedule_rows[ended:]}  # an `Installment`'s fields, by index
        kept = []
        for row in self.rows:
            r = scheduled.get(row[NUMBER])
            if r is None:
                kept.append(row)
            elif not (row[2] == row[6] == r[5] and row[3] == row[7] == r[6]  # principal, interest,
                      and row[4] == row[8] == r[7] and row[5] == row[9] == 0):  # fees charged and owed
                raise _Fallback
        return set(scheduled), kept

    def _install(self, kept: list[Row], new: Sequence[tuple[Any, ...]], *, cleared: bool = False) -> None:
        """The rows `kept` and the schedule rows `new` (`Installment`s or the integer plan's tuples
        of their fields: charged and owed what they say; with `cleared`, charged and owed nothing:
        a prepayment repaid the loan in full)."""
        if cleared:
            rows = kept + [[r[0], r[1], 0, 0, 0, 0, 0, 0, 0, 0] for r in new]
        else:  # number, due date, principal, interest, fees
            rows = kept + [[r[0], r[1], r[5], r[6], r[7], 0, r[5], r[6], r[7], 0] for r in new]
        rows.sort(key=_BY_DUE_DATE)
        self.rows = rows
        self.first = 0

    def _tranche(self, event: Disbursement) -> None:
        terms, plan = self.terms, self.plan
        assert plan is not None
        amount = self._amount(event.amount)
        outstanding = sum(row[6] for row in self.rows)
        if not terms.tranches or outstanding + amount > terms.approved_maximum.minor:
            raise _Fallback
        if type(plan) is _IntegerPlan:
            ended = plan.standing(event.on)[0]
            if ended == len(plan.rows):
                raise _Fallback
            _, kept = self._replaced(plan, event.on)
            plan.tranche(event.on, amount)
            self._install(kept, plan.rows[ended:])
            self.disbursed += amount
            self.disbursements.append((event.id, event.on, event.amount))
            return
        assert isinstance(plan, Reamortisation)
        if standing(plan.schedule, event.on).ended == len(plan.schedule.installments):
            raise _Fallback
        replaced, kept = self._replaced(plan, event.on)
        schedule = add_tranche(plan.schedule, plan.terms, disbursed_on=event.on, amount=event.amount,
                               calendar=terms.calendar)
        self._install(kept, [r for r in schedule.installments if r.number in replaced])
        self.plan = replace(plan, schedule=schedule)
        self.disbursed += amount
        self.disbursements.append((event.id, event.on, event.amount))

    def _repay(self, event: Repayment | Prepayment) -> None:
        money = event.amount
        amount = money.minor
        if money.currency != self.currency or amount <= 0 or self.plan is None:
            raise _Fallback  # the reference refuses it, with its code
        terms = self.terms
        if type(event) is Prepayment:
            policy, mode = OverpaymentPolicy.PREPAY_PRINCIPAL, event.mode
        else:
            policy, mode = terms.overpayment, terms.prepayment_mode
        log = self.payments
        start = len(log)
        log += (event.id, event.on, amount, 0, 0, 0, 0)
        left = self._sweep(amount, event.on, log)
        log[start + LINES] = (len(log) - start - PAYMENT_HEAD) // 3
        prepayment = 0
        if left > 0 and policy is OverpaymentPolicy.PREPAY_PRINCIPAL:
            on = event.on
            prepayment = min(left, sum(row[6] + row[7] for row in self.rows if row[DUE] > on))
            left -= prepayment
        if prepayment > 0:
            self._prepay(event, start, left, prepayment, mode)
            return
        log[start + CREDIT] = left
        self.credit += left

    def _prepay(self, event: Repayment | Prepayment, start: int, left: int, prepayment: int,
                mode: PrepaymentMode) -> None:
        """`fold._prepay`: re-amortise with the prepayment, complete the payment recorded at
        `start` of the payments' log."""
        plan = self.plan
        assert plan is not None
        _, kept = self._replaced(plan, event.on)
        log = self.payments
        if type(plan) is _IntegerPlan:
            unused, interest, principal = self._reamortise_integer(plan, event.on, prepayment, kept, mode)
            credit = left + unused
            log[start + INTEREST_PREPAID: start + LINES] = (interest, principal, credit)
            self.credit += credit
            self.principal_prepaid += principal
            self.interest_prepaid += interest
            return
        assert isinstance(plan, Reamortisation)
        unused, interest, principal = self._reamortise(replace(plan, mode=mode), event.on, prepayment, kept)
        credit = left + unused
        log[start + INTEREST_PREPAID: start + LINES] = (interest, principal, credit)
        assert isinstance(self.plan, Reamortisation)
        self.plan = replace(self.plan, mode=self.terms.prepayment_mode)
        self.credit += credit
        self.principal_prepaid += principal
        self.interest_prepaid += interest

    def _reamortise(self, state: Reamortisation, on: date, amount: int, kept: list[Row]) -> tuple[int, int, int]:
        """`prepayment.reamortise` on the columns: the plan that follows a prepayment of `amount`
        on `on` (set on `self.plan`), the rows not `kept` replaced by its rows; (unused, interest
        prepaid, principal prepaid) in minor units.  The same steps and the same calls
        (`accrued_to`, `partial_prepayment`), without making the installments' dues."""
        self.plan = state
        if state.settled_on is not None:
            return amount, 0, 0
        schedule, terms = state.schedule, state.terms
        rows = schedule.installments
        where = standing(schedule, on)
        if where.ended == len(rows):
            return amount, 0, 0
        accrued = accrued_to(schedule, on, rate=terms.annual_rate, day_count=terms.day_count,
                             rounding=terms.rounding)
        balance = where.balance
        payoff = balance + schedule.deferred_after(where.ended) + accrued
        paid = Money(amount, self.currency)
        if paid >= payoff:
            taken = PrepaymentResult(on, payoff, payoff - balance, balance, schedule)
            self.plan = replace(state, settled_on=on, prepayments=(*state.prepayments, taken))
            self._install(kept, rows[where.ended:], cleared=True)
            return amount - payoff.minor, payoff.minor - balance.minor, balance.minor
        if paid <= accrued:
            return amount, 0, 0
        usable = min(paid, accrued + balance - terms.rounding.quantum)
        if usable <= accrued:
            return amount, 0, 0
        result = partial_prepayment(schedule, terms, paid_on=on, amount=usable, mode=state.mode,
                                    calendar=state.calendar)
        self.plan = replace(state, schedule=result.schedule, prepayments=(*state.prepayments, result))
        self._install(kept, result.schedule.installments[where.ended:])
        return amount - usable.minor, result.accrued_interest.minor, result.principal_prepaid.minor

    def _reamortise_integer(self, plan: _IntegerPlan, on: date, amount: int, kept: list[Row],
                            mode: PrepaymentMode) -> tuple[int, int, int]:
        """`_reamortise` on the integer plan: the same steps, in minor units."""
        if plan.settled_on is not None:
            return amount, 0, 0
        ended, balance, earning, start = plan.standing(on)
        if ended == len(plan.rows):
            return amount, 0, 0
        accrued = plan._accrued(on, balance, earning, start)
        payoff = balance + accrued  # nothing deferred on plain terms
        if amount >= payoff:
            plan.settled_on = on
            self._install(kept, plan.rows[ended:], cleared=True)
            return amount - payoff, accrued, balance
        if amount <= accrued:
            return amount, 0, 0
        usable = min(amount, accrued + balance - 1)
        if usable <= accrued:
            return amount, 0, 0
        interest, principal = plan.prepay(on, usable, mode)
        self._install(kept, plan.rows[ended:])
        return amount - usable, interest, principal


# --- the schedule on integers (plain terms) ------------------------------------------------------


def plain(contract: LoanTerms, schedule: Schedule) -> bool:
    """Whether the kernel keeps `schedule` (built from `contract`) as its own integer rows: equal
    installments on the declining balance, interest per period as the repayments, no grace,
    interest-free period, installment multiple or fee, nothing carried in -- the terms whose
    re-amortisation `_IntegerPlan` writes out.  Anything else calls the shared functions."""
    return (
        _plain_contract(contract)
        and not schedule.fee_charges
        and not schedule.deferred_interest_minor
        and not schedule.deferred_opening_minor
        and not schedule.totals.paid_at_disbursement_minor
        and schedule.installments[0].period_start >= contract.periods.start
    )


def _plain_contract(contract: LoanTerms) -> bool:
    return (
        contract.method is RepaymentMethod.EQUAL_INSTALLMENT
        and contract.interest_method is InterestMethod.DECLINING_BALANCE
        and contract.interest_calculation is InterestCalculation.SAME_AS_REPAYMENT
        and contract.level_installment is LevelInstallment.EXACT
        and contract.installment_multiple is None
        and not contract.grace_on_principal
        and not contract.grace_on_interest_payment
        and not contract.interest_free_periods
        and not contract.fees
    )


def level_after_first(principal: int, first: Ratio, rate: Ratio, m: int, mode: RoundingMode) -> int:
    """`amortize.level_payment(principal, [first] + [rate] * (m - 1), mode)` in closed form: a
    re-amortised schedule's first period runs from the day (its own rate a1/b1), the m - 1 after
    it are regular (a/b, a > 0).  The annuity factor b1 ((a+b)^m - b^m) / ((a1+b1) a (a+b)^(m-1))
    is the Horner sum's value, so principal / factor is the same rational, rounded once:

        P (a1+b1) a (a+b)^(m-1) / (b1 ((a+b)^m - b^m))

    (two powers instead of m products of growing integers)."""
    a1, b1 = first
    a, b = rate
    growth = (a + b) ** (m - 1)
    return divide_rounded(principal * (a1 + b1) * a * growth, b1 * (growth * (a + b) - b**m), mode)


def _installments_of(rows: Sequence[tuple[Any, ...]]) -> tuple[Installment, ...]:
    """The `Installment` values of the integer plan's rows (tuples of their fields)."""
    return tuple(row if type(row) is Installment else _new_row(Installment, row) for row in rows)


class _IntegerPlan:
    """`prepayment.Reamortisation` for plain terms (`plain`), on the schedule's integer rows.

    The rows are the schedule's rows as plain tuples, field for field an `Installment`'s
    (number, due date, period start, period end, days, principal, interest, fees, balance after,
    currency: all atomic, so the garbage collector stops tracking them at its first pass; the
    `Installment` values are made with the `Schedule`), replaced from a day on by a tranche or a
    prepayment through the same recurrence `prepayment._reamortised` runs through
    `amortize._general` for these terms: the periods still to come (the first from the day,
    interest on its actual days), the level payment over their rates (`level_payment`, the
    Horner form for the short first period) or, shortening the term, the installment kept;
    then row by row ``I = round(B x a / b)`` by the policy's mode, principal the installment
    less it (clamped to the balance; the last row takes the balance), interest carried into
    the first row (a tranche's) added to its interest.  The `Schedule` value is made only when
    read (`schedule`), by `build.rebuilt_schedule` as the reference makes it.  Mutable and
    private to one fold."""

    __slots__ = ("_base", "_changed", "_first_rows", "_level", "_made", "_terms", "calendar", "contract", "currency",
                 "dates", "day_count", "mode", "principal", "rate", "regular", "rows", "settled_on", "spec")

    def __init__(self, contract: LoanTerms, principal: Money, spec: PeriodSpec, calendar: HolidayCalendar,
                 rows: list[tuple[Any, ...]], base: Schedule | None = None, *, dates: PeriodPlan | None = None,
                 regular: Ratio | None = None) -> None:
        self.contract = contract
        self.principal = principal
        self.spec = spec
        self.calendar = calendar
        self.rows = rows
        self._first_rows = tuple(rows)
        self._level: PeriodPlan | None = None
        """The periods of the first disbursement's rows, if they are the fast path's (`disbursed`)."""
        self._base = base
        self._terms: LoanTerms | None = None
        self._made: Schedule | None = base
        self._changed = False
        rounding = contract.rounding
        self.mode = rounding.mode
        self.currency = rounding.currency
        self.day_count = contract.day_count
        self.rate = contract.annual_rate.as_integer_ratio()
        if regular is None:
            regular = period_rate(contract.annual_rate, spec.frequency.year_fraction(contract.day_count.basis))
        self.regular = regular
        self.dates = dates if dates is not None else generate_periods(spec, calendar)
        """The periods' dates as columns (`PeriodPlan`; its `Period` rows are not made: a plan is
        memoised and shared, and the first fold of a loan would pay for them)."""
        self.settled_on: date | None = None

    @classmethod
    def of(cls, schedule: Schedule, terms: LoanTerms, calendar: HolidayCalendar) -> _IntegerPlan:
        """The plan of `schedule`, built from `terms` (plain: `plain(terms, schedule)`)."""
        return cls(terms, terms.principal, terms.periods, calendar, list(schedule.installments), schedule)

    @classmethod
    def disbursed(cls, contract: LoanTerms, amount: Money, on: date, calendar: HolidayCalendar) -> _IntegerPlan | None:
        """The plan of the first disbursement of `amount` on `on` under plain `contract` terms, its
        rows made by the schedule builder's own fast path (`amortize.level_rows`, what
        `build_schedule` returns for these terms over regular periods: `annuity_rows` with the
        periods' dates, here as plain tuples in one pass), the `Schedule` value built only when
        read; None where that path does not apply (`build_schedule` decides)."""
        spec = replace(contract.periods, start=on)
        dates = generate_periods(spec, calendar)
        if not dates.regular or not dates.count or dates.starts[0] < on:
            return None
        rate = period_rate(contract.annual_rate, spec.frequency.year_fraction(contract.day_count.basis))
        rounding = contract.rounding
        core = annuity_rows(amount, rate, dates.count, mode=rounding.mode)
        if core is None:
            return None
        currency = rounding.currency
        rows = [(number, due, start, end, days, part, interest, 0, balance, currency)
                for (number, _, interest, part, balance), due, start, end, days
                in zip(core, dates.due_dates, dates.starts, dates.ends, dates.days, strict=False)]  # as `_rows`
        plan = cls(contract, amount, spec, calendar, rows, dates=dates, regular=rate)
        plan._level = dates
        return plan

    @property
    def terms(self) -> LoanTerms:
        """The contract as disbursed (its principal, its periods from the disbursement)."""
        if self._terms is None:
            self._terms = replace(self.contract, principal=self.principal, periods=self.spec)
        return self._terms

    @property
    def base(self) -> Schedule:
        """The schedule as first disbursed (`build_schedule`, on first read)."""
        if self._base is None:
            if self._level is None:
                self._base = build_schedule(self.terms, calendar=self.calendar)
            else:  # the builder's fast path's rows, as disbursed (`build.level_schedule`)
                rows = self._first_rows
                self._base = level_schedule(self.terms, self._level, _installments_of(rows),
                                            sum(row[6] for row in rows))
        return self._base

    @property
    def schedule(self) -> Schedule:
        """The `Schedule` these rows are (made on first read after a change)."""
        if self._made is None:
            base = self.base
            self._made = rebuilt_schedule(base, _installments_of(self.rows), ()) if self._changed else base
        return self._made

    def standing(self, on: date) -> tuple[int, int, bool, date | None]:
        """`prepayment.standing` in minor units: (ended, balance, earning, period start)."""
        rows = self.rows
        ended = 0
        for row in rows:
            if row[3] <= on or row[1] <= on:  # period end, due date
                ended += 1
        if ended == len(rows):
            return ended, rows[-1][8], False, None
        running = rows[ended]
        return ended, running[8] + running[5], running[6] > 0, running[2]

    def accrued(self, on: date, base: int | None = None) -> int:
        """`prepayment.accrued_to` in minor units: the running period's interest earned by `on`."""
        _, balance, earning, start = self.standing(on)
        return self._accrued(on, balance if base is None else base, earning, start)

    def _accrued(self, on: date, balance: int, earning: bool, start: date | None) -> int:
        if not earning or start is None or on <= start or not balance or not self.rate[0]:
            return 0
        p, q = self.rate
        fraction = self.day_count.year_fraction(start, on)
        return divide_rounded(balance * p * fraction.numerator, q * fraction.denominator, self.mode)

    def prepay(self, on: date, amount: int, mode: PrepaymentMode) -> tuple[int, int]:
        """`partial_prepayment` of `amount` (more than the accrued interest, less than the payoff):
        the rows re-amortised; (interest settled, principal prepaid)."""
        ended, balance, earning, start = self.standing(on)
        accrued = self._accrued(on, balance, earning, start)
        prepaid = amount - accrued
        self._reamortise(on, ended, balance - prepaid, 0, mode)
        return accrued, prepaid

    def tranche(self, on: date, amount: int) -> None:
        """`add_tranche` (re-amortising) of `amount` on `on`: the running period's interest so far
        carried into the first new row, the installment recomputed over the same dates."""
        ended, balance, earning, start = self.standing(on)
        accrued = self._accrued(on, balance, earning, start)
        self._reamortise(on, ended, balance + amount, accrued, PrepaymentMode.REDUCE_INSTALLMENT)

    def _reamortise(self, on: date, ended: int, principal: int, carried_in: int, mode: PrepaymentMode) -> None:
        rows, dates = self.rows, self.dates
        count = len(rows)
        dues = dates.due_dates[ended:count]
        if not dues or list(dues) != [row[1] for row in rows[ended:]]:
            raise _Fallback  # the reference refuses (terms that do not describe the schedule)
        starts, ends = list(dates.starts[ended:count]), dates.ends[ended:count]
        days, flags = list(dates.days[ended:count]), list(dates.regular_flags[ended:count])
        if on > starts[0]:  # the first period runs from the day (a broken period)
            starts[0], days[0], flags[0] = on, (ends[0] - on).days, False
        rate, regular, day_count = self.contract.annual_rate, self.regular, self.day_count
        rates = [regular if flags[k] else period_rate(rate, day_count.year_fraction(starts[k], ends[k]))
                 for k in range(len(dues))]
        mode_ = self.mode
        installment = None
        if mode is PrepaymentMode.SHORTEN_TERM:  # `prepayment._level_amounts`: the installment kept
            for index in range(ended, len(rows) - 1):
                row = rows[index]
                if row[5] > 0:
                    installment = row[5] + row[6]
                    break
        if installment is None:
            if len(rates) > 1 and regular[0] and rates.count(regular) == len(rates) - (rates[0] != regular):
                installment = level_after_first(principal, rates[0], regular, len(rates), mode_)
            else:
                installment = level_payment(principal, rates, mode_)
        new = rows[:ended]
        balance, carried, currency = principal, carried_in, self.currency
        last = len(dues) - 1
        number = ended
        b_regular = regular[1]
        offset = floor_offset(mode_, b_regular)  # (x + offset) // b is `divide_rounded` for x >= 0 (not half-even)
        for k in range(len(dues)):
            a, b = rates[k]
            if not a:
                interest = 0
            elif b == b_regular and offset is not None:  # the balance is never negative
                interest = (balance * a + offset) // b
            else:
                interest = divide_rounded(balance * a, b, mode_)
            if k == last:
                part = balance
            else:
                part = installment - interest
                if part > balance:
                    part = balance
                elif part < 0:
                    part = 0
            balance -= part
            number += 1
            new.append((number, dues[k], starts[k], ends[k], days[k], part, interest + carried, 0, balance, currency))
            carried = 0
            if not balance:
                break
        self.rows = new
        self._made = None
        self._changed = True


class KernelFold:
    """A loan folded by the kernel up to `as_of`: integer columns; `state()` makes the `LoanState`
    (the reference's, field for field), and a few figures are read without making it."""

    __slots__ = ("_columns", "_reversed", "_state", "_taken", "as_of")

    def __init__(self, columns: _Columns, as_of: date, taken: list[Event], reversed_ids: tuple[str, ...]) -> None:
        self._columns = columns
        self.as_of = as_of
        self._taken = taken
        self._reversed = reversed_ids
        self._state: LoanState | None = None

    @property
    def outstanding_minor(self) -> int:
        """Everything still owed, all components, in minor units."""
        return sum(row[6] + row[7] + row[8] + row[9] for row in self._columns.rows)

    @property
    def credit_minor(self) -> int:
        """The credit held, in minor units."""
        return self._columns.credit

    def state(self) -> LoanState:
        """The `LoanState` (made once, on first read); a state read straight from the columns keeps what it was
        folded from (`fold_later`)."""
        if self._state is None:
            read = _read(self._columns, self.as_of, self._reversed)
            self._state = _planned(read, self._columns.terms, self._taken)
            if self._state is read:
                read.__dict__[_FOLDED] = (self._columns, self._taken, self._reversed)
        return self._state


def fold(terms: Terms, events: Sequence[Event], *, as_of: date) -> LoanState:
    """The state of a loan on `as_of`: its events up to that day, folded from scratch (`loan.fold`).

    Histories the kernel covers (`covers`: no recalculation, down payment or restructuring;
    disbursements, repayments, prepayments, penalties, reversals) are folded here, the rest by the
    reference (`fold.reference_fold`); both give the same state (property-tested, and checked
    loan by loan by bench/replay.py).  It lives here, not in `fold`, so that the reference does not
    import the kernel that imports it."""
    folded = try_fold(terms, events, as_of=as_of)
    if folded is not None:
        return folded.state()
    return reference_fold(terms, events, as_of=as_of)


def try_fold(terms: Terms, events: Sequence[Event], *, as_of: date) -> KernelFold | None:
    """The loan on `as_of` folded by the kernel, or None where the reference must fold it
    (`covers` is false, or the history holds something the kernel hands over).  Raises the
    reference's `EventRefused` for a history that is not one (a duplicate id, a reversal of
    nothing), as the reference does."""
    if not _covers_terms(terms):
        return None
    # One pass: the events taken (value date by `as_of`), `covers` on them, reversals, the ids.
    taken: list[Event] = []
    ids: set[str] = set()
    reversals = False
    append, add = taken.append, ids.add
    for event in events:
        if event.on <= as_of:
            kind = type(event)
            if kind is Repayment:
                if event.strategy is not None:  # type: ignore[attr-defined]
                    return None
            elif kind not in _COVERED_EVENTS:
                return None
            elif kind is Reversal:
                reversals = True
            append(event)
            add(event.id)
    reversed_ids: tuple[str, ...] = ()
    if not reversals and len(ids) == len(taken):
        # `fold._effective` of a history without reversals or duplicate ids: the events in
        # value-date order, rank, then as recorded (a stable sort keeps that order).
        effective: Sequence[Event] = sorted(taken, key=_BY_VALUE_DATE)
    else:
        effective = [event for _, event in _effective(taken, terms)]
        reversed_ids = _reversed(taken)
    try:
        return fold_columns(terms, taken, effective, reversed_ids, as_of)
    except _Fallback:
        return None


def fold_more(folded: KernelFold, penalties: Sequence[Event]) -> KernelFold | None:
    """`folded` with `penalties` (`PenaltyCharged` events value-dated its `as_of`, recorded after its events) added:
    the fold of all the events on that day without folding the earlier ones again, or None where that is not known
    to be the same as folding them all (`try_fold`), and the caller folds them all.

    Folding them all sorts the events by (value date, rank), recorded order within (no reversal, no repeated
    id: `try_fold`'s fast path), steps them and uses the credit held by `as_of`. The penalties come last in that
    order when no event already folded is value-dated `as_of` with a higher rank; with no credit held after the
    first fold, using it is nothing both before and after them (a penalty holds no credit). Then stepping the
    penalties over a copy of the columns is that fold, step for step."""
    columns, as_of, taken = folded._columns, folded.as_of, folded._taken
    if columns.plan is None or columns.credit != 0 or folded._reversed:
        return None
    ids = {event.id for event in taken}
    if len(ids) != len(taken) or any(type(event) is Reversal for event in taken):
        return None
    for penalty in penalties:
        if type(penalty) is not PenaltyCharged or penalty.on != as_of or penalty.id in ids:
            return None
        if any(event.on == as_of and event.rank > penalty.rank for event in taken):
            return None
        ids.add(penalty.id)
    more = columns.copy()
    try:
        for penalty in penalties:
            more.step(penalty)
        more._use_credit(as_of)
    except _Fallback:
        return None
    return KernelFold(more, as_of, [*taken, *penalties], ())


def fold_later(state: LoanState, events: Sequence[Event], *, as_of: date) -> KernelFold | None:
    """The fold of `events` on `as_of` from `state`, the kernel's fold of the same events on an earlier day, without
    folding them again -- or None where that is not known to be the same as folding them (`try_fold`), and the caller
    folds them.

    Folding them on `as_of` takes the events value-dated by then, steps them in their order over new columns and uses
    the credit held on each due date through `as_of`. When `state` was read from the kernel's columns of these very
    events (all of them: none value-dated after its day) and holds no credit, the events taken are the same, their
    steps give the same columns, and using credit is nothing (a step moves only the day credit was used through):
    the columns are `state`'s, read on the later day (`_read`: the status, the days past due, the accrual and
    the payoff of `as_of`). The columns are shared, not copied: nothing steps folded columns (`fold_more` copies)."""
    kept = state.__dict__.get(_FOLDED)
    if kept is None or as_of < state.as_of:
        return None
    columns, taken, reversed_ids = kept
    if columns.plan is None or columns.credit != 0 or len(taken) != len(events) \
            or any(a is not b and a != b for a, b in zip(taken, events, strict=True)):
        return None
    return KernelFold(columns, as_of, taken, reversed_ids)


def fold_columns(terms: Terms, taken: list[Event], effective: Sequence[Event],
                 reversed_ids: tuple[str, ...], as_of: date) -> KernelFold:
    """Fold `effective` (the events that count, in value-date order) over integer columns and
    bring them to `as_of`; raises `_Fallback` where the reference must decide."""
    columns = _Columns(terms)
    for event in effective:
        columns.step(event)
    if columns.plan is not None:
        columns._use_credit(as_of)
    return KernelFold(columns, as_of, taken, reversed_ids)


# --- reading the columns into a LoanState (`fold._read`) ---------------------------------------


class _Amounts(dict[int, Money]):
    """`Money` of one currency by minor units, each made once (a state reads several hundred)."""

    def __init__(self, currency: str) -> None:
        super().__init__()
        self.currency = currency

    def __missing__(self, minor: int) -> Money:
        value = self[minor] = Money(minor, self.currency)
        return value


def _read(columns: _Columns, as_of: date, reversed_ids: tuple[str, ...]) -> LoanState:
    """The `LoanState` of the columns on `as_of`: the status, the days past due, the class and the
    totals made now; the disbursements, the schedule, the installments, the payments and the
    payoff quote given as `later(...)` (`state.LAZY_FIELDS`), made from the same columns on first
    read (`_disbursements`, `_schedule`, `_installments`, `_payments`, `_integer_payoff`), with
    one `Money` per amount shared by all of them (`_Amounts`) -- the columns are not changed
    once folded."""
    terms, code, plan = columns.terms, columns.currency, columns.plan
    rows = columns.rows
    money = _Amounts(code)  # one `Money` per amount, shared by the fields made now and later
    zero = money[0]
    owing = False
    first = columns.first  # every row before the cursor owes nothing: both walks start at it
    for row in islice(rows, first, None):
        if row[6] or row[7] or row[8] or row[9]:
            owing = True
            break
    if plan is None:
        status = LoanStatus.APPROVED
    elif owing:
        status = LoanStatus.ACTIVE
    else:
        status = LoanStatus.OVERPAID if columns.credit > 0 else LoanStatus.CLOSED
    accrued = base = zero
    payoff = None
    dpd = 0
    if status is LoanStatus.ACTIVE and plan is not None:
        if plan.settled_on is None and type(plan) is _IntegerPlan:
            _, balance, earning, since = plan.standing(as_of)
            accrued = money[plan._accrued(as_of, balance, earning, since)]
            payoff = later(_integer_payoff, plan, rows, as_of, money)
            base = money[max(balance if earning else 0, 0)]
        elif plan.settled_on is None:
            contract = plan.terms
            accrued = accrued_to(plan.schedule, as_of, rate=contract.annual_rate, day_count=contract.day_count,
                                 rounding=contract.rounding)
            payoff = later(_payoff, plan.schedule, rows, as_of, contract.annual_rate, contract, code)
            where = standing(plan.schedule, as_of)
            base = Money(max(where.balance.minor if where.earning else 0, 0), code)
        tolerance = terms.dpd_tolerance.minor
        for row in islice(rows, first, None):  # sorted by due date: the first unpaid one past due is the oldest
            if row[DUE] >= as_of:
                break
            if row[6] + row[7] + row[8] + row[9] > tolerance:
                dpd = installment_dpd(row[DUE], as_of, terms.dpd_grace_days)
                break
    state = LoanState(
        as_of=as_of,
        currency=code,
        status=status,
        disbursed=money[columns.disbursed],
        disbursed_on=columns.disbursed_on,
        disbursements=later(_disbursements, columns.disbursements) if columns.disbursements else (),
        schedule=later(_schedule, plan) if plan is not None else None,
        installments=later(_installments, plan, rows, money) if plan is not None else (),
        payments=later(_payments, columns.payments, money) if columns.payments else (),
        credit_balance=money[columns.credit],
        principal_prepaid=money[columns.principal_prepaid],
        interest_prepaid=money[columns.interest_prepaid],
        recovered=zero,
        refunded=zero,  # a Refund is not covered: such a history goes to the reference fold
        interest_refunded=zero,
        written_off_on=None,
        accrued_interest=accrued,
        interest_base=base,
        dpd=dpd,
        bucket=bucket_for(dpd, terms.buckets),
        classification=classify(ClassificationInput(dpd=dpd), policy=terms.classification),
        restructured_on=None,
        payoff=payoff,
        reversed=reversed_ids,
    )
    state.__dict__[_VIEW] = (plan, rows, columns.payments)  # not a field: `integer_view`
    return state


def _disbursements(made: list[tuple[str, date, Money]]) -> tuple[Disbursed, ...]:
    return tuple(Disbursed(event_id, on, amount) for event_id, on, amount in made)


def _schedule(plan: Reamortisation | _IntegerPlan) -> Schedule:
    return plan.schedule


def _installments(plan: Reamortisation | _IntegerPlan, rows: list[Row],
                  money: _Amounts) -> tuple[InstallmentState, ...]:
    """`LoanState.installments` of the folded rows (`fold._read`'s, field for field)."""
    zero = money[0]
    nothing = Amounts(zero, zero, zero, zero)
    installments: list[InstallmentState] = []
    for number, start, due, cp, ci, cf, cn, op, oi, of, on, after in _installment_values(plan, rows):
        charged = Amounts(money[cp], money[ci], money[cf], money[cn])
        if op or oi or of or on:
            paid = Amounts(money[cp - op], money[ci - oi], money[cf - of], money[cn - on])
            outstanding = Amounts(money[op], money[oi], money[of], money[on])
        else:  # settled: paid what it was charged (the values are immutable, shared)
            paid, outstanding = charged, nothing
        installments.append(InstallmentState(number, start, due, charged, paid, nothing, nothing, outstanding,
                                             money[after]))
    return tuple(installments)


InstallmentValues = tuple[int, date, date, int, int, int, int, int, int, int, int, int]
"""One installment in minor units: number, period start, due date, charged (principal, interest, fee,
penalty), owed (the same four), the principal the schedule leaves owed after it."""


def _installment_values(plan: Reamortisation | _IntegerPlan, rows: list[Row]) -> Iterator[InstallmentValues]:
    """The folded rows with their period start and balance after (`_installments`; `integer_view`)."""
    schedule = plan.schedule
    by_number = {r.number: r for r in schedule.installments}
    last = schedule.installments[-1]
    for row in rows:
        number, due, cp, ci, cf, cn, op, oi, of, on = row
        r = by_number.get(number)
        if r is not None:
            start, after = r.period_start, r.balance_after_minor
        else:
            start = last.due_date if number > last.number else due
            after = sum(x[2] for x in rows if x[NUMBER] > 0 and x[DUE] > due)
        yield number, start, due, cp, ci, cf, cn, op, oi, of, on, after


@dataclass(frozen=True, slots=True)
class IntegerView:
    """A kernel fold's installments and payments in minor units (`integer_view`): what `LoanState`'s
    installments and payments are made from, without making them. Nothing is waived or written off on a
    history the kernel folds (`covers`)."""

    installments: tuple[InstallmentValues, ...]
    payments: tuple[tuple[Any, ...], ...]
    """Per payment: event id (None: credit used on a due date), on, amount, interest prepaid, principal
    prepaid, credit (minor units), then three integers a line: installment, component column (0 principal,
    1 interest, 2 fee, 3 penalty), amount."""


_VIEW = "_integer_view"  # the state's __dict__: (plan, rows, payments' log) of the kernel fold that read it
_VIEW_MADE = "_integer_view_made"  # the state's __dict__: the `IntegerView` made of it (made once)
_FOLDED = "_kernel_folded"  # the state's __dict__: (columns, events taken, reversed ids) it was read from


def integer_view(state: LoanState) -> IntegerView | None:
    """`state`'s installments and payments in minor units when the kernel folded it (None: the reference
    did, or the state was changed since: `dataclasses.replace`, a planned disbursement's projection, a
    pickle), for a reader that writes them out without the objects (`products.replay.state_json`,
    `loan.minor`). Made once per state (the columns are not changed once folded)."""
    made: IntegerView | None = state.__dict__.get(_VIEW_MADE)
    if made is not None:
        return made
    kept = state.__dict__.get(_VIEW)
    if kept is None:
        return None
    plan, rows, log = kept
    payments = []
    index, end = 0, len(log)
    while index < end:
        stop = index + PAYMENT_HEAD + 3 * log[index + LINES]
        payments.append(tuple(log[index:stop]))
        index = stop
    made = IntegerView(installments=tuple(_installment_values(plan, rows)) if plan is not None else (),
                       payments=tuple(payments))
    state.__dict__[_VIEW_MADE] = made
    return made


def _payments(log: list[Any], money: _Amounts) -> tuple[PaymentApplied, ...]:
    """`LoanState.payments` of the folded payments' log (`_Columns.payments`)."""
    made = []
    index, end = 0, len(log)
    while index < end:
        event_id, on, amount, interest, principal, credit, count = log[index:index + PAYMENT_HEAD]
        index += PAYMENT_HEAD
        stop = index + 3 * count  # three integers a line
        lines = tuple(AllocationLine(log[at], _COMPONENTS[log[at + 1]], money[log[at + 2]])
                      for at in range(index, stop, 3))
        index = stop
        made.append(PaymentApplied(event_id, on, money[amount], lines, money[interest], money[principal],
                                   money[credit]))
    return tuple(made)


def _integer_payoff(plan: _IntegerPlan, rows: list[Row], as_of: date, money: _Amounts) -> PayoffQuote:
    """`_payoff` on the integer plan (nothing deferred on plain terms)."""
    ended, _, earning, start = plan.standing(as_of)
    scheduled = plan.rows
    earned = {r[0] for r in scheduled[:ended]}
    numbers = {r[0] for r in scheduled}
    principal = future = overdue = fees = penalties = 0
    for row in rows:
        principal += row[6]
        penalties += row[9]
        if row[NUMBER] in earned or row[NUMBER] not in numbers:
            overdue += row[7]
            fees += row[8]
        else:
            future += row[6]
    accrued = plan._accrued(as_of, future, earning, start)
    total = principal + overdue + accrued + fees + penalties
    zero = money[0]
    return PayoffQuote(as_of=as_of, principal=money[principal], overdue_interest=money[overdue],
                       deferred_interest=zero, accrued_interest=money[accrued], fees=money[fees],
                       penalties=money[penalties], prepayment_fee=zero, total=money[total])


def _payoff(schedule: Schedule, rows: list[Row], as_of: date, rate: Any, contract: Any, code: str) -> PayoffQuote:
    """`prepayment.payoff_quote` with the rows' outstanding amounts, in minor units."""
    where = standing(schedule, as_of)
    earned = {r.number for r in schedule.installments[: where.ended]}
    scheduled = {r.number for r in schedule.installments}
    principal = future = overdue = fees = penalties = 0
    for row in rows:
        principal += row[6]
        penalties += row[9]
        if row[NUMBER] in earned or row[NUMBER] not in scheduled:  # installment 0 fell due at disbursement
            overdue += row[7]
            fees += row[8]
        else:
            future += row[6]
    accrued = accrued_to(schedule, as_of, rate=rate, day_count=contract.day_count, rounding=contract.rounding,
                         base=Money(future, code))
    deferred = schedule.deferred_after(where.ended)
    total = principal + overdue + deferred.minor + accrued.minor + fees + penalties
    zero = Money(0, code)
    return PayoffQuote(as_of=as_of, principal=Money(principal, code), overdue_interest=Money(overdue, code),
                       deferred_interest=deferred, accrued_interest=accrued, fees=Money(fees, code),
                       penalties=Money(penalties, code), prepayment_fee=zero, total=Money(total, code))
