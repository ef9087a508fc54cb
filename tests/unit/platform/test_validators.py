"""Validators of Chinese identifiers: resident ID numbers, mobile numbers, USCC, bank cards."""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from microcredit.platform.validators import (
    ID_CHECK,
    ID_PROVINCES,
    ID_WEIGHTS,
    USCC_CHARSET,
    USCC_WEIGHTS,
    InvalidIdentifier,
    age_on,
    id_check_character,
    luhn_valid,
    normalise_phone,
    upgrade_15_digit_id,
    uscc_check_character,
    validate_bank_card,
    validate_id_number,
    validate_phone,
    validate_uscc,
)

BUSINESS_DATE = date(2026, 11, 25)
ASCII_ID = re.compile(r"[0-9]{17}[0-9X]", re.ASCII)


def code_of(fn, value: str, **kwargs) -> str:
    """The error code `fn` raises for `value`."""
    with pytest.raises(InvalidIdentifier) as info:
        fn(value, **kwargs)
    return info.value.code


# --- resident identity number (GB 11643-1999) ------------------------------------------

def test_weights_and_check_map_are_the_standards():
    # docs/domain.md §0: W_i = 2^(18−i) mod 11, and S mod 11 → check character.
    assert ID_WEIGHTS == (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    assert dict(enumerate(ID_CHECK)) == {0: "1", 1: "0", 2: "X", 3: "9", 4: "8", 5: "7", 6: "6", 7: "5",
                                         8: "4", 9: "3", 10: "2"}


def test_worked_example_sum():
    # docs/domain.md §1.1: 11010519491231002X gives S = 167; 167 mod 11 = 2 → X.
    assert sum(int(c) * w for c, w in zip("11010519491231002", ID_WEIGHTS, strict=True)) == 167
    assert id_check_character("11010519491231002") == "X"
    assert sum(int(c) * w for c, w in zip("44052418800101001", ID_WEIGHTS, strict=True)) == 195
    assert id_check_character("44052418800101001") == "4"


# Source: docs/domain.md §1.1 "Test vectors" (GB 11643-1999 Appendix A sample; guanguans/id-validator
# README for the residence permits).
#   input                    normalised            born         male
VALID_IDS = [
    ("11010519491231002X", "11010519491231002X", date(1949, 12, 31), False),
    ("11010519491231002x", "11010519491231002X", date(1949, 12, 31), False),
    ("440524188001010014", "440524188001010014", date(1880, 1, 1), True),
    ("34052419800101001X", "34052419800101001X", date(1980, 1, 1), True),
    ("440308199901101512", "440308199901101512", date(1999, 1, 10), True),
    ("810000199408230021", "810000199408230021", date(1994, 8, 23), False),  # HK/Macau residence permit
    ("830000199201300022", "830000199201300022", date(1992, 1, 30), False),  # Taiwan residence permit
    (" 110105 19491231 002x ", "11010519491231002X", date(1949, 12, 31), False),  # spaces, lower-case x
]


@pytest.mark.parametrize(("value", "number", "born", "male"), VALID_IDS)
def test_valid_id_numbers(value, number, born, male):
    resident = validate_id_number(value, on=BUSINESS_DATE)
    assert (resident.number, resident.birth_date, resident.male) == (number, born, male)
    assert resident.region == number[:6]


# Each failing part has its own code, so the UI can say which part is wrong (docs/domain.md §1.1).
#   input                    code                    why
INVALID_IDS = [
    ("110105194912310021", "id_number_checksum", "docs/domain.md vector: wrong check digit"),
    ("110105194902300027", "id_number_birth_date", "docs/domain.md vector: 30 February"),
    ("11010519491231002", "id_number_format", "17 characters"),
    ("11010519491231002XX", "id_number_format", "19 characters"),
    ("11010519491231002Y", "id_number_format", "check character Y"),
    ("1101051949123100X2", "id_number_format", "X before the end"),
    ("", "id_number_format", "empty"),
    ("991051194912310027", "id_number_region", "province 99 does not exist"),
    ("001051194912310028", "id_number_region", "province 00 does not exist"),
    ("110105194913310021", "id_number_birth_date", "month 13"),
    ("110105179912310024", "id_number_birth_date", "born before 1800"),
    ("110105202701010016", "id_number_birth_date", "born after the reference date"),
]


@pytest.mark.parametrize(("value", "code", "why"), INVALID_IDS)
def test_invalid_id_numbers_name_the_failing_part(value, code, why):
    assert code_of(validate_id_number, value, on=BUSINESS_DATE) == code, why


def test_invalid_vectors_fail_only_in_the_part_they_name():
    # A vector for "region" or "date" carries a correct check character, so the code really
    # comes from the part it names and not from a checksum failure further on.
    for value, code, why in INVALID_IDS:
        if code in ("id_number_region", "id_number_birth_date") and not why.startswith("docs/domain.md"):
            assert id_check_character(value[:17]) == value[17], value


def test_birth_date_in_the_future_is_checked_against_the_given_date_only():
    number = "110105202701010016"
    assert validate_id_number(number, on=date(2027, 1, 1)).birth_date == date(2027, 1, 1)
    assert code_of(validate_id_number, number, on=date(2026, 12, 31)) == "id_number_birth_date"


def test_unicode_digits_never_pass_as_another_number():
    # Full-width digits (typed with a Chinese IME) must not yield a second spelling of a number
    # that is already registered: the blind index is taken over the normalised value.
    full_width = str.maketrans("0123456789", "０１２３４５６７８９")
    for value in ("11" + "010519491231002X".translate(full_width),
                  "11010519491231002X".translate(full_width),
                  "110105" + "١٩٤٩" + "1231002X"):  # Arabic-Indic digits in the year
        try:
            resident = validate_id_number(value, on=BUSINESS_DATE)
        except InvalidIdentifier:
            continue
        assert ASCII_ID.fullmatch(resident.number), resident.number


def first17s(min_year: int = 1900):
    """17 digits with a known region and a real birth date, plus the parts."""
    return st.tuples(
        st.sampled_from(sorted(ID_PROVINCES)),
        st.from_regex(r"[0-9]{4}", fullmatch=True),
        st.dates(min_value=date(min_year, 1, 1), max_value=BUSINESS_DATE),
        st.integers(min_value=0, max_value=999),
    ).map(lambda t: (f"{t[0]}{t[1]}{t[2]:%Y%m%d}{t[3]:03d}", t[2], t[3]))


@given(first17s())
def test_any_17_digits_with_a_real_date_and_their_check_character_validate(parts):
    first17, born, sequence = parts
    resident = validate_id_number(first17 + id_check_character(first17), on=BUSINESS_DATE)
    assert resident.birth_date == born
    assert resident.male is (sequence % 2 == 1)
    assert resident.number == first17 + id_check_character(first17)


@given(first17s(), st.integers(min_value=0, max_value=17), st.integers(min_value=1, max_value=10))
def test_changing_any_one_character_breaks_the_number(parts, position, shift):
    first17, _, _ = parts
    number = first17 + id_check_character(first17)
    alphabet = "0123456789X" if position == 17 else "0123456789"
    replacement = alphabet[(alphabet.index(number[position]) + shift) % len(alphabet)]
    assume(replacement != number[position])
    changed = number[:position] + replacement + number[position + 1:]
    with pytest.raises(InvalidIdentifier) as info:
        validate_id_number(changed, on=BUSINESS_DATE)
    # MOD 11-2 catches every single substitution: when region and date still read as valid,
    # it is the checksum that refuses.
    region_ok = changed[:2] in ID_PROVINCES
    try:
        date_ok = date(1800, 1, 1) <= date(int(changed[6:10]), int(changed[10:12]),
                                           int(changed[12:14])) <= BUSINESS_DATE
    except ValueError:
        date_ok = False
    if region_ok and date_ok:
        assert info.value.code == "id_number_checksum"


@given(first17s(), st.integers(min_value=0, max_value=15))
def test_swapping_two_adjacent_digits_breaks_the_number(parts, position):
    first17, _, _ = parts
    assume(first17[position] != first17[position + 1])
    swapped = first17[:position] + first17[position + 1] + first17[position] + first17[position + 2:]
    assert id_check_character(swapped) != id_check_character(first17)


# --- legacy 15-digit numbers ------------------------------------------------------------

def test_upgrade_of_the_documented_15_digit_example():
    # docs/domain.md §1.1: 110105491231002 becomes 11010519491231002X.
    assert upgrade_15_digit_id("110105491231002") == "11010519491231002X"
    assert validate_id_number(upgrade_15_digit_id(" 110105 491231 002 ")).birth_date == date(1949, 12, 31)


@given(first17s(min_year=1900).filter(lambda p: p[1].year < 2000))
def test_upgrade_round_trips_every_20th_century_number(parts):
    first17, _, _ = parts
    number = first17 + id_check_character(first17)
    legacy = number[:6] + number[8:17]  # drop "19" and the check character
    assert upgrade_15_digit_id(legacy) == number


@pytest.mark.parametrize("value", ["11010549123100", "1101054912310021", "11010549123100X", ""])
def test_upgrade_refuses_anything_but_15_digits(value):
    assert code_of(upgrade_15_digit_id, value) == "id_number_format"


# --- age (周岁) -----------------------------------------------------------------------

#   born              on                age   why
AGES = [
    (date(2008, 2, 29), date(2026, 2, 28), 17, "Feb 29 birthday not reached on Feb 28 of a common year"),
    (date(2008, 2, 29), date(2026, 3, 1), 18, "… reached on Mar 1"),
    (date(2008, 2, 29), date(2028, 2, 28), 19, "leap year: not yet on Feb 28"),
    (date(2008, 2, 29), date(2028, 2, 29), 20, "leap year: on the day"),
    (date(2008, 11, 25), date(2026, 11, 24), 17, "the day before the 18th birthday"),
    (date(2008, 11, 25), date(2026, 11, 25), 18, "the 18th birthday"),
    (date(1949, 12, 31), date(2026, 11, 25), 76, "the standard's sample"),
]


@pytest.mark.parametrize(("born", "on", "age", "why"), AGES)
def test_age_in_completed_years(born, on, age, why):
    assert age_on(born, on) == age, why


def test_resident_age_uses_the_reference_date():
    first17 = "11010520080229001"
    resident = validate_id_number(first17 + id_check_character(first17), on=BUSINESS_DATE)
    assert resident.age_on(date(2026, 2, 28)) == 17
    assert resident.age_on(date(2026, 3, 1)) == 18


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 1, 1)),
       st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 1, 1)))
