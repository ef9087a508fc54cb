"""Products routes: the public loan calculator."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body

from microcredit.api.deps import public, rate_limit
from microcredit.platform.ratelimit import Limit
from microcredit.products import service
from microcredit.products.schemas import LoanDescription, QuoteRead

router = APIRouter(tags=["products"])

_quote_limit = rate_limit("quote", lambda s: Limit(s.rate_limits.quote_per_ip_per_minute, 60))

_EXAMPLES = {
    "equal_installment": {
        "summary": "等额本息 10,000 at 12 % over 12 months",
        "value": {
            "amount": "10000.00",
            "annual_rate": "12",
            "repayment_method": "equal_installment",
            "term": 12,
            "start_date": "2025-01-15",
        },
    },
    "quarterly_interest_20th": {
        "summary": "按季付息到期还本, interest on 3/20, 6/20, 9/20, 12/20, Chinese holidays",
        "value": {
            "amount": "50000.00",
            "annual_rate": "8.5",
            "repayment_method": "interest_quarterly_principal_at_maturity",
            "interest_dates": "twentieth_of_quarter_end",
            "term": 12,
            "start_date": "2025-01-10",
            "business_day_rule": "following",
            "calendar": "cn",
        },
    },
    "upfront_fee": {
        "summary": "A service fee deducted at disbursement raises the APR",
        "value": {
            "amount": "10000.00",
            "annual_rate": "12",
            "repayment_method": "equal_installment",
            "term": 12,
            "start_date": "2025-01-15",
            "fees": [{"name": "服务费", "kind": "upfront_deducted", "amount": "500.00"}],
        },
    },
}


@router.post(
    "/quotes",
    response_model=QuoteRead,
    operation_id="create_quote",
    summary="Quote a loan: schedule, totals, fees and APR",
    dependencies=[public(), _quote_limit],
)
def create_quote(
    description: Annotated[LoanDescription, Body(openapi_examples=_EXAMPLES)],
) -> QuoteRead:
    """Compute the repayment schedule and the APR disclosure of a loan description (no sign-in)."""
    return service.quote(description=description)
