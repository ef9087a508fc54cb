"""Money: one constructor, one rounding place.

Money is a `decimal.Decimal` in major units (yuan) with a fixed number of
places per currency (CNY: 2, the fen).  It is built from a string, an
integer or a Decimal, or from an integer count of minor units -- never from
a float, because a binary float cannot hold 0.10 exactly.

Rounding happens in one place, `RoundingPolicy.round`, with an explicit
mode.  Interest for a period is rounded once, from the exact product:

    interest = round(balance x annual_rate x t, policy)

Worked example (DOMAIN.md §4.1): a balance of 9,211.51 at 1 % a month gives
9,211.51 x 0.01 = 92.1151, which rounds half-up to 92.12.

Modes: ``half_up`` (0.005 -> 0.01, the default for CNY), ``half_even``
(banker's rounding, 0.005 -> 0.00, 0.015 -> 0.02), ``down`` (towards zero)
and ``up`` (away from zero).

An installment may also be rounded to a *multiple* (e.g. whole yuan,
Fineract's "installment amount in multiples of"): 888.49 to a multiple of
1 is 888 half-up; the residue goes to the last installment.

The same four modes exist on integers, for arithmetic done in minor units
with exact rational rates (the schedule engine, the batch path):
`divide_rounded(x, d, mode)` is x / d rounded to an integer, exactly, for
any integer x and d > 0.  With q, r = divmod(|x|, d) (so |x|/d = q + r/d,
0 <= r < d) the magnitude is q, plus one when

    down: never          up: r > 0
    half_up: 2r >= d     half_even: 2r > d, or 2r == d and q is odd

and the sign of x is put back -- Decimal's ROUND_DOWN, ROUND_UP,
ROUND_HALF_UP and ROUND_HALF_EVEN of the exact quotient (property-tested
against `Decimal.quantize`).  9,211.51 at 1 %: 921,151 fen x 1/100 =
9,211.51 fen, so 92.12 (9,212 fen) half-up.

Decimal arithmetic in the core runs in `ENGINE_CONTEXT` (50 significant
digits, traps on invalid operations), entered by `in_engine_context`, so
that a caller's global decimal context can never change an amount.
`from_minor` and `to_minor` pass that context explicitly, so they are exact
whatever context is current.
"""

from __future__ import annotations

import decimal
import functools
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import ParamSpec, TypeVar

__all__ = [
    "CENT",
    "ENGINE_CONTEXT",
    "ZERO",
    "RoundingMode",
    "RoundingPolicy",
    "divide_rounded",
    "from_minor",
    "in_engine_context",
    "money",
    "percent",
    "to_minor",
]

ZERO = Decimal(0)
CENT = Decimal("0.01")

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


class RoundingMode(StrEnum):
    """How an amount is rounded to the currency's places (or a multiple)."""

    HALF_UP = "half_up"
    HALF_EVEN = "half_even"
    DOWN = "down"
    UP = "up"

    @property
    def decimal_rounding(self) -> str:
        """The `decimal` module's rounding constant for this mode."""
        return _DECIMAL_ROUNDING[self]


_DECIMAL_ROUNDING = {
    RoundingMode.HALF_UP: decimal.ROUND_HALF_UP,
    RoundingMode.HALF_EVEN: decimal.ROUND_HALF_EVEN,
    RoundingMode.DOWN: decimal.ROUND_DOWN,
    RoundingMode.UP: decimal.ROUND_UP,
}


