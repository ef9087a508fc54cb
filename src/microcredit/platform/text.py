"""Text as the system accepts it: Unicode NFC, no control characters.

Names, addresses and reasons end up in Excel exports, SMS templates, PDFs and
logs, where a control character breaks the file (openpyxl refuses U+0001) or
hides text. So every free-text input is, at the API edge:

* normalised to NFC (``"e\\u0301"`` and ``"é"`` are one spelling, so one
  name matches itself in searches and uniqueness checks);
* refused if it holds a C0 control (U+0000–U+001F, tab included), DEL, a C1
  control (U+0080–U+009F) or a lone surrogate (which no database encoding
  can store). A multi-line field (a review reason) may hold line feeds;
  ``\\r\\n`` and ``\\r`` become ``\\n``.

Passwords are the exception: they are compared exactly as typed, so they are
never normalised, and refused only for lone surrogates (which cannot be
encoded to hash them).
"""

from __future__ import annotations

import re
import unicodedata

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_CONTROL_MULTILINE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# What openpyxl refuses in a cell (XML 1.0 forbids these), plus lone surrogates.
_XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


class ControlCharacter(ValueError):
    """Text holds a character the system refuses; `position` is its index."""

    def __init__(self, position: int, char: str) -> None:
        super().__init__(f"control character U+{ord(char):04X} at position {position}")
        self.position = position
        self.char = char


def clean_text(value: str, *, multiline: bool = False) -> str:
    """`value` in NFC; ControlCharacter if it holds a refused character."""
    if multiline:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    found = (_CONTROL_MULTILINE if multiline else _CONTROL).search(value)
    if found:
        raise ControlCharacter(found.start(), found.group())
    return unicodedata.normalize("NFC", value)


def check_encodable(value: str) -> str:
    """`value` unchanged; ControlCharacter if it holds a lone surrogate (passwords)."""
    found = _SURROGATE.search(value)
    if found:
        raise ControlCharacter(found.start(), found.group())
    return value


def find_control(value: str) -> int | None:
    """The index of the first refused character of single-line text, or None."""
    found = _CONTROL.search(value)
    return found.start() if found else None


def printable_cell(value: str) -> str:
    """Text a spreadsheet cell can hold: characters XML 1.0 forbids become U+FFFD."""
    return _XLSX_ILLEGAL.sub("\ufffd", value)
