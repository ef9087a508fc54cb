"""Fees: what the borrower pays besides interest, when, and to whom.

PBOC Announcement 〔2021〕 No. 3 and the Dec 2025 small-loan guidance ask
for every cost to be disclosed with its amount and who collects it, and to
be counted in the annualised rate (see `apr`).  A fee has a payee (the
lender, a guarantor, an insurer or the platform), an amount or a percentage,
and one of four kinds:

- ``upfront_deducted``: taken out of the disbursement (砍头息-like).  The
  borrower receives P - fee but repays P; the APR rises accordingly
  (docs/domain.md §2.3 case C: 10,000 with 500 deducted -> 21.86 %).
- ``upfront_financed``: added to the principal.  The borrower receives P
  and repays P + fee with interest on it.
- ``per_installment``: charged with every installment, e.g. a "monthly
  fee of 0.6 % of the original principal": 12,000 x 0.006 = 72 a month
  (docs/domain.md §2.3 case B: 12 x 1,072 -> 13.03 %, not the naive 7.2 %).
- ``at_disbursement``: owed on the disbursement day and paid by the borrower
  (not kept back from the money paid out); the APR counts it on that day,
  as it does a deducted fee.

A percentage applies to a `basis` (`FeeBasis`): the amount the borrower
asked for (the net principal before any financed fee; the default), that
amount plus the schedule's total interest, or the total interest alone
(Fineract's "% Amount", "% Amount + Interest", "% Interest").  The bases
with interest are for fees charged once, deducted or at disbursement: a
financed fee would change the interest it is a percent of.  A fee per
installment is a percent of the amount (the same every installment) or of
*that installment's* principal + interest (``installment``: Fineract's
"% Amount + Interest" on an installment fee), which follows the schedule:
it is computed on each row after amortisation, and again on the rows a
prepayment, a tranche or a rescheduling re-amortises.  A percentage is
rounded once per charge with the rounding policy: ``base.times(rate,
mode)``.  Amounts are `Money` in the loan's currency.

`waivable` says whether the institution may forgive the fee (a `Waiver` of
fees); a fee collected for a third party (an insurer's premium, a
guarantor's fee) usually may not.
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
    "FeeBasis",
    "FeeCharge",
    "FeeKind",
    "FeeSplit",
    "Payee",
    "fee_amount",
    "installment_fees_only",
    "split_fees",
]


class FeeKind(StrEnum):
    """When a fee is paid."""

    UPFRONT_DEDUCTED = "upfront_deducted"
    UPFRONT_FINANCED = "upfront_financed"
    PER_INSTALLMENT = "per_installment"
    AT_DISBURSEMENT = "at_disbursement"


class FeeBasis(StrEnum):
    """What a percentage fee is a percent of."""

    PRINCIPAL = "principal"
    PRINCIPAL_AND_INTEREST = "principal_and_interest"
    INTEREST = "interest"
    INSTALLMENT = "installment"
    """Each installment's own principal + interest (fees per installment only)."""

    @property
    def with_interest(self) -> bool:
        """Whether the schedule's total interest is part of the basis (fees charged once)."""
        return self in (FeeBasis.PRINCIPAL_AND_INTEREST, FeeBasis.INTEREST)


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
    basis: FeeBasis = FeeBasis.PRINCIPAL
    """What `rate` is a fraction of (a fixed `amount` has no basis)."""
    waivable: bool = True

    def __post_init__(self) -> None:
        if (self.amount is None) == (self.rate is None):
            raise ValueError(f"fee {self.name!r} needs exactly one of amount or rate")
        if (self.amount is not None and self.amount.is_negative) or (self.rate is not None and self.rate < 0):
            raise ValueError(f"fee {self.name!r} cannot be negative")
        if self.basis is not FeeBasis.PRINCIPAL and self.rate is None:
            raise ValueError(f"fee {self.name!r}: a fixed amount has no basis")
        if self.basis.with_interest and self.kind in (FeeKind.UPFRONT_FINANCED, FeeKind.PER_INSTALLMENT):
            raise ValueError(f"fee {self.name!r}: a {self.kind} fee is a percent of the amount, not of interest")
        if self.basis is FeeBasis.INSTALLMENT and self.kind is not FeeKind.PER_INSTALLMENT:
            raise ValueError(f"fee {self.name!r}: only a fee per installment is a percent of each installment")

    @property
    def follows_installment(self) -> bool:
        """Whether each charge is a percent of its own installment (computed row by row)."""
        return self.basis is FeeBasis.INSTALLMENT


