"""Guarantors of an application: people who answer for the loan opened from it, without being borrowers.

A loan officer (or a reviewer) in the application's scope adds them before the decision and may release
one before it too; after the decision they stay as the loan's guarantors, read on the loan and by
collections (who may contact an active guarantor of the case's loan, `collections.service.actions`).
While the loan runs, staff may add one to it (as early warning's `ask_guarantor` asks) or release one,
through servicing (`servicing.service.guarantors`, which checks the loan): the same checks, encryption
and consent; the row joins the application's list, which is the loan's (one loan per application).

Their personal data is kept as a borrower's is (`parties.service.borrowers`): the ID number, validated
the same way, and the phone are encrypted with the institution's field cipher, found by their blind
indexes (`id_number`, `phone` domains, shared with borrowers and users) and shown masked; the full values
are seen only through `reveal`, which is audited. The guarantor's consent is their signature on the
paper form of the sensitive-information consent in force, which the officer confirms (`consent_signed`);
the document's id and hash are kept on the row, as a walk-in borrower's consent is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from microcredit.audit import service as audit
from microcredit.consent import service as consent
from microcredit.consent.errors import SignedConsentRequired
from microcredit.errors import NotFound
from microcredit.identity import scope
from microcredit.identity import service as identity
from microcredit.identity.principal import Principal
from microcredit.lending.money import Money
from microcredit.origination import repository as repo
from microcredit.origination.errors import (
    GuarantorDuplicate,
    GuarantorIsBorrower,
    GuarantorReleased,
    GuarantorUnderage,
    WrongState,
)
from microcredit.origination.models import Application, Guarantor
from microcredit.origination.service import states
from microcredit.origination.service.approvals import LEVEL_PERMISSIONS
from microcredit.parties import service as parties
from microcredit.platform.crypto import mask_id_number, mask_phone

ID_CONTEXT = "guarantors.id_number"
PHONE_CONTEXT = "guarantors.phone"
RELATIONS = ("spouse", "parent", "child", "sibling", "relative", "friend", "colleague", "business_partner", "other")
MIN_AGE = 18
# Who may add or release a guarantor, on an application or on its running loan: its officer or a reviewer.
EDITOR_PERMISSIONS = ("loan.apply", *LEVEL_PERMISSIONS.values())

__all__ = [
    "EDITOR_PERMISSIONS",
    "Guarantor",
    "NewGuarantor",
    "active_of_application",
    "add",
    "add_to_loan",
    "get_on_application",
    "list_for_staff",
    "of_application",
    "release",
    "release_from_loan",
    "reveal",
    "search",
]


@dataclass(frozen=True)
class NewGuarantor:
    """What adding a guarantor needs to know."""

    name: str
    id_number: str
    phone: str
    relation: str
    kind: str
    amount: Money | None = None


def _application(session: Session, principal: Principal, application_id: int, *, for_update: bool = False
                 ) -> Application:
    application = repo.get(session, application_id, for_update=for_update)
    if application is None:
        raise NotFound(field="application_id")
    scope.ensure_visible(principal, institution_id=application.institution_id, branch_id=application.branch_id)
    return application


def _undecided(application: Application, action: str) -> None:
    if application.status in states.FINAL:
        raise WrongState(status=application.status, action=action)


def of_application(session: Session, application_id: int) -> list[Guarantor]:
    """Every guarantor of an application, active and released, in the order added."""
    return repo.guarantor_parties_of(session, application_id)


def active_of_application(session: Session, application_id: int) -> list[Guarantor]:
    """The active guarantors of an application (of the loan opened from it)."""
    return [g for g in of_application(session, application_id) if g.status == "active"]


def list_for_staff(*, session: Session, principal: Principal, application_id: int) -> list[Guarantor]:
    """The guarantors of an application in the caller's scope."""
    return of_application(session, _application(session, principal, application_id).id)


