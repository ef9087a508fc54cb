"""Consent: the institution's versioned documents and each person's acceptance of them.

A borrower accepts three documents: the user agreement, the privacy policy and,
*separately*, the rules on processing sensitive personal information (the
resident ID number) — PIPL art. 29 asks for a consent of its own for that. Each
acceptance names the exact version and the SHA-256 of the text shown, with the
time (UTC), the channel (`online`, `walk_in`, `app`) and the request's IP and
user agent. Documents are immutable: a change is a new version, which becomes
the one in effect; a registration that accepted an older version is refused
(`consent_version_stale`) so nobody accepts a text they were not shown.
Withdrawal is recorded on the consent with its time; nothing is deleted.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence

from sqlalchemy.orm import Session

from microcredit.audit import service as audit
from microcredit.clock import Clock
from microcredit.consent import repository as repo
from microcredit.consent.defaults import DEFAULT_VERSION, DEFAULTS
from microcredit.consent.errors import (
    AlreadyWithdrawn,
    ConsentRequired,
    ConsentVersionStale,
    DocumentMissing,
    DocumentNotFound,
    VersionTaken,
)
from microcredit.consent.models import CHANNELS, KINDS, ConsentDocument, ConsentRecord
from microcredit.errors import FieldProblem, NotFound
from microcredit.platform.actor import Actor

__all__ = ["CHANNELS", "KINDS", "ConsentDocument", "ConsentRecord"]


def content_hash(*, title_zh: str, title_en: str, body_zh: str, body_en: str) -> str:
    """SHA-256 (hex) of a document's text: both titles and bodies, in a fixed canonical JSON."""
    text = json.dumps({"title_zh": title_zh, "title_en": title_en, "body_zh": body_zh, "body_en": body_en},
                      sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _new_document(*, institution_id: int, kind: str, version: str, title_zh: str, title_en: str, body_zh: str,
                  body_en: str, clock: Clock, published_by: int | None) -> ConsentDocument:
    now = clock.now()
    return ConsentDocument(
        institution_id=institution_id, kind=kind, version=version, title_zh=title_zh, title_en=title_en,
        body_zh=body_zh, body_en=body_en,
        content_hash=content_hash(title_zh=title_zh, title_en=title_en, body_zh=body_zh, body_en=body_en),
        effective_from=now, published_at=now, published_by_user_id=published_by)


def seed_defaults(*, session: Session, clock: Clock, institution_id: int) -> list[ConsentDocument]:
    """Give an institution the default version of every document it has none of (a new institution's start)."""
    added = []
    for d in DEFAULTS:
        if repo.versions(session, institution_id=institution_id, kind=d.kind):
            continue
        doc = _new_document(institution_id=institution_id, kind=d.kind, version=DEFAULT_VERSION,
                            title_zh=d.title_zh, title_en=d.title_en, body_zh=d.body_zh, body_en=d.body_en,
                            clock=clock, published_by=None)
        repo.add(session, doc)
        added.append(doc)
    return added


def publish(*, session: Session, clock: Clock, actor: Actor, institution_id: int, kind: str, version: str,
            title_zh: str, title_en: str, body_zh: str, body_en: str) -> ConsentDocument:
    """Publish a new version of a document; it is in effect from now on, the older ones are kept."""
    if repo.document(session, institution_id=institution_id, kind=kind, version=version) is not None:
        raise VersionTaken(field="version")
    doc = _new_document(institution_id=institution_id, kind=kind, version=version, title_zh=title_zh,
                        title_en=title_en, body_zh=body_zh, body_en=body_en, clock=clock,
                        published_by=actor.user_id)
    repo.add(session, doc)
    audit.record(session=session, clock=clock, actor=actor, action="consent_document.published",
                 entity_type="consent_document", entity_id=doc.id, institution_id=institution_id,
                 after={"kind": kind, "version": version, "content_hash": doc.content_hash})
    return doc


def current_documents(*, session: Session, clock: Clock, institution_id: int) -> list[ConsentDocument]:
    """The versions in effect now, in the order registration shows them."""
    found = {d.kind: d for d in repo.current_documents(session, institution_id=institution_id, now=clock.now())}
    return [found[k] for k in KINDS if k in found]


def document(*, session: Session, institution_id: int, kind: str, version: str) -> ConsentDocument:
    """One version of one document of the institution."""
    doc = repo.document(session, institution_id=institution_id, kind=kind, version=version)
    if doc is None:
        raise DocumentNotFound()
    return doc


def versions(*, session: Session, institution_id: int, kind: str) -> list[ConsentDocument]:
    """Every published version of a document, newest first."""
    return repo.versions(session, institution_id=institution_id, kind=kind)


def required_documents(*, session: Session, clock: Clock, institution_id: int) -> list[ConsentDocument]:
    """The versions in effect of all three documents registration needs (refused if one was never published)."""
    documents = current_documents(session=session, clock=clock, institution_id=institution_id)
    if [d.kind for d in documents] != list(KINDS):
        raise DocumentMissing()
    return documents


def _problem(kind: str, refusal: type[ConsentRequired | ConsentVersionStale]) -> FieldProblem:
    return FieldProblem(f"consents.{kind}", refusal.code, refusal.message_en, refusal.message_zh)


def judge(current: Mapping[str, str], accepted: Mapping[str, str | None] | None) -> dict[str, str]:
    """What is wrong with an acceptance, per kind: `consent_required` or `consent_version_stale` (empty: none).

    `current` is the version in effect of every kind; `accepted` what the
    person accepted. A kind missing or empty is required; a version other than
    the current one (older, newer or unknown) is stale.
    """
    given = dict(accepted or {})
    wrong: dict[str, str] = {}
    for kind in KINDS:
        if not given.get(kind):
            wrong[kind] = ConsentRequired.code
        elif given[kind] != current.get(kind):
            wrong[kind] = ConsentVersionStale.code
    return wrong


def check_acceptance(*, session: Session, clock: Clock, institution_id: int,
                     accepted: Mapping[str, str | None] | None) -> list[ConsentDocument]:
    """The documents in effect, if `accepted` names the current version of each; else refuse, naming each kind.

    The refusal is `consent_required` if any kind was not accepted, otherwise
    `consent_version_stale`; its errors name each kind (`consents.<kind>`).
    Checked before anything is written.
    """
    documents = required_documents(session=session, clock=clock, institution_id=institution_id)
    wrong = judge({d.kind: d.version for d in documents}, accepted)
    if wrong:
        refusal = ConsentRequired if ConsentRequired.code in wrong.values() else ConsentVersionStale
        raise refusal([_problem(kind, ConsentRequired if code == ConsentRequired.code else ConsentVersionStale)
                       for kind, code in wrong.items()])
    return documents


def _subject(borrower_id: int | None, user_id: int) -> tuple[str, int]:
    return ("borrower", borrower_id) if borrower_id is not None else ("user", user_id)


def record_acceptance(*, session: Session, clock: Clock, actor: Actor, institution_id: int, user_id: int,
                      borrower_id: int | None, documents: Sequence[ConsentDocument], channel: str,
                      recorded_by_user_id: int | None = None) -> list[ConsentRecord]:
    """Record that a person accepted these document versions (in the caller's transaction), and audit it."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown consent channel {channel!r}")
    now = clock.now()
    records = []
    for doc in documents:
        rec = ConsentRecord(
            institution_id=institution_id, user_id=user_id, borrower_id=borrower_id, document_id=doc.id,
            kind=doc.kind, version=doc.version, content_hash=doc.content_hash, channel=channel, accepted_at=now,
            ip=actor.meta.ip, user_agent=(actor.meta.user_agent or "")[:255] or None,
            recorded_by_user_id=recorded_by_user_id)
        repo.add(session, rec)
        records.append(rec)
    entity_type, entity_id = _subject(borrower_id, user_id)
    audit.record(session=session, clock=clock, actor=actor, action="consent.given", entity_type=entity_type,
                 entity_id=entity_id, institution_id=institution_id,
                 after={"channel": channel, "documents": {d.kind: d.version for d in documents},
                        "recorded_by_user_id": recorded_by_user_id})
    return records


def accept_current(*, session: Session, clock: Clock, actor: Actor, institution_id: int, user_id: int,
                   borrower_id: int | None, kind: str, version: str, channel: str) -> ConsentRecord:
    """A signed-in person accepts the version in effect of one document (a new version, or again after withdrawing)."""
    current = {d.kind: d for d in current_documents(session=session, clock=clock, institution_id=institution_id)}
    if kind not in current:
        raise DocumentMissing()
    if current[kind].version != version:
        raise ConsentVersionStale([_problem(kind, ConsentVersionStale)], field="version")
    return record_acceptance(session=session, clock=clock, actor=actor, institution_id=institution_id,
                             user_id=user_id, borrower_id=borrower_id, documents=[current[kind]],
                             channel=channel)[0]


def records_of_user(*, session: Session, user_id: int) -> list[ConsentRecord]:
    """A person's consents, newest first (withdrawn ones included, with their time)."""
    return repo.records_of_user(session, user_id)


def records_of_borrower(*, session: Session, borrower_id: int) -> list[ConsentRecord]:
    """A borrower's consents, newest first (withdrawn ones included, with their time)."""
    return repo.records_of_borrower(session, borrower_id)


def withdraw(*, session: Session, clock: Clock, actor: Actor, user_id: int, record_id: int) -> ConsentRecord:
    """A person withdraws one of their own consents: the time is recorded, the record kept.

    What follows from it (no new applications after withdrawing the sensitive
    information consent) is for the domains that take applications to read.
    """
    rec = repo.record_for_update(session, record_id)
    if rec is None or rec.user_id != user_id:
        raise NotFound()
    if rec.withdrawn_at is not None:
        raise AlreadyWithdrawn()
    rec.withdrawn_at = clock.now()
    rec.withdrawn_by_user_id = actor.user_id
    session.flush()
    entity_type, entity_id = _subject(rec.borrower_id, rec.user_id)
    audit.record(session=session, clock=clock, actor=actor, action="consent.withdrawn", entity_type=entity_type,
                 entity_id=entity_id, institution_id=rec.institution_id,
                 after={"kind": rec.kind, "version": rec.version, "consent_id": rec.id})
    return rec


def current_versions(*, session: Session, clock: Clock, institution_id: int) -> dict[str, str]:
    """The version in effect of each kind (to mark records of older versions)."""
    return {d.kind: d.version for d in current_documents(session=session, clock=clock, institution_id=institution_id)}
