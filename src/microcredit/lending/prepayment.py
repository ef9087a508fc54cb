"""Prepayment (提前还款): partial prepayment and the payoff quote on any day.

Partial prepayment on day d, inside period k+1 (installments 1..k have
fallen due and are settled):

1. interest accrued on the balance B_k from the period's start to d is
   settled first:  accrued = round(B_k x rate x yearfraction(start, d));
2. the rest of the payment reduces principal:  B' = B_k - (amount - accrued);
3. the remaining installments are recomputed from d on B' -- the first new
   period runs from d to the original due date (interest on actual days),
   later ones keep their dates, and interest-free periods and graces of
   the contract still to come stay where they were:
   - ``shorten_term`` (缩期): keep the installment (or the principal part of
     equal principal); the loan ends earlier;
   - ``reduce_installment`` (减额): keep the number of installments; the
     level installment is recomputed over the remaining periods.

Inside an interest-payment grace (or the earlier periods of a bullet loan)
the interest of the periods already ended is deferred, not forgiven: the
prepayment leaves it owed and the re-amortised rest carries it to the first
installment after the grace, as the contract did
(`Schedule.deferred_after`).  Shortening the term keeps the level
installment, i.e. principal + the interest its period earns, not the
smaller amount a grace row shows.

Payoff quote on day d (全部提前还款):

    principal still owed
    + interest of periods ended by d still unpaid
    + interest of periods ended by d deferred by a grace (not yet due)
    + interest accrued from the current period's start to d
    + fees of installments due by d still unpaid
    + penalties + any prepayment fee

Interest and fees of later periods are not charged.  Interest accrues at
the contract rate on the principal not yet due, on the schedule's day count.

Worked example: 10,000 at 12 %, 12 monthly equal installments from
2025-01-15; after installment 3 (balance 7,610.80) the borrower prepays
2,000 on its due date 2025-04-15 (no accrued interest): shortening keeps
888.49 a month and ends after 10 installments instead of 12 (the last
494.88); reducing keeps 12 and lowers the installment to 655.01
(= 5,610.80 x 0.01 x 1.01^9 / (1.01^9 - 1) = 655.0068).  Ten days later,
on 2025-04-25, 25.37 of a 2,000 payment would go to interest accrued on
7,610.80 (x 0.12 x 10/360) and 1,974.63 to principal.

With a 3-month interest-payment grace the same loan repays 788.49 and
796.37 of principal in months 1 and 2 and defers their interest, 100.00 +
92.12 = 192.12, to installment 4.  Prepaying 1,000 on 2025-03-15 lowers the
balance to 7,415.14; installment 4 still collects the 192.12 with the
interest of months 3 and 4 on the new balance, and a payoff on 2025-03-25
is 8,415.14 + 192.12 + 28.05 (10 days on 8,415.14) = 8,635.31.

Replayed prepayments (`allocation.replay` under ``prepay_principal``) go
through `reamortise`, a pure function: a frozen `Reamortisation` (the
schedule as prepayments have changed it, and each prepayment taken) in, the
next one out -- so replaying a loan after a back-dated payment starts again
from the same values and nothing carries over from an earlier replay.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from microcredit.lending.allocation import InstallmentDue
from microcredit.lending.calendar import HolidayCalendar
from microcredit.lending.daycount import DayCount
from microcredit.lending.fees import FeeKind, installment_fees_only
from microcredit.lending.money import Money, RoundingPolicy, divide_rounded
from microcredit.lending.periods import Period, PeriodPlan, generate_periods
from microcredit.lending.schedule.amortize import AmortizationPlan, amortize_carrying
from microcredit.lending.schedule.build import charge_installments, fractions_of, level_rate, rebuilt_schedule
from microcredit.lending.schedule.model import (
    LoanTerms,
    RepaymentMethod,
    Schedule,
    TranchePrincipal,
)

__all__ = [
    "PayoffQuote",
    "PrepaymentMode",
    "PrepaymentResult",
    "Reamortisation",
    "Standing",
    "accrued_to",
    "add_tranche",
    "partial_prepayment",
    "payoff_quote",
    "reamortise",
    "schedule_principal",
    "standing",
    "tranche_shares",
]


class PrepaymentMode(StrEnum):
    """Keep the installment and shorten the term, or keep the term and lower the installment."""

    SHORTEN_TERM = "shorten_term"  # 缩期
    REDUCE_INSTALLMENT = "reduce_installment"  # 减额


@dataclass(frozen=True, slots=True)
class PrepaymentResult:
    """A partial prepayment: how it was split, and the schedule that follows."""

    paid_on: date
    amount: Money
    accrued_interest: Money
    principal_prepaid: Money
    schedule: Schedule


@dataclass(frozen=True, slots=True)
class PayoffQuote:
    """What settles the loan in full on `as_of`."""

    as_of: date
    principal: Money
    overdue_interest: Money
    deferred_interest: Money
    accrued_interest: Money
    fees: Money
    penalties: Money
    prepayment_fee: Money
    total: Money


def schedule_principal(schedule: Schedule) -> Money:
    """The principal a schedule amortises (balance before its first row)."""
    first = schedule.installments[0]
    return first.balance_after + first.principal


def _accrued(
    balance: Money,
    rate: Decimal,
    start: date,
    end: date,
    day_count: DayCount,
    rounding: RoundingPolicy,
) -> Money:
    if end <= start or not balance or not rate:
        return rounding.zero
    fraction = day_count.year_fraction(start, end)
    return rounding.times(balance, Fraction(rate) * Fraction(fraction.numerator, fraction.denominator))


@dataclass(frozen=True, slots=True)
class Standing:
    """Where a schedule stands on a day: what has ended, what principal is owed, whether it earns."""

    ended: int
    """Installments whose period has ended or that have fallen due by the day (a prefix)."""
    balance: Money
    """Principal owed after them: the running installment's balance before it."""
    earning: bool
    """Whether the running period earns interest (not interest-free, not a waived deferral)."""
    period_start: date | None
    """The running period's start (None once every installment has ended)."""


