"""Routes of servicing: opening and disbursing loans, repayments, prepayments, reversals; loans to read.

Money movements require an `Idempotency-Key` header (the shared mechanism, `api.deps.idempotent`):
a repeat of the same request answers with the stored response and changes nothing; another request
under the same key is refused. The key is also recorded on the loan's event, unique per loan, so
that a repeat through another caller or channel cannot record the event twice either.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from functools import partial
from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, Depends, Header, Path, Query, Request
from fastapi.responses import Response

from microcredit.api.deps import (
    DB,
    IdempotencyGuard,
    Kit,
    Payments,
    dispatch_outbox,
    idempotent,
    public,
    require,
    require_any,
    runtime_of,
)
from microcredit.api.params import Id, PageNo, PageSize
from microcredit.identity.principal import Principal
from microcredit.integrations.payments import SIGNATURE_HEADER
from microcredit.origination import service as origination
from microcredit.origination.schemas import GuarantorCreate, GuarantorPartyRead, GuarantorRelease
from microcredit.platform.paging import PageRequest
from microcredit.platform.routing import UnitOfWorkRoute
from microcredit.platform.schema import Page
from microcredit.products.service import replay
from microcredit.servicing.errors import ModeRequired, PaymentNotFound
from microcredit.servicing.models import Loan
from microcredit.servicing.schemas import (
    AccelerationCreate,
    BreakRead,
    BreakResolve,
    CallbackAck,
    CancellationCreate,
    CancellationRead,
    ChangeDecision,
    ChangeReject,
    CollectionSheetCreate,
    CollectionSheetLineRead,
    CollectionSheetRead,
    CollectionSheetSavedRead,
    DeskApplication,
    DeskRead,
    DisbursementCreate,
    EntryRef,
    GroupMemberLine,
    GroupStatementRead,
    GuaranteeRead,
    GuarantorFoundRead,
    GuarantorSearch,
    HandoverCreate,
    LoanChangeCreate,
    LoanChangeRead,
    LoanEventRead,
    LoanOpen,
    LoanRead,
    LoanStatusName,
    LoanSummary,
    OnlinePaymentCreate,
    PaymentOrderRead,
    PayoutCreate,
    PrepaymentCreate,
    RecordedRead,
    RecoveryCreate,
    RepaymentCreate,
    RepaymentRecordedRead,
    ReversalCreate,
    ServicingSettingsRead,
    ServicingSettingsUpdate,
    StatementUpload,
)
from microcredit.servicing.service import (
    changes,
    collection_sheets,
    groups,
    guarantors,
    loans,
    payments,
    receipts,
    settings,
)

router = APIRouter(tags=["servicing"], route_class=UnitOfWorkRoute)

WAITS: dict[str, Any] = {"model": LoanChangeRead, "description": (
    "Cash or transfer above the institution's threshold: a pending change (kind `repayment`, `prepayment` or "
    "`recovery`) that waits for a second person")}
Seq = Annotated[int, Path(ge=1, le=1_000_000, description="The event's number on the loan")]
PDF_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The receipt (money received) or voucher (money paid out), PDF",
          "content": {"application/pdf": {}}},
    404: {"description": "No such event, or one without a receipt or voucher"}}
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=80,
                                              description="Client-generated unique key (UUID v4 recommended)")]
MOVE_RESPONSES: dict[int | str, dict[str, Any]] = {
    409: {"description": "The loan's status does not allow it (`loan_wrong_state`), or the key was used for "
                         "another request (`idempotency_key_reused`)"},
    422: {"description": "The loan cannot take it (`loan_event_refused`, the engine's reason), or a value date "
                         "after the business date (`value_date_in_future`)"}}


def _events(session: Any, loan: Loan, staff: bool, rows: Any = None) -> list[LoanEventRead]:
    rows = list(rows) if rows is not None else loans.events(session=session, loan=loan)
    trail = loans.trail(session=session, loan=loan, rows=rows)
    names = loans.user_names(session=session, rows=rows) if staff else {}
    return [LoanEventRead.model_validate(e).model_copy(update={
        "entries": [EntryRef(id=i, basis=b) for i, b in trail.get(e.seq, [])],
        "user_name": names.get(e.user_id) if e.user_id else None,
        "has_document": receipts.has_document(e.type)}) for e in rows]


def _read(session: Any, loan: Loan, staff: bool = True, state: Any = None, rows: Any = None,
          with_state: bool = True, with_events: bool = True) -> LoanRead:
    """The loan as read; for staff (`staff`) with the names of the borrower and of who recorded each event.
    `state`: the loan's fold on the business date when the caller has it (a recorded event's), not folded again;
    `rows`: its events, likewise. `with_state` False: `state` left out (null), the caller puts in its JSON;
    `with_events` False: `events` left empty, likewise."""
    if loan.status == "pending_disbursement" or not with_state:
        state = None
    elif state is None:
        state = loans.state_of(session=session, loan=loan)
    summary = LoanSummary.model_validate(loan)
    if staff:
        summary.borrower_name = loans.borrower_names(session=session, rows=[loan]).get(loan.borrower_id)
    meetings = loan.terms.get("meetings") or {}
    return LoanRead(**summary.model_dump(), terms=loan.terms, version=loan.version,
                    synced_to_meetings=meetings.get("synced"), meetings_reason=meetings.get("reason"),
                    state=None if state is None else replay.state_read(state),
                    events=_events(session, loan, staff, rows) if with_events else [])


# An event's read as JSON (`LoanEventRead`, its trail and recorder's name left empty), by (loan, seq), kept while
# the stored row is what it was made from: the answer to a recorded event does not run every older event of the
# loan through the schema again (`_events_json`).
_EVENT_READS = loans.Parsed(max_entries=200_000)


def _event_source(row: Any) -> tuple[Any, ...]:
    return (row.id, row.event_id, row.type, row.value_date, row.business_date, row.payload, row.recorded_at,
            row.user_id, row.reference, row.note)


def _event_json(row: Any) -> dict[str, Any]:
    return LoanEventRead.model_validate(row).model_copy(update={"has_document": receipts.has_document(row.type)}
                                                         ).model_dump(mode="json", by_alias=True)


def _events_json(session: Any, loan: Loan, rows: Sequence[Any]) -> list[dict[str, Any]]:
    """`_events` (staff) as JSON, each event's own fields from the kept reads: the same JSON, key for key."""
    trail = loans.trail(session=session, loan=loan, rows=list(rows))
    names = loans.user_names(session=session, rows=list(rows))
    out = []
    for row in rows:
        base: dict[str, Any] = _EVENT_READS.get((row.loan_id, row.seq), _event_source(row),
                                                partial(_event_json, row))
        out.append({**base, "user_name": names.get(row.user_id) if row.user_id else None,
                    "entries": [{"id": i, "basis": b} for i, b in trail.get(row.seq, ())]})
    return out


