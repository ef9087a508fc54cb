"""Every query of fraud detection."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import bindparam, func, insert, select, union_all
from sqlalchemy.orm import Session

from microcredit.db.rows import table_of
from microcredit.risk.fraud.models import FraudCase, FraudCaseNote, FraudIdentifier, FraudLabel


def add(session: Session, row: FraudIdentifier | FraudCase | FraudCaseNote | FraudLabel) -> None:
    """Write a row (flushed, so it has its id)."""
    session.add(row)
    session.flush()


_IDENTIFIERS_OF = select(FraudIdentifier).where(
    FraudIdentifier.institution_id == bindparam("institution_id"),
    FraudIdentifier.application_number == bindparam("number"))


def identifiers_of(session: Session, institution_id: int, application_number: str) -> list[FraudIdentifier]:
    """The identifiers one application gave."""
    return list(session.scalars(_IDENTIFIERS_OF, {"institution_id": institution_id, "number": application_number}))


_IDENTIFIERS = table_of(FraudIdentifier)


@functools.lru_cache(maxsize=32)
def _sharing_query(kinds: tuple[str, ...], limit: int) -> Any:
    """`sharing`'s Core statement for these kinds, built once (the values bound at each call)."""
    t = _IDENTIFIERS.c
    parts = [select(t.application_number).where(
        t.institution_id == bindparam("institution_id"), t.kind == kind,
        t.value_index.in_(bindparam(f"in_{n}", expanding=True))).order_by(t.id)
        .limit(limit) for n, kind in enumerate(kinds)]
    if len(parts) == 1:
        return parts[0]
    # Each kind's limited rows as a derived table (SQLite and MariaDB take no LIMIT in a bare UNION member).
    return union_all(*(part.subquery().select() for part in parts))


def sharing(session: Session, institution_id: int, pairs: Iterable[tuple[str, str]], limit: int) -> set[str]:
    """The numbers of the applications that gave one of these (kind, index) pairs, of at most `limit` rows of each
    kind (the first ones), every kind in one Core statement through the session's connection."""
    pairs = list(pairs)
    if not pairs:
        return set()
    by_kind: dict[str, list[str]] = {}
    for kind, index in pairs:
        by_kind.setdefault(kind, []).append(index)
    kinds = tuple(sorted(by_kind))
    params: dict[str, Any] = {"institution_id": institution_id}
    params.update({f"in_{n}": by_kind[kind] for n, kind in enumerate(kinds)})
    return set(session.connection().execute(_sharing_query(kinds, limit), params).scalars())


_INSERT_IDENTIFIERS = insert(table_of(FraudIdentifier))


def add_identifiers(session: Session, rows: Sequence[FraudIdentifier]) -> None:
    """Insert new identifiers in one Core statement through the session's connection (the objects stay unsaved:
    callers only read their values)."""
    if rows:
        session.connection().execute(_INSERT_IDENTIFIERS, [
            {"institution_id": r.institution_id, "application_number": r.application_number,
             "person_index": r.person_index, "kind": r.kind, "value_index": r.value_index,
             "value_masked": r.value_masked, "seen_at": r.seen_at} for r in rows])


def of_applications(session: Session, institution_id: int, numbers: Sequence[str]) -> list[FraudIdentifier]:
    """Every identifier of these applications."""
    if not numbers:
        return []
    return list(session.scalars(select(FraudIdentifier).where(
        FraudIdentifier.institution_id == institution_id, FraudIdentifier.application_number.in_(list(numbers)))
        .order_by(FraudIdentifier.id)))


def all_identifiers(session: Session, institution_id: int, kinds: Iterable[str]) -> list[FraudIdentifier]:
    """Every identifier of the kinds that link, for the batch scan."""
    return list(session.scalars(select(FraudIdentifier).where(
        FraudIdentifier.institution_id == institution_id, FraudIdentifier.kind.in_(sorted(kinds)))
        .order_by(FraudIdentifier.id)))


