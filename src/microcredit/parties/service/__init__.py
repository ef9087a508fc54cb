"""Use cases of the parties domain (services flush; the boundary commits).

Split along the domain's seams: `organisation` (institutions, branches, the
business date), `staff`, `borrowers` (registration, profiles, reviews).
"""

from microcredit.parties.service import assignment, borrowers, organisation, staff

__all__ = ["assignment", "borrowers", "organisation", "staff"]
