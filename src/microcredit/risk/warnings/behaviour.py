"""The behaviour score, 行为评分: a documented points model of how a running loan is being repaid.

Start at 600 points, add each characteristic's points, clamp to 300–900. Grades by score:
A ≥ 700, B ≥ 640, C ≥ 580, D ≥ 520, E below.

=============================  ================================================  ==============================
characteristic                 attribute                                          points
=============================  ================================================  ==============================
days past due now              0 / 1–7 / 8–30 / 31–90 / more                      60 / 0 / -60 / -120 / -200
largest DPD seen on the loan   0 / 1–30 / 31–90 / more                            20 / 0 / -40 / -80
payments made late             0 / 1 / 2–3 / more                                 30 / 0 / -30 / -60
installments paid in part      0 / 1 / more (due, not settled, something paid)    0 / -20 / -50
days since the last payment    none yet / ≤ 35 / ≤ 65 / more                      0 / 20 / 0 / -40
accounts overdue elsewhere     0 / 1 / more (the bureau report last refreshed)    20 / -40 / -100
=============================  ================================================  ==============================

Worked example: a loan 10 days past due (-60), worst ever 10 (0), one late payment (0), no partial
installment (0), last paid 40 days ago (0), clean elsewhere (+20): 600 - 60 + 20 = 560, grade D.

Monotone: a worse value of any characteristic never raises the score (property tests check it).
`BehaviourModel` is the seam a learnt model replaces: anything with `score(BehaviourInput)`; a model may also
score many loans at once (`score_many`, a learnt model's batch predict), which `score_all` then uses. The points
model's `score_many` is the same table over NumPy columns: each characteristic's band found by `searchsorted`
over the bands' upper bounds (a property test holds it equal to `score`, loan for loan).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

BASE = 600
LOW, HIGH = 300, 900
GRADES = (("A", 700), ("B", 640), ("C", 580), ("D", 520))
MODEL_NAME = "behaviour-points-v1"


@dataclass(frozen=True, slots=True)
class BehaviourInput:
    """What the behaviour score reads of one loan on one business date."""

    dpd: int
    max_dpd: int
    late_payments: int
    partial_installments: int
    days_since_last_payment: int | None  # None: no payment yet
    overdue_elsewhere: int  # accounts overdue at other lenders, by the last refreshed bureau report


@dataclass(frozen=True, slots=True)
class BehaviourScore:
    """A score, its grade and the model that gave it."""

    score: int
    grade: str
    model: str = MODEL_NAME


class BehaviourModel(Protocol):
    """What the close of business asks of a behaviour model (the points model, or later a learnt one)."""

    def score(self, facts: BehaviourInput) -> BehaviourScore: ...


def grade_of(score: int) -> str:
    """The grade of a score."""
    return next((g for g, floor in GRADES if score >= floor), "E")


def _band(value: int, bands: tuple[tuple[int, int], ...], worst: int) -> int:
    """Points of the first band whose upper bound (inclusive) holds `value`; `worst` beyond them all."""
    return next((points for upper, points in bands if value <= upper), worst)


Bands = tuple[tuple[tuple[int, int], ...], int]
"""(upper bound inclusive, points) in rising order, and the points beyond them all."""

BANDS: dict[str, Bands] = {
    "dpd": (((0, 60), (7, 0), (30, -60), (90, -120)), -200),
    "max_dpd": (((0, 20), (30, 0), (90, -40)), -80),
    "late_payments": (((0, 30), (1, 0), (3, -30)), -60),
    "partial_installments": (((0, 0), (1, -20)), -50),
}
RECENCY: Bands = (((35, 20), (65, 0)), -40)  # days since the last payment; none yet: 0 points
ELSEWHERE: Bands = (((0, 20), (1, -40)), -100)


def points(facts: BehaviourInput) -> dict[str, int]:
    """Each characteristic's points (the table above)."""
    since = facts.days_since_last_payment
    out = {name: _band(getattr(facts, name), *bands) for name, bands in BANDS.items()}
    out["recency"] = 0 if since is None else _band(since, *RECENCY)
    out["overdue_elsewhere"] = _band(facts.overdue_elsewhere, *ELSEWHERE)
    return out


def _bands_of(values: np.ndarray, bands: tuple[tuple[int, int], ...], worst: int) -> np.ndarray:
    """`_band` over a column: the first band whose upper bound holds each value (`searchsorted` on the bounds)."""
    uppers = np.array([upper for upper, _ in bands], dtype=np.int64)
    worth = np.array([p for _, p in bands] + [worst], dtype=np.int64)
    return worth[np.searchsorted(uppers, values, side="left")]


_FLOORS = np.array([floor for _, floor in reversed(GRADES)], dtype=np.int64)  # rising: D, C, B, A
_BY_FLOORS = ("E", *(g for g, _ in reversed(GRADES)))


class PointsModel:
    """The documented points model (module docstring)."""

    def score(self, facts: BehaviourInput) -> BehaviourScore:
        """Add the points to the base and clamp."""
        total = min(HIGH, max(LOW, BASE + sum(points(facts).values())))
        return BehaviourScore(total, grade_of(total))

    def score_many(self, facts: Sequence[BehaviourInput]) -> list[BehaviourScore]:
        """`score` of each, the points added over NumPy columns (one pass per characteristic, not per loan)."""
        n = len(facts)
        total = np.full(n, BASE, dtype=np.int64)
        for name, bands in (*BANDS.items(), ("overdue_elsewhere", ELSEWHERE)):
            total += _bands_of(np.fromiter((getattr(f, name) for f in facts), dtype=np.int64, count=n), *bands)
        days = [f.days_since_last_payment for f in facts]
        paid = np.fromiter((d is not None for d in days), dtype=bool, count=n)
        since = np.fromiter((0 if d is None else d for d in days), dtype=np.int64, count=n)
        total += np.where(paid, _bands_of(since, *RECENCY), 0)
        np.clip(total, LOW, HIGH, out=total)
        grades = np.searchsorted(_FLOORS, total, side="right")
        return [BehaviourScore(score, _BY_FLOORS[grade]) for score, grade in zip(total.tolist(), grades.tolist(),
                                                                                 strict=True)]


def score_all(model: BehaviourModel, facts: Sequence[BehaviourInput]) -> list[BehaviourScore]:
    """Each loan's score by `model`: its `score_many` when it has one (a batch), else `score` loan by loan."""
    many = getattr(model, "score_many", None)
    if many is not None:
        return list(many(facts))
    return [model.score(f) for f in facts]
