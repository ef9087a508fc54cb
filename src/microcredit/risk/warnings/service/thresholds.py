"""An institution's early-warning thresholds: the defaults (`rules.Thresholds`) until a risk officer edits them."""

from __future__ import annotations

from dataclasses import fields
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from microcredit.audit import service as audit
from microcredit.clock import Clock
from microcredit.platform.actor import Actor
from microcredit.risk.warnings import repository as repo
from microcredit.risk.warnings.errors import BadThresholds
from microcredit.risk.warnings.models import WarningSettings
from microcredit.risk.warnings.rules import Thresholds

# The range each threshold may take (inclusive).
RANGES: dict[str, tuple[Any, Any]] = {
    "score_drop_points": (10, 300), "score_drop_days": (1, 180), "first_missed_dpd": (1, 90),
    "partial_installments": (1, 24), "bureau_refresh_days": (1, 365), "concentration_min_loans": (2, 10000),
    "concentration_share": (Decimal("0.01"), Decimal("1")), "cooldown_days": (0, 365)}


def of(*, session: Session, institution_id: int) -> Thresholds:
    """The thresholds in force."""
    stored = repo.thresholds(session, institution_id)
    return Thresholds.from_json(stored) if stored is not None else Thresholds()


def update(*, session: Session, clock: Clock, actor: Actor, institution_id: int, changes: dict[str, Any]
           ) -> Thresholds:
    """Change some thresholds (each checked against its range; nothing changes if one is out), audited."""
    for name, value in changes.items():
        low, high = RANGES[name]
        if not low <= value <= high:
            raise BadThresholds(field=name, params={"low": str(low), "high": str(high)})
    before = of(session=session, institution_id=institution_id)
    values = {f.name: getattr(before, f.name) for f in fields(before)}
    after = Thresholds(**{**values, **changes})
    row = repo.settings(session, institution_id)
    if row is None:
        row = WarningSettings(institution_id=institution_id, thresholds=after.to_json(), updated_at=clock.now(),
                              updated_by_user_id=actor.user_id)
        repo.add(session, row)
    else:
        row.thresholds, row.updated_at, row.updated_by_user_id = after.to_json(), clock.now(), actor.user_id
        session.flush()
    audit.record(session=session, clock=clock, actor=actor, action="risk_warning.thresholds_changed",
                 entity_type="risk_warning_settings", entity_id=institution_id, institution_id=institution_id,
                 before=before.to_json(), after=after.to_json())
    return after
