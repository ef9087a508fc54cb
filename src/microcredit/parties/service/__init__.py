"""Use cases of the parties domain (services flush; the boundary commits).

Split along the domain's seams: `organisation` (institutions, branches, the
business date), `staff`, `borrowers` (registration, profiles, reviews), `groups` (joint-liability
groups).
"""

from microcredit.identity import service as identity
from microcredit.parties.models import Borrower, Branch, Institution, StaffMember
from microcredit.parties.service import assignment, borrowers, groups, meetings, organisation, staff

# What the signed-in user's own page (`GET /auth/me`, kept with the token by identity's principal cache)
# shows of this domain's rows: the borrower's or staff member's id, the branch's and the institution's names,
# time zone and business date. A change to one of these rows forgets the entries it concerns, so that the
# page's next read in this process shows it (identity.service.principals).
identity.principals.concern(Borrower, user_of=lambda b: b.user_id)
identity.principals.concern(StaffMember, user_of=lambda s: s.user_id)
identity.principals.concern(Branch, user_of=None)
identity.principals.concern(Institution, user_of=None)

__all__ = ["assignment", "borrowers", "groups", "meetings", "organisation", "staff"]
