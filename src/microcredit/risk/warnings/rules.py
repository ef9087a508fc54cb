"""The warning rules, pure: facts of a loan (or of a group of loans) and the institution's thresholds in,
the rules that fire out, each with the action it suggests.

==========================  ==========================================================  =====================
rule                        fires when                                                  suggested action
==========================  ==========================================================  =====================
score_drop                  the score fell by ≥ `score_drop_points` from the highest     freeze_limit
                            score of the last `score_drop_days` days
first_missed_payment        DPD ≥ `first_missed_dpd` on a loan never past due before     step_up_collection
repeated_partial_payments   ≥ `partial_installments` installments due and paid in part   ask_guarantor
bureau_delinquency          the refreshed bureau report shows more accounts overdue      freeze_limit
                            elsewhere than the report before it
concentration               in a branch (region) or a purpose (sector) with ≥            review_portfolio
                            `concentration_min_loans` running loans, a share ≥
                            `concentration_share` is deteriorating (past due or grade
                            D/E)
==========================  ==========================================================  =====================

A rule that fired stays quiet on the same subject while its warning is open, and for
`cooldown_days` after it was raised (the service checks that): the queue holds one warning per
problem, not one a day.

`may_fire` is a necessary condition of the loan rules over a partition's columns (NumPy): the close of business
gives `loan_findings` only the loans it keeps — on a steady day the few past due, dropping or refreshed —, and
`loan_findings` decides for them as for any loan (a property test holds that a loan it leaves out has no finding).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any

import numpy as np

RULES = ("score_drop", "first_missed_payment", "repeated_partial_payments", "bureau_delinquency", "concentration")
ACTIONS = ("freeze_limit", "step_up_collection", "ask_guarantor", "review_portfolio")
SUGGESTED = {"score_drop": "freeze_limit", "first_missed_payment": "step_up_collection",
             "repeated_partial_payments": "ask_guarantor", "bureau_delinquency": "freeze_limit",
             "concentration": "review_portfolio"}
DETERIORATING_GRADES = frozenset({"D", "E"})


@dataclass(frozen=True, slots=True)
class Thresholds:
    """An institution's thresholds (defaults here; a risk officer edits them)."""

    score_drop_points: int = 60
    score_drop_days: int = 30
    first_missed_dpd: int = 1
    partial_installments: int = 2
    bureau_refresh_days: int = 30
    concentration_min_loans: int = 5
    concentration_share: Decimal = Decimal("0.30")
    cooldown_days: int = 30

    def to_json(self) -> dict[str, Any]:
        """As stored (the share as a string, exact)."""
        return {f.name: str(v) if isinstance(v := getattr(self, f.name), Decimal) else v for f in fields(self)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Thresholds:
        """From stored values; a missing key keeps its default."""
        known = {f.name for f in fields(cls)}
        values: dict[str, Any] = {k: v for k, v in data.items() if k in known}
        if "concentration_share" in values:
            values["concentration_share"] = Decimal(str(values["concentration_share"]))
        return cls(**values)


@dataclass(frozen=True, slots=True)
class LoanFacts:
    """What the loan rules read of one loan on the business date."""

    score: int
    recent_scores: tuple[int, ...]  # the loan's scores of the last `score_drop_days` days before today
    dpd: int
    past_due_before: bool  # the loan was past due on some earlier day
    partial_installments: int
    overdue_elsewhere: int | None  # by the report refreshed today; None: not refreshed today
    overdue_elsewhere_before: int | None  # by the report before it; None: no earlier report


@dataclass(frozen=True, slots=True)
class Finding:
    """A rule that fired, with what a reader needs to see why."""

    rule: str
    severity: str  # "high" | "medium"
    details: dict[str, Any]

    @property
    def suggested_action(self) -> str:
        """The action the rule suggests."""
        return SUGGESTED[self.rule]


def loan_findings(facts: LoanFacts, t: Thresholds) -> list[Finding]:
    """The loan rules that fire on `facts`."""
    out: list[Finding] = []
    if facts.recent_scores:
        peak = max(facts.recent_scores)
        if peak - facts.score >= t.score_drop_points:
            out.append(Finding("score_drop", "high" if peak - facts.score >= 2 * t.score_drop_points else "medium",
                               {"from": peak, "to": facts.score, "drop": peak - facts.score,
                                "days": t.score_drop_days}))
    if facts.dpd >= t.first_missed_dpd and not facts.past_due_before:
        out.append(Finding("first_missed_payment", "medium", {"dpd": facts.dpd}))
    if facts.partial_installments >= t.partial_installments:
        out.append(Finding("repeated_partial_payments", "medium", {"installments": facts.partial_installments}))
    if (facts.overdue_elsewhere is not None and facts.overdue_elsewhere_before is not None
            and facts.overdue_elsewhere > facts.overdue_elsewhere_before):
        out.append(Finding("bureau_delinquency", "high",
                           {"before": facts.overdue_elsewhere_before, "now": facts.overdue_elsewhere}))
    return out


def may_fire(t: Thresholds, *, score: Sequence[int], peak: Sequence[int | None], dpd: Sequence[int],
             partial_installments: Sequence[int], compared: Sequence[bool]) -> np.ndarray:
    """Which loans `loan_findings` may fire on, one value a loan in each column (`peak`: the highest of the recent
    scores, None without one; `compared`: a report refreshed today and one before it). Each rule's condition but
    `first_missed_payment`'s "never past due before" (`past_due_before` is a read, asked only of the loans kept):
    a loan left out has no finding."""
    scores = np.asarray(score, dtype=np.int64)
    peaks = np.array([s if p is None else p for s, p in zip(score, peak, strict=True)], dtype=np.int64)
    dropped = (peaks - scores >= t.score_drop_points) & np.array([p is not None for p in peak], dtype=bool)
    kept: np.ndarray = (dropped | (np.asarray(dpd, dtype=np.int64) >= t.first_missed_dpd)
                        | (np.asarray(partial_installments, dtype=np.int64) >= t.partial_installments)
                        | np.asarray(compared, dtype=bool))
    return kept


@dataclass(frozen=True, slots=True)
class GroupFacts:
    """A group of running loans: a branch (region) or a purpose (sector)."""

    kind: str  # "branch" | "purpose"
    key: str
    loans: int
    deteriorating: int


def concentration_findings(groups: list[GroupFacts], t: Thresholds) -> list[tuple[GroupFacts, Finding]]:
    """The groups whose share of deteriorating loans reaches the threshold."""
    out = []
    for g in groups:
        if g.loans >= t.concentration_min_loans and Decimal(g.deteriorating) >= t.concentration_share * g.loans:
            share = (Decimal(g.deteriorating) / g.loans).quantize(Decimal("0.01"))
            out.append((g, Finding("concentration", "high", {"kind": g.kind, "key": g.key, "loans": g.loans,
                                                              "deteriorating": g.deteriorating,
                                                              "share": str(share)})))
    return out
