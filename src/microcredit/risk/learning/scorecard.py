"""The points scorecard: optimal binning, weight of evidence, logistic regression, points.

Each feature is cut into bins by optbinning's `OptimalBinning` (numeric features with a monotonic
event rate, ascending or descending as the data says: `monotonic_trend="auto_asc_desc"`;
categorical features grouped by event rate). Each bin's weight of evidence (WoE) replaces the
value and a logistic regression is fitted on the WoE columns. Its log-odds become points:

    factor = PDO / ln 2                          (20 / 0.693 = 28.85)
    offset = 600 - factor · ln 50                (600 points at 50:1 good:bad odds)
    points(bin) = -(coef · WoE(bin) + intercept / n) · factor + offset / n

then every feature's lowest bin is moved to 0 and the shift carried into `base_points`
(optbinning's `intercept_based`), and each bin's points rounded to an integer. The score is
`base_points` plus one bin's points per feature, so the fitted model and the artefact
(`microcredit.scorecard/1`) give the same integer for every applicant; the test checks it against
optbinning's own `Scorecard.score`.

Worked example: a score of 560 stands for good:bad odds 50 · 2^((560 - 600) / 20) = 12.5,
a probability of default 1 / 13.5 = 7.4 %.

Scores are clipped to [300, 900]. Grades by the (unclipped) points and the PD they stand for:

    A ≥ 600 (PD ≤ 2.0 %)   B ≥ 572 (≤ 5.0 %)   C ≥ 551 (≤ 10 %)   D ≥ 527 (≤ 20 %)   E below

(GRADE_RISK in `artefact`: A, B low; C medium; D, E high.)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from microcredit.risk.learning import artefact
from microcredit.risk.learning.spec import ColumnSpec

SCALING = {"points": 600, "odds": 50, "pdo": 20}
CLIP = (300, 900)
GRADES = (("A", 600), ("B", 572), ("C", 551), ("D", 527))
DEFAULT_PARAMS: dict[str, Any] = {
    "monotonic_trend": "auto_asc_desc",  # numeric features: event rate monotonic, either way
    "max_n_prebins": 20,
    "min_prebin_size": 0.05,
    "C": 1.0,  # logistic regression's inverse regularisation
}


def points_to_pd(points: np.ndarray | float, scaling: Mapping[str, float] = SCALING) -> np.ndarray:
    """The probability of default that (unclipped) points stand for on the 600/50/20 scale."""
    log_odds = math.log(scaling["odds"]) + (np.asarray(points, dtype=np.float64) - scaling["points"]) * math.log(
        2) / scaling["pdo"]
    return 1.0 / (1.0 + np.exp(log_odds))


def pd_to_points(pd_: np.ndarray, scaling: Mapping[str, float] = SCALING) -> np.ndarray:
    """Points on the same scale for a probability of default (used by the challengers to share grades)."""
    p = np.clip(np.asarray(pd_, dtype=np.float64), 1e-9, 1 - 1e-9)
    return np.rint(scaling["points"] + (np.log((1 - p) / p) - math.log(scaling["odds"])) * scaling["pdo"]
                   / math.log(2)).astype(np.int64)


def grade_of(points: np.ndarray) -> np.ndarray:
    """Grades A–E for points (vectorised `Scorecard.grade_of`)."""
    out = np.full(len(points), "E", dtype=object)
    for grade, threshold in reversed(GRADES):
        out[np.asarray(points) >= threshold] = grade
    return out


@dataclass
class FittedScorecard:
    """A fitted scorecard: optbinning's model (for the bin tables) and the artefact it exports."""

    model: Any  # optbinning.Scorecard
    document: dict[str, Any]
    params: dict[str, Any] = field(default_factory=dict)
    kind: str = "scorecard"

    def serving(self) -> artefact.ServingModel:
        """The artefact as served (from its tables)."""
        blob = artefact.dump(self.document)
        return artefact.load(blob, artefact.digest(blob))

    def predict_pd(self, frame: pd.DataFrame) -> np.ndarray:
        """The probability of default each row's (integer) points stand for: what serving returns."""
        return points_to_pd(self.raw_points(frame))

    def raw_points(self, frame: pd.DataFrame) -> np.ndarray:
        """optbinning's own score (unclipped integers) for each row."""
        points = self.model.score(frame[list(self.document_features)])
        return np.asarray(points, dtype=np.float64).round().astype(np.int64)

    @property
    def document_features(self) -> tuple[str, ...]:
        return tuple(f["name"] for f in self.document["features"])

    def bin_tables(self) -> dict[str, list[dict[str, Any]]]:
        """Per feature, its bins: range or categories, count, event rate, WoE, IV, points."""
        table = self.model.table(style="detailed")
        out: dict[str, list[dict[str, Any]]] = {}
        for name, rows in table.groupby("Variable", sort=False):
            out[str(name)] = [{"bin": str(r["Bin"]), "count": int(r["Count"]), "event_rate": float(r["Event rate"]),
                               "woe": float(r["WoE"]), "iv": float(r["IV"]), "points": int(r["Points"])}
                              for _, r in rows.iterrows() if str(r["Bin"]) != "Special"]
        return out


