"""What origination lends risk to learn from: the anomaly figures of the institution's submitted applications.

Risk's fraud check trains its isolation forest from them (`risk.fraud.service.training`) through the
`ApplicationSample` read interface; risk never reads origination's tables. The figures are the ones the
check reads at review (`risk.fraud.service.detection.features_of`): amount, term in months, the stated
income, spending and debt payments, the applicant's age on the submission date (from the ID number; the
UTC date, as the check reads it) and the local hour of submission in the institution's time zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from microcredit.lending.money import Money
from microcredit.origination import repository as repo
from microcredit.parties import service as parties
from microcredit.platform.crypto import FieldCipher
from microcredit.platform.validators import age_on
from microcredit.risk.evaluation import months_of
from microcredit.risk.fraud.anomaly import Features


def _minor(m: Money | None) -> int | None:
    return None if m is None else m.minor


@dataclass(frozen=True)
class AnomalySample:
    """Risk's `ApplicationSample` over origination's applications (the runtime wires it into the risk kit)."""

    cipher: FieldCipher

    def anomaly_sample(self, session: Session, *, institution_id: int, limit: int) -> list[tuple[str, Features]]:
        """(number, figures) of the latest `limit` submitted applications, newest first: one query for the
        applications, one for their borrowers' dates of birth."""
        rows = repo.latest_submitted(session, institution_id, limit)
        born = parties.borrowers.birth_dates(session=session, cipher=self.cipher,
                                             borrower_ids=[a.borrower_id for a in rows])
        zone = ZoneInfo(parties.organisation.institution_info(session=session, cache=None,
                                                              institution_id=institution_id).timezone)
        out = []
        for a in rows:
            assert a.number is not None
            assert a.submitted_at is not None
            at = a.submitted_at.astimezone(zone)
            out.append((a.number, Features(
                amount_minor=a.amount.minor, term_months=months_of(a.term, a.period_unit),
                income_minor=_minor(a.monthly_income), spending_minor=_minor(a.monthly_spending),
                debt_minor=_minor(a.monthly_debt_payments),
                age=age_on(born[a.borrower_id], a.submitted_at.date()) if a.borrower_id in born else -1, hour=at.hour)))
        return out
