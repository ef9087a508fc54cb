"""The feature pipeline: what a credit model reads of an applicant on a date, point-in-time correct.

One function, `features(facts, on=..., report=..., history=..., behaviour=...)`, turns the
sources the system holds into one row, a mapping of feature name to value (None: not known):

* the application and the profile (`ApplicantFacts`, what origination passes to `assess`);
* the credit report read for the decision (`BureauReport`);
* the applicant's repayment history with this institution (`InternalHistory`, through the
  `RepaymentHistory` read interface; risk does not read servicing's tables);
* behaviour data (e-commerce, payment channel, social account) through the adapter of
  `integrations.behaviour` (a simulator in the demo and the tests).

**Point in time.** Nothing dated after the decision date `on` is read: credit accounts opened,
inquiries made, public records filed and overdue months after `on` are dropped from the report
before any variable is computed; internal instalments count only when due on or before `on` (and
a payment counts only if made on or before `on`); behaviour months count only when they ended
before `on`'s month. A model trained on rows built the same way at past dates sees at serving
what it saw in training. `tests/unit/risk/test_features.py` adds events after the date and shows
the row unchanged.

Money features are whole yuan (int); ratios are floats in [0, 1]; categories are text. The
names are stable: a model's artefact lists the features it reads, and each name has words in the
web app's catalogue (`risk.reason.<name>`) for reason codes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time
from typing import Any, Protocol

from sqlalchemy.orm import Session

from microcredit.integrations.behaviour import BehaviourData
from microcredit.integrations.bureau import BureauAccount, BureauReport, BureauSummary
from microcredit.risk import evaluation
from microcredit.risk.assessment import ApplicantFacts

# Every feature the pipeline computes, in a stable order.
FEATURES = (
    # the application and profile
    "age", "monthly_income", "amount", "term_months", "dti_pct", "employment", "customer_type", "channel",
    "purpose", "province",
    # the credit report
    "has_file", "history_months", "accounts", "open_accounts", "worst_status_24m", "current_overdue_months",
    "utilisation_pct", "inquiries_1m", "inquiries_3m", "inquiries_6m", "open_public_records",
    "monthly_payments", "total_balance",
    # repayment history with the institution
    "internal_loans", "internal_instalments_due", "internal_on_time_ratio", "internal_max_days_late",
    # behaviour data
    "ecommerce_orders_6m", "ecommerce_spend_6m", "payment_on_time_ratio_12m", "social_account_months",
    "social_contacts_verified",
    # the names of the synthetic population's spec (`microcredit risk synth`), so a model trained on it
    # serves here; None where the system holds no such source (social score, night share, education)
    "income", "overdue_24m", "max_dpd", "ecommerce_spend", "payment_regularity", "loan_to_income", "region",
    "social_score", "night_share", "education",
)
# The National Bureau of Statistics' four economic regions, by the ID number's province code.
REGIONS = {**dict.fromkeys(("21", "22", "23"), "northeast"),
           **dict.fromkeys(("11", "12", "13", "31", "32", "33", "35", "37", "44", "46"), "east"),
           **dict.fromkeys(("14", "34", "36", "41", "42", "43"), "central"),
           **dict.fromkeys(("15", "45", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65"), "west")}


@dataclass(frozen=True)
class Instalment:
    """One instalment of an earlier loan with this institution: when it was due and when it was paid."""

    due_on: date
    paid_on: date | None  # None: not paid (yet)


@dataclass(frozen=True)
class InternalHistory:
    """The applicant's loans with the institution, as instalments (empty: a new customer)."""

    loans: Sequence[tuple[date, Sequence[Instalment]]] = ()  # (disbursed on, instalments)


class RepaymentHistory(Protocol):
    """How risk asks the owning domain for an applicant's history (by institution and ID-number blind index).

    Servicing implements it (`servicing.service.history`) and the composition root wires it into the
    kit: risk sits below servicing and never reads its tables. The answer is point in time: loans
    disbursed on or before `until`, their instalments due on or before it, payments made on or before it.
    """

    def history(self, session: Session, *, institution_id: int, id_number: str, until: date) -> InternalHistory: ...


class NoHistory:
    """No internal history wired (a script, a unit test): every applicant reads as a new customer."""

    def history(self, session: Session, *, institution_id: int, id_number: str, until: date) -> InternalHistory:
        del session, institution_id, id_number, until
        return InternalHistory()


def _month_index(d: date) -> int:
    return d.year * 12 + d.month - 1


def report_as_of(report: BureauReport, on: date) -> BureauReport:
    """The report as it stood on `on`: accounts, inquiries, public records and overdue months after it dropped."""
    keep = [i for i, a in enumerate(report.accounts) if a.opened_on <= on]
    renumber = {old: new for new, old in enumerate(keep)}
    month = f"{on.year:04d}-{on.month:02d}"
    # A report read after `on` has grid months after it: drop them (the grid's last month is the report's).
    later = max(0, _month_index(report.queried_on) - _month_index(on))
    accounts = tuple(report.accounts[i] if not later else
                     replace(report.accounts[i], grid=("/" * later + report.accounts[i].grid)[:-later])
                     for i in keep)
    summary = report.summary if len(keep) == len(report.accounts) else _summary_of(accounts)
    return replace(
        report, queried_on=min(report.queried_on, on), summary=summary, accounts=accounts,
        overdue_records=tuple(replace(o, account_index=renumber[o.account_index]) for o in report.overdue_records
                              if o.account_index in renumber and o.month <= month),
        inquiries=tuple(i for i in report.inquiries if i.on <= on),
        public_records=tuple(p for p in report.public_records if p.on <= on))


