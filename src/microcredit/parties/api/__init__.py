"""Routes of parties, one module per seam: `organisation` (institutions, branches, the business
date), `staff`, `borrowers` (walk-in registration, search, profiles, cards, reviewed changes),
`groups` (joint-liability groups)."""

from microcredit.parties.api import borrowers, groups, organisation, staff

ROUTERS = (organisation.router, staff.router, borrowers.router, groups.router)

__all__ = ["ROUTERS", "borrowers", "groups", "organisation", "staff"]
