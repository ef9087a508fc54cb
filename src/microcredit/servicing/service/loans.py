"""Loans: opened from an approved application, moved by events, each movement posted in the same transaction.

Every operation runs in the caller's unit of work and follows one path (`record`):
lock the loan row; an idempotency key already used on the loan gives back the event it
recorded (the same request again changes nothing; another request under the same key
is refused); fold the stored events plus the new one on the business date — the
engine refuses what the loan cannot take, naming the field; store the event; post the
difference between what the books held for the loan and what the fold now says
(`servicing.books`), one entry per book, through the ledger's `post`; refresh the
cached state and the columns lists read; audit. A failure anywhere rolls all of it
back: the loan change and its entries commit together or not at all.

`advance` moves a loan to a later business date (what the close of business does each
day): penalty interest on what is overdue is charged as `penalty` events
(`charge_penalties`), then the fold on the new date may have used credit on a due date
or made interest due, and the accrual book recognises it.
"""

from __future__ import annotations

import pickle
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Protocol, cast

from pydantic import TypeAdapter
from sqlalchemy.orm import Session

from microcredit.audit import service as audit
from microcredit.clock import Clock
from microcredit.contracts import service as contracts
from microcredit.errors import NotFound
from microcredit.identity import scope
from microcredit.identity import service as identity
from microcredit.identity.principal import Principal
from microcredit.ledger import service as ledger
from microcredit.ledger.chart import DEFAULT_POSTING_MAP, PostingMap
from microcredit.lending import loan as core
from microcredit.lending.calendar import WEEKENDS_ONLY, HolidayCalendar
from microcredit.lending.delinquency import ChargeCap, LateFeeRule, PenaltyBasis, PenaltyRule
from microcredit.lending.loan.minor import installments as minor_installments
from microcredit.lending.money import Money, percent
from microcredit.notifications import service as notifications
from microcredit.origination import service as origination
from microcredit.parties import service as parties
from microcredit.platform.actor import Actor
from microcredit.platform.idempotency import IdempotencyKeyReused
from microcredit.platform.paging import PageRequest, PageResult, order_by, paginate
from microcredit.platform.todo import Todo
from microcredit.products import service as products
from microcredit.products.schemas import (
    EventItem,
    LoanDescription,
    LoanReplay,
    PlannedDisbursementItem,
    ReversalItem,
    ServicingConventions,
)
from microcredit.products.service import CalendarProvider
from microcredit.servicing import books
from microcredit.servicing import repository as repo
from microcredit.servicing.errors import (
    ApplicationNotApproved,
    ContractNotSigned,
    LoanAlreadyOpened,
    LoanEventNotTaken,
    LoanWrongState,
    PayoutInProgress,
    ValueDateInFuture,
)
from microcredit.servicing.models import Loan, LoanEvent
from microcredit.servicing.service import accrual, folds

_EVENT: TypeAdapter[Any] = TypeAdapter(EventItem)
CALENDAR_YEARS = 50  # the longest term a product allows (600 months), from the year the loan is opened
SORTS = {"id": Loan.id, "number": Loan.number, "disbursed_on": Loan.disbursed_on, "dpd": Loan.dpd,
         "outstanding_principal": Loan.outstanding_principal}
STATUS_OF = {core.LoanStatus.APPROVED: "pending_disbursement", core.LoanStatus.ACTIVE: "active",
             core.LoanStatus.CLOSED: "closed", core.LoanStatus.OVERPAID: "overpaid",
             core.LoanStatus.WRITTEN_OFF: "written_off"}
# The statuses each kind of event may be recorded in.
ALLOWED = {"disbursement": {"pending_disbursement", "active"}, "repayment": {"active", "overpaid"},
           "prepayment": {"active"}, "reversal": {"active", "closed", "overpaid", "written_off"},
           "recovery": {"written_off"}, "waiver": {"active", "overpaid"}, "deferral": {"active"},
           "rescheduling": {"active"}, "write_off": {"active", "overpaid"}, "refund": {"active", "overpaid"},
           "penalty": {"active", "overpaid"}, "acceleration": {"active"}}
PREFIX = {"disbursement": "d", "repayment": "r", "prepayment": "p", "reversal": "x", "recovery": "v", "penalty": "n",
          "acceleration": "a"}
WORDS = {"disbursement": ("放款", "disbursement"), "repayment": ("还款", "repayment"),
         "prepayment": ("提前还款", "prepayment"), "reversal": ("冲正", "reversal"), "advance": ("日终", "day end"),
         "recovery": ("核销后收回", "recovery"), "waiver": ("减免", "waiver"), "deferral": ("展期", "deferral"),
         "rescheduling": ("重新安排还款计划", "rescheduling"), "write_off": ("核销", "write-off"),
         "refund": ("退还溢缴款", "credit refund"), "penalty": ("罚息", "penalty interest"),
         "acceleration": ("宣布提前到期", "acceleration")}


class LoanRow(Protocol):
    """A loan as the functions `advance` shares with the close of business's set-based overdue day read and set it
    (`core_terms`, `default_rules`, `refresh`, `drafts_of`): the ORM's `Loan`, or a working copy of the columns of its
    row read by a statement (`quiet_overdue`), written back by one."""

    id: int
    number: str
    institution_id: int
    product_version_id: int
    currency: str
    terms: dict[str, Any]
    opened_at: datetime
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
    version: int
    updated_at: datetime


class StoredEvent(Protocol):
    """A stored event as the engine's events are made from it: the ORM's `LoanEvent`, or its row read by a
    statement."""

    @property
    def loan_id(self) -> int: ...

    @property
    def seq(self) -> int: ...

    @property
    def payload(self) -> dict[str, Any]: ...


class PostedEntry(Protocol):
    """An entry the ledger posted (its id and book)."""

    @property
    def id(self) -> int: ...

    @property
    def basis(self) -> str: ...


@dataclass(frozen=True)
class Recorded:
    """What recording an event did: the loan, the event, the state after it, the entries posted
    (none when `repeated`: the idempotency key had already recorded it), and the loan's events then
    (the answer shows them without reading them again)."""

    loan: Loan
    event: LoanEvent
    state: core.LoanState
    entries: tuple[PostedEntry, ...]
    repeated: bool = False
    events: tuple[LoanEvent, ...] | None = None  # the loan's events after it, when recording read them
    # `state` as the API writes it (the loan's stored snapshot, `products.replay.state_json`), when recording made it
    state_json: dict[str, Any] | None = None


