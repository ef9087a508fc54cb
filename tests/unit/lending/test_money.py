"""The Money value: constructors at the edges, exact arithmetic, one rounding table, exact splits."""

from __future__ import annotations

import decimal
import pickle
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from microcredit.lending.money import (
    CURRENCIES,
    CurrencyMismatch,
    Money,
    RoundingMode,
    RoundingPolicy,
    UnknownCurrency,
    divide_rounded,
    divide_rounded_vector,
    floor_offset,
    imbalances,
    is_balanced,
    percent,
    totals_by_currency,
)

from .support import LENDING

D = Decimal
MODES = list(RoundingMode)
codes = st.sampled_from(sorted(CURRENCIES))
units = st.integers(-(10**15), 10**15)


def cny(text: str) -> Money:
    return Money.parse(text, "CNY")


# -- the currency table ------------------------------------------------------------------------


def test_the_rounding_table() -> None:
    assert {code: (c.places, c.rounding) for code, c in CURRENCIES.items()} == {
        "CNY": (2, RoundingMode.HALF_UP),
        "HKD": (2, RoundingMode.HALF_UP),
        "USD": (2, RoundingMode.HALF_UP),
        "EUR": (2, RoundingMode.HALF_UP),
        "JPY": (0, RoundingMode.HALF_UP),
    }
    assert RoundingPolicy.default_for("CNY") == RoundingPolicy("CNY", RoundingMode.HALF_UP)
    assert RoundingPolicy("JPY", RoundingMode.DOWN).places == 0
    with pytest.raises(UnknownCurrency):
        RoundingPolicy("ZZZ", RoundingMode.HALF_UP)  # not a currency code
    with pytest.raises(UnknownCurrency):
        Money(1, "cny")


# -- constructors ------------------------------------------------------------------------------


def test_amounts_are_built_from_text_decimals_and_minor_units() -> None:
    assert Money.parse("888.49", "CNY") == Money(88849, "CNY")
    assert Money.parse("10000", "CNY") == Money(1_000_000, "CNY")
    assert Money.parse("0.1", "CNY") == Money(10, "CNY")
    assert Money.parse("-0.01", "CNY") == Money(-1, "CNY")
    assert Money.parse(D("0.10"), "CNY") == Money(10, "CNY")
    assert Money.parse(D("1.000"), "CNY") == Money(100, "CNY")  # the value is exact at 2 places
    assert Money.parse("1234", "JPY") == Money(1234, "JPY")
    assert Money.zero("USD") == Money(0, "USD")


@pytest.mark.parametrize(
    "text",
    ["1.001", "1e5", "1E+2", "+5", " 5", "5 ", "１２３", "١٢", "0x10", "", "-", ".5", "5.", "1,000", "NaN", "Infinity"],
)
def test_text_that_is_not_a_plain_amount_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        Money.parse(text, "CNY")


def test_jpy_has_no_places() -> None:
    with pytest.raises(ValueError, match="decimal places"):
        Money.parse("1.5", "JPY")
    with pytest.raises(ValueError, match="decimal places"):
        Money.parse(D("0.1"), "JPY")
    assert str(Money(123456, "JPY")) == "123456"
    assert Money(1000, "JPY").split(3) == (Money(334, "JPY"), Money(333, "JPY"), Money(333, "JPY"))


@pytest.mark.parametrize("value", [0.1, 1.0, float("nan"), True, 5])
def test_floats_bools_and_ints_are_refused_by_parse(value: object) -> None:
    with pytest.raises(TypeError):
        Money.parse(value, "CNY")  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [1.0, True, D("1"), Fraction(1), np.int64(5), "5"])
def test_minor_units_are_an_int_and_nothing_else(value: object) -> None:
    with pytest.raises(TypeError):
        Money(value, "CNY")  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [D("NaN"), D("Infinity"), D("-Infinity"), D("0.001")])
