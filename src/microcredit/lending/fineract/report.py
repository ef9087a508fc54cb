"""A loan's state read the way Fineract shows it: schedule periods, transactions, charges, summary.

`fineract_view(terms, history, steps=n, as_of=day)` folds the events of the first `n` steps
of a Fineract scenario (`events.FineractHistory`) on the business date and answers a
`FineractView` whose fields carry Fineract's column names (LoanStepDef
``fetchValuesOfRepaymentSchedule``, line 2144, and the transactions and charges tables):

- schedule: one row for the disbursement (no number, balance = the amount disbursed) and one
  per installment: days since the previous due date, due date, the date its obligations were
  met, the principal left after it, principal / interest / fees / penalties due, total due,
  paid, paid in advance (before the due date), paid late (after it), waived, outstanding;
- totals of those columns;
- transactions: each disbursement and payment in date order (then as recorded), with the
  part of it on each component and the principal left after it (never below zero: a payment
  replayed over a later tranche repays principal disbursed after it); a payment undone by the user
  stays listed with the allocation it had when it was undone (``reverted``), as Fineract
  keeps it; Fineract's replacement of a replayed transaction is the same row here;
- charges: amount, paid, waived, outstanding of each charge (an installment's fee, or
  penalty, paid is spread over its charges in due-date order);
- summary: total outstanding and overpaid; status in Fineract's words.

Amounts are `Money`; None is a cell Fineract leaves out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta

from microcredit.lending.allocation import Component
from microcredit.lending.fineract.events import FineractHistory
from microcredit.lending.loan.events import Event, Reversal, Waiver
from microcredit.lending.loan.fold import down_payment_of
from microcredit.lending.loan.kernel import fold
from microcredit.lending.loan.state import LoanState, LoanStatus
from microcredit.lending.loan.terms import Terms
from microcredit.lending.money import Money
from microcredit.lending.schedule import TranchePrincipal, build_schedule

__all__ = ["STATUS", "ChargeRow", "FineractView", "ScheduleRow", "TransactionRow", "fineract_view"]

STATUS: Mapping[LoanStatus, str] = {
    LoanStatus.APPROVED: "APPROVED",
    LoanStatus.ACTIVE: "ACTIVE",
    LoanStatus.CLOSED: "CLOSED_OBLIGATIONS_MET",
    LoanStatus.OVERPAID: "OVERPAID",
    LoanStatus.WRITTEN_OFF: "CLOSED_WRITTEN_OFF",
}
"""Our status in Fineract's words."""


@dataclass(frozen=True, slots=True)
class ScheduleRow:
    """One period of Fineract's repayment schedule (None: the field Fineract leaves out)."""

    number: int | None
    days: int | None
    due_date: date
    paid_date: date | None
    balance_after: Money
    principal: Money | None
    interest: Money | None
    fees: Money
    penalties: Money | None
    total_due: Money
    paid: Money | None
    paid_in_advance: Money | None
    paid_late: Money | None
    waived: Money | None
    outstanding: Money | None


@dataclass(frozen=True, slots=True)
class TransactionRow:
    """One transaction as Fineract lists it."""

    event_id: str
    type: str
    date: date
    amount: Money
    principal: Money
    interest: Money
    fees: Money
    penalties: Money
    overpayment: Money
    loan_balance: Money
    reverted: bool


@dataclass(frozen=True, slots=True)
class ChargeRow:
    """One charge as Fineract lists it (an installment fee: one row, its parts summed, no due date)."""

    name: str
    penalty: bool
    due_date: date | None
    amount: Money
    paid: Money
    waived: Money
    outstanding: Money


@dataclass(frozen=True, slots=True)
class FineractView:
    """The loan as Fineract shows it on a business date."""

    state: LoanState
    schedule: tuple[ScheduleRow, ...]
    totals: Mapping[str, Money]
    transactions: tuple[TransactionRow, ...]
    charges: tuple[ChargeRow, ...]
    total_outstanding: Money
    total_overpaid: Money
    status: str

    @property
    def period_count(self) -> int:
        """The periods that have a number (Fineract's "has N periods")."""
        return sum(1 for row in self.schedule if row.number is not None)


