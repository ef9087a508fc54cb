"""Changes to a running loan by maker-checker: a waiver, deferral, rescheduling, write-off or refund
of credit is proposed by one person (`loan.change.request`) and decided by another
(`loan.change.approve`). A repayment keyed in at a branch (cash or transfer) above the institution's
threshold (`settings`) — and a prepayment or a recovery on a written-off loan likewise — takes the
same path: the teller's request waits as a pending change, valued on the day the money was taken,
and is recorded under the teller's idempotency key when a second person approves it.

A proposal is tried against the loan at once (the engine folds it on the business date without
keeping it): what the loan cannot take is refused then, naming the field, rather than at approval.
Approved, it is recorded through the same path as every event (`loans._record`: folded, stored,
posted in the same transaction, audited) on the business date of the approval, and the change
keeps the event's number. Nobody decides their own proposal; a decided change is not decided
again (the row is locked, so two checkers racing get one decision and one refusal). The exception is
a product's `change_approval_above`: a waiver or refund of credit at or below it is recorded as soon
as it is proposed, approved by its proposer (`within_threshold`).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from microcredit.audit import service as audit
from microcredit.clock import Clock
from microcredit.errors import NotFound
from microcredit.identity import scope
from microcredit.identity.principal import Principal
from microcredit.lending import loan as core
from microcredit.lending.money import Money
from microcredit.parties import service as parties
from microcredit.platform.idempotency import IdempotencyKeyReused
from microcredit.platform.paging import PageRequest, PageResult, paginate
from microcredit.platform.todo import Todo
from microcredit.products import service as products
from microcredit.servicing import repository as repo
from microcredit.servicing.errors import (
    ChangeWrongState,
    LoanEventNotTaken,
    LoanWrongState,
    NoCreditBalance,
    SelfDecision,
    ValueDateInFuture,
)
from microcredit.servicing.models import LoanChange
from microcredit.servicing.service import loans, settings

PREFIX = {"waiver": "w", "deferral": "f", "rescheduling": "s", "write_off": "o", "refund": "u", "repayment": "r",
          "prepayment": "p", "recovery": "v"}
MONEY_IN = ("repayment", "prepayment", "recovery")  # taken at a branch: the reference is kept as the change's note
OPEN_STATUSES = {"active", "overpaid"}
# Channels by which staff key in money taken at a branch: above the threshold, a second person confirms.
BRANCH_CHANNELS = {"cash", "bank_transfer", "meeting_cash"}
# Changes weighed against the product's `change_approval_above`: at or below it, one person records them.
AMOUNT_KINDS = ("waiver", "refund")


def _item(kind: str, details: dict[str, Any], on: Any, seq: int) -> Any:
    fields = dict(details)
    day = fields.pop("on", None) or on  # a repayment keeps the day the money was taken
    return loans.event_item(type=kind, id=f"{PREFIX[kind]}{seq}", on=day, **fields)


def request_change(*, session: Session, clock: Clock, principal: Principal, loan_id: int, kind: str,
                   details: dict[str, Any], reason_code: str, note: str) -> LoanChange:
    """Propose a change; refused at once if the loan could not take it today."""
    loan = loans.visible(session=session, principal=principal, loan_id=loan_id)
    if loan.status not in OPEN_STATUSES:
        raise LoanWrongState(status=loan.status, action=kind)
    today = parties.organisation.business_date(session=session, institution_id=loan.institution_id)
    if kind == "refund":
        details = _refund_details(session, loan, details, today)
    _try(session, loan, kind, details, today)
    change = LoanChange(institution_id=loan.institution_id, branch_id=loan.branch_id, loan_id=loan.id, kind=kind,
                        details=details, reason_code=reason_code, note=note, status="pending",
                        requested_by_user_id=principal.user_id, requested_at=clock.now())
    repo.add(session, change)
    audit.record(session=session, clock=clock, actor=principal.actor, action="loan.change_requested",
                 entity_type="loan_change", entity_id=change.id, institution_id=loan.institution_id,
                 after={"loan_id": loan.id, "kind": kind, "details": details, "reason_code": reason_code,
                        "note": note})
    within = within_threshold(loan, kind, details)
    if within is not None:
        locked = loans.get(session=session, institution_id=loan.institution_id, loan_id=loan.id, for_update=True)
        _decide(session, clock, principal, change, locked, today, note=None, threshold=within)
    return change


def within_threshold(loan: Any, kind: str, details: dict[str, Any]) -> Money | None:
    """The loan's threshold when the change is at or below it (recorded at once by its proposer), else None.
    Only a waiver or a refund of credit has an amount to weigh; the other changes always wait."""
    above = settings.change_threshold_for(loan=loan)
    if above is None or kind not in AMOUNT_KINDS or details.get("amount") is None:
        return None
    return above if Money.parse(str(details["amount"]), loan.currency) <= above else None


def _refund_details(session: Session, loan: Any, details: dict[str, Any], today: Any) -> dict[str, Any]:
    """A refund's amount: the one given, else all the credit the loan holds today (none: refused)."""
    credit = loans.state_of(session=session, loan=loan, as_of=today).credit_balance
    if not credit.is_positive:
        raise NoCreditBalance(field="amount")
    return {**details, "amount": details.get("amount") or str(credit)}


