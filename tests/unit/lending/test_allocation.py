"""Payment waterfalls: named strategies, overpayment, reversal, replay, conservation."""

from __future__ import annotations

from datetime import date

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
    Sweep,
    allocate,
    apply_allocation,
    replay,
    reverse,
)
from microcredit.lending.money import CurrencyMismatch, Money

from .support import LENDING, cny, due, fen

P, INT, F, N = Component.PRINCIPAL, Component.INTEREST, Component.FEE, Component.PENALTY

# Two overdue installments of the docs/domain.md §4.1 loan with a late fee and 罚息, one future.
DUES = (
    due(1, date(2025, 2, 15), "788.49", "100.00", "20.00", "3.94"),
    due(2, date(2025, 3, 15), "796.37", "92.12", "0", "1.20"),
    due(3, date(2025, 4, 15), "804.34", "84.15", "0", "0"),
)
PAID_ON = date(2025, 3, 20)
HELD = OverpaymentPolicy.CREDIT_BALANCE
PREPAY = OverpaymentPolicy.PREPAY_PRINCIPAL


def _total(amounts: object) -> Money:
    return Money.total(amounts, "CNY")  # type: ignore[arg-type]


def _lines(strategy: AllocationStrategy, amount: str) -> list[tuple[int, Component, Money]]:
    result = allocate(DUES, cny(amount), PAID_ON, strategy=strategy, overpayment=HELD)
    return [(line.installment, line.component, line.amount) for line in result.lines]


def test_penalty_fee_interest_principal_clears_the_oldest_installment_first() -> None:
    assert _lines(PENALTY_FEE_INTEREST_PRINCIPAL, "1000.00") == [
        (1, N, cny("3.94")),
        (1, F, cny("20.00")),
        (1, INT, cny("100.00")),
        (1, P, cny("788.49")),
        (2, N, cny("1.20")),
        (2, INT, cny("86.37")),
    ]


def test_due_date_order_puts_costs_before_penalty_interest() -> None:
    assert _lines(DUE_DATE_ORDER, "500.00")[:3] == [
        (1, F, cny("20.00")),
        (1, N, cny("3.94")),
        (1, INT, cny("100.00")),
    ]


def test_principal_first_strategy() -> None:
    assert _lines(PRINCIPAL_INTEREST_PENALTY_FEE, "800.00") == [
        (1, P, cny("788.49")),
        (1, INT, cny("11.51")),
    ]


def test_interest_principal_strategy_by_installment() -> None:
    assert _lines(INTEREST_PRINCIPAL_PENALTY_FEE, "150.00") == [
        (1, INT, cny("100.00")),
        (1, P, cny("50.00")),
    ]


def test_across_installments_takes_every_overdue_interest_first() -> None:
    assert _lines(INTEREST_PRINCIPAL_ACROSS_INSTALLMENTS, "200.00") == [
        (1, INT, cny("100.00")),
        (2, INT, cny("92.12")),
        (1, P, cny("7.88")),
    ]


def test_future_installments_are_not_touched_without_an_overpayment_policy() -> None:
    result = allocate(DUES, cny("3000.00"), PAID_ON, strategy=DUE_DATE_ORDER, overpayment=HELD)
    assert {line.installment for line in result.lines} == {1, 2}
    assert result.credit_balance == cny("3000.00") - _total(d.total for d in DUES[:2])


def test_overpayment_prepaying_principal_is_handed_over_to_re_amortise() -> None:
    # It was put on installment 3's principal, which left installment 3's 84.15 of interest --
    # computed on the balance before the prepayment -- owed in full.
    result = allocate(DUES, cny("2000.00"), PAID_ON, strategy=DUE_DATE_ORDER, overpayment=PREPAY)
    due_now = cny("912.43") + cny("889.69")  # installments 1 and 2 in full
    assert {line.installment for line in result.lines} == {1, 2}
    assert (result.prepayment, result.credit_balance) == (cny("2000.00") - due_now, cny("0.00"))
    # At most the principal and interest not yet due is handed over; the rest is held as credit.
    capped = allocate(DUES, cny("3000.00"), PAID_ON, strategy=DUE_DATE_ORDER, overpayment=PREPAY)
    assert (capped.prepayment, capped.credit_balance) == (cny("888.49"), cny("3000.00") - due_now - cny("888.49"))


