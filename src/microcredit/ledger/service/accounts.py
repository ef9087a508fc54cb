"""The chart of accounts: seeding the default chart, adding, renaming and closing accounts.

Codes never change once an account exists (entries and exports name them);
names may. An account is closed, never deleted, and only at a zero balance
with no active sub-account; a closed account takes no postings.

Postings read the chart from memory (`posting_chart`): what a posting needs of
each account (id, status, currency), per database and institution, kept in a
`platform.refcache.ReferenceCache`. It stays exact across processes because
every change to the chart also updates the institution's books row (under its
exclusive lock: `_chart_changed`), so the row's version -- which every posting
reads anyway, under the shared lock of the period check -- is the chart's stamp:
a kept chart of another version is read again. Within the process a flush that
touches an account forgets the institution's chart at once (the cache's own
watch), and a rollback forgets it again.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from microcredit.audit import service as audit
from microcredit.clock import Clock, SystemClock
from microcredit.errors import FieldProblem, NotFound, ValidationFailed
from microcredit.ledger import repository as repo
from microcredit.ledger.chart import DEFAULT_CHART, PRODUCT_ROLES, ROLE_TYPES
from microcredit.ledger.errors import (
    AccountAlreadyClosed,
    AccountCodeTaken,
    AccountMappedByProduct,
    AccountNotEmpty,
    ParentInvalid,
)
from microcredit.ledger.models import NORMAL_SIDE, LedgerAccount, LedgerBook
from microcredit.platform.actor import Actor
from microcredit.platform.refcache import ReferenceCache

__all__ = ["AccountRef", "AccountUser", "AccountUsers", "Chart", "LedgerAccount", "check_role_codes", "close_account",
           "create_account", "get_account",
           "list_accounts", "posting_chart", "rename_account", "seed_chart"]

CHART_SECONDS = 300  # an outer bound only: the books row's version keeps a kept chart exact


@dataclass(frozen=True, slots=True)
class AccountRef:
    """What a posting needs of an account: its id, status and currency."""

    id: int
    status: str
    currency: str


@dataclass(frozen=True, slots=True)
class AccountUser:
    """A published product version that sends a posting role to an account of its own."""

    product: str
    version: int
    role: str


AccountUsers = Callable[[Session, int], Mapping[str, AccountUser]]
"""The accounts the institution's published product versions map (code -> the first such version):
products provide it; the ledger only refuses to close them."""


@dataclass(frozen=True, slots=True)
class Chart:
    """An institution's accounts by code, as of the books row's `version`."""

    version: int
    accounts: Mapping[str, AccountRef]


_charts: weakref.WeakKeyDictionary[Engine, ReferenceCache[Chart]] = weakref.WeakKeyDictionary()


def _chart_cache(session: Session) -> ReferenceCache[Chart]:
    """The chart cache of the session's database (one per engine: two databases never share a chart)."""
    engine = session.get_bind().engine
    cache = _charts.get(engine)
    if cache is None:
        cache = _charts.setdefault(engine, ReferenceCache(clock=SystemClock(), seconds=CHART_SECONDS,
                                                          model=LedgerAccount, key_of=lambda a: a.institution_id))
    return cache


def posting_chart(*, session: Session, institution_id: int, version: int) -> Chart:
    """The institution's chart for posting, from memory when it was read at this books `version`
    (the caller holds the books row's lock: the module docstring)."""

    def load() -> Chart:
        rows = repo.accounts(session, institution_id=institution_id)
        return Chart(version, {a.code: AccountRef(a.id, a.status, a.currency) for a in rows})

    return _chart_cache(session).get(institution_id, load, current=lambda chart: chart.version == version)