def standing(schedule: Schedule, on: date) -> Standing:
    """Where `schedule` stands on `on`.

    The balance is read from the running installment (its balance after + its principal), not
    from the last ended one: a prepayment inside the running period lowered it since.  A period
    earns when its installment charges interest or carries some on (an interest-payment grace).
    """
    rows = schedule.installments
    ended = sum(1 for row in rows if row.period_end <= on or row.due_date <= on)
    if ended == len(rows):
        return Standing(ended, rows[-1].balance_after, False, None)
    running = rows[ended]
    # schedule.interest_earned(ended) in minor units (read for every event of every loan folded).
    carried = schedule.deferred_interest_minor
    before = (carried[ended - 1] if carried else 0) if ended else schedule.deferred_opening_minor
    earned = running.interest_minor + (carried[ended] if carried else 0) - before
    balance = Money(running.balance_after_minor + running.principal_minor, running.currency)
    return Standing(ended, balance, earned > 0, running.period_start)


def accrued_to(
    schedule: Schedule,
    on: date,
    *,
    rate: Decimal,
    day_count: DayCount,
    rounding: RoundingPolicy,
    base: Money | None = None,
) -> Money:
    """Interest the running period has earned by `on` on `base` (default: the balance owed)."""
    where = standing(schedule, on)
    if not where.earning or where.period_start is None:
        return rounding.zero
    return _accrued(where.balance if base is None else base, rate, where.period_start, on, day_count, rounding)


def _level_amounts(schedule: Schedule, start: int) -> tuple[Money | None, Money | None]:
    """The level installment and the equal principal part of the rows from index `start` on.

    A row in an interest-payment grace charges no interest and the first after it charges what
    was carried, so the level installment is principal + the interest the period *earned*:
    interest due + carried after the row - carried before it.
    """
    rows = schedule.installments
    for index in range(start, len(rows) - 1):
        row = rows[index]
        if row.principal_minor > 0:
            earned = schedule.interest_earned(index)
            return row.principal + earned, row.principal
    return None, None