def _recorded(session: Any, guard: IdempotencyGuard, result: loans.Recorded) -> Response:
    """The answer to a recorded event (`RecordedRead`), stored under the key. The loan's state is the snapshot
    recording stored (`products.replay.state_json`, the schema's JSON built from the fold), and its events the
    rows recording read with the new one (`_events_json`): neither built and serialised again through the
    schema, nor read again."""
    snapshot = result.state_json if result.loan.status != "pending_disbursement" else None
    if snapshot is None or result.events is None:
        read = _read(session, result.loan, state=result.state, rows=result.events, with_state=snapshot is None)
        event = next(e for e in read.events if e.seq == result.event.seq)
        answer = RecordedRead(loan=read, event=event,
                              entries=[EntryRef(id=e.id, basis=e.basis) for e in result.entries],
                              repeated=result.repeated)
        if snapshot is None:
            return guard.respond(200, answer)
        data = answer.model_dump(mode="json", by_alias=True)
        data["loan"]["state"] = snapshot
        return guard.respond_json(200, data)
    loan = _read(session, result.loan, with_state=False, with_events=False).model_dump(mode="json", by_alias=True)
    loan["state"] = snapshot
    loan["events"] = events = _events_json(session, result.loan, result.events)
    event = next(e for e in reversed(events) if e["seq"] == result.event.seq)
    return guard.respond_json(200, {"loan": loan, "event": event,
                                    "entries": [{"id": e.id, "basis": e.basis} for e in result.entries],
                                    "repeated": result.repeated})


_LEAN_STATE = ("as_of", "totals", "credit_balance", "payoff")


def _repaid(session: Any, guard: IdempotencyGuard, principal: Principal, result: loans.Recorded) -> Response:
    """The answer to a repayment (`RepaymentRecordedRead`), stored under the key: the event with its allocation and
    entries, the loan's new status, version and balances, the receipt. From what recording had in hand (the fold's
    snapshot, the new event, its entries); nothing read for it, nothing that grows with the loan's history. A
    repeat through the loan's own key (another caller, `repeated`) reads the event's trail and recorder."""
    loan, event = result.loan, result.event
    snapshot = result.state_json if result.state_json is not None else replay.state_json(result.state)
    if result.repeated:
        entries = [{"id": i, "basis": b}
                   for i, b in loans.trail(session=session, loan=loan, rows=[event]).get(event.seq, ())]
        user_name = loans.user_names(session=session, rows=[event]).get(event.user_id) if event.user_id else None
    else:
        entries = [{"id": e.id, "basis": e.basis} for e in result.entries]
        user_name = principal.display_name if event.user_id == principal.user_id else (
            loans.user_names(session=session, rows=[event]).get(event.user_id) if event.user_id else None)
    read = _event_json(event)
    paid = {"id": loan.id, "number": loan.number, "currency": loan.currency, "status": loan.status,
            "version": loan.version, "outstanding_principal": str(loan.outstanding_principal), "dpd": loan.dpd,
            "next_due_date": _day(loan.next_due_date), "closed_on": _day(loan.closed_on),
            **{name: snapshot[name] for name in _LEAN_STATE}}
    allocation = next((p for p in reversed(snapshot["payments"]) if p["event_id"] == event.event_id), None)
    return guard.respond_json(200, {
        "loan": paid, "event": {**read, "user_name": user_name, "entries": entries}, "allocation": allocation,
        "entries": entries, "receipt": f"/api/v1/loans/{loan.id}/events/{event.seq}/document"
        if read["has_document"] else None, "repeated": result.repeated})


def _day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


# --- staff -----------------------------------------------------------------------------------------


@router.post("/loans", response_model=LoanRead, status_code=201, operation_id="open_loan",
             summary="Open the loan of an approved application",
             responses={409: {"description": "Not approved (`application_not_approved`) or already opened "
                                             "(`loan_already_opened`)"}})
def open_loan(body: LoanOpen, session: DB, kit: Kit, principal: Principal = require("loan.disburse")) -> LoanRead:
    """On the terms of the application's product version at the approved rate; not yet disbursed."""
    loan = loans.open_loan(session=session, clock=kit.clock, actor=principal.actor,
                           institution_id=principal.institution_id, application_id=body.application_id)
    return _read(session, loan)


@router.post("/loans/cancellations", response_model=CancellationRead, status_code=201,
             operation_id="cancel_before_payout", summary="Call an approved application off before payout",
             responses={409: {"description": "A payout was requested or made (`payout_in_progress`), the loan is not "
                                             "waiting for payout (`loan_wrong_state`), or the application is not "
                                             "approved (`application_wrong_state`)"}})
def cancel_before_payout(body: CancellationCreate, session: DB, kit: Kit,
                         principal: Principal = require("loan.disburse")) -> CancellationRead:
    """The application is withdrawn, its contract voided, its loan (if opened) cancelled; the borrower is told."""
    done = loans.cancel_before_payout(session=session, clock=kit.clock, actor=principal.actor,
                                      institution_id=principal.institution_id, application_id=body.application_id,
                                      note=body.note)
    return CancellationRead(application_id=done.application_id, loan_id=done.loan.id if done.loan else None,
                            loan_number=done.loan.number if done.loan else None,
                            contract_number=done.contract_number)


