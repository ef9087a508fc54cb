"""The arithmetic of the books: balancing, the trial balance and reversal, as properties and as small books."""

from __future__ import annotations

from dataclasses import fields

import pytest
from hypothesis import given
from hypothesis import strategies as st

from microcredit.ledger.balances import (
    AccountRef,
    Posting,
    Side,
    imbalance,
    is_balanced,
    net_by_account,
    reversed_postings,
    sums_by_account,
    totals,
    trial_balance,
)
from microcredit.ledger.chart import DEFAULT_CHART, DEFAULT_POSTING_MAP, KEYS, PostingMap
from microcredit.lending.money import Money

ACCOUNTS = ("1002", "130101", "1132", "1304", "2241", "4001", "6011", "6701")
D, C = Side.DEBIT, Side.CREDIT


def cny(text: str) -> Money:
    return Money.parse(text, "CNY")


# --- strategies --------------------------------------------------------------------------------

amounts = st.integers(min_value=1, max_value=10**12)


@st.composite
def balanced_entry(draw: st.DrawFn) -> tuple[Posting, ...]:
    """A balanced entry: debits of random amounts to random accounts, credits splitting the same total."""
    debits = draw(st.lists(st.tuples(st.sampled_from(ACCOUNTS), amounts), min_size=1, max_size=4))
    total = sum(a for _, a in debits)
    n_credits = draw(st.integers(min_value=1, max_value=min(4, total)))
    credit_accounts = draw(st.lists(st.sampled_from(ACCOUNTS), min_size=n_credits, max_size=n_credits))
    parts = Money(total, "CNY").split(n_credits)
    return (*(Posting(acc, D, Money(a, "CNY")) for acc, a in debits),
            *(Posting(acc, C, part) for acc, part in zip(credit_accounts, parts, strict=True)))


books = st.lists(balanced_entry(), min_size=1, max_size=30)


def tb(entries_before, entries_in):
    accounts = [AccountRef(code, "CNY") for code in ACCOUNTS]
    return trial_balance(accounts, sums_by_account(entries_before), sums_by_account(entries_in))


# --- properties --------------------------------------------------------------------------------


@given(books)
def test_the_strategy_makes_balanced_entries(entries):
    assert all(is_balanced(e) for e in entries)
    assert all(d == c for e in entries for d, c in totals(e).values())


@given(books, st.integers(min_value=0, max_value=30))
def test_any_balanced_books_give_a_trial_balance_whose_columns_are_equal(entries, cut):
    rows, sums = tb(entries[:cut], entries[cut:])
    (t,) = sums
    assert t.balanced
    assert t.debit == Money.total((r.debit for r in rows), "CNY")
    assert t.debit.minor == sum(p.debit_minor for e in entries[cut:] for p in e)
    for r in rows:  # closing = opening + debits − credits, each balance in one column only
        assert not (r.closing_debit and r.closing_credit)
        assert (r.closing_debit - r.closing_credit) == (r.opening_debit - r.opening_credit) + r.debit - r.credit


@given(books, st.data())
def test_a_reversal_restores_every_balance(entries, data):
    i = data.draw(st.integers(min_value=0, max_value=len(entries) - 1))
    with_reversal = [*entries, reversed_postings(entries[i])]
    without = entries[:i] + entries[i + 1:]
    assert net_by_account(with_reversal) == net_by_account(without)
    assert is_balanced(reversed_postings(entries[i]))


@given(books, st.integers(min_value=1, max_value=10**6))
def test_one_fen_off_anywhere_is_unbalanced(entries, extra):
    broken = (*entries[0][:-1], Posting(entries[0][-1].account, entries[0][-1].side,
                                        entries[0][-1].amount + Money(extra, "CNY")))
    assert not is_balanced(broken)
    _rows, sums = tb([], [broken, *entries[1:]])
    assert not sums[0].balanced


# --- small books in the language of the domain -------------------------------------------------


def test_imbalance_names_the_currency_and_the_difference():
    entry = [Posting("1002", D, cny("100.00")), Posting("4001", C, cny("99.99"))]
    assert imbalance(entry) == {"CNY": cny("0.01")}
    assert imbalance([*entry, Posting("6011", C, cny("0.01"))]) == {}


def test_each_currency_balances_on_its_own():
    entry = [Posting("1002", D, cny("100.00")), Posting("4001", C, cny("100.00")),
             Posting("1002", D, Money(5000, "USD")), Posting("4001", C, Money(4999, "USD"))]
    assert imbalance(entry) == {"USD": Money(1, "USD")}
    assert totals(entry[:2]) == {"CNY": (10000, 10000)}


def test_a_capital_injection_and_a_loan():
    capital = (Posting("4001", C, cny("10000.00")), Posting("1002", D, cny("10000.00")))
    loan = (Posting("130101", D, cny("1000.00")), Posting("1002", C, cny("1000.00")))
    rows, (t,) = tb([capital], [loan])
    by = {r.account: r for r in rows}
    assert (str(by["1002"].opening_debit), str(by["1002"].credit), str(by["1002"].closing_debit)) == (
        "10000.00", "1000.00", "9000.00")
    assert str(by["4001"].closing_credit) == "10000.00"
    assert (str(t.closing_debit), str(t.closing_credit)) == ("10000.00", "10000.00")


def test_a_posting_is_never_a_float():
    with pytest.raises(TypeError):
        Money.parse(1.5, "CNY")  # type: ignore[arg-type]


# --- the default chart and the posting map ------------------------------------------------------


def test_the_default_chart_is_coherent():
    codes = [a.code for a in DEFAULT_CHART]
    assert len(codes) == len(set(codes))
    assert len(KEYS) == len(DEFAULT_CHART)
    for a in DEFAULT_CHART:
        if a.parent:
            parent = next(p for p in DEFAULT_CHART if p.code == a.parent)
            assert codes.index(parent.code) < codes.index(a.code)  # seeded before its children
            assert parent.type == a.type
    assert [a.key for a in DEFAULT_CHART if a.contra] == ["loss_provision"]


def test_the_default_posting_map_names_accounts_of_the_default_chart():
    by_key = {a.key: a.code for a in DEFAULT_CHART}
    for role in fields(PostingMap):
        assert DEFAULT_POSTING_MAP.code(role.name) == by_key[role.name]
    for role in ("bank", "loan_principal", "interest_income", "payable_platform", "writeoff_expense"):
        assert DEFAULT_POSTING_MAP.code(role) == by_key[role]
    product = PostingMap(interest_income="601101")
    assert (product.code("interest_income"), product.code("bank")) == ("601101", "1002")
    with pytest.raises(KeyError):
        DEFAULT_POSTING_MAP.code("no_such_role")
