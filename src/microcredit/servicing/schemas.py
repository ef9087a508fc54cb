"""Servicing's API shapes: loans, their events, and the requests that move money (money as strings)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Discriminator, Field, Tag
from pydantic.config import JsonDict

from microcredit.platform.schema import ExactText, InputSchema, MoneyStr, MultiLine, OutputSchema, money_bounds
from microcredit.products.schemas import (
    MAX_AMOUNT,
    KeyedChannel,
    LoanStateRead,
    LoanTotalsRead,
    PaymentRead,
    PayoffRead,
    StateAmount,
)

PositiveMoney = Annotated[MoneyStr, money_bounds(gt="0", le=MAX_AMOUNT)]
LoanStatusName = Literal["pending_disbursement", "active", "closed", "overpaid", "written_off", "cancelled"]


class LoanOpen(InputSchema):
    """Open the loan of an approved application."""

    application_id: int = Field(ge=1)

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"application_id": 42}]})


class CancellationCreate(InputSchema):
    """Call an approved application off before any money goes out: why (the borrower and the file see it)."""

    application_id: int = Field(ge=1)
    note: str = Field(min_length=1, max_length=500, description="Why the loan is not paid out")

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"application_id": 42, "note": "借款人来电表示不再需要这笔贷款 / the borrower no longer needs the loan"}]})


class CancellationRead(OutputSchema):
    """What was cancelled: the application (withdrawn), its loan if one was opened, its contract if made."""

    application_id: int
    loan_id: int | None
    loan_number: str | None
    contract_number: str | None


class DisbursementCreate(InputSchema):
    """Pay the loan out (the whole principal unless an amount is given, for a tranche)."""

    on: date | None = Field(default=None, description="Value date; default the business date")
    amount: PositiveMoney | None = None
    channel: KeyedChannel = "bank_transfer"
    reference: str | None = Field(default=None, max_length=80, description="The bank's or provider's reference")

    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"channel": "bank_transfer", "reference": "B20261203-0001"}]})


class RepaymentCreate(InputSchema):
    """Money received from the borrower."""

    amount: PositiveMoney
    on: date | None = Field(default=None, description="Value date; default the business date")
    channel: KeyedChannel = "bank_transfer"
    reference: str | None = Field(default=None, max_length=80)

    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"amount": "1378.04", "channel": "cash", "reference": "柜面 0001"}]})


class PrepaymentCreate(RepaymentCreate):
    """Principal repaid early: a shorter term or a lower installment after it."""

    mode: Literal["shorten_term", "reduce_installment"]

    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"amount": "5000.00", "mode": "shorten_term", "channel": "mobile_payment"}]})


class ReversalCreate(InputSchema):
    """Undo an event of the loan (a bounced transfer, a payment keyed on the wrong loan)."""

    event_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    note: str = Field(min_length=1, max_length=500)

    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"event_id": "r3", "note": "转账被退回 / transfer bounced"}]})


class EntryRef(OutputSchema):
    """An entry posted for an event, by id and book (both, cash or accrual)."""

    id: int
    basis: str


class LoanEventRead(OutputSchema):
    """One event as recorded, with the entries it posted (its trail in the ledger)."""

    seq: int
    event_id: str
    type: str
    value_date: date
    business_date: date
    payload: dict[str, Any]
    recorded_at: datetime
    user_id: int | None
    user_name: str | None = Field(default=None, description="Who recorded it (staff routes)")
    reference: str | None
    note: str | None
    entries: list[EntryRef] = Field(default_factory=list)
    has_document: bool = Field(default=False, description="A receipt or voucher can be downloaded for it")


class LoanSummary(OutputSchema):
    """A loan in a list."""

    id: int
    number: str
    application_id: int
    borrower_id: int
    borrower_name: str | None = Field(default=None, description="The borrower's name (staff routes)")
    branch_id: int | None
    product_code: str
    currency: str
    principal: MoneyStr
    status: LoanStatusName
    disbursed_on: date | None
    closed_on: date | None
    outstanding_principal: MoneyStr
    dpd: int
    next_due_date: date | None


class LoanRead(LoanSummary):
    """A loan: its terms, its state on the business date and its events."""

    terms: dict[str, Any]
    state: LoanStateRead | None
    events: list[LoanEventRead]
    version: int
    synced_to_meetings: bool | None = Field(
        default=None, description="A group member's loan: whether its installments fall due on the group's "
                                  "meetings (null: not a group member's loan)")
    meetings_reason: Literal["no_meeting_schedule", "method_not_periodic", "frequency_mismatch"] | None = Field(
        default=None, description="Why a group member's loan is not synced to the meetings")


class RecordedRead(OutputSchema):
    """What recording an event did (`repeated`: the idempotency key had recorded it already; nothing changed)."""

    loan: LoanRead
    event: LoanEventRead
    entries: list[EntryRef]
    repeated: bool


_AMOUNTS: JsonDict = {
    "principal": "8450.00", "interest": "412.30", "fee": "0.00", "penalty": "0.00", "total": "8862.30"}
_PAID: JsonDict = {"principal": "1550.00", "interest": "117.70", "fee": "0.00", "penalty": "0.00", "total": "1667.70"}
_ZERO: JsonDict = {"principal": "0.00", "interest": "0.00", "fee": "0.00", "penalty": "0.00", "total": "0.00"}


class PaidLoanRead(OutputSchema):
    """The loan after a repayment: its status, version and balances on the business date. The whole loan (terms,
    schedule, every event with its trail and names) is `GET /loans/{loan_id}`."""

    id: int
    number: str
    currency: str
    status: LoanStatusName
    version: int = Field(description="The loan's version after the repayment")
    outstanding_principal: MoneyStr
    dpd: int
    next_due_date: date | None
    closed_on: date | None
    as_of: date = Field(description="The business date the balances are on")
    totals: LoanTotalsRead
    credit_balance: StateAmount
    payoff: PayoffRead | None


class RepaymentRecordedRead(OutputSchema):
    """What a repayment did: the event recorded, how it was allocated, the entries it posted, the loan's new
    balances and the receipt (`repeated`: the idempotency key had recorded it already; nothing changed)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "loan": {"id": 42, "number": "L202612050042", "currency": "CNY", "status": "active", "version": 7,
                 "outstanding_principal": "8450.00", "dpd": 0, "next_due_date": "2027-01-05", "closed_on": None,
                 "as_of": "2026-12-05",
                 "totals": {"due": {"principal": "10000.00", "interest": "530.00", "fee": "0.00", "penalty": "0.00",
                                    "total": "10530.00"},
                            "paid": _PAID, "waived": _ZERO, "written_off": _ZERO, "outstanding": _AMOUNTS},
                 "credit_balance": "0.00",
                 "payoff": {"principal": "8450.00", "overdue_interest": "0.00", "deferred_interest": "0.00",
                            "accrued_interest": "11.20", "fees": "0.00", "penalties": "0.00", "total": "8461.20",
                            "after_credit": "8461.20"}},
        "event": {"seq": 3, "event_id": "R2", "type": "repayment", "value_date": "2026-12-05",
                  "business_date": "2026-12-05",
                  "payload": {"id": "R2", "on": "2026-12-05", "type": "repayment", "amount": "833.85",
                              "channel": "cash"},
                  "recorded_at": "2026-12-05T09:31:07Z", "user_id": 5, "user_name": "柜员 王芳",
                  "reference": "柜面 0002", "note": None, "entries": [{"id": 311, "basis": "both"}],
                  "has_document": True},
        "allocation": {"event_id": "R2", "on": "2026-12-05", "amount": "833.85",
                       "lines": [{"installment": 2, "component": "interest", "amount": "58.85"},
                                 {"installment": 2, "component": "principal", "amount": "775.00"}],
                       "interest_prepaid": "0.00", "principal_prepaid": "0.00", "credit": "0.00"},
        "entries": [{"id": 311, "basis": "both"}],
        "receipt": "/api/v1/loans/42/events/3/document",
        "repeated": False}]})

    loan: PaidLoanRead
    event: LoanEventRead = Field(description="The event recorded, with its entries (its trail in the ledger)")
    allocation: PaymentRead | None = Field(
        description="What the payment paid, installment by installment (null once a reversal has undone it)")
    entries: list[EntryRef]
    receipt: str | None = Field(description="Where the receipt (PDF) is downloaded")
    repeated: bool


