"""The column spec and the data it describes: bad specs and bad data are refused with the column named."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from microcredit.risk.learning import spec as spec_module
from microcredit.risk.learning.spec import ColumnSpec, SpecError

GOOD = {"target": "bad", "numeric": ["income"], "categorical": ["region"], "exclude": ["id"],
        "protected": ["gender"], "fairness": {"gender": "gender"}}


def frame() -> pd.DataFrame:
    return pd.DataFrame({"id": [1, 2, 3, 4], "income": [1000, 2500.5, None, 900], "region": [1, 2, 2.0, None],
                         "gender": ["F", "M", "F", "M"], "bad": [0, 1, 0, 1]})


@pytest.mark.parametrize(("change", "message"), [
    ({"target": None}, "no target"),
    ({"numeric": [], "categorical": []}, "no feature"),
    ({"numeric": ["income", "gender"]}, "both numeric and protected"),
    ({"categorical": ["region", "income"]}, "both numeric and categorical"),
    ({"numeric": ["income", "bad"]}, "the target"),
    ({"numeric": "income"}, "list of column names"),
])
def test_a_contradictory_spec_is_refused(change, message):
    with pytest.raises(SpecError, match=message):
        ColumnSpec.from_json({**GOOD, **change})


def test_missing_columns_and_a_non_binary_target_are_refused_by_name():
    spec = ColumnSpec.from_json({**GOOD, "numeric": ["income", "age"]})
    with pytest.raises(SpecError, match="missing from the data: age"):
        spec_module.prepare(frame(), spec)
    with pytest.raises(SpecError, match="binary"):
        spec_module.prepare(frame().assign(bad=[0, 1, 2, 1]), ColumnSpec.from_json(GOOD))
    with pytest.raises(SpecError, match="binary"):
        spec_module.prepare(frame().assign(bad=[0, 0, 0, 0]), ColumnSpec.from_json(GOOD))
    with pytest.raises(SpecError, match="not a number"):
        spec_module.prepare(frame().assign(income=["1", "x", "2", "3"]), ColumnSpec.from_json(GOOD))


def test_csv_and_parquet_load_alike_and_categories_are_text(tmp_path):
    frame().to_csv(tmp_path / "d.csv", index=False)
    frame().to_parquet(tmp_path / "d.parquet", index=False)
    (tmp_path / "s.json").write_text(__import__("json").dumps(GOOD))
    a = spec_module.load(tmp_path / "d.csv", tmp_path / "s.json")
    b = spec_module.load(tmp_path / "d.parquet", tmp_path / "s.json")
    assert list(a.X.columns) == ["income", "region"]  # never the id, never gender
    assert list(a.X["region"][:3]) == ["1", "2", "2"] == list(b.X["region"][:3])
    assert pd.isna(a.X["region"][3])
    assert pd.isna(b.X["region"][3])
    assert np.isnan(a.X["income"][2])
    assert a.y.tolist() == [0, 1, 0, 1]
    with pytest.raises(SpecError, match=r"\.csv or \.parquet"):
        spec_module.load(tmp_path / "d.xlsx", tmp_path / "s.json")
