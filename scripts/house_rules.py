"""House rules a grep can check (run by `make test`).

1. No `float(` anywhere in src, whatever the domain: money is `lending.money.Money`, rates are
   Decimal, and a binary float cannot hold 0.10 exactly. Except the learnt credit models
   (`risk/learning`): they hold probabilities, weights and scores, never money.
2. No NumPy float casts in money code (lending, servicing, ledger, products, collections,
   batch): `astype(float)`, `astype(np.float64)`, `np.float64(...)`, `dtype=float`, ...
3. No `date.today()`, `datetime.now()`, `datetime.utcnow()`, `time.time()` outside the clock:
   "today" comes from `microcredit.clock` (wall time) or the business date.
4. No `.commit(` outside the boundaries (the unit of work in db/engine.py; tests):
   services flush, the request or the command commits.
5. No SQL built from strings: no `text(f"...` / `text("..." %` / `.format(` inside `text(` in src.

A float rule may be waived on one line, with the reason, by a trailing comment
``# house-rules: allow float (why)`` -- the batch path's float estimate of the level
installment, guarded by an exact fallback, is such a line.  A waiver without a reason is
itself a violation.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "microcredit"
MONEY_DIRS = ("lending", "servicing", "ledger", "products", "collections", "batch")
CLOCK_OK = {SRC / "clock.py"}
FLOAT_OK_DIRS = (SRC / "risk" / "learning",)  # probabilities and model weights, never money
COMMIT_OK = {SRC / "db" / "engine.py"}
FLOAT_WAIVER = re.compile(r"#.*\bhouse-rules: allow float\b(?P<reason>\s*\(\s*[^)\s][^)]*\))?")

NUMPY_FLOAT = re.compile(
    r"astype\(\s*(float|np\.float\w*|numpy\.float\w*|np\.double|[\"']float\w*[\"'])"
    r"|\b(np|numpy)\.(float\w*|double|longdouble|half|single)\("
    r"|\bdtype\s*=\s*(float|np\.float\w*|numpy\.float\w*|np\.double|[\"']f\w*[\"'])"
)

Rule = tuple[str, re.Pattern[str], Callable[[Path], bool], bool]


def _in_money_code(path: Path) -> bool:
    return any(part in MONEY_DIRS for part in path.relative_to(SRC).parts)


RULES: list[Rule] = [
    # name, pattern, where it applies, whether a float waiver may lift it
    ("float in src", re.compile(r"\bfloat\("), lambda p: not any(p.is_relative_to(d) for d in FLOAT_OK_DIRS), True),
    ("NumPy float cast in money code", NUMPY_FLOAT, _in_money_code, True),
    (
        "'today' outside the clock",
        re.compile(r"\b(date\.today|datetime\.now|datetime\.utcnow|datetime\.today|time\.time)\("),
        lambda p: p not in CLOCK_OK,
        False,
    ),
    ("commit outside the boundary", re.compile(r"\.commit\("), lambda p: p not in COMMIT_OK, False),
    (
        "SQL built from a string",
        re.compile(r"\btext\(\s*(f[\"']|[\"'][^\"']*[\"']\s*(%|\.format))"),
        lambda p: True,
        False,
    ),
]


def check_line(path: Path, line: str) -> list[str]:
    """The rules `line` of `path` breaks (by name)."""
    code = line.split("#", 1)[0]
    waiver = FLOAT_WAIVER.search(line)
    broken = []
    for name, pattern, applies, waivable in RULES:
        if not applies(path) or not pattern.search(code):
            continue
        if waivable and waiver is not None and waiver.group("reason"):
            continue
        broken.append(name)
    if waiver is not None and not waiver.group("reason"):
        broken.append("float waiver without a reason")
    return broken


def check(root: Path = SRC) -> list[str]:
    """Every violation under `root` as 'path:line: rule: text'."""
    problems = []
    for path in sorted(root.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            for name in check_line(path, line):
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