def test_a_credit_balance_pays_what_falls_due_later() -> None:
    # 888.49 paid ahead stayed credit for ever: installment 3 fell due and was reported unpaid.
    payment = Payment(PAID_ON, cny("912.43") + cny("889.69") + cny("888.49"))
    rules = {"strategy": DUE_DATE_ORDER, "overpayment": HELD}
    before = replay(DUES, [payment], as_of=date(2025, 4, 14), **rules)
    assert before.credit_balance == cny("888.49")
    assert before.dues[2].total == cny("888.49")
    after = replay(DUES, [payment], as_of=date(2025, 4, 15), **rules)
    assert after.credit_balance == cny("0.00")
    assert after.dues[2].total == cny("0.00")
    used = after.allocations[-1]
    assert (used.paid_on, used.amount, used.credit_balance) == (date(2025, 4, 15), cny("0"), cny("-888.49"))
    assert [(line.component, line.amount) for line in used.lines] == [(INT, cny("84.15")), (P, cny("804.34"))]
    # A later payment finds the credit already used on the due date, not swept with it.
    late = replay(DUES, [payment, Payment(date(2025, 4, 20), cny("10.00"))], **rules)
    assert late.credit_balance == cny("10.00")
    assert late.allocations[1].paid_on == date(2025, 4, 15)


def test_a_prepayment_needs_the_schedule_to_replay_and_cannot_be_reversed_by_lines() -> None:
    payment = Payment(PAID_ON, cny("2000.00"))
    with pytest.raises(ValueError, match="prepayer="):
        replay(DUES, [payment], strategy=DUE_DATE_ORDER, overpayment=PREPAY)
    result = allocate(DUES, payment.amount, PAID_ON, strategy=DUE_DATE_ORDER, overpayment=PREPAY)
    with pytest.raises(ValueError, match="replay the loan without it"):
        reverse(result)


def test_overpayment_can_pay_the_next_installment_in_advance() -> None:
    result = allocate(
        DUES, cny("2000.00"), PAID_ON, strategy=DUE_DATE_ORDER, overpayment=OverpaymentPolicy.PAY_NEXT_INSTALLMENTS
    )
    extra = [(line.component, line.amount) for line in result.lines if line.installment == 3]
    assert extra == [(INT, cny("84.15")), (P, cny("2000.00") - cny("1802.12") - cny("84.15"))]


def test_in_advance_last_first_pays_the_last_installment_before_the_next() -> None:
    """Fineract's LAST_INSTALLMENT rule: what nothing owes yet goes to the last installment first."""
    early = date(2025, 1, 20)  # nothing has fallen due
    last_first = AllocationStrategy("last_first", DUE_DATE_ORDER.order, in_advance_last_first=True)
    result = allocate(DUES, cny("1000.00"), early, strategy=last_first,
                      overpayment=OverpaymentPolicy.PAY_NEXT_INSTALLMENTS)
    assert [(line.installment, line.component, line.amount) for line in result.lines] == [
        (3, INT, cny("84.15")), (3, P, cny("804.34")),
        (2, N, cny("1.20")), (2, INT, cny("92.12")), (2, P, cny("18.19")),
    ]
    assert allocate(DUES, cny("1000.00"), early, strategy=DUE_DATE_ORDER,
                    overpayment=OverpaymentPolicy.PAY_NEXT_INSTALLMENTS).lines[0].installment == 1


