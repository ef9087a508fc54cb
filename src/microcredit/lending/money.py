"""Money: one value, built at the edges, rounded in one place.

An amount of money is a `Money`: an integer count of the currency's minor
units and the currency's code.  888.49 yuan is ``Money(88849, "CNY")``.  It
is exact by construction, cannot be a float, and carries its currency, so
adding yuan to dollars is an error (`CurrencyMismatch`), not a number.

Constructors -- one per kind of input, none from a float:

- ``Money(88849, "CNY")`` from integer minor units (how the core and the
  database count);
- ``Money.parse("888.49", "CNY")`` from a decimal string or a `Decimal` at
  an edge (the API, a file, a form); more places than the currency has,
  exponents, signs other than a leading minus, non-ASCII digits and
  non-finite values are refused, never rounded;
- ``Money.zero("CNY")``.

``str(Money(88849, "CNY"))`` is ``"888.49"``: exactly the currency's places
(``"0.00"``, ``"-0.01"``; JPY has none: ``"1234"``).  ``.amount`` is the
same value as a `Decimal`, for the APR solver and spreadsheets.

Arithmetic.  ``+``, ``-``, unary ``-``, ``abs`` and the comparisons take two
amounts of one currency.  ``amount * 3`` is exact.  Multiplying or dividing
by a rate is where rounding happens, so it needs the mode, always:
``balance.times(Fraction(1, 100), RoundingMode.HALF_UP)`` -- a plain
``amount * Decimal("0.01")`` raises `TypeError`.  The product is the exact
rational ``minor x p / q`` rounded once (`divide_rounded`), so 9,211.51 at
1 % is 92.1151 -> 92.12 half-up, whatever the caller's decimal context.

Splitting.  ``amount.allocate(weights)`` and ``amount.split(n)`` give parts
that sum exactly to the amount, by the *largest remainder* rule: each part
gets its exact share rounded down to a minor unit, then the units left over
go one each to the parts with the largest remainders, the earlier part
first on a tie.  Every part is within one minor unit of its exact share, and
``Money.parse("100.00", "CNY").split(3)`` is 33.34, 33.33, 33.33.

Sums and balances.  ``Money.total(amounts, "CNY")`` adds amounts of one
currency (an empty sum is zero in that currency).  For ledger postings,
``totals_by_currency(postings)`` gives each currency's sum and
``is_balanced(postings)`` says whether every one of them is exactly zero
(``imbalances`` lists those that are not).

Rounding, in one place.  The currency table (`CURRENCIES`) gives each
currency's minor digits and default mode (CNY: 2 places, half-up).  The
four modes are implemented once, on integers, by `round_quotient`: with
x = q d + r (0 <= r < d) the quotient x / d rounds to q, plus one when

    down: never          up: r > 0
    half_up: 2r >= d     half_even: 2r > d, or 2r = d and q is odd

-- Decimal's ROUND_DOWN, ROUND_UP, ROUND_HALF_UP and ROUND_HALF_EVEN of the
exact quotient (property-tested against `Decimal.quantize`).
`round_quotient` uses only operators that NumPy arrays share with ints, so
the vectorised path (`divide_rounded_vector`, used by `batch`) runs the very
same expression on int64 columns; `floor_offset` gives the branch-free form
``(x + c) // d`` of the modes that need no tie rule.  `divide_rounded` is
the signed scalar form and `RoundingPolicy` (a currency and a mode) rounds
through it.

Decimal arithmetic that remains in the core (the APR solver) runs in
`ENGINE_CONTEXT` (50 significant digits, traps on invalid operations),
entered by `in_engine_context`, so a caller's global decimal context can
never change a result.
"""

from __future__ import annotations