def _try(session: Session, loan: Any, kind: str, details: dict[str, Any], today: Any) -> None:
    """Fold the proposed event on today's business date without keeping it: refused now if the loan cannot take it."""
    item = _item(kind, details, today, loan.events_count + 1)
    rows = repo.events_of(session, loan.id)
    try:
        core.fold(loans.core_terms(session, loan), [*loans.core_events(rows), products.replay.event_of(item)],
                  as_of=today)
    except core.EventRefused as exc:
        raise LoanEventNotTaken(field=_field_of(kind, exc.code), reason_code=exc.code, reason=exc.reason) from exc


def take_repayment(*, session: Session, clock: Clock, principal: Principal, loan_id: int, amount: Money,
                   on: date | None, channel: str, reference: str | None, idempotency_key: str | None,
                   mode: str | None = None, recovery: bool = False, notify: bool = True
                   ) -> loans.Recorded | LoanChange:
    """A repayment (with `mode`, a prepayment; with `recovery`, money recovered on a written-off loan) keyed
    in by staff: recorded at once, or — cash or transfer above the threshold (the loan's product's, or the
    institution's) — a pending change that a second person confirms (the same key again finds it)."""
    kind = "recovery" if recovery else "repayment" if mode is None else "prepayment"
    # One read: the loan locked for the transaction, the caller's scope a condition of that read.
    loan = loans.visible(session=session, principal=principal, loan_id=loan_id, for_update=True)
    above, today = settings.threshold_and_business_date(session=session, loan=loan)

    def now() -> loans.Recorded:
        if recovery:
            return loans.recover(session=session, clock=clock, actor=principal.actor,
                                 institution_id=loan.institution_id, loan_id=loan.id, amount=amount, on=on,
                                 channel=channel, reference=reference, idempotency_key=idempotency_key,
                                 locked=loan, today=today)
        if mode is None:
            return loans.repay(session=session, clock=clock, actor=principal.actor, institution_id=loan.institution_id,
                               loan_id=loan.id, amount=amount, on=on, channel=channel, reference=reference,
                               idempotency_key=idempotency_key, notify=notify, locked=loan, today=today)
        return loans.prepay(session=session, clock=clock, actor=principal.actor, institution_id=loan.institution_id,
                            loan_id=loan.id, amount=amount, mode=mode, on=on, channel=channel, reference=reference,
                            idempotency_key=idempotency_key, notify=notify, locked=loan, today=today)

    if channel not in BRANCH_CHANNELS or above is None or amount <= above:
        return now()
    if on is not None and on > today:
        raise ValueDateInFuture(field="on", params={"business_date": today.isoformat()})
    details: dict[str, Any] = {"amount": str(amount), "on": (on or today).isoformat(), "channel": channel}
    if mode is not None:
        details["mode"] = mode
    if idempotency_key is not None:
        earlier = repo.change_by_key(session, loan.id, idempotency_key)
        if earlier is not None:
            # The same request again (with no value date given, on a later business date too).
            ignore = set() if on is not None else {"on"}
            if earlier.kind != kind or _without(earlier.details, ignore) != _without(details, ignore):
                raise IdempotencyKeyReused(field="idempotency_key")
            return earlier
        if repo.event_by_key(session, loan.id, idempotency_key) is not None:
            return now()  # recorded at once earlier (the threshold has changed since): the same request again
    if loan.status not in loans.ALLOWED[kind]:
        raise LoanWrongState(status=loan.status, action=kind)
    _try(session, loan, kind, details, today)
    change = LoanChange(institution_id=loan.institution_id, branch_id=loan.branch_id, loan_id=loan.id,
                        kind=kind, details=details, reason_code="above_threshold", note=reference or "",
                        status="pending", requested_by_user_id=principal.user_id, requested_at=clock.now(),
                        idempotency_key=idempotency_key)
    repo.add(session, change)
    audit.record(session=session, clock=clock, actor=principal.actor, action="loan.change_requested",
                 entity_type="loan_change", entity_id=change.id, institution_id=loan.institution_id,
                 after={"loan_id": loan.id, "kind": kind, "details": details, "reference": reference,
                        "threshold": str(above)})
    return change


def _without(details: dict[str, Any], keys: set[str]) -> dict[str, Any]:
    return {k: v for k, v in details.items() if k not in keys}


def _field_of(kind: str, code: str) -> str:
    if kind == "waiver":
        return "amount" if code in ("above_outstanding", "fee_not_waivable") else "installment"
    if kind == "deferral":
        return "from_installment"
    if kind == "rescheduling":
        return "installments"
    if kind in ("refund", *MONEY_IN):
        return "amount" if code != "value_date" else "on"
    return "kind"


