"""Our credit models on the real Taiwan credit-card default data, beside plain baselines, same folds.

    .venv/bin/python bench/risk_taiwan.py [--data /work/shared/data/taiwan_credit_default.csv]
        [--spec docs/examples/risk/taiwan-credit-default.spec.json] [--cv 5] [--seed 42] [--models scorecard,lgbm,mlp]

5-fold stratified cross-validation (shuffled with the seed), sex (X2) never a feature. Every model
sees the same folds; the figures are out of fold (AUC, KS, Gini, Brier on the pooled out-of-fold
PDs; fold AUC mean ± sd beside them):

- baseline `logit_raw`: scikit-learn's LogisticRegression on the 22 raw columns, standardised;
- baseline `lgbm_plain`: LightGBM, lightly tuned (300 trees, learning rate 0.03, 15 leaves,
  min 50 rows a leaf, 80 % rows / 70 % columns a tree), raw columns, its own probabilities;
- ours: `microcredit.risk.learning.train` with the spec (scorecard, LightGBM calibrated, MLP),
  the figures of what the artefact serves (the scorecard's integer points read back as PD).

Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from microcredit.risk.learning import metrics, spec
from microcredit.risk.learning.train import folds, train

ROOT = Path(__file__).resolve().parents[1]


def baseline(ds: spec.Dataset, cv: int, seed: int, kind: str) -> dict[str, float]:
    """Out-of-fold figures of a baseline on the raw columns (every spec feature as a number)."""
    import lightgbm as lgb
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    columns = list(ds.spec.features)
    raw = ds.frame[columns].to_numpy(dtype=np.float64)
    oof = np.zeros(len(ds))
    aucs = []
    for tr, te in folds(ds, cv, seed):
        if kind == "logit_raw":
            model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(raw[tr], ds.y[tr])
        else:
            model = lgb.LGBMClassifier(n_estimators=300, learning_rate=0.03, num_leaves=15, min_child_samples=50,
                                       subsample=0.8, subsample_freq=1, colsample_bytree=0.7, random_state=seed,
                                       n_jobs=1, verbose=-1).fit(raw[tr], ds.y[tr])
        oof[te] = model.predict_proba(raw[te])[:, 1]
        aucs.append(metrics.auc(ds.y[te], oof[te]))
    return {**metrics.summary(ds.y, oof), "fold_auc_mean": float(np.mean(aucs)), "fold_auc_sd": float(np.std(aucs))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="/work/shared/data/taiwan_credit_default.csv")
    parser.add_argument("--spec", default=str(ROOT / "docs/examples/risk/taiwan-credit-default.spec.json"))
    parser.add_argument("--cv", type=int, default=5)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--models", default="scorecard,lgbm,mlp")
    parser.add_argument("--report", default="/tmp/risk_taiwan", help="where our models' reports go")
    args = parser.parse_args()
    ds = spec.load(args.data, args.spec)
    results: dict[str, dict[str, float]] = {}
    for kind in ("logit_raw", "lgbm_plain"):
        started = time.perf_counter()
        results[kind] = {**baseline(ds, args.cv, args.seed, kind), "seconds": time.perf_counter() - started}
    for kind in args.models.split(","):
        started = time.perf_counter()
        summary = train(ds, kind=kind, cv=args.cv, seed=args.seed, out=Path(args.report) / kind, lang="en")
        report = json.loads((Path(args.report) / kind / "report.json").read_text())
        results[kind] = {**report["metrics"], "fold_auc_mean": report["fold_auc_mean"],
                         "fold_auc_sd": report["fold_auc_std"], "seconds": time.perf_counter() - started}
        results[kind]["sha256"] = summary["sha256"]  # type: ignore[assignment]
    print(f"Taiwan credit default: {len(ds)} rows, default rate {ds.y.mean():.4f}, {args.cv}-fold stratified, "
          f"seed {args.seed}, sex excluded")
    print(f"{'model':<12}{'AUC':>8}{'fold AUC':>16}{'KS':>8}{'Gini':>8}{'Brier':>8}{'s':>7}")
    for kind, r in results.items():
        print(f"{kind:<12}{r['auc']:>8.4f}{r['fold_auc_mean']:>9.4f} ±{r['fold_auc_sd']:.4f}{r['ks']:>8.4f}"
              f"{r['gini']:>8.4f}{r['brier']:>8.4f}{r['seconds']:>7.0f}")
    for kind in args.models.split(","):
        report = json.loads((Path(args.report) / kind / "report.json").read_text())
        print(f"calibration ({kind}, out of fold, PD deciles): mean PD → observed")
        for row in report["calibration"]:
            print(f"  {row['bin']:>2}  n={row['count']:>5}  {row['mean_pd']:.3f} → {row['observed']:.3f}")
    print(json.dumps({"bench": "risk_taiwan", "rows": len(ds), "cv": args.cv, "seed": args.seed,
                      **{f"{k}_{m}": round(float(v[m]), 4) for k, v in results.items()
                         for m in ("auc", "fold_auc_mean", "ks", "gini", "brier")},
                      "load": os.getloadavg()[0]}))


if __name__ == "__main__":
    main()
