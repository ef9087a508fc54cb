"""A product version's terms: field-by-field validation, and the cap check's sample loans.

The cap check prices the corners of a version (every method × smallest/largest amount ×
shortest/longest term) at its highest rate; the property below checks the claim that no loan
inside the ranges has a higher APR than the worst corner, for the fee kinds products may have.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, get_args

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from microcredit.ledger.chart import PRODUCT_ROLES, ROLE_TYPES
from microcredit.lending.money import Money
from microcredit.products.product_schemas import PostingRoleName, ProductTerms
from microcredit.products.service import caps, offline_calendars, quote
from microcredit.products.service.caps import CapCheck, CapRule

ON = date(2026, 11, 25)


def terms(**changes: Any) -> dict[str, Any]:
    """Valid terms (fixed 10 %, 1,000-20,000 over 3-12 months), with `changes`."""
    base: dict[str, Any] = {
        "name_zh": "测试贷", "name_en": "Test loan", "amount_min": "1000.00", "amount_max": "20000.00",
        "term_min": 3, "term_max": 12, "repayment_methods": ["equal_installment"],
        "rate": {"kind": "fixed", "annual_rate": "10"}, "penalty": {"basis": "uplift", "value_percent": "50"},
        "customer_types": ["consumer"], "approval_policy": [{"up_to_amount": "20000.00", "worst_grade": "E",
                                                             "levels": 1}],
        "active_from": "2026-01-01",
    }
    return {**base, **changes}


def refusal(data: dict[str, Any]) -> tuple[str, str]:
    """The first error's field (dotted) and code."""
    with pytest.raises(ValidationError) as caught:
        ProductTerms.model_validate(data)
    first = caught.value.errors()[0]
    return ".".join(str(p) for p in first["loc"]), first["type"]


@pytest.mark.parametrize(("changes", "field", "code"), [
    ({"amount_min": "30000.00"}, "amount_max", "max_below_min"),
    ({"term_min": 13}, "term_max", "max_below_min"),
    ({"age_min": 40, "age_max": 30}, "age_max", "max_below_min"),
    ({"active_to": "2025-12-31"}, "active_to", "max_below_min"),
    ({"repayment_methods": ["equal_installment", "equal_installment"]}, "repayment_methods", "duplicate"),
    ({"repayment_methods": ["interest_monthly_principal_at_maturity"], "period_unit": "week"},
     "repayment_methods", "interest_only_months"),
    ({"repayment_methods": ["interest_quarterly_principal_at_maturity"], "term_min": 4, "term_max": 5},
     "repayment_methods", "quarterly_term"),
    ({"rate": {"kind": "fixed"}}, "rate.annual_rate", "required"),
    ({"rate": {"kind": "fixed", "annual_rate": "101"}}, "rate.annual_rate", "less_than_equal"),
    ({"rate": {"kind": "fixed", "annual_rate": 12.5}}, "rate.annual_rate", "rate_not_string"),
    ({"rate": {"kind": "by_grade", "grades": {"A": "8", "B": "9"}}}, "rate.grades", "grades_incomplete"),
    ({"rate": {"kind": "by_grade", "grades": {"A": "8", "B": "9", "C": "7", "D": "10", "E": "11"}}},
     "rate.grades", "grades_order"),
    ({"fees": [{"name": "砍头息", "kind": "upfront_deducted", "amount": "100.00", "payee": "lender"}]},
     "fees.0.kind", "upfront_deduction_refused"),
    ({"fees": [{"name": "费", "kind": "per_installment", "payee": "platform"}]}, "fees.0.percent",
     "fee_amount_or_percent"),
    ({"fees": [{"name": "费", "kind": "per_installment", "percent": "1", "payee": "bank"}]}, "fees.0.payee",
     "literal_error"),
    ({"fees": [{"name": "费", "kind": "upfront_financed", "percent": "1", "basis": "installment", "payee": "lender"}]},
     "fees.0.basis", "fee_basis_not_allowed"),
    ({"fees": [{"name": "费", "kind": "per_installment", "amount": "9.00", "basis": "installment", "payee": "lender"}]},
     "fees.0.basis", "fee_basis_not_allowed"),
    ({"repayment_methods": ["revolving_daily"], "fees": [{"name": "费", "kind": "per_installment", "percent": "1",
                                                          "payee": "lender"}]}, "fees", "revolving_no_fees"),
    ({"grace_on_principal_periods": 3}, "grace_on_principal_periods", "grace_exceeds_periods"),
    ({"approval_policy": [{"up_to_amount": "20000.00", "worst_grade": "E", "levels": 4}]},
     "approval_policy.0.levels", "less_than_equal"),
    ({"approval_policy": [{"up_to_amount": "20000.00", "worst_grade": "E", "levels": 1},
                          {"up_to_amount": "10000.00", "worst_grade": "E", "levels": 2}]},
     "approval_policy", "approval_policy_order"),
    ({"approval_policy": [{"up_to_amount": "10000.00", "worst_grade": "E", "levels": 1}]},
     "approval_policy", "approval_policy_gap"),
    ({"customer_types": []}, "customer_types", "too_short"),
    ({"required_documents": ["id_card", "selfie"]}, "required_documents.1", "literal_error"),
])
def test_a_bad_field_is_refused_by_name(changes: dict[str, Any], field: str, code: str) -> None:
    assert refusal(terms(**changes)) == (field, code)


