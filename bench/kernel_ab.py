"""Two versions of the fold's integer kernel on the same loans, taking turns, in one process.

    .venv/bin/python bench/kernel_ab.py --before /work/main/src/microcredit/lending/loan/kernel.py \\
        [--loans 300] [--rounds 7] [--seed 20261202]

`--before` is another checkout's `lending/loan/kernel.py` (the baseline), loaded beside this
checkout's `loan.kernel` (both on this checkout's shared functions).  Each round folds the
same loans of `bench/replay.py` by both (the order alternating), then makes the states
(`.state()`, what `loan.fold` returns), then reads every field a state may give lazily
(`replay.LAZY_FIELDS`: nothing left to make where the kernel makes them all at once); the
states must be equal.  On a shared machine the wall clock counts other processes' time, so
the figures are CPU seconds of this process, median and best over the rounds.  Last line: one
JSON object.  Not a test.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import replay
from microcredit.lending.loan import kernel


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="the baseline kernel.py")
    parser.add_argument("--loans", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--seed", type=int, default=20261202)
    args = parser.parse_args()
    spec = importlib.util.spec_from_file_location("kernel_before", args.before)
    assert spec is not None
    assert spec.loader is not None
    before = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(before)
    rng = random.Random(args.seed)
    cases = [replay._case(rng) for _ in range(args.loans)]
    events = sum(len(c.events) for c in cases)
    times: dict[str, tuple[list[float], list[float], list[float]]] = {"before": ([], [], []), "after": ([], [], [])}
    for round_ in range(args.rounds):
        states = {}
        paths = [("before", before), ("after", kernel)]
        for name, module in paths if round_ % 2 else paths[::-1]:
            gc.collect()
            start = time.process_time()
            folded = [module.try_fold(c.terms, c.events, as_of=c.as_of) for c in cases]
            middle = time.process_time()
            states[name] = [f.state() if f is not None else None for f in folded]
            end = time.process_time()
            for state in states[name]:
                for field in replay.LAZY_FIELDS:
                    getattr(state, field)
            read = time.process_time()
            times[name][0].append(middle - start)
            times[name][1].append(end - middle)
            times[name][2].append(read - end)
        if states["before"] != states["after"]:
            raise SystemExit("the two kernels disagree")
    result: dict[str, object] = {"loans": args.loans, "events": events, "rounds": args.rounds}
    print(f"{args.loans:,} loans, {events:,} events, {args.rounds} rounds; events per CPU second")
    print(f"{'kernel':8} {'fold median':>12} {'fold best':>10} {'fold+state':>11} {'+read all':>10} "
          f"{'state us/loan':>14} {'read all us/loan':>17}")
    for name, (fold, state, read) in times.items():
        fold_median = sorted(fold)[len(fold) // 2]
        state_median = sorted(state)[len(state) // 2]
        read_median = sorted(read)[len(read) // 2]
        figures = {
            "fold_events_per_cpu_s": round(events / fold_median),
            "fold_events_per_cpu_s_best": round(events / min(fold)),
            "fold_and_state_events_per_cpu_s": round(events / (fold_median + state_median)),
            "fold_state_read_all_events_per_cpu_s": round(events / (fold_median + state_median + read_median)),
            "state_us_per_loan": round(state_median / args.loans * 1e6),
            "read_all_us_per_loan": round(read_median / args.loans * 1e6),
        }
        result[name] = figures
        print(f"{name:8} {figures['fold_events_per_cpu_s']:>12,} {figures['fold_events_per_cpu_s_best']:>10,} "
              f"{figures['fold_and_state_events_per_cpu_s']:>11,} "
              f"{figures['fold_state_read_all_events_per_cpu_s']:>10,} {figures['state_us_per_loan']:>14,} "
              f"{figures['read_all_us_per_loan']:>17,}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