@router.get("/loans", response_model=Page[LoanSummary], operation_id="list_loans", summary="Loans in scope")
def list_loans(session: DB, principal: Principal = require("loan.read"), page: PageNo = 1, page_size: PageSize = 20,
               sort: Annotated[str | None, Query(max_length=40)] = None,
               status: LoanStatusName | None = None) -> Page[LoanSummary]:
    """Newest first unless sorted (id, number, disbursed_on, dpd, outstanding_principal; '-' for descending)."""
    r = loans.list_for_staff(session=session, principal=principal, page=PageRequest(page, page_size, sort),
                             status=status)
    names = loans.borrower_names(session=session, rows=list(r.items))
    return Page(items=[LoanSummary.model_validate(x).model_copy(update={"borrower_name": names.get(x.borrower_id)})
                       for x in r.items], total=r.total, page=r.page, page_size=r.page_size)


@router.get("/loans/desk", response_model=DeskRead, operation_id="get_disbursement_desk",
            summary="What waits to be disbursed")
def get_disbursement_desk(session: DB, principal: Principal = require("loan.disburse")) -> DeskRead:
    """Approved applications in scope with no loan yet (oldest first, at most 200) and loans opened but not paid out."""
    d = loans.desk(session=session, principal=principal)
    pending_names = loans.borrower_names(session=session, rows=d.pending)
    return DeskRead(approved=[DeskApplication.model_validate(a).model_copy(update={"borrower_name": d.names.get(
        a.borrower_id)}) for a in d.approved], pending=[LoanSummary.model_validate(x).model_copy(update={
        "borrower_name": pending_names.get(x.borrower_id)}) for x in d.pending])


@router.get("/loans/{loan_id}", response_model=LoanRead, operation_id="get_loan", summary="A loan")
def get_loan(loan_id: Id, session: DB, principal: Principal = require("loan.read")) -> LoanRead:
    """Its terms, its state on the business date (schedule, payments, arrears) and its events."""
    return _read(session, loans.visible(session=session, principal=principal, loan_id=loan_id))


@router.get("/loans/{loan_id}/guarantors", response_model=list[GuarantorPartyRead], operation_id="list_loan_guarantors",
            summary="The guarantors of a loan (of the application it was opened from, and added since)")
def list_loan_guarantors(loan_id: Id, session: DB, principal: Principal = require("loan.read")
                         ) -> list[GuarantorPartyRead]:
    """Active and released, in the order added; ID number and phone masked."""
    loan = loans.visible(session=session, principal=principal, loan_id=loan_id)
    return [GuarantorPartyRead.model_validate(g, from_attributes=True) for g in guarantors.of_loan(session, loan)]


GUARANTOR_EDITORS = require_any(*origination.guarantors.EDITOR_PERMISSIONS)
GUARANTOR_RESPONSES: dict[int | str, dict[str, Any]] = {
    409: {"description": "The loan is not active (`loan_wrong_state`), the person is already its active "
                         "guarantor (`guarantor_duplicate`) or was released (`guarantor_released`)"},
    422: {"description": "A bad ID number or phone (naming `id_number` / `phone`), an underage guarantor, the "
                         "borrower themself, or no signed consent (`consent_signed`)"}}


@router.post("/loans/{loan_id}/guarantors", response_model=GuarantorPartyRead, status_code=201,
             operation_id="add_loan_guarantor", summary="Add a guarantor to an active loan",
             responses=GUARANTOR_RESPONSES)
def add_loan_guarantor(loan_id: Id, body: GuarantorCreate, session: DB, kit: Kit,
                       principal: Principal = GUARANTOR_EDITORS) -> GuarantorPartyRead:
    """As on an application before its decision (`add_application_guarantor`): the ID number validated as a
    borrower's, the phone as a mainland mobile, both stored encrypted; `consent_signed` must be true. The
    loan must be active; the audit record (`guarantor.added_to_loan`) names it."""
    data = origination.guarantors.NewGuarantor(name=body.name, id_number=body.id_number, phone=body.phone,
                                               relation=body.relation, kind=body.kind, amount=body.amount)
    return GuarantorPartyRead.model_validate(guarantors.add(
        session=session, kit=kit, principal=principal, loan_id=loan_id, data=data,
        consent_signed=body.consent_signed), from_attributes=True)


@router.post("/loans/{loan_id}/guarantors/{guarantor_id}/release", response_model=GuarantorPartyRead,
             operation_id="release_loan_guarantor", summary="Release a guarantor of an active loan",
             responses=GUARANTOR_RESPONSES)
def release_loan_guarantor(loan_id: Id, guarantor_id: Id, body: GuarantorRelease, session: DB, kit: Kit,
                           principal: Principal = GUARANTOR_EDITORS) -> GuarantorPartyRead:
    """Final; the guarantor stays on the list as released (audited with the reason and the loan)."""
    return GuarantorPartyRead.model_validate(guarantors.release(
        session=session, kit=kit, principal=principal, loan_id=loan_id, guarantor_id=guarantor_id,
        reason=body.reason), from_attributes=True)


@router.post("/guarantors/search", response_model=list[GuarantorFoundRead], operation_id="search_guarantors",
             summary="Find guarantors and what each guarantees (terms in the body)")
def search_guarantors(body: GuarantorSearch, session: DB, kit: Kit,
                      principal: Principal = require("borrower.read")) -> list[GuarantorFoundRead]:
    """By full ID number or phone (exact, through the blind indexes borrowers are found by), the last digits
    of the ID number, or part of the name; in the caller's scope, grouped by person, masked, each with the
    applications and loans they guarantee (at most 200 guarantees)."""
    return [GuarantorFoundRead(name=p.name, id_number_masked=p.id_number_masked, phone_masked=p.phone_masked,
                               active_loans=p.active_loans,
                               guarantees=[GuaranteeRead.model_validate(g, from_attributes=True)
                                           for g in p.guarantees])
            for p in guarantors.search(session=session, kit=kit, principal=principal, q=body.q)]


@router.post("/loans/{loan_id}/disbursements", response_model=RecordedRead, operation_id="disburse_loan",
             summary="Record a disbursement made outside the payment provider",
             responses={**MOVE_RESPONSES, 409: {"description": "The contract is not fully signed "
                                                "(`contract_not_signed`), the loan's status does not allow it "
                                                "(`loan_wrong_state`), or the key was used for another request"}})
