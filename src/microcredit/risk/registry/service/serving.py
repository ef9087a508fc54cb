"""Serving registered models: the per-process cache, the champion's score in the decision, the shadow, drift.

A version is loaded from its bytes only after they hash to the recorded SHA-256 (`artefact.load`),
then kept in a per-process cache keyed by that hash (a hash names one model forever, so the cache
never goes stale; it holds at most `CACHE_SIZE` models, least recently used out first): a decision
reads the version's row, not its bytes, once the process has verified and loaded them. A version
whose bytes no longer match is never served: `load` raises `ArtefactIntegrity`, and the decision
falls back to the interim scorer and refers the application to people (see `assessing`).
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from microcredit.platform import refcache
from microcredit.risk.learning import artefact
from microcredit.risk.learning.artefact import ModelScore, ServingModel
from microcredit.risk.registry import repository as repo
from microcredit.risk.registry.errors import ArtefactIntegrity
from microcredit.risk.registry.models import RiskModel, RiskModelScore, RiskModelVersion

CACHE_SIZE = 16
LANGUAGES = ("zh-CN", "en")
_cache: OrderedDict[str, ServingModel] = OrderedDict()
_lock = threading.Lock()


def cached(sha256: str) -> ServingModel | None:
    """The model loaded before under this hash (its bytes were verified then), if still cached."""
    with _lock:
        hit = _cache.get(sha256)
        if hit is not None:
            _cache.move_to_end(sha256)
        return hit


def clear_cache() -> None:
    """Forget every loaded model (tests; a process that wants every artefact verified again)."""
    with _lock:
        _cache.clear()


def load(blob: bytes, sha256: str) -> ServingModel:
    """The model of these bytes after checking they hash to `sha256`; refused on a mismatch."""
    try:
        model = artefact.load(blob, sha256)
    except artefact.ArtefactError as exc:
        raise ArtefactIntegrity(str(exc)) from None
    with _lock:
        _cache[sha256] = model
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return model


def integrity(session: Session, version: RiskModelVersion) -> bool:
    """Whether the stored bytes still hash to the recorded SHA-256."""
    session.refresh(version, attribute_names=["artefact"])
    return artefact.digest(version.artefact) == version.sha256


@dataclass(frozen=True)
class Served:
    """A version in a role with its loaded model, or the reason it cannot be served."""

    version_id: int
    label: str
    model: ServingModel | None
    problem: str | None = None


def in_role(session: Session, institution_id: int, role: str) -> Served | None:
    """The institution's champion or challenger, loaded (None: nobody holds the role)."""
    version = repo.in_role(session, institution_id, role)
    if version is None:
        return None
    model = repo.model_by_id(session, version.model_id)
    name = f"{model.code if model else '?'}@{version.number}"
    hit = cached(version.sha256)
    if hit is not None:
        return Served(version.id, name, hit)
    try:
        session.refresh(version, attribute_names=["artefact"])
        return Served(version.id, name, load(version.artefact, version.sha256))
    except ArtefactIntegrity as exc:
        return Served(version.id, name, None, str(exc))


def _institution_of(row: RiskModel | RiskModelVersion) -> int:
    return row.institution_id


def in_roles(session: Session, institution_id: int) -> tuple[Served | None, Served | None]:
    """The institution's champion and challenger, as reference data: the database's reference caches
    (`platform.refcache`) keep the pair, and any change to the institution's models or versions (a
    promotion, a retirement) in this process is seen by the next decision; another worker's within the
    cache's bound."""
    return refcache.cached(session, "risk.models_in_role", institution_id,
                           lambda: (in_role(session, institution_id, "champion"),
                                    in_role(session, institution_id, "challenger")),
                           model=(RiskModel, RiskModelVersion), key_of=_institution_of)


def reasons_in_words(model: ServingModel, score: ModelScore) -> list[dict[str, str]]:
    """Each reason code with the model's words for it in both languages, costliest first."""
    return [{"feature": f, **{lang: model.label(f, lang) for lang in LANGUAGES}} for f in score.reasons]


def store(session: Session, *, institution_id: int, application_number: str, served: Served, role: str,
          score: ModelScore, decision: str, features: Mapping[str, Any], at: datetime) -> None:
    """Keep what a model said of an application (one INSERT of the row's values, no ORM object and no flush: a
    decision reads no id of it)."""
    assert served.model is not None
    repo.insert_score(session, {
        "institution_id": institution_id, "application_number": application_number, "version_id": served.version_id,
        "role": role, "points": score.points, "pd": score.pd, "grade": score.grade, "decision": decision,
        "reasons": reasons_in_words(served.model, score),
        "features": {k: features.get(k) for k in served.model.features}, "scored_at": at})


