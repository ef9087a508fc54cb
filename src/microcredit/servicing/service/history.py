"""What risk reads of the institution's own loans, through risk's read interfaces (risk sits below servicing).

`ServicingHistory` implements `risk.features.RepaymentHistory`: an applicant's earlier loans here,
found by institution and ID-number blind index, as instalments with their due and paid dates,
point in time — loans paid out on or before `until`, folded from the events whose value date and
business date are on or before it, so a payment made after `until` (or back-dated later) changes
nothing. `ServicingLoanOutcomes` implements `risk.service.outcomes.LoanOutcomes`: each loan paid
out with its application's stored decision and the worst days past due in its first 3 and 6
months on book. The composition root (`microcredit.runtime`) wires both into risk's kit.

Both read in a few queries whatever the number of loans and instalments (the loans, then their
events in one query per 500 loans, then the applications' decisions) and fold in memory; the outcomes
fold only the loans that changed since the last request (`ServicingLoanOutcomes`'s memo).
"""

from __future__ import annotations

import threading
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
        # One statement: the borrower found by the ID number's blind index inside the loans' query.
        found = {"institution_id": institution_id,
                 "id_index": parties.borrowers.id_number_index(self.blind_index, id_number)}
        borrower = parties.borrowers.borrower_id_by_id_number_subquery()
        loans = [loan for loan in repo.disbursed_loans_of(session, borrower, found, until=until)
                 if loan.status != "cancelled"]
        events = repo.events_of_loans(session, [loan.id for loan in loans])
        out = []
        for loan in loans:
            assert loan.disbursed_on is not None
            out.append((loan.disbursed_on, instalments(session, loan, events[loan.id], until)))
        return InternalHistory(loans=tuple(out))


class ServicingLoanOutcomes:
    """Risk's `LoanOutcomes` over servicing's loans (see the module's docstring).

    Each loan's two worst-DPD figures are kept in memory, keyed by what they depend on: the loan row's identity
    and version (any event appended, reversed or back-dated updates the row and bumps its optimistic version,
    its event count and its time of update) and the date the loan is followed to (the business date, or the
    end of its first 6 months once past). A request then folds only the loans that changed since the last one,
    or that are still inside their window on a new business date; a loan past its 6 months and untouched is
    never folded again. The events are read only for the loans folded.
    """

    MEMO_SIZE = 200_000

    def __init__(self) -> None:
        self._memo: dict[tuple[object, ...], tuple[int, int]] = {}
        self._lock = threading.Lock()

    def clear(self) -> None:
        """Forget every loan's figures (the next request folds every loan; benchmarks compare with it)."""
        with self._lock:
            self._memo.clear()

    def outcomes(self, session: Session, *, institution_id: int) -> list[LoanOutcome]:
        """Every loan of the institution paid out, followed to its business date (6 months on book at most)."""
        today = parties.organisation.business_date(session=session, institution_id=institution_id)
        loans = [loan for loan in repo.disbursed_loans(session, institution_id, until=today)
                 if loan.status != "cancelled"]
        keys = {}
        for loan in loans:
            assert loan.disbursed_on is not None
            keys[loan.id] = (institution_id, loan.id, loan.number, loan.version, loan.events_count, loan.updated_at,
                             loan.disbursed_on, min(today, add_months(loan.disbursed_on, 6)))
        with self._lock:
            known = {loan_id: self._memo[key] for loan_id, key in keys.items() if key in self._memo}
        missing = [loan for loan in loans if loan.id not in known]
        events = repo.events_of_loans(session, [loan.id for loan in missing])
        folded = {}
        for loan in missing:
            assert loan.disbursed_on is not None
            three, six = add_months(loan.disbursed_on, 3), add_months(loan.disbursed_on, 6)
            items = instalments(session, loan, events[loan.id], min(today, six))
            folded[loan.id] = (worst_dpd(items, min(today, three)), worst_dpd(items, min(today, six)))
        with self._lock:
            if len(self._memo) + len(folded) > self.MEMO_SIZE:
                self._memo.clear()
            self._memo.update({keys[loan_id]: figures for loan_id, figures in folded.items()})
        decisions = origination.applications.decisions_of(session=session,
                                                          application_ids=[loan.application_id for loan in loans])
        out = []
        for loan in loans:
            assert loan.disbursed_on is not None
            number, _, score, grade = decisions.get(loan.application_id, (None, None, None, None))
            worst_3m, worst_6m = known.get(loan.id) or folded[loan.id]
            out.append(LoanOutcome(application_number=number, grade=grade, score=score,
                                   disbursed_on=loan.disbursed_on, observed_on=today,
                                   worst_dpd_3m=worst_3m, worst_dpd_6m=worst_6m))
        return out