def test_age_counts_birthdays_passed(born, on):
    assume(on >= born)
    age = age_on(born, on)
    assert age >= 0
    assert (on.month, on.day) >= (born.month, born.day) or age == on.year - born.year - 1
    assert age in (on.year - born.year, on.year - born.year - 1)


# --- mobile numbers ---------------------------------------------------------------------

# Source: docs/domain.md §1.2 — strip spaces and hyphens, drop +86 / 0086 / 86 when 11 digits remain.
PHONES = [
    ("13800138000", "13800138000"),
    ("+8613800138000", "13800138000"),
    ("008613800138000", "13800138000"),
    ("8613800138000", "13800138000"),
    ("+86 138 0013 8000", "13800138000"),
    ("138-0013-8000", "13800138000"),
    (" 138 0013 8000 ", "13800138000"),
    ("0086 199-1234-5678", "19912345678"),
    ("16612345678", "16612345678"),
]


@pytest.mark.parametrize(("value", "phone"), PHONES)
def test_phone_normalisation(value, phone):
    assert validate_phone(value) == phone


@pytest.mark.parametrize("value", [
    "12800138000",       # second digit 2
    "10800138000",       # second digit 0
    "1380013800",        # 10 digits
    "138001380000",      # 12 digits
    "23800138000",       # does not start with 1
    "+85213800138000",   # Hong Kong prefix is not stripped
    "86138001380",       # "86" kept when fewer than 11 digits would remain
    "1380013800a",
    "",
])
def test_invalid_phones(value):
    assert code_of(validate_phone, value) == "phone_format"


