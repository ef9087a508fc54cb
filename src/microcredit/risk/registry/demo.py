"""Two small, valid scorecard artefacts over the feature pipeline's names, and a validation report for them.

They are real artefacts in the `microcredit.scorecard/1` format (not mocks), written by hand from
the interim scorer's judgement so that the demo, the tests and the end-to-end spec have a champion
and a challenger to register before a trained model exists. Version 2 leans more on behaviour
data and less on the credit report than version 1.
"""

from __future__ import annotations

from typing import Any

from microcredit.risk.learning import artefact

_LABELS = {
    "inquiries_3m": ("近3个月硬查询次数", "hard inquiries in 3 months"),
    "utilisation_pct": ("循环授信使用率", "utilisation of revolving credit"),
    "dti_pct": ("贷后负债收入比", "debt-to-income after the loan"),
    "worst_status_24m": ("24个月最差还款状态", "worst repayment status in 24 months"),
    "history_months": ("信用记录时长", "length of credit history"),
    "payment_on_time_ratio_12m": ("12个月缴费按时率", "bills paid on time in 12 months"),
    "employment": ("就业状况", "employment"),
}


def _numeric(name: str, splits: list[float], points: list[int], missing: int) -> dict[str, Any]:
    zh, en = _LABELS[name]
    return {"name": name, "kind": "numeric", "splits": splits, "points": points, "missing_points": missing,
            "label": {"zh-CN": zh, "en": en}}


def scorecard(variant: int = 1) -> dict[str, Any]:
    """The demo scorecard document, variant 1 (credit-report heavy) or 2 (behaviour heavy)."""
    w = 1 if variant == 1 else 2
    features = [
        _numeric("inquiries_3m", [1.5, 3.5, 6.5], [40 // w, 10, -30, -70], 0),
        _numeric("utilisation_pct", [30, 70, 90], [40 // w, 5, -25, -50], 0),
        _numeric("dti_pct", [30, 50, 70], [45, 5, -45, -90], -90),
        _numeric("worst_status_24m", [0.5, 1.5, 2.5], [70 // w, 0, -60, -160], 0),
        _numeric("history_months", [6, 24, 60], [-60, 0, 25, 45 // w], -60),
        _numeric("payment_on_time_ratio_12m", [0.7, 0.9], [-40 * w, 0, 25 * w], 0),
        {"name": "employment", "kind": "categorical",
         "categories": {"salaried": 0, "self_employed": 1, "farmer": 1, "unemployed": 2},
         "points": [20, 5, -40], "missing_points": 0, "label": {"zh-CN": "就业状况", "en": "employment"}},
    ]
    return {"format": artefact.SCORECARD_FORMAT, "target": "default",
            "scaling": {"points": 600, "odds": 50, "pdo": 20}, "clip": [300, 900],
            "grades": [["A", 720], ["B", 660], ["C", 600], ["D", 540]],
            "base_points": 480 if variant == 1 else 490, "features": features}


def blob(variant: int = 1) -> bytes:
    """The artefact's canonical bytes."""
    return artefact.dump(scorecard(variant))


def report(variant: int = 1) -> dict[str, Any]:
    """A validation report in the shape `microcredit risk train --report` writes (the figures illustrative)."""
    auc = 0.752 if variant == 1 else 0.768
    distribution = [{"low": None, "high": 540, "count": 180, "bad_rate": 0.21},
                    {"low": 540, "high": 600, "count": 310, "bad_rate": 0.09},
                    {"low": 600, "high": 660, "count": 620, "bad_rate": 0.04},
                    {"low": 660, "high": 720, "count": 540, "bad_rate": 0.02},
                    {"low": 720, "high": None, "count": 350, "bad_rate": 0.008}]
    return {"model": "scorecard", "rows": 2000, "metrics": {"auc": auc, "ks": 0.39 + variant / 100,
                                                            "gini": 2 * auc - 1, "brier": 0.046},
            "calibration": [{"bin": i + 1, "mean_pd": p, "observed": p * (0.9 + 0.05 * (i % 3))}
                            for i, p in enumerate((0.005, 0.01, 0.016, 0.024, 0.033, 0.045, 0.06, 0.085, 0.12,
                                                   0.2))],
            "roc": {"fpr": [0, 0.05, 0.1, 0.2, 0.35, 0.5, 0.7, 1.0],
                    "tpr": [0, 0.22 + variant / 100, 0.37, 0.55, 0.72, 0.83, 0.93, 1.0]},
            "score_distribution": distribution,
            "fairness": {"gender": [{"group": "female", "approval_rate": 0.71, "mean_pd": 0.041},
                                    {"group": "male", "approval_rate": 0.69, "mean_pd": 0.044}]}}