def _schedule(state: LoanState, progressive: bool = False,
              periods_start: date | None = None) -> tuple[ScheduleRow, ...]:
    zero = Money.zero(state.currency)
    advance: dict[int, Money] = {}
    late: dict[int, Money] = {}
    last_paid: dict[int, date] = {}
    due_dates = {row.number: row.due_date for row in state.installments}
    for payment in state.payments:
        for line in payment.lines:
            due = due_dates.get(line.installment)
            if due is None:
                continue
            last_paid[line.installment] = max(payment.on, last_paid.get(line.installment, payment.on))
            if payment.on < due:
                advance[line.installment] = advance.get(line.installment, zero) + line.amount
            elif payment.on > due:
                late[line.installment] = late.get(line.installment, zero) + line.amount
    # An installment 0 that owes no principal holds only the charges paid at disbursement:
    # Fineract lists them on the disbursement's own row (its fees, total due and paid).
    at_disbursement = {r.due_date: r for r in state.installments if r.number <= 0 and r.due.principal.is_zero}
    rows = []
    for d in state.disbursements:
        charged = at_disbursement.pop(d.on, None)
        rows.append(ScheduleRow(
            number=None, days=None, due_date=d.on, paid_date=None, balance_after=d.amount, principal=None,
            interest=None, fees=zero if charged is None else charged.due.fee + charged.due.penalty, penalties=None,
            total_due=zero if charged is None else charged.due.total, paid=zero if charged is None else
            charged.paid.total, paid_in_advance=None, paid_late=None, waived=None, outstanding=None))
    listed = {id(r) for r in state.installments if r.number <= 0 and r.due.principal.is_zero
              and r.due_date not in at_disbursement}
    # Fineract numbers every installment in due-date order, the down payments (ours: 0, -1 ...)
    # in the order of the disbursements (K10): first on their day in the cumulative schedule,
    # whose periods are (start, due date]; after the installment due that day in the progressive
    # one, whose periods are [start, due date) (``DisbursementData.isDueForDisbursement``, line
    # 93).  The principal left after a row counts what was disbursed by then: by its due date,
    # or, in the progressive schedule, before it (on it for a down payment).
    installments = [r for r in state.installments if id(r) not in listed]
    if progressive:
        ordered = sorted(installments, key=lambda r: (r.due_date, r.number <= 0, abs(r.number)))
    else:
        ordered = sorted(installments, key=lambda r: (r.due_date, r.number > 0, abs(r.number)))
    disbursed = sorted((d.on, d.amount) for d in state.disbursements)
    scheduled = zero
    previous = disbursed[0][0] if disbursed else None
    # Periods that start on the application's date (``repaymentStartDateType``
    # SUBMITTED_ON_DATE, `Terms.periods_from_contract_start`) count their days from it.
    if periods_start is not None:
        previous = periods_start
    for number, row in enumerate(ordered, start=1):
        days = 0 if row.number <= 0 or previous is None else (row.due_date - previous).days
        if row.number > 0:
            previous = row.due_date
        settled = row.outstanding.total.is_zero
        scheduled += row.due.principal
        out = Money.total((amount for on, amount in disbursed
                           if on < row.due_date or (on == row.due_date and (not progressive or row.number <= 0
                                                                             or on == disbursed[0][0]))),
                          state.currency)
        rows.append(ScheduleRow(
            number=number,
            days=days,
            due_date=row.due_date,
            paid_date=last_paid.get(row.number, row.due_date) if settled else None,
            balance_after=out - scheduled,
            principal=row.due.principal,
            interest=row.due.interest,
            fees=row.due.fee,
            penalties=row.due.penalty,
            total_due=row.due.total,
            paid=row.paid.total,
            paid_in_advance=advance.get(row.number, zero),
            paid_late=late.get(row.number, zero),
            waived=row.waived.total,
            outstanding=row.outstanding.total,
        ))
    return tuple(rows)


