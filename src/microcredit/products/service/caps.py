"""Rate limits as dated configuration, and the check of a product's APR against them.

Two tables, both kept by administrators and read on a date:

- `lpr_rates`: the one-year Loan Prime Rate (贷款市场报价利率) fixings; the one in force
  on a day is the latest taking effect on or before it (DOMAIN.md §2.4: "for each contract,
  use the value in force on the contract formation date").
- `rate_caps`: per kind of institution, from a date on, the hard cap on the APR (default
  24 %: the Dec 2025 small-loan cost guidance and the 助贷 notice) and the multiple of the
  LPR above which a second administrator must approve (default 4: the SPC private-lending
  cap, and the small-loan companies' target for end-2027). No row: `DEFAULT_CAPS`.

The check (`check_terms`) prices sample loans of a product version with the quote service,
at the **highest rate the version allows** (the fixed rate, or grade E's), and takes the
worst APR by IRR over every allowed repayment method × {smallest, largest amount} ×
{shortest, longest term} (quarterly interest: the shortest and longest whole quarters in
the range), disbursed on the check's date. The corners are where the APR is extreme for
what products hold: a fixed fee charged once weighs most on the smallest amount and the
shortest term; a percent fee financed up front weighs most on the shortest term; a
per-installment percent fee on the original principal weighs most on the longest
amortising term — except that a fee with every installment can make the APR peak at a
term inside the range: then every whole term is priced too, at the smallest amount.

    worst APR > hard cap                 -> above_cap        (refused: `apr_above_cap`)
    worst APR > multiple × LPR (or none) -> needs_approval   (`apr_needs_approval` until approved)
    otherwise                            -> ok

A quote (the calculator's or a product's) is refused above the hard cap as well.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from microcredit.audit import service as audit
from microcredit.clock import Clock
from microcredit.errors import NotFound
from microcredit.lending.money import Money
from microcredit.lending.periods import PeriodUnit, add_units
from microcredit.platform.actor import Actor
from microcredit.products import repository as repo
from microcredit.products.errors import AprAboveCap, LprDateTaken, QuoteInvalid, RateCapDateTaken
from microcredit.products.models import LprRate, RateCap
from microcredit.products.product_schemas import ProductTerms
from microcredit.products.schemas import LoanDescription, QuoteRead
from microcredit.products.service.quotes import CalendarProvider, quote

__all__ = [
    "DEFAULT_CAPS",
    "LPR_HISTORY",
    "CapCheck",
    "CapRule",
    "Sample",
    "add_lpr",
    "add_rate_cap",
    "caps_in_force",
    "check_terms",
    "delete_lpr",
    "describe",
    "description_of",
    "ensure_within_cap",
    "lpr_in_force",
    "lpr_table",
    "rate_cap_table",
    "samples_of",
    "update_lpr",
]


@dataclass(frozen=True)
class CapRule:
    """The caps in force for a kind of institution on a day."""

    hard_cap_percent: Decimal
    approval_lpr_multiple: Decimal


DEFAULT_CAPS = CapRule(Decimal("24"), Decimal("4"))

# The one-year LPR since the reform of 2019-08-20, as (effective date, percent, source). The
# migration seeds it; administrators add each month's fixing (published on the 20th at 09:15).
_NIFC = "全国银行间同业拆借中心公告 (NIFC LPR announcement)"
_UNVERIFIED = _NIFC + "; from the published record, not re-checked in DOMAIN.md: verify"
LPR_HISTORY: tuple[tuple[date, str, str], ...] = (
    (date(2019, 8, 20), "4.25", _UNVERIFIED),
    (date(2019, 9, 20), "4.20", _UNVERIFIED),
    (date(2019, 11, 20), "4.15", _UNVERIFIED),
    (date(2020, 2, 20), "4.05", _UNVERIFIED),
    (date(2020, 4, 20), "3.85", _NIFC + "; DOMAIN.md §2.4 (3.85 % in 2020-21; SPC example 15.4 % = 4 × 3.85 %)"),
    (date(2021, 12, 20), "3.80", _UNVERIFIED),
    (date(2022, 1, 20), "3.70", _UNVERIFIED),
    (date(2022, 8, 22), "3.65", _UNVERIFIED),
    (date(2023, 6, 20), "3.55", _UNVERIFIED),
    (date(2023, 8, 21), "3.45", _UNVERIFIED),
    (date(2024, 7, 22), "3.35", _UNVERIFIED),
    (date(2024, 10, 21), "3.10", _NIFC + "; DOMAIN.md §2.4 (3.10 % from Oct 2024)"),
    (date(2025, 5, 20), "3.00", _NIFC + "; DOMAIN.md §0/§2.4 (spglobal 2025-05-20; unchanged at the 2026-01-20 "
                                        "fixing, people.cn, businesstimes.com.sg)"),
)


@dataclass(frozen=True)
class Sample:
    """A sample loan of the check and its APR."""

    repayment_method: str
    amount: Money
    term: int
    annual_rate: Decimal
    apr_percent: Decimal


@dataclass(frozen=True)
class CapCheck:
    """A product version's worst sample APR against the caps and LPR in force on `on`."""

    on: date
    institution_kind: str
    caps: CapRule
    lpr_percent: Decimal | None
    samples: tuple[Sample, ...]
    rate_field: str

    @property
    def worst(self) -> Sample | None:
        """The sample with the highest APR."""
        return max(self.samples, key=lambda s: s.apr_percent, default=None)

    @property
    def lpr_limit_percent(self) -> Decimal | None:
        """The approval threshold: multiple × LPR (None: no LPR in force)."""
        return None if self.lpr_percent is None else self.caps.approval_lpr_multiple * self.lpr_percent

    @property
    def status(self) -> str:
        """ok, needs_approval or above_cap."""
        worst = self.worst
        if worst is None:
            return "ok"
        if worst.apr_percent > self.caps.hard_cap_percent:
            return "above_cap"
        limit = self.lpr_limit_percent
        if limit is None or worst.apr_percent > limit:
            return "needs_approval"
        return "ok"


