"""LoanDescription validation: strings for money, bounds, and errors that name the field."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from microcredit.lending.money import Money
from microcredit.products.schemas import LoanDescription
from microcredit.products.service import offline_calendars, quote

BASE: dict[str, Any] = {
    "amount": "10000.00",
    "annual_rate": "12",
    "repayment_method": "equal_installment",
    "term": 12,
    "start_date": "2025-01-15",
}


def _errors(**changes: Any) -> list[dict[str, Any]]:
    body = {**BASE, **changes}
    with pytest.raises(ValidationError) as info:
        LoanDescription.model_validate_json(json.dumps(body))
    return info.value.errors()


def _fields(errors: list[dict[str, Any]]) -> list[str]:
    return [".".join(str(p) for p in e["loc"]) for e in errors]


def test_a_valid_description_and_its_defaults() -> None:
    description = LoanDescription.model_validate_json(json.dumps(BASE))
    assert str(description.amount) == "10000.00"
    assert (description.currency, description.period_unit, description.day_count) == (
        "CNY",
        "month",
        "ACT/360",
    )
    assert description.calendar == "none"
    assert description.business_day_rule == "none"


@pytest.mark.parametrize("field", ["amount", "annual_rate"])
def test_floats_are_refused_with_the_field_named(field: str) -> None:
    errors = _errors(**{field: 12.5})
    assert _fields(errors) == [field]
    assert "not JSON numbers" in errors[0]["msg"]


def test_a_float_fee_amount_names_its_path() -> None:
    errors = _errors(fees=[{"name": "svc", "kind": "upfront_deducted", "amount": 50.5}])
    assert _fields(errors) == ["fees.0.amount"]


def test_the_amount_is_money_parsed_at_the_edge() -> None:
    description = LoanDescription.model_validate_json(json.dumps({**BASE, "amount": "8000.5"}))
    assert description.amount == Money(800050, "CNY")
    assert str(description.amount) == "8000.50"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (10000, "money_not_string"),  # a JSON integer: most clients hold it as a float
        (10000.5, "money_not_string"),
        (True, "money_not_string"),
        ("1e5", "money_invalid"),
        ("１００００", "money_invalid"),  # full-width digits, which Decimal() would have read
        ("10,000", "money_invalid"),
        ("+100", "money_invalid"),
        ("100.001", "money_decimals"),
    ],
)
@pytest.mark.parametrize("field", ["amount", "fees.0.amount", "installment_multiple", "movements.0.amount"])
def test_money_that_is_not_a_plain_decimal_string_is_refused_naming_the_field(
    value: object, code: str, field: str
) -> None:
    body: dict[str, Any]
    if field == "fees.0.amount":
        body = {"fees": [{"name": "svc", "kind": "upfront_deducted", "amount": value}]}
    elif field == "movements.0.amount":
        movement = {"on": "2025-01-15", "kind": "draw", "amount": value}
        body = {"repayment_method": "revolving_daily", "movements": [movement]}
    else:
        body = {field: value}
    errors = _errors(**body)
    assert [(".".join(str(p) for p in e["loc"]), e["type"]) for e in errors] == [(field, code)]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"amount": "0"}, "amount"),
        ({"amount": "100000000.01"}, "amount"),
        ({"amount": "1.001"}, "amount"),
        ({"amount": "abc"}, "amount"),
        ({"term": 0}, "term"),
        ({"term": 601}, "term"),
        ({"annual_rate": "100.5"}, "annual_rate"),
        ({"annual_rate": "-1"}, "annual_rate"),
        ({"annual_rate": "12.1234567"}, "annual_rate"),
        ({"currency": "USD"}, "currency"),
        ({"repayment_method": "balloon"}, "repayment_method"),
        ({"rounding": "ceiling"}, "rounding"),
        ({"calendar": "us"}, "calendar"),
        ({"first_due_date": "2025-01-15"}, "first_due_date"),
        ({"repayment_every": 5}, "repayment_every"),
        ({"interest_dates": "twentieth_of_quarter_end"}, "interest_dates"),
        ({"grace_on_principal_periods": 13}, "grace_on_principal_periods"),
        ({"installment_multiple": "0"}, "installment_multiple"),
        ({"day_count": "ACT/ACT", "days_in_month": "30"}, "days_in_month"),
        ({"movements": [{"on": "2025-01-15", "kind": "draw", "amount": "1"}]}, "movements"),
        ({"unknown": 1}, "unknown"),
    ],
)
def test_bounds_and_rules_name_the_field(changes: dict[str, Any], field: str) -> None:
    assert field in _fields(_errors(**changes))


def test_method_rules_that_span_fields() -> None:
    errors = _errors(repayment_method="interest_quarterly_principal_at_maturity", term=10)
    assert "whole quarters" in errors[0]["msg"]
    errors = _errors(repayment_method="revolving_daily", term=1)
    assert _fields(errors) == ["movements"]
    errors = _errors(fees=[{"name": "x", "kind": "per_installment"}])
    assert "exactly one of amount or percent" in errors[0]["msg"]


def test_json_schema_shows_money_and_rates_as_strings_with_an_example() -> None:
    schema = LoanDescription.model_json_schema()
    properties = schema["properties"]
    assert properties["amount"]["type"] == "string"
    assert properties["annual_rate"]["type"] == "string"
    example = schema["examples"][0]
    assert LoanDescription.model_validate_json(json.dumps(example)).repayment_method == ("equal_installment")


@pytest.mark.parametrize(
    ("changes", "field", "periods"),
    [
        # 12 months repaid every 3 are 4 periods: a grace of 6 reached the core, which refused it
        # as quote_invalid without naming the field.
        ({"repayment_every": 3, "grace_on_principal_periods": 6}, "grace_on_principal_periods", 4),
        ({"repayment_every": 3, "grace_on_interest_payment_periods": 5}, "grace_on_interest_payment_periods", 4),
        ({"repayment_every": 6, "interest_free_periods": 3}, "interest_free_periods", 2),
        ({"repayment_method": "bullet", "grace_on_principal_periods": 2}, "grace_on_principal_periods", 1),
        (
            {"repayment_method": "interest_quarterly_principal_at_maturity", "interest_free_periods": 5},
            "interest_free_periods",
            4,
        ),
        ({"grace_on_principal_periods": 13}, "grace_on_principal_periods", 12),
    ],
)
def test_graces_are_checked_against_the_number_of_repayment_periods(
    changes: dict[str, Any], field: str, periods: int
) -> None:
    errors = _errors(**changes)
    assert _fields(errors) == [field]
    assert errors[0]["type"] == "grace_exceeds_periods"
    assert f"number of repayment periods ({periods})" in errors[0]["msg"]


@pytest.mark.parametrize(
    "changes",
    [
        {"repayment_every": 3, "grace_on_principal_periods": 4},
        {"repayment_every": 3, "interest_free_periods": 4},
        {"repayment_method": "bullet", "grace_on_interest_payment_periods": 1},
        {"repayment_method": "interest_quarterly_principal_at_maturity", "grace_on_interest_payment_periods": 4},
    ],
)
def test_graces_up_to_the_number_of_periods_are_accepted(changes: dict[str, Any]) -> None:
    description = LoanDescription.model_validate_json(json.dumps({**BASE, **changes}))
    for field, value in changes.items():
        assert getattr(description, field) == value
    # The core takes them as they are: the quote has one installment per repayment period, and the
    # grace shows in its rows (no principal, no interest charged, or interest carried to the end).
    rows = quote(description=description, calendars=offline_calendars).installments
    periods = {"bullet": 1, "interest_quarterly_principal_at_maturity": 4}.get(description.repayment_method, 4)
    assert len(rows) == periods
    zero = Money.zero("CNY")
    if description.grace_on_principal_periods:
        assert [r.principal for r in rows[:-1]] == [zero] * (periods - 1)
        assert rows[-1].principal == description.amount
    if description.interest_free_periods:
        assert [r.interest for r in rows] == [zero] * periods
    if description.grace_on_interest_payment_periods and periods > 1:
        assert [r.interest for r in rows[:-1]] == [zero] * (periods - 1)
        assert rows[-1].interest.is_positive
