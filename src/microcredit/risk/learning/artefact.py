"""A fitted credit model as data: the artefact format, its integrity check, and serving from it.

Training (`risk.learning`'s trainers) ends in an *artefact*: plain JSON bytes, hashed with
SHA-256. The registry stores the bytes and the hash; serving loads them only after the hash
matches (`load(blob, sha256)`), and never unpickles anything: a model is its fitted tables (a
scorecard's bins and points) or its trees as numbers, so a tampered or foreign file is refused
before any of it is read as a model.

Every kind answers through one interface, `ServingModel`:

* `score_one(row)` — one applicant, a mapping of feature name to value (None: missing); pure
  Python over the tables, no NumPy call per feature, so that a single decision costs microseconds;
* `score_batch(columns)` — many rows, a mapping of feature name to a NumPy array; vectorised.

A `ModelScore` carries the points (the scaled score, higher is better), the probability of default
the points stand for, the grade and the reason codes: the features that cost the applicant the most
points against their best attribute, most costly first, as feature names; `label(feature, lang)`
gives their words.

The scorecard format (`"format": "microcredit.scorecard/1"`)::

    {"format": "microcredit.scorecard/1",
     "target": "default",                      # what the model predicts (1 = bad)
     "scaling": {"points": 600, "odds": 50, "pdo": 20},   # 600 points at 50:1 good:bad, 20 to double
     "clip": [300, 900],
     "grades": [["A", 720], ["B", 660], ["C", 600], ["D", 540]],   # at least; below the last: "E"
     "base_points": 0,                          # points every applicant starts with (intercept's share)
     "features": [
       {"name": "age", "kind": "numeric",
        "splits": [25.5, 35.5],                # bins: (-inf, 25.5), [25.5, 35.5), [35.5, inf)
        "points": [10, 25, 40],                # one per bin
        "missing_points": 10,                  # None / NaN
        "label": {"zh-CN": "年龄", "en": "age"}},
       {"name": "education", "kind": "categorical",
        "categories": {"1": 0, "2": 0, "3": 1},   # category (as text) -> bin index
        "points": [30, 5],
        "missing_points": 5,                   # None, and any category not seen in training
        "label": {"zh-CN": "学历", "en": "education"}}
     ]}

Points per bin are integers already scaled; the score is `base_points` plus each feature's bin
points, clipped to `clip`. The probability of default is the points read back through the scaling
(before clipping): `ln(good:bad odds) = ln(odds) + (score - points) · ln 2 / pdo`.
"""

from __future__ import annotations

import bisect
import hashlib
import importlib
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

SCORECARD_FORMAT = "microcredit.scorecard/1"
GRADE_RISK = {"A": "low", "B": "low", "C": "medium", "D": "high", "E": "high"}


class ArtefactError(ValueError):
    """An artefact that is not what it claims: wrong hash, unknown format, malformed tables."""


@dataclass(frozen=True)
class ModelScore:
    """One applicant's score: points (higher is better), probability of default, grade, reasons."""

    points: int
    pd: float
    grade: str
    reasons: tuple[str, ...]

    @property
    def risk(self) -> str:
        """The grade's risk level: low, medium or high."""
        return GRADE_RISK[self.grade]


@dataclass(frozen=True)
class BatchScores:
    """Many rows' points and probabilities of default, in the rows' order."""

    points: np.ndarray  # int64
    pd: np.ndarray  # float64


class ServingModel(Protocol):
    """What the registry and the decision call, whatever the kind of model."""

    kind: str
    features: tuple[str, ...]

    def score_one(self, row: Mapping[str, Any]) -> ModelScore: ...

    def score_batch(self, columns: Mapping[str, np.ndarray]) -> BatchScores: ...

    def label(self, feature: str, lang: str) -> str: ...


def digest(blob: bytes) -> str:
    """The artefact's SHA-256, hex."""
    return hashlib.sha256(blob).hexdigest()


