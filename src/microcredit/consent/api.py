"""Routes of consent: the documents (public and by version), publishing, and people's consents."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from microcredit.api.deps import DB, InstitutionId, WallClock, authenticated, public, require
from microcredit.api.params import Id, IdFilter
from microcredit.consent import service
from microcredit.consent.schemas import (
    ConsentAccept,
    ConsentDocumentCreate,
    ConsentDocumentRead,
    ConsentKind,
    ConsentRecordRead,
)
from microcredit.identity import scope
from microcredit.identity.principal import Principal
from microcredit.parties import service as parties
from microcredit.platform.routing import UnitOfWorkRoute

router = APIRouter(tags=["consent"], route_class=UnitOfWorkRoute)
Version = Annotated[str, Path(max_length=32)]


def _records(session: DB, clock: WallClock, institution_id: int,
             records: list[service.ConsentRecord]) -> list[ConsentRecordRead]:
    current = service.current_versions(session=session, clock=clock, institution_id=institution_id)
    out = []
    for r in records:
        read = ConsentRecordRead.model_validate(r)
        read.current = current.get(r.kind) == r.version
        out.append(read)
    return out


@router.get("/public/consent-documents", response_model=list[ConsentDocumentRead],
            operation_id="list_current_consent_documents", summary="The documents a new borrower accepts",
            dependencies=[public()])
def list_current_consent_documents(session: DB, clock: WallClock,
                                   institution: InstitutionId) -> list[service.ConsentDocument]:
    """The versions in effect of the user agreement, privacy policy and sensitive-information rules, with text."""
    return service.current_documents(session=session, clock=clock, institution_id=institution)


@router.get("/consent-documents/{kind}/versions/{version}", response_model=ConsentDocumentRead,
            operation_id="get_consent_document", summary="One version of a document")
def get_consent_document(kind: ConsentKind, version: Version, session: DB,
                         institution_id: IdFilter = None,
                         principal: Principal = authenticated()) -> service.ConsentDocument:
    """The text a person accepted, by kind and version (the caller's institution unless the platform asks)."""
    inst = institution_id if institution_id is not None else principal.institution_id
    scope.ensure_institution_visible(principal, inst)
    return service.document(session=session, institution_id=inst, kind=kind, version=version)


@router.post("/consent-documents", response_model=ConsentDocumentRead, status_code=201,
             operation_id="publish_consent_document", summary="Publish a new version of a document")
def publish_consent_document(body: ConsentDocumentCreate, session: DB, clock: WallClock,
                             principal: Principal = require("institution.manage")) -> service.ConsentDocument:
    """The new version takes effect at once; older versions and the consents given to them are kept."""
    inst = body.institution_id if body.institution_id is not None else principal.institution_id
    scope.ensure_institution_visible(principal, inst)
    return service.publish(session=session, clock=clock, actor=principal.actor, institution_id=inst,
                           kind=body.kind, version=body.version, title_zh=body.title_zh, title_en=body.title_en,
                           body_zh=body.body_zh, body_en=body.body_en)


@router.get("/borrowers/{borrower_id}/consents", response_model=list[ConsentRecordRead],
            operation_id="list_borrower_consents", summary="A borrower's consents")
def list_borrower_consents(borrower_id: Id, session: DB, clock: WallClock,
                           principal: Principal = require("borrower.read")) -> list[ConsentRecordRead]:
    """Which document versions the borrower accepted, when, through which channel; withdrawals with their time."""
    borrower = parties.borrowers.get_borrower(session=session, principal=principal, borrower_id=borrower_id)
    return _records(session, clock, borrower.institution_id,
                    service.records_of_borrower(session=session, borrower_id=borrower.id))


@router.get("/me/consents", response_model=list[ConsentRecordRead], operation_id="list_my_consents",
            summary="My consents")
def list_my_consents(session: DB, clock: WallClock,
                     principal: Principal = require("profile.read_own")) -> list[ConsentRecordRead]:
    """The caller's consents, newest first."""
    return _records(session, clock, principal.institution_id,
                    service.records_of_user(session=session, user_id=principal.user_id))


@router.post("/me/consents", response_model=ConsentRecordRead, status_code=201, operation_id="give_my_consent",
             summary="Accept the current version of a document")
def give_my_consent(body: ConsentAccept, session: DB, clock: WallClock,
                    principal: Principal = require("profile.update_own")) -> ConsentRecordRead:
    """Accept a new version, or consent again after withdrawing (channel `online`)."""
    borrower = parties.borrowers.own_profile(session=session, principal=principal)
    rec = service.accept_current(session=session, clock=clock, actor=principal.actor,
                                 institution_id=principal.institution_id, user_id=principal.user_id,
                                 borrower_id=borrower.id, kind=body.kind, version=body.version, channel="online")
    return _records(session, clock, principal.institution_id, [rec])[0]


@router.post("/me/consents/{consent_id}/withdraw", response_model=ConsentRecordRead,
             operation_id="withdraw_my_consent", summary="Withdraw one of my consents")
def withdraw_my_consent(consent_id: Id, session: DB, clock: WallClock,
                        principal: Principal = require("profile.update_own")) -> ConsentRecordRead:
    """The withdrawal is recorded with its time; the consent record itself is kept."""
    rec = service.withdraw(session=session, clock=clock, actor=principal.actor, user_id=principal.user_id,
                           record_id=consent_id)
    return _records(session, clock, principal.institution_id, [rec])[0]
