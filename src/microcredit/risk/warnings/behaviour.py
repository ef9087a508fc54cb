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
score many loans at once (`score_many`, a learnt model's batch predict), which `score_all` then uses, or take
them as columns (`score_columns`: `BehaviourColumns` in, `ScoreColumns` out, no object a loan), which the module's
`score_columns` then uses (else it asks `score_all`). The points model's `score_columns` is the same table over
NumPy columns: each characteristic's band found by `searchsorted` over the bands' upper bounds (a property test
holds it equal to `score`, loan for loan); its `score_many` is that on the loans' columns.
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


@dataclass(frozen=True, slots=True)
class BehaviourColumns:
    """`BehaviourInput` of many loans as columns: one value a loan in each, in the same order (what the close of
    business's set-based step reads of a partition's loans, without an object a loan)."""

    dpd: Sequence[int]
    max_dpd: Sequence[int]
    late_payments: Sequence[int]
    partial_installments: Sequence[int]
    days_since_last_payment: Sequence[int | None]
    overdue_elsewhere: Sequence[int]

    @classmethod
    def of(cls, facts: Sequence[BehaviourInput]) -> BehaviourColumns:
        """The columns of these loans' facts."""
        return cls([f.dpd for f in facts], [f.max_dpd for f in facts], [f.late_payments for f in facts],
                   [f.partial_installments for f in facts], [f.days_since_last_payment for f in facts],
                   [f.overdue_elsewhere for f in facts])

    def __len__(self) -> int:
        return len(self.dpd)

    def row(self, i: int) -> BehaviourInput:
        """The facts of the `i`-th loan."""
        return BehaviourInput(self.dpd[i], self.max_dpd[i], self.late_payments[i], self.partial_installments[i],
                              self.days_since_last_payment[i], self.overdue_elsewhere[i])


@dataclass(frozen=True, slots=True)
class ScoreColumns:
    """The scores of many loans as columns, in the order of their `BehaviourColumns`."""

    score: Sequence[int]
    grade: Sequence[str]
    model: Sequence[str]


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
        """`score` of each (`score_columns` on their columns)."""
        out = self.score_columns(BehaviourColumns.of(facts))
        return [BehaviourScore(score, grade) for score, grade in zip(out.score, out.grade, strict=True)]

    def score_columns(self, facts: BehaviourColumns) -> ScoreColumns:
        """`score` of each loan of the columns, the points added over NumPy columns (one pass per characteristic,
        not per loan)."""
        n = len(facts)
        total = np.full(n, BASE, dtype=np.int64)
        for name, bands in (*BANDS.items(), ("overdue_elsewhere", ELSEWHERE)):
            total += _bands_of(np.asarray(getattr(facts, name), dtype=np.int64), *bands)
        days = facts.days_since_last_payment
        paid = np.fromiter((d is not None for d in days), dtype=bool, count=n)
        since = np.fromiter((0 if d is None else d for d in days), dtype=np.int64, count=n)
        total += np.where(paid, _bands_of(since, *RECENCY), 0)
        np.clip(total, LOW, HIGH, out=total)
        grades = np.searchsorted(_FLOORS, total, side="right").tolist()
        return ScoreColumns(total.tolist(), [_BY_FLOORS[g] for g in grades], [MODEL_NAME] * n)


def score_all(model: BehaviourModel, facts: Sequence[BehaviourInput]) -> list[BehaviourScore]:
    """Each loan's score by `model`: its `score_many` when it has one (a batch), else `score` loan by loan."""
    many = getattr(model, "score_many", None)
    if many is not None:
        return list(many(facts))
    return [model.score(f) for f in facts]


def score_columns(model: BehaviourModel, facts: BehaviourColumns) -> ScoreColumns:
    """Each loan's score by `model` as columns: its `score_columns` when it has one, else `score_all` on the loans'
    facts."""
    columns = getattr(model, "score_columns", None)
    if columns is not None:
        out: ScoreColumns = columns(facts)
        return out
    scores = score_all(model, [facts.row(i) for i in range(len(facts))])
    return ScoreColumns([s.score for s in scores], [s.grade for s in scores], [s.model for s in scores])
