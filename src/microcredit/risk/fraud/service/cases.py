"""The investigator's queue: cases opened by the review and the scan, their notes, verdicts, and the labels.

A verdict (`fraud` / `not_fraud`, by a holder of `risk.fraud.investigate`, with a reason) closes the case
and labels every application in it. Labels are used twice: the fraud check declines a new application that
shares a linking identifier with an application labelled `fraud` (`fraud_confirmed_link`), and `labels`
exports them (application number, label, when) for training the scoring and anomaly models.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from microcredit.audit import service as audit
from microcredit.errors import Conflict
from microcredit.platform.actor import Actor
from microcredit.risk.assessment import ApplicantFacts, Assessment, Outcome, Stage
from microcredit.risk.fraud import repository as repo
from microcredit.risk.fraud.errors import FraudCaseClosed, FraudCaseNotFound
from microcredit.risk.fraud.models import FraudCase, FraudCaseNote, FraudIdentifier, FraudLabel
from microcredit.risk.fraud.service.detection import Gathered
from microcredit.risk.service.kit import RiskKit


def open_for_review(session: Session, kit: RiskKit, facts: ApplicantFacts, assessment: Assessment,
                    gathered: Gathered) -> FraudCase | None:
    """Open a case when the review referred or declined the application on a fraud-stage result (an open case of
    the same application is brought up to date instead). None when no fraud rule fired."""
    codes = sorted({r.code for r in assessment.results
                    if r.stage == Stage.FRAUD and r.outcome in (Outcome.FLAG, Outcome.FAIL)})
    if not codes:
        return None
    s = gathered.signals
    signals = {"codes": codes, "decision": assessment.decision.value, "ring_persons": s.ring_persons,
               "ring_applications": s.ring_applications, "shared_identifiers": s.shared_identifiers,
               "confirmed_links": s.confirmed_links, "anomaly": round(s.anomaly, 4), "new_device": s.new_device,
               "hour": s.hour, "model": gathered.model_digest[:16]}
    row = repo.open_case_of_application(session, facts.institution_id, facts.application_number)
    if row is None:
        row = FraudCase(institution_id=facts.institution_id, source="review", status="open",
                        application_number=facts.application_number, members=list(gathered.members),
                        persons=s.ring_persons, signals=signals, opened_at=kit.clock.now())
        repo.add(session, row)
    else:
        row.members = list(gathered.members)
        row.persons = s.ring_persons
        row.signals = signals
        session.flush()
    return row


def page(*, session: Session, institution_id: int, status: str | None, source: str | None, offset: int,
         limit: int) -> tuple[list[FraudCase], int]:
    """A page of the queue (oldest first) and the count that matched."""
    return repo.cases(session, institution_id, status=status, source=source, offset=offset, limit=limit)


def get(*, session: Session, institution_id: int, case_id: int, for_update: bool = False) -> FraudCase:
    """One case of the institution."""
    row = repo.case(session, institution_id, case_id, for_update=for_update)
    if row is None:
        raise FraudCaseNotFound()
    return row


@dataclass(frozen=True)
class Node:
    """A node of the case's picture: an application or a shared identifier."""

    id: str
    kind: str  # "application" or the identifier's kind
    label: str
    flagged: bool = False  # the application the case is about


@dataclass(frozen=True)
class Picture:
    """The ring as nodes and edges (application → identifier it shares with another member)."""

    nodes: tuple[Node, ...]
    edges: tuple[tuple[str, str], ...]


def picture(*, session: Session, row: FraudCase) -> Picture:
    """The applications of the case and every identifier two or more of them gave (masked), as a graph."""
    rows: list[FraudIdentifier] = repo.of_applications(session, row.institution_id, row.members)
    by_value: dict[tuple[str, str], list[FraudIdentifier]] = {}
    for r in rows:
        by_value.setdefault((r.kind, r.value_index), []).append(r)
    nodes = [Node(id=f"a:{n}", kind="application", label=n, flagged=n == row.application_number)
             for n in row.members]
    edges: list[tuple[str, str]] = []
    for i, ((kind, _), given) in enumerate(sorted(by_value.items())):
        if len({g.application_number for g in given}) < 2 or (kind == "id_number" and len(
                {g.person_index for g in given}) < 2):
            continue
        node_id = f"i:{i}"
        nodes.append(Node(id=node_id, kind=kind, label=given[0].value_masked))
        edges.extend((f"a:{g.application_number}", node_id) for g in given)
    return Picture(nodes=tuple(nodes), edges=tuple(sorted(set(edges))))


def notes(*, session: Session, row: FraudCase) -> list[FraudCaseNote]:
    """The case's notes, oldest first."""
    return repo.notes(session, row.id)


def add_note(*, session: Session, kit: RiskKit, actor: Actor, institution_id: int, case_id: int,
             body: str) -> FraudCaseNote:
    """Add a note to a case (open or closed: an investigator may add what they learn later); audited."""
    row = get(session=session, institution_id=institution_id, case_id=case_id)
    note = FraudCaseNote(case_id=row.id, body=body, created_at=kit.clock.now(), created_by_user_id=actor.user_id)
    repo.add(session, note)
    audit.record(session=session, clock=kit.clock, actor=actor, action="risk_fraud_case.noted",
                 entity_type="risk_fraud_case", entity_id=row.id, institution_id=institution_id,
                 after={"note_id": note.id, "length": len(body)})
    return note


def decide(*, session: Session, kit: RiskKit, actor: Actor, institution_id: int, case_id: int, verdict: str,
           reason: str, lock_version: int) -> FraudCase:
    """Record the verdict: the case closes and every application in it is labelled (audited)."""
    row = get(session=session, institution_id=institution_id, case_id=case_id, for_update=True)
    if row.status != "open":
        raise FraudCaseClosed()
    if row.lock_version != lock_version:
        raise Conflict(field="lock_version")
    now = kit.clock.now()
    row.status = "closed"
    row.verdict = verdict
    row.verdict_reason = reason
    row.decided_at = now
    row.decided_by_user_id = actor.user_id
    session.flush()
    for number in row.members:
        repo.add(session, FraudLabel(institution_id=institution_id, application_number=number, case_id=row.id,
                                     label=verdict, labelled_at=now))
    audit.record(session=session, clock=kit.clock, actor=actor, action="risk_fraud_case.decided",
                 entity_type="risk_fraud_case", entity_id=row.id, institution_id=institution_id,
                 before={"status": "open"},
                 after={"verdict": verdict, "reason": reason, "labelled": len(row.members)})
    return row


def labels(*, session: Session, institution_id: int) -> list[FraudLabel]:
    """Every label (application number, label, case, when): the export for training."""
    return repo.labels(session, institution_id)
