"""The loan calculator on the command line: `microcredit schedule [FILE|-] [--json]`.

Reads a loan description (JSON, see docs/lending-engine.md) from a file or
standard input and prints the schedule table, the totals and the APR -- or
the quote as JSON with ``--json``.  Mounted on the main `microcredit` app as
the ``schedule`` command; `schedule_app` runs it on its own.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from microcredit.errors import DomainError
from microcredit.products import service
from microcredit.products.schemas import LoanDescription, QuoteRead, parse_loan_replay

__all__ = ["load_description", "render_quote", "replay_command", "schedule_app", "schedule_command"]

schedule_app = typer.Typer(add_completion=False)


def load_description(source: str) -> LoanDescription:
    """Read and validate a loan description from a path, or from stdin when `source` is "-"."""
    text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    return LoanDescription.model_validate_json(text)


def render_quote(quote: QuoteRead, console: Console) -> None:
    """Print a quote as a schedule table, totals, fees, APR and warnings."""
    table = Table(title=f"Repayment schedule ({quote.repayment_method}, {quote.currency})")
    if quote.installments:
        for name in ("#", "due date", "days", "principal", "interest", "fees", "total", "balance"):
            table.add_column(name, justify="right")
        for row in quote.installments:
            table.add_row(
                str(row.number),
                row.due_date.isoformat(),
                str(row.days),
                str(row.principal),
                str(row.interest),
                str(row.fees),
                str(row.total),
                str(row.balance_after),
            )
    else:
        for name in ("from", "to", "days", "balance", "interest"):
            table.add_column(name, justify="right")
        for segment in quote.segments:
            table.add_row(
                segment.start.isoformat(),
                segment.end.isoformat(),
                str(segment.days),
                str(segment.balance),
                str(segment.interest),
            )
    console.print(table)
    totals = quote.totals
    console.print(
        f"principal {totals.principal}  interest {totals.interest}  fees {totals.fees}  "
        f"total payable {totals.total_payable}"
    )
    console.print(f"cash received {totals.net_cash_received}  cost of credit {totals.total_cost_of_credit}")
    for fee in quote.fees:
        console.print(f"fee {fee.name} ({fee.kind}, to {fee.payee}): {fee.per_charge} x {fee.charges} = {fee.total}")
    apr = quote.apr
    console.print(
        f"[bold]APR {apr.apr_percent} %[/bold] ({apr.method}; nominal "
        f"{apr.nominal_annual_rate_percent} %, EAR {apr.ear_percent} %)"
    )
    for warning in quote.warnings:
        console.print(f"[yellow]warning[/yellow] {warning.code}: {warning.message}")


def _read_source(source: str) -> str:
    return sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")


def _print_problems(out: Console, exc: ValidationError, whole: str) -> None:
    for error in exc.errors():
        field = ".".join(str(p) for p in error["loc"]) or whole
        out.print(f"[red]error:[/red] {field}: {error['msg']} (code {error['type']})")


def replay_command(source: str = "-", *, console: Console | None = None) -> None:
    """Fold the loan (terms and events, JSON) in `source` into its state and print it as JSON."""
    out = console or Console(stderr=True)
    try:
        document = parse_loan_replay(_read_source(source))
        state = service.replay.replay(document, calendars=service.offline_calendars)
    except ValidationError as exc:
        _print_problems(out, exc, "document")
        raise typer.Exit(2) from None
    except DomainError as exc:
        where = f"{exc.field}: " if exc.field else ""
        out.print(f"[red]error:[/red] {where}{exc.message('en')}")
        raise typer.Exit(2) from None
    except OSError as exc:
        out.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    sys.stdout.write(state.model_dump_json(indent=2) + "\n")


def schedule_command(source: str = "-", *, as_json: bool = False, console: Console | None = None) -> None:
    """Quote the loan description in `source` and print it (a table, or JSON)."""
    out = console or Console()
    try:
        # No database here: holidays come from the chinesecalendar package (2004-2026 in v1.11), not
        # from an institution's maintained calendar as in the API (docs/calendar.md).
        quote = service.quote(description=load_description(source), calendars=service.offline_calendars)
    except ValidationError as exc:
        for error in exc.errors():
            field = ".".join(str(p) for p in error["loc"]) or "description"
            out.print(f"[red]error:[/red] {field}: {error['msg']}")
        raise typer.Exit(2) from None
    except DomainError as exc:
        out.print(f"[red]error:[/red] {exc.message('en')}")
        raise typer.Exit(2) from None
    except OSError as exc:
        out.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    if as_json:
        sys.stdout.write(quote.model_dump_json(indent=2) + "\n")
    else:
        render_quote(quote, out)


@schedule_app.command()
def schedule(
    source: Annotated[str, typer.Argument(help="Loan description JSON file, or - for stdin")] = "-",
    as_json: Annotated[bool, typer.Option("--json", help="Print the quote as JSON")] = False,
) -> None:
    """Print the repayment schedule, totals and APR of a loan description."""
    schedule_command(source, as_json=as_json)