def _progressive(terms: Terms) -> bool:
    """Whether the loan is a progressive one: the profile gives those (and only those) tranches
    added to the later installments (`TranchePrincipal.LATER_INSTALLMENTS`)."""
    return terms.contract.tranche_principal is TranchePrincipal.LATER_INSTALLMENTS


def _expected_schedule(terms: Terms, history: FineractHistory, steps: int) -> tuple[ScheduleRow, ...]:
    """The schedule Fineract shows before the loan is disbursed: the terms' own, on the
    expected disbursement date (the last one the application or the approval named)."""
    zero = Money.zero(terms.currency)
    down = _expected_down_payment(terms)
    contract = terms.contract if down is None else replace(terms.contract, principal=terms.contract.principal - down)
    named = [on for step, on in history.expected_on if step <= steps]
    if named and named[-1] != contract.periods.start:
        contract = replace(contract, periods=replace(contract.periods, start=named[-1]))
    schedule = build_schedule(contract, calendar=terms.calendar)
    rows = [ScheduleRow(number=None, days=None, due_date=contract.periods.start, paid_date=None,
                        balance_after=terms.contract.principal, principal=None, interest=None, fees=zero,
                        penalties=None, total_due=zero, paid=None, paid_in_advance=None, paid_late=None, waived=None,
                        outstanding=zero)]
    down = _expected_down_payment(terms)
    if down is not None:
        rows.append(ScheduleRow(number=1, days=0, due_date=contract.periods.start, paid_date=None,
                                balance_after=contract.principal, principal=down, interest=zero, fees=zero,
                                penalties=zero, total_due=down, paid=zero, paid_in_advance=zero, paid_late=zero,
                                waived=zero, outstanding=down))
    first = len(rows)
    rows.extend(
        ScheduleRow(number=first + k, days=(r.due_date - r.period_start).days, due_date=r.due_date, paid_date=None,
                    balance_after=r.balance_after, principal=r.principal, interest=r.interest, fees=r.fees,
                    penalties=zero, total_due=r.total, paid=zero, paid_in_advance=zero, paid_late=zero, waived=zero,
                    outstanding=r.total)
        for k, r in enumerate(schedule.installments)
    )
    return tuple(rows)


def _expected_down_payment(terms: Terms) -> Money | None:
    """The down payment on disbursing the whole principal (the fold's own rule, `fold.down_payment`)."""
    if terms.down_payment is None:
        return None
    return down_payment_of(terms, terms.contract.principal)


def _totals(schedule: tuple[ScheduleRow, ...], currency: str) -> dict[str, Money]:
    zero = Money.zero(currency)
    names = ("principal", "interest", "fees", "penalties", "total_due", "paid", "paid_in_advance", "paid_late",
             "waived", "outstanding")
    totals = dict.fromkeys(names, zero)
    for row in schedule:
        for name in names:
            value = getattr(row, name)
            if value is not None:
                totals[name] += value
    return totals


