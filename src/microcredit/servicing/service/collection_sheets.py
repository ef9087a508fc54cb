"""A group meeting's collection sheet (小组例会收款表; Apache Fineract's collection sheet).

**Read**: for a meeting of the group (default the next on or after the business date), each current member's
active loan made for the group that falls due at the meetings (synced to them) or has an installment due that
day, with what is due at that meeting by component, what is still owed from earlier installments, and the total
to collect; the group's totals. Every amount is read from the loan's fold on the business date
(`loans.state_of`), not computed again: an installment's outstanding principal, interest, fees and penalty.
A member with nothing to collect is not listed.

**Save**: the officer's answer for every line — the amount collected (default: the total to collect; zero:
not paid, with an optional reason such as absent or refused). Each non-zero line is a repayment through
`changes.take_repayment` as a cash repayment keyed in at a branch (the same allocation, postings, audit,
notifications and threshold: above it, a pending change for a second person), valued on the meeting day.
All lines are one transaction: any line refused refuses the sheet, naming the line (`lines.{i}.amount`).
The sheet is kept (`collection_sheets`) with who saved it, when, and every line's outcome, under the
saver's idempotency key: the same sheet posted again answers with the first one. The loan officer who
collected the money saves it (`collection_sheet.save`); the repayments' channel is `meeting_cash`, so the
money is debited to field cash (`field_cash`, 100101 库存现金—外勤在途), not to the bank: it is still in the
officer's hands.

**Hand over** (交款): finance — someone other than who saved the sheet — counts the cash and confirms it:
one balanced entry moves what the sheet's repayments put in field cash (`expected`) out of it: Dr bank what
was counted; a shortage (with a reason) Dr the officer's receivable (`staff_shortage`, 122101); an overage
Cr suspense. The same transaction marks the sheet handed over (who, when, counted, reason, the entry).
A sheet is handed over once; not while one of its lines waits for a second person (above the threshold);
a line whose change was refused put nothing in field cash (its cash, if counted, is an overage). A sheet
that collected nothing is handed over when saved (nothing expected, by nobody). A repayment of the sheet
reversed before the handover takes its cash back out of field cash (the officer returns it or it is applied
elsewhere), so it is not expected; reversed after the handover, the money is at the bank, and the reversal
takes it from there (`loans.record` values a reversal by the channel its money is in now).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from microcredit.audit import service as audit
from microcredit.clock import Clock
from microcredit.errors import DomainError, NotFound
from microcredit.identity import scope
from microcredit.identity import service as identity
from microcredit.identity.principal import Principal
from microcredit.ledger import service as ledger
from microcredit.ledger.balances import Posting, Side
from microcredit.ledger.chart import DEFAULT_POSTING_MAP
from microcredit.lending.meetings import MeetingFrequency, is_meeting
from microcredit.lending.money import Money
from microcredit.parties import service as parties
from microcredit.platform.idempotency import IdempotencyKeyReused
from microcredit.platform.paging import PageRequest, PageResult, paginate
from microcredit.platform.todo import Todo
from microcredit.servicing import repository as repo
from microcredit.servicing.errors import (
    HandoverReasonRequired,
    NoMeetingSchedule,
    NotAMeetingDay,
    SheetAwaitingApproval,
    SheetHandedOver,
    SheetHandoverSamePerson,
    SheetLinesMismatch,
    ValueDateInFuture,
)
from microcredit.servicing.models import CollectionSheet, Loan, sheet_line_key
from microcredit.servicing.service import changes, groups, loans

__all__ = [
    "REASONS",
    "Line",
    "LineAnswer",
    "Sheet",
    "group_names",
    "hand_over",
    "history",
    "in_field_cash",
    "line_key",
    "people",
    "read",
    "save",
    "todos",
    "waiting",
]

# Why a member paid less than the sheet asked (Fineract records attendance; we record the reason).
REASONS = ("absent", "refused", "no_money", "paid_elsewhere", "other")
CHANNEL = "meeting_cash"  # into field cash (servicing.books.CASH_ROLE) until the handover


@dataclass(frozen=True)
class Line:
    """One member's loan on the sheet: what is due at the meeting by component, what is overdue from earlier
    installments, and the total to collect."""

    borrower_id: int
    name: str
    leader: bool
    loan: Loan
    principal: Money
    interest: Money
    fee: Money
    penalty: Money
    overdue: Money

    @property
    def due(self) -> Money:
        """Due at the meeting itself (the four components)."""
        return self.principal + self.interest + self.fee + self.penalty

    @property
    def total(self) -> Money:
        """To collect: due at the meeting and overdue."""
        return self.due + self.overdue


@dataclass(frozen=True)
class Sheet:
    """A meeting's collection sheet: the meeting, the lines, the group's totals."""

    group_id: int
    group_name: str
    meeting_date: date
    time_of_day: str
    place: str
    business_date: date
    lines: list[Line]

    def total(self, part: str) -> Money:
        """The group's total of one of the lines' amounts (`due`, `overdue`, `total`, or a component)."""
        return sum((getattr(line, part) for line in self.lines), Money.zero("CNY"))


@dataclass(frozen=True)
class LineAnswer:
    """The officer's answer for one loan: the amount collected (None: the total to collect) and a reason."""

    loan_id: int
    amount: Money | None
    reason: str | None