def test_decimals_that_are_not_amounts_are_refused(value: Decimal) -> None:
    with pytest.raises(ValueError):
        Money.parse(value, "CNY")


def test_a_decimal_finer_than_fifty_digits_is_refused_not_rounded() -> None:
    with pytest.raises(ValueError, match="decimal places"):
        Money.parse(D("1." + "0" * 60 + "1"), "CNY")


@LENDING
@given(units, codes)
def test_str_and_parse_round_trip(minor: int, code: str) -> None:
    amount = Money(minor, code)
    text = str(amount)
    places = CURRENCIES[code].places
    assert Money.parse(text, code) == amount
    assert Money.parse(amount.amount, code) == amount
    if places:
        assert len(text.rsplit(".", 1)[1]) == places  # exactly the currency's places
    else:
        assert "." not in text
    assert D(text) == D(minor).scaleb(-places)


def test_the_string_form_has_exactly_the_currencys_places() -> None:
    assert [str(Money(n, "CNY")) for n in (0, 1, -1, 10, 88849, -1_000_000)] == [
        "0.00", "0.01", "-0.01", "0.10", "888.49", "-10000.00"
    ]
    assert repr(Money(88849, "CNY")) == "Money('888.49', 'CNY')"
    assert Money(88849, "CNY").amount == D("888.49")


def test_money_is_immutable_hashable_and_pickles() -> None:
    amount = cny("888.49")
    with pytest.raises(AttributeError):
        amount.minor = 1  # type: ignore[misc]
    assert {amount: 1}[cny("888.49")] == 1
    assert hash(amount) == hash(Money(88849, "CNY"))
    assert pickle.loads(pickle.dumps(amount)) == amount
    assert not hasattr(amount, "__dict__")


# -- arithmetic --------------------------------------------------------------------------------


def test_arithmetic_within_a_currency() -> None:
    a, b = cny("888.49"), cny("100.00")
    assert a + b == cny("988.49")
    assert a - b == cny("788.49")
    assert -a == cny("-888.49")
    assert abs(cny("-1.00")) == cny("1.00")
    assert a * 3 == 3 * a == cny("2665.47")
    assert [b < a, a > b, a >= a, b <= b, a < b] == [True, True, True, True, False]
    assert min(a, b) == b
    assert [bool(Money.zero("CNY")), bool(a)] == [False, True]
    assert [Money.zero("CNY").is_zero, a.is_positive, (-a).is_negative, a.is_negative] == [True, True, True, False]


@pytest.mark.parametrize(
    "operation",
    [
        lambda a, b: a + b,
        lambda a, b: a - b,
        lambda a, b: a < b,
        lambda a, b: a <= b,
        lambda a, b: a > b,
        lambda a, b: a >= b,
        lambda a, b: a.ratio(b),
        lambda a, b: a.round_to(b, RoundingMode.HALF_UP),
    ],
)
def test_mixed_currencies_are_refused(operation: object) -> None:
    with pytest.raises(CurrencyMismatch):
        operation(cny("1.00"), Money.parse("1.00", "USD"))  # type: ignore[operator]


def test_amounts_of_two_currencies_are_never_equal() -> None:
    assert Money(100, "CNY") != Money(100, "USD")
    assert Money(100, "CNY") != 100
    assert Money(100, "CNY") != D("1.00")


def test_mixing_with_numbers_is_refused() -> None:
    with pytest.raises(TypeError):
        cny("1.00") + 1  # type: ignore[operator]
    with pytest.raises(TypeError):
        assert cny("1.00") < 1  # type: ignore[operator]
    with pytest.raises(TypeError):
        sum([cny("1.00"), cny("2.00")])  # type: ignore[arg-type]


@pytest.mark.parametrize("factor", [D("0.01"), Fraction(1, 3), 1.5, True])
def test_multiplying_by_a_rate_needs_a_rounding_mode(factor: object) -> None:
    with pytest.raises(TypeError):
        cny("100.00") * factor  # type: ignore[operator]
    with pytest.raises(TypeError):
        cny("100.00") / 3  # type: ignore[operator]


