"""The chart a posting reads from memory is never stale: what another process changes is seen by the next posting.

Postings take the institution's chart from a per-process cache (`ledger.accounts.posting_chart`),
stamped with the books row's version, which every chart change moves and every posting reads under
its lock. "Another process" is played here by statements sent straight on the connection (Core, not
the ORM): this process's own watch of flushes does not see them, as it would not see another
worker's commit — only the stamp does.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import insert, select, update

from microcredit.ledger import service as ledger
from microcredit.ledger.errors import AccountClosed, AccountNotFound, PeriodClosed, SourceAlreadyPosted
from microcredit.ledger.models import JournalEntry, LedgerAccount, LedgerBook
from microcredit.lending.money import Money
from microcredit.platform.actor import Actor
from tests.factories import make_institution

D, C = ledger.Side.DEBIT, ledger.Side.CREDIT
DAY = date(2026, 11, 20)


@pytest.fixture
def inst(session, runtime):
    inst = make_institution(session, runtime)
    session.commit()
    return inst


def post(session, runtime, inst, debit: str, credit: str = "1002", day: date = DAY, ref: str | None = None):
    """Post 1.00 from `credit` to `debit` as the system, and commit."""
    entry = ledger.post(session=session, clock=runtime.clock, actor=Actor.system(inst.id), institution_id=inst.id,
                        business_date=day, description="测试分录",
                        postings=[ledger.Posting(debit, D, Money.parse("1.00", "CNY")),
                                  ledger.Posting(credit, C, Money.parse("1.00", "CNY"))],
                        source=ledger.Source("test", ref) if ref else ledger.MANUAL)
    session.commit()
    return entry


def version(session, inst) -> int:
    return session.connection().execute(select(LedgerBook.version).where(
        LedgerBook.institution_id == inst.id)).scalar_one()


def elsewhere(session, *statements) -> None:
    """Statements as another process's commit looks from here: rows changed, no flush of this process seen."""
    conn = session.connection()
    for stmt in statements:
        conn.execute(stmt)
    session.commit()


def test_an_account_closed_by_another_process_refuses_the_next_posting(session, runtime, inst):
    post(session, runtime, inst, "130101")  # the chart is now kept in memory
    elsewhere(session,
              update(LedgerAccount).where(LedgerAccount.institution_id == inst.id, LedgerAccount.code == "6011")
              .values(status="closed"),
              update(LedgerBook).where(LedgerBook.institution_id == inst.id).values(version=LedgerBook.version + 1))
    session.expire_all()
    with pytest.raises(AccountClosed):
        post(session, runtime, inst, "6011")


def test_an_account_added_by_another_process_takes_the_next_posting(session, runtime, inst):
    post(session, runtime, inst, "130101")
    parent = session.scalar(select(LedgerAccount.id).where(LedgerAccount.institution_id == inst.id,
                                                           LedgerAccount.code == "1002"))
    elsewhere(session,
              insert(LedgerAccount).values(institution_id=inst.id, code="100299", name_zh="新银行户",
                                           name_en="New bank account", type="asset", normal_side="debit",
                                           parent_id=parent, currency="CNY", status="active",
                                           created_at=runtime.clock.now(), version=1),
              update(LedgerBook).where(LedgerBook.institution_id == inst.id).values(version=LedgerBook.version + 1))
    session.expire_all()
    assert post(session, runtime, inst, "100299").id


def test_a_period_closed_by_another_process_refuses_the_next_posting(session, runtime, inst):
    post(session, runtime, inst, "130101")
    elsewhere(session, update(LedgerBook).where(LedgerBook.institution_id == inst.id)
              .values(closed_through=DAY, version=LedgerBook.version + 1))
    with pytest.raises(PeriodClosed):
        post(session, runtime, inst, "130101")


def test_a_source_posted_by_another_process_is_refused(session, runtime, inst):
    post(session, runtime, inst, "130101", ref="77:1:both")
    elsewhere(session, insert(JournalEntry).values(
        institution_id=inst.id, business_date=DAY, description="别处记的", source_kind="test", source_ref="77:2:both",
        basis="both", created_at=runtime.clock.now()))
    with pytest.raises(SourceAlreadyPosted):
        post(session, runtime, inst, "130101", ref="77:2:both")


def test_chart_changes_move_the_books_version_other_processes_read(session, runtime, inst):
    actor = Actor.system(inst.id)
    first = version(session, inst)
    added = ledger.accounts.create_account(session=session, clock=runtime.clock, actor=actor, institution_id=inst.id,
                                           code="6099", name_zh="其他费用", name_en="Other expense", type="expense")
    session.commit()
    second = version(session, inst)
    assert second > first
    ledger.accounts.close_account(session=session, clock=runtime.clock, actor=actor, account=added)
    session.commit()
    assert version(session, inst) > second


def test_a_chart_read_inside_a_rolled_back_change_is_not_kept(session, runtime, inst):
    """An account created, posted to and rolled back; then another process moves the books to the same
    version: the chart read inside the rolled-back transaction must not answer for it."""
    post(session, runtime, inst, "130101")
    before = version(session, inst)
    ledger.accounts.create_account(session=session, clock=runtime.clock, actor=Actor.system(inst.id),
                                   institution_id=inst.id, code="6098", name_zh="临时", name_en="Temporary",
                                   type="expense")
    ledger.post(session=session, clock=runtime.clock, actor=Actor.system(inst.id), institution_id=inst.id,
                business_date=DAY, description="回滚的分录",
                postings=[ledger.Posting("6098", D, Money.parse("1.00", "CNY")),
                          ledger.Posting("1002", C, Money.parse("1.00", "CNY"))])
    session.rollback()
    elsewhere(session, update(LedgerBook).where(LedgerBook.institution_id == inst.id).values(version=before + 1))
    session.expire_all()
    with pytest.raises(AccountNotFound):
        post(session, runtime, inst, "6098")
