"""Every query of origination: applications, their timeline and rule results, velocity counts, numbers."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import Row, Select, and_, bindparam, case, func, insert, or_, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from microcredit.db import rows
from microcredit.db.rows import table_of
from microcredit.origination.models import (
    APPLICATION_NUMBERS,
    Application,
    ApplicationEvent,
    ApplicationGuarantor,
    ApplicationReview,
    ApplicationRuleResult,
    ApplicationSequence,
    GroupApplication,
    GroupApplicationMember,
    Guarantor,
)


def add(session: Session, row: object) -> None:
    """Stage a new row and flush it (so it has its id)."""
    session.add(row)
    session.flush()


def add_all(session: Session, rows: Iterable[object]) -> None:
    """Stage new rows and flush them."""
    session.add_all(list(rows))
    session.flush()


# The decision's writes, built once: Core INSERTs through the session's connection (no ORM objects, no autoflush,
# none of the ORM's bulk path), the rows' parameters sent as one statement (a multi-row INSERT where the driver
# makes one, else the driver's executemany).
_INSERT_RESULTS = insert(table_of(ApplicationRuleResult))
_INSERT_EVENTS = insert(table_of(ApplicationEvent))


def add_results(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert one submission's rule results in one statement (nobody reads them back in this transaction)."""
    if rows:
        session.connection().execute(_INSERT_RESULTS, rows)


