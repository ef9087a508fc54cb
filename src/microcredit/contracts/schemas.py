"""API shapes of contracts: a contract with its terms and signing record, the HTML view, signing, templates."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field

from microcredit.platform.schema import InputSchema, MultiLine, OutputSchema

ContractStatus = Literal["ready", "signed", "void"]
TemplateStatus = Literal["draft", "published", "retired"]
ReviewStatus = Literal["pending", "approved", "rejected"]
SHA256 = r"^[0-9a-fA-F]{64}$"


class SignatureRecordRead(OutputSchema):
    """The borrower's e-signature: when, from where, on which document (its SHA-256)."""

    signed_at: datetime
    signer_name: str | None
    ip: str | None
    device_id: str | None
    user_agent: str | None
    document_sha256: str = Field(description="SHA-256 of the PDF the borrower signed (the contract's `pdf_sha256`)")
    institution_signed_at: datetime | None
    certificate_subject: str | None = Field(description="The institution's signing certificate (RFC 4514)")


class ContractRead(OutputSchema):
    """A contract: its status, the terms it states, its files' digests and, once signed, the signing record."""

    id: int
    application_id: int
    number: str
    status: ContractStatus
    template_code: str
    template_number: int
    terms: dict[str, Any] = Field(description="What the contract states (money and rates as strings): amount, "
                                  "annual_rate_percent, apr_percent, installments, totals, fees, penalty …")
    pdf_sha256: str = Field(description="SHA-256 (hex) of the contract PDF the borrower reads and signs")
    pdf_size: int
    docx_sha256: str
    signed_pdf_sha256: str | None = Field(description="SHA-256 of the institution-signed PDF (PAdES), as signed")
    archive_pdf_sha256: str | None = Field(
        default=None, description="SHA-256 of the signed PDF a download serves after its archive time stamps were "
        "renewed (the signed PDF with new document time stamps appended; its first bytes are the signed PDF's); "
        "None before any renewal, when the download is the signed PDF itself")
    created_at: datetime
    signature: SignatureRecordRead | None = None

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": 4, "application_id": 17, "number": "MC-20261202-000017-HT", "status": "ready",
        "template_code": "loan", "template_number": 1,
        "terms": {"amount": "10000.00", "annual_rate_percent": "12", "apr_percent": "12.68", "term": 6,
                  "repayment_method": "equal_installment", "installments": [{"number": 1, "due_date": "2027-01-15",
                                                                              "total": "1725.48"}]},
        "pdf_sha256": "3f0c…", "pdf_size": 61234, "docx_sha256": "a91b…", "signed_pdf_sha256": None,
        "archive_pdf_sha256": None, "created_at": "2026-12-02T03:00:00Z", "signature": None}]})


class ContractHtmlRead(OutputSchema):
    """The contract as HTML (the same template version and terms as the PDF), and the digest to sign."""

    html: str = Field(description="A whole HTML document; show it in a sandboxed frame")
    pdf_sha256: str = Field(description="Send this back when signing: the PDF this HTML shows")


class SigningCodeRead(OutputSchema):
    """A code was sent to the borrower's phone."""

    phone_masked: str
    expires_in: int = Field(description="Seconds the code stays valid")
    resend_after: int = Field(description="Seconds before another code may be asked for")


class ContractSign(InputSchema):
    """Sign with the SMS code and the SHA-256 of the document read."""

    sms_code: str = Field(min_length=1, max_length=12, examples=["123456"])
    document_sha256: str = Field(pattern=SHA256, description="The `pdf_sha256` of the contract as shown")

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "sms_code": "123456", "document_sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}]})


class TemplateRead(OutputSchema):
    """One version of a contract template (without its sources)."""

    id: int
    code: str
    number: int
    status: TemplateStatus
    name: str
    language: str
    note: str | None
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
    review_status: ReviewStatus | None = Field(
        description="The publication request: `pending` (waiting for a second person; the draft is frozen), "
                    "`approved` (published by that person), `rejected` (with `review_reason`; the draft is "
                    "editable and may be requested again); null when never requested")
    requested_at: datetime | None
    requested_by_user_id: int | None = Field(description="Who requested publication (never its approver)")
    reviewed_at: datetime | None
    reviewed_by_user_id: int | None = Field(description="Who approved or rejected the request")
    review_reason: str | None

    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [{
        "id": 7, "code": "loan", "number": 2, "status": "draft", "name": "小额贷款借款合同", "language": "zh-CN",
        "note": "第九条增加仲裁选项", "created_at": "2026-12-04T02:00:00Z", "updated_at": "2026-12-04T02:10:00Z",
        "published_at": None, "review_status": "pending", "requested_at": "2026-12-04T02:10:00Z",
        "requested_by_user_id": 3, "reviewed_at": None, "reviewed_by_user_id": None, "review_reason": None}]})


class TemplateDetail(TemplateRead):
    """A version with its HTML source (Jinja2; see docs/contracts.md for the names it may use)."""

    html: str


class TemplateUpdate(InputSchema):
    """Change a draft: its name, HTML source or note (only the fields sent)."""

    name: str | None = Field(default=None, min_length=1, max_length=120)
    html: Annotated[str, MultiLine()] | None = Field(default=None, min_length=1, max_length=200_000)
    note: str | None = Field(default=None, max_length=255)

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"note": "第十条措辞调整"}]})


class TemplateApproval(InputSchema):
    """The second person's approval of a publication request (a note is optional)."""

    reason: str | None = Field(default=None, max_length=500, description="Why it may be published (recorded)")

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"reason": "法务已审阅第九条"}]})


class TemplateRejection(InputSchema):
    """The second person's refusal of a publication request, with the reason the editor will read."""

    reason: str = Field(min_length=1, max_length=500, description="What must change before it is requested again")

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"reason": "第九条仲裁机构名称有误"}]})
