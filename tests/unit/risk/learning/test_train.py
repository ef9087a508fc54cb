"""`microcredit risk synth` and `risk train` end to end on a small file, and the metrics they print."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from microcredit.risk.learning import artefact, metrics
from microcredit.risk.learning.cli import risk_app


def test_synth_then_train_writes_artefact_report_and_one_json_line(tmp_path):
    runner = CliRunner()
    data = tmp_path / "pop.csv"
    made = runner.invoke(risk_app, ["synth", "--rows", "3000", "--out", str(data), "--seed", "4"])
    assert made.exit_code == 0, made.output
    assert json.loads(made.output.strip().splitlines()[-1])["rows"] == 3000
    spec = tmp_path / "pop.spec.json"
    result = runner.invoke(risk_app, ["train", "--data", str(data), "--spec", str(spec), "--model", "scorecard",
                                      "--cv", "3", "--report", str(tmp_path / "out"), "--seed", "1"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert {"auc", "ks", "gini", "brier", "artefact", "sha256", "model"} <= summary.keys()
    assert 0.7 < summary["auc"] < 0.95
    assert summary["gini"] == pytest.approx(2 * summary["auc"] - 1, abs=1e-3)
    blob = (tmp_path / "out" / "model.json").read_bytes()
    assert (tmp_path / "out" / "model.json.sha256").read_text().strip() == summary["sha256"] == artefact.digest(blob)
    assert artefact.load(blob, summary["sha256"]).kind == "scorecard"
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["split"] == "time"  # the synthetic spec names the month of application
    assert [g["group"] for g in report["fairness"]["gender"]] == ["F", "M"]
    assert "gender" not in report["bins"]  # protected: never a feature
    html = (tmp_path / "out" / "report.html").read_text()
    assert html.count("<svg") == 2
    assert "校准" in html
    assert "http" not in html.replace("http://www.w3.org/2000/svg", "")  # self-contained: nothing fetched


def test_a_bad_spec_is_an_error_message_not_a_traceback(tmp_path):
    (tmp_path / "d.csv").write_text("a,y\n1,0\n2,1\n")
    (tmp_path / "s.json").write_text(json.dumps({"target": "y", "numeric": ["a", "b"]}))
    result = CliRunner().invoke(risk_app, ["train", "--data", str(tmp_path / "d.csv"), "--spec",
                                           str(tmp_path / "s.json"), "--report", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "missing from the data: b" in result.output


def test_metrics_on_known_figures():
    y = np.array([0, 0, 1, 1])
    assert metrics.auc(y, np.array([0.1, 0.4, 0.35, 0.8])) == 0.75
    assert metrics.ks(y, np.array([0.1, 0.2, 0.3, 0.4])) == 1.0
    assert metrics.brier(y, np.array([0.0, 0.0, 1.0, 0.5])) == pytest.approx(0.0625)
    rng = np.random.default_rng(0)
    base = rng.normal(size=20_000)
    assert metrics.psi(base, rng.normal(size=20_000)) < 0.01
    assert metrics.psi(base, rng.normal(1.0, 1.0, size=20_000)) > 0.25
    assert metrics.age_band(np.array([20, 25, 44, 70, np.nan]), [25, 35, 45, 55]).tolist() == [
        "<25", "25–34", "35–44", "55+", "unknown"]