class DeskApplication(OutputSchema):
    """An approved application with no loan yet."""

    id: int
    number: str | None
    borrower_id: int
    borrower_name: str | None = None
    branch_id: int | None
    product_code: str
    amount: MoneyStr
    term: int
    period_unit: str
    repayment_method: str
    annual_rate_percent: str | None
    decided_at: datetime | None


class DeskRead(OutputSchema):
    """The disbursement desk: approved applications to open a loan for, and loans opened not yet paid out."""

    approved: list[DeskApplication]
    pending: list[LoanSummary]


ChangeReason = Literal["overpayment", "hardship", "natural_disaster", "business_disruption", "service_failure",
                       "negotiated_settlement", "error_correction", "uncollectible", "deceased", "bankruptcy",
                       "statute_expired", "other"]


def kind_tag(value: Any) -> str | None:
    """The `kind` of a change, read before validation (see `platform.schema.type_tag`)."""
    found = value.get("kind") if isinstance(value, dict) else getattr(value, "kind", None)
    return found if isinstance(found, str) else None


class _ChangeBase(InputSchema):
    reason_code: ChangeReason = Field(description="Why, from the coded list (docs/servicing.md)")
    note: str = Field(min_length=1, max_length=500, description="What the checker needs to know")


class WaiverChange(_ChangeBase):
    """Forgive interest, fees or penalty of one installment already due."""

    kind: Literal["waiver"]
    installment: int = Field(ge=1, le=600)
    component: Literal["interest", "fee", "penalty"]
    amount: PositiveMoney


