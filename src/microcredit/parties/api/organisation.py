"""Routes of parties: institutions, branches and the business date."""

from __future__ import annotations

from fastapi import APIRouter, Response

from microcredit.api.deps import (
    DB,
    Config,
    Meta,
    WallClock,
    require,
)
from microcredit.api.exports import XLSX_RESPONSES, xlsx_response
from microcredit.api.params import Id, IdFilter, PageNo, PageSize
from microcredit.errors import PermissionDenied
from microcredit.identity.principal import Principal
from microcredit.parties import service
from microcredit.parties.schemas import (
    BranchCreate,
    BranchRead,
    BranchUpdate,
    BusinessDateSet,
    InstitutionCreate,
    InstitutionRead,
    InstitutionUpdate,
)
from microcredit.platform.export import Column
from microcredit.platform.paging import PageRequest
from microcredit.platform.routing import UnitOfWorkRoute
from microcredit.platform.schema import Page
from microcredit.products import service as products
from microcredit.risk import service as risk

router = APIRouter(tags=["parties"], route_class=UnitOfWorkRoute)


# --- institutions and the business date ------------------------------------------

@router.get("/institutions", response_model=Page[InstitutionRead], operation_id="list_institutions",
            summary="Institutions in scope")
def list_institutions(session: DB, principal: Principal = require("institution.read"), page: PageNo = 1,
                      page_size: PageSize = 20, sort: str | None = None) -> Page[InstitutionRead]:
    """The caller's institution, or all of them for platform administrators."""
    r = service.organisation.list_institutions(session=session, principal=principal,
                                               page=PageRequest(page, page_size, sort))
    return Page(items=[InstitutionRead.model_validate(i) for i in r.items], total=r.total, page=r.page,
                page_size=r.page_size)


INSTITUTION_COLUMNS = [Column("code", "编号", "Code"), Column("name", "名称", "Name"),
                       Column("name_en", "英文名称", "English name"), Column("kind", "类型", "Kind"),
                       Column("business_date", "营业日", "Business date"), Column("status", "状态", "Status"),
                       Column("contact_phone", "联系电话", "Phone"), Column("address", "地址", "Address")]


@router.get("/institutions/export", operation_id="export_institutions", summary="Institutions as .xlsx",
            response_class=Response, responses=XLSX_RESPONSES)
def export_institutions(session: DB, meta: Meta, principal: Principal = require("institution.read"),
                        sort: str | None = None) -> Response:
    """The institutions in scope as an Excel workbook."""
    rows = [InstitutionRead.model_validate(i).model_dump()
            for i in service.organisation.export_institutions(session=session, principal=principal, sort=sort)]
    return xlsx_response("institutions", INSTITUTION_COLUMNS, rows, meta.language)


@router.post("/institutions", response_model=InstitutionRead, status_code=201, operation_id="create_institution",
             summary="Create an institution (platform administrators)")
def create_institution(body: InstitutionCreate, session: DB, clock: WallClock,
                       principal: Principal = require("institution.manage")) -> InstitutionRead:
    """A new institution, seeded with the default roles, the holiday calendar of the years the package covers
    and the default risk rules."""
    if not principal.sees_all_institutions:
        raise PermissionDenied("only the platform's administrators create institutions")
    inst = service.organisation.create_institution(session=session, clock=clock, actor=principal.actor,
                                                   **body.model_dump())
    # Parties and products are independent siblings: the entry point that opens an institution
    # gives it its calendar (demo.seed does the same), in the same transaction.
    products.calendar.seed(session=session, clock=clock, actor=principal.actor, institution_id=inst.id)
    # Risk is a sibling as well: its default rule set, version 1 in force.
    risk.rulesets.seed_defaults(session=session, clock=clock, institution_id=inst.id)
    return InstitutionRead.model_validate(inst)


@router.get("/institutions/{institution_id}", response_model=InstitutionRead, operation_id="get_institution",
            summary="One institution")
def get_institution(institution_id: Id, session: DB,
                    principal: Principal = require("institution.read")) -> InstitutionRead:
    """An institution in scope."""
    return InstitutionRead.model_validate(service.organisation.get_institution(
        session=session, principal=principal, institution_id=institution_id))


