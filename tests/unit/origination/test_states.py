"""The status machine: which step leads where, and what is refused from where."""

from __future__ import annotations

import pytest

from microcredit.origination.errors import WrongState
from microcredit.origination.models import STATUSES
from microcredit.origination.service import states
from microcredit.risk.assessment import Decision


@pytest.mark.parametrize(("status", "action", "target"), [
    ("draft", "submit", "submitted"), ("returned", "resubmit", "submitted"), ("draft", "withdraw", "withdrawn"),
    ("submitted", "withdraw", "withdrawn"), ("returned", "withdraw", "withdrawn"),
    ("referred", "withdraw", "withdrawn"), ("draft", "await_consent", "awaiting_consent"),
    ("awaiting_consent", "group_submit", "submitted"), ("awaiting_consent", "withdraw", "withdrawn"),
    ("counter_offered", "withdraw", "withdrawn"),
    ("human_review", "withdraw", "withdrawn"),
    # The review in levels (the service decides between the next level and approved).
    ("referred", "approve", "approved"), ("human_review", "approve", "approved"),
    ("referred", "decline", "declined"), ("human_review", "decline", "declined"),
    ("referred", "request_documents", "returned"), ("referred", "counter_offer", "counter_offered"),
    ("counter_offered", "accept_counter", "referred"), ("counter_offered", "reject_counter", "withdrawn"),
    ("declined", "request_human_review", "human_review"),
    # Servicing calls an approved application off before payout.
    ("approved", "cancel", "withdrawn"),
])
def test_allowed_steps(status, action, target):
    assert states.step(status, action) == target


def test_every_other_step_is_refused_with_the_status_named():
    allowed = {("draft", "submit"), ("returned", "resubmit"), ("draft", "await_consent"),
               ("awaiting_consent", "group_submit"), *((s, "withdraw") for s in states.WITHDRAWABLE),
               *((s, a) for s in states.REVIEWABLE for a in ("approve", "decline")),
               ("referred", "request_documents"), ("referred", "counter_offer"),
               ("counter_offered", "accept_counter"), ("counter_offered", "reject_counter"),
               ("declined", "request_human_review"), ("approved", "cancel")}
    for status in STATUSES:
        for action in states.STEPS:
            if (status, action) in allowed:
                continue
            with pytest.raises(WrongState) as refused:
                states.step(status, action)
            assert (refused.value.status, refused.value.code, refused.value.field) == (
                409, "application_wrong_state", "status")
            assert refused.value.params["status"] == status


def test_decisions_lead_from_submitted_only():
    assert {d: states.decided("submitted", d) for d in Decision} == {
        Decision.APPROVE: "approved", Decision.DECLINE: "declined", Decision.REFER: "referred",
        Decision.RETURN: "returned"}
    for status in set(STATUSES) - {"submitted"}:
        with pytest.raises(WrongState):
            states.decided(status, Decision.APPROVE)


def test_only_drafts_and_returned_applications_are_edited():
    for status in STATUSES:
        if status in ("draft", "returned"):
            states.ensure_editable(status)
        else:
            with pytest.raises(WrongState):
                states.ensure_editable(status)


def test_decided_applications_are_final():
    assert states.FINAL.isdisjoint(states.WITHDRAWABLE | states.EDITABLE)
