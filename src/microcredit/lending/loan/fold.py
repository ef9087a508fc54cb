"""The fold: a loan's terms and events in, its state on a date out.

    state = fold(terms, events, as_of=day)

is a pure function.  The events with a value date on or before `as_of` are
taken, those a `Reversal` names are left out, and the rest are applied in
value-date order (`Event.rank`, then recording order, within a day) to a
private, frozen `_Book`: the schedule, what each installment was charged,
what it still owes, what was waived or written off, the payments and the
credit held.  Between events, and up to `as_of`, a credit balance pays what
falls due on each due date.  The book is then read into a `LoanState`:
installments by component, accrued interest, days past due, bucket, the
five-category class and the payoff quote.

Back-dated events need no special path: a history is always folded in
value-date order, so recording one is replaying from the last book before
its value date.  `LoanBook` keeps those books (one after each event), so
that recording an event costs the events after it, not the whole history;
`fold` from scratch is the reference it is tested against.

The rules an event obeys, and what is refused (`EventRefused`, with a code):

- `Disbursement`: the first builds the schedule on the day; a later one is a
  tranche (when the terms allow), re-amortising what is not yet due (under
  `TranchePrincipal.LATER_INSTALLMENTS`: added to the installments due after
  it, what was paid staying put); never more than the approved amount
  outstanding.
- `Repayment`: split by the strategy over what is due on its value date;
  the rest by the overpayment policy (credit, prepaid principal re-amortised
  in the terms' mode, or the next installments).
- `Prepayment`: what is due first, the rest prepays in the event's mode.
- `ChargeAdded`: owed (as fee, or as penalty) with the installment due on its
  value date, or on its own due date when it has one, or next.
- `PenaltyCharged`: on an installment already due.
- `Waiver`: interest, fees or penalty of one installment, at most what it owes.
- `Deferral`: principal-free installments inserted at one not yet due, the
  rest moved on; `Rescheduling`: a new schedule for what is not yet due.
  Either may be a restructuring (the classification's observation period).
- `Acceleration`: the installments not yet due replaced by one due on the day
  (the principal left and the interest earned to the day), once per loan; what
  was charged to a replaced installment stays owed on it.
- With `Terms.recalculation`, interest on the actual balance beyond the
  schedule's is accrued between events and charged on each due date.
- With `Terms.progressive`, the installments follow the progressive
  calculator's model (`loan.progressive`): a repayment is placed one line at
  a time, each paid principal and interest changing the model; overdue
  principal goes back into the running period's balance before a payment
  and when the loan is read; a tranche, a prepayment, a deferral, a
  rescheduling or an acceleration is refused (`progressive_tranche`,
  `progressive_not_reproduced`).
- With `Terms.cumulative_recalculation`, every repayment, and reading the
  loan, regenerate the schedule from the disbursement and the payments so far
  as Fineract's cumulative generator does (`loan.cumulative`), and allocate
  every payment again over it; an event other than the one disbursement, a
  repayment or an as-of is refused (`cumulative_recalculation_not_reproduced`).
- `WriteOff`: everything outstanding moves to written off; afterwards only
  `Recovery` (at most what was written off) takes money.
- `Refund`: credit held paid back to the borrower, at most what is held on
  its value date (`no_credit_balance`, `above_credit_balance`).
- `Reversal`: the named event is left out, as if never recorded.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import NamedTuple

from microcredit.lending.allocation import (
    Allocation,
    AllocationLine,
    AllocationStrategy,
    Component,
    InstallmentDue,
    OverpaymentPolicy,
    allocate,
    apply_allocation,
    apply_credit,
)
from microcredit.lending.classification import (
    ClassificationInput,
    RestructuringState,
    RiskCategory,
    bucket_for,
    classify,
)
from microcredit.lending.delinquency import loan_dpd
from microcredit.lending.fees import FeeKind
from microcredit.lending.loan.cumulative import regenerated
from microcredit.lending.loan.events import (
    Acceleration,
    AsOf,
    ChargeAdded,
    Deferral,
    Disbursement,
    Event,
    PenaltyCharged,
    Prepayment,
    Recovery,
    Refund,
    Repayment,
    Rescheduling,
    Reversal,
    Waiver,
    WriteOff,
)
from microcredit.lending.loan.progressive import ProgressiveBook, opened, overdue_recalculated, paid, synced
from microcredit.lending.loan.recalculation import PreClosure, Recalculation, rest_date
from microcredit.lending.loan.state import (
    Amounts,
    Disbursed,
    InstallmentState,
    LoanState,
    LoanStatus,
    PaymentApplied,
    PlannedDisbursement,
)
from microcredit.lending.loan.terms import ChargesAfterMaturity, Terms
from microcredit.lending.money import CURRENCIES, Money
from microcredit.lending.periods import PeriodSpec, PeriodUnit, add_units
from microcredit.lending.prepayment import (
    PayoffQuote,
    PrepaymentMode,
    Reamortisation,
    accrued_to,
    add_tranche,
    payoff_quote,
    reamortise,
    standing,
)
from microcredit.lending.restructure import accelerate, defer_installments, reschedule
from microcredit.lending.schedule import InterestCalculation, LoanTerms, Schedule, TranchePrincipal, build_schedule
from microcredit.lending.schedule.amortize import nominal_pmt
from microcredit.lending.schedule.build import level_rate
from microcredit.lending.schedule.progressive import payable_details

__all__ = ["EventRefused", "LoanBook", "down_payment_of", "reference_fold"]


class EventRefused(ValueError):
    """An event the loan cannot take, named by its id, with a code for the caller's message."""

    def __init__(self, event_id: str, code: str, message: str) -> None:
        super().__init__(f"event {event_id}: {message}")
        self.event_id = event_id
        self.code = code
        self.reason = message


SortKey = tuple[date, int, int]


def _key(event: Event, recorded: int) -> SortKey:
    return (event.on, event.rank, recorded)


def _due(number: int, on: date, p: Money, i: Money, f: Money, pen: Money) -> InstallmentDue:
    return InstallmentDue(number, on, p, i, f, pen)


@dataclass(frozen=True, slots=True)
class _Restructured:
    """A restructuring, for classification: its observation period and what it started from."""

    on: date
    first_number: int
    """The first installment of the new terms (a new overdue on it or later counts)."""
    observed_from: date
    observed_until: date
    non_performing_before: bool


class _Book(NamedTuple):
    """The loan after some events: private, immutable, replaced by each step (a named tuple:
    `_replace` costs a fifth of `dataclasses.replace` on a frozen dataclass of this size, and
    the fold replaces the book several times an event)."""

    currency: str
    plan: Reamortisation | None = None
    charged: tuple[InstallmentDue, ...] = ()
    owed: tuple[InstallmentDue, ...] = ()
    waived: tuple[InstallmentDue, ...] = ()
    written_off: tuple[InstallmentDue, ...] = ()
    credit: Money | None = None
    disbursed: Money | None = None
    disbursed_on: date | None = None
    disbursements: tuple[tuple[str, date, Money], ...] = ()
    payments: tuple[PaymentApplied, ...] = ()
    own_strategies: tuple[tuple[str, AllocationStrategy], ...] = ()
    """(repayment id, its strategy) of the repayments allocated by a strategy of their own: a
    tranche replays them by it."""
    principal_prepaid: Money | None = None
    interest_prepaid: Money | None = None
    recovered: Money | None = None
    refunded: Money | None = None
    """Credit paid back to the borrower (`Refund`)."""
    interest_refunded: Money | None = None
    """Interest paid that a recalculation found unearned (principal paid ahead), given back as credit."""
    written_off_on: date | None = None
    credit_through: date | None = None
    """Credit has been used on every due date up to this day."""
    pending: Fraction = Fraction(0)
    """Recalculated interest accrued and not yet charged, exact, in minor units (`_accrue`)."""
    accrued_through: date | None = None
    """Recalculated interest has been accrued up to this day (not counted)."""
    resting: tuple[tuple[date, int], ...] = ()
    """Amounts repaid (minor units) that keep earning until their rest date (rest date, amount)."""
    restructured: _Restructured | None = None
    """The last deferral or rescheduling granted for financial difficulty."""
    accelerated_on: date | None = None
    """The day the loan was called early (`Acceleration`)."""
    progressive: ProgressiveBook | None = None
    """The progressive calculator's model of the loan (`Terms.progressive`), after the first disbursement."""

    def zero(self) -> Money:
        return Money.zero(self.currency)


def _empty(terms: Terms) -> _Book:
    zero = Money.zero(terms.currency)
    return _Book(
        currency=terms.currency,
        credit=zero,
        disbursed=zero,
        principal_prepaid=zero,
        interest_prepaid=zero,
        recovered=zero,
        refunded=zero,
        interest_refunded=zero,
    )


def _money(value: Money | None) -> Money:
    assert value is not None  # set by _empty
    return value


def _refuse(event: Event, code: str, message: str) -> EventRefused:
    return EventRefused(event.id, code, message)


def _check_currency(event: Event, amount: Money, terms: Terms) -> None:
    if amount.currency != terms.currency:
        raise _refuse(event, "currency_mismatch", f"an amount in {amount.currency} on a {terms.currency} loan")
    if not amount.is_positive:
        raise _refuse(event, "amount_not_positive", "the amount must be positive")


# --- credit on due dates --------------------------------------------------------------------


def _with_payment(book: _Book, allocation: Allocation, event_id: str | None, *,
                  interest_prepaid: Money, principal_prepaid: Money) -> _Book:
    record = PaymentApplied(
        event_id=event_id,
        on=allocation.paid_on,
        amount=allocation.amount,
        lines=allocation.lines,
        interest_prepaid=interest_prepaid,
        principal_prepaid=principal_prepaid,
        credit=allocation.credit_balance,
    )
    book = book._replace(
        owed=apply_allocation(book.owed, allocation) if allocation.lines else book.owed,
        credit=_money(book.credit) + allocation.credit_balance,
        payments=(*book.payments, record),
    )
    if book.progressive is not None and allocation.lines:
        due_dates = {d.number: d.due_date for d in book.owed}
        book = _with_model(book, paid(book.progressive, allocation.lines, due_dates, allocation.paid_on))
    return book