def test_prefix_is_dropped_only_when_eleven_digits_remain():
    assert normalise_phone("86138001380") == "86138001380"
    assert normalise_phone("+86 13800138000") == "13800138000"


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True), st.sampled_from(["", "+86", "0086", "86", "+86 "]),
       st.sampled_from(["{}", "{} ", " {}", "{}"]))
def test_any_mainland_number_with_any_prefix_normalises_to_itself(number, prefix, frame):
    spaced = f"{number[:3]} {number[3:7]}-{number[7:]}"
    assert validate_phone(frame.format(prefix + spaced)) == number


def test_phone_is_ascii_after_validation():
    full_width = str.maketrans("0123456789", "０１２３４５６７８９")
    for value in ("13800138000".translate(full_width), "13" + "800138000".translate(full_width)):
        try:
            phone = validate_phone(value)
        except InvalidIdentifier:
            continue
        assert re.fullmatch(r"1[3-9][0-9]{9}", phone, re.ASCII), phone


# --- unified social credit code (GB 32100-2015) ---------------------------------------------

def test_uscc_worked_example_sum():
    # docs/domain.md §1.3: body 91350100M000100Y4 gives S = 1640; 1640 mod 31 = 28; 31 − 28 = 3.
    assert USCC_WEIGHTS == (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
    assert sum(USCC_CHARSET.index(c) * w for c, w in zip("91350100M000100Y4", USCC_WEIGHTS, strict=True)) == 1640
    assert uscc_check_character("91350100M000100Y4") == "3"


# Source: docs/domain.md §1.3 (the standard's appendix example; Xiaomi; a Beijing enterprise) and the
# Fujian pilot-region caveat (lawful but failing the checksum: a manual check, not a valid code).
#   input                  result
USCC = [
    ("91350100M000100Y43", "91350100M000100Y43"),
    ("91110108551385082Q", "91110108551385082Q"),
    ("91110000600037341L", "91110000600037341L"),
    ("91110108551385082q", "91110108551385082Q"),
    (" 9111 0108 5513 8508 2Q", "91110108551385082Q"),
    ("91350100M000100Y4Z", "uscc_format"),       # Z is not a USCC symbol
    ("91350100M000100Y44", "uscc_checksum"),
    ("91350100M0001TGQXM", "uscc_checksum"),     # Fujian pilot code (docs/domain.md caveat)
    ("9135010OM000100Y43", "uscc_format"),       # letter O inside the area code
    ("91350100M000100Y4", "uscc_format"),        # 17 characters
]


@pytest.mark.parametrize(("value", "expected"), USCC)
def test_uscc(value, expected):
    if expected.startswith("uscc_"):
        assert code_of(validate_uscc, value) == expected
    else:
        assert validate_uscc(value) == expected


@given(st.text(alphabet=USCC_CHARSET, min_size=2, max_size=2), st.from_regex(r"[0-9]{6}", fullmatch=True),
       st.text(alphabet=USCC_CHARSET, min_size=9, max_size=9))
def test_uscc_round_trip(head, area, subject):
    body = head + area + subject
    assert validate_uscc(body + uscc_check_character(body)) == body + uscc_check_character(body)


# --- bank cards (Luhn) ------------------------------------------------------------------

# Source: docs/domain.md §1.4.
LUHN = [
    ("79927398713", True),
    ("4111111111111111", True),
    ("6225881414207430", True),
    ("6225881414207431", False),
    ("0", True),
    ("18", True),
    ("19", False),
]


@pytest.mark.parametrize(("digits", "valid"), LUHN)
def test_luhn(digits, valid):
    assert luhn_valid(digits) is valid


def test_bank_card_normalises_and_warns_instead_of_refusing():
    assert validate_bank_card("6225 8814-1420 7430") == ("6225881414207430", True)
    assert validate_bank_card("6225881414207431") == ("6225881414207431", False)


@pytest.mark.parametrize("value", ["79927398713", "62258814142074301234", "6225881414a07430", ""])
def test_bank_card_format(value):
    assert code_of(validate_bank_card, value) == "bank_card_format"


def test_bank_card_and_uscc_refuse_unicode_digits():
    full_width = str.maketrans("0123456789", "０１２３４５６７８９")
    assert code_of(validate_bank_card, "6225881414207430".translate(full_width)) == "bank_card_format"
    assert code_of(validate_uscc, "91" + "110108".translate(full_width) + "551385082Q") == "uscc_format"
    assert code_of(upgrade_15_digit_id, "110105491231002".translate(full_width)) == "id_number_format"


@given(st.from_regex(r"62[0-9]{13,16}", fullmatch=True), st.integers(min_value=1, max_value=9))
def test_luhn_catches_every_single_digit_change(body, shift):
    check = next(str(d) for d in range(10) if luhn_valid(body + str(d)))
    card = body + check
    i = len(card) // 2
    changed = card[:i] + str((int(card[i]) + shift) % 10) + card[i + 1:]
    assert not luhn_valid(changed)
