"""A loan replayed: its terms and events (JSON) folded into its state on a day.

The edge of `lending.loan`: a `LoanReplay` (the quote's loan description,
the servicing conventions, the events) is turned into the core's `Terms` and
events, folded, and the `LoanState` written back as `LoanStateRead`.  Money
changes form twice: string to `Money` on the way in, `Money` to string on
the way out.  A refused event is reported with its index in `events`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from microcredit.lending import fineract, loan
from microcredit.lending.allocation import STRATEGIES, Component, OverpaymentPolicy
from microcredit.lending.classification import DEFAULT_BUCKETS, DEFAULT_PROVISION_RATES, ClassificationPolicy
from microcredit.lending.daycount import DaysInYear
from microcredit.lending.loan import Amounts, LoanState, kernel
from microcredit.lending.loan.cumulative import (
    CompoundingUnit,
    CumulativeRecalculation,
    EarlyPayment,
    InterestCompounding,
)
from microcredit.lending.money import Money, percent
from microcredit.lending.prepayment import PrepaymentMode
from microcredit.lending.restructure import DeferralInterest
from microcredit.lending.schedule import RepaymentMethod
from microcredit.lending.schedule.model import LevelInstallment
from microcredit.products.errors import FineractInputInvalid, LoanEventRefused
from microcredit.products.fineract_schemas import FineractLoanReplay
from microcredit.products.schemas import (
    AccelerationItem,
    AmountsRead,
    AsOfItem,
    ChargeItem,
    DeferralItem,
    DisbursementItem,
    DisbursementRead,
    EventItem,
    LoanInstallmentRead,
    LoanReplay,
    LoanStateRead,
    LoanTotalsRead,
    PaymentLineRead,
    PaymentRead,
    PayoffRead,
    PenaltyItem,
    PlannedDisbursementRead,
    PrepaymentItem,
    RecoveryItem,
    RefundItem,
    RepaymentItem,
    ReschedulingItem,
    ReversalItem,
    WaiverItem,
    WriteOffItem,
)
from microcredit.products.service.quotes import CalendarProvider, calendar_span, installment_rows, loan_terms

__all__ = ["event_of", "replay", "state_json", "state_read", "terms_of"]


def terms_of(document: LoanReplay, calendars: CalendarProvider) -> loan.Terms:
    """The core's terms: the quote's contract and the servicing conventions."""
    contract = loan_terms(document.terms)
    first, last = calendar_span(contract)
    servicing = document.servicing
    cumulative = servicing.cumulative_recalculation
    if cumulative is not None:
        # Fineract's cumulative generator levels the installment with its PMT at a 30-day-month
        # rate (K4, docs/fineract-profile.md): part of the convention, not a separate choice.
        contract = replace(contract, level_installment=LevelInstallment.NOMINAL_PMT)
    down_payment = None if servicing.down_payment_percent is None else loan.DownPayment(
        percent=servicing.down_payment_percent, collected_at_disbursement=servicing.down_payment_collected,
        rounded_to_installment_multiple=bool(servicing.down_payment_rounded_to_multiple),
        collected_by_strategy=bool(servicing.down_payment_by_strategy))
    progressive = None if servicing.progressive is None else loan.ProgressiveInterest(
        days_in_year=_DAYS_IN_YEAR[servicing.progressive.days_in_year],
        overdue_rest=None if servicing.progressive.overdue_rest is None
        else loan.RestFrequency(servicing.progressive.overdue_rest),
        pre_closure=loan.PreClosure(servicing.progressive.pre_closure))
    return loan.Terms(
        contract=contract,
        calendar=calendars(document.terms.calendar, first, last),
        strategy=STRATEGIES[servicing.strategy],
        overpayment=OverpaymentPolicy(servicing.overpayment),
        prepayment_mode=PrepaymentMode(servicing.prepayment_mode),
        dpd_grace_days=servicing.dpd_grace_days,
        dpd_tolerance=servicing.dpd_tolerance,
        buckets=DEFAULT_BUCKETS,
        classification=ClassificationPolicy(provision_rates=DEFAULT_PROVISION_RATES),
        tranches=servicing.tranches,
        down_payment=down_payment,
        recalculation=None if servicing.recalculation is None else loan.Recalculation(
            rest=loan.RestFrequency(servicing.recalculation.rest),
            compounding=loan.Compounding(servicing.recalculation.compounding),
            pre_closure=loan.PreClosure(servicing.recalculation.pre_closure)),
        expected_disbursements=tuple(loan.ExpectedDisbursement(p.on, p.amount)
                                     for p in servicing.expected_disbursements),
        progressive=progressive,
        cumulative_recalculation=None if cumulative is None else CumulativeRecalculation(
            rest=loan.RestFrequency(cumulative.rest), early_payment=EarlyPayment(cumulative.early_payment),
            compounding=None if cumulative.compounding is None else InterestCompounding(
                unit=CompoundingUnit(cumulative.compounding.unit), every=cumulative.compounding.every,
                day_of_month=cumulative.compounding.day_of_month)),
        charges_after_maturity=loan.ChargesAfterMaturity(servicing.charges_after_maturity or "last_installment"),
        charges_with_down_payment=servicing.charges_with_down_payment is not False,
        tranche_replays_payments=bool(servicing.tranche_replays_payments),
        most_outstanding=servicing.most_outstanding,
    )


_DAYS_IN_YEAR = {"actual": DaysInYear.ACTUAL, "360": DaysInYear.D360, "364": DaysInYear.D364,
                 "365": DaysInYear.D365}


def event_of(item: EventItem) -> loan.Event:
    """The core's event for one event of the document (or of a loan's stored events)."""
    if isinstance(item, DisbursementItem):
        return loan.Disbursement(id=item.id, on=item.on, amount=item.amount, channel=loan.Channel(item.channel))
    if isinstance(item, RepaymentItem):
        return loan.Repayment(id=item.id, on=item.on, amount=item.amount, channel=loan.Channel(item.channel))
    if isinstance(item, PrepaymentItem):
        return loan.Prepayment(id=item.id, on=item.on, amount=item.amount, mode=PrepaymentMode(item.mode),
                               channel=loan.Channel(item.channel))
    if isinstance(item, ChargeItem):
        return loan.ChargeAdded(id=item.id, on=item.on, amount=item.amount, name=item.name)
    if isinstance(item, PenaltyItem):
        return loan.PenaltyCharged(id=item.id, on=item.on, installment=item.installment, amount=item.amount)
    if isinstance(item, WaiverItem):
        return loan.Waiver(id=item.id, on=item.on, installment=item.installment, component=Component(item.component),
                           amount=item.amount)
    if isinstance(item, DeferralItem):
        return loan.Deferral(id=item.id, on=item.on, from_installment=item.from_installment, periods=item.periods,
                             interest=DeferralInterest(item.interest), restructuring=item.restructuring)
    if isinstance(item, ReschedulingItem):
        return loan.Rescheduling(
            id=item.id, on=item.on, installments=item.installments,
            annual_rate=None if item.annual_rate is None else percent(item.annual_rate),
            method=None if item.method is None else RepaymentMethod(item.method),
            capitalise_overdue_principal=item.capitalise_overdue_principal, restructuring=item.restructuring)
    if isinstance(item, AccelerationItem):
        return loan.Acceleration(id=item.id, on=item.on)
    if isinstance(item, WriteOffItem):
        return loan.WriteOff(id=item.id, on=item.on)
    if isinstance(item, RecoveryItem):
        return loan.Recovery(id=item.id, on=item.on, amount=item.amount, channel=loan.Channel(item.channel))
    if isinstance(item, RefundItem):
        return loan.Refund(id=item.id, on=item.on, amount=item.amount, channel=loan.Channel(item.channel))
    if isinstance(item, ReversalItem):
        return loan.Reversal(id=item.id, on=item.on, target=item.target)
    assert isinstance(item, AsOfItem)
    return loan.AsOf(id=item.id, on=item.on)


def _amounts(value: Amounts) -> AmountsRead:
    return AmountsRead(principal=value.principal, interest=value.interest, fee=value.fee, penalty=value.penalty,
                       total=value.total)


def state_read(state: LoanState) -> LoanStateRead:
    """The state as the API writes it (money as strings)."""
    payoff = state.payoff
    return LoanStateRead(
        as_of=state.as_of,
        currency=state.currency,
        status=state.status.value,
        disbursed=state.disbursed,
        disbursed_on=state.disbursed_on,
        disbursements=[DisbursementRead(event_id=d.event_id, on=d.on, amount=d.amount) for d in state.disbursements],
        installments=[
            LoanInstallmentRead(
                number=row.number, period_start=row.period_start, due_date=row.due_date, due=_amounts(row.due),
                paid=_amounts(row.paid), waived=_amounts(row.waived), written_off=_amounts(row.written_off),
                outstanding=_amounts(row.outstanding), balance_after=row.balance_after,
            )
            for row in state.installments
        ],
        payments=[
            PaymentRead(
                event_id=p.event_id, on=p.on, amount=p.amount,
                lines=[PaymentLineRead(installment=line.installment, component=line.component.value,
                                       amount=line.amount) for line in p.lines],
                interest_prepaid=p.interest_prepaid, principal_prepaid=p.principal_prepaid, credit=p.credit,
            )
            for p in state.payments
        ],
        totals=LoanTotalsRead(**{which: _amounts(state.total(which))
                                 for which in ("due", "paid", "waived", "written_off", "outstanding")}),
        credit_balance=state.credit_balance,
        principal_prepaid=state.principal_prepaid,
        interest_prepaid=state.interest_prepaid,
        recovered=state.recovered,
        refunded=state.refunded,
        interest_refunded=state.interest_refunded,
        written_off_on=state.written_off_on,
        accrued_interest=state.accrued_interest,
        interest_base=state.interest_base,
        dpd=state.dpd,
        bucket=state.bucket.name,
        classification=state.classification.category.name.lower(),
        restructured_on=state.restructured_on,
        accelerated_on=state.accelerated_on,
        payoff=None if payoff is None else PayoffRead(
            principal=payoff.principal, overdue_interest=payoff.overdue_interest,
            deferred_interest=payoff.deferred_interest, accrued_interest=payoff.accrued_interest, fees=payoff.fees,
            penalties=payoff.penalties, total=payoff.total, after_credit=state.payoff_amount,
        ),
        reversed=list(state.reversed),
        planned_disbursements=[
            PlannedDisbursementRead(
                expected_on=p.expected_on, expected_amount=p.expected_amount,
                made=None if p.made is None else DisbursementRead(event_id=p.made.event_id, on=p.made.on,
                                                                  amount=p.made.amount))
            for p in state.planned_disbursements
        ],
        projected_schedule=None if state.projected_schedule is None else installment_rows(state.projected_schedule),
    )


def _amounts_json(value: Amounts) -> dict[str, str]:
    return {"principal": str(value.principal), "interest": str(value.interest), "fee": str(value.fee),
            "penalty": str(value.penalty), "total": str(value.total)}


def _day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _installments_json(state: LoanState) -> list[dict[str, Any]]:
    return [
        {"number": row.number, "period_start": row.period_start.isoformat(), "due_date": row.due_date.isoformat(),
         "due": _amounts_json(row.due), "paid": _amounts_json(row.paid), "waived": _amounts_json(row.waived),
         "written_off": _amounts_json(row.written_off), "outstanding": _amounts_json(row.outstanding),
         "balance_after": str(row.balance_after)}
        for row in state.installments
    ]


def _payments_json(state: LoanState) -> list[dict[str, Any]]:
    return [
        {"event_id": p.event_id, "on": p.on.isoformat(), "amount": str(p.amount),
         "lines": [{"installment": line.installment, "component": line.component.value,
                    "amount": str(line.amount)} for line in p.lines],
         "interest_prepaid": str(p.interest_prepaid), "principal_prepaid": str(p.principal_prepaid),
         "credit": str(p.credit)}
        for p in state.payments
    ]


_TOTALS = ("due", "paid", "waived", "written_off", "outstanding")


def _totals_json(state: LoanState) -> dict[str, dict[str, str]]:
    return {which: _amounts_json(state.total(which)) for which in _TOTALS}


_COMPONENT_NAMES = tuple(component.value for component in kernel.COMPONENTS)


class _Fragments:
    """The snapshot's installments, payments and totals from a kernel fold's integers (`state_json`), each
    installment's and payment's part made once per currency and values and kept (at most `max_entries` of
    each, then all forgotten at once: a miss only makes the part again). Keyed by the integers and dates
    the part is written from, so a kept part is the part of those values: never another loan's or a stale
    one. Amounts as text are kept the same way (`text`)."""

    def __init__(self, max_entries: int = 50_000) -> None:  # ~1.5 KB an installment's part: <= ~75 MB
        self.max_entries = max_entries
        self._texts: dict[str, dict[int, str]] = {}
        self._installments: dict[str, dict[Any, dict[str, Any]]] = {}
        self._payments: dict[str, dict[Any, dict[str, Any]]] = {}

    def _kept(self, kind: dict[str, dict[Any, Any]], currency: str) -> dict[Any, Any]:
        kept = kind.get(currency)
        if kept is None or len(kept) >= self.max_entries:
            kept = kind[currency] = {}
        return kept

    def of(self, currency: str, view: kernel.IntegerView
           ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, dict[str, str]]]:
        """The installments, payments and totals of the snapshot."""
        texts = self._kept(self._texts, currency)

        def text(minor: int) -> str:
            value = texts.get(minor)
            if value is None:
                value = texts[minor] = str(Money(minor, currency))
            return value

        def amounts(principal: int, interest: int, fee: int, penalty: int) -> dict[str, str]:
            return {"principal": text(principal), "interest": text(interest), "fee": text(fee),
                    "penalty": text(penalty), "total": text(principal + interest + fee + penalty)}

        kept_rows = self._kept(self._installments, currency)
        installments = []
        due = [0, 0, 0, 0]
        owed = [0, 0, 0, 0]
        for values in view.installments:
            fragment = kept_rows.get(values)
            number, start, day, cp, ci, cf, cn, op, oi, of, on, after = values
            if fragment is None:
                nothing = amounts(0, 0, 0, 0)
                fragment = kept_rows[values] = {
                    "number": number, "period_start": start.isoformat(), "due_date": day.isoformat(),
                    "due": amounts(cp, ci, cf, cn), "paid": amounts(cp - op, ci - oi, cf - of, cn - on),
                    "waived": nothing, "written_off": dict(nothing), "outstanding": amounts(op, oi, of, on),
                    "balance_after": text(after)}
            installments.append(fragment)
            due[0] += cp
            due[1] += ci
            due[2] += cf
            due[3] += cn
            owed[0] += op
            owed[1] += oi
            owed[2] += of
            owed[3] += on
        kept_payments = self._kept(self._payments, currency)
        payments = []
        for logged in view.payments:
            fragment = kept_payments.get(logged)
            if fragment is None:
                event_id, on_day, amount, interest, principal, credit, count = logged[:7]
                fragment = kept_payments[logged] = {
                    "event_id": event_id, "on": on_day.isoformat(), "amount": text(amount),
                    "lines": [{"installment": logged[at], "component": _COMPONENT_NAMES[logged[at + 1]],
                               "amount": text(logged[at + 2])} for at in range(7, 7 + 3 * count, 3)],
                    "interest_prepaid": text(interest), "principal_prepaid": text(principal), "credit": text(credit)}
            payments.append(fragment)
        totals = {"due": amounts(*due), "paid": amounts(*(d - o for d, o in zip(due, owed, strict=True))),
                  "waived": amounts(0, 0, 0, 0), "written_off": amounts(0, 0, 0, 0), "outstanding": amounts(*owed)}
        return installments, payments, totals


_fragments = _Fragments()


def payoff_json(state: LoanState) -> dict[str, str] | None:
    """The snapshot's `payoff` (`state_json`): what paying the loan off costs on its day, part by part, or None."""
    payoff = state.payoff
    if payoff is None:
        return None
    return {"principal": str(payoff.principal), "overdue_interest": str(payoff.overdue_interest),
            "deferred_interest": str(payoff.deferred_interest), "accrued_interest": str(payoff.accrued_interest),
            "fees": str(payoff.fees), "penalties": str(payoff.penalties), "total": str(payoff.total),
            "after_credit": str(state.payoff_amount)}


