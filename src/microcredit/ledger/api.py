"""Routes of the ledger: the chart, entries and reversals, reports, period close.

Staff see their own institution's books (the books are per institution; the
caller's is the one the session names). Posting and reversing take an
`Idempotency-Key`.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query

from microcredit.api.deps import DB, IdempotencyGuard, WallClock, idempotent, require
from microcredit.api.params import Id, IdFilter, PageNo, PageSize
from microcredit.identity.principal import Principal
from microcredit.ledger import service
from microcredit.ledger.errors import LineAmountInvalid
from microcredit.ledger.schemas import (
    Book,
    GeneralLedgerAccountRead,
    JournalEntryCreate,
    JournalEntryRead,
    JournalEntryReverse,
    JournalLineRead,
    LedgerAccountCreate,
    LedgerAccountRead,
    LedgerAccountUpdate,
    PeriodClose,
    PeriodEventRead,
    PeriodReopen,
    PeriodsRead,
    StatementLineRead,
    StatementRead,
    TrialBalanceRead,
    TrialBalanceRowRead,
    TrialBalanceTotalsRead,
)
from microcredit.lending.money import Money
from microcredit.parties import service as parties
from microcredit.platform.paging import PageRequest, paginate
from microcredit.platform.routing import UnitOfWorkRoute
from microcredit.platform.schema import Page
from microcredit.products import service as products

router = APIRouter(prefix="/ledger", tags=["ledger"], route_class=UnitOfWorkRoute)
From = Annotated[date | None, Query(description="From this date (inclusive)", examples=["2026-11-01"])]
To = Annotated[date | None, Query(description="To this date (inclusive)", examples=["2026-11-30"])]
BookQuery = Annotated[Book, Query(description="The book: accrual (entries tagged accrual or both) or cash")]
SourceKind = Annotated[str | None, Query(max_length=32, description="Only entries of this source", examples=["manual"])]
ERRORS: dict[int | str, dict[str, Any]] = {
    409: {"description": "A business rule refused it (`period_closed`, `account_closed`, "
                         "`entry_already_reversed` …)"},
    422: {"description": "Invalid (`entry_unbalanced` with field `lines`, `line_amount_invalid`, "
                         "`account_not_found` …)"}}


def _business_date(session: DB, institution_id: int) -> date:
    return parties.organisation.institution(session=session, institution_id=institution_id).business_date


def _entry(view: service.posting.EntryView) -> JournalEntryRead:
    e = view.entry
    debit, credit = view.totals.get("CNY", (0, 0))
    return JournalEntryRead(
        id=e.id, business_date=e.business_date, description=e.description, source_kind=e.source_kind,
        source_ref=e.source_ref, basis=e.basis, reverses_entry_id=e.reverses_entry_id,
        reversed_by_entry_id=view.reversed_by, created_by_user_id=e.created_by_user_id, created_at=e.created_at,
        debit_total=Money(debit, "CNY"), credit_total=Money(credit, "CNY"),
        lines=[JournalLineRead(line_no=line.line_no, account_id=a.id, account_code=a.code, account_name_zh=a.name_zh,
                               account_name_en=a.name_en,
                               debit=Money(line.debit_minor, line.currency) if line.debit_minor else None,
                               credit=Money(line.credit_minor, line.currency) if line.credit_minor else None,
                               memo=line.memo) for line, a in view.lines])


def _statement_line(s: service.reports.StatementLine) -> StatementLineRead:
    line = s.line
    return StatementLineRead(entry_id=s.entry.id, line_no=line.line_no, business_date=line.business_date,
                             description=s.entry.description, source_kind=s.entry.source_kind,
                             debit=Money(line.debit_minor, line.currency) if line.debit_minor else None,
                             credit=Money(line.credit_minor, line.currency) if line.credit_minor else None,
                             balance=s.balance, memo=line.memo)


# --- accounts --------------------------------------------------------------------------------


@router.get("/accounts", response_model=list[LedgerAccountRead], operation_id="list_ledger_accounts",
            summary="The chart of accounts")
def list_ledger_accounts(session: DB, principal: Principal = require("ledger.read")) -> Any:
    """Every account by code, closed ones included; `parent_id` gives the tree."""
    return service.accounts.list_accounts(session=session, institution_id=principal.institution_id)


@router.post("/accounts", response_model=LedgerAccountRead, status_code=201, operation_id="create_ledger_account",
             summary="Add an account", responses=ERRORS)
def create_ledger_account(body: LedgerAccountCreate, session: DB, clock: WallClock,
                          principal: Principal = require("ledger.accounts")) -> Any:
    """A new account under a parent of the same type (audited); codes are unique and never change."""
    return service.accounts.create_account(
        session=session, clock=clock, actor=principal.actor, institution_id=principal.institution_id,
        code=body.code, name_zh=body.name_zh, name_en=body.name_en, type=body.type, parent_id=body.parent_id,
        currency=body.currency, contra=body.contra, description=body.description)


@router.patch("/accounts/{account_id}", response_model=LedgerAccountRead, operation_id="rename_ledger_account",
              summary="Rename an account")
def rename_ledger_account(account_id: Id, body: LedgerAccountUpdate, session: DB, clock: WallClock,
                          principal: Principal = require("ledger.accounts")) -> Any:
    """New names or description (audited)."""
    account = service.accounts.get_account(session=session, institution_id=principal.institution_id,
                                           account_id=account_id)
    return service.accounts.rename_account(session=session, clock=clock, actor=principal.actor, account=account,
                                           name_zh=body.name_zh, name_en=body.name_en, description=body.description)


@router.post("/accounts/{account_id}/close", response_model=LedgerAccountRead, operation_id="close_ledger_account",
             summary="Close an account to postings",
             responses={409: {"description": "A balance or active sub-accounts (`account_not_empty`), or a "
                                       "published product version maps it (`account_mapped_by_product`, naming "
                                       "`product_code`, `product_version` and `role`)"}})
def close_ledger_account(account_id: Id, session: DB, clock: WallClock,
                         principal: Principal = require("ledger.accounts")) -> Any:
    """Only at a zero balance in both books, without active sub-accounts and while no published product version
    maps it (audited)."""
    account = service.accounts.get_account(session=session, institution_id=principal.institution_id,
                                           account_id=account_id)
    return service.accounts.close_account(session=session, clock=clock, actor=principal.actor, account=account,
                                          mapped_by=products.catalogue.accounts_in_use)


@router.get("/accounts/{account_id}/statement", response_model=StatementRead,
            operation_id="get_ledger_account_statement", summary="An account's statement with running balance")
def get_ledger_account_statement(account_id: Id, session: DB, principal: Principal = require("ledger.read"),
                                 date_from: From = None, date_to: To = None, basis: BookQuery = "accrual",
                                 page: PageNo = 1, page_size: PageSize = 50) -> StatementRead:
    """Opening balance, the lines in date order with the balance after each, closing balance (one page)."""
    s = service.reports.statement(session=session, institution_id=principal.institution_id, account_id=account_id,
                                  date_from=date_from, date_to=date_to, basis=basis,
                                  page=PageRequest(page, page_size))
    return StatementRead(account=LedgerAccountRead.model_validate(s.account), basis=basis,
                         date_from=date_from, date_to=date_to, opening=s.opening, debits=s.debits,
                         credits=s.credits, closing=s.closing, items=[_statement_line(x) for x in s.lines],
                         total=s.total, page=s.page, page_size=s.page_size)


# --- entries ---------------------------------------------------------------------------------


@router.get("/entries", response_model=Page[JournalEntryRead], operation_id="list_journal_entries",
            summary="The journal")
def list_journal_entries(session: DB, principal: Principal = require("ledger.read"), date_from: From = None,
                         date_to: To = None, source_kind: SourceKind = None, account_id: IdFilter = None,
                         page: PageNo = 1, page_size: PageSize = 20) -> Page[JournalEntryRead]:
    """Entries with their lines, newest first, filtered by date, source and account."""
    inst = principal.institution_id
    stmt = service.posting.entries_query(institution_id=inst, date_from=date_from, date_to=date_to,
                                              source_kind=source_kind, account_id=account_id)
    r = paginate(session, stmt, PageRequest(page, page_size))
    views = service.posting.entry_views(session=session, institution_id=inst, entries=list(r.items))
    return Page(items=[_entry(v) for v in views], total=r.total, page=r.page, page_size=r.page_size)


@router.get("/entries/{entry_id}", response_model=JournalEntryRead, operation_id="get_journal_entry",
            summary="One entry with its lines")
def get_journal_entry(entry_id: Id, session: DB, principal: Principal = require("ledger.read")) -> JournalEntryRead:
    """The entry, its lines and accounts, and the entry that reversed it, if any."""
    return _entry(service.posting.entry_view(session=session, institution_id=principal.institution_id,
                                             entry_id=entry_id))


@router.post("/entries", response_model=JournalEntryRead, status_code=201, operation_id="post_journal_entry",
             summary="Post a manual entry (Idempotency-Key required)", responses=ERRORS)
def post_journal_entry(body: JournalEntryCreate, session: DB, clock: WallClock,
                       principal: Principal = require("ledger.post"),
                       guard: IdempotencyGuard = idempotent("ledger.post")) -> Any:
    """Refused unless Σ debits = Σ credits (`entry_unbalanced`, field `lines`), nothing written; audited."""
    postings = []
    for i, line in enumerate(body.lines):
        if (line.debit is None) == (line.credit is None):
            raise LineAmountInvalid(field=f"lines.{i}.debit")
        side = service.Side.DEBIT if line.debit is not None else service.Side.CREDIT
        amount = line.debit if line.debit is not None else line.credit
        assert amount is not None
        postings.append(service.Posting(line.account_code, side, amount, line.memo))
    inst = principal.institution_id
    entry = service.post(session=session, clock=clock, actor=principal.actor, institution_id=inst,
                         business_date=body.business_date, description=body.description, postings=postings,
                         basis=body.basis, not_after=_business_date(session, inst))
    return guard.respond(201, _entry(service.posting.entry_view(session=session, institution_id=inst,
                                                                entry_id=entry.id)))


@router.post("/entries/{entry_id}/reverse", response_model=JournalEntryRead, status_code=201,
             operation_id="reverse_journal_entry", summary="Reverse an entry by counter-entry (Idempotency-Key "
                                                           "required)", responses=ERRORS)
def reverse_journal_entry(entry_id: Id, body: JournalEntryReverse, session: DB, clock: WallClock,
                          principal: Principal = require("ledger.post"),
                          guard: IdempotencyGuard = idempotent("ledger.reverse")) -> Any:
    """The same lines on the opposite sides, referencing the original; once per entry (audited)."""
    inst = principal.institution_id
    entry = service.reverse(session=session, clock=clock, actor=principal.actor, institution_id=inst,
                            entry_id=entry_id, business_date=body.business_date, description=body.description,
                            not_after=_business_date(session, inst))
    return guard.respond(201, _entry(service.posting.entry_view(session=session, institution_id=inst,
                                                                entry_id=entry.id)))


# --- reports ---------------------------------------------------------------------------------


@router.get("/trial-balance", response_model=TrialBalanceRead, operation_id="get_trial_balance",
            summary="The trial balance for a date or a range")
def get_trial_balance(session: DB, principal: Principal = require("ledger.read"), date_from: From = None,
                      date_to: To = None, basis: BookQuery = "accrual",
                      include_empty: Annotated[bool, Query(description="Also accounts without balance or "
                                                                       "movement")] = False) -> TrialBalanceRead:
    """Per account: opening (before `date_from`), debits, credits, closing (at `date_to`, default the business date)."""
    inst = principal.institution_id
    end = date_to or _business_date(session, inst)
    tb = service.reports.trial_balance_report(session=session, institution_id=inst, date_from=date_from,
                                              date_to=end, basis=basis, include_empty=include_empty)
    rows = [TrialBalanceRowRead(account_id=a.id, code=a.code, name_zh=a.name_zh, name_en=a.name_en,
                                type=a.type, parent_id=a.parent_id,
                                opening_debit=r.opening_debit, opening_credit=r.opening_credit, debit=r.debit,
                                credit=r.credit, closing_debit=r.closing_debit, closing_credit=r.closing_credit)
            for a, r in tb.rows]
    totals = [TrialBalanceTotalsRead(currency=t.currency, opening_debit=t.opening_debit,
                                     opening_credit=t.opening_credit, debit=t.debit, credit=t.credit,
                                     closing_debit=t.closing_debit, closing_credit=t.closing_credit,
                                     balanced=t.balanced) for t in tb.totals]
    return TrialBalanceRead(date_from=date_from, date_to=end, basis=basis, rows=rows, totals=totals)


@router.get("/general-ledger", response_model=Page[GeneralLedgerAccountRead], operation_id="get_general_ledger",
            summary="The general ledger for a range")
def get_general_ledger(session: DB, principal: Principal = require("ledger.read"), date_from: From = None,
                       date_to: To = None, basis: BookQuery = "accrual", page: PageNo = 1,
                       page_size: PageSize = 20) -> Page[GeneralLedgerAccountRead]:
    """Each account with a balance or a movement (a page of accounts): opening, every line with its balance, closing."""
    inst = principal.institution_id
    end = date_to or _business_date(session, inst)
    start = date_from or end.replace(day=1)
    accounts, total = service.reports.general_ledger(session=session, institution_id=inst, date_from=start,
                                                     date_to=end, basis=basis, page=PageRequest(page, page_size))
    items = [GeneralLedgerAccountRead(account=LedgerAccountRead.model_validate(g.account), opening=g.opening,
                                      debits=g.debits, credits=g.credits, closing=g.closing,
                                      lines=[_statement_line(x) for x in g.lines]) for g in accounts]
    return Page(items=items, total=total, page=page, page_size=page_size)


# --- periods ---------------------------------------------------------------------------------


def _periods(session: DB, inst: int) -> PeriodsRead:
    return PeriodsRead(closed_through=service.periods.closed_through(session=session, institution_id=inst),
                       business_date=_business_date(session, inst),
                       history=[PeriodEventRead.model_validate(e)
                                for e in service.periods.history(session=session, institution_id=inst)])


@router.get("/periods", response_model=PeriodsRead, operation_id="get_ledger_periods",
            summary="The closed date and the history of closes")
def get_ledger_periods(session: DB, principal: Principal = require("ledger.read")) -> PeriodsRead:
    """Through which date the books are closed, the business date, and the latest closes and reopenings."""
    return _periods(session, principal.institution_id)


@router.post("/periods/close", response_model=PeriodsRead, operation_id="close_ledger_period",
             summary="Close the books through a date", responses=ERRORS)
def close_ledger_period(body: PeriodClose, session: DB, clock: WallClock,
                        principal: Principal = require("ledger.close")) -> PeriodsRead:
    """Nothing can be posted on or before the date afterwards (audited); the date only moves forward."""
    inst = principal.institution_id
    service.periods.close(session=session, clock=clock, actor=principal.actor, institution_id=inst,
                          through=body.through, business_date=_business_date(session, inst))
    return _periods(session, inst)


@router.post("/periods/reopen", response_model=PeriodsRead, operation_id="reopen_ledger_period",
             summary="Reopen closed periods (a separate permission)", responses=ERRORS)
def reopen_ledger_period(body: PeriodReopen, session: DB, clock: WallClock,
                         principal: Principal = require("ledger.reopen")) -> PeriodsRead:
    """Move the closed date back (null: nothing closed), with a reason (audited)."""
    inst = principal.institution_id
    service.periods.reopen(session=session, clock=clock, actor=principal.actor, institution_id=inst,
                           through=body.through, reason=body.reason)
    return _periods(session, inst)