class DeferralChange(_ChangeBase):
    """展期: installments without principal inserted at an installment not yet due; the rest move on."""

    kind: Literal["deferral"]
    from_installment: int = Field(ge=1, le=600)
    periods: int = Field(ge=1, le=60)
    interest: Literal["payable", "waived"]
    restructuring: bool = Field(description="Granted because the borrower is in financial difficulty")


class ReschedulingChange(_ChangeBase):
    """A new schedule from today for what has not fallen due (a new term, rate or method)."""

    kind: Literal["rescheduling"]
    installments: int = Field(ge=1, le=600)
    annual_rate: str | None = Field(default=None, pattern=r"^\d{1,2}(\.\d{1,4})?$",
                                    description="New annual rate in percent; default the loan's")
    method: Literal["equal_installment", "equal_principal"] | None = None
    capitalise_overdue_principal: bool = False
    restructuring: bool = True


class WriteOffChange(_ChangeBase):
    """Everything still owed written off (核销); the claim remains and recoveries are income."""

    kind: Literal["write_off"]


class RefundChange(_ChangeBase):
    """退还溢缴款: credit held for the borrower paid back to them (all of it unless an amount is given)."""

    kind: Literal["refund"]
    amount: PositiveMoney | None = Field(default=None, description="At most the credit held; default all of it")
    channel: KeyedChannel = "bank_transfer"


LoanChangeCreate = Annotated[
    Annotated[WaiverChange, Tag("waiver")] | Annotated[DeferralChange, Tag("deferral")]
    | Annotated[ReschedulingChange, Tag("rescheduling")] | Annotated[WriteOffChange, Tag("write_off")]
    | Annotated[RefundChange, Tag("refund")],
    Discriminator(kind_tag),
]


class ChangeDecision(InputSchema):
    """The checker's decision note (required to reject)."""

    note: str | None = Field(default=None, max_length=500)


class ChangeReject(InputSchema):
    """Why the change is rejected."""

    note: str = Field(min_length=1, max_length=500)


class LoanChangeRead(OutputSchema):
    """A change to a loan and where it stands."""

    id: int
    loan_id: int
    kind: str
    details: dict[str, Any]
    reason_code: str
    note: str
    status: Literal["pending", "approved", "rejected", "cancelled"]
    requested_by_user_id: int | None
    requested_at: datetime
    decided_by_user_id: int | None
    decided_at: datetime | None
    decision_note: str | None
    event_seq: int | None
    loan_number: str | None = Field(default=None, description="The loan's number (in the queue of changes)")
    borrower_name: str | None = Field(default=None, description="The borrower's name (in the queue of changes)")


