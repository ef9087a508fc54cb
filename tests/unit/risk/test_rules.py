"""The rules: compiled once, refused at save time when wrong, and each default rule firing on its sample."""

from __future__ import annotations

from dataclasses import replace

import pytest

from microcredit.integrations.bureau import SimulatedBureau
from microcredit.integrations.id_check import IdCheck, SimulatedIdVerifier
from microcredit.lending.money import Money
from microcredit.risk import defaults, evaluation, samples
from microcredit.risk.assessment import ApplicantFacts, Decision, Outcome, Stage
from microcredit.risk.errors import RulesInvalid
from microcredit.risk.rules import Rule, check, compile_rules
from microcredit.risk.service.rulesets import validate

RULES = compile_rules("default@1", defaults.DEFAULT_RULES, defaults.DEFAULT_PARAMETERS)


def run(facts: ApplicantFacts, *, rules=RULES, blacklisted: bool = False, calls: list[str] | None = None):
    calls = [] if calls is None else calls
    bureau, verifier = SimulatedBureau(), SimulatedIdVerifier()

    def identity() -> IdCheck:
        calls.append("identity")
        return verifier.verify(id_number=facts.id_number, name=facts.name)

    def report():
        calls.append("bureau")
        return bureau.report(id_number=facts.id_number, name=facts.name, on=facts.submitted_at.date())

    kinds = frozenset({"id_number"}) if blacklisted else frozenset()
    return evaluation.evaluate(rules, facts, evaluation.Sources(identity=identity, bureau=report),
                               blacklist_kinds=kinds).assessment


def fired(assessment) -> set[str]:
    return {r.code for r in assessment.results if r.outcome != Outcome.PASS}


SAMPLES = samples.samples()


def test_a_clean_application_is_approved_with_every_rule_passed():
    a = run(SAMPLES["clean"])
    assert a.decision == Decision.APPROVE
    assert fired(a) == set()
    assert {r.code for r in a.results} == {r.code for r in defaults.DEFAULT_RULES}
    assert a.grade in ("A", "B")
    assert a.score is not None
    assert a.rule_set == "default@1"


@pytest.mark.parametrize(("sample", "rule", "decision"), [
    ("missing_documents", "documents_missing", Decision.RETURN),
    ("missing_income", "income_missing", Decision.RETURN),
    ("too_old", "age_out_of_range", Decision.DECLINE),
    ("name_mismatch", "identity_name_mismatch", Decision.RETURN),
    ("id_not_found", "identity_not_found", Decision.DECLINE),
    ("court_judgment", "public_record_open", Decision.DECLINE),
    ("serious_delinquency", "serious_delinquency", Decision.DECLINE),
    ("many_inquiries", "too_many_inquiries", Decision.DECLINE),
    ("high_dti", "dti_above_limit", Decision.DECLINE),
    ("velocity", "velocity_id_number", Decision.REFER),
    ("velocity", "velocity_phone", Decision.REFER),
    ("velocity", "velocity_device", Decision.REFER),
    ("income_below_spending", "income_below_spending", Decision.REFER),
    ("large_amount", "outside_approval_envelope", Decision.REFER),
    ("late_payments", "outside_approval_envelope", Decision.REFER),
])
def test_each_default_rule_fires_on_its_sample(sample, rule, decision):
    a = run(SAMPLES[sample])
    assert rule in fired(a)
    assert a.decision == decision


def test_the_blacklist_declines():
    a = run(SAMPLES["blacklisted"], blacklisted=True)
    assert fired(a) == {"blacklist_hit"}
    assert a.decision == Decision.DECLINE


@pytest.mark.parametrize(("changes", "rule"), [
    ({"customer_type": "enterprise"}, "customer_type_not_eligible"),
    ({"velocity": samples.Velocity(ip_24h=9)}, "velocity_ip"),
    ({"velocity": samples.Velocity(bank_card_24h=3)}, "velocity_bank_card"),
])
def test_the_other_rules_fire(changes, rule):
    assert rule in fired(run(replace(SAMPLES["clean"], **changes)))


def test_the_region_rule_and_the_decline_grade_read_the_parameters():
    params = {**defaults.DEFAULT_PARAMETERS, "served_provinces": ["44"], "decline_grades": ["A", "B", "C", "D", "E"]}
    rules = compile_rules("x@2", defaults.DEFAULT_RULES, params)
    assert "region_not_served" in fired(run(SAMPLES["clean"], rules=rules))
    params["served_provinces"] = ["11"]
    rules = compile_rules("x@3", defaults.DEFAULT_RULES, params)
    a = run(SAMPLES["clean"], rules=rules)
    assert "grade_declined" in fired(a)
    assert a.decision == Decision.DECLINE


