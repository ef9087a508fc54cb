"""The overdue loans' day, set-based: a partition's loans already past due, brought to the day at once.

About one running loan in ten is past due on a given day. For such a loan `loans.advance` folds its events on
the day, reads the penalty each overdue installment has grown by (`lending.loan.penalties`: the product
version's penalty rule, its grace, the late fee, the cap), records one `penalty` event per installment charged
(`loans.record`: the events read again, folded again with the new event, stored, the loan refreshed, the
entries posted with their audit record) and posts what is left of the day. Per loan that is ~3 ms of CPU and a
dozen statements.

`advance_overdue` does the same for a partition's overdue loans with the reads and writes done once, by
statements (no ORM objects: loading and flushing a `Loan` a loan was half of the day's cost):

* **one query** selects the columns the day reads of the loans, locked as `advance` locks them (active, already
  past due by their kept fold — `dpd > 0` —, the kept fold made from all events on an earlier day), into working
  copies (`_Loan`), and **one** reads all their events' payloads;
* per loan, in Python, exactly what `advance` and `record` compute: the fold on the day, the penalties owed
  (`loans.default_rules` read once per unit of work and product version), for each installment charged the
  event and the fold with it, the loan's cached fold, columns and books moved (`loans.refresh`,
  `loans.drafts_of`: the same functions, on the working copy), then what the day's fold posts beyond the penalties;
* the new events in **one** executemany INSERT, in the order the per-loan path records them (the same ids), and
  the loans' changed columns by one executemany of the per-loan path's UPDATE per set of columns changed — most days
  one (`repository.write_loan_days`: the columns the day changed, as `write_loan` writes those alone, the version
  checked and moved by one as there; the day's folds staged for the fold memo with that version,
  `folds.stage_written`);
* **one** `ledger.posting.post_many` posts every entry of the partition, each by the source the per-loan path
  gives it (`{loan}:{seq}:{basis}` for a penalty, `{loan}:day:{date}:{basis}` for the day), with the same audit
  records (`loan.penalty`, the event and its entries' ids) under one take of the audit chain's head.

Per loan the day is folded at most once: where this process kept the loan's fold of an earlier day over the same
events (the fold memo, `folds.recall_earlier`: yesterday's close in a scheduler that stays up) and that is the fold
of the day — no event value-dated after it, no credit held — it is read on the day without folding anything
(`kernel.fold_later`: the schedule not built again); a penalty charged is added to the day's fold
(`kernel.fold_more`: the penalty stepped over a copy of the kernel's integer columns, exactly the fold of every
event where the penalty comes last, else every event is folded again), and a day without a penalty writes the
cached JSON from the kept one and the day's fields (`day_json`, where that is exactly `state_json` of the fold).
What the loan posts is computed only when a holding moved (`books.entries`). The holdings, the penalties owed and
the columns are summed from the fold's installments and payments in minor units (`lending.loan.minor`: the
kernel's integer columns), not from `Money`.

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
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from microcredit.audit import service as audit
from microcredit.clock import Clock
from microcredit.ledger import service as ledger
from microcredit.lending import loan as core
from microcredit.lending.loan import kernel
from microcredit.lending.loan.fold import reference_fold
from microcredit.lending.money import Money
from microcredit.parties import service as parties
from microcredit.platform.actor import Actor
from microcredit.products import service as products
from microcredit.servicing import repository as repo
from microcredit.servicing.service import accrual, folds, loans

# The columns the day may write back (`loans.refresh`, `loans.drafts_of`, a penalty's `events_count`: everything
# `advance`'s one UPDATE of the loan may change), and those it reads (these among them: a column is written only when
# the day changed it, as the per-loan path's `write_loan` writes).
_WRITTEN = ("status", "state", *accrual.COLUMNS, "state_seq", "state_as_of", "outstanding_principal", "dpd",
            "next_due_date", *accrual.DAY_COLUMNS, "disbursed_on", "closed_on", "updated_at", "books", "events_count")
_READ = ("id", "number", "institution_id", "product_version_id", "currency", "terms", "opened_at", "version",
         *_WRITTEN)


class _Loan:
    """A working copy of an overdue loan's row (`loans.LoanRow`): the columns read, changed by the day, the changed
    ones written back by one statement for the partition (`changes`)."""

    __slots__ = (*_READ, "_was")

    id: int
    number: str
    institution_id: int
    product_version_id: int
    currency: str
    terms: dict[str, Any]
    opened_at: datetime
    version: int
    status: str
    state: dict[str, Any] | None
    state_seq: int
    state_as_of: date | None
    accrued_interest: int | None
    payoff_accrued: int | None
    outstanding_principal: Money
    dpd: int
    next_due_date: date | None
    disbursed_on: date | None
    closed_on: date | None
    books: dict[str, int]
    events_count: int
    updated_at: datetime

    def __init__(self, row: Any) -> None:
        for name, value in zip(_READ, row, strict=True):
            setattr(self, name, value)
        self._was = tuple(getattr(self, name) for name in _WRITTEN)

    def changes(self) -> dict[str, Any]:
        """The columns the day changed, by name, with their new values (those equal to what was read left out)."""
        return {name: now for name, was in zip(_WRITTEN, self._was, strict=True)
                if (now := getattr(self, name)) != was}


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

    loan: _Loan
    payload: dict[str, Any]
    drafts: int


@dataclass
class _Written:
    """What the partition's loans write: the new events' rows, in order, and each loan's fold of the day."""

    events: list[dict[str, Any]] = field(default_factory=list)
    folds: list[tuple[_Loan, core.LoanState]] = field(default_factory=list)


