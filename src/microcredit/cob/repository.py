"""Every query of the close of business's tables."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Select, func, insert, select
from sqlalchemy.orm import Session

from microcredit.cob.models import CobFailure, CobRun, CobTask, LoanBehaviour, LoanStanding, ReminderSent
from microcredit.db.rows import table_of, update_from_columns


def add(session: Session, *rows: object) -> None:
    """Stage new rows."""
    session.add_all(rows)


def run(session: Session, run_id: int, *, for_update: bool = False) -> CobRun | None:
    """A run by id (locked when asked)."""
    stmt = select(CobRun).where(CobRun.id == run_id)
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).one_or_none()


def run_of_date(session: Session, institution_id: int, business_date: date) -> CobRun | None:
    """The institution's run of one business date."""
    return session.scalars(select(CobRun).where(CobRun.institution_id == institution_id,
                                                CobRun.business_date == business_date)).one_or_none()


def latest_run(session: Session, institution_id: int) -> CobRun | None:
    """The institution's run of the latest date."""
    return session.scalars(select(CobRun).where(CobRun.institution_id == institution_id)
                           .order_by(CobRun.business_date.desc()).limit(1)).one_or_none()


def unfinished_run(session: Session, institution_id: int) -> CobRun | None:
    """The institution's run that has not finished, if any."""
    return session.scalars(select(CobRun).where(CobRun.institution_id == institution_id,
                                                CobRun.status == "running")).first()


def runs_query(*, institution_id: int | None) -> Select[Any]:
    """Runs, newest date first (an institution's, or all)."""
    stmt = select(CobRun)
    if institution_id is not None:
        stmt = stmt.where(CobRun.institution_id == institution_id)
    return stmt.order_by(CobRun.business_date.desc(), CobRun.id.desc())


def tasks(session: Session, run_id: int) -> list[CobTask]:
    """A run's tasks in order: step position, then partition."""
    return list(session.scalars(select(CobTask).where(CobTask.run_id == run_id)
                                .order_by(CobTask.position, CobTask.partition)))


def task(session: Session, task_id: int, *, for_update: bool = False) -> CobTask | None:
    """A task by id (locked when asked)."""
    stmt = select(CobTask).where(CobTask.id == task_id)
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).one_or_none()


def failures(session: Session, run_id: int) -> list[CobFailure]:
    """A run's failures, oldest first."""
    return list(session.scalars(select(CobFailure).where(CobFailure.run_id == run_id).order_by(CobFailure.id)))


def open_failures(session: Session, run_id: int) -> list[CobFailure]:
    """A run's failures not yet retried."""
    return list(session.scalars(select(CobFailure).where(CobFailure.run_id == run_id,
                                                         CobFailure.retried.is_(False)).order_by(CobFailure.id)))


def open_failure_count(session: Session, run_id: int) -> int:
    """How many of a run's failures wait for a retry."""
    return int(session.scalar(select(func.count()).select_from(CobFailure).where(
        CobFailure.run_id == run_id, CobFailure.retried.is_(False))) or 0)


def standing(session: Session, loan_id: int) -> LoanStanding | None:
    """A loan's bucket, class and provision held."""
    return session.get(LoanStanding, loan_id)


def behaviour(session: Session, loan_id: int) -> LoanBehaviour | None:
    """A loan's behaviour features."""
    return session.get(LoanBehaviour, loan_id)


def behaviours(session: Session, loan_ids: list[int]) -> list[Any]:
    """(loan_id, late_payments, partial_payments, days_since_last_payment, max_dpd) of the loans that have features."""
    return list(session.execute(select(LoanBehaviour.loan_id, LoanBehaviour.late_payments,
                                       LoanBehaviour.partial_payments, LoanBehaviour.days_since_last_payment,
                                       LoanBehaviour.max_dpd).where(LoanBehaviour.loan_id.in_(loan_ids))).all())


def set_behaviours(session: Session, *, on: date, rows: Sequence[dict[str, Any]]) -> None:
    """Features rows replaced, dated `on` (keys `b_id` the loan, `b_late`, `b_partial`, `b_since`, `b_max`): on
    PostgreSQL one UPDATE ... FROM unnest(arrays), elsewhere one executemany UPDATE (`db.rows.update_from_columns`)."""
    update_from_columns(session, table_of(LoanBehaviour), "loan_id", {
        "loan_id": [r["b_id"] for r in rows], "late_payments": [r["b_late"] for r in rows],
        "partial_payments": [r["b_partial"] for r in rows], "days_since_last_payment": [r["b_since"] for r in rows],
        "max_dpd": [r["b_max"] for r in rows]}, also={"as_of": on})


def reminders_sent(session: Session, loan_ids: Collection[int],
                   due_dates: Collection[date]) -> set[tuple[int, str, date]]:
    """(loan, kind, due date) of the reminders queued for these loans and due dates, in one query."""
    if not loan_ids or not due_dates:
        return set()
    return {(r.loan_id, r.kind, r.due_date) for r in session.execute(
        select(ReminderSent.loan_id, ReminderSent.kind, ReminderSent.due_date).where(
            ReminderSent.loan_id.in_(sorted(loan_ids)), ReminderSent.due_date.in_(sorted(due_dates))))}


def add_reminders(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Record queued reminders from their column values in one INSERT (no ORM objects)."""
    if rows:
        session.execute(insert(ReminderSent), list(rows))


def reminder_sent(session: Session, loan_id: int, kind: str, due_date: date) -> bool:
    """Whether the reminder of this kind for this due date was queued."""
    return session.scalar(select(ReminderSent.id).where(ReminderSent.loan_id == loan_id, ReminderSent.kind == kind,
                                                        ReminderSent.due_date == due_date)) is not None
