"""Golden cases from Apache Fineract's own tests, read into simple values.

The JSON files in ``cases/`` hold what Fineract's tests assert (see
``docs/fineract-profile.md`` for the rules behind the numbers and how each file
was made).  One file per Fineract source file; each case names the file, the
commit, the scenario or test method and its line range.

A case is a loan (or a calculator) described in Fineract's own parameter
names (``terms``), an ordered list of ``events`` (what the test does, with its
dates and amounts), and ``expected`` checkpoints: after ``after_event`` events
have been applied, with the business date then, the test asserts the values of
each key of ``assertions`` — and nothing else.  Amounts are decimal strings
(never floats); a ``None`` inside an asserted row means Fineract leaves that
field out and the test asserts that.

Standard library only.  Example::

    from tests.unit.lending.fineract.cases import load_all

    for case in load_all():
        if "progressive" in case.features:
            ...
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

CASES_DIR = Path(__file__).resolve().parent / "cases"
COMMIT = "4198b0bcf9a94e1c7aa0f386317ba71f40ceb1d9"
REPOSITORY = "apache/fineract"

KINDS = {
    "loan": "a loan driven through Fineract's API (e2e features, integration tests)",
    "emi_calculator": "ProgressiveEMICalculator driven directly (ProgressiveEMICalculatorTest)",
    "emi_rate_factor": "the calculator's rate-factor and fn functions (ProgressiveEMICalculatorTest)",
    "progressive_schedule": "ProgressiveLoanScheduleGenerator.generate (LoanScheduleGeneratorTest)",
}


@dataclass(frozen=True)
class Source:
    repository: str
    commit: str
    path: str
    scenario: str
    lines: tuple[int, int]
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Event:
    seq: int
    type: str
    line: int | None
    data: Mapping[str, Any]

    def date(self, key: str = "date") -> date | None:
        value = self.data.get(key)
        return date.fromisoformat(value) if value else None

    def amount(self, key: str = "amount") -> Decimal | None:
        value = self.data.get(key)
        return Decimal(value) if value is not None else None


@dataclass(frozen=True)
class Checkpoint:
    after_event: int
    business_date: date | None
    lines: tuple[int, int]
    assertions: Mapping[str, Any]


@dataclass(frozen=True)
class Case:
    id: str
    file: str
    kind: str
    source: Source
    description: str
    features: tuple[str, ...]
    terms: Mapping[str, Any]
    events: tuple[Event, ...]
    expected: tuple[Checkpoint, ...]


@dataclass(frozen=True)
class CaseFile:
    name: str
    source: Mapping[str, Any]
    notes: tuple[str, ...]
    cases: tuple[Case, ...]


def money(value: str | None) -> Decimal | None:
    """An asserted amount as a Decimal (``None`` stays ``None``)."""
    return Decimal(value) if value is not None else None


def _reject_float(text: str) -> Any:
    raise ValueError(f"a JSON number with a fraction ({text}); amounts and rates must be strings")


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"), parse_float=_reject_float)


def _case(raw: Mapping[str, Any], file: str) -> Case:
    src = raw["source"]
    known = {"repository", "commit", "path", "scenario", "lines"}
    source = Source(
        repository=src["repository"],
        commit=src["commit"],
        path=src["path"],
        scenario=src["scenario"],
        lines=(int(src["lines"][0]), int(src["lines"][1])),
        extra={k: v for k, v in src.items() if k not in known},
    )
    events = tuple(
        Event(
            seq=int(e["seq"]),
            type=e["type"],
            line=e.get("line"),
            data={k: v for k, v in e.items() if k not in ("seq", "type", "line")},
        )
        for e in raw["events"]
    )
    expected = tuple(
        Checkpoint(
            after_event=int(cp["after_event"]),
            business_date=date.fromisoformat(cp["business_date"]) if cp.get("business_date") else None,
            lines=(int(cp["lines"][0]), int(cp["lines"][1])),
            assertions={k: v for k, v in cp.items() if k not in ("after_event", "business_date", "lines")},
        )
        for cp in raw["expected"]
    )
    return Case(
        id=raw["id"],
        file=file,
        kind=raw["kind"],
        source=source,
        description=raw["description"],
        features=tuple(raw["features"]),
        terms=raw["terms"],
        events=events,
        expected=expected,
    )


def load_file(path: Path) -> CaseFile:
    doc = read_json(path)
    return CaseFile(
        name=path.name,
        source=doc["source"],
        notes=tuple(doc.get("notes", ())),
        cases=tuple(_case(c, path.name) for c in doc["cases"]),
    )


def case_files(directory: Path = CASES_DIR) -> list[Path]:
    return sorted(directory.glob("*.json"))


def load_all(directory: Path = CASES_DIR) -> list[Case]:
    return [case for path in case_files(directory) for case in load_file(path).cases]


def iter_rows(case: Case) -> Iterator[tuple[Checkpoint, str, Mapping[str, Any]]]:
    """Every asserted row of a case: (checkpoint, which table, row)."""
    for cp in case.expected:
        for key, value in cp.assertions.items():
            if isinstance(value, Mapping) and isinstance(value.get("rows"), list):
                for row in value["rows"]:
                    yield cp, key, row
            elif isinstance(value, list):
                for row in value:
                    if isinstance(row, Mapping):
                        yield cp, key, row