def _chart_changed(session: Session, institution_id: int) -> None:
    """Move the books row's version (under its exclusive lock, to the commit): kept charts are read again,
    and a posting in flight (holding the shared lock) finishes before the chart changes."""
    book = repo.book(session, institution_id, lock="update")
    if book is None:
        repo.add(session, LedgerBook(institution_id=institution_id, closed_through=None))
        return
    flag_modified(book, "closed_through")
    session.flush()


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
    if added:
        _chart_changed(session, institution_id)
    elif repo.book(session, institution_id) is None:
        repo.add(session, LedgerBook(institution_id=institution_id, closed_through=None))
    return added


def list_accounts(*, session: Session, institution_id: int) -> list[LedgerAccount]:
    """The institution's chart, by code (the client builds the tree from `parent_id`)."""
    return repo.accounts(session, institution_id=institution_id)


_ROLE_CODE_PROBLEMS = {
    "account_not_found": ("No such account", "科目不存在"),
    "account_closed": ("The account is closed to postings", "科目已停用，不能记账"),
    "account_wrong_type": ("This role needs an account of type {type}", "该用途须使用{type_zh}类科目"),
    "account_is_header": ("A header account (one with sub-accounts) takes no postings: choose a sub-account",
                          "该科目下设明细科目，请选择明细科目"),
    "currency_mismatch": ("The account's currency is not the product's", "科目币种与产品币种不一致"),
}
_TYPE_ZH = {"asset": "资产", "liability": "负债", "equity": "所有者权益", "income": "收入", "expense": "费用"}


def check_role_codes(*, session: Session, institution_id: int, codes: Mapping[str, str], currency: str,
                     field: str = "accounts", hold: bool = False) -> None:
    """Refuse a map of posting roles to account codes that postings could not use: each code must be an
    active account of the institution, of the type the role needs, in the currency, and not a header
    (`ValidationFailed`, one problem per role, field `<field>.<role>`).

    `hold`: take the books row's shared lock first, as a posting does, so that the chart read here cannot
    change before this transaction commits. A product version published under it cannot then map an
    account that `close_account` (which takes the exclusive lock, then reads the published mappings) is
    closing at the same moment: one waits for the other, and the second sees what the first committed."""
    if hold:
        repo.book(session, institution_id, lock="share")
    rows = repo.accounts(session, institution_id=institution_id)
    by_code = {a.code: a for a in rows}
    parents = {a.parent_id for a in rows if a.parent_id is not None and a.status == "active"}
    problems: list[FieldProblem] = []
    for role, code in codes.items():
        if role not in PRODUCT_ROLES:
            raise KeyError(role)  # the schema admits only PRODUCT_ROLES
        account = by_code.get(code)
        wanted = ROLE_TYPES[role]
        problem = ("account_not_found" if account is None
                   else "account_closed" if account.status != "active"
                   else "account_wrong_type" if account.type != wanted
                   else "account_is_header" if account.id in parents
                   else "currency_mismatch" if account.currency != currency
                   else None)
        if problem is not None:
            en, zh = _ROLE_CODE_PROBLEMS[problem]
            problems.append(FieldProblem(f"{field}.{role}", problem, en.format(type=wanted),
                                         zh.format(type_zh=_TYPE_ZH[wanted])))
    if problems:
        raise ValidationFailed(problems)


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
    _chart_changed(session, institution_id)
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


def close_account(*, session: Session, clock: Clock, actor: Actor, account: LedgerAccount,
                  mapped_by: AccountUsers | None = None) -> LedgerAccount:
    """Close an account to postings (audited): only at a zero balance in both books, with no active sub-account,
    and not while a published product version maps one of its roles to it (`mapped_by`, products provide it)."""
    if account.status == "closed":
        raise AccountAlreadyClosed()
    _chart_changed(session, account.institution_id)  # first: no posting lands between the balance read and the close
    if mapped_by is not None and (user := mapped_by(session, account.institution_id).get(account.code)):
        raise AccountMappedByProduct(params={"product": user.product, "version": user.version, "role": user.role},
                                     extra={"product_code": user.product, "product_version": user.version})
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
