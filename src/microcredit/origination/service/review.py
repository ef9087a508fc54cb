"""The automated review origination calls at submission: risk's `assess`, behind a typed port.

`Assessor` is the shape of `microcredit.risk.service.assess(session, facts) -> Assessment`; the
submission takes one as an argument (tests pass their own to reach each decision).
`default_assessor` is what the API and the demo use: risk's automated review (the institution's
rule set in force, the ID check and the credit bureau through their adapters, the scorer).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from microcredit.documents import service as documents
from microcredit.risk import service as risk
from microcredit.risk.assessment import ApplicantFacts, Assessment

Assessor = Callable[[Session, ApplicantFacts], Assessment]


def risk_review(session: Session, facts: ApplicantFacts) -> Assessment:
    """risk's automated review with the process's risk kit."""
    return risk.assess(session, facts)


def default_assessor() -> Assessor:
    """risk's automated review."""
    return risk_review


def documents_on_file(session: Session, *, party_id: int) -> frozenset[str]:
    """The document types a borrower has on file (active documents, from the documents domain)."""
    return documents.types_for_party(session, party_id=party_id)
