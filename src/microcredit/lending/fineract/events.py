"""What a Fineract test does to a loan, turned into our loan events.

`events_from_fineract(raw, currency)` reads the steps of a Fineract scenario (the golden
cases' ``events``: ``set_business_date``, ``disburse``, ``transaction``, ``undo_transaction``,
``add_charge`` ...) and answers a `FineractHistory`: our events (`loan.Disbursement`,
`loan.Repayment`, `loan.ChargeAdded`, `loan.Reversal` ...), each with the id ``e<seq>``, and
what the Fineract view needs beside them (each transaction's Fineract type, each charge's
description, the business date after each step).

The mapping:

- ``disburse`` -> `Disbursement` on its date;
- ``transaction`` REPAYMENT, GOODWILL_CREDIT, PAYOUT_REFUND, MERCHANT_ISSUED_REFUND ->
  `Repayment` (the cumulative processors allocate all four as a repayment);
- ``undo_transaction`` -> `Reversal` of the step it names, dated on the business date; the
  undo of a disbursement's automatic down payment (``disbursement_seq``) -> the disbursement
  collecting nothing, a repayment of what it collected just after it, and a `Reversal` of that;
- ``adjust_transaction`` -> `Reversal` of the step, plus a `Repayment` of the new amount on
  the same date (Fineract reverses the transaction and posts its replacement);
- ``undo_last_disbursal`` -> `Reversal` of the last disbursement still standing (its down
  payment goes with it) and of the transactions recorded after it; ``undo_disbursal`` -> a
  `Reversal` of every disbursement and every transaction (the loan is back to approved);
- ``add_charge`` SPECIFIED_DUE_DATE -> `ChargeAdded` (FLAT: the amount; PERCENT_OF_AMOUNT:
  that percent of the principal disbursed; PERCENT_OF_AMOUNT_AND_INTEREST: of it plus the
  loan's total interest on it, K12) with the charge's due date
  (`due_on`), effective from the business date it was added or from its due date when that
  is earlier (a back-dated charge replays the payments after it, as Fineract's reprocessing
  does); a penalty charge is owed as penalty;
- ``add_charge`` INSTALMENT_FEE -> one `ChargeAdded` per installment, due on its due date, of
  the flat amount or a percent of that installment's principal, principal and interest, or
  interest, listed as one charge (`ChargeInfo.part_of`); ``add_charge`` DISBURSEMENT (before
  the first disbursement) -> on each ``disburse`` a `ChargeAdded` at disbursement and the
  "Repayment (at time of disbursement)" that pays it;
- ``inline_cob`` with the product's overdue charge (`terms.overdue_charge`) -> a penalty
  `ChargeAdded` on each installment overdue two days before the close of business, once;
- ``waive_charge`` -> `Waiver` of the charge it names (its whole amount, as fee or penalty) on
  the installment that owes it, dated on the charge's due date (Fineract's "Waive loan charges"
  transaction); a charge not yet due on the business date is refused;
- ``set_business_date``, ``submit_application``, ``approve`` move no money: they only set
  the business date the state is read on; an ``inline_cob`` is kept for the view, whose
  accrual transactions it posts;
- ``global_configuration``: business dates enabled (they always are), or the tenant's
  ``charge-accrual-date`` (``due-date``, Fineract's default, or ``submitted-date``: a charge
  accrues at the first close of business on or after the day it was added), kept for the view.

Anything else is refused (`FineractInputError`) naming the step and field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from microcredit.lending.allocation import AllocationStrategy, Component
from microcredit.lending.fineract.terms import FineractInputError, OverdueCharge, money
from microcredit.lending.loan.events import ChargeAdded, Disbursement, Event, Repayment, Reversal, Waiver
from microcredit.lending.loan.fold import EventRefused
from microcredit.lending.loan.kernel import fold
from microcredit.lending.loan.terms import Terms
from microcredit.lending.money import Money
from microcredit.lending.schedule import build_schedule

__all__ = ["TRANSACTION_TYPES", "ChargeInfo", "FineractHistory", "events_from_fineract"]

TRANSACTION_TYPES: Mapping[str, str] = {
    "REPAYMENT": "Repayment",
    "GOODWILL_CREDIT": "Goodwill Credit",
    "PAYOUT_REFUND": "Payout Refund",
    "MERCHANT_ISSUED_REFUND": "Merchant Issued Refund",
}
"""Fineract's transaction types the profile takes, with the name Fineract lists them by."""