def _with_model(book: _Book, progressive: ProgressiveBook) -> _Book:
    """`book` with the progressive calculator's model replaced and the installments following it."""
    charged, owed = synced(progressive.model, book.charged, book.owed)
    return book._replace(progressive=progressive, charged=charged, owed=owed)


def _overdue_back(book: _Book, terms: Terms, day: date) -> _Book:
    """P8 on `day` (`Terms.progressive` with an `overdue_rest`): the overdue principal back into
    the running period's balance, the installments following the model."""
    rule = terms.progressive
    if (rule is None or rule.overdue_rest is None or book.progressive is None or book.plan is None
            or book.written_off_on is not None):
        return book
    starts = {r.number: r.period_start for r in book.plan.schedule.installments}
    progressive, charged, owed = overdue_recalculated(book.progressive, rule.overdue_rest, book.charged, book.owed,
                                                      starts, day)
    return book._replace(progressive=progressive, charged=charged, owed=owed)


def _use_credit_on(book: _Book, terms: Terms, day: date) -> _Book:
    used = apply_credit(book.owed, _money(book.credit), day, strategy=terms.strategy)
    if used is None:
        return book
    zero = book.zero()
    return _with_payment(book, used, None, interest_prepaid=zero, principal_prepaid=zero)


def _use_credit(book: _Book, terms: Terms, until: date) -> _Book:
    """Use the credit held on each due date after `credit_through`, up to `until`."""
    since = book.credit_through
    if book.written_off_on is None and _money(book.credit).is_positive:
        days = sorted({d.due_date for d in book.owed if d.due_date <= until and (since is None or d.due_date > since)})
        for day in days:
            book = _use_credit_on(book, terms, day)
    if since is None or until > since:
        book = book._replace(credit_through=until)
    return book


# --- the steps ------------------------------------------------------------------------------


def _down_payment(book: _Book, terms: Terms, event: Disbursement) -> tuple[Money, int]:
    """The down payment on a disbursement, and the installment number it takes: 0 for the
    first disbursement's, then -1, -2 ... for the tranches' (the regular installments keep
    their numbers 1..n whatever is disbursed later)."""
    if terms.down_payment is None:
        return book.zero(), 0
    number = min((d.number for d in book.owed if d.number <= 0), default=1) - 1
    return down_payment_of(terms, event.amount), number


def down_payment_of(terms: Terms, disbursed: Money) -> Money:
    """The down payment `terms` ask on a disbursement of `disbursed` (zero without one)."""
    rule = terms.down_payment
    if rule is None:
        return Money.zero(terms.currency)
    amount = terms.contract.rounding.times(disbursed, Fraction(rule.percent) / 100)
    multiple = terms.contract.installment_multiple
    if rule.rounded_to_installment_multiple and multiple is not None:
        amount = amount.round_to(multiple, terms.contract.rounding.mode)
    return amount


def _with_down_payment(book: _Book, terms: Terms, event: Disbursement, amount: Money, number: int, *,
                       collect: bool = True) -> _Book:
    """`book` with the down payment installment added (and paid, when collected at disbursement,
    unless `collect` is false)."""
    if not amount.is_positive:
        return book
    zero = book.zero()
    row = _due(number, event.on, amount, zero, zero, zero)
    nothing = _due(number, event.on, zero, zero, zero, zero)
    book = book._replace(
        charged=(row, *book.charged),
        owed=(row, *book.owed),
        waived=(nothing, *book.waived),
        written_off=(nothing, *book.written_off),
    )
    return _collect_down_payment(book, terms, event, amount, number) if collect else book


def _collect_down_payment(book: _Book, terms: Terms, event: Disbursement, amount: Money, number: int, *,
                          only_what_is_owed: bool = False) -> _Book:
    """`book` with the down payment collected at disbursement (when the terms say so); with
    `only_what_is_owed` (a tranche on an overpaid loan, `DownPayment.collected_by_strategy`),
    only what its installment still owes after the replayed payments."""
    zero = book.zero()
    rule = terms.down_payment
    if rule is None or not rule.collected_at_disbursement or not amount.is_positive:
        return book
    if event.down_payment_collected is not None:
        fixed = event.down_payment_collected
        if fixed.currency != amount.currency or fixed.is_negative or fixed > amount:
            raise _refuse(event, "down_payment_collected", f"{fixed} is not part of the {amount} down payment")
        amount = fixed
        if not amount.is_positive:
            return book
        only_what_is_owed = False
    if rule.collected_by_strategy:
        if only_what_is_owed:
            index = _find(book.owed, number)
            amount = min(amount, book.owed[index].principal) if index >= 0 else zero
            if not amount.is_positive:
                return book
        collected = allocate(book.owed, amount, event.on, strategy=terms.strategy,
                             overpayment=OverpaymentPolicy.PAY_NEXT_INSTALLMENTS)
    else:
        collected = Allocation(paid_on=event.on, amount=amount, strategy="down_payment",
                               lines=(AllocationLine(number, Component.PRINCIPAL, amount),), credit_balance=zero,
                               prepayment=zero)
    return _with_payment(book, collected, f"{event.id}:down_payment", interest_prepaid=zero, principal_prepaid=zero)


def _disburse(book: _Book, terms: Terms, event: Disbursement) -> _Book:
    _check_currency(event, event.amount, terms)
    down, number = _down_payment(book, terms, event)
    if book.plan is not None:
        if book.progressive is not None:
            raise _refuse(event, "progressive_tranche",
                          "a tranche on the progressive calculator's schedule is not reproduced yet")
        if book.plan.terms.tranche_principal is TranchePrincipal.LATER_INSTALLMENTS:
            return _tranche_on_later(book, terms, event, down, number)
        if terms.tranche_replays_payments and any(p.event_id is not None for p in book.payments):
            return _tranche_replaying(book, terms, event, down, number)
        return _with_down_payment(_tranche(book, terms, event, event.amount - down), terms, event, down, number)
    contract = terms.contract
    if event.amount > terms.approved_maximum:
        raise _refuse(event, "above_approved_amount",
                      f"{event.amount} is more than the approved {terms.approved_maximum}")
    periods = contract.periods
    if periods.first_due_date is not None and periods.first_due_date <= event.on:
        raise _refuse(event, "first_due_date_passed", "the first due date is not after the disbursement")
    start = periods.start if terms.periods_from_contract_start else event.on
    actual = replace(contract, principal=event.amount - down, periods=replace(periods, start=start))
    schedule = build_schedule(actual, calendar=terms.calendar)
    zero = book.zero()
    rows = tuple(_due(r.number, r.due_date, r.principal, r.interest, r.fees, zero) for r in schedule.installments)
    nothing = tuple(_due(r.number, r.due_date, zero, zero, zero, zero) for r in schedule.installments)
    plan = Reamortisation(schedule, actual, terms.prepayment_mode, terms.calendar)
    book = book._replace(
        plan=plan,
        charged=rows,
        owed=rows,
        waived=nothing,
        written_off=nothing,
        disbursed=event.amount,
        disbursed_on=event.on,
        disbursements=((event.id, event.on, event.amount),),
        credit_through=event.on,
    )
    if terms.progressive is not None:
        book = _with_model(book, opened(terms, terms.progressive, schedule.installments, event.on, event.amount - down))
    book = _with_down_payment(book, terms, event, down, number)
    return _with_fees_at_disbursement(book, event.on, schedule.totals.paid_at_disbursement)


def _with_fees_at_disbursement(book: _Book, on: date, amount: Money, *, penalty: bool = False) -> _Book:
    """`book` with the fees paid at disbursement owed on the day, by installment 0 (the first
    disbursement's down payment installment, or one of its own): the borrower pays them like
    any installment (a fee kept back from the money paid out is a deducted fee instead)."""
    if not amount.is_positive:
        return book
    index = _find(book.owed, 0)
    if index < 0:
        zero = book.zero()
        nothing = _due(0, on, zero, zero, zero, zero)
        book = book._replace(charged=(nothing, *book.charged), owed=(nothing, *book.owed),
                             waived=(nothing, *book.waived), written_off=(nothing, *book.written_off))
        index = 0
    fee, charge = (None, amount) if penalty else (amount, None)
    return book._replace(charged=_add(book.charged, index, fee=fee, penalty=charge),
                         owed=_add(book.owed, index, fee=fee, penalty=charge))


def _active(book: _Book, event: Event) -> Reamortisation:
    if book.plan is None:
        raise _refuse(event, "not_disbursed", "the loan has not been disbursed")
    if book.written_off_on is not None:
        raise _refuse(event, "written_off", "the loan is written off: only a recovery takes money")
    return book.plan


def _find(rows: Sequence[InstallmentDue], number: int) -> int:
    for index, row in enumerate(rows):
        if row.number == number:
            return index
    return -1


def _add(rows: tuple[InstallmentDue, ...], index: int, *, fee: Money | None = None,
         penalty: Money | None = None, sign: int = 1) -> tuple[InstallmentDue, ...]:
    row = rows[index]
    changed = replace(
        row,
        fee=row.fee + fee * sign if fee is not None else row.fee,
        penalty=row.penalty + penalty * sign if penalty is not None else row.penalty,
    )
    return (*rows[:index], changed, *rows[index + 1 :])


Extras = list[tuple[int, Money, Money]]


def _set_aside(book: _Book, plan: Reamortisation, on: date,
               owed: tuple[InstallmentDue, ...]) -> tuple[tuple[InstallmentDue, ...], Extras, set[int]]:
    """The installments a re-amortisation on `on` replaces (not ended), and `owed` with the
    charges and penalties added to them set aside, so that they owe exactly the schedule's rows."""
    zero = book.zero()
    ended = standing(plan.schedule, on).ended
    replaced = {row.number: row for row in plan.schedule.installments[ended:]}
    extras: Extras = []
    stripped = list(owed)
    for index, due in enumerate(stripped):
        row = replaced.get(due.number)
        if row is not None and (due.fee != row.fees or due.penalty.is_positive):
            extras.append((due.number, due.fee - row.fees, due.penalty))
            stripped[index] = replace(due, fee=row.fees, penalty=zero)
    return tuple(stripped), extras, set(replaced)


