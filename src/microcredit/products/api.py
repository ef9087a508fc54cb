"""Products routes: the public loan calculator, the holiday calendar, loan products and their versions,
the LPR table and the rate caps, and what borrowers are offered and quoted."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Response
from sqlalchemy.orm import Session

from microcredit.api.deps import DB, InstitutionId, Meta, WallClock, public, rate_limit, require
from microcredit.api.params import Id, Year
from microcredit.errors import NotFound
from microcredit.identity.principal import Principal
from microcredit.parties import service as parties
from microcredit.platform.ratelimit import Limit
from microcredit.platform.routing import UnitOfWorkRoute
from microcredit.products import service
from microcredit.products.product_schemas import (
    CapCheckRead,
    LprCreate,
    LprRead,
    LprUpdate,
    ProductCreate,
    ProductOfferRead,
    ProductQuoteRead,
    ProductQuoteRequest,
    ProductRead,
    ProductSummaryRead,
    ProductTerms,
    ProductVersionCreate,
    ProductVersionRead,
    RateApprovalCreate,
    RateCapCreate,
    RateCapRead,
)
from microcredit.products.schemas import (
    CalendarDayCreate,
    CalendarDayRead,
    CalendarDayUpdate,
    CalendarYearRead,
    CalendarYearSet,
    LoanDescription,
    QuoteRead,
)

router = APIRouter(tags=["products"], route_class=UnitOfWorkRoute)

_quote_limit = rate_limit("quote", lambda s: Limit(s.rate_limits.quote_per_ip_per_minute, 60))

_EXAMPLES = {
    "equal_installment": {
        "summary": "等额本息 10,000 at 12 % over 12 months",
        "value": {
            "amount": "10000.00",
            "annual_rate": "12",
            "repayment_method": "equal_installment",
            "term": 12,
            "start_date": "2025-01-15",
        },
    },
    "quarterly_interest_20th": {
        "summary": "按季付息到期还本, interest on 3/20, 6/20, 9/20, 12/20, Chinese holidays",
        "value": {
            "amount": "50000.00",
            "annual_rate": "8.5",
            "repayment_method": "interest_quarterly_principal_at_maturity",
            "interest_dates": "twentieth_of_quarter_end",
            "term": 12,
            "start_date": "2025-01-10",
            "business_day_rule": "following",
            "calendar": "cn",
        },
    },
    "upfront_fee": {
        "summary": "A service fee deducted at disbursement raises the APR",
        "value": {
            "amount": "10000.00",
            "annual_rate": "12",
            "repayment_method": "equal_installment",
            "term": 12,
            "start_date": "2025-01-15",
            "fees": [{"name": "服务费", "kind": "upfront_deducted", "amount": "500.00"}],
        },
    },
}


def quote_caps(session: DB, institution: InstitutionId) -> Callable[[date], service.caps.CapRule]:
    """The caps in force on a day for the kind of institution quoting."""

    def on(day: date) -> service.caps.CapRule:
        kind = parties.organisation.institution(session=session, institution_id=institution).kind
        return service.caps.caps_in_force(session=session, institution_kind=kind, on=day)

    return on


CapsOn = Annotated[Callable[[date], service.caps.CapRule], Depends(quote_caps)]


@router.post(
    "/quotes",
    response_model=QuoteRead,
    operation_id="create_quote",
    summary="Quote a loan: schedule, totals, fees and APR",
    dependencies=[public(), _quote_limit],
)
def create_quote(
    description: Annotated[LoanDescription, Body(openapi_examples=_EXAMPLES)],
    session: DB,
    institution: InstitutionId,
    meta: Meta,
    caps_on: CapsOn,
) -> QuoteRead:
    """Compute the repayment schedule and the APR disclosure of a loan description (no sign-in).

    With `calendar: "cn"` and a business-day rule, due dates move against the institution's holiday
    calendar (the `X-Institution` header names it); a year the calendar does not cover falls back to
    weekends only, and the quote carries a `calendar_not_covered` warning naming the years. An APR above
    the hard cap in force for the institution's kind on the start date is refused (`apr_above_cap`).
    """
    priced = service.quote(description=description, language=meta.language,
                           calendars=service.calendar.calendars_of(session=session, institution_id=institution))
    return service.caps.ensure_within_cap(priced, caps=caps_on(description.start_date))


# --- the holiday calendar -------------------------------------------------------------

def _year_read(view: service.calendar.YearView) -> CalendarYearRead:
    record = view.record
    return CalendarYearRead(
        year=view.year, covered=view.covered,
        coverage_source=record.source if record is not None else None,
        coverage_updated_at=record.updated_at if record is not None else None,
        days=[CalendarDayRead.model_validate(d) for d in view.days])


@router.get("/calendar/{year}", response_model=CalendarYearRead, operation_id="get_calendar_year",
            summary="One year of the institution's holiday calendar")
def get_calendar_year(year: Year, session: DB, principal: Principal = require("calendar.read")) -> CalendarYearRead:
    """The caller's institution's holidays and make-up working days of `year`, and whether the year is covered."""
    return _year_read(service.calendar.year_view(session=session, institution_id=principal.institution_id,
                                                 year=year))


@router.post("/calendar/days", response_model=CalendarDayRead, status_code=201, operation_id="add_calendar_day",
             summary="Add a holiday or a make-up working day")
def add_calendar_day(body: CalendarDayCreate, session: DB, clock: WallClock,
                     principal: Principal = require("calendar.manage")) -> CalendarDayRead:
    """A make-up working day (`working_day`) must be a Saturday or a Sunday; one entry per date (audited)."""
    return CalendarDayRead.model_validate(service.calendar.add_day(
        session=session, clock=clock, actor=principal.actor, institution_id=principal.institution_id,
        **body.model_dump()))


@router.patch("/calendar/days/{day_id}", response_model=CalendarDayRead, operation_id="update_calendar_day",
              summary="Change a calendar day")
def update_calendar_day(day_id: Id, body: CalendarDayUpdate, session: DB, clock: WallClock,
                        principal: Principal = require("calendar.manage")) -> CalendarDayRead:
    """Date, kind or names (audited); an edited seeded day becomes a manual one."""
    return CalendarDayRead.model_validate(service.calendar.update_day(
        session=session, clock=clock, actor=principal.actor, institution_id=principal.institution_id,
        day_id=day_id, **body.model_dump(exclude_unset=True)))


@router.delete("/calendar/days/{day_id}", status_code=204, operation_id="delete_calendar_day",
               summary="Remove a calendar day", response_class=Response)
def delete_calendar_day(day_id: Id, session: DB, clock: WallClock,
                        principal: Principal = require("calendar.manage")) -> Response:
    """The date becomes an ordinary day again (audited)."""
    service.calendar.delete_day(session=session, clock=clock, actor=principal.actor,
                                institution_id=principal.institution_id, day_id=day_id)
    return Response(status_code=204)


@router.put("/calendar/years/{year}", response_model=CalendarYearRead, operation_id="set_calendar_year",
            summary="Mark a year of the calendar covered or not")
def set_calendar_year(year: Year, body: CalendarYearSet, session: DB, clock: WallClock,
                      principal: Principal = require("calendar.manage")) -> CalendarYearRead:
    """Covered: the year's holidays are all entered, due dates follow them and quotes stop warning (audited)."""
    return _year_read(service.calendar.set_year(session=session, clock=clock, actor=principal.actor,
                                                institution_id=principal.institution_id, year=year,
                                                covered=body.covered))