_QUIET = {"set_business_date", "submit_application", "approve", "inline_cob"}


@dataclass(frozen=True, slots=True)
class ChargeInfo:
    """A charge as Fineract lists it: name, kind, due date and amount."""

    event_id: str
    name: str
    penalty: bool
    due_on: date
    amount: Money
    added_on: date | None = None
    """The business date the charge was added on (None when the scenario set none)."""
    part_of: str | None = None
    """The id of the Fineract charge, listed without a due date, this is (a part of): an
    installment fee (one part per installment, each due on its installment's due date) or a
    disbursement charge (one part per disbursement); None: a specified-due-date charge."""


@dataclass(frozen=True, slots=True)
class FineractHistory:
    """A Fineract scenario as our events, with what the Fineract view needs beside them."""

    events: tuple[Event, ...]
    """Our events, in the order the scenario records them (ids ``e<seq>``)."""
    after: tuple[int, ...]
    """For each of `events`, how many of the scenario's steps had been applied once it was."""
    kinds: Mapping[str, str]
    """Event id -> Fineract's transaction type (``Repayment``, ``Goodwill Credit`` ...)."""
    charges: tuple[ChargeInfo, ...]
    undone: Mapping[str, str]
    """Reversal id -> the id of the transaction it undoes (Fineract lists that one as reverted)."""
    business_dates: tuple[date | None, ...]
    """The business date after each step (index: steps applied - 1)."""
    closes_of_business: tuple[tuple[int, date], ...] = ()
    """(step number, business date) of each ``inline_cob``: the close of business of the day
    before that business date (it posts Fineract's periodic accruals)."""
    pending: tuple[int, int] | None = None
    """(step of ``submit_application``, step of ``approve``): from the first to before the second
    the loan is submitted and pending approval; None when the scenario submits nothing."""
    expected_on: tuple[tuple[int, date], ...] = ()
    """(step number, date) of each application or approval that names an expected disbursement
    date: before the loan is disbursed Fineract shows the schedule from the last of them
    (LoanDownPayment.feature line 2173: approved with 2 September for 1 September)."""
    waived: Mapping[str, str] = field(default_factory=dict)
    """`Waiver` id -> the id of the charge (`ChargeAdded`) it waives."""
    charges_accrue_when_added: bool = False
    """The tenant's ``charge-accrual-date`` is ``submitted-date``: a charge accrues at the first
    close of business on or after the day it was added, dated on that close of business
    (``LoanAccrualsProcessingServiceImpl`` lines 494-500 and 619-648), not on its due date."""

    def upto(self, steps: int) -> tuple[Event, ...]:
        """Our events once `steps` of the scenario's steps have been applied."""
        return tuple(e for e, n in zip(self.events, self.after, strict=True) if n <= steps)


def _day(step: Mapping[str, Any], key: str, where: str) -> date:
    value = step.get(key)
    if not isinstance(value, str):
        raise FineractInputError(f"{where}.{key}", "an ISO date is required")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise FineractInputError(f"{where}.{key}", f"{value!r} is not an ISO date") from None


