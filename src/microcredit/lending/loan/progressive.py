"""A loan under the progressive calculator's schedule (`Terms.progressive`): the fold's side.

The fold keeps, beside its installments, the calculator's model (`lending.schedule.progressive`,
the one copy of rules P1-P7) and, after every change to the model, sets each regular
installment's principal and interest to what the model says is due (Fineract's
``updateRepaymentPeriods``), what was paid staying paid:

- the first disbursement builds the model on the schedule's periods and disburses into it (P2);
- a payment's principal on an installment is ``pay_principal`` (a balance change from its day,
  or its due date when late, P7), its interest ``pay_interest``; the last unpaid installment
  absorbs the difference (P5); an installment paid before its due date first asks, component
  by component, what it would on the day the payment counts from (the payment day, or the
  running period's due date under `PreClosure.TILL_REST_DATE`; the fold's `_payable_on`);
- before a payment, and when the loan is read on a date, P8 puts the unpaid principal of the
  installments overdue on that date back into the running period's balance
  (``AdvancedPaymentScheduleTransactionProcessor.recalculateInterestForDate`` and
  ``adjustOverduePrincipalForInstallment``, lines 880-971 at commit 4198b0bc), remembering
  the last date it changed the balance (``lastOverdueBalanceChange``) as Fineract's
  reprocessing does.

Example (LoanInterestRecalculationCOBTest, 100.00 at 7 %, 30/360, six months from 1 January
2024, daily rest): 17.01 paid on 15 February for the installment due 1 February: the March
installment's interest is 14 days on 100.00 (0.28) + 15 days on 83.57 (0.25) = 0.53, its
principal 16.48, and the last installment takes the difference (16.94 + 0.10).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

from microcredit.lending.allocation import AllocationLine, Component, InstallmentDue
from microcredit.lending.loan.recalculation import RestFrequency
from microcredit.lending.loan.terms import ProgressiveInterest, Terms
from microcredit.lending.money import CURRENCIES, Money
from microcredit.lending.schedule.model import Installment
from microcredit.lending.schedule.progressive import (
    ProgressiveModel,
    ProgressiveTerms,
    add_balance_correction,
    add_disbursement,
    figures,
    pay_interest,
    pay_principal,
    progressive_model,
)

__all__ = ["ProgressiveBook", "calculator_terms", "opened", "overdue_recalculated", "paid", "synced"]


@dataclass(frozen=True, slots=True)
class ProgressiveBook:
    """The calculator's model of a loan and the last day P8 changed its balance."""

    model: ProgressiveModel
    overdue_changed: date | None = None


def calculator_terms(terms: Terms, rule: ProgressiveInterest) -> ProgressiveTerms:
    """The calculator's conventions from the loan's contract and the progressive option."""
    contract = terms.contract
    multiple = contract.installment_multiple
    places = CURRENCIES[terms.currency].places
    return ProgressiveTerms(
        annual_rate=contract.annual_rate,
        unit=contract.periods.frequency.unit,
        every=contract.periods.frequency.every,
        days_in_month=contract.day_count.days_in_month,
        days_in_year=rule.days_in_year,
        currency=terms.currency,
        mode=contract.rounding.mode,
        multiple=None if multiple is None else multiple.minor // 10**places,
    )


def opened(terms: Terms, rule: ProgressiveInterest, installments: Sequence[Installment], on: date,
           amount: Money) -> ProgressiveBook:
    """The model of a loan disbursed `amount` (less its down payment) on `on`, on the schedule's periods."""
    periods = [(row.period_start, row.due_date) for row in installments]
    model = progressive_model(calculator_terms(terms, rule), periods)
    return ProgressiveBook(add_disbursement(model, on, amount.minor))


