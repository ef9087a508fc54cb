"""POST /api/v1/quotes: public, rate-limited, problem+json errors naming the field."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

from microcredit.api import deps, problems
from microcredit.api.app import access_of
from microcredit.platform.actor import RequestMeta
from microcredit.products import api


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
