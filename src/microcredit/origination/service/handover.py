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
from microcredit.platform.actor import Actor


def application_for_loan(*, session: Session, institution_id: int, application_id: int) -> Application:
    """An application of the institution, for servicing to open its loan from (its status is servicing's to check)."""
    application = repo.get(session, application_id)
    if application is None or application.institution_id != institution_id:
        raise NotFound(field="application_id")
    return application


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