def _carried(schedule: Schedule, history: int, later: tuple[int, ...]) -> tuple[int, ...]:
    """The deferred-interest record of `history` rows of `schedule` followed by `later` rows."""
    return tuple(schedule.deferred_interest_minor[:history] or (0,) * history) + later


def _per_installment_fee(schedule: Schedule) -> Money:
    """The level fees every installment of `schedule` charges (those on each installment's
    principal + interest are charged again on the new rows: `charge_installments`)."""
    return Money.total(
        (c.per_charge for c in schedule.fee_charges
         if c.kind is FeeKind.PER_INSTALLMENT and not c.follows_installment), schedule.currency
    )


def partial_prepayment(
    schedule: Schedule,
    terms: LoanTerms,
    *,
    paid_on: date,
    amount: Money,
    mode: PrepaymentMode,
    calendar: HolidayCalendar,
    extra_interest: Money | None = None,
) -> PrepaymentResult:
    """Prepay `amount` on `paid_on`: settle accrued interest, reduce principal, re-amortise.

    `extra_interest` is interest earned beyond the schedule's and not yet charged (a
    recalculation's), settled with the accrued interest."""
    where = standing(schedule, paid_on)
    if where.ended == len(schedule.installments):
        raise ValueError("the schedule has ended by the prepayment date")
    balance = where.balance
    accrued = accrued_to(
        schedule, paid_on, rate=terms.annual_rate, day_count=terms.day_count, rounding=terms.rounding
    )
    if extra_interest is not None:
        accrued = accrued + extra_interest
    if amount <= accrued:
        raise ValueError("the prepayment does not cover the interest accrued to its date")
    prepaid = amount - accrued
    if prepaid >= balance:
        raise ValueError("the prepayment repays the loan in full: use payoff_quote")
    rebuilt = _reamortised(schedule, terms, on=paid_on, principal=balance - prepaid, carried_in=None, mode=mode,
                           calendar=calendar)
    return PrepaymentResult(paid_on, amount, accrued, prepaid, rebuilt)


def add_tranche(
    schedule: Schedule,
    terms: LoanTerms,
    *,
    disbursed_on: date,
    amount: Money,
    calendar: HolidayCalendar,
) -> Schedule:
    """A further disbursement (tranche) of `amount` on `disbursed_on`, re-amortising what is left.

    The installments whose period has not ended are recomputed on the balance plus the
    tranche, over the same due dates, the level installment (or equal principal part)
    recomputed; the interest the running period earned on the old balance up to the day is
    carried into the first of them, and the tranche bears interest from its day.
    """
    if terms.tranche_principal is TranchePrincipal.LATER_INSTALLMENTS:
        return _added_to_later(schedule, terms, disbursed_on=disbursed_on, amount=amount)
    where = standing(schedule, disbursed_on)
    if where.ended == len(schedule.installments):
        raise ValueError("the schedule has ended by the tranche's date")
    accrued = accrued_to(
        schedule, disbursed_on, rate=terms.annual_rate, day_count=terms.day_count, rounding=terms.rounding
    )
    share = None
    if terms.tranche_principal is TranchePrincipal.TERM_SHARE:
        # Rule K11 of docs/fineract-profile.md: the principal disbursed so far over the whole term.
        scheduled = schedule.totals.principal + amount
        multiple = terms.installment_multiple.minor if terms.installment_multiple is not None else 1
        share = Money(divide_rounded(scheduled.minor, terms.periods.count * multiple, terms.rounding.mode) * multiple,
                      scheduled.currency)
    return _reamortised(schedule, terms, on=disbursed_on, principal=where.balance + amount,
                        carried_in=accrued if accrued else None, mode=PrepaymentMode.REDUCE_INSTALLMENT,
                        calendar=calendar, principal_share=share)


