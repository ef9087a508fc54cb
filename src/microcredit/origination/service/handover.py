"""What origination hands to servicing: an application as decided (servicing opens the loan), and its
cancellation before any money was paid out."""

from __future__ import annotations

from sqlalchemy.orm import Session

from microcredit.audit import service as audit
from microcredit.clock import Clock
from microcredit.errors import NotFound
from microcredit.origination import repository as repo
from microcredit.origination.models import Application, ApplicationEvent
from microcredit.origination.service import states
from microcredit.parties import service as parties
from microcredit.parties.service.meetings import MeetingSync
from microcredit.platform.actor import Actor
from microcredit.products.schemas import LoanDescription


def application_for_loan(*, session: Session, institution_id: int, application_id: int) -> Application:
    """An application of the institution, for servicing to open its loan from (its status is servicing's to check)."""
    application = repo.get(session, application_id)
    if application is None or application.institution_id != institution_id:
        raise NotFound(field="application_id")
    return application


def meeting_sync(*, session: Session, application: Application, description: LoanDescription) -> MeetingSync | None:
    """How the loan of a group member's application (小组联保) meets the group's repayment meetings, the loan
    described by `description` (None: not a group member's application). The contract and the loan both
    date the installments from it."""
    if application.group_application_id is None:
        return None
    group_application = repo.get_group_application(session, application.group_application_id)
    if group_application is None:
        return None
    return parties.meetings.sync_for(session=session, group_id=group_application.group_id,
                                     start=description.start_date, unit=description.period_unit,
                                     every=description.repayment_every, method=description.repayment_method)


def synced_description(*, session: Session, application: Application,
                       description: LoanDescription) -> tuple[LoanDescription, MeetingSync | None]:
    """`description` with its first due date on the group's meeting when the loan is synced to it."""
    sync = meeting_sync(session=session, application=application, description=description)
    if sync is None or not sync.synced:
        return description, sync
    # Due on the meeting day itself, whatever the weekday or holiday: the group meets on the day it chose.
    return description.model_copy(update={"first_due_date": sync.first_due_date, "business_day_rule": "none",
                                          "calendar": "none"}), sync


def group_applications(*, session: Session, group_id: int) -> list[Application]:
    """The members' applications made for a group (小组联保), oldest first: servicing links their loans."""
    return repo.group_loan_applications(session, group_id)


def cancel_approved(*, session: Session, clock: Clock, actor: Actor, institution_id: int, application_id: int,
                    note: str) -> Application:
    """An approved application withdrawn before payout (servicing checked that nothing was paid out):
    its history says who cancelled it and why (`cancelled_before_payout`); audited."""
    application = repo.get(session, application_id, for_update=True)
    if application is None or application.institution_id != institution_id:
        raise NotFound(field="application_id")
    before = application.status
    application.status = states.step(before, "cancel")
    application.updated_at = clock.now()
    repo.add(session, ApplicationEvent(application_id=application.id, at=clock.now(), actor="staff",
                                       user_id=actor.user_id, from_status=before, to_status=application.status,
                                       reason_code="cancelled_before_payout", note=note))
    audit.record(session=session, clock=clock, actor=actor, action="application.cancelled",
                 entity_type="application", entity_id=application.id, institution_id=institution_id,
                 before={"status": before}, after={"status": application.status, "number": application.number,
                                                   "note": note})
    return application
