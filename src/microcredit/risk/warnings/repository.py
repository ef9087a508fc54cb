"""Every query of early warning."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Select, Table, bindparam, case, func, or_, select, true, update
from sqlalchemy.orm import Session

from microcredit.db.rows import insert_from_columns, insert_missing, table_of
from microcredit.risk.warnings.models import (
    BehaviourScoreRow,
    BorrowerFreeze,
    BureauRefresh,
    RiskWarning,
    WarningSettings,
)
from microcredit.risk.warnings.rules import DETERIORATING_GRADES

OPEN = ("open", "proposed")


def add(session: Session, *rows: object) -> None:
    """Stage new rows and flush them (so they have their ids)."""
    session.add_all(list(rows))
    session.flush()


def settings(session: Session, institution_id: int) -> WarningSettings | None:
    """An institution's thresholds row."""
    return session.get(WarningSettings, institution_id)


def thresholds(session: Session, institution_id: int) -> dict[str, Any] | None:
    """An institution's stored thresholds (None: none stored), the one column read (every task of a close of
    business asks)."""
    stored: dict[str, Any] | None = session.execute(_THRESHOLDS, {"institution_id": institution_id}).scalar()
    return stored


_THRESHOLDS = select(WarningSettings.thresholds).where(WarningSettings.institution_id == bindparam("institution_id"))


def score_on(session: Session, loan_id: int, on: date) -> BehaviourScoreRow | None:
    """A loan's score of one day."""
    return session.scalar(select(BehaviourScoreRow).where(BehaviourScoreRow.loan_id == loan_id,
                                                          BehaviourScoreRow.scored_on == on))


def scores(session: Session, loan_id: int, *, since: date | None = None, before: date | None = None
           ) -> list[BehaviourScoreRow]:
    """A loan's score history, oldest first (within [since, before) when given)."""
    stmt = select(BehaviourScoreRow).where(BehaviourScoreRow.loan_id == loan_id)
    if since is not None:
        stmt = stmt.where(BehaviourScoreRow.scored_on >= since)
    if before is not None:
        stmt = stmt.where(BehaviourScoreRow.scored_on < before)
    return list(session.scalars(stmt.order_by(BehaviourScoreRow.scored_on)))


def was_past_due(session: Session, loan_id: int, before: date) -> bool:
    """Whether any score before `before` was taken on a day the loan was past due."""
    return session.scalar(select(BehaviourScoreRow.id).where(
        BehaviourScoreRow.loan_id == loan_id, BehaviourScoreRow.scored_on < before,
        BehaviourScoreRow.dpd > 0).limit(1)) is not None


def scores_on(session: Session, first: int, last: int, on: date) -> list[Any]:
    """(id, loan_id, score, grade, dpd, model) of the scores of loans [first, last] on one day (Core rows)."""
    return list(session.connection().execute(_SCORES_ON, {"first": first, "last": last, "on": on}).all())


def peaks(session: Session, first: int, last: int, *, since: date, before: date) -> dict[int, int]:
    """The highest score of each loan of [first, last] within [since, before) (a loan without one is left out)."""
    return {loan_id: int(peak) for loan_id, peak in session.connection().execute(
        _PEAKS, {"first": first, "last": last, "since": since, "before": before})}


# Built once (every partition of the day asks): a statement built anew costs its cache key at every call.
_S = BehaviourScoreRow
_SCORES_ON = select(_S.id, _S.loan_id, _S.score, _S.grade, _S.dpd, _S.model).where(
    _S.loan_id >= bindparam("first"), _S.loan_id <= bindparam("last"), _S.scored_on == bindparam("on"))
_PEAKS = select(_S.loan_id, func.max(_S.score)).where(
    _S.loan_id >= bindparam("first"), _S.loan_id <= bindparam("last"), _S.scored_on >= bindparam("since"),
    _S.scored_on < bindparam("before")).group_by(_S.loan_id)


def past_due_before(session: Session, loan_ids: list[int], before: date) -> set[int]:
    """The loans of `loan_ids` with a score before `before` taken on a day they were past due (`was_past_due`)."""
    if not loan_ids:
        return set()
    return set(session.scalars(select(BehaviourScoreRow.loan_id).where(
        BehaviourScoreRow.loan_id.in_(loan_ids), BehaviourScoreRow.scored_on < before,
        BehaviourScoreRow.dpd > 0).distinct()))


