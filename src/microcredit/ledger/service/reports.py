"""Reports of the books: the trial balance, an account's statement and the general ledger.

Every report reads one book — `accrual` (the default) or `cash` — that is, the
entries tagged with it or with `both`. Balances are summed from the lines in
the database (one grouped query), then laid out by the pure
`ledger.balances.trial_balance`, the same function the property tests check.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.orm import Session

from microcredit.ledger import repository as repo
from microcredit.ledger.balances import AccountRef, TrialBalanceRow, TrialBalanceTotals, on_normal_side, trial_balance
from microcredit.ledger.models import JournalEntry, JournalLine, LedgerAccount
from microcredit.ledger.service.accounts import get_account
from microcredit.lending.money import Money
from microcredit.platform.paging import PageRequest, paginate

__all__ = ["GeneralLedgerAccount", "Statement", "StatementLine", "TrialBalance", "general_ledger", "statement",
           "trial_balance_report"]


@dataclass(frozen=True)
class TrialBalance:
    """Rows per account (with the account) and totals per currency, over [date_from, date_to]."""

    date_from: date | None
    date_to: date
    basis: str
    rows: list[tuple[LedgerAccount, TrialBalanceRow[int]]]
    totals: list[TrialBalanceTotals]


def trial_balance_report(*, session: Session, institution_id: int, date_to: date, date_from: date | None = None,
                         basis: str = "accrual", include_empty: bool = False) -> TrialBalance:
    """Opening balance (before `date_from`), debits, credits and closing balance (at `date_to`) per account.

    Without `date_from` the trial balance is as of `date_to`: no opening, the
    movements since the first entry, the closing balance.
    """
    accounts = repo.accounts(session, institution_id=institution_id)
    opening = repo.sums_by_account(session, institution_id=institution_id, basis=basis, before=date_from) \
        if date_from is not None else {}
    movement = repo.sums_by_account(session, institution_id=institution_id, basis=basis, date_from=date_from,
                                    date_to=date_to)
    rows, totals = trial_balance([AccountRef(a.id, a.currency) for a in accounts], opening, movement)
    by_id = {a.id: a for a in accounts}
    laid = [(by_id[r.account], r) for r in rows if include_empty or not r.is_empty]
    return TrialBalance(date_from, date_to, basis, laid, totals)


@dataclass(frozen=True)
class StatementLine:
    """A line of an account's statement with the balance after it (on the account's normal side)."""

    line: JournalLine
    entry: JournalEntry
    balance: Money


@dataclass(frozen=True)
class Statement:
    """An account's lines over a range, one page of them, with the balances around them."""

    account: LedgerAccount
    basis: str
    opening: Money  # before date_from, on the normal side
    closing: Money  # at date_to
    debits: Money
    credits: Money
    lines: list[StatementLine]
    total: int
    page: int
    page_size: int


def _balance(account: LedgerAccount, sums: tuple[int, int]) -> Money:
    return Money(on_normal_side(sums[0] - sums[1], account.normal_side), account.currency)


def statement(*, session: Session, institution_id: int, account_id: int, date_from: date | None, date_to: date | None,
              basis: str = "accrual", page: PageRequest | None = None) -> Statement:
    """One account's lines in the range with a running balance (on its normal side), paginated."""
    account = get_account(session=session, institution_id=institution_id, account_id=account_id)
    request = page or PageRequest(1, 50)
    opening = repo.account_sums(session, account_id=account.id, basis=basis, before=date_from) \
        if date_from is not None else (0, 0)
    in_range = repo.account_sums(session, account_id=account.id, basis=basis, date_from=date_from,
                                 before=date_to + timedelta(days=1) if date_to else None)
    result = paginate(session, repo.statement_query(account_id=account.id, basis=basis, date_from=date_from,
                                                    date_to=date_to), request)
    lines: list[StatementLine] = []
    if result.items:
        first_line, first_entry = result.items[0]
        before = repo.account_sums(session, account_id=account.id, basis=basis, date_from=date_from,
                                   before_line=(first_line.business_date, first_entry.id, first_line.id))
        net = opening[0] - opening[1] + before[0] - before[1]
        for line, entry in result.items:
            net += line.debit_minor - line.credit_minor
            lines.append(StatementLine(line, entry, Money(on_normal_side(net, account.normal_side),
                                                          account.currency)))
    closing = (opening[0] + in_range[0], opening[1] + in_range[1])
    return Statement(account=account, basis=basis, opening=_balance(account, opening),
                     closing=_balance(account, closing), debits=Money(in_range[0], account.currency),
                     credits=Money(in_range[1], account.currency), lines=lines, total=result.total,
                     page=result.page, page_size=result.page_size)


@dataclass(frozen=True)
class GeneralLedgerAccount:
    """One account's part of the general ledger: opening, every line with its running balance, closing."""

    account: LedgerAccount
    opening: Money
    closing: Money
    debits: Money
    credits: Money
    lines: list[StatementLine]


def general_ledger(*, session: Session, institution_id: int, date_from: date, date_to: date,
                   basis: str = "accrual", page: PageRequest | None = None) -> tuple[list[GeneralLedgerAccount], int]:
    """The accounts with a balance or a movement in the range (a page of them) with all their lines; and the count."""
    request = page or PageRequest(1, 20)
    tb = trial_balance_report(session=session, institution_id=institution_id, date_from=date_from, date_to=date_to,
                              basis=basis)
    size = max(1, request.page_size)
    chosen = tb.rows[(max(1, request.page) - 1) * size:max(1, request.page) * size]
    out = []
    for account, row in chosen:
        net = row.opening_debit.minor - row.opening_credit.minor
        lines = []
        for line, entry in repo.statement_rows(session, repo.statement_query(
                account_id=account.id, basis=basis, date_from=date_from, date_to=date_to)):
            net += line.debit_minor - line.credit_minor
            lines.append(StatementLine(line, entry, Money(on_normal_side(net, account.normal_side),
                                                          account.currency)))
        out.append(GeneralLedgerAccount(
            account=account,
            opening=Money(on_normal_side(row.opening_debit.minor - row.opening_credit.minor, account.normal_side),
                          account.currency),
            closing=Money(on_normal_side(row.closing_debit.minor - row.closing_credit.minor, account.normal_side),
                          account.currency),
            debits=row.debit, credits=row.credit, lines=lines))
    return out, len(tb.rows)
