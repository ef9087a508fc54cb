"""Posting on real databases: balanced entries, refusals that write nothing, closed periods, reversal once.

Books written as text in the tests, e.g. ``("1002", "D", "100.00")`` — account
code, side, amount in CNY.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError, OperationalError

from microcredit.db.copy import COPY_MIN_ROWS
from microcredit.ledger import service as ledger
from microcredit.ledger.chart import DEFAULT_CHART
from microcredit.ledger.errors import (
    AccountClosed,
    AccountNotEmpty,
    AccountNotFound,
    EntryAlreadyReversed,
    EntryDateInFuture,
    EntryTooShort,
    EntryUnbalanced,
    LineAmountInvalid,
    PeriodClosed,
    ReversalNotReversible,
    SourceAlreadyPosted,
)
from microcredit.ledger.models import EntryTotal, JournalEntry, JournalLine
from microcredit.lending.money import Money
from microcredit.platform.actor import Actor
from microcredit.platform.paging import PageRequest
from tests.factories import make_institution
from tests.integration.helpers import audit_records, snapshot

D, C = ledger.Side.DEBIT, ledger.Side.CREDIT
DAY = date(2026, 11, 20)
# A failed CHECK is an IntegrityError on SQLite and PostgreSQL, an OperationalError (4025) on MariaDB.
CHECK_FAILED = (IntegrityError, OperationalError)


def lines(*spec: tuple[str, str, str]) -> list[ledger.Posting]:
    """Postings from (code, "D"/"C", "amount") triples."""
    return [ledger.Posting(code, D if side == "D" else C, Money.parse(amount, "CNY")) for code, side, amount in spec]


@pytest.fixture
def inst(session, runtime):
    """A fresh institution with its default chart."""
    inst = make_institution(session, runtime)
    session.commit()
    return inst


def post(session, runtime, inst, *spec, day=DAY, **kw):
    """Post an entry of the institution as the system."""
    return ledger.post(session=session, clock=runtime.clock, actor=Actor.system(inst.id), institution_id=inst.id,
                       business_date=day, description="测试分录", postings=lines(*spec), **kw)


def balance(session, inst, code, basis="accrual", to=date(2026, 12, 31)):
    """An account's closing net debit in the trial balance, as a string."""
    tb = ledger.reports.trial_balance_report(session=session, institution_id=inst.id, date_to=to, basis=basis,
                                             include_empty=True)
    row = next(r for a, r in tb.rows if a.code == code)
    return str(row.closing_debit - row.closing_credit)


def test_a_new_institution_has_the_default_chart(session, runtime, inst):
    accounts = {a.code: a for a in ledger.accounts.list_accounts(session=session, institution_id=inst.id)}
    assert set(accounts) == {d.code for d in DEFAULT_CHART}
    assert accounts["1304"].normal_side == "credit"  # the provision is a contra-asset
    assert accounts["1304"].type == "asset"
    assert accounts["130101"].parent_id == accounts["1301"].id
    assert accounts["220203"].parent_id == accounts["2202"].id
    assert ledger.accounts.seed_chart(session=session, clock=runtime.clock, institution_id=inst.id) == []  # idempotent


def test_a_balanced_entry_is_written_with_its_totals_and_audited(session, runtime, inst):
    entry = post(session, runtime, inst, ("1002", "D", "500000.00"), ("4001", "C", "500000.00"))
    session.commit()
    view = ledger.posting.entry_view(session=session, institution_id=inst.id, entry_id=entry.id)
    assert [(a.code, line.debit_minor, line.credit_minor) for line, a in view.lines] == [
        ("1002", 50_000_000, 0), ("4001", 0, 50_000_000)]
    assert view.totals == {"CNY": (50_000_000, 50_000_000)}
    assert balance(session, inst, "1002") == "500000.00"
    assert balance(session, inst, "4001") == "-500000.00"
    assert [r.entity_id for r in audit_records(session, "ledger.entry_posted")] == [str(entry.id)]


@pytest.mark.parametrize(("spec", "refusal", "field"), [
    ((("1002", "D", "100.00"), ("4001", "C", "99.99")), EntryUnbalanced, "lines"),
    ((("1002", "D", "100.00"), ("1002", "D", "100.00")), EntryTooShort, "lines"),
    ((("1002", "D", "0.00"), ("4001", "C", "0.00")), LineAmountInvalid, "lines.0.amount"),
    ((("1002", "D", "-5.00"), ("4001", "C", "-5.00")), LineAmountInvalid, "lines.0.amount"),
    ((("1002", "D", "5.00"), ("9999", "C", "5.00")), AccountNotFound, "lines.1.account_code"),
])
def test_refusals_write_nothing(session, runtime, database, inst, spec, refusal, field):
    before = snapshot(database)
    with pytest.raises(refusal) as caught:
        post(session, runtime, inst, *spec)
    session.rollback()
    assert caught.value.field == field
    assert before.diff(snapshot(database)) == {}


