"""Validators of Chinese identifiers: resident ID numbers, mobile numbers, USCC, bank cards.

Each validator normalises its input and either returns the normalised value or
raises `InvalidIdentifier` with a code that says which part is wrong, so the
UI can explain it (docs/domain.md §1).

Resident identity number (GB 11643-1999), 18 characters::

    address(6) birth date YYYYMMDD(8) sequence(3) check(1)

    S = Σ a_i · W_i for i = 1..17, with W_i = 2^(18−i) mod 11
    check value = (12 − S mod 11) mod 11, where 10 is written "X"

    11010519491231002X: S = 167, 167 mod 11 = 2 → "X" (valid; female, born 1949-12-31)

Sequence digit 17 odd = male, even = female. Age (周岁) is counted in completed
birthdays at a reference date the caller gives (an application date, the
business date), never "today".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

ID_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))  # 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2
ID_CHECK = "10X98765432"  # S mod 11 -> check character
# Province-level prefixes (GB/T 2260) plus 71 Taiwan and 81/82/83 residence permits.
ID_PROVINCES = frozenset(
    {"11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
     "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
     "65", "71", "81", "82", "83"}
)
# re.ASCII: `\d` would also match full-width and other Unicode digits, which `int()` reads, so
# "11０１０５…" would validate as a second spelling (another blind index) of a registered number.
_ID_RE = re.compile(r"^\d{17}[\dX]$", re.ASCII)
_PHONE_RE = re.compile(r"^1[3-9]\d{9}$", re.ASCII)
USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
_USCC_RE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$", re.ASCII)
# Structural floor only; lending policy (age ranges) is a product parameter.
MIN_BIRTH_YEAR = 1800


class InvalidIdentifier(ValueError):
    """An identifier failed validation; `code` names the failing part."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class ResidentId:
    """A valid resident ID number and what it tells."""

    number: str
    birth_date: date
    male: bool

    @property
    def region(self) -> str:
        """The six-digit address code."""
        return self.number[:6]

    def age_on(self, on: date) -> int:
        """Completed years (周岁) on `on`; someone born on 29 Feb ages on 1 Mar."""
        return age_on(self.birth_date, on)


def id_check_character(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character for 17 digits."""
    total = sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK[total % 11]


def normalise_id_number(value: str) -> str:
    """Trim, drop inner spaces, upper-case the check letter."""
    return re.sub(r"\s+", "", value).upper()


def validate_id_number(value: str, *, on: date | None = None) -> ResidentId:
    """Validate an 18-digit resident ID number: format, region, birth date, checksum.

    `on` is the reference date for "not born in the future" (the business date).
    """
    number = normalise_id_number(value)
    if not _ID_RE.match(number):
        raise InvalidIdentifier("id_number_format", "an ID number is 17 digits and a digit or X")
    if number[:2] not in ID_PROVINCES:
        raise InvalidIdentifier("id_number_region", f"unknown region prefix {number[:2]}")
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidIdentifier("id_number_birth_date", "the birth date is not a real date") from None
    if born.year < MIN_BIRTH_YEAR or (on is not None and born > on):
        raise InvalidIdentifier("id_number_birth_date", "the birth date is out of range")
    if id_check_character(number[:17]) != number[17]:
        raise InvalidIdentifier("id_number_checksum", "the check character does not match")
    return ResidentId(number=number, birth_date=born, male=int(number[16]) % 2 == 1)


def upgrade_15_digit_id(value: str) -> str:
    """Convert a first-generation 15-digit number to 18 digits (legacy data migration only)."""
    number = normalise_id_number(value)
    if not re.fullmatch(r"\d{15}", number, re.ASCII):
        raise InvalidIdentifier("id_number_format", "a legacy ID number is 15 digits")
    first17 = number[:6] + "19" + number[6:]
    return first17 + id_check_character(first17)


def age_on(born: date, on: date) -> int:
    """Completed years between `born` and `on`."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def normalise_phone(value: str) -> str:
    """Strip spaces and hyphens and a +86 / 0086 / 86 prefix."""
    digits = re.sub(r"[\s\-()]", "", value)
    for prefix in ("+86", "0086", "86"):
        if digits.startswith(prefix) and len(digits) - len(prefix) == 11:
            digits = digits[len(prefix):]
            break
    return digits


def validate_phone(value: str) -> str:
    """Validate a mainland mobile number (11 digits, 1[3-9]…); return it normalised."""
    phone = normalise_phone(value)
    if not _PHONE_RE.match(phone):
        raise InvalidIdentifier("phone_format", "a mainland mobile number is 11 digits starting 13–19")
    return phone


def uscc_check_character(first17: str) -> str:
    """The GB 32100-2015 check character of a unified social credit code."""
    total = sum(USCC_CHARSET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


def validate_uscc(value: str) -> str:
    """Validate a unified social credit code (统一社会信用代码)."""
    code = re.sub(r"\s+", "", value).upper()
    if not _USCC_RE.match(code):
        raise InvalidIdentifier("uscc_format", "a credit code is 18 characters of the USCC charset")
    if uscc_check_character(code[:17]) != code[17]:
        raise InvalidIdentifier("uscc_checksum", "the check character does not match")
    return code


def luhn_valid(digits: str) -> bool:
    """The Luhn (ISO/IEC 7812-1) check over a string of digits."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def validate_bank_card(value: str) -> tuple[str, bool]:
    """Normalise a bank card number; return it and whether the Luhn check passes.

    Some domestic debit cards do not follow Luhn (docs/domain.md §1.4): a failure is a
    warning for the caller to show, not a refusal.
    """
    digits = re.sub(r"[\s\-]", "", value)
    if not re.fullmatch(r"\d{12,19}", digits, re.ASCII):
        raise InvalidIdentifier("bank_card_format", "a bank card number is 12–19 digits")
    return digits, luhn_valid(digits)