def _refuse_paid_ahead(event: Event, book: _Book, plan: Reamortisation, owed: tuple[InstallmentDue, ...],
                       stripped: tuple[InstallmentDue, ...], replaced: set[int], what: str) -> None:
    """Refuse to re-amortise installments that already hold money paid ahead of their due date.

    The re-amortised schedule replaces those rows; the earlier payment's lines (and the ledger
    entries made from them) would then name installments that no longer exist, and what they
    paid of a charge on them would be lost.  An installment not yet due holds money paid ahead
    when it owes less than it was charged, in any component (nothing else lowers what such an
    installment owes: a waiver waits for the due date), or when its principal or interest is no
    longer the schedule's.  Until the paid ahead installment falls due, the borrower's way is a
    repayment, or a reversal of the payment that paid ahead and one prepayment of both sums.
    """
    rows = {r.number: r for r in plan.schedule.installments}
    charged = {d.number: d for d in book.charged}
    for due, kept in zip(owed, stripped, strict=True):
        if due.number not in replaced:
            continue
        row, before = rows.get(due.number), charged.get(due.number)
        moved = row is not None and (kept.principal, kept.interest) != (row.principal, row.interest)
        paid = before is not None and (due.principal, due.interest, due.fee, due.penalty) != (
            before.principal, before.interest, before.fee, before.penalty)
        if moved or paid:
            raise _refuse(event, "installment_paid_in_advance",
                          f"installment {due.number} was paid before it fell due: {what} cannot re-amortise it")


def _put_back(book: _Book, dues: tuple[InstallmentDue, ...], replaced: set[int],
              extras: Extras) -> tuple[tuple[InstallmentDue, ...], tuple[InstallmentDue, ...]]:
    """(dues, charged) after a re-amortisation: the replaced installments charged the new rows'
    amounts (nothing once the loan is settled in full), the others what they were; the extras
    set aside back on their installment, or on the last one left when the term shortened."""
    zero = book.zero()
    old = {d.number: d for d in book.charged}
    charged = tuple(
        old[d.number] if d.number in old and d.number not in replaced
        else _due(d.number, d.due_date, d.principal, d.interest, d.fee, zero)
        for d in dues
    )
    for number, fee, penalty in extras:
        index = _find(dues, number)
        index = len(dues) - 1 if index < 0 else index
        dues = _add(dues, index, fee=fee, penalty=penalty)
        charged = _add(charged, index, fee=fee, penalty=penalty)
    return dues, charged


def _resized(book: _Book, dues: tuple[InstallmentDue, ...]) -> tuple[tuple[InstallmentDue, ...], ...]:
    """(waived, written off) for the installments `dues` has now."""
    zero = book.zero()
    nothing = tuple(_due(d.number, d.due_date, zero, zero, zero, zero) for d in dues)
    return _carry(book.waived, nothing), _carry(book.written_off, nothing)


def _prepay(book: _Book, terms: Terms, event: Event, allocation: Allocation, mode: PrepaymentMode) -> _Book:
    """Apply `allocation`, re-amortise with what it handed over as a prepayment, record the payment."""
    plan = book.plan
    assert plan is not None
    owed = apply_allocation(book.owed, allocation) if allocation.lines else book.owed
    stripped, extras, replaced = _set_aside(book, plan, event.on, owed)
    _refuse_paid_ahead(event, book, plan, owed, stripped, replaced, "a prepayment")
    before = len(plan.prepayments)
    # A recalculation's interest beyond the schedule, accrued to the day, is settled first too.
    extra = _rounded(terms, book.pending) if book.pending else None
    following, dues, unused = reamortise(
        replace(plan, mode=mode), stripped, paid_on=event.on, amount=allocation.prepayment, extra_interest=extra
    )
    taken = following.prepayments[before:]
    if taken and extra is not None:
        book = book._replace(pending=Fraction(0))
    interest_prepaid = Money.total((t.accrued_interest for t in taken), terms.currency)
    principal_prepaid = Money.total((t.principal_prepaid for t in taken), terms.currency)
    dues, charged = _put_back(book, dues, replaced, extras)
    credit = allocation.credit_balance + unused
    record = PaymentApplied(
        event_id=event.id,
        on=event.on,
        amount=allocation.amount,
        lines=allocation.lines,
        interest_prepaid=interest_prepaid,
        principal_prepaid=principal_prepaid,
        credit=credit,
    )
    waived, written_off = _resized(book, dues)
    return book._replace(
        plan=replace(following, mode=terms.prepayment_mode),
        owed=dues,
        charged=charged,
        waived=waived,
        written_off=written_off,
        credit=_money(book.credit) + credit,
        principal_prepaid=_money(book.principal_prepaid) + principal_prepaid,
        interest_prepaid=_money(book.interest_prepaid) + interest_prepaid,
        payments=(*book.payments, record),
    )


def _tranche_allowed(book: _Book, terms: Terms, event: Disbursement) -> Reamortisation:
    """The plan a tranche joins, once the terms allow it: tranches at all, not written off, and never
    more than the approved amount outstanding."""
    plan = book.plan
    assert plan is not None
    if not terms.tranches:
        raise _refuse(event, "already_disbursed", "the loan is disbursed once (its terms allow no tranches)")
    if book.written_off_on is not None:
        raise _refuse(event, "written_off", "the loan is written off")
    outstanding = Money.total((d.principal for d in book.owed), terms.currency)
    if outstanding + event.amount > terms.approved_maximum:
        approved = terms.approved_maximum
        raise _refuse(event, "above_approved_amount",
                      f"{outstanding} outstanding and {event.amount} more exceed the approved {approved}")
    return plan


def _tranche(book: _Book, terms: Terms, event: Disbursement, scheduled: Money) -> _Book:
    """A further disbursement: the installments not yet ended re-amortised on the balance plus
    `scheduled` (the tranche less its down payment)."""
    plan = _tranche_allowed(book, terms, event)
    # Under TERM_SHARE (Fineract's K11) a tranche joins the period it falls in, (start, due date]:
    # on a due date it is scheduled from that day's installment on.
    joins = event.on
    if plan.terms.tranche_principal is TranchePrincipal.TERM_SHARE:
        joins -= timedelta(days=1)
    if standing(plan.schedule, joins).ended == len(plan.schedule.installments):
        raise _refuse(event, "schedule_ended", "every installment has fallen due: nothing left to re-amortise")
    stripped, extras, replaced = _set_aside(book, plan, joins, book.owed)
    _refuse_paid_ahead(event, book, plan, book.owed, stripped, replaced, "a tranche")
    schedule = add_tranche(plan.schedule, plan.terms, disbursed_on=joins, amount=scheduled,
                           calendar=terms.calendar)
    zero = book.zero()
    kept = tuple(d for d in stripped if d.number not in replaced)
    new = tuple(
        _due(row.number, row.due_date, row.principal, row.interest, row.fees, zero)
        for row in schedule.installments if row.number in replaced
    )
    dues, charged = _put_back(book, kept + new, replaced, extras)
    waived, written_off = _resized(book, dues)
    return book._replace(
        plan=replace(plan, schedule=schedule),
        owed=dues,
        charged=charged,
        waived=waived,
        written_off=written_off,
        disbursed=_money(book.disbursed) + event.amount,
        disbursements=(*book.disbursements, (event.id, event.on, event.amount)),
    )


def _tranche_on_later(book: _Book, terms: Terms, event: Disbursement, down: Money, number: int) -> _Book:
    """A tranche under `TranchePrincipal.LATER_INSTALLMENTS` (Fineract's progressive loan without
    interest): the installments due after its day owe more (`prepayment.tranche_shares`), what
    every installment was paid stays; its down payment installment is added; the credit held
    pays what is owed on the day and ahead, next installment first (Fineract allocates a loan's
    overpayment on a disbursement, ``allocateOverpayment``); then the down payment is collected
    when the terms say so -- on a loan that held credit, only what its installment still owes."""
    plan = _tranche_allowed(book, terms, event)
    if plan.terms.annual_rate:
        raise _refuse(event, "tranche_with_interest",
                      "a tranche added to the later installments is for a loan without interest")
    scheduled = event.amount - down
    try:
        schedule = add_tranche(plan.schedule, plan.terms, disbursed_on=event.on, amount=scheduled,
                               calendar=terms.calendar)
    except ValueError:
        raise _refuse(event, "schedule_ended",
                      "every installment has fallen due: nothing left to re-amortise") from None
    before = {row.number: row.principal for row in plan.schedule.installments}
    added = {row.number: row.principal - before[row.number] for row in schedule.installments}
    charged, owed = list(book.charged), list(book.owed)
    for index, due in enumerate(owed):
        more = added.get(due.number)
        if more is not None and more.minor:
            owed[index] = replace(due, principal=due.principal + more)
            charged[index] = replace(charged[index], principal=charged[index].principal + more)
    overpaid = _money(book.credit).is_positive
    book = book._replace(
        plan=replace(plan, schedule=schedule),
        owed=tuple(owed),
        charged=tuple(charged),
        disbursed=_money(book.disbursed) + event.amount,
        disbursements=(*book.disbursements, (event.id, event.on, event.amount)),
    )
    book = _with_down_payment(book, terms, event, down, number, collect=False)
    return _collect_down_payment(_use_credit_ahead(book, terms, event.on), terms, event, down, number,
                                 only_what_is_owed=overpaid)


def _use_credit_ahead(book: _Book, terms: Terms, day: date) -> _Book:
    """The credit held paying, on `day`, what is owed then and ahead, by the loan's strategy."""
    credit = _money(book.credit)
    if not credit.is_positive or book.written_off_on is not None:
        return book
    held = allocate(book.owed, credit, day, strategy=terms.strategy,
                    overpayment=OverpaymentPolicy.PAY_NEXT_INSTALLMENTS)
    if not held.lines:
        return book
    zero = book.zero()
    used = Allocation(paid_on=day, amount=zero, strategy=terms.strategy.name, lines=held.lines,
                      credit_balance=-held.allocated, prepayment=zero)
    return _with_payment(book, used, None, interest_prepaid=zero, principal_prepaid=zero)