def test_the_unbalanced_refusal_names_the_difference(session, runtime, inst):
    with pytest.raises(EntryUnbalanced) as caught:
        post(session, runtime, inst, ("1002", "D", "100.00"), ("4001", "C", "60.00"), ("2001", "C", "30.00"))
    assert "CNY 10.00" in caught.value.message("en")


def test_an_entry_after_the_business_date_is_refused_when_asked(session, runtime, inst):
    with pytest.raises(EntryDateInFuture):
        post(session, runtime, inst, ("1002", "D", "1.00"), ("4001", "C", "1.00"), day=date(2026, 11, 26),
             not_after=date(2026, 11, 25))


def test_closed_period_refuses_postings_on_or_before_its_date(session, runtime, database, inst):
    post(session, runtime, inst, ("1002", "D", "10.00"), ("4001", "C", "10.00"), day=date(2026, 10, 31))
    ledger.periods.close(session=session, clock=runtime.clock, actor=Actor.system(inst.id), institution_id=inst.id,
                         through=date(2026, 10, 31), business_date=date(2026, 11, 25))
    session.commit()
    before = snapshot(database)
    for day in (date(2026, 10, 31), date(2026, 1, 1)):
        with pytest.raises(PeriodClosed) as caught:
            post(session, runtime, inst, ("1002", "D", "10.00"), ("4001", "C", "10.00"), day=day)
        assert caught.value.field == "business_date"
        session.rollback()
    assert before.diff(snapshot(database)) == {}
    post(session, runtime, inst, ("1002", "D", "10.00"), ("4001", "C", "10.00"), day=date(2026, 11, 1))
    # reopening moves the date back, and is audited with its reason
    ledger.periods.reopen(session=session, clock=runtime.clock, actor=Actor.system(inst.id), institution_id=inst.id,
                          through=date(2026, 9, 30), reason="补录十月凭证")
    post(session, runtime, inst, ("1002", "D", "10.00"), ("4001", "C", "10.00"), day=date(2026, 10, 31))
    session.commit()
    assert [r.after["reason"] for r in audit_records(session, "ledger.period_reopened")] == ["补录十月凭证"]
    assert len(audit_records(session, "ledger.period_closed")) == 1


def test_a_reversal_restores_every_balance_and_happens_once(session, runtime, database, inst):
    post(session, runtime, inst, ("1002", "D", "1000.00"), ("4001", "C", "1000.00"))
    entry = post(session, runtime, inst, ("130101", "D", "300.00"), ("1002", "C", "300.00"))
    assert balance(session, inst, "1002") == "700.00"
    reversal = ledger.reverse(session=session, clock=runtime.clock, actor=Actor.system(inst.id),
                              institution_id=inst.id, entry_id=entry.id)
    session.commit()
    assert reversal.reverses_entry_id == entry.id
    assert reversal.business_date == entry.business_date
    assert balance(session, inst, "1002") == "1000.00"
    assert balance(session, inst, "130101") == "0.00"
    before = snapshot(database)
    with pytest.raises(EntryAlreadyReversed):
        ledger.reverse(session=session, clock=runtime.clock, actor=Actor.system(inst.id), institution_id=inst.id,
                       entry_id=entry.id)
    session.rollback()
    with pytest.raises(ReversalNotReversible):
        ledger.reverse(session=session, clock=runtime.clock, actor=Actor.system(inst.id), institution_id=inst.id,
                       entry_id=reversal.id)
    session.rollback()
    assert before.diff(snapshot(database)) == {}
    assert len(audit_records(session, "ledger.entry_reversed", reversal.id)) == 1
    assert ledger.books.verify(session=session, institution_id=inst.id).ok


def test_a_reversal_of_a_closed_period_is_dated_after_the_close(session, runtime, inst):
    entry = post(session, runtime, inst, ("1002", "D", "5.00"), ("4001", "C", "5.00"), day=date(2026, 10, 15))
    ledger.periods.close(session=session, clock=runtime.clock, actor=Actor.system(inst.id), institution_id=inst.id,
                         through=date(2026, 10, 31))
    reversal = ledger.reverse(session=session, clock=runtime.clock, actor=Actor.system(inst.id),
                              institution_id=inst.id, entry_id=entry.id)
    assert reversal.business_date == date(2026, 11, 1)


def test_the_database_refuses_a_second_reversal_of_one_entry(session, runtime, inst):
    entry = post(session, runtime, inst, ("1002", "D", "5.00"), ("4001", "C", "5.00"))
    ledger.reverse(session=session, clock=runtime.clock, actor=Actor.system(inst.id), institution_id=inst.id,
                   entry_id=entry.id)
    session.commit()
    with pytest.raises(IntegrityError):
        session.execute(insert(JournalEntry).values(
            institution_id=inst.id, business_date=DAY, description="second reversal", source_kind="reversal",
            basis="both", reverses_entry_id=entry.id, created_at=runtime.clock.now()))
    session.rollback()


