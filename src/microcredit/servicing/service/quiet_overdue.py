"""The overdue loans' day, set-based: a partition's loans already past due, brought to the day at once.

About one running loan in ten is past due on a given day. For such a loan `loans.advance` folds its events on
the day, reads the penalty each overdue installment has grown by (`lending.loan.penalties`: the product
version's penalty rule, its grace, the late fee, the cap), records one `penalty` event per installment charged
(`loans.record`: the events read again, folded again with the new event, stored, the loan refreshed, the
entries posted with their audit record) and posts what is left of the day. Per loan that is ~3 ms of CPU and a
dozen statements.

`advance_overdue` does the same for a partition's overdue loans with the reads and writes done once:

* **one query** selects the loans locked as `advance` locks them (active, already past due by their kept fold —
  `dpd > 0` —, the kept fold made from all events on an earlier day), and **one** reads all their events;
* per loan, in Python, exactly what `advance` and `record` compute: the fold on the day, the penalties owed
  (`loans.default_rules` read once per unit of work and product version), for each installment charged the
  event and the fold with it, the loan's cached fold, columns and books moved (`loans.refresh`,
  `loans.drafts_of`: the same functions), then what the day's fold posts beyond the penalties;
* **one** `ledger.posting.post_many` posts every entry of the partition, each by the source the per-loan path
  gives it (`{loan}:{seq}:{basis}` for a penalty, `{loan}:day:{date}:{basis}` for the day), with the same audit
  records (`loan.penalty`, the event and its entries' ids) under one take of the audit chain's head; the
  events and the loans' UPDATEs are written by that one flush.

Per loan the day is folded once: a penalty charged is added to the day's fold (`kernel.fold_more`: the penalty
stepped over a copy of the kernel's integer columns, exactly the fold of every event where the penalty comes last,
else every event is folded again), and a day without a penalty writes the cached JSON from the kept one and the
day's fields (`day_json`, where that is exactly `state_json` of the fold). What the loan posts is computed only when
a holding moved (`books.entries`).

The fold is the engine's (the reference itself, not a formula that must agree with it), so the figures are the
per-loan path's by construction; what the batch changes is the I/O and the order in which the partition's
entries and audit records are written (loan by loan either way). A loan whose day raises, or whose business
date is not the institution's, is left to `advance` (the whole set-based part rolls back and every loan goes
one by one). Idempotent and resumable as the per-loan path: a loan already on the day is not selected again
(its kept fold's date is not before the day); a task killed before its commit changed nothing.

The first day a loan is past due (its row's `dpd` still 0: the fold of the due date) goes through `advance`,
and so does any loan the row does not show as current (`state_seq != events_count`).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from microcredit.audit import service as audit
from microcredit.clock import Clock
from microcredit.ledger import service as ledger
from microcredit.lending import loan as core
from microcredit.lending.loan import kernel
from microcredit.lending.loan.fold import reference_fold
from microcredit.parties import service as parties
from microcredit.platform.actor import Actor
from microcredit.products import service as products
from microcredit.servicing import repository as repo
from microcredit.servicing.models import Loan, LoanEvent
from microcredit.servicing.service import accrual, folds, loans


@dataclass
class OverdueDay:
    """What `advance_overdue` did: the loans it brought to the day, the penalty events it recorded and the entries
    it posted."""

    advanced: list[int] = field(default_factory=list)
    penalties: int = 0
    entries: int = 0


@dataclass
class _Audited:
    """A penalty event's audit record, with how many of the partition's drafts are its entries."""

    loan: Loan
    payload: dict[str, Any]
    drafts: int


def advance_overdue(*, session: Session, clock: Clock, institution_id: int, day: date, first: int, last: int,
                    only: Collection[int] | None = None) -> OverdueDay:
    """Bring the overdue loans of ids [first, last] (of `only`, when given) to `day` at once (module docstring);
    the rest are left to `loans.advance`."""
    report = OverdueDay()
    if parties.organisation.business_date(session=session, institution_id=institution_id) != day:
        return report  # `record` dates a penalty's business date by the institution's: leave it to `advance`
    rows = [loan for loan in repo.overdue_candidates(session, institution_id=institution_id, day=day, first=first,
                                                     last=last)
            if only is None or loan.id in only]
    if not rows:
        return report
    events = repo.events_of_loans(session, [loan.id for loan in rows])
    actor = Actor.system(institution_id)
    drafts: list[ledger.posting.Draft] = []
    audited: list[_Audited] = []
    for loan in rows:
        drafts_before = len(drafts)
        charged = _day(session, clock, actor, loan, events[loan.id], day, drafts, audited)
        report.advanced.append(loan.id)
        report.penalties += charged
        report.entries += len(drafts) - drafts_before

    def audit_records(entries: Sequence[Any]) -> list[audit.Entry]:
        out, at = [], 0
        for one in audited:
            mine = entries[at:at + one.drafts] if one.drafts else ()
            at += one.drafts
            out.append(audit.Entry(action="loan.penalty", entity_type="loan", entity_id=one.loan.id,
                                   institution_id=institution_id,
                                   after={"event": one.payload, "reference": None, "entries": [e.id for e in mine],
                                          "status": one.loan.status}))
        return out

    if drafts:
        ledger.posting.post_many(session=session, clock=clock, actor=actor, institution_id=institution_id,
                                 business_date=day, drafts=drafts, not_after=day, then=audit_records)
    else:
        if audited:
            audit.record_many(session=session, clock=clock, actor=actor, entries=audit_records(()))
        session.flush()
    return report


def _day(session: Session, clock: Clock, actor: Actor, loan: Loan, rows: list[LoanEvent], day: date,
         drafts: list[ledger.posting.Draft], audited: list[_Audited]) -> int:
    """One loan's day as `loans.advance` does it (and `loans.record` each penalty), its entries' drafts and its
    penalties' audit records appended in the order the per-loan path posts them; the penalties it charged."""
    terms = loans.core_terms(session, loan)
    kept = folds.recall(session, loan, day)
    folded: kernel.KernelFold | None = None
    events = loans.core_events(rows)
    if kept is not None:
        state = kept
    else:
        folded, state = _fold(terms, events, day)
    stored = accrual.cached_state_of(loan)  # the kept fold's JSON (of an earlier day: `overdue_candidates`)
    rules = loans.default_rules(session, loan, terms)
    owed = core.penalties_owed(state, contract_rate=terms.contract.annual_rate, rule=rules.penalty,
                               rounding=terms.contract.rounding, as_of=day, late_fee_rule=rules.late_fee,
                               cap=rules.cap, overdue_earns_interest=terms.recalculation is not None)
    charged = 0
    for one in owed:
        if not one.to_charge.is_positive:
            continue
        item = loans.event_item(type="penalty", id=f"n{loan.events_count + 1}", on=day,
                                installment=one.installment, amount=one.to_charge)
        charge = products.replay.event_of(item)
        # The day's fold with the penalty added, not every event folded again, where that is the same (`fold_more`).
        more = None if folded is None else kernel.fold_more(folded, [charge])
        if more is not None:
            folded, state = more, more.state()
        else:
            folded, state = _fold(terms, [*loans.core_events(rows), charge], day)
        seq = loan.events_count + 1
        payload = item.model_dump(mode="json", exclude_none=True)
        event = LoanEvent(loan_id=loan.id, seq=seq, event_id=item.id, type="penalty", value_date=day,
                          business_date=day, payload=payload, idempotency_key=None, recorded_at=clock.now(),
                          user_id=actor.user_id, reference=None, note=None)
        repo.stage(session, event)
        rows = [*rows, event]
        loan.events_count = seq
        loans.refresh(loan, state, clock, seq, terms)
        mine = loans.drafts_of(loan, state, channel="internal", source=f"{loan.id}:{seq}", what="penalty",
                               memo=f"{loan.number} {item.id}")
        drafts.extend(mine)
        audited.append(_Audited(loan, payload, len(mine)))
        charged += 1
    drafts.extend(loans.drafts_of(loan, state, channel="internal", source=f"{loan.id}:day:{day.isoformat()}",
                                  what="advance", memo=f"{loan.number} {day.isoformat()}"))
    if not charged:
        # No event: the JSON of the day from the kept one and the day's fields where that is the same (`day_json`).
        snapshot = day_json(stored, state, events) if folded is not None and stored is not None else None
        loans.refresh(loan, state, clock, loan.events_count, terms, snapshot=snapshot)
    folds.stage(session, loan, day, loan.events_count, state)
    return charged