def events_from_fineract(steps: Sequence[Mapping[str, Any]], currency: str, *,
                         terms: Terms | None = None,
                         strategies: Mapping[str, AllocationStrategy | None] | None = None,
                         overdue: OverdueCharge | None = None) -> FineractHistory:
    """Our events for a Fineract scenario's steps (each with ``seq`` and ``type``); `terms`
    (the loan's, from `terms_from_fineract`) are needed for percentage charges, `strategies`
    (`terms.transaction_strategies`) for transactions the advanced strategy allocates by a rule
    of their type (a transaction under a rule the profile does not reproduce is refused),
    `overdue` (`terms.overdue_charge`) for the product's overdue-installment charge, which each
    ``inline_cob`` applies to the installments then overdue."""
    events: list[Event] = []
    after: list[int] = []
    kinds: dict[str, str] = {}
    charges: list[ChargeInfo] = []
    undone: dict[str, str] = {}
    ids: dict[int, str] = {}
    dates: list[date | None] = []
    cobs: list[tuple[int, date]] = []
    expected_on: list[tuple[int, date]] = []
    business: date | None = None
    submitted: int | None = None
    accrue_when_added = False
    waived: dict[str, str] = {}
    at_disbursement: list[Mapping[str, Any]] = []
    installment_fee = False
    approved = len(steps) + 1
    for count, step in enumerate(steps, start=1):
        seq = step.get("seq", count)
        kind = step.get("type")
        where = f"events.{count - 1}"
        event_id = f"e{seq}"
        ids[seq] = event_id
        if step.get("expect_rejected"):
            raise FineractInputError(f"{where}.expect_rejected", "a step Fineract refuses is not replayed")
        if kind == "set_business_date":
            business = _day(step, "date", where)
        elif kind == "inline_cob":
            cobs.append((count, _day(step, "business_date", where) if "business_date" in step or business is None
                         else business))
            if overdue is not None:
                for charge in _overdue_charges(overdue, terms, events, charges, cobs[-1][1], event_id, where):
                    events.append(ChargeAdded(id=charge.event_id, on=charge.due_on, amount=charge.amount,
                                              name=charge.name, penalty=charge.penalty, due_on=charge.due_on))
                    charges.append(charge)
        elif kind in _QUIET:
            if kind in ("submit_application", "approve") and "expectedDisbursementDate" in step:
                expected_on.append((count, _day(step, "expectedDisbursementDate", where)))
            if kind == "submit_application":
                submitted = count
            elif kind == "approve":
                approved = count
        elif kind == "disburse":
            if installment_fee:
                raise FineractInputError(f"{where}.type", "a tranche after an installment fee (its parts would be "
                                         "computed again on the new schedule)")
            on = _day(step, "date", where)
            amount = money(step.get("amount"), currency, f"{where}.amount")
            events.append(_fixed_down_payment(terms, events, Disbursement(id=event_id, on=on, amount=amount)))
            kinds[event_id] = "Disbursement"
            for fee in at_disbursement:
                part = _disbursement_charge(fee, event_id, on, amount, terms, where)
                events.append(ChargeAdded(id=part.event_id, on=on, amount=part.amount, name=part.name,
                                          penalty=part.penalty, due_on=on, at_disbursement=True))
                charges.append(part)
                # Fineract collects it with the disbursement ("Repayment (at time of disbursement)").
                events.append(Repayment(id=f"{part.event_id}:paid", on=on, amount=part.amount))
                kinds[f"{part.event_id}:paid"] = "Repayment (at time of disbursement)"
        elif kind == "transaction":
            name = TRANSACTION_TYPES.get(step.get("transactionType", ""))
            if name is None:
                known = ", ".join(TRANSACTION_TYPES)
                raise FineractInputError(f"{where}.transactionType",
                                         f"{step.get('transactionType')!r} is not one of {known}")
            on = _day(step, "date", where)
            own = _own_strategy(strategies or {}, str(step.get("transactionType")), terms, where)
            events.append(Repayment(id=event_id, on=on, amount=money(step.get("amount"), currency,
                                                                       f"{where}.amount"), strategy=own))
            kinds[event_id] = name
        elif kind == "global_configuration":
            if step.get("name") == "charge-accrual-date":
                if step.get("value") not in ("due-date", "submitted-date"):
                    raise FineractInputError(f"{where}.value", "charge-accrual-date is due-date or submitted-date")
                accrue_when_added = step.get("value") == "submitted-date"
            elif (step.get("name"), step.get("enabled")) != ("enable-business-date", True):
                raise FineractInputError(f"{where}.name", "of the tenant's switches the profile takes business dates "
                                         "enabled (they always are) and charge-accrual-date")
        elif kind == "cob_workflow":
            # The view recalculates a progressive loan's interest on its business date (P8), as a
            # close of business with Fineract's LOAN_INTEREST_RECALCULATION step does.
            if step.get("step") != "LOAN_INTEREST_RECALCULATION" or step.get("action") not in ("add", "remove"):
                raise FineractInputError(f"{where}.step", "the profile takes the interest recalculation step only")
        elif kind == "run_job":
            # Arrears ageing moves no amount; the view recalculates interest on its business date (P8).
            if step.get("job") not in ("Update Loan Arrears Ageing", "Recalculate Interest For Loans"):
                raise FineractInputError(f"{where}.job", f"the profile does not replay the job {step.get('job')!r}")
        elif kind == "payoff":
            on = _day(step, "date", where)
            events.append(Repayment(id=event_id, on=on, amount=_payoff_amount(terms, events, on, where)))
            kinds[event_id] = "Repayment"
        elif kind == "undo_transaction" and "disbursement_seq" in step and "target_seq" not in step:
            down = _down_payment_undone(terms, events, after, kinds, ids.get(step["disbursement_seq"]), where)
            events.append(Reversal(id=event_id, on=business if business is not None else _day(step, "date", where),
                                   target=down))
            undone[event_id] = down
        elif kind in ("undo_transaction", "adjust_transaction"):
            target = ids.get(step.get("target_seq", -1))
            if target is None or target not in kinds or kinds[target] == "Disbursement":
                raise FineractInputError(f"{where}.target_seq", "names no earlier transaction")
            on = business if business is not None else _day(step, "date", where)
            events.append(Reversal(id=event_id, on=on, target=target))
            undone[event_id] = target
            if kind == "adjust_transaction":
                after.append(count)
                new_id = f"{event_id}:adjusted"
                amount = money(step.get("amount"), currency, f"{where}.amount")
                events.append(Repayment(id=new_id, on=_day(step, "date", where), amount=amount))
                kinds[new_id] = kinds[target]
        elif kind in ("undo_disbursal", "undo_last_disbursal"):
            if at_disbursement:
                raise FineractInputError(f"{where}.type", "the undo of a disbursement that collected a charge")
            on = business if business is not None else _last_day(events, where)
            # Not in `undone`: Fineract does not list what an undo of disbursement takes back.
            gone = set(undone.values()) | {e.target for e in events if isinstance(e, Reversal)}
            for number, target in enumerate(_undone_by(kind, events, gone), start=1):
                events.append(Reversal(id=f"{event_id}:{number}", on=on, target=target))
        elif kind == "add_charge" and step.get("chargeTimeType") == "DISBURSEMENT":
            if any(isinstance(e, Disbursement) for e in events):
                raise FineractInputError(f"{where}.chargeTimeType", "a disbursement charge is added before the "
                                         "first disbursement")
            at_disbursement.append({**step, "seq": seq})
        elif kind == "add_charge" and step.get("chargeTimeType") == "INSTALMENT_FEE":
            installment_fee = True
            for part in _installment_fee(step, event_id, currency, where, terms, events, business):
                on = part.due_on if business is None or part.due_on < business else business
                events.append(ChargeAdded(id=part.event_id, on=on, amount=part.amount, name=part.name,
                                          penalty=part.penalty, due_on=part.due_on))
                charges.append(part)
        elif kind == "add_charge":
            charge = replace(_charge(step, event_id, currency, where, terms, events), added_on=business)
            on = charge.due_on if business is None or charge.due_on < business else business
            events.append(ChargeAdded(id=event_id, on=on, amount=charge.amount, name=charge.name,
                                      penalty=charge.penalty, due_on=charge.due_on))
            charges.append(charge)
        elif kind == "waive_charge":
            charge_id = ids.get(step.get("target_seq", -1))
            if any(c.part_of == charge_id for c in charges):
                raise FineractInputError(f"{where}.target_seq", "the waiver of an installment or disbursement charge "
                                         "is not reproduced (LoanCharge L734)")
            target_charge = next((c for c in charges if c.event_id == charge_id), None)
            if target_charge is None or charge_id in waived.values():
                raise FineractInputError(f"{where}.target_seq", "names no earlier charge still standing")
            events.append(_waiver(terms, events, target_charge, event_id, business, where))
            kinds[event_id] = "Waive loan charges"
            waived[event_id] = target_charge.event_id
        else:
            raise FineractInputError(f"{where}.type", f"the fineract profile does not replay {kind!r} steps")
        while len(after) < len(events):
            after.append(count)
        dates.append(business)
    pending = None if submitted is None else (submitted, approved)
    return FineractHistory(tuple(events), tuple(after), kinds, tuple(charges), undone, tuple(dates), tuple(cobs),
                           pending, tuple(expected_on), waived, accrue_when_added)


