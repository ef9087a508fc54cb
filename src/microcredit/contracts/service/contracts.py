"""The contract of an approved application: made on demand, read, signed by the borrower with an SMS code,
then signed by the institution (PAdES), downloaded — every download audited.

Made on demand (`open_own`, `open_for_staff`), never inside the submission request: the terms snapshot
(contracts.service.terms) from the lending engine, the PDF (WeasyPrint) and the DOCX (docxtpl) from the
template version in force, both stored (platform.storage) under generated keys with their SHA-256.

Signing (`sign`), all in one transaction and in this order: the digest the borrower's app shows must be
the stored PDF's (`contract_document_mismatch`, nothing used up); the SMS code (identity's codes,
purpose `sign_contract`: hashed, expiring, attempt-limited) is used up; the e-signature record (time,
IP, device, user agent, digest) is written; the signed copy — the same content plus a last page with
that record — is rendered and signed by the institution (contracts.signing) and stored under a new
key; the borrower gets an SMS. A failure after the code check rolls everything back but the used code.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from microcredit.audit import service as audit
from microcredit.clock import Clock
from microcredit.contracts import errors, rendering, signing
from microcredit.contracts import repository as repo
from microcredit.contracts.models import Contract
from microcredit.contracts.service import templates
from microcredit.contracts.service import terms as terms_of
from microcredit.identity import scope
from microcredit.identity import service as identity
from microcredit.identity.principal import Principal
from microcredit.notifications import service as notifications
from microcredit.origination import service as origination
from microcredit.parties import service as parties
from microcredit.platform.actor import Actor, RequestMeta
from microcredit.platform.crypto import mask_phone
from microcredit.platform.storage import ObjectMissing, Storage
from microcredit.platform.todo import Todo

SIGN_PURPOSE = "sign_contract"
PDF, DOCX = "application/pdf", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@dataclass(frozen=True)
class Files:
    """Where a contract's bytes go and the certificate the institution signs with."""

    storage: Storage
    signer: signing.SignerFiles


def _application(session: Session, principal: Principal, application_id: int, own: bool) -> Any:
    if own:
        return origination.applications.get_own(session=session, principal=principal,
                                                application_id=application_id).application
    return origination.applications.get_for_staff(session=session, principal=principal,
                                                  application_id=application_id).application


def get(*, session: Session, principal: Principal, application_id: int, own: bool) -> Contract:
    """The contract of an application the caller may see (`contract_not_found` before it is made)."""
    _application(session, principal, application_id, own)
    contract = repo.of_application(session, application_id)
    if contract is None:
        raise errors.ContractNotFound()
    return contract


def store(storage: Storage, institution_id: int, borrower_id: int, data: bytes, ext: str) -> tuple[str, str]:
    key = f"contracts/{institution_id}/{borrower_id}/{uuid.uuid4().hex}.{ext}"
    storage.put(key, data, PDF if ext == "pdf" else DOCX)
    return key, hashlib.sha256(data).hexdigest()


def _context(contract: Contract, signature: dict[str, Any] | None = None) -> dict[str, Any]:
    snapshot = contract.terms
    return {"contract": snapshot["contract"], "lender": snapshot["lender"], "borrower": snapshot["borrower"],
            "terms": snapshot, "signature": signature}


