"""Readable application numbers: the institution's prefix, the business date and the day's sequence.

`MC-20261202-000123` is the 123rd application the institution `MC` numbered on business date
2026-12-02. The sequence comes from the repository (`sequence_without_lock` where the database has
sequences, `next_sequence`'s counter per institution and day on SQLite; docs/origination.md
"Numbers"); this module only spells the number.
"""

from __future__ import annotations

import re
from datetime import date

SEQUENCE_DIGITS = 6
_NOT_ALLOWED = re.compile(r"[^A-Z0-9]")


def prefix_of(institution_code: str) -> str:
    """The number's prefix: the institution's code in capitals, letters and digits only (at most 12)."""
    return _NOT_ALLOWED.sub("", institution_code.upper())[:12] or "APP"


def format_number(prefix: str, business_date: date, sequence: int) -> str:
    """`PREFIX-YYYYMMDD-NNNNNN` (a sequence past 999,999 simply grows a digit)."""
    if sequence < 1:
        raise ValueError("a sequence starts at 1")
    return f"{prefix}-{business_date:%Y%m%d}-{sequence:0{SEQUENCE_DIGITS}d}"
