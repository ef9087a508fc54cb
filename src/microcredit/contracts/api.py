"""Routes of contracts: the borrower's contract (read, HTML view, files, signing code, sign), staff's view of
an application's contract, and the template administration (list, view, edit a draft, preview, and publication
by maker–checker: an editor requests it, another person holding `contract.template.approve` approves or rejects).

Files are served with `nosniff`, no caching and a sandboxing CSP; each download is audited.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Header, Path, Query, Request, Response, UploadFile

from microcredit.api.deps import DB, Kit, Meta, WallClock, public, require, require_any, runtime_of
from microcredit.api.params import Id
from microcredit.api.problems import PROBLEM_MEDIA_TYPE
from microcredit.contracts import signing
from microcredit.contracts.models import Contract
from microcredit.contracts.schemas import (
    ContractHtmlRead,
    ContractRead,
    ContractSign,
    SignatureRecordRead,
    SigningCodeRead,
    TemplateApproval,
    TemplateDetail,
    TemplateRead,
    TemplateRejection,
    TemplateUpdate,
)
from microcredit.contracts.service import Files, contracts, templates
from microcredit.identity.principal import Principal
from microcredit.platform.ratelimit import Limit, hit
from microcredit.platform.routing import UnitOfWorkRoute

router = APIRouter(tags=["contracts"], route_class=UnitOfWorkRoute)

DeviceId = Annotated[str | None, Header(alias="X-Device-Id", max_length=64,
                                        description="The device's id, generated once by the app and kept")]
FileKind = Annotated[Literal["pdf", "docx", "signed"], Query(
    description="pdf: the contract as made (what the borrower signs); docx: the editable copy; signed: the "
                "institution-signed PDF (PAdES) with the e-signature record on its last page")]
# Editors and approvers read templates (an approver reads what they approve).
READERS = require_any("product.manage", "contract.template.approve")
TemplateCode = Annotated[str, Path(max_length=32, pattern=r"^[a-z0-9_]+$", examples=["loan"])]
VersionNumber = Annotated[int, Path(ge=1, le=1_000_000)]
FILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The file (the download is audited)", "content": {
        "application/pdf": {}, "application/vnd.openxmlformats-officedocument.wordprocessingml.document": {}}},
    409: {"description": "`contract_not_signed`: no signed PDF yet", "content": {PROBLEM_MEDIA_TYPE: {}}},
}
SIGN_RESPONSES: dict[int | str, dict[str, Any]] = {
    409: {"description": "`contract_document_mismatch` (the digest is not the stored PDF's), "
                         "`contract_already_signed`", "content": {PROBLEM_MEDIA_TYPE: {"example": {
                             "type": "https://microcredit.dev/problems/contract_document_mismatch",
                             "title": "contract_document_mismatch", "status": 409,
                             "code": "contract_document_mismatch", "field": "document_sha256",
                             "detail": "The document you sign is not the contract on file: open the contract "
                                       "again, then sign", "errors": []}}}},
    422: {"description": "`invalid_sms_code` (wrong, expired or used up)", "content": {PROBLEM_MEDIA_TYPE: {}}},
    503: {"description": "`signing_unavailable`: no institution certificate (nothing was changed but the code)",
          "content": {PROBLEM_MEDIA_TYPE: {}}},
}


def _files(request: Request) -> Files:
    runtime = runtime_of(request)
    return Files(storage=runtime.files, signer=signing.signer_files(runtime.settings))


def _read(contract: Contract) -> ContractRead:
    record = None
    if contract.signed_at is not None and contract.signed_document_sha256 is not None:
        record = SignatureRecordRead(signed_at=contract.signed_at, signer_name=contract.signer_name,
                                     ip=contract.sign_ip, device_id=contract.sign_device_id,
                                     user_agent=contract.sign_user_agent,
                                     document_sha256=contract.signed_document_sha256,
                                     institution_signed_at=contract.institution_signed_at,
                                     certificate_subject=contract.certificate_subject)
    return ContractRead(id=contract.id, application_id=contract.application_id, number=contract.number,
                        status=contract.status, template_code=contract.template_code,
                        template_number=contract.template_number, terms=contract.terms,
                        pdf_sha256=contract.pdf_sha256, pdf_size=contract.pdf_size, docx_sha256=contract.docx_sha256,
                        signed_pdf_sha256=contract.signed_pdf_sha256, archive_pdf_sha256=contract.archive_pdf_sha256,
                        created_at=contract.created_at,
                        signature=record)


def _file(data: bytes, name: str, *, docx: bool = False, download: bool = True) -> Response:
    media = contracts.DOCX if docx else contracts.PDF
    return Response(data, media_type=media, headers={
        "Content-Disposition": f"{'attachment' if download else 'inline'}; filename=\"{name}\"",
        "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store, private", "Pragma": "no-cache",
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox"})


def _download(request: Request, session: DB, kit: Kit, principal: Principal, contract: Contract, kind: str,
              download: bool) -> Response:
    data = contracts.read_file(session=session, kit=kit, storage=runtime_of(request).files, principal=principal,
                               contract=contract, kind=kind)
    suffix = {"pdf": ".pdf", "docx": ".docx", "signed": "-signed.pdf"}[kind]
    return _file(data, f"contract-{contract.number}{suffix}", docx=kind == "docx", download=download)


# --- the borrower's own ----------------------------------------------------------------------------

@router.get("/me/applications/{application_id}/contract", response_model=ContractRead,
            operation_id="get_my_contract", summary="The contract of my application")
def get_my_contract(application_id: Id, session: DB, principal: Principal = require("application.read_own")
                    ) -> ContractRead:
    """`contract_not_found` (404) until it is opened."""
    return _read(contracts.get(session=session, principal=principal, application_id=application_id, own=True))


@router.post("/me/applications/{application_id}/contract", response_model=ContractRead,
             operation_id="open_my_contract", summary="Open the contract of my approved application",
             responses={409: {"description": "`application_not_approved`"}})
def open_my_contract(request: Request, application_id: Id, session: DB, kit: Kit,
                     principal: Principal = require("application.apply_own")) -> ContractRead:
    """Made now from the template in force if it was not yet (the terms, the PDF and the DOCX); else as made."""
    return _read(contracts.open_contract(session=session, kit=kit, files=_files(request), principal=principal,
                                         application_id=application_id, own=True))


@router.get("/me/applications/{application_id}/contract/html", response_model=ContractHtmlRead,
            operation_id="get_my_contract_html", summary="My contract as HTML, to read on the phone")
def get_my_contract_html(application_id: Id, session: DB, principal: Principal = require("application.read_own")
                         ) -> ContractHtmlRead:
    """The same content as the PDF, and the PDF's SHA-256 to send back when signing."""
    contract = contracts.get(session=session, principal=principal, application_id=application_id, own=True)
    return ContractHtmlRead(html=contracts.html_view(contract, session=session), pdf_sha256=contract.pdf_sha256)