# --- loan products and their versions (administrators; staff read) --------------------------------

ProductCode = Annotated[str, Path(min_length=2, max_length=32, pattern=r"^[A-Z0-9_-]+$",
                                  description="The product's code, unique in the institution")]
VersionNumber = Annotated[int, Path(ge=1, le=100_000, description="The version number (1, 2, …)")]


def _version_read(version: Any) -> ProductVersionRead:
    return ProductVersionRead(
        number=version.number, status=version.status, terms=service.catalogue.terms_of(version),
        created_at=version.created_at, created_by_user_id=version.created_by_user_id,
        updated_at=version.updated_at, updated_by_user_id=version.updated_by_user_id,
        published_at=version.published_at, published_by_user_id=version.published_by_user_id,
        retired_at=version.retired_at, cap_check=version.cap_check,
        rate_approved_by_user_id=version.rate_approved_by_user_id,
        rate_approval_reason=version.rate_approval_reason, rate_approved_at=version.rate_approved_at)


def _product_read(view: service.catalogue.ProductView) -> ProductRead:
    return ProductRead(code=view.product.code, created_at=view.product.created_at,
                       versions=[_version_read(v) for v in view.versions])


def _summary_read(view: service.catalogue.ProductView) -> ProductSummaryRead:
    latest = view.versions[-1]
    published = [v.number for v in view.versions if v.status == "published"]
    return ProductSummaryRead(code=view.product.code, name_zh=latest.name_zh, name_en=latest.name_en,
                              latest_version=latest.number, latest_status=latest.status,
                              published_version=published[-1] if published else None)