def paid(book: ProgressiveBook, lines: Sequence[AllocationLine], due_dates: dict[int, date],
         on: date) -> ProgressiveBook:
    """The model after a payment on `on` (its principal and interest lines, in order)."""
    model = book.model
    for line in lines:
        due = due_dates.get(line.installment)
        if due is None or model.index_of(due) < 0:
            continue
        if line.component is Component.PRINCIPAL:
            model = pay_principal(model, due, on, line.amount.minor)
        elif line.component is Component.INTEREST:
            model = pay_interest(model, due, on, line.amount.minor)
    return replace(book, model=model)


def synced(model: ProgressiveModel, charged: tuple[InstallmentDue, ...],
           owed: tuple[InstallmentDue, ...]) -> tuple[tuple[InstallmentDue, ...], tuple[InstallmentDue, ...]]:
    """(charged, owed) with each regular installment's principal and interest what the model
    says is due, what was paid of each staying paid."""
    numbers = figures(model)
    index = {p.due: k for k, p in enumerate(model.periods)}
    new_charged: list[InstallmentDue] = []
    new_owed: list[InstallmentDue] = []
    for was, still in zip(charged, owed, strict=True):
        k = index.get(was.due_date) if was.number > 0 else None
        if k is None:
            new_charged.append(was)
            new_owed.append(still)
            continue
        principal = Money(numbers[k].due_principal, was.currency)
        interest = Money(numbers[k].due_interest, was.currency)
        new_charged.append(replace(was, principal=principal, interest=interest))
        new_owed.append(replace(still, principal=principal - (was.principal - still.principal),
                                interest=interest - (was.interest - still.interest)))
    return tuple(new_charged), tuple(new_owed)


Rows = tuple[InstallmentDue, ...]


def overdue_recalculated(book: ProgressiveBook, rest: RestFrequency, charged: Rows, owed: Rows,
                         starts: dict[int, date], current: date) -> tuple[ProgressiveBook, Rows, Rows]:
    """P8 on `current`: the principal still owed by the installments due before it put back into
    the balance of the period running on `current` (the last one after maturity); the
    installments (charged, owed) follow the model after each change, and the next overdue
    installment's principal is read from them (Fineract reads it after the update)."""
    regular = sorted((d for d in owed if d.number > 0 and d.number in starts), key=lambda d: d.number)
    overdue = [d.number for d in regular if d.due_date < current]
    if not overdue:
        return book, charged, owed
    last = regular[-1]
    running = next((d for d in regular if starts[d.number] < current <= d.due_date), last)
    principal = aggregated = Money.zero(last.currency)
    for number in overdue:
        due = next(d.due_date for d in regular if d.number == number)
        if not principal.is_zero:
            book = _adjust(book, rest, current, starts[number], due, principal, aggregated)
            charged, owed = synced(book.model, charged, owed)
        principal = next(d.principal for d in owed if d.number == number)
        aggregated = aggregated + principal
    if running.number != last.number or not last.due_date < current:
        book = _adjust(book, rest, current, starts[running.number], running.due_date, principal, aggregated)
        charged, owed = synced(book.model, charged, owed)
    return book, charged, owed


def _adjust(book: ProgressiveBook, rest: RestFrequency, current: date, start: date, due: date, principal: Money,
            aggregated: Money) -> ProgressiveBook:
    """``adjustOverduePrincipalForInstallment``: `principal` into the balance of the period
    [start, due) from its start (or from the last change), taken out again on its due date
    (same as repayment) or on `current` (daily)."""
    model, changed = book.model, book.overdue_changed
    if rest is RestFrequency.SAME_AS_REPAYMENT and (changed is None or start > changed):
        model = add_balance_correction(model, start, principal.minor)
        changed = start
        if start < current <= due:
            model = add_balance_correction(model, due, -aggregated.minor)
            changed = due
    if rest is RestFrequency.DAILY and current != changed:
        since = start if changed is None or start > changed else changed
        model = add_balance_correction(model, since, principal.minor)
        if start < current <= due:
            model = add_balance_correction(model, current, -aggregated.minor)
            changed = current
    return ProgressiveBook(model, changed)
