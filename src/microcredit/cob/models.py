"""Tables of the close of business: runs, their tasks (step x partition), failures, and what the run
keeps per loan (classification and provision held, behaviour features, reminders sent).

A run (`cob_runs`) is one institution's close of one business date, unique per (institution,
date). Its tasks (`cob_tasks`) are the steps x the partitions of the loans by id range, each
`pending`, `running`, `done` or `failed`; a task's work and its `done` commit together, so a run
killed at any point resumes at the first task not done. A loan that failed a step is a
`cob_failures` row (its error text), skipped by the run and re-run by `retry`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from microcredit.db.base import Base
from microcredit.db.types import BigIntPK, UTCDateTime

RUN_STATUSES = ("running", "done", "done_with_failures")
TASK_STATES = ("pending", "running", "done", "failed")


class CobRun(Base):
    """One institution's close of one business date."""

    __tablename__ = "cob_runs"
    __table_args__ = (UniqueConstraint("institution_id", "business_date"),
                      Index("ix_cob_runs_inst", "institution_id", "id"))

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    business_date: Mapped[date] = mapped_column(Date)
    # The business date before the run moved it (the day the loans are brought from).
    previous_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(24))
    runner: Mapped[str] = mapped_column(String(16))
    partition_size: Mapped[int] = mapped_column(Integer)
    loans: Mapped[int] = mapped_column(Integer, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    started_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    # The run report: per step, loans, amounts and seconds (written when the run finishes).
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class CobTask(Base):
    """One step over one partition (loans with ids in [first_loan_id, last_loan_id])."""

    __tablename__ = "cob_tasks"
    __table_args__ = (UniqueConstraint("run_id", "step", "partition"),
                      Index("ix_cob_tasks_run", "run_id", "position", "partition"))

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("cob_runs.id"))
    step: Mapped[str] = mapped_column(String(32))
    position: Mapped[int] = mapped_column(Integer)
    partition: Mapped[int] = mapped_column(Integer)
    first_loan_id: Mapped[int] = mapped_column(BigInteger)
    last_loan_id: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(12))
    loans: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    # What the step did, by name (entries posted, payments asked for, reminders queued ...): minor units
    # for amounts.
    counts: Mapped[dict[str, int]] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)


class CobFailure(Base):
    """A loan that failed a step of a run, with the error; `retried` once a retry ran it again."""

    __tablename__ = "cob_failures"
    __table_args__ = (Index("ix_cob_failures_run", "run_id", "id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("cob_runs.id"))
    task_id: Mapped[int] = mapped_column(ForeignKey("cob_tasks.id"))
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"))
    step: Mapped[str] = mapped_column(String(32))
    error: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    retried: Mapped[bool] = mapped_column(Boolean, default=False)
    # The retry's outcome: "fixed", or the error again.
    retry_result: Mapped[str | None] = mapped_column(Text, nullable=True)


class LoanStanding(Base):
    """A loan's delinquency bucket, five-category class and the provision the books hold for it."""

    __tablename__ = "cob_loan_standing"

    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"), primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    as_of: Mapped[date] = mapped_column(Date)
    dpd: Mapped[int] = mapped_column(Integer)
    bucket: Mapped[str] = mapped_column(String(16))
    category: Mapped[int] = mapped_column(Integer)
    # Minor units of the loan's currency held in loss_provision for the loan.
    provision: Mapped[int] = mapped_column(BigInteger, default=0)
    # The outstanding principal (minor units) the provision was computed on: with the same class and principal
    # the provision is the same (classify's set-based part reads it); NULL on a standing written before 0042.
    principal: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class LoanBehaviour(Base):
    """Behaviour features of a loan for early warning, refreshed by the close of business."""

    __tablename__ = "cob_loan_features"

    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"), primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    as_of: Mapped[date] = mapped_column(Date)
    late_payments: Mapped[int] = mapped_column(Integer)
    partial_payments: Mapped[int] = mapped_column(Integer)
    days_since_last_payment: Mapped[int | None] = mapped_column(Integer, nullable=True)
    max_dpd: Mapped[int] = mapped_column(Integer)


class ReminderSent(Base):
    """One reminder queued for a loan (kind, installment due date, day): never queued twice."""

    __tablename__ = "cob_reminders"
    __table_args__ = (UniqueConstraint("loan_id", "kind", "due_date"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"))
    kind: Mapped[str] = mapped_column(String(16))
    due_date: Mapped[date] = mapped_column(Date)
    sent_on: Mapped[date] = mapped_column(Date)
    outbox_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
