"""The automated review as a pure function: facts + adapters' answers + a compiled rule set → Assessment.

The stages run in order, in three gates, so that nothing is asked of an outside
service for an application that is already settled:

1. completeness and eligibility (no outside call);
2. identity (the ID check);
3. bureau, knock-out and fraud (the credit report);
4. then the scorer, and the score and decision stages.

After each gate: any `fail` declines, else any `missing` returns to the
borrower (with every `needed` item), and the later stages do not run (their
rules are not in the results). At the end any `flag` refers to people;
otherwise the application is approved. The envelope is written as rules of the
decision stage (a grade to decline, a flag outside the approval envelope). Last,
when the product has a limit table or a debt-service bound (`facts.pricing`), the
offer at the grade (`risk.pricing`) is one more decision result: within it passes;
above it flags (referred, `max_amount` the offer); an offer below the product's
smallest amount fails (declined, `grade_limit` or `debt_service_ratio`).

Variables the expressions see (`VARIABLES` in rules.py says from which stage):
see `facts_variables`, `bureau_variables` and docs/risk-rules.md.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from microcredit.integrations.bureau import BureauReport
from microcredit.integrations.id_check import IdCheck
from microcredit.lending.money import Money
from microcredit.risk import pricing, scorer
from microcredit.risk.assessment import ApplicantFacts, Assessment, Decision, Outcome, RuleResult, Stage
from microcredit.risk.fraud import check as fraud_check
from microcredit.risk.rules import CompiledRuleSet, Fired, run_stage

HARD_INQUIRIES = frozenset({"loan_approval", "card_approval", "guarantee_check"})
NO_INCOME_DTI = 999
GATES: tuple[tuple[Stage, ...], ...] = (
    (Stage.COMPLETENESS, Stage.ELIGIBILITY), (Stage.IDENTITY,), (Stage.BUREAU, Stage.KNOCKOUT, Stage.FRAUD),
    (Stage.SCORE, Stage.DECISION))


def _months_between(earlier: date, later: date) -> int:
    return max(0, (later.year - earlier.year) * 12 + later.month - earlier.month)


def age_of(facts: ApplicantFacts) -> int:
    """Completed years on the submission date (birth date given, else read from the ID number; -1 unknown)."""
    born = facts.birth_date
    if born is None:
        try:
            born = date(int(facts.id_number[6:10]), int(facts.id_number[10:12]), int(facts.id_number[12:14]))
        except (ValueError, IndexError):
            return -1
    on = facts.submitted_at.date()
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def term_months(facts: ApplicantFacts) -> int:
    """The term in months, at least 1 (weeks and days rounded up)."""
    return months_of(facts.term, facts.period_unit)


def months_of(term: int, period_unit: str) -> int:
    """A term of `period_unit`s in months, at least 1 (weeks and days rounded up)."""
    if period_unit == "month":
        return max(1, term)
    days = term * (7 if period_unit == "week" else 1)
    return max(1, -(-days // 30))


def _minor(m: Money | None) -> int | None:
    return None if m is None else m.minor


def facts_variables(facts: ApplicantFacts) -> dict[str, Any]:
    """`facts`: the application as the rules see it (money in fen; null where not given)."""
    return {
        "application_number": facts.application_number, "channel": facts.channel,
        "product_code": facts.product_code, "product_version": facts.product_version,
        "customer_type": facts.customer_type, "customer_types": sorted(facts.customer_types),
        "age": age_of(facts), "age_min": facts.age_min, "age_max": facts.age_max,
        "required_documents": sorted(facts.required_documents), "documents": sorted(facts.documents),
        "missing_documents": sorted(facts.required_documents - facts.documents),
        "amount": facts.amount.minor, "currency": facts.amount.currency, "term": facts.term,
        "period_unit": facts.period_unit, "term_months": term_months(facts),
        "repayment_method": facts.repayment_method, "purpose": facts.purpose,
        "region_code": facts.region_code or facts.id_number[:6], "province": facts.id_number[:2],
        "monthly_income": _minor(facts.monthly_income),
        "monthly_debt_payments": _minor(facts.monthly_debt_payments),
        "monthly_spending": _minor(facts.monthly_spending), "employment": facts.employment or "",
        "has_device": facts.device_id is not None, "has_bank_card": facts.bank_card is not None,
        "bureau_authorised": facts.bureau_authorised,
        # The product bounds the monthly repayment by the income (`max_dsr_percent`): its offer, not
        # the rule set's coarser debt-to-income knock-out, then decides how much can be lent.
        "income_bound": facts.pricing is not None and facts.pricing.max_dsr_percent is not None,
    }


def velocity_variables(facts: ApplicantFacts) -> dict[str, int]:
    """`velocity`: applications (this one included) from the same identifiers lately."""
    v = facts.velocity
    return {"id_number_24h": v.id_number_24h, "id_number_30d": v.id_number_30d, "phone_24h": v.phone_24h,
            "device_24h": v.device_24h, "ip_24h": v.ip_24h, "bank_card_24h": v.bank_card_24h}


def bureau_variables(report: BureauReport) -> dict[str, Any]:
    """`bureau`: what the rules and the scorer read from the report."""
    on = report.queried_on
    accounts = report.accounts
    worst = 0
    for a in accounts:
        for symbol in a.grid:
            if symbol.isdigit():
                worst = max(worst, int(symbol))
            elif symbol in "DZ":
                worst = max(worst, 4)
    revolving = [a for a in accounts if a.kind != "loan" and a.status != "closed"]
    limit = sum(a.limit_minor for a in revolving)
    hard = [i for i in report.inquiries if i.reason in HARD_INQUIRIES]
    open_public = [p for p in report.public_records if p.status == "open"]
    return {
        "has_file": report.has_file, "scenario": report.scenario or "",
        "history_months": max((_months_between(a.opened_on, on) for a in accounts), default=0),
        "accounts": len(accounts), "open_accounts": report.summary.open_accounts,
        "worst_status_24m": worst,
        "current_overdue_months": max((a.overdue_months for a in accounts), default=0),
        "current_overdue_amount": sum(a.overdue_minor for a in accounts),
        "utilisation_pct": (sum(a.balance_minor for a in revolving) * 100 // limit) if limit else 0,
        "inquiries_1m": sum((on - i.on).days <= 30 for i in hard),
        "inquiries_3m": sum((on - i.on).days <= 90 for i in hard),
        "inquiries_6m": sum((on - i.on).days <= 180 for i in hard),
        "open_public_records": len(open_public),
        "court_judgments": sum(p.kind == "court_judgment" for p in report.public_records),
        "enforcements": sum(p.kind == "enforcement" for p in report.public_records),
        "monthly_payments": report.summary.monthly_payments_minor,
        "total_balance": report.summary.total_balance_minor,
    }


def dti_pct(facts: ApplicantFacts, bureau: Mapping[str, Any]) -> int:
    """Debt-to-income after this loan, in percent: (max(stated, reported) debt payments + this loan's
    principal per month) / income; 999 without an income."""
    income = _minor(facts.monthly_income) or 0
    if income <= 0:
        return NO_INCOME_DTI
    debts = max(_minor(facts.monthly_debt_payments) or 0, int(bureau["monthly_payments"]))
    new = facts.amount.minor // term_months(facts)
    return min(NO_INCOME_DTI, (debts + new) * 100 // income)


def score_of(facts: ApplicantFacts, bureau: Mapping[str, Any], dti: int) -> scorer.Score:
    """The interim scorer on these facts."""
    return scorer.score(scorer.ScoreInput(
        has_file=bool(bureau["has_file"]), history_months=int(bureau["history_months"]),
        worst_status_24m=int(bureau["worst_status_24m"]),
        current_overdue_months=int(bureau["current_overdue_months"]),
        utilisation_pct=int(bureau["utilisation_pct"]), inquiries_3m=int(bureau["inquiries_3m"]),
        open_public_records=int(bureau["open_public_records"]), dti_pct=dti, age=age_of(facts),
        monthly_income_minor=_minor(facts.monthly_income)))


def affordability(facts: ApplicantFacts, terms: pricing.PricingTerms, grade: str,
                  bureau_payments: int) -> pricing.Affordability:
    """The offer at `grade`: existing payments are the larger of the stated and the bureau's (as `dti_pct`)."""
    existing = max(_minor(facts.monthly_debt_payments) or 0, bureau_payments)
    return pricing.assess(terms, grade=grade, asked=facts.amount, income=facts.monthly_income,
                          existing_payments=Money(existing, facts.amount.currency))