def line_key(group_id: int, key: str) -> str:
    """The key a sheet's repayment is recorded under on its loan (`models.sheet_line_key`)."""
    return sheet_line_key(group_id, key)


def read(*, session: Session, principal: Principal, group_id: int, on: date | None) -> Sheet:
    """The sheet of the meeting on `on` (default: the next on or after the business date) of a group in the
    caller's scope (else not found)."""
    view = parties.groups.get_group(session=session, principal=principal, group_id=group_id)
    try:
        meeting = parties.meetings.get_meeting(session=session, principal=principal, group_id=group_id)
    except DomainError as exc:
        raise NoMeetingSchedule(field="group_id") from exc
    today = parties.organisation.business_date(session=session, institution_id=principal.institution_id)
    frequency = MeetingFrequency(meeting.frequency)
    if on is None:
        on = parties.meetings.next_meetings(meeting, today, 1)[0]
    elif not is_meeting(frequency, meeting.first_on, on):
        raise NotAMeetingDay(field="date", params={"date": on.isoformat()})
    made = groups.latest_loans(session=session, group_id=group_id)
    lines = []
    zero = Money.zero("CNY")
    for member in view.members:
        loan = made.get(member.id)
        if loan is None or loan.status != "active":
            continue
        state = loans.state_of(session=session, loan=loan, as_of=today)
        at = [row for row in state.installments if row.due_date == on]
        synced = bool((loan.terms.get("meetings") or {}).get("synced"))
        if not at and not synced:
            continue
        overdue = sum((row.outstanding.total for row in state.installments if row.due_date < on), zero)
        line = Line(member.id, member.real_name, member.id == view.group.leader_borrower_id, loan,
                    sum((row.outstanding.principal for row in at), zero),
                    sum((row.outstanding.interest for row in at), zero),
                    sum((row.outstanding.fee for row in at), zero),
                    sum((row.outstanding.penalty for row in at), zero), overdue)
        if line.total.is_positive:
            lines.append(line)
    return Sheet(view.group.id, view.group.name, on, meeting.time_of_day, meeting.place, today, lines)