def _summary_of(accounts: Sequence[BureauAccount]) -> BureauSummary:
    """The report's summary over these accounts only (the bureau's own summary counts every account)."""
    live = [a for a in accounts if a.status != "closed"]
    return BureauSummary(
        loan_accounts=sum(a.kind == "loan" for a in accounts),
        credit_card_accounts=sum(a.kind == "credit_card" for a in accounts),
        revolving_accounts=sum(a.kind == "revolving" for a in accounts), open_accounts=len(live),
        total_limit_minor=sum(a.limit_minor for a in live), total_balance_minor=sum(a.balance_minor for a in live),
        overdue_accounts=sum(a.overdue_months > 0 for a in accounts),
        overdue_minor=sum(a.overdue_minor for a in accounts),
        monthly_payments_minor=sum(a.monthly_payment_minor for a in live))


def _yuan(minor: int | None) -> int | None:
    return None if minor is None else minor // 100


def _internal(history: InternalHistory, on: date) -> dict[str, Any]:
    loans = [(d, items) for d, items in history.loans if d <= on]
    due = [i for _, items in loans for i in items if i.due_on <= on]
    on_time = sum(1 for i in due if i.paid_on is not None and i.paid_on <= i.due_on)
    late_days = [((i.paid_on if i.paid_on is not None and i.paid_on <= on else on) - i.due_on).days for i in due]
    return {"internal_loans": len(loans), "internal_instalments_due": len(due),
            "internal_on_time_ratio": (on_time / len(due)) if due else None,
            "internal_max_days_late": max((max(0, d) for d in late_days), default=None) if due else None}


def _behaviour(data: BehaviourData | None, on: date) -> dict[str, Any]:
    if data is None:
        return {"ecommerce_orders_6m": None, "ecommerce_spend_6m": None, "payment_on_time_ratio_12m": None,
                "social_account_months": None, "social_contacts_verified": None}
    current = _month_index(on)
    closed = [m for m in data.months if _month_index(m.month) < current]  # months over before `on`'s month
    last6 = [m for m in closed if current - _month_index(m.month) <= 6]
    last12 = [m for m in closed if current - _month_index(m.month) <= 12]
    due = sum(m.payments_due for m in last12)
    opened = data.social_account_opened
    return {"ecommerce_orders_6m": sum(m.ecommerce_orders for m in last6),
            "ecommerce_spend_6m": sum(m.ecommerce_spend_minor for m in last6) // 100,
            "payment_on_time_ratio_12m": (sum(m.payments_on_time for m in last12) / due) if due else None,
            "social_account_months": (current - _month_index(opened)) if opened and opened <= on else None,
            "social_contacts_verified": data.social_contacts_verified if opened and opened <= on else None}


def features(facts: ApplicantFacts, *, on: date, report: BureauReport | None,
             history: InternalHistory | None = None, behaviour: BehaviourData | None = None) -> dict[str, Any]:
    """One applicant's feature row on `on` (see the module's docstring for what is read and what is not)."""
    age = evaluation.age_of(replace(facts, submitted_at=datetime.combine(on, time(), tzinfo=UTC)))
    row: dict[str, Any] = {
        "age": age if age >= 0 else None,
        "monthly_income": _yuan(facts.monthly_income.minor if facts.monthly_income else None),
        "amount": facts.amount.minor // 100, "term_months": evaluation.term_months(facts),
        "employment": facts.employment, "customer_type": facts.customer_type, "channel": facts.channel,
        "purpose": facts.purpose, "province": facts.id_number[:2],
    }
    if report is not None:
        bureau = evaluation.bureau_variables(report_as_of(report, on))
        row.update({
            "has_file": int(bool(bureau["has_file"])), "dti_pct": evaluation.dti_pct(facts, bureau),
            "monthly_payments": _yuan(int(bureau["monthly_payments"])),
            "total_balance": _yuan(int(bureau["total_balance"])),
            **{k: bureau[k] for k in ("history_months", "accounts", "open_accounts", "worst_status_24m",
                                      "current_overdue_months", "utilisation_pct", "inquiries_1m", "inquiries_3m",
                                      "inquiries_6m", "open_public_records")}})
    else:
        row.update(dict.fromkeys(("has_file", "dti_pct", "monthly_payments", "total_balance", "history_months",
                                  "accounts", "open_accounts", "worst_status_24m", "current_overdue_months",
                                  "utilisation_pct", "inquiries_1m", "inquiries_3m", "inquiries_6m",
                                  "open_public_records")))
    row.update(_internal(history or InternalHistory(), on))
    row.update(_behaviour(behaviour, on))
    row.update(_synthetic_names(row, report, on))
    return {name: row.get(name) for name in FEATURES}


def _synthetic_names(row: Mapping[str, Any], report: BureauReport | None, on: date) -> dict[str, Any]:
    """The synthetic population's columns from the same sources (see `FEATURES`)."""
    income, spend = row["monthly_income"], row["ecommerce_spend_6m"]
    overdue = None
    if report is not None and report.has_file:
        grids = [a.grid for a in report_as_of(report, on).accounts]
        overdue = sum(1 for g in grids for symbol in g[-24:] if symbol.isdigit() and symbol != "0")
    worst = row["worst_status_24m"]
    return {"income": income, "overdue_24m": overdue,
            "max_dpd": (30 * int(worst)) if worst is not None and row["has_file"] else None,
            "ecommerce_spend": (spend // 6) if spend is not None else None,
            "payment_regularity": row["payment_on_time_ratio_12m"],
            "loan_to_income": (row["amount"] / (12 * income)) if income else None,
            "region": REGIONS.get(str(row["province"])), "social_score": None, "night_share": None,
            "education": None}


def missing_of(row: Mapping[str, Any], wanted: Sequence[str]) -> list[str]:
    """The features a model wants that the pipeline does not compute (they reach the model as None)."""
    return [name for name in wanted if name not in row]
