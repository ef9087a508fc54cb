"""The automated review origination calls at submission: risk's `assess`, behind a typed port.

`Assessor` is the shape of `microcredit.risk.service.assess(session, facts) -> Assessment`; the
submission takes one as an argument (tests pass their own to reach each decision). `default_assessor`
is what the API and the demo use.

Until the risk domain's automated review is merged into this branch, `default_assessor` runs no
rule and refers every application to people (`refer`, with no results and rule set `none@0`): the
conservative answer, never an automatic approval or decline. The lead wires `risk.service.assess`
in its place at the merge.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from microcredit.documents import service as documents
from microcredit.risk.assessment import ApplicantFacts, Assessment, Decision

Assessor = Callable[[Session, ApplicantFacts], Assessment]
NO_RULE_SET = "none@0"


def refer_everything(session: Session, facts: ApplicantFacts) -> Assessment:
    """No automated review available: people decide (no rule ran, nothing is approved or declined)."""
    return Assessment(decision=Decision.REFER, results=(), rule_set=NO_RULE_SET)


def default_assessor() -> Assessor:
    """risk's automated review (until it is merged: refer everything to people)."""
    return refer_everything


def documents_on_file(session: Session, *, party_id: int) -> frozenset[str]:
    """The document types a borrower has on file (active documents, from the documents domain)."""
    return documents.types_for_party(session, party_id=party_id)
