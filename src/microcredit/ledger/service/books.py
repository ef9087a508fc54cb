"""The books as a whole: `ledger verify` and the beancount export.

`verify` walks every entry (in batches, by id) and recomputes what the
database cannot check by itself: the lines of each entry balance per
currency, they add up to the stored totals rows, each line's account belongs
to the entry's institution and has the line's currency, each line carries its
entry's date and basis, no entry is without lines, and a reversal reverses an
entry of the same institution, once, with exactly the opposite lines. The loan
sub-ledger (outstanding balances per loan equal to the control accounts)
comes with servicing: until loans exist it is reported as not applicable.

`export_beancount` writes one book (accrual or cash) as a beancount file: each
account opened with its type's root (Assets, Liabilities, Equity, Income,
Expenses), the institution's code and the account's code and English name
(`Assets:DEMO:1002-Bank-Deposits`), one transaction per entry with its source
and ids as metadata, amounts as decimal strings of the currency ("1050.00
CNY") — the only place the books become decimals. `bean-check` on the file
is the accountant's own proof that the books balance.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy.orm import Session

from microcredit.ledger import repository as repo
from microcredit.ledger.models import JournalEntry, LedgerAccount
from microcredit.lending.money import Money

__all__ = ["VerifyReport", "export_beancount", "institutions_with_books", "verify"]

BATCH = 1000
ROOTS = {"asset": "Assets", "liability": "Liabilities", "equity": "Equity", "income": "Income",
         "expense": "Expenses"}
Subledger = Callable[[Session, int], Mapping[str, Money]]
"""What the loans say the control accounts hold (account code -> accrual-book balance, debit positive),
for one institution: servicing provides it; the ledger only compares."""


@dataclass
class VerifyReport:
    """What `verify` counted and every problem it found."""

    institutions: int = 0
    accounts: int = 0
    entries: int = 0
    lines: int = 0
    reversals: int = 0
    controls: int = 0
    """Control accounts compared with the loans' sub-ledger (0: no sub-ledger given)."""
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No problem found."""
        return not self.problems


def institutions_with_books(*, session: Session) -> list[int]:
    """The institutions that have a chart of accounts."""
    return repo.institutions_with_books(session)


def _entries(session: Session, institution_id: int | None) -> Iterator[list[JournalEntry]]:
    after = 0
    while batch := repo.entries_in_order(session, institution_id=institution_id, after_id=after, limit=BATCH):
        yield batch
        after = batch[-1].id


def verify(*, session: Session, institution_id: int | None = None, subledger: Subledger | None = None
           ) -> VerifyReport:
    """Recompute every entry of one institution (or all) and report what does not hold; with `subledger`,
    also compare each control account's accrual-book balance with what the loans say it holds."""
    report = VerifyReport()
    institutions = [institution_id] if institution_id is not None else repo.institutions_with_books(session)
    accounts: dict[int, LedgerAccount] = {}
    for inst in institutions:
        accounts.update({a.id: a for a in repo.accounts(session, institution_id=inst)})
    report.institutions, report.accounts = len(institutions), len(accounts)
    seen_reversed: dict[int, int] = {}
    for batch in _entries(session, institution_id):
        ids = [e.id for e in batch]
        lines, stored = repo.lines_of(session, ids), repo.totals_of(session, ids)
        originals = {e.reverses_entry_id for e in batch if e.reverses_entry_id is not None}
        original_lines = repo.lines_of(session, sorted(originals))
        for e in batch:
            report.entries += 1
            where = f"entry {e.id} (institution {e.institution_id}, {e.business_date})"
            own = lines[e.id]
            report.lines += len(own)
            if not own:
                report.problems.append(f"{where}: has no lines")
                continue
            sums: dict[str, list[int]] = {}
            for line in own:
                s = sums.setdefault(line.currency, [0, 0])
                s[0] += line.debit_minor
                s[1] += line.credit_minor
                account = accounts.get(line.account_id)
                if account is None or account.institution_id != e.institution_id:
                    report.problems.append(f"{where}: line {line.line_no} posts to another institution's account")
                elif account.currency != line.currency:
                    report.problems.append(f"{where}: line {line.line_no} is in {line.currency}, its account "
                                           f"{account.code} in {account.currency}")
                if line.business_date != e.business_date or line.basis != e.basis:
                    report.problems.append(f"{where}: line {line.line_no} disagrees with its entry's date or basis")
            for code, (d, c) in sums.items():
                if d != c:
                    report.problems.append(f"{where}: does not balance in {code}: debits {Money(d, code)}, "
                                           f"credits {Money(c, code)}")
            totals = {t.currency: (t.debit_minor, t.credit_minor) for t in stored[e.id]}
            if totals != {code: (d, c) for code, (d, c) in sums.items()}:
                report.problems.append(f"{where}: its lines do not add up to its stored totals")
            if e.reverses_entry_id is not None:
                report.reversals += 1
                first = seen_reversed.setdefault(e.reverses_entry_id, e.id)
                if first != e.id:
                    report.problems.append(f"{where}: reverses entry {e.reverses_entry_id}, which entry {first} "
                                           "reversed already")
                theirs = {(x.account_id, x.currency, x.credit_minor, x.debit_minor)
                          for x in original_lines.get(e.reverses_entry_id, [])}
                mine = {(x.account_id, x.currency, x.debit_minor, x.credit_minor) for x in own}
                if theirs != mine:
                    report.problems.append(f"{where}: is not the exact counter-entry of entry {e.reverses_entry_id}")
    if subledger is not None:
        for inst in institutions:
            _compare_controls(session, inst, subledger(session, inst), report)
    return report


