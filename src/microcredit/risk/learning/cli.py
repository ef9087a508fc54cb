"""`microcredit risk …`: train and validate credit models, make a synthetic population.

    microcredit risk train --data FILE --spec SPEC --model scorecard|lgbm|mlp --cv 5 --report DIR [--seed N]
    microcredit risk synth --rows 100000 --out FILE.csv|FILE.parquet [--seed N]

Each prints its figures and ends with one JSON line. The libraries load when a command runs,
not when the `microcredit` command starts.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

risk_app = typer.Typer(help="Credit risk models: training, validation, a synthetic population.", no_args_is_help=True)


@risk_app.command("train")
def train_command(
    data: Annotated[Path, typer.Option("--data", help="the training set, .csv or .parquet")],
    spec: Annotated[Path, typer.Option("--spec", help="its column spec (JSON; docs/risk.md)")],
    model: Annotated[str, typer.Option("--model", help="scorecard, lgbm or mlp")] = "scorecard",
    cv: Annotated[int, typer.Option("--cv", help="cross-validation folds")] = 5,
    report: Annotated[Path, typer.Option("--report", help="directory for model.json and the report")] = Path("report"),
    seed: Annotated[int, typer.Option("--seed")] = 0,
    lang: Annotated[str, typer.Option("--lang", help="report language: zh-CN or en")] = "zh-CN",
) -> None:
    """Cross-validate a model, fit it on every row, write its artefact and validation report."""
    from microcredit.risk.learning import spec as spec_module
    from microcredit.risk.learning.train import train

    try:
        dataset = spec_module.load(data, spec)
        summary = train(dataset, kind=model, cv=cv, seed=seed, out=report, lang=lang)
    except spec_module.SpecError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"{model}: AUC {summary['auc']:.4f}  KS {summary['ks']:.4f}  Gini {summary['gini']:.4f}  "
               f"Brier {summary['brier']:.4f}  ({summary['rows']} rows, {cv}-fold)")
    typer.echo(f"artefact {summary['artefact']}  sha256 {summary['sha256']}")
    typer.echo(json.dumps(summary, ensure_ascii=False))
    sys.stdout.flush()


@risk_app.command("synth")
def synth_command(
    out: Annotated[Path, typer.Option("--out", help="FILE.csv or FILE.parquet; the spec goes beside it")],
    rows: Annotated[int, typer.Option("--rows")] = 100_000,
    seed: Annotated[int, typer.Option("--seed")] = 0,
) -> None:
    """Borrowers drawn from the documented default model; writes the data, its spec and the true PD."""
    from microcredit.risk.learning import synth

    if out.suffix.lower() not in (".csv", ".parquet"):
        typer.echo("error: --out must end in .csv or .parquet", err=True)
        raise typer.Exit(2)
    summary = synth.write(out, rows=rows, seed=seed)
    typer.echo(f"{summary['rows']} borrowers, default rate {summary['default_rate']:.4f}, "
               f"true model AUC {summary['true_auc']:.4f} → {out}, spec {summary['spec']}")
    typer.echo(json.dumps(summary, ensure_ascii=False))