import decimal
import functools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from typing import TYPE_CHECKING, NoReturn, ParamSpec, TypeVar, overload

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = [
    "CURRENCIES",
    "ENGINE_CONTEXT",
    "Currency",
    "CurrencyMismatch",
    "Money",
    "RoundingMode",
    "RoundingPolicy",
    "UnknownCurrency",
    "currency",
    "divide_rounded",
    "divide_rounded_vector",
    "floor_offset",
    "imbalances",
    "in_engine_context",
    "is_balanced",
    "percent",
    "round_quotient",
    "totals_by_currency",
]

ENGINE_CONTEXT = decimal.Context(
    prec=50,
    rounding=decimal.ROUND_HALF_EVEN,
    Emin=-999_999,
    Emax=999_999,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)

_P = ParamSpec("_P")
_R = TypeVar("_R")


def in_engine_context(func: Callable[_P, _R]) -> Callable[_P, _R]:
    """Run `func` inside the engine's decimal context (50 digits, traps on)."""

    @functools.wraps(func)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with decimal.localcontext(ENGINE_CONTEXT):
            return func(*args, **kwargs)

    return wrapper


# --- rounding modes, once, on integers ------------------------------------------------------


class RoundingMode(StrEnum):
    """How an exact quotient is rounded to a whole number of minor units (or of a multiple)."""

    HALF_UP = "half_up"
    HALF_EVEN = "half_even"
    DOWN = "down"
    UP = "up"

    @property
    def decimal_rounding(self) -> str:
        """The `decimal` module's rounding constant for this mode (for tests and display)."""
        return _DECIMAL_ROUNDING[self]


_DECIMAL_ROUNDING = {
    RoundingMode.HALF_UP: decimal.ROUND_HALF_UP,
    RoundingMode.HALF_EVEN: decimal.ROUND_HALF_EVEN,
    RoundingMode.DOWN: decimal.ROUND_DOWN,
    RoundingMode.UP: decimal.ROUND_UP,
}
_DOWN, _UP, _HALF_UP = RoundingMode.DOWN, RoundingMode.UP, RoundingMode.HALF_UP

if TYPE_CHECKING:
    Int64Array = npt.NDArray[np.int64]
    _N = TypeVar("_N", int, Int64Array)


def round_quotient(q: _N, r: _N, d: int | _N, mode: RoundingMode) -> _N:
    """q + r/d (0 <= r < d) rounded to a whole number by `mode`: the one place the modes are written.

    Only operators that Python ints and NumPy int64 arrays share are used, so the scalar path
    and the vectorised path run this same expression (a bool adds as 0 or 1 to both).
    """
    if mode is _DOWN:
        return q
    if mode is _UP:
        return q + (r > 0)
    twice = 2 * r
    if mode is _HALF_UP:
        return q + (twice >= d)
    tie_to_odd = (twice == d) & (q % 2 == 1)
    return q + ((twice > d) | tie_to_odd)  # type: ignore[no-any-return]  # NumPy's operators are typed Any


@overload
def floor_offset(mode: RoundingMode, d: int) -> int | None: ...


@overload
def floor_offset(mode: RoundingMode, d: Int64Array) -> Int64Array | None: ...


def floor_offset(mode: RoundingMode, d: int | Int64Array) -> int | Int64Array | None:
    """c with (x + c) // d == `round_quotient` of x / d for every x >= 0; None for half-even (ties).

    down: 0; up: d - 1; half-up: d // 2 (x = q d + r gains one exactly when r >= d - d // 2,
    i.e. 2r >= d).  Half-even needs the parity of q, which no offset gives.
    """
    if mode is _DOWN:
        return d * 0
    if mode is _UP:
        return d - 1
    if mode is _HALF_UP:
        return d // 2
    return None


def divide_rounded(numerator: int, denominator: int, mode: RoundingMode) -> int:
    """numerator / denominator rounded to an integer by `mode`, exactly (denominator > 0)."""
    if denominator <= 0:
        raise ValueError("the denominator must be positive")
    if numerator < 0:
        return -divide_rounded(-numerator, denominator, mode)
    q, r = divmod(numerator, denominator)
    if not r:
        return q
    return round_quotient(q, r, denominator, mode)


