"""The staff home's to-dos: counts of what waits for the caller, within their permissions and scope."""

from __future__ import annotations

from datetime import timedelta

from microcredit.identity.models import LoginThrottle
from microcredit.notifications import service as notifications
from microcredit.notifications.models import OutboxStatus
from microcredit.parties import service as parties
from microcredit.parties.models import ProfileChange
from microcredit.platform.actor import Actor
from tests.factories import make_borrower, make_branch, make_institution, make_staff
from tests.integration.helpers import shared_client, signed_in


def todos(client, headers) -> dict[str, int]:
    r = client.get("/api/v1/me/todos", headers=headers)
    assert r.status_code == 200, r.text
    return {t["code"]: t["count"] for t in r.json()["items"]}


def lock(session, runtime, user) -> None:
    session.add(LoginThrottle(institution_id=user.institution_id, kind=user.kind, identifier_index=user.phone_index,
                              failures=5, locked_until=runtime.clock.now() + timedelta(minutes=5)))
    session.flush()


def pending_change(session, runtime, handle) -> None:
    session.add(ProfileChange(institution_id=handle.borrower.institution_id, borrower_id=handle.borrower.id,
                              branch_id=handle.borrower.branch_id, changes={"occupation": {"old": None, "new": "x"}},
                              status="pending", requested_by_user_id=handle.user.id,
                              requested_at=runtime.clock.now()))
    session.flush()


def test_each_person_sees_the_counts_they_can_act_on(backend, session, runtime):
    inst = make_institution(session, runtime)
    other = make_institution(session, runtime)
    east, west = make_branch(session, runtime, inst), make_branch(session, runtime, inst)
    in_east = make_borrower(session, runtime, inst, branch=east)
    in_west = make_borrower(session, runtime, inst, branch=west)
    nowhere = make_borrower(session, runtime, inst)
    abroad = make_borrower(session, runtime, other)
    for handle in (in_east, in_west, abroad):
        pending_change(session, runtime, handle)
    lock(session, runtime, in_west.user)
    for institution in (inst, other):  # one message that will not be sent unless someone acts, in each
        message = notifications.enqueue_sms(session=session, cipher=runtime.keys.cipher, clock=runtime.clock,
                                            institution_id=institution.id, phone=in_east.phone,
                                            template="account_locked", params={"signature": "示范"}, language="zh-CN")
        message.status = OutboxStatus.DEAD.value
    lock(session, runtime, abroad.user)
    parties.organisation.update_institution_as(session=session, clock=runtime.clock, actor=Actor.system(inst.id),
                                               institution_id=inst.id, default_branch_id=east.id)
    manager = make_staff(session, runtime, inst, roles=("branch_manager",))
    admin = make_staff(session, runtime, inst, roles=("administrator",))
    officer = make_staff(session, runtime, inst, roles=("loan_officer",), branch=east)
    collector = make_staff(session, runtime, inst, roles=("collector",), branch=east)
    h = {name: signed_in(session, runtime, who.user) for name, who in
         (("manager", manager), ("officer", officer), ("collector", collector), ("borrower", nowhere),
          ("admin", admin))}
    session.commit()
    for client in shared_client(runtime, backend):
        assert todos(client, h["manager"]) == {"profile_changes_pending": 2, "borrowers_unassigned": 1,
                                               "staff_locked": 0, "borrowers_locked": 1, "loan_changes_waiting": 0,
                                               "collection_promises_due": 0, "collection_cases_unassigned": 0,
                                               "risk_warnings_open": 0, "risk_warning_actions_waiting": 0}
        # a branch officer: only their branch's changes; placing borrowers needs institution scope
        assert todos(client, h["officer"]) == {"profile_changes_pending": 1, "contracts_waiting_signature": 0,
                                               "group_applications_member_refused": 0, "risk_warnings_open": 0,
                                               "risk_warning_actions_waiting": 0}
        assert todos(client, h["collector"]) == {"collection_promises_due": 0}
        assert todos(client, h["borrower"]) == {}
        # the administrator also sees the messages that will not be sent unless someone acts, and the contract
        # templates waiting for a second person's approval (none here)
        assert todos(client, h["admin"]) == {"profile_changes_pending": 2, "borrowers_unassigned": 1,
                                             "staff_locked": 0, "borrowers_locked": 1, "outbox_dead": 1,
                                             "contract_templates_pending_approval": 0}
        runtime.clock.advance(timedelta(minutes=6))  # the lock ends by itself
        assert todos(client, h["manager"])["borrowers_locked"] == 0