def get_on_application(session: Session, *, application_id: int, guarantor_id: int) -> Guarantor:
    """One guarantor of the application (not found: none, or another application's)."""
    guarantor = repo.guarantor(session, guarantor_id)
    if guarantor is None or guarantor.application_id != application_id:
        raise NotFound(field="guarantor_id")
    return guarantor


def _audited(guarantor: Guarantor) -> dict[str, Any]:
    return {"application_id": guarantor.application_id, "name": guarantor.name,
            "id_number": guarantor.id_number_masked, "phone": guarantor.phone_masked,
            "relation": guarantor.relation, "kind": guarantor.kind,
            "amount": str(guarantor.amount.amount) if guarantor.amount is not None else None,
            "status": guarantor.status}


def add(*, session: Session, kit: identity.IdentityKit, principal: Principal, application_id: int,
        data: NewGuarantor, consent_signed: bool) -> Guarantor:
    """Add a guarantor to an undecided application in scope (ID number and phone validated and encrypted)."""
    application = _application(session, principal, application_id, for_update=True)
    _undecided(application, "add_guarantor")
    return _enrol(session, kit, principal, application, data, consent_signed=consent_signed, loan_id=None)


def add_to_loan(*, session: Session, kit: identity.IdentityKit, principal: Principal, application_id: int,
                loan_id: int, data: NewGuarantor, consent_signed: bool) -> Guarantor:
    """Add a guarantor to the running loan opened from a decided application, as on an undecided one.

    The caller (servicing) has found the loan in scope and running; the guarantor joins the application's
    list, which is the loan's (one loan per application), and the audit record names the loan.
    """
    application = _application(session, principal, application_id, for_update=True)
    return _enrol(session, kit, principal, application, data, consent_signed=consent_signed, loan_id=loan_id)


def _enrol(session: Session, kit: identity.IdentityKit, principal: Principal, application: Application,
           data: NewGuarantor, *, consent_signed: bool, loan_id: int | None) -> Guarantor:
    if not consent_signed:
        raise SignedConsentRequired(field="consent_signed")
    today = parties.organisation.business_date(session=session, institution_id=application.institution_id)
    resident = parties.borrowers.parse_id_number(data.id_number, on=today)
    if resident.age_on(today) < MIN_AGE:
        raise GuarantorUnderage(field="id_number", params={"min_age": MIN_AGE})
    phone = identity.accounts.parse_phone(data.phone)
    id_index = kit.keys.blind_index(resident.number, domain="id_number")
    if id_index == application.id_number_index:
        raise GuarantorIsBorrower(field="id_number")
    if any(g.id_number_index == id_index for g in active_of_application(session, application.id)):
        raise GuarantorDuplicate(field="id_number")
    document = next(d for d in consent.required_documents(session=session, clock=kit.clock,
                                                          institution_id=application.institution_id)
                    if d.kind == "sensitive_info")
    now = kit.clock.now()
    guarantor = Guarantor(
        institution_id=application.institution_id, application_id=application.id, name=data.name,
        id_number_ciphertext=kit.keys.cipher.encrypt(resident.number, context=ID_CONTEXT),
        id_number_index=id_index, id_number_masked=mask_id_number(resident.number, kit.policy.mask_id_number),
        phone_ciphertext=kit.keys.cipher.encrypt(phone, context=PHONE_CONTEXT),
        phone_index=identity.accounts.phone_index(kit, phone), phone_masked=mask_phone(phone),
        relation=data.relation, kind=data.kind, amount=data.amount, status="active",
        consent_document_id=document.id, consent_content_hash=document.content_hash, consented_at=now,
        added_by_user_id=principal.user_id, created_at=now)
    repo.add(session, guarantor)
    after = {**_audited(guarantor), "consent": {"document_id": document.id, "version": document.version}}
    audit.record(session=session, clock=kit.clock, actor=principal.actor,
                 action="guarantor.added" if loan_id is None else "guarantor.added_to_loan",
                 entity_type="guarantor", entity_id=guarantor.id, institution_id=guarantor.institution_id,
                 after=after if loan_id is None else {**after, "loan_id": loan_id})
    return guarantor


