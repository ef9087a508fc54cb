"""Guarantors of a running loan, and the search that shows whom one person guarantees.

A loan's guarantors are those of the application it was opened from (one loan per application,
`origination.service.guarantors`). While the loan is active, staff who may add guarantors on applications
(its officer, a reviewer) may add one to it — what early warning's `ask_guarantor` asks the borrower to
find — or release one; origination validates, encrypts and records the consent exactly as before the
decision, and the audit record names the loan. Collections reads `active_of_loan` for the third parties
a case may contact, so a guarantor added to the running loan is contactable as the rules allow.

`search` finds guarantors by ID number or phone (their blind indexes: nothing is decrypted) or by name,
in the caller's scope, grouped by person, each with every application and loan they guarantee.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from microcredit.identity import service as identity
from microcredit.identity.principal import Principal
from microcredit.lending.money import Money
from microcredit.origination import service as origination
from microcredit.origination.service.guarantors import Guarantor, NewGuarantor
from microcredit.parties import service as parties
from microcredit.servicing import repository as repo
from microcredit.servicing.errors import LoanWrongState
from microcredit.servicing.models import Loan
from microcredit.servicing.service import loans

__all__ = ["Guarantee", "GuarantorFound", "active_of_loan", "add", "of_loan", "release", "search"]

# A guarantor joins or leaves a loan only while it runs.
RUNNING = ("active",)


def of_loan(session: Session, loan: Loan) -> list[Guarantor]:
    """Every guarantor of the loan, active and released, in the order added."""
    return origination.guarantors.of_application(session, loan.application_id)


def active_of_loan(session: Session, loan: Loan) -> list[Guarantor]:
    """The active guarantors of the loan (those added before the decision and those added since)."""
    return origination.guarantors.active_of_application(session, loan.application_id)


def _running(session: Session, principal: Principal, loan_id: int, action: str) -> Loan:
    loan = loans.visible(session=session, principal=principal, loan_id=loan_id)
    if loan.status not in RUNNING:
        raise LoanWrongState(status=loan.status, action=action)
    return loan


def add(*, session: Session, kit: identity.IdentityKit, principal: Principal, loan_id: int, data: NewGuarantor,
        consent_signed: bool) -> Guarantor:
    """Add a guarantor to an active loan in scope (checked, encrypted and consented as on an application)."""
    loan = _running(session, principal, loan_id, "add_guarantor")
    return origination.guarantors.add_to_loan(session=session, kit=kit, principal=principal,
                                              application_id=loan.application_id, loan_id=loan.id, data=data,
                                              consent_signed=consent_signed)


def release(*, session: Session, kit: identity.IdentityKit, principal: Principal, loan_id: int, guarantor_id: int,
            reason: str) -> Guarantor:
    """Release a guarantor of an active loan in scope (final; the row stays, audited with the reason)."""
    loan = _running(session, principal, loan_id, "release_guarantor")
    return origination.guarantors.release_from_loan(session=session, kit=kit, principal=principal,
                                                    application_id=loan.application_id, loan_id=loan.id,
                                                    guarantor_id=guarantor_id, reason=reason)


@dataclass(frozen=True)
class Guarantee:
    """One application (and its loan, once opened) that a person guarantees."""

    guarantor_id: int
    status: str
    relation: str
    kind: str
    amount: Money | None
    created_at: datetime
    application_id: int
    application_number: str | None
    application_status: str
    borrower_id: int
    borrower_name: str | None
    loan_id: int | None
    loan_number: str | None
    loan_status: str | None


@dataclass(frozen=True)
class GuarantorFound:
    """A person found as a guarantor (masked), with what they guarantee, newest first."""

    name: str
    id_number_masked: str
    phone_masked: str
    guarantees: list[Guarantee] = field(default_factory=list)

    @property
    def active_loans(self) -> int:
        """How many running loans the person answers for now."""
        return sum(1 for g in self.guarantees if g.status == "active" and g.loan_status == "active")


def search(*, session: Session, kit: identity.IdentityKit, principal: Principal, q: str) -> list[GuarantorFound]:
    """Guarantors in scope matching `q` (`origination.service.guarantors.search`), grouped by person
    (the blind index of their ID number), each with the applications and loans they guarantee."""
    rows = origination.guarantors.search(session=session, kit=kit, principal=principal, q=q)
    by_application = {x.application_id: x for x in repo.by_applications(session, list({a.id for _, a in rows}))}
    names = parties.borrowers.borrower_names(session=session, borrower_ids=list({a.borrower_id for _, a in rows}))
    people: dict[str, GuarantorFound] = {}
    for g, a in rows:
        person = people.setdefault(g.id_number_index, GuarantorFound(
            name=g.name, id_number_masked=g.id_number_masked, phone_masked=g.phone_masked))
        loan = by_application.get(a.id)
        person.guarantees.append(Guarantee(
            guarantor_id=g.id, status=g.status, relation=g.relation, kind=g.kind, amount=g.amount,
            created_at=g.created_at, application_id=a.id, application_number=a.number,
            application_status=a.status, borrower_id=a.borrower_id, borrower_name=names.get(a.borrower_id),
            loan_id=loan.id if loan else None, loan_number=loan.number if loan else None,
            loan_status=loan.status if loan else None))
    return list(people.values())