@router.get("/me/applications/{application_id}/contract/file", operation_id="get_my_contract_file",
            summary="A file of my contract", response_class=Response, responses=FILE_RESPONSES)
def get_my_contract_file(request: Request, application_id: Id, kind: FileKind, session: DB, kit: Kit,
                         principal: Principal = require("application.read_own"),
                         download: Annotated[bool, Query(description="As an attachment")] = True) -> Response:
    """The PDF as made, the editable DOCX, or the signed PDF (each download audited)."""
    contract = contracts.get(session=session, principal=principal, application_id=application_id, own=True)
    return _download(request, session, kit, principal, contract, kind, download)


@router.post("/me/applications/{application_id}/contract/signing-code", response_model=SigningCodeRead,
             operation_id="request_contract_signing_code", summary="Send me a code to sign my contract",
             responses={429: {"description": "`rate_limited`: wait before asking again"}})
def request_contract_signing_code(application_id: Id, session: DB, kit: Kit, meta: Meta,
                                  principal: Principal = require("application.apply_own")) -> SigningCodeRead:
    """An SMS code to my phone (valid a few minutes, a few attempts), throttled like every SMS code."""
    sent = contracts.request_code(session=session, kit=kit, principal=principal, application_id=application_id,
                                  meta=meta)
    return SigningCodeRead(phone_masked=sent.phone_masked, expires_in=sent.expires_in, resend_after=sent.resend_after)


@router.post("/me/applications/{application_id}/contract/sign", response_model=ContractRead,
             operation_id="sign_my_contract", summary="Sign my contract", responses=SIGN_RESPONSES)
def sign_my_contract(request: Request, application_id: Id, body: ContractSign, session: DB, kit: Kit, meta: Meta,
                     device_id: DeviceId = None, principal: Principal = require("application.apply_own")
                     ) -> ContractRead:
    """With the SMS code and the SHA-256 of the PDF read; the institution's PAdES signature follows at once."""
    hit(kit.limiter, f"contract_sign:user:{principal.user_id}", Limit(20, 3600), session=session)
    return _read(contracts.sign(session=session, kit=kit, files=_files(request), principal=principal,
                                application_id=application_id, sms_code=body.sms_code,
                                document_sha256=body.document_sha256, device_id=device_id, meta=meta))


