"""The artefact contract: hash checked before parsing, one row and many rows score alike, PD follows the scaling."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from microcredit.risk.learning import artefact
from microcredit.risk.learning.artefact import ArtefactError

DOC = {
    "format": artefact.SCORECARD_FORMAT, "target": "default",
    "scaling": {"points": 600, "odds": 50, "pdo": 20}, "clip": [300, 900],
    "grades": [["A", 720], ["B", 660], ["C", 600], ["D", 540]], "base_points": 400,
    "features": [
        {"name": "age", "kind": "numeric", "splits": [25.5, 35.5], "points": [10, 25, 40], "missing_points": 10,
         "label": {"zh-CN": "年龄", "en": "age"}},
        {"name": "education", "kind": "categorical", "categories": {"1": 0, "2": 0, "3": 1}, "points": [130, 5],
         "missing_points": 0, "label": {"zh-CN": "学历", "en": "education"}},
        {"name": "late", "kind": "numeric", "splits": [0.5, 2.5], "points": [120, 30, -60], "missing_points": 0},
    ],
}


def model():
    blob = artefact.dump(DOC)
    return artefact.load(blob, artefact.digest(blob))


def test_an_artefact_whose_hash_differs_is_refused_before_it_is_read():
    blob = artefact.dump(DOC)
    with pytest.raises(ArtefactError, match="SHA-256"):
        artefact.load(blob, artefact.digest(blob + b" "))
    pickled = b"\x80\x04\x95"  # a pickle's opening bytes: matched hash, still refused (not JSON)
    with pytest.raises(ArtefactError, match="not JSON"):
        artefact.load(pickled, artefact.digest(pickled))


def test_unknown_formats_and_malformed_tables_are_refused():
    for broken in ({**DOC, "format": "sklearn.pickle"},
                   {**DOC, "features": [{**DOC["features"][0], "points": [1, 2]}]},
                   {**DOC, "features": [{**DOC["features"][0], "splits": [35.5, 25.5]}]},
                   {**DOC, "features": [{**DOC["features"][1], "categories": {"9": 5}}]}):
        blob = artefact.dump(broken)
        with pytest.raises(ArtefactError):
            artefact.load(blob, artefact.digest(blob))


def test_one_applicant_points_grade_and_reasons():
    m = model()
    s = m.score_one({"age": 30, "education": "3", "late": 3})
    assert s.points == 400 + 25 + 5 - 60
    assert s.grade == "E"
    assert s.risk == "high"
    # Costliest first: late (-180 below its best), education (-125), age (-15).
    assert s.reasons == ("late", "education", "age")
    best = m.score_one({"age": 40, "education": "1", "late": 0})
    assert best.points == 690
    assert best.grade == "B"
    assert best.reasons == ()
    assert m.score_one({"age": None, "education": "unseen", "late": float("nan")}).points == 410
    assert m.label("education", "zh-CN") == "学历"
    assert m.label("late", "en") == "late"


def test_the_probability_of_default_reads_the_points_through_the_scaling():
    m = model()
    # 600 points are 50:1 good to bad; 20 more points double the odds.
    assert math.isclose(m.pd_of(600), 1 / 51)
    assert math.isclose(m.pd_of(620), 1 / 101)


def test_points_are_clipped_but_the_probability_is_not():
    doc = {**DOC, "base_points": 1000}
    blob = artefact.dump(doc)
    s = artefact.load(blob, artefact.digest(blob)).score_one({"age": 40, "education": "1", "late": 0})
    assert s.points == 900
    assert s.pd < model().pd_of(900)


rows = st.lists(st.fixed_dictionaries({
    "age": st.one_of(st.none(), st.floats(min_value=0, max_value=100), st.just(25.5), st.just(35.5)),
    "education": st.one_of(st.none(), st.sampled_from(["1", "2", "3", "4"])),
    "late": st.one_of(st.none(), st.integers(min_value=0, max_value=9).map(float)),
}), min_size=1, max_size=40)


# The examples are fixed (derandomized). It failed once in a unit run on a loaded 2-core machine and passed alone and in
# its directory (not reproduced): timing against hypothesis's 200 ms deadline is the likely cause, not the property.
@settings(deadline=None)
@given(rows)
def test_many_rows_score_exactly_as_one_at_a_time(batch):
    m = model()
    scored = m.score_batch(artefact.columns_of(batch, m.features))
    singles = [m.score_one(r) for r in batch]
    assert scored.points.tolist() == [s.points for s in singles]
    assert np.allclose(scored.pd, [s.pd for s in singles], rtol=1e-12)
