"""Keeping signed contracts verifiable for decades: the renewal of their archive time stamps (PAdES B-LTA).

A B-LTA contract proves itself with its last document time stamp, and only as long as that stamp's certificate
(the time-stamping authority's) is valid: after it ends, a verifier can no longer trust the stamp, and with it
the revocation information and the signature it covers. Before that end, a new document time stamp over the
whole file — with fresh revocation information for the previous stamp's chain — carries the proof forward
(ETSI EN 319 142-1, the LTA chain; pyHanko's `update_archival_timestamp_chain`, in contracts.signing).

`renew_timestamps` finds the signed contracts whose latest stamp's certificate ends before a horizon and renews
each in its own unit of work (one failure does not stop the others). A signed file is never overwritten: a
renewal is a new file under a new key (its bytes begin with the old file's, unchanged), a row in
`contract_archive_renewals` (when, the new stamp's time, the digests before and after, the certificate's end)
and an audit record `contract.archive_renewed`; the contract points its downloads at the new file. Run twice,
the second run finds nothing due: the new stamp's certificate outlasts the horizon.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy.orm import Session

from microcredit.audit import service as audit
from microcredit.clock import Clock
from microcredit.contracts import repository as repo
from microcredit.contracts import signing
from microcredit.contracts.models import ArchiveRenewal
from microcredit.contracts.service.contracts import Files, store
from microcredit.db.engine import Database
from microcredit.platform.actor import Actor
from microcredit.platform.storage import StorageError

DEFAULT_BEFORE = timedelta(days=365)
# At most this many renewals per institution in one close of business (each is a request to the authority and
# a validation): a year's margin spreads a large batch signed in one season over the days before it.
PER_RUN = 200
Outcome = Literal["renewed", "not_due", "not_archival"]


@dataclass
class RenewalReport:
    """What a run did: contracts looked at, renewed, found not due (their file read for the first time), not
    B-LTA (no document time stamp to renew), and failed (number and reason; nothing changed for those)."""

    checked: int = 0
    renewed: int = 0
    not_due: int = 0
    not_archival: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return len(self.failures)

    def as_dict(self) -> dict[str, object]:
        return {"checked": self.checked, "renewed": self.renewed, "not_due": self.not_due,
                "not_archival": self.not_archival, "failed": self.failed,
                "failures": [{"contract": n, "reason": r} for n, r in self.failures]}


def due(*, session: Session, horizon: datetime, institution_id: int | None = None) -> list[tuple[int, str]]:
    """The signed contracts (id, number) whose latest stamp's certificate ends before `horizon` (or not read yet)."""
    return repo.archive_due(session, horizon=horizon, institution_id=institution_id)


def renew_one(*, session: Session, clock: Clock, files: Files, contract_id: int, horizon: datetime) -> Outcome:
    """Renew one contract's archive time stamp if its latest stamp's certificate ends before `horizon`. The file
    served now is read and checked against its recorded SHA-256 first; `signing.SigningUnavailable` (the authority,
    the revocation information, a renewal that would gain nothing), `StorageError` and `IntegrityFailure` propagate,
    and the caller's unit of work (or savepoint) rolls back."""
    contract = repo.contract_for_update(session, contract_id)
    assert contract is not None
    assert contract.signed_pdf_key is not None
    assert contract.signed_pdf_sha256 is not None
    key = contract.archive_pdf_key or contract.signed_pdf_key
    digest = contract.archive_pdf_sha256 or contract.signed_pdf_sha256
    data = files.storage.get(key)
    if hashlib.sha256(data).hexdigest() != digest:
        raise IntegrityFailure(f"the stored file {key} does not hash to its recorded SHA-256")
    stamp = signing.archive_stamp(data)
    if stamp is None:
        return "not_archival"
    if stamp.valid_until >= horizon:
        if contract.archive_valid_until != stamp.valid_until:
            contract.archive_valid_until = stamp.valid_until
        return "not_due"
    now = clock.now()
    renewed = signing.renew_archive_timestamp(data, files.signer, at=now)
    after = signing.archive_stamp(renewed)
    assert after is not None
    new_key, new_digest = store(files.storage, contract.institution_id, contract.borrower_id, renewed, "pdf")
    repo.add(session, ArchiveRenewal(
        institution_id=contract.institution_id, contract_id=contract.id, renewed_at=now, timestamp_at=after.at,
        previous_sha256=digest, previous_valid_until=stamp.valid_until, pdf_key=new_key, pdf_sha256=new_digest,
        pdf_size=len(renewed), valid_until=after.valid_until, tsa_subject=after.tsa_subject))
    contract.archive_pdf_key, contract.archive_pdf_sha256 = new_key, new_digest
    contract.archive_valid_until = after.valid_until
    audit.record(session=session, clock=clock, actor=Actor.system(contract.institution_id),
                 action="contract.archive_renewed", entity_type="contract", entity_id=contract.id,
                 institution_id=contract.institution_id,
                 before={"sha256": digest, "valid_until": stamp.valid_until.isoformat()},
                 after={"sha256": new_digest, "timestamp_at": after.at.isoformat(),
                        "valid_until": after.valid_until.isoformat(), "document_time_stamps": after.count})
    return "renewed"


class IntegrityFailure(RuntimeError):
    """A stored signed file no longer hashes to its recorded digest: it is not renewed (and must be looked into)."""


def renew_timestamps(*, db: Database, clock: Clock, files: Files, before: timedelta = DEFAULT_BEFORE,
                     institution_id: int | None = None) -> RenewalReport:
    """Renew every signed contract whose latest stamp's certificate ends within `before` of the clock's now, each
    in its own unit of work; a failure is counted with its reason and the run goes on."""
    horizon = clock.now() + before
    report = RenewalReport()
    with db.unit_of_work(write=False) as session:
        contracts = due(session=session, horizon=horizon, institution_id=institution_id)
    for contract_id, number in contracts:
        report.checked += 1
        try:
            with db.unit_of_work() as session:
                outcome = renew_one(session=session, clock=clock, files=files, contract_id=contract_id,
                                    horizon=horizon)
        except (signing.SigningUnavailable, StorageError, IntegrityFailure) as exc:
            report.failures.append((number, str(exc)[:500]))
            continue
        _count(report, outcome)
    return report


def renew_in_session(*, session: Session, clock: Clock, files: Files, institution_id: int,
                     before: timedelta = DEFAULT_BEFORE, limit: int = PER_RUN) -> RenewalReport:
    """The same inside one transaction (the close of business's step): each contract in a savepoint of its own, at
    most `limit` renewals; what is left is due again the next day."""
    horizon = clock.now() + before
    report = RenewalReport()
    for contract_id, number in due(session=session, horizon=horizon, institution_id=institution_id):
        if report.renewed >= limit:
            break
        report.checked += 1
        try:
            with session.begin_nested():
                outcome = renew_one(session=session, clock=clock, files=files, contract_id=contract_id,
                                    horizon=horizon)
        except (signing.SigningUnavailable, StorageError, IntegrityFailure) as exc:
            report.failures.append((number, str(exc)[:500]))
            continue
        _count(report, outcome)
    return report


def _count(report: RenewalReport, outcome: Outcome) -> None:
    if outcome == "renewed":
        report.renewed += 1
    elif outcome == "not_due":
        report.not_due += 1
    else:
        report.not_archival += 1
