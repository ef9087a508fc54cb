"""Routes of parties, one module per seam: `organisation` (institutions, branches, the business
date), `staff`, `borrowers` (walk-in registration, search, profiles, cards, reviewed changes)."""

from microcredit.parties.api import borrowers, organisation, staff

ROUTERS = (organisation.router, staff.router, borrowers.router)

__all__ = ["ROUTERS", "borrowers", "organisation", "staff"]