def _institution(session: Session, institution_id: int) -> tuple[str, date]:
    inst = parties.organisation.institution(session=session, institution_id=institution_id)
    return inst.kind, inst.business_date


@router.get("/products", response_model=list[ProductSummaryRead], operation_id="list_products",
            summary="The institution's loan products")
def list_products(session: DB, principal: Principal = require("product.read")) -> list[ProductSummaryRead]:
    """Every product of the caller's institution with its latest and published version numbers."""
    return [_summary_read(v) for v in service.catalogue.list_products(
        session=session, institution_id=principal.institution_id)]


@router.post("/products", response_model=ProductRead, status_code=201, operation_id="create_product",
             summary="Create a loan product (its first version is a draft)")
def create_product(body: ProductCreate, session: DB, clock: WallClock,
                   principal: Principal = require("product.manage")) -> ProductRead:
    """A new product with version 1 as a draft; every field is validated, errors name it (audited)."""
    return _product_read(service.catalogue.create_product(
        session=session, clock=clock, actor=principal.actor, institution_id=principal.institution_id,
        code=body.code, terms=body.terms))


@router.post("/products/cap-check", response_model=CapCheckRead, operation_id="check_product_terms",
             summary="The APR of a product's sample loans against the caps (nothing is saved)")
def check_product_terms(body: ProductVersionCreate, session: DB,
                        principal: Principal = require("product.manage")) -> CapCheckRead:
    """Price the corner loans of unsaved terms at their highest rate (the editor's live APR); saves nothing."""
    kind, business_date = _institution(session, principal.institution_id)
    check = service.caps.check_terms(
        session=session, terms=body.terms, on=service.catalogue.check_on(business_date=business_date,
                                                                          terms=body.terms),
        institution_kind=kind, calendars=service.calendar.calendars_of(session=session,
                                                                         institution_id=principal.institution_id))
    return CapCheckRead.model_validate(service.caps.describe(check))


@router.get("/products/{product_code}", response_model=ProductRead, operation_id="get_product",
            summary="A loan product with every version")
def get_product(product_code: ProductCode, session: DB, principal: Principal = require("product.read")) -> ProductRead:
    """The product's versions, oldest first, with their status, terms and publication record."""
    return _product_read(service.catalogue.get_product(session=session, institution_id=principal.institution_id,
                                                       code=product_code))


@router.post("/products/{product_code}/versions", response_model=ProductVersionRead, status_code=201,
             operation_id="create_product_version", summary="Start a new version of a product (a draft)")
def create_product_version(product_code: ProductCode, body: ProductVersionCreate, session: DB, clock: WallClock,
                           principal: Principal = require("product.manage")) -> ProductVersionRead:
    """A product has at most one draft (`draft_exists`); published versions never change (audited)."""
    return _version_read(service.catalogue.new_version(
        session=session, clock=clock, actor=principal.actor, institution_id=principal.institution_id,
        code=product_code, terms=body.terms))


@router.get("/products/{product_code}/versions/{version_number}", response_model=ProductVersionRead,
            operation_id="get_product_version", summary="One version of a product")
def get_product_version(product_code: ProductCode, version_number: VersionNumber, session: DB,
                        principal: Principal = require("product.read")) -> ProductVersionRead:
    """A version's status, terms and publication record."""
    view = service.catalogue.get_product(session=session, institution_id=principal.institution_id, code=product_code)
    for version in view.versions:
        if version.number == version_number:
            return _version_read(version)
    raise NotFound(field="version_number")


@router.put("/products/{product_code}/versions/{version_number}", response_model=ProductVersionRead,
            operation_id="update_product_version", summary="Replace a draft's terms")
def update_product_version(product_code: ProductCode, version_number: VersionNumber, body: ProductVersionCreate,
                           session: DB, clock: WallClock,
                           principal: Principal = require("product.manage")) -> ProductVersionRead:
    """Only a draft changes (`version_not_draft`); an edit clears a recorded rate approval (audited)."""
    return _version_read(service.catalogue.update_draft(
        session=session, clock=clock, actor=principal.actor, institution_id=principal.institution_id,
        code=product_code, number=version_number, terms=body.terms))


@router.post("/products/{product_code}/versions/{version_number}/rate-approval", response_model=ProductVersionRead,
             operation_id="approve_product_rate", summary="Approve a draft's rate above the LPR multiple")