def test_returns_list_what_is_needed_and_messages_carry_their_params():
    a = run(replace(SAMPLES["missing_documents"], monthly_income=None))
    assert a.decision == Decision.RETURN
    assert set(a.needed) == {"id_card_back", "monthly_income"}
    too_old = run(SAMPLES["too_old"])
    [r] = [r for r in too_old.results if r.code == "age_out_of_range"]
    assert r.message == "risk.rule.age_out_of_range"
    assert r.params == {"age": 76, "min": 18, "max": 60}


def test_no_outside_service_is_asked_for_an_application_already_settled():
    calls: list[str] = []
    run(SAMPLES["missing_income"], calls=calls)
    assert calls == []
    run(SAMPLES["id_not_found"], calls=calls)
    assert calls == ["identity"]
    calls.clear()
    run(SAMPLES["clean"], calls=calls)
    assert calls == ["identity", "bureau"]


def test_a_larger_amount_inside_the_grade_envelope_is_referred_with_a_counter_offer():
    a = run(SAMPLES["large_amount"])
    if a.grade in ("A", "B"):
        assert a.max_amount == Money(defaults.DEFAULT_PARAMETERS["approve_max_amount"], "CNY")


def test_a_rule_that_breaks_at_run_time_refers_instead_of_passing():
    rule = Rule(Stage.FRAUD, "broken", "facts.amount / (facts.term - facts.term) > 1", Outcome.FAIL)
    rules = compile_rules("x@1", (*defaults.DEFAULT_RULES, rule), defaults.DEFAULT_PARAMETERS)
    a = run(SAMPLES["clean"], rules=rules)
    [r] = [r for r in a.results if r.code == "broken"]
    assert r.outcome == Outcome.FLAG
    assert r.message == "risk.rule.rule_error"
    assert a.decision == Decision.REFER


@pytest.mark.parametrize(("rule", "field", "code"), [
    (Rule(Stage.KNOCKOUT, "bad_syntax", "bureau.inquiries_3m >", Outcome.FAIL), "expression",
     "rule_does_not_compile"),
    (Rule(Stage.COMPLETENESS, "too_early", "bureau.inquiries_3m > 1", Outcome.FAIL), "expression",
     "rule_unknown_variable"),
    (Rule(Stage.KNOCKOUT, "typo", "bureau.inquiries_3mm > 1", Outcome.FAIL), "expression", "rule_does_not_compile"),
    (Rule(Stage.KNOCKOUT, "not_bool", "bureau.inquiries_3m + 1", Outcome.FAIL), "expression", "rule_not_boolean"),
    (Rule(Stage.KNOCKOUT, "mixed_types", "dti_pct + 1.5 > 1.0", Outcome.FAIL), "expression", "rule_does_not_compile"),
    (Rule(Stage.KNOCKOUT, "bad_param", "dti_pct > 1", Outcome.FAIL, params={"x": "dti_pct +"}), "params.x",
     "rule_does_not_compile"),
    (Rule(Stage.KNOCKOUT, "Bad Code", "dti_pct > 1", Outcome.FAIL), "code", "rule_invalid"),
])
def test_a_wrong_rule_is_refused_naming_the_rule_and_the_field(rule, field, code):
    rules = [*defaults.DEFAULT_RULES, rule]
    with pytest.raises(RulesInvalid) as caught:
        validate(rules, defaults.DEFAULT_PARAMETERS)
    [problem] = caught.value.problems
    assert (problem.field, problem.code) == (f"rules[{len(rules) - 1}].{field}", code)
    assert caught.value.code == code


def test_the_default_rules_and_comprehension_macros_pass_the_check():
    macro = Rule(Stage.COMPLETENESS, "selfie", 'facts.documents.exists(d, d == "selfie")', Outcome.FLAG)
    assert check([*defaults.DEFAULT_RULES, macro], defaults.DEFAULT_PARAMETERS) == []
    validate([*defaults.DEFAULT_RULES, macro], defaults.DEFAULT_PARAMETERS)


def test_rules_survive_their_json_form():
    assert [Rule.from_json(r.to_json()) for r in defaults.DEFAULT_RULES] == list(defaults.DEFAULT_RULES)


def test_without_the_bureau_authorisation_no_report_is_fetched_and_the_borrower_is_asked():
    calls: list[str] = []
    a = run(replace(SAMPLES["clean"], bureau_authorised=False), calls=calls)
    assert calls == ["identity"]
    assert a.decision == Decision.RETURN
    assert a.needed == ("bureau_authorisation",)
    assert [r.code for r in a.results if r.outcome == Outcome.MISSING] == ["bureau_not_authorised"]
