"""A tabular training set and its column spec: which column is the target, which are features.

An institution trains on its own history by writing a spec beside its file (CSV or Parquet)::

    {"target": "Y",                                # binary: 1 = default (bad), 0 = good
     "numeric": ["X1", "X5", "X6"],                # features read as numbers
     "categorical": ["X3", "X4"],                  # features read as text (2 and "2" are one category)
     "exclude": ["ID"],                            # in the file, never used
     "time": null,                                 # optional: a date/number column -> time-based split
     "protected": ["X2"],                          # never features; kept for the fairness tables
     "fairness": {"gender": "X2", "age": "X5"},    # optional groups for the fairness tables
     "age_bands": [25, 35, 45, 55],                # optional: band edges for the age column
     "labels": {"X1": {"zh-CN": "授信额度", "en": "credit limit"}}}

A column may be in at most one of numeric / categorical / exclude / protected; the target and
the time column are never features. Every named column must exist in the data, the target must
hold exactly the values 0 and 1. Anything else is a `SpecError` naming the column.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

DEFAULT_AGE_BANDS = (25, 35, 45, 55)


class SpecError(ValueError):
    """A column spec or a data file that cannot be trained on, with the reason in words."""


@dataclass(frozen=True)
class ColumnSpec:
    """What each column of a training set is (see the module docstring for the JSON form)."""

    target: str
    numeric: tuple[str, ...] = ()
    categorical: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    time: str | None = None
    protected: tuple[str, ...] = ()
    fairness: Mapping[str, str] = field(default_factory=dict)
    age_bands: tuple[float, ...] = DEFAULT_AGE_BANDS
    labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    @property
    def features(self) -> tuple[str, ...]:
        """The model's inputs, numeric first, in the spec's order."""
        return self.numeric + self.categorical

    def label(self, column: str) -> dict[str, str]:
        """The column's words in zh-CN and en (its name where the spec gives none)."""
        words = self.labels.get(column, {})
        return {"zh-CN": words.get("zh-CN") or words.get("en") or column, "en": words.get("en") or column}

    def to_json(self) -> dict[str, Any]:
        """The spec as the JSON document it was read from."""
        return {"target": self.target, "numeric": list(self.numeric), "categorical": list(self.categorical),
                "exclude": list(self.exclude), "time": self.time, "protected": list(self.protected),
                "fairness": dict(self.fairness), "age_bands": list(self.age_bands),
                "labels": {k: dict(v) for k, v in self.labels.items()}}

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> ColumnSpec:
        """A spec from its JSON document, checked for overlaps; data columns are checked by `load`."""
        if not isinstance(document, Mapping):
            raise SpecError("the spec must be a JSON object")
        target = document.get("target")
        if not isinstance(target, str) or not target:
            raise SpecError("the spec names no target column")

        def names(key: str) -> tuple[str, ...]:
            value = document.get(key, [])
            if not isinstance(value, Sequence) or isinstance(value, str) or not all(isinstance(v, str) for v in value):
                raise SpecError(f"spec field {key!r} must be a list of column names")
            return tuple(value)

        spec = cls(target=target, numeric=names("numeric"), categorical=names("categorical"),
                   exclude=names("exclude"), time=document.get("time") or None, protected=names("protected"),
                   fairness=dict(document.get("fairness") or {}),
                   age_bands=tuple(float(b) for b in document.get("age_bands") or DEFAULT_AGE_BANDS),
                   labels={str(k): dict(v) for k, v in (document.get("labels") or {}).items()})
        if not spec.features:
            raise SpecError("the spec names no feature (numeric or categorical)")
        seen: dict[str, str] = {}
        for role in ("numeric", "categorical", "exclude", "protected"):
            for column in getattr(spec, role):
                if column in seen:
                    raise SpecError(f"column {column!r} is both {seen[column]} and {role}")
                seen[column] = role
        for role, column in (("target", spec.target), ("time", spec.time)):
            if column is not None and seen.get(column) in ("numeric", "categorical"):
                raise SpecError(f"column {column!r} is the {role} and cannot be a feature")
        if list(spec.age_bands) != sorted(spec.age_bands):
            raise SpecError("age_bands must be in increasing order")
        return spec


def read_spec(path: str | Path) -> ColumnSpec:
    """The spec in a JSON file."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise SpecError(f"cannot read the spec {path}: {exc}") from exc
    return ColumnSpec.from_json(document)


def read_frame(path: str | Path) -> pd.DataFrame:
    """A CSV or Parquet file as a data frame, chosen by its extension."""
    p = Path(path)
    suffix = p.suffix.lower()
    try:
        if suffix == ".csv":
            return pd.read_csv(p)
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(p)
    except (OSError, ValueError) as exc:
        raise SpecError(f"cannot read {p}: {exc}") from exc
    raise SpecError(f"{p}: the data must be .csv or .parquet")


def category_text(column: pd.Series | np.ndarray) -> np.ndarray:
    """A categorical column as text (None where missing); 2, 2.0 and "2" are the same category."""
    out = np.empty(len(column), dtype=object)
    for i, v in enumerate(np.asarray(column, dtype=object)):
        if v is None or (isinstance(v, float) and np.isnan(v)):
            out[i] = None
        elif isinstance(v, (float, np.floating)) and float(v).is_integer():
            out[i] = str(int(v))
        else:
            out[i] = str(v)
    return out


@dataclass(frozen=True)
class Dataset:
    """A checked training set: the features (numeric as float, categorical as text), the target, the rest."""

    spec: ColumnSpec
    X: pd.DataFrame
    y: np.ndarray
    frame: pd.DataFrame  # the whole file, for the fairness groups and the time column

    def __len__(self) -> int:
        return len(self.y)


def prepare(frame: pd.DataFrame, spec: ColumnSpec) -> Dataset:
    """The spec applied to a frame: missing columns and a non-binary target are `SpecError`s."""
    named = [spec.target, *spec.features, *spec.exclude, *spec.protected, *spec.fairness.values()]
    if spec.time:
        named.append(spec.time)
    missing = [c for c in dict.fromkeys(named) if c not in frame.columns]
    if missing:
        raise SpecError(f"column(s) missing from the data: {', '.join(missing)}")
    target = frame[spec.target]
    if target.isna().any():
        raise SpecError(f"target {spec.target!r} has missing values")
    values = set(pd.unique(target).tolist())
    if not values <= {0, 1} or len(values) != 2:
        raise SpecError(f"target {spec.target!r} must be binary 0/1; found {sorted(map(str, values))[:5]}")
    features = pd.DataFrame(index=frame.index)
    for c in spec.numeric:
        try:
            features[c] = pd.to_numeric(frame[c], errors="raise").astype("float64")
        except (ValueError, TypeError) as exc:
            raise SpecError(f"numeric column {c!r} holds a value that is not a number: {exc}") from exc
    for c in spec.categorical:
        features[c] = category_text(frame[c])
    return Dataset(spec=spec, X=features.reset_index(drop=True), y=target.to_numpy().astype(np.int64),
                   frame=frame.reset_index(drop=True))


def load(data: str | Path, spec: str | Path | ColumnSpec) -> Dataset:
    """A data file and its spec (a path or a `ColumnSpec`), checked."""
    column_spec = spec if isinstance(spec, ColumnSpec) else read_spec(spec)
    return prepare(read_frame(data), column_spec)
