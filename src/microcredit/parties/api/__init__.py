"""Routes of parties, one module per seam: `organisation` (institutions, branches, the business
date), `staff`, `borrowers` (walk-in registration, search, profiles, cards, reviewed changes),
`groups` (joint-liability groups), `meetings` (a group's repayment meeting schedule)."""

from microcredit.parties.api import borrowers, groups, meetings, organisation, staff

ROUTERS = (organisation.router, staff.router, borrowers.router, groups.router, meetings.router)

__all__ = ["ROUTERS", "borrowers", "groups", "meetings", "organisation", "staff"]