def open_contract(*, session: Session, kit: identity.IdentityKit, files: Files, principal: Principal,
                  application_id: int, own: bool) -> Contract:
    """The application's contract, made now from the template in force if it has none (approved only)."""
    application = _application(session, principal, application_id, own)
    existing = repo.of_application(session, application.id)
    if existing is not None:
        return existing
    if application.status != "approved":
        raise errors.ApplicationNotApproved()
    institution = parties.organisation.institution(session=session, institution_id=application.institution_id)
    borrower = (parties.borrowers.own_profile(session=session, principal=principal) if own else
                parties.borrowers.get_borrower(session=session, principal=principal,
                                               borrower_id=application.borrower_id))
    template = templates.in_force(session=session, clock=kit.clock, institution_id=application.institution_id)
    snapshot = terms_of.compute(session=session, application=application, start=institution.business_date)
    snapshot["contract"] = {"number": f"{application.number}-HT", "application_number": application.number,
                            "date": str(institution.business_date)}
    snapshot["lender"] = {"name": institution.name, "address": institution.address or ""}
    snapshot["borrower"] = {"name": borrower.real_name, "id_number_masked": borrower.id_number_masked}
    context = {"contract": snapshot["contract"], "lender": snapshot["lender"], "borrower": snapshot["borrower"],
               "terms": snapshot, "signature": None}
    pdf = rendering.html_to_pdf(rendering.render_html(template.html, context))
    docx = rendering.render_docx(template.docx, context)
    pdf_key, pdf_sha = store(files.storage, application.institution_id, application.borrower_id, pdf, "pdf")
    docx_key, docx_sha = store(files.storage, application.institution_id, application.borrower_id, docx, "docx")
    contract = Contract(
        institution_id=application.institution_id, branch_id=application.branch_id, application_id=application.id,
        borrower_id=application.borrower_id, borrower_user_id=application.borrower_user_id,
        number=snapshot["contract"]["number"], status="ready", template_id=template.id, template_code=template.code,
        template_number=template.number, terms=snapshot, pdf_key=pdf_key, pdf_sha256=pdf_sha, pdf_size=len(pdf),
        docx_key=docx_key, docx_sha256=docx_sha, created_at=kit.clock.now(), created_by_user_id=principal.user_id)
    repo.add(session, contract)
    audit.record(session=session, clock=kit.clock, actor=principal.actor, action="contract.created",
                 entity_type="contract", entity_id=contract.id, institution_id=contract.institution_id,
                 after={"application_id": application.id, "number": contract.number,
                        "template": f"{template.code}@{template.number}", "pdf_sha256": pdf_sha,
                        "apr_percent": snapshot["apr_percent"]})
    if not own:  # made by staff: the borrower is told it waits for them (in the app; the SMS came at approval)
        notifications.notify_user(session, clock=kit.clock, institution_id=contract.institution_id,
                                  user_id=contract.borrower_user_id, template="contract_ready",
                                  params={"number": contract.number}, subject_kind="application",
                                  subject_id=contract.application_id)
    return contract


def html_view(contract: Contract, *, session: Session) -> str:
    """The contract as HTML for reading on a phone: the same template version and terms as its PDF."""
    template = repo.template_by_id(session, contract.template_id)
    assert template is not None
    return rendering.render_html(template.html, _context(contract))


def read_file(*, session: Session, kit: identity.IdentityKit, storage: Storage, principal: Principal,
              contract: Contract, kind: str) -> bytes:
    """The bytes of the contract's `pdf`, `docx` or `signed` PDF; each read is audited."""
    if kind == "signed" and contract.signed_pdf_key is None:
        raise errors.SignedFileMissing()
    # The signed PDF: the latest renewal of its archive time stamps (contracts.service.archive), else as signed.
    signed = contract.archive_pdf_key or contract.signed_pdf_key
    key = {"pdf": contract.pdf_key, "docx": contract.docx_key, "signed": signed}[kind]
    assert key is not None
    try:
        data = storage.get(key)
    except ObjectMissing as exc:
        raise errors.SignedFileMissing() from exc
    audit.record(session=session, clock=kit.clock, actor=principal.actor, action="contract.downloaded",
                 entity_type="contract", entity_id=contract.id, institution_id=contract.institution_id,
                 after={"file": kind})
    return data


def fully_signed(*, session: Session, application_id: int) -> bool:
    """Whether the application's contract is signed by the borrower and by the institution (what a
    disbursement needs)."""
    contract = repo.of_application(session, application_id)
    return contract is not None and contract.status == "signed" and contract.institution_signed_at is not None


def void(*, session: Session, clock: Clock, actor: Actor, application_id: int, note: str) -> Contract | None:
    """Void the application's contract, signed or not (servicing cancels the loan before any payout): it
    can no longer be signed or paid out on; its files stay, as made. None: the application had none."""
    contract = repo.of_application(session, application_id, for_update=True)
    if contract is None or contract.status == "void":
        return contract
    before = contract.status
    contract.status = "void"
    audit.record(session=session, clock=clock, actor=actor, action="contract.voided", entity_type="contract",
                 entity_id=contract.id, institution_id=contract.institution_id, before={"status": before},
                 after={"status": "void", "number": contract.number, "note": note})
    return contract


def _signable(contract: Contract) -> None:
    if contract.status == "signed":
        raise errors.ContractAlreadySigned()
    if contract.status == "void":
        raise errors.ContractVoid()


