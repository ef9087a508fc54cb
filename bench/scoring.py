"""Serving credit models: batch rows/s over 1,000,000 rows and one application's latency, beside the libraries.

    .venv/bin/python bench/scoring.py [--rows 1000000] [--single 20000] [--jobs 2]

Fits the scorecard and the calibrated LightGBM on the Taiwan data (spec
docs/examples/risk/taiwan-credit-default.spec.json), then scores `--rows` rows drawn from it
(columns as NumPy arrays, as read from Parquet; categorical columns as their integer codes):

- scorecard batch: `Scorecard.score_batch` from the artefact's tables, beside optbinning's own
  `Scorecard.score` on the same rows; the points must be identical (`points_mismatches` = 0);
- LightGBM batch: `GradientBoosting.score_batch` (lleaves-compiled trees, `--jobs` threads, the
  calibration and the points included), beside LightGBM's `Booster.predict` (same threads);
- one application: `score_one` on a dict (points, PD, grade and reasons), p50 / p99 over
  `--single` calls on varied rows; beside optbinning's `score` on a one-row frame and
  LightGBM's `predict` on a one-row array (fewer calls: they are slow); and for LightGBM the
  path with its contributions alone, walked natively (`paths`) and in NumPy (the reference).

Median of 3 passes for the batches. Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import numpy as np
import pandas as pd

from microcredit.risk.learning import gbm, scorecard, spec

ROOT = Path(__file__).resolve().parents[1]


def timed(fn, passes: int = 3) -> tuple[float, object]:
    """Median seconds of `passes` calls, and the last result."""
    seconds, result = [], None
    for _ in range(passes):
        started = time.perf_counter()
        result = fn()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds), result


def latencies(fn, rows: list) -> tuple[float, float]:
    """p50 and p99 of one call per row, in milliseconds."""
    out = []
    for r in rows:
        started = time.perf_counter()
        fn(r)
        out.append(time.perf_counter() - started)
    return float(np.percentile(out, 50) * 1e3), float(np.percentile(out, 99) * 1e3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="/work/shared/data/taiwan_credit_default.csv")
    parser.add_argument("--spec", default=str(ROOT / "docs/examples/risk/taiwan-credit-default.spec.json"))
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--single", type=int, default=20_000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    ds = spec.load(args.data, args.spec)
    features = list(ds.spec.features)
    started = time.perf_counter()
    card = scorecard.fit(ds.X, ds.y, ds.spec, seed=args.seed)
    trees = gbm.fit(ds.X, ds.y, ds.spec, seed=args.seed)
    fit_s = time.perf_counter() - started
    card_served, trees_served = card.serving(), trees.serving()

    rng = np.random.default_rng(args.seed)
    pick = rng.integers(0, len(ds), args.rows)
    raw = ds.frame.iloc[pick]
    columns = {c: raw[c].to_numpy() for c in features}  # numeric and integer-coded categories, as in Parquet
    frame = ds.X.iloc[pick].reset_index(drop=True)  # what optbinning takes (categories as text)

    card_s, card_scores = timed(lambda: card_served.score_batch(columns))
    own_s, own_points = timed(lambda: card.model.score(frame[features]), passes=1)
    mismatches = int(np.sum(card_scores.points != np.clip(np.rint(own_points).astype(np.int64), *scorecard.CLIP)))

    trees_served.score_batch({c: v[:1000] for c, v in columns.items()})  # compile once (cached per model text)
    gbm_s, gbm_scores = timed(lambda: trees_served.score_batch(columns, n_jobs=args.jobs))
    import lightgbm as lgb

    booster = lgb.Booster(model_str=trees_served.model_text)
    matrix = gbm.matrix(columns, trees_served.features, trees_served.categories)
    lgb_s, lgb_margin = timed(lambda: booster.predict(matrix, raw_score=True, num_threads=args.jobs))
    gbm_agree = float(np.max(np.abs(trees_served.margins(columns, n_jobs=args.jobs) - lgb_margin)))

    records = [{k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in r.items()}
               for r in raw.head(args.single)[features].to_dict("records")]
    card_p50, card_p99 = latencies(card_served.score_one, records)
    gbm_p50, gbm_p99 = latencies(trees_served.score_one, records)
    rows_as_arrays = [trees_served._row(r) for r in records]
    walk_p50, walk_p99 = latencies(trees_served.walk, rows_as_arrays)  # the NumPy walk score_one used before
    native_p50, native_p99 = latencies(trees_served.native_walk(), rows_as_arrays)
    few = max(args.single // 100, 50)
    own_p50, own_p99 = latencies(lambda i: card.model.score(frame.iloc[i:i + 1][features]), list(range(few)))
    lgb_p50, lgb_p99 = latencies(lambda i: booster.predict(matrix[i:i + 1], raw_score=True, num_threads=1),
                                 list(range(few * 10)))

    n = args.rows
    print(f"fitted scorecard + LightGBM on {len(ds)} Taiwan rows in {fit_s:.1f} s; scoring {n:,} rows")
    print(f"scorecard batch (artefact tables): {n / card_s:>12,.0f} rows/s   "
          f"optbinning score(): {n / own_s:>10,.0f} rows/s   points mismatches: {mismatches}")
    print(f"LightGBM batch (lleaves, {args.jobs} thr.): {n / gbm_s:>12,.0f} rows/s   "
          f"LightGBM predict(): {n / lgb_s:>10,.0f} rows/s   max margin difference: {gbm_agree:.2e}")
    print(f"one application, scorecard score_one: p50 {card_p50 * 1e3:.1f} µs  p99 {card_p99 * 1e3:.1f} µs   "
          f"optbinning score() on one row: p50 {own_p50:.2f} ms  p99 {own_p99:.2f} ms")
    print(f"one application, LightGBM score_one:  p50 {gbm_p50 * 1e3:.1f} µs  p99 {gbm_p99 * 1e3:.1f} µs   "
          f"LightGBM predict() on one row: p50 {lgb_p50 * 1e3:.1f} µs  p99 {lgb_p99 * 1e3:.1f} µs")
    print(f"  the path and its contributions alone: native walk p50 {native_p50 * 1e3:.1f} µs  "
          f"p99 {native_p99 * 1e3:.1f} µs   NumPy walk (every tree at once) p50 {walk_p50 * 1e3:.1f} µs  "
          f"p99 {walk_p99 * 1e3:.1f} µs")
    print(json.dumps({
        "bench": "scoring", "rows": n, "scorecard_rows_per_s": round(n / card_s),
        "optbinning_rows_per_s": round(n / own_s), "points_mismatches": mismatches,
        "gbm_rows_per_s": round(n / gbm_s), "lightgbm_rows_per_s": round(n / lgb_s), "gbm_jobs": args.jobs,
        "gbm_max_margin_diff": gbm_agree, "single_p50_ms": round(card_p50, 4), "single_p99_ms": round(card_p99, 4),
        "gbm_single_p50_ms": round(gbm_p50, 4), "gbm_single_p99_ms": round(gbm_p99, 4),
        "optbinning_single_p50_ms": round(own_p50, 3), "lightgbm_single_p50_ms": round(lgb_p50, 4),
        "native_walk_p99_ms": round(native_p99, 4), "numpy_walk_p99_ms": round(walk_p99, 4),
        "grades": pd.Series(scorecard.grade_of(card_scores.points)).value_counts().to_dict(),
        "gbm_mean_pd": float(np.mean(gbm_scores.pd)), "load": os.getloadavg()[0]}))


if __name__ == "__main__":
    main()
