"""The house rules catch floats in every domain and NumPy float casts in money code."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _rules() -> ModuleType:
    spec = importlib.util.spec_from_file_location("house_rules", ROOT / "scripts" / "house_rules.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


RULES = _rules()
SRC = RULES.SRC


@pytest.mark.parametrize(
    ("where", "line", "broken"),
    [
        ("parties/service/borrowers.py", "income = float(value)", ["float in src"]),
        ("identity/service/sessions.py", "ratio = float(a) / b", ["float in src"]),
        ("lending/batch.py", "p = loans.principal.astype(float)", ["NumPy float cast in money code"]),
        ("lending/batch.py", "p = loans.principal.astype(np.float64)", ["NumPy float cast in money code"]),
        ("products/service.py", "x = np.float64(amount)", ["NumPy float cast in money code"]),
        ("lending/batch.py", "grid = np.zeros(n, dtype=float)", ["NumPy float cast in money code"]),
        ("lending/batch.py", 'grid = np.zeros(n, dtype="f8")', ["NumPy float cast in money code"]),
        ("identity/models.py", "a = b.astype(float)", []),  # not money code (still no float( there)
        ("lending/batch.py", "p = q.astype(np.int64)", []),
        ("lending/batch.py", "p = q.astype(np.float64)  # house-rules: allow float (an estimate)", []),
        ("lending/batch.py", "p = q.astype(np.float64)  # house-rules: allow float",
         ["NumPy float cast in money code", "float waiver without a reason"]),
        ("lending/money.py", "# float(x) in a comment is not code", []),
        ("api/app.py", "now = datetime.now()", ["'today' outside the clock"]),
    ],
)
def test_rules_on_single_lines(where: str, line: str, broken: list[str]) -> None:
    assert RULES.check_line(SRC / where, line) == broken


def test_the_code_base_keeps_the_rules() -> None:
    assert RULES.check() == []