def test_valid_terms_read_back_the_same() -> None:
    parsed = ProductTerms.model_validate(terms(rate={"kind": "by_grade", "grades": {
        "A": "8", "B": "9", "C": "10", "D": "11", "E": "12"}}))
    again = ProductTerms.model_validate(parsed.model_dump(mode="json"))
    assert again == parsed
    assert parsed.rate.highest == ("rate.grades.E", Decimal("12"))
    assert (parsed.rate.lowest, parsed.rate.rate_for("B"), parsed.rate.rate_for(None)) == (
        Decimal("8"), Decimal("9"), Decimal("12"))


def test_the_approval_levels_follow_the_first_row_that_covers_the_loan() -> None:
    parsed = ProductTerms.model_validate(terms(approval_policy=[
        {"up_to_amount": "5000.00", "worst_grade": "B", "levels": 1},
        {"up_to_amount": "20000.00", "worst_grade": "E", "levels": 3}]))
    assert parsed.levels_for(Money.parse("5000.00", "CNY"), "A") == 1
    assert parsed.levels_for(Money.parse("5000.00", "CNY"), "C") == 3
    assert parsed.levels_for(Money.parse("5000.01", "CNY"), "A") == 3


def _check(data: dict[str, Any], lpr: str | None = "3") -> CapCheck:
    parsed = ProductTerms.model_validate(data)
    return CapCheck(on=ON, institution_kind="small_loan_company", caps=CapRule(Decimal("24"), Decimal("4")),
                    lpr_percent=None if lpr is None else Decimal(lpr),
                    samples=caps.samples_of(parsed, on=ON, calendars=offline_calendars),
                    rate_field=parsed.rate.highest[0])


def test_the_cap_check_at_its_edges() -> None:
    # No fees: the APR is the nominal rate (monthly IRR x 12), so 24 % is at the cap, not above it.
    assert _check(terms(rate={"kind": "fixed", "annual_rate": "24"})).status == "needs_approval"
    assert _check(terms(rate={"kind": "fixed", "annual_rate": "24.01"})).status == "above_cap"
    assert _check(terms(rate={"kind": "fixed", "annual_rate": "12"})).status == "ok"
    assert _check(terms(rate={"kind": "fixed", "annual_rate": "12.01"})).status == "needs_approval"
    # No LPR in force: nothing can be shown to be within 4 x LPR.
    assert _check(terms(), lpr=None).status == "needs_approval"
    # A fixed fee financed into the loan weighs most on the smallest, shortest loan.
    fee = [{"name": "手续费", "kind": "upfront_financed", "amount": "50.00", "payee": "platform"}]
    check = _check(terms(fees=fee))
    assert check.worst is not None
    assert (check.worst.amount, check.worst.term) == (Money.parse("1000.00", "CNY"), 3)
    assert check.worst.apr_percent > Decimal("12")
    assert check.rate_field == "rate.annual_rate"


