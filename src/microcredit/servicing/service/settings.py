"""An institution's servicing settings: above which amount a repayment keyed in at a branch waits
for a second person (`changes.take_repayment`). None set: every repayment is recorded at once.
A product may set its own threshold, which its loans keep (`threshold_for`), and one up to which a waiver
or refund of credit needs no second person (`change_threshold_for`)."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from microcredit.audit import service as audit
from microcredit.clock import Clock
from microcredit.identity.principal import Principal
from microcredit.lending.money import Money
from microcredit.parties import service as parties
from microcredit.servicing import repository as repo
from microcredit.servicing.models import Loan, ServicingSettings


def repayment_approval_above(*, session: Session, institution_id: int) -> Money | None:
    """The threshold: a branch repayment above it needs a second person (None: never)."""
    row = repo.settings_of(session, institution_id)
    return row.repayment_approval_above if row is not None else None


def threshold_for(*, session: Session, loan: Loan) -> Money | None:
    """The threshold of a loan's branch repayments: its product version's, pinned on the loan when it was
    opened, or else the institution's."""
    own = loan.terms.get("repayment_approval_above")
    if own is not None:
        return Money.parse(own, loan.currency)
    return repayment_approval_above(session=session, institution_id=loan.institution_id)


def threshold_and_business_date(*, session: Session, loan: Loan) -> tuple[Money | None, date]:
    """`threshold_for` the loan and its institution's business date, read in one statement when the loan's product
    sets no threshold of its own (a repayment keyed in needs both)."""
    own = loan.terms.get("repayment_approval_above")
    if own is not None:
        return Money.parse(own, loan.currency), parties.organisation.business_date(
            session=session, institution_id=loan.institution_id)
    return repo.threshold_and_business_date(
        session, loan.institution_id, business_date=parties.organisation.business_date_subquery("of_institution"))


def change_threshold_for(*, loan: Loan) -> Money | None:
    """Up to which amount a waiver or refund of credit on the loan needs no second person: its product
    version's figure, pinned on the loan when it was opened (None: every change needs a second person)."""
    own = loan.terms.get("change_approval_above")
    return Money.parse(own, loan.currency) if own is not None else None


def get(*, session: Session, clock: Clock, principal: Principal) -> ServicingSettings:
    """The caller's institution's settings (the defaults, unsaved, until first set)."""
    row = repo.settings_of(session, principal.institution_id)
    if row is None:
        return ServicingSettings(institution_id=principal.institution_id, repayment_approval_above=None,
                                 updated_at=clock.now(), updated_by_user_id=None, version=0)
    return row


def update(*, session: Session, clock: Clock, principal: Principal,
           repayment_approval_above: Money | None) -> ServicingSettings:
    """Set the threshold of the caller's institution (audited with the value before)."""
    row = repo.settings_of(session, principal.institution_id)
    before = None if row is None or row.repayment_approval_above is None else str(row.repayment_approval_above)
    if row is None:
        row = ServicingSettings(institution_id=principal.institution_id, updated_at=clock.now())
        repo.add(session, row)
    row.repayment_approval_above = repayment_approval_above
    row.updated_at, row.updated_by_user_id = clock.now(), principal.user_id
    session.flush()
    audit.record(session=session, clock=clock, actor=principal.actor, action="servicing.settings_updated",
                 entity_type="institution", entity_id=principal.institution_id,
                 institution_id=principal.institution_id, before={"repayment_approval_above": before},
                 after={"repayment_approval_above": None if repayment_approval_above is None
                        else str(repayment_approval_above)})
    return row
