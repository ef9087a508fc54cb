"""Use cases of the products domain (services flush; the boundary commits).

Split along the domain's seams: `quotes` (a loan description to a schedule, totals, fees, APR
and warnings), `replay` (a loan's terms and events folded into its state on a day) and
`calendar` (the institution's holidays and make-up working days, seeded from the
chinesecalendar package and maintained by administrators; the quotes' holiday calendar),
`catalogue` (loan products and their versions: drafts, publication, retirement, offers and
product quotes) and `caps` (the LPR table, the rate caps per kind of institution, and the
check of a product's sample APRs against them), `payments` (a loan's largest monthly payment under a
version, what the decision's debt-service ratio counts).
"""

from microcredit.products.service import calendar, caps, catalogue, payments, quotes, replay
from microcredit.products.service.quotes import CalendarProvider, loan_terms, offline_calendars, quote

__all__ = ["CalendarProvider", "calendar", "caps", "catalogue", "loan_terms", "offline_calendars", "payments", "quote",
           "quotes", "replay"]
