"""The registry's models in the decision: the champion scores, the challenger scores in the shadow.

When an institution has a champion, the score stage of `assess` reads the champion's score of the
applicant's feature row (`risk.features`, point-in-time on the submission date) instead of the
interim scorer's; the rest of the review (rules, envelope, decision) is unchanged, so origination
sees the same `Assessment`. Its reasons are catalogue keys `risk.reason.<feature>`; the model's own
words for them, in zh-CN and en, are stored with the score (`risk_model_scores`).

A challenger scores every application that reaches the score stage *in the shadow*: the review's
score and decision stages run a second time with the challenger's score, going on from the real
review's gates (`evaluation.Gated`: the same rule outcomes, ID check and credit report — no outside
service is asked twice, no gate's rule runs twice), and the decision it would have given is stored
beside its score. It never decides.

A champion whose artefact no longer matches its SHA-256 is not served: the interim scorer scores,
and the score stage flags `model_unavailable`, so people decide (never an automatic approval).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy.orm import Session

from microcredit.integrations.bureau import BureauReport
from microcredit.risk import evaluation, features, scorer
from microcredit.risk.assessment import ApplicantFacts, Assessment, Decision, Outcome, RuleResult, Stage
from microcredit.risk.fraud import check as fraud_check
from microcredit.risk.learning.artefact import ModelScore
from microcredit.risk.registry.service import serving
from microcredit.risk.rules import CompiledRuleSet
from microcredit.risk.service.kit import RiskKit

_log_integrity = "risk.rule.model_unavailable"


@dataclass
class Models:
    """The institution's champion and challenger for one assessment, and what they said."""

    champion: serving.Served | None
    challenger: serving.Served | None
    session: Session | None = None  # where the repayment history is read (None: no history read)
    row: dict[str, Any] | None = None
    said: dict[str, ModelScore] = field(default_factory=dict)

    def features(self, facts: ApplicantFacts, kit: RiskKit, report: BureauReport) -> dict[str, Any]:
        """The applicant's feature row on the submission date (computed once per assessment)."""
        if self.row is None:
            on = facts.submitted_at.date()
            history = (kit.history.history(self.session, institution_id=facts.institution_id,
                                           id_number=facts.id_number, until=on)
                       if kit.history is not None and self.session is not None else None)
            self.row = features.features(facts, on=on, report=report, history=history,
                                         behaviour=kit.behaviour.data(id_number=facts.id_number, until=on))
        return self.row

    def scorer_of(self, role: str, facts: ApplicantFacts,
                  kit: RiskKit) -> Callable[[BureauReport, Mapping[str, Any], int], scorer.Score] | None:
        served = self.champion if role == "champion" else self.challenger
        if served is None or served.model is None:
            return None
        model = served.model

        def score(report: BureauReport, bureau: Mapping[str, Any], dti: int) -> scorer.Score:
            del bureau, dti  # the row has them, computed point-in-time
            said = model.score_one(self.features(facts, kit, report))
            self.said[role] = said
            return scorer.Score(said.points, said.grade, tuple(f"risk.reason.{f}" for f in said.reasons))

        return score

    def sources(self, base: evaluation.Sources, role: str, facts: ApplicantFacts,
                kit: RiskKit) -> evaluation.Sources:
        """The review's sources with this role's model at the score stage (the interim scorer without one)."""
        return replace(base, score=self.scorer_of(role, facts, kit))

    def settle(self, session: Session, kit: RiskKit, facts: ApplicantFacts, result: evaluation.Evaluation,
               rules: CompiledRuleSet, base: evaluation.Sources, hits: set[str],
               fraud: fraud_check.Signals = fraud_check.Signals()) -> Assessment:
        """The assessment as decided, with the champion's and the shadow's scores stored (the shadow review
        sees the same fraud signals as the real one)."""
        assessment = result.assessment
        now = kit.clock.now()
        reached_score = assessment.score is not None
        if self.champion is not None and self.champion.model is None and reached_score:
            flag = RuleResult(Stage.SCORE, "model_unavailable", Outcome.FLAG, _log_integrity,
                              {"model": self.champion.label})
            decision = Decision.REFER if assessment.decision is Decision.APPROVE else assessment.decision
            assessment = replace(assessment, results=(*assessment.results, flag), decision=decision)
        said = self.said.get("champion")
        if self.champion is not None and said is not None and self.row is not None:
            serving.store(session, institution_id=facts.institution_id, application_number=facts.application_number,
                          served=self.champion, role="champion", score=said, decision=str(assessment.decision),
                          features=self.row, at=now)
        if self.challenger is not None and self.challenger.model is not None and result.gated is not None:
            # The shadow review goes on from the real one's gates (the same facts, hits and signals): only the
            # score and decision stages run again, with the challenger's score.
            shadow = evaluation.evaluate(rules, facts, replace(base, score=self.scorer_of("challenger", facts, kit)),
                                         blacklist_kinds=frozenset(hits), fraud=fraud, resume=result.gated)
            shadow_said = self.said.get("challenger")
            if shadow_said is not None and self.row is not None:
                serving.store(session, institution_id=facts.institution_id,
                              application_number=facts.application_number, served=self.challenger,
                              role="challenger", score=shadow_said, decision=str(shadow.assessment.decision),
                              features=self.row, at=now)
        return assessment


def champion_and_challenger(session: Session, institution_id: int) -> Models:
    """The institution's champion and challenger, loaded through the per-process caches (the pair as reference
    data, the artefacts by SHA-256)."""
    champion, challenger = serving.in_roles(session, institution_id)
    return Models(champion, challenger, session)
