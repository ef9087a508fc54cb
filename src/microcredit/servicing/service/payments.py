"""Money through the payment provider: payouts, online repayments, auto-debit, callbacks, reconciliation.

A `Payment` is what we asked the provider to move (docs/servicing.md, Payments). It is `requested`
until the provider says how it ended — in a signed callback or when asked (`poll`) —
and `apply` is the one place the provider's word changes it: once, from `requested` to `confirmed`
or `failed`; a later word (a duplicated or late callback, a poll after the callback) changes nothing.
On confirmation the loan's event (disbursement, repayment, prepayment) is recorded through
`loans.record`, under the payment's idempotency key, so the ledger posts in the same transaction and
the event cannot be recorded twice. A failure records nothing on the loan and keeps the reason.

A callback is taken in by `receive_callback` (verified, stored in the outbox once per payment and
outcome, answered at once) and applied after the answer by the outbox's dispatcher
(`apply_stored_callback` → `on_callback` → `apply`), retried with back-off while applying fails and
left dead, with the error, for staff to see in the outbox monitor after the last attempt.

Auto-debit (`autodebit`) collects what is due from each active loan's bound card on a due date, and
tries again by `RETRY_DAYS` while it stays unpaid. Reconciliation (`reconcile`) reads the provider's
daily statement and stores every break between it and our payments.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from microcredit.audit import service as audit
from microcredit.clock import Clock
from microcredit.errors import DomainError, NotFound
from microcredit.identity import scope
from microcredit.identity.principal import Principal
from microcredit.integrations.payments import (
    BadSignature,
    PaymentOrder,
    PaymentProvider,
    ProviderPayment,
    parse_statement,
)
from microcredit.lending.loan.fold import down_payment_of
from microcredit.lending.money import Money
from microcredit.notifications import service as notifications
from microcredit.parties import service as parties
from microcredit.platform.actor import Actor
from microcredit.platform.crypto import FieldCipher
from microcredit.platform.idempotency import IdempotencyKeyReused
from microcredit.platform.paging import PageRequest, PageResult, paginate
from microcredit.platform.todo import Todo
from microcredit.servicing import repository as repo
from microcredit.servicing.errors import (
    BreakAlreadyResolved,
    CallbackRejected,
    LoanWrongState,
    NoBankCard,
    PaymentNotFound,
    PayoutAboveAllowed,
    PayoutInProgress,
    StatementUnreadable,
    TranchesNotAllowed,
)
from microcredit.servicing.models import Loan, Payment, ReconciliationBreak
from microcredit.servicing.service import loans

ZONE = ZoneInfo("Asia/Shanghai")
# Auto-debit: tried on the due date, then 1 and 3 days after it while the installment stays unpaid.
RETRY_DAYS = (0, 1, 3)
EVENT_CHANNEL = {"payout": "bank_transfer", "online": "online", "auto_debit": "auto_debit"}
PROVIDER_STATUS = {"succeeded": "confirmed", "failed": "failed", "pending": "requested"}


def _card(session: Session, loan: Loan, card_id: int | None) -> Any:
    cards = parties.borrowers.bank_cards(session=session, borrower_id=loan.borrower_id)
    if card_id is not None:
        card = next((c for c in cards if c.id == card_id), None)
        if card is None:
            raise NotFound(field="card_id")
        return card
    if not cards:
        raise NoBankCard(field="card_id")
    return cards[0]  # the primary card first


def _order(payment: Payment, memo: str) -> PaymentOrder:
    return PaymentOrder(reference=merchant_reference(payment), amount=payment.amount,
                        account=f"card:{payment.bank_card_id}", account_masked=payment.card_masked or "", memo=memo)


def merchant_reference(payment: Payment) -> str:
    """Our reference as the provider knows it: unique across institutions, fixed per payment."""
    return f"MC{payment.institution_id}-{payment.id}"


def _earlier(session: Session, institution_id: int, key: str, loan: Loan, purpose: str) -> Payment | None:
    """The payment a key made already (the same request again); another request under it is refused."""
    earlier = repo.payment_by_key(session, institution_id, key)
    if earlier is not None and (earlier.loan_id != loan.id or earlier.purpose != purpose):
        raise IdempotencyKeyReused(field="idempotency_key")
    return earlier


def _new(session: Session, clock: Clock, actor: Actor, provider: PaymentProvider, loan: Loan, *, direction: str,
         purpose: str, channel: str, amount: Money, card: Any, key: str, mode: str | None = None,
         due_date: date | None = None, attempt: int = 1) -> Payment:
    now = clock.now()
    payment = Payment(institution_id=loan.institution_id, branch_id=loan.branch_id, loan_id=loan.id,
                      direction=direction, purpose=purpose, channel=channel, mode=mode, amount=amount,
                      bank_card_id=card.id if card is not None else None,
                      card_masked=card.card_masked if card is not None else None, provider=provider.name,
                      idempotency_key=key, status="requested", due_date=due_date, attempt=attempt,
                      requested_on=parties.organisation.business_date(session=session,
                                                                      institution_id=loan.institution_id),
                      requested_at=now, requested_by_user_id=actor.user_id)
    repo.add(session, payment)
    audit.record(session=session, clock=clock, actor=actor, action="payment.requested", entity_type="payment",
                 entity_id=payment.id, institution_id=loan.institution_id,
                 after={"loan": loan.number, "purpose": purpose, "channel": channel, "amount": str(amount),
                        "card": payment.card_masked, "mode": mode})
    return payment


def _sent(session: Session, clock: Clock, payment: Payment, answer: ProviderPayment, notify: bool = True) -> Payment:
    payment.provider_reference = answer.provider_reference
    payment.pay_url = answer.pay_url
    session.flush()
    return apply(session=session, clock=clock, payment=payment, answer=answer, via="answer", notify=notify)


# --- disbursement ------------------------------------------------------------------------------------


def request_payout(*, session: Session, clock: Clock, actor: Actor, provider: PaymentProvider, institution_id: int,
                   loan_id: int, key: str, card_id: int | None = None, amount: Money | None = None,
                   notify: bool = True) -> Payment:
    """Finance pays the loan out through the provider to the borrower's card (idempotent by `key`): the whole
    principal, or — when the product pays out in tranches — `amount`, the first tranche or a later one on
    the running loan, never more than the approved amount less what has been paid out or is on its way
    (`payout_above_allowed`). A down payment the product keeps back is not sent: the provider pays the
    rest, and the disbursement recorded on confirmation is the whole amount. The disbursement is recorded
    when the provider confirms it (`notify` False: the borrower is not told; `loans.record`)."""
    loan = loans.get(session=session, institution_id=institution_id, loan_id=loan_id, for_update=True)
    earlier = _earlier(session, institution_id, key, loan, "disbursement")
    if earlier is not None:
        return earlier
    tranches = bool(loan.terms.get("servicing", {}).get("tranches"))
    if loan.status != "pending_disbursement" and not (tranches and loan.status == "active"):
        raise LoanWrongState(status=loan.status, action="disbursement")
    if amount is not None and amount != loan.principal and not tranches:
        raise TranchesNotAllowed(field="amount")
    loans.ensure_contract_signed(session, loan)
    payouts = [p for p in repo.payments_of_loan(session, loan.id) if p.purpose == "disbursement"]
    busy = next((p for p in payouts if p.status == "requested" or (p.status == "confirmed" and not tranches)), None)
    if busy is not None:
        raise PayoutInProgress(field="loan_id", params={"status": busy.status})
    disbursed = loans.state_of(session=session, loan=loan).disbursed if loan.status == "active" \
        else Money.zero(loan.currency)
    allowed = loan.principal - disbursed
    amount = amount or loans.next_planned(session, loan) or allowed
    if amount > allowed:
        raise PayoutAboveAllowed(field="amount", params={"allowed": str(allowed)})
    card = _card(session, loan, card_id)
    terms = loans.core_terms(session, loan)
    kept = down_payment_of(terms, amount) if terms.down_payment is not None and \
        terms.down_payment.collected_at_disbursement else Money.zero(loan.currency)
    payment = _new(session, clock, actor, provider, loan, direction="out", purpose="disbursement", channel="payout",
                   amount=amount - kept, card=card, key=key)
    if kept.is_positive:  # the down payment kept back: the provider pays the rest, the loan records it all
        payment.event_amount = amount
    return _sent(session, clock, payment, provider.pay_out(session=session, order=_order(payment, loan.number)),
                 notify=notify)


# --- online repayment ----------------------------------------------------------------------------------


def start_online(*, session: Session, clock: Clock, principal: Principal, provider: PaymentProvider, loan_id: int,
                 amount: Money, purpose: str, mode: str | None, key: str) -> Payment:
    """The borrower starts paying on the phone: a repayment, or a prepayment with the choice of a shorter
    term or a lower installment. Recorded on the loan when the provider confirms it."""
    own = loans.own(session=session, principal=principal, loan_id=loan_id)
    loan = loans.get(session=session, institution_id=own.institution_id, loan_id=own.id, for_update=True)
    earlier = _earlier(session, loan.institution_id, key, loan, purpose)
    if earlier is not None:
        return earlier
    allowed = loans.ALLOWED[purpose]
    if loan.status not in allowed:
        raise LoanWrongState(status=loan.status, action=purpose)
    if amount.currency != loan.currency:
        raise NotFound(field="amount")  # pragma: no cover — the schema takes CNY only
    payment = _new(session, clock, principal.actor, provider, loan, direction="in", purpose=purpose,
                   channel="online", amount=amount, card=None, key=key, mode=mode)
    return _sent(session, clock, payment, provider.start_online(session=session, order=_order(payment, loan.number)))


# --- the provider's word ---------------------------------------------------------------------------------


def _value_date(session: Session, payment: Payment, settled_at: datetime | None) -> date:
    """The day the money moved (the provider's settlement day), never before the request's business date
    nor after today's."""
    today = parties.organisation.business_date(session=session, institution_id=payment.institution_id)
    day = settled_at.astimezone(ZONE).date() if settled_at is not None else today
    return min(max(day, payment.requested_on), today)


def apply(*, session: Session, clock: Clock, payment: Payment, answer: ProviderPayment, via: str,
          notify: bool = True) -> Payment:
    """What the provider says about a payment, taken once: `requested` becomes `confirmed` (the loan's
    event recorded, posted in the same transaction) or `failed` (nothing recorded, the reason kept).
    A payment already decided, an answer still pending, or one whose amount is not ours changes nothing.
    `notify` False: the borrower is not told of the event (`loans.record`)."""
    if payment.status != "requested" or answer.status == "pending":
        return payment
    if answer.amount != payment.amount:  # not what we asked: left for reconciliation to show
        return payment
    actor = Actor.system(payment.institution_id)
    now = clock.now()
    if answer.status == "failed":
        payment.status, payment.failure_reason = "failed", (answer.reason or "failed")[:64]
    else:
        day = _value_date(session, payment, answer.settled_at)
        common: dict[str, Any] = {"session": session, "clock": clock, "actor": actor,
                                  "institution_id": payment.institution_id, "loan_id": payment.loan_id,
                                  "on": day, "reference": payment.provider_reference,
                                  "idempotency_key": f"pay:{payment.id}", "notify": notify}
        try:
            with session.begin_nested():
                if payment.purpose == "disbursement":
                    recorded = loans.disburse(amount=payment.event_amount or payment.amount,
                                              channel=EVENT_CHANNEL[payment.channel], **common)
                elif payment.purpose == "prepayment":
                    recorded = loans.prepay(amount=payment.amount, mode=payment.mode or "shorten_term",
                                            channel=EVENT_CHANNEL[payment.channel], **common)
                else:
                    recorded = loans.repay(amount=payment.amount, channel=EVENT_CHANNEL[payment.channel], **common)
            payment.event_seq = recorded.event.seq
        except DomainError as exc:
            # The money moved but the loan cannot take it as asked (paid off meanwhile, say): confirmed
            # without an event; staff see it among the loan's payments and settle it by hand.
            payment.failure_reason = f"not_recorded:{exc.code}"[:64]
        payment.status = "confirmed"
    payment.settled_at = answer.settled_at or now
    payment.decided_at, payment.decided_by = now, via
    session.flush()
    audit.record(session=session, clock=clock, actor=actor, action=f"payment.{payment.status}",
                 entity_type="payment", entity_id=payment.id, institution_id=payment.institution_id,
                 after={"via": via, "provider_reference": payment.provider_reference, "reason": payment.failure_reason,
                        "event_seq": payment.event_seq})
    return payment


CALLBACK_TOPIC = "payment_callback"


@dataclass(frozen=True)
class Received:
    """A callback stored for the dispatcher: the payment it is about, its outbox message, and whether it was
    new (False: the same notice had been stored already)."""

    payment: Payment
    message_id: int
    new: bool


def receive_callback(*, session: Session, clock: Clock, cipher: FieldCipher, provider: PaymentProvider, body: bytes,
                     signature: str) -> Received:
    """A notification the provider POSTed, taken in and not yet applied: verified (else
    `callback_signature_invalid`, nothing read), its payment found (else `payment_not_found`), then stored in
    the outbox once per payment and outcome (the same notice again finds the stored one). The dispatcher
    applies it after the answer (`apply_stored_callback`), retrying with back-off while applying fails."""
    try:
        answer = provider.verify_callback(body, signature)
    except BadSignature:
        raise CallbackRejected(field="signature") from None
    payment = repo.payment_by_provider_reference(session, provider.name, answer.provider_reference)
    if payment is None:
        raise PaymentNotFound(field="provider_reference")
    message, new = notifications.enqueue(
        session=session, cipher=cipher, clock=clock, topic=CALLBACK_TOPIC, institution_id=payment.institution_id,
        template=CALLBACK_TOPIC, recipient_masked=answer.provider_reference[:32],
        payload={"provider": provider.name, "body": base64.b64encode(body).decode(), "signature": signature},
        dedupe_key=f"{provider.name}:{answer.provider_reference}:{answer.status}"[:128])
    if new:
        audit.record(session=session, clock=clock, actor=Actor.system(payment.institution_id),
                     action="payment.callback_received", entity_type="payment", entity_id=payment.id,
                     institution_id=payment.institution_id,
                     after={"provider_reference": answer.provider_reference, "status": answer.status,
                            "outbox_id": message.id})
    return Received(payment=payment, message_id=message.id, new=new)


def apply_stored_callback(*, session: Session, clock: Clock, provider: PaymentProvider,
                          payload: dict[str, Any]) -> Payment:
    """The dispatcher's handler of a stored callback (`receive_callback`): verified again and applied once."""
    if payload.get("provider") != provider.name:
        raise ValueError(f"a callback of provider {payload.get('provider')!r}, not of {provider.name!r}")
    return on_callback(session=session, clock=clock, provider=provider, body=base64.b64decode(payload["body"]),
                       signature=str(payload["signature"]))


def on_callback(*, session: Session, clock: Clock, provider: PaymentProvider, body: bytes, signature: str,
                notify: bool = True) -> Payment:
    """A notification the provider POSTed: verified (else `callback_signature_invalid`, nothing read),
    then applied once (`notify` False: the borrower is not told of the event; `loans.record`)."""
    try:
        answer = provider.verify_callback(body, signature)
    except BadSignature:
        raise CallbackRejected(field="signature") from None
    found = repo.payment_by_provider_reference(session, provider.name, answer.provider_reference)
    if found is None:
        raise PaymentNotFound(field="provider_reference")
    payment = repo.payment(session, found.id, for_update=True)
    assert payment is not None
    return apply(session=session, clock=clock, payment=payment, answer=answer, via="callback", notify=notify)


def poll(*, session: Session, clock: Clock, provider: PaymentProvider, payment: Payment) -> Payment:
    """Ask the provider where a requested payment stands (when no callback came) and apply the answer."""
    if payment.status != "requested" or payment.provider_reference is None:
        return payment
    locked = repo.payment(session, payment.id, for_update=True)
    assert locked is not None
    answer = provider.status_of(session=session, provider_reference=payment.provider_reference)
    return apply(session=session, clock=clock, payment=locked, answer=answer, via="poll")


# --- reading --------------------------------------------------------------------------------------------


def of_loan(*, session: Session, loan: Loan) -> list[Payment]:
    """A loan's payments, newest first."""
    return repo.payments_of_loan(session, loan.id)


def visible(*, session: Session, principal: Principal, payment_id: int) -> Payment:
    """A payment the staff caller's scope covers."""
    payment = repo.payment(session, payment_id)
    if payment is None:
        raise NotFound(field="payment_id")
    scope.ensure_visible(principal, institution_id=payment.institution_id, branch_id=payment.branch_id)
    return payment


def own(*, session: Session, principal: Principal, payment_id: int) -> Payment:
    """A payment on one of the borrower caller's own loans."""
    payment = repo.payment(session, payment_id)
    if payment is None:
        raise NotFound(field="payment_id")
    loans.own(session=session, principal=principal, loan_id=payment.loan_id)
    return payment


# --- auto-debit -------------------------------------------------------------------------------------------


@dataclass
class AutodebitReport:
    """What a run did: payments asked for (ids), and loans passed over with why."""

    on: date
    requested: list[int] = field(default_factory=list)
    confirmed: int = 0
    failed: int = 0
    skipped: dict[str, int] = field(default_factory=dict)

    def skip(self, why: str) -> None:
        self.skipped[why] = self.skipped.get(why, 0) + 1


def autodebit(*, session: Session, clock: Clock, provider: PaymentProvider, institution_id: int,
              on: date, loan_ids: list[int] | None = None) -> AutodebitReport:
    """Collect what is due on `on` from each active loan's bound (primary) card (only the loans of
    `loan_ids` when given: the close of business's partitions). An installment still
    unpaid is tried on its due date and `RETRY_DAYS` after it, each attempt a payment of its own; a run
    again on the same day asks for nothing new (the key names the loan, the due date and the day)."""
    report = AutodebitReport(on)
    actor = Actor.system(institution_id)
    for candidate in repo.active_loans(session, institution_id, loan_ids):
        state = loans.state_of(session=session, loan=candidate, as_of=on)
        unpaid = [row for row in state.installments if row.due_date <= on and not row.settled]
        if not unpaid:
            report.skip("nothing_due")
            continue
        due_date = min(row.due_date for row in unpaid)
        owed = state.due_now.total - state.credit_balance
        if not owed.is_positive:
            report.skip("nothing_due")
            continue
        if (on - due_date).days not in RETRY_DAYS:
            report.skip("not_a_retry_day")
            continue
        key = f"autodebit:{candidate.id}:{due_date.isoformat()}:{on.isoformat()}"
        earlier = repo.autodebits_for(session, candidate.id, due_date)
        if any(p.idempotency_key == key for p in earlier) or any(p.status == "requested" for p in earlier):
            report.skip("already_tried")
            continue
        cards = parties.borrowers.bank_cards(session=session, borrower_id=candidate.borrower_id)
        if not cards:
            report.skip("no_card")
            continue
        loan = loans.get(session=session, institution_id=institution_id, loan_id=candidate.id, for_update=True)
        payment = _new(session, clock, actor, provider, loan, direction="in", purpose="repayment",
                       channel="auto_debit", amount=owed, card=cards[0], key=key, due_date=due_date,
                       attempt=len(earlier) + 1)
        payment = _sent(session, clock, payment, provider.collect(session=session,
                                                                  order=_order(payment, loan.number)))
        report.requested.append(payment.id)
        report.confirmed += payment.status == "confirmed"
        report.failed += payment.status == "failed"
    return report


# --- reconciliation ----------------------------------------------------------------------------------------


def _ours(p: Payment) -> dict[str, Any]:
    return {"payment_id": p.id, "loan_id": p.loan_id, "amount": str(p.amount), "status": p.status,
            "purpose": p.purpose, "channel": p.channel}


def reconcile(*, session: Session, clock: Clock, provider: PaymentProvider, institution_id: int, text: str,
              statement_date: date) -> list[ReconciliationBreak]:
    """Match the provider's statement of `statement_date` against our payments and store every break:
    a line we have no payment for (`missing_ours`), a payment of ours settled that day that the
    statement lacks (`missing_theirs`), a different amount (`amount_differs`) or outcome
    (`status_differs`). Reconciling the same statement again stores nothing new."""
    try:
        lines = parse_statement(text)
    except ValueError as exc:
        raise StatementUnreadable(field="statement", params={"reason": str(exc)}) from None
    ours = repo.payments_by_merchant_references(session, provider.name, [x.provider_reference for x in lines])
    prefix = f"MC{institution_id}-"
    found: list[tuple[str, str, str | None, Payment | None, dict[str, Any] | None]] = []
    seen: set[int] = set()
    for line in lines:
        theirs = {"amount": str(line.amount), "status": line.status, "kind": line.kind,
                  "settled_at": line.settled_at}
        payment = ours.get(line.provider_reference)
        if payment is None:
            if line.reference.startswith(prefix):
                found.append(("missing_ours", line.reference, line.provider_reference, None, theirs))
            continue
        if payment.institution_id != institution_id:
            continue
        seen.add(payment.id)
        if payment.amount != line.amount:
            found.append(("amount_differs", line.reference, line.provider_reference, payment, theirs))
        if PROVIDER_STATUS.get(line.status) != payment.status:
            found.append(("status_differs", line.reference, line.provider_reference, payment, theirs))
    start = datetime(statement_date.year, statement_date.month, statement_date.day, tzinfo=ZONE)
    for payment in repo.payments_decided_between(session, institution_id, provider.name, start,
                                                 start + timedelta(days=1)):
        if payment.id not in seen:
            found.append(("missing_theirs", merchant_reference(payment), payment.provider_reference, payment, None))
    stored = []
    now = clock.now()
    for kind, reference, provider_reference, payment, their in found:
        if repo.break_exists(session, institution_id, statement_date, kind, reference):
            continue
        row = ReconciliationBreak(institution_id=institution_id, statement_date=statement_date, kind=kind,
                                  reference=reference, provider_reference=provider_reference,
                                  payment_id=payment.id if payment else None,
                                  ours=_ours(payment) if payment else None, theirs=their, found_at=now,
                                  resolved=False)
        repo.add(session, row)
        stored.append(row)
    audit.record(session=session, clock=clock, actor=Actor.system(institution_id), action="payments.reconciled",
                 entity_type="institution", entity_id=institution_id, institution_id=institution_id,
                 after={"statement_date": statement_date.isoformat(), "lines": len(lines), "breaks": len(found),
                        "new_breaks": len(stored)})
    return stored


def breaks(*, session: Session, principal: Principal, page: PageRequest, resolved: bool | None = False
           ) -> PageResult[ReconciliationBreak]:
    """Reconciliation breaks of the caller's institution, newest first."""
    f = scope.filters(principal)
    stmt = repo.breaks_query(institution_id=f.institution_id, resolved=resolved).order_by(
        ReconciliationBreak.id.desc())
    return paginate(session, stmt, page)


def resolve_break(*, session: Session, clock: Clock, principal: Principal, break_id: int, note: str
                  ) -> ReconciliationBreak:
    """Finance marks a break resolved, saying how (the provider corrected its statement, the money was
    refunded, a payment settled by hand …): it leaves the open list and the to-dos; audited. Once only
    (`break_already_resolved`); another institution's break is not found."""
    row = repo.get_break(session, break_id, for_update=True)
    if row is None:
        raise NotFound(field="break_id")
    scope.ensure_visible(principal, institution_id=row.institution_id, branch_id=None)
    if row.resolved:
        raise BreakAlreadyResolved(field="break_id")
    row.resolved, row.resolved_at, row.resolved_by_user_id = True, clock.now(), principal.user_id
    row.resolution_note = note
    session.flush()
    audit.record(session=session, clock=clock, actor=principal.actor, action="payments.break_resolved",
                 entity_type="reconciliation_break", entity_id=row.id, institution_id=row.institution_id,
                 after={"kind": row.kind, "reference": row.reference, "note": note})
    return row


def todos(*, session: Session, principal: Principal) -> list[Todo]:
    """Reconciliation breaks not resolved, for those who record repayments."""
    if principal.kind != "staff" or not principal.can("repayment.record"):
        return []
    f = scope.filters(principal)
    return [Todo("reconciliation_breaks", repo.open_breaks_count(session, f.institution_id))]