class AccelerationCreate(InputSchema):
    """宣布贷款提前到期: call the loan early under its acceleration clause."""

    on: date | None = Field(default=None, description="Value date; default the business date (never later)")
    reason: Literal["arrears", "fraud", "covenant_breach", "early_warning", "other"] = Field(
        description="Why: serious arrears, fraud, a breach of the contract's covenants, an early warning, other")
    note: str = Field(min_length=1, max_length=500)

    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"on": "2026-03-02", "reason": "arrears", "note": "逾期 95 天，多次催收未果 / 95 days late"}]})


class RecoveryCreate(InputSchema):
    """Money recovered on a written-off loan."""

    amount: PositiveMoney
    on: date | None = Field(default=None, description="Value date; default the business date")
    channel: KeyedChannel = "bank_transfer"
    reference: str | None = Field(default=None, max_length=80)


class ServicingSettingsRead(OutputSchema):
    """An institution's servicing settings."""

    repayment_approval_above: MoneyStr | None = Field(
        description="A repayment keyed in at a branch (cash, transfer) above this waits for a second person; "
                    "null: never")
    updated_at: datetime
    updated_by_user_id: int | None


class ServicingSettingsUpdate(InputSchema):
    """Set the institution's servicing settings."""

    repayment_approval_above: Annotated[MoneyStr, money_bounds(ge="0", le=MAX_AMOUNT)] | None = None

    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"repayment_approval_above": "5000.00"}]})
# --- payments through the provider ---------------------------------------------------------------


class PayoutCreate(InputSchema):
    """Pay the loan out through the payment provider to one of the borrower's cards (default: the primary)."""

    card_id: int | None = Field(default=None, ge=1)
    amount: PositiveMoney | None = Field(
        default=None, description="A tranche (products paying out in tranches); default what is left to pay out")

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{}, {"card_id": 7},
                                                                              {"amount": "3000.00"}]})


class OnlinePaymentCreate(InputSchema):
    """The borrower pays on the phone: a repayment, or a prepayment with the choice it needs."""

    amount: PositiveMoney
    purpose: Literal["repayment", "prepayment"] = "repayment"
    mode: Literal["shorten_term", "reduce_installment"] | None = Field(
        default=None, description="A prepayment's choice: a shorter term or a lower installment (required then)")

    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"amount": "1378.04"}, {"amount": "3000.00", "purpose": "prepayment", "mode": "shorten_term"}]})


class PaymentOrderRead(OutputSchema):
    """A payment through the provider and where it stands."""

    id: int
    loan_id: int
    direction: Literal["out", "in"]
    purpose: Literal["disbursement", "repayment", "prepayment"]
    channel: Literal["payout", "online", "auto_debit"]
    mode: str | None
    amount: MoneyStr
    card_masked: str | None
    provider: str
    provider_reference: str | None
    status: Literal["requested", "confirmed", "failed"]
    failure_reason: str | None
    due_date: date | None
    attempt: int
    pay_url: str | None = Field(description="Online payments: the provider's page the payer completes it on")
    requested_on: date
    requested_at: datetime
    settled_at: datetime | None
    decided_at: datetime | None
    decided_by: str | None = Field(description="What decided it: the provider's first answer, a callback or a poll")
    event_seq: int | None = Field(description="The loan's event its confirmation recorded")
    event_amount: MoneyStr | None = Field(
        default=None, description="A payout with a down payment kept back: the disbursement recorded (gross); "
        "`amount` is what the provider pays")


class CallbackAck(OutputSchema):
    """What we tell the provider: the notification was taken, to be applied after this answer (a repeat
    changes nothing)."""

    payment_id: int
    status: str = Field(description="The payment's status when the notification was taken (it is applied after)")
    callback_id: int = Field(description="The stored notification (the outbox message that applies it)")
    repeated: bool = Field(description="The same notice had been taken already: nothing more is stored")

    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [
        {"payment_id": 42, "status": "requested", "callback_id": 1031, "repeated": False}]})


class StatementUpload(InputSchema):
    """A provider's daily statement (CSV text) to reconcile."""

    statement_date: date
    statement: Annotated[str, MultiLine(), ExactText()] = Field(min_length=1, max_length=2_000_000)


class BreakRead(OutputSchema):
    """A difference between the provider's statement and our payments."""

    id: int
    statement_date: date
    kind: Literal["missing_ours", "missing_theirs", "amount_differs", "status_differs"]
    reference: str
    provider_reference: str | None
    payment_id: int | None
    ours: dict[str, Any] | None
    theirs: dict[str, Any] | None
    found_at: datetime
    resolved: bool
    resolved_at: datetime | None = None
    resolved_by_user_id: int | None = None
    resolution_note: str | None = None


