"""POST /api/v1/quotes: public, rate-limited, problem+json errors naming the field."""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

from microcredit.api import deps, problems
from microcredit.api.app import access_of
from microcredit.lending.calendar import WEEKENDS_ONLY
from microcredit.lending.money import Money
from microcredit.lending.schedule import build_schedule
from microcredit.platform.actor import RequestMeta
from microcredit.products import api, service
from microcredit.products.schemas import LoanDescription


def _client() -> TestClient:
    app = FastAPI()
    problems.install(app)
    outer = APIRouter(prefix="/api/v1")
    outer.include_router(api.router)
    app.include_router(outer)
    # The shared rate limiter counts in Redis or the database, and the institution is looked up in
    # the database; a unit test has neither (the quotes here need no holiday calendar).
    app.dependency_overrides[api._quote_limit.dependency] = lambda: None
    app.dependency_overrides[deps.db] = lambda: None
    app.dependency_overrides[deps.institution_id] = lambda: 1
    app.dependency_overrides[deps.get_meta] = lambda: RequestMeta(language="en")
    # The caps in force come from the database too: the defaults (24 % hard cap).
    app.dependency_overrides[api.quote_caps] = lambda: lambda on: service.caps.DEFAULT_CAPS
    return TestClient(app)


def test_create_quote_returns_the_schedule() -> None:
    body = api._EXAMPLES["equal_installment"]["value"]
    response = _client().post("/api/v1/quotes", json=body)
    assert response.status_code == 200
    data = response.json()
    assert data["installments"][0]["total"] == "888.49"
    assert data["apr"]["apr_percent"] == "12.00"


def test_a_float_amount_is_a_problem_naming_the_field() -> None:
    response = _client().post(
        "/api/v1/quotes",
        json={
            "amount": 10000.5,
            "annual_rate": "12",
            "repayment_method": "bullet",
            "term": 12,
            "start_date": "2025-01-01",
        },
        headers={"accept-language": "en"},
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["code"] == "validation_failed"
    assert problem["field"] == "amount"


def test_an_impossible_loan_is_a_coded_refusal() -> None:
    body = {
        **api._EXAMPLES["equal_installment"]["value"],
        "fees": [{"name": "x", "kind": "upfront_deducted", "amount": "10000"}],
    }
    response = _client().post("/api/v1/quotes", json=body)
    assert response.status_code == 422
    assert response.json()["code"] == "quote_invalid"


def test_the_route_is_public_documented_and_named() -> None:
    app = FastAPI()
    app.include_router(api.router)
    route = next(r for r in api.router.routes if getattr(r, "path", "") == "/quotes")
    assert access_of(route) == ("public", None)  # type: ignore[arg-type]
    operation = app.openapi()["paths"]["/quotes"]["post"]
    assert operation["operationId"] == "create_quote"
    examples = operation["requestBody"]["content"]["application/json"]["examples"]
    assert "equal_installment" in examples


def test_a_grace_beyond_the_repayment_periods_is_a_problem_naming_the_field() -> None:
    body = {**api._EXAMPLES["equal_installment"]["value"], "repayment_every": 3, "grace_on_principal_periods": 6}
    response = _client().post("/api/v1/quotes", json=body, headers={"accept-language": "en"})
    assert response.status_code == 422
    problem = response.json()
    assert (problem["code"], problem["field"]) == ("validation_failed", "grace_on_principal_periods")


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (10000, "money_not_string"),
        (10000.5, "money_not_string"),
        (True, "money_not_string"),
        ("1e5", "money_invalid"),
        ("１００００.００", "money_invalid"),
        ("100.001", "money_decimals"),
    ],
)
def test_money_input_that_is_not_a_decimal_string_is_a_problem_naming_the_field(value: object, code: str) -> None:
    body = {**api._EXAMPLES["equal_installment"]["value"], "amount": value}
    response = _client().post("/api/v1/quotes", json=body, headers={"accept-language": "en"})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert (problem["code"], problem["field"]) == ("validation_failed", "amount")
    assert [(e["field"], e["code"]) for e in problem["errors"]] == [("amount", code)]


def _money_strings(node: object, key: str = "") -> list[str]:
    """Every money field's string in a quote's JSON (the MoneyStr fields of QuoteRead)."""
    money_keys = {"principal", "interest", "fees", "total", "balance_after", "balance", "total_payable",
                  "upfront_fees_deducted", "paid_at_disbursement", "net_cash_received", "total_cost_of_credit",
                  "per_charge"}
    if isinstance(node, dict):
        return [s for k, v in node.items() if k != "apr" for s in _money_strings(v, k)]
    if isinstance(node, list):
        return [s for item in node for s in _money_strings(item, key)]
    return [node] if key in money_keys and isinstance(node, str) else []


def test_the_quote_amount_changes_form_twice_only_at_the_edges(monkeypatch: pytest.MonkeyPatch) -> None:
    # string -> Money once, when the request is read; Money -> string once per field, when the
    # response is written; never Decimal or text in between (Money.parse is the only way back in).
    parsed: list[object] = []
    written: list[Money] = []
    parse, to_text = Money.parse.__func__, Money.__str__  # type: ignore[attr-defined]

    def counting_parse(cls: type[Money], value: str | Decimal, currency: str) -> Money:
        parsed.append(value)
        return parse(cls, value, currency)  # type: ignore[no-any-return]

    def counting_str(self: Money) -> str:
        written.append(self)
        return to_text(self)

    monkeypatch.setattr(Money, "parse", classmethod(counting_parse))
    monkeypatch.setattr(Money, "__str__", counting_str)
    body = api._EXAMPLES["equal_installment"]["value"]
    response = _client().post("/api/v1/quotes", json=body)
    monkeypatch.undo()
    assert response.status_code == 200
    assert parsed == ["10000.00"]
    strings = _money_strings(response.json())
    assert len(strings) == 12 * 5 + 8  # five amounts a row, eight totals
    assert len(written) == len(strings)  # each string written once, from a Money
    assert [str(m) for m in written] == strings
    assert response.json()["totals"]["principal"] == "10000.00"


