"""Use cases of origination (services flush; the boundary commits).

`applications` (drafts, edits, submission through the automated review, withdrawal, lists and
views), `facts` (the plan checked against the product version; the facts risk reads), `states`
(the status machine), `approvals` (the review in levels), `numbering` (readable application
numbers), `review` (the port to risk's automated review), `group_applications` (小组联保: a group's
application, each member's consent), `guarantors` (people
who guarantee an application and its loan), `handover` (an application as decided, for servicing to open
its loan from) and `samples` (the figures of submitted applications risk's anomaly model learns from).
"""

from microcredit.origination.service import (
    applications,
    approvals,
    facts,
    group_applications,
    guarantors,
    handover,
    numbering,
    review,
    samples,
    states,
)

__all__ = ["applications", "approvals", "facts", "group_applications", "guarantors", "handover", "numbering", "review",
           "samples", "states"]