class BreakResolve(InputSchema):
    """How the break was settled (what a later reader needs to know)."""

    note: str = Field(min_length=1, max_length=500)


class GroupMemberLine(OutputSchema):
    """A member's loan on the group statement (loan fields null: no loan made for the group yet)."""

    borrower_id: int
    name: str
    leader: bool
    loan_id: int | None
    loan_number: str | None
    status: LoanStatusName | None
    principal: MoneyStr | None
    outstanding_principal: MoneyStr | None
    next_due_date: date | None
    overdue: MoneyStr = Field(
        description="Outstanding on installments already due (principal, interest, fees, penalty)")
    dpd: int


class GroupStatementRead(OutputSchema):
    """A group's loans (小组联保) as of the business date: member by member, and the totals."""

    group_id: int
    name: str
    as_of: date
    members: list[GroupMemberLine]
    principal: MoneyStr
    outstanding_principal: MoneyStr
    overdue: MoneyStr
    members_in_arrears: int


class GuarantorSearch(InputSchema):
    """Find guarantors: a full ID number or phone (exact, through its blind index), the last digits of the
    ID number, or part of a name (the term travels in the body, never in a URL)."""

    q: str = Field(min_length=2, max_length=50)

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True,
                              json_schema_extra={"examples": [{"q": "13900002222"}, {"q": "王五"}]})


class GuaranteeRead(OutputSchema):
    """One application (and its loan, once opened) the person guarantees."""

    guarantor_id: int
    status: str = Field(examples=["active"], description="The guarantee's: active or released")
    relation: str = Field(examples=["spouse"])
    kind: str = Field(examples=["joint_liability"])
    amount: MoneyStr | None = None
    created_at: datetime
    application_id: int
    application_number: str | None = Field(default=None, examples=["MC-20261202-000123"])
    application_status: str = Field(examples=["approved"])
    borrower_id: int
    borrower_name: str | None = None
    loan_id: int | None = None
    loan_number: str | None = None
    loan_status: str | None = Field(default=None, examples=["active"])


class GuarantorFoundRead(OutputSchema):
    """A person found as a guarantor (ID number and phone masked) and everything they guarantee in scope."""

    name: str
    id_number_masked: str = Field(examples=["110105********002X"])
    phone_masked: str = Field(examples=["139****2222"])
    active_loans: int = Field(description="Running loans the person answers for now")
    guarantees: list[GuaranteeRead]


SheetAmount = Annotated[MoneyStr, money_bounds(ge="0", le=MAX_AMOUNT)]
SheetReason = Literal["absent", "refused", "no_money", "paid_elsewhere", "other"]


class CollectionSheetLineRead(OutputSchema):
    """A member's loan on a meeting's collection sheet: due at the meeting by component, overdue from earlier
    installments, the total to collect (the loan's fold on the business date)."""

    borrower_id: int
    name: str
    leader: bool
    loan_id: int
    loan_number: str
    principal: MoneyStr
    interest: MoneyStr
    fee: MoneyStr
    penalty: MoneyStr
    due: MoneyStr = Field(description="Due at the meeting: the four components")
    overdue: MoneyStr = Field(description="Still owed on installments due before the meeting")
    total: MoneyStr = Field(description="To collect: due and overdue")


class CollectionSheetRead(OutputSchema):
    """A group meeting's collection sheet (小组例会收款表): the meeting and each member's loan to collect."""

    group_id: int
    group_name: str
    meeting_date: date
    time_of_day: str
    place: str
    business_date: date
    lines: list[CollectionSheetLineRead]
    due: MoneyStr
    overdue: MoneyStr
    total: MoneyStr

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "group_id": 7, "group_name": "城关一组", "meeting_date": "2026-12-03", "time_of_day": "09:30",
        "place": "城关村委会", "business_date": "2026-12-03",
        "lines": [{"borrower_id": 11, "name": "王大山", "leader": True, "loan_id": 31, "loan_number": "L2026000031",
                   "principal": "803.57", "interest": "60.00", "fee": "0.00", "penalty": "0.00", "due": "863.57",
                   "overdue": "0.00", "total": "863.57"}],
        "due": "863.57", "overdue": "0.00", "total": "863.57"}]})


