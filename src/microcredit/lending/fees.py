"""Fees: what the borrower pays besides interest, when, and to whom.

PBOC Announcement 〔2021〕 No. 3 and the Dec 2025 small-loan guidance ask
for every cost to be disclosed with its amount and who collects it, and to
be counted in the annualised rate (see `apr`).  A fee has a payee (the
lender, a guarantor, an insurer or the platform), an amount or a percentage
of the principal, and one of three kinds:

- ``upfront_deducted``: taken out of the disbursement (砍头息-like).  The
  borrower receives P - fee but repays P; the APR rises accordingly
  (docs/domain.md §2.3 case C: 10,000 with 500 deducted -> 21.86 %).
- ``upfront_financed``: added to the principal.  The borrower receives P
  and repays P + fee with interest on it.
- ``per_installment``: charged with every installment, e.g. a "monthly
  fee of 0.6 % of the original principal": 12,000 x 0.006 = 72 a month
  (docs/domain.md §2.3 case B: 12 x 1,072 -> 13.03 %, not the naive 7.2 %).

Percentages apply to the amount the borrower asked for (the net principal
before any financed fee) and are rounded once with the rounding policy:
``principal.times(rate, mode)``.  Amounts are `Money` in the loan's currency.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from microcredit.lending.money import Money, RoundingPolicy

__all__ = [
    "Fee",
    "FeeCharge",
    "FeeKind",
    "FeeSplit",
    "Payee",
    "fee_amount",
    "split_fees",
]


class FeeKind(StrEnum):
    """When a fee is paid."""

    UPFRONT_DEDUCTED = "upfront_deducted"
    UPFRONT_FINANCED = "upfront_financed"
    PER_INSTALLMENT = "per_installment"


class Payee(StrEnum):
    """Who collects a fee."""

    LENDER = "lender"
    GUARANTOR = "guarantor"
    INSURER = "insurer"
    PLATFORM = "platform"


@dataclass(frozen=True, slots=True)
class Fee:
    """A fee: a fixed amount or a fraction of the principal, its kind and payee."""

    name: str
    kind: FeeKind
    payee: Payee = Payee.LENDER
    amount: Money | None = None
    rate: Decimal | None = None

    def __post_init__(self) -> None:
        if (self.amount is None) == (self.rate is None):
            raise ValueError(f"fee {self.name!r} needs exactly one of amount or rate")
        if (self.amount is not None and self.amount.is_negative) or (self.rate is not None and self.rate < 0):
            raise ValueError(f"fee {self.name!r} cannot be negative")


@dataclass(frozen=True, slots=True)
class FeeCharge:
    """A fee as disclosed: per-charge amount, number of charges and total."""

    name: str
    kind: FeeKind
    payee: Payee
    per_charge: Money
    charges: int
    total: Money


@dataclass(frozen=True, slots=True)
class FeeSplit:
    """Fees of a loan grouped by kind, in money."""

    deducted: Money
    financed: Money
    per_installment: Money
    charges: tuple[FeeCharge, ...]


def fee_amount(fee: Fee, principal: Money, policy: RoundingPolicy) -> Money:
    """The amount of one charge of `fee` on `principal` (a rate is rounded once by the policy)."""
    if fee.amount is not None:
        if fee.amount.currency != principal.currency:
            raise ValueError(f"fee {fee.name!r} is in {fee.amount.currency}, the loan in {principal.currency}")
        return fee.amount
    assert fee.rate is not None
    return policy.times(principal, fee.rate)


def split_fees(fees: Sequence[Fee], principal: Money, installments: int, policy: RoundingPolicy) -> FeeSplit:
    """Group `fees` by kind and build their disclosure lines for a loan of `installments`."""
    if not fees:
        return _no_fees(policy)
    return _split_fees(fees, principal, installments, policy)


@functools.lru_cache(maxsize=64)
def _no_fees(policy: RoundingPolicy) -> FeeSplit:
    zero = policy.zero
    return FeeSplit(zero, zero, zero, ())


def _split_fees(fees: Sequence[Fee], principal: Money, installments: int, policy: RoundingPolicy) -> FeeSplit:
    deducted = financed = per_installment = policy.zero
    charges: list[FeeCharge] = []
    for fee in fees:
        one = fee_amount(fee, principal, policy)
        count = installments if fee.kind is FeeKind.PER_INSTALLMENT else 1
        if fee.kind is FeeKind.UPFRONT_DEDUCTED:
            deducted += one
        elif fee.kind is FeeKind.UPFRONT_FINANCED:
            financed += one
        else:
            per_installment += one
        charges.append(FeeCharge(fee.name, fee.kind, fee.payee, one, count, one * count))
    if deducted >= principal:
        raise ValueError("fees deducted up front cannot reach the principal")
    return FeeSplit(deducted, financed, per_installment, tuple(charges))