def disburse_loan(loan_id: Id, body: DisbursementCreate, session: DB, kit: Kit, key: IdempotencyKey = None,
                  guard: IdempotencyGuard = idempotent("loan.disbursement"),
                  principal: Principal = require("loan.disburse")) -> Any:
    """The schedule starts on the value date; posts Dr loan principal / Cr bank in the same transaction."""
    loan = loans.visible(session=session, principal=principal, loan_id=loan_id)
    return _recorded(session, guard, loans.disburse(
        session=session, clock=kit.clock, actor=principal.actor, institution_id=loan.institution_id, loan_id=loan.id,
        on=body.on, amount=body.amount, channel=body.channel, reference=body.reference, idempotency_key=key))


@router.post("/loans/{loan_id}/repayments", response_model=RepaymentRecordedRead, operation_id="record_repayment",
             summary="Record money received from the borrower",
             responses={**MOVE_RESPONSES, 202: WAITS})
def record_repayment(loan_id: Id, body: RepaymentCreate, session: DB, kit: Kit, key: IdempotencyKey = None,
                     guard: IdempotencyGuard = idempotent("loan.repayment"),
                     principal: Principal = require("repayment.record")) -> Any:
    """Allocated by the loan's strategy; each component posted to its account, in both books (above the
    threshold: recorded when someone with `loan.change.approve` confirms it). The answer is what the repayment did
    and the loan's new balances; the whole loan is `GET /loans/{loan_id}`."""
    taken = changes.take_repayment(session=session, clock=kit.clock, principal=principal, loan_id=loan_id,
                                   amount=body.amount, on=body.on, channel=body.channel, reference=body.reference,
                                   idempotency_key=key)
    if isinstance(taken, loans.Recorded):
        return _repaid(session, guard, principal, taken)
    return guard.respond(202, LoanChangeRead.model_validate(taken))


@router.post("/loans/{loan_id}/prepayments", response_model=RecordedRead, operation_id="record_prepayment",
             summary="Record an early repayment of principal", responses={**MOVE_RESPONSES, 202: WAITS})
def record_prepayment(loan_id: Id, body: PrepaymentCreate, session: DB, kit: Kit, key: IdempotencyKey = None,
                      guard: IdempotencyGuard = idempotent("loan.prepayment"),
                      principal: Principal = require("repayment.record")) -> Any:
    """Settles what is due and interest to the day, then lowers the principal: a shorter term or a lower installment
    (above the threshold, like a repayment: recorded when a second person confirms it)."""
    taken = changes.take_repayment(session=session, clock=kit.clock, principal=principal, loan_id=loan_id,
                                   amount=body.amount, on=body.on, channel=body.channel, reference=body.reference,
                                   idempotency_key=key, mode=body.mode)
    if isinstance(taken, loans.Recorded):
        return _recorded(session, guard, taken)
    return guard.respond(202, LoanChangeRead.model_validate(taken))


@router.post("/loans/{loan_id}/reversals", response_model=RecordedRead, operation_id="reverse_loan_event",
             summary="Undo an event of the loan", responses=MOVE_RESPONSES)
def reverse_loan_event(loan_id: Id, body: ReversalCreate, session: DB, kit: Kit, key: IdempotencyKey = None,
                       guard: IdempotencyGuard = idempotent("loan.reversal"),
                       principal: Principal = require("repayment.record")) -> Any:
    """Later payments re-allocate; the books are corrected by counter-entries, never edited."""
    loan = loans.visible(session=session, principal=principal, loan_id=loan_id)
    return _recorded(session, guard, loans.reverse(
        session=session, clock=kit.clock, actor=principal.actor, institution_id=loan.institution_id, loan_id=loan.id,
        event_id=body.event_id, note=body.note, idempotency_key=key))


@router.post("/loans/{loan_id}/accelerations", response_model=RecordedRead, operation_id="accelerate_loan",
             summary="Call the loan early (宣布提前到期)", responses=MOVE_RESPONSES)
def accelerate_loan(loan_id: Id, body: AccelerationCreate, session: DB, kit: Kit, key: IdempotencyKey = None,
                    guard: IdempotencyGuard = idempotent("loan.acceleration"),
                    principal: Principal = require("loan.change.approve")) -> Any:
    """The principal left and the interest to the day fall due at once; one step by a holder of
    `loan.change.approve` (who decides waivers, reschedulings and write-offs), docs/servicing.md."""
    loan = loans.visible(session=session, principal=principal, loan_id=loan_id)
    return _recorded(session, guard, loans.accelerate(
        session=session, clock=kit.clock, actor=principal.actor, institution_id=loan.institution_id, loan_id=loan.id,
        on=body.on, reason=body.reason, note=body.note, idempotency_key=key))


@router.post("/loans/{loan_id}/recoveries", response_model=RecordedRead, operation_id="record_recovery",
             summary="Record money recovered on a written-off loan", responses={**MOVE_RESPONSES, 202: WAITS})
def record_recovery(loan_id: Id, body: RecoveryCreate, session: DB, kit: Kit, key: IdempotencyKey = None,
                    guard: IdempotencyGuard = idempotent("loan.recovery"),
                    principal: Principal = require("repayment.record")) -> Any:
    """Posted to recoveries income (at most what was written off); in cash or by transfer above the threshold,
    like a repayment: recorded when a second person confirms it."""
    taken = changes.take_repayment(session=session, clock=kit.clock, principal=principal, loan_id=loan_id,
                                   amount=body.amount, on=body.on, channel=body.channel, reference=body.reference,
                                   idempotency_key=key, recovery=True)
    if isinstance(taken, loans.Recorded):
        return _recorded(session, guard, taken)
    return guard.respond(202, LoanChangeRead.model_validate(taken))


def _pdf(doc: receipts.Document) -> Response:
    return Response(doc.data, media_type="application/pdf", headers={
        "Content-Disposition": f"attachment; filename=\"{doc.filename}\"", "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store, private"})


@router.get("/loans/{loan_id}/events/{seq}/document", response_class=Response,
            operation_id="get_loan_event_document", summary="The receipt or voucher of a loan's event",
            responses=PDF_RESPONSES)
def get_loan_event_document(loan_id: Id, seq: Seq, session: DB, kit: Kit, principal: Principal = require("loan.read")
                            ) -> Response:
    """A receipt for a repayment, prepayment or recovery; a voucher for a disbursement or refund (audited)."""
    loan = loans.visible(session=session, principal=principal, loan_id=loan_id)
    return _pdf(receipts.document(session=session, clock=kit.clock, actor=principal.actor, loan=loan, seq=seq))


