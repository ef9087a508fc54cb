"""Train and validate a credit model on a tabular file: `microcredit risk train`.

Validation is cross-validation over every row: stratified k folds (shuffled with the seed), or,
when the spec names a time column, rows in time order cut by scikit-learn's `TimeSeriesSplit`
(each fold is validated only on rows later than all its training rows). Every validated row gets
its PD from a model that did not see it (out-of-fold); the figures — AUC, KS, Gini, Brier,
calibration, score bands, fairness — are computed on those. PSI compares, in each fold, the
score distribution of the held-out rows with that of the fold's training rows. The artefact is
then fitted on all rows (`DIR/model.json`, its SHA-256 in `DIR/model.json.sha256`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from microcredit.risk.learning import artefact, metrics
from microcredit.risk.learning.scorecard import GRADES, SCALING, pd_to_points, points_to_pd
from microcredit.risk.learning.spec import Dataset, SpecError

KINDS = ("scorecard", "lgbm", "mlp")
SCORE_BANDS = (460, 480, 500, 520, 540, 560, 580, 600, 620)
APPROVE_GRADE = "D"  # the fairness tables count an applicant approved at grade D or better (PD ≤ 20 %)


def fitter(kind: str) -> Any:
    """The `fit(X, y, spec, seed=, params=)` function of a model kind."""
    if kind == "scorecard":
        from microcredit.risk.learning import scorecard

        return scorecard.fit
    if kind == "lgbm":
        from microcredit.risk.learning import gbm

        return gbm.fit
    if kind == "mlp":
        from microcredit.risk.learning import mlp

        return mlp.fit
    raise SpecError(f"unknown model {kind!r}; one of {', '.join(KINDS)}")


def folds(ds: Dataset, cv: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The validation folds: stratified and shuffled, or in time order when the spec names a time column."""
    if cv < 2:
        raise SpecError("--cv must be at least 2")
    if ds.spec.time:
        from sklearn.model_selection import TimeSeriesSplit

        order = np.argsort(ds.frame[ds.spec.time].to_numpy(), kind="mergesort")
        return [(order[tr], order[te]) for tr, te in TimeSeriesSplit(n_splits=cv).split(order)]
    from sklearn.model_selection import StratifiedKFold

    return list(StratifiedKFold(cv, shuffle=True, random_state=seed).split(ds.X, ds.y))


def served_points(model: artefact.ServingModel, frame: Any) -> np.ndarray:
    """Points (clipped) through the served batch path."""
    return model.score_batch({c: frame[c].to_numpy() for c in model.features}).points


def train(ds: Dataset, *, kind: str, cv: int = 5, seed: int = 0, params: Mapping[str, Any] | None = None,
          out: Path | None = None, lang: str = "zh-CN") -> dict[str, Any]:
    """Cross-validate, fit on all rows, write the artefact and the report to `out`; the summary."""
    fit = fitter(kind)
    started = time.perf_counter()
    oof = np.full(len(ds), np.nan)
    fold_rows = []
    for k, (tr, te) in enumerate(folds(ds, cv, seed)):
        fitted = fit(ds.X.iloc[tr], ds.y[tr], ds.spec, seed=seed, params=params)
        served = fitted.serving()
        pd_te = served.score_batch({c: ds.X.iloc[te][c].to_numpy() for c in served.features}).pd
        oof[te] = pd_te
        fold_rows.append({"fold": k + 1, "train_rows": len(tr), "test_rows": len(te),
                          **metrics.summary(ds.y[te], pd_te),
                          "psi": metrics.psi(served_points(served, ds.X.iloc[tr]),
                                             served_points(served, ds.X.iloc[te]))})
    validated = ~np.isnan(oof)
    y, p = ds.y[validated], oof[validated]
    final = fit(ds.X, ds.y, ds.spec, seed=seed, params=params)
    figures = metrics.summary(y, p)
    points = np.clip(pd_to_points(p), 300, 900)
    report: dict[str, Any] = {
        "model": kind, "rows": len(ds), "validated_rows": int(validated.sum()), "cv": cv, "seed": seed,
        "split": "time" if ds.spec.time else "stratified", "hyper_parameters": final.params,
        "spec": ds.spec.to_json(), "metrics": figures,
        "folds": fold_rows, "fold_auc_mean": float(np.mean([f["auc"] for f in fold_rows])),
        "fold_auc_std": float(np.std([f["auc"] for f in fold_rows])),
        "calibration": metrics.calibration(y, p),
        "score_distribution": metrics.score_distribution(points, y, SCORE_BANDS),
        "fairness": fairness(ds, validated, p),
        "scaling": dict(SCALING), "grades": [list(g) for g in GRADES],
    }
    if kind == "scorecard":
        report["bins"] = final.bin_tables()
        report["characteristics"] = characteristic_analysis(final.document, ds, folds(ds, cv, seed)[-1])
    report["seconds"] = round(time.perf_counter() - started, 1)
    blob = artefact.dump(final.document)
    sha = artefact.digest(blob)
    summary = {"model": kind, **{k: round(v, 4) for k, v in figures.items()}, "fold_auc_mean": round(
        report["fold_auc_mean"], 4), "rows": len(ds), "sha256": sha}
    if out is not None:
        from microcredit.risk.learning import report as html

        out.mkdir(parents=True, exist_ok=True)
        (out / "model.json").write_bytes(blob)
        (out / "model.json.sha256").write_text(sha + "\n", encoding="utf-8")
        report["artefact"] = {"path": "model.json", "sha256": sha}
        (out / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
        (out / "report.html").write_text(html.render(report, lang=lang), encoding="utf-8")
        summary.update({"artefact": str(out / "model.json"), "report": str(out / "report.html")})
    return summary


def fairness(ds: Dataset, validated: np.ndarray, pd_: np.ndarray) -> dict[str, Any]:
    """Approval rate, mean PD, default rate and AUC by gender and by age band (columns named by the spec)."""
    cut = float(points_to_pd(dict(GRADES)[APPROVE_GRADE]))
    out: dict[str, Any] = {"approve_if_pd_below": cut}
    y = ds.y[validated]
    gender = ds.spec.fairness.get("gender")
    if gender:
        out["gender"] = metrics.fairness(ds.frame[gender].to_numpy()[validated], y, pd_, cut)
    age = ds.spec.fairness.get("age")
    if age:
        bands = metrics.age_band(ds.frame[age].to_numpy(dtype=np.float64)[validated], ds.spec.age_bands)
        out["age"] = metrics.fairness(bands, y, pd_, cut, order=metrics.age_band_labels(ds.spec.age_bands))
    return out


def characteristic_analysis(document: Mapping[str, Any], ds: Dataset,
                            fold: tuple[np.ndarray, np.ndarray]) -> list[dict[str, Any]]:
    """Per feature: its bins' share of the training rows and of the held-out rows, and the points shift."""
    served = artefact.load(artefact.dump(document), artefact.digest(artefact.dump(document)))
    assert isinstance(served, artefact.Scorecard)
    out = []
    tr, te = fold
    for c in served._chars:
        a = c.points_of_column(ds.X[c.name].to_numpy()[tr])
        b = c.points_of_column(ds.X[c.name].to_numpy()[te])
        levels = sorted(set(c.points) | {c.missing_points})
        rows = []
        shift = 0.0
        for level in levels:
            e, s = float(np.mean(a == level)), float(np.mean(b == level))
            shift += (s - e) * level
            rows.append({"points": level, "train_share": e, "test_share": s})
        out.append({"feature": c.name, "bins": rows, "points_shift": shift})
    return out
