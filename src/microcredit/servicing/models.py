"""Tables of servicing: a loan (its terms, status and the cached fold) and its events.

A loan is its terms plus its events (docs/servicing.md). `loans.terms` holds the
loan description and the servicing conventions exactly as the engine's edge
reads them (`products.schemas.LoanDescription` + `ServicingConventions`, JSON
with money as strings), fixed when the loan is opened from an approved
application under its product version. `loan_events` holds every event as
recorded, in the order recorded (`seq`), each with its value date and payload
(`products.schemas.EventItem`); nothing is ever updated or deleted there — a
mistake is undone by a reversal event.

The state is the engine's fold of the terms and events on the business date.
`loans.state` caches it (the JSON the API answers with) with `state_seq`, the
last event folded, and `state_as_of`: a read whose business date or events
differ folds again. `loans.books` is what the ledger holds for the loan (the
snapshot of cumulative amounts the last postings brought it to, in minor
units): each new event posts the difference between the fold's amounts and
this snapshot, so a back-dated event that changes what earlier payments paid
posts counter-entries, never edits.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from microcredit.db.base import Base
from microcredit.db.types import BigIntPK, MoneyColumn, UTCDateTime
from microcredit.lending.money import Money

STATUSES = ("pending_disbursement", "active", "closed", "overpaid", "written_off", "cancelled")


class Loan(Base):
    """A loan made from an approved application under one product version."""

    __tablename__ = "loans"
    __table_args__ = (
        UniqueConstraint("institution_id", "number"),
        UniqueConstraint("application_id"),
        Index("ix_loans_inst_status", "institution_id", "status", "id"),
        Index("ix_loans_borrower", "borrower_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"), nullable=True)
    borrower_id: Mapped[int] = mapped_column(ForeignKey("borrowers.id"))
    borrower_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    number: Mapped[str] = mapped_column(String(40))
    product_code: Mapped[str] = mapped_column(String(32))
    product_version_id: Mapped[int] = mapped_column(ForeignKey("product_versions.id"))
    currency: Mapped[str] = mapped_column(String(3))
    principal: Mapped[Money] = mapped_column(MoneyColumn("CNY"))
    # LoanDescription + ServicingConventions, as JSON (see the module docstring).
    terms: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(24))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    opened_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    disbursed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    closed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    # The cached fold and what the ledger holds for the loan.
    events_count: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    state_seq: Mapped[int] = mapped_column(Integer, default=0)
    state_as_of: Mapped[date | None] = mapped_column(Date, nullable=True)
    books: Mapped[dict[str, int]] = mapped_column(JSON)
    # Read by lists without folding: refreshed with the cache.
    outstanding_principal: Mapped[Money] = mapped_column(MoneyColumn("CNY"))
    dpd: Mapped[int] = mapped_column(Integer, default=0)
    next_due_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    # The quiet loans' figures in columns (`servicing.service.accrual`), written with the cached fold: what a day
    # that is only an accrual needs and changes. NULL when the loan's terms or fold do not allow such a day (it
    # then goes through `advance`). `accrued_interest` and `payoff_accrued` (minor units) are those of
    # `state_as_of`; the close of business moves them and `state_as_of` without rewriting `state`, whose
    # accrual fields are then stale and read through `accrual.cached_state` (the composed JSON).
    accrual_rate: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # annual rate x 1e8
    accrual_basis: Mapped[int | None] = mapped_column(Integer, nullable=True)  # 360, 364 or 365
    accrual_rounding: Mapped[str | None] = mapped_column(String(16), nullable=True)
    accrual_from: Mapped[date | None] = mapped_column(Date, nullable=True)  # the running period's start
    accrual_until: Mapped[date | None] = mapped_column(Date, nullable=True)  # next due date or period end
    accrual_base: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # the running balance
    accrual_future: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # principal not yet due
    accrued_interest: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    payoff_accrued: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # What the close of business's later steps read of the cached fold (`accrual.day_columns`), written with it:
    # NULL on a loan not folded since migration 0042 (`late_payments` NULL says so; those steps then read the
    # JSON). `unpaid_due_from`: the earliest due date of an installment not settled (NULL: none).
    unpaid_due_from: Mapped[date | None] = mapped_column(Date, nullable=True)
    bucket: Mapped[str | None] = mapped_column(String(16), nullable=True)  # the delinquency bucket's name
    category: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the five-category class (1-5)
    late_payments: Mapped[int | None] = mapped_column(Integer, nullable=True)
    partial_payments: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_paid_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    # The unsettled installments as `number:YYYY-MM-DD:principal:interest:fee:penalty` (outstanding, minor units) and
    # the repayments as `YYYY-MM-DD:minor`, comma-separated in the fold's order; '' none, NULL not folded since
    # migration 0045 (`accrual.unpaid_dues`, `accrual.repaid`: reminders and collections read them).
    unpaid_dues: Mapped[str | None] = mapped_column(Text, nullable=True)
    repaid: Mapped[str | None] = mapped_column(Text, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class LoanEvent(Base):
    """One event of a loan, as recorded (append-only)."""

    __tablename__ = "loan_events"
    __table_args__ = (
        UniqueConstraint("loan_id", "seq"),
        UniqueConstraint("loan_id", "event_id"),
        UniqueConstraint("loan_id", "idempotency_key"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"))
    seq: Mapped[int] = mapped_column(Integer)
    # The engine's event id ("d1", "r3" …): what a reversal names.
    event_id: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(24))
    value_date: Mapped[date] = mapped_column(Date)
    business_date: Mapped[date] = mapped_column(Date)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    idempotency_key: Mapped[str | None] = mapped_column(String(80), nullable=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    reference: Mapped[str | None] = mapped_column(String(80), nullable=True)
    note: Mapped[str | None] = mapped_column(String(500), nullable=True)


CHANGE_KINDS = ("waiver", "deferral", "rescheduling", "write_off", "refund", "repayment", "prepayment")
CHANGE_STATUSES = ("pending", "approved", "rejected", "cancelled")


class LoanChange(Base):
    """A change to a running loan proposed by one person and decided by another (maker-checker):
    a waiver, a deferral, a rescheduling, a write-off, a refund of credit, or a repayment taken at a
    branch above the institution's threshold. Approved, it is recorded as the loan's event."""

    __tablename__ = "loan_changes"
    __table_args__ = (Index("ix_loan_changes_inst_status", "institution_id", "status", "id"),
                      Index("ix_loan_changes_loan", "loan_id", "id"),
                      UniqueConstraint("loan_id", "idempotency_key"))

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"), nullable=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"))
    kind: Mapped[str] = mapped_column(String(16))
    # The event's own fields (no id or value date: given when it is recorded), as the API took them.
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    reason_code: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16))
    requested_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decision_note: Mapped[str | None] = mapped_column(String(500), nullable=True)
    # The loan event the approval recorded.
    event_seq: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # The maker's Idempotency-Key (repayments): the same request again finds this change, and the
    # approved event is recorded under it.
    idempotency_key: Mapped[str | None] = mapped_column(String(80), nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class ServicingSettings(Base):
    """An institution's servicing settings: the amount above which a repayment taken at a branch
    (cash or transfer keyed in by staff) waits for a second person (none: never)."""

    __tablename__ = "servicing_settings"

    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"), primary_key=True)
    repayment_approval_above: Mapped[Money | None] = mapped_column(MoneyColumn("CNY"), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


PAYMENT_STATUSES = ("requested", "confirmed", "failed")
PAYMENT_PURPOSES = ("disbursement", "repayment", "prepayment")
PAYMENT_CHANNELS = ("payout", "online", "auto_debit")


class Payment(Base):
    """Money moved through the payment provider, as we recorded it: a disbursement paid out, an online
    repayment the borrower started, an auto-debit attempt (docs/servicing.md, Payments).

    `requested` until the provider's callback or a poll says `confirmed` or `failed`; the loan's event
    is recorded only on confirmation (`event_seq`). `idempotency_key` is ours, unique per institution:
    the provider sees it as the merchant reference, so a request repeated never pays twice."""

    __tablename__ = "payments"
    __table_args__ = (
        UniqueConstraint("institution_id", "idempotency_key"),
        UniqueConstraint("provider", "provider_reference"),
        Index("ix_payments_loan", "loan_id", "id"),
        Index("ix_payments_inst_status", "institution_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"), nullable=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"))
    direction: Mapped[str] = mapped_column(String(3))  # out | in
    purpose: Mapped[str] = mapped_column(String(16))  # PAYMENT_PURPOSES
    channel: Mapped[str] = mapped_column(String(16))  # PAYMENT_CHANNELS
    mode: Mapped[str | None] = mapped_column(String(24), nullable=True)  # prepayment: shorten_term | reduce_installment
    amount: Mapped[Money] = mapped_column(MoneyColumn("CNY"))
    # A payout whose down payment is kept back: the provider pays `amount` (net), the loan records a
    # disbursement of `event_amount` (gross). None: the event's amount is `amount`.
    event_amount: Mapped[Money | None] = mapped_column(MoneyColumn("CNY"), nullable=True)
    bank_card_id: Mapped[int | None] = mapped_column(ForeignKey("bank_accounts.id"), nullable=True)
    card_masked: Mapped[str | None] = mapped_column(String(32), nullable=True)
    provider: Mapped[str] = mapped_column(String(32))
    provider_reference: Mapped[str | None] = mapped_column(String(64), nullable=True)
    idempotency_key: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(12))  # PAYMENT_STATUSES
    failure_reason: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Auto-debit: the due date collected for and which attempt this is (1, 2 …).
    due_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    pay_url: Mapped[str | None] = mapped_column(String(255), nullable=True)
    requested_on: Mapped[date] = mapped_column(Date)  # the business date of the request
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    requested_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(12), nullable=True)  # callback | poll
    event_seq: Mapped[int | None] = mapped_column(Integer, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


BREAK_KINDS = ("missing_ours", "missing_theirs", "amount_differs", "status_differs")


class ReconciliationBreak(Base):
    """A difference between the provider's daily statement and our payments, found by reconciliation."""

    __tablename__ = "reconciliation_breaks"
    __table_args__ = (UniqueConstraint("institution_id", "statement_date", "kind", "reference",
                                       name="uq_recon_breaks_statement_line"),
                      Index("ix_recon_breaks_inst_open", "institution_id", "resolved", "id"))

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    statement_date: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(16))  # BREAK_KINDS
    # The merchant reference (our idempotency key) or, when only the provider has it, its reference.
    reference: Mapped[str] = mapped_column(String(80))
    provider_reference: Mapped[str | None] = mapped_column(String(64), nullable=True)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"), nullable=True)
    ours: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    theirs: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    found_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved: Mapped[bool] = mapped_column(Boolean, default=False)
    # Finance marks a break resolved, saying how (a refund made, the provider's correction …).
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    resolved_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    resolution_note: Mapped[str | None] = mapped_column(String(500), nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


def sheet_line_key(group_id: int, key: str) -> str:
    """The key a collection sheet's repayment is recorded under on its loan: the same sheet's line is never
    recorded twice on a loan, whatever happens to the sheet's own record; and the repayment finds its sheet."""
    return "sheet:" + hashlib.sha256(f"{group_id}:{key}".encode()).hexdigest()[:40]


class CollectionSheet(Base):
    """A group meeting's collection sheet as saved (小组例会收款表, Fineract's collection sheet): who saved it
    and when, for which meeting, and each member's line — the loan, what was due, what was collected (the
    repayment event it recorded, or the pending change above the threshold), a reason when less was
    collected. `idempotency_key` is the saver's key for the whole sheet, unique per group: the same sheet
    posted again finds this one."""

    __tablename__ = "collection_sheets"
    __table_args__ = (UniqueConstraint("group_id", "idempotency_key"),
                      Index("ix_collection_sheets_group", "group_id", "meeting_date", "id"),
                      Index("ix_collection_sheets_handover", "handed_over_at", "institution_id", "meeting_date"))

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    group_id: Mapped[int] = mapped_column(ForeignKey("borrower_groups.id"))
    meeting_date: Mapped[date] = mapped_column(Date)
    idempotency_key: Mapped[str] = mapped_column(String(80))
    # The lines as saved (loan, due, amount collected as strings; outcome; reason), in the sheet's order.
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    due: Mapped[Money] = mapped_column(MoneyColumn("CNY"))
    collected: Mapped[Money] = mapped_column(MoneyColumn("CNY"))
    recorded_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The group's branch when saved: the scope of the sheets waiting for their handover.
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"), nullable=True)
    # The handover of the cash to finance (交款): what the sheet's repayments put in field cash (`expected`),
    # what finance counted, why it was short, who confirmed it, when, and the ledger entry that moved it.
    # A sheet that collected nothing has nothing to hand over: marked handed over when saved, by nobody.
    handover_expected: Mapped[Money | None] = mapped_column(MoneyColumn("CNY"), nullable=True)
    handover_counted: Mapped[Money | None] = mapped_column(MoneyColumn("CNY"), nullable=True)
    handover_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    handover_entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"), nullable=True)
    handed_over_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    handed_over_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    @property
    def line_key(self) -> str:
        """The key each of the sheet's repayments is recorded under on its loan (`sheet_line_key`)."""
        return sheet_line_key(self.group_id, self.idempotency_key)

    @property
    def handover_status(self) -> str:
        """`waiting` while the cash is in the field, then `handed_over`."""
        return "waiting" if self.handed_over_at is None else "handed_over"

    @property
    def handover_shortage(self) -> Money | None:
        """What was collected and not counted (owed by the officer), if any."""
        e, c = self.handover_expected, self.handover_counted
        return e - c if e is not None and c is not None and c < e else None

    @property
    def handover_overage(self) -> Money | None:
        """What was counted beyond what was collected (to suspense), if any."""
        e, c = self.handover_expected, self.handover_counted
        return c - e if e is not None and c is not None and c > e else None