# --- changes by maker-checker ----------------------------------------------------------------------


@router.post("/loans/{loan_id}/changes", response_model=LoanChangeRead, status_code=201,
             operation_id="propose_loan_change",
             summary="Propose a waiver, deferral, rescheduling, write-off or refund of credit",
             responses={409: {"description": "The loan's status does not allow it (`loan_wrong_state`)"},
                        422: {"description": "The loan could not take it today (`loan_event_refused`), or a "
                                              "refund with no credit held (`no_credit_balance`)"}})
def propose_loan_change(loan_id: Id, body: LoanChangeCreate, session: DB, kit: Kit,
                        principal: Principal = require("loan.change.request")) -> LoanChangeRead:
    """Tried against the loan at once; recorded only when someone else approves it — except a waiver or refund
    of credit at or below the loan's `change_approval_above` (its product's), recorded at once: the answer is
    then the change `approved` by its proposer, with its event's number."""
    details = body.model_dump(mode="json", exclude={"kind", "reason_code", "note"}, exclude_none=True)
    return LoanChangeRead.model_validate(changes.request_change(
        session=session, clock=kit.clock, principal=principal, loan_id=loan_id, kind=body.kind, details=details,
        reason_code=body.reason_code, note=body.note))


@router.get("/loans/{loan_id}/changes", response_model=list[LoanChangeRead], operation_id="list_loan_changes",
            summary="A loan's changes")
def list_loan_changes(loan_id: Id, session: DB, principal: Principal = require("loan.read")) -> list[LoanChangeRead]:
    """Newest first, whatever their status."""
    return [LoanChangeRead.model_validate(c) for c in changes.of_loan(session=session, principal=principal,
                                                                       loan_id=loan_id)]


@router.get("/loan-changes", response_model=Page[LoanChangeRead], operation_id="list_pending_loan_changes",
            summary="Changes waiting for a decision")
def list_pending_loan_changes(session: DB, principal: Principal = require("loan.change.approve"), page: PageNo = 1,
                              page_size: PageSize = 20,
                              status: Literal["pending", "approved", "rejected", "cancelled"] = "pending"
                              ) -> Page[LoanChangeRead]:
    """In the caller's scope, oldest first."""
    r = changes.queue(session=session, principal=principal, page=PageRequest(page, page_size), status=status)
    of = {loan.id: loan for loan in loans.by_ids(session=session, loan_ids=sorted({c.loan_id for c in r.items}))}
    names = loans.borrower_names(session=session, rows=list(of.values()))
    items = [LoanChangeRead.model_validate(c).model_copy(update={
        "loan_number": of[c.loan_id].number, "borrower_name": names.get(of[c.loan_id].borrower_id)}) for c in r.items]
    return Page(items=items, total=r.total, page=r.page, page_size=r.page_size)


@router.post("/loan-changes/{loan_change_id}/approve", response_model=LoanChangeRead,
             operation_id="approve_loan_change",
             summary="Approve a change: it is recorded on the loan now",
             responses={403: {"description": "One's own proposal (`self_approval`)"},
                        409: {"description": "Decided already (`loan_change_decided`)"}})
def approve_loan_change(loan_change_id: Id, body: ChangeDecision, session: DB, kit: Kit,
                        principal: Principal = require("loan.change.approve")) -> LoanChangeRead:
    """Recorded as the loan's event on the business date, posted in the same transaction."""
    change, _ = changes.approve(session=session, clock=kit.clock, principal=principal, change_id=loan_change_id,
                                note=body.note)
    return LoanChangeRead.model_validate(change)


@router.post("/loan-changes/{loan_change_id}/reject", response_model=LoanChangeRead,
             operation_id="reject_loan_change",
             summary="Reject a change", responses={403: {"description": "One's own proposal (`self_approval`)"},
                                                   409: {"description": "Decided already (`loan_change_decided`)"}})
def reject_loan_change(loan_change_id: Id, body: ChangeReject, session: DB, kit: Kit,
                       principal: Principal = require("loan.change.approve")) -> LoanChangeRead:
    """With the reason."""
    return LoanChangeRead.model_validate(changes.reject(session=session, clock=kit.clock, principal=principal,
                                                        change_id=loan_change_id, note=body.note))


@router.post("/loan-changes/{loan_change_id}/cancel", response_model=LoanChangeRead,
             operation_id="cancel_loan_change",
             summary="Withdraw one's own pending proposal")
def cancel_loan_change(loan_change_id: Id, session: DB, kit: Kit,
                       principal: Principal = require("loan.change.request")) -> LoanChangeRead:
    """Another person's proposal is not found."""
    return LoanChangeRead.model_validate(changes.cancel(session=session, clock=kit.clock, principal=principal,
                                                        change_id=loan_change_id))


@router.get("/servicing/settings", response_model=ServicingSettingsRead, operation_id="get_servicing_settings",
            summary="The institution's servicing settings")
def get_servicing_settings(session: DB, kit: Kit, principal: Principal = require("loan.read")
                           ) -> ServicingSettingsRead:
    """The threshold above which a branch repayment waits for a second person."""
    return ServicingSettingsRead.model_validate(settings.get(session=session, clock=kit.clock, principal=principal))


@router.put("/servicing/settings", response_model=ServicingSettingsRead, operation_id="update_servicing_settings",
            summary="Set the institution's servicing settings")
def update_servicing_settings(body: ServicingSettingsUpdate, session: DB, kit: Kit,
                              principal: Principal = require("institution.manage")) -> ServicingSettingsRead:
    """Null: every repayment is recorded at once."""
    return ServicingSettingsRead.model_validate(settings.update(
        session=session, clock=kit.clock, principal=principal,
        repayment_approval_above=body.repayment_approval_above))


# --- the borrower's own ----------------------------------------------------------------------------


@router.get("/me/loans", response_model=Page[LoanSummary], operation_id="list_my_loans",
            summary="The borrower's own loans")