# --- staff ---------------------------------------------------------------------------------------

@router.get("/applications/{application_id}/contract", response_model=ContractRead,
            operation_id="get_application_contract", summary="The contract of an application")
def get_application_contract(application_id: Id, session: DB, principal: Principal = require("loan.read")
                             ) -> ContractRead:
    """Status, terms, digests and the signing record (`contract_not_found` until it is opened)."""
    return _read(contracts.get(session=session, principal=principal, application_id=application_id, own=False))


@router.post("/applications/{application_id}/contract", response_model=ContractRead,
             operation_id="open_application_contract", summary="Make the contract of an approved application",
             responses={409: {"description": "`application_not_approved`"}})
def open_application_contract(request: Request, application_id: Id, session: DB, kit: Kit,
                              principal: Principal = require("loan.apply")) -> ContractRead:
    """For a walk-in borrower to read at the branch, or ahead of the borrower; as made if it already is."""
    return _read(contracts.open_contract(session=session, kit=kit, files=_files(request), principal=principal,
                                         application_id=application_id, own=False))


@router.get("/applications/{application_id}/contract/file", operation_id="get_application_contract_file",
            summary="A file of an application's contract", response_class=Response, responses=FILE_RESPONSES)
def get_application_contract_file(request: Request, application_id: Id, kind: FileKind, session: DB, kit: Kit,
                                  principal: Principal = require("loan.read"),
                                  download: Annotated[bool, Query(description="As an attachment")] = True
                                  ) -> Response:
    """For staff whose scope covers the application (each download audited)."""
    contract = contracts.get(session=session, principal=principal, application_id=application_id, own=False)
    return _download(request, session, kit, principal, contract, kind, download)


# --- templates -----------------------------------------------------------------------------------

@router.get("/contract-templates", response_model=list[TemplateRead], operation_id="list_contract_templates",
            summary="Contract templates, every version")
def list_contract_templates(session: DB, clock: WallClock, principal: Principal = READERS) -> list[Any]:
    """By code, newest version first; exactly one published version per code is in force."""
    return templates.list_versions(session=session, clock=clock, institution_id=principal.institution_id)


@router.get("/contract-templates/{template_code}/versions/{version_number}", response_model=TemplateDetail,
            operation_id="get_contract_template", summary="One contract template version with its HTML")
def get_contract_template(template_code: TemplateCode, version_number: VersionNumber, session: DB,
                          clock: WallClock, principal: Principal = READERS) -> Any:
    """With its HTML source (Jinja2)."""
    return templates.version(session=session, clock=clock, institution_id=principal.institution_id,
                             code=template_code, number=version_number)


@router.post("/contract-templates/{template_code}/drafts", response_model=TemplateDetail, status_code=201,
             operation_id="create_contract_template_draft", summary="A new draft of a contract template",
             responses={409: {"description": "`template_draft_exists`"}})
def create_contract_template_draft(template_code: TemplateCode, session: DB, clock: WallClock,
                                   principal: Principal = require("product.manage")) -> Any:
    """A copy of the published version, numbered next (one draft at a time)."""
    return templates.new_draft(session=session, clock=clock, actor=principal.actor,
                               institution_id=principal.institution_id, code=template_code)


@router.patch("/contract-templates/{template_code}/versions/{version_number}", response_model=TemplateDetail,
              operation_id="update_contract_template", summary="Edit a draft contract template",
              responses={409: {"description": "`template_not_editable`"},
                         422: {"description": "`template_invalid` (field `html`): it does not render"}})
def update_contract_template(template_code: TemplateCode, version_number: VersionNumber, body: TemplateUpdate,
                             session: DB, clock: WallClock, principal: Principal = require("product.manage")) -> Any:
    """Only a draft; the HTML must render against the sample terms."""
    return templates.update_draft(session=session, clock=clock, actor=principal.actor,
                                  institution_id=principal.institution_id, code=template_code, number=version_number,
                                  changes=body.model_dump(exclude_unset=True))


REVIEW_RESPONSES: dict[int | str, dict[str, Any]] = {
    403: {"description": "`self_approval`: the requester does not decide their own request",
          "content": {PROBLEM_MEDIA_TYPE: {"example": {
              "type": "https://microcredit.dev/problems/self_approval", "title": "self_approval", "status": 403,
              "code": "self_approval", "field": None, "errors": [],
              "detail": "You requested this publication: another person who may approve templates must decide it"}}}},
    409: {"description": "`template_publication_not_pending`: nothing waits (someone else may have just decided "
                         "it: of two people deciding at once, one decides)", "content": {PROBLEM_MEDIA_TYPE: {}}},
}


