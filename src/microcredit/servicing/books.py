"""What the ledger holds for a loan, and the entries that bring it from one state to the next (pure).

The ledger does not store a loan's schedule; it stores money. `holdings(state)`
reads from the engine's fold the cumulative amounts the books care about, in
minor units: what was disbursed and received, what was paid, waived and
written off of each component, the credit held, what was recovered, and — for
the accrual book — what has been recognised as income. `entries(before,
after, …)` turns the difference between two such snapshots into balanced
entries, one per book:

========================  =======================================  =========================================
movement                  cash book                                accrual book
========================  =======================================  =========================================
disbursed                 Dr loan principal / Cr bank (both books)
received                  Dr bank (payment clearing; field cash)   Dr bank (payment clearing; field cash)
principal paid            Cr loan principal                        Cr loan principal
interest paid             Cr interest income                       Cr interest receivable
fee paid                  Cr fee income / payable to the payee     Cr fee receivable
penalty paid              Cr penalty income                        Cr penalty receivable
credit held               Cr borrower credit balances              Cr borrower credit balances
credit refunded           Dr borrower credit balances / Cr bank    Dr borrower credit balances / Cr bank
recognised (accrual)      —                                        Dr receivable / Cr income (or payable)
interest/fee/penalty      —                                        Dr income (or payable) / Cr receivable
waived or written off
principal waived or       Dr write-off expense / Cr loan principal (both books)
written off
recovered                 Dr bank / Cr recoveries income (both books)
========================  =======================================  =========================================

A negative difference (a reversal, or a back-dated payment that moved money
from one installment's interest to another's penalty) posts the same line on
the other side: the books are corrected by counter-entries, never edited.

Recognition (accrual book): an installment's interest, fees and penalty are
income once the installment falls due; before that, only what was paid,
waived or written off of them (interest paid ahead is earned when received).
Interest settled by a prepayment (accrued to its day) is recognised as it is
paid; interest a recalculation found unearned and gave back as credit leaves
the installment's charged and paid interest (the fold lowers both) and joins
the credit held, so it is taken out of income by the same difference. Daily
accrual of the running period belongs to the close of business (issue 18);
these entries are what an event, or the days passing, change.

Fees go to the institution's fee income when the payee is the lender, else to
the amount payable to that payee (guarantor, insurer, platform). A loan whose
fees have several payees splits each fee movement among them in proportion to
what the schedule charges each (the last payee takes the rounding remainder),
since the fold tracks fees as one component.

Every entry balances by construction: received = paid (all components,
prepaid principal and interest) + credit held + credit refunded, which the engine's fold keeps
(tests check it over random histories).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from microcredit.ledger.balances import Posting, Side
from microcredit.ledger.chart import PostingMap
from microcredit.lending.fees import FeeKind
from microcredit.lending.loan import LoanState, minor
from microcredit.lending.money import Money

COMPONENTS = ("principal", "interest", "fee", "penalty")
PAYEES = ("lender", "guarantor", "insurer", "platform")
KEYS = ("disbursed", "received", "credit", "refunded", "recovered", *(f"deducted_{p}" for p in PAYEES),
        *(f"{what}_{c}" for what in ("paid", "waived", "written_off") for c in COMPONENTS),
        *(f"recognised_{c}" for c in ("interest", "fee", "penalty")))

# Where money comes in and goes out, by the event's channel.
# Cash collected at a group meeting stays with the loan officer (field cash) until finance confirms the
# handover (servicing.service.collection_sheets.hand_over).
CASH_ROLE = {"cash": "bank", "bank_transfer": "bank", "auto_debit": "bank", "internal": "bank",
             "mobile_payment": "payment_clearing", "online": "payment_clearing", "meeting_cash": "field_cash"}
INCOME_ROLE = {"interest": "interest_income", "penalty": "penalty_income"}
RECEIVABLE_ROLE = {"interest": "interest_receivable", "fee": "fee_receivable", "penalty": "penalty_receivable"}
PAYEE_ROLE = {"lender": "fee_income", "guarantor": "payable_guarantor", "insurer": "payable_insurer",
              "platform": "payable_platform"}


def empty() -> dict[str, int]:
    """The holdings of a loan nothing has happened to."""
    return dict.fromkeys(KEYS, 0)


def holdings(state: LoanState) -> dict[str, int]:
    """The cumulative amounts of `state` that the books record, in minor units (summed from the fold's installments
    and payments in minor units, `lending.loan.minor`: no `Money` added up)."""
    out = empty()
    out["disbursed"] = state.disbursed.minor
    out["received"] = sum(p.amount for p in minor.payments(state) if p.event_id is not None)
    out["credit"] = state.credit_balance.minor
    out["recovered"] = state.recovered.minor
    out["refunded"] = state.refunded.minor
    for payee, amount in deducted_by_payee(state).items():
        out[f"deducted_{payee}"] = amount
    rows = minor.installments(state)
    for which in ("paid", "waived", "written_off"):
        for c, total in zip(COMPONENTS, _sums(getattr(row, which) for row in rows), strict=True):
            out[f"{which}_{c}"] = total
    # Recognised: an installment fallen due, what it was charged; one not yet due, what was paid, waived or written
    # off of it (interest, fee, penalty).
    as_of = state.as_of
    _, out["recognised_interest"], out["recognised_fee"], out["recognised_penalty"] = _sums(
        amounts for row in rows
        for amounts in ((row.due,) if row.due_date <= as_of else (row.paid, row.waived, row.written_off)))
    out["paid_principal"] += state.principal_prepaid.minor
    out["paid_interest"] += state.interest_prepaid.minor
    out["recognised_interest"] += state.interest_prepaid.minor
    return out


def _sums(fours: Iterable[tuple[int, int, int, int]]) -> tuple[int, int, int, int]:
    """Component by component, the sums of (principal, interest, fee, penalty) amounts."""
    p = i = f = n = 0
    for a, b, c, d in fours:
        p += a
        i += b
        f += c
        n += d
    return p, i, f, n


@dataclass(frozen=True)
class Entry:
    """One balanced entry to post: its book (`both`, `cash` or `accrual`) and lines."""

    basis: str
    description: str
    postings: tuple[Posting, ...]


class _Lines:
    """Lines keyed by (account code, side) with signed amounts, netted per account."""

    def __init__(self, currency: str, accounts: PostingMap) -> None:
        self.currency = currency
        self.accounts = accounts
        self.net: dict[str, int] = {}

    def debit(self, role: str, minor: int) -> None:
        code = self.accounts.code(role)
        self.net[code] = self.net.get(code, 0) + minor

    def credit(self, role: str, minor: int) -> None:
        self.debit(role, -minor)

    def postings(self, memo: str) -> tuple[Posting, ...]:
        lines = [Posting(code, Side.DEBIT if minor > 0 else Side.CREDIT, Money(abs(minor), self.currency), memo)
                 for code, minor in self.net.items() if minor]
        return tuple(sorted(lines, key=lambda p: (p.side is not Side.DEBIT, p.account)))


def split_by_payee(minor: int, shares: Mapping[str, int]) -> dict[str, int]:
    """`minor` split among payees in proportion to `shares` (the last takes the remainder)."""
    payees = [p for p, s in shares.items() if s > 0] or ["lender"]
    if len(payees) == 1:
        return {payees[0]: minor}
    whole = sum(shares[p] for p in payees)
    out: dict[str, int] = {}
    for p in payees[:-1]:
        out[p] = minor * shares[p] // whole if minor >= 0 else -((-minor) * shares[p] // whole)
    out[payees[-1]] = minor - sum(out.values())
    return out


def entries(before: Mapping[str, int], after: Mapping[str, int], *, currency: str, channel: str, memo: str,
            accounts: PostingMap, fee_shares: Mapping[str, int]) -> list[Entry]:
    """The entries that move the books from `before` to `after` (none when nothing changed)."""
    d = {k: after.get(k, 0) - before.get(k, 0) for k in KEYS}
    if not any(d.values()):
        return []  # every line below would net to zero: what most overdue loans' days are (no penalty, no due date)
    cash = CASH_ROLE.get(channel, "bank")
    out: list[Entry] = []

    both = _Lines(currency, accounts)
    both.debit("loan_principal", d["disbursed"])
    both.credit(cash, d["disbursed"])
    for payee in PAYEES:  # fees kept back: less money leaves, the payee is owed (or the lender earns)
        both.debit(cash, d[f"deducted_{payee}"])
        both.credit(PAYEE_ROLE[payee], d[f"deducted_{payee}"])
    gone = d["waived_principal"] + d["written_off_principal"]
    both.debit("writeoff_expense", gone)
    both.credit("loan_principal", gone)
    both.debit(cash, d["recovered"])
    both.credit("recoveries_income", d["recovered"])

    books = {"cash": _Lines(currency, accounts), "accrual": _Lines(currency, accounts)}
    for basis, lines in books.items():
        lines.debit(cash, d["received"])
        lines.credit("loan_principal", d["paid_principal"])
        lines.credit("borrower_credit", d["credit"])
        lines.credit(cash, d["refunded"])  # credit paid back: it left borrower credit (the line above)
        for c in ("interest", "penalty"):
            lines.credit(INCOME_ROLE[c] if basis == "cash" else RECEIVABLE_ROLE[c], d[f"paid_{c}"])
        if basis == "cash":
            for payee, minor in split_by_payee(d["paid_fee"], fee_shares).items():
                lines.credit(PAYEE_ROLE[payee], minor)
        else:
            lines.credit("fee_receivable", d["paid_fee"])
    accrual = books["accrual"]
    for c in ("interest", "fee", "penalty"):
        earned = d[f"recognised_{c}"] - d[f"waived_{c}"] - d[f"written_off_{c}"]
        accrual.debit(RECEIVABLE_ROLE[c], earned)
        if c == "fee":
            for payee, minor in split_by_payee(earned, fee_shares).items():
                accrual.credit(PAYEE_ROLE[payee], minor)
        else:
            accrual.credit(INCOME_ROLE[c], earned)

    for basis, lines in (("both", both), ("cash", books["cash"]), ("accrual", accrual)):
        postings = lines.postings(memo)
        if postings:
            out.append(Entry(basis, memo, postings))
    return out


def fee_shares(state: LoanState) -> dict[str, int]:
    """Each payee's share of the fees the loan's schedule charges over its life (minor units),
    fees kept back at disbursement aside (they are posted with the disbursement)."""
    shares: dict[str, int] = {}
    charges = state.schedule.fee_charges if state.schedule is not None else ()
    for charge in charges:
        if charge.kind is not FeeKind.UPFRONT_DEDUCTED:
            shares[charge.payee.value] = shares.get(charge.payee.value, 0) + charge.total.minor
    return shares


def deducted_by_payee(state: LoanState) -> dict[str, int]:
    """The fees kept back from the money paid out, per payee (minor units; nothing before disbursement)."""
    if state.disbursed.is_zero or state.schedule is None:
        return {}
    out: dict[str, int] = {}
    for charge in state.schedule.fee_charges:
        if charge.kind is FeeKind.UPFRONT_DEDUCTED and charge.total.minor:
            out[charge.payee.value] = out.get(charge.payee.value, 0) + charge.total.minor
    return out