def test_the_quote_amount_is_money_at_every_seam() -> None:
    description = LoanDescription.model_validate_json(json.dumps(api._EXAMPLES["equal_installment"]["value"]))
    assert description.amount == Money(1_000_000, "CNY")  # the schema: string -> Money
    terms = service.loan_terms(description)
    assert terms.principal is description.amount  # the service hands the same value to the core
    schedule = build_schedule(terms, calendar=WEEKENDS_ONLY)
    assert isinstance(schedule.totals.principal, Money)
    result = service.quote(description=description, calendars=service.offline_calendars)
    assert result.totals.principal == description.amount  # the response model holds Money ...
    assert all(isinstance(r.total, Money) for r in result.installments)
    assert json.loads(result.model_dump_json())["totals"]["principal"] == "10000.00"  # ... written as text


def test_a_quote_above_the_hard_cap_is_refused_naming_the_rate() -> None:
    body = {**api._EXAMPLES["equal_installment"]["value"], "annual_rate": "24.5"}
    response = _client().post("/api/v1/quotes", json=body)
    assert response.status_code == 422
    problem = response.json()
    assert (problem["code"], problem["field"], problem["cap_percent"]) == ("apr_above_cap", "annual_rate", "24")
    # 23 % nominal is under the cap; a 500 fee deducted up front lifts its APR above it.
    fee = [{"name": "服务费", "kind": "upfront_deducted", "amount": "500.00"}]
    assert _client().post("/api/v1/quotes", json={**body, "annual_rate": "23"}).status_code == 200
    assert _client().post("/api/v1/quotes", json={**body, "annual_rate": "23", "fees": fee}).json()["code"] == \
        "apr_above_cap"
@pytest.mark.parametrize(
    ("fee", "reason"),
    [
        ({"name": "f", "kind": "per_installment", "percent": "1", "basis": "principal_and_interest"},
         "percent of the amount"),
        ({"name": "f", "kind": "upfront_financed", "percent": "1", "basis": "interest"}, "percent of the amount"),
        ({"name": "f", "kind": "at_disbursement", "amount": "10.00", "basis": "interest"}, "give percent"),
        ({"name": "f", "kind": "upfront_deducted", "percent": "1", "basis": "installment"}, "each installment"),
        ({"name": "f", "kind": "per_installment", "amount": "10.00", "basis": "installment"}, "give percent"),
    ],
)
def test_a_fee_basis_where_it_has_no_meaning_is_a_problem_naming_the_fee(fee: dict[str, str], reason: str) -> None:
    body = {**api._EXAMPLES["equal_installment"]["value"], "fees": [fee]}
    response = _client().post("/api/v1/quotes", json=body, headers={"accept-language": "en"})
    assert response.status_code == 422
    problem = response.json()
    assert (problem["code"], problem["field"]) == ("validation_failed", "fees.0")
    assert reason in json.dumps(problem)


def test_a_fee_paid_at_disbursement_on_the_amount_plus_interest_is_quoted_and_counted_in_the_apr() -> None:
    fee = {"name": "手续费", "kind": "at_disbursement", "percent": "2", "basis": "principal_and_interest",
           "waivable": False}
    body = {**api._EXAMPLES["equal_installment"]["value"], "fees": [fee]}
    quoted = _client().post("/api/v1/quotes", json=body).json()
    plain = _client().post("/api/v1/quotes", json=api._EXAMPLES["equal_installment"]["value"]).json()
    interest = Decimal(plain["totals"]["interest"])
    expected = ((Decimal("10000.00") + interest) * Decimal("0.02")).quantize(Decimal("0.01"), ROUND_HALF_UP)
    assert quoted["totals"]["paid_at_disbursement"] == str(expected)
    assert quoted["totals"]["upfront_fees_deducted"] == "0.00"
    assert Decimal(quoted["totals"]["net_cash_received"]) == Decimal("10000.00") - expected
    assert quoted["fees"][0]["waivable"] is False
    assert Decimal(quoted["apr"]["apr_percent"]) > Decimal(plain["apr"]["apr_percent"])


def test_a_fee_on_each_installment_is_quoted_row_by_row() -> None:
    fee = {"name": "担保费", "kind": "per_installment", "percent": "1", "basis": "installment", "payee": "guarantor"}
    body = {**api._EXAMPLES["equal_installment"]["value"], "fees": [fee]}
    quoted = _client().post("/api/v1/quotes", json=body).json()
    for row in quoted["installments"]:
        base = Decimal(row["principal"]) + Decimal(row["interest"])
        assert Decimal(row["fees"]) == (base * Decimal("0.01")).quantize(Decimal("0.01"), ROUND_HALF_UP)
    assert Decimal(quoted["totals"]["fees"]) == sum(Decimal(row["fees"]) for row in quoted["installments"])
    assert quoted["fees"][0]["basis"] == "installment"