def _tranche_replaying(book: _Book, terms: Terms, event: Disbursement, down: Money, number: int) -> _Book:
    """A tranche under `Terms.tranche_replays_payments`: the schedule re-amortised (and the
    tranche's down payment added) as if nothing had been paid, then every payment so far
    allocated again, in order, over the new schedule (Fineract reprocesses a loan's transactions
    on each disbursement), then the down payment collected if the terms say so."""
    zero = book.zero()
    if any(p.principal_prepaid.is_positive or p.interest_prepaid.is_positive for p in book.payments):
        raise _refuse(event, "installment_paid_in_advance",
                      "a payment re-amortised the schedule: a tranche cannot replay it")
    unpaid = tuple(
        _due(c.number, c.due_date, c.principal - w.principal - x.principal, c.interest - w.interest - x.interest,
             c.fee - w.fee - x.fee, c.penalty - w.penalty - x.penalty)
        for c, w, x in zip(book.charged, book.waived, book.written_off, strict=True)
    )
    payments = [p for p in book.payments if p.event_id is not None]
    own = dict(book.own_strategies)
    overpaid = _money(book.credit).is_positive
    bare = book._replace(owed=unpaid, payments=(), credit=zero, credit_through=book.disbursed_on)
    result = _with_down_payment(_tranche(bare, terms, event, event.amount - down), terms, event, down, number,
                                collect=False)
    for payment in payments:
        result = _use_credit(result, terms, payment.on)
        if payment.event_id is not None and payment.event_id.endswith(":down_payment"):
            # A down payment collected earlier pays what it paid then (its installment, or one
            # overdue on that day); those installments had fallen due, the tranche keeps them.
            kept = Allocation(paid_on=payment.on, amount=payment.amount, strategy=terms.strategy.name,
                              lines=payment.lines, credit_balance=payment.credit, prepayment=zero)
            if _fits(result.owed, kept.lines):
                result = _with_payment(result, kept, payment.event_id, interest_prepaid=zero, principal_prepaid=zero)
                continue
        strategy = own.get(payment.event_id or "", terms.strategy)
        allocation = allocate(result.owed, payment.amount, payment.on, strategy=strategy,
                              overpayment=terms.overpayment)
        if allocation.prepayment.is_positive:
            raise _refuse(event, "installment_paid_in_advance",
                          "a payment would prepay principal over the new schedule: a tranche cannot replay it")
        result = _with_payment(result, allocation, payment.event_id, interest_prepaid=zero, principal_prepaid=zero)
    return _collect_down_payment(_use_credit(result, terms, event.on), terms, event, down, number,
                                 only_what_is_owed=overpaid)


def _fits(owed: tuple[InstallmentDue, ...], lines: Sequence[AllocationLine]) -> bool:
    """Whether `lines` pay no component of an installment beyond what it owes (lines on an
    installment `owed` does not have are left out by `apply_allocation`, as before)."""
    left = {(d.number, c): d.owed(c) for d in owed for c in Component}
    for line in lines:
        key = (line.installment, line.component)
        if key in left:
            left[key] -= line.amount
            if left[key].is_negative:
                return False
    return True


def _carry(rows: tuple[InstallmentDue, ...], nothing: tuple[InstallmentDue, ...]) -> tuple[InstallmentDue, ...]:
    """Per-installment amounts kept for the installments that remain; nothing for new ones."""
    by_number = {r.number: r for r in rows}
    return tuple(
        replace(by_number[z.number], due_date=z.due_date) if z.number in by_number else z for z in nothing
    )


def _repay(book: _Book, terms: Terms, event: Repayment | Prepayment) -> _Book:
    _check_currency(event, event.amount, terms)
    _active(book, event)
    strategy = terms.strategy
    if isinstance(event, Prepayment):
        policy, mode = OverpaymentPolicy.PREPAY_PRINCIPAL, event.mode
    else:
        policy, mode = terms.overpayment, terms.prepayment_mode
        strategy = event.strategy or strategy
    book = _overdue_back(book, terms, event.on)
    if book.progressive is not None:
        return _repay_progressive(book, terms, event, strategy, policy)
    allocation = allocate(book.owed, event.amount, event.on, strategy=strategy, overpayment=policy)
    if allocation.prepayment.is_positive:
        return _prepay(book, terms, event, allocation, mode)
    zero = book.zero()
    if strategy is not terms.strategy:
        book = book._replace(own_strategies=(*book.own_strategies, (event.id, strategy)))
    return _with_payment(book, allocation, event.id, interest_prepaid=zero, principal_prepaid=zero)


def _repay_progressive(book: _Book, terms: Terms, event: Repayment | Prepayment, strategy: AllocationStrategy,
                       policy: OverpaymentPolicy) -> _Book:
    """A repayment on the progressive calculator's schedule, one allocation line at a time, as
    Fineract's processor pays an interest-bearing progressive loan
    (``handlingPaymentAllocationForInterestBearingProgressiveLoan``): each principal or interest
    paid goes into the model at once (P7) and every installment follows it before the next line
    is placed; an installment paid ahead first asks only what it would on the payment day
    (``getPayableDetails``: interest to that day, principal the EMI less it).  When that leaves
    nothing to pay -- a payable principal at or below what was paid, even negative when P8 has
    taken overdue principal out of the balance twice (docs/fineract-profile.md §9) -- every
    installment goes back to what the model says is due, as Fineract's paying 0 and
    ``updateRepaymentPeriods`` do (it would pay the negative figure; the fold pays nothing)."""
    zero = book.zero()
    left = event.amount
    lines: list[AllocationLine] = []
    while left.is_positive:
        allocation = allocate(book.owed, left, event.on, strategy=strategy, overpayment=policy)
        while allocation.lines and (payable := _payable_on(book, terms, allocation.lines[0], event.on)) is not book:
            book = payable
            allocation = allocate(book.owed, left, event.on, strategy=strategy, overpayment=policy)
        if not allocation.lines:
            if book.progressive is not None:
                book = _with_model(book, book.progressive)
            break
        line = allocation.lines[0]
        paid_on = _pay_date(book, terms, line.installment, event.on)
        one = Allocation(paid_on=event.on, amount=line.amount, strategy=allocation.strategy, lines=(line,),
                         credit_balance=zero, prepayment=zero)
        book = book._replace(owed=apply_allocation(book.owed, one))
        if book.progressive is not None:
            due_dates = {d.number: d.due_date for d in book.owed}
            book = _with_model(book, paid(book.progressive, (line,), due_dates, paid_on))
        left = left - line.amount
        if lines and (lines[-1].installment, lines[-1].component) == (line.installment, line.component):
            line = replace(line, amount=lines.pop().amount + line.amount)
        lines.append(line)
    record = PaymentApplied(event_id=event.id, on=event.on, amount=event.amount, lines=tuple(lines),
                            interest_prepaid=zero, principal_prepaid=zero, credit=left)
    if strategy is not terms.strategy:
        book = book._replace(own_strategies=(*book.own_strategies, (event.id, strategy)))
    return book._replace(credit=_money(book.credit) + left, payments=(*book.payments, record))


def _pay_date(book: _Book, terms: Terms, number: int, on: date) -> date:
    """The day a payment on `on` counts from for installment `number`: `on`, or under
    `PreClosure.TILL_REST_DATE` the due date of an installment not yet due whose period runs on
    `on` (``calculateNewPayDateInCaseOfInAdvancePayment``)."""
    rule = terms.progressive
    if rule is None or rule.pre_closure is not PreClosure.TILL_REST_DATE or book.plan is None:
        return on
    row = next((r for r in book.plan.schedule.installments if r.number == number), None)
    if row is None or not row.period_start < on <= row.due_date:
        return on
    return row.due_date


def _payable_on(book: _Book, terms: Terms, line: AllocationLine, on: date) -> _Book:
    """`book` with the installment `line` pays ahead of its due date asking, for that component,
    what it would on the day a payment on `on` counts from (`payable_details`, `_pay_date`);
    `book` itself when nothing changes."""
    progressive = book.progressive
    index = _find(book.owed, line.installment)
    if progressive is None or index < 0 or line.component not in (Component.PRINCIPAL, Component.INTEREST):
        return book
    charged, owed = book.charged[index], book.owed[index]
    if charged.number <= 0 or charged.due_date <= on or progressive.model.index_of(charged.due_date) < 0:
        return book
    details = payable_details(progressive.model, charged.due_date, _pay_date(book, terms, line.installment, on))
    if line.component is Component.PRINCIPAL:
        amount = Money(details.principal, book.currency)
        if amount == charged.principal:
            return book
        new_charged = replace(charged, principal=amount)
        new_owed = replace(owed, principal=amount - (charged.principal - owed.principal))
    else:
        amount = Money(details.interest, book.currency)
        if amount == charged.interest:
            return book
        new_charged = replace(charged, interest=amount)
        new_owed = replace(owed, interest=amount - (charged.interest - owed.interest))
    return book._replace(charged=(*book.charged[:index], new_charged, *book.charged[index + 1:]),
                         owed=(*book.owed[:index], new_owed, *book.owed[index + 1:]))


def _extra_installment(book: _Book, last: int, falls_due: date) -> tuple[_Book, int]:
    """`book` with the installment after the schedule's last (`ChargesAfterMaturity.EXTRA_INSTALLMENT`)
    due on `falls_due` at the latest, and its index: added when there is none yet."""
    index = next((i for i, d in enumerate(book.owed) if d.number > last), -1)
    if index >= 0:
        if book.owed[index].due_date >= falls_due:
            return book, index
        moved = [tuple(replace(d, due_date=falls_due) if i == index else d for i, d in enumerate(rows))
                 for rows in (book.charged, book.owed, book.waived, book.written_off)]
        return book._replace(charged=moved[0], owed=moved[1], waived=moved[2], written_off=moved[3]), index
    zero = book.zero()
    row = _due(last + 1, falls_due, zero, zero, zero, zero)
    return book._replace(charged=(*book.charged, row), owed=(*book.owed, row), waived=(*book.waived, row),
                   written_off=(*book.written_off, row)), len(book.owed)