def test_component_per_bucket_pays_past_due_then_due_then_ahead_component_by_component() -> None:
    """Fineract's VERTICAL processing: past due, then due that day, then not yet due; inside each
    bucket one component across its installments before the next component."""
    dues = (
        due(1, date(2025, 2, 15), "100.00", "10.00", "5.00"),
        due(2, date(2025, 3, 15), "100.00", "10.00", "5.00"),
        due(3, date(2025, 4, 15), "100.00", "10.00", "5.00"),
        due(4, date(2025, 5, 15), "100.00", "10.00", "5.00"),
    )
    vertical = AllocationStrategy("vertical", (N, F, P, INT), Sweep.BY_COMPONENT_PER_BUCKET)
    result = allocate(dues, cny("150.00"), date(2025, 3, 15), strategy=vertical,
                      overpayment=OverpaymentPolicy.PAY_NEXT_INSTALLMENTS)
    assert [(line.installment, line.component, line.amount) for line in result.lines] == [
        (1, F, cny("5.00")), (1, P, cny("100.00")), (1, INT, cny("10.00")),  # past due
        (2, F, cny("5.00")), (2, P, cny("30.00")),  # due on the day
    ]
    result = allocate(dues, cny("250.00"), date(2025, 3, 15), strategy=vertical,
                      overpayment=OverpaymentPolicy.PAY_NEXT_INSTALLMENTS)
    ahead = [(line.installment, line.component) for line in result.lines if line.installment > 2]
    assert ahead == [(3, F), (4, F), (3, P)]  # not yet due: the fees of both before any principal


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
    cents = st.integers(0, 200_000).map(fen)
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
            fen(draw(st.integers(1, 500_000))),
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
        result = allocate(dues, payment.amount, payment.paid_on, strategy=strategy, overpayment=overpayment)
        assert result.allocated + result.credit_balance + result.prepayment == payment.amount
        assert not result.credit_balance.is_negative
        assert not result.prepayment.is_negative
        assert all(line.amount.is_positive for line in result.lines)
        after = apply_allocation(dues, result)
        assert _total(d.total for d in dues) - _total(d.total for d in after) == result.allocated


@LENDING
@given(dues_and_payments(), strategies)
def test_reversal_restores_the_dues_exactly(
    case: tuple[tuple[InstallmentDue, ...], list[Payment]], strategy: AllocationStrategy
) -> None:
    dues, payments = case
    result = allocate(dues, payments[0].amount, payments[0].paid_on, strategy=strategy, overpayment=HELD)
    after = apply_allocation(dues, result)
    assert apply_allocation(after, reverse(result)) == dues
    half = payments[0].amount.split(2)[0]  # the larger half: at least one fen
    partial = reverse(result, half)
    assert partial.allocated + partial.credit_balance == -half


@LENDING
@given(dues_and_payments(), strategies)
def test_replay_in_any_arrival_order_gives_the_same_state(
    case: tuple[tuple[InstallmentDue, ...], list[Payment]], strategy: AllocationStrategy
) -> None:
    dues, payments = case
    as_of = max(p.paid_on for p in payments)
    forward = replay(dues, payments, strategy=strategy, overpayment=HELD, as_of=as_of)
    backward = replay(dues, list(reversed(payments)), strategy=strategy, overpayment=HELD, as_of=as_of)
    assert forward.dues == backward.dues
    paid = _total(p.amount for p in payments)
    assert _total(a.allocated for a in forward.allocations) + forward.credit_balance == paid
    assert _total(d.total for d in dues) - _total(d.total for d in forward.dues) == paid - forward.credit_balance
    # Credit is held only while nothing due by the last payment is owed.
    if forward.credit_balance.is_positive:
        assert all(d.total.is_zero for d in forward.dues if d.due_date <= as_of)


@pytest.mark.parametrize("amount", ["0.001", "100.005", "888.4900001"])
def test_a_payment_finer_than_a_fen_cannot_even_be_made(amount: str) -> None:
    # 100.005 was split to the tenth of a fen: 3.94 + 20.00 + 76.065 on installment 1.  A payment
    # is Money now, which has no tenth of a fen.
    with pytest.raises(ValueError, match="more than 2 decimal places"):
        Payment(PAID_ON, Money.parse(amount, "CNY"))


def test_a_payment_in_another_currency_is_refused() -> None:
    with pytest.raises(CurrencyMismatch):
        allocate(DUES, Money.parse("100.00", "USD"), PAID_ON, strategy=DUE_DATE_ORDER, overpayment=HELD)
    with pytest.raises(CurrencyMismatch):
        replay(DUES, [Payment(PAID_ON, Money(1000, "JPY"))], strategy=DUE_DATE_ORDER, overpayment=HELD)
    with pytest.raises(CurrencyMismatch):
        InstallmentDue(1, PAID_ON, cny("1.00"), Money(1, "USD"), cny("0"), cny("0"))


