"""Fineract's cumulative generator with interest recalculation (rules R1-R3 of docs/fineract-profile.md).

A named convention of `Terms` (`Terms.cumulative_recalculation`), set only by the `fineract`
profile: on every repayment, and when the loan is read, Fineract regenerates the whole
schedule of a declining-balance loan from the disbursement, running the transactions through
the schedule as it builds it (``AbstractCumulativeLoanScheduleGenerator.generate``,
``handleRecalculationForTransactions``), then allocates every transaction again over the
result.  `regenerated` is that generator; the fold replays the payments over its rows.

What it reproduces (RP01-RP16 of LoanRepayment.feature and the four cumulative cases of
LoanInterestRecalculationCOBTest; the rules first read off them, then checked against
``AbstractCumulativeLoanScheduleGenerator`` -- docs/fineract-profile.md §4 and §9 cite the
methods):

- A transaction belongs to the period ``[start, due)`` its date falls in.  It first pays what
  the installments built so far owe (by the loan's strategy); the rest is an early payment.
- An early payment dated on a due date (the start of the next period) is added to that due
  date's installment's principal.  Under a daily rest one dated inside a period reduces the
  principal the period's interest is counted on from its date, and the installment's principal
  is the level installment less its interest, or the early payment when that is more
  (``handleRecalculationForNonDueDateTransactions``, ``updateAmountsBasedOnCurrentEarlyPayments``).
  Under a same-as-repayment rest its rest date is the due date, so it is taken once the row is
  built, like one on the due date: it pays the row and the rest is added to its principal
  (``handleRecalculationForTransactions``).
- A row's interest is split at each change of that principal; each piece is rounded on its own
  (HALF_EVEN, K3) before they are added.
- The row running on the day of the recalculation (the payment's day, or the day the loan is
  read) counts its interest on the principal actually outstanding (as the payments were
  allocated, the part of a payment beyond the earlier rows included) up to that day (daily
  rest) or for the whole row (same as repayment), and on the scheduled balance after it; rows
  before and after it count on the scheduled balance.  The interest of overdue principal in
  the rows wholly before it is not charged (RP15, RP01: Fineract's own numbers).
- After an early payment the later rows follow the reschedule strategy: a new level
  installment (PMT at the 30-day rate, K4) for the balance over the rows left
  (REDUCE_EMI_AMOUNT); the same installment, the loan ending sooner
  (REDUCE_NUMBER_OF_INSTALLMENTS); or the principal of the following rows reduced by the
  amount until it is used up (RESCHEDULE_NEXT_REPAYMENTS).
- The last row (or the row that reaches the balance) takes the principal left (K5).
- A tranche raises the balance from its day (from the next row when dated on a due date); the
  level installment of a loan that takes tranches is the approved amount's (K11, RP16).
- With `CumulativeRecalculation.compounding`, interest is compounded into the balance on its
  calendar (`InterestCompounding`, R3; RP01 and the daily-rest COB cases).

Fineract keeps the installments due before a repayment's date as its last regeneration left
them (``rescheduleNextInstallments``, ``fetchRetainedInstallments``); this generator recomputes
them on the scheduled balance, which is the same unless a regeneration in between charged one
of them overdue interest (no golden case has such a history; docs/fineract-profile.md §9).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from functools import partial

from microcredit.lending.allocation import (
    AllocationStrategy,
    Component,
    InstallmentDue,
    OverpaymentPolicy,
    allocate,
    apply_allocation,
)
from microcredit.lending.daycount import DayCount
from microcredit.lending.loan.recalculation import RestFrequency
from microcredit.lending.money import Money, RoundingMode, divide_rounded
from microcredit.lending.periods import PeriodUnit, add_units

__all__ = ["CompoundingUnit", "CumulativeRecalculation", "EarlyPayment", "InterestCompounding", "Regenerated",
           "regenerated"]

PmtFunction = Callable[[int, int], int]
"""The level installment (minor units) of a balance (minor units) over a number of periods."""


class EarlyPayment(StrEnum):
    """What an early payment does to the later installments (Fineract ``rescheduleStrategyMethod``)."""

    REDUCE_INSTALLMENT = "reduce_installment"
    """REDUCE_EMI_AMOUNT: a new level installment for the balance over the installments left."""
    SHORTEN_TERM = "shorten_term"
    """REDUCE_NUMBER_OF_INSTALLMENTS: the installment stays, the loan ends sooner."""
    NEXT_PRINCIPAL = "next_principal"
    """RESCHEDULE_NEXT_REPAYMENTS: the following installments' principal reduced by the amount."""