def divide_rounded_vector(numerator: Int64Array, denominator: int | Int64Array, mode: RoundingMode) -> Int64Array:
    """`divide_rounded` on NumPy int64 columns (numerators >= 0, denominators > 0), element by element.

    The same rule as the scalar form: the branch-free ``(x + c) // d`` of `floor_offset` where
    the mode has one, else a divmod and `round_quotient`.  The caller keeps x + d below 2^63.
    """
    offset = floor_offset(mode, denominator)
    if offset is not None:
        return (numerator + offset) // denominator
    q, r = divmod(numerator, denominator)
    return round_quotient(q, r, denominator, mode)


# --- currencies ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Currency:
    """A currency of the rounding table: ISO 4217 code, minor digits, default rounding mode."""

    code: str
    places: int
    rounding: RoundingMode


CURRENCIES: Mapping[str, Currency] = {
    c.code: c
    for c in (
        Currency("CNY", 2, RoundingMode.HALF_UP),  # 元 / 分; half-up is PBOC practice (四舍五入)
        Currency("HKD", 2, RoundingMode.HALF_UP),
        Currency("USD", 2, RoundingMode.HALF_UP),
        Currency("EUR", 2, RoundingMode.HALF_UP),
        Currency("JPY", 0, RoundingMode.HALF_UP),
    )
}
"""The rounding table: every currency the system knows, with its places and default mode."""

_SCALE = {code: 10**c.places for code, c in CURRENCIES.items()}
_PLACES = {code: c.places for code, c in CURRENCIES.items()}
_UNITS = {code: (c.places, 10**c.places) for code, c in CURRENCIES.items()}


class UnknownCurrency(ValueError):
    """A currency code that is not in the rounding table."""


class CurrencyMismatch(ValueError):
    """Arithmetic or a comparison between amounts of two currencies."""


def currency(code: str) -> Currency:
    """The table's entry for `code` (UnknownCurrency when there is none)."""
    try:
        return CURRENCIES[code]
    except (KeyError, TypeError):
        raise UnknownCurrency(f"unknown currency {code!r}") from None


# --- the money value ------------------------------------------------------------------------

_AMOUNT = re.compile(r"-?([0-9]+)(?:\.([0-9]+))?", re.ASCII)
_EXACT = (int, Fraction, Decimal)


def _ratio(factor: int | Fraction | Decimal) -> tuple[int, int]:
    """An exact factor as (numerator, denominator > 0); floats and bools are refused."""
    if isinstance(factor, bool) or not isinstance(factor, _EXACT):
        raise TypeError(f"a rate is an int, Fraction or Decimal, not {type(factor).__name__}")
    if isinstance(factor, Decimal) and not factor.is_finite():
        raise ValueError(f"not a finite rate: {factor}")
    return factor.as_integer_ratio()


_new = object.__new__


