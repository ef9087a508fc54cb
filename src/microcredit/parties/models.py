"""Tables of parties: institutions, branches, staff, borrowers, bank accounts, profile changes, and
joint-liability groups of borrowers (小组联保) with their members."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from microcredit.db.base import Base
from microcredit.db.types import BigIntPK, MoneyColumn, UTCDateTime
from microcredit.lending.money import Money

CUSTOMER_TYPES = ("consumer", "sole_trader", "small_business", "farmer")


class Institution(Base):
    """A lending institution (small-loan company, rural credit cooperative, MFI)."""

    __tablename__ = "institutions"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200), nullable=True)
    kind: Mapped[str] = mapped_column(String(32), default="small_loan_company")
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    # The date close of business has reached (see microcredit.clock).
    business_date: Mapped[date] = mapped_column(Date)
    contact_phone: Mapped[str | None] = mapped_column(String(32), nullable=True)
    address: Mapped[str | None] = mapped_column(String(255), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="active")
    # Where an online registrant goes (see parties.service.assignment): "region" (the branch
    # of the borrower's region, else the default branch), "default" (the default branch), "none".
    online_branch_rule: Mapped[str] = mapped_column(String(16), default="region", server_default="region")
    # A branch of this institution (checked by the service; no foreign key: branches refer here).
    default_branch_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class Branch(Base):
    """A branch (网点) of an institution."""

    __tablename__ = "branches"
    __table_args__ = (UniqueConstraint("institution_id", "code"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200), nullable=True)
    region_code: Mapped[str | None] = mapped_column(String(12), nullable=True)
    address: Mapped[str | None] = mapped_column(String(255), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class StaffMember(Base):
    """An employee: who they are in the organisation (their sign-in is a `users` row)."""

    __tablename__ = "staff_members"
    __table_args__ = (UniqueConstraint("institution_id", "employee_number"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"), index=True)
    # The branch a staff member works at is their access scope: it lives on `users.branch_id`.
    name: Mapped[str] = mapped_column(String(100))
    employee_number: Mapped[str] = mapped_column(String(32))
    position: Mapped[str | None] = mapped_column(String(100), nullable=True)
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class Borrower(Base):
    """A borrower's profile. The ID number is encrypted; the blind index makes it unique."""

    __tablename__ = "borrowers"
    __table_args__ = (
        UniqueConstraint("institution_id", "id_number_index"),
        Index("ix_borrowers_inst_branch", "institution_id", "branch_id"),
        Index("ix_borrowers_name", "institution_id", "real_name"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"), nullable=True)
    # How the branch was chosen: region | default (the online rule), branch (registered there),
    # staff (moved by staff); None while unassigned.
    branch_assignment: Mapped[str | None] = mapped_column(String(16), nullable=True)
    real_name: Mapped[str] = mapped_column(String(100))
    id_number_ciphertext: Mapped[str] = mapped_column(Text, info={"encrypted": "borrowers.id_number"})
    id_number_index: Mapped[str] = mapped_column(String(64))
    id_number_masked: Mapped[str] = mapped_column(String(32))
    phone_masked: Mapped[str] = mapped_column(String(16))
    gender: Mapped[str] = mapped_column(String(8))  # male | female
    birth_year: Mapped[int] = mapped_column(Integer)
    customer_type: Mapped[str] = mapped_column(String(32), default="consumer")
    occupation: Mapped[str | None] = mapped_column(String(100), nullable=True)
    employer: Mapped[str | None] = mapped_column(String(200), nullable=True)
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    province: Mapped[str | None] = mapped_column(String(50), nullable=True)
    city: Mapped[str | None] = mapped_column(String(50), nullable=True)
    address: Mapped[str | None] = mapped_column(String(255), nullable=True)
    monthly_income: Mapped[Money | None] = mapped_column(MoneyColumn("CNY"), nullable=True)
    total_assets: Mapped[Money | None] = mapped_column(MoneyColumn("CNY"), nullable=True)
    total_liabilities: Mapped[Money | None] = mapped_column(MoneyColumn("CNY"), nullable=True)
    channel: Mapped[str] = mapped_column(String(16))  # online | branch
    registered_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class BankAccount(Base):
    """A borrower's bank card for disbursement and auto-debit (encrypted, blind-indexed)."""

    __tablename__ = "bank_accounts"
    __table_args__ = (UniqueConstraint("borrower_id", "card_index"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    borrower_id: Mapped[int] = mapped_column(ForeignKey("borrowers.id"), index=True)
    bank_name: Mapped[str] = mapped_column(String(100))
    card_ciphertext: Mapped[str] = mapped_column(Text, info={"encrypted": "bank_accounts.card_number"})
    card_index: Mapped[str] = mapped_column(String(64))
    card_masked: Mapped[str] = mapped_column(String(32))
    luhn_valid: Mapped[bool] = mapped_column(Boolean)
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ProfileChange(Base):
    """A borrower's change to credit-relevant fields, waiting for staff review."""

    __tablename__ = "profile_changes"
    __table_args__ = (Index("ix_profile_changes_status", "institution_id", "status"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    borrower_id: Mapped[int] = mapped_column(ForeignKey("borrowers.id"), index=True)
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"), nullable=True)
    # {"field": {"old": "...", "new": "..."}} with values as strings (money as decimal strings).
    changes: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|approved|rejected|superseded|withdrawn
    requested_by_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reviewed_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    review_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


GROUP_STATUSES = ("forming", "active", "dissolved")
GROUP_MIN_MEMBERS, GROUP_MAX_MEMBERS = 3, 10


class BorrowerGroup(Base):
    """A joint-liability group (小组联保): 3–10 borrowers of one branch, one of them its leader.

    `forming` while the loan officer gathers members; `active` once it has 3–10 and a leader (group
    applications need an active group); `dissolved` is final. A borrower is a current member of at
    most one group that is not dissolved.
    """

    __tablename__ = "borrower_groups"
    __table_args__ = (Index("ix_borrower_groups_inst", "institution_id", "branch_id", "status"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"), nullable=True)
    name: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16), default="forming")
    leader_borrower_id: Mapped[int | None] = mapped_column(ForeignKey("borrowers.id"), nullable=True)
    formed_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    dissolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class BorrowerGroupMember(Base):
    """A borrower's membership of a group (`left_at` None: a current member)."""

    __tablename__ = "borrower_group_members"
    __table_args__ = (Index("ix_group_members_group", "group_id", "left_at"),
                      Index("ix_group_members_borrower", "borrower_id", "left_at"))

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("borrower_groups.id"))
    borrower_id: Mapped[int] = mapped_column(ForeignKey("borrowers.id"))
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    added_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)


class GroupMeeting(Base):
    """A group's repayment meeting schedule (one per group): the members repay at the meeting and the loan
    officer collects there. `frequency` weekly / fortnightly / monthly from `first_on` (its weekday or its
    day of the month, 1–28), at `time_of_day` (HH:MM, the institution's time zone), at `place`.
    Removing the schedule deletes the row; loans already made keep the dates they were made with."""

    __tablename__ = "group_meetings"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("borrower_groups.id"), unique=True)
    frequency: Mapped[str] = mapped_column(String(16))
    first_on: Mapped[date] = mapped_column(Date)
    time_of_day: Mapped[str] = mapped_column(String(5))
    place: Mapped[str] = mapped_column(String(200))
    updated_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
