"""The interim scorer: bands, grades, reasons, and monotone where it should be."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from microcredit.risk.scorer import HIGH, LOW, ScoreInput, grade_of, score

inputs = st.builds(
    ScoreInput, has_file=st.booleans(), history_months=st.integers(0, 400), worst_status_24m=st.integers(0, 7),
    current_overdue_months=st.integers(0, 7), utilisation_pct=st.integers(0, 150), inquiries_3m=st.integers(0, 20),
    open_public_records=st.integers(0, 4), dti_pct=st.integers(0, 999), age=st.integers(18, 70),
    monthly_income_minor=st.none() | st.integers(0, 5_000_000))

# The scorer is microseconds of arithmetic; a shared, loaded machine stalls a case now and then.
NO_DEADLINE = settings(deadline=None)

CLEAN = ScoreInput(has_file=True, history_months=100, worst_status_24m=0, current_overdue_months=0,
                   utilisation_pct=10, inquiries_3m=0, open_public_records=0, dti_pct=20, age=35,
                   monthly_income_minor=1_200_000)


def test_a_clean_thick_file_is_grade_a_without_reasons():
    s = score(CLEAN)
    assert (s.points, s.grade, s.reasons) == (810, "A", ())


def test_reasons_name_the_costliest_characteristics_first():
    s = score(replace(CLEAN, worst_status_24m=4, inquiries_3m=8))
    assert s.reasons[:2] == ("risk.reason.late_payments", "risk.reason.many_inquiries")


def test_grade_bands():
    assert [grade_of(p) for p in (900, 720, 719, 660, 600, 540, 539, 300)] == ["A", "A", "B", "B", "C", "D", "E",
                                                                            "E"]


@NO_DEADLINE
@given(inputs)
def test_the_score_stays_in_its_range(x):
    assert LOW <= score(x).points <= HIGH


@NO_DEADLINE
@given(inputs, st.integers(0, 7), st.integers(0, 7))
def test_worse_delinquency_never_raises_the_score(x, a, b):
    worse, better = max(a, b), min(a, b)
    assert score(replace(x, worst_status_24m=worse)).points <= score(replace(x, worst_status_24m=better)).points
    assert score(replace(x, current_overdue_months=worse)).points <= \
        score(replace(x, current_overdue_months=better)).points


@NO_DEADLINE
@given(inputs, st.integers(0, 30), st.integers(0, 30))
def test_more_inquiries_never_raise_the_score(x, a, b):
    assert score(replace(x, inquiries_3m=max(a, b))).points <= score(replace(x, inquiries_3m=min(a, b))).points


@NO_DEADLINE
@given(inputs, st.integers(0, 999), st.integers(0, 999))
def test_higher_dti_or_utilisation_never_raises_the_score(x, a, b):
    assert score(replace(x, dti_pct=max(a, b))).points <= score(replace(x, dti_pct=min(a, b))).points
    assert score(replace(x, utilisation_pct=max(a, b))).points <= score(replace(x, utilisation_pct=min(a, b))).points
