"""The quiet loans' accrual columns predict the fold: composed with them, the stored JSON of an earlier day is
the fold's JSON of every later day before `accrual_until`, and the later steps' columns (`day_columns`) are the
same on those days (`servicing.service.accrual`, issue 18)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from microcredit.lending.daycount import ACT_360, ACT_364, ACT_365F, ACT_ACT_ISDA, THIRTY_360
from microcredit.lending.loan import Disbursement, EventRefused, Repayment, fold
from microcredit.lending.money import RoundingMode, RoundingPolicy
from microcredit.lending.periods import Frequency, PeriodSpec
from microcredit.lending.schedule.model import RepaymentMethod
from microcredit.products.service.replay import state_json
from microcredit.servicing.service import accrual
from tests.unit.lending.loan.test_fold import START, TERMS, histories
from tests.unit.lending.loan.test_kernel import COVERED
from tests.unit.lending.loan.test_kernel import KINDS as KERNEL_KINDS
from tests.unit.lending.support import LENDING, cny, make_terms


def _terms(rate: Decimal, day_count: object, mode: RoundingMode, method: RepaymentMethod, months: int) -> object:
    contract = make_terms(principal="10000.00", annual_rate=rate, day_count=day_count, method=method,
                          rounding=RoundingPolicy("CNY", mode), periods=PeriodSpec(START, Frequency.monthly(), months))
    return replace(TERMS, contract=contract)


@LENDING
@given(rate=st.integers(1, 2400).map(lambda n: Decimal(n) / 10000),
       day_count=st.sampled_from([ACT_360, ACT_364, ACT_365F, ACT_ACT_ISDA, THIRTY_360]),
       mode=st.sampled_from(list(RoundingMode)),
       method=st.sampled_from(list(RepaymentMethod)[:3]),
       months=st.integers(2, 12), pay_first=st.booleans(), offset=st.integers(0, 75), later=st.integers(1, 40))
def test_the_columns_give_the_fold_of_every_quiet_day(rate, day_count, mode, method, months, pay_first, offset,
                                                       later):
    terms = _terms(rate, day_count, mode, method, months)
    events = [Disbursement(id="d", on=START, amount=cny("10000.00"))]
    first = fold(terms, events, as_of=START)
    due1 = first.installments[0].due_date
    on = START + timedelta(days=offset)
    if pay_first and on >= due1:
        events.append(Repayment(id="r", on=due1, amount=first.installments[0].due.total))
    stored = state_json(fold(terms, events, as_of=on))
    kept = accrual.accrual_of(terms, stored, "CNY")
    if kept is None:
        return
    # Only what the module allows: a fixed actual basis, nothing overdue on the fold's day.
    assert day_count in (ACT_360, ACT_364, ACT_365F)
    assert stored["dpd"] == 0
    day = on + timedelta(days=later)
    if day >= kept.until:
        return
    later_fold = fold(terms, events, as_of=day)
    want = state_json(later_fold)
    # The later steps' columns (`accrual.day_columns`) of the fold's day hold on the quiet day too.
    assert accrual.day_columns(later_fold) == accrual.day_columns(fold(terms, events, as_of=on))
    days = (day - kept.start).days
    moved = accrual.cached_state(stored, state_as_of=day, currency="CNY",
                                 accrued_interest=accrual.interest(kept.base, kept.rate, days, kept.basis,
                                                                   kept.rounding),
                                 payoff_accrued=accrual.interest(kept.future, kept.rate, days, kept.basis,
                                                                 kept.rounding))
    assert moved == want
    # The fold of that day gives the same columns but its date's figures (the per-loan path writes them).
    again = accrual.accrual_of(terms, want, "CNY")
    assert again is not None
    assert replace(again, accrued=kept.accrued, payoff_accrued=kept.payoff_accrued) == kept


def test_a_plain_loan_inside_a_period_has_columns_and_an_overdue_one_has_none():
    terms = _terms(Decimal("0.12"), ACT_365F, RoundingMode.HALF_UP, RepaymentMethod.EQUAL_INSTALLMENT, 12)
    events = [Disbursement(id="d", on=START, amount=cny("10000.00"))]
    on = START + timedelta(days=10)
    kept = accrual.accrual_of(terms, state_json(fold(terms, events, as_of=on)), "CNY")
    assert kept is not None
    assert (kept.start, kept.base, kept.future, kept.basis) == (START, 1_000_000, 1_000_000, 365)
    assert kept.until == fold(terms, events, as_of=on).installments[0].due_date
    assert kept.accrued == accrual.interest(1_000_000, 12_000_000, 10, 365, "half_up") == 3288  # 10000 x 12% x 10/365
    overdue = state_json(fold(terms, events, as_of=kept.until + timedelta(days=3)))
    assert accrual.accrual_of(terms, overdue, "CNY") is None


def test_cached_state_leaves_a_current_json_alone():
    state = {"as_of": "2025-02-01", "accrued_interest": "1.00",
             "payoff": {"accrued_interest": "1.00", "total": "101.00", "after_credit": "101.00"}}
    assert accrual.cached_state(state, state_as_of=date(2025, 2, 1), currency="CNY", accrued_interest=999,
                                payoff_accrued=999) is state
    moved = accrual.cached_state(state, state_as_of=date(2025, 2, 3), currency="CNY", accrued_interest=300,
                                 payoff_accrued=250)
    assert moved == {"as_of": "2025-02-03", "accrued_interest": "3.00",
                     "payoff": {"accrued_interest": "2.50", "total": "102.50", "after_credit": "102.50"}}
    assert state["as_of"] == "2025-02-01"  # the stored JSON is not changed


def _objects_day_columns(state):
    """`accrual.day_columns` as it read the fold's objects (the reference for its reading of minor units)."""
    due_of = {row.number: row.due_date for row in state.installments}
    paid = [p for p in state.payments if p.event_id is not None]
    return {"unpaid_due_from": min((row.due_date for row in state.installments if not row.settled), default=None),
            "bucket": state.bucket.name, "category": int(state.classification.category),
            "late_payments": sum(1 for p in paid if any(due_of.get(line.installment, p.on) < p.on
                                                        for line in p.lines)),
            "partial_payments": sum(1 for row in state.installments
                                    if row.due_date <= state.as_of and not row.settled and row.paid.total.is_positive),
            "last_paid_on": max((p.on for p in paid), default=None),
            "unpaid_dues": ",".join(
                f"{row.number}:{row.due_date.isoformat()}:{row.outstanding.principal.minor}:"
                f"{row.outstanding.interest.minor}:{row.outstanding.fee.minor}:{row.outstanding.penalty.minor}"
                for row in state.installments if not row.settled),
            "repaid": ",".join(f"{p.on.isoformat()}:{p.amount.minor}" for p in paid)}


@LENDING
@given(st.one_of(histories(), histories(variants=COVERED, kinds=KERNEL_KINDS)), st.integers(min_value=0, max_value=520))
def test_the_day_columns_read_in_minor_units_are_those_of_the_objects(history, days):
    """Over the reference's histories and the kernel's (read from its integer columns)."""
    terms, events = history
    try:
        state = fold(terms, events, as_of=START + timedelta(days=days))
    except EventRefused:
        return
    assert accrual.day_columns(state) == _objects_day_columns(state)