def dump(document: Mapping[str, Any]) -> bytes:
    """An artefact document as canonical JSON bytes (sorted keys, no spaces): one document, one hash."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def load(blob: bytes, sha256: str) -> ServingModel:
    """The model in `blob`, after checking it hashes to `sha256`; refuses anything else before parsing."""
    if digest(blob) != sha256:
        raise ArtefactError("the artefact does not match its recorded SHA-256")
    try:
        document = json.loads(blob)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ArtefactError("the artefact is not JSON") from exc
    fmt = document.get("format") if isinstance(document, dict) else None
    if str(fmt) not in LOADERS and str(fmt) in FORMAT_MODULES:
        importlib.import_module(FORMAT_MODULES[str(fmt)])
    loader = LOADERS.get(str(fmt))
    if loader is None:
        raise ArtefactError(f"unknown artefact format {fmt!r}")
    return loader(document)


@dataclass(frozen=True)
class _Characteristic:
    name: str
    numeric: bool
    splits: tuple[float, ...]
    categories: Mapping[str, int]
    points: tuple[int, ...]
    missing_points: int
    best: int
    label: Mapping[str, str]

    def points_of(self, value: Any) -> int:
        if value is None:
            return self.missing_points
        if self.numeric:
            x = float(value)
            if math.isnan(x):
                return self.missing_points
            return self.points[bisect.bisect_right(self.splits, x)]
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # 2.0 read from a float column is category "2"
        index = self.categories.get(str(value))
        return self.missing_points if index is None else self.points[index]

    def points_of_column(self, column: np.ndarray) -> np.ndarray:
        table = np.asarray((*self.points, self.missing_points), dtype=np.int64)
        missing = len(self.points)
        if self.numeric:
            x = np.asarray(column)
            if x.dtype == object:
                x = np.array([np.nan if v is None else float(v) for v in x], dtype=np.float64)
            else:
                x = x.astype(np.float64, copy=False)
            index = np.searchsorted(np.asarray(self.splits, dtype=np.float64), x, side="right")
            index[np.isnan(x)] = missing
            return table[index]
        return np.asarray(table[category_index(column, self.categories, missing)])


class Scorecard:
    """A points scorecard served from its fitted tables (format `microcredit.scorecard/1`)."""

    kind = "scorecard"

    def __init__(self, document: Mapping[str, Any]) -> None:
        try:
            scaling = document["scaling"]
            self.anchor_points = float(scaling["points"])
            self.anchor_log_odds = math.log(float(scaling["odds"]))
            self.pdo = float(scaling["pdo"])
            low, high = document["clip"]
            self.low, self.high = int(low), int(high)
            self.grades: tuple[tuple[str, int], ...] = tuple((str(g), int(t)) for g, t in document["grades"])
            self.base_points = int(document["base_points"])
            self._chars = tuple(_characteristic(f) for f in document["features"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ArtefactError(f"malformed scorecard: {exc}") from exc
        if self.pdo <= 0 or self.low >= self.high or not self.grades:
            raise ArtefactError("malformed scorecard: scaling, clip or grades")
        self.features = tuple(c.name for c in self._chars)
        self._by_name = {c.name: c for c in self._chars}

    def score_one(self, row: Mapping[str, Any]) -> ModelScore:
        """One row's score; reasons: the features furthest below their best bin, most costly first (at most 4)."""
        total = self.base_points
        shortfalls: list[tuple[int, int, str]] = []
        for i, c in enumerate(self._chars):
            p = c.points_of(row.get(c.name))
            total += p
            if p < c.best:
                shortfalls.append((p - c.best, i, c.name))
        shortfalls.sort()
        return ModelScore(points=min(max(total, self.low), self.high), pd=self.pd_of(total),
                          grade=self.grade_of(total), reasons=tuple(name for _, _, name in shortfalls[:4]))

    def score_batch(self, columns: Mapping[str, np.ndarray]) -> BatchScores:
        """Every row's points (clipped) and probability of default, vectorised per characteristic."""
        first = next(iter(columns.values()))
        total = np.full(len(first), self.base_points, dtype=np.int64)
        for c in self._chars:
            total += c.points_of_column(columns[c.name])
        log_odds = self.anchor_log_odds + (total - self.anchor_points) * math.log(2) / self.pdo
        return BatchScores(points=np.clip(total, self.low, self.high), pd=1.0 / (1.0 + np.exp(log_odds)))

    def pd_of(self, points: float) -> float:
        """The probability of default the (unclipped) points stand for."""
        log_odds = self.anchor_log_odds + (points - self.anchor_points) * math.log(2) / self.pdo
        return 1.0 / (1.0 + math.exp(log_odds))

    def grade_of(self, points: int) -> str:
        """The grade: the first whose threshold the points reach, else "E"."""
        for grade, threshold in self.grades:
            if points >= threshold:
                return grade
        return "E"

    def label(self, feature: str, lang: str) -> str:
        """The feature's words in `lang` (zh-CN or en), else its name."""
        c = self._by_name.get(feature)
        return (c.label.get(lang) or c.label.get("en") or feature) if c is not None else feature


