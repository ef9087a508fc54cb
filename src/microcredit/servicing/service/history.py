"""What risk reads of the institution's own loans, through risk's read interfaces (risk sits below servicing).

`ServicingHistory` implements `risk.features.RepaymentHistory`: an applicant's earlier loans here,
found by institution and ID-number blind index, as instalments with their due and paid dates,
point in time — loans paid out on or before `until`, folded from the events whose value date and
business date are on or before it, so a payment made after `until` (or back-dated later) changes
nothing. `ServicingLoanOutcomes` implements `risk.service.outcomes.LoanOutcomes`: each loan paid
out with its application's stored decision and the worst days past due in its first 3 and 6
months on book. The composition root (`microcredit.runtime`) wires both into risk's kit.

Both read in a few queries whatever the number of loans and instalments (the loans, then their
events in one query per 500 loans, then the applications' decisions) and fold in memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy.orm import Session

from microcredit.lending import loan as core
from microcredit.origination import service as origination
from microcredit.parties import service as parties
from microcredit.platform.crypto import BlindIndex
from microcredit.risk.features import Instalment, InternalHistory
from microcredit.risk.service.outcomes import LoanOutcome, add_months
from microcredit.servicing import repository as repo
from microcredit.servicing.models import Loan, LoanEvent
from microcredit.servicing.service import loans as loans_service


def instalments(session: Session, loan: Loan, rows: Sequence[LoanEvent], until: date) -> list[Instalment]:
    """The loan's instalments as they stood on `until`: due dates, and for each one settled by then the day of
    the last payment that went to it (None: not settled on `until`)."""
    kept = [r for r in rows if r.value_date <= until and r.business_date <= until]
    state = core.fold(loans_service.core_terms(session, loan), loans_service.core_events(kept), as_of=until)
    last_paid: dict[int, date] = {}
    for payment in state.payments:
        for line in payment.lines:
            if line.amount.minor > 0 and payment.on > last_paid.get(line.installment, date.min):
                last_paid[line.installment] = payment.on
    return [Instalment(due_on=i.due_date, paid_on=last_paid.get(i.number) if i.settled else None)
            for i in state.installments if i.number >= 1]


def worst_dpd(items: Sequence[Instalment], until: date) -> int:
    """The most days any instalment due by `until` stood unpaid past its due date, up to `until`."""
    return max((((i.paid_on if i.paid_on is not None and i.paid_on <= until else until) - i.due_on).days
                for i in items if i.due_on <= until), default=0)


class ServicingHistory:
    """Risk's `RepaymentHistory` over servicing's loans (see the module's docstring)."""

    def __init__(self, blind_index: BlindIndex) -> None:
        self.blind_index = blind_index

    def history(self, session: Session, *, institution_id: int, id_number: str, until: date) -> InternalHistory:
        """The applicant's loans here paid out on or before `until`, as they stood on it."""
        borrower_id = parties.borrowers.borrower_id_by_id_number(session=session, blind_index=self.blind_index,
                                                                 institution_id=institution_id, id_number=id_number)
        if borrower_id is None:
            return InternalHistory()
        loans = [loan for loan in repo.disbursed_loans(session, institution_id, borrower_id=borrower_id, until=until)
                 if loan.status != "cancelled"]
        events = repo.events_of_loans(session, [loan.id for loan in loans])
        out = []
        for loan in loans:
            assert loan.disbursed_on is not None
            out.append((loan.disbursed_on, instalments(session, loan, events[loan.id], until)))
        return InternalHistory(loans=tuple(out))


class ServicingLoanOutcomes:
    """Risk's `LoanOutcomes` over servicing's loans (see the module's docstring)."""

    def outcomes(self, session: Session, *, institution_id: int) -> list[LoanOutcome]:
        """Every loan of the institution paid out, followed to its business date (6 months on book at most)."""
        today = parties.organisation.business_date(session=session, institution_id=institution_id)
        loans = [loan for loan in repo.disbursed_loans(session, institution_id, until=today)
                 if loan.status != "cancelled"]
        events = repo.events_of_loans(session, [loan.id for loan in loans])
        decisions = origination.applications.decisions_of(session=session,
                                                          application_ids=[loan.application_id for loan in loans])
        out = []
        for loan in loans:
            assert loan.disbursed_on is not None
            three, six = add_months(loan.disbursed_on, 3), add_months(loan.disbursed_on, 6)
            items = instalments(session, loan, events[loan.id], min(today, six))
            number, _, score, grade = decisions.get(loan.application_id, (None, None, None, None))
            out.append(LoanOutcome(application_number=number, grade=grade, score=score,
                                   disbursed_on=loan.disbursed_on, observed_on=today,
                                   worst_dpd_3m=worst_dpd(items, min(today, three)),
                                   worst_dpd_6m=worst_dpd(items, min(today, six))))
        return out
