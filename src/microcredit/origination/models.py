"""Tables of origination: applications, their timeline, the rule results of each decision, the
per-day sequence behind the readable application numbers, and group applications (小组联保) with
each member's consent and the mutual guarantees they record.

An application keeps the product version it was made under (`product_version_id`, and its number
for display) and the borrower's branch at the time. Its `number` (`MC-20261202-000123`) is given at
the first submission from `application_sequences`, one row per institution and business date whose
counter is raised by an UPDATE (a row lock on the servers, the write lock on SQLite), so concurrent
submissions never share a number; the unique constraint backs that up.

Velocity counts (how many applications came lately from one ID number, phone, device or address)
read this table by the identifiers' blind indexes (`id_number_index`, `phone_index`), never by the
identifiers in clear.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    Sequence,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from microcredit.db.base import Base
from microcredit.db.types import BigIntPK, MoneyColumn, UTCDateTime
from microcredit.lending.money import Money

STATUSES = ("draft", "submitted", "approved", "declined", "referred", "returned", "withdrawn", "awaiting_consent",
            "counter_offered", "human_review")
CHANNELS = ("online", "walk_in")


class Application(Base):
    """A borrower's application for a loan under one product version."""

    __tablename__ = "applications"
    __table_args__ = (
        UniqueConstraint("institution_id", "number"),
        Index("ix_applications_inst_status", "institution_id", "status", "id"),
        Index("ix_applications_borrower", "borrower_id", "id"),
        Index("ix_applications_id_index", "id_number_index", "submitted_at"),
        Index("ix_applications_phone_index", "phone_index", "submitted_at"),
        Index("ix_applications_device", "device_id", "submitted_at"),
        Index("ix_applications_ip", "client_ip", "submitted_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"), nullable=True)
    borrower_id: Mapped[int] = mapped_column(ForeignKey("borrowers.id"))
    borrower_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # Given at the first submission; a draft has none.
    number: Mapped[str | None] = mapped_column(String(40), nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    # The plan: the product version in force when the draft was made, and the borrower's choice in it.
    product_code: Mapped[str] = mapped_column(String(32))
    product_version_id: Mapped[int] = mapped_column(ForeignKey("product_versions.id"))
    product_version_number: Mapped[int] = mapped_column(Integer)
    amount: Mapped[Money] = mapped_column(MoneyColumn("CNY"))
    term: Mapped[int] = mapped_column(Integer)
    period_unit: Mapped[str] = mapped_column(String(8))
    repayment_method: Mapped[str] = mapped_column(String(48))
    purpose: Mapped[str] = mapped_column(String(32))
    purpose_note: Mapped[str | None] = mapped_column(String(500), nullable=True)
    # What the decision reads about the applicant's finances (prefilled from the profile).
    monthly_income: Mapped[Money | None] = mapped_column(MoneyColumn("CNY"), nullable=True)
    monthly_debt_payments: Mapped[Money | None] = mapped_column(MoneyColumn("CNY"), nullable=True)
    monthly_spending: Mapped[Money | None] = mapped_column(MoneyColumn("CNY"), nullable=True)
    employment: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # Where it came from: the borrower online, or a loan officer for a walk-in borrower.
    channel: Mapped[str] = mapped_column(String(16))
    officer_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    device_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    client_ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    id_number_index: Mapped[str] = mapped_column(String(64))
    phone_index: Mapped[str | None] = mapped_column(String(64), nullable=True)
    submissions: Mapped[int] = mapped_column(Integer, default=0)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The last automated assessment (every rule's result is in application_rule_results).
    decision: Mapped[str | None] = mapped_column(String(16), nullable=True)
    rule_set: Mapped[str | None] = mapped_column(String(64), nullable=True)
    score: Mapped[int | None] = mapped_column(Integer, nullable=True)
    grade: Mapped[str | None] = mapped_column(String(2), nullable=True)
    reasons: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    needed: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    max_amount: Mapped[Money | None] = mapped_column(MoneyColumn("CNY"), nullable=True)
    bureau_report_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # approve: the rate of the grade; refer: the approval levels the product's policy asks for.
    annual_rate_percent: Mapped[str | None] = mapped_column(String(16), nullable=True)
    levels_required: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # A member's share of a group application (小组联保); None for an individual application.
    group_application_id: Mapped[int | None] = mapped_column(ForeignKey("group_applications.id"), nullable=True)
    # The review in levels (service.approvals): the chain in progress (one per referral or human review
    # request), the level it waits at and since when, a counter-offer waiting for the borrower.
    review_chain: Mapped[int] = mapped_column(Integer, default=0)
    review_level: Mapped[int | None] = mapped_column(Integer, nullable=True)
    level_entered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    human_review: Mapped[bool] = mapped_column(Boolean, default=False)
    human_review_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    counter_amount: Mapped[Money | None] = mapped_column(MoneyColumn("CNY"), nullable=True)
    counter_term: Mapped[int | None] = mapped_column(Integer, nullable=True)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class ApplicationEvent(Base):
    """One step of an application's timeline: who moved it from which status to which, and why."""

    __tablename__ = "application_events"
    __table_args__ = (Index("ix_application_events_app", "application_id", "id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(16))  # borrower | staff | system
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    from_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    to_status: Mapped[str] = mapped_column(String(16))
    reason_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)


class ApplicationReview(Base):
    """One act of a reviewer on an application: a decision at a level of a chain, or a note (no level).

    The unique (application, chain, level) keeps one decisive act per level of a chain, so of two
    reviewers racing on one step only one row can be written.
    """

    __tablename__ = "application_reviews"
    __table_args__ = (UniqueConstraint("application_id", "chain", "level"),
                      Index("ix_application_reviews_app", "application_id", "id"))

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    chain: Mapped[int] = mapped_column(Integer)
    level: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None: a note
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # approve | decline | request_documents | counter_offer | note
    action: Mapped[str] = mapped_column(String(24))
    reason_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    override_reason: Mapped[str | None] = mapped_column(String(64), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    needed: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    counter_amount: Mapped[Money | None] = mapped_column(MoneyColumn("CNY"), nullable=True)
    counter_term: Mapped[int | None] = mapped_column(Integer, nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class ApplicationRuleResult(Base):
    """One rule's result in one submission's automated review (every one is kept)."""

    __tablename__ = "application_rule_results"
    __table_args__ = (UniqueConstraint("application_id", "submission", "seq"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    submission: Mapped[int] = mapped_column(Integer)  # 1 for the first submission, 2 for a resubmission …
    seq: Mapped[int] = mapped_column(Integer)  # the order the rules ran in
    stage: Mapped[str] = mapped_column(String(16))
    code: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(8))
    message: Mapped[str] = mapped_column(String(120))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)


class ApplicationSequence(Base):
    """One business date of one institution's application numbers: on SQLite the last number given (`last`,
    raised under the write lock); where the database has sequences, `base`: the value of `APPLICATION_NUMBERS`
    just before the day's first number (the day's numbers are the sequence's values less it: no row locked)."""

    __tablename__ = "application_sequences"

    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"), primary_key=True,
                                                autoincrement=False)
    business_date: Mapped[date] = mapped_column(Date, primary_key=True)
    last: Mapped[int] = mapped_column(Integer)
    base: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


APPLICATION_NUMBERS = Sequence("application_numbers")
"""Every institution's application numbers where the database has sequences (PostgreSQL, MariaDB): drawn without
a lock and never rolled back, so a day's numbers may have gaps (a submission rolled back or retried)."""


GROUP_APPLICATION_STATUSES = ("awaiting_consent", "member_refused", "submitted", "held", "cancelled")
MEMBER_CONSENTS = ("pending", "consented", "refused", "removed")


class GroupApplication(Base):
    """A loan officer's application for a joint-liability group: one term and method, an amount per member.

    Each member gets an application of their own (`Application.group_application_id`), held in
    `awaiting_consent` until every member consents; then all are submitted in one transaction.
    `awaiting_consent` → `submitted` (all consented) | `member_refused` (someone refused: the officer
    removes them or cancels) | `cancelled`; `held` when members left the group and fewer than 3 remain
    (the officer cancels).
    """

    __tablename__ = "group_applications"
    __table_args__ = (Index("ix_group_applications_inst", "institution_id", "status", "id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"), nullable=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("borrower_groups.id"))
    group_name: Mapped[str] = mapped_column(String(100))  # as it was when applying
    status: Mapped[str] = mapped_column(String(16))
    product_code: Mapped[str] = mapped_column(String(32))
    product_version_id: Mapped[int] = mapped_column(ForeignKey("product_versions.id"))
    term: Mapped[int] = mapped_column(Integer)
    repayment_method: Mapped[str] = mapped_column(String(48))
    purpose: Mapped[str] = mapped_column(String(32))
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class GroupApplicationMember(Base):
    """One member's part of a group application: their application, amount and consent (time, IP, device)."""

    __tablename__ = "group_consents"
    __table_args__ = (UniqueConstraint("group_application_id", "borrower_id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    group_application_id: Mapped[int] = mapped_column(ForeignKey("group_applications.id"))
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    borrower_id: Mapped[int] = mapped_column(ForeignKey("borrowers.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    amount: Mapped[Money] = mapped_column(MoneyColumn("CNY"))
    leader: Mapped[bool] = mapped_column(Boolean, default=False)
    consent: Mapped[str] = mapped_column(String(16), default="pending")
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    consent_ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    consent_device: Mapped[str | None] = mapped_column(String(64), nullable=True)


class ApplicationGuarantor(Base):
    """A mutual guarantee recorded on a member's application: `guarantor_borrower_id` stands for it.

    Written when the group's applications are submitted (every member consented), one row per
    co-member, so collections can read who answers for whom.
    """

    __tablename__ = "loan_guarantees"
    __table_args__ = (UniqueConstraint("application_id", "guarantor_borrower_id"),
                      Index("ix_loan_guarantees_guarantor", "guarantor_borrower_id"))

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    guarantor_borrower_id: Mapped[int] = mapped_column(ForeignKey("borrowers.id"))
    group_id: Mapped[int] = mapped_column(ForeignKey("borrower_groups.id"))
    group_application_id: Mapped[int] = mapped_column(ForeignKey("group_applications.id"))
    kind: Mapped[str] = mapped_column(String(32), default="joint_liability")
    recorded_on: Mapped[date] = mapped_column(Date)  # the business date
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


GUARANTEE_KINDS = ("joint_liability", "general")
GUARANTOR_STATUSES = ("active", "released")


class Guarantor(Base):
    """A person who guarantees an application (and so the loan opened from it) but need not be a borrower.

    Their ID number and phone are kept as a borrower's are: encrypted (`ciphertext`), found by a blind
    index (`index`) and shown masked (`masked`). `relation` is theirs to the borrower; `kind` the
    guarantee (连带责任保证 `joint_liability` or 一般保证 `general`); `amount` what they answer for
    (None: the whole debt). Their consent (a signed paper form, confirmed by the officer) is recorded
    with the document version in force and its hash. `released` is final.
    """

    __tablename__ = "guarantors"
    __table_args__ = (Index("ix_guarantors_application", "application_id", "status"),
                      Index("ix_guarantors_phone", "institution_id", "phone_index"),
                      Index("ix_guarantors_id_number", "institution_id", "id_number_index"))

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    name: Mapped[str] = mapped_column(String(100))
    id_number_ciphertext: Mapped[str] = mapped_column(Text, info={"encrypted": "guarantors.id_number"})
    id_number_index: Mapped[str] = mapped_column(String(64))
    id_number_masked: Mapped[str] = mapped_column(String(32))
    phone_ciphertext: Mapped[str] = mapped_column(Text, info={"encrypted": "guarantors.phone"})
    phone_index: Mapped[str] = mapped_column(String(64))
    phone_masked: Mapped[str] = mapped_column(String(16))
    relation: Mapped[str] = mapped_column(String(16))  # GUARANTOR_RELATIONS (service)
    kind: Mapped[str] = mapped_column(String(16))  # GUARANTEE_KINDS
    amount: Mapped[Money | None] = mapped_column(MoneyColumn("CNY"), nullable=True)
    status: Mapped[str] = mapped_column(String(12), default="active")  # GUARANTOR_STATUSES
    # The consent: the document in force that the guarantor signed on paper, as the officer confirmed.
    consent_document_id: Mapped[int] = mapped_column(ForeignKey("consent_documents.id"))
    consent_content_hash: Mapped[str] = mapped_column(String(64))
    consented_at: Mapped[datetime] = mapped_column(UTCDateTime)
    added_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    released_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    release_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012