def tranche_shares(schedule: Schedule, terms: LoanTerms, *, disbursed_on: date, amount: Money) -> dict[int, int]:
    """`TranchePrincipal.LATER_INSTALLMENTS`: installment number -> the principal (minor units) a
    tranche of `amount` adds to it.  The installments due after `disbursed_on` take an equal
    share each, rounded to the unit by the terms' mode; each new principal is then rounded to
    the installment multiple, and the last takes what the roundings left (Fineract's
    ``AdvancedPaymentScheduleTransactionProcessor.handleDisbursementWithoutEMICalculator``,
    lines 806-850 at commit 4198b0bc: 187.50 over two installments of 125.00 to a multiple of 1
    -> 312.00 and 313.00)."""
    if terms.annual_rate:
        raise ValueError("a tranche added to the later installments is for a loan without interest")
    later = [row for row in schedule.installments if row.due_date > disbursed_on]
    if not later:
        raise ValueError("the schedule has ended by the tranche's date")
    share = divide_rounded(amount.minor, len(later), terms.rounding.mode)
    step = terms.installment_multiple.minor if terms.installment_multiple is not None else None
    left = amount.minor
    added: dict[int, int] = {}
    for row in later:
        principal = row.principal_minor + share
        if step is not None:
            principal = divide_rounded(principal, step, terms.rounding.mode) * step
        added[row.number] = principal - row.principal_minor
        left -= added[row.number]
    added[later[-1].number] += left
    return added


def _added_to_later(schedule: Schedule, terms: LoanTerms, *, disbursed_on: date, amount: Money) -> Schedule:
    """The schedule with a tranche added to the installments due after its day (`tranche_shares`);
    the balance after each row counts the tranche from the first of them on."""
    added = tranche_shares(schedule, terms, disbursed_on=disbursed_on, amount=amount)
    rows = []
    unpaid = amount.minor
    for row in schedule.installments:
        if row.number in added:
            unpaid -= added[row.number]
            row = row._replace(principal_minor=row.principal_minor + added[row.number],
                               balance_after_minor=row.balance_after_minor + unpaid)
        rows.append(row)
    return rebuilt_schedule(schedule, tuple(rows), schedule.deferred_interest_minor)


def _reamortised(
    schedule: Schedule,
    terms: LoanTerms,
    *,
    on: date,
    principal: Money,
    carried_in: Money | None,
    mode: PrepaymentMode,
    calendar: HolidayCalendar,
    principal_share: Money | None = None,
) -> Schedule:
    """The schedule with the installments not ended on `on` recomputed on `principal` from `on`.

    `carried_in` is interest earned before `on` that the first of them collects, beside what a
    grace already carried.
    """
    rows = schedule.installments
    where = standing(schedule, on)
    history = rows[: where.ended]
    plan = generate_periods(terms.periods, calendar)
    # The terms' periods start with the first row on or after their start: the first row for
    # a loan as contracted, the first new row after a rescheduling (whose terms are the new ones).
    # A period of the terms ends after they start: a row called early on the day they start
    # (`restructure.accelerate`, a period from that day to that day) is history before them.
    start = terms.periods.start
    offset = next((i for i, row in enumerate(rows) if row.period_start >= start and row.period_end > start),
                  len(rows))
    remaining = list(plan.periods[len(history) - offset : len(rows) - offset]) if len(history) >= offset else []
    if not remaining or [p.due_date for p in remaining] != [row.due_date for row in rows[len(history) :]]:
        # The periods still to come are re-derived from the contract's terms; terms that do not
        # describe this schedule (a deferred or rescheduled loan with its original terms) would
        # re-amortise over the wrong dates.
        raise ValueError("the terms do not describe the schedule's periods: pass the terms it was built from")
    if on > remaining[0].start:
        first = remaining[0]
        remaining[0] = Period(first.number, on, first.end, first.due_date, (first.end - on).days, False)
    level, part = _level_amounts(schedule, len(history))
    shorten = mode is PrepaymentMode.SHORTEN_TERM
    # Interest the ended periods deferred stays owed: carried on to the first installment after the grace.
    deferred = schedule.deferred_after(len(history))
    if carried_in is not None:
        deferred = deferred + carried_in
    amortization = AmortizationPlan(
        principal=principal,
        annual_rate=terms.annual_rate,
        method=terms.method,
        interest_method=terms.interest_method,
        rounding=terms.rounding,
        installment_multiple=terms.installment_multiple,
        grace_on_principal=max(terms.grace_on_principal - len(history), 0),
        grace_on_interest_payment=max(terms.grace_on_interest_payment - len(history), 0),
        interest_free_periods=max(terms.interest_free_periods - len(history), 0),
        fee_per_installment=_per_installment_fee(schedule),
        fixed_installment=level if shorten and terms.method is RepaymentMethod.EQUAL_INSTALLMENT else None,
        fixed_principal=part if shorten and terms.method is RepaymentMethod.EQUAL_PRINCIPAL else principal_share,
        first_number=len(history) + 1,
        deferred_interest=deferred if deferred else None,
        flat_interest=terms.flat_interest,
        multiple_rounding=terms.multiple_rounding,
        level_rate=level_rate(terms),
    )
    new_rows, carried = amortize_carrying(amortization, PeriodPlan.of(tuple(remaining)), fractions_of(terms, remaining))
    new_rows = charge_installments(new_rows, installment_fees_only(schedule.fee_charges), terms.rounding)[0]
    return rebuilt_schedule(schedule, tuple(history) + new_rows, _carried(schedule, len(history), carried))


