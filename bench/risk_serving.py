"""The decision with a registered champion: assessments per second beside the interim scorer's.

    .venv/bin/python bench/risk_serving.py [--applications 2000] [--seed 20261203]

Times `risk.evaluation.evaluate` over the same seeded applications (bench/assess.py's mix) three ways:

- interim (baseline): the score stage reads the interim scorer, as without a champion;
- champion: the score stage reads the demo scorecard (`risk/registry/demo.py`) on the application's
  point-in-time feature row (`risk.features`, behaviour data from the simulator);
- champion + shadow: as above, and the review run a second time with the challenger's score, as
  `assess` does when there is a challenger.

The ID checks, credit reports and behaviour data are made before the clock starts (outside
services' I/O is not this code's cost). No database: storing the scores is one insert per model.
Median of 3 passes each. Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from assess import applications
from microcredit.integrations.behaviour import SimulatedBehaviourSource
from microcredit.risk import defaults, evaluation, features, scorer
from microcredit.risk.learning import artefact
from microcredit.risk.registry import demo
from microcredit.risk.rules import compile_rules


def run(apps, behaviours, models) -> tuple[float, list[str]]:  # type: ignore[no-untyped-def]
    """Seconds for every application under the given models (empty: the interim scorer)."""
    rules = compile_rules("default@1", defaults.DEFAULT_RULES, defaults.DEFAULT_PARAMETERS)
    decisions = []
    start = time.perf_counter()
    for (facts, check, report), behaviour in zip(apps, behaviours, strict=True):
        base = evaluation.Sources(identity=lambda c=check: c, bureau=lambda r=report: r)
        row: dict = {}
        for model in models or (None,):
            if model is None:
                sources = base
            else:
                def score(rep, bureau, dti, m=model, f=facts, b=behaviour, row=row):  # type: ignore[no-untyped-def]
                    if not row:
                        row.update(features.features(f, on=f.submitted_at.date(), report=rep, behaviour=b))
                    s = m.score_one(row)
                    return scorer.Score(s.points, s.grade, tuple(f"risk.reason.{x}" for x in s.reasons))
                sources = replace(base, score=score)
            decisions.append(evaluation.evaluate(rules, facts, sources).assessment.decision.value)
            if model is None or len(models) == 1:
                break
    return time.perf_counter() - start, decisions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--applications", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=20261203)
    args = parser.parse_args()
    apps = applications(args.applications, args.seed)
    source = SimulatedBehaviourSource()
    behaviours = [source.data(id_number=f.id_number, until=f.submitted_at.date()) for f, _, _ in apps]
    champion, challenger = (artefact.load(demo.blob(v), artefact.digest(demo.blob(v))) for v in (1, 2))
    ways = {"interim": [], "champion": [champion], "champion_shadow": [champion, challenger]}
    run(apps[:200], behaviours[:200], [champion])  # warm-up
    rates, mixes = {}, {}
    for name, models in ways.items():
        seconds = []
        for _ in range(3):
            s, decisions = run(apps, behaviours, models)
            seconds.append(s)
        rates[name] = len(apps) / statistics.median(seconds)
        mixes[name] = {d: decisions.count(d) for d in sorted(set(decisions))}
    n = len(apps)
    print(f"applications: {n}")
    for name in ways:
        print(f"{name:>16}: {rates[name]:,.0f} assessments/s   ({rates[name] / rates['interim']:.2f} of interim)")
    print(json.dumps({"bench": "risk_serving", "applications": n,
                      **{f"{k}_per_s": round(v) for k, v in rates.items()},
                      "champion_vs_interim": round(rates["champion"] / rates["interim"], 3),
                      "shadow_vs_interim": round(rates["champion_shadow"] / rates["interim"], 3),
                      "load": os.getloadavg()[0]}))


if __name__ == "__main__":
    main()