def list_my_loans(session: DB, principal: Principal = require("application.read_own"), page: PageNo = 1,
                  page_size: PageSize = 20) -> Page[LoanSummary]:
    """Newest first."""
    r = loans.list_own(session=session, principal=principal, page=PageRequest(page, page_size))
    return Page(items=[LoanSummary.model_validate(x) for x in r.items], total=r.total, page=r.page,
                page_size=r.page_size)


@router.get("/me/loans/{loan_id}", response_model=LoanRead, operation_id="get_my_loan",
            summary="One of the borrower's own loans")
def get_my_loan(loan_id: Id, session: DB, principal: Principal = require("application.read_own")) -> LoanRead:
    """Its schedule (paid, due, overdue), payments and events."""
    return _read(session, loans.own(session=session, principal=principal, loan_id=loan_id), staff=False)


@router.get("/me/loans/{loan_id}/events/{seq}/document", response_class=Response,
            operation_id="get_my_loan_event_document", summary="A receipt or voucher of one's own loan",
            responses=PDF_RESPONSES)
def get_my_loan_event_document(loan_id: Id, seq: Seq, session: DB, kit: Kit,
                               principal: Principal = require("application.read_own")) -> Response:
    """Another borrower's loan is not found (audited)."""
    loan = loans.own(session=session, principal=principal, loan_id=loan_id)
    return _pdf(receipts.document(session=session, clock=kit.clock, actor=principal.actor, loan=loan, seq=seq))
# --- payments through the provider -------------------------------------------------------------------

PAYMENT_REFUSALS: dict[int | str, dict[str, Any]] = {
    409: {"description": "The contract is not fully signed (`contract_not_signed`), the loan's status does not "
                         "allow it (`loan_wrong_state`), a payout is already on its way (`payout_in_progress`), "
                         "no card (`bank_card_missing`), or the key was used for another request"}}


async def raw_body(request: Request) -> bytes:
    """The request's body exactly as sent (a callback's signature is over these bytes)."""
    return await request.body()


@router.post("/loans/{loan_id}/payouts", response_model=PaymentOrderRead, status_code=201,
             operation_id="request_payout", summary="Pay the loan out through the payment provider",
             responses=PAYMENT_REFUSALS)
def request_payout(loan_id: Id, body: PayoutCreate, session: DB, provider: Payments, kit: Kit,
                   key: IdempotencyKey = None, guard: IdempotencyGuard = idempotent("loan.payout"),
                   principal: Principal = require("loan.disburse")) -> Any:
    """Only a fully signed contract. The disbursement is recorded when the provider confirms the payout
    (its callback, or a poll), on the day the money left; a failure leaves the loan undisbursed, with why."""
    loan = loans.visible(session=session, principal=principal, loan_id=loan_id)
    payment = payments.request_payout(session=session, clock=kit.clock, actor=principal.actor, provider=provider,
                                      institution_id=loan.institution_id, loan_id=loan.id, key=str(key),
                                      card_id=body.card_id, amount=body.amount)
    return guard.respond(201, PaymentOrderRead.model_validate(payment))


@router.get("/loans/{loan_id}/payments", response_model=list[PaymentOrderRead], operation_id="list_loan_payments",
            summary="A loan's payments through the provider")
def list_loan_payments(loan_id: Id, session: DB, principal: Principal = require("loan.read")) -> list[PaymentOrderRead]:
    """Newest first: payouts, online repayments and auto-debit attempts."""
    loan = loans.visible(session=session, principal=principal, loan_id=loan_id)
    return [PaymentOrderRead.model_validate(p) for p in payments.of_loan(session=session, loan=loan)]


@router.post("/payments/{payment_id}/poll", response_model=PaymentOrderRead, operation_id="poll_payment",
             summary="Ask the provider where a payment stands")
def poll_payment(payment_id: Id, session: DB, kit: Kit, provider: Payments,
                 principal: Principal = require("loan.disburse")) -> PaymentOrderRead:
    """When no callback came: the provider's answer is applied as a callback's would be (once)."""
    payment = payments.visible(session=session, principal=principal, payment_id=payment_id)
    return PaymentOrderRead.model_validate(payments.poll(session=session, clock=kit.clock, provider=provider,
                                                    payment=payment))


@router.post("/payments/callbacks/{provider_name}", response_model=CallbackAck, operation_id="payment_callback",
             status_code=202, summary="The payment provider's notification (signed)", dependencies=[public()],
             responses={400: {"description": "The signature does not verify (`callback_signature_invalid`)"},
                        404: {"description": "No payment of ours under that reference (`payment_not_found`)"}})
def payment_callback(provider_name: str, request: Request, background: BackgroundTasks, session: DB, kit: Kit,
                     provider: Payments, body: bytes = Depends(raw_body),
                     signature: Annotated[str, Header(alias=SIGNATURE_HEADER, max_length=128)] = "") -> CallbackAck:
    """Verified (HMAC-SHA256 over the raw body) before anything is read, stored once per payment and outcome,
    and answered at once (202); the outbox's dispatcher applies it after the answer, retrying with back-off
    while applying fails (the outbox monitor shows one that gave up). A failed, late or repeated notification
    changes nothing twice."""
    if provider_name != provider.name:
        raise PaymentNotFound(field="provider_name")
    runtime = runtime_of(request)
    received = payments.receive_callback(session=session, clock=kit.clock, cipher=runtime.keys.cipher,
                                         provider=provider, body=body, signature=signature)
    background.add_task(dispatch_outbox, runtime)  # after the answer (and the commit before it)
    return CallbackAck(payment_id=received.payment.id, status=received.payment.status,
                       callback_id=received.message_id, repeated=not received.new)


@router.get("/reconciliation/breaks", response_model=Page[BreakRead], operation_id="list_reconciliation_breaks",
            summary="Differences between the provider's statements and our payments")
def list_reconciliation_breaks(session: DB, principal: Principal = require("repayment.record"), page: PageNo = 1,
                               page_size: PageSize = 20, resolved: bool | None = False) -> Page[BreakRead]:
    """Newest first; open ones unless asked."""
    r = payments.breaks(session=session, principal=principal, page=PageRequest(page, page_size), resolved=resolved)
    return Page(items=[BreakRead.model_validate(b) for b in r.items], total=r.total, page=r.page,
                page_size=r.page_size)


