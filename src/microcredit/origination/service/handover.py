"""What origination hands to servicing: an application as decided (servicing opens the loan)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from microcredit.errors import NotFound
from microcredit.origination import repository as repo
from microcredit.origination.models import Application


def application_for_loan(*, session: Session, institution_id: int, application_id: int) -> Application:
    """An application of the institution, for servicing to open its loan from (its status is servicing's to check)."""
    application = repo.get(session, application_id)
    if application is None or application.institution_id != institution_id:
        raise NotFound(field="application_id")
    return application


def group_applications(*, session: Session, group_id: int) -> list[Application]:
    """The members' applications made for a group (小组联保), oldest first: servicing links their loans."""
    return repo.group_loan_applications(session, group_id)