def test_the_database_refuses_unbalanced_totals_and_one_sided_lines(session, runtime, inst):
    entry = post(session, runtime, inst, ("1002", "D", "5.00"), ("4001", "C", "5.00"))
    session.commit()
    with pytest.raises(CHECK_FAILED):
        session.execute(insert(EntryTotal).values(entry_id=entry.id, currency="USD", debit_minor=500,
                                                  credit_minor=499))
    session.rollback()
    account_id = ledger.accounts.list_accounts(session=session, institution_id=inst.id)[0].id
    for debit, credit in ((100, 100), (0, 0), (-100, 0)):
        with pytest.raises(CHECK_FAILED):
            session.execute(insert(JournalLine).values(
                entry_id=entry.id, line_no=9, account_id=account_id, business_date=DAY, basis="both", currency="CNY",
                debit_minor=debit, credit_minor=credit))
        session.rollback()


def test_a_source_posts_once(session, runtime, inst):
    source = ledger.Source("loan_event", "42")
    post(session, runtime, inst, ("130101", "D", "5.00"), ("1002", "C", "5.00"), source=source)
    with pytest.raises(SourceAlreadyPosted):
        post(session, runtime, inst, ("130101", "D", "5.00"), ("1002", "C", "5.00"), source=source)


def post_many(session, runtime, inst, *drafts, day=DAY):
    """Post several entries at once as the system: drafts of (source ref, spec)."""
    return ledger.posting.post_many(
        session=session, clock=runtime.clock, actor=Actor.system(inst.id), institution_id=inst.id,
        business_date=day, drafts=[ledger.posting.Draft(f"测试分录 {ref}", lines(*spec),
                                                        ledger.Source("loan_event", ref)) for ref, spec in drafts])


def test_several_entries_post_at_once_each_audited_in_order(session, runtime, inst):
    first, second = post_many(session, runtime, inst, ("7:1:cash", (("1002", "D", "5.00"), ("130101", "C", "5.00"))),
                              ("7:1:accrual", (("1002", "D", "5.00"), ("130101", "C", "5.00"))))
    session.commit()
    assert second.id > first.id
    assert [r.entity_id for r in audit_records(session, "ledger.entry_posted")] == [str(first.id), str(second.id)]
    assert balance(session, inst, "1002") == "10.00"


@pytest.mark.parametrize("second", [
    ("9:1:b", (("1002", "D", "5.00"), ("4001", "C", "4.00"))),  # the second unbalanced
    ("9:1:a", (("1002", "D", "5.00"), ("130101", "C", "5.00"))),  # the batch names one source twice
    ("9:1:old", (("1002", "D", "5.00"), ("130101", "C", "5.00"))),  # a source that posted before
])
def test_one_refused_entry_refuses_the_batch_and_writes_nothing(session, runtime, database, inst, second):
    post(session, runtime, inst, ("1002", "D", "1.00"), ("130101", "C", "1.00"), source=ledger.Source("loan_event",
                                                                                                      "9:1:old"))
    session.commit()
    before = snapshot(database)
    with pytest.raises((EntryUnbalanced, SourceAlreadyPosted)):
        post_many(session, runtime, inst, ("9:1:a", (("1002", "D", "5.00"), ("130101", "C", "5.00"))), second)
    session.rollback()
    assert before.diff(snapshot(database)) == {}


BATCH = COPY_MIN_ROWS + 7  # a batch large enough for COPY on PostgreSQL (the multi-row INSERT elsewhere)


def big_batch(prefix, n=BATCH):
    """n two-line entries of different amounts (1.01, 1.02 ...), by source ref `prefix:k`."""
    return [(f"{prefix}:{k}", (("1304", "C", f"1.{k % 100:02d}"), ("6701", "D", f"1.{k % 100:02d}")))
            for k in range(1, n + 1)]