def add_events(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert timeline entries in one statement (every row with the same columns, NULLs as such; their ids are
    not needed). Not a flush: the application's own changes are written by the next one."""
    if rows:
        session.connection().execute(_INSERT_EVENTS, rows)


def get(session: Session, application_id: int, *, for_update: bool = False) -> Application | None:
    """The application with this id (row-locked for the transaction, `for_update`)."""
    return session.get(Application, application_id, with_for_update=for_update)


def guarantor_parties_of(session: Session, application_id: int) -> list[Guarantor]:
    """Every guarantor of an application, active and released, in the order added."""
    return list(session.scalars(select(Guarantor).where(Guarantor.application_id == application_id)
                                .order_by(Guarantor.id)))


def guarantor(session: Session, guarantor_id: int) -> Guarantor | None:
    """The guarantor with this id (of any application)."""
    return session.get(Guarantor, guarantor_id)


def guarantees_matching(session: Session, *, institution_id: int | None, branch_id: int | bool | None,
                        id_index: str | None = None, phone_index: str | None = None, id_tail: str | None = None,
                        name: str | None = None, limit: int = 200) -> list[tuple[Guarantor, Application]]:
    """Guarantors (with their application) matching one term, within a scope (`branch_id` False: any
    branch; None: only applications without one), newest first, at most `limit`."""
    stmt = select(Guarantor, Application).join(Application, Application.id == Guarantor.application_id)
    if institution_id is not None:
        stmt = stmt.where(Guarantor.institution_id == institution_id)
    if branch_id is not False:
        stmt = stmt.where(Application.branch_id == branch_id) if branch_id is not None else stmt.where(
            Application.branch_id.is_(None))
    if id_index is not None:
        stmt = stmt.where(Guarantor.id_number_index == id_index)
    if phone_index is not None:
        stmt = stmt.where(Guarantor.phone_index == phone_index)
    if id_tail:
        stmt = stmt.where(Guarantor.id_number_masked.like(f"%{id_tail}"))
    if name:
        stmt = stmt.where(Guarantor.name.like(f"%{name}%"))
    return [(g, a) for g, a in session.execute(stmt.order_by(Guarantor.id.desc()).limit(limit))]


# Statements of every decision, built once (the values bound at each call): building one and its cache key
# cost more CPU than executing it on SQLite.
_EVENTS = table_of(ApplicationEvent)
_EVENTS_OF = select(_EVENTS.c.at, _EVENTS.c.actor, _EVENTS.c.user_id, _EVENTS.c.from_status, _EVENTS.c.to_status,
                    _EVENTS.c.reason_code, _EVENTS.c.note).where(
    _EVENTS.c.application_id == bindparam("application_id")).order_by(_EVENTS.c.id)


def events_of(session: Session, application_id: int) -> list[Row[Any]]:
    """An application's timeline, oldest first: the entries' columns (those of `ApplicationEvent` but its ids) read
    through the session's connection (Core rows, no ORM objects; nothing of the session's pending changes is in
    this table: every timeline entry is written at once)."""
    return list(session.connection().execute(_EVENTS_OF, {"application_id": application_id}))


def write_changes(session: Session, application: Application) -> None:
    """Write a loaded application's changed attributes now, as the ORM's flush would — one UPDATE of those
    columns, the version checked and raised (`StaleDataError` when another transaction changed the row) — but
    as a Core statement through the session's connection, the loaded object left as after a flush: no flush has
    anything left to do with it (`db.rows.write_changes`, shared with servicing's loan)."""
    rows.write_changes(session, application)


def results_of(session: Session, application_id: int) -> list[ApplicationRuleResult]:
    """Every rule result of an application, by submission then the order the rules ran in."""
    return list(session.scalars(
        select(ApplicationRuleResult).where(ApplicationRuleResult.application_id == application_id)
        .order_by(ApplicationRuleResult.submission, ApplicationRuleResult.seq)))


def applications_query(*, institution_id: int | None, branch_id: int | bool | None, borrower_id: int | None = None,
                       status: str | None = None, product_code: str | None = None,
                       branch_filter: int | None = None, created_from: datetime | None = None,
                       created_before: datetime | None = None) -> Select[Any]:
    """Applications within a scope (`branch_id` False: any branch; None: those without one), filtered."""
    stmt = select(Application)
    return _filtered(stmt, institution_id=institution_id, branch_id=branch_id, borrower_id=borrower_id,
                     status=status, product_code=product_code, branch_filter=branch_filter,
                     created_from=created_from, created_before=created_before)


def _filtered(stmt: Select[Any], *, institution_id: int | None, branch_id: int | bool | None,
              borrower_id: int | None, status: str | None, product_code: str | None, branch_filter: int | None,
              created_from: datetime | None, created_before: datetime | None) -> Select[Any]:
    if institution_id is not None:
        stmt = stmt.where(Application.institution_id == institution_id)
    if branch_id is None:
        stmt = stmt.where(Application.branch_id.is_(None))
    elif branch_id is not False:
        stmt = stmt.where(Application.branch_id == branch_id)
    if borrower_id is not None:
        stmt = stmt.where(Application.borrower_id == borrower_id)
    if status is not None:
        stmt = stmt.where(Application.status == status)
    if product_code:
        stmt = stmt.where(Application.product_code == product_code)
    if branch_filter is not None:
        stmt = stmt.where(Application.branch_id == branch_filter)
    if created_from is not None:
        stmt = stmt.where(Application.created_at >= created_from)
    if created_before is not None:
        stmt = stmt.where(Application.created_at < created_before)
    return stmt


def status_counts(session: Session, *, institution_id: int | None, branch_id: int | bool | None,
                  product_code: str | None = None, branch_filter: int | None = None,
                  created_from: datetime | None = None, created_before: datetime | None = None) -> dict[str, int]:
    """How many applications in scope are in each status."""
    grouped: Any = select(Application.status, func.count()).group_by(Application.status)
    stmt = _filtered(grouped,
                     institution_id=institution_id, branch_id=branch_id, borrower_id=None, status=None,
                     product_code=product_code, branch_filter=branch_filter, created_from=created_from,
                     created_before=created_before)
    return {status: int(n) for status, n in session.execute(stmt).all()}


_VELOCITY_FIELDS = {"id_number_index": Application.id_number_index, "phone_index": Application.phone_index,
                    "device_id": Application.device_id, "client_ip": Application.client_ip}


@functools.lru_cache(maxsize=64)
def _velocity_query(columns: tuple[str, ...], windows: tuple[str, ...]) -> Any:
    """The conditional sums of `velocity_counts` for these columns and windows, built once (values bound)."""
    fields = _VELOCITY_FIELDS
    sums = [func.coalesce(func.sum(case((and_(fields[column] == bindparam(f"v_{column}"),
                                              Application.submitted_at >= bindparam(f"w_{window}")), 1), else_=0)), 0)
            for column in columns for window in windows]
    return select(*sums).where(
        Application.institution_id == bindparam("institution_id"), Application.submitted_at >= bindparam("earliest"),
        Application.id != bindparam("submitting"), or_(*(fields[column] == bindparam(f"o_{column}")
                                                         for column in columns)))


def latest_submitted(session: Session, institution_id: int, limit: int) -> list[Application]:
    """The institution's latest submitted applications (a number given), newest first."""
    return list(session.scalars(select(Application).where(
        Application.institution_id == institution_id, Application.number.is_not(None),
        Application.submitted_at.is_not(None)).order_by(Application.submitted_at.desc(), Application.id.desc())
        .limit(limit)))


def velocity_counts(session: Session, *, institution_id: int, values: dict[str, str | None],
                    windows: dict[str, datetime],
                    submitting: tuple[int, datetime] | None = None) -> dict[tuple[str, str], int]:
    """Applications of the institution submitted since each window's start whose column equals the
    given value, for every (column, window) pair, in one query; a None value counts 0.

    `values` maps column names (`id_number_index`, `phone_index`, `device_id`, `client_ip`) to the
    value to match; `windows` maps window names to their start. `submitting` (the id of an application
    being submitted, the time of its submission): that application is counted as submitted then, whatever
    its row says (the row is written later, with the decision: nothing is flushed for this count).
    """
    given = {column: value for column, value in values.items() if value is not None}
    pairs = [(column, window) for column in given for window in windows]
    if not pairs:
        return {(column, window): 0 for column in values for window in windows}
    own_id, own_at = submitting if submitting is not None else (-1, None)
    params: dict[str, Any] = {"institution_id": institution_id, "earliest": min(windows.values()),
                              "submitting": own_id}
    params.update({f"v_{column}": value for column, value in given.items()})
    params.update({f"o_{column}": value for column, value in given.items()})
    params.update({f"w_{window}": start for window, start in windows.items()})
    # Through the session's connection: nothing pending in the session changes these counts (the submission being
    # made is counted by `submitting`, not read).
    row = session.connection().execute(_velocity_query(tuple(given), tuple(windows)), params).one()
    counts = {(column, window): 0 for column in values for window in windows}
    counts.update({(column, window): int(n) + (own_at is not None and own_at >= windows[window])
                   for (column, window), n in zip(pairs, row, strict=True)})
    return counts


_SEQUENCES = table_of(ApplicationSequence)  # Core statements of the table (through the connection)
_SEQUENCE_OF = (_SEQUENCES.c.institution_id == bindparam("of_institution"),
                _SEQUENCES.c.business_date == bindparam("of_date"))  # not the columns' names (UPDATE)
_RAISE = update(_SEQUENCES).where(*_SEQUENCE_OF).values(last=_SEQUENCES.c.last + 1)
_RAISE_RETURNING = _RAISE.returning(_SEQUENCES.c.last)
_LAST = select(_SEQUENCES.c.last).where(*_SEQUENCE_OF)


@functools.lru_cache(maxsize=4)
def _raise_today(business_date: Any) -> Any:
    return (update(_SEQUENCES).where(_SEQUENCES.c.institution_id == bindparam("of_institution"),
                                     _SEQUENCES.c.business_date == business_date)
            .values(last=_SEQUENCES.c.last + 1).returning(_SEQUENCES.c.last, _SEQUENCES.c.business_date))


def raise_todays_sequence(session: Session, *, institution_id: int, business_date: Any) -> tuple[int, date] | None:
    """`next_sequence` of the institution's business date in force without reading it first: `business_date` is
    its scalar subquery (bound by `of_institution`: parties' `business_date_subquery`), read in the same
    `UPDATE … RETURNING` (the counter and the date). None when that cannot be: the day's first submission (no
    row to raise yet), or a database without UPDATE … RETURNING (MariaDB) — then `next_sequence`."""
    connection = session.connection()
    if not connection.dialect.update_returning:
        return None
    row = connection.execute(_raise_today(business_date), {"of_institution": institution_id}).one_or_none()
    return None if row is None else (int(row[0]), row[1])


_BASE = select(_SEQUENCES.c.base).where(*_SEQUENCE_OF)
_NEXT_NUMBER = select(APPLICATION_NUMBERS.next_value())


def numbers_without_lock(session: Session) -> bool:
    """Whether the day's numbers come from `APPLICATION_NUMBERS` here (`sequence_without_lock`): the database has
    sequences."""
    return bool(session.connection().dialect.supports_sequences)


def sequence_without_lock(session: Session, *, institution_id: int, business_date: date) -> int | None:
    """The day's next application number drawn from `APPLICATION_NUMBERS` (no row locked until the commit, as
    `next_sequence`'s counter is): the sequence's value less the day's `base`. The day's first submission inserts
    the row with `base` one below its value (its number is 1); two racing to insert it meet the primary key, and
    the loser reads the winner's base — drawing again while its value is not above it (drawn before the winner's).
    Only where `numbers_without_lock` (SQLite: `next_sequence`); None for a day begun by `next_sequence`'s counter
    before this existed (its row has no base: the counter goes on)."""
    connection = session.connection()
    key = {"of_institution": institution_id, "of_date": business_date}
    row = connection.execute(_BASE, key).one_or_none()
    if row is not None and row[0] is None:
        return None
    base = None if row is None else int(row[0])
    while True:
        value = int(connection.execute(_NEXT_NUMBER).scalar_one())
        if base is None:
            try:
                with session.begin_nested():
                    session.execute(insert(ApplicationSequence).values(institution_id=institution_id,
                                                                       business_date=business_date, last=0,
                                                                       base=value - 1))
                return 1
            except IntegrityError:
                base = int(connection.execute(_BASE, key).scalar_one())
        if value > base:
            return value - base


def next_sequence(session: Session, *, institution_id: int, business_date: date) -> int:
    """Raise and return the institution's application counter of `business_date` (1 for the first).

    The UPDATE comes first: it takes the row lock (the write lock on SQLite) that holds off every
    other submission of the day until this transaction ends, so no two read the same value. Where
    the database can (SQLite, PostgreSQL: UPDATE … RETURNING) the raised value comes back from that
    one statement; MariaDB reads it after, under the same lock. The day's first submission inserts
    the row; two racing to insert it meet the primary key, and the loser raises the winner's row
    instead.
    """
    key = {"of_institution": institution_id, "of_date": business_date}
    connection = session.connection()  # Core statements: nothing of the session's own is involved
    if connection.dialect.update_returning:
        raised = connection.execute(_RAISE_RETURNING, key).scalar_one_or_none()
        if raised is not None:
            return int(raised)
    elif connection.execute(_RAISE, key).rowcount:
        return int(connection.execute(_LAST, key).scalar() or 0)
    try:
        with session.begin_nested():
            session.execute(insert(ApplicationSequence).values(institution_id=institution_id,
                                                               business_date=business_date, last=1))
        return 1
    except IntegrityError:
        session.execute(_RAISE, key)
    return int(session.scalar(_LAST, key) or 0)


# --- group applications ------------------------------------------------------------------------------


def group_loan_applications(session: Session, group_id: int) -> list[Application]:
    """The members' applications of every group application of a group (oldest first)."""
    return list(session.scalars(select(Application).join(
        GroupApplication, GroupApplication.id == Application.group_application_id).where(
        GroupApplication.group_id == group_id).order_by(Application.id)))


def group_applications_of_group(session: Session, group_id: int, statuses: Iterable[str]) -> list[GroupApplication]:
    """The group's applications in `statuses`, row-locked, oldest first."""
    return list(session.scalars(select(GroupApplication).where(
        GroupApplication.group_id == group_id, GroupApplication.status.in_(list(statuses)))
        .order_by(GroupApplication.id).with_for_update()))


def get_group_application(session: Session, group_application_id: int, *,
                          for_update: bool = False) -> GroupApplication | None:
    """The group application with this id (row-locked with `for_update`)."""
    return session.get(GroupApplication, group_application_id, with_for_update=for_update)


def group_members(session: Session, group_application_id: int) -> list[GroupApplicationMember]:
    """The members of a group application, in the order they were listed."""
    return list(session.scalars(select(GroupApplicationMember)
                                .where(GroupApplicationMember.group_application_id == group_application_id)
                                .order_by(GroupApplicationMember.id)))


def group_applications_query(*, institution_id: int | None, branch_id: int | bool | None,
                             status: str | None) -> Select[Any]:
    """Group applications in scope (`branch_id` False: any branch), newest first."""
    stmt = select(GroupApplication)
    if institution_id is not None:
        stmt = stmt.where(GroupApplication.institution_id == institution_id)
    if branch_id is not False:
        stmt = stmt.where(GroupApplication.branch_id.is_(None) if branch_id is None
                          else GroupApplication.branch_id == branch_id)
    if status is not None:
        stmt = stmt.where(GroupApplication.status == status)
    return stmt.order_by(GroupApplication.id.desc())


def count_group_applications(session: Session, *, institution_id: int | None, branch_id: int | bool | None,
                             status: str) -> int:
    """How many group applications in scope are in `status`."""
    stmt = group_applications_query(institution_id=institution_id, branch_id=branch_id, status=status)
    return int(session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0)


def consent_counts(session: Session, group_application_ids: list[int]) -> dict[int, tuple[int, int]]:
    """(members not removed, of them consented) per group application."""
    if not group_application_ids:
        return {}
    m = GroupApplicationMember
    rows = session.execute(select(m.group_application_id, func.count(),
                                  func.sum(case((m.consent == "consented", 1), else_=0)))
                           .where(m.group_application_id.in_(group_application_ids), m.consent != "removed")
                           .group_by(m.group_application_id))
    return {int(g): (int(n), int(c or 0)) for g, n, c in rows}


def open_group_member(session: Session, borrower_id: int) -> GroupApplicationMember | None:
    """The borrower's part in a group application still waiting (awaiting consent or a refusal), if any."""
    return session.scalar(select(GroupApplicationMember)
                          .join(GroupApplication, GroupApplication.id == GroupApplicationMember.group_application_id)
                          .where(GroupApplicationMember.borrower_id == borrower_id,
                                 GroupApplicationMember.consent != "removed",
                                 GroupApplication.status.in_(("awaiting_consent", "member_refused", "held"))).limit(1))


def group_parts_of(session: Session, group_id: int, borrower_id: int) -> list[GroupApplicationMember]:
    """The borrower's parts (not removed) in the group's group applications that are not cancelled."""
    return list(session.scalars(select(GroupApplicationMember)
                                .join(GroupApplication,
                                      GroupApplication.id == GroupApplicationMember.group_application_id)
                                .where(GroupApplication.group_id == group_id,
                                       GroupApplicationMember.borrower_id == borrower_id,
                                       GroupApplicationMember.consent != "removed",
                                       GroupApplication.status != "cancelled")
                                .order_by(GroupApplicationMember.id)))


def guarantors_of(session: Session, application_id: int) -> list[ApplicationGuarantor]:
    """The mutual guarantees recorded on an application."""
    return list(session.scalars(select(ApplicationGuarantor)
                                .where(ApplicationGuarantor.application_id == application_id)
                                .order_by(ApplicationGuarantor.id)))


def remove_guarantees_by(session: Session, *, group_application_id: int, guarantor_borrower_id: int,
                         statuses: Iterable[str]) -> int:
    """Take off the mutual guarantees a member gave in a group application on the applications in `statuses`
    (those still undecided); how many."""
    undecided = select(Application.id).where(Application.group_application_id == group_application_id,
                                             Application.status.in_(list(statuses)))
    rows = list(session.scalars(select(ApplicationGuarantor).where(
        ApplicationGuarantor.group_application_id == group_application_id,
        ApplicationGuarantor.guarantor_borrower_id == guarantor_borrower_id,
        ApplicationGuarantor.application_id.in_(undecided))))
    for row in rows:
        session.delete(row)
    session.flush()
    return len(rows)


# --- the review in levels ----------------------------------------------------------------------------

def reviews_of(session: Session, application_id: int) -> list[ApplicationReview]:
    """Every act of reviewers on an application (every chain, notes included), oldest first."""
    return list(session.scalars(select(ApplicationReview).where(ApplicationReview.application_id == application_id)
                                .order_by(ApplicationReview.id)))


def levels_acted(session: Session, *, application_id: int, chain: int, user_id: int) -> list[int]:
    """The levels of one chain at which a user decided (notes aside)."""
    return [int(level or 0) for level in session.scalars(select(ApplicationReview.level).where(
        ApplicationReview.application_id == application_id, ApplicationReview.chain == chain,
        ApplicationReview.user_id == user_id, ApplicationReview.level.is_not(None)))]


REVIEWABLE = ("referred", "human_review")


def _actionable_by(user_id: int | None) -> Any:
    """What `user_id` may decide (the rules of approvals' `_may_act` beyond status and level): not an
    application they made, took in or borrow under, and none whose chain they decided at another level."""
    if user_id is None:
        return true()
    decided_elsewhere = (select(ApplicationReview.id)
                         .where(ApplicationReview.application_id == Application.id,
                                ApplicationReview.chain == Application.review_chain,
                                ApplicationReview.user_id == user_id, ApplicationReview.level.is_not(None),
                                ApplicationReview.level != Application.review_level)
                         .exists())
    return and_(*(or_(column.is_(None), column != user_id) for column in (
        Application.borrower_user_id, Application.officer_user_id, Application.created_by_user_id)),
        ~decided_elsewhere)


def queue_query(*, institution_id: int | None, branch_id: int | bool | None, levels: list[int],
                branch_filter: int | None = None, actor_user_id: int | None = None) -> Select[Any]:
    """Applications waiting at one of `levels`, in scope, that `actor_user_id` may decide, oldest at
    its level first."""
    stmt = _filtered(select(Application).where(Application.status.in_(REVIEWABLE),
                                               Application.review_level.in_(levels),
                                               _actionable_by(actor_user_id)),
                     institution_id=institution_id, branch_id=branch_id, borrower_id=None, status=None,
                     product_code=None, branch_filter=branch_filter, created_from=None, created_before=None)
    return stmt.order_by(Application.level_entered_at, Application.id)


def waiting_counts(session: Session, *, institution_id: int | None, branch_id: int | bool | None,
                   cutoffs: dict[int, datetime], branch_filter: int | None = None,
                   actor_user_id: int | None = None) -> dict[int, tuple[int, int]]:
    """Per level of `cutoffs`: how many wait there in scope for `actor_user_id` to decide, and how many
    entered it before its cutoff (the SLA breached), in one query."""
    breached = case(*((and_(Application.review_level == level, Application.level_entered_at < cutoff), 1)
                      for level, cutoff in cutoffs.items()), else_=0)
    grouped: Any = (select(Application.review_level, func.count(), func.coalesce(func.sum(breached), 0))
                    .where(Application.status.in_(REVIEWABLE), Application.review_level.in_(list(cutoffs)),
                           _actionable_by(actor_user_id))
                    .group_by(Application.review_level))
    stmt = _filtered(grouped, institution_id=institution_id, branch_id=branch_id, borrower_id=None, status=None,
                     product_code=None, branch_filter=branch_filter, created_from=None, created_before=None)
    found = {int(level): (int(n), int(late)) for level, n, late in session.execute(stmt).all()}
    return {level: found.get(level, (0, 0)) for level in cutoffs}


def decisions_of(session: Session, application_ids: Iterable[int]) -> list[tuple[int, str | None, str | None,
                                                                                int | None, str | None]]:
    """(id, number, decision, score, grade) of these applications (their last automated assessment)."""
    ids = sorted(set(application_ids))
    rows: list[tuple[int, str | None, str | None, int | None, str | None]] = []
    for start in range(0, len(ids), 500):
        part = ids[start:start + 500]
        rows.extend((r.id, r.number, r.decision, r.score, r.grade) for r in session.execute(
            select(Application.id, Application.number, Application.decision, Application.score, Application.grade)
            .where(Application.id.in_(part))))
    return rows
