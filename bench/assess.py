"""The automated review's evaluation: assessments per second, compiled once against re-parsed each time.

    .venv/bin/python bench/assess.py [--applications 3000] [--seed 20261202]

Times `risk.evaluation.evaluate` — the default rule set over one application's
facts, the simulated ID check and credit report, the scorer and the decision —
for `--applications` seeded applications (the built-in samples, varied in
amount, income, velocity and ID number so the bureau simulator's mix shows):

- compiled: the rules compiled once (`compile_rules`, as the service caches them
  per version id), each stage's rules evaluated by one CEL program call;
- re-parsed (baseline): the same rules, the same facts, compiled again for every
  application (what evaluating without the per-version cache would cost).

The simulators' reports are made before the clock starts (a real bureau call is
I/O, not this code's cost); both paths read the same ones. The decisions of the
two paths must agree (`mismatches` must be 0). Median of 3 passes each.
Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import time
from dataclasses import replace

from microcredit.integrations.bureau import BureauReport, SimulatedBureau
from microcredit.integrations.id_check import IdCheck, SimulatedIdVerifier
from microcredit.lending.money import Money
from microcredit.risk import defaults, evaluation, samples
from microcredit.risk.assessment import ApplicantFacts, Velocity
from microcredit.risk.rules import compile_rules


def applications(n: int, seed: int) -> list[tuple[ApplicantFacts, IdCheck, BureauReport]]:
    """`n` varied applications with their ID check and report, made before timing."""
    rng = random.Random(seed)
    base = list(samples.samples().values())
    bureau, verifier = SimulatedBureau(), SimulatedIdVerifier()
    out = []
    for i in range(n):
        f = rng.choice(base)
        if rng.random() < 0.7:
            f = replace(f, id_number=samples.sample_id_number(f"{rng.randint(100, 899):03d}"))
        f = replace(f, application_number=f"B{i}", amount=Money(rng.randint(50, 800) * 10_000, "CNY"),
                    monthly_income=None if f.monthly_income is None else Money(rng.randint(30, 300) * 10_000, "CNY"),
                    velocity=Velocity(id_number_24h=rng.choice((1, 1, 1, 2, 3)), phone_24h=rng.choice((1, 1, 2))))
        out.append((f, verifier.verify(id_number=f.id_number, name=f.name),
                    bureau.report(id_number=f.id_number, name=f.name, on=f.submitted_at.date())))
    return out


def run(apps: list[tuple[ApplicantFacts, IdCheck, BureauReport]], *, reparse: bool) -> tuple[float, list[str]]:
    """Seconds for all applications and their decisions."""
    compiled = compile_rules("default@1", defaults.DEFAULT_RULES, defaults.DEFAULT_PARAMETERS)
    decisions = []
    start = time.perf_counter()
    for facts, check, report in apps:
        rules = compile_rules("default@1", defaults.DEFAULT_RULES, defaults.DEFAULT_PARAMETERS) if reparse \
            else compiled
        sources = evaluation.Sources(identity=lambda c=check: c, bureau=lambda r=report: r)
        decisions.append(evaluation.evaluate(rules, facts, sources).assessment.decision.value)
    return time.perf_counter() - start, decisions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--applications", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=20261202)
    args = parser.parse_args()
    apps = applications(args.applications, args.seed)
    run(apps[:200], reparse=False)  # warm-up
    compiled_s, compiled_decisions = [], []
    reparsed_s, reparsed_decisions = [], []
    for _ in range(3):
        seconds, compiled_decisions = run(apps, reparse=False)
        compiled_s.append(seconds)
        seconds, reparsed_decisions = run(apps, reparse=True)
        reparsed_s.append(seconds)
    n = len(apps)
    compiled_rate = n / statistics.median(compiled_s)
    reparsed_rate = n / statistics.median(reparsed_s)
    mismatches = sum(a != b for a, b in zip(compiled_decisions, reparsed_decisions, strict=True))
    mix = {d: compiled_decisions.count(d) for d in sorted(set(compiled_decisions))}
    print(f"applications: {n}   decisions: {mix}")
    print(f"compiled once per version: {compiled_rate:,.0f} assessments/s")
    print(f"re-parsed each time (baseline): {reparsed_rate:,.0f} assessments/s")
    print(f"speed-up: {compiled_rate / reparsed_rate:.1f}x   mismatches: {mismatches}")
    print(json.dumps({"bench": "assess", "applications": n, "compiled_per_s": round(compiled_rate),
                      "reparsed_per_s": round(reparsed_rate), "speedup": round(compiled_rate / reparsed_rate, 2),
                      "mismatches": mismatches, "decisions": mix, "load": os.getloadavg()[0]}))


if __name__ == "__main__":
    main()
