"""The behaviour points model: the worked example of its docstring, its range, and monotonicity (a worse value of
any characteristic never raises the score)."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from microcredit.risk.warnings.behaviour import HIGH, LOW, BehaviourInput, PointsModel, grade_of

MODEL = PointsModel()
counts = st.integers(min_value=0, max_value=400)
facts = st.builds(BehaviourInput, dpd=counts, max_dpd=counts, late_payments=st.integers(0, 40),
                  partial_installments=st.integers(0, 40), days_since_last_payment=st.none() | counts,
                  overdue_elsewhere=st.integers(0, 20))
WORSE = ("dpd", "max_dpd", "late_payments", "partial_installments", "overdue_elsewhere")


def test_the_worked_example_of_the_docstring() -> None:
    example = BehaviourInput(dpd=10, max_dpd=10, late_payments=1, partial_installments=0, days_since_last_payment=40,
                             overdue_elsewhere=0)
    assert MODEL.score(example).score == 560
    assert MODEL.score(example).grade == "D"


def test_a_clean_loan_grades_a_and_a_loan_far_past_due_grades_e() -> None:
    clean = BehaviourInput(dpd=0, max_dpd=0, late_payments=0, partial_installments=0, days_since_last_payment=20,
                           overdue_elsewhere=0)
    assert (MODEL.score(clean).score, MODEL.score(clean).grade) == (750, "A")
    bad = BehaviourInput(dpd=120, max_dpd=120, late_payments=5, partial_installments=3, days_since_last_payment=120,
                         overdue_elsewhere=2)
    assert (MODEL.score(bad).score, MODEL.score(bad).grade) == (LOW, "E")


def test_grade_boundaries() -> None:
    assert [grade_of(s) for s in (700, 699, 640, 639, 580, 579, 520, 519)] == ["A", "B", "B", "C", "C", "D", "D",
                                                                                "E"]


@given(facts)
def test_the_score_stays_in_range_and_its_grade_follows_it(f: BehaviourInput) -> None:
    result = MODEL.score(f)
    assert LOW <= result.score <= HIGH
    assert result.grade == grade_of(result.score)


@given(facts, st.sampled_from(WORSE), st.integers(min_value=1, max_value=200))
def test_a_worse_characteristic_never_raises_the_score(f: BehaviourInput, name: str, more: int) -> None:
    worse = replace(f, **{name: getattr(f, name) + more})
    assert MODEL.score(worse).score <= MODEL.score(f).score


@given(facts, counts, st.integers(min_value=1, max_value=200))
def test_a_longer_time_since_the_last_payment_never_raises_the_score(f: BehaviourInput, days: int, more: int) -> None:
    assert MODEL.score(replace(f, days_since_last_payment=days + more)).score <= \
        MODEL.score(replace(f, days_since_last_payment=days)).score