def test_times_and_divided_by_round_once_by_the_mode() -> None:
    # docs/domain.md §4.1: 9,211.51 at 1 % is 92.1151 -> 92.12 half-up, 92.11 down.
    balance = cny("9211.51")
    assert balance.times(D("0.01"), RoundingMode.HALF_UP) == cny("92.12")
    assert balance.times(Fraction(1, 100), RoundingMode.DOWN) == cny("92.11")
    assert cny("0.05").times(Fraction(1, 2), RoundingMode.HALF_EVEN) == cny("0.02")  # 0.025 -> even
    assert cny("0.07").times(Fraction(1, 2), RoundingMode.HALF_EVEN) == cny("0.04")  # 0.035 -> even
    assert cny("100.00").divided_by(3, RoundingMode.UP) == cny("33.34")
    assert cny("100.00").divided_by(D("-3"), RoundingMode.DOWN) == cny("-33.33")
    with pytest.raises(TypeError):
        cny("1.00").times(0.5, RoundingMode.HALF_UP)  # type: ignore[arg-type]
    with pytest.raises(ZeroDivisionError):
        cny("1.00").divided_by(0, RoundingMode.HALF_UP)


def test_the_callers_decimal_context_changes_nothing() -> None:
    with decimal.localcontext(decimal.Context(prec=3, rounding=decimal.ROUND_DOWN)):
        assert cny("123456.78").times(D("0.0123"), RoundingMode.HALF_UP) == cny("1518.52")
        assert Money.parse(D("123456.78"), "CNY") == Money(12345678, "CNY")
        assert cny("123456.78").amount == D("123456.78")


@LENDING
@given(units, st.integers(-(10**9), 10**9), st.integers(1, 10**9), st.sampled_from(MODES))
def test_times_is_the_exact_product_quantized_by_decimal(minor: int, p: int, q: int, mode: RoundingMode) -> None:
    exact = Fraction(minor) * Fraction(p, q)  # in minor units
    quotient = decimal.Context(prec=200).divide(D(exact.numerator), D(exact.denominator))
    # 200 digits are far more than a tie can hide in: quantize of that is the exact rounding.
    expected = quotient.quantize(D(1), rounding=mode.decimal_rounding, context=decimal.Context(prec=200))
    assert Money(minor, "CNY").times(Fraction(p, q), mode) == Money(int(expected), "CNY")


def test_round_to_a_multiple() -> None:
    assert cny("888.49").round_to(cny("1"), RoundingMode.HALF_UP) == cny("888.00")
    assert cny("888.50").round_to(cny("1"), RoundingMode.HALF_UP) == cny("889.00")
    assert cny("888.49").round_to(cny("10"), RoundingMode.HALF_UP) == cny("890.00")
    assert cny("880.01").round_to(cny("10"), RoundingMode.UP) == cny("890.00")
    with pytest.raises(ValueError, match="positive"):
        cny("1.00").round_to(cny("0"), RoundingMode.UP)


@pytest.mark.parametrize(
    ("mode", "values", "expected"),
    [
        (RoundingMode.HALF_UP, ["0.005", "0.015", "-0.005", "92.1151"], ["0.01", "0.02", "-0.01", "92.12"]),
        (RoundingMode.HALF_EVEN, ["0.005", "0.015", "0.025", "0.0251"], ["0.00", "0.02", "0.02", "0.03"]),
        (RoundingMode.DOWN, ["0.019", "-0.019"], ["0.01", "-0.01"]),
        (RoundingMode.UP, ["0.011", "-0.011", "0.010"], ["0.02", "-0.02", "0.01"]),
    ],
)
def test_the_four_modes(mode: RoundingMode, values: list[str], expected: list[str]) -> None:
    policy = RoundingPolicy("CNY", mode)
    assert [policy.round(D(v)) for v in values] == [cny(e) for e in expected]


