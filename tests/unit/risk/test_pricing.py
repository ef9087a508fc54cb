"""Risk-based price and limit (issue 19 §3): the product's tables, and the offer the decision makes.

The offer is the grade's limit ∧ the largest whole number of ¥100 whose largest monthly payment (the
lending engine's schedule under the product's conventions) keeps the debt-service ratio within bound.
The properties: the offered amount never breaks the bound, one step more would (unless the grade's
limit set the offer), and the offer never rises for a worse grade or falls for a higher income.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from microcredit.lending.money import Money
from microcredit.products.product_schemas import GRADES, ProductTerms
from microcredit.products.service import payments
from microcredit.risk import pricing
from microcredit.risk.assessment import Outcome, PricingTerms

START = date(2026, 11, 25)
SLOW = settings(deadline=None, max_examples=40)  # each case builds a few dozen schedules


def yuan(text: str) -> Money:
    return Money.parse(text, "CNY")


def terms(**changes: Any) -> ProductTerms:
    base: dict[str, Any] = {
        "name_zh": "测试贷", "name_en": "Test loan", "amount_min": "2000.00", "amount_max": "50000.00",
        "term_min": 3, "term_max": 24,
        "repayment_methods": ["equal_installment", "equal_principal", "interest_monthly_principal_at_maturity"],
        "rate": {"kind": "by_grade", "grades": {"A": "7.2", "B": "8.4", "C": "9.6", "D": "10.5", "E": "11.4"}},
        "fees": [{"name": "担保费", "kind": "per_installment", "percent": "0.02", "payee": "guarantor"}],
        "penalty": {"basis": "uplift", "value_percent": "50"}, "customer_types": ["farmer"],
        "approval_policy": [{"up_to_amount": "50000.00", "worst_grade": "E", "levels": 1}],
        "limits": {"A": "50000.00", "B": "45000.00", "C": "40000.00", "D": "30000.00", "E": "20000.00"},
        "max_dsr_percent": "50", "active_from": "2026-01-01",
    }
    return ProductTerms.model_validate({**base, **changes})


def pricing_terms(product: ProductTerms, *, term: int = 12, method: str = "equal_installment") -> PricingTerms:
    return PricingTerms(
        rates={g: product.rate.rate_for(g) for g in GRADES},  # type: ignore[arg-type]
        limits={g: product.limit_for(g) for g in GRADES}, max_dsr_percent=product.max_dsr_percent,
        amount_min=product.amount_min,
        monthly_payment=payments.monthly_payment_of(product, term=term, method=method, start=START))


FARM = terms()
incomes = st.integers(1_000, 40_000).map(lambda y: Money(y * 100, "CNY"))
existing = st.integers(0, 8_000).map(lambda y: Money(y * 100, "CNY"))
methods = st.sampled_from(["equal_installment", "equal_principal", "interest_monthly_principal_at_maturity"])


# --- the product document --------------------------------------------------------------------------

def refusal(**changes: Any) -> tuple[str, str]:
    with pytest.raises(ValidationError) as caught:
        terms(**changes)
    first = caught.value.errors()[0]
    return ".".join(str(p) for p in first["loc"]), first["type"]


@pytest.mark.parametrize(("changes", "code"), [
    ({"limits": {"A": "50000.00", "B": "40000.00"}}, "limits_incomplete"),
    ({"limits": {"A": "40000.00", "B": "45000.00", "C": "30000.00", "D": "20000.00", "E": "10000.00"}},
     "limits_order"),
    ({"limits": {"A": "60000.00", "B": "45000.00", "C": "30000.00", "D": "20000.00", "E": "10000.00"}},
     "limit_above_max"),
    ({"limits": {"A": "50000.00", "B": "45000.00", "C": "30000.00", "D": "20000.00", "E": "1000.00"}},
     "limit_below_min"),
])
def test_the_limit_table_is_refused_field_and_code(changes: dict[str, Any], code: str) -> None:
    assert refusal(**changes) == ("limits", code)


@pytest.mark.parametrize("value", ["0", "101", "x"])
def test_the_debt_service_bound_is_a_percent_above_0_up_to_100(value: Any) -> None:
    assert refusal(max_dsr_percent=value)[0] == "max_dsr_percent"


def test_an_old_document_stays_valid_and_means_no_table_and_no_bound() -> None:
    old = terms(limits=None, max_dsr_percent=None).model_dump(mode="json")
    del old["limits"], old["max_dsr_percent"]
    parsed = ProductTerms.model_validate(old)
    assert (parsed.limits, parsed.max_dsr_percent) == (None, None)
    assert parsed.limit_for("E") == parsed.amount_max


def test_the_table_survives_a_round_trip() -> None:
    again = ProductTerms.model_validate(FARM.model_dump(mode="json"))
    assert again.limits == FARM.limits
    assert again.max_dsr_percent == Decimal(50)


# --- the payment the ratio counts -----------------------------------------------------------------

def test_the_monthly_payment_is_the_schedules_largest_installment() -> None:
    pay = payments.largest_monthly_payment(FARM, amount=yuan("12000.00"), term=12, method="equal_principal",
                                           annual_rate=Decimal("9.6"), start=START)
    # equal principal: ¥1,000 a month plus the first month's interest (~¥96) and the guarantor's 0.02 %.
    assert yuan("1090.00") < pay < yuan("1110.00")


def test_a_loan_repaying_at_maturity_counts_its_level_payment_not_the_balloon() -> None:
    at_maturity = payments.largest_monthly_payment(
        FARM, amount=yuan("12000.00"), term=12, method="interest_monthly_principal_at_maturity",
        annual_rate=Decimal("9.6"), start=START)
    level = payments.largest_monthly_payment(FARM, amount=yuan("12000.00"), term=12, method="equal_installment",
                                             annual_rate=Decimal("9.6"), start=START)
    assert at_maturity == level < yuan("1100.00")


# --- the offer ------------------------------------------------------------------------------------

@SLOW
@given(income=incomes, debts=existing, grade=st.sampled_from(GRADES), method=methods,
       term=st.integers(3, 24))
def test_the_offer_never_breaks_the_bound_and_one_step_more_would(income: Money, debts: Money, grade: str,
                                                                   method: str, term: int) -> None:
    p = pricing_terms(FARM, term=term, method=method)
    a = pricing.assess(p, grade=grade, asked=yuan("50000.00"), income=income, existing_payments=debts)
    budget = income.minor * 50 // 100 - debts.minor
    rate = p.rates[grade]
    assert (a.offer <= p.limits[grade] and a.offer.minor % 10_000 == 0) or a.offer == p.limits[grade]
    if a.offer.minor > 0:
        assert (debts + p.monthly_payment(a.offer, rate)).minor * 100 <= income.minor * 50
    if a.binding == "debt_service_ratio":
        assert p.monthly_payment(a.offer + pricing.STEP, rate).minor > budget


@SLOW
@given(income=incomes, debts=existing, method=methods)
def test_a_worse_grade_never_gets_a_larger_offer(income: Money, debts: Money, method: str) -> None:
    p = pricing_terms(FARM, method=method)
    offers = [pricing.assess(p, grade=g, asked=yuan("50000.00"), income=income, existing_payments=debts).offer
              for g in GRADES]
    assert offers == sorted(offers, reverse=True)


@SLOW
@given(low=incomes, more=st.integers(0, 20_000), debts=existing, grade=st.sampled_from(GRADES))
def test_a_higher_income_never_gets_a_smaller_offer(low: Money, more: int, debts: Money, grade: str) -> None:
    p = pricing_terms(FARM)
    first = pricing.assess(p, grade=grade, asked=yuan("50000.00"), income=low, existing_payments=debts)
    second = pricing.assess(p, grade=grade, asked=yuan("50000.00"), income=low + Money(more * 100, "CNY"),
                            existing_payments=debts)
    assert first.offer <= second.offer


@SLOW
@given(asked=st.integers(20, 500).map(lambda h: Money(h * 10_000, "CNY")), income=incomes, debts=existing,
       grade=st.sampled_from(GRADES), term=st.integers(3, 24))
def test_what_can_be_lent_never_exceeds_the_ask_the_grade_limit_or_the_income_bound(
        asked: Money, income: Money, debts: Money, grade: str, term: int) -> None:
    p = pricing_terms(FARM, term=term)
    a = pricing.assess(p, grade=grade, asked=asked, income=income, existing_payments=debts)
    # What the decision lets be lent: the ask within the offer, the counter amount above it, nothing on a fail.
    lent = {Outcome.PASS: asked, Outcome.FLAG: a.counter_amount, Outcome.FAIL: None}[a.outcome]
    if lent is None:
        assert a.offer < p.amount_min
        assert a.code in ("grade_limit", "debt_service_ratio")
        return
    assert p.amount_min <= lent <= asked
    assert lent <= p.limits[grade]
    assert a.dsr_limit is not None
    assert lent <= a.dsr_limit
    assert (debts + p.monthly_payment(lent, p.rates[grade])).minor * 100 <= income.minor * 50
    if a.outcome is Outcome.FLAG:  # the record names the bound that set the offer
        assert a.code == a.binding
        assert a.offer == (p.limits[grade] if a.code == "grade_limit" else a.dsr_limit)
        assert a.code == "grade_limit" or a.dsr_limit < p.limits[grade]


def test_within_the_offer_passes_and_above_it_flags_with_the_offer_as_counter() -> None:
    p = pricing_terms(FARM)
    within = pricing.assess(p, grade="B", asked=yuan("10000.00"), income=yuan("8000.00"),
                            existing_payments=yuan("500.00"))
    assert (within.code, within.outcome, within.counter_amount) == ("affordability", Outcome.PASS, None)
    # ¥4,000 × 50 % − ¥500 leaves ¥1,500 a month: about ¥17,000 over 12 months at 8.4 %.
    above = pricing.assess(p, grade="B", asked=yuan("30000.00"), income=yuan("4000.00"),
                           existing_payments=yuan("500.00"))
    assert (above.code, above.outcome) == ("debt_service_ratio", Outcome.FLAG)
    assert above.counter_amount == above.offer
    assert yuan("16000.00") <= above.offer <= yuan("18000.00")
    assert above.params()["offer"] == str(above.offer)
    assert above.params()["max_dsr"] == "50"


def test_the_grade_limit_binds_when_income_allows_more() -> None:
    a = pricing.assess(pricing_terms(FARM), grade="E", asked=yuan("25000.00"), income=yuan("30000.00"),
                       existing_payments=yuan("0.00"))
    assert (a.code, a.offer, a.outcome) == ("grade_limit", yuan("20000.00"), Outcome.FLAG)


def test_an_offer_below_the_smallest_amount_declines() -> None:
    a = pricing.assess(pricing_terms(FARM), grade="C", asked=yuan("5000.00"), income=yuan("2000.00"),
                       existing_payments=yuan("900.00"))
    assert (a.code, a.outcome, a.counter_amount) == ("debt_service_ratio", Outcome.FAIL, None)
    assert a.offer < FARM.amount_min


def test_without_an_income_the_bound_allows_nothing() -> None:
    a = pricing.assess(pricing_terms(FARM), grade="A", asked=yuan("5000.00"), income=None,
                       existing_payments=yuan("0.00"))
    assert (a.offer, a.outcome, a.dsr_percent) == (Money(0, "CNY"), Outcome.FAIL, None)


def test_without_a_bound_the_grade_limit_alone_sets_the_offer() -> None:
    a = pricing.assess(pricing_terms(terms(max_dsr_percent=None)), grade="D", asked=yuan("35000.00"),
                       income=yuan("100.00"), existing_payments=yuan("0.00"))
    assert (a.offer, a.dsr_limit, a.code) == (yuan("30000.00"), None, "grade_limit")


# --- in the decision --------------------------------------------------------------------------------

def _decide(asked: str, income: str, product: ProductTerms = FARM):
    from dataclasses import replace

    from tests.unit.risk.test_rules import SAMPLES, run

    facts = SAMPLES["clean"]
    facts = replace(facts, amount=yuan(asked), term=12, repayment_method="equal_installment",
                    monthly_income=yuan(income), monthly_debt_payments=yuan("0.00"), pricing=pricing_terms(product))
    return run(facts)


def test_the_decision_refers_above_the_offer_with_the_offer_as_max_amount_and_the_figures_stored() -> None:
    within = _decide("5000.00", "20000.00")
    assert within.decision.value == "approve"
    assert within.max_amount is None
    assert [r.code for r in within.results][-1] == "affordability"
    above = _decide("40000.00", "12000.00")  # the bureau says ~¥3,000 a month: DTI 53 % passes, DSR 54 % not
    last = above.results[-1]
    assert (above.decision.value, last.code, last.outcome) == ("refer", "debt_service_ratio", Outcome.FLAG)
    assert above.max_amount is not None
    assert str(above.max_amount) == last.params["offer"]
    assert {"grade", "rate", "grade_limit", "existing", "installment", "income", "dsr", "max_dsr", "offer"} \
        <= set(last.params)


def test_the_decision_declines_when_nothing_can_be_offered() -> None:
    a = _decide("2000.00", "6000.00")  # DTI 53 % passes; half the income is all taken by the ¥3,000
    assert (a.decision.value, a.results[-1].code, a.results[-1].outcome) == ("decline", "debt_service_ratio",
                                                                             Outcome.FAIL)


def test_a_debt_heavy_applicant_gets_the_products_lower_offer_not_the_rule_sets_knock_out() -> None:
    from dataclasses import replace

    from tests.unit.risk.test_rules import SAMPLES, run

    heavy = replace(SAMPLES["clean"], amount=yuan("40000.00"), term=12, repayment_method="equal_installment",
                    monthly_income=yuan("12000.00"), monthly_debt_payments=yuan("4000.00"))
    # Without the product's income bound, the rule set's knock-out declines: (4,000 + 40,000 / 12) / 12,000 = 61 %.
    plain = run(heavy)
    assert (plain.decision.value, "dti_above_limit") == ("decline", next(
        r.code for r in plain.results if r.outcome is Outcome.FAIL))
    # With it, the knock-out stands aside and the product offers what the income allows.
    bounded = run(replace(heavy, pricing=pricing_terms(FARM)))
    knock_out = next(r for r in bounded.results if r.code == "dti_above_limit")
    assert knock_out.outcome is Outcome.PASS
    last = bounded.results[-1]
    assert (bounded.decision.value, last.code) == ("refer", "debt_service_ratio")
    assert bounded.max_amount is not None
    assert bounded.max_amount < heavy.amount
    assert str(bounded.max_amount) == last.params["offer"]


def test_a_product_without_table_or_bound_decides_as_before() -> None:
    from dataclasses import replace

    from tests.unit.risk.test_rules import SAMPLES, run

    before = run(SAMPLES["clean"])
    assert before.decision.value == "approve"
    assert "affordability" not in {r.code for r in before.results}
    assert replace(SAMPLES["clean"]).pricing is None
