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
`BehaviourModel` is the seam a learnt model replaces: anything with `score(BehaviourInput)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

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


def points(facts: BehaviourInput) -> dict[str, int]:
    """Each characteristic's points (the table above)."""
    if facts.days_since_last_payment is None:
        recency = 0
    else:
        recency = _band(facts.days_since_last_payment, ((35, 20), (65, 0)), -40)
    return {
        "dpd": _band(facts.dpd, ((0, 60), (7, 0), (30, -60), (90, -120)), -200),
        "max_dpd": _band(facts.max_dpd, ((0, 20), (30, 0), (90, -40)), -80),
        "late_payments": _band(facts.late_payments, ((0, 30), (1, 0), (3, -30)), -60),
        "partial_installments": _band(facts.partial_installments, ((0, 0), (1, -20)), -50),
        "recency": recency,
        "overdue_elsewhere": _band(facts.overdue_elsewhere, ((0, 20), (1, -40)), -100),
    }


class PointsModel:
    """The documented points model (module docstring)."""

    def score(self, facts: BehaviourInput) -> BehaviourScore:
        """Add the points to the base and clamp."""
        total = min(HIGH, max(LOW, BASE + sum(points(facts).values())))
        return BehaviourScore(total, grade_of(total))