def approve_product_rate(product_code: ProductCode, version_number: VersionNumber, body: RateApprovalCreate,
                         session: DB, clock: WallClock,
                         principal: Principal = require("product.manage")) -> ProductVersionRead:
    """A second administrator (not the draft's last editor: `self_approval`) approves with a reason (audited)."""
    kind, business_date = _institution(session, principal.institution_id)
    return _version_read(service.catalogue.approve_rate(
        session=session, clock=clock, actor=principal.actor, institution_id=principal.institution_id,
        institution_kind=kind, business_date=business_date, code=product_code, number=version_number,
        reason=body.reason, calendars=service.calendar.calendars_of(session=session,
                                                                      institution_id=principal.institution_id)))


@router.post("/products/{product_code}/versions/{version_number}/publish", response_model=ProductVersionRead,
             operation_id="publish_product_version", summary="Publish a draft after the cap check")
def publish_product_version(product_code: ProductCode, version_number: VersionNumber, session: DB, clock: WallClock,
                            principal: Principal = require("product.manage")) -> ProductVersionRead:
    """Refused above the hard cap (`apr_above_cap`) and, without a second administrator's approval, above the
    LPR multiple (`apr_needs_approval`), each naming the rate field; supersedes the published version (audited)."""
    kind, business_date = _institution(session, principal.institution_id)
    return _version_read(service.catalogue.publish(
        session=session, clock=clock, actor=principal.actor, institution_id=principal.institution_id,
        institution_kind=kind, business_date=business_date, code=product_code, number=version_number,
        calendars=service.calendar.calendars_of(session=session, institution_id=principal.institution_id)))


@router.post("/products/{product_code}/versions/{version_number}/retire", response_model=ProductVersionRead,
             operation_id="retire_product_version", summary="Withdraw the published version from offer")
def retire_product_version(product_code: ProductCode, version_number: VersionNumber, session: DB, clock: WallClock,
                           principal: Principal = require("product.manage")) -> ProductVersionRead:
    """Borrowers no longer see it; loans made under it keep it (audited)."""
    return _version_read(service.catalogue.retire(
        session=session, clock=clock, actor=principal.actor, institution_id=principal.institution_id,
        code=product_code, number=version_number))


# --- what borrowers are offered (public: the PBOC rules want the APR shown in marketing) --------------

def _offer_read(product: Any, version: Any, cap: Decimal) -> ProductOfferRead:
    terms: ProductTerms = service.catalogue.terms_of(version)
    return ProductOfferRead(
        code=product.code, version=version.number, name_zh=terms.name_zh, name_en=terms.name_en,
        currency=terms.currency, amount_min=terms.amount_min, amount_max=terms.amount_max,
        period_unit=terms.period_unit, term_min=terms.term_min, term_max=terms.term_max,
        repayment_methods=list(terms.repayment_methods), rate_min_percent=f"{terms.rate.lowest.normalize():f}",
        rate_max_percent=f"{terms.rate.highest[1].normalize():f}",
        apr_max_percent=((version.cap_check or {}).get("worst") or {}).get("apr_percent"), fees=terms.fees,
        penalty=terms.penalty, default_charges_cap_percent=f"{cap.normalize():f}",
        group_lending=terms.group_lending, required_documents=list(terms.required_documents))


@router.get("/product-offers", response_model=list[ProductOfferRead], operation_id="list_product_offers",
            summary="The products on offer (public)", dependencies=[public()])
def list_product_offers(session: DB, institution: InstitutionId) -> list[ProductOfferRead]:
    """The institution's published products active on its business date, with amount, term and rate ranges."""
    kind, business_date = _institution(session, institution)
    cap = service.caps.caps_in_force(session=session, institution_kind=kind, on=business_date).hard_cap_percent
    return [_offer_read(p, v, cap) for p, v in service.catalogue.offers(session=session, institution_id=institution,
                                                                        on=business_date)]


@router.get("/product-offers/{product_code}", response_model=ProductOfferRead, operation_id="get_product_offer",
            summary="One product on offer (public)", dependencies=[public()])
def get_product_offer(product_code: ProductCode, session: DB, institution: InstitutionId) -> ProductOfferRead:
    """The product's version on offer today (404 when nothing is)."""
    kind, business_date = _institution(session, institution)
    cap = service.caps.caps_in_force(session=session, institution_kind=kind, on=business_date).hard_cap_percent
    return _offer_read(*service.catalogue.offer(session=session, institution_id=institution, code=product_code,
                                                on=business_date), cap)