_PERSON_DEVICES = select(_IDENTIFIERS.c.value_index).where(
    _IDENTIFIERS.c.institution_id == bindparam("institution_id"), _IDENTIFIERS.c.person_index == bindparam("person"),
    _IDENTIFIERS.c.kind == "device_id", _IDENTIFIERS.c.application_number != bindparam("excluding"))


def person_devices(session: Session, institution_id: int, person_index: str,
                   excluding_application: str) -> set[str]:
    """The device indices a person applied from before (other applications; a Core statement built once)."""
    return set(session.connection().execute(_PERSON_DEVICES, {
        "institution_id": institution_id, "person": person_index, "excluding": excluding_application}).scalars())


def _latest_label_ids(institution_id: int) -> Any:
    """Each application's latest label (a later verdict on a case that holds it again replaces an earlier one)."""
    return (select(func.max(FraudLabel.id)).where(FraudLabel.institution_id == institution_id)
            .group_by(FraudLabel.application_number))


@functools.lru_cache(maxsize=1)
def _confirmed_links_query() -> Any:
    institution: Any = bindparam("institution_id")
    latest = (select(func.max(FraudLabel.id)).where(FraudLabel.institution_id == institution)
              .group_by(FraudLabel.application_number))
    return select(FraudIdentifier.kind, FraudIdentifier.value_index).distinct().join(
        FraudLabel, (FraudLabel.institution_id == FraudIdentifier.institution_id)
        & (FraudLabel.application_number == FraudIdentifier.application_number)).where(
        FraudIdentifier.institution_id == institution, FraudLabel.label == "fraud", FraudLabel.id.in_(latest),
        FraudIdentifier.value_index.in_(bindparam("indices", expanding=True)),
        FraudIdentifier.application_number != bindparam("excluding"))


def confirmed_links(session: Session, institution_id: int, pairs: Sequence[tuple[str, str]],
                    excluding_application: str) -> int:
    """How many of these (kind, index) pairs another application whose latest label is `fraud` gave too (one
    query, built once; through the session's connection)."""
    if not pairs:
        return 0
    rows = session.connection().execute(_confirmed_links_query(), {
        "institution_id": institution_id, "indices": sorted({index for _, index in pairs}),
        "excluding": excluding_application})
    found = {(kind, index) for kind, index in rows}
    return sum(pair in found for pair in set(pairs))


def case(session: Session, institution_id: int, case_id: int, *, for_update: bool = False) -> FraudCase | None:
    """One case of the institution."""
    stmt = select(FraudCase).where(FraudCase.institution_id == institution_id, FraudCase.id == case_id)
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).one_or_none()


def open_case_of_application(session: Session, institution_id: int, number: str) -> FraudCase | None:
    """The open review case of an application, if any."""
    return session.scalars(select(FraudCase).where(
        FraudCase.institution_id == institution_id, FraudCase.application_number == number,
        FraudCase.status == "open")).first()


def cases(session: Session, institution_id: int, *, status: str | None, source: str | None, offset: int,
          limit: int) -> tuple[list[FraudCase], int]:
    """A page of cases, oldest open first, and how many match."""
    stmt = select(FraudCase).where(FraudCase.institution_id == institution_id)
    if status:
        stmt = stmt.where(FraudCase.status == status)
    if source:
        stmt = stmt.where(FraudCase.source == source)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(FraudCase.opened_at, FraudCase.id).offset(offset).limit(limit))
    return list(rows), total


def all_cases(session: Session, institution_id: int) -> list[FraudCase]:
    """Every case (the scan checks which rings are covered)."""
    return list(session.scalars(select(FraudCase).where(FraudCase.institution_id == institution_id)))


def notes(session: Session, case_id: int) -> list[FraudCaseNote]:
    """A case's notes, oldest first."""
    return list(session.scalars(select(FraudCaseNote).where(FraudCaseNote.case_id == case_id)
                                .order_by(FraudCaseNote.id)))


def labels(session: Session, institution_id: int) -> list[FraudLabel]:
    """Each application's latest label, oldest first (earlier ones stay in the table and the audit trail)."""
    return list(session.scalars(select(FraudLabel).where(FraudLabel.id.in_(_latest_label_ids(institution_id)))
                                .order_by(FraudLabel.id)))
