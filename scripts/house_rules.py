"""House rules a grep can check (run by `make test`).

1. No `float(` in money code (lending, servicing, ledger, products): money is Decimal.
2. No `date.today()`, `datetime.now()`, `datetime.utcnow()`, `time.time()` outside the clock:
   "today" comes from `microcredit.clock` (wall time) or the business date.
3. No `.commit(` outside the boundaries (the unit of work in db/engine.py; tests):
   services flush, the request or the command commits.
4. No SQL built from strings: no `text(f"...` / `text("..." %` / `.format(` inside `text(` in src.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "microcredit"
MONEY_DIRS = ("lending", "servicing", "ledger", "products")
CLOCK_OK = {SRC / "clock.py"}
COMMIT_OK = {SRC / "db" / "engine.py"}

RULES = [
    ("float in money code", re.compile(r"\bfloat\("), lambda p: any(part in MONEY_DIRS for part in p.parts)),
    (
        "'today' outside the clock",
        re.compile(r"\b(date\.today|datetime\.now|datetime\.utcnow|datetime\.today|time\.time)\("),
        lambda p: p not in CLOCK_OK,
    ),
    ("commit outside the boundary", re.compile(r"\.commit\("), lambda p: p not in COMMIT_OK),
    ("SQL built from a string", re.compile(r"\btext\(\s*(f[\"']|[\"'][^\"']*[\"']\s*(%|\.format))"), lambda p: True),
]


def check() -> list[str]:
    """Every violation as 'path:line: rule: text'."""
    problems = []
    for path in sorted(SRC.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            code = line.split("#", 1)[0]
            for name, pattern, applies in RULES:
                if applies(path) and pattern.search(code):
                    problems.append(f"{path.relative_to(ROOT)}:{number}: {name}: {line.strip()}")
    return problems


def main() -> int:
    problems = check()
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} house-rule violation(s)")
        return 1
    print("house rules: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
