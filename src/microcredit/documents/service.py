"""Documents: a borrower's files, checked by content, re-encoded, stored through platform.storage.

This domain sits below parties: it never looks a borrower up. The routes
(documents.api) resolve the borrower with its scope check and hand the
borrower id, institution and branch here.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from microcredit.documents import repository as repo
from microcredit.documents.models import CHANNELS, DOCUMENT_TYPES, STATUSES, Document

__all__ = ["CHANNELS", "DOCUMENT_TYPES", "STATUSES", "Document", "types_for_party"]


def types_for_party(session: Session, *, party_id: int) -> frozenset[str]:
    """The document types a borrower (`party_id` is the borrower's id) has on file: active documents only."""
    return frozenset(repo.active_types(session, borrower_id=party_id))