def test_a_large_batch_writes_every_entry_its_lines_totals_and_audit_record_in_order(session, runtime, inst):
    drafts = big_batch("p")
    posted = post_many(session, runtime, inst, *drafts)
    session.commit()
    assert [p.source.ref for p in posted] == [ref for ref, _spec in drafts]
    ids = [p.id for p in posted]
    assert ids == sorted(ids)
    assert len(set(ids)) == BATCH
    written = {e.id: e for e in session.scalars(select(JournalEntry).where(JournalEntry.id.in_(ids)))}
    assert [written[i].source_ref for i in ids] == [ref for ref, _spec in drafts]
    assert all(written[i].created_at.tzinfo is not None for i in ids)
    for view, (_ref, spec) in zip(ledger.posting.entry_views(session=session, institution_id=inst.id,
                                                             entries=[written[i] for i in ids]), drafts, strict=True):
        assert [(a.code, "D" if line.debit_minor else "C", line.debit_minor or line.credit_minor)
                for line, a in view.lines] == [(code, side, Money.parse(m, "CNY").minor) for code, side, m in spec]
        amount = Money.parse(spec[0][2], "CNY").minor
        assert view.totals == {"CNY": (amount, amount)}
    records = audit_records(session, "ledger.entry_posted")
    assert [r.entity_id for r in records] == [str(i) for i in ids]
    assert records[0].after == {"business_date": DAY.isoformat(), "source": "loan_event", "source_ref": "p:1",
                                "basis": "both", "reverses": None, "totals": {"CNY": "1.01"}}
    assert balance(session, inst, "1304") == str(-sum((Money.parse(spec[0][2], "CNY") for _ref, spec in drafts),
                                                      Money.zero("CNY")))


def test_a_large_batch_with_a_source_posted_before_is_refused_and_writes_nothing(session, runtime, database, inst):
    post(session, runtime, inst, ("1002", "D", "1.00"), ("130101", "C", "1.00"),
         source=ledger.Source("loan_event", "q:9"))
    session.commit()
    before = snapshot(database)
    with pytest.raises(SourceAlreadyPosted):
        post_many(session, runtime, inst, *big_batch("q"))
    session.rollback()
    assert before.diff(snapshot(database)) == {}


def test_cash_and_accrual_books_read_their_own_entries(session, runtime, inst):
    post(session, runtime, inst, ("130101", "D", "1000.00"), ("1002", "C", "1000.00"))  # both
    post(session, runtime, inst, ("1132", "D", "50.00"), ("6011", "C", "50.00"), basis="accrual")
    post(session, runtime, inst, ("1002", "D", "50.00"), ("1132", "C", "50.00"), basis="accrual")
    post(session, runtime, inst, ("1002", "D", "50.00"), ("6011", "C", "50.00"), basis="cash")
    for basis in ("accrual", "cash"):
        assert balance(session, inst, "6011", basis) == "-50.00"
        assert balance(session, inst, "1002", basis) == "-950.00"
        assert balance(session, inst, "1132", basis) == "0.00"
        tb = ledger.reports.trial_balance_report(session=session, institution_id=inst.id, date_to=DAY, basis=basis)
        assert all(t.balanced for t in tb.totals)


def test_closing_an_account_needs_a_zero_balance_and_then_refuses_postings(session, runtime, inst):
    accounts = {a.code: a for a in ledger.accounts.list_accounts(session=session, institution_id=inst.id)}
    actor = Actor.system(inst.id)
    post(session, runtime, inst, ("1012", "D", "5.00"), ("4001", "C", "5.00"))
    with pytest.raises(AccountNotEmpty):
        ledger.accounts.close_account(session=session, clock=runtime.clock, actor=actor, account=accounts["1012"])
    post(session, runtime, inst, ("1002", "D", "5.00"), ("1012", "C", "5.00"))
    ledger.accounts.close_account(session=session, clock=runtime.clock, actor=actor, account=accounts["1012"])
    with pytest.raises(AccountClosed):
        post(session, runtime, inst, ("1012", "D", "5.00"), ("4001", "C", "5.00"))
    with pytest.raises(AccountNotEmpty):  # an active child
        ledger.accounts.close_account(session=session, clock=runtime.clock, actor=actor, account=accounts["1301"])


def test_statement_running_balance_across_pages(session, runtime, inst):
    for i, day in enumerate((date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3), date(2026, 11, 4))):
        post(session, runtime, inst, ("1002", "D", f"{i + 1}00.00"), ("4001", "C", f"{i + 1}00.00"), day=day)
    accounts = {a.code: a for a in ledger.accounts.list_accounts(session=session, institution_id=inst.id)}
    s = ledger.reports.statement(session=session, institution_id=inst.id, account_id=accounts["1002"].id,
                                 date_from=date(2026, 11, 2), date_to=date(2026, 11, 4),
                                 page=PageRequest(2, 2))
    assert str(s.opening) == "100.00"
    assert [str(x.balance) for x in s.lines] == ["1000.00"]  # 100 + 200 + 300 on page 1, + 400 here
    assert (str(s.debits), str(s.closing), s.total) == ("900.00", "1000.00", 3)
    capital = ledger.reports.statement(session=session, institution_id=inst.id, account_id=accounts["4001"].id,
                                       date_from=None, date_to=None)
    assert [str(x.balance) for x in capital.lines] == ["100.00", "300.00", "600.00", "1000.00"]  # credit normal
