"""quote(): from a loan description to schedule, totals, fees, APR and warnings."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from microcredit.lending.calendar import WEEKENDS_ONLY, HolidayCalendar
from microcredit.lending.money import Money
from microcredit.products.errors import QuoteInvalid
from microcredit.products.schemas import LoanDescription, QuoteRead
from microcredit.products.service import offline_calendars, quote

EXAMPLES = Path(__file__).resolve().parents[3] / "docs" / "examples"
BASE: dict[str, Any] = {
    "amount": "10000.00",
    "annual_rate": "12",
    "repayment_method": "equal_installment",
    "term": 12,
    "start_date": "2025-01-15",
}


def cny(text: str) -> Money:
    return Money.parse(text, "CNY")


def _quote(**changes: Any) -> QuoteRead:
    return quote(description=LoanDescription.model_validate({**BASE, **changes}), calendars=offline_calendars)


def test_quote_of_the_domain_annuity() -> None:
    # Source: docs/domain.md §4.1 and §2.3 case A.
    result = _quote()
    assert [str(r.total) for r in result.installments] == ["888.49"] * 11 + ["888.47"]
    assert result.installments[0].interest == cny("100.00")
    assert result.totals.interest == cny("661.86")
    assert result.totals.total_payable == cny("10661.86")
    assert (result.apr.apr_percent, result.apr.ear_percent) == ("12.00", "12.68")
    assert result.apr.method == "periodic_irr"
    assert result.warnings == []


def test_quote_round_trips_through_json() -> None:
    result = _quote(repayment_method="equal_principal")
    again = QuoteRead.model_validate_json(result.model_dump_json())
    assert again == result
    # Source: docs/domain.md §4.2.
    assert (again.installments[0].total, again.installments[-1].total) == (cny("933.33"), cny("841.70"))
    assert json.loads(result.model_dump_json())["totals"]["interest"] == "650.00"


def test_a_deducted_fee_is_disclosed_with_its_payee_and_raises_the_apr() -> None:
    # Source: docs/domain.md §2.3 case C: 500 deducted -> 21.86 %.
    result = _quote(fees=[{"name": "服务费", "kind": "upfront_deducted", "amount": "500", "payee": "platform"}])
    assert result.totals.net_cash_received == cny("9500.00")
    assert result.fees[0].payee == "platform"
    assert result.fees[0].total == cny("500.00")
    assert abs(Decimal(result.apr.apr_percent) - Decimal("21.86")) <= Decimal("0.01")


def test_interest_only_and_bullet() -> None:
    monthly = _quote(repayment_method="interest_monthly_principal_at_maturity")
    assert [r.interest for r in monthly.installments] == [cny("100.00")] * 12
    quarterly = _quote(repayment_method="interest_quarterly_principal_at_maturity")
    assert [r.interest for r in quarterly.installments] == [cny("300.00")] * 4
    bullet = _quote(repayment_method="bullet")
    assert [(r.principal, r.interest) for r in bullet.installments] == [(cny("10000.00"), cny("1200.00"))]
    assert bullet.apr.apr_percent == "12.00"


def test_chinese_calendar_moves_due_dates_and_warns_beyond_its_data() -> None:
    result = _quote(
        start_date="2025-08-01",
        first_due_date="2025-10-01",
        term=24,
        business_day_rule="following",
        calendar="cn",
    )
    assert result.installments[0].due_date == date(2025, 10, 9)
    assert result.installments[0].period_end == date(2025, 10, 1)
    assert [w.code for w in result.warnings] == ["calendar_not_covered"]
    assert result.warnings[0].on is not None
    assert result.warnings[0].on.year == 2027
    assert result.warnings[0].years == [2027]
    assert "2027" in result.warnings[0].message


def test_the_uncovered_years_are_named_in_one_warning_in_the_callers_language() -> None:
    description = LoanDescription.model_validate({**BASE, "start_date": "2026-06-15", "term": 36,
                                                  "business_day_rule": "following", "calendar": "cn"})
    [warning] = quote(description=description, calendars=offline_calendars, language="zh-CN").warnings
    assert (warning.code, warning.years) == ("calendar_not_covered", [2027, 2028, 2029])
    assert "2027、2028、2029" in warning.message
    assert warning.on == date(2027, 1, 15)
    [english] = quote(description=description, calendars=offline_calendars, language="en").warnings
    assert "2027, 2028, 2029" in english.message


def test_the_calendar_provider_is_injectable_and_asked_for_the_loans_years() -> None:
    asked: list[tuple[str, date, date]] = []

    def provider(name: str, first: date, last: date) -> HolidayCalendar:
        asked.append((name, first, last))
        return WEEKENDS_ONLY

    result = quote(
        description=LoanDescription.model_validate({**BASE, "calendar": "cn", "business_day_rule": "following"}),
        calendars=provider,
    )
    # From the start's year to the year after maturity (2026-01-15): a due date moves a few weeks at most.
    assert asked == [("cn", date(2025, 1, 1), date(2027, 12, 31))]
    assert result.installments[0].due_date == date(2025, 2, 17)  # Saturday the 15th -> Monday


def test_without_a_business_day_rule_no_calendar_is_asked_for() -> None:
    def provider(name: str, first: date, last: date) -> HolidayCalendar:
        raise AssertionError("not needed")

    result = quote(description=LoanDescription.model_validate({**BASE, "calendar": "cn"}), calendars=provider)
    assert result.installments[0].due_date == date(2025, 2, 15)


def test_a_long_bullet_loan_is_quoted() -> None:
    # Ten years at 12 % in one period (到期一次还本付息) is 120 % for the period: refused before.
    result = _quote(repayment_method="bullet", term=120)
    assert (result.totals.interest, result.apr.apr_percent) == (cny("12000.00"), "12.00")


def test_revolving_quote() -> None:
    # Source: docs/domain.md §4.4: 116.67 on a 360-day basis.
    text = (EXAMPLES / "revolving_daily.json").read_text(encoding="utf-8")
    result = quote(description=LoanDescription.model_validate_json(text), calendars=offline_calendars)
    assert result.totals.interest == cny("116.67")
    assert [str(s.interest) for s in result.segments] == ["66.67", "50.00"]
    assert result.installments == []


def test_every_published_example_quotes() -> None:
    for path in sorted(EXAMPLES.glob("*.json")):
        result = quote(description=LoanDescription.model_validate_json(path.read_text(encoding="utf-8")),
                       calendars=offline_calendars)
        assert result.totals.total_payable, path.name


def test_impossible_loans_are_refused_with_a_code() -> None:
    with pytest.raises(QuoteInvalid) as info:
        _quote(fees=[{"name": "x", "kind": "upfront_deducted", "amount": "10000"}])
    assert info.value.code == "quote_invalid"
    assert "principal" in info.value.message("en")
    with pytest.raises(QuoteInvalid):
        quote(
            description=LoanDescription.model_validate(
                {
                    **BASE,
                    "repayment_method": "revolving_daily",
                    "movements": [
                        {"on": "2025-01-15", "kind": "draw", "amount": "100"},
                        {"on": "2025-01-20", "kind": "repayment", "amount": "200"},
                    ],
                }
            ),
            calendars=offline_calendars,
        )


@pytest.mark.parametrize(
    "changes",
    [
        # Weekly due dates past 9999-12-31: an OverflowError, answered HTTP 500.
        {"period_unit": "week", "term": 6, "start_date": "9999-12-14"},
        # A first due date thousands of years out: decimal.Overflow in the APR solver, HTTP 500.
        {"repayment_method": "bullet", "term": 1, "first_due_date": "9999-12-13"},
        # A daily loan whose fee is half the principal each day: an EAR near 10^64 could not be
        # stated to 12 places (decimal.InvalidOperation, HTTP 500).
        {"period_unit": "day", "term": 385, "fees": [{"name": "x", "kind": "per_installment", "percent": "50"}]},
    ],
)
def test_loans_the_engine_cannot_date_or_price_are_refused_with_a_code(changes: dict[str, Any]) -> None:
    with pytest.raises(QuoteInvalid):
        _quote(**changes)
