"""A loan's largest monthly payment under a product version: what the debt-service ratio counts.

The decision (risk's `pricing`) asks, for an amount and a rate, what this loan would take from the
borrower's income each month. The answer is the lending engine's schedule under the version's own
conventions (day count, rounding, business days, fees per installment):

- instalment loans (equal installment, equal principal): the largest installment, fees included;
- loans repaying the principal at maturity (interest-only, bullet, revolving): the largest
  installment would be the whole principal on the last day, so they count the level payment that
  would repay the same amount over the same term at the same rate (what the borrower has to put
  aside each month), the same measure a lender uses for a balloon;
- periods other than a month count as a month's worth: weekly × 52/12, daily × 365/12, rounded up.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import ROUND_CEILING, Decimal

from microcredit.lending.calendar import WEEKENDS_ONLY
from microcredit.lending.money import Money
from microcredit.lending.schedule import build_schedule
from microcredit.products.errors import QuoteInvalid
from microcredit.products.product_schemas import ProductTerms
from microcredit.products.service.caps import description_of
from microcredit.products.service.quotes import calendar_span, loan_terms, offline_calendars

__all__ = ["largest_monthly_payment", "monthly_payment_of"]

AMORTISING = frozenset({"equal_installment", "equal_principal"})
PER_MONTH = {"month": Decimal(1), "week": Decimal(52) / 12, "day": Decimal(365) / 12}


def largest_monthly_payment(terms: ProductTerms, *, amount: Money, term: int, method: str, annual_rate: Decimal,
                            start: date) -> Money:
    """The largest monthly payment of a loan of `amount` at `annual_rate` under `terms` (see the module)."""
    if amount.minor <= 0:
        return Money(0, amount.currency)
    counted = method if method in AMORTISING else "equal_installment"
    description = description_of(terms, amount=amount, term=term, method=counted, annual_rate=annual_rate,
                                 start=start)
    engine = loan_terms(description)
    calendar = WEEKENDS_ONLY if description.business_day_rule == "none" else \
        offline_calendars(description.calendar, *calendar_span(engine))
    try:
        schedule = build_schedule(engine, calendar=calendar)
    except ValueError as exc:
        raise QuoteInvalid(str(exc)) from exc
    largest = max(row.total_minor for row in schedule.installments)
    monthly = (Decimal(largest) * PER_MONTH[terms.period_unit]).to_integral_value(rounding=ROUND_CEILING)
    return Money(int(monthly), amount.currency)


def monthly_payment_of(terms: ProductTerms, *, term: int, method: str,
                       start: date) -> Callable[[Money, Decimal], Money]:
    """(amount, rate) → `largest_monthly_payment` of a loan of this term and method starting on `start`."""
    def payment(amount: Money, annual_rate: Decimal) -> Money:
        return largest_monthly_payment(terms, amount=amount, term=term, method=method, annual_rate=annual_rate,
                                       start=start)
    return payment
