"""API shapes of documents: a document as listed, and the audited views of one."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import ConfigDict, Field

from microcredit.platform.schema import OutputSchema

# The products' DocumentTypeName list (products.product_schemas), repeated: documents sit below products.
DocumentType = Literal[
    "id_card", "household_register", "marriage_certificate", "income_proof", "bank_statement",
    "asset_proof", "business_licence", "tax_record", "land_contract", "guarantee_letter",
]
# What a stored document may be: the above, and a collector's photo of a field visit (uploaded only
# through its collection case, never as a borrower's or an officer's document).
StoredDocumentType = Literal[
    "id_card", "household_register", "marriage_certificate", "income_proof", "bank_statement",
    "asset_proof", "business_licence", "tax_record", "land_contract", "guarantee_letter", "visit_photo",
]
DocumentStatus = Literal["active", "replaced", "removed"]
DocumentChannel = Literal["online", "branch", "app"]
DocumentContentType = Literal["image/jpeg", "image/png", "application/pdf"]


class DocumentRead(OutputSchema):
    """One document of a borrower (its bytes come from the content route, each read audited)."""

    id: int
    borrower_id: int
    type: StoredDocumentType
    status: DocumentStatus
    subject_kind: str | None
    subject_id: int | None
    content_type: DocumentContentType = Field(description="Detected from the content; images are stored as JPEG "
                                              "(PNG stays PNG)")
    size: int = Field(description="Bytes stored (after re-encoding)")
    sha256: str = Field(description="SHA-256 (hex) of the stored bytes")
    original_filename: str = Field(description="The uploaded file's name, sanitised; for display only")
    channel: DocumentChannel
    uploaded_by_user_id: int | None
    uploaded_at: datetime
    replaced_by_id: int | None
    status_changed_at: datetime | None

    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [{
        "id": 12, "borrower_id": 3, "type": "id_card", "status": "active", "subject_kind": None,
        "subject_id": None, "content_type": "image/jpeg", "size": 184220,
        "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "original_filename": "身份证正面.jpg", "channel": "online", "uploaded_by_user_id": 7,
        "uploaded_at": "2026-11-25T02:00:00Z", "replaced_by_id": None, "status_changed_at": None}]})


class DocumentViewRead(OutputSchema):
    """One audited view of a document's file."""

    seq: int | None = Field(description="The audit record's sequence number; null for the milliseconds before "
                            "it is sealed into the hash chain")
    at: datetime
    actor_user_id: int | None
    actor_name: str | None = None
    actor_kind: str
    ip: str | None
    request_id: str | None
