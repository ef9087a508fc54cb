"""Use cases of origination (services flush; the boundary commits).

`applications` (drafts, edits, submission through the automated review, withdrawal, lists and
views), `facts` (the plan checked against the product version; the facts risk reads), `states`
(the status machine), `approvals` (the review in levels), `numbering` (readable application
numbers) and `review` (the port to risk's automated review).
"""

from microcredit.origination.service import applications, approvals, facts, numbering, review, states

__all__ = ["applications", "approvals", "facts", "numbering", "review", "states"]
