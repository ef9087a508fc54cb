"""Routes of documents: a borrower's own files, staff reading and uploading for a borrower, views of a file.

The routes resolve the borrower (parties, with its scope check: another
borrower's or another branch's document is 404) and hand the owner to the
service, which sits below parties. File bytes are served with `nosniff`, no
caching and a sandboxing CSP; each read is audited by the service.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile

from microcredit.api.deps import DB, WallClock, require, runtime_of
from microcredit.api.params import Id
from microcredit.api.problems import PROBLEM_MEDIA_TYPE
from microcredit.documents import service
from microcredit.documents.schemas import DocumentRead, DocumentType, DocumentViewRead
from microcredit.errors import NotFound
from microcredit.identity import service as identity
from microcredit.identity.principal import Principal
from microcredit.parties import service as parties
from microcredit.platform.ratelimit import Limit, hit
from microcredit.platform.routing import UnitOfWorkRoute

router = APIRouter(tags=["documents"], route_class=UnitOfWorkRoute)

TypeField = Annotated[DocumentType, Form(description="The document type (the products' required-document codes)")]
FileField = Annotated[UploadFile, File(description="JPEG, PNG or WebP image, or PDF; judged by its content")]
_EXTENSION = {"image/jpeg": "jpg", "image/png": "png", "application/pdf": "pdf"}

UPLOAD_RESPONSES: dict[int | str, dict[str, Any]] = {
    201: {"description": "Stored; the document of that type it replaces (if any) is now `replaced`"},
    409: {"description": "The borrower already has this file", "content": {PROBLEM_MEDIA_TYPE: {"example": {
        "type": "https://microcredit.dev/problems/duplicate_document", "title": "duplicate_document",
        "status": 409, "code": "duplicate_document", "detail": "This file has already been uploaded (document 12)",
        "field": "file", "conflict_with": {"entity_type": "document", "id": 12, "name": "id_card"},
        "errors": [{"field": "file", "code": "duplicate_document",
                    "message": "This file has already been uploaded (document 12)"}]}}}},
    422: {"description": "Refused by content, size or form", "content": {PROBLEM_MEDIA_TYPE: {"example": {
        "type": "https://microcredit.dev/problems/document_type_mismatch", "title": "document_type_mismatch",
        "status": 422, "code": "document_type_mismatch", "field": "file",
        "detail": "The file's content does not match its type: only JPEG, PNG and WebP images and PDF files "
                  "are accepted",
        "errors": [{"field": "file", "code": "document_type_mismatch", "message": "…"}]}}}},
}
CONTENT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The stored bytes (the view is audited)",
          "content": {"image/jpeg": {}, "image/png": {}, "application/pdf": {}}},
    410: {"description": "The row is there but storage has lost the file (`document_file_missing`)",
          "content": {PROBLEM_MEDIA_TYPE: {}}},
}


def _upload(request: Request, session: DB, clock: WallClock, principal: Principal, owner: service.Owner,
            type_: str, file: UploadFile, channel: str) -> service.Document:
    runtime = runtime_of(request)
    policy = runtime.settings.documents
    hit(runtime.limiter, f"document_upload:user:{principal.user_id}",
        Limit(policy.uploads_per_user_per_hour, 3600), session=session, field="file")
    # The request guard already bounded the body (settings.limits.upload_body_bytes).
    data = file.file.read()
    return service.upload(session=session, clock=clock, storage=runtime.files, policy=policy,
                          actor=principal.actor, owner=owner, type_=type_, data=data, filename=file.filename,
                          declared_type=file.content_type, channel=channel)


def _content(request: Request, session: DB, clock: WallClock, principal: Principal, doc: service.Document,
             download: bool) -> Response:
    data = service.read_content(session=session, clock=clock, storage=runtime_of(request).files,
                                actor=principal.actor, document=doc)
    name = f"document-{doc.id}.{_EXTENSION.get(doc.content_type, 'bin')}"
    disposition = "attachment" if download else "inline"
    return Response(data, media_type=doc.content_type, headers={
        "Content-Disposition": f"{disposition}; filename=\"{name}\"; filename*=UTF-8''{quote(doc.original_filename)}",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store, private",
        "Pragma": "no-cache",
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox",
    })


def _own_owner(session: DB, principal: Principal) -> service.Owner:
    """The caller's own profile, row-locked: one upload per borrower at a time (see `_staff_owner`)."""
    borrower_id = parties.borrowers.own_profile_id(session=session, principal=principal)
    if borrower_id is None:
        raise NotFound()
    return _staff_owner(session, principal, borrower_id, for_update=True)


def _staff_owner(session: DB, principal: Principal, borrower_id: int, *, for_update: bool = False) -> service.Owner:
    """The borrower, with the scope check; `for_update` (uploads) locks the row for the transaction, so
    that two uploads for one borrower run one after the other: the duplicate check and the replacement
    of the active document of a type then see each other (where the database has row locks)."""
    borrower = parties.borrowers.get_borrower(session=session, principal=principal, borrower_id=borrower_id,
                                              for_update=for_update)
    return service.Owner(borrower_id=borrower.id, institution_id=borrower.institution_id, branch_id=borrower.branch_id)