def test_policy_rounds_exact_values_to_money() -> None:
    policy = RoundingPolicy("CNY", RoundingMode.HALF_UP)
    assert policy.round(Fraction(921151, 10000)) == cny("92.12")
    assert policy.round(D("-0.005")) == cny("-0.01")
    assert RoundingPolicy("CNY", RoundingMode.HALF_EVEN).round(D("0.025")) == cny("0.02")
    assert RoundingPolicy("JPY", RoundingMode.HALF_UP).round(D("1234.5")) == Money(1235, "JPY")
    assert policy.times(cny("100.00"), D("0.125")) == cny("12.50")
    with pytest.raises(CurrencyMismatch):
        policy.times(Money(100, "USD"), D("0.1"))
    assert (policy.quantum, policy.zero) == (cny("0.01"), cny("0.00"))


def test_percent_is_a_rate_not_money() -> None:
    assert percent("12") == D("0.12")
    assert percent("13.25") == D("0.1325")
    with pytest.raises(TypeError):
        percent(12.5)  # type: ignore[arg-type]


# -- splitting ---------------------------------------------------------------------------------


def test_split_and_allocate_by_the_largest_remainder() -> None:
    assert cny("100.00").split(3) == (cny("33.34"), cny("33.33"), cny("33.33"))
    assert cny("-100.00").split(3) == (cny("-33.34"), cny("-33.33"), cny("-33.33"))
    assert cny("0.05").split(3) == (cny("0.02"), cny("0.02"), cny("0.01"))
    # 10.00 in 1 : 2 : 3 -> exact shares 1.666..., 3.333..., 5.00: the unit left over goes to the
    # largest remainder (0.666... of a fen), the first part.
    assert cny("10.00").allocate([1, 2, 3]) == (cny("1.67"), cny("3.33"), cny("5.00"))
    # Ties go to the earlier part: 0.03 in halves.
    assert cny("0.03").allocate([1, 1]) == (cny("0.02"), cny("0.01"))
    assert cny("0.00").split(4) == (cny("0.00"),) * 4
    assert cny("1.00").allocate([D("0.5"), 0, Fraction(1, 2)]) == (cny("0.50"), cny("0.00"), cny("0.50"))
    for bad in ([], [0, 0], [1, -1]):
        with pytest.raises(ValueError):
            cny("1.00").allocate(bad)
    with pytest.raises(ValueError):
        cny("1.00").split(0)
    with pytest.raises(TypeError):
        cny("1.00").allocate([0.5, 0.5])  # type: ignore[list-item]


@LENDING
@given(units, st.integers(1, 50))
def test_split_parts_sum_exactly_and_differ_by_at_most_one_minor_unit(minor: int, count: int) -> None:
    parts = Money(minor, "CNY").split(count)
    assert len(parts) == count
    assert Money.total(parts, "CNY") == Money(minor, "CNY")
    assert max(p.minor for p in parts) - min(p.minor for p in parts) <= 1
    assert [abs(p.minor) for p in parts] == sorted((abs(p.minor) for p in parts), reverse=True)  # larger first


@LENDING
@given(units, st.lists(st.integers(0, 10**6), min_size=1, max_size=20).filter(any))
def test_allocated_parts_sum_exactly_and_stay_within_a_unit_of_their_share(minor: int, weights: list[int]) -> None:
    parts = Money(minor, "CNY").allocate(weights)
    assert Money.total(parts, "CNY") == Money(minor, "CNY")
    whole = sum(weights)
    for part, weight in zip(parts, weights, strict=True):
        share = Fraction(minor * weight, whole)
        assert abs(part.minor - share) < 1
        if weight == 0:
            assert part.is_zero


# -- sums and balances -------------------------------------------------------------------------