@dataclass(frozen=True, slots=True)
class RoundingPolicy:
    """Currency, number of places and rounding mode: the single rounding rule."""

    currency: str = "CNY"
    places: int = 2
    mode: RoundingMode = RoundingMode.HALF_UP

    def __post_init__(self) -> None:
        if not 0 <= self.places <= 8:
            raise ValueError(f"places must be 0..8, not {self.places}")

    @property
    def quantum(self) -> Decimal:
        """The smallest amount of the currency, e.g. 0.01 for CNY."""
        return _quantum(self.places)

    @property
    def rounding(self) -> str:
        """The `decimal` rounding constant of the mode."""
        return _DECIMAL_ROUNDING[self.mode]

    def round(self, amount: Decimal) -> Decimal:
        """Round `amount` to the currency's places with the policy's mode."""
        return amount.quantize(_quantum(self.places), _DECIMAL_ROUNDING[self.mode], ENGINE_CONTEXT)

    def round_to_multiple(self, amount: Decimal, multiple: Decimal | None) -> Decimal:
        """Round `amount` to a multiple (e.g. 1 yuan); None or 0 means the quantum."""
        if multiple is None or multiple == 0:
            return self.round(amount)
        if multiple < 0:
            raise ValueError("the multiple must be positive")
        ratio = ENGINE_CONTEXT.divide(amount, multiple)
        units = ratio.quantize(Decimal(1), _DECIMAL_ROUNDING[self.mode], ENGINE_CONTEXT)
        return self.round(ENGINE_CONTEXT.multiply(units, multiple))


@functools.lru_cache(maxsize=16)
def _quantum(places: int) -> Decimal:
    return Decimal(1).scaleb(-places)


def money(value: str | int | Decimal, places: int = 2) -> Decimal:
    """Build an amount from a string, int or Decimal (never a float), exact to `places`."""
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise TypeError(f"money is built from str, int or Decimal, not {type(value).__name__}")
    try:
        amount = Decimal(value.strip()) if isinstance(value, str) else Decimal(value)
    except decimal.InvalidOperation as exc:
        raise ValueError(f"not an amount: {value!r}") from exc
    if not amount.is_finite():
        raise ValueError(f"not a finite amount: {value!r}")
    quantized = amount.quantize(_quantum(places), context=ENGINE_CONTEXT)
    if quantized != amount:
        raise ValueError(f"{value!r} has more than {places} decimal places")
    return quantized


def percent(value: str | int | Decimal) -> Decimal:
    """Turn a percentage (``"12"`` or ``"12.5"``) into a fraction (0.12, 0.125), exactly."""
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise TypeError(f"a rate is built from str, int or Decimal, not {type(value).__name__}")
    rate = Decimal(value.strip()) if isinstance(value, str) else Decimal(value)
    if not rate.is_finite():
        raise ValueError(f"not a finite rate: {value!r}")
    return rate.scaleb(-2, context=ENGINE_CONTEXT)


def from_minor(units: int, places: int = 2) -> Decimal:
    """An amount from an integer count of minor units (fen): 88849 -> 888.49."""
    if type(units) is not int:  # not a bool, not a float
        raise TypeError("minor units are an int")
    return Decimal(units).scaleb(-places, ENGINE_CONTEXT)


def to_minor(amount: Decimal, places: int = 2) -> int:
    """The integer count of minor units of an amount; refuses amounts finer than `places`."""
    scaled = amount.scaleb(places, ENGINE_CONTEXT)
    if not scaled.is_finite():
        raise ValueError(f"not a finite amount: {amount}")
    units = int(scaled)
    if units != scaled:
        raise ValueError(f"{amount} has more than {places} decimal places")
    return units


def divide_rounded(numerator: int, denominator: int, mode: RoundingMode) -> int:
    """numerator / denominator rounded to an integer by `mode`, exactly (denominator > 0)."""
    if denominator <= 0:
        raise ValueError("the denominator must be positive")
    if numerator < 0:
        return -divide_rounded(-numerator, denominator, mode)
    q, r = divmod(numerator, denominator)
    if not r or mode is _DOWN:
        return q
    if mode is _UP:
        return q + 1
    twice = 2 * r
    if twice > denominator or (twice == denominator and (mode is _HALF_UP or q & 1)):
        return q + 1
    return q


_DOWN, _UP, _HALF_UP = RoundingMode.DOWN, RoundingMode.UP, RoundingMode.HALF_UP
