"""`microcredit schedule`: the table with the 888.49 schedule, and valid JSON with --json."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from microcredit.cli import app

EXAMPLE = Path(__file__).resolve().parents[3] / "docs" / "examples" / "equal_installment.json"
runner = CliRunner()


def test_schedule_prints_the_table_totals_and_apr() -> None:
    result = runner.invoke(app, ["schedule", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    assert result.output.count("888.49") == 11
    assert "888.47" in result.output
    assert "661.86" in result.output
    assert "APR 12.00 %" in result.output


def test_schedule_json_from_stdin() -> None:
    result = runner.invoke(app, ["schedule", "-", "--json"], input=EXAMPLE.read_text(encoding="utf-8"))
    assert result.exit_code == 0, result.output
    quote = json.loads(result.stdout)
    assert [row["total"] for row in quote["installments"]] == ["888.49"] * 11 + ["888.47"]
    assert quote["apr"]["apr_percent"] == "12.00"


def test_schedule_reports_invalid_fields(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            {
                "amount": 10000.5,
                "annual_rate": "12",
                "repayment_method": "bullet",
                "term": 12,
                "start_date": "2025-01-01",
            }
        ),
        encoding="utf-8",
    )
    result = runner.invoke(app, ["schedule", str(bad)])
    assert result.exit_code == 2
    assert "amount" in result.output