def scores_of(*, session: Session, institution_id: int, application_number: str) -> list[RiskModelScore]:
    """What the models said of one application (champion first, then the shadow)."""
    return repo.scores_of_application(session, institution_id, application_number)


# --- comparison and drift ------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """The champion and the challenger on the same applications."""

    applications: int
    grade_agreement: float | None
    decision_agreement: float | None
    mean_point_difference: float | None  # challenger − champion
    mean_abs_point_difference: float | None
    grade_matrix: dict[str, dict[str, int]]  # champion grade -> challenger grade -> count


def compare(*, session: Session, institution_id: int, champion_id: int, challenger_id: int,
            limit: int = 5000) -> Comparison:
    """Agreement of grades and decisions and the score differences, over applications both scored."""
    rows = repo.scores(session, institution_id, version_ids=[champion_id, challenger_id], limit=2 * limit)
    champion = {r.application_number: r for r in rows if r.version_id == champion_id and r.role == "champion"}
    challenger = {r.application_number: r for r in rows if r.version_id == challenger_id and r.role == "challenger"}
    both = [(champion[n], challenger[n]) for n in champion.keys() & challenger.keys()]
    matrix: dict[str, dict[str, int]] = {}
    for a, b in both:
        matrix.setdefault(a.grade, {}).setdefault(b.grade, 0)
        matrix[a.grade][b.grade] += 1
    n = len(both)
    if not n:
        return Comparison(0, None, None, None, None, {})
    diffs = [b.points - a.points for a, b in both]
    return Comparison(
        applications=n, grade_agreement=sum(a.grade == b.grade for a, b in both) / n,
        decision_agreement=sum(a.decision == b.decision for a, b in both) / n,
        mean_point_difference=sum(diffs) / n, mean_abs_point_difference=sum(abs(d) for d in diffs) / n,
        grade_matrix=matrix)


@dataclass(frozen=True)
class Band:
    """One score band: the training sample's share and the recent applications' share."""

    low: int | None
    high: int | None
    expected: float
    actual: float


@dataclass(frozen=True)
class Drift:
    """PSI of recent applications' scores against the training sample's score distribution."""

    applications: int
    psi: float | None
    bands: tuple[Band, ...]
    missing: str | None  # why no PSI: "no_baseline" (the report has no score distribution) or "no_scores"


def _baseline(report: Mapping[str, Any] | None) -> list[tuple[int | None, int | None, float]]:
    """The report's score distribution as (low, high, count) bands, however it is nested."""
    if not report:
        return []
    found = report.get("score_distribution")
    for key in ("train", "test", "holdout"):
        if found is None and isinstance(report.get(key), Mapping):
            found = report[key].get("score_distribution")
    if not isinstance(found, Sequence):
        return []
    out = []
    for band in found:
        if isinstance(band, Mapping) and isinstance(band.get("count"), int | float):
            low, high = band.get("low"), band.get("high")
            count = float(band["count"])  # house-rules: allow float (a count of applicants, not money)
            out.append((None if low is None else int(low), None if high is None else int(high), count))
    return out


def psi(expected: Sequence[float], actual: Sequence[float]) -> float:
    """Population stability index: Σ (a − e) · ln(a / e) over shares (each floored at 1e-6)."""
    total = 0.0
    for e, a in zip(expected, actual, strict=True):
        e, a = max(e, 1e-6), max(a, 1e-6)
        total += (a - e) * math.log(a / e)
    return total


def drift(*, session: Session, institution_id: int, version: RiskModelVersion, since: datetime | None = None,
          limit: int = 5000) -> Drift:
    """Recent applications' scores by this version against the bands of its validation report."""
    session.refresh(version, attribute_names=["report"])
    bands = _baseline(version.report)
    points = [r.points for r in repo.scores(session, institution_id, version_ids=[version.id], since=since,
                                            limit=limit)]
    if not bands:
        return Drift(len(points), None, (), "no_baseline")
    total = sum(c for _, _, c in bands) or 1.0
    expected = [c / total for _, _, c in bands]
    counts = [sum(1 for p in points if (lo is None or p >= lo) and (hi is None or p < hi)) for lo, hi, _ in bands]
    actual = [c / len(points) for c in counts] if points else [0.0] * len(bands)
    return Drift(len(points), psi(expected, actual) if points else None,
                 tuple(Band(lo, hi, e, a) for (lo, hi, _), e, a in zip(bands, expected, actual, strict=True)),
                 None if points else "no_scores")