@router.post("/reconciliation/breaks/{break_id}/resolve", response_model=BreakRead,
             operation_id="resolve_reconciliation_break", summary="Mark a reconciliation break resolved, with a note",
             responses={404: {"description": "No such break in the institution (`not_found`)"},
                        409: {"description": "Resolved already (`break_already_resolved`)"}})
def resolve_reconciliation_break(break_id: Id, body: BreakResolve, session: DB, kit: Kit,
                                 principal: Principal = require("repayment.record")) -> BreakRead:
    """It leaves the open list and the to-dos; the note and who resolved it are kept (and audited)."""
    return BreakRead.model_validate(payments.resolve_break(session=session, clock=kit.clock, principal=principal,
                                                           break_id=break_id, note=body.note.strip()))


@router.post("/reconciliation/statements", response_model=list[BreakRead], operation_id="reconcile_statement",
             summary="Reconcile a provider's daily statement",
             responses={422: {"description": "Not a statement file (`statement_unreadable`)"}})
def reconcile_statement(body: StatementUpload, session: DB, kit: Kit, provider: Payments,
                        principal: Principal = require("repayment.record")) -> list[BreakRead]:
    """The breaks found that were not stored already (the same statement again finds none)."""
    rows = payments.reconcile(session=session, clock=kit.clock, provider=provider,
                              institution_id=principal.institution_id, text=body.statement,
                              statement_date=body.statement_date)
    return [BreakRead.model_validate(b) for b in rows]


@router.post("/me/loans/{loan_id}/payments", response_model=PaymentOrderRead, status_code=201,
             operation_id="start_my_payment", summary="Pay on the phone (repayment or prepayment)",
             responses=MOVE_RESPONSES)
def start_my_payment(loan_id: Id, body: OnlinePaymentCreate, session: DB, kit: Kit, provider: Payments,
                     key: IdempotencyKey = None, guard: IdempotencyGuard = idempotent("loan.online_payment"),
                     principal: Principal = require("application.apply_own")) -> Any:
    """Opens the payment at the provider (`pay_url`); the loan records it when the provider confirms."""
    if body.purpose == "prepayment" and body.mode is None:
        raise ModeRequired(field="mode")
    payment = payments.start_online(session=session, clock=kit.clock, principal=principal, provider=provider,
                                    loan_id=loan_id, amount=body.amount, purpose=body.purpose,
                                    mode=body.mode if body.purpose == "prepayment" else None, key=str(key))
    return guard.respond(201, PaymentOrderRead.model_validate(payment))


@router.get("/me/loans/{loan_id}/payments", response_model=list[PaymentOrderRead], operation_id="list_my_loan_payments",
            summary="The payments of one of the borrower's loans")
def list_my_loan_payments(loan_id: Id, session: DB,
                          principal: Principal = require("application.read_own")) -> list[PaymentOrderRead]:
    """Newest first."""
    loan = loans.own(session=session, principal=principal, loan_id=loan_id)
    return [PaymentOrderRead.model_validate(p) for p in payments.of_loan(session=session, loan=loan)]


@router.post("/me/payments/{payment_id}/poll", response_model=PaymentOrderRead, operation_id="poll_my_payment",
             summary="Where the borrower's payment stands now")
def poll_my_payment(payment_id: Id, session: DB, kit: Kit, provider: Payments,
                    principal: Principal = require("application.read_own")) -> PaymentOrderRead:
    """Asks the provider when no callback has come yet."""
    payment = payments.own(session=session, principal=principal, payment_id=payment_id)
    return PaymentOrderRead.model_validate(payments.poll(session=session, clock=kit.clock, provider=provider,
                                                    payment=payment))


# --- group loans --------------------------------------------------------------------------------


def _statement(st: Any) -> GroupStatementRead:
    return GroupStatementRead(
        group_id=st.group_id, name=st.name, as_of=st.as_of, principal=st.principal,
        outstanding_principal=st.outstanding_principal, overdue=st.overdue, members_in_arrears=st.members_in_arrears,
        members=[GroupMemberLine(borrower_id=m.borrower_id, name=m.name, leader=m.leader,
                                 loan_id=m.loan.id if m.loan else None, loan_number=m.loan.number if m.loan else None,
                                 status=m.loan.status if m.loan else None,
                                 principal=m.loan.principal if m.loan else None,
                                 outstanding_principal=m.loan.outstanding_principal if m.loan else None,
                                 next_due_date=m.loan.next_due_date if m.loan else None, overdue=m.overdue, dpd=m.dpd)
                 for m in st.members])


@router.get("/groups/{group_id}/statement", response_model=GroupStatementRead, operation_id="get_group_statement",
            summary="A group's loans: each member's, with arrears, and the totals")
def get_group_statement(group_id: Id, session: DB, principal: Principal = require("loan.read")) -> GroupStatementRead:
    """As of the business date; a group outside the caller's scope is not found."""
    return _statement(groups.for_staff(session=session, principal=principal, group_id=group_id))


@router.get("/me/group-statement", response_model=GroupStatementRead, operation_id="get_my_group_statement",
            summary="The statement of the group the borrower leads")
def get_my_group_statement(session: DB, principal: Principal = require("profile.read_own")) -> GroupStatementRead:
    """For the group leader: every member's loan and arrears (joint liability). Not found for a borrower
    who leads no group."""
    return _statement(groups.for_leader(session=session, principal=principal))


# --- a group meeting's collection sheet ------------------------------------------------------------


def _sheet(sheet: collection_sheets.Sheet) -> CollectionSheetRead:
    return CollectionSheetRead(
        group_id=sheet.group_id, group_name=sheet.group_name, meeting_date=sheet.meeting_date,
        time_of_day=sheet.time_of_day, place=sheet.place, business_date=sheet.business_date,
        lines=[CollectionSheetLineRead(borrower_id=x.borrower_id, name=x.name, leader=x.leader, loan_id=x.loan.id,
                                       loan_number=x.loan.number, principal=x.principal, interest=x.interest,
                                       fee=x.fee, penalty=x.penalty, due=x.due, overdue=x.overdue, total=x.total)
               for x in sheet.lines],
        due=sheet.total("due"), overdue=sheet.total("overdue"), total=sheet.total("total"))


