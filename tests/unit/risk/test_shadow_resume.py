"""The challenger's shadow review goes on from the real review's gates (`evaluation.Gated`) instead of running
the gates' rules again: on the pinned applicants, with either scorer as the challenger, what it decides is
exactly what a whole second review decides, and no outside service is asked again."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from microcredit.integrations.bureau import SimulatedBureau
from microcredit.integrations.id_check import SimulatedIdVerifier
from microcredit.risk import evaluation
from microcredit.risk.assessment import ApplicantFacts
from microcredit.risk.learning import artefact
from microcredit.risk.registry import demo
from microcredit.risk.registry.service import serving

from .test_scores_pinned import RULES, _applicants, _champion_scorer


def _sources(facts: ApplicantFacts) -> evaluation.Sources:
    return evaluation.Sources(
        identity=lambda: SimulatedIdVerifier().verify(id_number=facts.id_number, name=facts.name),
        bureau=lambda: SimulatedBureau().report(id_number=facts.id_number, name=facts.name,
                                                on=facts.submitted_at.date()))


def _not_asked() -> Any:
    raise AssertionError("an outside service asked again by the shadow review")


def test_the_shadow_review_from_the_gates_decides_as_a_whole_review():
    model = serving.load(demo.blob(1), artefact.digest(demo.blob(1)))
    applicants = _applicants()
    # The real reviews first (the champion's model scoring), all of them: the context the rules run in is
    # then another applicant's when each shadow review goes on, so the gates' variables must come back.
    firsts = [evaluation.evaluate(RULES, f, replace(_sources(f), score=_champion_scorer(model, f, [])))
              for f in applicants]
    resumed_count = 0
    for facts, first in zip(applicants, firsts, strict=True):
        for challenger in (None, _champion_scorer(model, facts, [])):  # the interim scorer, or the model again
            if first.gated is None:
                whole = evaluation.evaluate(RULES, facts, replace(_sources(facts), score=challenger))
                assert whole.gated is None
                assert whole.assessment.score is None
                continue
            # Resumed first, while the rules' context holds the previous applicant's variables.
            resumed = evaluation.evaluate(
                RULES, facts, evaluation.Sources(identity=_not_asked, bureau=_not_asked, score=challenger),
                resume=first.gated)
            whole = evaluation.evaluate(RULES, facts, replace(_sources(facts), score=challenger))
            assert resumed.assessment == whole.assessment
            assert resumed.report == whole.report
            resumed_count += 1
    # Most applicants reach the score stage; the rest were settled by a gate (and have no shadow review).
    assert resumed_count == 2 * sum(first.gated is not None for first in firsts) > 300
    assert {str(f.assessment.decision) for f in firsts if f.gated is None} <= {"decline", "return"}
