"""The scorecard: served points equal optbinning's own, reasons follow the tables, AUC near the true model's."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.model_selection import train_test_split

from microcredit.risk.learning import artefact, metrics
from microcredit.risk.learning import scorecard as sc


@pytest.fixture(scope="module")
def fitted_split(synthetic):
    tr, te = train_test_split(np.arange(len(synthetic)), test_size=0.3, stratify=synthetic.y, random_state=3)
    return sc.fit(synthetic.X.iloc[tr], synthetic.y[tr], synthetic.spec, seed=3), tr, te


def rows_of(frame):
    return [{k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in r.items()}
            for r in frame.to_dict("records")]


def test_served_points_equal_optbinnings_own_score_on_held_out_rows(fitted_split, synthetic):
    fitted, _, te = fitted_split
    held_out = synthetic.X.iloc[te]
    own = np.asarray(fitted.model.score(held_out[list(fitted.document_features)]))
    assert np.array_equal(own, np.rint(own))  # optbinning's rounded points are integers
    served = fitted.serving()
    batch = served.score_batch({c: held_out[c].to_numpy() for c in served.features})
    assert np.array_equal(batch.points, np.clip(own.astype(np.int64), *sc.CLIP))
    one = [served.score_one(r).points for r in rows_of(held_out.head(500))]
    assert one == batch.points[:500].tolist()
    assert fitted.document["format"] == artefact.SCORECARD_FORMAT
    assert {f["kind"] for f in fitted.document["features"]} == {"numeric", "categorical"}


def test_the_top_reason_is_the_feature_furthest_below_its_best_bin(fitted_split, synthetic):
    """1,000 random applicants; the shortfalls recomputed from optbinning's own bin of each value."""
    fitted, _, te = fitted_split
    rng = np.random.default_rng(5)
    sample = synthetic.X.iloc[rng.choice(te, 1000, replace=False)]
    indices = fitted.model.binning_process_.transform(sample[list(fitted.document_features)], metric="indices",
                                                          metric_missing="empirical", metric_special="empirical")
    table = fitted.model.table(style="detailed")
    served = fitted.serving()
    points = {name: table[table["Variable"] == name]["Points"].to_numpy() for name in fitted.document_features}
    best = {name: max(p[:-2].max(), p[-1]) for name, p in points.items()}  # the bins and "Missing", not "Special"
    bins = {name: indices[name].to_numpy() for name in fitted.document_features}
    checked = 0
    for i, row in enumerate(rows_of(sample)):
        shortfall = {name: best[name] - points[name][int(bins[name][i])] for name in fitted.document_features}
        worst = max(shortfall.values())
        reasons = served.score_one(row).reasons
        if worst == 0:
            assert reasons == ()
            continue
        assert shortfall[reasons[0]] == worst
        assert [shortfall[r] for r in reasons] == sorted((shortfall[r] for r in reasons), reverse=True)
        checked += 1
    assert checked > 900
    assert served.label("income", "zh-CN") == "月收入"


def test_on_the_synthetic_population_the_auc_is_within_002_of_the_true_models(fitted_split, synthetic, population):
    fitted, _, te = fitted_split
    learnt = metrics.auc(synthetic.y[te], fitted.predict_pd(synthetic.X.iloc[te]))
    true = metrics.auc(synthetic.y[te], population["true_pd"].to_numpy()[te])
    assert true - learnt < 0.02, (learnt, true)


def test_points_and_pd_follow_the_600_50_20_scale():
    assert sc.points_to_pd(600) == pytest.approx(1 / 51)
    assert sc.points_to_pd(620) == pytest.approx(1 / 101)
    assert sc.pd_to_points(np.array([1 / 51, 1 / 101])).tolist() == [600, 620]
    assert sc.grade_of(np.array([600, 599, 572, 551, 527, 526])).tolist() == ["A", "B", "B", "C", "D", "E"]