def payoff_quote(
    schedule: Schedule,
    *,
    as_of: date,
    day_count: DayCount,
    rounding: RoundingPolicy,
    outstanding: Sequence[InstallmentDue] | None = None,
    annual_rate: Decimal | None = None,
    penalties: Money | None = None,
    prepayment_fee: Money | None = None,
) -> PayoffQuote:
    """The amount that settles the loan on `as_of` (accrued interest to the day, no later interest).

    `outstanding` gives what each installment still owes after payments (its
    penalties included), installment 0 (a down payment, fees at disbursement)
    among them; when omitted every installment whose period has ended by
    `as_of` is taken as paid.  `penalties` adds those not yet recorded on an
    installment (e.g. accrued since the last close of business); `penalties` and
    `prepayment_fee` are none when not given.
    Interest accrues from the running period's start (none in a period that
    earns nothing: interest-free, or a waived deferral); the interest the ended
    periods deferred (an interest-payment grace, a bullet loan's earlier
    periods) is added from the schedule's own record.  An installment counts
    as ended once its period has ended or it has fallen due (a due date
    moved before the period end by the preceding rule).
    """
    rate = schedule.nominal_annual_rate if annual_rate is None else annual_rate
    rows = schedule.installments
    where = standing(schedule, as_of)
    earned = rows[: where.ended]
    code = schedule.currency
    zero = Money.zero(code)
    penalties = zero if penalties is None else penalties
    prepayment_fee = zero if prepayment_fee is None else prepayment_fee
    if outstanding is None:
        principal = where.balance
        future_principal = principal
        overdue_interest = fees = zero
    else:
        owed = {due.number: due for due in outstanding}
        # Installments outside the schedule (number 0: a down payment, fees at disbursement) fell
        # due on their disbursement's day: owed in full, their principal earning nothing.
        scheduled = {row.number for row in rows}
        earned_numbers = {row.number for row in earned} | {due.number for due in outstanding
                                                           if due.number not in scheduled}
        principal = Money.total((due.principal for due in outstanding), code)
        future_principal = Money.total((due.principal for due in outstanding if due.number not in earned_numbers), code)
        overdue_interest = Money.total((owed[n].interest for n in earned_numbers if n in owed), code)
        fees = Money.total((owed[n].fee for n in earned_numbers if n in owed), code)
        penalties += Money.total((due.penalty for due in outstanding), code)
    accrued = accrued_to(schedule, as_of, rate=rate, day_count=day_count, rounding=rounding, base=future_principal)
    deferred = schedule.deferred_after(len(earned))
    total = principal + overdue_interest + deferred + accrued + fees + penalties + prepayment_fee
    return PayoffQuote(
        as_of=as_of,
        principal=principal,
        overdue_interest=overdue_interest,
        deferred_interest=deferred,
        accrued_interest=accrued,
        fees=fees,
        penalties=penalties,
        prepayment_fee=prepayment_fee,
        total=total,
    )


