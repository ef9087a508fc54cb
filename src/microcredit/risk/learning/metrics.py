"""How well a model separates and calibrates: the figures of the validation report.

* AUC: the chance a random defaulter gets a higher PD than a random good payer; Gini = 2·AUC − 1.
* KS: the largest gap between the cumulative PD distributions of bads and goods.
* Brier: the mean squared error of the PD against the 0/1 outcome (lower is better).
* Calibration: rows cut into PD deciles; in each, the mean predicted PD beside the observed rate.
* PSI (population stability index) between a reference sample and another, over the reference's
  deciles: Σ (a − e) · ln(a / e); under 0.1 stable, 0.1–0.25 watch, above 0.25 shifted.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np


def auc(y: np.ndarray, pd_: np.ndarray) -> float:
    """Area under the ROC curve of the PD against the outcome (ties count a half)."""
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, pd_))


def ks(y: np.ndarray, pd_: np.ndarray) -> float:
    """Kolmogorov–Smirnov statistic between the PDs of bads and of goods."""
    y = np.asarray(y)
    order = np.argsort(pd_, kind="mergesort")
    s, yy = np.asarray(pd_)[order], y[order]
    bad = np.cumsum(yy) / max(yy.sum(), 1)
    good = np.cumsum(1 - yy) / max((1 - yy).sum(), 1)
    last = np.r_[s[1:] != s[:-1], True]  # compare only at the end of each run of equal PDs
    return float(np.max(np.abs(bad - good)[last]))


def brier(y: np.ndarray, pd_: np.ndarray) -> float:
    """Mean squared error of the PD."""
    return float(np.mean((np.asarray(pd_, dtype=np.float64) - np.asarray(y)) ** 2))


def summary(y: np.ndarray, pd_: np.ndarray) -> dict[str, float]:
    """AUC, KS, Gini and Brier together."""
    a = auc(y, pd_)
    return {"auc": a, "ks": ks(y, pd_), "gini": 2 * a - 1, "brier": brier(y, pd_)}


def calibration(y: np.ndarray, pd_: np.ndarray, bins: int = 10) -> list[dict[str, Any]]:
    """Rows in PD quantile bins: count, mean predicted PD, observed default rate."""
    pd_ = np.asarray(pd_, dtype=np.float64)
    edges = np.unique(np.quantile(pd_, np.linspace(0, 1, bins + 1)))
    index = np.clip(np.searchsorted(edges, pd_, side="right") - 1, 0, max(len(edges) - 2, 0))
    out = []
    for b in range(max(len(edges) - 1, 1)):
        m = index == b
        if m.any():
            out.append({"bin": b + 1, "count": int(m.sum()), "pd_low": float(pd_[m].min()),
                        "pd_high": float(pd_[m].max()), "mean_pd": float(pd_[m].mean()),
                        "observed": float(np.asarray(y)[m].mean())})
    return out


def score_distribution(points: np.ndarray, y: np.ndarray, edges: Sequence[int]) -> list[dict[str, Any]]:
    """Counts and default rates per score band [edges[i], edges[i+1])."""
    points = np.asarray(points)
    out = []
    bounds = [-np.inf, *edges, np.inf]
    for low, high in itertools.pairwise(bounds):
        m = (points >= low) & (points < high)
        out.append({"low": None if np.isinf(low) else int(low), "high": None if np.isinf(high) else int(high),
                    "count": int(m.sum()), "bad_rate": float(np.asarray(y)[m].mean()) if m.any() else None})
    return out


def psi(expected: np.ndarray, actual: np.ndarray, bins: int = 10) -> float:
    """Population stability index of `actual` against `expected`, over the expected sample's quantile bins."""
    expected = np.asarray(expected, dtype=np.float64)
    actual = np.asarray(actual, dtype=np.float64)
    edges = np.unique(np.quantile(expected, np.linspace(0, 1, bins + 1))[1:-1])
    e = np.bincount(np.searchsorted(edges, expected, side="right"), minlength=len(edges) + 1) / len(expected)
    a = np.bincount(np.searchsorted(edges, actual, side="right"), minlength=len(edges) + 1) / len(actual)
    e, a = np.maximum(e, 1e-6), np.maximum(a, 1e-6)
    return float(np.sum((a - e) * np.log(a / e)))


def fairness(groups: np.ndarray, y: np.ndarray, pd_: np.ndarray, approve_below: float,
             order: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Per group: count, approval rate (PD under the cut-off), mean PD, observed default rate, AUC."""
    out = []
    groups = np.asarray(groups, dtype=object)
    present = {str(v) for v in groups}
    for g in [o for o in order if o in present] + sorted(present - set(order)):
        m = np.array([str(v) == g for v in groups])
        yy, pp = np.asarray(y)[m], np.asarray(pd_)[m]
        out.append({"group": g, "count": int(m.sum()), "approval_rate": float(np.mean(pp < approve_below)),
                    "mean_pd": float(pp.mean()), "default_rate": float(yy.mean()),
                    "auc": auc(yy, pp) if 0 < yy.sum() < len(yy) else None})
    return out


def age_band_labels(edges: Sequence[float]) -> list[str]:
    """The bands' names in order: "<25", "25–34", …, "55+"."""
    labels = [f"<{edges[0]:g}"] + [f"{lo:g}–{hi - 1:g}" for lo, hi in itertools.pairwise(edges)]
    return [*labels, f"{edges[-1]:g}+"]


def age_band(age: np.ndarray, edges: Sequence[float]) -> np.ndarray:
    """Age bands as text: "<25", "25–34", …, "55+" for edges 25, 35, 45, 55."""
    labels = age_band_labels(edges)
    a = np.asarray(age, dtype=np.float64)
    out = np.array([labels[i] for i in np.searchsorted(np.asarray(edges), a, side="right")], dtype=object)
    out[np.isnan(a)] = "unknown"
    return out