@router.post("/products/{product_code}/quote", response_model=ProductQuoteRead, operation_id="quote_product",
             summary="Quote a loan within a product on offer (public)", dependencies=[public(), _quote_limit])
def quote_product(product_code: ProductCode, body: ProductQuoteRequest, session: DB, institution: InstitutionId,
                  meta: Meta) -> ProductQuoteRead:
    """Schedule, total cost and APR for an amount, term and method within the product's ranges
    (`outside_product_range` names the field); by-grade products price at `risk_grade`, else the highest rate."""
    kind, business_date = _institution(session, institution)
    return service.catalogue.quote_product(
        session=session, institution_id=institution, institution_kind=kind, business_date=business_date,
        code=product_code, request=body, language=meta.language,
        calendars=service.calendar.calendars_of(session=session, institution_id=institution))


# --- rate limits: the LPR table and the caps per kind of institution ----------------------------------

def _lpr_read(row: Any) -> LprRead:
    return LprRead(id=row.id, effective_date=row.effective_date, one_year_percent=f"{row.one_year_percent:f}",
                   source=row.source, origin=row.origin, updated_at=row.updated_at)


@router.get("/lpr-rates", response_model=list[LprRead], operation_id="list_lpr_rates",
            summary="The one-year LPR table, newest first")
def list_lpr_rates(session: DB, principal: Principal = require("product.read")) -> list[LprRead]:
    """Every fixing with the day it takes effect and its source."""
    return [_lpr_read(r) for r in service.caps.lpr_table(session=session)]


@router.post("/lpr-rates", response_model=LprRead, status_code=201, operation_id="add_lpr_rate",
             summary="Add an LPR fixing")
def add_lpr_rate(body: LprCreate, session: DB, clock: WallClock,
                 principal: Principal = require("product.manage")) -> LprRead:
    """One fixing per effective date (`lpr_date_taken`); audited."""
    return _lpr_read(service.caps.add_lpr(session=session, clock=clock, actor=principal.actor,
                                          effective_date=body.effective_date,
                                          one_year_percent=body.one_year_percent, source=body.source))


@router.patch("/lpr-rates/{lpr_id}", response_model=LprRead, operation_id="update_lpr_rate",
              summary="Correct an LPR fixing")
def update_lpr_rate(lpr_id: Id, body: LprUpdate, session: DB, clock: WallClock,
                    principal: Principal = require("product.manage")) -> LprRead:
    """Rate or source (audited with before and after)."""
    return _lpr_read(service.caps.update_lpr(session=session, clock=clock, actor=principal.actor, lpr_id=lpr_id,
                                             one_year_percent=body.one_year_percent, source=body.source))


@router.delete("/lpr-rates/{lpr_id}", status_code=204, operation_id="delete_lpr_rate",
               summary="Remove an LPR fixing entered by mistake", response_class=Response)
def delete_lpr_rate(lpr_id: Id, session: DB, clock: WallClock,
                    principal: Principal = require("product.manage")) -> Response:
    """The fixing before it is in force again from its date (audited)."""
    service.caps.delete_lpr(session=session, clock=clock, actor=principal.actor, lpr_id=lpr_id)
    return Response(status_code=204)


def _cap_read(row: Any) -> RateCapRead:
    return RateCapRead(id=row.id, institution_kind=row.institution_kind, effective_from=row.effective_from,
                       hard_cap_percent=f"{row.hard_cap_percent:f}",
                       approval_lpr_multiple=f"{row.approval_lpr_multiple:f}", origin=row.origin)


@router.get("/rate-caps", response_model=list[RateCapRead], operation_id="list_rate_caps",
            summary="The rate caps per kind of institution, by date")
def list_rate_caps(session: DB, principal: Principal = require("product.read")) -> list[RateCapRead]:
    """The hard APR cap and the LPR multiple needing approval, per kind of institution, from each date on."""
    return [_cap_read(r) for r in service.caps.rate_cap_table(session=session)]


@router.post("/rate-caps", response_model=RateCapRead, status_code=201, operation_id="add_rate_cap",
             summary="Set new rate caps for a kind of institution from a date on")
def add_rate_cap(body: RateCapCreate, session: DB, clock: WallClock,
                 principal: Principal = require("product.manage")) -> RateCapRead:
    """One row per kind and date (`rate_cap_date_taken`); audited."""
    return _cap_read(service.caps.add_rate_cap(session=session, clock=clock, actor=principal.actor,
                                               **body.model_dump()))