def release(*, session: Session, kit: identity.IdentityKit, principal: Principal, application_id: int,
            guarantor_id: int, reason: str) -> Guarantor:
    """Release a guarantor of an undecided application in scope (final; the row stays)."""
    application = _application(session, principal, application_id, for_update=True)
    guarantor = get_on_application(session, application_id=application.id, guarantor_id=guarantor_id)
    _undecided(application, "release_guarantor")
    return _release(session, kit, principal, guarantor, reason, loan_id=None)


def release_from_loan(*, session: Session, kit: identity.IdentityKit, principal: Principal, application_id: int,
                      loan_id: int, guarantor_id: int, reason: str) -> Guarantor:
    """Release a guarantor of the running loan opened from the application (the caller checked the loan)."""
    application = _application(session, principal, application_id, for_update=True)
    guarantor = get_on_application(session, application_id=application.id, guarantor_id=guarantor_id)
    return _release(session, kit, principal, guarantor, reason, loan_id=loan_id)


def _release(session: Session, kit: identity.IdentityKit, principal: Principal, guarantor: Guarantor, reason: str,
             *, loan_id: int | None) -> Guarantor:
    if guarantor.status == "released":
        raise GuarantorReleased(field="guarantor_id")
    before = _audited(guarantor)
    guarantor.status, guarantor.release_reason = "released", reason
    guarantor.released_at, guarantor.released_by_user_id = kit.clock.now(), principal.user_id
    session.flush()
    after = {**_audited(guarantor), "reason": reason}
    audit.record(session=session, clock=kit.clock, actor=principal.actor,
                 action="guarantor.released" if loan_id is None else "guarantor.released_from_loan",
                 entity_type="guarantor", entity_id=guarantor.id, institution_id=guarantor.institution_id,
                 before=before, after=after if loan_id is None else {**after, "loan_id": loan_id})
    return guarantor


def search(*, session: Session, kit: identity.IdentityKit, principal: Principal, q: str
           ) -> list[tuple[Guarantor, Application]]:
    """Guarantors in the caller's scope (the branch of the application they guarantee), each with its
    application, newest first, found as borrowers are (`parties.borrowers.search_borrowers`): a full ID
    number or phone by its blind index (exact: nothing is decrypted), a short run of digits by the end of
    the masked ID number, anything else by name."""
    f = scope.filters(principal)
    term = q.strip()
    if not term:
        return []
    compact = term.replace(" ", "").upper()
    identifier = parties.borrowers.identifier_in(term)
    id_index = phone_index = id_tail = name = None
    if identifier is not None and identifier[0] == "id_number":
        id_index = kit.keys.blind_index(identifier[1], domain="id_number")
    elif identifier is not None:
        phone_index = identity.accounts.phone_index(kit, identifier[1])
    elif len(compact) <= 6 and (compact.isdigit() or (compact[:-1].isdigit() and compact.endswith("X"))):
        id_tail = compact
    else:
        name = term
    return repo.guarantees_matching(session, institution_id=f.institution_id, branch_id=f.branch_id,
                                    id_index=id_index, phone_index=phone_index, id_tail=id_tail, name=name)


def reveal(*, session: Session, kit: identity.IdentityKit, principal: Principal, application_id: int,
           guarantor_id: int) -> dict[str, str]:
    """The guarantor's full ID number and phone — audited as a sensitive view."""
    application = _application(session, principal, application_id)
    guarantor = get_on_application(session, application_id=application.id, guarantor_id=guarantor_id)
    result = {"id_number": kit.keys.cipher.decrypt(guarantor.id_number_ciphertext, context=ID_CONTEXT),
              "phone": kit.keys.cipher.decrypt(guarantor.phone_ciphertext, context=PHONE_CONTEXT)}
    audit.record(session=session, clock=kit.clock, actor=principal.actor, action="guarantor.sensitive_viewed",
                 entity_type="guarantor", entity_id=guarantor.id, institution_id=guarantor.institution_id,
                 after={"fields": ["id_number", "phone"]})
    return result