def _fixed_down_payment(terms: Terms | None, earlier: Sequence[Event], tranche: Disbursement) -> Disbursement:
    """A tranche with the down payment it collects fixed as Fineract fixes it: the "Down Payment"
    transaction made on disbursing keeps its amount -- what the loan's state then left to collect
    (150.00 less the 100.00 it was overpaid) -- when a payment before the tranche is undone later
    (LoanDownPayment.feature line 2537).  The first disbursement, and a loan that collects no down
    payment at disbursement, are left to the fold."""
    rule = terms.down_payment if terms is not None else None
    if terms is None or rule is None or not rule.collected_at_disbursement or not any(
            isinstance(e, Disbursement) for e in earlier):
        return tranche
    events = [*earlier, tranche]
    try:
        state = fold(terms, events, as_of=max(e.on for e in events))
    except EventRefused:
        return tranche  # the fold refuses the tranche with its code when the loan is folded
    collected = Money.total((p.amount for p in state.payments if p.event_id == f"{tranche.id}:down_payment"),
                            terms.currency)
    return replace(tranche, down_payment_collected=collected)


def _down_payment_undone(terms: Terms | None, events: list[Event], after: list[int], kinds: dict[str, str],
                         disbursement_id: str | None, where: str) -> str:
    """The automatic down payment of a disbursement made undoable: the disbursement collects
    nothing (`Disbursement.down_payment_collected` zero) and a repayment of what it collected,
    allocated by the loan's strategy as the automatic one is (`DownPayment.collected_by_strategy`),
    follows it, listed as Fineract's "Down Payment" (Loan.feature line 1635); its id is answered,
    for the `Reversal` that undoes it.  `events` and `after` are changed in place."""
    index = next((i for i, e in enumerate(events) if e.id == disbursement_id and isinstance(e, Disbursement)), -1)
    rule = terms.down_payment if terms is not None else None
    if terms is None or rule is None or not rule.collected_at_disbursement or not rule.collected_by_strategy \
            or index < 0:
        raise FineractInputError(f"{where}.disbursement_seq", "names no disbursement with an automatic down payment")
    disbursement = events[index]
    assert isinstance(disbursement, Disbursement)
    target = f"{disbursement.id}:down_payment"
    if target in kinds or any(e.id == target for e in events):
        raise FineractInputError(f"{where}.disbursement_seq", "its down payment is already undone")
    try:
        state = fold(terms, events[:index + 1], as_of=disbursement.on)
    except EventRefused as refused:
        raise FineractInputError(f"{where}.disbursement_seq", f"cannot be replayed: {refused.reason}") from None
    collected = Money.total((p.amount for p in state.payments if p.event_id == target), terms.currency)
    if not collected.is_positive:
        raise FineractInputError(f"{where}.disbursement_seq", "its down payment collected nothing")
    events[index] = replace(disbursement, down_payment_collected=Money.zero(terms.currency))
    events.insert(index + 1, Repayment(id=target, on=disbursement.on, amount=collected))
    after.insert(index + 1, after[index])
    kinds[target] = "Down Payment"
    return target


