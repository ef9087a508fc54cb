"""Beancount account names made from the chart: valid components whatever the code and name hold."""

from __future__ import annotations

import re

import pytest

from microcredit.ledger.models import LedgerAccount
from microcredit.ledger.service.books import account_name

# beancount: a root, then components that start with an uppercase letter or a digit, then letters, digits, '-'.
VALID = re.compile(r"^(Assets|Liabilities|Equity|Income|Expenses)(:[A-Z0-9][A-Za-z0-9-]*)+$")


@pytest.mark.parametrize(("type_", "code", "name_en", "institution", "expected"), [
    ("asset", "1002", "Bank deposits", "DEMO", "Assets:DEMO:1002-Bank-Deposits"),
    ("asset", "1304", "Loan loss provision", "DEMO", "Assets:DEMO:1304-Loan-Loss-Provision"),
    ("liability", "2202.01", "Payable — guarantor (担保)", "inst_7", "Liabilities:INST-7:2202-01-Payable-Guarantor"),
    ("income", "6011_a", "利息", "X", "Income:X:6011-a-X"),
    ("expense", "6711", "write-off expense", "d1", "Expenses:D1:6711-Write-Off-Expense"),
])
def test_names_are_valid_beancount_accounts(type_, code, name_en, institution, expected):
    name = account_name(LedgerAccount(type=type_, code=code, name_en=name_en), institution)
    assert name == expected
    assert VALID.fullmatch(name)
