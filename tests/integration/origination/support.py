"""Arrangements for the origination tests: a published product, signed-in callers, fake reviews."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pytest

from microcredit.origination.service import review
from microcredit.platform.actor import Actor
from microcredit.products import service as products
from microcredit.products.product_schemas import ProductTerms
from microcredit.risk.assessment import ApplicantFacts, Assessment, Decision, Outcome, RuleResult, Stage
from tests.integration.products.test_products_api import terms as product_terms

PLAN = {"product_code": "FARM", "amount": "8000.00", "term": 6, "repayment_method": "equal_installment",
        "purpose": "agriculture", "purpose_note": "买化肥", "monthly_debt_payments": "300.00",
        "monthly_spending": "2500.00"}


def publish_product(session: Any, runtime: Any, inst: Any, code: str = "FARM", **changes: Any) -> None:
    """A published product (by-grade rate A 6 % … E 10 %, 1,000-20,000 over 3-12 months), with `changes`."""
    terms = product_terms(rate={"kind": "by_grade", "grades": {"A": "6", "B": "7", "C": "8", "D": "9",
                                                                  "E": "10"}}, **changes)
    actor = Actor.system(inst.id)
    products.catalogue.create_product(session=session, clock=runtime.clock, actor=actor, institution_id=inst.id,
                                      code=code, terms=ProductTerms.model_validate(terms))
    products.catalogue.publish(session=session, clock=runtime.clock, actor=actor, institution_id=inst.id,
                               institution_kind=inst.kind, business_date=inst.business_date, code=code, number=1,
                               calendars=products.offline_calendars)


def result(stage: Stage, code: str, outcome: Outcome = Outcome.PASS, **params: str | int) -> RuleResult:
    """One rule result."""
    return RuleResult(stage=stage, code=code, outcome=outcome, message=f"risk.rule.{code}", params=params)


CLEAN = (result(Stage.COMPLETENESS, "documents_present"), result(Stage.ELIGIBILITY, "age_in_range", age=36),
         result(Stage.IDENTITY, "id_verified"), result(Stage.BUREAU, "no_current_delinquency"),
         result(Stage.FRAUD, "velocity_id_number", Outcome.PASS, count=1), result(Stage.SCORE, "scored", score=712))


@dataclass
class FakeReview:
    """Answers each submission with the next of its assessments, and keeps the facts it was given."""

    answers: list[Assessment]
    seen: list[ApplicantFacts] = field(default_factory=list)

    def __call__(self, session: Any, facts: ApplicantFacts) -> Assessment:
        self.seen.append(facts)
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


def assessment(decision: Decision, results: Iterable[RuleResult] = CLEAN, **kw: Any) -> Assessment:
    """An assessment with these results (score 712 and grade B unless given)."""
    kw.setdefault("score", 712)
    kw.setdefault("grade", "B")
    return Assessment(decision=decision, results=tuple(results), rule_set="test@1", **kw)


def use_review(monkeypatch: pytest.MonkeyPatch, *answers: Assessment) -> FakeReview:
    """Make the API's submissions go through a fake review answering `answers` in turn."""
    fake = FakeReview(list(answers))
    make: Callable[[], review.Assessor] = lambda: fake  # noqa: E731
    monkeypatch.setattr(review, "default_assessor", make)
    return fake