def _compare_controls(session: Session, institution_id: int, expected: Mapping[str, Money],
                      report: VerifyReport) -> None:
    accounts = {a.code: a for a in repo.accounts(session, institution_id=institution_id)}
    sums = repo.sums_by_account(session, institution_id=institution_id, basis="accrual")
    for code, amount in sorted(expected.items()):
        report.controls += 1
        account = accounts.get(code)
        debit, credit = sums.get(account.id, (0, 0)) if account is not None else (0, 0)
        if debit - credit != amount.minor:
            report.problems.append(
                f"institution {institution_id}: account {code} holds {Money(debit - credit, amount.currency)} "
                f"(debit positive) but the loans' sub-ledger says {amount}")


# --- beancount ---------------------------------------------------------------------------------

_NOT_NAME = re.compile(r"[^A-Za-z0-9]+")


def _component(text: str) -> str:
    """A beancount account-name component: ASCII words, capitalised, joined by '-'."""
    words = [w for w in _NOT_NAME.split(text) if w]
    return "-".join(w[:1].upper() + w[1:] for w in words) or "X"


def account_name(account: LedgerAccount, institution_code: str) -> str:
    """`Assets:DEMO:1002-Bank-Deposits`: root by type, institution, code and English name."""
    code = "-".join(w for w in _NOT_NAME.split(account.code) if w)  # codes may hold '.' or '_'; names may not
    return f"{ROOTS[account.type]}:{_component(institution_code).upper()}:{code}-{_component(account.name_en)}"


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def export_beancount(*, session: Session, institutions: dict[int, str], basis: str = "accrual") -> Iterator[str]:
    """The books of these institutions (id -> code) as beancount text, line by line, for one basis."""
    yield f"; microcredit ledger export — the {basis} book (entries tagged {basis} or both)"
    yield 'option "title" "microcredit books"'
    yield 'option "operating_currency" "CNY"'
    yield ""
    for inst_id, code in institutions.items():
        accounts = {a.id: a for a in repo.accounts(session, institution_id=inst_id)}
        entries = [e for batch in _entries(session, inst_id) for e in batch if e.basis in ("both", basis)]
        first = min((e.business_date for e in entries), default=None)
        last_use: dict[int, date] = {}
        lines = repo.lines_of(session, [e.id for e in entries])
        for e in entries:
            for line in lines[e.id]:
                last_use[line.account_id] = max(last_use.get(line.account_id, e.business_date), e.business_date)
        names = {i: account_name(a, code) for i, a in accounts.items()}
        yield f"; institution {code}"
        for a in sorted(accounts.values(), key=lambda a: a.code):
            opened = min(first, a.created_at.date()) if first else a.created_at.date()
            yield f"{opened.isoformat()} open {names[a.id]} {a.currency}"
            yield f"  name_zh: {_quoted(a.name_zh)}"
        yield ""
        for e in sorted(entries, key=lambda e: (e.business_date, e.id)):
            yield f"{e.business_date.isoformat()} * {_quoted(e.description)}"
            yield f"  entry_id: {_quoted(str(e.id))}"
            yield f"  source: {_quoted(e.source_kind)}"
            if e.source_ref is not None:
                yield f"  source_ref: {_quoted(e.source_ref)}"
            yield f"  basis: {_quoted(e.basis)}"
            if e.reverses_entry_id is not None:
                yield f"  reverses: {_quoted(str(e.reverses_entry_id))}"
            for line in lines[e.id]:
                amount = Money(line.debit_minor - line.credit_minor, line.currency)
                yield f"  {names[line.account_id]}  {amount} {line.currency}"
            yield ""
        for a in sorted(accounts.values(), key=lambda a: a.code):
            if a.status == "closed" and a.closed_at is not None:
                closed = max(a.closed_at.date(), last_use.get(a.id, a.closed_at.date()) + timedelta(days=1))
                yield f"{closed.isoformat()} close {names[a.id]}"
