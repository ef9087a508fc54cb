"""The interim scorer: a small, documented points scorecard (until the credit-risk models replace it).

Start at 560 points and add each characteristic's points; clamp to 300–900.
Grades by score: A ≥ 720, B ≥ 660, C ≥ 600, D ≥ 540, E below. The reasons are
the characteristics that cost the most points against their best attribute,
most costly first (at most four), as catalogue keys ``risk.reason.<code>``.

=========================  ==============================================  ======
characteristic             attribute                                        points
=========================  ==============================================  ======
credit history length      no file / < 6 months / < 24 / < 60 / ≥ 60        -80 / -80 / 0 / 30 / 50
worst status, 24 months    none late / 1 / 2 / 3 / 4 or worse; no file       60 / 0 / -50 / -100 / -180; 0
current delinquency        any account overdue now                          -150
utilisation of revolving   < 30 % / < 70 % / < 90 % / ≥ 90 %; no file        40 / 0 / -30 / -60; 0
hard inquiries, 3 months   0–1 / 2–3 / 4–6 / more                           20 / 0 / -40 / -80
open public records        each (at most two)                               -100
debt-to-income after loan  < 30 % / < 50 % / < 70 % / more or no income      40 / 0 / -50 / -100
age                        < 22 / 22–55 / over 55                           -20 / 10 / 0
monthly income             ≥ ¥10,000 / ≥ ¥5,000 / less or not given          30 / 15 / 0
=========================  ==============================================  ======

Monotone where it should be: a worse delinquency, more inquiries, a higher
utilisation or DTI never raise the score (property tests check it).
"""

from __future__ import annotations

from dataclasses import dataclass

BASE = 560
LOW, HIGH = 300, 900
GRADES = (("A", 720), ("B", 660), ("C", 600), ("D", 540))


@dataclass(frozen=True)
class ScoreInput:
    """What the scorer reads (from the bureau facts and the application)."""

    has_file: bool
    history_months: int
    worst_status_24m: int  # 0 none late … 7
    current_overdue_months: int
    utilisation_pct: int
    inquiries_3m: int
    open_public_records: int
    dti_pct: int  # 999: no income
    age: int
    monthly_income_minor: int | None


@dataclass(frozen=True)
class Score:
    """The score, its grade and the reasons (most costly first)."""

    points: int
    grade: str
    reasons: tuple[str, ...]


def _history(x: ScoreInput) -> int:
    if not x.has_file or x.history_months < 6:
        return -80
    return 0 if x.history_months < 24 else 30 if x.history_months < 60 else 50


def _worst(x: ScoreInput) -> int:
    if not x.has_file:
        return 0
    return {0: 60, 1: 0, 2: -50, 3: -100}.get(x.worst_status_24m, -180)


def _current(x: ScoreInput) -> int:
    return -150 if x.current_overdue_months > 0 else 0


def _utilisation(x: ScoreInput) -> int:
    if not x.has_file:
        return 0
    u = x.utilisation_pct
    return 40 if u < 30 else 0 if u < 70 else -30 if u < 90 else -60


def _inquiries(x: ScoreInput) -> int:
    n = x.inquiries_3m
    return 20 if n <= 1 else 0 if n <= 3 else -40 if n <= 6 else -80


def _public(x: ScoreInput) -> int:
    return -100 * min(x.open_public_records, 2)


def _dti(x: ScoreInput) -> int:
    d = x.dti_pct
    return 40 if d < 30 else 0 if d < 50 else -50 if d < 70 else -100


def _age(x: ScoreInput) -> int:
    return -20 if x.age < 22 else 10 if x.age <= 55 else 0


def _income(x: ScoreInput) -> int:
    i = x.monthly_income_minor or 0
    return 30 if i >= 1_000_000 else 15 if i >= 500_000 else 0


# (reason code, points function, best points)
CARD = (("history_short", _history, 50), ("late_payments", _worst, 60), ("currently_overdue", _current, 0),
        ("high_utilisation", _utilisation, 40), ("many_inquiries", _inquiries, 20),
        ("public_records", _public, 0), ("high_dti", _dti, 40), ("age", _age, 10), ("low_income", _income, 30))


def grade_of(points: int) -> str:
    """The grade of a score."""
    for grade, floor in GRADES:
        if points >= floor:
            return grade
    return "E"


def score(x: ScoreInput) -> Score:
    """Score one applicant."""
    total = BASE
    losses = []
    for code, points_of, best in CARD:
        points = points_of(x)
        total += points
        if points < best:
            losses.append((best - points, code))
    points = max(LOW, min(HIGH, total))
    losses.sort(key=lambda t: (-t[0], t[1]))
    return Score(points, grade_of(points), tuple(f"risk.reason.{code}" for _, code in losses[:4]))
