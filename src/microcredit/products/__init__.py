"""Loan products and their rules; for now, quoting a loan description.

`service.quote(description=...)` turns a `schemas.LoanDescription` into a
`schemas.QuoteRead` by way of the lending core; `calendars` adapts the
`chinesecalendar` package to the core's `HolidayCalendar`; `api` exposes
`POST /api/v1/quotes`; `cli` prints a quote as a table.
"""