# --- opening ---------------------------------------------------------------------------------


def open_loan(*, session: Session, clock: Clock, actor: Actor, institution_id: int, application_id: int) -> Loan:
    """Open the loan of an approved application, on the terms of its product version (not yet disbursed)."""
    application = origination.handover.application_for_loan(session=session, institution_id=institution_id,
                                                            application_id=application_id)
    if application.status != "approved" or application.annual_rate_percent is None:
        raise ApplicationNotApproved(field="application_id")
    existing = repo.by_application(session, application.id)
    if existing is not None:
        raise LoanAlreadyOpened(field="application_id", params={"number": existing.number})
    today = parties.organisation.business_date(session=session, institution_id=institution_id)
    version = products.catalogue.version_by_id(session=session, version_id=application.product_version_id)
    terms = products.catalogue.terms_of(version)
    description = products.caps.description_of(
        terms, amount=application.amount, term=application.term, method=application.repayment_method,
        annual_rate=Decimal(application.annual_rate_percent), start=today)
    # A group member's loan repaid once per meeting falls due on the group's meetings (kept: `meetings`).
    description, sync = origination.handover.synced_description(session=session, application=application,
                                                                description=description)
    plan = [t.model_dump(mode="json") for t in terms.planned_tranches]
    conventions = ServicingConventions(strategy=terms.allocation_strategy, dpd_grace_days=terms.penalty.grace_days,
                                       recalculation=terms.recalculation, tranches=terms.tranches,
                                       down_payment_percent=terms.down_payment_percent,
                                       down_payment_collected=terms.down_payment_collected,
                                       expected_disbursements=planned_payouts(plan, application.amount, today))
    now = clock.now()
    calendar = products.calendar.holiday_calendar(
        session=session, institution_id=institution_id, first=date(today.year, 1, 1),
        last=date(min(today.year + CALENDAR_YEARS, products.calendar.LAST_YEAR), 12, 31))
    loan = Loan(institution_id=institution_id, branch_id=application.branch_id, borrower_id=application.borrower_id,
                borrower_user_id=application.borrower_user_id, application_id=application.id,
                number=f"L-{application.number}", product_code=application.product_code,
                product_version_id=application.product_version_id, currency=terms.currency,
                principal=application.amount,
                terms={**_terms_json(description, conventions, calendar),
                       "default_charges_cap_percent": f"{_cap_in_force(session, institution_id, today):f}",
                       **({"accounts": dict(terms.accounts)} if terms.accounts else {}),
                       **({"planned_tranches": plan} if plan else {}),
                       **({"meetings": sync.as_json()} if sync is not None else {}),
                       **({"repayment_approval_above": str(terms.repayment_approval_above)}
                          if terms.repayment_approval_above is not None else {}),
                       **({"change_approval_above": str(terms.change_approval_above)}
                          if terms.change_approval_above is not None else {})},
                status="pending_disbursement", opened_at=now, opened_by_user_id=actor.user_id,
                books=books.empty(), outstanding_principal=Money.zero(terms.currency), updated_at=now)
    repo.add(session, loan)
    audit.record(session=session, clock=clock, actor=actor, action="loan.opened", entity_type="loan",
                 entity_id=loan.id, institution_id=institution_id,
                 after={"number": loan.number, "application_id": application.id, "principal": str(loan.principal),
                        "annual_rate_percent": application.annual_rate_percent})
    return loan


def planned_payouts(plan: list[dict[str, Any]], principal: Money, first: date) -> list[Any]:
    """The product's planned payouts (`ProductTerms.planned_tranches`: days after the first payout, percent
    of the approved amount) as the engine's planned disbursements of a loan of `principal` first paid out on
    `first`: each share rounded half up to the fen (a share of nothing left out); a plan of the whole amount
    gives the last the rest."""
    out, left = [], principal.minor
    for i, tranche in enumerate(plan):
        share = (principal.minor * Decimal(tranche["percent"]) / 100).to_integral_value(ROUND_HALF_UP)
        whole = sum(Decimal(t["percent"]) for t in plan) == 100
        minor = left if whole and i == len(plan) - 1 else min(int(share), left)
        left -= minor
        if minor == 0:  # a share of less than half a fen: nothing to pay out
            continue
        out.append(PlannedDisbursementItem.model_validate({
            "on": (first + timedelta(days=int(tranche["after_days"]))).isoformat(),
            "amount": str(Money(minor, principal.currency))}))
    return out


def next_planned(session: Session, loan: Loan) -> Money | None:
    """The amount of the next planned payout not yet made (the n-th made meets the n-th planned), if any."""
    planned = loan.terms.get("servicing", {}).get("expected_disbursements") or []
    made = 0 if loan.status == "pending_disbursement" else len(state_of(session=session, loan=loan).disbursements)
    return Money.parse(planned[made]["amount"], loan.currency) if made < len(planned) else None


def _terms_json(description: LoanDescription, conventions: ServicingConventions,
                calendar: HolidayCalendar) -> dict[str, Any]:
    return {"terms": description.model_dump(mode="json", exclude_none=True),
            "servicing": conventions.model_dump(mode="json", exclude_none=True),
            "calendar": {"holidays": sorted(d.isoformat() for d in calendar.holidays),
                         "working_days": sorted(d.isoformat() for d in calendar.working_days),
                         "covered_years": sorted(calendar.covered_years)}}


def _pinned(loan: LoanRow) -> CalendarProvider:
    """The holiday calendar the loan was made under, as the institution's was when it was opened.

    Due dates are part of the contract: a holiday the institution adds later must not move the
    dates of loans already made, so the loan keeps its own copy (and the fold reads no table).

    The copy goes by the name the terms ask for (the institution's calendar's), not the loan's: two loans pinned
    to the same holidays have equal calendars, so the plans of their periods are made once for both
    (`periods.generate_periods` is memoised on its arguments; a calendar named after each loan missed it for every
    loan, and a cold close of business built every overdue loan's periods again)."""
    kept = loan.terms.get("calendar") or {}
    holidays = frozenset(date.fromisoformat(d) for d in kept.get("holidays", []))
    working_days = frozenset(date.fromisoformat(d) for d in kept.get("working_days", []))
    covered_years = frozenset(kept.get("covered_years", []))
    made: dict[str, HolidayCalendar] = {}

    def provide(name: str, first: date, last: date) -> HolidayCalendar:
        if name == "none":
            return WEEKENDS_ONLY
        calendar = made.get(name)
        if calendar is None:
            calendar = made[name] = HolidayCalendar(name=name, holidays=holidays, working_days=working_days,
                                                    covered_years=covered_years, weekend=products.calendar.WEEKEND)
        return calendar

    return provide