@router.post("/contract-templates/{template_code}/versions/{version_number}/publication-request",
             response_model=TemplateDetail, operation_id="request_contract_template_publication",
             summary="Ask for a draft contract template to be put in force",
             responses={409: {"description": "`template_not_editable` (not a draft), `template_publication_pending` "
                                             "(already requested)"},
                        422: {"description": "`template_invalid`: it does not render"}})
def request_contract_template_publication(template_code: TemplateCode, version_number: VersionNumber, session: DB,
                                          clock: WallClock, principal: Principal = require("product.manage")) -> Any:
    """The draft must render; it is then frozen until a second person approves or rejects it."""
    return templates.request_publication(session=session, clock=clock, actor=principal.actor,
                                         institution_id=principal.institution_id, code=template_code,
                                         number=version_number)


@router.post("/contract-templates/{template_code}/versions/{version_number}/publication-request/approve",
             response_model=TemplateDetail, operation_id="approve_contract_template_publication",
             summary="Approve a requested contract template: it is put in force", responses=REVIEW_RESPONSES)
def approve_contract_template_publication(template_code: TemplateCode, version_number: VersionNumber,
                                          body: TemplateApproval, session: DB, clock: WallClock,
                                          principal: Principal = require("contract.template.approve")) -> Any:
    """By someone other than the requester; the version in force until now is retired (contracts made before
    keep theirs, new contracts use this one)."""
    return templates.approve_publication(session=session, clock=clock, actor=principal.actor,
                                         institution_id=principal.institution_id, code=template_code,
                                         number=version_number, reason=body.reason)


@router.post("/contract-templates/{template_code}/versions/{version_number}/publication-request/reject",
             response_model=TemplateDetail, operation_id="reject_contract_template_publication",
             summary="Refuse a requested contract template, with the reason", responses=REVIEW_RESPONSES)
def reject_contract_template_publication(template_code: TemplateCode, version_number: VersionNumber,
                                         body: TemplateRejection, session: DB, clock: WallClock,
                                         principal: Principal = require("contract.template.approve")) -> Any:
    """By someone other than the requester; the draft stays a draft, editable again; the version in force stays."""
    return templates.reject_publication(session=session, clock=clock, actor=principal.actor,
                                        institution_id=principal.institution_id, code=template_code,
                                        number=version_number, reason=body.reason)


@router.get("/contract-templates/{template_code}/versions/{version_number}/docx",
            operation_id="get_contract_template_docx", summary="A template version's Word (.docx) template",
            response_class=Response, responses={200: {"content": {contracts.DOCX: {}}}})
def get_contract_template_docx(template_code: TemplateCode, version_number: VersionNumber, session: DB,
                               clock: WallClock, principal: Principal = READERS) -> Response:
    """The docxtpl source the editable copy of each contract is made from, to edit in Word and upload."""
    row = templates.version(session=session, clock=clock, institution_id=principal.institution_id,
                            code=template_code, number=version_number)
    return _file(row.docx, f"template-{row.code}-{row.number}.docx", docx=True)


@router.put("/contract-templates/{template_code}/versions/{version_number}/docx", response_model=TemplateDetail,
            operation_id="replace_contract_template_docx", summary="Upload an edited Word template to a draft",
            responses={409: {"description": "`template_not_editable`"},
                       422: {"description": "`template_invalid` (field `docx`): not a .docx, above 2 MB (or 32 MB "
                                            "unpacked), or it does not render against the sample terms"}})
def replace_contract_template_docx(
        template_code: TemplateCode, version_number: VersionNumber, session: DB, clock: WallClock,
        file: Annotated[UploadFile, File(description="The .docx, with docxtpl tags such as {{ borrower.name }}")],
        principal: Principal = require("product.manage")) -> Any:
    """Only a draft; checked before any parser reads it, then rendered against the sample terms."""
    content = file.file.read(templates.DOCX_MAX_BYTES + 1)  # one byte past the limit tells it was exceeded
    return templates.replace_docx(session=session, clock=clock, actor=principal.actor,
                                  institution_id=principal.institution_id, code=template_code, number=version_number,
                                  content=content)


@router.get("/contract-templates/{template_code}/versions/{version_number}/preview.docx",
            operation_id="preview_contract_template_docx", summary="A template's Word copy filled with a sample",
            response_class=Response, responses={200: {"content": {contracts.DOCX: {}}}})
