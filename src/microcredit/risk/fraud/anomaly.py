"""The anomaly model: an isolation forest (scikit-learn) on application features, kept as plain arrays.

Training uses `sklearn.ensemble.IsolationForest` with a fixed seed; the fitted trees are then copied into
`Forest`, plain integer and float arrays per tree, which score in-process with NumPy and serialise to JSON
with a SHA-256 of their canonical form. A stored model is never unpickled: `Forest.from_json` checks the
digest before it builds anything, and the arrays are only numbers. Scoring follows scikit-learn's
definition (Liu et al. 2008): the mean path length E(h) over the trees, each leaf adding c(n) for the n
training rows it held, and the score 2^(-E(h)/c(ψ)) with ψ the subsample size: about 0.5 for ordinary rows,
towards 1 for rows that isolate quickly. The tests check it agrees with `score_samples`.

Features (`FEATURES`) are the application's own figures, no identity: amount and income on a log scale,
spending and debt against income, term, age, and the hour of submission as a point on the clock.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

FEATURES = ("log_amount", "term_months", "log_income", "spending_income", "debt_income", "age", "hour_sin",
            "hour_cos")
EULER = 0.5772156649015329


@dataclass(frozen=True)
class Features:
    """One application's figures (money in minor units; None where not given)."""

    amount_minor: int
    term_months: int
    income_minor: int | None
    spending_minor: int | None
    debt_minor: int | None
    age: int
    hour: int  # local hour of submission, 0-23

    def vector(self) -> list[float]:
        """The row the forest reads (same order as `FEATURES`)."""
        income = max(self.income_minor or 0, 0)

        def ratio(x: int | None) -> float:
            return min((x or 0) / income, 5.0) if income else 5.0

        angle = 2 * math.pi * (self.hour % 24) / 24
        return [math.log1p(self.amount_minor / 100), self.term_months * 1.0, math.log1p(income / 100),
                ratio(self.spending_minor), ratio(self.debt_minor), self.age * 1.0, math.sin(angle), math.cos(angle)]