def test_in_advance_spread_shares_what_is_paid_ahead_evenly() -> None:
    """Fineract's REAMORTIZATION rule: each installment not yet due takes the amount / their number
    (half-even), the last the residue, at most what it owes; what one cannot take is spread again."""
    dues = (
        due(1, date(2025, 2, 15), "100.00"),
        due(2, date(2025, 3, 15), "10.00"),
        due(3, date(2025, 4, 15), "100.00"),
    )
    spread = AllocationStrategy("spread", (N, F, P, INT), in_advance_spread=True)
    result = allocate(dues, cny("100.00"), date(2025, 1, 20), strategy=spread,
                      overpayment=OverpaymentPolicy.PAY_NEXT_INSTALLMENTS)
    paid = {n: _total(line.amount for line in result.lines if line.installment == n) for n in (1, 2, 3)}
    # 33.33 / 10.00 (all it owes) / 33.34, then the 23.33 left over 1 and 3: 11.66 / 11.67
    assert paid == {1: cny("44.99"), 2: cny("10.00"), 3: cny("45.01")}
    assert result.credit_balance == cny("0")


# Fineract's due-penalty-fee-interest-principal-in-advance-principal-penalty-fee-interest strategy:
# paid ahead, an installment pays the charges already due by the payment day, then principal, then
# the rest (LoanRepayment.feature L1194, L1228, L1501).
IN_ADVANCE_DUE_CHARGES = AllocationStrategy(
    "in_advance_due_charges", (Component.PENALTY, Component.FEE, Component.INTEREST, Component.PRINCIPAL),
    in_advance_order=(Component.PENALTY, Component.FEE, Component.PRINCIPAL, Component.INTEREST),
    in_advance_charges_due_first=True)


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        # 17 January: the 50.00 penalty due on the 20th is not paid before principal.
        ("450.00", {Component.PRINCIPAL: "450.00"}),
        # Principal all paid, what is left pays the penalty not yet due, then the fee, then interest.
        ("560.00", {Component.PRINCIPAL: "500.00", Component.PENALTY: "50.00", Component.FEE: "10.00"}),
        ("575.00", {Component.PRINCIPAL: "500.00", Component.PENALTY: "50.00", Component.FEE: "20.00",
                    Component.INTEREST: "5.00"}),
    ],
)
def test_paid_ahead_only_the_charges_already_due_come_before_principal(amount: str,
                                                                      expected: dict[Component, str]) -> None:
    later = (date(2023, 1, 20), Component.PENALTY, cny("50.00"))
    earlier = (date(2023, 1, 15), Component.FEE, cny("20.00"))
    owed = InstallmentDue(1, date(2023, 2, 1), cny("500.00"), cny("5.00"), cny("20.00"), cny("50.00"),
                          charges=(earlier, later))
    # The fee due on the 15th first: 20.00 of fee, then principal.
    first = allocate([owed], cny("100.00"), date(2023, 1, 17), strategy=IN_ADVANCE_DUE_CHARGES,
                     overpayment=OverpaymentPolicy.PAY_NEXT_INSTALLMENTS)
    assert {line.component: str(line.amount) for line in first.lines} == {Component.FEE: "20.00",
                                                                          Component.PRINCIPAL: "80.00"}
    without_fee = InstallmentDue(1, date(2023, 2, 1), cny("500.00"), cny("5.00"), cny("20.00"), cny("50.00"),
                                 charges=(later, (date(2023, 1, 25), Component.FEE, cny("20.00"))))
    paid = allocate([without_fee], cny(amount), date(2023, 1, 17), strategy=IN_ADVANCE_DUE_CHARGES,
                    overpayment=OverpaymentPolicy.PAY_NEXT_INSTALLMENTS)
    assert {line.component: str(line.amount) for line in paid.lines} == expected
    assert len(paid.lines) == len({line.component for line in paid.lines})  # one line per component
    # Once the penalty is due (the 21st), it is paid first, as before.
    due_now = allocate([without_fee], cny("450.00"), date(2023, 1, 21), strategy=IN_ADVANCE_DUE_CHARGES,
                       overpayment=OverpaymentPolicy.PAY_NEXT_INSTALLMENTS)
    assert {line.component: str(line.amount) for line in due_now.lines} == {Component.PENALTY: "50.00",
                                                                            Component.PRINCIPAL: "400.00"}