def add_scores(session: Session, institution_id: int, on: date, columns: dict[str, Sequence[Any]]) -> None:
    """New score rows of one day, given as columns (`loan_id`, `score`, `grade`, `dpd`, `model`: one value a row), in
    one statement on PostgreSQL (`db.rows.insert_from_columns`: INSERT … SELECT FROM unnest(arrays)), one
    executemany INSERT elsewhere."""
    insert_from_columns(session, table_of(BehaviourScoreRow), columns,
                        also={"institution_id": institution_id, "scored_on": on})


def set_scores(session: Session, rows: list[dict[str, Any]]) -> None:
    """Score rows replaced in one executemany UPDATE (keys `b_id`, `b_score`, `b_grade`, `b_dpd`, `b_model`)."""
    if rows:
        table = BehaviourScoreRow.__table__
        assert isinstance(table, Table)
        session.execute(update(table).where(table.c.id == bindparam("b_id")).values(
            score=bindparam("b_score"), grade=bindparam("b_grade"), dpd=bindparam("b_dpd"),
            model=bindparam("b_model")), rows)


def scores_of_day(session: Session, institution_id: int, on: date) -> list[BehaviourScoreRow]:
    """The institution's scores of one day."""
    return list(session.scalars(select(BehaviourScoreRow).where(BehaviourScoreRow.institution_id == institution_id,
                                                                BehaviourScoreRow.scored_on == on)))


def concentration_counts(session: Session, institution_id: int, on: date,
                         groups: Any) -> dict[tuple[str, str], tuple[int, int]]:
    """The day's scores counted in SQL by branch (loans with one) and by product: (kind, key) → (loans,
    deteriorating: past due or grade D/E). `groups` is servicing's subquery of the loans' id, branch and product."""
    s = BehaviourScoreRow
    bad = func.sum(case((or_(s.dpd > 0, s.grade.in_(sorted(DETERIORATING_GRADES))), 1), else_=0))
    out: dict[tuple[str, str], tuple[int, int]] = {}
    for kind, column, only in (("branch", groups.c.branch_id, groups.c.branch_id.is_not(None)),
                               ("product", groups.c.product_code, true())):
        for key, n, deteriorating in session.execute(
                select(column, func.count(), bad).select_from(s).join(groups, groups.c.id == s.loan_id)
                .where(s.institution_id == institution_id, s.scored_on == on, only).group_by(column)):
            out[(kind, str(key))] = (int(n), int(deteriorating))
    return out


def refreshes(session: Session, borrower_id: int, *, upto: date) -> list[BureauRefresh]:
    """A borrower's last two bureau refreshes on or before `upto`, newest first."""
    return list(session.scalars(select(BureauRefresh).where(BureauRefresh.borrower_id == borrower_id,
                                                            BureauRefresh.refreshed_on <= upto)
                                .order_by(BureauRefresh.refreshed_on.desc()).limit(2)))


def add_refreshes(session: Session, rows: list[BureauRefresh], on: date) -> dict[int, int]:
    """Store the reports read on `on` (rows not yet added) unless a borrower's report of that day is already stored
    (another close-of-business worker read it at the same time: the first stored stays, `rows.insert_missing`);
    the overdue accounts of the report each of these borrowers has stored for the day, by borrower."""
    if not rows:
        return {}
    insert_missing(session, table_of(BureauRefresh), [{column: getattr(row, column) for column in (
        "institution_id", "borrower_id", "refreshed_on", "report_number", "overdue_accounts", "overdue_minor")}
        for row in rows], unique=("borrower_id", "refreshed_on"))
    stored = session.execute(select(BureauRefresh.borrower_id, BureauRefresh.overdue_accounts).where(
        BureauRefresh.borrower_id.in_(sorted({row.borrower_id for row in rows})), BureauRefresh.refreshed_on == on))
    return {borrower_id: overdue for borrower_id, overdue in stored}


def latest_refreshes(session: Session, borrowers: Any, params: dict[str, Any], *, upto: date
                     ) -> dict[int, list[tuple[date, int]]]:
    """`refreshes` of many borrowers in one query, as (refreshed_on, overdue_accounts): each one's last two on or
    before `upto`, newest first. `borrowers` is another domain's query of their ids, `params` its bound values
    (servicing's borrowers of a partition's loans: no `IN` list of ids)."""
    out: dict[int, list[tuple[date, int]]] = {}
    for borrower_id, refreshed_on, overdue in session.connection().execute(_latest_of(borrowers),
                                                                          {**params, "upto": upto}):
        out.setdefault(borrower_id, []).append((refreshed_on, overdue))
    return out