def _charge(book: _Book, terms: Terms, event: ChargeAdded) -> _Book:
    _check_currency(event, event.amount, terms)
    _active(book, event)
    if event.at_disbursement:
        if not book.disbursements or book.disbursements[0][1] != event.on:
            raise _refuse(event, "not_disbursement_day", f"the loan was first disbursed on "
                          f"{book.disbursements[0][1] if book.disbursements else None}, not {event.on}")
        return _use_credit_on(_with_fees_at_disbursement(book, event.on, event.amount, penalty=event.penalty),
                              terms, event.on)
    falls_due = event.on if event.due_on is None else event.due_on
    skip_down_payments = not terms.charges_with_down_payment
    index = next((i for i, d in enumerate(book.owed)
                  if d.due_date >= falls_due and not (skip_down_payments and d.number <= 0)), len(book.owed) - 1)
    if (terms.charges_after_maturity is ChargesAfterMaturity.EXTRA_INSTALLMENT
            and book.plan is not None and falls_due > book.plan.schedule.installments[-1].due_date):
        book, index = _extra_installment(book, book.plan.schedule.installments[-1].number, falls_due)
    fee, penalty = (None, event.amount) if event.penalty else (event.amount, None)
    owed = _add(book.owed, index, fee=fee, penalty=penalty)
    row = owed[index]
    # The charge's own due date, for a strategy that pays ahead only the charges already due.
    dated = replace(row, charges=(*row.charges, (falls_due, Component.PENALTY if event.penalty else Component.FEE,
                                                  event.amount)))
    book = book._replace(
        charged=_add(book.charged, index, fee=fee, penalty=penalty),
        owed=(*owed[:index], dated, *owed[index + 1:]),
    )
    return _use_credit_on(book, terms, event.on) if book.owed[index].due_date <= event.on else book


def _penalty(book: _Book, terms: Terms, event: PenaltyCharged) -> _Book:
    _check_currency(event, event.amount, terms)
    _active(book, event)
    index = _find(book.owed, event.installment)
    if index < 0:
        raise _refuse(event, "installment_unknown", f"the loan has no installment {event.installment}")
    if book.owed[index].due_date > event.on:
        raise _refuse(event, "installment_not_due", f"installment {event.installment} is not due yet")
    book = book._replace(
        charged=_add(book.charged, index, penalty=event.amount),
        owed=_add(book.owed, index, penalty=event.amount),
    )
    return _use_credit_on(book, terms, event.on)


def _waive(book: _Book, terms: Terms, event: Waiver) -> _Book:
    _check_currency(event, event.amount, terms)
    _active(book, event)
    if event.component is Component.PRINCIPAL:
        raise _refuse(event, "principal_not_waivable", "principal is written off, not waived")
    index = _find(book.owed, event.installment)
    if index < 0:
        raise _refuse(event, "installment_unknown", f"the loan has no installment {event.installment}")
    owed = book.owed[index]
    if owed.due_date > event.on:
        raise _refuse(event, "installment_not_due", f"installment {event.installment} is not due yet")
    if event.amount > owed.owed(event.component):
        raise _refuse(event, "above_outstanding",
                      f"installment {event.installment} owes {owed.owed(event.component)} of {event.component}")
    if event.component is Component.FEE:
        protected = min(owed.fee, _fees_not_waivable(book, event.installment))
        if event.amount > owed.fee - protected:
            raise _refuse(event, "fee_not_waivable",
                          f"{protected} of installment {event.installment}'s fees may not be waived (the terms say so)")
    lowered = _changed(owed, event.component, -event.amount)
    raised = _changed(book.waived[index], event.component, event.amount)
    return book._replace(
        owed=(*book.owed[:index], lowered, *book.owed[index + 1 :]),
        waived=(*book.waived[:index], raised, *book.waived[index + 1 :]),
    )


def _fees_not_waivable(book: _Book, number: int) -> Money:
    """The fees the terms protect from waivers that installment `number` was scheduled to charge:
    each regular installment's per-installment fees, installment 0's fees at disbursement.  What
    an installment has paid of its fees counts against those that may be waived first, so a
    waiver never forgives a protected fee (an insurer's premium, say)."""
    plan = book.plan
    zero = book.zero()
    if plan is None:
        return zero
    protected = [c for c in plan.schedule.fee_charges if not c.waivable]
    if number == 0:
        return Money.total((c.per_charge for c in protected if c.kind is FeeKind.AT_DISBURSEMENT), book.currency)
    row = next((r for r in plan.schedule.installments if r.number == number), None)
    if row is None:
        return zero
    # A fee on each installment's principal + interest is what this row charged of it.
    policy = plan.terms.rounding
    return Money(sum(c.on_row(row.principal_minor, row.interest_minor, policy)
                     for c in protected if c.kind is FeeKind.PER_INSTALLMENT), book.currency)


def _changed(due: InstallmentDue, component: Component, by: Money) -> InstallmentDue:
    """`due` with one component's amount changed by `by`."""
    amounts = {c: due.owed(c) + (by if c is component else Money.zero(by.currency)) for c in Component}
    return _due(due.number, due.due_date, amounts[Component.PRINCIPAL], amounts[Component.INTEREST],
                amounts[Component.FEE], amounts[Component.PENALTY])


def _renewed(book: _Book, plan: Reamortisation, schedule: Schedule, terms_after: LoanTerms, on: date,
             stripped: tuple[InstallmentDue, ...], extras: Extras, replaced: set[int]) -> _Book:
    """`book` with the installments not ended on `on` replaced by `schedule`'s from there on."""
    zero = book.zero()
    ended = standing(plan.schedule, on).ended
    kept = tuple(d for d in stripped if d.number not in replaced)
    new = tuple(_due(row.number, row.due_date, row.principal, row.interest, row.fees, zero)
                for row in schedule.installments[ended:])
    dues, charged = _put_back(book, kept + new, replaced | {d.number for d in new}, extras)
    waived, written_off = _resized(book, dues)
    return book._replace(plan=replace(plan, schedule=schedule, terms=terms_after), owed=dues, charged=charged,
                   waived=waived, written_off=written_off)


def _restructuring(book: _Book, terms: Terms, event: Deferral | Rescheduling, schedule: Schedule,
                   first_number: int) -> _Restructured | None:
    """The observation period of a restructuring: from the first due date under the new terms,
    at least a year and at least two repayment periods (docs/domain.md, restructured assets)."""
    if not event.restructuring:
        return book.restructured
    new_rows = [row for row in schedule.installments if row.number >= first_number]
    if not new_rows:
        return book.restructured
    start = new_rows[0].due_date
    second = new_rows[1].due_date if len(new_rows) > 1 else start
    until = max(add_units(start, PeriodUnit.YEAR, 1), second)
    dpd = loan_dpd(book.owed, event.on, grace_days=terms.dpd_grace_days, tolerance=terms.dpd_tolerance)
    before = classify(ClassificationInput(dpd=dpd), policy=terms.classification).category
    return _Restructured(event.on, first_number, start, until, before >= RiskCategory.SUBSTANDARD)


def _defer(book: _Book, terms: Terms, event: Deferral) -> _Book:
    plan = _active(book, event)
    rows = plan.schedule.installments
    ended = standing(plan.schedule, event.on).ended
    if event.periods < 1:
        raise _refuse(event, "periods_not_positive", "a deferral lasts at least one period")
    if not any(row.number == event.from_installment for row in rows[ended:]):
        raise _refuse(event, "installment_not_deferrable",
                      f"installment {event.from_installment} is not one still to fall due")
    if rows[0].period_start < plan.terms.periods.start:
        # Deferral re-dates every row from the contract's anchor; after a rescheduling the
        # terms describe only the new rows.
        raise _refuse(event, "rescheduled_loan", "a rescheduled loan is deferred by rescheduling it again")
    stripped, extras, replaced = _set_aside(book, plan, event.on, book.owed)
    _refuse_paid_ahead(event, book, plan, book.owed, stripped, replaced, "a deferral")
    schedule = defer_installments(plan.schedule, plan.terms, from_number=event.from_installment,
                                  periods=event.periods, interest=event.interest, calendar=terms.calendar)
    periods = plan.terms.periods
    longer = replace(plan.terms, periods=replace(periods, count=max(periods.count, len(rows)) + event.periods))
    book = _renewed(book, plan, schedule, longer, event.on, stripped, extras, replaced)
    return book._replace(restructured=_restructuring(book, terms, event, schedule, event.from_installment))


def _reschedule(book: _Book, terms: Terms, event: Rescheduling) -> _Book:
    plan = _active(book, event)
    if event.installments < 1:
        raise _refuse(event, "periods_not_positive", "a new schedule has at least one installment")
    if event.annual_rate is not None and not Decimal(0) <= event.annual_rate < Decimal(10):
        raise _refuse(event, "rate_out_of_range", "the new annual rate is a fraction between 0 and 10")
    where = standing(plan.schedule, event.on)
    stripped, extras, replaced = _set_aside(book, plan, event.on, book.owed)
    _refuse_paid_ahead(event, book, plan, book.owed, stripped, replaced, "a rescheduling")
    zero = book.zero()
    capitalised = zero
    if event.capitalise_overdue_principal:
        capitalised = Money.total((d.principal for d in stripped if d.number not in replaced), terms.currency)
    if not (where.balance + capitalised).is_positive:
        raise _refuse(event, "nothing_to_reschedule", "no principal is left to fall due")
    schedule = reschedule(plan.schedule, plan.terms, effective=event.on, count=event.installments,
                          calendar=terms.calendar, annual_rate=event.annual_rate,
                          capitalised_arrears=capitalised if capitalised else None,
                          outstanding_principal=where.balance, method=event.method)
    if capitalised:
        # The overdue principal moves into the new schedule: off its installments (owed and charged).
        stripped = tuple(replace(d, principal=zero) if d.number not in replaced else d for d in stripped)
        book = book._replace(charged=tuple(
            replace(c, principal=c.principal - o.principal) if o.number not in replaced else c
            for c, o in zip(book.charged, book.owed, strict=True)))
    new_terms = replace(
        plan.terms,
        principal=where.balance + capitalised,
        annual_rate=schedule.nominal_annual_rate,
        periods=PeriodSpec(start=event.on, frequency=plan.terms.periods.frequency, count=event.installments,
                           month_end=plan.terms.periods.month_end,
                           business_day_rule=plan.terms.periods.business_day_rule),
        method=event.method or plan.terms.method,
        grace_on_principal=0, grace_on_interest_payment=0, interest_free_periods=0,
    )
    first = (plan.schedule.installments[where.ended - 1].number + 1) if where.ended else 1
    book = _renewed(book, plan, schedule, new_terms, event.on, stripped, extras, replaced)
    return book._replace(restructured=_restructuring(book, terms, event, schedule, first))