@dataclass(frozen=True)
class Sources:
    """The outside answers, asked only when a stage needs them."""

    identity: Callable[[], IdCheck]
    bureau: Callable[[], BureauReport]
    # The score stage's scorer (the champion model, through `risk.registry`); None: the interim scorer.
    score: Callable[[BureauReport, Mapping[str, Any], int], scorer.Score] | None = None


@dataclass(frozen=True)
class Gated:
    """The review as it stood when the application passed the gates before the score: what fired, the report,
    its variables and every variable the rules had been given. A second review of the same application with
    another scorer (the challenger's, in the shadow) goes on from here (`evaluate(…, resume=)`) instead of
    running the gates' rules again: with the same facts, blacklist hits and fraud signals it gives exactly what
    a whole review would."""

    fired: tuple[Fired, ...]
    report: BureauReport
    bureau: Mapping[str, Any]
    dti: int
    variables: tuple[tuple[str, Any], ...]


@dataclass(frozen=True)
class Evaluation:
    """The assessment and the report it read (None when no stage needed it); `gated`: the review before the
    score, when it reached the score stage."""

    assessment: Assessment
    report: BureauReport | None
    gated: Gated | None = None


def _to_result(f: Fired) -> RuleResult:
    return RuleResult(stage=f.stage, code=f.code, outcome=f.outcome, message=f.message, params=f.params)


