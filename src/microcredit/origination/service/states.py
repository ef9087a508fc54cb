"""The status machine of an application (pure: statuses in, status out).

```
draft ──submit──▶ submitted ──(automated review, same request)──▶ approved | declined | referred | returned
returned ──resubmit──▶ submitted
draft | submitted | returned | referred | counter_offered | human_review ──withdraw──▶ withdrawn

(group lending, service.group_applications)
draft ──await_consent──▶ awaiting_consent ──group_submit (every group member consented)──▶ submitted
awaiting_consent ──withdraw (the member removed, the group application cancelled)──▶ withdrawn

(the review in levels, service.approvals)
referred | human_review ──approve at level L < N──▶ referred (level L+1)
referred | human_review ──approve at the last level──▶ approved
referred | human_review ──decline──▶ declined
referred ──request documents──▶ returned
referred ──counter-offer──▶ counter_offered ──accept──▶ referred (level L+1) | approved
                                            ──reject──▶ withdrawn
declined (automatically) ──request a human review (once)──▶ human_review

(servicing, before any money is paid out)
approved ──cancel (the contract voided, a loan opened but not paid out cancelled)──▶ withdrawn
```

`approved` and `declined` are decisions; `referred` and `human_review` wait for people at a level,
`counter_offered` for the borrower's answer and `returned` for the borrower's material. Editing is
allowed in `draft` and `returned` only (a group member's `awaiting_consent` application is neither
editable nor submitted by the member: the group's last consent submits it). A step from any other
status is refused with `application_wrong_state` (409).
"""

from __future__ import annotations

from microcredit.origination.errors import WrongState
from microcredit.risk.assessment import Decision

EDITABLE = frozenset({"draft", "returned"})
WITHDRAWABLE = frozenset({"draft", "submitted", "returned", "referred", "awaiting_consent", "counter_offered",
                          "human_review"})
REVIEWABLE = frozenset({"referred", "human_review"})
FINAL = frozenset({"approved", "declined", "withdrawn"})
DECIDED = {Decision.APPROVE: "approved", Decision.DECLINE: "declined", Decision.REFER: "referred",
           Decision.RETURN: "returned"}

# action: (the statuses it starts from, the status it leads to)
STEPS: dict[str, tuple[frozenset[str], str]] = {
    "submit": (frozenset({"draft"}), "submitted"),
    "group_submit": (frozenset({"awaiting_consent"}), "submitted"),
    "await_consent": (frozenset({"draft"}), "awaiting_consent"),
    "resubmit": (frozenset({"returned"}), "submitted"),
    "withdraw": (WITHDRAWABLE, "withdrawn"),
    "approve": (REVIEWABLE, "approved"),
    "decline": (REVIEWABLE, "declined"),
    "request_documents": (frozenset({"referred"}), "returned"),
    "counter_offer": (frozenset({"referred"}), "counter_offered"),
    "accept_counter": (frozenset({"counter_offered"}), "referred"),
    "reject_counter": (frozenset({"counter_offered"}), "withdrawn"),
    "request_human_review": (frozenset({"declined"}), "human_review"),
    "cancel": (frozenset({"approved"}), "withdrawn"),
}


def ensure_editable(status: str) -> None:
    """Refuse an edit outside draft and returned."""
    if status not in EDITABLE:
        raise WrongState(status=status, action="update")


def step(status: str, action: str) -> str:
    """The status `action` leads to from `status` (refused from a status it does not start from)."""
    sources, target = STEPS[action]
    if status not in sources:
        raise WrongState(status=status, action=action)
    return target


def decided(status: str, decision: Decision) -> str:
    """The status an automated decision leads to (only a submitted application is decided)."""
    if status != "submitted":
        raise WrongState(status=status, action="decide")
    return DECIDED[decision]