def _pending(session: Session, principal: Principal, change_id: int) -> LoanChange:
    change = repo.get_change(session, change_id, for_update=True)
    if change is None:
        raise NotFound(field="change_id")
    scope.ensure_visible(principal, institution_id=change.institution_id, branch_id=change.branch_id)
    if change.status != "pending":
        raise ChangeWrongState(params={"status": change.status})
    return change


def approve(*, session: Session, clock: Clock, principal: Principal, change_id: int, note: str | None,
            notify: bool = True) -> tuple[LoanChange, loans.Recorded]:
    """Approve a pending change (not one's own): it is recorded as the loan's event today (`notify` False:
    the borrower is not told; `loans.record`)."""
    change = _pending(session, principal, change_id)
    if change.requested_by_user_id == principal.user_id:
        raise SelfDecision(field="change_id")
    loan = loans.get(session=session, institution_id=change.institution_id, loan_id=change.loan_id, for_update=True)
    if loan.status not in (loans.ALLOWED["recovery"] if change.kind == "recovery" else OPEN_STATUSES):
        raise LoanWrongState(status=loan.status, action=change.kind)
    today = parties.organisation.business_date(session=session, institution_id=loan.institution_id)
    return change, _decide(session, clock, principal, change, loan, today, note=note, notify=notify)


def _decide(session: Session, clock: Clock, principal: Principal, change: LoanChange, loan: Any, today: date, *,
            note: str | None, notify: bool = True, threshold: Money | None = None) -> loans.Recorded:
    """Record an approved change as the loan's event today (the loan's row locked); the change keeps its number.
    `threshold`: approved without a second person, being at or below the loan's (audited with it)."""
    item = _item(change.kind, change.details, today, loan.events_count + 1)
    recorded = loans.record(session, clock, principal.actor, loan, item,
                            key=change.idempotency_key or f"change:{change.id}",
                            reference=change.note or None if change.kind in MONEY_IN else None,
                            note=f"{change.reason_code}: {change.note}", today=today, notify=notify)
    change.status, change.decided_by_user_id, change.decided_at = "approved", principal.user_id, clock.now()
    change.decision_note, change.event_seq = note, recorded.event.seq
    session.flush()
    audit.record(session=session, clock=clock, actor=principal.actor, action="loan.change_approved",
                 entity_type="loan_change", entity_id=change.id, institution_id=change.institution_id,
                 after={"loan_id": loan.id, "event": recorded.event.event_id, "note": note,
                        **({"within_threshold": str(threshold)} if threshold is not None else {})})
    return recorded


def reject(*, session: Session, clock: Clock, principal: Principal, change_id: int, note: str) -> LoanChange:
    """Reject a pending change (not one's own), with the reason."""
    change = _pending(session, principal, change_id)
    if change.requested_by_user_id == principal.user_id:
        raise SelfDecision(field="change_id")
    change.status, change.decided_by_user_id, change.decided_at = "rejected", principal.user_id, clock.now()
    change.decision_note = note
    session.flush()
    audit.record(session=session, clock=clock, actor=principal.actor, action="loan.change_rejected",
                 entity_type="loan_change", entity_id=change.id, institution_id=change.institution_id,
                 after={"loan_id": change.loan_id, "note": note})
    return change


def cancel(*, session: Session, clock: Clock, principal: Principal, change_id: int) -> LoanChange:
    """Withdraw one's own pending proposal."""
    change = _pending(session, principal, change_id)
    if change.requested_by_user_id != principal.user_id:
        raise NotFound(field="change_id")
    change.status, change.decided_at = "cancelled", clock.now()
    session.flush()
    audit.record(session=session, clock=clock, actor=principal.actor, action="loan.change_cancelled",
                 entity_type="loan_change", entity_id=change.id, institution_id=change.institution_id,
                 after={"loan_id": change.loan_id})
    return change


def of_loan(*, session: Session, principal: Principal, loan_id: int) -> list[LoanChange]:
    """A loan's changes, newest first."""
    loan = loans.visible(session=session, principal=principal, loan_id=loan_id)
    return repo.changes_of(session, loan.id)


def queue(*, session: Session, principal: Principal, page: PageRequest, status: str | None = "pending"
          ) -> PageResult[LoanChange]:
    """Changes in the caller's scope (pending ones by default), oldest first."""
    f = scope.filters(principal)
    return paginate(session, repo.changes_query(institution_id=f.institution_id, branch_id=f.branch_id,
                                                status=status), page)


def todos(*, session: Session, principal: Principal) -> list[Todo]:
    """Changes waiting for a second person (pending, in scope, proposed by someone else), for checkers."""
    if not principal.can("loan.change.approve"):
        return []
    f = scope.filters(principal)
    stmt = repo.count_changes_waiting(institution_id=f.institution_id, branch_id=f.branch_id,
                                      not_by=principal.user_id)
    return [Todo("loan_changes_waiting", repo.scalar_count(session, stmt))]
