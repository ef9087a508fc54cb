"""The behaviour points model: the worked example of its docstring, its range, and monotonicity (a worse value of
any characteristic never raises the score)."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from microcredit.risk.warnings.behaviour import (
    HIGH,
    LOW,
    MODEL_NAME,
    BehaviourColumns,
    BehaviourInput,
    BehaviourScore,
    PointsModel,
    grade_of,
    score_all,
    score_columns,
)

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


@given(st.lists(facts, max_size=40))
def test_the_batch_score_is_each_loans_score(many: list[BehaviourInput]) -> None:
    """`score_many` (NumPy columns, what the close of business's set-based early warning uses) gives, loan for loan,
    the score and grade `score` gives."""
    assert MODEL.score_many(many) == [MODEL.score(f) for f in many]
    assert score_all(MODEL, many) == [MODEL.score(f) for f in many]


@given(st.lists(facts, max_size=40))
def test_the_columns_score_is_each_loans_score(many: list[BehaviourInput]) -> None:
    """`score_columns` (the columns in, the columns out: what the set-based early warning uses) gives, loan for
    loan, the score, grade and model `score` gives; the columns give back each loan's facts."""
    columns = BehaviourColumns.of(many)
    assert [columns.row(i) for i in range(len(columns))] == many
    out = score_columns(MODEL, columns)
    assert list(zip(out.score, out.grade, out.model, strict=True)) == [
        (s.score, s.grade, s.model) for s in (MODEL.score(f) for f in many)]
    assert all(type(s) is int for s in out.score)  # Python ints: what the INSERT binds


def test_the_batch_score_at_every_band_edge() -> None:
    """The bands' bounds and one past each, for every characteristic, and the clamp at both ends."""
    edges = [0, 1, 2, 3, 4, 7, 8, 30, 31, 35, 36, 65, 66, 90, 91, 400]
    many = [BehaviourInput(dpd=a, max_dpd=b, late_payments=a, partial_installments=b,
                           days_since_last_payment=None if a == b else b, overdue_elsewhere=a % 4)
            for a in edges for b in edges]
    assert MODEL.score_many(many) == [MODEL.score(f) for f in many]
    scores = {s.score for s in MODEL.score_many(many)}
    assert LOW in scores
    assert max(scores) >= 700  # grade A among them


class _OneByOne:
    """A model without a batch: `score_all` asks it loan by loan."""

    def score(self, facts: BehaviourInput) -> BehaviourScore:
        return BehaviourScore(facts.dpd, "E", "one-by-one")


def test_score_all_asks_a_model_without_a_batch_loan_by_loan() -> None:
    many = [BehaviourInput(dpd=d, max_dpd=d, late_payments=0, partial_installments=0, days_since_last_payment=None,
                           overdue_elsewhere=0) for d in (3, 1, 2)]
    assert [s.score for s in score_all(_OneByOne(), many)] == [3, 1, 2]


def test_score_columns_asks_a_model_without_columns_loan_by_loan() -> None:
    many = [BehaviourInput(dpd=d, max_dpd=d, late_payments=0, partial_installments=0, days_since_last_payment=None,
                           overdue_elsewhere=0) for d in (3, 1, 2)]
    out = score_columns(_OneByOne(), BehaviourColumns.of(many))
    assert (list(out.score), list(out.grade), list(out.model)) == ([3, 1, 2], ["E"] * 3, ["one-by-one"] * 3)
    assert list(score_columns(MODEL, BehaviourColumns.of(many)).model) == [MODEL_NAME] * 3