def advance_overdue(*, session: Session, clock: Clock, institution_id: int, day: date, first: int, last: int,
                    only: Collection[int] | None = None) -> OverdueDay:
    """Bring the overdue loans of ids [first, last] (of `only`, when given) to `day` at once (module docstring);
    the rest are left to `loans.advance`."""
    report = OverdueDay()
    if parties.organisation.business_date(session=session, institution_id=institution_id) != day:
        return report  # `record` dates a penalty's business date by the institution's: leave it to `advance`
    rows = [_Loan(row) for row in repo.overdue_rows(session, institution_id=institution_id, day=day, first=first,
                                                    last=last, columns=_READ)
            if only is None or row.id in only]
    if not rows:
        return report
    events = repo.stored_events_of_loans(session, [loan.id for loan in rows])
    actor = Actor.system(institution_id)
    drafts: list[ledger.posting.Draft] = []
    audited: list[_Audited] = []
    written = _Written()
    for loan in rows:
        drafts_before = len(drafts)
        charged = _day(session, clock, actor, loan, events[loan.id], day, drafts, audited, written)
        report.advanced.append(loan.id)
        report.penalties += charged
        report.entries += len(drafts) - drafts_before
    repo.insert_events(session, written.events)
    # Each loan's changed columns, the loans that changed the same ones written by one statement (a day moves at least
    # `state_as_of`: a loan with nothing changed is not written, its version kept, as the flush would).
    alike: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    moved: dict[int, int] = {}
    for loan in rows:
        changed = loan.changes()
        if changed:
            alike.setdefault(tuple(changed), []).append({"id": loan.id, "version": loan.version, **changed})
            moved[loan.id] = loan.version + 1
    for same in alike.values():
        repo.write_loan_days(session, same)
    for loan, state in written.folds:  # stamped with the version the row now has (`write_loan_days` moved it)
        folds.stage_written(session, loan_id=loan.id, on=day, events_count=loan.events_count,
                            version=moved.get(loan.id, loan.version), state=state)

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
    elif audited:
        audit.record_many(session=session, clock=clock, actor=actor, entries=audit_records(()))
    return report


def _day(session: Session, clock: Clock, actor: Actor, loan: _Loan, stored: Sequence[loans.StoredEvent], day: date,
         drafts: list[ledger.posting.Draft], audited: list[_Audited], written: _Written) -> int:
    """One loan's day as `loans.advance` does it (and `loans.record` each penalty), its entries' drafts and its
    penalties' audit records appended in the order the per-loan path posts them, its new events' rows and its fold
    to `written`; the penalties it charged."""
    terms = loans.core_terms(session, loan)
    kept = folds.recall(session, loan, day)
    folded: kernel.KernelFold | None = None
    events = loans.core_events(stored)
    day_events = events
    if kept is not None:
        state = kept
    else:
        # Yesterday's fold, kept by this process, read on the day where that is the fold of the day (`fold_later`).
        earlier = folds.recall_earlier(session, loan, day)
        folded = None if earlier is None else kernel.fold_later(earlier, events, as_of=day)
        if folded is not None:
            state = folded.state()
        else:
            folded, state = _fold(terms, events, day)
    cached = accrual.cached_state_of(loan)  # the kept fold's JSON (of an earlier day: `overdue_rows`)
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
        day_events = [*day_events, charge]
        if more is not None:
            folded, state = more, more.state()
        else:
            folded, state = _fold(terms, day_events, day)
        seq = loan.events_count + 1
        payload = item.model_dump(mode="json", exclude_none=True)
        written.events.append({"loan_id": loan.id, "seq": seq, "event_id": item.id, "type": "penalty",
                               "value_date": day, "business_date": day, "payload": payload, "idempotency_key": None,
                               "recorded_at": clock.now(), "user_id": actor.user_id, "reference": None, "note": None})
        loans.keep_event(loan.id, seq, payload, charge)  # what the stored payload makes (as `record` keeps it)
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
        snapshot = day_json(cached, state, events) if folded is not None and cached is not None else None
        loans.refresh(loan, state, clock, loan.events_count, terms, snapshot=snapshot)
    written.folds.append((loan, state))
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
