"""`microcredit ledger verify` and `ledger export`, checked by beancount's own `bean-check`.

The export must pass bean-check, and a deliberately broken copy must fail it
(so this test can fail); verify must pass on sound books and name the entry
whose lines were altered behind the service's back.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from microcredit.cli import app as cli
from microcredit.db.copy import COPY_MIN_ROWS
from microcredit.ledger import service as ledger
from microcredit.ledger.models import JournalLine
from microcredit.lending.money import Money
from microcredit.parties import service as parties
from microcredit.platform.actor import Actor
from microcredit.runtime import build_runtime
from tests.conftest import fresh_database_url, make_settings

BEAN_CHECK = Path(sys.executable).parent / "bean-check"
D, C = ledger.Side.DEBIT, ledger.Side.CREDIT


def bean_check(path: Path) -> subprocess.CompletedProcess[str]:
    """Run beancount's checker on a file."""
    return subprocess.run([str(BEAN_CHECK), str(path)], capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture
def books(worker_tmp: Path) -> dict[str, str]:
    """A migrated SQLite installation with one institution's books: capital, a loan, a reversal, cash-only interest."""
    url = fresh_database_url("sqlite", worker_tmp, "_ledger_cli")
    env = {"MICROCREDIT_DATABASE_URL": url, "MICROCREDIT_DATA_DIR": str(worker_tmp), "MICROCREDIT_MODE": "test",
           "MICROCREDIT_LOG_LEVEL": "WARNING", "COLUMNS": "200"}
    assert CliRunner().invoke(cli, ["migrate"], env=env).exit_code == 0
    runtime = build_runtime(make_settings(worker_tmp, database_url=url))
    try:
        with runtime.db.unit_of_work() as session:
            inst = parties.organisation.create_institution(
                session=session, clock=runtime.clock, actor=Actor.system(), code="BOOKS", name="账簿机构",
                business_date=date(2026, 11, 25))

            def post(day: date, *lines: tuple[str, ledger.Side, int], basis: str = "both",
                     text: str = 'Capital "A" \\ 注资') -> int:
                return ledger.post(session=session, clock=runtime.clock, actor=Actor.system(inst.id),
                                   institution_id=inst.id, business_date=day, description=text, basis=basis,
                                   postings=[ledger.Posting(code, side, Money(minor, "CNY"))
                                             for code, side, minor in lines]).id

            post(date(2026, 11, 1), ("1002", D, 50_000_000), ("4001", C, 50_000_000))
            loan = post(date(2026, 11, 2), ("130101", D, 800_000), ("1002", C, 800_000), text="放款")
            ledger.reverse(session=session, clock=runtime.clock, actor=Actor.system(inst.id),
                           institution_id=inst.id, entry_id=loan)
            post(date(2026, 11, 3), ("1002", D, 5_000), ("6011", C, 5_000), basis="cash", text="利息")
            post(date(2026, 11, 3), ("1132", D, 5_000), ("6011", C, 5_000), basis="accrual", text="计提利息")
    finally:
        runtime.close()
    return env


def test_verify_passes_and_the_export_passes_bean_check(books, worker_tmp):
    runner = CliRunner()
    result = runner.invoke(cli, ["ledger", "verify"], env=books)
    assert result.exit_code == 0, result.output
    assert "5 entries" in result.output
    assert "1 reversals" in result.output
    assert "0 control account balance(s)" in result.output  # no loans: nothing to compare

    for basis in ("accrual", "cash"):
        out = worker_tmp / f"books-{basis}.beancount"
        result = runner.invoke(cli, ["ledger", "export", "--format", "beancount", "--institution", "BOOKS",
                                     "--basis", basis, "-o", str(out)], env=books)
        assert result.exit_code == 0, result.output
        text = out.read_text(encoding="utf-8")
        assert "open Assets:BOOKS:1002-Bank-Deposits CNY" in text
        assert "open Assets:BOOKS:1304-Loan-Loss-Provision CNY" in text
        assert '  source: "reversal"' in text
        assert "  Assets:BOOKS:130101-Loan-Portfolio-Principal  -8000.00 CNY" in text
        assert ("计提利息" in text) == (basis == "accrual")
        checked = bean_check(out)
        assert checked.returncode == 0, checked.stdout + checked.stderr

    # A broken copy fails: one posting's amount changed, so its transaction no longer balances.
    good = (worker_tmp / "books-accrual.beancount").read_text(encoding="utf-8")
    broken = worker_tmp / "broken.beancount"
    broken.write_text(good.replace("  Equity:BOOKS:4001-Paid-In-Capital  -500000.00 CNY",
                                   "  Equity:BOOKS:4001-Paid-In-Capital  -499999.99 CNY"), encoding="utf-8")
    assert broken.read_text(encoding="utf-8") != good
    failed = bean_check(broken)
    assert failed.returncode != 0
    assert "balance" in (failed.stdout + failed.stderr).lower()


def test_verify_names_an_entry_altered_behind_the_services_back(books, worker_tmp):
    runtime = build_runtime(make_settings(worker_tmp, database_url=books["MICROCREDIT_DATABASE_URL"]))
    try:
        with runtime.db.unit_of_work() as session:  # a line changed in place: each row still passes its CHECK
            session.execute(update(JournalLine).where(JournalLine.entry_id == 1, JournalLine.line_no == 1)
                            .values(debit_minor=49_999_999))
    finally:
        runtime.close()
    result = CliRunner().invoke(cli, ["ledger", "verify"], env=books)
    assert result.exit_code == 1
    flat = " ".join(result.output.split())
    assert "entry 1 (institution" in flat
    assert "does not balance in CNY" in flat
    assert "do not add up to its stored totals" in flat


@pytest.mark.parametrize("server", ["postgresql", "sqlite"])
def test_a_batch_written_at_once_passes_verify_audit_verify_and_bean_check(server, worker_tmp):
    """A close of business's shape -- one post_many of more entries than `db.copy.COPY_MIN_ROWS`, COPY on
    PostgreSQL -- checked by the tools that read the books: `ledger verify`, `audit verify`, bean-check."""
    url = fresh_database_url(server, worker_tmp, "_ledger_batch")
    env = {"MICROCREDIT_DATABASE_URL": url, "MICROCREDIT_DATA_DIR": str(worker_tmp), "MICROCREDIT_MODE": "test",
           "MICROCREDIT_LOG_LEVEL": "WARNING", "COLUMNS": "200"}
    runner = CliRunner()
    assert runner.invoke(cli, ["migrate"], env=env).exit_code == 0
    runtime = build_runtime(make_settings(worker_tmp, database_url=url))
    n = COPY_MIN_ROWS + 3
    try:
        with runtime.db.unit_of_work() as session:
            inst = parties.organisation.create_institution(
                session=session, clock=runtime.clock, actor=Actor.system(), code="BATCH", name="批量机构",
                business_date=date(2026, 11, 25))
            ledger.posting.post_many(
                session=session, clock=runtime.clock, actor=Actor.system(inst.id), institution_id=inst.id,
                business_date=date(2026, 11, 25), drafts=[ledger.posting.Draft(
                    f"贷款损失准备 L{k} / loan loss provision",
                    [ledger.Posting("6701", D, Money(100 + k, "CNY")),
                     ledger.Posting("1304", C, Money(100 + k, "CNY"))],
                    ledger.Source("cob_provision", f"{k}:2026-11-25:0:{100 + k}"), "accrual") for k in range(n)])
    finally:
        runtime.close()
    result = runner.invoke(cli, ["ledger", "verify"], env=env)
    assert result.exit_code == 0, result.output
    assert f"{n} entries" in result.output
    result = runner.invoke(cli, ["audit", "verify"], env=env)
    assert result.exit_code == 0, result.output
    out = worker_tmp / f"batch-{server}.beancount"
    result = runner.invoke(cli, ["ledger", "export", "--format", "beancount", "--institution", "BATCH",
                                 "--basis", "accrual", "-o", str(out)], env=env)
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").count("贷款损失准备 L") == n
    checked = bean_check(out)
    assert checked.returncode == 0, checked.stdout + checked.stderr