def save(*, session: Session, clock: Clock, principal: Principal, group_id: int, on: date,
         answers: list[LineAnswer], idempotency_key: str, notify: bool = True) -> CollectionSheet:
    """Save the sheet of the meeting on `on` whole: every non-zero line a repayment, in this one transaction;
    any line refused refuses all (its field `lines.{i}.amount`, as validation names it). The same key again:
    the sheet saved then (another sheet under it: refused). `notify` False: the borrowers are not told (the
    demo's back-dated history)."""
    group = parties.groups.get_group(session=session, principal=principal, group_id=group_id).group
    asked = [(a.loan_id, None if a.amount is None else str(a.amount), a.reason) for a in answers]
    earlier = repo.collection_sheet_by_key(session, group_id, idempotency_key)
    if earlier is not None:
        if earlier.meeting_date != on or [(x["loan_id"], x["asked"], x["reason"]) for x in earlier.lines] != asked:
            raise IdempotencyKeyReused(field="idempotency_key")
        return earlier
    sheet = read(session=session, principal=principal, group_id=group_id, on=on)
    if on > sheet.business_date:
        raise ValueDateInFuture(field="date", params={"business_date": sheet.business_date.isoformat()})
    by_loan = {line.loan.id: line for line in sheet.lines}
    given = [a.loan_id for a in answers]
    if sorted(given) != sorted(by_loan) or len(set(given)) != len(given):
        odd = sorted(set(given) ^ set(by_loan)) or sorted({x for x in given if given.count(x) > 1})
        raise SheetLinesMismatch(field="lines", params={"loans": ", ".join(map(str, odd))})
    record = CollectionSheet(institution_id=principal.institution_id, group_id=group_id, meeting_date=on,
                             idempotency_key=idempotency_key, lines=[], due=sheet.total("total"),
                             collected=Money.zero("CNY"), recorded_by_user_id=principal.user_id,
                             recorded_at=clock.now(), branch_id=group.branch_id)
    repo.add(session, record)
    saved: list[dict[str, Any]] = []
    collected = Money.zero("CNY")
    for i, answer in enumerate(answers):
        line = by_loan[answer.loan_id]
        amount = line.total if answer.amount is None else answer.amount
        row: dict[str, Any] = {"loan_id": line.loan.id, "loan_number": line.loan.number,
                               "borrower_id": line.borrower_id, "name": line.name, "due": str(line.total),
                               "amount": str(amount), "asked": asked[i][1], "reason": answer.reason,
                               "outcome": "not_paid", "event_seq": None, "change_id": None}
        if amount.is_positive:
            try:
                taken = changes.take_repayment(
                    session=session, clock=clock, principal=principal, loan_id=line.loan.id, amount=amount, on=on,
                    channel=CHANNEL, reference=f"例会收款表 {on.isoformat()}",
                    idempotency_key=line_key(group_id, idempotency_key), notify=notify)
            except DomainError as exc:
                exc.field = f"lines.{i}.{'amount' if exc.field in (None, 'amount', 'on') else exc.field}"
                raise
            if isinstance(taken, loans.Recorded):
                row.update(outcome="recorded", event_seq=taken.event.seq)
            else:
                row.update(outcome="pending_approval", change_id=taken.id)
            collected += amount
        saved.append(row)
    record.lines = saved
    record.collected = collected
    if collected.is_zero:  # nothing collected: nothing to hand over
        record.handover_expected = record.handover_counted = collected
        record.handed_over_at = record.recorded_at
    session.flush()
    audit.record(session=session, clock=clock, actor=principal.actor, action="group.collection_sheet_saved",
                 entity_type="collection_sheet", entity_id=record.id, institution_id=principal.institution_id,
                 after={"group_id": group_id, "meeting_date": on.isoformat(), "due": str(record.due),
                        "collected": str(collected),
                        "lines": [{k: x[k] for k in ("loan_id", "amount", "reason", "outcome")} for x in saved]})
    return record


def history(*, session: Session, principal: Principal, group_id: int, page: PageRequest) -> PageResult[Any]:
    """The group's saved sheets, newest meeting first (a group outside the caller's scope: not found)."""
    parties.groups.get_group(session=session, principal=principal, group_id=group_id)
    return paginate(session, repo.collection_sheets_query(group_id), page)