def state_json(state: LoanState) -> dict[str, Any]:
    """`state_read(state).model_dump(mode="json")`, built straight from the fold: the loan's stored snapshot.

    A repayment writes it on every call; the schema's way (a validator per amount, then a serialiser per
    amount again) cost more than the rest of the snapshot.  Field for field the same dict, which
    `tests/unit/products/test_state_json.py` holds it to for random loans with every kind of event:
    a field added to `LoanStateRead` goes here too (that test fails until it does).

    A fold the kernel made (`kernel.integer_view`) gives its installments and payments in minor units: each
    installment's and each payment's part is made from those integers once in this process and kept
    (`_Fragments`), so a repayment writes out only what it changed (the new payment, the installments it
    paid) and a loan's earlier payments cost a dictionary look-up each, not a rebuild.  The parts are shared
    between the snapshots made here: the snapshot is read, serialised and stored, never changed in place."""
    view = kernel.integer_view(state)
    if view is None:
        installments, payments, totals = _installments_json(state), _payments_json(state), _totals_json(state)
    else:
        installments, payments, totals = _fragments.of(state.currency, view)
    projected = state.projected_schedule
    return {
        "as_of": state.as_of.isoformat(),
        "currency": state.currency,
        "status": state.status.value,
        "disbursed": str(state.disbursed),
        "disbursed_on": _day(state.disbursed_on),
        "disbursements": [{"event_id": d.event_id, "on": d.on.isoformat(), "amount": str(d.amount)}
                          for d in state.disbursements],
        "installments": installments,
        "payments": payments,
        "totals": totals,
        "credit_balance": str(state.credit_balance),
        "principal_prepaid": str(state.principal_prepaid),
        "interest_prepaid": str(state.interest_prepaid),
        "recovered": str(state.recovered),
        "refunded": str(state.refunded),
        "interest_refunded": str(state.interest_refunded),
        "written_off_on": _day(state.written_off_on),
        "accrued_interest": str(state.accrued_interest),
        "interest_base": str(state.interest_base),
        "dpd": state.dpd,
        "bucket": state.bucket.name,
        "classification": state.classification.category.name.lower(),
        "restructured_on": _day(state.restructured_on),
        "accelerated_on": _day(state.accelerated_on),
        "payoff": payoff_json(state),
        "reversed": list(state.reversed),
        "planned_disbursements": [
            {"expected_on": p.expected_on.isoformat(), "expected_amount": str(p.expected_amount),
             "made": None if p.made is None else {"event_id": p.made.event_id, "on": p.made.on.isoformat(),
                                                  "amount": str(p.made.amount)}}
            for p in state.planned_disbursements
        ],
        "projected_schedule": None if projected is None else [
            {"number": row.number, "due_date": row.due_date.isoformat(), "period_start": row.period_start.isoformat(),
             "period_end": row.period_end.isoformat(), "days": row.days, "principal": str(row.principal),
             "interest": str(row.interest), "fees": str(row.fees), "total": str(row.total),
             "balance_after": str(row.balance_after)}
            for row in projected.installments
        ],
    }


