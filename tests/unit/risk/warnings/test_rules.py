"""The warning rules, each at its threshold's edge, the thresholds' stored form, and `may_fire` (the set-based
step's necessary condition of the loan rules)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from microcredit.risk.warnings.rules import (
    GroupFacts,
    LoanFacts,
    Thresholds,
    concentration_findings,
    loan_findings,
    may_fire,
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


def _may_fire(facts: list[LoanFacts], t: Thresholds = T) -> list[bool]:
    """`may_fire` on the loans' columns, as the set-based step gives them (the highest recent score; a report
    refreshed today and one before it)."""
    return may_fire(t, score=[f.score for f in facts], peak=[max(f.recent_scores, default=None) for f in facts],
                    dpd=[f.dpd for f in facts], partial_installments=[f.partial_installments for f in facts],
                    compared=[f.overdue_elsewhere is not None and f.overdue_elsewhere_before is not None
                              for f in facts]).tolist()


SCORES = st.integers(min_value=300, max_value=900)
ELSEWHERE = st.none() | st.integers(min_value=0, max_value=3)
THRESHOLDS = st.builds(Thresholds, score_drop_points=st.integers(10, 300), first_missed_dpd=st.integers(1, 90),
                       partial_installments=st.integers(1, 24))


def _near(edge: int) -> st.SearchStrategy[int]:
    """A threshold's edge and one either side of it, or nothing (the rule quiet), or anything."""
    return st.integers(max(edge - 1, 0), edge + 1) | st.just(0) | st.integers(0, 400)


@st.composite
def _loans_and_thresholds(draw: st.DrawFn) -> tuple[list[LoanFacts], Thresholds]:
    """Thresholds, and loans whose figures fall on or beside each rule's edge often."""
    t = draw(THRESHOLDS)
    loans = []
    for _ in range(draw(st.integers(0, 20))):
        score = draw(SCORES)
        highest = score + draw(_near(t.score_drop_points) | st.integers(-100, 0))
        loans.append(LoanFacts(score=score, recent_scores=draw(st.sampled_from([(), (highest,), (score, highest)])),
                               dpd=draw(_near(t.first_missed_dpd)), past_due_before=draw(st.booleans()),
                               partial_installments=draw(_near(t.partial_installments)),
                               overdue_elsewhere=draw(ELSEWHERE), overdue_elsewhere_before=draw(ELSEWHERE)))
    return loans, t


@given(_loans_and_thresholds())
def test_a_loan_may_fire_leaves_out_has_no_finding(drawn: tuple[list[LoanFacts], Thresholds]) -> None:
    """The set-based step asks `loan_findings` only of the loans `may_fire` keeps: every loan with a finding is
    kept (whatever the thresholds)."""
    facts, t = drawn
    kept = _may_fire(facts, t)
    assert len(kept) == len(facts)
    for one, keep in zip(facts, kept, strict=True):
        if loan_findings(one, t):
            assert keep, one


def test_may_fire_leaves_out_the_quiet_loans() -> None:
    """Not a filter that keeps everything: each rule one short of its threshold is left out, at it kept (a report
    compared with the one before it is kept whatever the counts: `loan_findings` decides)."""
    edges = [replace(QUIET, score=651), replace(QUIET, score=650),  # the score drop: 59, then 60 points
             replace(QUIET, recent_scores=(), score=300),  # no recent score: no drop
             replace(QUIET, dpd=1, past_due_before=True),  # past due: kept (the read decides)
             replace(QUIET, partial_installments=1), replace(QUIET, partial_installments=2),
             replace(QUIET, overdue_elsewhere=3), replace(QUIET, overdue_elsewhere=3, overdue_elsewhere_before=3)]
    assert _may_fire([QUIET, *edges]) == [False, False, True, False, True, False, True, False, True]
    assert _may_fire([]) == []
