"""Every query of the risk domain."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from microcredit.db.rows import table_of
from microcredit.risk.models import BlacklistEntry, RuleSet, RuleSetVersion, StoredBureauReport


def add(session: Session, row: RuleSet | RuleSetVersion | BlacklistEntry | StoredBureauReport) -> None:
    """Write a row (flushed, so it has its id)."""
    session.add(row)
    session.flush()


_INSERT_REPORT = insert(table_of(StoredBureauReport)).returning(table_of(StoredBureauReport).c.id)


def insert_report(session: Session, values: dict[str, Any]) -> int:
    """Write a stored credit report from its values (one Core INSERT … RETURNING its id through the session's
    connection: no ORM object, no flush)."""
    return int(session.connection().execute(_INSERT_REPORT, values).scalar_one())


def rule_sets(session: Session, institution_id: int) -> list[RuleSet]:
    """The institution's rule sets by code."""
    return list(session.scalars(select(RuleSet).where(RuleSet.institution_id == institution_id)
                                .order_by(RuleSet.code)))


def rule_set(session: Session, institution_id: int, code: str) -> RuleSet | None:
    """One rule set by code."""
    return session.scalars(select(RuleSet).where(RuleSet.institution_id == institution_id,
                                                 RuleSet.code == code)).one_or_none()


def rule_set_by_id(session: Session, rule_set_id: int) -> RuleSet | None:
    """One rule set by id."""
    return session.get(RuleSet, rule_set_id)


def versions(session: Session, rule_set_id: int) -> list[RuleSetVersion]:
    """Every version of a rule set, newest first."""
    return list(session.scalars(select(RuleSetVersion).where(RuleSetVersion.rule_set_id == rule_set_id)
                                .order_by(RuleSetVersion.number.desc())))


def version(session: Session, rule_set_id: int, number: int, *, for_update: bool = False) -> RuleSetVersion | None:
    """One version by number."""
    stmt = select(RuleSetVersion).where(RuleSetVersion.rule_set_id == rule_set_id, RuleSetVersion.number == number)
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).one_or_none()


def published(session: Session, rule_set_id: int) -> RuleSetVersion | None:
    """The version in force."""
    return session.scalars(select(RuleSetVersion).where(RuleSetVersion.rule_set_id == rule_set_id,
                                                        RuleSetVersion.status == "published")).one_or_none()


def published_of(session: Session, institution_id: int, code: str) -> tuple[RuleSet, RuleSetVersion] | None:
    """The rule set `code` of the institution with its version in force (one query)."""
    row = session.execute(select(RuleSet, RuleSetVersion).join(RuleSetVersion, RuleSetVersion.rule_set_id == RuleSet.id)
                          .where(RuleSet.institution_id == institution_id, RuleSet.code == code,
                                 RuleSetVersion.status == "published")).one_or_none()
    return None if row is None else (row[0], row[1])


def latest_number(session: Session, rule_set_id: int) -> int:
    """The highest version number so far (0: none)."""
    return int(session.scalar(select(func.coalesce(func.max(RuleSetVersion.number), 0))
                              .where(RuleSetVersion.rule_set_id == rule_set_id)) or 0)


def blacklist(session: Session, institution_id: int, *, include_removed: bool = False) -> list[BlacklistEntry]:
    """The institution's blacklist, newest first."""
    stmt = select(BlacklistEntry).where(BlacklistEntry.institution_id == institution_id)
    if not include_removed:
        stmt = stmt.where(BlacklistEntry.removed_at.is_(None))
    return list(session.scalars(stmt.order_by(BlacklistEntry.created_at.desc(), BlacklistEntry.id.desc())))


def blacklist_entry(session: Session, institution_id: int, entry_id: int) -> BlacklistEntry | None:
    """One entry of the institution's blacklist."""
    return session.scalars(select(BlacklistEntry).where(BlacklistEntry.institution_id == institution_id,
                                                        BlacklistEntry.id == entry_id)).one_or_none()


def active_blacklist(session: Session, institution_id: int) -> frozenset[tuple[str, str]]:
    """The (kind, blind index) pairs on the institution's blacklist now."""
    return frozenset((kind, index) for kind, index in session.execute(
        select(BlacklistEntry.kind, BlacklistEntry.value_index).where(
            BlacklistEntry.institution_id == institution_id, BlacklistEntry.removed_at.is_(None))))


def blacklist_hits(session: Session, institution_id: int, pairs: Iterable[tuple[str, str]]) -> set[str]:
    """The kinds among (kind, blind index) pairs that are on the institution's blacklist now."""
    pairs = list(pairs)
    if not pairs:
        return set()
    rows = session.execute(select(BlacklistEntry.kind, BlacklistEntry.value_index).where(
        BlacklistEntry.institution_id == institution_id, BlacklistEntry.removed_at.is_(None),
        BlacklistEntry.value_index.in_([index for _, index in pairs])))
    wanted = set(pairs)
    return {kind for kind, index in rows if (kind, index) in wanted}


def bureau_report(session: Session, report_id: int) -> StoredBureauReport | None:
    """One stored credit report."""
    return session.get(StoredBureauReport, report_id)