def hand_over(*, session: Session, clock: Clock, principal: Principal, sheet_id: int, counted: Money,
              reason: str | None) -> CollectionSheet:
    """Confirm that the sheet's cash reached finance (not by who saved it): one entry out of field cash —
    to the bank what was counted, a shortage to the officer's receivable (a reason needed), an overage to
    suspense — and the sheet marked handed over, in this one transaction. Once only."""
    record = repo.collection_sheet(session, sheet_id, for_update=True)
    if record is None:
        raise NotFound(field="sheet_id")
    scope.ensure_visible(principal, institution_id=record.institution_id, branch_id=record.branch_id)
    if record.handed_over_at is not None:
        raise SheetHandedOver(field="sheet_id")
    if record.recorded_by_user_id == principal.user_id:
        raise SheetHandoverSamePerson(field="sheet_id")
    expected = in_field_cash(session=session, record=record)
    reason = (reason or "").strip() or None
    if counted < expected and reason is None:
        raise HandoverReasonRequired(field="reason", params={"shortage": str(expected - counted)})
    today = parties.organisation.business_date(session=session, institution_id=record.institution_id)
    memo = f"例会收款表 {record.meeting_date.isoformat()}"
    moves = [("bank", Side.DEBIT, counted), ("field_cash", Side.CREDIT, expected)]
    if counted < expected:
        moves.append(("staff_shortage", Side.DEBIT, expected - counted))
    elif counted > expected:
        moves.append(("suspense", Side.CREDIT, counted - expected))
    postings = [Posting(DEFAULT_POSTING_MAP.code(role), side, amount, memo)
                for role, side, amount in moves if amount.is_positive]
    entry = None
    if postings:
        entry = ledger.posting.post(
            session=session, clock=clock, actor=principal.actor, institution_id=record.institution_id,
            business_date=today, not_after=today, postings=postings,
            description=f"例会收款交款 {memo} / meeting cash handed over",
            source=ledger.posting.Source("collection_sheet", f"handover:{record.id}"))
    record.handover_expected, record.handover_counted, record.handover_reason = expected, counted, reason
    record.handover_entry_id = entry.id if entry is not None else None
    record.handed_over_by_user_id, record.handed_over_at = principal.user_id, clock.now()
    session.flush()
    audit.record(session=session, clock=clock, actor=principal.actor, action="group.collection_sheet_handed_over",
                 entity_type="collection_sheet", entity_id=record.id, institution_id=record.institution_id,
                 after={"group_id": record.group_id, "meeting_date": record.meeting_date.isoformat(),
                        "expected": str(expected), "counted": str(counted), "reason": reason,
                        "entry_id": record.handover_entry_id})
    return record


def in_field_cash(*, session: Session, record: CollectionSheet) -> Money:
    """What the sheet's repayments put in field cash and is still there: its recorded lines and those a second
    person approved, less any a reversal has undone since (refused while a line still waits for a second
    person; a refused line put nothing there)."""
    total = Money.zero("CNY")
    waiting = []
    taking = []
    for line in record.lines:
        if line["outcome"] == "recorded":
            taking.append(line)
        elif line["outcome"] == "pending_approval":
            change = repo.get_change(session, int(line["change_id"]))
            status = change.status if change is not None else "rejected"
            if status == "pending":
                waiting.append(str(line["loan_number"]))
            elif status == "approved":
                taking.append(line)
    if waiting:
        raise SheetAwaitingApproval(field="sheet_id", params={"loans": ", ".join(waiting)})
    recorded, reversed_ = repo.sheet_events(session, [int(x["loan_id"]) for x in taking], record.line_key)
    for line in taking:
        event = recorded.get(int(line["loan_id"]))
        if event is not None and (event.loan_id, event.event_id) not in reversed_:
            total += Money.parse(line["amount"], "CNY")
    return total


def waiting(*, session: Session, principal: Principal, handed_over: bool | None,
            page: PageRequest) -> PageResult[Any]:
    """Saved sheets in the caller's scope, oldest meeting first: waiting for their handover (`handed_over`
    False), handed over (True) or both (None)."""
    f = scope.filters(principal)
    return paginate(session, repo.sheets_handover_query(institution_id=f.institution_id, branch_id=f.branch_id,
                                                        handed_over=handed_over), page)


def todos(*, session: Session, principal: Principal) -> list[Todo]:
    """Sheets whose cash has waited for its handover since an earlier business day, for finance."""
    if principal.kind != "staff" or not principal.can("repayment.record"):
        return []
    f = scope.filters(principal)
    today = parties.organisation.business_date(session=session, institution_id=principal.institution_id)
    stmt = repo.sheets_handover_query(institution_id=f.institution_id, branch_id=f.branch_id, handed_over=False,
                                      before=today)
    return [Todo("collection_sheets_waiting_handover", repo.count_of(session, stmt))]


def people(*, session: Session, rows: list[CollectionSheet]) -> dict[int | None, str]:
    """The display names of who saved the sheets and who confirmed their handovers, by user id."""
    ids = {i for x in rows for i in (x.recorded_by_user_id, x.handed_over_by_user_id) if i}
    users = identity.accounts.accounts_by_ids(session=session, user_ids=list(ids))
    return {i: u.display_name for i, u in users.items()}


def group_names(*, session: Session, rows: list[CollectionSheet]) -> dict[int, str]:
    """The sheets' groups' names, by group id."""
    out = {}
    for group_id in {x.group_id for x in rows}:
        group = parties.groups.group_by_id(session=session, group_id=group_id)
        if group is not None:
            out[group_id] = group.name
    return out
