"""Routes of parties: borrowers (walk-in registration, search, profiles, cards) and reviewed changes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import TypeAdapter
from sqlalchemy.orm import Session

from microcredit.api.deps import (
    DB,
    IdempotencyGuard,
    Kit,
    Meta,
    idempotent,
    kept_page,
    require,
)
from microcredit.api.exports import XLSX_RESPONSES, xlsx_response
from microcredit.api.params import Id, IdFilter, PageNo, PageSize
from microcredit.identity import scope
from microcredit.identity import service as identity
from microcredit.identity.principal import Principal
from microcredit.parties import service
from microcredit.parties.errors import IdentifierInQuery
from microcredit.parties.models import Borrower, ProfileChange
from microcredit.parties.schemas import (
    BankCardCreate,
    BankCardRead,
    BorrowerDetail,
    BorrowerListQuery,
    BorrowerRead,
    BorrowerSearch,
    BorrowerUpdate,
    ChangeRead,
    OfflineRegistration,
    ProfileFields,
    ReviewDecision,
    SensitiveRead,
)
from microcredit.parties.service.borrowers import NewBorrower
from microcredit.platform.export import Column
from microcredit.platform.paging import PageRequest
from microcredit.platform.routing import UnitOfWorkRoute
from microcredit.platform.schema import Page

router = APIRouter(tags=["parties"], route_class=UnitOfWorkRoute)
# --- borrowers -------------------------------------------------------------------------

BORROWER_COLUMNS = [Column("id", "编号", "No."), Column("real_name", "姓名", "Name"),
                    Column("id_number_masked", "身份证号", "ID number"), Column("phone_masked", "手机", "Phone"),
                    Column("customer_type", "客户类型", "Customer type"), Column("branch_id", "网点", "Branch"),
                    Column("occupation", "职业", "Occupation"),
                    Column("monthly_income", "月收入", "Monthly income", money=True),
                    Column("channel", "渠道", "Channel"), Column("created_at", "登记时间(UTC)", "Registered (UTC)")]


def _change_read(c: ProfileChange, name: str | None = None) -> ChangeRead:
    return ChangeRead(id=c.id, borrower_id=c.borrower_id, borrower_name=name, changes=c.changes, status=c.status,
                      requested_at=c.requested_at, reviewed_at=c.reviewed_at,
                      reviewed_by_user_id=c.reviewed_by_user_id, review_reason=c.review_reason)


def _detail(session: DB, kit: Kit, b: Borrower) -> BorrowerDetail:
    account = identity.accounts.get_account(session=session, user_id=b.user_id)
    locked_until = identity.accounts.locked_until(session=session, kit=kit, user_id=b.user_id)
    today = service.organisation.business_date(session=session, institution_id=b.institution_id)
    pending = service.borrowers.pending_change(session=session, borrower_id=b.id)
    data: dict[str, Any] = BorrowerRead.model_validate(b).model_dump()
    return BorrowerDetail(
        **data, age=service.borrowers.age_of(kit=kit, borrower=b, on=today),
        locked=locked_until is not None, account_status=account.status, has_password=account.has_password,
        bank_cards=[BankCardRead.model_validate(c) for c in service.borrowers.bank_cards(session=session,
                                                                                         borrower_id=b.id)],
        pending_change=_change_read(pending, b.real_name) if pending else None,
        recent_changes=[_change_read(c, b.real_name)
                        for c in service.borrowers.changes_of(session=session, borrower_id=b.id)])


def _search(session: DB, kit: Kit, principal: Principal, body: BorrowerSearch, *, export: bool) -> Any:
    return service.borrowers.search_borrowers(
        session=session, kit=kit, principal=principal, q=body.q, customer_type=body.customer_type,
        channel=body.channel, branch_id=body.branch_id, unassigned=body.unassigned, locked=body.locked,
        page=PageRequest(body.page, body.page_size, body.sort), export=export)


_BORROWER_PAGE = Page[BorrowerRead]
_BORROWER_PAGE_JSON = TypeAdapter(_BORROWER_PAGE)


def _page_of_borrowers(r: Any) -> Page[BorrowerRead]:
    # One pydantic-core validation of the page and its rows (read by attribute), not one call per row.
    return _BORROWER_PAGE.model_validate({"items": r.items, "total": r.total, "page": r.page,
                                          "page_size": r.page_size}, from_attributes=True)


def _borrowers_xlsx(rows: list[Any], language: str) -> Response:
    return xlsx_response("borrowers", BORROWER_COLUMNS,
                         [BorrowerRead.model_validate(b).model_dump() for b in rows], language)


def _no_identifier_in_url(q: str | None) -> None:
    if service.borrowers.is_full_identifier(q):
        raise IdentifierInQuery(field="q")


@router.post("/borrowers/search", response_model=Page[BorrowerRead], operation_id="search_borrowers",
             summary="Search borrowers (terms in the body)")
def search_borrowers(body: BorrowerSearch, session: DB, kit: Kit,
                     principal: Principal = require("borrower.read")) -> Page[BorrowerRead]:
    """By name, full ID number (exact, through its blind index), ID tail or phone; masked results in scope."""
    return _page_of_borrowers(_search(session, kit, principal, body, export=False))


@router.post("/borrowers/search/export", operation_id="export_borrower_search", summary="Borrowers as .xlsx",
             response_class=Response, responses=XLSX_RESPONSES)
def export_borrower_search(body: BorrowerSearch, session: DB, kit: Kit, meta: Meta,
                           principal: Principal = require("borrower.export")) -> Response:
    """The borrowers matching the search (all pages, masked) as an Excel workbook."""
    return _borrowers_xlsx(_search(session, kit, principal, body, export=True), meta.language)


@router.get("/borrowers", response_model=Page[BorrowerRead], operation_id="list_borrowers",
            summary="List borrowers")
async def list_borrowers(request: Request, query: Annotated[BorrowerListQuery, Query()],
                         principal: Principal = require("borrower.read")) -> Response:
    """Borrowers in scope (a branch officer: their branch), masked."""
    _no_identifier_in_url(query.q)

    def build(session: Session, kit: identity.IdentityKit) -> bytes:
        r = service.borrowers.search_borrowers(session=session, kit=kit, principal=principal, q=query.q,
                                               customer_type=query.customer_type, channel=query.channel,
                                               branch_id=query.branch_id, unassigned=query.unassigned,
                                               locked=query.locked,
                                               page=PageRequest(query.page, query.page_size, query.sort))
        return _BORROWER_PAGE_JSON.dump_json(_page_of_borrowers(r))

    # Kept per scope and query (api.deps.kept_page): the page reads the borrowers' table alone --
    # except with `locked`, which asks the accounts' lock-out state, a matter of time too: built each time.
    key = None if query.locked else (scope.filters(principal), query)
    return await kept_page(request, "parties.borrowers", model=Borrower, key=key, build=build)


@router.get("/borrowers/export", operation_id="export_borrowers", summary="Borrowers as .xlsx",
            response_class=Response, responses=XLSX_RESPONSES)
def export_borrowers(session: DB, kit: Kit, meta: Meta, principal: Principal = require("borrower.export"),
                     q: str | None = None, customer_type: str | None = None, channel: str | None = None,
                     branch_id: IdFilter = None, sort: str | None = None) -> Response:
    """The filtered borrowers (masked) as an Excel workbook."""
    _no_identifier_in_url(q)
    rows = service.borrowers.search_borrowers(session=session, kit=kit, principal=principal, q=q,
                                              customer_type=customer_type, channel=channel, branch_id=branch_id,
                                              page=PageRequest(1, 20, sort), export=True)
    return _borrowers_xlsx(list(rows) if isinstance(rows, list) else [], meta.language)


@router.post("/borrowers", response_model=BorrowerRead, status_code=201, operation_id="register_walk_in_borrower",
             summary="Register a walk-in borrower at the branch (Idempotency-Key required)",
             responses={201: {"description": "Registered"}})
def register_walk_in_borrower(body: OfflineRegistration, session: DB, kit: Kit, meta: Meta,
                              principal: Principal = require("borrower.register"),
                              guard: IdempotencyGuard = idempotent("borrower.register")) -> Any:
    """The officer checked the ID card in person. The borrower signs in later with an SMS code."""
    phone = identity.accounts.parse_phone(body.phone)
    data = NewBorrower(real_name=body.real_name, id_number=body.id_number, phone=phone, **body.profile())
    borrower = service.borrowers.register_offline(session=session, kit=kit, principal=principal, data=data,
                                                  branch_id=body.branch_id, consent_signed=body.consent_signed)
    if body.notify_by_sms:
        service.borrowers.notify_offline_registration(session=session, kit=kit, borrower=borrower, phone=phone,
                                                      language=meta.language)
    return guard.respond(201, BorrowerRead.model_validate(borrower))


@router.get("/borrowers/{borrower_id}", response_model=BorrowerDetail, operation_id="get_borrower",
            summary="One borrower")
def get_borrower(borrower_id: Id, session: DB, kit: Kit, principal: Principal = require("borrower.read")
                 ) -> BorrowerDetail:
    """Profile (masked), account state, cards and changes."""
    return _detail(session, kit, service.borrowers.get_borrower(session=session, principal=principal,
                                                                borrower_id=borrower_id))


@router.patch("/borrowers/{borrower_id}", response_model=BorrowerDetail, operation_id="update_borrower",
              summary="Edit a borrower (staff)")
def update_borrower(borrower_id: Id, body: BorrowerUpdate, session: DB, kit: Kit,
                    principal: Principal = require("borrower.update")) -> BorrowerDetail:
    """Applied at once and audited with before/after values."""
    values = body.model_dump(exclude_unset=True)
    branch: int | bool | None = values.pop("branch_id") if "branch_id" in values else False
    b = service.borrowers.update_by_staff(session=session, kit=kit, principal=principal, borrower_id=borrower_id,
                                          values=values, branch_id=branch)
    return _detail(session, kit, b)


@router.post("/borrowers/{borrower_id}/reveal", response_model=SensitiveRead, operation_id="reveal_borrower",
             summary="See the full ID number, phone and cards (audited)")
def reveal_borrower(borrower_id: Id, session: DB, kit: Kit,
                    principal: Principal = require("borrower.view_sensitive")) -> SensitiveRead:
    """Each call writes an audit record of who saw what."""
    return SensitiveRead(**service.borrowers.reveal(session=session, kit=kit, principal=principal,
                                                    borrower_id=borrower_id))


@router.post("/borrowers/{borrower_id}/unlock", response_model=BorrowerDetail, operation_id="unlock_borrower",
             summary="Unlock a borrower's account")
def unlock_borrower(borrower_id: Id, session: DB, kit: Kit, principal: Principal = require("user.unlock")
                    ) -> BorrowerDetail:
    """Lifts a lockout after failed sign-ins (audited)."""
    b = service.borrowers.get_borrower(session=session, principal=principal, borrower_id=borrower_id)
    identity.accounts.unlock(session=session, kit=kit, actor=principal, user_id=b.user_id)
    return _detail(session, kit, b)


@router.post("/borrowers/{borrower_id}/bank-cards", response_model=BankCardRead, status_code=201,
             operation_id="add_borrower_bank_card", summary="Add a bank card to a borrower")
def add_borrower_bank_card(borrower_id: Id, body: BankCardCreate, session: DB, kit: Kit,
                           principal: Principal = require("borrower.update")) -> BankCardRead:
    """Encrypted at rest, shown masked (first 6 + last 4)."""
    b = service.borrowers.get_borrower(session=session, principal=principal, borrower_id=borrower_id)
    return BankCardRead.model_validate(service.borrowers.add_bank_card(
        session=session, kit=kit, principal=principal, borrower=b, bank_name=body.bank_name,
        card_number=body.card_number, primary=body.primary))


# --- profile changes ---------------------------------------------------------------------

@router.get("/profile-changes", response_model=Page[ChangeRead], operation_id="list_profile_changes",
            summary="Changes waiting for review")
def list_profile_changes(session: DB, principal: Principal = require("borrower.review_change"),
                         status: str | None = "pending", page: PageNo = 1, page_size: PageSize = 20,
                         sort: str | None = None) -> Page[ChangeRead]:
    """Credit-relevant profile changes in scope (pending by default)."""
    r = service.borrowers.list_changes(session=session, principal=principal, status=status or None,
                                       page=PageRequest(page, page_size, sort))
    names = service.borrowers.borrower_names(session=session, borrower_ids=[c.borrower_id for c in r.items])
    return Page(items=[_change_read(c, names.get(c.borrower_id)) for c in r.items], total=r.total, page=r.page,
                page_size=r.page_size)


CHANGE_COLUMNS = [Column("id", "编号", "No."), Column("borrower_name", "借款人", "Borrower"),
                  Column("fields", "变更内容", "Changes"), Column("status", "状态", "Status"),
                  Column("requested_at", "申请时间(UTC)", "Requested (UTC)"),
                  Column("reviewed_at", "审核时间(UTC)", "Reviewed (UTC)"),
                  Column("review_reason", "审核意见", "Review note")]


@router.get("/profile-changes/export", operation_id="export_profile_changes", summary="Profile changes as .xlsx",
            response_class=Response, responses=XLSX_RESPONSES)
def export_profile_changes(session: DB, meta: Meta, principal: Principal = require("borrower.review_change"),
                           status: str | None = "pending", sort: str | None = None) -> Response:
    """The profile changes with the status (all pages) as an Excel workbook."""
    changes = service.borrowers.export_changes(session=session, principal=principal, status=status or None,
                                               sort=sort)
    names = service.borrowers.borrower_names(session=session, borrower_ids=[c.borrower_id for c in changes])
    zh = meta.language.startswith("zh")
    labels = {k: (zh_label if zh else en_label) for k, (zh_label, en_label) in
              service.borrowers.FIELD_LABELS.items()}
    rows = [{**_change_read(c, names.get(c.borrower_id)).model_dump(),
             "fields": "; ".join(f"{labels.get(k, k)}: {v['old'] or '—'} → {v['new'] or '—'}"
                                 for k, v in c.changes.items())}
            for c in changes]
    return xlsx_response("profile-changes", CHANGE_COLUMNS, rows, meta.language)


@router.post("/profile-changes/{change_id}/approve", response_model=ChangeRead,
             operation_id="approve_profile_change", summary="Approve a change (it takes effect)")
def approve_profile_change(change_id: Id, body: ReviewDecision, session: DB, kit: Kit,
                           principal: Principal = require("borrower.review_change")) -> ChangeRead:
    """The new values are applied to the profile (audited)."""
    return _change_read(service.borrowers.review_change(session=session, kit=kit, principal=principal,
                                                        change_id=change_id, approve=True, reason=body.reason))


@router.post("/profile-changes/{change_id}/reject", response_model=ChangeRead,
             operation_id="reject_profile_change", summary="Reject a change with a reason")
def reject_profile_change(change_id: Id, body: ReviewDecision, session: DB, kit: Kit,
                          principal: Principal = require("borrower.review_change")) -> ChangeRead:
    """The profile keeps its values; the borrower sees the reason."""
    return _change_read(service.borrowers.review_change(session=session, kit=kit, principal=principal,
                                                        change_id=change_id, approve=False, reason=body.reason))


# --- the borrower's own profile ----------------------------------------------------------

@router.get("/me/profile", response_model=BorrowerDetail, operation_id="get_my_profile",
            summary="The borrower's own profile")
def get_my_profile(session: DB, kit: Kit, principal: Principal = require("profile.read_own")) -> BorrowerDetail:
    """Masked profile, cards, the pending change if any, recent decisions."""
    return _detail(session, kit, service.borrowers.own_profile(session=session, principal=principal))


@router.patch("/me/profile", response_model=BorrowerDetail, operation_id="update_my_profile",
              summary="Edit one's own profile")
def update_my_profile(body: ProfileFields, session: DB, kit: Kit,
                      principal: Principal = require("profile.update_own")) -> BorrowerDetail:
    """Contact fields apply now; income, assets, liabilities, occupation, employer, type wait for staff review."""
    b, _ = service.borrowers.update_own_profile(session=session, kit=kit, principal=principal,
                                                values=body.model_dump(exclude_unset=True))
    return _detail(session, kit, b)


@router.post("/me/profile-changes/{change_id}/withdraw", response_model=ChangeRead,
             operation_id="withdraw_my_profile_change", summary="Take back one's pending change")
def withdraw_my_profile_change(change_id: Id, session: DB, kit: Kit,
                               principal: Principal = require("profile.update_own")) -> ChangeRead:
    """The change is no longer reviewed; the profile keeps its values."""
    return _change_read(service.borrowers.withdraw_own_change(session=session, kit=kit, principal=principal,
                                                              change_id=change_id))


@router.post("/me/bank-cards", response_model=BankCardRead, status_code=201, operation_id="add_my_bank_card",
             summary="Add a bank card to one's profile")
def add_my_bank_card(body: BankCardCreate, session: DB, kit: Kit,
                     principal: Principal = require("profile.update_own")) -> BankCardRead:
    """Encrypted at rest, shown masked."""
    b = service.borrowers.own_profile(session=session, principal=principal)
    return BankCardRead.model_validate(service.borrowers.add_bank_card(
        session=session, kit=kit, principal=principal, borrower=b, bank_name=body.bank_name,
        card_number=body.card_number, primary=body.primary))