def preview_contract_template_docx(template_code: TemplateCode, version_number: VersionNumber, session: DB,
                                   clock: WallClock, principal: Principal = READERS) -> Response:
    """The .docx of sample parties and terms (nothing stored)."""
    row = templates.version(session=session, clock=clock, institution_id=principal.institution_id,
                            code=template_code, number=version_number)
    return _file(templates.preview_docx(row), f"preview-{row.code}-{row.number}.docx", docx=True)


@router.get("/contract-templates/{template_code}/versions/{version_number}/preview",
            operation_id="preview_contract_template", summary="A template version rendered against a sample",
            response_class=Response, responses={200: {"content": {"application/pdf": {}}}})
def preview_contract_template(template_code: TemplateCode, version_number: VersionNumber, session: DB,
                              clock: WallClock, principal: Principal = READERS) -> Response:
    """A PDF of sample parties and terms (nothing stored)."""
    row = templates.version(session=session, clock=clock, institution_id=principal.institution_id,
                            code=template_code, number=version_number)
    return _file(templates.preview_pdf(row), f"preview-{row.code}-{row.number}.pdf", download=False)


# --- The demo CA's OCSP responder (RFC 6960) -------------------------------------------------------------------

OCSP_REQUEST, OCSP_RESPONSE = "application/ocsp-request", "application/ocsp-response"
OCSP_MAX_BYTES = 8192  # a request for one certificate is about a hundred bytes
OCSP_GET_MAX_CHARS = 1024  # the base64 of a GET request (RFC 5019 §5: GET for requests under 255 bytes)
OCSP_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "A DER OCSPResponse (RFC 6960 §4.2): `successful` with the certificate's status (good, "
                         "revoked with time and reason, unknown), signed by the demo root; `malformedRequest` for a "
                         "request that cannot be parsed; `unauthorized` when there is no demo CA (production)",
          "content": {OCSP_RESPONSE: {"schema": {"type": "string", "format": "binary"}}}}}


def _ocsp_answer(request: Request, clock: Any, der: bytes) -> Response:
    from cryptography.hazmat.primitives.serialization import Encoding
    from cryptography.x509 import ocsp

    runtime = runtime_of(request)
    folder = runtime.settings.data_dir.resolve() / signing.DEMO_FOLDER
    if runtime.settings.mode.value == "production" or not (folder / signing.CA_KEY).is_file():
        answer = ocsp.OCSPResponseBuilder.build_unsuccessful(ocsp.OCSPResponseStatus.UNAUTHORIZED).public_bytes(
            Encoding.DER)
    elif len(der) > OCSP_MAX_BYTES:
        answer = ocsp.OCSPResponseBuilder.build_unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST).public_bytes(
            Encoding.DER)
    else:
        answer = signing.demo_ocsp(folder, der, at=clock.now())
    return Response(answer, media_type=OCSP_RESPONSE, headers={"Cache-Control": "no-store"})


@router.post("/pki/ocsp", operation_id="ocsp_post", tags=["pki"], dependencies=[public()],
             summary="The demo CA's OCSP responder (POST)", response_class=Response, responses=OCSP_RESPONSES,
             openapi_extra={"requestBody": {"required": True, "content": {OCSP_REQUEST: {
                 "schema": {"type": "string", "format": "binary"}}}}})
async def ocsp_post(request: Request, clock: WallClock) -> Response:
    """An OCSP request (DER, `application/ocsp-request`) about a certificate of the demo CA, answered as RFC 6960
    asks. Demo and tests only: the URL the demo's certificates name in their Authority Information Access."""
    body = await request.body()
    return _ocsp_answer(request, clock, body)


@router.get("/pki/ocsp/{ocsp_request}", operation_id="ocsp_get", tags=["pki"], dependencies=[public()],
            summary="The demo CA's OCSP responder (GET)", response_class=Response, responses=OCSP_RESPONSES)
def ocsp_get(request: Request, clock: WallClock,
             ocsp_request: Annotated[str, Path(max_length=OCSP_GET_MAX_CHARS,
                                               description="The DER request, base64 then URL-encoded "
                                                           "(RFC 6960 §A.1); URL-safe base64 also taken")]) -> Response:
    """The same request by GET (cacheable by proxies in RFC 6960; answered fresh here). GET is for short
    requests (RFC 5019 §5: under 255 bytes; one certificate's is about a hundred): a longer one goes by POST."""
    import base64
    import binascii
    from urllib.parse import unquote

    text = unquote(ocsp_request)
    try:  # standard base64; URL-safe too, for clients that cannot put a "/" in a path segment
        der = (base64.urlsafe_b64decode(text) if "-" in text or "_" in text
               else base64.b64decode(text, validate=True))
    except (binascii.Error, ValueError):
        der = b""
    return _ocsp_answer(request, clock, der)