def _payment_rows(state: LoanState, history: FineractHistory, reverted: frozenset[str],
                  progressive: bool = False) -> list[TransactionRow]:
    """Disbursements and payments of `state`, in value-date order, with the principal after each.

    On a progressive loan the credit held that a tranche's day used (`fold._use_credit_ahead`:
    Fineract's ``allocateOverpayment`` on the disbursement) is part of the disbursement: its
    loan balance is after it (Loan.feature line 5231: 500.00 disbursed on a loan overpaid by
    125.00 leaves 375.00)."""
    zero = Money.zero(state.currency)
    balance = zero
    events: list[tuple[tuple[date, int, int], str, Money, dict[Component, Money], Money]] = []
    order = {e.id: index for index, e in enumerate(history.events)}
    credit_used: dict[date, Money] = {}
    tranche_days = {d.on for d in state.disbursements[1:]} if progressive else set()
    for d in state.disbursements:
        events.append(((d.on, order.get(d.event_id, 0), 0), d.event_id, d.amount, {}, zero))
    for p in state.payments:
        if p.event_id is None:
            if p.on in tranche_days:
                principal = Money.total((line.amount for line in p.lines if line.component is Component.PRINCIPAL),
                                        state.currency)
                credit_used[p.on] = credit_used.get(p.on, zero) + principal
            continue
        parts = dict.fromkeys(Component, zero)
        for line in p.lines:
            parts[line.component] += line.amount
        base = p.event_id.split(":")[0]
        events.append(((p.on, order.get(base, order.get(p.event_id, 0)), 1), p.event_id, p.amount, parts, p.credit))
    events.sort(key=lambda item: item[0])
    rows = []
    for (on, _, _), event_id, amount, parts, credit in events:
        kind = "Down Payment" if event_id.endswith(":down_payment") else history.kinds.get(event_id, "Repayment")
        if kind == "Disbursement":
            balance += amount - credit_used.pop(on, zero)
        else:
            balance -= parts[Component.PRINCIPAL]
        rows.append(TransactionRow(
            event_id=event_id, type=kind, date=on, amount=amount,
            principal=parts.get(Component.PRINCIPAL, zero), interest=parts.get(Component.INTEREST, zero),
            fees=parts.get(Component.FEE, zero), penalties=parts.get(Component.PENALTY, zero),
            overpayment=credit, loan_balance=max(balance, zero), reverted=event_id in reverted,
        ))
    return rows


def _transactions(terms: Terms, history: FineractHistory, state: LoanState, steps: int) -> tuple[TransactionRow, ...]:
    progressive = _progressive(terms)
    rows = _payment_rows(state, history, frozenset(), progressive)
    order = {e.id: index for index, e in enumerate(history.events)}
    taken = history.upto(steps)
    for index, event in enumerate(taken):
        target = history.undone.get(event.id)
        if target is None or history.kinds.get(target) == "Disbursement":
            continue  # an undone disbursement is not listed
        before = fold(terms, taken[:index], as_of=max(e.on for e in taken[:index]))
        for row in _payment_rows(before, history, frozenset({target}), progressive):
            if row.event_id == target:
                rows.append(row)
    rows += _waiver_rows(terms, history, taken)
    rows.sort(key=lambda r: (r.date, order.get(r.event_id.split(":")[0], 0)))
    accruals = _accrual_rows(terms, history, steps)
    # An accrual follows the transactions of its day (it is posted after them).
    return tuple(sorted([*rows, *accruals], key=lambda r: (r.date, r.type == "Accrual")))


def _waiver_rows(terms: Terms, history: FineractHistory, taken: tuple[Event, ...]) -> list[TransactionRow]:
    """Fineract's "Waive loan charges" transactions: the amount waived, no component (Fineract
    lists them so, LoanCharge.feature line 1602), the loan balance the principal outstanding then."""
    zero = Money.zero(terms.currency)
    rows = []
    gone = {e.target for e in taken if isinstance(e, Reversal)}
    for index, event in enumerate(taken):
        if not isinstance(event, Waiver) or event.id in gone:
            continue
        then = fold(terms, taken[:index + 1], as_of=max(e.on for e in taken[:index + 1]))
        rows.append(TransactionRow(event_id=event.id, type=history.kinds.get(event.id, "Waive loan charges"),
                                   date=event.on, amount=event.amount, principal=zero, interest=zero, fees=zero,
                                   penalties=zero, overpayment=zero, loan_balance=then.outstanding.principal,
                                   reverted=False))
    return rows


_Income = dict[tuple[str, str], tuple[date, Component, Money]]


def _income(state: LoanState, history: FineractHistory, steps: int) -> _Income:
    """What the loan earns and when: each installment's interest on its due date, each charge
    on its due date (fee or penalty) -- or on the day it was added, when the tenant accrues
    charges then (`FineractHistory.charges_accrue_when_added`) -- keyed so that an item is
    accrued once."""
    items: _Income = {}
    for row in state.installments:
        if row.due.interest.is_positive:
            items[("interest", str(row.number))] = (row.due_date, Component.INTEREST, row.due.interest)
    present = {e.id for e in history.upto(steps)}
    waived = {charge for waiver, charge in history.waived.items() if waiver in present}
    for charge in history.charges:
        if charge.event_id in present and charge.event_id not in waived:
            component = Component.PENALTY if charge.penalty else Component.FEE
            on = charge.due_on
            if history.charges_accrue_when_added and charge.added_on is not None:
                on = charge.added_on
            items[("charge", charge.event_id)] = (on, component, charge.amount)
    return items


