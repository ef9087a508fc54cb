"""`microcredit cob run / status / retry / scheduler` on the demo installation (a temporary SQLite file)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

from typer.testing import CliRunner

from microcredit.cli import app as cli
from tests.conftest import fresh_database_url


def test_the_cob_commands_close_dates_in_order_show_them_and_refuse_a_date_twice(worker_tmp: Path) -> None:
    data = worker_tmp / "cob-cli-data"
    data.mkdir(exist_ok=True)
    env = {"MICROCREDIT_DATABASE_URL": fresh_database_url("sqlite", worker_tmp, "_cob_cli"),
           "MICROCREDIT_DATA_DIR": str(data), "MICROCREDIT_MODE": "test", "MICROCREDIT_LOG_LEVEL": "WARNING",
           "COLUMNS": "200"}
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(cli, list(args), env=env)
        assert result.exit_code == code, (args, result.output, result.exception)
        return " ".join(result.output.split())

    run("demo", "--no-serve")
    today = date.fromisoformat(re.search(r"business date of DEMO: (\S+)", run("cob", "status")).group(1))
    until = today + timedelta(days=2)
    out = run("cob", "run", "--until", until.isoformat())
    for n in (1, 2):
        assert f"{today + timedelta(days=n)}: done" in out
    status = run("cob", "status")
    assert f"business date of DEMO: {until}" in status
    assert status.count(" done ") == 2
    # A date already closed is refused, naming the business date.
    refused = run("cob", "run", "--date", until.isoformat(), code=1)
    assert f"after the business date {until}" in refused
    assert "ok: every entry balances" in run("ledger", "verify")
    first, latest = re.findall(r"\(run (\d+)\)", out)
    assert "0 loan(s) fixed, 0 still failing" in run("cob", "retry", latest)
    assert "Only the latest close of business" in run("cob", "retry", first, code=1)
    # The scheduler needs a close time; with one, a look closes nothing here: the business date is ahead.
    assert "set MICROCREDIT_COB_CLOSE_AT" in run("cob", "scheduler", "--once", code=1)
    env["MICROCREDIT_COB_CLOSE_AT"] = "00:00"
    looked = run("cob", "scheduler", "--once")
    assert "close of business at 00:00" in looked
    assert "closed" not in looked
    assert f"business date of DEMO: {until}" in run("cob", "status")