class CompoundingUnit(StrEnum):
    """The calendar of the compounding dates (Fineract ``recalculationCompoundingFrequencyType``)."""

    SAME_AS_REPAYMENT = "same_as_repayment"
    """The due dates."""
    DAYS = "days"
    """Every `InterestCompounding.every` days from the expected disbursement date."""
    MONTHS = "months"
    """Every `InterestCompounding.every` months from the expected disbursement date, on
    `InterestCompounding.day_of_month` (the disbursement's own day when None)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class InterestCompounding:
    """Interest compounded into the balance that bears interest (Fineract
    ``interestRecalculationCompoundingMethod`` INTEREST, rule R3 of docs/fineract-profile.md).

    A compounding date is a day of this calendar strictly after its anchor (the expected
    disbursement date), as ``CalendarUtils.getNextScheduleDate`` gives them.  What it does
    (``CumulativeDecliningBalanceInterestLoanScheduleGenerator.calculatePrincipalInterestComponentsForPeriod``,
    ``AbstractCumulativeLoanScheduleGenerator.updateCompoundingMap``, ``populateCompoundingDatesInPeriod``):

    - on a compounding date strictly inside a row, the row's interest so far (each piece rounded
      on its own, K3) joins the balance, and on the row's first such date also the interest left
      uncompounded by the rows before;
    - on a compounding date that is the row's due date, the rest of the row's interest (and the
      interest left uncompounded before, if no date inside the row took it) joins the balance;
    - a row with a compounding date in ``(start, due]`` takes its whole interest out of the
      balance on its due date, or, when it fell due before the recalculation day, what was
      compounded in it (and the earlier uncompounded interest) on that day (the last rest date);
      what was not compounded is carried to the next compounding date.  A row without one
      carries its interest, uncompounded;
    - interest a payment pays leaves the balance from its rest day rather than the recalculation
      day (``adjustCompoundedAmountWithPaidDetail``).
    """

    unit: CompoundingUnit
    every: int = 1
    day_of_month: int | None = None

    def __post_init__(self) -> None:
        if self.every < 1:
            raise ValueError("interest compounds every 1 or more days or months")
        if self.day_of_month is not None and (self.unit is not CompoundingUnit.MONTHS
                                              or not 1 <= self.day_of_month <= 28):
            raise ValueError("a compounding day of the month is from 1 to 28, for a monthly compounding only")

    def dates(self, anchor: date, due_dates: Sequence[date], until: date) -> list[date]:
        """The compounding dates after `anchor`, up to `until` included."""
        if self.unit is CompoundingUnit.SAME_AS_REPAYMENT:
            return [d for d in due_dates if anchor < d <= until]
        out: list[date] = []
        k = 0
        while True:
            if self.unit is CompoundingUnit.DAYS:
                day = anchor + timedelta(days=k * self.every)
            else:
                day = add_units(anchor, PeriodUnit.MONTH, k * self.every)
                if self.day_of_month is not None:
                    day = day.replace(day=self.day_of_month)
            if day > until:
                return out
            if day > anchor:
                out.append(day)
            k += 1


@dataclass(frozen=True, slots=True, kw_only=True)
class CumulativeRecalculation:
    """Fineract's cumulative schedule regenerated with interest recalculation (module docstring).

    Only for a declining-balance loan with equal installments; the fold
    refuses the events it does not reproduce (charges, waivers, restructuring; a tranche inside
    a period under interest same as the repayment period).
    """

    rest: RestFrequency
    """From when a principal change counts: its day (``daily``) or the due date of the
    installment running then (``same_as_repayment``)."""
    early_payment: EarlyPayment
    compounding: InterestCompounding | None = None
    """Interest compounded on its calendar (R3); None: no compounding (Fineract NONE)."""

    def __post_init__(self) -> None:
        if self.rest not in (RestFrequency.DAILY, RestFrequency.SAME_AS_REPAYMENT):
            raise ValueError("the cumulative recalculation rests daily or on the due dates (same as repayment)")


@dataclass(frozen=True, slots=True)
class Regenerated:
    """The regenerated installments (principal and interest; no fees) in due-date order."""

    rows: tuple[InstallmentDue, ...]


@dataclass(frozen=True, slots=True)
class _Payment:
    on: date
    amount: int


def _rest_day(rule: CumulativeRecalculation, on: date, due_dates: Sequence[date]) -> date:
    """The day a principal change on `on` starts to count."""
    if rule.rest is RestFrequency.DAILY:
        return on
    return next((d for d in due_dates if d >= on), on)


def _interest(pieces: Sequence[tuple[date, date, int]], annual: Decimal, day_count: DayCount,
              mode: RoundingMode, per_period: Decimal | None = None, row_days: int | None = None) -> int:
    """Σ of each piece's interest, rounded on its own (K3); equal neighbouring balances merged.

    Daily interest: the balance × the annual rate × the piece's year fraction.  With
    `per_period` (interest same as the repayment period, K2) a row in one piece is its balance ×
    that rate; pieces of a row share it by their days out of `row_days` (the pieces' own span
    when None; no case asserts such a row)."""
    merged: list[tuple[date, date, int]] = []
    for start, end, owed in pieces:
        if start >= end:
            continue
        balance = max(owed, 0)  # early payments beyond the balance leave nothing to bear interest
        if merged and merged[-1][2] == balance and merged[-1][1] == start:
            merged[-1] = (merged[-1][0], end, balance)
        else:
            merged.append((start, end, balance))
    total = 0
    if per_period is not None and merged:
        p, q = per_period.as_integer_ratio()
        days = row_days if row_days is not None else (merged[-1][1] - merged[0][0]).days
        for start, end, balance in merged:
            total += divide_rounded(balance * p * (end - start).days, q * days, mode)
        return total
    for start, end, balance in merged:
        fraction = day_count.year_fraction(start, end)
        p, q = annual.as_integer_ratio()
        total += divide_rounded(balance * p * fraction.numerator, q * fraction.denominator, mode)
    return total


_Pieces = Sequence[tuple[date, date, int]]
"""(from, to, balance) pieces of a row."""


def _with_extra(pieces: _Pieces, extra: Sequence[tuple[date, int]]) -> list[tuple[date, date, int]]:
    """`pieces` with the compounded amounts `extra` (day, change) added from their days on."""
    out: list[tuple[date, date, int]] = []
    for start, end, balance in pieces:
        cuts = sorted({d for d, _ in extra if start < d < end})
        for a, b in zip([start, *cuts], [*cuts, end], strict=True):
            out.append((a, b, balance + sum(v for d, v in extra if d <= a)))
    return out


def _compounded_interest(pieces: _Pieces, inner: Sequence[date], carried: int,
                         interest: Callable[[_Pieces], int]) -> tuple[int, list[tuple[date, int]]]:
    """A row's interest with its compounding dates `inner` (strictly inside it): at each, the
    interest so far joins the balance, at the first also `carried` (R3).  Returns the interest
    and what joined the balance on each date."""
    total, compounded, added = 0, 0, 0
    joined: list[tuple[date, int]] = []
    bounds = [*inner, None]
    at = pieces[0][0] if pieces else None
    for c in bounds:
        block = [(max(a, at), min(b, c) if c is not None else b, v + added) for a, b, v in pieces
                 if at is not None and b > at and (c is None or a < c)]
        total += interest(block)
        if c is None:
            break
        amount = total - compounded + (carried if not joined else 0)
        joined.append((c, amount))
        compounded, added, at = total, added + amount, c
    return total, joined


def _pieces(start: date, end: date, changes: Sequence[tuple[date, int]], opening: int) -> list[tuple[date, date, int]]:
    """[start, end) cut at each change (day, new balance), in day order."""
    out: list[tuple[date, date, int]] = []
    at, balance = start, opening
    for day, value in sorted(changes, key=lambda c: c[0]):
        if day <= at:
            balance = value
            continue
        if day >= end:
            break
        out.append((at, day, balance))
        at, balance = day, value
    out.append((at, end, balance))
    return out


class _Compounding:
    """The interest compounded into the balance (R3, `InterestCompounding`), as Fineract books it
    in ``principalPortionMap``: (day, change of the balance) from that day on.

    Two books: ``scheduled`` as if no row had fallen due (what the rows wholly before the
    recalculation day were charged on: they keep their scheduled figures), and ``actual``,
    where a row due before the recalculation day keeps what was compounded in it in the
    balance until the last rest date (``updateCompoundingMap``, ``isPastDate``) and interest
    paid leaves it from the payment's rest day (``adjustCompoundedAmountWithPaidDetail``).
    Without compounding both stay empty and a row's interest is its pieces' (K3)."""

    def __init__(self, rule: CumulativeRecalculation, due_dates: Sequence[date], anchor: date, on: date) -> None:
        self.on = on
        self.cutoff = _rest_day(rule, on, due_dates)
        self.dates = ([] if rule.compounding is None
                      else rule.compounding.dates(anchor, due_dates, max(due_dates[-1], on)))
        self.scheduled: list[tuple[date, int]] = []
        self.actual: list[tuple[date, int]] = []
        self.uncompounded = 0
        self.previous_past = False

    def paid_interest(self, rest_day: date, amount: int) -> None:
        """Interest paid leaves the actual balance from `rest_day` rather than the last rest date."""
        if self.dates and amount and rest_day != self.cutoff:
            self.actual += [(rest_day, -amount), (self.cutoff, amount)]

    def row(self, start: date, due: date, pieces: Sequence[tuple[date, date, int]],
            interest: Callable[[Sequence[tuple[date, date, int]]], int]) -> int:
        """The interest of the row ``[start, due)`` on the principal `pieces`, the compounded
        amounts added, and the books brought past its due date."""
        if not self.dates:
            return interest(pieces)
        past = due < self.on
        extra = self.scheduled if past else self.actual
        inner = [c for c in self.dates if start < c < due]
        carried = self.uncompounded
        total, joined = _compounded_interest(_with_extra(pieces, extra), inner, carried, interest)
        has_date = any(start < c <= due for c in self.dates)
        if due in self.dates:
            joined.append((due, total - sum(a for _, a in joined) + carried))
        compounded = sum(a for _, a in joined) - carried if joined else 0
        if has_date:
            self.scheduled.append((due, -total))
            self.actual.append((self.cutoff, -(compounded + carried)) if past
                               else (due, -(total + (carried if self.previous_past else 0))))
        if compounded > 0:
            self.scheduled += joined
            self.actual += joined
            self.uncompounded = total - compounded
        else:
            self.uncompounded = carried + total
        self.previous_past = past
        return total


def regenerated(*, rule: CumulativeRecalculation, disbursements: Sequence[tuple[date, Money]],
                due_dates: Sequence[date], installment: Money, annual: Decimal, day_count: DayCount,
                mode: RoundingMode, pmt: PmtFunction, strategy: AllocationStrategy,
                payments: Sequence[tuple[date, Money]], on: date, per_period: Decimal | None = None,
                anchor: date | None = None) -> Regenerated:
    """The schedule Fineract regenerates on `on` from the disbursements and the `payments` so far.

    `installment` is the level installment (K4; on a multi-disbursement loan the approved
    amount's, K11); `pmt(balance, n)` the level installment of `balance` (minor units) over `n`
    periods, at the 30-day rate and rounded to the multiple (K4), for REDUCE_EMI_AMOUNT.  A
    tranche dated inside a period bears interest from its day, one dated on a due date from
    the next row.  `per_period`: interest same as the repayment period at that periodic rate
    (None: daily interest).  `anchor`: the expected disbursement date, where the compounding
    calendar starts (the first disbursement's day when None).
    """
    disbursed_on, principal = disbursements[0]
    tranches = sorted((d, m.minor) for d, m in disbursements[1:] if d <= on)
    currency = principal.currency
    zero = Money.zero(currency)
    paid = sorted((_Payment(d, m.minor) for d, m in payments if d <= on), key=lambda p: p.on)
    n = len(due_dates)
    emi = installment.minor
    # the scheduled balance before the row being built (a tranche on the first day included)
    balance = principal.minor + sum(a for d, a in tranches if d <= disbursed_on)
    reduce_next = 0
    built: list[InstallmentDue] = []
    owed: list[InstallmentDue] = []
    actual_reductions: list[tuple[date, int]] = []  # (rest day, principal off) as the payments were allocated
    early_reductions: list[tuple[date, int]] = []  # (rest day, early amount) inside the row being built
    queue = list(paid)
    start = disbursed_on
    book = _Compounding(rule, due_dates, anchor or disbursed_on, on)
    for k, due in enumerate(due_dates, start=1):
        # Payments dated in [start, due): the earlier rows first, the rest early on this row.
        early = 0
        early_reductions = []
        early_payments: list[_Payment] = []
        # Under a same-as-repayment rest a payment inside the period counts from the due date: Fineract
        # takes it after the row is built, like one dated on the due date (below).
        while queue and queue[0].on < due and rule.rest is RestFrequency.DAILY:
            payment = queue.pop(0)
            left, off, interest_paid = _pay(owed, payment, strategy, currency)
            book.paid_interest(_rest_day(rule, payment.on, due_dates), interest_paid)
            if left:
                early += left
                early_reductions.append((_rest_day(rule, payment.on, due_dates), left))
                early_payments.append(_Payment(payment.on, left))
            if off:
                actual_reductions.append((_rest_day(rule, payment.on, due_dates), off))
        # The row's interest.
        running = start < on <= due
        inside = [(d, -a) for d, a in tranches if start < d < due]
        scheduled = [(day, balance - sum(a for d, a in [*early_reductions, *inside] if d <= day))
                     for day, _ in [*early_reductions, *inside]]
        if running:
            cutoff = _rest_day(rule, on, due_dates)
            # In the row itself an early payment counts whole (its share is not known yet).
            reductions = [*actual_reductions, *early_reductions, *((d, -a) for d, a in tranches)]
            actual = [(day, principal.minor - sum(a for d, a in reductions if d <= day)) for day, _ in reductions]
            opening = principal.minor - sum(a for d, a in reductions if d <= start)
            before = _pieces(start, min(cutoff, due), [c for c in actual if c[0] < cutoff], opening)
            after_opening = balance - sum(a for d, a in [*early_reductions, *inside] if d <= cutoff)
            after = _pieces(cutoff, due, scheduled, after_opening) if cutoff < due else []
            pieces = before + after
        else:
            pieces = _pieces(start, due, scheduled, balance)
        interest = book.row(start, due, pieces, partial(_interest, annual=annual, day_count=day_count, mode=mode,
                                                        per_period=per_period, row_days=(due - start).days))
        balance -= sum(a for _, a in inside)  # the tranches of the period (held negative, as reductions)
        normal = max(emi - interest - reduce_next, 0)
        used = min(reduce_next, max(emi - interest, 0))
        reduce_next -= used
        row_principal = min(max(normal, early), balance)
        more = any(d > due for d, _ in tranches)  # a tranche still to come keeps the schedule going
        last = k == n or (row_principal >= balance and not more)
        if last:
            row_principal = balance
        row = InstallmentDue(k, due, Money(row_principal, currency), Money(interest, currency), zero, zero)
        built.append(row)
        owed.append(row)
        # The early payments pay this row ahead, by the strategy: their principal share is what
        # they took off the principal actually outstanding.
        for ahead in early_payments:
            _, off, interest_paid = _pay(owed, ahead, strategy, currency, ahead=True)
            book.paid_interest(_rest_day(rule, ahead.on, due_dates), interest_paid)
            if off:
                actual_reductions.append((_rest_day(rule, ahead.on, due_dates), off))
        balance -= row_principal
        balance += sum(a for d, a in tranches if d == due)
        extra = row_principal - normal
        if not last:
            # Payments dated on this due date: the rows so far first, the rest added to this row.
            while queue and queue[0].on <= due:
                payment = queue.pop(0)
                left, off, interest_paid = _pay(owed, payment, strategy, currency, ahead=payment.on < due)
                book.paid_interest(_rest_day(rule, payment.on, due_dates), interest_paid)
                if left:
                    left = min(left, balance)
                    built[-1] = _more_principal(built[-1], left)
                    balance -= left
                    extra += left
                    early += left
                actual_reductions.append((_rest_day(rule, payment.on, due_dates), off + left))
            if balance <= 0 and not more:
                last = True
        if last:
            break
        if early:
            if rule.early_payment is EarlyPayment.REDUCE_INSTALLMENT:
                emi = pmt(balance, n - k)
            elif rule.early_payment is EarlyPayment.NEXT_PRINCIPAL:
                reduce_next += max(extra, 0)
        start = due
    return Regenerated(tuple(built))


def _more_principal(row: InstallmentDue, amount: int) -> InstallmentDue:
    return InstallmentDue(row.number, row.due_date, row.principal + Money(amount, row.currency), row.interest,
                          row.fee, row.penalty)


def _pay(owed: list[InstallmentDue], payment: _Payment, strategy: AllocationStrategy,
         currency: str, *, ahead: bool = False) -> tuple[int, int, int]:
    """`payment` over the rows built so far (what they still owe; `ahead`: also those not yet
    due): (what is left, principal paid, interest paid)."""
    if not owed:
        return payment.amount, 0, 0
    allocation = allocate(owed, Money(payment.amount, currency), payment.on, strategy=strategy,
                          overpayment=OverpaymentPolicy.PAY_NEXT_INSTALLMENTS if ahead
                          else OverpaymentPolicy.CREDIT_BALANCE)
    owed[:] = apply_allocation(tuple(owed), allocation)
    principal = sum(line.amount.minor for line in allocation.lines if line.component is Component.PRINCIPAL)
    interest = sum(line.amount.minor for line in allocation.lines if line.component is Component.INTEREST)
    return allocation.credit_balance.minor, principal, interest
