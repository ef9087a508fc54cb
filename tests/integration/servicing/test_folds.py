"""The loans' folds kept per database (`servicing.service.folds`), on SQLite, PostgreSQL and MariaDB: a fold
committed answers the next reader of the same loan and day; a new event, another day, or a fold made in a
savepoint rolled back is folded again — the kept fold is always the fold of the loan as it is. The close of
business's overdue day, which writes its loans by statements, keeps its folds as written too."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from microcredit.lending import loan as core
from microcredit.lending.money import Money
from microcredit.platform.actor import Actor
from microcredit.servicing import repository as repo
from microcredit.servicing.models import Loan
from microcredit.servicing.service import folds, loans, quiet_overdue
from tests.integration.cob.support import move_to, open_portfolio
from tests.integration.helpers import shared_client


@pytest.fixture
def client(runtime, backend):
    yield from shared_client(runtime, backend)


def fresh(session, loan, day) -> core.LoanState:
    """The fold made from the rows, without the memo."""
    return core.fold(loans.core_terms(session, loan), loans.core_events(repo.events_of(session, loan.id)), as_of=day)


def test_a_committed_fold_answers_the_next_reader_until_the_loan_changes(client, session, runtime, monkeypatch):
    p = open_portfolio(client, session, runtime, monkeypatch, amounts=("8000.00",))
    inst_id, loan_id, day = p.inst.id, p.loan_ids[0], p.first_due + timedelta(days=2)
    move_to(session, runtime, inst_id, day)
    memo = runtime.db.run(lambda s: folds.memo_of(s))
    assert memo is not None

    def advance(s):
        loans.advance(session=s, clock=runtime.clock, actor=Actor.system(inst_id), institution_id=inst_id,
                      loan_id=loan_id, business_date=day)

    def read(s):
        loan = loans.get(session=s, institution_id=inst_id, loan_id=loan_id)
        hits = memo.hits
        state = loans.state_of(session=s, loan=loan, as_of=day)
        assert state == fresh(s, loan, day)
        return state, memo.hits > hits

    runtime.db.run(advance)
    first, hit = runtime.db.run(read)
    assert hit  # advance's fold, committed, answered
    assert first.due_now.total.is_positive
    assert runtime.db.run(read)[1]

    # A repayment made in a savepoint that is rolled back, its fold read inside it: not kept.
    half = Money(first.due_now.total.minor // 2, first.due_now.total.currency)

    class RolledBack(Exception):
        pass

    def repay_and_look(s):
        loans.repay(session=s, clock=runtime.clock, actor=Actor.system(inst_id), institution_id=inst_id,
                    loan_id=loan_id, amount=half)
        loan = loans.get(session=s, institution_id=inst_id, loan_id=loan_id)
        assert loans.state_of(session=s, loan=loan, as_of=day).due_now.total == first.due_now.total - half
        raise RolledBack

    def repay_and_roll_back(s):
        with pytest.raises(RolledBack), s.begin_nested():
            repay_and_look(s)

    runtime.db.run(repay_and_roll_back)
    after_rollback, hit = runtime.db.run(read)
    assert hit
    assert after_rollback.due_now.total == first.due_now.total

    # Another repayment committed: the same event count the rolled-back one had, another amount.
    third = Money(first.due_now.total.minor // 3, first.due_now.total.currency)
    runtime.db.run(lambda s: loans.repay(session=s, clock=runtime.clock, actor=Actor.system(inst_id),
                                         institution_id=inst_id, loan_id=loan_id, amount=third))
    repaid, hit = runtime.db.run(read)
    assert not hit
    assert repaid.due_now.total == first.due_now.total - third
    assert runtime.db.run(read)[1]

    # Another day: folded (and kept in place of the day's fold, one per loan).
    def other_day(s):
        loan = loans.get(session=s, institution_id=inst_id, loan_id=loan_id)
        hits = memo.hits
        state = loans.state_of(session=s, loan=loan, as_of=day + timedelta(days=1))
        assert state == fresh(s, loan, day + timedelta(days=1))
        assert state.as_of == day + timedelta(days=1)
        return memo.hits > hits

    assert not runtime.db.run(other_day)
    assert not runtime.db.run(read)[1]


def test_the_overdue_days_fold_is_kept_as_written_and_the_next_day_starts_from_it(client, session, runtime,
                                                                                  monkeypatch):
    """The close of business's overdue day writes its loans by statements (`quiet_overdue`): the fold it made is kept
    with the version it wrote (the next reader's hit, equal to a fresh fold), the next day's starts from it without
    folding (`kernel.fold_later`), and a row whose version moved is not written (`StaleDataError`)."""
    p = open_portfolio(client, session, runtime, monkeypatch, amounts=("8000.00",))
    inst_id, loan_id, day = p.inst.id, p.loan_ids[0], p.first_due + timedelta(days=5)
    memo = runtime.db.run(lambda s: folds.memo_of(s))
    assert memo is not None
    move_to(session, runtime, inst_id, day)
    runtime.db.run(lambda s: loans.advance(session=s, clock=runtime.clock, actor=Actor.system(inst_id),
                                           institution_id=inst_id, loan_id=loan_id, business_date=day))
    assert runtime.db.run(lambda s: s.scalar(select(Loan.dpd).where(Loan.id == loan_id))) > 0  # past due: selected
    for later in (day + timedelta(days=1), day + timedelta(days=2)):
        move_to(session, runtime, inst_id, later)
        earlier = memo.earlier_hits
        did = runtime.db.run(lambda s, on=later: quiet_overdue.advance_overdue(
            session=s, clock=runtime.clock, institution_id=inst_id, day=on, first=loan_id, last=loan_id))
        assert did.advanced == [loan_id]
        assert memo.earlier_hits == earlier + 1  # the day before's fold, read on the day

        def read(s, on=later):
            loan = loans.get(session=s, institution_id=inst_id, loan_id=loan_id)
            hits = memo.hits
            state = loans.state_of(session=s, loan=loan, as_of=on)
            assert state == fresh(s, loan, on)
            assert loan.state_as_of == on
            assert loan.dpd == state.dpd > 0
            return memo.hits > hits

        assert runtime.db.run(read)  # kept with the version the statement wrote

    def stale(s):
        version = s.scalar(select(Loan.version).where(Loan.id == loan_id))
        with pytest.raises(StaleDataError), s.begin_nested():
            repo.write_loan_days(s, [{"id": loan_id, "version": version - 1, "dpd": 99}])
        return s.scalar(select(Loan.dpd).where(Loan.id == loan_id))

    assert runtime.db.run(stale) != 99