def _accrual_rows(terms: Terms, history: FineractHistory, steps: int) -> list[TransactionRow]:
    """Fineract's accrual transactions (ACCRUAL_PERIODIC), replayed step by step: each close of
    business accrues what fell due before its business date, one transaction per date; a
    payment that closes the loan accrues what is left on its day.  An accrual is never taken
    back (undoing the payment leaves it), except on a progressive loan with interest
    recalculation, whose every payment re-checks the accruals (`_accruals_rechecked`)."""
    zero = Money.zero(terms.currency)
    accrued: set[tuple[str, str]] = set()
    posted: list[tuple[date, dict[Component, Money], set[tuple[str, str]]]] = []
    rechecked = terms.progressive is not None and terms.progressive.overdue_rest is not None

    def post(on: date, items: list[tuple[tuple[str, str], Component, Money]]) -> None:
        parts = dict.fromkeys(Component, zero)
        for _, component, amount in items:
            parts[component] += amount
        posted.append((on, parts, {key for key, _, _ in items}))

    cobs = dict(history.closes_of_business)
    payments = {n: e for e, n in zip(history.events, history.after, strict=True)
                if history.kinds.get(e.id, "Disbursement") != "Disbursement"}
    moving = set(history.after)
    closed = False
    for step in range(1, steps + 1):
        if step not in cobs and step not in moving:
            continue
        events = history.upto(step)
        business = cobs.get(step) or history.business_dates[step - 1] or max(e.on for e in events)
        then = fold(terms, events, as_of=max([business, *(e.on for e in events)]))
        if then.schedule is None:
            continue
        income = _income(then, history, step)
        if step in cobs:
            due: dict[date, list[tuple[tuple[str, str], Component, Money]]] = {}
            for key, (on, component, amount) in income.items():
                if key not in accrued and on < business:
                    accrued.add(key)
                    if key[0] == "charge" and history.charges_accrue_when_added:
                        on = business - timedelta(days=1)  # dated on the close of business
                    due.setdefault(on, []).append((key, component, amount))
            for on in sorted(due):
                post(on, due[on])
        now_closed = then.status in (LoanStatus.CLOSED, LoanStatus.OVERPAID)
        if step in payments and now_closed and not closed:
            left = [(key, component, amount) for key, (_, component, amount) in income.items() if key not in accrued]
            accrued.update(income)
            if left:
                post(payments[step].on, left)
        if rechecked and step in payments:
            posted = _accruals_rechecked(posted, then, accrued)
        closed = now_closed
    return [
        TransactionRow(event_id=f"accrual:{index}", type="Accrual", date=on,
                       amount=Money.total(parts.values(), terms.currency), principal=zero,
                       interest=parts[Component.INTEREST], fees=parts[Component.FEE],
                       penalties=parts[Component.PENALTY], overpayment=zero, loan_balance=zero, reverted=False)
        for index, (on, parts, _) in enumerate(posted)
    ]


_Posted = list[tuple[date, dict[Component, Money], set[tuple[str, str]]]]


