"""The early default table's read of the loans: every loan folded per request (before) against the kept figures.

    .venv/bin/python bench/early_defaults.py [--loans 300] [--rounds 5] [--data-dir DIR]

`GET /risk/early-defaults` asks servicing for each loan's worst days past due in its first 3 and 6 months.
Before, every request folded every loan paid out; `ServicingLoanOutcomes` now keeps each loan's figures by
its row's version and the date it is followed to, and folds only the loans that changed. A fresh SQLite
database is filled by the real operations (`bench/repayments.py`'s `_fill`: the demo and `--loans`
disbursed loans), then, in one process and one run:

- `before`: the memory cleared before each request, so every loan is folded (what the code did before);
- `kept`: nothing changed since the last request;
- `one_changed`: a repayment on one loan between requests (that loan is folded again).

Each figure is the least of `--rounds` requests' wall time (ms; the machine is shared). `--data-dir DIR`
measures an existing SQLite installation instead (e.g. a copy of the demo's: `DIR/microcredit.sqlite3`;
filling 300 loans takes many minutes on a loaded machine). The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--data-dir", help="an existing installation's directory (its microcredit.sqlite3) instead")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).parent))
    from microcredit.config import Settings
    from microcredit.lending.money import Money
    from microcredit.parties import service as parties
    from microcredit.platform.actor import Actor
    from microcredit.runtime import build_runtime
    from microcredit.servicing.service import loans
    from microcredit.servicing.service.history import ServicingLoanOutcomes
    from repayments import _fill

    began = time.perf_counter()
    if args.data_dir:
        tmp = Path(args.data_dir)
        url = f"sqlite:///{tmp / 'microcredit.sqlite3'}"
    else:
        tmp = Path(tempfile.mkdtemp(prefix="mc-bench-early-defaults-"))
        url = f"sqlite:///{tmp / 'bench.sqlite3'}"
        _fill({"MICROCREDIT_DATABASE_URL": url, "MICROCREDIT_DATA_DIR": str(tmp)}, args.loans)
    fill_s = time.perf_counter() - began
    runtime = build_runtime(Settings(database_url=url, data_dir=str(tmp)))
    with runtime.db.unit_of_work() as session:
        inst_id = parties.organisation.institution_by_code(session=session, code="DEMO").id
        ids = loans.active_ids(session=session, institution_id=inst_id)
    source = ServicingLoanOutcomes()

    def request() -> tuple[float, int]:
        with runtime.db.unit_of_work(write=False) as session:
            start = time.perf_counter()
            rows = source.outcomes(session, institution_id=inst_id)
            return 1000 * (time.perf_counter() - start), len(rows)

    def least(prepare: Any) -> tuple[float, int]:
        runs = []
        for n in range(args.rounds):
            prepare(n)
            runs.append(request())
        return min(r[0] for r in runs), runs[0][1]

    def pay(n: int) -> None:
        with runtime.db.unit_of_work() as session:
            loans.repay(session=session, clock=runtime.identity.clock, actor=Actor.system(inst_id),
                        institution_id=inst_id, loan_id=ids[n % len(ids)], amount=Money.parse("5.00", "CNY"),
                        idempotency_key=str(uuid.uuid4()))

    request()  # first-use costs (imports, the engine's caches)
    before, counted = least(lambda n: source.clear())
    request()
    kept, _ = least(lambda n: None)
    one_changed, _ = least(pay)
    runtime.close()
    where = f"existing database {url}" if args.data_dir else f"filled in {fill_s:.0f} s"
    print(f"loans paid out: {counted} ({where}), least of {args.rounds} requests")
    print(f"  before (every loan folded) {before:9.1f} ms")
    print(f"  kept, nothing changed      {kept:9.1f} ms   ({before / kept:.0f}x faster)")
    print(f"  kept, one loan repaid      {one_changed:9.1f} ms   ({before / one_changed:.0f}x faster)")
    print(json.dumps({"loans": counted, "before_ms": round(before, 2), "kept_ms": round(kept, 2),
                      "one_changed_ms": round(one_changed, 2), "speedup_kept": round(before / kept, 1),
                      "speedup_one_changed": round(before / one_changed, 1)}))


if __name__ == "__main__":
    main()
