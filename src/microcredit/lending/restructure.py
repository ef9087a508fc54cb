"""Restructuring: deferral (展期 / 延期) and rescheduling (重组 / 重新安排还款计划).

Deferral moves installments later without changing what they repay.
Deferring d periods from installment j inserts d installments at j that
repay no principal, then every later installment moves d periods on; due
dates are re-derived from the original anchor (never chained).  During the
deferral the balance still bears interest, either payable with each
inserted installment (``payable``) or forgiven (``waived``).

Example: 10,000 at 12 %, 12 monthly equal installments from 2025-01-15;
deferring 2 periods from installment 4 (balance 7,610.80 after 3) gives
installments 4 and 5 of interest only, 76.11 each, due 2025-05-15 and
2025-06-15; the old installment 4 (812.38 + 76.11) is now number 6, due
2025-07-15, and the loan ends on 2026-03-15 after 14 installments.

Rescheduling replaces the future of a loan from an effective date: the
installments due on or before it, or whose period has ended by it, stay as history (unpaid amounts of theirs
are arrears, to capitalise or to collect); the new principal is the
outstanding principal plus any arrears capitalised (overdue interest, fees,
penalties the parties agree to capitalise); a new schedule is built from
the effective date with the new rate, term, method and frequency, numbered
after the history.  Interest earned before the effective date and charged by
no installment of the history -- carried by an interest-payment grace, or
accrued since the last period end -- is payable with the first new
installment.  Classification treats the loan as restructured (see
`classification`).

Acceleration (提前到期, a loan called early under its acceleration clause)
ends the schedule on the day it is declared: the installments due on or
before it, or whose period has ended by it, stay as history; the rest are
replaced by one installment due that day, of the whole principal still to
fall due and the interest earned to the day (the running period's accrual
and any interest carried from earlier periods).  No interest for later
periods is charged, and no per-installment fee of a period that never runs.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from enum import StrEnum

from microcredit.lending.calendar import HolidayCalendar
from microcredit.lending.diagnostics import merge_warnings
from microcredit.lending.fees import FeeKind, installment_fees_only
from microcredit.lending.money import Money, divide_rounded
from microcredit.lending.periods import Frequency, Period, PeriodSpec, generate_periods
from microcredit.lending.prepayment import accrued_to, schedule_principal, standing
from microcredit.lending.schedule.amortize import AmortizationPlan, amortize_carrying, period_rate
from microcredit.lending.schedule.build import charge_installments, fractions_of, period_fractions, rebuilt_schedule
from microcredit.lending.schedule.model import (
    Installment,
    InterestMethod,
    LoanTerms,
    RepaymentMethod,
    Schedule,
)

__all__ = ["DeferralInterest", "accelerate", "defer_installments", "reschedule"]


class DeferralInterest(StrEnum):
    """Whether the balance bears interest payable during a deferral, or none."""

    PAYABLE = "payable"
    WAIVED = "waived"


def defer_installments(
    schedule: Schedule,
    terms: LoanTerms,
    *,
    from_number: int,
    periods: int,
    interest: DeferralInterest,
    calendar: HolidayCalendar,
) -> Schedule:
    """Insert `periods` principal-free installments at `from_number`; later ones move on.

    The inserted rows charge interest only, no fees; a moved row keeps its fees, those on
    its own principal + interest recomputed on the interest it now charges."""
    rows = schedule.installments
    if not 1 <= from_number <= len(rows):
        raise ValueError("the deferral starts at an installment of the schedule")
    if periods < 1:
        raise ValueError("a deferral lasts at least one period")
    offset = rows[0].number - 1
    index = from_number - 1 - offset
    extended = replace(terms.periods, count=max(terms.periods.count, len(rows)) + periods)
    plan = generate_periods(extended, calendar)
    # Every row is re-dated from the terms' anchor at the terms' rate: terms that do not
    # describe the schedule (a rescheduled one with its original terms) would move it onto
    # the old dates and rate.
    if [p.due_date for p in plan.periods[: len(rows)]] != [row.due_date for row in rows] or (
        schedule.nominal_annual_rate != terms.annual_rate
    ):
        raise ValueError("the terms do not describe the schedule's periods and rate: pass the terms it was built from")
    dated = list(plan.periods)
    first = rows[index]
    if first.period_start != dated[index].start:
        # A prepayment inside the period settled its interest to that day: the deferral starts there.
        p = dated[index]
        dated[index] = Period(p.number, first.period_start, p.end, p.due_date, (p.end - first.period_start).days, False)
    fractions = fractions_of(terms, dated)
    currency = terms.rounding.currency
    mode = terms.rounding.mode
    # The balance before the running installment (a prepayment inside its period lowered it).
    balance = first.balance_after_minor + first.principal_minor
    rate = Decimal(0) if interest is DeferralInterest.WAIVED else terms.annual_rate
    result: list[Installment] = list(rows[:index])
    for step in range(periods):
        period = dated[index + step]
        a, b = period_rate(rate, fractions[index + step])
        owed = divide_rounded(balance * a, b, mode)
        result.append(
            Installment(
                number=index + step + 1 + offset,
                due_date=period.due_date,
                period_start=period.start,
                period_end=period.end,
                days=period.days,
                principal_minor=0,
                interest_minor=owed,
                fees_minor=0,
                balance_after_minor=balance,
                currency=currency,
            )
        )
    before = balance
    flat_base = schedule_principal(schedule).minor if terms.interest_method is InterestMethod.FLAT else None
    # Interest an interest-payment grace carries moves with the rows; the row that paid it still does.
    carried = schedule.deferred_interest_minor or (0,) * len(rows)
    opening = schedule.deferred_opening_minor
    carried_before = carried[index - 1] if index > 0 else opening
    # Fees on each installment's principal + interest follow the moved rows' new interest.
    following = installment_fees_only(schedule.fee_charges)
    for moved, row in enumerate(rows[index:]):
        position = index + periods + moved
        period = dated[position]
        a, b = period_rate(terms.annual_rate, fractions[position])
        owed = divide_rounded((before if flat_base is None else flat_base) * a, b, mode) if row.interest_minor else 0
        owed += max(carried_before - carried[index + moved], 0)
        carried_before = carried[index + moved]
        result.append(
            Installment(
                number=position + 1 + offset,
                due_date=period.due_date,
                period_start=period.start,
                period_end=period.end,
                days=period.days,
                principal_minor=row.principal_minor,
                interest_minor=owed,
                fees_minor=row.fees_minor + sum(
                    c.on_row(row.principal_minor, owed, terms.rounding)
                    - c.on_row(row.principal_minor, row.interest_minor, terms.rounding) for c in following),
                balance_after_minor=row.balance_after_minor,
                currency=currency,
            )
        )
        before = row.balance_after_minor
    held = carried[index - 1] if index > 0 else opening
    deferred = rebuilt_schedule(schedule, tuple(result), carried[:index] + (held,) * periods + carried[index:])
    return replace(deferred, warnings=merge_warnings(schedule.warnings, plan.warnings))


def reschedule(
    schedule: Schedule,
    terms: LoanTerms,
    *,
    effective: date,
    count: int,
    calendar: HolidayCalendar,
    annual_rate: Decimal | None = None,
    capitalised_arrears: Money | None = None,
    outstanding_principal: Money | None = None,
    method: RepaymentMethod | None = None,
    frequency: Frequency | None = None,
    first_due_date: date | None = None,
    accrued_interest: Money | None = None,
) -> Schedule:
    """A new schedule from `effective`: history kept, arrears capitalised, new rate and term.

    Interest earned before `effective` that no installment of the history charges is not
    forgiven: the interest an interest-payment grace carried past the history, and the
    interest accrued on the principal from the end of the last ended period to `effective`
    (at the old rate, on the contract's day count; none inside an interest-free period), are
    payable with the first new installment.  Pass `accrued_interest` to state the accrued part
    yourself (e.g. ``Money.zero("CNY")`` when it is among the `capitalised_arrears`).
    """
    rows = schedule.installments
    # Installments that have fallen due or whose period has ended (even if its due date was
    # moved past `effective`: a weekend period end, the following rule) are history.
    where = standing(schedule, effective)
    history = rows[: where.ended]
    if outstanding_principal is None:
        outstanding_principal = where.balance
    principal = outstanding_principal if capitalised_arrears is None else outstanding_principal + capitalised_arrears
    if not principal.is_positive:
        raise ValueError("nothing is left to reschedule")
    if accrued_interest is None:
        flat = terms.interest_method is InterestMethod.FLAT
        accrued_interest = accrued_to(
            schedule,
            effective,
            # The rate the running period earns at: a rescheduled schedule's own, not the contract's.
            rate=schedule.nominal_annual_rate,
            day_count=terms.day_count,
            rounding=terms.rounding,
            base=schedule_principal(schedule) if flat else outstanding_principal,
        )
    if accrued_interest.is_negative:
        raise ValueError("accrued interest cannot be negative")
    carried = schedule.deferred_after(len(history)) + accrued_interest
    spec = PeriodSpec(
        start=effective,
        frequency=frequency or terms.periods.frequency,
        count=count,
        first_due_date=first_due_date,
        month_end=terms.periods.month_end,
        business_day_rule=terms.periods.business_day_rule,
    )
    new_terms = replace(
        terms,
        principal=principal,
        annual_rate=terms.annual_rate if annual_rate is None else annual_rate,
        periods=spec,
        method=method or terms.method,
        grace_on_principal=0,
        grace_on_interest_payment=0,
        interest_free_periods=0,
        fees=tuple(fee for fee in terms.fees if fee.kind is FeeKind.PER_INSTALLMENT),
    )
    plan = generate_periods(spec, calendar)
    per_installment = Money.total(
        (c.per_charge for c in schedule.fee_charges
         if c.kind is FeeKind.PER_INSTALLMENT and not c.follows_installment), schedule.currency
    )
    amortization = AmortizationPlan(
        principal=principal,
        annual_rate=new_terms.annual_rate,
        method=new_terms.method,
        interest_method=new_terms.interest_method,
        rounding=new_terms.rounding,
        installment_multiple=new_terms.installment_multiple,
        fee_per_installment=per_installment,
        first_number=(history[-1].number if history else 0) + 1,
        deferred_interest=carried if carried else None,
    )
    new_rows, later = amortize_carrying(amortization, plan, period_fractions(new_terms, plan))
    new_rows = charge_installments(new_rows, installment_fees_only(schedule.fee_charges), new_terms.rounding)[0]
    # The record of interest carried: the history's, with what the first new installment
    # collects carried after the last history row (so a payoff quote inside the first new
    # period still counts it).
    held = carried.minor
    before = list(schedule.deferred_interest_minor[: len(history)] or (0,) * len(history))
    if before:
        before[-1] = held
    rebuilt = rebuilt_schedule(schedule, history + new_rows, tuple(before) + later, None if before else held)
    return replace(
        rebuilt,
        nominal_annual_rate=new_terms.annual_rate,
        warnings=merge_warnings(schedule.warnings, plan.warnings),
    )


def accelerate(schedule: Schedule, *, on: date, accrued_interest: Money) -> Schedule:
    """`schedule` called early on `on`: the installments not yet ended replaced by one due on `on`.

    The new installment takes the number of the first one it replaces, the principal the
    schedule still had to fall due, and `accrued_interest` (the running period's interest to the
    day, the caller's: the loan knows its rate, day count and rounding) plus the interest that
    earlier periods carried and no installment charged yet.  It charges no per-installment fee.
    Raises ValueError when every installment has already ended (nothing left to call).
    """
    rows = schedule.installments
    ended = sum(1 for row in rows if row.period_end <= on or row.due_date <= on)
    if ended == len(rows):
        raise ValueError("every installment has fallen due: nothing is left to accelerate")
    if accrued_interest.is_negative:
        raise ValueError("accrued interest cannot be negative")
    running = rows[ended]
    history = rows[:ended]
    carried = schedule.deferred_after(ended)
    principal = running.balance_after_minor + running.principal_minor
    start = min(running.period_start, on)
    called = Installment(
        number=running.number,
        due_date=on,
        period_start=start,
        period_end=on,
        days=(on - start).days,
        principal_minor=principal,
        interest_minor=accrued_interest.minor + carried.minor,
        fees_minor=0,
        balance_after_minor=0,
        currency=running.currency,
    )
    before = tuple(schedule.deferred_interest_minor[:ended] or (0,) * ended)
    opening = 0 if ended == 0 else None  # the called installment collects what was carried in
    return rebuilt_schedule(schedule, (*history, called), (*before, 0), opening)