def test_quarterly_interest_is_sampled_on_whole_quarters() -> None:
    check = _check(terms(repayment_methods=["interest_quarterly_principal_at_maturity"], term_min=4, term_max=11))
    assert sorted({s.term for s in check.samples}) == [6, 9]


def _apr(parsed: ProductTerms, method: str, amount: Money, term: int) -> Decimal:
    described = caps.description_of(parsed, amount=amount, term=term, method=method,
                                    annual_rate=parsed.rate.highest[1], start=ON)
    return Decimal(quote(description=described, calendars=offline_calendars).apr.apr_percent)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rate=st.integers(min_value=0, max_value=2400),
    method=st.sampled_from(["equal_installment", "equal_principal", "interest_monthly_principal_at_maturity"]),
    fee_kind=st.sampled_from(["none", "upfront_financed", "per_installment", "per_installment_of_installment"]),
    fee_fixed=st.booleans(),
    fee_size=st.integers(min_value=1, max_value=300),
    amount_fen=st.integers(min_value=100_000, max_value=2_000_000),
    term=st.integers(min_value=3, max_value=12),
)
def test_no_loan_inside_the_ranges_costs_more_than_the_worst_corner(rate: int, method: str, fee_kind: str,
                                                                     fee_fixed: bool, fee_size: int, amount_fen: int,
                                                                     term: int) -> None:
    on_installment = fee_kind == "per_installment_of_installment"
    fees = [] if fee_kind == "none" else [
        {"name": "费", "kind": "per_installment" if on_installment else fee_kind, "payee": "lender",
         **({"amount": f"{fee_size}.00"} if fee_fixed and not on_installment else
            {"percent": f"{Decimal(fee_size) / 100}"}),
         **({"basis": "installment"} if on_installment else {})}]
    parsed = ProductTerms.model_validate(terms(rate={"kind": "fixed", "annual_rate": f"{Decimal(rate) / 100}"},
                                               repayment_methods=[method], fees=fees))
    worst = max(s.apr_percent for s in caps.samples_of(parsed, on=ON, calendars=offline_calendars))
    inside = _apr(parsed, method, Money(amount_fen, "CNY"), term)
    # A loan inside may tie the worst sample; it passes it by a hundredth or two at most, from the
    # installments and a percent fee rounded to the fen on an amount between the corners (a fee with
    # every installment, which can peak at a term inside, has every term sampled); a quote above
    # the cap is refused on its own.
    assert inside <= worst + Decimal("0.02")
    assert inside >= Decimal(rate) / 100 - Decimal("0.01")  # fees never lower the APR below the rate


def test_a_fee_on_each_installment_and_a_protected_fee_reach_the_engine() -> None:
    parsed = ProductTerms.model_validate(terms(fees=[
        {"name": "担保费", "kind": "per_installment", "percent": "1", "basis": "installment", "payee": "guarantor",
         "waivable": False}]))
    assert ProductTerms.model_validate(parsed.model_dump(mode="json")) == parsed
    with_fee = {(s.repayment_method, s.amount, s.term): s.apr_percent
                for s in caps.samples_of(parsed, on=ON, calendars=offline_calendars)}
    plain = caps.samples_of(ProductTerms.model_validate(terms()), on=ON, calendars=offline_calendars)
    # The fee on each installment is in every sample's APR: each is above the same loan without it.
    assert plain
    for s in plain:
        assert with_fee[(s.repayment_method, s.amount, s.term)] > s.apr_percent, s


def test_the_roles_a_product_may_map_are_the_ledgers():
    """The schema's literal of posting roles (for OpenAPI and the editor) is the ledger's list, role for role."""
    assert set(get_args(PostingRoleName)) == set(PRODUCT_ROLES)
    assert set(PRODUCT_ROLES) <= set(ROLE_TYPES)
