"""The entries servicing posts for a loan's events: balanced, and the books agree with the fold."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from microcredit.ledger.balances import Side, is_balanced
from microcredit.ledger.chart import DEFAULT_POSTING_MAP as ACCOUNTS
from microcredit.lending.loan import Disbursement, EventRefused, LoanBook, Refund, Repayment, Reversal, WriteOff, fold
from microcredit.lending.money import Money
from microcredit.servicing import books
from tests.unit.lending.loan.test_fold import FEES_TRANCHED, INSTALLMENT_FEES, LENDING, START, TERMS, histories
from tests.unit.lending.loan.test_kernel import COVERED
from tests.unit.lending.loan.test_kernel import KINDS as KERNEL_KINDS


def _recording_order(events):
    """`events` in an order they can be recorded in: a reversal after the event it names."""
    seen: set[str] = set()
    waiting = list(events)
    while waiting:
        event = next(e for e in waiting if not isinstance(e, Reversal) or e.target in seen)
        waiting.remove(event)
        seen.add(event.id)
        yield event


def _post_all(terms, events, as_of, *, channel="bank_transfer"):
    """Post every event's difference as servicing does, the business date never going back (each
    state read on the latest day seen); the balances per book, what they hold and that day."""
    balances = {"cash": defaultdict(int), "accrual": defaultdict(int)}
    held = books.empty()
    recorded = LoanBook.open(terms)
    for event in _recording_order(events):
        recorded = recorded.record(event)
        as_of = max(as_of, event.on)
        state = fold(terms, list(recorded.events), as_of=as_of)
        now = books.holdings(state)
        for entry in books.entries(held, now, currency="CNY", channel=channel, memo=event.id, accounts=ACCOUNTS,
                                   fee_shares=books.fee_shares(state)):
            assert is_balanced(entry.postings), entry
            assert all(p.amount.is_positive for p in entry.postings)
            for basis in (("cash", "accrual") if entry.basis == "both" else (entry.basis,)):
                for p in entry.postings:
                    balances[basis][p.account] += p.debit_minor - p.credit_minor
        held = now
    return balances, held, as_of


def _code(role: str) -> str:
    return ACCOUNTS.code(role)


@LENDING
@given(histories())
def test_every_entry_balances_and_each_book_holds_what_the_fold_says(history):
    terms, events = history
    balances, _, as_of = _post_all(terms, events, START)
    state = fold(terms, events, as_of=as_of)
    for basis, held in balances.items():
        # The loan principal account carries exactly the principal outstanding.
        assert held[_code("loan_principal")] == state.outstanding.principal.minor, basis
        # Borrower credit: what the fold holds for the borrower.
        assert -held[_code("borrower_credit")] == state.credit_balance.minor, basis
    accrual = balances["accrual"]
    due_now = state.due_now
    # The accrual book's receivables: what is recognised and not paid, waived or written off —
    # never negative, and at least what is overdue.
    for component, role in (("interest", "interest_receivable"), ("penalty", "penalty_receivable"),
                            ("fee", "fee_receivable")):
        assert accrual[_code(role)] >= 0, component
        assert accrual[_code(role)] >= getattr(due_now, component).minor, component
    assert not any(v for k, v in balances["cash"].items()
                   if k in {_code("interest_receivable"), _code("fee_receivable"), _code("penalty_receivable")})


def cny(text: str) -> Money:
    return Money.parse(text, "CNY")


def test_a_disbursement_and_an_installment_post_the_worked_example():
    first_due = fold(TERMS, [Disbursement(id="d", on=START, amount=cny("10000.00"))], as_of=START).installments[0]
    events = [Disbursement(id="d", on=START, amount=cny("10000.00")),
              Repayment(id="r1", on=first_due.due_date, amount=first_due.due.total)]
    balances, _, _ = _post_all(TERMS, events, START)
    interest = first_due.due.interest.minor
    for basis in ("cash", "accrual"):
        held = balances[basis]
        assert held[_code("bank")] == -1_000_000 + first_due.due.total.minor
        assert held[_code("loan_principal")] == 1_000_000 - first_due.due.principal.minor
        assert held[_code("interest_income")] == -interest
    assert balances["accrual"][_code("interest_receivable")] == 0


def test_a_back_dated_repayment_moves_money_between_components_by_counter_entries():
    first_due = fold(TERMS, [Disbursement(id="d", on=START, amount=cny("10000.00"))], as_of=START).installments[0]
    late = first_due.due_date + timedelta(days=40)
    events = [Disbursement(id="d", on=START, amount=cny("10000.00")),
              Repayment(id="late", on=late, amount=first_due.due.total),
              # Keyed in afterwards, valued before the late one: the late one now pays the second installment.
              Repayment(id="early", on=first_due.due_date, amount=first_due.due.total)]
    balances, held, _ = _post_all(TERMS, events, late)
    state = fold(TERMS, events, as_of=late)
    assert held == books.holdings(state)
    assert balances["cash"][_code("loan_principal")] == state.outstanding.principal.minor


def test_fees_go_to_their_payees_and_a_write_off_empties_the_receivables():
    for terms in (FEES_TRANCHED, INSTALLMENT_FEES):
        events = [Disbursement(id="d", on=START, amount=cny("8000.00")),
                  WriteOff(id="w", on=date(2026, 1, 10))]
        balances, _, _ = _post_all(terms, events, date(2026, 1, 10))
        state = fold(terms, events, as_of=date(2026, 1, 10))
        for basis in ("cash", "accrual"):
            assert balances[basis][_code("loan_principal")] == 0
            assert balances[basis][_code("writeoff_expense")] == state.total("written_off").principal.minor
        for role in ("interest_receivable", "fee_receivable", "penalty_receivable"):
            assert balances["accrual"][_code(role)] == 0


def test_split_by_payee_is_exact_and_proportional():
    assert books.split_by_payee(1001, {"lender": 1, "insurer": 1}) == {"lender": 500, "insurer": 501}
    assert books.split_by_payee(-1001, {"lender": 1, "insurer": 1}) == {"lender": -500, "insurer": -501}
    assert books.split_by_payee(700, {}) == {"lender": 700}
    assert sum(books.split_by_payee(12345, {"lender": 3, "guarantor": 7, "platform": 11}).values()) == 12345


def test_sides_follow_the_sign():
    before = books.empty()
    after = {**before, "disbursed": 100}
    (entry,) = books.entries(before, after, currency="CNY", channel="cash", memo="m", accounts=ACCOUNTS,
                             fee_shares={})
    assert {(p.account, p.side) for p in entry.postings} == {(_code("loan_principal"), Side.DEBIT),
                                                             (_code("bank"), Side.CREDIT)}
    (back,) = books.entries(after, before, currency="CNY", channel="cash", memo="m", accounts=ACCOUNTS,
                            fee_shares={})
    assert {(p.account, p.side) for p in back.postings} == {(_code("loan_principal"), Side.CREDIT),
                                                            (_code("bank"), Side.DEBIT)}


def test_a_refund_pays_the_credit_out_of_the_bank_in_both_books():
    first_due = fold(TERMS, [Disbursement(id="d", on=START, amount=cny("10000.00"))], as_of=START).installments[0]
    paid = [Disbursement(id="d", on=START, amount=cny("10000.00")),
            Repayment(id="r1", on=first_due.due_date, amount=first_due.due.total + cny("50.00"))]
    before, _, _ = _post_all(TERMS, paid, first_due.due_date)
    after, held, _ = _post_all(TERMS, [*paid, Refund(id="u", on=first_due.due_date, amount=cny("50.00"))],
                               first_due.due_date)
    assert held["refunded"] == 5000
    assert held["credit"] == 0
    for basis in ("cash", "accrual"):
        assert before[basis][_code("borrower_credit")] == -5000
        assert after[basis][_code("borrower_credit")] == 0
        assert after[basis][_code("bank")] == before[basis][_code("bank")] - 5000


def _objects_holdings(state):
    """`books.holdings` as it read the fold's `Money` objects (the reference for its reading of minor units)."""
    out = books.empty()
    out["disbursed"] = state.disbursed.minor
    out["received"] = sum(p.amount.minor for p in state.payments if p.event_id is not None)
    out["credit"] = state.credit_balance.minor
    out["recovered"] = state.recovered.minor
    out["refunded"] = state.refunded.minor
    for payee, minor in books.deducted_by_payee(state).items():
        out[f"deducted_{payee}"] = minor
    for which in ("paid", "waived", "written_off"):
        total = state.total(which)
        for c in books.COMPONENTS:
            out[f"{which}_{c}"] = getattr(total, c).minor
    out["paid_principal"] += state.principal_prepaid.minor
    out["paid_interest"] += state.interest_prepaid.minor
    for row in state.installments:
        settled = row.due_date <= state.as_of
        for c in ("interest", "fee", "penalty"):
            if settled:
                out[f"recognised_{c}"] += getattr(row.due, c).minor
            else:
                out[f"recognised_{c}"] += (getattr(row.paid, c).minor + getattr(row.waived, c).minor
                                           + getattr(row.written_off, c).minor)
    out["recognised_interest"] += state.interest_prepaid.minor
    return out


@LENDING
@given(st.one_of(histories(), histories(variants=COVERED, kinds=KERNEL_KINDS)), st.integers(min_value=0, max_value=520))
def test_the_holdings_read_in_minor_units_are_those_of_the_objects(history, days):
    """Over the reference's histories and the kernel's (read from its integer columns): the same holdings, key for
    key and in the same order (the stored `books` JSON)."""
    terms, events = history
    try:
        state = fold(terms, events, as_of=START + timedelta(days=days))
    except EventRefused:
        return
    got = books.holdings(state)
    assert list(got.items()) == list(_objects_holdings(state).items())
