"""Documents: a borrower's files, checked by content, re-encoded, kept in storage, each view audited.

This domain sits below parties: it never looks a borrower up. The routes
(documents.api) resolve the borrower with its scope check and hand the
borrower id, institution and branch here.

An upload (`upload`) goes: the type from the content (documents.content) →
the size limit of the document type and kind of content → image re-encoding
(metadata dropped) or PDF checks → duplicate check per borrower on the SHA-256
of both the uploaded and the stored bytes (`duplicate_document`, naming the
one on file) → the bytes into storage under a generated key → the row; the
active document of that type, if any, becomes `replaced` (kept, with its file).
The bytes are written before the row: a failure in between leaves at most an
unreferenced object in storage, never a row without its file.

Every read of a file's bytes (`read_content`) writes a `document.viewed` audit
record in the same transaction; `view_history` reads them back.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from microcredit.audit import service as audit
from microcredit.clock import Clock
from microcredit.config import DocumentSettings
from microcredit.documents import content
from microcredit.documents import repository as repo
from microcredit.documents.errors import DocumentFileMissing, DuplicateDocument
from microcredit.documents.models import CHANNELS, DOCUMENT_TYPES, MANY_AT_ONCE, STATUSES, SUBJECT_KINDS, Document
from microcredit.errors import FieldProblem, NotFound, ValidationFailed
from microcredit.platform.actor import Actor
from microcredit.platform.storage import ObjectMissing, Storage

__all__ = ["CHANNELS", "DOCUMENT_TYPES", "STATUSES", "SUBJECT_KINDS", "Document", "Owner", "View", "types_for_party"]

VIEWED = "document.viewed"


@dataclass(frozen=True)
class Owner:
    """The borrower a document belongs to, as the routes resolved it (with their scope check)."""

    borrower_id: int
    institution_id: int
    branch_id: int | None


def types_for_party(session: Session, *, party_id: int) -> frozenset[str]:
    """The document types a borrower (`party_id` is the borrower's id) has on file: active documents only."""
    return frozenset(repo.active_types(session, borrower_id=party_id))


def max_bytes(policy: DocumentSettings, *, type_: str, content_type: str) -> int:
    """The size limit of one document type for one kind of content (per-type setting, else image/PDF)."""
    if type_ in policy.max_bytes_by_type:
        return policy.max_bytes_by_type[type_]
    return policy.pdf_max_bytes if content_type == content.PDF else policy.image_max_bytes


def _check_choices(type_: str, channel: str, subject_kind: str | None) -> None:
    problems = []
    if type_ not in DOCUMENT_TYPES:
        problems.append(FieldProblem("type", "document_type_unknown", "Unknown document type", "未知的材料类型"))
    if channel not in CHANNELS:
        problems.append(FieldProblem("channel", "channel_unknown", "Unknown channel", "未知的渠道"))
    if subject_kind is not None and subject_kind not in SUBJECT_KINDS:
        problems.append(FieldProblem("subject_kind", "subject_kind_unknown", "Unknown subject", "未知的关联对象"))
    if problems:
        raise ValidationFailed(problems)


def upload(*, session: Session, clock: Clock, storage: Storage, policy: DocumentSettings, actor: Actor,
           owner: Owner, type_: str, data: bytes, filename: str | None, declared_type: str | None,
           channel: str, subject_kind: str | None = None, subject_id: int | None = None) -> Document:
    """Check, re-encode and store one file of a borrower; it becomes the active document of its type (or,
    for a type kept many at once, `MANY_AT_ONCE`, one more beside the others)."""
    _check_choices(type_, channel, subject_kind)
    detected = content.check_type(data, filename=filename, declared=declared_type)
    limits = content.Limits(max_bytes=max_bytes(policy, type_=type_, content_type=detected),
                            max_side=policy.image_max_side, max_pixels=policy.image_max_pixels,
                            jpeg_quality=policy.jpeg_quality)
    prepared = content.prepare(data, filename=filename, declared=declared_type, limits=limits)
    original_sha = hashlib.sha256(data).hexdigest()
    stored_sha = hashlib.sha256(prepared.data).hexdigest()
    existing = repo.with_digest(session, borrower_id=owner.borrower_id, digests=(original_sha, stored_sha))
    if existing is not None:
        raise DuplicateDocument(field="file", params={"document_id": existing.id},
                                extra={"conflict_with": {"entity_type": "document", "id": existing.id,
                                                  "name": existing.type}})
    previous = [] if type_ in MANY_AT_ONCE else repo.active_of_type_for_update(session, borrower_id=owner.borrower_id,
                                                                                 type_=type_)
    key = (f"documents/{owner.institution_id}/{owner.borrower_id}/"
           f"{uuid.uuid4().hex}.{content.STORED_EXTENSION[prepared.content_type]}")
    storage.put(key, prepared.data, prepared.content_type)
    now = clock.now()
    doc = Document(institution_id=owner.institution_id, branch_id=owner.branch_id, borrower_id=owner.borrower_id,
                   subject_kind=subject_kind, subject_id=subject_id, type=type_, storage_key=key,
                   sha256=stored_sha, original_sha256=original_sha, size=len(prepared.data),
                   content_type=prepared.content_type, original_filename=content.sanitise_filename(filename),
                   uploaded_by_user_id=actor.user_id, channel=channel, uploaded_at=now, status="active")
    repo.add(session, doc)
    for old in previous:
        old.status = "replaced"
        old.replaced_by_id = doc.id
        old.status_changed_at = now
    session.flush()
    audit.record(session=session, clock=clock, actor=actor, action="document.uploaded", entity_type="document",
                 entity_id=doc.id, institution_id=owner.institution_id,
                 after={"borrower_id": owner.borrower_id, "type": type_, "sha256": stored_sha, "size": doc.size,
                        "content_type": doc.content_type, "channel": channel,
                        "replaced": [old.id for old in previous]})
    return doc


def list_for_borrower(*, session: Session, borrower_id: int, include_inactive: bool = False) -> list[Document]:
    """A borrower's documents, newest first (active ones only unless asked)."""
    return repo.of_borrower(session, borrower_id=borrower_id, include_inactive=include_inactive)


def get(*, session: Session, document_id: int) -> Document:
    """One document (NotFound if there is none; the caller checks who may see it)."""
    doc = repo.get(session, document_id)
    if doc is None:
        raise NotFound()
    return doc


def read_content(*, session: Session, clock: Clock, storage: Storage, actor: Actor, document: Document) -> bytes:
    """The stored bytes of a document the caller may see; the view is audited in the same transaction."""
    try:
        data = storage.get(document.storage_key)
    except ObjectMissing as exc:
        raise DocumentFileMissing() from exc
    audit.record(session=session, clock=clock, actor=actor, action=VIEWED, entity_type="document",
                 entity_id=document.id, institution_id=document.institution_id,
                 after={"borrower_id": document.borrower_id, "type": document.type})
    return data


@dataclass(frozen=True)
class View:
    """One audited view of a document's file: when, by whom, from where."""

    seq: int | None  # None: the audit record is not sealed yet (milliseconds after the view)
    at: datetime
    actor_user_id: int | None
    actor_kind: str
    ip: str | None
    request_id: str | None


def view_history(*, session: Session, document: Document) -> list[View]:
    """Every audited view of a document, newest first."""
    return [View(seq=r.seq, at=r.at, actor_user_id=r.actor_user_id, actor_kind=r.actor_kind, ip=r.ip,
                 request_id=r.request_id)
            for r in audit.entity_history(session=session, entity_type="document", entity_id=document.id,
                                          action=VIEWED)]