def replay(document: LoanReplay | FineractLoanReplay, *, calendars: CalendarProvider) -> LoanStateRead:
    """Fold the document's events into the loan's state on `as_of`."""
    if isinstance(document, FineractLoanReplay):
        return state_read(_fineract_state(document))
    terms = terms_of(document, calendars)
    events = [event_of(item) for item in document.events]
    try:
        state = loan.fold(terms, events, as_of=document.as_of)
    except loan.EventRefused as exc:
        matching = [i for i, event in enumerate(events) if event.id == exc.event_id]
        index = matching[-1] if exc.code == "duplicate_event_id" else matching[0]
        raise LoanEventRefused(index, exc.event_id, exc.code, exc.reason) from exc
    return state_read(state)


def _fineract_state(document: FineractLoanReplay) -> LoanState:
    """The state of a loan given in Fineract's terms and steps, under the `fineract` profile."""
    params = document.terms.model_dump(mode="json", exclude_none=True)
    try:
        terms = fineract.terms_from_fineract(params)
        strategies = fineract.transaction_strategies(params)
        overdue = fineract.overdue_charge(params)
    except fineract.FineractInputError as exc:
        raise FineractInputInvalid(f"terms.{exc.field}" if exc.field != "terms" else "terms", exc.reason) from exc
    steps = [step.model_dump(mode="json", exclude_none=True) for step in document.events]
    try:
        history = fineract.events_from_fineract(steps, terms.currency, terms=terms, strategies=strategies,
                                                overdue=overdue)
        return loan.fold(terms, history.events, as_of=document.as_of)
    except fineract.FineractInputError as exc:
        raise FineractInputInvalid(exc.field, exc.reason) from exc
    except loan.EventRefused as exc:
        seq = int(exc.event_id.split(":")[0].removeprefix("e"))
        index = next(i for i, step in enumerate(steps) if step["seq"] == seq)
        raise LoanEventRefused(index, exc.event_id, exc.code, exc.reason) from exc
