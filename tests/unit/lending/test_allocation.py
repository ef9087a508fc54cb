"""Payment waterfalls: named strategies, overpayment, reversal, replay, conservation."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from microcredit.lending.allocation import (
    DUE_DATE_ORDER,
    INTEREST_PRINCIPAL_ACROSS_INSTALLMENTS,
    INTEREST_PRINCIPAL_PENALTY_FEE,
    PENALTY_FEE_INTEREST_PRINCIPAL,
    PRINCIPAL_INTEREST_PENALTY_FEE,
    STRATEGIES,
    AllocationStrategy,
    Component,
    InstallmentDue,
    OverpaymentPolicy,
    Payment,
    allocate,
    apply_allocation,
    replay,
    reverse,
)
from microcredit.lending.money import RoundingPolicy

from .support import LENDING

D = Decimal
P, INT, F, N = Component.PRINCIPAL, Component.INTEREST, Component.FEE, Component.PENALTY

# Two overdue installments of the DOMAIN.md §4.1 loan with a late fee and 罚息, one future.
DUES = (
    InstallmentDue(1, date(2025, 2, 15), D("788.49"), D("100.00"), D("20.00"), D("3.94")),
    InstallmentDue(2, date(2025, 3, 15), D("796.37"), D("92.12"), D("0"), D("1.20")),
    InstallmentDue(3, date(2025, 4, 15), D("804.34"), D("84.15"), D("0"), D("0")),
)
PAID_ON = date(2025, 3, 20)


def _lines(strategy: AllocationStrategy, amount: str) -> list[tuple[int, Component, Decimal]]:
    result = allocate(DUES, D(amount), PAID_ON, strategy)
    return [(line.installment, line.component, line.amount) for line in result.lines]


def test_penalty_fee_interest_principal_clears_the_oldest_installment_first() -> None:
    assert _lines(PENALTY_FEE_INTEREST_PRINCIPAL, "1000.00") == [
        (1, N, D("3.94")),
        (1, F, D("20.00")),
        (1, INT, D("100.00")),
        (1, P, D("788.49")),
        (2, N, D("1.20")),
        (2, INT, D("86.37")),
    ]


def test_due_date_order_puts_costs_before_penalty_interest() -> None:
    assert _lines(DUE_DATE_ORDER, "500.00")[:3] == [
        (1, F, D("20.00")),
        (1, N, D("3.94")),
        (1, INT, D("100.00")),
    ]


def test_principal_first_strategy() -> None:
    assert _lines(PRINCIPAL_INTEREST_PENALTY_FEE, "800.00") == [
        (1, P, D("788.49")),
        (1, INT, D("11.51")),
    ]


def test_interest_principal_strategy_by_installment() -> None:
    assert _lines(INTEREST_PRINCIPAL_PENALTY_FEE, "150.00") == [
        (1, INT, D("100.00")),
        (1, P, D("50.00")),
    ]


def test_across_installments_takes_every_overdue_interest_first() -> None:
    assert _lines(INTEREST_PRINCIPAL_ACROSS_INSTALLMENTS, "200.00") == [
        (1, INT, D("100.00")),
        (2, INT, D("92.12")),
        (1, P, D("7.88")),
    ]


def test_future_installments_are_not_touched_without_an_overpayment_policy() -> None:
    result = allocate(DUES, D("3000.00"), PAID_ON, DUE_DATE_ORDER)
    assert {line.installment for line in result.lines} == {1, 2}
    assert result.credit_balance == D("3000.00") - sum(d.total for d in DUES[:2])


def test_overpayment_prepaying_principal_is_handed_over_to_re_amortise() -> None:
    # It was put on installment 3's principal, which left installment 3's 84.15 of interest --
    # computed on the balance before the prepayment -- owed in full.
    result = allocate(DUES, D("2000.00"), PAID_ON, DUE_DATE_ORDER, OverpaymentPolicy.PREPAY_PRINCIPAL)
    due_now = D("912.43") + D("889.69")  # installments 1 and 2 in full
    assert {line.installment for line in result.lines} == {1, 2}
    assert (result.prepayment, result.credit_balance) == (D("2000.00") - due_now, D("0.00"))
    # At most the principal and interest not yet due is handed over; the rest is held as credit.
    capped = allocate(DUES, D("3000.00"), PAID_ON, DUE_DATE_ORDER, OverpaymentPolicy.PREPAY_PRINCIPAL)
    assert (capped.prepayment, capped.credit_balance) == (D("888.49"), D("3000.00") - due_now - D("888.49"))


def test_a_credit_balance_pays_what_falls_due_later() -> None:
    # 888.49 paid ahead stayed credit for ever: installment 3 fell due and was reported unpaid.
    payment = Payment(PAID_ON, D("912.43") + D("889.69") + D("888.49"))
    before = replay(DUES, [payment], as_of=date(2025, 4, 14))
    assert before.credit_balance == D("888.49")
    assert before.dues[2].total == D("888.49")
    after = replay(DUES, [payment], as_of=date(2025, 4, 15))
    assert after.credit_balance == D("0.00")
    assert after.dues[2].total == D("0.00")
    used = after.allocations[-1]
    assert (used.paid_on, used.amount, used.credit_balance) == (date(2025, 4, 15), D("0"), D("-888.49"))
    assert [(line.component, line.amount) for line in used.lines] == [(INT, D("84.15")), (P, D("804.34"))]
    # A later payment finds the credit already used on the due date, not swept with it.
    late = replay(DUES, [payment, Payment(date(2025, 4, 20), D("10.00"))])
    assert late.credit_balance == D("10.00")
    assert late.allocations[1].paid_on == date(2025, 4, 15)


def test_a_prepayment_needs_the_schedule_to_replay_and_cannot_be_reversed_by_lines() -> None:
    payment = Payment(PAID_ON, D("2000.00"))
    with pytest.raises(ValueError, match="prepay="):
        replay(DUES, [payment], overpayment=OverpaymentPolicy.PREPAY_PRINCIPAL)
    result = allocate(DUES, payment.amount, PAID_ON, DUE_DATE_ORDER, OverpaymentPolicy.PREPAY_PRINCIPAL)
    with pytest.raises(ValueError, match="replay the loan without it"):
        reverse(result)


def test_overpayment_can_pay_the_next_installment_in_advance() -> None:
    result = allocate(DUES, D("2000.00"), PAID_ON, DUE_DATE_ORDER, OverpaymentPolicy.PAY_NEXT_INSTALLMENTS)
    extra = [(line.component, line.amount) for line in result.lines if line.installment == 3]
    assert extra == [(INT, D("84.15")), (P, D("2000.00") - D("1802.12") - D("84.15"))]


def test_every_strategy_is_named_after_its_order() -> None:
    for name, strategy in STRATEGIES.items():
        order = "_".join(component.value for component in strategy.order)
        assert name == "due_date_order" or name.startswith(order)


def test_a_strategy_must_order_every_component_once() -> None:
    with pytest.raises(ValueError, match="exactly once"):
        AllocationStrategy("broken", (P, INT, F))


@st.composite
def dues_and_payments(draw: st.DrawFn) -> tuple[tuple[InstallmentDue, ...], list[Payment]]:
    """Random installments and payments (cents), due dates a month apart."""
    count = draw(st.integers(1, 8))
    cents = st.integers(0, 200_000).map(lambda c: Decimal(c).scaleb(-2))
    dues = tuple(
        InstallmentDue(
            k + 1,
            date(2025, 1 + k, 10),
            draw(cents),
            draw(cents),
            draw(cents),
            draw(cents),
        )
        for k in range(count)
    )
    payments = [
        Payment(
            date(2025, draw(st.integers(1, 12)), draw(st.integers(1, 28))),
            Decimal(draw(st.integers(1, 500_000))).scaleb(-2),
        )
        for _ in range(draw(st.integers(1, 5)))
    ]
    return dues, payments


strategies = st.sampled_from(list(STRATEGIES.values()))
overpayments = st.sampled_from(list(OverpaymentPolicy))


@LENDING
@given(dues_and_payments(), strategies, overpayments)
def test_allocation_never_creates_or_loses_a_cent(
    case: tuple[tuple[InstallmentDue, ...], list[Payment]],
    strategy: AllocationStrategy,
    overpayment: OverpaymentPolicy,
) -> None:
    dues, payments = case
    for payment in payments:
        result = allocate(dues, payment.amount, payment.paid_on, strategy, overpayment)
        assert result.allocated + result.credit_balance + result.prepayment == payment.amount
        assert result.credit_balance >= 0
        assert result.prepayment >= 0
        assert all(line.amount > 0 for line in result.lines)
        after = apply_allocation(dues, result)
        assert sum(d.total for d in dues) - sum(d.total for d in after) == result.allocated


@LENDING
@given(dues_and_payments(), strategies)
def test_reversal_restores_the_dues_exactly(
    case: tuple[tuple[InstallmentDue, ...], list[Payment]], strategy: AllocationStrategy
) -> None:
    dues, payments = case
    result = allocate(dues, payments[0].amount, payments[0].paid_on, strategy)
    after = apply_allocation(dues, result)
    assert apply_allocation(after, reverse(result)) == dues
    partial = reverse(result, payments[0].amount / 2)
    assert partial.allocated + partial.credit_balance == -(payments[0].amount / 2)


@LENDING
@given(dues_and_payments(), strategies)
def test_replay_in_any_arrival_order_gives_the_same_state(
    case: tuple[tuple[InstallmentDue, ...], list[Payment]], strategy: AllocationStrategy
) -> None:
    dues, payments = case
    as_of = max(p.paid_on for p in payments)
    forward = replay(dues, payments, strategy, as_of=as_of)
    backward = replay(dues, list(reversed(payments)), strategy, as_of=as_of)
    assert forward.dues == backward.dues
    paid = sum(p.amount for p in payments)
    assert sum(a.allocated for a in forward.allocations) + forward.credit_balance == paid
    assert sum(d.total for d in dues) - sum(d.total for d in forward.dues) == paid - forward.credit_balance
    # Credit is held only while nothing due by the last payment is owed.
    if forward.credit_balance > 0:
        assert all(d.total == 0 for d in forward.dues if d.due_date <= as_of)


@pytest.mark.parametrize("amount", ["0.001", "100.005", "888.4900001"])
def test_a_payment_finer_than_a_fen_is_refused(amount: str) -> None:
    # 100.005 was split to the tenth of a fen: 3.94 + 20.00 + 76.065 on installment 1.
    with pytest.raises(ValueError, match="more than 2 decimal places"):
        allocate(DUES, D(amount), PAID_ON)
    with pytest.raises(ValueError, match="more than 2 decimal places"):
        replay(DUES, [Payment(PAID_ON, D(amount))])


@pytest.mark.parametrize("amount", ["100", "100.0", "100.00", "100.000"])
def test_a_payment_in_whole_fen_is_accepted_whatever_its_exponent(amount: str) -> None:
    assert allocate(DUES, D(amount), PAID_ON).allocated == D("100.00")


def test_the_currency_decides_the_finest_amount() -> None:
    whole_yuan = RoundingPolicy(places=0)
    with pytest.raises(ValueError, match="more than 0 decimal places"):
        allocate(DUES, D("10.50"), PAID_ON, rounding=whole_yuan)
    assert allocate(DUES, D("10"), PAID_ON, rounding=whole_yuan).allocated == D("10")