def _fold(terms: core.Terms, events: list[core.Event], day: date) -> tuple[kernel.KernelFold | None, core.LoanState]:
    """`core.fold`, with the kernel's fold kept when the kernel folded it (a penalty is then added to it)."""
    folded = kernel.try_fold(terms, events, as_of=day)
    return folded, folded.state() if folded is not None else reference_fold(terms, events, as_of=day)


# The fields of the cached fold's JSON (`products.replay.state_json`) that a day with no event and no due date can
# change, with how each is written there; the rest (the installments, payments, disbursements, totals ...) is the
# stored JSON's (`day_json`).
_DAY_FIELDS = ("as_of", "status", "credit_balance", "accrued_interest", "interest_base", "dpd", "bucket",
               "classification", "payoff")


def day_json(stored: dict[str, Any], state: core.LoanState, events: Sequence[core.Event]) -> dict[str, Any] | None:
    """The cached fold's JSON of `state` made from `stored` (the JSON of the same loan's fold of an earlier day over
    the same `events`, all of them, as `state`) and `state`'s day fields alone, or None where that is not known to be
    `state_json(state)`.

    Without an event value-dated between the two days, a loan the kernel folds keeps its installments, payments,
    disbursements and totals: they are its integer columns, moved only by events and by credit used on a due
    date. So when no installment falls due after the stored day through `state`'s (nor a period ends: a due date
    is checked, and the projected schedule must be none on both), and no credit is held, only the day fields
    change — `tests/unit/servicing/test_day_json.py` holds this to `state_json` over random histories and days.
    The close of business's overdue day (`_day`) then formats ~10 fields a loan instead of the whole fold."""
    if stored.get("projected_schedule") is not None or state.projected_schedule is not None:
        return None
    if stored.get("credit_balance") != "0.00" or state.credit_balance.minor != 0:
        return None
    before = date.fromisoformat(stored["as_of"])
    if before >= state.as_of or any(event.on > before for event in events):
        return None
    if any(before < date.fromisoformat(row["due_date"]) <= state.as_of for row in stored["installments"]):
        return None
    moved = dict(stored)
    moved.update({
        "as_of": state.as_of.isoformat(),
        "status": state.status.value,
        "credit_balance": str(state.credit_balance),
        "accrued_interest": str(state.accrued_interest),
        "interest_base": str(state.interest_base),
        "dpd": state.dpd,
        "bucket": state.bucket.name,
        "classification": state.classification.category.name.lower(),
        "payoff": products.replay.payoff_json(state),
    })
    return moved