def request_code(*, session: Session, kit: identity.IdentityKit, principal: Principal, application_id: int,
                 meta: RequestMeta) -> Any:
    """Send the borrower an SMS code to sign their contract (throttled as every SMS code)."""
    contract = get(session=session, principal=principal, application_id=application_id, own=True)
    _signable(contract)
    phone = identity.accounts.phone(session=session, kit=kit, user_id=principal.user_id)
    return identity.accounts.request_sms_code(session=session, kit=kit, institution_id=principal.institution_id,
                                              kind=principal.kind, phone=phone, purpose=SIGN_PURPOSE, meta=meta)


def sign(*, session: Session, kit: identity.IdentityKit, files: Files, principal: Principal, application_id: int,
         sms_code: str, document_sha256: str, device_id: str | None, meta: RequestMeta,
         notify: bool = True) -> Contract:
    """The borrower signs the PDF they read (its digest) with an SMS code; the institution then signs it."""
    get(session=session, principal=principal, application_id=application_id, own=True)
    contract = repo.of_application(session, application_id, for_update=True)
    assert contract is not None
    _signable(contract)
    if document_sha256.strip().lower() != contract.pdf_sha256:
        raise errors.DocumentChanged(field="document_sha256")
    phone = identity.accounts.phone(session=session, kit=kit, user_id=principal.user_id)
    identity.smscodes.verify_code(session=session, kit=kit, phone_index=identity.accounts.phone_index(kit, phone),
                                  purpose=SIGN_PURPOSE, code=sms_code)
    now = kit.clock.now()
    contract.signed_at, contract.signer_name = now, contract.terms["borrower"]["name"]
    contract.sign_ip, contract.sign_device_id = meta.ip, device_id
    contract.sign_user_agent = (meta.user_agent or "")[:255] or None
    contract.signed_document_sha256 = contract.pdf_sha256
    record = {"name": contract.signer_name, "at": now.strftime("%Y-%m-%d %H:%M:%S"),
              "phone_masked": mask_phone(phone), "ip": meta.ip or "—", "device_id": device_id or "—",
              "user_agent": contract.sign_user_agent or "—", "document_sha256": contract.pdf_sha256}
    template = repo.template_by_id(session, contract.template_id)
    assert template is not None
    pdf = rendering.html_to_pdf(rendering.render_html(template.html, _context(contract, record)))
    try:
        signed = signing.sign_pdf(pdf, files.signer, reason=f"借款合同 {contract.number}",
                                  location=contract.terms["lender"]["name"], name=contract.terms["lender"]["name"],
                                  at=now)
    except signing.SigningUnavailable as exc:
        raise errors.SigningUnavailable(detail=str(exc)) from None
    key, sha = store(files.storage, contract.institution_id, contract.borrower_id, signed, "pdf")
    contract.signed_pdf_key, contract.signed_pdf_sha256, contract.signed_pdf_size = key, sha, len(signed)
    contract.institution_signed_at, contract.status = kit.clock.now(), "signed"
    contract.certificate_subject = signing.subject_of(files.signer)
    stamp = signing.archive_stamp(signed)  # B-LTA: when its archive time stamp must be renewed
    contract.archive_valid_until = None if stamp is None else stamp.valid_until
    session.flush()
    audit.record(session=session, clock=kit.clock, actor=principal.actor, action="contract.signed",
                 entity_type="contract", entity_id=contract.id, institution_id=contract.institution_id,
                 after={"document_sha256": contract.signed_document_sha256, "ip": meta.ip, "device_id": device_id,
                        "signed_pdf_sha256": sha})
    if not notify:  # seeded history (the demo's) is news to nobody
        return contract
    notifications.notify_user(session, clock=kit.clock, institution_id=contract.institution_id,
                              user_id=contract.borrower_user_id, template="contract_signed",
                              params={"number": contract.number}, subject_kind="application",
                              subject_id=contract.application_id)
    notifications.enqueue_sms(session=session, cipher=kit.keys.cipher, clock=kit.clock,
                              institution_id=contract.institution_id, phone=phone, template="contract_signed",
                              params={"signature": kit.sender_name(session, contract.institution_id, meta.language),
                                      "number": contract.number},
                              language=meta.language)
    return contract


def todos(*, session: Session, principal: Principal) -> list[Todo]:
    """Contracts made and waiting for the borrower's signature, in the caller's scope (for the loan officers who
    take applications and follow their borrowers up)."""
    if principal.kind != "staff" or not principal.can("loan.apply"):
        return []
    f = scope.filters(principal)
    branch = None if f.branch_id is False else f.branch_id
    return [Todo("contracts_waiting_signature",
                 repo.waiting_count(session, institution_id=f.institution_id, branch_id=branch))]
