"""The demo's books: posted through the service, balanced, verified, and posted once however often the demo runs."""

from __future__ import annotations

from microcredit import demo
from microcredit.ledger import service as ledger
from microcredit.parties import service as parties


def test_the_demo_posts_its_entries_once_and_the_books_verify(session, runtime):
    demo.seed(session=session, kit=runtime.identity)
    demo.seed(session=session, kit=runtime.identity)
    inst = parties.organisation.institution_by_code(session=session, code=demo.INSTITUTION_CODE)
    entries = list(session.scalars(ledger.posting.entries_query(institution_id=inst.id)))
    assert sorted((e.source_kind, e.source_ref) for e in entries) == sorted(
        [("demo", ref) for ref, *_ in demo.BOOKS] + [("reversal", None)])
    report = ledger.books.verify(session=session, institution_id=inst.id)
    assert report.ok, report.problems
    assert (report.entries, report.reversals) == (len(demo.BOOKS) + 1, 1)
    tb = ledger.reports.trial_balance_report(session=session, institution_id=inst.id, date_to=inst.business_date)
    rows = {a.code: r for a, r in tb.rows}
    assert str(rows["1002"].closing_debit) == "6001200.00"
    assert "1012" not in rows or rows["1012"].closing_debit.is_zero
    assert all(t.balanced for t in tb.totals)
