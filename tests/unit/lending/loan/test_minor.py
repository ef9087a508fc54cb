"""A fold's installments and payments in minor units (`loan.minor`) are the objects' figures, and what is read from
them -- the penalties owed -- is what the objects gave: over the reference's histories and the kernel's (whose
states carry the integer columns the minor units are then read from)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from microcredit.lending.allocation import Component, InstallmentDue
from microcredit.lending.daycount import ACT_360, ACT_365F, ACT_ACT_ISDA, DayCount
from microcredit.lending.delinquency import (
    ChargeCap,
    LateFeeRule,
    PenaltyBasis,
    PenaltyRule,
    installment_dpd,
    late_fee,
)
from microcredit.lending.loan import EventRefused, LoanState, PenaltyOwed, fold, kernel, minor, penalties_owed
from microcredit.lending.money import Money, RoundingPolicy

from ..support import CNY, LENDING, cny
from .test_fold import START, histories
from .test_kernel import COVERED, KINDS


def _four(amounts):
    return amounts.principal.minor, amounts.interest.minor, amounts.fee.minor, amounts.penalty.minor


def _folded(history, days: int) -> LoanState | None:
    terms, events = history
    try:
        return fold(terms, events, as_of=START + timedelta(days=days))
    except EventRefused:
        return None  # cut at a day, a history may not be one (a reversal of an event after it)


def _assert_minor_is_the_objects(state: LoanState) -> None:
    rows = minor.installments(state)
    assert [(r.number, r.due_date, r.due, r.paid, r.waived, r.written_off, r.outstanding, r.settled) for r in rows] \
        == [(o.number, o.due_date, _four(o.due), _four(o.paid), _four(o.waived), _four(o.written_off),
             _four(o.outstanding), o.settled) for o in state.installments]
    assert [(p.event_id, p.on, p.amount, p.lines) for p in minor.payments(state)] == [
        (p.event_id, p.on, p.amount.minor,
         tuple((line.installment, minor.COMPONENT_INDEX[line.component], line.amount.minor) for line in p.lines))
        for p in state.payments]
    assert minor.installments(state) is rows  # made once


@LENDING
@given(histories(), st.integers(min_value=0, max_value=520))
def test_the_minor_units_of_any_fold_are_its_objects(history, days):
    state = _folded(history, days)
    if state is not None:
        _assert_minor_is_the_objects(state)


@LENDING
@given(histories(variants=COVERED, kinds=KINDS), st.integers(min_value=0, max_value=520))
def test_the_minor_units_of_a_kernel_fold_are_read_from_its_columns_and_are_its_objects(history, days):
    state = _folded(history, days)
    if state is None:
        return
    assert kernel.integer_view(state) is not None  # read from the columns, not the objects
    _assert_minor_is_the_objects(state)


# --- the penalties owed, as they were read from the objects (the reference for the minor units' reading) ---------


def _paid(state: LoanState, number: int, component: Component) -> list[tuple[date, int]]:
    return sorted((payment.on, line.amount.minor) for payment in state.payments for line in payment.lines
                  if line.installment == number and line.component is component)


def _unpaid_on(owed: int, paid: list[tuple[date, int]], day: date) -> int:
    return owed - sum(amount for on, amount in paid if on <= day)


def _unpaid_days(owed: int, paid: list[tuple[date, int]], start: date, end: date, rate: Decimal,
                 day_count: DayCount) -> Fraction:
    unpaid = _unpaid_on(owed, paid, start)
    total, since = Fraction(0), start
    for on, amount in paid:
        if start < on < end:
            span = day_count.year_fraction(since, on)
            total += max(unpaid, 0) * Fraction(rate) * Fraction(span.numerator, span.denominator)
            unpaid, since = unpaid - amount, on
    span = day_count.year_fraction(since, end)
    return total + max(unpaid, 0) * Fraction(rate) * Fraction(span.numerator, span.denominator)


def _objects_penalties_owed(state: LoanState, *, contract_rate: Decimal, rule: PenaltyRule, rounding: RoundingPolicy,
                            as_of: date, late_fee_rule: LateFeeRule | None, cap: ChargeCap | None,
                            overdue_earns_interest: bool) -> list[PenaltyOwed]:
    rate = rule.annual_rate(contract_rate)
    owed = []
    for row in state.installments:
        dpd = installment_dpd(row.due_date, as_of, rule.grace_days)
        if dpd == 0:
            continue
        principal_paid = _paid(state, row.number, Component.PRINCIPAL)
        interest_paid = _paid(state, row.number, Component.INTEREST)
        principal, interest = row.due.principal.minor, row.due.interest.minor
        exact = _unpaid_days(principal, principal_paid, row.due_date, as_of, rate, rule.day_count)
        if rule.compound_overdue_interest:
            exact += _unpaid_days(interest, interest_paid, row.due_date, as_of, rate, rule.day_count)
        fee = rounding.zero
        if late_fee_rule is not None:
            its_day = row.due_date + timedelta(days=late_fee_rule.after_days)
            zero = rounding.zero
            unpaid = InstallmentDue(row.number, row.due_date,
                                    max(Money(_unpaid_on(principal, principal_paid, its_day), state.currency), zero),
                                    max(Money(_unpaid_on(interest, interest_paid, its_day), state.currency), zero),
                                    zero, zero)
            fee = late_fee(unpaid, as_of=as_of, rule=late_fee_rule, rounding=rounding)
        contractual = rounding.round(exact / 10 ** rounding.places) + fee
        allowed = contractual
        if cap is not None:
            room = Decimal(0) if not overdue_earns_interest else contract_rate
            ceiling = (_unpaid_days(principal, principal_paid, row.due_date, as_of,
                                    max(cap.annual_rate - room, Decimal(0)), cap.day_count)
                       + _unpaid_days(interest, interest_paid, row.due_date, as_of, cap.annual_rate, cap.day_count))
            allowed = min(contractual, rounding.round(ceiling / 10 ** rounding.places))
        owed.append(PenaltyOwed(row.number, dpd, allowed, row.due.penalty, contractual, fee))
    return owed


RULES = st.builds(PenaltyRule, basis=st.sampled_from(list(PenaltyBasis)),
                  value=st.sampled_from([Decimal("0"), Decimal("0.5"), Decimal("0.06"), Decimal("0.18")]),
                  day_count=st.sampled_from([ACT_360, ACT_365F, ACT_ACT_ISDA]), grace_days=st.integers(0, 5),
                  compound_overdue_interest=st.booleans())
LATE_FEES = st.one_of(st.none(), st.builds(LateFeeRule, amount=st.sampled_from([cny("0.00"), cny("20.00")]),
                                           rate=st.sampled_from([Decimal("0"), Decimal("0.02")]),
                                           after_days=st.integers(0, 10)))
CAPS = st.one_of(st.none(), st.builds(ChargeCap, annual_rate=st.sampled_from([Decimal("0.05"), Decimal("0.24")]),
                                      day_count=st.sampled_from([ACT_360, ACT_365F])))


@settings(LENDING, max_examples=max(LENDING.max_examples, 200))
@given(st.one_of(histories(), histories(variants=COVERED, kinds=KINDS)), st.integers(min_value=0, max_value=520),
       RULES, LATE_FEES, CAPS, st.booleans())
def test_the_penalties_owed_from_the_minor_units_are_those_of_the_objects(history, days, rule, fee, cap, earns):
    state = _folded(history, days)
    if state is None:
        return
    rules = {"contract_rate": Decimal("0.12"), "rule": rule, "rounding": CNY, "as_of": state.as_of,
             "late_fee_rule": fee, "cap": cap, "overdue_earns_interest": earns}
    assert penalties_owed(state, **rules) == _objects_penalties_owed(state, **rules)