def _payoff_amount(terms: Terms | None, earlier: Sequence[Event], on: date, where: str) -> Money:
    """What a ``payoff`` step pays: the prepay template's amount on its day (the fold's payoff
    quote; on the progressive calculator's schedule, Fineract's, R4 and §5; on a regenerated
    cumulative schedule, the quote over the regenerated installments)."""
    if terms is None or (terms.progressive is None and terms.cumulative_recalculation is None):
        raise FineractInputError(f"{where}.type", "a payoff is replayed on a loan with interest recalculation only")
    try:
        quote = fold(terms, earlier, as_of=on).payoff
    except EventRefused as refused:
        raise FineractInputError(f"{where}.type", f"the loan cannot be paid off: {refused.reason}") from None
    if quote is None or not quote.total.is_positive:
        raise FineractInputError(f"{where}.type", "nothing to pay off")
    return quote.total


def _waiver(terms: Terms | None, earlier: Sequence[Event], charge: ChargeInfo, event_id: str,
            business: date | None, where: str) -> Waiver:
    """The waiver of `charge`: its amount, on its due date, of the installment that owes it (the
    first regular one due on or after it, or the "N+1" one after the last; asked of the fold)."""
    if terms is None:
        raise FineractInputError(f"{where}.type", "waive_charge needs the loan's terms")
    if business is not None and charge.due_on > business:
        raise FineractInputError(f"{where}.target_seq", "a charge is waived once it has fallen due")
    try:
        state = fold(terms, earlier, as_of=max([charge.due_on, *(e.on for e in earlier)]))
    except EventRefused as refused:
        raise FineractInputError(f"{where}.target_seq", f"the charge cannot be waived: {refused.reason}") from None
    owing = sorted((r for r in state.installments if r.number > 0 and r.due_date >= charge.due_on),
                   key=lambda r: (r.due_date, r.number))
    if not owing:
        raise FineractInputError(f"{where}.target_seq", "no installment owes the charge")
    return Waiver(id=event_id, on=charge.due_on, installment=owing[0].number,
                  component=Component.PENALTY if charge.penalty else Component.FEE, amount=charge.amount)


