"""Early default rates by score band and vintage: how the loans the decisions approved went in their first months.

Risk reads no servicing table: it declares `LoanOutcomes`, what it needs of each loan paid out
(the application's stored decision, the day it was paid out, the worst days past due in its first
3 and 6 months on book as far as they have been observed), and servicing implements it
(`servicing.service.history.ServicingLoanOutcomes`); the composition root wires it into the kit.

**Early default** (docs/risk.md): a loan 30 or more days past due at any time within its first 3
months on book (`30+ in 3`), and the stricter 90 or more days within its first 6 months (`90+ in
6`). A loan counts in a measure's denominator once its window has been observed to its end, or
earlier if it has already defaulted (a default seen is final; a loan too young to have defaulted
yet is not counted as good). The rate is defaults over counted loans, None where none is counted.

The band is the grade A–E of the decision the application received (the same grades the interim
scorer and the scorecards give; `-` when the decision had none); the vintage is the month paid out.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from sqlalchemy.orm import Session

NO_BAND = "-"
BANDS = ("A", "B", "C", "D", "E")


@dataclass(frozen=True)
class LoanOutcome:
    """One loan paid out, as risk's table reads it."""

    application_number: str | None
    grade: str | None  # the decision's grade (None: the decision had none)
    score: int | None
    disbursed_on: date
    observed_on: date  # the business date the loan has been followed to
    worst_dpd_3m: int  # the most days past due within the first 3 months on book (to `observed_on`)
    worst_dpd_6m: int  # the same within the first 6 months


class LoanOutcomes(Protocol):
    """How risk asks the owning domain for the outcomes of an institution's loans (servicing implements it)."""

    def outcomes(self, session: Session, *, institution_id: int) -> Sequence[LoanOutcome]: ...


def add_months(day: date, months: int) -> date:
    """The same day `months` later (the month's last day where it has fewer days)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


@dataclass(frozen=True)
class Measure:
    """One measure (30+ in 3, 90+ in 6) over a group of loans."""

    counted: int
    defaults: int

    @property
    def rate(self) -> float | None:
        """Defaults over loans counted (a probability: a float)."""
        return self.defaults / self.counted if self.counted else None


@dataclass(frozen=True)
class Cell:
    """A band × vintage cell (band None: every band; vintage None: every vintage)."""

    band: str | None
    vintage: str | None
    loans: int
    early: Measure  # 30+ days past due within 3 months on book
    late: Measure  # 90+ days past due within 6 months on book


@dataclass(frozen=True)
class EarlyDefaults:
    """The table: cells per band × vintage, totals per band, per vintage and overall."""

    as_of: date | None
    bands: tuple[str, ...]
    vintages: tuple[str, ...]
    cells: tuple[Cell, ...]
    by_band: tuple[Cell, ...]
    by_vintage: tuple[Cell, ...]
    total: Cell


def _defaulted(o: LoanOutcome, months: int, days: int) -> tuple[bool, bool]:
    """(counted, defaulted) of one loan for the measure `days`+ within `months` on book."""
    worst = o.worst_dpd_3m if months == 3 else o.worst_dpd_6m
    defaulted = worst >= days
    return defaulted or add_months(o.disbursed_on, months) <= o.observed_on, defaulted


def _cell(band: str | None, vintage: str | None, group: Sequence[LoanOutcome]) -> Cell:
    early = [_defaulted(o, 3, 30) for o in group]
    late = [_defaulted(o, 6, 90) for o in group]
    return Cell(band, vintage, len(group),
                Measure(sum(c for c, _ in early), sum(d for _, d in early)),
                Measure(sum(c for c, _ in late), sum(d for _, d in late)))


def band_of(o: LoanOutcome) -> str:
    """The loan's band: its decision's grade (`-` without one)."""
    return o.grade if o.grade else NO_BAND


def vintage_of(o: LoanOutcome) -> str:
    """The month the loan was paid out, YYYY-MM."""
    return f"{o.disbursed_on.year:04d}-{o.disbursed_on.month:02d}"


def table(outcomes: Iterable[LoanOutcome]) -> EarlyDefaults:
    """The early default table of these loans (pure: the tests and the demo's figures use it directly)."""
    rows = list(outcomes)
    seen = {band_of(o) for o in rows}
    bands = tuple(b for b in BANDS if b in seen) + tuple(sorted(seen - set(BANDS)))
    vintages = tuple(sorted({vintage_of(o) for o in rows}))
    cells = []
    for band in bands:
        for vintage in vintages:
            group = [o for o in rows if band_of(o) == band and vintage_of(o) == vintage]
            if group:
                cells.append(_cell(band, vintage, group))
    return EarlyDefaults(
        as_of=max((o.observed_on for o in rows), default=None), bands=bands, vintages=vintages, cells=tuple(cells),
        by_band=tuple(_cell(b, None, [o for o in rows if band_of(o) == b]) for b in bands),
        by_vintage=tuple(_cell(None, v, [o for o in rows if vintage_of(o) == v]) for v in vintages),
        total=_cell(None, None, rows))


def early_defaults(*, session: Session, source: LoanOutcomes | None, institution_id: int) -> EarlyDefaults:
    """The institution's table from the wired source (none wired, a script: an empty table)."""
    return table(source.outcomes(session, institution_id=institution_id) if source is not None else ())