def _accelerate(book: _Book, terms: Terms, event: Acceleration) -> _Book:
    """The installments not yet due on the day replaced by one due on it (`restructure.accelerate`):
    the principal left and the interest earned to the day; charges and penalties set aside from
    the replaced installments are put back on it; the credit held pays it at once."""
    plan = _active(book, event)
    if book.accelerated_on is not None:
        raise _refuse(event, "already_accelerated", f"the loan was called early on {book.accelerated_on}")
    if plan.settled_on is not None or standing(plan.schedule, event.on).ended == len(plan.schedule.installments):
        raise _refuse(event, "nothing_to_accelerate", "every installment has fallen due: nothing is left to call")
    if not any(d.owes for d in book.owed):
        raise _refuse(event, "nothing_to_accelerate", "the loan owes nothing")
    stripped, extras, replaced = _set_aside(book, plan, event.on, book.owed)
    _refuse_paid_ahead(event, book, plan, book.owed, stripped, replaced, "an acceleration")
    contract = plan.terms
    accrued = accrued_to(plan.schedule, event.on, rate=contract.annual_rate, day_count=contract.day_count,
                         rounding=contract.rounding)
    schedule = accelerate(plan.schedule, on=event.on, accrued_interest=accrued)
    book = _renewed(book, plan, schedule, contract, event.on, stripped, extras, replaced)
    book = book._replace(accelerated_on=event.on)
    if terms.recalculation is not None:
        book = _charge_pending(_accrue(book, terms, event.on), terms, event.on)
    return _use_credit_on(book, terms, event.on)


def _write_off(book: _Book, terms: Terms, event: WriteOff) -> _Book:
    _active(book, event)
    zero = book.zero()
    return book._replace(
        written_off=tuple(
            _due(w.number, w.due_date, w.principal + o.principal, w.interest + o.interest, w.fee + o.fee,
                 w.penalty + o.penalty)
            for w, o in zip(book.written_off, book.owed, strict=True)
        ),
        owed=tuple(_due(o.number, o.due_date, zero, zero, zero, zero) for o in book.owed),
        written_off_on=event.on,
    )


def _recover(book: _Book, terms: Terms, event: Recovery) -> _Book:
    _check_currency(event, event.amount, terms)
    if book.written_off_on is None:
        raise _refuse(event, "not_written_off", "a recovery is taken on a written-off loan only")
    total = Money.total((w.principal + w.interest + w.fee + w.penalty for w in book.written_off), terms.currency)
    if _money(book.recovered) + event.amount > total:
        raise _refuse(event, "above_written_off", f"recoveries would exceed the {total} written off")
    return book._replace(recovered=_money(book.recovered) + event.amount)


def _refund(book: _Book, terms: Terms, event: Refund) -> _Book:
    _check_currency(event, event.amount, terms)
    credit = _money(book.credit)
    if not credit.is_positive:
        raise _refuse(event, "no_credit_balance", "the loan holds no credit to refund")
    if event.amount > credit:
        raise _refuse(event, "above_credit_balance", f"a refund of at most the {credit} credit held")
    return book._replace(credit=credit - event.amount, refunded=_money(book.refunded) + event.amount)


_NOT_ON_THE_MODEL = (Prepayment, Deferral, Rescheduling, Acceleration)
"""Events that re-amortise the schedule, which the progressive calculator's model does not
follow yet (`Terms.progressive` refuses them, as it refuses a tranche)."""


_ON_THE_REGENERATED = (Repayment, AsOf)
"""Events a schedule regenerated by `Terms.cumulative_recalculation` takes, besides its one
disbursement."""


def _regenerate(book: _Book, terms: Terms, on: date) -> _Book:
    """`Terms.cumulative_recalculation`: the schedule Fineract's cumulative generator regenerates
    on `on` from the disbursement and the payments so far (`loan.cumulative.regenerated`), then
    every payment allocated again over it, in order (Fineract reprocesses the transactions)."""
    rule = terms.cumulative_recalculation
    plan = book.plan
    if rule is None or plan is None or book.disbursed_on is None:
        return book
    contract = plan.terms
    rate = level_rate(contract)
    assert rate is not None  # the fineract profile's level installment (K4)
    mode = contract.rounding.mode
    multiple = contract.installment_multiple.minor if contract.installment_multiple is not None else None
    places = CURRENCIES[terms.currency].places
    due_dates = [r.due_date for r in plan.schedule.installments]
    # K11: a multi-disbursement loan's installment is fixed on the approved amount.
    levelled = terms.contract.principal if terms.tranches else book.disbursements[0][2]
    payments = [p for p in book.payments if p.event_id is not None]
    rows = regenerated(
        rule=rule, disbursements=[(day, amount) for _, day, amount in book.disbursements], due_dates=due_dates,
        installment=Money(nominal_pmt(levelled.minor, rate, len(due_dates), mode, multiple, places), terms.currency),
        annual=contract.annual_rate, day_count=contract.day_count, mode=mode,
        pmt=lambda balance, n: nominal_pmt(balance, rate, n, mode, multiple, places),
        strategy=terms.strategy, payments=[(p.on, p.amount) for p in payments], on=on,
        per_period=None if contract.interest_calculation is InterestCalculation.DAILY else rate,
        anchor=contract.periods.start,
    ).rows
    zero = book.zero()
    nothing = tuple(_due(r.number, r.due_date, zero, zero, zero, zero) for r in rows)
    own = dict(book.own_strategies)
    result = book._replace(charged=rows, owed=rows, waived=nothing, written_off=nothing, payments=(), credit=zero,
                           credit_through=book.disbursed_on)
    for payment in payments:
        result = _use_credit(result, terms, payment.on)
        allocation = allocate(result.owed, payment.amount, payment.on,
                              strategy=own.get(payment.event_id or "", terms.strategy), overpayment=terms.overpayment)
        result = _with_payment(result, allocation, payment.event_id, interest_prepaid=zero, principal_prepaid=zero)
    return _use_credit(result, terms, on)


def _regenerated_tranche(book: _Book, terms: Terms, event: Disbursement) -> _Book:
    """A tranche on Fineract's regenerated cumulative schedule: added to what was disbursed and the
    schedule regenerated (interest from its day; the installment stays the approved amount's,
    K11).  Under interest same as the repayment period a tranche comes on a due date (a part
    period's interest is not reproduced), never above the approved maximum outstanding."""
    _check_currency(event, event.amount, terms)
    plan = book.plan
    assert plan is not None
    dues = [r.due_date for r in plan.schedule.installments]
    if event.on > dues[-1]:
        raise _refuse(event, "tranche_after_maturity", "a tranche after the last due date")
    if (plan.terms.interest_calculation is not InterestCalculation.DAILY and event.on not in dues):
        raise _refuse(event, "cumulative_recalculation_not_reproduced",
                      "a tranche inside a period with interest same as the repayment period is not reproduced yet")
    outstanding = Money.total((d.principal for d in book.owed), terms.currency)
    if outstanding + event.amount > terms.approved_maximum:
        raise _refuse(event, "above_approved_amount",
                      f"{outstanding + event.amount} outstanding is more than the approved {terms.approved_maximum}")
    book = book._replace(disbursed=_money(book.disbursed) + event.amount,
                         disbursements=(*book.disbursements, (event.id, event.on, event.amount)))
    return _regenerate(book, terms, event.on)


def _step(book: _Book, terms: Terms, event: Event) -> _Book:
    """The book after one event (value-date order is the caller's)."""
    if terms.cumulative_recalculation is not None and not (
            isinstance(event, _ON_THE_REGENERATED)
            or (isinstance(event, Disbursement) and (book.plan is None or terms.tranches))):
        raise _refuse(event, "cumulative_recalculation_not_reproduced",
                      f"a {type(event).__name__} on Fineract's regenerated cumulative schedule is not reproduced yet")
    if terms.cumulative_recalculation is not None and isinstance(event, Repayment) and book.plan is not None:
        return _regenerate(_repay(_advance(book, terms, event.on), terms, event), terms, event.on)
    if terms.cumulative_recalculation is not None and isinstance(event, Disbursement) and book.plan is not None:
        return _regenerated_tranche(_advance(book, terms, event.on), terms, event)
    if book.progressive is not None and isinstance(event, _NOT_ON_THE_MODEL):
        raise _refuse(event, "progressive_not_reproduced",
                      f"a {type(event).__name__} on the progressive calculator's schedule is not reproduced yet")
    if book.plan is not None:
        book = _advance(book, terms, event.on)
    if terms.recalculation is not None and book.plan is not None and isinstance(event, Repayment | Prepayment):
        return _resting(book, _repay(book, terms, event), terms.recalculation, event.on)
    if isinstance(event, Disbursement):
        return _disburse(book, terms, event)
    if isinstance(event, Repayment | Prepayment):
        return _repay(book, terms, event)
    if isinstance(event, ChargeAdded):
        return _charge(book, terms, event)
    if isinstance(event, PenaltyCharged):
        return _penalty(book, terms, event)
    if isinstance(event, Waiver):
        return _waive(book, terms, event)
    if isinstance(event, Deferral):
        return _defer(book, terms, event)
    if isinstance(event, Rescheduling):
        return _reschedule(book, terms, event)
    if isinstance(event, Acceleration):
        return _accelerate(book, terms, event)
    if isinstance(event, WriteOff):
        return _write_off(book, terms, event)
    if isinstance(event, Recovery):
        return _recover(book, terms, event)
    if isinstance(event, Refund):
        return _refund(book, terms, event)
    if isinstance(event, AsOf):
        return book
    raise _refuse(event, "event_unknown", f"no rule for {type(event).__name__}")