def evaluate(rules: CompiledRuleSet, facts: ApplicantFacts, sources: Sources, *,
             blacklist_kinds: frozenset[str] = frozenset(),
             fraud: fraud_check.Signals = fraud_check.Signals(), resume: Gated | None = None) -> Evaluation:
    """Run the review of one application (pure: no database, the outside answers come through `sources`).

    `fraud`: the fraud signals the service gathered (the identifier graph, the anomaly score …): the CEL rules
    of the fraud stage read them as `fraud`, and the built-in checks of `fraud/check.py` add their results to
    the stage (the defaults say nothing: no ring, no anomaly). `resume`: the gates of an earlier review of the
    same application under the same rules (its `gated`): only the score and the decision run, with
    `sources.score`."""
    # The version's context for this thread (parameters converted once); every other variable is set
    # here before the rules that read it run (a later gate's variables left from the previous application
    # are never read: its rules do not run unless the gate sets them first).
    context = rules.context()
    variables: dict[str, Any] = {}

    def put(name: str, value: Any) -> None:
        variables[name] = value
        context.add_variable(name, value)

    by_stage = {stage: (compiled, batch) for stage, compiled, batch in rules.stages}
    fired: list[Fired] = []
    report: BureauReport | None = None
    points: scorer.Score | None = None
    offer: pricing.Affordability | None = None
    gated: Gated | None = None
    gates = GATES
    if resume is None:
        put("facts", facts_variables(facts))
        put("velocity", velocity_variables(facts))
        put("blacklist", {"hit": bool(blacklist_kinds), "kinds": sorted(blacklist_kinds)})
    else:
        for name, value in resume.variables:
            context.add_variable(name, value)
        fired, report, bureau, dti = list(resume.fired), resume.report, resume.bureau, resume.dti
        gated, gates = resume, GATES[-1:]

    def settle(decision: Decision) -> Evaluation:
        needed = tuple(dict.fromkeys(n for f in fired if f.outcome == Outcome.MISSING for n in f.needed))
        max_amount = None
        if decision == Decision.REFER and points is not None:
            limit = rules.parameters.get("approve_max_amount")
            grades = rules.parameters.get("approve_grades") or ()
            if isinstance(limit, int) and points.grade in grades and facts.amount.minor > limit > 0:
                max_amount = Money(limit, facts.amount.currency)
            # The product's offer (grade limit ∧ income's bound) is a counter-offer too: the lower one stands.
            counter = offer.counter_amount if offer is not None else None
            if counter is not None and (max_amount is None or counter < max_amount):
                max_amount = counter
        return Evaluation(Assessment(
            decision=decision, results=tuple(_to_result(f) for f in fired), rule_set=rules.label,
            score=points.points if points else None, grade=points.grade if points else None,
            reasons=points.reasons if points else (), needed=needed if decision == Decision.RETURN else (),
            max_amount=max_amount), report, gated)

    for gate in gates:
        if gate[0] == Stage.IDENTITY:
            check = sources.identity()
            put("identity", {"result": check.result, "matched": check.result == "match", "source": check.source})
        elif gate[0] == Stage.BUREAU:
            if not facts.bureau_authorised:
                # No query without the applicant's authorisation (credit-reporting rules): not a CEL rule,
                # since the report would be fetched before any rule of the stage could say no.
                fired.append(Fired(Stage.BUREAU, "bureau_not_authorised", Outcome.MISSING,
                                   "risk.rule.bureau_not_authorised", {}, ("bureau_authorisation",)))
                return settle(Decision.RETURN)
            report = sources.bureau()
            bureau = bureau_variables(report)
            dti = dti_pct(facts, bureau)
            put("bureau", bureau)
            put("dti_pct", dti)
        elif gate[0] == Stage.SCORE:
            assert report is not None
            if gated is None:
                gated = Gated(tuple(fired), report, bureau, dti, tuple(variables.items()))
            points = sources.score(report, bureau, dti) if sources.score else score_of(facts, bureau, dti)
            context.add_variable("score", points.points)
            context.add_variable("grade", points.grade)
        for stage in gate:
            if stage == Stage.FRAUD:
                put("fraud", fraud.variables())
            compiled, batch = by_stage[stage]
            fired.extend(run_stage(compiled, batch, context))
            if stage == Stage.FRAUD:
                thresholds = fraud_check.Thresholds.of(rules.parameters, anomaly_review=fraud.anomaly_review)
                fired.extend(fraud_check.results(fraud, thresholds))
        outcomes = {f.outcome for f in fired}
        if Outcome.FAIL in outcomes:
            return settle(Decision.DECLINE)
        if Outcome.MISSING in outcomes:
            return settle(Decision.RETURN)
    if facts.pricing is not None and points is not None and points.grade in facts.pricing.rates:
        offer = affordability(facts, facts.pricing, points.grade, int(bureau["monthly_payments"]))
        fired.append(Fired(Stage.DECISION, offer.code, offer.outcome, f"risk.rule.{offer.code}", offer.params(), ()))
        if offer.outcome is Outcome.FAIL:
            return settle(Decision.DECLINE)
    return settle(Decision.REFER if any(f.outcome == Outcome.FLAG for f in fired) else Decision.APPROVE)