def _own_strategy(strategies: Mapping[str, AllocationStrategy | None], kind: str, terms: Terms | None,
                  where: str) -> AllocationStrategy | None:
    """The waterfall of a transaction of type `kind` when it is not the loan's (None: the loan's)."""
    if not strategies:
        return None
    strategy = strategies[kind] if kind in strategies else strategies.get("DEFAULT")
    if strategy is None:
        raise FineractInputError(f"{where}.transactionType", f"{kind} is allocated by a future-installment rule "
                                 "the profile does not reproduce")
    if terms is not None and strategy == terms.strategy:
        return None
    return strategy


def _undone_by(kind: str, events: Sequence[Event], gone: set[str]) -> list[str]:
    """The events an undo of disbursement reverses: the last disbursement still standing and
    the transactions recorded after it, or (``undo_disbursal``) every disbursement and every
    transaction (Fineract takes the loan back to approved)."""
    standing = [e for e in events if not isinstance(e, Reversal | ChargeAdded) and e.id not in gone]
    disbursements = [i for i, e in enumerate(standing) if isinstance(e, Disbursement)]
    if not disbursements:
        raise FineractInputError("type", f"{kind}: the loan has no disbursement to undo")
    first = disbursements[-1] if kind == "undo_last_disbursal" else 0
    return [e.id for e in standing[first:]]


def _last_day(events: Sequence[Event], where: str) -> date:
    if not events:
        raise FineractInputError(f"{where}.type", "nothing to undo")
    return max(e.on for e in events)


def _percent_of(step: Mapping[str, Any], where: str, terms: Terms | None, events: Sequence[Event]) -> Money:
    """K12: a specified-due-date charge of a percentage of the disbursed principal (plus, for
    PERCENT_OF_AMOUNT_AND_INTEREST, the loan's total interest on it), rounded HALF_EVEN."""
    kind = step.get("chargeCalculationType")
    if terms is None:
        raise FineractInputError(f"{where}.chargeCalculationType", f"{kind} needs the loan's terms")
    try:
        rate = Decimal(str(step.get("amount")))
    except InvalidOperation:
        raise FineractInputError(f"{where}.amount", "a percentage as a decimal string") from None
    gone = {e.target for e in events if isinstance(e, Reversal)}
    disbursements = [e for e in events if isinstance(e, Disbursement) and e.id not in gone]
    if not disbursements:
        raise FineractInputError(f"{where}.chargeCalculationType", f"{kind}: the loan is not disbursed")
    base = Money.total((d.amount for d in disbursements), terms.currency)
    if kind == "PERCENT_OF_AMOUNT_AND_INTEREST":
        contract = replace(terms.contract, principal=base,
                           periods=replace(terms.contract.periods, start=disbursements[0].on))
        base += build_schedule(contract, calendar=terms.calendar).totals.interest
    return terms.contract.rounding.times(base, Fraction(rate) / 100)


PENALTY_WAIT = timedelta(days=2)
"""Fineract's default ``penalty-wait-period``: an installment is charged as overdue from the
close of business two days after its due date."""


