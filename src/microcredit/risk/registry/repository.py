"""Every query of the model registry."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, undefer

from microcredit.db.rows import table_of
from microcredit.risk.registry.models import RiskModel, RiskModelPromotion, RiskModelScore, RiskModelVersion

Row = RiskModel | RiskModelVersion | RiskModelPromotion | RiskModelScore


def add(session: Session, row: Row, *, flush: bool = True) -> None:
    """Write a row (flushed, so it has its id; `flush` False: written by the transaction's next flush)."""
    session.add(row)
    if flush:
        session.flush()


_INSERT_SCORE = insert(table_of(RiskModelScore))


def insert_score(session: Session, values: dict[str, Any]) -> None:
    """Write a model's score of an application (one Core INSERT through the session's connection: no object, no
    flush, no id — nobody reads it)."""
    session.connection().execute(_INSERT_SCORE, values)


def models(session: Session, institution_id: int) -> list[RiskModel]:
    """The institution's models by code."""
    return list(session.scalars(select(RiskModel).where(RiskModel.institution_id == institution_id)
                                .order_by(RiskModel.code)))


def model(session: Session, institution_id: int, code: str) -> RiskModel | None:
    """One model by code."""
    return session.scalars(select(RiskModel).where(RiskModel.institution_id == institution_id,
                                                   RiskModel.code == code)).one_or_none()


def lock_models(session: Session, institution_id: int) -> None:
    """Lock the institution's models (in id order): approvals of one institution then run one at a time, so
    that two approvals for champion at once cannot leave two champions (the second reads the first's result)."""
    list(session.scalars(select(RiskModel.id).where(RiskModel.institution_id == institution_id)
                         .order_by(RiskModel.id).with_for_update()))


def model_by_id(session: Session, model_id: int) -> RiskModel | None:
    """One model by id."""
    return session.get(RiskModel, model_id)


def versions(session: Session, institution_id: int) -> list[RiskModelVersion]:
    """Every version of the institution's models (without artefacts and reports), newest first."""
    return list(session.scalars(select(RiskModelVersion).where(RiskModelVersion.institution_id == institution_id)
                                .order_by(RiskModelVersion.registered_at.desc(), RiskModelVersion.id.desc())))


def version(session: Session, institution_id: int, model_id: int, number: int, *,
            for_update: bool = False) -> RiskModelVersion | None:
    """One version by number."""
    stmt = select(RiskModelVersion).where(RiskModelVersion.institution_id == institution_id,
                                          RiskModelVersion.model_id == model_id, RiskModelVersion.number == number)
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).one_or_none()


def version_by_id(session: Session, version_id: int) -> RiskModelVersion | None:
    """One version by id."""
    return session.get(RiskModelVersion, version_id)


def latest_number(session: Session, model_id: int) -> int:
    """The highest version number so far (0: none)."""
    return int(session.scalar(select(func.coalesce(func.max(RiskModelVersion.number), 0))
                              .where(RiskModelVersion.model_id == model_id)) or 0)


def in_role(session: Session, institution_id: int, role: str, *, for_update: bool = False,
            with_artefact: bool = False, purpose: str = "credit") -> RiskModelVersion | None:
    """The institution's champion or challenger of a purpose (None: none)."""
    stmt = select(RiskModelVersion).where(RiskModelVersion.institution_id == institution_id,
                                          RiskModelVersion.status == role, RiskModelVersion.purpose == purpose)
    if with_artefact:
        stmt = stmt.options(undefer(RiskModelVersion.artefact))
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).first()


def promotions(session: Session, institution_id: int, *, version_id: int | None = None) -> list[RiskModelPromotion]:
    """The institution's proposals (of one version), newest first."""
    stmt = select(RiskModelPromotion).where(RiskModelPromotion.institution_id == institution_id)
    if version_id is not None:
        stmt = stmt.where(RiskModelPromotion.version_id == version_id)
    return list(session.scalars(stmt.order_by(RiskModelPromotion.proposed_at.desc(), RiskModelPromotion.id.desc())))


def promotion(session: Session, institution_id: int, promotion_id: int, *,
              for_update: bool = False) -> RiskModelPromotion | None:
    """One proposal."""
    stmt = select(RiskModelPromotion).where(RiskModelPromotion.institution_id == institution_id,
                                            RiskModelPromotion.id == promotion_id)
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).one_or_none()


def scores_of_application(session: Session, institution_id: int, application_number: str) -> list[RiskModelScore]:
    """What the models said of one application, champion first."""
    rows = session.scalars(select(RiskModelScore).where(
        RiskModelScore.institution_id == institution_id, RiskModelScore.application_number == application_number)
        .order_by(RiskModelScore.id.desc()))
    return sorted(rows, key=lambda r: r.role != "champion")


def scores(session: Session, institution_id: int, *, version_ids: Sequence[int], since: datetime | None = None,
           limit: int = 5000) -> list[RiskModelScore]:
    """Recent scores of these versions, newest first (at most `limit`)."""
    stmt = select(RiskModelScore).where(RiskModelScore.institution_id == institution_id,
                                        RiskModelScore.version_id.in_(list(version_ids)))
    if since is not None:
        stmt = stmt.where(RiskModelScore.scored_at >= since)
    return list(session.scalars(stmt.order_by(RiskModelScore.scored_at.desc(), RiskModelScore.id.desc())
                                .limit(limit)))