class Money:
    """An amount: an integer count of `currency`'s minor units (``Money(88849, "CNY")`` is 888.49).

    Immutable, with slots, hashable and equal by value (amounts of two currencies are never
    equal).  Written out by hand rather than as a frozen dataclass: it is built for every amount
    a schedule row shows, and this constructor costs half as much.
    """

    __slots__ = ("currency", "minor")
    minor: int
    currency: str

    def __init__(self, minor: int, currency: str) -> None:
        if type(minor) is not int:  # not a bool, a float, a Decimal or a NumPy integer
            raise TypeError(f"minor units are an int, not {type(minor).__name__}: use Money.parse for text")
        if currency not in _SCALE:
            raise UnknownCurrency(f"unknown currency {currency!r}")
        _set_minor(self, minor)
        _set_currency(self, currency)

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError("Money is immutable")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError("Money is immutable")

    def __reduce__(self) -> tuple[type[Money], tuple[int, str]]:
        return Money, (self.minor, self.currency)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Money):
            return self.minor == other.minor and self.currency == other.currency
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.minor, self.currency))

    # constructors at the edges

    @classmethod
    def parse(cls, value: str | Decimal, currency: str) -> Money:
        """An amount from a decimal string ("1234.56") or a Decimal, exact to the currency's places.

        Refused: floats and ints (yuan or fen?), more places than the currency has, exponents,
        "+", spaces and non-ASCII digits in text, NaN and infinities.
        """
        try:
            places, scale = _UNITS[currency]
        except (KeyError, TypeError):
            raise UnknownCurrency(f"unknown currency {currency!r}") from None
        if isinstance(value, Decimal):
            try:
                numerator, denominator = value.as_integer_ratio()  # exact, whatever the context
            except (ValueError, OverflowError):  # NaN, sNaN, infinities
                raise ValueError(f"not a finite amount: {value}") from None
            units, rest = divmod(numerator * scale, denominator)
            if rest:
                raise ValueError(f"{value} has more than {places} decimal places for {currency}")
            made: Money = _new(Money)  # _money(units, currency), inlined: this is the edge's hot path
            _set_minor(made, units)
            _set_currency(made, currency)
            return made
        if isinstance(value, str):
            match = _AMOUNT.fullmatch(value)
            if match is None:
                raise ValueError(f"not an amount: {value!r} (digits, an optional '-' and '.')")
            whole, fraction = match.group(1), match.group(2) or ""
            if len(fraction) > places:
                raise ValueError(f"{value!r} has more than {places} decimal places for {currency}")
            units = int(whole + fraction.ljust(places, "0"))
            return cls(-units if value.startswith("-") else units, currency)
        raise TypeError(
            f"Money.parse takes a decimal string or a Decimal, not {type(value).__name__}"
            " (integer minor units: Money(units, currency))"
        )

    @classmethod
    def zero(cls, currency: str) -> Money:
        """Nothing, in `currency`."""
        return cls(0, currency)

    @classmethod
    def total(cls, amounts: Iterable[Money], currency: str) -> Money:
        """The sum of `amounts`, all in `currency` (zero when there are none)."""
        units = 0
        for amount in amounts:
            if amount.currency != currency:
                raise CurrencyMismatch(f"cannot add {amount.currency} to a {currency} total")
            units += amount.minor
        return cls(units, currency)

    # reading

    @property
    def places(self) -> int:
        """The currency's number of decimal places (2 for CNY)."""
        return _PLACES[self.currency]

    @property
    def amount(self) -> Decimal:
        """The value in major units as an exact Decimal (888.49), for display and the APR solver."""
        return Decimal(self.minor).scaleb(-_PLACES[self.currency], ENGINE_CONTEXT)

    def __str__(self) -> str:
        places = _PLACES[self.currency]
        units = self.minor
        sign = "-" if units < 0 else ""
        if not places:
            return f"{sign}{abs(units)}"
        whole, part = divmod(abs(units), _SCALE[self.currency])
        return f"{sign}{whole}.{part:0{places}d}"

    def __repr__(self) -> str:
        return f"Money({str(self)!r}, {self.currency!r})"

    def __bool__(self) -> bool:
        return self.minor != 0

    @property
    def is_zero(self) -> bool:
        """Whether the amount is exactly nothing."""
        return self.minor == 0

    @property
    def is_positive(self) -> bool:
        """Whether the amount is above zero."""
        return self.minor > 0

    @property
    def is_negative(self) -> bool:
        """Whether the amount is below zero."""
        return self.minor < 0

    # arithmetic within one currency

    def _check(self, other: object) -> Money:
        if not isinstance(other, Money):
            raise TypeError(f"money is combined with money, not {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatch(f"{self.currency} and {other.currency} do not mix")
        return other

    def __add__(self, other: Money) -> Money:
        return _money(self.minor + self._check(other).minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        return _money(self.minor - self._check(other).minor, self.currency)

    def __neg__(self) -> Money:
        return _money(-self.minor, self.currency)

    def __pos__(self) -> Money:
        return self

    def __abs__(self) -> Money:
        return self if self.minor >= 0 else _money(-self.minor, self.currency)

    def __lt__(self, other: Money) -> bool:
        return self.minor < self._check(other).minor

    def __le__(self, other: Money) -> bool:
        return self.minor <= self._check(other).minor

    def __gt__(self, other: Money) -> bool:
        return self.minor > self._check(other).minor

    def __ge__(self, other: Money) -> bool:
        return self.minor >= self._check(other).minor

    def __mul__(self, count: int) -> Money:
        if type(count) is not int:
            raise TypeError(
                f"money times {type(count).__name__}: multiply by an int, or by a rate with "
                ".times(rate, mode), which says how to round"
            )
        return _money(self.minor * count, self.currency)

    __rmul__ = __mul__

    def __truediv__(self, other: object) -> NoReturn:
        raise TypeError("dividing money rounds: use .divided_by(divisor, mode), .split(n) or .ratio(other)")

    def times(self, factor: int | Fraction | Decimal, mode: RoundingMode) -> Money:
        """This amount times an exact rate, rounded once to a minor unit by `mode`."""
        p, q = _ratio(factor)
        return Money(divide_rounded(self.minor * p, q, mode), self.currency)

    def divided_by(self, divisor: int | Fraction | Decimal, mode: RoundingMode) -> Money:
        """This amount divided by an exact non-zero number, rounded once to a minor unit by `mode`."""
        p, q = _ratio(divisor)
        if p == 0:
            raise ZeroDivisionError("money divided by zero")
        if p < 0:
            p, q = -p, -q
        return Money(divide_rounded(self.minor * q, p, mode), self.currency)

    def ratio(self, other: Money) -> Fraction:
        """This amount as an exact fraction of `other` (same currency, not zero): 500 of 2,000 -> 1/4."""
        denominator = self._check(other).minor
        if denominator == 0:
            raise ZeroDivisionError("a ratio to nothing")
        return Fraction(self.minor, denominator)

    def round_to(self, multiple: Money, mode: RoundingMode) -> Money:
        """This amount rounded to a whole number of `multiple` (e.g. whole yuan) by `mode`."""
        step = self._check(multiple).minor
        if step <= 0:
            raise ValueError("the multiple must be positive")
        return Money(divide_rounded(self.minor, step, mode) * step, self.currency)

    # splitting without losing a minor unit

    def allocate(self, weights: Sequence[int | Fraction | Decimal]) -> tuple[Money, ...]:
        """Parts in proportion to `weights` that sum exactly to this amount (largest remainder rule).

        Each part is its exact share rounded down (towards zero) to a minor unit; the units left
        over go one each to the parts with the largest remainders, the earlier part first on a
        tie.  So every part is within one minor unit of its exact share.
        """
        if not weights:
            raise ValueError("allocate needs at least one weight")
        ratios = [Fraction(*_ratio(w)) for w in weights]
        if any(w < 0 for w in ratios):
            raise ValueError("weights cannot be negative")
        whole = sum(ratios)
        if whole == 0:
            raise ValueError("the weights sum to zero")
        sign = -1 if self.minor < 0 else 1
        units = abs(self.minor)
        shares = [units * w / whole for w in ratios]
        floors = [int(s) for s in shares]  # shares are >= 0: int() is the floor
        left = units - sum(floors)
        by_remainder = sorted(range(len(shares)), key=lambda i: (-(shares[i] - floors[i]), i))
        for index in by_remainder[:left]:
            floors[index] += 1
        return tuple(Money(sign * part, self.currency) for part in floors)

    def split(self, parts: int) -> tuple[Money, ...]:
        """`parts` amounts differing by at most one minor unit, summing to this one (the first ones larger)."""
        if type(parts) is not int or parts < 1:
            raise ValueError("split into one or more parts")
        return self.allocate([1] * parts)


# The slots' own setters: cheaper than object.__setattr__, and they bypass Money.__setattr__.
_set_minor = Money.__dict__["minor"].__set__
_set_currency = Money.__dict__["currency"].__set__


def _money(minor: int, code: str) -> Money:
    """A Money from values already known to be valid (the results of arithmetic on Money)."""
    made: Money = _new(Money)
    _set_minor(made, minor)
    _set_currency(made, code)
    return made


def _places(code: str) -> int:
    try:
        return _PLACES[code]
    except (KeyError, TypeError):
        raise UnknownCurrency(f"unknown currency {code!r}") from None


# --- balances per currency (ledger postings) ----------------------------------------------


def totals_by_currency(amounts: Iterable[Money]) -> dict[str, Money]:
    """The sum of `amounts` in each currency that appears (first-seen order)."""
    units: dict[str, int] = {}
    for amount in amounts:
        if not isinstance(amount, Money):
            raise TypeError(f"postings are Money, not {type(amount).__name__}")
        units[amount.currency] = units.get(amount.currency, 0) + amount.minor
    return {code: Money(total, code) for code, total in units.items()}


def imbalances(amounts: Iterable[Money]) -> dict[str, Money]:
    """The currencies whose amounts do not sum to exactly zero, with their sums."""
    return {code: total for code, total in totals_by_currency(amounts).items() if total.minor}


def is_balanced(amounts: Iterable[Money]) -> bool:
    """Whether the amounts of every currency sum to exactly zero (a journal entry's postings)."""
    return not imbalances(amounts)


# --- the rounding policy of a loan ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RoundingPolicy:
    """A currency and a rounding mode: how a loan rounds (places come from the currency table)."""

    currency: str
    mode: RoundingMode

    def __post_init__(self) -> None:
        _places(self.currency)
        if not isinstance(self.mode, RoundingMode):
            raise TypeError(f"a rounding mode is a RoundingMode, not {self.mode!r}")

    @classmethod
    def default_for(cls, code: str) -> RoundingPolicy:
        """The table's default for a currency (CNY: half-up)."""
        return cls(code, currency(code).rounding)

    @property
    def places(self) -> int:
        """Decimal places of the currency (2 for CNY)."""
        return _PLACES[self.currency]

    @property
    def quantum(self) -> Money:
        """The smallest amount of the currency (0.01 CNY)."""
        return Money(1, self.currency)

    @property
    def zero(self) -> Money:
        """Nothing, in the policy's currency."""
        return Money(0, self.currency)

    def round(self, value: Fraction | Decimal | int) -> Money:
        """An exact amount in major units (e.g. the Fraction 92.1151) rounded to Money by the mode."""
        p, q = _ratio(value)
        return Money(divide_rounded(p * _SCALE[self.currency], q, self.mode), self.currency)

    def times(self, amount: Money, factor: int | Fraction | Decimal) -> Money:
        """`amount` x an exact rate, rounded by the policy's mode (in the policy's currency)."""
        if amount.currency != self.currency:
            raise CurrencyMismatch(f"a {self.currency} policy cannot round {amount.currency}")
        return amount.times(factor, self.mode)


def percent(value: str | int | Decimal) -> Decimal:
    """Turn a percentage (``"12"`` or ``"12.5"``) into a fraction (0.12, 0.125), exactly."""
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise TypeError(f"a rate is built from str, int or Decimal, not {type(value).__name__}")
    rate = Decimal(value.strip()) if isinstance(value, str) else Decimal(value)
    if not rate.is_finite():
        raise ValueError(f"not a finite rate: {value!r}")
    return rate.scaleb(-2, context=ENGINE_CONTEXT)