# --- interest recalculated on the actual balance (loan.recalculation) -----------------------


def _advance(book: _Book, terms: Terms, until: date) -> _Book:
    """The book brought to `until`: on each due date on the way, the recalculated interest of
    the period charged to its installment, then the credit held used."""
    rule = terms.recalculation
    if rule is None:
        return _use_credit(book, terms, until)
    since = book.credit_through
    for day in _charge_dates(book, terms, since, until):
        book = _accrue(book, terms, day)
        book = _charge_pending(book, terms, day)
        before = book
        book = _use_credit(book, terms, day)
        book = _resting(before, book, rule, day)
    return _use_credit(_accrue(book, terms, until), terms, until)


def _charge_dates(book: _Book, terms: Terms, since: date | None, until: date) -> list[date]:
    """The due dates in (since, until], and after the last one the dates the schedule's
    frequency would have given (the overdue balance keeps earning after maturity)."""
    dues = sorted({d.due_date for d in book.owed if (since is None or d.due_date > since) and d.due_date <= until})
    last = max((d.due_date for d in book.owed), default=None)
    if last is None or until <= last:
        return dues
    frequency = terms.contract.periods.frequency
    step = 1
    while (day := add_units(last, frequency.unit, frequency.every * step)) <= until:
        if since is None or day > since:
            dues.append(day)
        step += 1
    return dues


def _earning(book: _Book, rule: Recalculation, day: date) -> int:
    """Δ on `day` (minor units) without the resting amounts: what is overdue and earns, less
    the principal paid ahead of its due date."""
    overdue = ahead = 0
    for charged, owed in zip(book.charged, book.owed, strict=True):
        if owed.due_date <= day:
            overdue += owed.principal.minor
            if rule.compounding.interest:
                overdue += owed.interest.minor
            if rule.compounding.fees:
                overdue += owed.fee.minor
        else:
            ahead += charged.principal.minor - owed.principal.minor
    return overdue - ahead


def _accrue(book: _Book, terms: Terms, until: date) -> _Book:
    """Recalculated interest accrued from `accrued_through` to `until`, exactly, into `pending`."""
    rule = terms.recalculation
    start = book.accrued_through or book.disbursed_on
    if rule is None or start is None or until <= start or book.plan is None:
        return book
    if book.written_off_on is not None:
        return book._replace(accrued_through=until, resting=())
    # The plan's terms: after a rescheduling they carry its new rate.
    contract = book.plan.terms
    rate = Fraction(contract.annual_rate)
    breaks = sorted({day for day, _ in book.resting if start < day < until}
                    | {d.due_date for d in book.owed if start < d.due_date < until})
    pending = book.pending
    for begin, end in zip([start, *breaks], [*breaks, until], strict=True):
        base = _earning(book, rule, begin) + sum(amount for day, amount in book.resting if day > begin)
        if base:
            fraction = contract.day_count.year_fraction(begin, end)
            pending += base * rate * Fraction(fraction.numerator, fraction.denominator)
    resting = tuple((day, amount) for day, amount in book.resting if day > until)
    return book._replace(pending=pending, accrued_through=until, resting=resting)


def _rounded(terms: Terms, minor: Fraction) -> Money:
    """An exact amount of minor units rounded once by the loan's rounding."""
    rounding = terms.contract.rounding
    return rounding.times(rounding.quantum, minor)


def _charge_pending(book: _Book, terms: Terms, day: date) -> _Book:
    """The pending recalculated interest, rounded once, charged to the installment due on
    `day` (the last one after maturity).  A negative amount (principal paid ahead earned less)
    lowers the interest that installment still owes; what it had already paid beyond its
    new interest is given back as credit (`interest_refunded`)."""
    if not book.pending:
        return book
    amount = _rounded(terms, book.pending)
    book = book._replace(pending=Fraction(0))
    regular = [i for i, d in enumerate(book.owed) if d.number >= 1]
    index = next((i for i in regular if book.owed[i].due_date == day), regular[-1] if regular else -1)
    if index < 0 or amount.is_zero:
        return book
    row, owed = book.charged[index], book.owed[index]
    zero = book.zero()
    lowered_owed = refunded = zero
    if amount.is_negative:
        cut = min(-amount, row.interest)  # never below nothing
        lowered_owed = min(cut, owed.interest)
        refunded = cut - lowered_owed
        amount = -cut
    else:
        lowered_owed = -amount
    return book._replace(
        charged=(*book.charged[:index], replace(row, interest=row.interest + amount), *book.charged[index + 1:]),
        owed=(*book.owed[:index], replace(owed, interest=owed.interest - lowered_owed), *book.owed[index + 1:]),
        credit=_money(book.credit) + refunded,
        interest_refunded=_money(book.interest_refunded) + refunded,
    )


def _resting(before: _Book, after: _Book, rule: Recalculation, day: date) -> _Book:
    """`after` (a payment applied on `day`) with what the payment took off the earning balance
    kept earning until the rest date, when the rest frequency is not daily."""
    plan = after.plan
    if plan is None or after.disbursed_on is None:
        return after
    rest = rest_date(rule.rest, day, anchor=after.disbursed_on,
                     due_dates=tuple(r.due_date for r in plan.schedule.installments))
    if rest <= day:
        return after
    repaid = (_earning(before, rule, day) - _earning(after, rule, day)
              + _money(after.principal_prepaid).minor - _money(before.principal_prepaid).minor)
    if repaid <= 0:
        return after
    return after._replace(resting=(*after.resting, (rest, repaid)))


def _interest_base(book: _Book, terms: Terms, day: date) -> Money:
    """The balance interest accrues on, on `day`: the running period's scheduled balance (none
    once the schedule has ended or in a period that earns nothing), plus Δ with a recalculation."""
    plan = book.plan
    if plan is None or plan.settled_on is not None:
        return book.zero()
    where = standing(plan.schedule, day)
    base = where.balance.minor if where.earning else 0
    rule = terms.recalculation
    if rule is not None and book.written_off_on is None:
        base += _earning(book, rule, day) + sum(amount for rest, amount in book.resting if rest > day)
    return Money(max(base, 0), terms.currency)


def _observed(book: _Book, as_of: date) -> RestructuringState | None:
    """The restructuring floor's input while the observation period runs (none after it)."""
    done = book.restructured
    if done is None or as_of >= done.observed_until:
        return None
    due = {d.number: d.due_date for d in book.owed if d.number >= done.first_number}
    overdue_now = any(d.number in due and d.due_date < as_of and d.total.is_positive for d in book.owed)
    paid_late = any(line.installment in due and payment.on > due[line.installment]
                    for payment in book.payments for line in payment.lines)
    return RestructuringState(in_observation=True, non_performing_before=done.non_performing_before,
                              overdue_since_restructuring=overdue_now or paid_late)


def _recalculated_payoff_extra(book: _Book, terms: Terms, as_of: date) -> tuple[Money, date]:
    """(the recalculated interest a payoff on `as_of` adds, the day the quote charges interest
    to): the pending interest, and under a pre-closure to the rest date, what Δ earns until then."""
    rule = terms.recalculation
    zero = book.zero()
    if rule is None or book.disbursed_on is None or book.plan is None:
        return zero, as_of
    to = as_of
    pending = book.pending
    if rule.pre_closure is PreClosure.TILL_REST_DATE:
        to = rest_date(rule.rest, as_of, anchor=book.disbursed_on,
                       due_dates=tuple(r.due_date for r in book.plan.schedule.installments))
        if to > as_of:
            pending = _accrue(book, terms, to).pending
    return _rounded(terms, pending), to


# --- from events to the history that counts -------------------------------------------------


def _effective(events: Sequence[Event], terms: Terms | None = None) -> list[tuple[SortKey, Event]]:
    """The events that count (reversed ones and reversals left out), in value-date order.

    Under `TranchePrincipal.LATER_INSTALLMENTS` a tranche (a disbursement after the first) is
    ordered among the payments of its day as recorded, not before them: Fineract processes a
    day's transactions in the order they were made, and a payment made before the tranche was
    allocated over the installments as they stood (Loan.feature line 5231: 500.00 repaid, then
    500.00 disbursed, on 16 January).  Under `Terms.charges_in_recorded_order` a charge, and a
    waiver, is ordered among the payments of its day as recorded in the same way."""
    seen: dict[str, Event] = {}
    reversed_ids: set[str] = set()
    for event in events:
        if event.id in seen:
            raise _refuse(event, "duplicate_event_id", "another event has this id")
        seen[event.id] = event
    for event in events:
        if isinstance(event, Reversal):
            target = seen.get(event.target)
            if target is None:
                raise _refuse(event, "reversal_target_unknown", f"no event {event.target} to reverse")
            if isinstance(target, Reversal | AsOf):
                raise _refuse(event, "not_reversible", f"event {event.target} cannot be reversed")
            if event.target in reversed_ids:
                raise _refuse(event, "already_reversed", f"event {event.target} is already reversed")
            reversed_ids.add(event.target)
    kept = [
        (_key(event, index), event)
        for index, event in enumerate(events)
        if not isinstance(event, Reversal) and event.id not in reversed_ids
    ]
    kept.sort(key=lambda pair: pair[0])
    tranches = terms is not None and terms.contract.tranche_principal is TranchePrincipal.LATER_INSTALLMENTS
    charges = terms is not None and terms.charges_in_recorded_order
    if tranches or charges:
        first = next((key for key, event in kept if isinstance(event, Disbursement)), None)
        kept = [((key[0], Repayment.rank, key[2])
                 if (tranches and isinstance(event, Disbursement) and key != first)
                 or (charges and isinstance(event, ChargeAdded | Waiver)) else key, event)
                for key, event in kept]
        kept.sort(key=lambda pair: pair[0])
    return kept


