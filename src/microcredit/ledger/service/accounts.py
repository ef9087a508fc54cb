"""The chart of accounts: seeding the default chart, adding, renaming and closing accounts.

Codes never change once an account exists (entries and exports name them);
names may. An account is closed, never deleted, and only at a zero balance
with no active sub-account; a closed account takes no postings.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from microcredit.audit import service as audit
from microcredit.clock import Clock
from microcredit.errors import NotFound
from microcredit.ledger import repository as repo
from microcredit.ledger.chart import DEFAULT_CHART
from microcredit.ledger.errors import AccountAlreadyClosed, AccountCodeTaken, AccountNotEmpty, ParentInvalid
from microcredit.ledger.models import NORMAL_SIDE, LedgerAccount, LedgerBook
from microcredit.platform.actor import Actor

__all__ = ["LedgerAccount", "close_account", "create_account", "get_account", "list_accounts", "rename_account",
           "seed_chart"]


def seed_chart(*, session: Session, clock: Clock, institution_id: int, currency: str = "CNY") -> list[LedgerAccount]:
    """Give an institution the default chart's accounts it lacks, and its books row (idempotent)."""
    existing = repo.accounts_by_code(session, institution_id=institution_id, codes=[a.code for a in DEFAULT_CHART])
    now = clock.now()
    added = []
    for d in DEFAULT_CHART:  # parents come before their children in the chart
        if d.code in existing:
            continue
        side = NORMAL_SIDE[d.type]
        parent = existing.get(d.parent) if d.parent else None
        row = LedgerAccount(institution_id=institution_id, code=d.code, key=d.key, name_zh=d.name_zh,
                            name_en=d.name_en, type=d.type,
                            normal_side=("credit" if side == "debit" else "debit") if d.contra else side,
                            parent_id=parent.id if parent else None, currency=currency, status="active",
                            description=d.description, created_at=now)
        repo.add(session, row)
        existing[d.code] = row
        added.append(row)
    if repo.book(session, institution_id) is None:
        repo.add(session, LedgerBook(institution_id=institution_id, closed_through=None))
    return added


def list_accounts(*, session: Session, institution_id: int) -> list[LedgerAccount]:
    """The institution's chart, by code (the client builds the tree from `parent_id`)."""
    return repo.accounts(session, institution_id=institution_id)


def get_account(*, session: Session, institution_id: int, account_id: int) -> LedgerAccount:
    """One account of the institution, or NotFound."""
    row = repo.account(session, institution_id=institution_id, account_id=account_id)
    if row is None:
        raise NotFound()
    return row


def create_account(*, session: Session, clock: Clock, actor: Actor, institution_id: int, code: str, name_zh: str,
                   name_en: str, type: str, parent_id: int | None = None, currency: str = "CNY",
                   contra: bool = False, description: str | None = None) -> LedgerAccount:
    """A new account (audited); its normal side follows its type, or the opposite for a contra account."""
    if code in repo.account_codes(session, institution_id=institution_id):
        raise AccountCodeTaken(field="code")
    if parent_id is not None:
        parent = repo.account(session, institution_id=institution_id, account_id=parent_id)
        if parent is None or parent.status != "active" or parent.type != type or parent.currency != currency:
            raise ParentInvalid(field="parent_id")
    side = NORMAL_SIDE[type]
    row = LedgerAccount(institution_id=institution_id, code=code, key=None, name_zh=name_zh, name_en=name_en,
                        type=type, normal_side=("credit" if side == "debit" else "debit") if contra else side,
                        parent_id=parent_id, currency=currency, status="active", description=description,
                        created_at=clock.now())
    repo.add(session, row)
    audit.record(session=session, clock=clock, actor=actor, action="ledger.account_created",
                 entity_type="ledger_account", entity_id=row.id, institution_id=institution_id,
                 after={"code": code, "name_zh": name_zh, "name_en": name_en, "type": type,
                        "normal_side": row.normal_side, "parent_id": parent_id, "currency": currency})
    return row


def rename_account(*, session: Session, clock: Clock, actor: Actor, account: LedgerAccount,
                   name_zh: str | None = None, name_en: str | None = None,
                   description: str | None = None) -> LedgerAccount:
    """Change an account's names or description (audited); its code, type and side never change."""
    before, after = {}, {}
    for key, value in (("name_zh", name_zh), ("name_en", name_en), ("description", description)):
        if value is not None and getattr(account, key) != value:
            before[key], after[key] = getattr(account, key), value
            setattr(account, key, value)
    if after:
        session.flush()
        audit.record(session=session, clock=clock, actor=actor, action="ledger.account_renamed",
                     entity_type="ledger_account", entity_id=account.id, institution_id=account.institution_id,
                     before=before, after=after)
    return account


def close_account(*, session: Session, clock: Clock, actor: Actor, account: LedgerAccount) -> LedgerAccount:
    """Close an account to postings (audited): only at a zero balance in both books, with no active sub-account."""
    if account.status == "closed":
        raise AccountAlreadyClosed()
    books = [repo.account_sums(session, account_id=account.id, basis=basis) for basis in ("accrual", "cash")]
    if any(debit != credit for debit, credit in books) or repo.active_children(session, account.id):
        raise AccountNotEmpty()
    account.status = "closed"
    account.closed_at = clock.now()
    session.flush()
    audit.record(session=session, clock=clock, actor=actor, action="ledger.account_closed",
                 entity_type="ledger_account", entity_id=account.id, institution_id=account.institution_id,
                 before={"status": "active"}, after={"status": "closed", "code": account.code})
    return account
