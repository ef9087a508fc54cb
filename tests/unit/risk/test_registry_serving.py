"""Serving from the registry without a database: the cache by hash, reasons in words, PSI, report metrics."""

from __future__ import annotations

import math

import pytest

from microcredit.risk import features, samples
from microcredit.risk.learning import artefact
from microcredit.risk.registry import demo
from microcredit.risk.registry.errors import ArtefactIntegrity
from microcredit.risk.registry.service import lifecycle, serving


def test_a_model_is_loaded_once_per_hash_and_a_mismatch_is_refused():
    serving.clear_cache()
    blob = demo.blob(1)
    sha = artefact.digest(blob)
    assert serving.cached(sha) is None
    model = serving.load(blob, sha)
    assert serving.cached(sha) is model
    with pytest.raises(ArtefactIntegrity):
        serving.load(blob.replace(b'"base_points":480', b'"base_points":880'), sha)


def test_the_demo_scorecards_read_the_pipeline_features_and_give_words_for_reasons():
    for variant in (1, 2):
        model = serving.load(demo.blob(variant), artefact.digest(demo.blob(variant)))
        assert set(model.features) <= set(features.FEATURES)
        row = features.features(samples.base_facts(), on=samples.base_facts().submitted_at.date(), report=None)
        score = model.score_one(row)
        words = serving.reasons_in_words(model, score)
        assert [w["feature"] for w in words] == list(score.reasons)
        assert all(w["zh-CN"] and w["en"] and w["en"] != w["feature"] for w in words)


def test_psi_is_zero_for_the_same_shares_and_grows_with_the_shift():
    e = [0.1, 0.2, 0.4, 0.3]
    assert serving.psi(e, e) == 0
    small, large = serving.psi(e, [0.12, 0.2, 0.38, 0.3]), serving.psi(e, [0.4, 0.3, 0.2, 0.1])
    assert 0 < small < 0.1 < 0.25 < large
    assert math.isfinite(serving.psi(e, [0, 0, 0, 1]))


def test_metrics_are_read_wherever_the_report_keeps_them_and_missing_ones_are_absent():
    assert lifecycle.metrics_of({"metrics": {"auc": 0.77, "ks": 0.4}})["auc"] == 0.77
    assert lifecycle.metrics_of({"cv": {"auc": {"mean": 0.78, "std": 0.01}}}) == {"auc": 0.78}
    assert lifecycle.metrics_of({"auc": 0.7, "gini": "n/a", "brier": float("nan")}) == {"auc": 0.7}
    assert lifecycle.metrics_of(None) == {}
    assert serving._baseline(demo.report())
    assert serving._baseline({"test": {"score_distribution": [
        {"low": None, "high": 600, "count": 3}]}}) == [(None, 600, 3.0)]
    assert serving._baseline({"score_distribution": "x"}) == []
