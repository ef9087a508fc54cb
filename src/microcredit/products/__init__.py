"""Loan products and their rules; for now, quotes and the institution's holiday calendar.

`service.quote(description=..., calendars=...)` turns a `schemas.LoanDescription`
into a `schemas.QuoteRead` by way of the lending core; `service.calendar` keeps
each institution's public holidays and make-up working days (调休) as data its
administrators maintain (`models.CalendarDay`, `models.CalendarYear`), seeded
from the chinesecalendar package (`calendars`), and builds the core's
`HolidayCalendar` value from it; `api` exposes `POST /api/v1/quotes` and
`/api/v1/calendar/...`; `cli` prints a quote as a table.
"""
