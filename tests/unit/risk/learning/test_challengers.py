"""LightGBM and the network: served from their JSON artefacts, one row and many rows alike, reasons that add up."""

from __future__ import annotations

import json

import numpy as np
import pytest

from microcredit.risk.learning import artefact, gbm, metrics, mlp
from microcredit.risk.learning.scorecard import pd_to_points


def rows_of(frame):
    return [{k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in r.items()}
            for r in frame.to_dict("records")]


@pytest.fixture(scope="module")
def small(synthetic):
    return synthetic.X.iloc[:4000], synthetic.y[:4000], synthetic.X.iloc[4000:6000], synthetic.y[4000:6000]


@pytest.fixture(scope="module")
def lgbm(small, synthetic):
    x, y, _, _ = small
    return gbm.fit(x, y, synthetic.spec, seed=1, params={"n_estimators": 80, "learning_rate": 0.08})


def test_lgbm_artefact_is_json_with_the_model_text_and_loads_only_with_its_hash(lgbm):
    blob = artefact.dump(lgbm.document)
    document = json.loads(blob)
    assert document["format"] == "microcredit.lgbm/1"
    assert document["model"].startswith("tree\n")  # LightGBM's text format, not a pickle
    assert artefact.FORMAT_MODULES[document["format"]] == gbm.__name__  # `load` imports it on first use
    assert artefact.load(blob, artefact.digest(blob)).kind == "lgbm"
    with pytest.raises(artefact.ArtefactError):
        artefact.load(blob, artefact.digest(blob + b"x"))
    broken = artefact.dump({**document, "model": "tree\nnonsense"})
    with pytest.raises(artefact.ArtefactError):
        artefact.load(broken, artefact.digest(broken))


def test_lgbm_one_row_walk_equals_the_compiled_batch_and_lightgbm_itself(lgbm, small):
    import lightgbm as lgb

    _, _, x, y = small
    served = lgbm.serving()
    columns = {c: x[c].to_numpy() for c in served.features}
    batch = served.score_batch(columns)
    own = lgb.Booster(model_str=served.model_text).predict(gbm.matrix(columns, served.features, served.categories),
                                                           raw_score=True)
    assert np.allclose(served.margins(columns), own, atol=1e-9)
    ones = [served.score_one(r) for r in rows_of(x.head(300))]
    assert np.allclose([o.pd for o in ones], batch.pd[:300], atol=1e-12)
    assert [o.points for o in ones] == batch.points[:300].tolist()
    assert metrics.auc(y, batch.pd) > 0.75


def test_lgbm_batch_in_blocks_on_threads_equals_lightgbm_row_for_row(lgbm, small, monkeypatch):
    """Blocks of rows scored side by side land in their own rows: odd block sizes, a short last block."""
    import lightgbm as lgb

    _, _, x, _ = small
    served = lgbm.serving()
    columns = {c: x[c].to_numpy() for c in served.features}
    own = lgb.Booster(model_str=served.model_text).predict(gbm.matrix(columns, served.features, served.categories),
                                                           raw_score=True)
    for block in (1, 7, 333, len(x) - 1):
        monkeypatch.setattr(gbm, "BLOCK_ROWS", block)
        assert np.allclose(served.margins(columns, n_jobs=2), own, atol=1e-9), block
        assert np.allclose(served.margins(columns, n_jobs=1), own, atol=1e-9), block


def test_lgbm_path_contributions_sum_to_the_margin_and_the_reasons_raise_the_pd(lgbm, small):
    _, _, x, _ = small
    served = lgbm.serving()
    shap = served.contributions({c: x.head(200)[c].to_numpy() for c in served.features})
    for i, row in enumerate(rows_of(x.head(200))):
        margin, contrib = served.walk(served._row(row))
        assert margin == pytest.approx(shap[i].sum(), abs=1e-9)  # both decompose LightGBM's own raw score
        reasons = served.score_one(row).reasons
        assert all(contrib[served.features.index(r)] > 0 for r in reasons)
        assert [contrib[served.features.index(r)] for r in reasons] == sorted(
            (contrib[served.features.index(r)] for r in reasons), reverse=True)


def test_lgbm_compiled_path_equals_the_numpy_walk_with_and_without_missing_values(lgbm, small):
    """score_one walks the trees as machine code; the NumPy walk is the reference, node for node."""
    _, _, x, _ = small
    served = lgbm.serving()
    native = served.native_walk()
    rng = np.random.default_rng(5)
    rows = [served._row(r) for r in rows_of(x.head(300))]
    holed = [r.copy() for r in rows]
    for r in holed:
        r[rng.choice(len(r), size=rng.integers(1, len(r)), replace=False)] = np.nan  # missing goes its default way
    extremes = [np.full(len(served.features), v) for v in (-1e300, 1e300, 0.0, -0.0)]
    assert any(np.isnan(r).any() for r in holed)
    for row in rows + holed + extremes:
        margin, contrib = served.walk(row)
        fast_margin, fast_contrib = native(row)
        assert fast_margin == pytest.approx(margin, abs=1e-12)
        assert np.allclose(fast_contrib, contrib, atol=1e-12)
    assert served.native_walk() is native  # compiled once per model text


def test_lgbm_points_share_the_scorecards_scale(lgbm, small):
    _, _, x, _ = small
    served = lgbm.serving()
    batch = served.score_batch({c: x[c].to_numpy() for c in served.features})
    assert np.array_equal(batch.points, np.clip(pd_to_points(batch.pd), 300, 900))


def test_mlp_one_row_equals_the_batch_and_learns_something(small, synthetic):
    x, y, x_test, yt = small
    fitted = mlp.fit(x, y, synthetic.spec, seed=2, params={"max_iter": 60})
    blob = artefact.dump(fitted.document)
    assert artefact.FORMAT_MODULES[fitted.document["format"]] == mlp.__name__
    served = artefact.load(blob, artefact.digest(blob))
    batch = served.score_batch({c: x_test[c].to_numpy() for c in served.features})
    ones = [served.score_one(r) for r in rows_of(x_test.head(100))]
    assert np.allclose([o.pd for o in ones], batch.pd[:100], atol=1e-12)
    assert metrics.auc(yt, batch.pd) > 0.7
    assert served.label("employment", "en") == "employment"