@router.patch("/institutions/{institution_id}", response_model=InstitutionRead,
              operation_id="update_institution", summary="Change an institution")
def update_institution(institution_id: Id, body: InstitutionUpdate, session: DB, clock: WallClock,
                       principal: Principal = require("institution.manage")) -> InstitutionRead:
    """Name, contact, address, status (audited)."""
    return InstitutionRead.model_validate(service.organisation.update_institution(
        session=session, clock=clock, principal=principal, institution_id=institution_id,
        **body.model_dump(exclude_unset=True)))


@router.put("/institutions/{institution_id}/business-date", response_model=InstitutionRead,
            operation_id="set_business_date", summary="Set the business date (demo and test only)")
def set_business_date(institution_id: Id, body: BusinessDateSet, session: DB, clock: WallClock, settings: Config,
                      principal: Principal = require("business_date.set")) -> InstitutionRead:
    """Refused in production, where only close of business advances the date."""
    return InstitutionRead.model_validate(service.organisation.set_business_date(
        session=session, clock=clock, principal=principal, institution_id=institution_id,
        new_date=body.business_date, override_allowed=settings.allows_business_date_override))


# --- branches ----------------------------------------------------------------------

BRANCH_COLUMNS = [Column("code", "编号", "Code"), Column("name", "名称", "Name"),
                  Column("region_code", "地区码", "Region"), Column("address", "地址", "Address"),
                  Column("status", "状态", "Status"), Column("created_at", "创建时间(UTC)", "Created (UTC)")]


@router.get("/branches", response_model=Page[BranchRead], operation_id="list_branches", summary="Branches")
def list_branches(session: DB, principal: Principal = require("branch.read"), q: str | None = None,
                  institution_id: IdFilter = None, page: PageNo = 1, page_size: PageSize = 20,
                  sort: str | None = None) -> Page[BranchRead]:
    """Branches in scope, searched by name or code."""
    r = service.organisation.list_branches(session=session, principal=principal, q=q,
                                           institution_id=institution_id, page=PageRequest(page, page_size, sort))
    return Page(items=[BranchRead.model_validate(b) for b in r.items], total=r.total, page=r.page,
                page_size=r.page_size)


@router.get("/branches/export", operation_id="export_branches", summary="Branches as .xlsx",
            response_class=Response, responses=XLSX_RESPONSES)
def export_branches(session: DB, meta: Meta, principal: Principal = require("branch.read"),
                    q: str | None = None, sort: str | None = None) -> Response:
    """The filtered branches as an Excel workbook."""
    branches = service.organisation.export_branches(session=session, principal=principal, q=q, sort=sort)
    rows = [BranchRead.model_validate(b).model_dump() for b in branches]
    return xlsx_response("branches", BRANCH_COLUMNS, rows, meta.language)


@router.post("/branches", response_model=BranchRead, status_code=201, operation_id="create_branch",
             summary="Create a branch")
def create_branch(body: BranchCreate, session: DB, clock: WallClock,
                  principal: Principal = require("branch.manage")) -> BranchRead:
    """A new branch of the caller's institution."""
    return BranchRead.model_validate(service.organisation.create_branch(
        session=session, clock=clock, principal=principal, **body.model_dump()))


@router.get("/branches/{branch_id}", response_model=BranchRead, operation_id="get_branch", summary="One branch")
def get_branch(branch_id: Id, session: DB, principal: Principal = require("branch.read")) -> BranchRead:
    """A branch in scope."""
    return BranchRead.model_validate(service.organisation.get_branch(session=session, principal=principal,
                                                                     branch_id=branch_id))


@router.patch("/branches/{branch_id}", response_model=BranchRead, operation_id="update_branch",
              summary="Change a branch")
def update_branch(branch_id: Id, body: BranchUpdate, session: DB, clock: WallClock,
                  principal: Principal = require("branch.manage")) -> BranchRead:
    """Name, region, address, status (audited)."""
    return BranchRead.model_validate(service.organisation.update_branch(
        session=session, clock=clock, principal=principal, branch_id=branch_id,
        **body.model_dump(exclude_unset=True)))