class CollectionSheetLine(InputSchema):
    """What was collected on one loan: `amount` (default the total to collect; "0.00": not paid) and, when
    less was collected, why."""

    loan_id: int = Field(ge=1)
    amount: SheetAmount | None = Field(default=None, description="Collected; default the line's total to collect")
    reason: SheetReason | None = None


class CollectionSheetCreate(InputSchema):
    """The meeting's sheet as collected: one line per loan on the sheet (the `Idempotency-Key` header keys
    the whole sheet)."""

    date: date
    lines: list[CollectionSheetLine] = Field(min_length=1, max_length=100)

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "date": "2026-12-03", "lines": [{"loan_id": 31}, {"loan_id": 32, "amount": "500.00"},
                                        {"loan_id": 33, "amount": "0.00", "reason": "absent"}]}]})


class CollectionSheetSavedLine(OutputSchema):
    """A line of a saved sheet: what it asked, what was collected and how it was recorded (`recorded`: the
    loan's repayment event `event_seq`; `pending_approval`: above the threshold, change `change_id`;
    `not_paid`: nothing collected)."""

    loan_id: int
    loan_number: str
    borrower_id: int
    name: str
    due: MoneyStr
    amount: MoneyStr
    reason: SheetReason | None
    outcome: Literal["recorded", "pending_approval", "not_paid"]
    event_seq: int | None
    change_id: int | None


class CollectionSheetSavedRead(OutputSchema):
    """A saved collection sheet: who saved it, when, every line's outcome, and its cash's handover to finance
    (`handover_status` `waiting`: the cash is still in field cash; `handed_over`: finance counted it — what was
    expected, counted, the shortage or overage, the reason, who, when and the ledger entry)."""

    id: int
    group_id: int
    group_name: str | None = Field(default=None, description="Given in lists of several groups' sheets")
    meeting_date: date
    due: MoneyStr
    collected: MoneyStr
    recorded_by_user_id: int | None
    recorded_by_name: str | None = None
    recorded_at: datetime
    lines: list[CollectionSheetSavedLine]
    handover_status: Literal["waiting", "handed_over"]
    handover_expected: MoneyStr | None = Field(description="What the sheet's repayments put in field cash")
    handover_counted: MoneyStr | None = Field(description="What finance counted")
    handover_shortage: MoneyStr | None = Field(description="Expected less counted, when short (owed by the officer)")
    handover_overage: MoneyStr | None = Field(description="Counted less expected, when over (to suspense)")
    handover_reason: str | None
    handover_entry_id: int | None
    handed_over_by_user_id: int | None
    handed_over_by_name: str | None = None
    handed_over_at: datetime | None

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": 1, "group_id": 7, "group_name": "城关一组", "meeting_date": "2026-12-03", "due": "2590.71",
        "collected": "1363.57", "recorded_by_user_id": 5, "recorded_by_name": "李经理",
        "recorded_at": "2026-12-03T02:10:00Z",
        "lines": [{"loan_id": 31, "loan_number": "L2026000031", "borrower_id": 11, "name": "王大山", "due": "863.57",
                   "amount": "863.57", "reason": None, "outcome": "recorded", "event_seq": 2, "change_id": None},
                  {"loan_id": 33, "loan_number": "L2026000033", "borrower_id": 13, "name": "张三丰", "due": "863.57",
                   "amount": "0.00", "reason": "absent", "outcome": "not_paid", "event_seq": None,
                   "change_id": None}],
        "handover_status": "handed_over", "handover_expected": "1363.57", "handover_counted": "1353.57",
        "handover_shortage": "10.00", "handover_overage": None, "handover_reason": "找零短少，客户经理当日补交",
        "handover_entry_id": 120, "handed_over_by_user_id": 8, "handed_over_by_name": "周会计",
        "handed_over_at": "2026-12-03T08:30:00Z"}]})


class HandoverCreate(InputSchema):
    """交款: the cash of a saved sheet as finance counted it; less than collected needs the reason."""

    counted: Annotated[MoneyStr, money_bounds(ge="0", le=MAX_AMOUNT)]
    reason: str | None = Field(default=None, max_length=200, description="Required when short")

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"counted": "1363.57"}, {"counted": "1353.57", "reason": "找零短少，客户经理当日补交"}]})