def _visible_document(session: DB, principal: Principal, document_id: int) -> service.Document:
    """A document whose borrower the staff member may see (404 otherwise, as for a missing one)."""
    doc = service.get(session=session, document_id=document_id)
    parties.borrowers.get_borrower(session=session, principal=principal, borrower_id=doc.borrower_id)
    return doc


# --- the borrower's own ----------------------------------------------------------------


@router.post("/me/documents", response_model=DocumentRead, status_code=201, operation_id="upload_my_document",
             summary="Upload one of my documents", responses=UPLOAD_RESPONSES)
def upload_my_document(request: Request, type: TypeField, file: FileField, session: DB, clock: WallClock,
                       principal: Principal = require("profile.update_own")) -> service.Document:
    """A photo (from the phone's camera) or a PDF; it becomes my active document of that type."""
    return _upload(request, session, clock, principal, _own_owner(session, principal), type, file, "online")


@router.get("/me/documents", response_model=list[DocumentRead], operation_id="list_my_documents",
            summary="My documents")
def list_my_documents(session: DB, principal: Principal = require("profile.read_own"),
                      include_inactive: bool = False) -> list[service.Document]:
    """My documents on file, newest first (replaced ones too when asked)."""
    borrower_id = parties.borrowers.own_profile_id(session=session, principal=principal)
    if borrower_id is None:
        return []
    return service.list_for_borrower(session=session, borrower_id=borrower_id, include_inactive=include_inactive)


@router.get("/me/documents/{document_id}/content", operation_id="get_my_document_content",
            summary="The file of one of my documents", response_class=Response, responses=CONTENT_RESPONSES)
def get_my_document_content(request: Request, document_id: Id, session: DB, clock: WallClock,
                            principal: Principal = require("profile.read_own"),
                            download: Annotated[bool, Query(description="As an attachment")] = False) -> Response:
    """The stored bytes of my document (each view is audited)."""
    doc = service.get(session=session, document_id=document_id)
    if doc.borrower_id != parties.borrowers.own_profile_id(session=session, principal=principal):
        raise NotFound()
    return _content(request, session, clock, principal, doc, download)


# --- staff -------------------------------------------------------------------------------


@router.get("/borrowers/{borrower_id}/documents", response_model=list[DocumentRead],
            operation_id="list_borrower_documents", summary="A borrower's documents")
def list_borrower_documents(borrower_id: Id, session: DB, principal: Principal = require("borrower.read"),
                            include_inactive: bool = False) -> list[service.Document]:
    """The borrower's documents on file, newest first (replaced ones too when asked)."""
    owner = _staff_owner(session, principal, borrower_id)
    return service.list_for_borrower(session=session, borrower_id=owner.borrower_id,
                                     include_inactive=include_inactive)


@router.post("/borrowers/{borrower_id}/documents", response_model=DocumentRead, status_code=201,
             operation_id="upload_borrower_document", summary="Upload a document for a borrower",
             responses=UPLOAD_RESPONSES)
def upload_borrower_document(request: Request, borrower_id: Id, type: TypeField, file: FileField,
                             session: DB, clock: WallClock,
                             principal: Principal = require("borrower.update")) -> service.Document:
    """A loan officer scans or photographs a walk-in borrower's document (channel `branch`)."""
    owner = _staff_owner(session, principal, borrower_id, for_update=True)
    return _upload(request, session, clock, principal, owner, type, file, "branch")


@router.get("/documents/{document_id}/content", operation_id="get_document_content",
            summary="The file of a borrower's document", response_class=Response, responses=CONTENT_RESPONSES)
def get_document_content(request: Request, document_id: Id, session: DB, clock: WallClock,
                         principal: Principal = require("borrower.read"),
                         download: Annotated[bool, Query(description="As an attachment")] = False) -> Response:
    """The stored bytes, for staff whose scope covers the borrower (each view is audited)."""
    doc = _visible_document(session, principal, document_id)
    return _content(request, session, clock, principal, doc, download)


@router.get("/documents/{document_id}/views", response_model=list[DocumentViewRead],
            operation_id="list_document_views", summary="Who viewed a document's file")
def list_document_views(document_id: Id, session: DB,
                        principal: Principal = require("audit.read")) -> list[DocumentViewRead]:
    """Every audited view of the file, newest first, from the audit log (for auditors)."""
    doc = _visible_document(session, principal, document_id)
    views = service.view_history(session=session, document=doc)
    users = identity.accounts.accounts_by_ids(session=session, user_ids=[v.actor_user_id for v in views
                                                                      if v.actor_user_id])
    return [DocumentViewRead(seq=v.seq, at=v.at, actor_user_id=v.actor_user_id, actor_kind=v.actor_kind, ip=v.ip,
                             request_id=v.request_id,
                             actor_name=users[v.actor_user_id].display_name if v.actor_user_id in users else None)
            for v in views]
