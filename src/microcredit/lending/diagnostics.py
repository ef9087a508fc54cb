"""Warnings the engine reports inside its results instead of raising.

Some conditions do not stop a calculation but must be visible to whoever
reads the result: a due date in a year the holiday calendar does not cover
(the engine falls back to "weekends only"), an installment multiple that a
method ignores, a cap that clipped default charges.  Each is an
`EngineWarning` with a stable `code` a client can switch on, a message, and
the date it concerns when there is one.

Example: a quote for a loan falling due on 2027-10-01 against a calendar
covering 2004-2026 carries
``EngineWarning(code="calendar_not_covered", message="...2027...", on=2027-10-01)``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

__all__ = ["EngineWarning", "merge_warnings"]


@dataclass(frozen=True, slots=True)
class EngineWarning:
    """A non-fatal condition found while computing a result."""

    code: str
    message: str
    on: date | None = None


def merge_warnings(*groups: Iterable[EngineWarning]) -> tuple[EngineWarning, ...]:
    """Concatenate warning groups, dropping exact duplicates, keeping first-seen order."""
    seen: dict[EngineWarning, None] = {}
    for group in groups:
        for warning in group:
            seen.setdefault(warning, None)
    return tuple(seen)