def _overdue_charges(overdue: OverdueCharge, terms: Terms | None, events: Sequence[Event],
                     charges: Sequence[ChargeInfo], business: date, event_id: str, where: str) -> list[ChargeInfo]:
    """The product's overdue charge on each installment overdue at the close of business before
    `business` and not charged yet, with the tenant's defaults (penalty-wait-period 2 days,
    grace-on-penalty-posting 0, backdate-penalties enabled: 0002_initial_data.xml): an unpaid
    installment due at least `PENALTY_WAIT` days before the close of business
    (``retrieveAllOverdueInstallmentsForLoan``, LoanReadPlatformServiceImpl lines 1637-1675)
    is charged once (no fee frequency), the charge due on the installment's due date
    (``applyChargeToOverdueLoanInstallment``, LoanChargeWritePlatformServiceImpl lines
    1038-1105), its amount a percentage of what the installment still owes then (Loan.java
    lines 1436-1445) or flat; a charge of nothing is not added (line 1085)."""
    if terms is None:
        raise FineractInputError(f"{where}.type", "an overdue charge needs the loan's terms")
    gone = {e.target for e in events if isinstance(e, Reversal)}
    if not any(isinstance(e, Disbursement) and e.id not in gone for e in events):
        return []
    cob = business - timedelta(days=1)
    try:
        state = fold(terms, events, as_of=max([cob, *(e.on for e in events)]))
    except EventRefused as refused:
        raise FineractInputError(f"{where}.type", f"the overdue charge cannot be applied: {refused.reason}") from None
    charged = {c.due_on for c in charges if c.event_id.endswith(":overdue")}
    added = []
    for row in state.installments:
        if row.number < 1 or row.due_date > cob - PENALTY_WAIT or row.due_date in charged:
            continue
        owed = row.outstanding
        base = {"amount": owed.principal, "amount_and_interest": owed.principal + owed.interest,
                "interest": owed.interest}.get(overdue.basis)
        amount = (Money.parse(str(overdue.rate), terms.currency) if base is None
                  else terms.contract.rounding.times(base, Fraction(overdue.rate) / 100))
        if amount.is_positive and not row.outstanding.total.is_zero:
            added.append(ChargeInfo(event_id=f"{event_id}:{row.number}:overdue", name=overdue.name,
                                    penalty=overdue.penalty, due_on=row.due_date, amount=amount, added_on=business))
    return added


def _disbursement_charge(step: Mapping[str, Any], disbursement_id: str, on: date, amount: Money,
                         terms: Terms | None, where: str) -> ChargeInfo:
    """A disbursement charge (``chargeTimeType`` DISBURSEMENT, added before the disbursement) on
    one disbursement: its flat amount or a percentage of the amount disbursed (PERCENT_OF_AMOUNT),
    owed and paid on the day (``LoanChargeService``: a charge due at disbursement is paid by the
    "Repayment (at time of disbursement)" transaction)."""
    kind = step.get("chargeCalculationType")
    charge_id = f"e{step['seq']}"
    if kind not in ("FLAT", "PERCENT_OF_AMOUNT"):
        raise FineractInputError(f"{where}.chargeCalculationType", "a disbursement charge is FLAT or PERCENT_OF_AMOUNT")
    if terms is None:
        raise FineractInputError(f"{where}.chargeTimeType", "a disbursement charge needs the loan's terms")
    penalty = step.get("penalty", False)
    name = step.get("name") or step.get("charge")
    if not isinstance(penalty, bool) or not isinstance(name, str) or not name:
        raise FineractInputError(where, "a charge has a name and says whether it is a penalty")
    if kind == "FLAT":
        charged = money(step.get("amount"), terms.currency, f"{where}.amount")
    else:
        try:
            rate = Fraction(Decimal(str(step.get("amount")))) / 100
        except InvalidOperation:
            raise FineractInputError(f"{where}.amount", "a percentage as a decimal string") from None
        charged = terms.contract.rounding.times(amount, rate)
    return ChargeInfo(event_id=f"{charge_id}:{disbursement_id}", name=name, penalty=penalty, due_on=on,
                      amount=charged, part_of=charge_id)