@functools.cache
def _latest_of(borrowers: Any) -> Select[Any]:
    """`latest_refreshes`' statement, built once per query of the borrowers."""
    rank = func.row_number().over(partition_by=BureauRefresh.borrower_id,
                                  order_by=BureauRefresh.refreshed_on.desc()).label("rank")
    ranked = select(BureauRefresh.borrower_id, BureauRefresh.refreshed_on, BureauRefresh.overdue_accounts, rank).where(
        BureauRefresh.borrower_id.in_(borrowers), BureauRefresh.refreshed_on <= bindparam("upto")).subquery()
    return (select(ranked.c.borrower_id, ranked.c.refreshed_on, ranked.c.overdue_accounts).where(ranked.c.rank <= 2)
            .order_by(ranked.c.borrower_id, ranked.c.refreshed_on.desc()))


def quiet_subjects(session: Session, institution_id: int, subjects: list[str], since: date) -> set[tuple[str, str]]:
    """(rule, subject) of `subjects` for which `quiet_reason` holds: a warning still open, or raised since `since`."""
    if not subjects:
        return set()
    return {(r.rule, r.subject) for r in session.execute(select(RiskWarning.rule, RiskWarning.subject).where(
        RiskWarning.institution_id == institution_id, RiskWarning.subject.in_(subjects),
        (RiskWarning.status.in_(OPEN)) | (RiskWarning.raised_on >= since)).distinct())}


def quiet_reason(session: Session, institution_id: int, rule: str, subject: str, since: date) -> bool:
    """Whether a warning of `rule` on `subject` is still open, or was raised on or after `since`."""
    return session.scalar(select(RiskWarning.id).where(
        RiskWarning.institution_id == institution_id, RiskWarning.rule == rule, RiskWarning.subject == subject,
        (RiskWarning.status.in_(OPEN)) | (RiskWarning.raised_on >= since)).limit(1)) is not None


def warning(session: Session, warning_id: int, *, for_update: bool = False) -> RiskWarning | None:
    """A warning by id."""
    stmt = select(RiskWarning).where(RiskWarning.id == warning_id)
    return session.scalar(stmt.with_for_update() if for_update else stmt)


def warnings_query(*, institution_id: int | None, branch_id: int | bool | None, rule: str | None, status: str | None,
                   loan_id: int | None) -> Select[Any]:
    """Warnings in a scope, newest first (`branch_id` False: any branch; None: rows of no branch)."""
    stmt = select(RiskWarning)
    if institution_id is not None:
        stmt = stmt.where(RiskWarning.institution_id == institution_id)
    if branch_id is None:
        stmt = stmt.where(RiskWarning.branch_id.is_(None))
    elif branch_id is not False:
        stmt = stmt.where(RiskWarning.branch_id == branch_id)
    if rule is not None:
        stmt = stmt.where(RiskWarning.rule == rule)
    if status is not None:
        stmt = stmt.where(RiskWarning.status == status)
    if loan_id is not None:
        stmt = stmt.where(RiskWarning.loan_id == loan_id)
    return stmt.order_by(RiskWarning.raised_on.desc(), RiskWarning.id.desc())


def frozen_id_number(session: Session, institution_id: int, id_number_index: str) -> bool:
    """Whether a borrower of the institution with this ID-number index is frozen."""
    return session.scalar(_FROZEN, {"institution_id": institution_id, "index": id_number_index}) is not None


_FROZEN = select(BorrowerFreeze.id).where(  # built once: every approval asks
    BorrowerFreeze.institution_id == bindparam("institution_id"), BorrowerFreeze.id_number_index == bindparam("index"),
    BorrowerFreeze.lifted_on.is_(None)).limit(1)


def count(session: Session, stmt: Select[Any], *, not_proposed_by: int | None = None) -> int:
    """How many rows a warnings query finds (`not_proposed_by`: leaving out that user's proposals)."""
    if not_proposed_by is not None:
        stmt = stmt.where(RiskWarning.proposed_by_user_id != not_proposed_by)
    return int(session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0)


def active_freeze(session: Session, borrower_id: int) -> BorrowerFreeze | None:
    """A borrower's freeze not lifted."""
    return session.scalar(select(BorrowerFreeze).where(BorrowerFreeze.borrower_id == borrower_id,
                                                       BorrowerFreeze.lifted_on.is_(None)).limit(1))