# --- reading ---------------------------------------------------------------------------------


def get(*, session: Session, institution_id: int, loan_id: int, for_update: bool = False) -> Loan:
    """A loan of the institution (not found: another institution's, or none)."""
    loan = repo.get(session, loan_id, for_update=for_update)
    if loan is None or loan.institution_id != institution_id:
        raise NotFound(field="loan_id")
    return loan


def _locked(session: Session, institution_id: int, loan_id: int, locked: Loan | None) -> Loan:
    """`get(..., for_update=True)`, or the loan the caller has just read locked (the same checks on it)."""
    if locked is None:
        return get(session=session, institution_id=institution_id, loan_id=loan_id, for_update=True)
    if locked.id != loan_id or locked.institution_id != institution_id:
        raise NotFound(field="loan_id")
    return locked


def _replay(loan: LoanRow, as_of: date) -> LoanReplay:
    return LoanReplay.model_validate({"terms": loan.terms["terms"], "servicing": loan.terms["servicing"],
                                      "events": [], "as_of": as_of.isoformat()})


class Parsed:
    """What this process made of stored JSON (a loan's terms, its events; an event's read), by key, with the JSON
    it came from.

    Parsing a stored event or a loan's terms through the API's pydantic models is most of a fold's cost
    on a loan with a few dozen events, and the result is a frozen value that depends on that JSON
    alone. A kept value answers only while the stored JSON is still equal to what it was made from (a
    dict comparison, far cheaper than the parse), so a key reused after a rollback, in another
    database, or a row changed by another process is parsed again: never a stale value."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._kept: dict[Any, tuple[Any, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: Any, source: Any, make: Callable[[], Any]) -> Any:
        kept = self._kept.get(key)
        if kept is not None and kept[0] == source:
            return kept[1]
        value = make()
        self.keep(key, source, value)
        return value

    def keep(self, key: Any, source: Any, value: Any) -> None:
        """Keep `value` as what `source` makes (made by the caller from it, as `get`'s `make` would)."""
        # What the value was made from, not an object someone may change: a copy by pickle, which the C pickler
        # makes in ~a third of `copy.deepcopy`'s time (a loan's terms: ~47 -> ~21 µs).
        kept_source = pickle.loads(pickle.dumps(source, pickle.HIGHEST_PROTOCOL))  # noqa: S301 (our own bytes)
        with self._lock:
            if len(self._kept) >= self.max_entries:
                self._kept.pop(next(iter(self._kept)), None)  # the oldest kept
            self._kept[key] = (kept_source, value)


_TERMS = Parsed(max_entries=20_000)
_EVENTS = Parsed(max_entries=200_000)


def core_terms(session: Session, loan: LoanRow) -> core.Terms:
    """The engine's terms of a loan (its contract, with the holiday calendar it was made under)."""
    return cast(core.Terms, _TERMS.get(
        loan.id, (loan.terms, loan.opened_at, loan.number),
        lambda: products.replay.terms_of(_replay(loan, loan.opened_at.date()), _pinned(loan))))


def core_events(rows: Sequence[StoredEvent]) -> list[core.Event]:
    """The engine's events of stored event rows."""
    return [_core_event(row) for row in rows]


def keep_event(loan_id: int, seq: int, payload: dict[str, Any], event: core.Event) -> None:
    """Keep `event` as what the stored `payload` of the loan's event `seq` makes (the caller made the payload from
    the event's item and the event from the same item: `record` does it too), so the next reader does not parse it."""
    _EVENTS.keep((loan_id, seq), payload, event)


def _core_event(row: StoredEvent) -> core.Event:
    return cast(core.Event, _EVENTS.get((row.loan_id, row.seq), row.payload,
                                        lambda: products.replay.event_of(_EVENT.validate_python(row.payload))))


def state_of(*, session: Session, loan: Loan, as_of: date | None = None) -> core.LoanState:
    """The loan's state on `as_of` (default: the institution's business date), folded from its events
    (or the same fold made earlier in this process from the loan as it still is: `folds`)."""
    day = as_of or parties.organisation.business_date(session=session, institution_id=loan.institution_id)
    return _fold(session, loan, day)


def _fold(session: Session, loan: Loan, day: date, terms: core.Terms | None = None) -> core.LoanState:
    kept = folds.recall(session, loan, day)
    if kept is not None:
        return kept
    rows = repo.events_of(session, loan.id)
    state = core.fold(terms or core_terms(session, loan), core_events(rows), as_of=day)
    folds.stage(session, loan, day, len(rows), state)
    return state


# --- recording events ------------------------------------------------------------------------


def disburse(*, session: Session, clock: Clock, actor: Actor, institution_id: int, loan_id: int, on: date | None,
             amount: Money | None = None, channel: str = "bank_transfer", reference: str | None = None,
             idempotency_key: str | None = None, notify: bool = True) -> Recorded:
    """Pay the loan out (the whole principal unless `amount`, a tranche): the schedule starts on the day paid.
    `notify` False: the borrower is not told (back-dated history the demo builds; `record`)."""
    loan = get(session=session, institution_id=institution_id, loan_id=loan_id, for_update=True)
    if idempotency_key is None or repo.event_by_key(session, loan.id, idempotency_key) is None:
        ensure_contract_signed(session, loan)
    today = parties.organisation.business_date(session=session, institution_id=institution_id)
    day = on or today
    if loan.status == "pending_disbursement" and loan.events_count == 0 and loan.terms["terms"]["start_date"] != \
            day.isoformat():
        # The schedule runs from the day the money actually leaves, not the day the loan was opened,
        # and the product's planned tranches are dated from it.
        servicing = loan.terms["servicing"]
        if loan.terms.get("planned_tranches"):
            planned = planned_payouts(loan.terms["planned_tranches"], loan.principal, day)
            servicing = {**servicing, "expected_disbursements": [p.model_dump(mode="json") for p in planned]}
        dated = {**loan.terms["terms"], "start_date": day.isoformat()}
        meetings = loan.terms.get("meetings") or {}
        if meetings.get("synced"):
            # Due on the meetings of the schedule the loan was made with (a later change moves no loan).
            dated["first_due_date"] = parties.meetings.synced_first_due(meetings["schedule"], day).isoformat()
        loan.terms = {**loan.terms, "terms": dated, "servicing": servicing}
    amount = amount or next_planned(session, loan) or loan.principal
    item = event_item(type="disbursement", id=_next_id(loan, "disbursement"), on=day, amount=amount, channel=channel)
    return record(session, clock, actor, loan, item, key=idempotency_key, reference=reference, today=today,
                  notify=notify)


@dataclass(frozen=True)
class Cancelled:
    """What a cancellation before payout changed."""

    application_id: int
    loan: Loan | None
    contract_number: str | None


def cancel_before_payout(*, session: Session, clock: Clock, actor: Actor, institution_id: int, application_id: int,
                         note: str) -> Cancelled:
    """An approved application called off before any money went out (the borrower no longer wants the
    loan, or staff found a reason not to pay): its loan, if one was opened and nothing was paid out or
    is on its way, becomes `cancelled`; its contract is voided; the application is withdrawn with the
    reason. All in the caller's transaction; refused (changing nothing) once a payout was requested."""
    application = origination.handover.application_for_loan(session=session, institution_id=institution_id,
                                                            application_id=application_id)
    loan = repo.by_application(session, application.id)
    if loan is not None:
        loan = get(session=session, institution_id=institution_id, loan_id=loan.id, for_update=True)
        if loan.status != "pending_disbursement":
            raise LoanWrongState(status=loan.status, action="cancellation")
        busy = next((p for p in repo.payments_of_loan(session, loan.id)
                     if p.purpose == "disbursement" and p.status in ("requested", "confirmed")), None)
        if busy is not None:
            raise PayoutInProgress(field="application_id", params={"status": busy.status})
        loan.status, loan.updated_at = "cancelled", clock.now()
        audit.record(session=session, clock=clock, actor=actor, action="loan.cancelled", entity_type="loan",
                     entity_id=loan.id, institution_id=institution_id, before={"status": "pending_disbursement"},
                     after={"status": "cancelled", "number": loan.number, "note": note})
    origination.handover.cancel_approved(session=session, clock=clock, actor=actor, institution_id=institution_id,
                                         application_id=application.id, note=note)
    contract = contracts.contracts.void(session=session, clock=clock, actor=actor, application_id=application.id,
                                        note=note)
    notifications.notify_user(session, clock=clock, institution_id=institution_id,
                              user_id=application.borrower_user_id, template="loan_cancelled",
                              params={"number": application.number}, subject_kind="application",
                              subject_id=application.id, sms=True)
    session.flush()
    return Cancelled(application_id=application.id, loan=loan,
                     contract_number=contract.number if contract is not None else None)


def ensure_contract_signed(session: Session, loan: Loan) -> None:
    """Only a contract signed by the borrower and the institution is paid out (`contract_not_signed`)."""
    if not contracts.contracts.fully_signed(session=session, application_id=loan.application_id):
        raise ContractNotSigned(field="loan_id")


def repay(*, session: Session, clock: Clock, actor: Actor, institution_id: int, loan_id: int, amount: Money,
          on: date | None = None, channel: str = "bank_transfer", reference: str | None = None,
          idempotency_key: str | None = None, notify: bool = True, locked: Loan | None = None,
          today: date | None = None) -> Recorded:
    """Money from the borrower, allocated by the loan's strategy. `locked`: the loan as the caller has just read
    it row-locked in this transaction (`visible(..., for_update=True)`), not read again; `today`: the institution's
    business date when the caller has just read it in this transaction."""
    loan = _locked(session, institution_id, loan_id, locked)
    if today is None:
        today = parties.organisation.business_date(session=session, institution_id=institution_id)
    day = on or today
    item = event_item(type="repayment", id=_next_id(loan, "repayment"), on=day, amount=amount, channel=channel)
    return record(session, clock, actor, loan, item, key=idempotency_key, reference=reference, today=today,
                  notify=notify)


def prepay(*, session: Session, clock: Clock, actor: Actor, institution_id: int, loan_id: int, amount: Money,
           mode: str, on: date | None = None, channel: str = "bank_transfer", reference: str | None = None,
           idempotency_key: str | None = None, notify: bool = True, locked: Loan | None = None,
           today: date | None = None) -> Recorded:
    """Principal repaid early, the borrower choosing a shorter term or a lower installment (`mode`); `locked` as
    in `repay`."""
    loan = _locked(session, institution_id, loan_id, locked)
    if today is None:
        today = parties.organisation.business_date(session=session, institution_id=institution_id)
    day = on or today
    item = event_item(type="prepayment", id=_next_id(loan, "prepayment"), on=day, amount=amount, mode=mode,
                 channel=channel)
    return record(session, clock, actor, loan, item, key=idempotency_key, reference=reference, today=today,
                  notify=notify)


def recover(*, session: Session, clock: Clock, actor: Actor, institution_id: int, loan_id: int, amount: Money,
            on: date | None = None, channel: str = "bank_transfer", reference: str | None = None,
            idempotency_key: str | None = None, locked: Loan | None = None, today: date | None = None
            ) -> Recorded:
    """Money recovered on a written-off loan (recoveries income; at most what was written off); `locked` as in
    `repay`."""
    loan = _locked(session, institution_id, loan_id, locked)
    if today is None:
        today = parties.organisation.business_date(session=session, institution_id=institution_id)
    day = on or today
    item = event_item(type="recovery", id=_next_id(loan, "recovery"), on=day, amount=amount, channel=channel)
    return record(session, clock, actor, loan, item, key=idempotency_key, reference=reference, today=today)


def reverse(*, session: Session, clock: Clock, actor: Actor, institution_id: int, loan_id: int, event_id: str,
            note: str | None = None, idempotency_key: str | None = None) -> Recorded:
    """Undo an event (a bounced transfer, a payment keyed on the wrong loan): later payments re-allocate."""
    loan = get(session=session, institution_id=institution_id, loan_id=loan_id, for_update=True)
    today = parties.organisation.business_date(session=session, institution_id=institution_id)
    item = event_item(type="reversal", id=_next_id(loan, "reversal"), on=today, target=event_id)
    return record(session, clock, actor, loan, item, key=idempotency_key, note=note, today=today)


def accelerate(*, session: Session, clock: Clock, actor: Actor, institution_id: int, loan_id: int, on: date | None,
               reason: str, note: str, idempotency_key: str | None = None) -> Recorded:
    """宣布贷款提前到期: the loan called early on `on` (default the business date): the principal left
    and the interest to the day fall due at once (`core.Acceleration`); posted and audited as every
    event, and the borrower told in the app what is now due."""
    loan = get(session=session, institution_id=institution_id, loan_id=loan_id, for_update=True)
    today = parties.organisation.business_date(session=session, institution_id=institution_id)
    day = on or today
    item = event_item(type="acceleration", id=_next_id(loan, "acceleration"), on=day, reason=reason)
    recorded = record(session, clock, actor, loan, item, key=idempotency_key, note=note, today=today)
    if not recorded.repeated:
        notifications.notify_user(session, clock=clock, institution_id=loan.institution_id,
                                  user_id=loan.borrower_user_id, template="loan_accelerated",
                                  params={"number": loan.number, "on": day.isoformat(),
                                          "amount": str(recorded.state.outstanding.total)},
                                  subject_kind="loan", subject_id=loan.id, sms=True)
    return recorded


def event_item(**fields: Any) -> Any:
    """An event item from plain values (validated as the API's JSON is: dates and money as text)."""
    return _EVENT.validate_python({k: v.isoformat() if isinstance(v, date) else str(v) if isinstance(v, Money)
                                   else v for k, v in fields.items()})


def _next_id(loan: Loan, kind: str) -> str:
    return f"{PREFIX[kind]}{loan.events_count + 1}"


def _channel(session: Session, loan: Loan, rows: list[LoanEvent], item: EventItem) -> str:
    """Where the event's money comes in or goes out. A reversal: the undone event's channel, except a
    collection sheet's repayment whose cash finance has since received from the officer (交款): it is at the
    bank now, no longer in field cash (the sheet is read locked, so a handover is either before or after)."""
    if isinstance(item, ReversalItem):
        target = next((r for r in rows if r.event_id == item.target), None)
        if target is None:
            return "internal"
        channel = str(target.payload.get("channel", "bank_transfer"))
        if channel == "meeting_cash":
            sheet = repo.sheet_of_repayment(session, loan.institution_id, target.value_date, target.idempotency_key)
            if sheet is not None and sheet.handed_over_at is not None:
                return "cash"
        return channel
    return str(getattr(item, "channel", "internal"))


def record(session: Session, clock: Clock, actor: Actor, loan: Loan, item: EventItem, *, key: str | None,
           reference: str | None = None, note: str | None = None, today: date | None = None,
           notify: bool = True) -> Recorded:
    """Record one event on a locked loan: folded, stored, posted and audited (the module docstring).
    `today`: the institution's business date when the caller has just read it. `notify` False: the
    borrower is not told in the app nor by SMS — history built after the fact (the demo's back-dated days),
    where a message today about a payment months ago would mislead; everything else is the same."""
    rows = repo.events_of(session, loan.id)
    payload = item.model_dump(mode="json", exclude_none=True)
    if key is not None:
        earlier = next((r for r in rows if r.idempotency_key == key), None)
        if earlier is not None:
            return _repeat(session, loan, earlier, payload)
    if loan.status not in ALLOWED[item.type]:
        raise LoanWrongState(status=loan.status, action=item.type)
    if today is None:
        today = parties.organisation.business_date(session=session, institution_id=loan.institution_id)
    if item.on > today:
        raise ValueDateInFuture(field="on", params={"business_date": today.isoformat()})
    terms = core_terms(session, loan)
    new = products.replay.event_of(item)
    try:
        state = core.fold(terms, [*core_events(rows), new], as_of=today)
    except core.EventRefused as exc:
        raise LoanEventNotTaken(field=_field_of(exc.code), reason_code=exc.code, reason=exc.reason) from exc
    seq = loan.events_count + 1
    was = loan.status
    # The event and the loan's one UPDATE (state and books, `_post`) written as statements, not by a flush.
    event = repo.insert_event(session, LoanEvent(
        loan_id=loan.id, seq=seq, event_id=item.id, type=item.type, value_date=item.on, business_date=today,
        payload=payload, idempotency_key=key, recorded_at=clock.now(), user_id=actor.user_id, reference=reference,
        note=note))
    loan.events_count = seq
    # The next request on the loan reads this event back: its engine event is the one just folded (the item is
    # its payload validated, `test_event_of_a_stored_payload`), kept under the payload as any parsed event is.
    _EVENTS.keep((loan.id, seq), payload, new)
    snapshot = refresh(loan, state, clock, seq, terms)

    def audited(entries: Sequence[PostedEntry]) -> list[audit.Entry]:
        return [audit.Entry(action=f"loan.{item.type}", entity_type="loan", entity_id=loan.id,
                            institution_id=loan.institution_id,
                            after={"event": payload, "reference": reference, "entries": [e.id for e in entries],
                                   "status": loan.status})]
    entries = _post(session, clock, actor, loan, state, today, channel=_channel(session, loan, rows, item),
                    source=f"{loan.id}:{seq}", what=item.type, memo=f"{loan.number} {item.id}", then=audited)
    if notify:
        _notify(session, clock, loan, event, item, was)
    return Recorded(loan, event, state, entries, events=(*rows, event), state_json=snapshot)


NOTIFIED = {"disbursement": "loan_disbursed", "repayment": "loan_repayment_recorded",
            "prepayment": "loan_repayment_recorded"}


def _notify(session: Session, clock: Clock, loan: Loan, event: LoanEvent, item: EventItem, was: str) -> None:
    """The borrower told in the app (rendered in their language) and by SMS: money paid out to them, a
    repayment received (the notification leads to its receipt: the loan's event `seq`), the loan closed."""
    template = NOTIFIED.get(item.type)
    if template is not None:
        notifications.notify_user(session, clock=clock, institution_id=loan.institution_id,
                                  user_id=loan.borrower_user_id, template=template,
                                  params={"number": loan.number, "amount": str(getattr(item, "amount", "")),
                                          "seq": event.seq},
                                  subject_kind="loan", subject_id=loan.id, sms=True)
    if loan.status == "closed" and was != "closed":
        notifications.notify_user(session, clock=clock, institution_id=loan.institution_id,
                                  user_id=loan.borrower_user_id, template="loan_closed",
                                  params={"number": loan.number}, subject_kind="loan", subject_id=loan.id,
                                  sms=True)


def _repeat(session: Session, loan: Loan, earlier: LoanEvent, payload: dict[str, Any]) -> Recorded:
    """The same request again: the event it recorded, nothing changed (another request: refused)."""
    same = {k: v for k, v in earlier.payload.items() if k != "id"} == {k: v for k, v in payload.items() if k != "id"}
    if not same:
        raise IdempotencyKeyReused(field="idempotency_key")
    return Recorded(loan, earlier, state_of(session=session, loan=loan), (), repeated=True)


def _field_of(code: str) -> str:
    if "amount" in code or "exceeds" in code or "overpay" in code:
        return "amount"
    if "target" in code or "revers" in code:
        return "event_id"
    if "recover" in code or "credit" in code:
        return "amount"
    return "on"


def posting_map(loan: LoanRow) -> PostingMap:
    """The accounts the loan posts to: the default chart's, with its product version's own accounts pinned
    on the loan when it was opened (docs/accounting.md, "A product's own accounts")."""
    return DEFAULT_POSTING_MAP.with_codes(loan.terms.get("accounts") or {})


def _post(session: Session, clock: Clock, actor: Actor, loan: Loan, state: core.LoanState, today: date, *,
          channel: str, source: str, what: str, memo: str,
          then: Callable[[Sequence[PostedEntry]], Sequence[audit.Entry]] | None = None) -> tuple[PostedEntry, ...]:
    """The entries the change of holdings posts (one per book), and `then`'s audit records under the same take
    of the audit chain's head (alone, when the change posts nothing)."""
    drafts = drafts_of(loan, state, channel=channel, source=source, what=what, memo=memo)
    repo.write_loan(session, loan)  # the loan's changes (its state, books) in one UPDATE before the entries
    if drafts:
        posted = ledger.posting.post_many(session=session, clock=clock, actor=actor,
                                          institution_id=loan.institution_id, business_date=today, drafts=drafts,
                                          not_after=today, then=then)
    else:
        posted = []
        if then is not None:
            audit.record_many(session=session, clock=clock, actor=actor, entries=then(()))
        session.flush()  # what the entries' flush would have written (the event, the loan), as callers expect
    return tuple(posted)


def drafts_of(loan: LoanRow, state: core.LoanState, *, channel: str, source: str, what: str,
              memo: str) -> list[ledger.posting.Draft]:
    """The entries (one per book) the change of the loan's holdings to `state`'s posts, unposted; the loan's
    `books` moved to the new holdings (written by the entries' flush with the rest of the loan's changes)."""
    after = books.holdings(state)
    zh, en = WORDS[what]
    drafts = [ledger.posting.Draft(description=f"贷款{zh} {memo} / loan {en}", postings=entry.postings,
                                   source=ledger.posting.Source("loan_event", f"{source}:{entry.basis}"),
                                   basis=entry.basis)
              for entry in books.entries(loan.books, after, currency=loan.currency, channel=channel, memo=memo,
                                         accounts=posting_map(loan), fee_shares=books.fee_shares(state))]
    loan.books = after
    return drafts


def refresh(loan: LoanRow, state: core.LoanState, clock: Clock, seq: int, terms: core.Terms, *,
            snapshot: dict[str, Any] | None = None) -> dict[str, Any]:
    """The loan's cached state and the columns lists and the quiet days read (`accrual`), from the fold; returns
    the state as the API writes it (the snapshot stored: `LoanStateRead`'s JSON, built without the schema).
    Public: the close of business's set-based day of overdue loans (`quiet_overdue`) moves its loans with it,
    passing the `snapshot` when it made it otherwise (`quiet_overdue.day_json`: the same dict)."""
    if snapshot is None:
        snapshot = products.replay.state_json(state)
    loan.status = STATUS_OF[state.status]
    if accrual.cached_state_of(loan) != snapshot:  # a quiet day's row already holds this fold (composed): unchanged
        loan.state = snapshot
    kept = accrual.accrual_of(terms, snapshot, loan.currency)
    for name, value in (accrual.NONE if kept is None else kept.columns()).items():
        setattr(loan, name, value)
    loan.state_seq, loan.state_as_of = seq, state.as_of
    rows = minor_installments(state)  # in minor units: no `Money` summed (`lending.loan.minor`)
    loan.outstanding_principal = Money(sum(row.outstanding[0] for row in rows), state.currency)
    loan.dpd = state.dpd
    loan.next_due_date = next((row.due_date for row in rows if not row.settled), None)
    for name, value in accrual.day_columns(state).items():
        setattr(loan, name, value)
    loan.disbursed_on = state.disbursed_on
    if loan.status in ("closed", "overpaid") and loan.closed_on is None:
        loan.closed_on = state.as_of
    elif loan.status == "active":
        loan.closed_on = None
    loan.updated_at = clock.now()
    return snapshot


def advance(*, session: Session, clock: Clock, actor: Actor, institution_id: int, loan_id: int,
            business_date: date) -> tuple[PostedEntry, ...]:
    """Bring the loan's books to `business_date` (what the close of business does each day): penalty
    interest charged on what is overdue (`charge_penalties`), then, with no new event, credit held used
    on a due date and interest and fees falling due recognised (accrual book).

    The loan is folded on the date once: the penalties owed are read from that fold, and only when one
    is charged (a new event) is it folded again — the fold is a function of the terms and events, so
    without a new event the second fold would give the same state."""
    loan = get(session=session, institution_id=institution_id, loan_id=loan_id, for_update=True)
    if loan.status == "pending_disbursement":
        return ()
    terms = core_terms(session, loan)
    state = _fold(session, loan, business_date, terms)
    charged = _charge(session, clock, actor, loan, business_date,
                      _owed(session, loan, terms, state, business_date) if loan.status in ALLOWED["penalty"] else [])
    # The last penalty's `record` folded every event on its business date: when that is this date, its fold is the
    # fold of the day (and `record` refreshed the loan from it) — not folded a third time.
    refreshed = bool(charged) and charged[-1].state.as_of == business_date
    if refreshed:
        state = charged[-1].state
        folds.stage(session, loan, business_date, loan.events_count, state)
    elif charged:
        state = state_of(session=session, loan=loan, as_of=business_date)
    entries = _post(session, clock, actor, loan, state, business_date, channel="internal",
                    source=f"{loan.id}:day:{business_date.isoformat()}", what="advance",
                    memo=f"{loan.number} {business_date.isoformat()}")
    if not refreshed:
        refresh(loan, state, clock, loan.events_count, terms)
    session.flush()
    return (*(e for r in charged for e in r.entries), *entries)


@dataclass(frozen=True, slots=True)
class DefaultRules:
    """What an overdue installment may be charged: the product version's penalty rule and late fee,
    and the yearly ceiling on default charges the loan was made under."""

    penalty: PenaltyRule
    late_fee: LateFeeRule | None
    cap: ChargeCap | None


def penalty_rule(session: Session, loan: Loan, terms: core.Terms) -> PenaltyRule:
    """The penalty rule of the loan's product version."""
    return default_rules(session, loan, terms).penalty


def default_rules(session: Session, loan: LoanRow, terms: core.Terms) -> DefaultRules:
    """The default-charge rules of the loan (a published version does not change, so its terms are read
    once per unit of work and version; the cap is the loan's own, pinned when it was opened). The rules made are
    kept per unit of work too, by what they are made of (version, day count, cap), for the next loan alike."""
    pinned = loan.terms.get("default_charges_cap_percent")
    key = (loan.product_version_id, terms.contract.day_count,
           pinned if pinned is not None else (loan.institution_id, loan.opened_at.date()))
    made: dict[Any, DefaultRules] = session.info.setdefault("servicing_default_rules", {})
    if key not in made:
        made[key] = _default_rules(session, loan, terms)
    return made[key]


def _default_rules(session: Session, loan: LoanRow, terms: core.Terms) -> DefaultRules:
    kept: dict[int, Any] = session.info.setdefault("servicing_penalty_terms", {})
    rule = kept.get(loan.product_version_id)
    if rule is None:
        version = products.catalogue.version_by_id(session=session, version_id=loan.product_version_id)
        rule = kept[loan.product_version_id] = products.catalogue.terms_of(version).penalty
    fee = rule.late_fee
    cap = _cap_percent(session, loan)
    return DefaultRules(
        penalty=PenaltyRule(basis=PenaltyBasis(rule.basis), value=percent(rule.value_percent),
                            day_count=terms.contract.day_count, grace_days=rule.grace_days,
                            compound_overdue_interest=rule.compound_overdue_interest),
        late_fee=None if fee is None else LateFeeRule(amount=fee.amount, rate=percent(fee.percent),
                                                      after_days=fee.after_days),
        cap=None if cap is None else ChargeCap(annual_rate=percent(cap), day_count=terms.contract.day_count))


def _cap_percent(session: Session, loan: LoanRow) -> Decimal | None:
    """The yearly ceiling on default charges pinned on the loan when it was opened; for a loan opened before
    the ceiling was pinned, the caps in force on its opening day for its institution's kind."""
    pinned = loan.terms.get("default_charges_cap_percent")
    if pinned is not None:
        return Decimal(pinned)
    return _cap_in_force(session, loan.institution_id, loan.opened_at.date())


def _cap_in_force(session: Session, institution_id: int, on: date) -> Decimal:
    kind = parties.organisation.institution(session=session, institution_id=institution_id).kind
    return products.caps.caps_in_force(session=session, institution_kind=kind, on=on).hard_cap_percent


def _owed(session: Session, loan: Loan, terms: core.Terms, state: core.LoanState,
          as_of: date) -> list[core.PenaltyOwed]:
    rules = default_rules(session, loan, terms)
    return core.penalties_owed(state, contract_rate=terms.contract.annual_rate, rule=rules.penalty,
                               rounding=terms.contract.rounding, as_of=as_of, late_fee_rule=rules.late_fee,
                               cap=rules.cap, overdue_earns_interest=terms.recalculation is not None)


def penalties_owed(*, session: Session, loan: Loan, as_of: date) -> list[core.PenaltyOwed]:
    """Each installment past its grace on `as_of`: the penalty it has cost by then and what it was charged."""
    return _owed(session, loan, core_terms(session, loan), state_of(session=session, loan=loan, as_of=as_of), as_of)


def charge_penalties(*, session: Session, clock: Clock, actor: Actor, loan: Loan,
                     business_date: date) -> tuple[Recorded, ...]:
    """Charge each overdue installment of a locked loan what its penalty interest has grown by since it was
    last charged (`lending.loan.penalties`), one `penalty` event each, value-dated `business_date`, through
    `record`. Nothing for a loan that is not running; nothing twice. What was charged before a payment
    keyed in with an earlier value date stays charged: lowering it is a waiver, by maker-checker."""
    if loan.status not in ALLOWED["penalty"]:
        return ()
    return _charge(session, clock, actor, loan, business_date,
                   penalties_owed(session=session, loan=loan, as_of=business_date))


def _charge(session: Session, clock: Clock, actor: Actor, loan: Loan, business_date: date,
            owed: list[core.PenaltyOwed]) -> tuple[Recorded, ...]:
    recorded = []
    for one in owed:
        if one.to_charge.is_positive:
            item = event_item(type="penalty", id=_next_id(loan, "penalty"), on=business_date,
                              installment=one.installment, amount=one.to_charge)
            recorded.append(record(session, clock, actor, loan, item, key=None))
    return tuple(recorded)


def active_ids(*, session: Session, institution_id: int, first: int | None = None,
               last: int | None = None) -> list[int]:
    """The ids of the institution's active loans, ascending (in [first, last] when given)."""
    return repo.active_loan_ids(session, institution_id, first, last)


# --- the sub-ledger --------------------------------------------------------------------------


def subledger(*, session: Session, institution_id: int) -> dict[str, Money]:
    """What the control accounts should hold (accrual book, debit positive), from every loan's fold.

    Each loan is folded again from its terms and events on the day its books were last brought to
    (`state_as_of`), not read from the snapshot the postings left (`books`): the verification
    compares the ledger with the loans themselves. A loan whose fold no longer gives what was
    posted shows as a difference on its accounts.
    """
    totals: dict[str, int] = {}
    for loan in repo.loans_of(session, institution_id):
        if loan.state_as_of is None:
            continue
        held = books.holdings(state_of(session=session, loan=loan, as_of=loan.state_as_of))
        principal = held["disbursed"] - held["paid_principal"] - held["waived_principal"] \
            - held["written_off_principal"]
        owed = {"loan_principal": principal, "borrower_credit": -held["credit"]}
        for c in ("interest", "fee", "penalty"):
            owed[books.RECEIVABLE_ROLE[c]] = (held[f"recognised_{c}"] - held[f"paid_{c}"] - held[f"waived_{c}"]
                                              - held[f"written_off_{c}"])
        accounts = posting_map(loan)  # the loan's own accounts, where its product has some
        for role, minor in owed.items():
            code = accounts.code(role)
            totals[code] = totals.get(code, 0) + minor
    return {code: Money(minor, "CNY") for code, minor in totals.items()}


def control_balances(session: Session, institution_id: int) -> dict[str, Money]:
    """`subledger` in the shape the ledger's verification takes (`ledger.books.Subledger`)."""
    return subledger(session=session, institution_id=institution_id)


# --- for callers (scope checked) -------------------------------------------------------------


def visible(*, session: Session, principal: Principal, loan_id: int, for_update: bool = False) -> Loan:
    """A loan the staff caller's data scope covers (else not found: no hint that it exists). `for_update`: the
    loan row-locked for the transaction, the scope a condition of that one locked read (as `get(...,
    for_update=True)`, which a caller given this loan need not do again): a loan outside the scope is never
    locked."""
    if for_update:
        f = scope.filters(principal)
        locked = repo.get_in_scope_locked(session, loan_id, institution_id=f.institution_id, branch_id=f.branch_id)
        if locked is None:
            raise NotFound(field="loan_id")
        return locked
    loan = repo.get(session, loan_id)
    if loan is None:
        raise NotFound(field="loan_id")
    scope.ensure_visible(principal, institution_id=loan.institution_id, branch_id=loan.branch_id)
    return loan


def own(*, session: Session, principal: Principal, loan_id: int) -> Loan:
    """One of the borrower caller's own loans."""
    loan = repo.get(session, loan_id)
    if loan is None or loan.borrower_user_id != principal.user_id:
        raise NotFound(field="loan_id")
    return loan


def events(*, session: Session, loan: Loan) -> list[LoanEvent]:
    """A loan's events in the order recorded."""
    return repo.events_of(session, loan.id)


def trail(*, session: Session, loan: Loan, rows: list[LoanEvent]) -> dict[int, list[tuple[int, str]]]:
    """The entries (id, book) each event posted, by event seq: its trail in the ledger."""
    refs = [f"{loan.id}:{row.seq}:{basis}" for row in rows for basis in ("both", "cash", "accrual")]
    found = ledger.posting.entries_of_sources(session=session, institution_id=loan.institution_id,
                                              kind="loan_event", refs=refs)
    out: dict[int, list[tuple[int, str]]] = {}
    for ref, entries in found.items():
        out.setdefault(int(ref.split(":")[1]), []).extend(entries)
    return out


def list_for_staff(*, session: Session, principal: Principal, page: PageRequest, status: str | None = None
                   ) -> PageResult[Loan]:
    """Loans in the caller's scope, newest first."""
    f = scope.filters(principal)
    stmt = repo.loans_query(institution_id=f.institution_id, branch_id=f.branch_id, status=status)
    return paginate(session, order_by(stmt, page.sort, SORTS, [Loan.id.desc()]), page)


def borrower_names(*, session: Session, rows: list[Loan]) -> dict[int, str]:
    """The names of the loans' borrowers, by borrower id (for staff lists)."""
    return parties.borrowers.borrower_names(session=session, borrower_ids=list({x.borrower_id for x in rows}))


def user_names(*, session: Session, rows: list[LoanEvent]) -> dict[int, str]:
    """The display names of the users who recorded the events, by user id (for staff)."""
    return identity.accounts.display_names(session=session, user_ids=list({r.user_id for r in rows if r.user_id}))


def list_own(*, session: Session, principal: Principal, page: PageRequest) -> PageResult[Loan]:
    """The borrower caller's own loans, newest first."""
    stmt = repo.loans_query(institution_id=principal.institution_id, branch_id=False,
                            borrower_user_id=principal.user_id)
    return paginate(session, order_by(stmt, page.sort, SORTS, [Loan.id.desc()]), page)


DESK_LIMIT = 200


@dataclass(frozen=True)
class Desk:
    """The disbursement desk: approved applications in scope with no loan yet (oldest decision first, at
    most `DESK_LIMIT`), the borrowers' names, and the loans opened and not yet paid out."""

    approved: list[Any]
    names: dict[int, str]
    pending: list[Loan]


def desk(*, session: Session, principal: Principal) -> Desk:
    """What waits for the money to leave, in the caller's scope."""
    page, names = origination.applications.list_for_staff(
        session=session, principal=principal, page=PageRequest(1, DESK_LIMIT, "submitted_at"), status="approved")
    opened = repo.opened_for(session, [a.id for a in page.items])
    f = scope.filters(principal)
    pending = paginate(session, order_by(repo.loans_query(institution_id=f.institution_id, branch_id=f.branch_id,
                                                          status="pending_disbursement"), None, SORTS, [Loan.id]),
                       PageRequest(1, DESK_LIMIT))
    return Desk([a for a in page.items if a.id not in opened], names, list(pending.items))


def todos(*, session: Session, principal: Principal) -> list[Todo]:
    """Disbursements waiting, for those who disburse: the desk's approved applications with no loan
    yet and its loans opened and not paid out, in the caller's scope."""
    if not principal.can("loan.disburse"):
        return []
    d = desk(session=session, principal=principal)
    return [Todo("disbursements_waiting", len(d.approved) + len(d.pending))]


# --- for collections -------------------------------------------------------------------------


def overdue(*, session: Session, institution_id: int, business_date: date) -> list[Loan]:
    """The institution's active loans that may be past due on `business_date` (an installment unpaid from
    before it, or past due on the cached state): collections folds each and opens cases for those late."""
    return repo.overdue_loans(session, institution_id, business_date)


def by_ids(*, session: Session, loan_ids: list[int]) -> list[Loan]:
    """Loans by id (collections reads its cases' loans)."""
    return repo.loans_by_ids(session, loan_ids)


def groups() -> Any:
    """The loans' `id`, `branch_id` and `product_code` as a subquery to join in SQL (early warning's concentration
    check counts the day's scores by branch and by product with it, instead of reading every loan)."""
    return repo.loan_groups()


def partition_borrowers() -> Any:
    """The borrower ids of the loans of ids [`loans_first`, `loans_last`] as a query to use in SQL, its bounds bound
    parameters given when it runs (early warning reads the bureau reports of a partition's borrowers with it,
    instead of an `IN` list of their ids)."""
    return repo.partition_borrowers()


def of_borrower(*, session: Session, borrower_id: int) -> list[Loan]:
    """A borrower's loans, newest first (the collector's view of the debtor)."""
    return repo.loans_of_borrower(session, borrower_id)