def fit(frame: pd.DataFrame, y: np.ndarray, spec: ColumnSpec, *, seed: int = 0,
        params: Mapping[str, Any] | None = None) -> FittedScorecard:
    """Fit the binning, the regression and the points; export the `microcredit.scorecard/1` artefact."""
    from optbinning import BinningProcess, Scorecard
    from sklearn.linear_model import LogisticRegression

    p = {**DEFAULT_PARAMS, **(params or {})}
    features = list(spec.features)
    fit_params = {c: {"monotonic_trend": p["monotonic_trend"], "max_n_prebins": p["max_n_prebins"],
                      "min_prebin_size": p["min_prebin_size"]} for c in spec.numeric}
    fit_params.update({c: {"max_n_prebins": p["max_n_prebins"], "min_prebin_size": p["min_prebin_size"]}
                       for c in spec.categorical})
    process = BinningProcess(features, categorical_variables=list(spec.categorical), binning_fit_params=fit_params)
    model = Scorecard(process, LogisticRegression(C=p["C"], max_iter=2000, random_state=seed),
                      scaling_method="pdo_odds",
                      scaling_method_params={"pdo": SCALING["pdo"], "odds": SCALING["odds"],
                                             "scorecard_points": SCALING["points"]},
                      intercept_based=True, rounding=True)
    model.fit(frame[features], y)
    return FittedScorecard(model=model, document=export(model, spec), params=p)


def export(model: Any, spec: ColumnSpec) -> dict[str, Any]:
    """optbinning's fitted scorecard as a `microcredit.scorecard/1` document (the same integer points)."""
    table = model.table(style="detailed")
    process = model.binning_process_
    features = []
    for name in process.get_support(names=True):
        binned = process.get_binned_variable(name)
        rows = table[table["Variable"] == name]
        points = [int(v) for v in rows["Points"].to_numpy()]
        # Rows: one per bin, then "Special" (no special codes here), then "Missing".
        n_bins = len(points) - 2
        entry: dict[str, Any] = {"name": str(name), "points": points[:n_bins], "missing_points": points[-1],
                                 "label": spec.label(str(name))}
        if binned.dtype == "categorical":
            entry["kind"] = "categorical"
            entry["categories"] = {str(c): i for i, group in enumerate(binned.splits) for c in group}
        else:
            entry["kind"] = "numeric"
            entry["splits"] = [float(s) for s in binned.splits]
        features.append(entry)
    return {"format": artefact.SCORECARD_FORMAT, "target": spec.target, "scaling": dict(SCALING),
            "clip": list(CLIP), "grades": [list(g) for g in GRADES], "base_points": int(model.intercept_),
            "features": features}