def average_path_length(n: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """c(n): the average path length of an unsuccessful search in a binary search tree of n items."""
    n = np.asarray(n, dtype=np.float64)
    out = np.zeros_like(n)
    two = n == 2
    big = n > 2
    out[two] = 1.0
    out[big] = 2.0 * (np.log(n[big] - 1.0) + EULER) - 2.0 * (n[big] - 1.0) / n[big]
    return out


@dataclass(frozen=True)
class Tree:
    """One isolation tree as arrays (scikit-learn's `tree_`): children -1 at leaves."""

    features: tuple[int, ...]  # column of the full row each tree feature index reads
    left: npt.NDArray[np.int64]
    right: npt.NDArray[np.int64]
    feature: npt.NDArray[np.int64]
    threshold: npt.NDArray[np.float64]
    samples: npt.NDArray[np.float64]

    def path_lengths(self, x: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
        """Depth of the leaf each row reaches plus c(rows the leaf held)."""
        sub = x[:, list(self.features)]
        node = np.zeros(len(x), dtype=np.int64)
        depth = np.zeros(len(x), dtype=np.float64)
        active = self.left[node] != -1
        while active.any():
            idx = np.nonzero(active)[0]
            n = node[idx]
            go_left = sub[idx, self.feature[n]] <= self.threshold[n]
            node[idx] = np.where(go_left, self.left[n], self.right[n])
            depth[idx] += 1
            active = self.left[node] != -1
        return depth + average_path_length(self.samples[node])


@dataclass(frozen=True)
class _Flat:
    """The forest's trees laid end to end for scoring one row: node i of tree t is `roots[t] + i`; a leaf
    leads to itself (its threshold +inf: "go left", and left is itself), so after `depth` steps — the
    deepest tree's depth — every walk stands on its leaf; `path` is a node's depth plus c(rows it held)."""

    roots: npt.NDArray[np.int64]
    left: npt.NDArray[np.int64]
    right: npt.NDArray[np.int64]
    feature: npt.NDArray[np.int64]  # the column of the full row
    threshold: npt.NDArray[np.float64]
    path: npt.NDArray[np.float64]
    depth: int
    c: float

    @classmethod
    def of(cls, forest: Forest) -> _Flat:
        roots, lefts, rights, features, thresholds, paths = [], [], [], [], [], []
        offset, deepest = 0, 0
        for t in forest.trees:
            n = len(t.left)
            own = np.arange(n, dtype=np.int64)
            leaf = t.left == -1
            depth = np.zeros(n, dtype=np.int64)
            for i in range(n):  # sklearn numbers a node before its children
                if not leaf[i]:
                    depth[t.left[i]] = depth[t.right[i]] = depth[i] + 1
            columns = np.asarray(t.features, dtype=np.int64)
            roots.append(offset)
            lefts.append(np.where(leaf, own, t.left) + offset)
            rights.append(np.where(leaf, own, t.right) + offset)
            features.append(np.where(leaf, 0, columns[np.where(leaf, 0, t.feature)]))
            thresholds.append(np.where(leaf, np.inf, t.threshold))
            paths.append(depth + average_path_length(t.samples))
            offset += n
            deepest = max(deepest, int(depth.max()))
        c = average_path_length(np.array([forest.max_samples], dtype=np.float64)).item()
        return cls(roots=np.asarray(roots, dtype=np.int64), left=np.concatenate(lefts), right=np.concatenate(rights),
                   feature=np.concatenate(features), threshold=np.concatenate(thresholds), path=np.concatenate(paths),
                   depth=deepest, c=c)


class ModelIntegrityError(ValueError):
    """A stored model's digest does not match its content."""


@dataclass(frozen=True)
class Forest:
    """A fitted isolation forest, scored with NumPy; `to_json`/`from_json` round-trip it with a digest."""

    trees: tuple[Tree, ...]
    max_samples: int
    seed: int
    rows: int

    def score(self, rows: Sequence[Sequence[float]]) -> npt.NDArray[np.float64]:
        """The anomaly score of each row: 2^(-E(h)/c(ψ)), in (0, 1), higher is stranger."""
        x = np.asarray(rows, dtype=np.float32)
        mean = np.mean([t.path_lengths(x) for t in self.trees], axis=0)
        c = average_path_length(np.array([self.max_samples], dtype=np.float64)).item()
        return np.asarray(2.0 ** (-mean / c), dtype=np.float64)

    def score_one(self, features: Features) -> float:
        """The anomaly score of one application (the same number as `score`): every tree walked at once, one
        level per step, over the trees' nodes laid end to end (`_Flat`)."""
        flat = self._flat
        row = np.asarray(features.vector(), dtype=np.float32).astype(np.float64)  # the trees' precision
        node = flat.roots
        for _ in range(flat.depth):
            node = np.where(row[flat.feature[node]] <= flat.threshold[node], flat.left[node], flat.right[node])
        mean: float = flat.path[node].sum().item() / len(self.trees)
        return math.pow(2.0, -mean / flat.c)

    @functools.cached_property
    def _flat(self) -> _Flat:
        return _Flat.of(self)

    def body(self) -> dict[str, Any]:
        """The JSON form (numbers only)."""
        return {"format": "isolation-forest/1", "features": list(FEATURES), "max_samples": self.max_samples,
                "seed": self.seed, "rows": self.rows,
                "trees": [{"features": list(t.features), "left": t.left.tolist(), "right": t.right.tolist(),
                           "feature": t.feature.tolist(), "threshold": t.threshold.tolist(),
                           "samples": t.samples.tolist()} for t in self.trees]}

    def to_json(self) -> tuple[str, str]:
        """The canonical JSON text and its SHA-256 (hex)."""
        text = json.dumps(self.body(), sort_keys=True, separators=(",", ":"))
        return text, hashlib.sha256(text.encode()).hexdigest()

    @functools.cached_property
    def digest(self) -> str:
        """SHA-256 of the canonical JSON: the model's identity (computed once)."""
        return self.to_json()[1]

    @classmethod
    def from_json(cls, text: str, sha256: str) -> Forest:
        """The forest of a stored text, refused unless its digest is `sha256` and its shape is right."""
        if hashlib.sha256(text.encode()).hexdigest() != sha256:
            raise ModelIntegrityError("the model's digest does not match")
        data: Mapping[str, Any] = json.loads(text)
        if data.get("format") != "isolation-forest/1" or list(data.get("features", ())) != list(FEATURES):
            raise ModelIntegrityError("not an isolation forest of these features")
        trees = tuple(Tree(features=tuple(int(i) for i in t["features"]),
                           left=np.asarray(t["left"], dtype=np.int64), right=np.asarray(t["right"], dtype=np.int64),
                           feature=np.asarray(t["feature"], dtype=np.int64),
                           threshold=np.asarray(t["threshold"], dtype=np.float64),
                           samples=np.asarray(t["samples"], dtype=np.float64)) for t in data["trees"])
        return cls(trees=trees, max_samples=int(data["max_samples"]), seed=int(data["seed"]), rows=int(data["rows"]))


def train(rows: Sequence[Sequence[float]], *, seed: int = 19, trees: int = 100, max_samples: int = 256) -> Forest:
    """Fit scikit-learn's isolation forest on `rows` (deterministic for a seed) and copy it into a `Forest`."""
    from sklearn.ensemble import IsolationForest  # heavy import, only when training

    x = np.asarray(rows, dtype=np.float32)
    model = IsolationForest(n_estimators=trees, max_samples=min(max_samples, len(x)), random_state=seed)
    model.fit(x)
    copied = []
    for est, cols in zip(model.estimators_, model.estimators_features_, strict=True):
        t = est.tree_
        copied.append(Tree(features=tuple(int(c) for c in cols), left=np.asarray(t.children_left, dtype=np.int64),
                           right=np.asarray(t.children_right, dtype=np.int64),
                           feature=np.asarray(t.feature, dtype=np.int64),
                           threshold=np.asarray(t.threshold, dtype=np.float64),
                           samples=np.asarray(t.n_node_samples, dtype=np.float64)))
    return Forest(trees=tuple(copied), max_samples=int(model.max_samples_), seed=seed, rows=len(x))