def _characteristic(f: Mapping[str, Any]) -> _Characteristic:
    points = tuple(int(p) for p in f["points"])
    numeric = f["kind"] == "numeric"
    if not numeric and f["kind"] != "categorical":
        raise ArtefactError(f"unknown feature kind {f['kind']!r}")
    splits = tuple(float(s) for s in f.get("splits", ())) if numeric else ()
    categories = {str(k): int(v) for k, v in f.get("categories", {}).items()} if not numeric else {}
    if numeric and len(points) != len(splits) + 1:
        raise ArtefactError(f"{f['name']}: {len(splits)} splits need {len(splits) + 1} points")
    if list(splits) != sorted(splits) or any(not 0 <= v < len(points) for v in categories.values()):
        raise ArtefactError(f"{f['name']}: splits out of order or a category's bin out of range")
    missing = int(f["missing_points"])
    return _Characteristic(name=str(f["name"]), numeric=numeric, splits=splits, categories=categories,
                           points=points, missing_points=missing, best=max((*points, missing)),
                           label=dict(f.get("label", {})))


def category_index(column: np.ndarray, categories: Mapping[str, int], missing: int) -> np.ndarray:
    """Each value's bin (or code) by its text, `missing` for None, NaN and unseen categories.

    A numeric column is looked up once per distinct value (1,000,000 rows of a few codes cost
    milliseconds); other columns value by value. Integral floats are their integer's text.
    """
    x = np.asarray(column)
    if x.dtype.kind in "iu" and len(x) and int(x.max()) - int(x.min()) < 65_536:
        # Integer codes in a short range: one lookup table over the range, no sort.
        low = int(x.min())
        span = int(x.max()) - low + 1
        lut = np.fromiter((categories.get(str(low + i), missing) for i in range(span)), dtype=np.int64, count=span)
        return np.asarray(lut[x - low])
    if x.dtype.kind in "iuf":
        values, inverse = np.unique(x, return_inverse=True)
        lookup = np.fromiter((missing if v != v else categories.get(str(int(v)) if float(v).is_integer() else str(v),
                                                                    missing) for v in values.tolist()),
                             dtype=np.int64, count=len(values))
        result: np.ndarray = lookup[inverse.reshape(-1)]
        return result
    keys = x.astype(object)
    return np.fromiter((missing if k is None or k != k else categories.get(
        str(int(k)) if isinstance(k, float) and k.is_integer() else str(k), missing) for k in keys),
        dtype=np.int64, count=len(keys))


LOADERS: dict[str, Callable[[Mapping[str, Any]], ServingModel]] = {SCORECARD_FORMAT: Scorecard}
# Formats served by modules of their own, imported on first use (they register themselves).
FORMAT_MODULES = {"microcredit.lgbm/1": "microcredit.risk.learning.gbm",
                  "microcredit.mlp/1": "microcredit.risk.learning.mlp"}


def register_format(fmt: str, loader: Callable[[Mapping[str, Any]], ServingModel]) -> None:
    """Another kind of model (a tree ensemble, a network) joins `load` under its format name."""
    LOADERS[fmt] = loader


def columns_of(rows: Sequence[Mapping[str, Any]], features: Sequence[str]) -> dict[str, np.ndarray]:
    """Rows as the columns `score_batch` takes (missing values as NaN or None)."""
    return {name: np.asarray([r.get(name) for r in rows], dtype=object) for name in features}