def _reversed(events: Iterable[Event]) -> tuple[str, ...]:
    return tuple(e.target for e in events if isinstance(e, Reversal))


# --- reading a book -------------------------------------------------------------------------


def _read(book: _Book, terms: Terms, as_of: date, reversed_ids: tuple[str, ...]) -> LoanState:
    zero = book.zero()
    if book.plan is not None:
        book = _overdue_back(_advance(book, terms, as_of), terms, as_of)
        book = _regenerate(book, terms, as_of)
    plan = book.plan
    installments: list[InstallmentState] = []
    if plan is not None:
        rows = {r.number: r for r in plan.schedule.installments}
        rows_in_order = sorted(zip(book.charged, book.owed, book.waived, book.written_off, strict=True),
                               key=lambda four: (four[0].due_date, four[0].number))
        for charged, owed, waived, written in rows_in_order:
            row = rows.get(charged.number)
            installments.append(InstallmentState(
                number=charged.number,
                period_start=row.period_start if row is not None else _start_of_extra(plan.schedule, charged),
                due_date=charged.due_date,
                due=Amounts.of(charged),
                paid=Amounts.paid_of(charged, waived, written, owed),
                waived=Amounts.of(waived),
                written_off=Amounts.of(written),
                outstanding=Amounts.of(owed),
                balance_after=row.balance_after if row is not None else Money.total(
                    (c.principal for c in book.charged if c.number > 0 and c.due_date > charged.due_date),
                    terms.currency),
            ))
    credit = _money(book.credit)
    owing = any(d.owes for d in book.owed)
    if plan is None:
        status = LoanStatus.APPROVED
    elif book.written_off_on is not None:
        status = LoanStatus.WRITTEN_OFF
    elif owing:
        status = LoanStatus.ACTIVE
    else:
        status = LoanStatus.OVERPAID if credit.is_positive else LoanStatus.CLOSED
    active = status is LoanStatus.ACTIVE and plan is not None
    contract = plan.terms if plan is not None else terms.contract
    accrued = zero
    payoff = None
    if active and plan is not None and plan.settled_on is None:
        accrued = accrued_to(plan.schedule, as_of, rate=contract.annual_rate, day_count=contract.day_count,
                             rounding=contract.rounding)
        extra, quoted_to = _recalculated_payoff_extra(book, terms, as_of)
        payoff = payoff_quote(plan.schedule, as_of=quoted_to, day_count=contract.day_count,
                              rounding=contract.rounding, outstanding=book.owed, annual_rate=contract.annual_rate)
        if terms.recalculation is not None:
            pending = _rounded(terms, book.pending)
            accrued = accrued + pending
            payoff = replace(payoff, as_of=as_of, accrued_interest=payoff.accrued_interest + extra,
                             total=payoff.total + extra)
    if payoff is not None and book.progressive is not None:
        payoff = _progressive_payoff(book, terms, as_of)
    base = _interest_base(book, terms, as_of) if active else zero
    dpd = loan_dpd(book.owed, as_of, grace_days=terms.dpd_grace_days, tolerance=terms.dpd_tolerance) if active else 0
    return LoanState(
        as_of=as_of,
        currency=terms.currency,
        status=status,
        disbursed=_money(book.disbursed),
        disbursed_on=book.disbursed_on,
        disbursements=tuple(Disbursed(event_id, on, amount) for event_id, on, amount in book.disbursements),
        schedule=plan.schedule if plan is not None else None,
        installments=tuple(installments),
        payments=book.payments,
        credit_balance=credit,
        principal_prepaid=_money(book.principal_prepaid),
        interest_prepaid=_money(book.interest_prepaid),
        recovered=_money(book.recovered),
        refunded=_money(book.refunded),
        interest_refunded=_money(book.interest_refunded),
        written_off_on=book.written_off_on,
        accrued_interest=accrued,
        interest_base=base,
        dpd=dpd,
        bucket=bucket_for(dpd, terms.buckets),
        classification=classify(ClassificationInput(dpd=dpd, restructuring=_observed(book, as_of)),
                                policy=terms.classification),
        restructured_on=book.restructured.on if book.restructured is not None else None,
        accelerated_on=book.accelerated_on,
        payoff=payoff,
        reversed=reversed_ids,
    )


def _progressive_payoff(book: _Book, terms: Terms, as_of: date) -> PayoffQuote:
    """What settles a loan on the progressive calculator's schedule on `as_of`, as Fineract's
    prepay template asks it (``ProgressiveLoanScheduleGenerator.calculatePrepaymentAmount``):
    the principal outstanding in the period running on `as_of` (the first one before the
    schedule starts), its interest to that day -- or, under `PreClosure.TILL_REST_DATE`, to the
    due date of the period `as_of` falls strictly inside -- and every fee and penalty owed.
    Like Fineract's, the quote leaves out interest past due (its "TODO")."""
    assert book.progressive is not None
    assert book.plan is not None
    zero = book.zero()
    rows = book.plan.schedule.installments
    to = as_of
    if terms.progressive is not None and terms.progressive.pre_closure is PreClosure.TILL_REST_DATE:
        to = next((r for r in rows if r.period_start < as_of < r.due_date), rows[0]).due_date
    running = next((r for r in rows if r.period_start < to <= r.due_date), rows[0])
    details = payable_details(book.progressive.model, running.due_date, to)
    principal, interest = Money(details.outstanding, book.currency), Money(details.interest, book.currency)
    fees = Money.total((d.fee for d in book.owed), book.currency)
    penalties = Money.total((d.penalty for d in book.owed), book.currency)
    return PayoffQuote(as_of=as_of, principal=principal, overdue_interest=zero, deferred_interest=zero,
                       accrued_interest=interest, fees=fees, penalties=penalties, prepayment_fee=zero,
                       total=principal + interest + fees + penalties)


def _start_of_extra(schedule: Schedule, charged: InstallmentDue) -> date:
    """The period start of an installment outside the schedule: a down payment's is its own
    day; an installment after the last (charges after maturity) starts at the last due date."""
    last = schedule.installments[-1]
    return last.due_date if charged.number > last.number else charged.due_date


def _planned(state: LoanState, terms: Terms, taken: Sequence[Event]) -> LoanState:
    """`state` with the contract's planned disbursements, each met by the one made in its place,
    and the schedule projected with those still to come made as planned (on their day, or on
    `as_of` once their day has passed) -- a fold of the history with them added."""
    planned = terms.expected_disbursements
    if not planned:
        return state
    made = state.disbursements
    rows = tuple(PlannedDisbursement(p.on, p.amount, made[i] if i < len(made) else None)
                 for i, p in enumerate(planned))
    left = planned[len(made):]
    projected = None
    if left and state.status in (LoanStatus.APPROVED, LoanStatus.ACTIVE):
        ids = {e.id for e in taken}
        coming: list[Event] = []
        for number, expected in enumerate(left, start=len(made) + 1):
            name = f"planned-{number}"
            while name in ids:
                name = f"~{name}"
            coming.append(Disbursement(id=name, on=max(expected.on, state.as_of), amount=expected.amount))
        try:
            projected = reference_fold(replace(terms, expected_disbursements=()), [*taken, *coming],
                                       as_of=coming[-1].on).schedule
        except EventRefused:
            projected = None  # the plan can no longer be met as it stands (documented on the field)
    return replace(state, planned_disbursements=rows, projected_schedule=projected)


def reference_fold(terms: Terms, events: Sequence[Event], *, as_of: date) -> LoanState:
    """A loan's state by the reference path: a frozen book of `Money` replaced by each event (the
    kernel's reference, and `loan.fold` of every history the kernel does not cover; `kernel.fold`
    chooses)."""
    book = _empty(terms)
    taken = [e for e in events if e.on <= as_of]
    for _, event in _effective(taken, terms):
        book = _step(book, terms, event)
    return _planned(_read(book, terms, as_of, _reversed(taken)), terms, taken)


@dataclass(frozen=True, slots=True)
class LoanBook:
    """A loan's history with the book after each event, so that recording costs only what follows.

    ``LoanBook.open(terms).record(e1).record(e2).state(as_of=day)`` equals
    ``fold(terms, [e1, e2], as_of=day)`` for a day on or after every event; `record` refuses
    an event the loan cannot take (the book is unchanged).
    """

    terms: Terms
    events: tuple[Event, ...] = ()
    keys: tuple[SortKey, ...] = ()
    """The effective events' sort keys, in value-date order."""
    books: tuple[_Book, ...] = ()
    """The book after each effective event (same order as `keys`)."""

    @classmethod
    def open(cls, terms: Terms) -> LoanBook:
        """A loan with no history."""
        return cls(terms)

    def record(self, event: Event) -> LoanBook:
        """The history with `event` recorded (a back-dated one replays what follows it)."""
        events = (*self.events, event)
        effective = _effective(events, self.terms)
        keys = tuple(key for key, _ in effective)
        # The books before the first place where the old and new orders differ stay valid.
        same = 0
        for old, new in zip(self.keys, keys, strict=False):
            if old != new:
                break
            same += 1
        books = list(self.books[:same])
        book = books[-1] if books else _empty(self.terms)
        for _, applied in effective[same:]:
            book = _step(book, self.terms, applied)
            books.append(book)
        return LoanBook(self.terms, events, keys, tuple(books))

    def state(self, *, as_of: date) -> LoanState:
        """The state on `as_of` (which must not come before an event recorded)."""
        if self.keys and self.keys[-1][0] > as_of:
            raise ValueError("as_of is before an event recorded: fold the events up to it instead")
        book = self.books[-1] if self.books else _empty(self.terms)
        return _planned(_read(book, self.terms, as_of, _reversed(self.events)), self.terms, self.events)