@dataclass(frozen=True, slots=True)
class Reamortisation:
    """The state of the prepayments of one replay: a frozen value, passed on by `reamortise`.

    `schedule` is the schedule as the prepayments so far have changed it, `prepayments` each
    prepayment taken (its interest part and principal part, for the books), `settled_on` the
    day a prepayment repaid the loan in full.  The conventions (`terms`, `mode`, `calendar`)
    are the loan's.  It is `allocation.replay`'s `Prepayer`:
    ``replay(..., prepayer=Reamortisation(schedule, terms, mode, calendar))``.
    """

    schedule: Schedule
    terms: LoanTerms
    mode: PrepaymentMode
    calendar: HolidayCalendar
    settled_on: date | None = None
    prepayments: tuple[PrepaymentResult, ...] = ()

    def prepay(
        self, dues: tuple[InstallmentDue, ...], paid_on: date, amount: Money
    ) -> tuple[Reamortisation, tuple[InstallmentDue, ...], Money]:
        """`reamortise` this state (the `allocation.Prepayer` protocol)."""
        return reamortise(self, dues, paid_on=paid_on, amount=amount)


def reamortise(
    state: Reamortisation, dues: tuple[InstallmentDue, ...], *, paid_on: date, amount: Money,
    extra_interest: Money | None = None,
) -> tuple[Reamortisation, tuple[InstallmentDue, ...], Money]:
    """Re-amortise on a prepayment of `amount` on `paid_on`: (next state, the dues that follow, unused).

    A prepayment settles interest accrued to its day first, then lowers the principal
    (`partial_prepayment` in the state's mode); the installments after the day are replaced by
    the new schedule's.  What does not cover the accrued interest stays unused (held as
    credit), and so does what is left once the loan is repaid in full -- then every later
    installment owes nothing and the state records `settled_on`.  `extra_interest` (a
    recalculation's interest beyond the schedule, not yet charged) is settled with the accrued
    interest.  Pure: `state` and `dues` are not changed.
    """
    if state.settled_on is not None:
        return state, dues, amount
    schedule, terms = state.schedule, state.terms
    rows = schedule.installments
    where = standing(schedule, paid_on)
    if where.ended == len(rows):
        return state, dues, amount
    running = rows[where.ended :]
    replaced = {row.number for row in running}
    owed = {due.number: due for due in dues}
    for row in running:
        due = owed.get(row.number)
        if due is None or (due.principal, due.interest, due.fee) != (row.principal, row.interest, row.fees):
            raise ValueError(f"installment {row.number} was paid before it fell due: cannot re-amortise it")
    accrued = accrued_to(schedule, paid_on, rate=terms.annual_rate, day_count=terms.day_count, rounding=terms.rounding)
    if extra_interest is not None:
        accrued = accrued + extra_interest
    payoff = where.balance + schedule.deferred_after(where.ended) + accrued
    zero = terms.rounding.zero
    if amount >= payoff:
        taken = PrepaymentResult(paid_on, payoff, payoff - where.balance, where.balance, schedule)
        cleared = tuple(
            InstallmentDue(d.number, d.due_date, zero, zero, zero, d.penalty) if d.number in replaced else d
            for d in dues
        )
        settled = replace(state, settled_on=paid_on, prepayments=(*state.prepayments, taken))
        return settled, cleared, amount - payoff
    if amount <= accrued:
        return state, dues, amount
    # Short of the payoff only by interest a grace carried (not yet payable): principal is
    # prepaid to the last minor unit and the rest waits, as credit, for the installment due with it.
    usable = min(amount, accrued + where.balance - terms.rounding.quantum)
    if usable <= accrued:
        # Only the carried interest is left to pay (principal down to 0.01 or 0): it waits.
        return state, dues, amount
    result = partial_prepayment(
        schedule, terms, paid_on=paid_on, amount=usable, mode=state.mode, calendar=state.calendar,
        extra_interest=extra_interest,
    )
    kept = tuple(d for d in dues if d.number not in replaced)
    new = tuple(
        InstallmentDue(row.number, row.due_date, row.principal, row.interest, row.fees, zero)
        for row in result.schedule.installments[where.ended :]
    )
    following = replace(state, schedule=result.schedule, prepayments=(*state.prepayments, result))
    return following, kept + new, amount - usable