def _text(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _sample_dict(s: Sample) -> dict[str, Any]:
    return {"repayment_method": s.repayment_method, "amount": s.amount, "term": s.term,
            "annual_rate_percent": _text(s.annual_rate), "apr_percent": f"{s.apr_percent:f}"}


def describe(check: CapCheck) -> dict[str, Any]:
    """The check as a `CapCheckRead` document (and as recorded on a published version)."""
    worst = check.worst
    limit = check.lpr_limit_percent
    return {
        "on": check.on, "institution_kind": check.institution_kind,
        "hard_cap_percent": _text(check.caps.hard_cap_percent),
        "lpr_percent": None if check.lpr_percent is None else _text(check.lpr_percent),
        "lpr_limit_percent": None if limit is None else _text(limit),
        "worst": None if worst is None else _sample_dict(worst),
        "samples": [_sample_dict(s) for s in check.samples],
        "status": check.status, "rate_field": check.rate_field,
    }


# --- pricing a product's loan --------------------------------------------------------------------

def description_of(terms: ProductTerms, *, amount: Money, term: int, method: str, annual_rate: Decimal,
                   start: date) -> LoanDescription:
    """The quote service's loan description of a loan under a product version's terms."""
    data: dict[str, Any] = {
        "amount": str(amount), "currency": terms.currency, "annual_rate": str(annual_rate),
        "repayment_method": method, "term": term, "period_unit": terms.period_unit, "start_date": start.isoformat(),
        "day_count": terms.day_count, "interest_method": terms.interest_method, "rounding": terms.rounding,
        "business_day_rule": "none" if method == "revolving_daily" else terms.business_day_rule,
        "calendar": "none" if terms.business_day_rule == "none" or method == "revolving_daily" else "cn",
        "grace_on_principal_periods": terms.grace_on_principal_periods,
        "grace_on_interest_payment_periods": terms.grace_on_interest_payment_periods,
        "fees": [f.model_dump(mode="json", exclude_none=True) for f in terms.fees],
    }
    if method == "revolving_daily":
        # Priced as its costliest use: the whole amount drawn on day one and repaid at the term's end.
        end = add_units(start, PeriodUnit(terms.period_unit), term)
        data["movements"] = [{"on": start.isoformat(), "kind": "draw", "amount": str(amount)},
                             {"on": end.isoformat(), "kind": "repayment", "amount": str(amount)}]
        data["settle_on"] = end.isoformat()
        data["fees"] = []
    if method == "interest_quarterly_principal_at_maturity" or method == "bullet":
        data["grace_on_principal_periods"] = 0
        data["grace_on_interest_payment_periods"] = 0
    try:
        return LoanDescription.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise QuoteInvalid(str(first.get("msg", "invalid")),
                           field=".".join(str(p) for p in first.get("loc", ())) or None) from None


def _terms_of(terms: ProductTerms, method: str) -> tuple[int, ...]:
    low, high = terms.term_min, terms.term_max
    if method == "interest_quarterly_principal_at_maturity":
        quarters = [t for t in (low + (-low) % 3, high - high % 3) if low <= t <= high and t % 3 == 0]
        return tuple(sorted(set(quarters)))
    return tuple(sorted({low, high}))


def _peaks_inside(terms: ProductTerms) -> bool:
    """Whether the APR can peak at a term strictly inside the range: a fee charged with every
    installment, fixed or a percent of the amount (it costs more each month the loan runs while the
    principal it is set against shrinks: 64.76 % at 11 months against 64.70 % at 12 and 56.73 % at
    3 for 32.00 a month on 1,000.00, found by the property test)."""
    return any(f.kind == "per_installment" for f in terms.fees)


def samples_of(terms: ProductTerms, *, on: date, calendars: CalendarProvider) -> tuple[Sample, ...]:
    """The corner loans of a version at its highest rate, priced by the quote service, and, when the
    APR can peak inside the range (`_peaks_inside`), every whole term at the smallest amount."""
    _, rate = terms.rate.highest
    out = []
    for method in terms.repayment_methods:
        corners = _terms_of(terms, method)
        inside: tuple[int, ...] = ()
        if _peaks_inside(terms) and method != "interest_quarterly_principal_at_maturity":
            inside = tuple(t for t in range(terms.term_min + 1, terms.term_max) if t not in corners)
        loans = [(term, amount) for term in corners for amount in sorted({terms.amount_min, terms.amount_max})]
        loans += [(term, terms.amount_min) for term in inside]
        for term, amount in loans:
            described = description_of(terms, amount=amount, term=term, method=method, annual_rate=rate, start=on)
            priced = quote(description=described, calendars=calendars)
            out.append(Sample(method, amount, term, rate, Decimal(priced.apr.apr_percent)))
    return tuple(out)


# --- reading the tables ----------------------------------------------------------------------------

def caps_in_force(*, session: Session, institution_kind: str, on: date) -> CapRule:
    """The caps for a kind of institution on `on` (the defaults when no row is in force)."""
    row = repo.rate_cap_in_force(session, institution_kind=institution_kind, on=on)
    return DEFAULT_CAPS if row is None else CapRule(row.hard_cap_percent, row.approval_lpr_multiple)


def lpr_in_force(*, session: Session, on: date) -> Decimal | None:
    """The one-year LPR in force on `on` (None: the table has no fixing that early)."""
    row = repo.lpr_in_force(session, on)
    return None if row is None else row.one_year_percent


def check_terms(*, session: Session, terms: ProductTerms, on: date, institution_kind: str,
                calendars: CalendarProvider) -> CapCheck:
    """Price a version's sample loans and set their worst APR against the caps and LPR in force on `on`."""
    return CapCheck(on=on, institution_kind=institution_kind,
                    caps=caps_in_force(session=session, institution_kind=institution_kind, on=on),
                    lpr_percent=lpr_in_force(session=session, on=on),
                    samples=samples_of(terms, on=on, calendars=calendars), rate_field=terms.rate.highest[0])


def ensure_within_cap(priced: QuoteRead, *, caps: CapRule, field: str = "annual_rate") -> QuoteRead:
    """The quote, unless its APR is above the hard cap (`apr_above_cap`, naming `field`)."""
    apr = Decimal(priced.apr.apr_percent)
    if apr > caps.hard_cap_percent:
        raise AprAboveCap(apr=priced.apr.apr_percent, cap=_text(caps.hard_cap_percent), field=field)
    return priced


# --- administrators' edits (audited) -------------------------------------------------------------

def _lpr_dict(row: LprRate) -> dict[str, Any]:
    return {"effective_date": row.effective_date, "one_year_percent": row.one_year_percent, "source": row.source}


def add_lpr(*, session: Session, clock: Clock, actor: Actor, effective_date: date, one_year_percent: Decimal,
            source: str) -> LprRate:
    """A new fixing taking effect on `effective_date` (one per day; audited)."""
    if repo.lpr_on_date(session, effective_date) is not None:
        raise LprDateTaken(effective_date)
    now = clock.now()
    row = LprRate(effective_date=effective_date, one_year_percent=one_year_percent, source=source, origin="manual",
                  created_at=now, updated_at=now, updated_by_user_id=actor.user_id)
    repo.add(session, row)
    audit.record(session=session, clock=clock, actor=actor, action="lpr.created", entity_type="lpr_rate",
                 entity_id=row.id, after=_lpr_dict(row))
    return row


def _lpr(session: Session, lpr_id: int) -> LprRate:
    row = repo.get_lpr(session, lpr_id)
    if row is None:
        raise NotFound()
    return row


def update_lpr(*, session: Session, clock: Clock, actor: Actor, lpr_id: int, one_year_percent: Decimal | None = None,
               source: str | None = None) -> LprRate:
    """Correct a fixing's rate or source (audited with before and after)."""
    row = _lpr(session, lpr_id)
    before = _lpr_dict(row)
    if one_year_percent is not None:
        row.one_year_percent = one_year_percent
    if source is not None:
        row.source = source
    row.origin, row.updated_at, row.updated_by_user_id = "manual", clock.now(), actor.user_id
    session.flush()
    audit.record(session=session, clock=clock, actor=actor, action="lpr.updated", entity_type="lpr_rate",
                 entity_id=row.id, before=before, after=_lpr_dict(row))
    return row


def delete_lpr(*, session: Session, clock: Clock, actor: Actor, lpr_id: int) -> None:
    """Remove a fixing entered by mistake (audited)."""
    row = _lpr(session, lpr_id)
    before = _lpr_dict(row)
    repo.delete(session, row)
    audit.record(session=session, clock=clock, actor=actor, action="lpr.deleted", entity_type="lpr_rate",
                 entity_id=lpr_id, before=before)


def lpr_table(*, session: Session) -> Sequence[LprRate]:
    """Every fixing, newest first."""
    return repo.lpr_rates(session)


def rate_cap_table(*, session: Session) -> Sequence[RateCap]:
    """Every cap row."""
    return repo.rate_caps(session)


def add_rate_cap(*, session: Session, clock: Clock, actor: Actor, institution_kind: str, effective_from: date,
                 hard_cap_percent: Decimal, approval_lpr_multiple: Decimal) -> RateCap:
    """New caps for a kind of institution from `effective_from` on (audited)."""
    if repo.rate_cap_on_date(session, institution_kind=institution_kind, effective_from=effective_from) is not None:
        raise RateCapDateTaken(effective_from)
    row = RateCap(institution_kind=institution_kind, effective_from=effective_from, hard_cap_percent=hard_cap_percent,
                  approval_lpr_multiple=approval_lpr_multiple, origin="manual", created_at=clock.now(),
                  created_by_user_id=actor.user_id)
    repo.add(session, row)
    audit.record(session=session, clock=clock, actor=actor, action="rate_cap.created", entity_type="rate_cap",
                 entity_id=row.id, after={"institution_kind": institution_kind, "effective_from": effective_from,
                                          "hard_cap_percent": hard_cap_percent,
                                          "approval_lpr_multiple": approval_lpr_multiple})
    return row
