"""Products routes: the public loan calculator, and the institution's holiday calendar."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Response

from microcredit.api.deps import DB, InstitutionId, Meta, WallClock, public, rate_limit, require
from microcredit.api.params import Id, Year
from microcredit.identity.principal import Principal
from microcredit.platform.ratelimit import Limit
from microcredit.platform.routing import UnitOfWorkRoute
from microcredit.products import service
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
) -> QuoteRead:
    """Compute the repayment schedule and the APR disclosure of a loan description (no sign-in).

    With `calendar: "cn"` and a business-day rule, due dates move against the institution's holiday
    calendar (the `X-Institution` header names it); a year the calendar does not cover falls back to
    weekends only, and the quote carries a `calendar_not_covered` warning naming the years.
    """
    return service.quote(description=description, language=meta.language,
                         calendars=service.calendar.calendars_of(session=session, institution_id=institution))


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
