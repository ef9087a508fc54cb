"""The arithmetic of the books, without a database: balancing, reversal, balances and the trial balance.

A posting debits or credits one account with a positive amount. Signed, a
debit counts `+amount` and a credit `-amount`; an entry **balances** when, in
every currency, its signed postings sum to exactly zero (Σ debits = Σ
credits). Money is integer minor units, so "exactly" means exactly.

An account's balance over a set of entries is Σ debits − Σ credits of its
postings (its *net debit*); shown on the account's normal side it is the net
debit for asset and expense accounts and its negation for the others. The
trial balance lists, per account, the opening balance (entries before the
range), the range's debits and credits, and the closing balance, each balance
put in the debit or the credit column by its sign::

    closing = opening + debits − credits          (as net debits)
    Σ closing debit column = Σ closing credit column   (per currency)

The last line holds for any set of balanced entries: each entry adds as much
to the debits as to the credits. A reversal posts the same amounts on the
opposite sides, so an entry and its reversal together change no balance.

Example: capital 10,000.00 (Dr bank / Cr capital), then a loan of 1,000.00
(Dr loan principal / Cr bank): bank 9,000.00 Dr, loan principal 1,000.00 Dr,
capital 10,000.00 Cr; the columns total 10,000.00 each.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from microcredit.lending.money import Money, imbalances

K = TypeVar("K")  # how the trial balance's caller names an account (its id, or its code in tests)


class Side(enum.StrEnum):
    """Which column of the account a posting goes to."""

    DEBIT = "debit"
    CREDIT = "credit"

    @property
    def opposite(self) -> Side:
        """The other side (a reversal's)."""
        return Side.CREDIT if self is Side.DEBIT else Side.DEBIT


@dataclass(frozen=True)
class Posting:
    """One line of an entry: an account (by code), a side and a positive amount."""

    account: str
    side: Side
    amount: Money
    memo: str | None = None

    @property
    def signed(self) -> Money:
        """+amount for a debit, −amount for a credit."""
        return self.amount if self.side is Side.DEBIT else -self.amount

    @property
    def debit_minor(self) -> int:
        """The debit column in minor units (0 for a credit)."""
        return self.amount.minor if self.side is Side.DEBIT else 0

    @property
    def credit_minor(self) -> int:
        """The credit column in minor units (0 for a debit)."""
        return self.amount.minor if self.side is Side.CREDIT else 0


def imbalance(postings: Iterable[Posting]) -> dict[str, Money]:
    """The currencies whose debits and credits differ, with debits − credits (empty: balanced)."""
    return imbalances(p.signed for p in postings)


def is_balanced(postings: Iterable[Posting]) -> bool:
    """Whether Σ debits = Σ credits in every currency."""
    return not imbalance(postings)


def totals(postings: Iterable[Posting]) -> dict[str, tuple[int, int]]:
    """Per currency, (Σ debits, Σ credits) in minor units — what the entry's totals rows store."""
    out: dict[str, tuple[int, int]] = {}
    for p in postings:
        d, c = out.get(p.amount.currency, (0, 0))
        out[p.amount.currency] = (d + p.debit_minor, c + p.credit_minor)
    return out


def reversed_postings(postings: Sequence[Posting]) -> tuple[Posting, ...]:
    """The counter-entry's postings: the same accounts and amounts on the opposite sides."""
    return tuple(Posting(p.account, p.side.opposite, p.amount, p.memo) for p in postings)


def net_by_account(entries: Iterable[Sequence[Posting]]) -> dict[tuple[str, str], int]:
    """(account, currency) -> Σ debits − Σ credits in minor units over the entries (zeros dropped)."""
    net: dict[tuple[str, str], int] = {}
    for postings in entries:
        for p in postings:
            key = (p.account, p.amount.currency)
            net[key] = net.get(key, 0) + p.signed.minor
    return {k: v for k, v in net.items() if v}


def sums_by_account(entries: Iterable[Sequence[Posting]]) -> dict[str, tuple[int, int]]:
    """account -> (Σ debits, Σ credits) in minor units (one currency per account)."""
    out: dict[str, tuple[int, int]] = {}
    for postings in entries:
        for p in postings:
            d, c = out.get(p.account, (0, 0))
            out[p.account] = (d + p.debit_minor, c + p.credit_minor)
    return out


def on_normal_side(net_debit: int, normal_side: str) -> int:
    """A net debit shown as the account's balance: positive when it lies on the account's normal side."""
    return net_debit if normal_side == Side.DEBIT else -net_debit


@dataclass(frozen=True)
class AccountRef(Generic[K]):
    """What the trial balance needs of an account."""

    key: K  # the account's id (or code)
    currency: str


@dataclass(frozen=True)
class TrialBalanceRow(Generic[K]):
    """One account's line of the trial balance (all amounts ≥ 0, each balance in its column)."""

    account: K
    opening_debit: Money
    opening_credit: Money
    debit: Money
    credit: Money
    closing_debit: Money
    closing_credit: Money

    @property
    def is_empty(self) -> bool:
        """No opening balance and no movement."""
        return not (self.opening_debit or self.opening_credit or self.debit or self.credit)


@dataclass(frozen=True)
class TrialBalanceTotals:
    """The column totals of one currency."""

    currency: str
    opening_debit: Money
    opening_credit: Money
    debit: Money
    credit: Money
    closing_debit: Money
    closing_credit: Money

    @property
    def balanced(self) -> bool:
        """Each pair of columns is equal (what balanced entries always give)."""
        return (self.opening_debit == self.opening_credit and self.debit == self.credit
                and self.closing_debit == self.closing_credit)


def _columns(net: int, code: str) -> tuple[Money, Money]:
    return (Money(net, code), Money.zero(code)) if net >= 0 else (Money.zero(code), Money(-net, code))


def trial_balance(accounts: Sequence[AccountRef[K]], opening: Mapping[K, tuple[int, int]],
                  movement: Mapping[K, tuple[int, int]]) -> tuple[list[TrialBalanceRow[K]], list[TrialBalanceTotals]]:
    """Rows per account and totals per currency from opening sums and the range's sums ((debits, credits))."""
    rows: list[TrialBalanceRow[K]] = []
    sums: dict[str, list[int]] = {}
    for a in accounts:
        od, oc = opening.get(a.key, (0, 0))
        d, c = movement.get(a.key, (0, 0))
        o_dr, o_cr = _columns(od - oc, a.currency)
        c_dr, c_cr = _columns(od - oc + d - c, a.currency)
        row = TrialBalanceRow(a.key, o_dr, o_cr, Money(d, a.currency), Money(c, a.currency), c_dr, c_cr)
        rows.append(row)
        acc = sums.setdefault(a.currency, [0] * 6)
        for i, m in enumerate((o_dr, o_cr, row.debit, row.credit, c_dr, c_cr)):
            acc[i] += m.minor
    totals_ = [TrialBalanceTotals(code, *(Money(v, code) for v in values)) for code, values in sums.items()]
    return rows, totals_
