"""`assess`: the automated pre-review and decision of one application, and the credit reports it read."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from microcredit.audit import service as audit
from microcredit.errors import NotFound
from microcredit.integrations.bureau import BureauReport, SimulatedBureau
from microcredit.integrations.id_check import IdCheck
from microcredit.platform.actor import Actor
from microcredit.risk import evaluation
from microcredit.risk import repository as repo
from microcredit.risk.assessment import ApplicantFacts, Assessment, Decision, Outcome, RuleResult, Stage
from microcredit.risk.fraud import service as fraud
from microcredit.risk.models import StoredBureauReport
from microcredit.risk.service import blacklist, rulesets
from microcredit.risk.service.kit import RiskKit, current
from microcredit.risk.service.modelling import champion_and_challenger

# Checks that send an application the rules would approve to people instead: each answers a reason code
# (shown as the rule `risk.rule.<code>`) or None. Domains above risk register theirs from the composition
# root (early warning: a borrower frozen by a warning's action).
ReferralCheck = Callable[[Session, ApplicantFacts, RiskKit], str | None]
_REFERRALS: dict[str, ReferralCheck] = {}


def register_referral(name: str, check: ReferralCheck) -> None:
    """Add (or replace) a referral check."""
    _REFERRALS[name] = check


def _referred(session: Session, facts: ApplicantFacts, kit: RiskKit, assessment: Assessment) -> Assessment:
    """An approval turned into a referral when a registered check names a reason."""
    if assessment.decision is not Decision.APPROVE:
        return assessment
    for check in _REFERRALS.values():
        code = check(session, facts, kit)
        if code is not None:
            flag = RuleResult(Stage.DECISION, code, Outcome.FLAG, f"risk.rule.{code}")
            return replace(assessment, decision=Decision.REFER, results=(*assessment.results, flag))
    return assessment


def assess(session: Session, facts: ApplicantFacts, *, kit: RiskKit | None = None) -> Assessment:
    """Review one submitted application and decide: approve, decline, refer or return (see evaluation.py).

    Runs the institution's default rule set in force (compiled once per
    version), asks the ID check and the credit bureau only when a stage needs
    them, and stores the report it read (its id in `bureau_report_id`). The
    score stage uses the institution's champion model when there is one (else
    the interim scorer), and a challenger scores the same application in the
    shadow (see `modelling`). Writes the report, the models' scores, the
    application's identifiers for the fraud graph, and a fraud case when a
    fraud-stage rule refers or declines (fraud/service), all in the caller's
    transaction. An approval is referred to people when a registered referral
    check names a reason (`register_referral`: early warning's frozen borrowers).
    """
    kit = kit or current()
    rules = rulesets.in_force(session=session, clock=kit.clock, institution_id=facts.institution_id)
    hits = blacklist.hits(session=session, kit=kit, institution_id=facts.institution_id, facts=facts)
    checks: list[IdCheck] = []

    def identity() -> IdCheck:
        if not checks:  # asked once, even when the challenger's shadow review runs again
            checks.append(kit.id_verifier.verify(id_number=facts.id_number, name=facts.name))
        return checks[-1]

    def bureau() -> BureauReport:
        return kit.bureau.report(id_number=facts.id_number, name=facts.name, on=facts.submitted_at.date())

    gathered = fraud.gather(session, kit, facts)
    models = champion_and_challenger(session, facts.institution_id)
    sources = evaluation.Sources(identity=identity, bureau=bureau)
    result = evaluation.evaluate(rules, facts, models.sources(sources, "champion", facts, kit),
                                 blacklist_kinds=frozenset(hits), fraud=gathered.signals)
    assessment = models.settle(session, kit, facts, result, rules, sources, hits, fraud=gathered.signals)
    fraud.cases.open_for_review(session, kit, facts, assessment, gathered)
    if result.report is not None:
        stored = store_report(session=session, kit=kit, institution_id=facts.institution_id,
                              id_number=facts.id_number, report=result.report,
                              application_number=facts.application_number)
        assessment = replace(assessment, bureau_report_id=str(stored))
    return _referred(session, facts, kit, assessment)


def store_report(*, session: Session, kit: RiskKit, institution_id: int, id_number: str, report: BureauReport,
                 application_number: str | None) -> int:
    """Keep a report read for a decision; its id (written at once, without an ORM object or a flush)."""
    return repo.insert_report(session, {
        "institution_id": institution_id, "id_number_index": kit.keys.blind_index(id_number, domain="id_number"),
        "application_number": application_number, "source": report.source, "report_number": report.report_number,
        "queried_on": report.queried_on, "body": report.to_json(), "created_at": kit.clock.now()})


def bureau_report(*, session: Session, kit: RiskKit | None = None, actor: Actor, institution_id: int | None,
                  report_id: int) -> StoredBureauReport:
    """A stored report, audited (reading a credit report is reading personal information).

    `institution_id` None: the platform may read any institution's.
    """
    kit = kit or current()
    row = repo.bureau_report(session, report_id)
    if row is None or (institution_id is not None and row.institution_id != institution_id):
        raise NotFound()
    audit.record(session=session, clock=kit.clock, actor=actor, action="risk_bureau_report.viewed",
                 entity_type="risk_bureau_report", entity_id=row.id, institution_id=row.institution_id,
                 after={"application_number": row.application_number, "report_number": row.report_number})
    return row


def simulated_report(*, kit: RiskKit | None = None, id_number: str, name: str, on: date) -> dict[str, Any]:
    """What the bureau simulator answers for an ID number (demo: nothing is stored)."""
    del kit
    return SimulatedBureau().report(id_number=id_number, name=name, on=on).to_json()