def test_total_and_balances_per_currency() -> None:
    assert Money.total([cny("1.00"), cny("2.50")], "CNY") == cny("3.50")
    assert Money.total([], "JPY") == Money(0, "JPY")
    with pytest.raises(CurrencyMismatch):
        Money.total([cny("1.00"), Money(1, "USD")], "CNY")
    postings = [cny("100.00"), cny("-60.00"), cny("-40.00"), Money(500, "USD"), Money(-500, "USD")]
    assert totals_by_currency(postings) == {"CNY": cny("0.00"), "USD": Money(0, "USD")}
    assert is_balanced(postings)
    unbalanced = [*postings, cny("0.01")]
    assert not is_balanced(unbalanced)
    assert imbalances(unbalanced) == {"CNY": cny("0.01")}
    # Amounts of two currencies never offset each other.
    assert not is_balanced([cny("1.00"), Money(-100, "USD")])
    assert is_balanced([])
    with pytest.raises(TypeError):
        is_balanced([D("1.00")])  # type: ignore[list-item]


@LENDING
@given(st.lists(st.tuples(codes, units), max_size=30))
def test_a_posting_and_its_reversal_always_balance(lines: list[tuple[str, int]]) -> None:
    postings = [Money(minor, code) for code, minor in lines]
    assert is_balanced(postings + [-p for p in postings])
    totals = totals_by_currency(postings)
    assert is_balanced(postings) == all(t.is_zero for t in totals.values())


# -- the four modes, on integers and on NumPy columns ------------------------------------------


@LENDING
@given(st.integers(-(10**30), 10**30), st.integers(0, 30), st.integers(0, 30), st.sampled_from(MODES))
def test_integer_rounding_is_decimal_quantize_with_the_matching_mode(
    x: int, twos: int, fives: int, mode: RoundingMode
) -> None:
    d = 2**twos * 5**fives  # x / d is a finite decimal: Decimal computes it exactly
    quotient = decimal.Context(prec=200, traps=[decimal.Inexact]).divide(D(x), D(d))
    expected = quotient.quantize(D(1), rounding=mode.decimal_rounding, context=decimal.Context(prec=200))
    assert divide_rounded(x, d, mode) == int(expected)


@LENDING
@given(
    st.lists(st.integers(0, 2**40), min_size=1, max_size=200),
    st.integers(1, 2**20),
    st.sampled_from(MODES),
)
def test_vectorised_rounding_equals_integer_rounding(xs: list[int], d: int, mode: RoundingMode) -> None:
    column = np.array(xs, dtype=np.int64)
    assert divide_rounded_vector(column, d, mode).tolist() == [divide_rounded(x, d, mode) for x in xs]
    divisors = np.array([(x % d) + 1 for x in xs], dtype=np.int64)  # a divisor per element
    expected = [divide_rounded(x, int(e), mode) for x, e in zip(xs, divisors, strict=True)]
    assert divide_rounded_vector(column, divisors, mode).tolist() == expected


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("d", [1, 2, 3, 7, 10, 12, 1_200_000_000])
def test_vectorised_rounding_on_every_tie_and_its_neighbours(mode: RoundingMode, d: int) -> None:
    xs = sorted({max(k * d // 2 + j, 0) for k in range(0, 12) for j in (-1, 0, 1)})
    column = np.array(xs, dtype=np.int64)
    assert divide_rounded_vector(column, d, mode).tolist() == [divide_rounded(x, d, mode) for x in xs]


@LENDING
@given(st.integers(0, 10**12), st.integers(1, 10**6), st.sampled_from(MODES))
def test_the_floor_offset_is_the_mode(x: int, d: int, mode: RoundingMode) -> None:
    offset = floor_offset(mode, d)
    if offset is None:
        assert mode is RoundingMode.HALF_EVEN
    else:
        assert (x + offset) // d == divide_rounded(x, d, mode)