def _accruals_rechecked(posted: _Posted, state: LoanState, accrued: set[tuple[str, str]]) -> _Posted:
    """The accruals a payment on a progressive loan with interest recalculation leaves standing
    (``LoanAccrualsProcessingServiceImpl.reprocessPeriodicAccruals``, lines 837-884): the
    accruals dated in an installment's period ([start, due] for the first, (start, due] after),
    taken in order, are reversed -- and no longer listed -- from the one that takes their sum
    of interest, fees or penalties above what the installment is charged.  So the accrual of a
    payoff that closes the loan, dated in a period whose interest stopped at the payoff day, is
    reversed (Loan.feature line 5592: no accrual listed).  What a reversed accrual held may be
    accrued again."""
    regular = sorted((r for r in state.installments if r.number > 0), key=lambda r: r.due_date)
    kept = list(posted)
    for k, row in enumerate(regular):
        sums = dict.fromkeys(Component, Money.zero(state.currency))
        for entry in list(kept):
            on, parts, keys = entry
            inside = (row.period_start <= on if k == 0 else row.period_start < on) and on <= row.due_date
            if not inside:
                continue
            trial = {c: sums[c] + parts[c] for c in Component}
            if (trial[Component.INTEREST] > row.due.interest or trial[Component.FEE] > row.due.fee
                    or trial[Component.PENALTY] > row.due.penalty):
                kept.remove(entry)
                accrued.difference_update(keys)
            else:
                sums = trial
    return kept


def _charges(state: LoanState, history: FineractHistory, steps: int) -> tuple[ChargeRow, ...]:
    zero = Money.zero(state.currency)
    present = {e.id for e in history.upto(steps)}
    by_installment: dict[tuple[int, bool], list[int]] = {}
    charges = [c for c in history.charges if c.event_id in present]
    installments = sorted(state.installments, key=lambda r: r.due_date)
    for index, charge in sorted(enumerate(charges), key=lambda pair: pair[1].due_on):
        row = next((r for r in installments if r.due_date >= charge.due_on), installments[-1])
        by_installment.setdefault((row.number, charge.penalty), []).append(index)
    paid = [zero] * len(charges)
    waived = [zero] * len(charges)
    rows = {r.number: r for r in state.installments}
    for (number, penalty), indexes in by_installment.items():
        row = rows[number]
        left_paid = row.paid.penalty if penalty else row.paid.fee
        left_waived = row.waived.penalty if penalty else row.waived.fee
        for index in indexes:
            amount = charges[index].amount
            paid[index] = min(amount, left_paid)
            left_paid -= paid[index]
            waived[index] = min(amount - paid[index], left_waived)
            left_waived -= waived[index]
    rows_of: dict[str, ChargeRow] = {}
    for i, c in enumerate(charges):
        listed = ChargeRow(name=c.name, penalty=c.penalty, due_date=c.due_on if c.part_of is None else None,
                           amount=c.amount, paid=paid[i], waived=waived[i], outstanding=c.amount - paid[i] - waived[i])
        key = c.part_of or c.event_id
        if key in rows_of:
            held = rows_of[key]
            listed = replace(held, amount=held.amount + listed.amount, paid=held.paid + listed.paid,
                             waived=held.waived + listed.waived, outstanding=held.outstanding + listed.outstanding)
        rows_of[key] = listed
    return tuple(rows_of.values())


def fineract_view(terms: Terms, history: FineractHistory, *, steps: int, as_of: date) -> FineractView:
    """The loan after the scenario's first `steps` steps, read on the business date `as_of`."""
    events = history.upto(steps)
    horizon = max([as_of, *(e.on for e in events)])
    state = fold(terms, events, as_of=horizon)
    if state.schedule is not None:
        schedule = _schedule(state, _progressive(terms),
                             terms.contract.periods.start if terms.periods_from_contract_start else None)
    else:
        schedule = _expected_schedule(terms, history, steps)
    outstanding = state.outstanding.total
    return FineractView(
        state=state,
        schedule=schedule,
        totals=_totals(schedule, state.currency),
        transactions=_transactions(terms, history, state, steps),
        charges=_charges(state, history, steps),
        total_outstanding=outstanding,
        total_overpaid=state.credit_balance,
        status=_status(history, steps, events, STATUS[state.status]),
    )


def _status(history: FineractHistory, steps: int, events: tuple[Event, ...], status: str) -> str:
    """Fineract's status: submitted and pending approval from the application to the approval."""
    pending = history.pending
    if pending is not None and not events and pending[0] <= steps < pending[1]:
        return "SUBMITTED_AND_PENDING_APPROVAL"
    return status
