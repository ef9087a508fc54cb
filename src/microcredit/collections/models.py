"""Tables of collections: an institution's collection settings, cases, the actions logged on them,
and the debtor's contact preferences (time zone, consent to contact at night).

A case is one overdue loan's collection: opened by `service.cases.sync` when the loan falls past due,
escalated through the institution's stages as its days past due grow, closed when the loan is current
again (paid) or written off. Actions are append-only: what was done, when, by whom, to whom, with
the debtor's local day they count against (`local_date`) for the per-day limits.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from microcredit.db.base import Base
from microcredit.db.types import BigIntPK, MoneyColumn, UTCDateTime
from microcredit.lending.money import Money

CASE_STATUSES = ("open", "promised", "closed")
CLOSE_REASONS = ("paid", "written_off")
ACTION_KINDS = ("sms", "call", "visit", "promise", "legal_referral", "negative_report_notice", "bureau_report")
CALL_OUTCOMES = ("reached", "no_answer", "busy", "wrong_number", "refused", "switched_off")
CONTACT_PARTIES = ("borrower", "guarantor", "group_member", "other")
PROMISE_STATUSES = ("pending", "kept", "broken")


class CollectionSettings(Base):
    """An institution's collection rules (the defaults, `service.settings.DEFAULTS`, until first saved)."""

    __tablename__ = "collection_settings"

    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"), primary_key=True)
    # [{"code": "reminder", "min_dpd": 1, "min_amount": null | "5000.00", "sms_template": null | "reminder"}, ...]
    # ascending by min_dpd.
    stages: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    quiet_from_minute: Mapped[int] = mapped_column(Integer)  # 22:00 -> 1320
    quiet_until_minute: Mapped[int] = mapped_column(Integer)  # 08:00 -> 480
    max_effective_calls_per_day: Mapped[int] = mapped_column(Integer)
    max_attempts_per_number_per_day: Mapped[int] = mapped_column(Integer)
    contact_guarantors: Mapped[bool] = mapped_column(Boolean)
    contact_group_members: Mapped[bool] = mapped_column(Boolean)
    prohibited_phrases: Mapped[list[str]] = mapped_column(JSON)
    # [{"code": "reminder", "zh": "...{name}...", "en": "..."}]
    sms_templates: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    # [{"name": "…", "contact": "…" | null, "commission_percent": "15" | null, "stages": ["legal"], "active": true}]
    # (rules saved before 2026-12 hold bare names: `service.settings` reads them as active, every stage)
    agencies: Mapped[list[Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class CollectionCase(Base):
    """The collection of one overdue loan (at most one case of a loan is not closed)."""

    __tablename__ = "collection_cases"
    __table_args__ = (Index("ix_collection_cases_inst_status", "institution_id", "status", "priority"),
                      Index("ix_collection_cases_loan", "loan_id", "status"),
                      Index("ix_collection_cases_assignee", "assigned_user_id", "status"),
                      Index("ix_collection_cases_borrower", "borrower_id", "id"))

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"), nullable=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"))
    borrower_id: Mapped[int] = mapped_column(ForeignKey("borrowers.id"))
    status: Mapped[str] = mapped_column(String(12))  # CASE_STATUSES
    close_reason: Mapped[str | None] = mapped_column(String(16), nullable=True)
    stage: Mapped[str] = mapped_column(String(32))
    # The lowest stage the sync may set (a case stepped up from an early warning keeps it while it is open).
    stage_floor: Mapped[str | None] = mapped_column(String(32), nullable=True)
    dpd: Mapped[int] = mapped_column(Integer)
    # Overdue by component, in minor units: {"principal": .., "interest": .., "fee": .., "penalty": ..}.
    overdue: Mapped[dict[str, int]] = mapped_column(JSON)
    overdue_total: Mapped[Money] = mapped_column(MoneyColumn("CNY"))
    priority: Mapped[int] = mapped_column(BigInteger)  # dpd x overdue (yuan)
    recovered: Mapped[Money] = mapped_column(MoneyColumn("CNY"))  # repaid on the loan since opened
    assigned_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    agency: Mapped[str | None] = mapped_column(String(100), nullable=True)
    opened_on: Mapped[date] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    synced_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class CollectionAction(Base):
    """One action on a case, as logged (append-only but for a promise's follow-up)."""

    __tablename__ = "collection_actions"
    __table_args__ = (Index("ix_collection_actions_case", "case_id", "id"),
                      Index("ix_collection_actions_debtor_day", "borrower_id", "local_date"),
                      Index("ix_collection_actions_promise", "institution_id", "promise_status", "promise_date"),
                      Index("ix_collection_actions_number_day", "institution_id", "number_index", "local_date"))

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("collection_cases.id"))
    borrower_id: Mapped[int] = mapped_column(ForeignKey("borrowers.id"))  # the debtor
    kind: Mapped[str] = mapped_column(String(32))  # ACTION_KINDS
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)  # CALL_OUTCOMES
    effective: Mapped[bool] = mapped_column(Boolean, default=False)  # a call that reached someone
    contact_party: Mapped[str | None] = mapped_column(String(16), nullable=True)  # CONTACT_PARTIES
    # Who was contacted: the borrower's id (borrower, group member) or the guarantor's id (`guarantors`;
    # before 0032, the name a collector typed).
    contact_ref: Mapped[str | None] = mapped_column(String(100), nullable=True)
    # The blind index of the number called (a guarantor's): the per-number count is per this number.
    number_index: Mapped[str | None] = mapped_column(String(64), nullable=True)
    contact_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    template: Mapped[str | None] = mapped_column(String(32), nullable=True)
    text: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    notes: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    document_ids: Mapped[list[int]] = mapped_column(JSON)
    promise_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    promise_amount: Mapped[Money | None] = mapped_column(MoneyColumn("CNY"), nullable=True)
    promise_status: Mapped[str | None] = mapped_column(String(8), nullable=True)  # PROMISE_STATUSES
    promise_made_on: Mapped[date | None] = mapped_column(Date, nullable=True)  # the business date
    local_date: Mapped[date] = mapped_column(Date)  # the debtor's day when it was done
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class CollectionDebtor(Base):
    """A debtor's contact preferences for collection: their time zone (None: the institution's) and
    whether they agreed to be contacted in the quiet hours (who recorded it, when)."""

    __tablename__ = "collection_debtors"

    borrower_id: Mapped[int] = mapped_column(ForeignKey("borrowers.id"), primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    time_zone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    night_contact_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012
