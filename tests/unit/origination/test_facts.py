"""The plan checked against a product version, and the facts risk reads."""

from __future__ import annotations

from datetime import UTC, date, datetime

from microcredit.lending.money import Money
from microcredit.origination.service.facts import Applicant, Submission, build_facts, check_plan, region_of
from microcredit.platform.validators import validate_id_number
from microcredit.products.product_schemas import ProductTerms
from microcredit.risk.assessment import Velocity

TERMS = ProductTerms.model_validate({
    "name_zh": "助农贷", "name_en": "Farm loan", "amount_min": "1000.00", "amount_max": "20000.00",
    "term_min": 3, "term_max": 12, "repayment_methods": ["equal_installment"],
    "rate": {"kind": "fixed", "annual_rate": "10"}, "penalty": {"basis": "uplift", "value_percent": "50"},
    "customer_types": ["farmer"], "age_min": 20, "age_max": 60, "required_documents": ["id_card", "income_proof"],
    "approval_policy": [{"up_to_amount": "20000.00", "worst_grade": "E", "levels": 2}], "active_from": "2026-01-01"})


def cny(text: str) -> Money:
    return Money.parse(text, "CNY")


def test_a_plan_inside_the_version_has_no_problems():
    assert check_plan(TERMS, amount=cny("1000.00"), term=12, repayment_method="equal_installment",
                      customer_type="farmer", age=60) == []


def test_each_problem_names_its_field():
    problems = check_plan(TERMS, amount=cny("20000.01"), term=2, repayment_method="bullet",
                          customer_type="consumer", age=19)
    assert [(p.field, p.code) for p in problems] == [
        ("amount", "amount_out_of_range"), ("term", "term_out_of_range"), ("repayment_method", "method_not_offered"),
        ("customer_type", "customer_type_not_eligible"), ("age", "age_not_eligible")]
    assert "1000.00" in problems[0].message_en
    assert "等额本息" in problems[2].message_zh


def _applicant(number: str = "360102199001011234", branch_region: str | None = "110101") -> Applicant:
    first17 = number[:17]
    from microcredit.platform.validators import id_check_character

    resident = validate_id_number(first17 + id_check_character(first17))
    return Applicant(name="王小明", resident=resident, phone="13700000001", customer_type="farmer",
                     branch_region=branch_region)


def test_region_comes_from_the_id_number_or_the_branch_for_a_province_level_code():
    assert region_of(_applicant()) == "360102"
    assert region_of(_applicant("360000199001011234")) == "110101"
    assert region_of(_applicant("360000199001011234", branch_region=None)) == "360000"


def test_facts_carry_the_plan_the_applicant_and_the_product():
    submitted = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
    submission = Submission(
        institution_id=7, number="MC-20261202-000001", submitted_at=submitted, channel="online", product_code="FARM",
        product_version=3, amount=cny("8000.00"), term=6, period_unit="month", repayment_method="equal_installment",
        purpose="agriculture", monthly_income=cny("9000.00"), monthly_debt_payments=None,
        monthly_spending=cny("2000.00"), employment="farmer", device_id="dev-1", ip="203.0.113.7")
    velocity = Velocity(id_number_24h=2, id_number_30d=3, phone_24h=2, device_24h=1, ip_24h=4)
    facts = build_facts(submission, _applicant(), TERMS, documents=frozenset({"id_card"}), velocity=velocity)
    assert (facts.birth_date, facts.region_code, facts.id_number[:6]) == (date(1990, 1, 1), "360102", "360102")
    assert (facts.customer_types, facts.age_min, facts.age_max) == (frozenset({"farmer"}), 20, 60)
    assert facts.required_documents == frozenset({"id_card", "income_proof"})
    assert (facts.documents, facts.velocity, facts.product_version) == (frozenset({"id_card"}), velocity, 3)
    assert (facts.amount, facts.monthly_debt_payments, facts.ip) == (cny("8000.00"), None, "203.0.113.7")
