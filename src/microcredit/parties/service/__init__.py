"""Use cases of the parties domain (services flush; the boundary commits).

Split along the domain's seams: `organisation` (institutions, branches, the
business date), `staff`, `borrowers` (registration, profiles, reviews), `groups` (joint-liability
groups).
"""

from microcredit.parties.service import assignment, borrowers, groups, organisation, staff

__all__ = ["assignment", "borrowers", "groups", "organisation", "staff"]
