"""Readable application numbers."""

from __future__ import annotations

import re
from datetime import date

import pytest

from microcredit.origination.service.numbering import format_number, prefix_of


def test_prefix_date_and_six_digit_sequence():
    assert format_number("MC", date(2026, 12, 2), 123) == "MC-20261202-000123"
    assert format_number("MC", date(2026, 12, 2), 1_234_567) == "MC-20261202-1234567"


def test_prefix_is_the_institution_code_in_capitals_letters_and_digits_only():
    assert prefix_of("mc") == "MC"
    assert prefix_of("xin-nong_01") == "XINNONG01"
    assert prefix_of("a-very-long-institution-code") == "AVERYLONGINS"
    assert prefix_of("--") == "APP"
    assert re.fullmatch(r"[A-Z0-9]{1,12}", prefix_of("测试MC"))


def test_a_sequence_starts_at_one():
    with pytest.raises(ValueError, match="starts at 1"):
        format_number("MC", date(2026, 12, 2), 0)
