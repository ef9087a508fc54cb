"""The small neural network for comparison (`microcredit.mlp/1`), served by a NumPy forward pass.

Inputs: a numeric value x becomes sign(x)·ln(1 + |x|) (amounts span orders of magnitude), missing
becomes the training median, then standardised; a categorical value becomes its category's
training default rate (smoothed towards the overall rate with 20 pseudo-rows; unseen: the overall
rate), standardised. scikit-learn's `MLPClassifier` (two ReLU layers, early stopping) learns the
rest. The artefact holds the input tables and the weights as lists of numbers.

Reasons: each feature's contribution is how much the margin falls when the feature is set to its
training mean (a standardised 0); the features that raise the margin most come first.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from microcredit.risk.learning import artefact
from microcredit.risk.learning.scorecard import CLIP, GRADES, SCALING, pd_to_points
from microcredit.risk.learning.spec import ColumnSpec

FORMAT = "microcredit.mlp/1"
DEFAULT_PARAMS: dict[str, Any] = {"hidden_layer_sizes": [32, 16], "alpha": 1e-3, "learning_rate_init": 1e-3,
                                  "max_iter": 200, "early_stopping": True, "smoothing": 20}


def _signed_log(x: np.ndarray) -> np.ndarray:
    return np.asarray(np.sign(x) * np.log1p(np.abs(x)))


@dataclass
class FittedMLP:
    """A fitted network and the artefact it exports."""

    document: dict[str, Any]
    params: dict[str, Any] = field(default_factory=dict)
    kind: str = "mlp"

    def serving(self) -> NeuralNetwork:
        """The artefact as served."""
        blob = artefact.dump(self.document)
        model = artefact.load(blob, artefact.digest(blob))
        assert isinstance(model, NeuralNetwork)
        return model

    def predict_pd(self, frame: pd.DataFrame) -> np.ndarray:
        """PDs through the served forward pass."""
        m = self.serving()
        return m.score_batch({c: frame[c].to_numpy() for c in m.features}).pd


def fit(frame: pd.DataFrame, y: np.ndarray, spec: ColumnSpec, *, seed: int = 0,
        params: Mapping[str, Any] | None = None) -> FittedMLP:
    """Fit the input tables and the network; export `microcredit.mlp/1`."""
    from sklearn.neural_network import MLPClassifier

    p = {**DEFAULT_PARAMS, **(params or {})}
    overall = float(np.mean(y))
    inputs: list[dict[str, Any]] = []
    for c in spec.numeric:
        v = _signed_log(frame[c].to_numpy(dtype=np.float64))
        median = float(np.nanmedian(v)) if np.isfinite(v).any() else 0.0
        v = np.where(np.isnan(v), median, v)
        inputs.append({"name": c, "kind": "numeric", "median": median, "mean": float(v.mean()),
                       "std": float(v.std()) or 1.0, "label": spec.label(c)})
    for c in spec.categorical:
        counts = pd.DataFrame({"k": frame[c].to_numpy(), "y": y}).dropna()
        agg = counts.groupby("k")["y"].agg(["sum", "size"])
        rates = {str(k): float((r["sum"] + p["smoothing"] * overall) / (r["size"] + p["smoothing"]))
                 for k, r in agg.iterrows()}
        v = np.array([rates.get(str(k), overall) if k is not None else overall for k in frame[c].to_numpy()])
        inputs.append({"name": c, "kind": "categorical", "rates": rates, "unknown": overall, "mean": float(v.mean()),
                       "std": float(v.std()) or 1.0, "label": spec.label(c)})
    doc: dict[str, Any] = {"format": FORMAT, "target": spec.target, "inputs": inputs, "layers": [],
                           "scaling": dict(SCALING), "clip": list(CLIP), "grades": [list(g) for g in GRADES]}
    standardised = NeuralNetwork(doc, weights=False).inputs({c: frame[c].to_numpy() for c in spec.features})
    net = MLPClassifier(hidden_layer_sizes=tuple(p["hidden_layer_sizes"]), alpha=p["alpha"],
                        learning_rate_init=p["learning_rate_init"], max_iter=p["max_iter"],
                        early_stopping=p["early_stopping"], random_state=seed).fit(standardised, y)
    doc["layers"] = [{"weights": w.tolist(), "bias": b.tolist()} for w, b in zip(net.coefs_, net.intercepts_,
                                                                                  strict=True)]
    return FittedMLP(document=doc, params=p)


class NeuralNetwork:
    """A ReLU network with a logistic output, served from its weights (format `microcredit.mlp/1`)."""

    kind = "mlp"

    def __init__(self, document: Mapping[str, Any], weights: bool = True) -> None:
        try:
            self._inputs = list(document["inputs"])
            self.features = tuple(str(f["name"]) for f in self._inputs)
            self._layers = [(np.asarray(layer["weights"], dtype=np.float64),
                             np.asarray(layer["bias"], dtype=np.float64)) for layer in document["layers"]]
            self.scaling = {k: float(document["scaling"][k]) for k in ("points", "odds", "pdo")}
            self.low, self.high = (int(v) for v in document["clip"])
            self.grades = tuple((str(g), int(t)) for g, t in document["grades"])
        except (KeyError, TypeError, ValueError) as exc:
            raise artefact.ArtefactError(f"malformed mlp artefact: {exc}") from exc
        if weights and (not self._layers or self._layers[0][0].shape[0] != len(self.features)
                        or self._layers[-1][0].shape[1] != 1):
            raise artefact.ArtefactError("malformed mlp artefact: layer shapes do not fit the inputs")

    def inputs(self, columns: Mapping[str, Any]) -> np.ndarray:
        """The standardised input matrix for columns of raw values."""
        n = len(np.asarray(next(iter(columns.values()))))
        inputs = np.empty((n, len(self._inputs)))
        for j, f in enumerate(self._inputs):
            col = np.asarray(columns[f["name"]])
            if f["kind"] == "numeric":
                x = np.array([np.nan if v is None else v for v in col], dtype=np.float64) if col.dtype == object \
                    else col.astype(np.float64)
                v = _signed_log(x)
                v = np.where(np.isnan(v), f["median"], v)
            else:
                table = list(f["rates"].items())
                index = artefact.category_index(col, {k: i for i, (k, _) in enumerate(table)}, len(table))
                v = np.asarray([r for _, r in table] + [f["unknown"]])[index]
            inputs[:, j] = (v - f["mean"]) / f["std"]
        return inputs

    def margin(self, inputs: np.ndarray) -> np.ndarray:
        """The log-odds of default for standardised inputs."""
        h = inputs
        for w, b in self._layers[:-1]:
            h = np.maximum(h @ w + b, 0.0)
        w, b = self._layers[-1]
        return (h @ w + b)[:, 0]

    def score_batch(self, columns: Mapping[str, np.ndarray]) -> artefact.BatchScores:
        """Every row's PD and points (clipped)."""
        pd_ = 1.0 / (1.0 + np.exp(-self.margin(self.inputs(columns))))
        return artefact.BatchScores(points=np.clip(pd_to_points(pd_, self.scaling), self.low, self.high), pd=pd_)

    def score_one(self, row: Mapping[str, Any]) -> artefact.ModelScore:
        """One applicant; reasons: the features whose removal (set to the mean) lowers the margin most."""
        z = self.inputs({f: np.asarray([row.get(f)], dtype=object) for f in self.features})
        probes = np.repeat(z, len(self.features) + 1, axis=0)
        probes[np.arange(1, len(self.features) + 1), np.arange(len(self.features))] = 0.0
        m = self.margin(probes)
        effect = m[0] - m[1:]
        pd_ = 1.0 / (1.0 + math.exp(-m[0]))
        raw = int(pd_to_points(np.asarray([pd_]), self.scaling)[0])
        grade = next((g for g, t in self.grades if raw >= t), "E")
        reasons = tuple(self.features[i] for i in np.argsort(-effect)[:4] if effect[i] > 0)
        return artefact.ModelScore(points=min(max(raw, self.low), self.high), pd=pd_, grade=grade, reasons=reasons)

    def label(self, feature: str, lang: str) -> str:
        """The feature's words in `lang`, else its name."""
        for f in self._inputs:
            if f["name"] == feature:
                return str(f.get("label", {}).get(lang) or f.get("label", {}).get("en") or feature)
        return feature


artefact.register_format(FORMAT, NeuralNetwork)