def _installment_fee(step: Mapping[str, Any], event_id: str, currency: str, where: str, terms: Terms | None,
                     events: Sequence[Event], business: date | None) -> list[ChargeInfo]:
    """An installment fee (``chargeTimeType`` INSTALMENT_FEE) as one part per installment of the
    schedule it is added to, each due on its installment's due date: the flat amount, or a
    percentage of the installment's principal (PERCENT_OF_AMOUNT), principal and interest
    (PERCENT_OF_AMOUNT_AND_INTEREST) or interest (PERCENT_OF_INTEREST), each rounded on its own
    (``calculateInstallmentChargeAmount``, Loan.java lines 1023-1034, summed over the
    installments by ``calculatePerInstallmentChargeAmount``, lines 1004-1011).  A down payment
    installment is not charged; nor is the schedule's re-amortisation after the fee is added
    followed (the cases add it to a schedule that stays)."""
    kind = step.get("chargeCalculationType")
    bases = {"FLAT": None, "PERCENT_OF_AMOUNT": (Component.PRINCIPAL,),
             "PERCENT_OF_AMOUNT_AND_INTEREST": (Component.PRINCIPAL, Component.INTEREST),
             "PERCENT_OF_INTEREST": (Component.INTEREST,)}
    if kind not in bases:
        raise FineractInputError(f"{where}.chargeCalculationType",
                                 "FLAT, PERCENT_OF_AMOUNT, PERCENT_OF_AMOUNT_AND_INTEREST or PERCENT_OF_INTEREST")
    if terms is None:
        raise FineractInputError(f"{where}.chargeTimeType", "an installment fee needs the loan's terms")
    if terms.progressive is not None or terms.cumulative_recalculation is not None:
        raise FineractInputError(f"{where}.chargeTimeType", "an installment fee is taken on a schedule that "
                                 "stays (no recalculation)")
    penalty = step.get("penalty", False)
    name = step.get("name") or step.get("charge")
    if not isinstance(penalty, bool) or not isinstance(name, str) or not name:
        raise FineractInputError(where, "a charge has a name and says whether it is a penalty")
    gone = {e.target for e in events if isinstance(e, Reversal)}
    if not any(isinstance(e, Disbursement) and e.id not in gone for e in events):
        raise FineractInputError(f"{where}.chargeTimeType", "an installment fee on a loan not yet disbursed")
    try:
        state = fold(terms, events, as_of=max([*(e.on for e in events), *([business] if business else [])]))
    except EventRefused as refused:
        raise FineractInputError(f"{where}.type", f"the installment fee cannot be added: {refused.reason}") from None
    components = bases[kind]
    parts = []
    for row in sorted((r for r in state.installments if r.number > 0),
                      key=lambda r: r.number):
        if components is None:
            amount = money(step.get("amount"), currency, f"{where}.amount")
        else:
            try:
                rate = Fraction(Decimal(str(step.get("amount")))) / 100
            except InvalidOperation:
                raise FineractInputError(f"{where}.amount", "a percentage as a decimal string") from None
            base = Money.total((row.due.get(c) for c in components), currency)
            amount = terms.contract.rounding.times(base, rate)
        parts.append(ChargeInfo(event_id=f"{event_id}:{row.number}", name=name, penalty=penalty,
                                due_on=row.due_date, amount=amount, added_on=business, part_of=event_id))
    return parts


def _charge(step: Mapping[str, Any], event_id: str, currency: str, where: str, terms: Terms | None = None,
            events: Sequence[Event] = ()) -> ChargeInfo:
    if step.get("chargeTimeType") != "SPECIFIED_DUE_DATE":
        raise FineractInputError(f"{where}.chargeTimeType", "the fineract profile takes SPECIFIED_DUE_DATE charges")
    kind = step.get("chargeCalculationType")
    if kind not in ("FLAT", "PERCENT_OF_AMOUNT", "PERCENT_OF_AMOUNT_AND_INTEREST"):
        raise FineractInputError(f"{where}.chargeCalculationType",
                                 "FLAT, PERCENT_OF_AMOUNT or PERCENT_OF_AMOUNT_AND_INTEREST only")
    penalty = step.get("penalty", False)
    if not isinstance(penalty, bool):
        raise FineractInputError(f"{where}.penalty", "true or false")
    name = step.get("name") or step.get("charge")
    if not isinstance(name, str) or not name:
        raise FineractInputError(f"{where}.name", "a charge has a name")
    amount = (money(step.get("amount"), currency, f"{where}.amount") if kind == "FLAT"
              else _percent_of(step, where, terms, events))
    return ChargeInfo(event_id=event_id, name=name, penalty=penalty, due_on=_day(step, "dueDate", where),
                      amount=amount)