@dataclass(frozen=True, slots=True)
class FeeCharge:
    """A fee as disclosed: per-charge amount, number of charges and total.

    A fee on each installment's principal + interest (`rate` with basis
    ``installment``) differs from row to row: `per_charge` is then the first
    installment's charge and `total` the sum over the schedule.
    """

    name: str
    kind: FeeKind
    payee: Payee
    per_charge: Money
    charges: int
    total: Money
    waivable: bool = True
    basis: FeeBasis = FeeBasis.PRINCIPAL
    rate: Decimal | None = None

    @property
    def follows_installment(self) -> bool:
        """Whether each charge is a percent of its own installment."""
        return self.basis is FeeBasis.INSTALLMENT

    def on_row(self, principal_minor: int, interest_minor: int, policy: RoundingPolicy) -> int:
        """This fee's charge on an installment of that principal and interest (minor units)."""
        if not self.follows_installment:
            return self.per_charge.minor
        assert self.rate is not None
        return policy.times(Money(principal_minor + interest_minor, self.per_charge.currency), self.rate).minor


@dataclass(frozen=True, slots=True)
class FeeSplit:
    """Fees of a loan grouped by kind, in money."""

    deducted: Money
    financed: Money
    per_installment: Money
    charges: tuple[FeeCharge, ...]
    at_disbursement: Money
    """Owed by the borrower on the disbursement day (not deducted)."""


def fee_amount(fee: Fee, principal: Money, policy: RoundingPolicy, interest: Money | None = None) -> Money:
    """The amount of one charge of `fee` on `principal` (a rate is rounded once by the policy);
    a fee on interest needs the schedule's total `interest`."""
    if fee.amount is not None:
        if fee.amount.currency != principal.currency:
            raise ValueError(f"fee {fee.name!r} is in {fee.amount.currency}, the loan in {principal.currency}")
        return fee.amount
    assert fee.rate is not None
    if not fee.basis.with_interest:
        return policy.times(principal, fee.rate)
    if interest is None:
        raise ValueError(f"fee {fee.name!r} is a percent of interest: the schedule's interest is needed")
    base = interest if fee.basis is FeeBasis.INTEREST else principal + interest
    return policy.times(base, fee.rate)


def split_fees(fees: Sequence[Fee], principal: Money, installments: int, policy: RoundingPolicy,
               interest: Money | None = None) -> FeeSplit:
    """Group `fees` by kind and build their disclosure lines for a loan of `installments`.

    Without `interest` (before the schedule is amortised), fees on interest count as nothing:
    they change neither the amount lent nor the installments, so the schedule is amortised
    first and the fees split again with its interest.  Fees on each installment are not in
    `per_installment` (the level part) and their lines read zero here: `charge_installments`
    computes them on the amortised rows.
    """
    if not fees:
        return _no_fees(policy)
    return _split_fees(fees, principal, installments, policy, interest)


@functools.lru_cache(maxsize=64)
def _no_fees(policy: RoundingPolicy) -> FeeSplit:
    zero = policy.zero
    return FeeSplit(zero, zero, zero, (), zero)


def _split_fees(fees: Sequence[Fee], principal: Money, installments: int, policy: RoundingPolicy,
                interest: Money | None) -> FeeSplit:
    deducted = financed = per_installment = at_disbursement = policy.zero
    charges: list[FeeCharge] = []
    for fee in fees:
        if (fee.basis.with_interest and interest is None) or fee.follows_installment:
            one = policy.zero
        else:
            one = fee_amount(fee, principal, policy, interest)
        count = installments if fee.kind is FeeKind.PER_INSTALLMENT else 1
        if fee.kind is FeeKind.UPFRONT_DEDUCTED:
            deducted += one
        elif fee.kind is FeeKind.UPFRONT_FINANCED:
            financed += one
        elif fee.kind is FeeKind.AT_DISBURSEMENT:
            at_disbursement += one
        else:
            per_installment += one
        charges.append(FeeCharge(fee.name, fee.kind, fee.payee, one, count, one * count, fee.waivable,
                                 fee.basis, fee.rate))
    if deducted + at_disbursement >= principal:
        raise ValueError("fees deducted or paid at disbursement cannot reach the principal")
    return FeeSplit(deducted, financed, per_installment, tuple(charges), at_disbursement)


def installment_fees_only(charges: Sequence[FeeCharge]) -> tuple[FeeCharge, ...]:
    """The lines of fees computed on each installment (what a re-amortisation charges again)."""
    return tuple(c for c in charges if c.follows_installment)
