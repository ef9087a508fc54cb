"""The warning rules, each at its threshold's edge, and the thresholds' stored form."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from microcredit.risk.warnings.rules import (
    GroupFacts,
    LoanFacts,
    Thresholds,
    concentration_findings,
    loan_findings,
)

T = Thresholds()
QUIET = LoanFacts(score=700, recent_scores=(700, 710), dpd=0, past_due_before=False, partial_installments=0,
                  overdue_elsewhere=None, overdue_elsewhere_before=None)


def rules(facts: LoanFacts, t: Thresholds = T) -> list[str]:
    return [f.rule for f in loan_findings(facts, t)]


def test_a_loan_repaid_as_agreed_raises_nothing() -> None:
    assert rules(QUIET) == []
    assert rules(replace(QUIET, recent_scores=())) == []  # the first score: nothing to compare


def test_a_score_drop_fires_at_the_threshold_from_the_highest_recent_score() -> None:
    assert rules(replace(QUIET, score=651)) == []  # 710 - 651 = 59
    [finding] = loan_findings(replace(QUIET, score=650), T)
    assert (finding.rule, finding.details["from"], finding.details["drop"], finding.suggested_action) == (
        "score_drop", 710, 60, "freeze_limit")
    assert finding.severity == "medium"
    assert loan_findings(replace(QUIET, score=590), T)[0].severity == "high"  # twice the threshold


def test_the_first_missed_payment_fires_only_on_a_loan_never_past_due_before() -> None:
    assert rules(replace(QUIET, dpd=1)) == ["first_missed_payment"]
    assert rules(replace(QUIET, dpd=1, past_due_before=True)) == []
    assert rules(replace(QUIET, dpd=2), replace(T, first_missed_dpd=3)) == []
    assert loan_findings(replace(QUIET, dpd=1), T)[0].suggested_action == "step_up_collection"


def test_repeated_partial_payments_fire_from_the_threshold() -> None:
    assert rules(replace(QUIET, partial_installments=1)) == []
    assert rules(replace(QUIET, partial_installments=2)) == ["repeated_partial_payments"]
    assert loan_findings(replace(QUIET, partial_installments=2), T)[0].suggested_action == "ask_guarantor"


def test_a_new_delinquency_elsewhere_fires_only_when_a_refreshed_report_shows_more_than_the_one_before() -> None:
    assert rules(replace(QUIET, overdue_elsewhere=1, overdue_elsewhere_before=0)) == ["bureau_delinquency"]
    assert rules(replace(QUIET, overdue_elsewhere=1, overdue_elsewhere_before=1)) == []
    assert rules(replace(QUIET, overdue_elsewhere=0, overdue_elsewhere_before=1)) == []  # better, not worse
    assert rules(replace(QUIET, overdue_elsewhere=2, overdue_elsewhere_before=None)) == []  # the first read: baseline
    assert rules(replace(QUIET, overdue_elsewhere=None, overdue_elsewhere_before=0)) == []  # not re-read today


def test_concentration_fires_on_a_large_enough_group_with_a_high_enough_share() -> None:
    groups = [GroupFacts("branch", "1", 10, 3), GroupFacts("branch", "2", 10, 2), GroupFacts("product", "P", 4, 4)]
    fired = concentration_findings(groups, T)
    assert [(g.key, f.details["share"]) for g, f in fired] == [("1", "0.30")]  # 4 loans are fewer than 5
    assert [g.key for g, _ in concentration_findings(groups, replace(T, concentration_min_loans=4))] == ["1", "P"]
    assert all(f.suggested_action == "review_portfolio" for _, f in fired)


def test_thresholds_round_trip_through_their_stored_form_exactly() -> None:
    t = replace(T, concentration_share=Decimal("0.25"), score_drop_points=80)
    assert t.to_json()["concentration_share"] == "0.25"
    assert Thresholds.from_json(t.to_json()) == t
    assert Thresholds.from_json({"score_drop_points": 90, "unknown": 1}) == replace(T, score_drop_points=90)
