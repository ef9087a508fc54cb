"""A borrower's financial amounts are Money: never rounded by a decimal context, never negative."""

from __future__ import annotations

import decimal

import pytest

from microcredit.errors import ValidationFailed
from microcredit.lending.money import Money
from microcredit.parties.service.borrowers import _normalise


def test_amounts_from_the_api_and_from_a_kept_change_become_the_same_money() -> None:
    from_api = Money.parse("8000.50", "CNY")
    assert _normalise("monthly_income", from_api) is from_api
    # A pending change keeps its values as text; approving it parses them back exactly.
    assert _normalise("total_assets", "8000.50") == from_api
    assert _normalise("total_liabilities", None) is None
    assert _normalise("occupation", "厨师") == "厨师"


def test_no_decimal_context_rounds_an_amount() -> None:
    # Decimal(str(value)).quantize(...) in the default context rounded 30-digit amounts (28 digits).
    huge = "123456789012345678901234567.89"
    with decimal.localcontext(decimal.Context(prec=6)):
        assert str(_normalise("total_assets", huge)) == huge


@pytest.mark.parametrize("value", ["-1", "1.234", "1e5", "１２", Money(100, "USD"), 12.5])
def test_negative_finer_than_a_fen_or_foreign_amounts_are_refused(value: object) -> None:
    with pytest.raises(ValidationFailed) as info:
        _normalise("monthly_income", value)
    assert [(p.field, p.code) for p in info.value.problems] == [("monthly_income", "invalid_amount")]