MeetingDay = Annotated[date | None, Query(
    alias="date", description="The meeting (YYYY-MM-DD); default the next on or after the business date")]


@router.get("/groups/{group_id}/collection-sheet", response_model=CollectionSheetRead,
            operation_id="get_collection_sheet", summary="A group meeting's collection sheet",
            responses={409: {"description": "The group has no meeting schedule (`no_meeting_schedule`)"},
                       422: {"description": "The group does not meet that day (`not_a_meeting_day`)"}})
def get_collection_sheet(group_id: Id, session: DB, on: MeetingDay = None,
                         principal: Principal = require("loan.read")) -> CollectionSheetRead:
    """Each current member's active loan due at the meeting: due by component, overdue from earlier installments,
    the total to collect (the loan's fold on the business date); the group's totals. A member with nothing to
    collect is not listed."""
    return _sheet(collection_sheets.read(session=session, principal=principal, group_id=group_id, on=on))


@router.post("/groups/{group_id}/collection-sheet", response_model=CollectionSheetSavedRead,
             operation_id="save_collection_sheet", summary="Save a group meeting's collection sheet",
             responses={**MOVE_RESPONSES,
                        422: {"description": "A line refused (field `lines.{i}.amount`, the loan's reason), lines "
                                             "that are not the sheet's (`sheet_lines_mismatch`), a meeting after "
                                             "the business date (`value_date_in_future`): nothing is saved"}})
def save_collection_sheet(group_id: Id, body: CollectionSheetCreate, session: DB, kit: Kit,
                          key: IdempotencyKey = None, guard: IdempotencyGuard = idempotent("group.collection_sheet"),
                          principal: Principal = require("collection_sheet.save")) -> Any:
    """By the loan officer who collected (or finance). Every non-zero line is a repayment valued on the meeting
    day, in cash at the meeting (channel `meeting_cash`: into field cash until finance confirms the handover),
    through the loan's repayment (its allocation, postings, audit and notice; above the threshold a pending
    change), all in one transaction: a line refused refuses the sheet. The `Idempotency-Key` keys the whole
    sheet: the same sheet again answers with the first."""
    record = collection_sheets.save(
        session=session, clock=kit.clock, principal=principal, group_id=group_id, on=body.date,
        answers=[collection_sheets.LineAnswer(x.loan_id, x.amount, x.reason) for x in body.lines],
        idempotency_key=key or "")
    return guard.respond(200, _saved(session, [record])[0])


@router.get("/groups/{group_id}/collection-sheets", response_model=Page[CollectionSheetSavedRead],
            operation_id="list_collection_sheets", summary="A group's saved collection sheets")
def list_collection_sheets(group_id: Id, session: DB, principal: Principal = require("loan.read"),
                           page: PageNo = 1, page_size: PageSize = 20) -> Page[CollectionSheetSavedRead]:
    """Newest meeting first: who saved each, when, and every line's outcome."""
    r = collection_sheets.history(session=session, principal=principal, group_id=group_id,
                                  page=PageRequest(page, page_size))
    return Page(items=_saved(session, r.items), total=r.total, page=r.page, page_size=r.page_size)


def _saved(session: Any, rows: Any, *, group_names: bool = False) -> list[CollectionSheetSavedRead]:
    """Saved sheets as read, with the names of who saved and who handed over (and the groups', for lists of
    several groups' sheets)."""
    rows = list(rows)
    people = collection_sheets.people(session=session, rows=rows)
    groups_named = collection_sheets.group_names(session=session, rows=rows) if group_names else {}
    out = []
    for x in rows:
        out.append(CollectionSheetSavedRead.model_validate(x).model_copy(update={
            "group_name": groups_named.get(x.group_id), "recorded_by_name": people.get(x.recorded_by_user_id),
            "handed_over_by_name": people.get(x.handed_over_by_user_id)}))
    return out


HandedOverFilter = Annotated[bool | None, Query(description="false: waiting for the handover; true: handed over; "
                                                            "absent: both")]


@router.get("/collection-sheets", response_model=Page[CollectionSheetSavedRead],
            operation_id="list_sheets_for_handover", summary="Saved collection sheets and their cash's handover")
def list_sheets_for_handover(session: DB, principal: Principal = require("loan.read"),
                             handed_over: HandedOverFilter = None, page: PageNo = 1,
                             page_size: PageSize = 20) -> Page[CollectionSheetSavedRead]:
    """In the caller's scope, oldest meeting first: with `handed_over=false`, the sheets whose cash is still in
    the field (the officer, group, meeting and collected total), for finance to confirm."""
    r = collection_sheets.waiting(session=session, principal=principal, handed_over=handed_over,
                                  page=PageRequest(page, page_size))
    return Page(items=_saved(session, r.items, group_names=True), total=r.total, page=r.page,
                page_size=r.page_size)


@router.post("/collection-sheets/{sheet_id}/handover", response_model=CollectionSheetSavedRead,
             operation_id="hand_over_collection_sheet", summary="Confirm a collection sheet's cash handed over (交款)",
             responses={403: {"description": "Who saved the sheet cannot confirm its handover (`same_person`)"},
                        404: {"description": "No such sheet in the caller's scope"},
                        409: {"description": "Handed over already (`sheet_already_handed_over`), a line still "
                                             "waits for approval (`sheet_awaiting_approval`), or the key was "
                                             "used for another request (`idempotency_key_reused`)"},
                        422: {"description": "Less counted than collected and no reason "
                                             "(`handover_reason_required`, field `reason`)"}})
def hand_over_collection_sheet(sheet_id: Id, body: HandoverCreate, session: DB, kit: Kit,
                               guard: IdempotencyGuard = idempotent("group.collection_sheet_handover"),
                               principal: Principal = require("repayment.record")) -> Any:
    """Finance counted the cash: one balanced entry out of field cash (Dr bank what was counted; a shortage Dr
    the officer's receivable; an overage Cr suspense) in the same transaction as the sheet marked handed over.
    The `Idempotency-Key` replays the first answer; handing over again is refused."""
    record = collection_sheets.hand_over(session=session, clock=kit.clock, principal=principal, sheet_id=sheet_id,
                                         counted=body.counted, reason=body.reason)
    return guard.respond(200, _saved(session, [record])[0])
