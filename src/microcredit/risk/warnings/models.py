"""Tables of early warning.

`risk_behaviour_scores` keeps each loan's behaviour score per business date (its history: drops are
measured on it). `risk_bureau_refreshes` keeps what each periodic re-read of a borrower's credit report
said (accounts overdue elsewhere), so that the next one can be compared with it. `risk_warning_settings`
holds an institution's thresholds. `risk_warnings` holds the warnings: one per rule, subject ("loan:12",
"branch:3", "purpose:business") and day; the action proposed on it, who decided it and what was done.
`risk_borrower_freezes` records a freeze on a borrower (no credit line to cut: new applications are
referred to a person).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from microcredit.db.base import Base
from microcredit.db.types import BigIntPK, UTCDateTime

WARNING_STATUSES = ("open", "proposed", "actioned", "dismissed")


class BehaviourScoreRow(Base):
    """A loan's behaviour score on one business date."""

    __tablename__ = "risk_behaviour_scores"
    __table_args__ = (UniqueConstraint("loan_id", "scored_on"),
                      Index("ix_risk_behaviour_scores_inst_day", "institution_id", "scored_on"))

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"))
    scored_on: Mapped[date] = mapped_column(Date)
    score: Mapped[int] = mapped_column(Integer)
    grade: Mapped[str] = mapped_column(String(2))
    dpd: Mapped[int] = mapped_column(Integer)
    model: Mapped[str] = mapped_column(String(40))


class BureauRefresh(Base):
    """What a periodic re-read of a borrower's credit report said."""

    __tablename__ = "risk_bureau_refreshes"
    __table_args__ = (UniqueConstraint("borrower_id", "refreshed_on"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    borrower_id: Mapped[int] = mapped_column(ForeignKey("borrowers.id"))
    refreshed_on: Mapped[date] = mapped_column(Date)
    report_number: Mapped[str] = mapped_column(String(64))
    overdue_accounts: Mapped[int] = mapped_column(Integer)
    overdue_minor: Mapped[int] = mapped_column(BigInteger)


class WarningSettings(Base):
    """An institution's early-warning thresholds (rules.Thresholds as JSON)."""

    __tablename__ = "risk_warning_settings"

    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"), primary_key=True)
    thresholds: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class RiskWarning(Base):
    """A warning raised by a rule on a subject on a business date, and what was done about it."""

    __tablename__ = "risk_warnings"
    __table_args__ = (UniqueConstraint("institution_id", "rule", "subject", "raised_on"),
                      Index("ix_risk_warnings_inst_status", "institution_id", "status", "raised_on"),
                      Index("ix_risk_warnings_loan", "loan_id", "raised_on"))

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"), nullable=True)
    loan_id: Mapped[int | None] = mapped_column(ForeignKey("loans.id"), nullable=True)
    borrower_id: Mapped[int | None] = mapped_column(ForeignKey("borrowers.id"), nullable=True)
    subject: Mapped[str] = mapped_column(String(64))
    rule: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(8))
    raised_on: Mapped[date] = mapped_column(Date)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    score: Mapped[int | None] = mapped_column(Integer, nullable=True)
    suggested_action: Mapped[str] = mapped_column(String(24))
    status: Mapped[str] = mapped_column(String(12))  # WARNING_STATUSES
    assigned_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    proposed_action: Mapped[str | None] = mapped_column(String(24), nullable=True)
    proposal_note: Mapped[str | None] = mapped_column(String(500), nullable=True)
    proposed_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    proposed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decided_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decision_note: Mapped[str | None] = mapped_column(String(500), nullable=True)
    outcome: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class BorrowerFreeze(Base):
    """A freeze on a borrower applied from a warning: new applications go to a person (referred)."""

    __tablename__ = "risk_borrower_freezes"
    __table_args__ = (Index("ix_risk_borrower_freezes_borrower", "borrower_id", "lifted_on"),
                      Index("ix_risk_borrower_freezes_id_index", "institution_id", "id_number_index"))

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    borrower_id: Mapped[int] = mapped_column(ForeignKey("borrowers.id"))
    # The borrower's ID-number blind index: the automated review finds a freeze by the applicant's ID number.
    id_number_index: Mapped[str] = mapped_column(String(64))
    warning_id: Mapped[int] = mapped_column(ForeignKey("risk_warnings.id"))
    frozen_on: Mapped[date] = mapped_column(Date)
    lifted_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
