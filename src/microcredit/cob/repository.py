"""Every query of the close of business's tables."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Date, Select, and_, bindparam, case, func, insert, literal, not_, or_, select, update
from sqlalchemy.orm import Session

from microcredit.cob.models import CobFailure, CobRun, CobTask, LoanBehaviour, LoanStanding, ReminderSent
from microcredit.db.expressions import days_between
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


def behaviours_between(session: Session, first: int, last: int) -> list[Any]:
    """(loan_id, late_payments, partial_payments, days_since_last_payment, max_dpd) of the loans of ids [first, last]
    that have features (Core rows through the session's connection: no ORM loading)."""
    return list(session.connection().execute(_BEHAVIOURS_BETWEEN, {"first": first, "last": last}).all())


_BEHAVIOURS_BETWEEN = select(  # built once: every partition of the day asks
    LoanBehaviour.loan_id, LoanBehaviour.late_payments, LoanBehaviour.partial_payments,
    LoanBehaviour.days_since_last_payment, LoanBehaviour.max_dpd).where(
    LoanBehaviour.loan_id >= bindparam("first"), LoanBehaviour.loan_id <= bindparam("last"))


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
            ReminderSent.loan_id.in_(sorted(loan_ids)), ReminderSent.due_date.in_(sorted(due_dates)))).all()}


def add_reminders(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Record queued reminders from their column values in one INSERT (no ORM objects)."""
    if rows:
        session.execute(insert(ReminderSent), list(rows))


def reminder_sent(session: Session, loan_id: int, kind: str, due_date: date) -> bool:
    """Whether the reminder of this kind for this due date was queued."""
    return session.scalar(select(ReminderSent.id).where(ReminderSent.loan_id == loan_id, ReminderSent.kind == kind,
                                                        ReminderSent.due_date == due_date)) is not None


# The close of business's later steps in SQL over `day` — servicing's subquery of a partition's loans whose kept fold
# is of the day, with its columns (`quiet.day_columns_query`) — so that a loan with nothing to do is done without a
# row of it read into Python. `leave`: loans of the subquery the statement must not touch (the partition's loans
# not handed to the step: a failure of the run is skipped).


def day_loans(session: Session, day: Any) -> list[Any]:
    """(loan_id, late_payments, partial_payments) of `day`'s loans: the loans the set-based parts below do."""
    return list(session.execute(select(day.c.loan_id, day.c.late_payments, day.c.partial_payments)).all())


def _kept(day: Any, leave: Collection[int]) -> tuple[Any, ...]:
    return (day.c.loan_id.not_in(sorted(leave)),) if leave else ()


def _standing_same(s: Any, day: Any) -> Any:
    return and_(s.c.loan_id == day.c.loan_id, s.c.dpd == day.c.dpd, s.c.bucket == day.c.bucket,
                s.c.category == day.c.category, s.c.principal == day.c.principal)


def date_unchanged_standings(session: Session, *, on: date, day: Any, leave: Collection[int]) -> None:
    """The standings of `day`'s loans whose days past due, bucket, class and principal (so also the provision, a
    function of the class and the principal) are the loan's: only their date moves, in one UPDATE ... FROM."""
    s = table_of(LoanStanding)
    session.execute(update(s).where(_standing_same(s, day), *_kept(day, leave)).values(as_of=on))


def standings_to_move(session: Session, *, day: Any, leave: Collection[int]) -> list[Any]:
    """`day`'s loans whose standing is missing or differs from the loan's columns: (loan_id, number, currency, dpd,
    bucket, category, principal, held, held_provision, held_principal) — `held` False where there is no standing;
    `held_principal` NULL on a standing written before migration 0042."""
    s = table_of(LoanStanding)
    same = and_(s.c.dpd == day.c.dpd, s.c.bucket == day.c.bucket, s.c.category == day.c.category,
                s.c.principal == day.c.principal)
    return list(session.execute(
        select(day.c.loan_id, day.c.number, day.c.currency, day.c.dpd, day.c.bucket, day.c.category, day.c.principal,
               s.c.loan_id.is_not(None).label("held"), s.c.provision.label("held_provision"),
               s.c.principal.label("held_principal"))
        .select_from(day.outerjoin(s, s.c.loan_id == day.c.loan_id))
        .where(*_kept(day, leave), or_(s.c.loan_id.is_(None), s.c.principal.is_(None), not_(same)))
        .order_by(day.c.loan_id)).all())


def features_from_day(session: Session, *, institution_id: int, on: date, day: Any, leave: Collection[int]) -> None:
    """`day`'s loans' behaviour features from their columns, dated `on`: the rows that exist by one UPDATE ... FROM
    (the largest days past due kept when it was larger), the loans' first rows by one INSERT ... SELECT."""
    f = table_of(LoanBehaviour)
    since = days_between(day.c.last_paid_on, literal(on, Date))
    session.execute(update(f).where(f.c.loan_id == day.c.loan_id, *_kept(day, leave)).values(
        as_of=on, late_payments=day.c.late_payments, partial_payments=day.c.partial_payments,
        days_since_last_payment=since,
        max_dpd=case((day.c.dpd > f.c.max_dpd, day.c.dpd), else_=f.c.max_dpd)))
    first = (select(day.c.loan_id, literal(institution_id), literal(on, Date), day.c.late_payments,
                    day.c.partial_payments, since, day.c.dpd)
             .select_from(day.outerjoin(f, f.c.loan_id == day.c.loan_id))
             .where(f.c.loan_id.is_(None), *_kept(day, leave)))
    session.execute(insert(f).from_select(["loan_id", "institution_id", "as_of", "late_payments", "partial_payments",
                                           "days_since_last_payment", "max_dpd"], first))
