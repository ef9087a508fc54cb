"""The anomaly model trained from the institution's own applications, through the model registry.

The fraud check's isolation forest learns what an institution's usual application looks like. Until an
institution has its own, the check uses the forest trained on the synthetic population (`detection`). This
module trains one from the institution's submitted applications — the same eight figures the check reads at
review (`anomaly.Features`), read through origination's `ApplicationSample` interface, never its tables —
and registers it as a **draft** version of the registry (purpose `fraud_anomaly`, canonical JSON with its
SHA-256, never a pickle). It then follows the credit model's life cycle: a risk officer proposes it for
champion (in force), a second one approves, the forest in force before is retired; every step audited.

**The sample.** The latest `MAX_APPLICATIONS` submitted applications, less those an investigator's latest
verdict labelled fraud (the forest should learn the usual, not the fraud already found). Fewer than
`min_applications` left (`MIN_APPLICATIONS`, 200, unless `MICROCREDIT_FRAUD_MODEL_MIN_APPLICATIONS` says
otherwise): refused (`fraud_model_sample_too_small`), nothing stored, the model in force
stays. An isolation forest draws 256 rows a tree; with 200 it still sees most of them in each tree, below
that the tail it calls strange is a handful of applicants.

**The threshold.** The officer chooses the contamination: the share of usual intake that should go to a
person. The threshold is the training scores' (1 − contamination) quantile, floored at
`THRESHOLD_FLOOR` (0.55: below that a score says "ordinary" whatever the sample) — shown with the
score distribution before anyone approves, stored with the model, and used by the fraud check while the
model is in force (a rule set's own `fraud_anomaly_review` parameter, when a version sets one, still wins).
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from microcredit.audit import service as audit
from microcredit.platform.actor import Actor
from microcredit.risk.fraud import anomaly
from microcredit.risk.fraud import repository as repo
from microcredit.risk.fraud.errors import ApplicationSourceMissing, FraudSampleTooSmall
from microcredit.risk.registry.models import RiskModelVersion
from microcredit.risk.registry.service import lifecycle
from microcredit.risk.service.kit import RiskKit

MIN_APPLICATIONS = 200
MAX_APPLICATIONS = 5_000
DEFAULT_CONTAMINATION = 0.02
THRESHOLD_FLOOR = 0.55
MODEL_CODE = "fraud_anomaly"
SEED = 19
QUANTILES = (("0.5", 0.5), ("0.9", 0.9), ("0.98", 0.98), ("0.99", 0.99))
EDGES = tuple(round(0.30 + 0.05 * i, 2) for i in range(11))  # 0.30, 0.35 … 0.80: the distribution's bands


def distribution(scores: np.ndarray[Any, Any]) -> list[dict[str, Any]]:
    """Counts of scores in bands [low, high) (open at the ends): what the screen draws."""
    bounds: list[float | None] = [None, *EDGES, None]
    out = []
    for low, high in itertools.pairwise(bounds):
        mask = np.ones(len(scores), dtype=bool)
        if low is not None:
            mask &= scores >= low
        if high is not None:
            mask &= scores < high
        out.append({"low": low, "high": high, "count": int(mask.sum())})
    return out


def threshold_for(scores: np.ndarray[Any, Any], contamination: float) -> float:
    """The score from which the top `contamination` share of the sample goes to a person (floored)."""
    quantile = float(np.quantile(scores, 1.0 - contamination))  # house-rules: allow float (a score, not money)
    return round(max(quantile, THRESHOLD_FLOOR), 4)


@dataclass(frozen=True)
class Trained:
    """A forest trained from the institution's applications and registered as a draft."""

    version: RiskModelVersion
    report: dict[str, Any]


def train(*, session: Session, kit: RiskKit, actor: Actor, institution_id: int,
          contamination: float = DEFAULT_CONTAMINATION, note: str | None = None,
          min_applications: int = MIN_APPLICATIONS) -> Trained:
    """Train the forest from the institution's submitted applications and register it as a draft (audited);
    refused, with nothing stored, when too few applications remain."""
    if kit.applications is None:
        raise ApplicationSourceMissing()
    sample = kit.applications.anomaly_sample(session, institution_id=institution_id, limit=MAX_APPLICATIONS)
    fraud = {label.application_number for label in repo.labels(session, institution_id) if label.label == "fraud"}
    rows = [features.vector() for number, features in sample if number not in fraud]
    if len(rows) < min_applications:
        raise FraudSampleTooSmall(field="applications", params={"found": len(rows), "needed": min_applications})
    forest = anomaly.train(rows, seed=SEED)
    scores = forest.score(rows)
    threshold = threshold_for(scores, contamination)
    report = {
        "kind": "fraud_anomaly", "trained_on": "applications", "sample": len(rows),
        "excluded_fraud": len(sample) - len(rows), "contamination": contamination, "threshold": threshold,
        "flagged": int((scores >= threshold).sum()), "seed": SEED, "trees": len(forest.trees),
        "max_samples": forest.max_samples,
        "quantiles": {q: round(np.quantile(scores, p).item(), 4) for q, p in QUANTILES},
        "score_histogram": distribution(scores)}
    text, _ = forest.to_json()
    version = lifecycle.register(session=session, clock=kit.clock, actor=actor, institution_id=institution_id,
                                 code=MODEL_CODE, blob=text.encode(), report=json.dumps(report).encode(), note=note)
    audit.record(session=session, clock=kit.clock, actor=actor, action="risk_fraud_model.trained",
                 entity_type="risk_model_version", entity_id=version.id, institution_id=institution_id,
                 after={"model": f"{MODEL_CODE}@{version.number}", "sample": len(rows),
                        "contamination": contamination, "threshold": threshold, "sha256": version.sha256})
    return Trained(version=version, report=report)
