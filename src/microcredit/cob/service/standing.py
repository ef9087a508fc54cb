"""What the close of business last found of one loan: its delinquency bucket, five-category class, the
provision the books hold for it, and the behaviour features early warning reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from microcredit.cob import repository as repo
from microcredit.identity.principal import Principal
from microcredit.lending.money import Money
from microcredit.servicing.service import loans


@dataclass(frozen=True)
class Standing:
    """As of the last close of business that reached the loan (`as_of` None: none has yet)."""

    loan_id: int
    as_of: date | None
    dpd: int | None
    bucket: str | None
    category: int | None
    provision: Money
    late_payments: int | None
    partial_payments: int | None
    days_since_last_payment: int | None
    max_dpd: int | None


def of_loan(*, session: Session, principal: Principal, loan_id: int) -> Standing:
    """The loan's standing, for staff whose scope covers the loan (else not found)."""
    loan = loans.visible(session=session, principal=principal, loan_id=loan_id)
    row, features = repo.standing(session, loan.id), repo.behaviour(session, loan.id)
    return Standing(loan_id=loan.id, as_of=row.as_of if row else None, dpd=row.dpd if row else None,
                    bucket=row.bucket if row else None, category=row.category if row else None,
                    provision=Money(row.provision if row else 0, loan.currency),
                    late_payments=features.late_payments if features else None,
                    partial_payments=features.partial_payments if features else None,
                    days_since_last_payment=features.days_since_last_payment if features else None,
                    max_dpd=features.max_dpd if features else None)
