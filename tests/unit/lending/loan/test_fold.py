"""A loan as terms plus events: worked examples, refusals and the fold's properties."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from microcredit.lending.allocation import (
    DUE_DATE_ORDER,
    AllocationStrategy,
    Component,
    OverpaymentPolicy,
)
from microcredit.lending.calendar import WEEKENDS_ONLY
from microcredit.lending.classification import DEFAULT_BUCKETS, DEFAULT_PROVISION_RATES, ClassificationPolicy
from microcredit.lending.daycount import DaysInYear
from microcredit.lending.fees import Fee, FeeBasis, FeeKind, Payee
from microcredit.lending.loan import (
    Acceleration,
    AsOf,
    ChargeAdded,
    Compounding,
    Deferral,
    Disbursement,
    DownPayment,
    Event,
    EventRefused,
    ExpectedDisbursement,
    LoanBook,
    LoanState,
    LoanStatus,
    PenaltyCharged,
    PreClosure,
    Prepayment,
    ProgressiveInterest,
    Recalculation,
    Recovery,
    Refund,
    Repayment,
    Rescheduling,
    RestFrequency,
    Reversal,
    Terms,
    Waiver,
    WriteOff,
    fold,
)
from microcredit.lending.loan.cumulative import (
    CompoundingUnit,
    CumulativeRecalculation,
    EarlyPayment,
    InterestCompounding,
)
from microcredit.lending.money import Money, RoundingMode, RoundingPolicy
from microcredit.lending.periods import Frequency, PeriodSpec
from microcredit.lending.prepayment import PrepaymentMode, partial_prepayment
from microcredit.lending.restructure import DeferralInterest
from microcredit.lending.schedule import InterestCalculation, TranchePrincipal
from microcredit.lending.schedule.model import LevelInstallment

from ..support import LENDING, cny, make_terms

START = date(2025, 1, 15)
CONTRACT = make_terms(
    principal="10000.00", annual_rate=Decimal("0.12"), periods=PeriodSpec(START, Frequency.monthly(), 12)
)
TERMS = Terms(
    contract=CONTRACT,
    calendar=WEEKENDS_ONLY,
    strategy=DUE_DATE_ORDER,
    overpayment=OverpaymentPolicy.CREDIT_BALANCE,
    prepayment_mode=PrepaymentMode.SHORTEN_TERM,
    dpd_grace_days=0,
    dpd_tolerance=cny("0.00"),
    buckets=DEFAULT_BUCKETS,
    classification=ClassificationPolicy(provision_rates=DEFAULT_PROVISION_RATES),
    tranches=False,
    down_payment=None,
    recalculation=None,
)
# The same loan approved for 10,000 at most outstanding, disbursed in tranches.
TRANCHED = replace(TERMS, tranches=True)
DISBURSED = Disbursement(id="d", on=START, amount=cny("10000.00"))


def due_date(number: int) -> date:
    """Installment `number`'s due date (the 15th; no business-day rule on these terms)."""
    month = START.month - 1 + number
    return date(START.year + month // 12, month % 12 + 1, 15)


def on_time(*numbers: int) -> list[Event]:
    """Installments paid in full on their due dates (888.49 each on the docs/domain.md §4.1 loan)."""
    return [Repayment(id=f"r{n}", on=due_date(n), amount=cny("888.49")) for n in numbers]


# --- worked examples (docs/domain.md §4.1 loan: 10,000 at 12 %, 12 monthly, 888.49) ----------


def test_a_loan_paid_on_time_closes_with_every_installment_settled():
    events = [DISBURSED, *on_time(*range(1, 12)), Repayment(id="r12", on=due_date(12), amount=cny("888.47"))]
    state = fold(TERMS, events, as_of=due_date(12))
    assert state.status is LoanStatus.CLOSED
    assert all(row.settled for row in state.installments)
    assert state.total("paid").interest == cny("661.86")
    assert state.total("paid").principal == cny("10000.00")
    assert state.payoff is None
    assert state.dpd == 0


def test_a_late_installment_is_past_due_from_the_day_after_its_due_date():
    state = fold(TERMS, [DISBURSED, *on_time(1)], as_of=date(2025, 3, 25))
    assert state.dpd == 10
    assert state.bucket.name == "1-30"
    assert state.classification.category.name == "SPECIAL_MENTION"
    assert state.due_now.total == cny("888.49")


def test_a_prepayment_in_the_borrowers_mode_matches_the_partial_prepayment_rule():
    # docs/domain.md §4.1: after installment 3 the balance is 7,610.80; prepaying 2,000 on its due
    # date and keeping the term lowers the installment to 655.01 (prepayment.partial_prepayment).
    prepay = Prepayment(id="p", on=due_date(3), amount=cny("2888.49"), mode=PrepaymentMode.REDUCE_INSTALLMENT)
    state = fold(TERMS, [DISBURSED, *on_time(1, 2), prepay], as_of=due_date(3))
    assert state.principal_prepaid == cny("2000.00")
    assert [row.due.total for row in state.installments[3:6]] == [cny("655.01")] * 3
    assert len(state.installments) == 12
    assert state.principal_identity()


def test_a_prepayment_that_shortens_the_term_keeps_the_installment():
    prepay = Prepayment(id="p", on=due_date(3), amount=cny("2888.49"), mode=PrepaymentMode.SHORTEN_TERM)
    state = fold(TERMS, [DISBURSED, *on_time(1, 2), prepay], as_of=due_date(3))
    assert len(state.installments) == 10
    assert state.installments[-1].due.total == cny("494.88")
    assert state.installments[4].due.total == cny("888.49")


def test_a_prepayment_inside_a_period_settles_the_interest_accrued_to_the_day_first():
    # 2025-04-25: 10 days on 7,610.80 at 12 % ACT/360 = 25.37, so 1,974.63 of 2,000 lowers principal.
    prepay = Prepayment(id="p", on=date(2025, 4, 25), amount=cny("2000.00"), mode=PrepaymentMode.SHORTEN_TERM)
    state = fold(TERMS, [DISBURSED, *on_time(1, 2, 3), prepay], as_of=date(2025, 4, 25))
    assert state.interest_prepaid == cny("25.37")
    assert state.principal_prepaid == cny("1974.63")
    before = fold(TERMS, [DISBURSED, *on_time(1, 2, 3)], as_of=due_date(3)).schedule
    assert before is not None
    expected = partial_prepayment(before, CONTRACT, paid_on=date(2025, 4, 25), amount=cny("2000.00"),
                                  mode=PrepaymentMode.SHORTEN_TERM, calendar=WEEKENDS_ONLY)
    assert state.schedule == expected.schedule


def test_an_overpayment_is_held_as_credit_and_pays_the_next_installment_on_its_due_date():
    events = [DISBURSED, Repayment(id="r", on=due_date(1), amount=cny("1000.00"))]
    before = fold(TERMS, events, as_of=due_date(2) - timedelta(days=1))
    assert before.credit_balance == cny("111.51")
    after = fold(TERMS, events, as_of=due_date(2))
    assert after.credit_balance == cny("0.00")
    assert after.installments[1].paid.total == cny("111.51")
    assert after.payments[-1].event_id is None  # credit used, not a payment


def test_a_refund_pays_the_credit_back_and_it_no_longer_pays_the_next_installment():
    overpaid = [DISBURSED, Repayment(id="r", on=due_date(1), amount=cny("1000.00"))]
    refund = Refund(id="u", on=due_date(1) + timedelta(days=3), amount=cny("111.51"))
    state = fold(TERMS, [*overpaid, refund], as_of=due_date(2))
    assert state.credit_balance == cny("0.00")
    assert state.refunded == cny("111.51")
    assert state.installments[1].paid.total == cny("0.00")
    # Reversed (a refund transfer that bounced), the credit is held again and used on the due date.
    back = fold(TERMS, [*overpaid, refund, Reversal(id="x", on=due_date(2), target="u")], as_of=due_date(2))
    assert back.refunded == cny("0.00")
    assert back.installments[1].paid.total == cny("111.51")


def test_a_refund_of_the_whole_credit_closes_an_overpaid_loan():
    paid = [DISBURSED, *on_time(*range(1, 13))]
    last = paid[-1].on
    extra = Repayment(id="extra", on=last, amount=cny("25.00"))
    overpaid = fold(TERMS, [*paid, extra], as_of=last)
    assert overpaid.status is LoanStatus.OVERPAID
    assert overpaid.credit_balance == cny("25.02")  # the last installment is 0.02 below the others
    closed = fold(TERMS, [*paid, extra, Refund(id="u", on=last, amount=cny("25.02"))], as_of=last)
    assert closed.status is LoanStatus.CLOSED
    assert closed.credit_balance.is_zero


@pytest.mark.parametrize(
    ("events", "code"),
    [
        ([DISBURSED, Refund(id="u", on=due_date(1), amount=cny("0.01"))], "no_credit_balance"),
        ([DISBURSED, Repayment(id="r", on=due_date(1), amount=cny("1000.00")),
          Refund(id="u", on=due_date(1), amount=cny("111.52"))], "above_credit_balance"),
        ([DISBURSED, Repayment(id="r", on=due_date(1), amount=cny("1000.00")),
          Refund(id="u", on=due_date(1), amount=Money.parse("1.00", "USD"))], "currency_mismatch"),
    ],
)
def test_a_refund_takes_only_credit_held(events, code):
    with pytest.raises(EventRefused) as refused:
        fold(TERMS, events, as_of=due_date(1))
    assert refused.value.code == code


def test_a_payoff_quote_is_principal_plus_the_interest_accrued_to_the_day():
    state = fold(TERMS, [DISBURSED, *on_time(1, 2, 3)], as_of=date(2025, 4, 25))
    assert state.payoff is not None
    assert state.payoff.principal == cny("7610.80")
    assert state.payoff.accrued_interest == cny("25.37")
    assert state.payoff_amount == cny("7636.17")
    settle = Prepayment(id="x", on=date(2025, 4, 25), amount=cny("7636.17"), mode=PrepaymentMode.SHORTEN_TERM)
    paid = fold(TERMS, [DISBURSED, *on_time(1, 2, 3), settle], as_of=date(2025, 4, 25))
    assert paid.status is LoanStatus.CLOSED
    assert paid.principal_identity()


def test_charges_and_penalties_are_owed_with_their_installment_and_can_be_waived():
    events = [
        DISBURSED,
        ChargeAdded(id="c", on=date(2025, 2, 1), amount=cny("20.00"), name="document fee"),
        PenaltyCharged(id="pen", on=date(2025, 2, 20), installment=1, amount=cny("3.94")),
        Waiver(id="w", on=date(2025, 2, 21), installment=1, component=Component.PENALTY, amount=cny("1.94")),
    ]
    state = fold(TERMS, events, as_of=date(2025, 2, 21))
    first = state.installments[0]
    assert first.due.fee == cny("20.00")
    assert first.due.penalty == cny("3.94")
    assert first.waived.penalty == cny("1.94")
    assert first.outstanding.total == cny("888.49") + cny("20.00") + cny("2.00")


def test_a_charge_at_disbursement_is_owed_on_the_day_by_installment_0_and_leaves_the_schedule_alone():
    # A disbursement fee of 150.00 (Fineract's DISBURSEMENT charge, 1.5 % of 10,000.00) charged
    # with the disbursement and paid on the day; the installments owe what they did without it.
    fee = ChargeAdded(id="c", on=START, amount=cny("150.00"), name="disbursement fee", at_disbursement=True)
    paid = Repayment(id="r", on=START, amount=cny("150.00"))
    plain = fold(TERMS, [DISBURSED], as_of=START)
    state = fold(TERMS, [DISBURSED, fee, paid], as_of=START)
    first = state.installments[0]
    assert (first.number, first.due_date, first.due.fee, first.due.principal) == (0, START, cny("150.00"), cny("0"))
    assert first.outstanding.total.is_zero
    assert first.paid.fee == cny("150.00")
    assert [r.due for r in state.installments[1:]] == [r.due for r in plain.installments]
    assert fold(TERMS, [DISBURSED, fee], as_of=START).installments[0].outstanding.fee == cny("150.00")
    # A penalty charged at disbursement is owed as penalty; a day that is not the first
    # disbursement's is refused.
    penalty = replace(fee, penalty=True)
    assert fold(TERMS, [DISBURSED, penalty], as_of=START).installments[0].due.penalty == cny("150.00")
    with pytest.raises(EventRefused) as refused:
        fold(TERMS, [DISBURSED, replace(fee, on=START + timedelta(days=1))], as_of=START + timedelta(days=1))
    assert refused.value.code == "not_disbursement_day"


def test_periods_from_the_contract_start_keep_their_due_dates_whatever_day_the_money_is_paid_out():
    # A loan without interest whose periods run from the application's date (Fineract's
    # repaymentStartDateType SUBMITTED_ON_DATE): paid out 10 days late, still due a month after START.
    free = replace(TERMS, contract=replace(CONTRACT, annual_rate=Decimal(0)), periods_from_contract_start=True)
    late = Disbursement(id="d", on=START + timedelta(days=10), amount=cny("10000.00"))
    state = fold(free, [late], as_of=late.on)
    assert state.installments[0].due_date == due_date(1)
    assert state.installments[0].period_start == START
    plain = fold(replace(free, periods_from_contract_start=False), [late], as_of=late.on)
    assert plain.installments[0].due_date != due_date(1)
    with pytest.raises(ValueError, match="without interest"):
        replace(TERMS, periods_from_contract_start=True)


def test_a_charge_on_an_installment_not_yet_due_survives_a_prepayment_that_shortens_the_term():
    # The charge falls due with installment 1; the prepayment before it re-amortises every
    # installment, and the charge is still owed with installment 1 afterwards.
    events = [
        DISBURSED,
        ChargeAdded(id="c", on=date(2025, 1, 20), amount=cny("20.00"), name="statement fee"),
        Prepayment(id="p", on=date(2025, 1, 25), amount=cny("3000.00"), mode=PrepaymentMode.SHORTEN_TERM),
    ]
    state = fold(TERMS, events, as_of=date(2025, 1, 25))
    assert len(state.installments) < 12
    assert state.installments[0].due.fee == cny("20.00")
    assert state.installments[0].outstanding.fee == cny("20.00")
    assert state.principal_prepaid + state.interest_prepaid == cny("3000.00")
    assert state.principal_identity()


def test_events_dated_after_the_as_of_day_are_not_yet_applied():
    charge = ChargeAdded(id="c", on=due_date(12), amount=cny("20.00"), name="statement fee")
    assert fold(TERMS, [DISBURSED, charge], as_of=due_date(11)).total("due").fee.is_zero
    assert fold(TERMS, [DISBURSED, charge], as_of=due_date(12)).installments[-1].due.fee == cny("20.00")


def test_a_written_off_loan_takes_only_recoveries_up_to_what_was_written_off():
    events = [DISBURSED, *on_time(1), WriteOff(id="wo", on=date(2025, 9, 1)),
              Recovery(id="rc", on=date(2025, 10, 1), amount=cny("500.00"))]
    state = fold(TERMS, events, as_of=date(2025, 10, 1))
    assert state.status is LoanStatus.WRITTEN_OFF
    assert state.total("written_off").principal == cny("9211.51")
    assert state.total("outstanding").total.is_zero
    assert state.recovered == cny("500.00")
    assert state.principal_identity()
    with pytest.raises(EventRefused) as refused:
        fold(TERMS, [*events, Repayment(id="late", on=date(2025, 10, 2), amount=cny("1.00"))], as_of=date(2025, 10, 2))
    assert refused.value.code == "written_off"


@pytest.mark.parametrize(
    ("events", "code"),
    [
        ([Repayment(id="r", on=START, amount=cny("1.00"))], "not_disbursed"),
        ([Disbursement(id="d", on=START, amount=cny("10000.01"))], "above_approved_amount"),
        ([DISBURSED, Disbursement(id="d2", on=due_date(1), amount=cny("1.00"))], "already_disbursed"),
        ([DISBURSED, Repayment(id="d", on=due_date(1), amount=cny("1.00"))], "duplicate_event_id"),
        ([DISBURSED, Repayment(id="r", on=due_date(1), amount=Money.parse("1.00", "USD"))], "currency_mismatch"),
        ([DISBURSED, Waiver(id="w", on=due_date(1), installment=1, component=Component.PRINCIPAL,
                            amount=cny("1.00"))], "principal_not_waivable"),
        ([DISBURSED, Waiver(id="w", on=due_date(1), installment=1, component=Component.INTEREST,
                            amount=cny("100.01"))], "above_outstanding"),
        ([DISBURSED, Waiver(id="w", on=START, installment=2, component=Component.INTEREST,
                            amount=cny("1.00"))], "installment_not_due"),
        ([DISBURSED, PenaltyCharged(id="p", on=due_date(1), installment=2, amount=cny("1.00"))], "installment_not_due"),
        ([DISBURSED, Reversal(id="x", on=START, target="nope")], "reversal_target_unknown"),
        ([DISBURSED, AsOf(id="a", on=START), Reversal(id="x", on=START, target="a")], "not_reversible"),
        ([DISBURSED, Recovery(id="rc", on=START, amount=cny("1.00"))], "not_written_off"),
    ],
)
def test_events_the_loan_cannot_take_are_refused_with_a_code(events, code):
    with pytest.raises(EventRefused) as refused:
        fold(TERMS, events, as_of=date(2026, 1, 1))
    assert refused.value.code == code
    assert refused.value.event_id == events[-1].id


def test_a_back_dated_payment_is_applied_on_its_value_date():
    # Recorded after a close of business and a later payment, the 2025-02-15 payment is still the
    # one that paid installment 1 on its due date; the later one pays installment 2.
    events = [
        DISBURSED,
        AsOf(id="cob", on=date(2025, 3, 20)),
        Repayment(id="late", on=date(2025, 3, 20), amount=cny("888.49")),
        Repayment(id="back", on=due_date(1), amount=cny("888.49")),
    ]
    book = LoanBook.open(TERMS)
    for event in events[:3]:
        book = book.record(event)
    assert book.state(as_of=date(2025, 3, 20)).dpd == 5  # installment 2 unpaid since 2025-03-15
    book = book.record(events[3])
    state = book.state(as_of=date(2025, 3, 20))
    assert [p.event_id for p in state.payments] == ["back", "late"]
    assert {line.installment for line in state.payments[0].lines} == {1}
    assert {line.installment for line in state.payments[1].lines} == {2}
    assert state.dpd == 0
    assert state == fold(TERMS, events, as_of=date(2025, 3, 20))


def test_a_tranche_re_amortises_the_installments_left_on_the_larger_balance():
    first = Disbursement(id="d", on=START, amount=cny("6000.00"))
    second = Disbursement(id="d2", on=date(2025, 4, 25), amount=cny("4000.00"))
    paid = [Repayment(id=f"r{n}", on=due_date(n), amount=cny("533.09")) for n in (1, 2, 3)]
    state = fold(TRANCHED, [first, *paid, second], as_of=date(2025, 4, 25))
    assert state.disbursed == cny("10000.00")
    assert [(d.event_id, d.amount) for d in state.disbursements] == [("d", cny("6000.00")), ("d2", cny("4000.00"))]
    assert state.principal_identity()
    # Installments 1-3 as they were; 4-12 on the old balance plus 4,000, the level recomputed.
    assert [row.due.total for row in state.installments[:3]] == [cny("533.09")] * 3
    old = state.installments[2].balance_after
    assert old == cny("4566.49")
    new = old + cny("4000.00")
    assert state.installments[3].balance_after + state.installments[3].due.principal == new
    assert state.outstanding.principal == new
    # The interest of installment 4: 10 days on the old balance (15.22), then 20 on the new (57.11).
    expected = (old.times(Fraction(12, 100) * Fraction(10, 360), RoundingMode.HALF_UP)
                + new.times(Fraction(12, 100) * Fraction(20, 360), RoundingMode.HALF_UP))
    assert state.installments[3].due.interest == expected == cny("72.33")
    levels = {row.due.total for row in state.installments[4:11]}
    assert len(levels) == 1


@pytest.mark.parametrize(
    ("events", "code"),
    [
        ([Disbursement(id="d", on=START, amount=cny("6000.00")),
          Disbursement(id="d2", on=due_date(1), amount=cny("4000.01"))], "above_approved_amount"),
        ([Disbursement(id="d", on=START, amount=cny("6000.00")),
          Disbursement(id="d2", on=date(2026, 2, 1), amount=cny("1.00"))], "schedule_ended"),
    ],
)
def test_a_tranche_beyond_the_approved_amount_or_the_term_is_refused(events, code):
    with pytest.raises(EventRefused) as refused:
        fold(TRANCHED, events, as_of=date(2026, 3, 1))
    assert refused.value.code == code


PAYS_AHEAD = replace(TRANCHED, overpayment=OverpaymentPolicy.PAY_NEXT_INSTALLMENTS)
AHEAD = [Disbursement(id="d", on=START, amount=cny("6000.00")), Repayment(id="r", on=START, amount=cny("0.01"))]


@pytest.mark.parametrize(
    "event",
    [Disbursement(id="d2", on=date(2025, 1, 20), amount=cny("100.00")),
     Prepayment(id="p", on=START, amount=cny("0.01"), mode=PrepaymentMode.SHORTEN_TERM),
     Prepayment(id="p", on=date(2025, 1, 20), amount=cny("500.00"), mode=PrepaymentMode.REDUCE_INSTALLMENT)],
)
def test_installments_paid_ahead_are_not_re_amortised_under_the_payment_that_paid_them(event):
    # A fen paid ahead on installment 1 (terms that pay the next installments): a tranche or a
    # prepayment before it falls due would replace the row that payment's lines name.
    with pytest.raises(EventRefused) as refused:
        fold(PAYS_AHEAD, [*AHEAD, event], as_of=date(2025, 2, 1))
    assert refused.value.code == "installment_paid_in_advance"
    # Once the installment has fallen due it is no longer re-amortised: the same event is taken.
    later = replace(event, on=due_date(1) + timedelta(days=1))
    assert fold(PAYS_AHEAD, [*AHEAD, later], as_of=date(2025, 3, 1)).principal_identity()


def test_a_charge_paid_ahead_is_not_lost_to_a_tranche():
    # Hypothesis found it: a 0.02 charge owed with installment 1, 0.01 of it paid ahead (terms that
    # pay the next installments), then a tranche.  The tranche used to re-amortise installment 1 and
    # set the charge aside at what it still owed: the 0.01 paid was on no installment any more.
    charged = [*AHEAD[:1], ChargeAdded(id="c", on=START, amount=cny("0.02"), name="fee"), AHEAD[1]]
    with pytest.raises(EventRefused) as refused:
        fold(PAYS_AHEAD, [*charged, Disbursement(id="d2", on=date(2025, 1, 16), amount=cny("0.03"))],
             as_of=date(2025, 2, 1))
    assert refused.value.code == "installment_paid_in_advance"
    state = fold(PAYS_AHEAD, charged, as_of=date(2025, 2, 1))
    assert state.installments[0].paid.fee == cny("0.01")


def test_repaid_principal_makes_room_for_a_later_tranche():
    events = [Disbursement(id="d", on=START, amount=cny("10000.00")), *on_time(1),
              Disbursement(id="d2", on=date(2025, 2, 20), amount=cny("788.49"))]
    state = fold(TRANCHED, events, as_of=date(2025, 2, 20))
    assert state.outstanding.principal == cny("10000.00")
    assert state.principal_identity()


def test_a_down_payment_is_owed_on_the_disbursement_day_and_the_schedule_amortises_the_rest():
    terms = replace(TERMS, down_payment=DownPayment(percent=Decimal("25"), collected_at_disbursement=False))
    state = fold(terms, [DISBURSED], as_of=START + timedelta(days=3))
    down = state.installments[0]
    assert (down.number, down.due_date, down.due.principal) == (0, START, cny("2500.00"))
    assert down.balance_after == cny("7500.00")
    assert Money.total((row.due.principal for row in state.installments[1:]), "CNY") == cny("7500.00")
    assert state.dpd == 3  # unpaid since the disbursement
    paid = fold(terms, [DISBURSED, Repayment(id="r", on=START, amount=cny("2500.00"))], as_of=START)
    assert paid.installments[0].settled
    assert paid.principal_identity()


def test_a_down_payment_collected_at_disbursement_is_paid_on_the_day_for_each_tranche():
    terms = replace(TRANCHED, down_payment=DownPayment(percent=Decimal("20"), collected_at_disbursement=True))
    events = [Disbursement(id="d", on=START, amount=cny("5000.00")),
              Disbursement(id="d2", on=date(2025, 3, 1), amount=cny("2500.00"))]
    state = fold(terms, events, as_of=date(2025, 3, 1))
    # In due-date order: the first down payment, installment 1, the tranche's down payment, 2 ...
    assert [row.number for row in state.installments[:4]] == [0, 1, -1, 2]
    downs = [row for row in state.installments if row.number <= 0]
    assert [(row.number, row.due_date, row.due.principal) for row in downs] == [
        (0, START, cny("1000.00")), (-1, date(2025, 3, 1), cny("500.00"))]
    assert all(row.settled for row in downs)
    assert [p.event_id for p in state.payments] == ["d:down_payment", "d2:down_payment"]
    assert state.outstanding.principal == cny("7500.00") - cny("1500.00")
    assert state.principal_identity()


# --- properties ------------------------------------------------------------------------------


INSURANCE = Fee("保险费", FeeKind.PER_INSTALLMENT, Payee.INSURER, amount=cny("10.00"), waivable=False)
SERVICE = Fee("服务费", FeeKind.PER_INSTALLMENT, Payee.LENDER, amount=cny("5.00"))
ARRANGEMENT = Fee("手续费", FeeKind.AT_DISBURSEMENT, Payee.LENDER, amount=cny("200.00"), waivable=False)
WITH_FEES = replace(TERMS, contract=replace(CONTRACT, fees=(INSURANCE, SERVICE, ARRANGEMENT)))
# Fees paid at disbursement and per installment, the insurer's not waivable.
FEES_TRANCHED = replace(WITH_FEES, tranches=True)
# A guarantor's fee of 1 % of each installment's principal + interest, not waivable: it follows
# the rows a tranche or a prepayment re-amortises.
GUARANTEE = Fee("担保费", FeeKind.PER_INSTALLMENT, Payee.GUARANTOR, rate=Decimal("0.01"),
                basis=FeeBasis.INSTALLMENT, waivable=False)
INSTALLMENT_FEES = replace(TERMS, contract=replace(CONTRACT, fees=(GUARANTEE, SERVICE)), tranches=True,
                           overpayment=OverpaymentPolicy.PREPAY_PRINCIPAL,
                           prepayment_mode=PrepaymentMode.REDUCE_INSTALLMENT)

# Fineract's progressive loan without interest: a tranche added to the later installments,
# ordered among its day's payments as recorded, an automatic down payment by the strategy.
LATER_TRANCHES = replace(
    TRANCHED, contract=replace(CONTRACT, annual_rate=Decimal(0), tranche_principal=TranchePrincipal.LATER_INSTALLMENTS),
    overpayment=OverpaymentPolicy.PAY_NEXT_INSTALLMENTS,
    down_payment=DownPayment(percent=Decimal("25"), collected_at_disbursement=True, collected_by_strategy=True))

# Fineract's progressive loan with interest: the calculator's schedule, overdue principal back
# into the balance daily (P8), what is paid beyond everything due paying the next installments.
PROGRESSIVE_INTEREST = replace(
    TRANCHED, contract=replace(CONTRACT, rounding=RoundingPolicy("CNY", RoundingMode.HALF_EVEN)),
    overpayment=OverpaymentPolicy.PAY_NEXT_INSTALLMENTS,
    progressive=ProgressiveInterest(days_in_year=DaysInYear.ACTUAL, overdue_rest=RestFrequency.DAILY))

# The same on 30/360, overdue principal back for whole periods, a payment ahead counting from
# the running period's due date.
PROGRESSIVE_TO_REST_DATE = replace(
    PROGRESSIVE_INTEREST, progressive=ProgressiveInterest(days_in_year=DaysInYear.D360,
                                                          overdue_rest=RestFrequency.SAME_AS_REPAYMENT,
                                                          pre_closure=PreClosure.TILL_REST_DATE))

# Fineract's cumulative loan with interest recalculation: the schedule regenerated from the
# disbursement and the payments on each repayment and when read (`loan.cumulative`).
CUMULATIVE_RECALCULATION = replace(
    TERMS, contract=replace(CONTRACT, rounding=RoundingPolicy("CNY", RoundingMode.HALF_EVEN),
                            interest_calculation=InterestCalculation.DAILY,
                            level_installment=LevelInstallment.NOMINAL_PMT),
    overpayment=OverpaymentPolicy.PAY_NEXT_INSTALLMENTS,
    cumulative_recalculation=CumulativeRecalculation(rest=RestFrequency.DAILY,
                                                     early_payment=EarlyPayment.REDUCE_INSTALLMENT))

VARIANTS = (
    TRANCHED,
    # Paid ahead, only the charges already due by their own due dates come before principal
    # (Fineract's due-penalty-fee-interest-principal-in-advance-principal-penalty-fee-interest).
    replace(TRANCHED, overpayment=OverpaymentPolicy.PAY_NEXT_INSTALLMENTS, strategy=AllocationStrategy(
        "in_advance_due_charges", (Component.PENALTY, Component.FEE, Component.INTEREST, Component.PRINCIPAL),
        in_advance_order=(Component.PENALTY, Component.FEE, Component.PRINCIPAL, Component.INTEREST),
        in_advance_charges_due_first=True)),
    replace(TRANCHED, down_payment=DownPayment(percent=Decimal("20"), collected_at_disbursement=True)),
    replace(TRANCHED, down_payment=DownPayment(percent=Decimal("12.5"), collected_at_disbursement=False),
            overpayment=OverpaymentPolicy.PAY_NEXT_INSTALLMENTS),
    replace(TRANCHED, overpayment=OverpaymentPolicy.PREPAY_PRINCIPAL,
            prepayment_mode=PrepaymentMode.REDUCE_INSTALLMENT),
    # Interest recalculated on the actual balance: daily rest with paid-ahead principal, and a
    # monthly rest compounding overdue interest and fees with prepaid principal.
    replace(TRANCHED, overpayment=OverpaymentPolicy.PAY_NEXT_INSTALLMENTS,
            recalculation=Recalculation(rest=RestFrequency.DAILY, compounding=Compounding.NONE,
                                        pre_closure=PreClosure.TILL_PRE_CLOSURE_DATE)),
    replace(TRANCHED, overpayment=OverpaymentPolicy.PAY_NEXT_PRINCIPAL,
            recalculation=Recalculation(rest=RestFrequency.SAME_AS_REPAYMENT, compounding=Compounding.INTEREST,
                                        pre_closure=PreClosure.TILL_PRE_CLOSURE_DATE)),
    replace(TRANCHED, overpayment=OverpaymentPolicy.PREPAY_PRINCIPAL,
            prepayment_mode=PrepaymentMode.REDUCE_INSTALLMENT,
            down_payment=DownPayment(percent=Decimal("10"), collected_at_disbursement=False),
            recalculation=Recalculation(rest=RestFrequency.MONTHLY, compounding=Compounding.INTEREST_AND_FEES,
                                        pre_closure=PreClosure.TILL_REST_DATE)),
    FEES_TRANCHED,
    INSTALLMENT_FEES,
    LATER_TRANCHES,
    PROGRESSIVE_INTEREST,
    PROGRESSIVE_TO_REST_DATE,
    CUMULATIVE_RECALCULATION,
    replace(CUMULATIVE_RECALCULATION, tranches=True, cumulative_recalculation=CumulativeRecalculation(
        rest=RestFrequency.SAME_AS_REPAYMENT, early_payment=EarlyPayment.NEXT_PRINCIPAL)),
    replace(CUMULATIVE_RECALCULATION, cumulative_recalculation=CumulativeRecalculation(
        rest=RestFrequency.DAILY, early_payment=EarlyPayment.SHORTEN_TERM)),
    # ... with interest compounded (R3): every 30 days, and monthly on the 1st with a
    # same-as-repayment rest and tranches.
    replace(CUMULATIVE_RECALCULATION, cumulative_recalculation=CumulativeRecalculation(
        rest=RestFrequency.DAILY, early_payment=EarlyPayment.NEXT_PRINCIPAL,
        compounding=InterestCompounding(unit=CompoundingUnit.DAYS, every=30))),
    replace(CUMULATIVE_RECALCULATION, tranches=True, cumulative_recalculation=CumulativeRecalculation(
        rest=RestFrequency.SAME_AS_REPAYMENT, early_payment=EarlyPayment.REDUCE_INSTALLMENT,
        compounding=InterestCompounding(unit=CompoundingUnit.MONTHS, day_of_month=1))),
)


KINDS = ("repay", "repay", "repay", "prepay", "charge", "penalty", "waive", "reverse", "tranche", "defer",
         "reschedule", "refund", "accelerate")


@st.composite
def histories(draw: st.DrawFn, variants: tuple[Terms, ...] = VARIANTS,
              kinds: tuple[str, ...] = KINDS) -> tuple[Terms, list[Event]]:
    """A first disbursement and up to 25 events the loan can take, tranches among them (those it
    refuses are dropped); `kinds` the kinds of event drawn from."""
    first = Money(draw(st.integers(min_value=300_000, max_value=1_000_000)), "CNY")
    terms = draw(st.sampled_from(variants))
    book = LoanBook.open(terms).record(Disbursement(id="d", on=START, amount=first))
    count = draw(st.integers(min_value=0, max_value=25))
    for index in range(count):
        on = START + timedelta(days=draw(st.integers(min_value=0, max_value=420)))
        kind = draw(st.sampled_from(kinds))
        amount = Money(draw(st.integers(min_value=1, max_value=300_000)), "CNY")
        number = draw(st.integers(min_value=1, max_value=12))
        event: Event
        if kind == "repay":
            event = Repayment(id=f"e{index}", on=on, amount=amount)
        elif kind == "prepay":
            event = Prepayment(id=f"e{index}", on=on, amount=amount, mode=draw(st.sampled_from(PrepaymentMode)))
        elif kind == "tranche":
            event = Disbursement(id=f"e{index}", on=on, amount=Money(amount.minor * 3, "CNY"))
        elif kind == "defer":
            event = Deferral(id=f"e{index}", on=on, from_installment=number, periods=draw(st.integers(1, 3)),
                             interest=draw(st.sampled_from(DeferralInterest)), restructuring=draw(st.booleans()))
        elif kind == "reschedule":
            event = Rescheduling(id=f"e{index}", on=on, installments=draw(st.integers(1, 24)),
                                 annual_rate=draw(st.sampled_from([None, Decimal("0.08"), Decimal("0.18")])),
                                 capitalise_overdue_principal=draw(st.booleans()))
        elif kind == "accelerate":
            event = Acceleration(id=f"e{index}", on=on)
        elif kind == "charge":
            at_disbursement = draw(st.booleans())
            event = ChargeAdded(id=f"e{index}", on=START if at_disbursement else on,
                                amount=Money(amount.minor % 5000 + 1, "CNY"), name="fee",
                                penalty=draw(st.booleans()), at_disbursement=at_disbursement)
        elif kind == "penalty":
            event = PenaltyCharged(id=f"e{index}", on=on, installment=number,
                                   amount=Money(amount.minor % 5000 + 1, "CNY"))
        elif kind == "refund":
            # Part or all of the credit held on the day (after the last event recorded: a refund
            # needs credit, which random amounts would almost never meet).
            day = max([on, *(e.on for e in book.events)])
            held = book.state(as_of=day).credit_balance
            if not held.is_positive:
                continue
            event = Refund(id=f"e{index}", on=day, amount=Money(min(amount.minor, held.minor), "CNY"))
        elif kind == "waive":
            event = Waiver(id=f"e{index}", on=on, installment=number,
                           component=draw(st.sampled_from([Component.INTEREST, Component.FEE, Component.PENALTY])),
                           amount=Money(amount.minor % 3000 + 1, "CNY"))
        else:
            candidates = [e.id for e in book.events if not isinstance(e, Reversal | Disbursement)]
            if not candidates:
                continue
            event = Reversal(id=f"e{index}", on=on, target=draw(st.sampled_from(candidates)))
        try:
            book = book.record(event)
        except EventRefused:
            continue
    return terms, list(book.events)


AS_OF = date(2026, 6, 1)


def _paid_in(state: LoanState) -> Money:
    return Money.total((p.amount for p in state.payments), "CNY")


@LENDING
@given(histories())
def test_principal_is_conserved_and_every_fen_paid_is_accounted_for_once(history):
    terms, events = history
    state = fold(terms, events, as_of=AS_OF)
    assert state.principal_identity()
    paid = state.total("paid")
    assert _paid_in(state) == (paid.total + state.principal_prepaid + state.interest_prepaid + state.credit_balance
                               + state.refunded)
    for row in state.installments:
        for which in (row.paid, row.outstanding, row.waived):
            assert not any(which.get(c).is_negative for c in Component)
    for payment in state.payments:
        lines = Money.total((line.amount for line in payment.lines), "CNY")
        assert lines + payment.principal_prepaid + payment.interest_prepaid + payment.credit == payment.amount


@LENDING
@given(histories(), st.data())
def test_reversing_an_event_gives_the_state_of_never_having_had_it(history, data):
    terms, events = history
    candidates = [e for e in events if not isinstance(e, Reversal | Disbursement | AsOf)
                  and not any(isinstance(r, Reversal) and r.target == e.id for r in events)]
    if not candidates:
        return
    target = data.draw(st.sampled_from(candidates))
    without = [e for e in events if e.id != target.id]
    try:
        expected = fold(terms, without, as_of=AS_OF)
    except EventRefused:
        return  # a later event needed it (e.g. a penalty on an installment it made due): both refuse
    reversed_state = fold(terms, [*events, Reversal(id="undo", on=AS_OF, target=target.id)], as_of=AS_OF)
    assert replace(reversed_state, reversed=()) == replace(expected, reversed=())
    assert target.id in reversed_state.reversed


@LENDING
@given(histories(), st.randoms(use_true_random=False))
def test_recording_order_does_not_matter_only_value_dates_do(history, rnd):
    terms, events = history
    # Events of different value dates recorded in any order fold to the same state.
    reversals = [e for e in events if isinstance(e, Reversal)]  # their order names the reversed ids
    others = [e for e in events if not isinstance(e, Reversal)]
    by_day: dict[date, list[Event]] = {}
    for e in events:
        by_day.setdefault(e.on, []).append(e)
    # Within a day the recording order decides ties: keep it, move whole days around.
    days = sorted(by_day, key=lambda d: rnd.random())
    ordered = [e for day in days for e in by_day[day] if not isinstance(e, Reversal)]
    assert len(ordered) == len(others)
    assert fold(terms, [*ordered, *reversals], as_of=AS_OF) == fold(terms, events, as_of=AS_OF)


@LENDING
@given(histories())
def test_the_book_kept_event_by_event_equals_the_fold_from_scratch_and_every_prefix_its_own(history):
    terms, events = history
    book = LoanBook.open(terms)
    for count, event in enumerate(events, start=1):
        book = book.record(event)
        latest = max(e.on for e in events[:count])
        assert book.state(as_of=latest) == fold(terms, events[:count], as_of=latest)
    assert book.state(as_of=AS_OF) == fold(terms, events, as_of=AS_OF)


@pytest.mark.parametrize("same_day", [17, 0])
def test_a_payment_ahead_that_finds_nothing_payable_leaves_the_installments_as_the_model_has_them(same_day):
    # Found by a search of the properties above (MC_HYP_EXAMPLES): before the fix the loan read on
    # 1 June 2026 showed principal outstanding -1,770.28.  On 16 November the overdue principal has
    # gone back into the balance twice over (P8 at a whole period's rest, once on 1 October and again
    # on 16 November), so the model's balance before the last installment is negative and that
    # installment, asked ahead of its due date, has a payable principal of -1,770.28: nothing is paid
    # on it, the 66.37 left is held, and the installment goes back to the model's 356.94 (it kept
    # the negative figure, which no later step put right, and the credit could not pay it on its
    # due date).  The seventeen cents paid on the disbursement day change nothing of this.
    events: list[Event] = [Disbursement(id="d", on=START, amount=cny("3000.00"))]
    events += [Repayment(id=f"s{k}", on=START, amount=cny("0.01")) for k in range(same_day)]
    events += [Repayment(id="o", on=date(2025, 10, 1), amount=cny("0.01")),
               Repayment(id="n", on=date(2025, 11, 16), amount=cny("3000.00"))]
    paid_ahead = Money(same_day, "CNY")
    on_the_day = fold(PROGRESSIVE_TO_REST_DATE, events, as_of=date(2025, 11, 16))
    assert on_the_day.principal_identity()
    assert on_the_day.installments[-1].due.principal == cny("356.94")
    assert on_the_day.installments[-1].paid.total.is_zero
    assert on_the_day.credit_balance == cny("66.20") + paid_ahead
    state = fold(PROGRESSIVE_TO_REST_DATE, events, as_of=AS_OF)
    assert state.principal_identity()
    assert state.outstanding.principal == cny("290.74") - paid_ahead  # the credit paid 15 January 2026
    assert state.credit_balance.is_zero
    assert all(not row.outstanding.get(c).is_negative for row in state.installments for c in Component)


@pytest.mark.parametrize(("in_recorded_order", "fee_paid_by_the_payment"), [(False, True), (True, False)])
def test_a_charge_recorded_after_a_payment_of_its_day_is_paid_by_it_only_in_our_order(in_recorded_order,
                                                                                      fee_paid_by_the_payment):
    # Fineract's advanced processor (LoanCharge.feature line 1227) replays a charge after the
    # payments of its day recorded before it; ours places a charge before the day's payments.
    terms = replace(TERMS, charges_in_recorded_order=in_recorded_order)
    day = due_date(1)
    events = [DISBURSED, Repayment(id="r1", on=day, amount=cny("900.00")),
              ChargeAdded(id="c", on=day, amount=cny("20.00"), name="fee")]
    state = fold(terms, events, as_of=day)
    payment = next(p for p in state.payments if p.event_id == "r1")
    fee = Money.total((line.amount for line in payment.lines if line.component is Component.FEE), "CNY")
    assert fee == (cny("20.00") if fee_paid_by_the_payment else cny("0.00"))
    assert state.principal_identity()
    assert state.total("paid").total + state.credit_balance == cny("900.00")


def test_a_refused_event_leaves_the_book_as_it_was():
    book = LoanBook.open(TERMS).record(DISBURSED)
    with pytest.raises(EventRefused):
        book.record(Waiver(id="w", on=START, installment=1, component=Component.FEE, amount=cny("1.00")))
    assert book.events == (DISBURSED,)


# --- planned disbursements (multi-disbursement loans with an agreed plan) ---------------------

PLAN = (ExpectedDisbursement(START, cny("6000.00")), ExpectedDisbursement(date(2025, 4, 25), cny("4000.00")))
PLANNED = replace(TRANCHED, expected_disbursements=PLAN)
FIRST = Disbursement(id="d", on=START, amount=cny("6000.00"))
PAID = [Repayment(id=f"r{n}", on=due_date(n), amount=cny("533.09")) for n in (1, 2, 3)]


def test_a_planned_tranche_not_yet_made_shows_in_the_projected_schedule_not_in_the_schedule():
    state = fold(PLANNED, [FIRST, *PAID], as_of=date(2025, 4, 20))
    assert [(p.expected_on, p.expected_amount) for p in state.planned_disbursements] == list(
        (p.on, p.amount) for p in PLAN)
    assert state.planned_disbursements[0].made == state.disbursements[0]
    assert state.planned_disbursements[1].made is None
    # What is owed follows what was disbursed: 6,000.
    assert state.outstanding.principal + state.total("paid").principal == cny("6000.00")
    # The projection is the loan with the tranche made as planned.
    made_as_planned = Disbursement(id="d2", on=date(2025, 4, 25), amount=cny("4000.00"))
    expected = fold(TRANCHED, [FIRST, *PAID, made_as_planned], as_of=date(2025, 4, 25)).schedule
    assert state.projected_schedule == expected
    assert state.projected_schedule is not None
    assert state.schedule is not None
    assert state.projected_schedule.totals.principal == cny("10000.00")
    assert state.schedule.totals.principal == cny("6000.00")


def test_a_tranche_made_late_and_smaller_meets_its_plan_and_the_projection_ends():
    late = Disbursement(id="d2", on=date(2025, 5, 2), amount=cny("3500.00"))
    state = fold(PLANNED, [FIRST, *PAID, late], as_of=date(2025, 5, 2))
    assert state.planned_disbursements[1].made == state.disbursements[1]
    assert state.planned_disbursements[1].made.amount == cny("3500.00")
    assert state.projected_schedule is None
    assert state.disbursed == cny("9500.00")


def test_a_planned_day_that_has_passed_projects_the_tranche_as_made_today():
    today = date(2025, 5, 10)
    state = fold(PLANNED, [FIRST, *PAID], as_of=today)
    made_today = Disbursement(id="d2", on=today, amount=cny("4000.00"))
    assert state.projected_schedule == fold(TRANCHED, [FIRST, *PAID, made_today], as_of=today).schedule


def test_a_plan_that_can_no_longer_be_met_projects_nothing_and_the_book_agrees():
    plan = (PLAN[0], ExpectedDisbursement(date(2026, 2, 1), cny("1.00")))  # after the last due date
    terms = replace(TRANCHED, expected_disbursements=plan)
    state = fold(terms, [FIRST], as_of=date(2025, 2, 1))
    assert state.projected_schedule is None
    assert state.planned_disbursements[1].made is None
    book = LoanBook.open(PLANNED).record(FIRST).record(PAID[0])
    assert book.state(as_of=date(2025, 2, 20)) == fold(PLANNED, [FIRST, PAID[0]], as_of=date(2025, 2, 20))


def test_a_loan_not_yet_disbursed_projects_its_whole_plan():
    state = fold(PLANNED, [], as_of=START - timedelta(days=3))
    assert state.status is LoanStatus.APPROVED
    assert state.projected_schedule is not None
    assert state.projected_schedule.totals.principal == cny("10000.00")


@pytest.mark.parametrize(
    ("base", "plan", "message"),
    [
        (TERMS, PLAN, "allow tranches"),
        (TRANCHED, (PLAN[0], ExpectedDisbursement(START, cny("1.00"))), "one after another"),
        (TRANCHED, (PLAN[0], ExpectedDisbursement(date(2025, 4, 25), cny("4000.01"))), "more than the approved"),
        (TRANCHED, (ExpectedDisbursement(START, cny("0.00")),), "positive"),
    ],
)
def test_a_plan_that_cannot_be_kept_is_refused_with_the_terms(base, plan, message):
    with pytest.raises(ValueError, match=message):
        replace(base, expected_disbursements=plan)


# --- fees paid at disbursement, and fees that may not be waived --------------------------------



def test_a_fee_paid_at_disbursement_is_owed_on_the_day_and_past_due_the_next():
    state = fold(WITH_FEES, [DISBURSED], as_of=START)
    first = state.installments[0]
    assert (first.number, first.due_date, first.due.fee, first.due.principal) == (0, START, cny("200.00"),
                                                                                  cny("0.00"))
    assert state.dpd == 0
    assert fold(WITH_FEES, [DISBURSED], as_of=START + timedelta(days=1)).dpd == 1
    paid = fold(WITH_FEES, [DISBURSED, Repayment(id="f", on=START, amount=cny("200.00"))], as_of=due_date(1))
    assert paid.installments[0].settled
    assert paid.installments[1].due.fee == cny("15.00")
    assert paid.principal_identity()


def test_a_down_payment_and_a_fee_at_disbursement_share_installment_0():
    terms = replace(WITH_FEES, down_payment=DownPayment(percent=Decimal(20), collected_at_disbursement=False))
    state = fold(terms, [DISBURSED], as_of=START)
    first = state.installments[0]
    assert (first.number, first.due.principal, first.due.fee) == (0, cny("2000.00"), cny("200.00"))
    assert [row.number for row in state.installments].count(0) == 1


def test_a_payoff_quote_counts_installment_0_as_owed_and_its_principal_as_earning_nothing():
    terms = replace(WITH_FEES, down_payment=DownPayment(percent=Decimal(20), collected_at_disbursement=False))
    day = START + timedelta(days=10)
    state = fold(terms, [DISBURSED], as_of=day)
    assert state.payoff is not None
    # The down payment (2,000.00) and the fee at disbursement (200.00) are owed; interest accrues
    # on the 8,000.00 the schedule amortises, as on a loan of 8,000.00 with no down payment.
    alike = fold(WITH_FEES, [replace(DISBURSED, amount=cny("8000.00"))], as_of=day)
    assert alike.payoff is not None
    assert state.payoff.principal == cny("10000.00")
    assert state.payoff.fees == cny("200.00")
    assert state.payoff.accrued_interest == alike.payoff.accrued_interest
    assert state.payoff.total == cny("10200.00") + alike.payoff.accrued_interest
    settle = Prepayment(id="x", on=day, amount=state.payoff_amount, mode=PrepaymentMode.SHORTEN_TERM)
    paid = fold(terms, [DISBURSED, settle], as_of=day)
    assert paid.status is LoanStatus.CLOSED
    assert paid.credit_balance.is_zero
    assert paid.principal_identity()


def test_a_waiver_never_forgives_a_fee_the_terms_protect():
    late = due_date(1) + timedelta(days=10)
    # Installment 1 owes 15.00 of fees: 10.00 of insurance (not waivable) and 5.00 of service.
    history = [DISBURSED, Repayment(id="f", on=START, amount=cny("200.00"))]
    ok = fold(WITH_FEES, [*history, Waiver(id="w", on=late, installment=1, component=Component.FEE,
                                           amount=cny("5.00"))], as_of=late)
    assert ok.installments[1].waived.fee == cny("5.00")
    with pytest.raises(EventRefused) as refused:
        fold(WITH_FEES, [*history, Waiver(id="w", on=late, installment=1, component=Component.FEE,
                                          amount=cny("5.01"))], as_of=late)
    assert refused.value.code == "fee_not_waivable"
    # 4.00 paid of the fees counts against the service fee first: 1.00 is left to waive, 10.00 is protected.
    paid_some = [*history, Repayment(id="r", on=late - timedelta(days=1), amount=cny("4.00"))]
    assert fold(WITH_FEES, [*paid_some, Waiver(id="w", on=late, installment=1, component=Component.FEE,
                                               amount=cny("1.00"))], as_of=late).installments[1].waived.fee \
        == cny("1.00")
    with pytest.raises(EventRefused):
        fold(WITH_FEES, [*paid_some, Waiver(id="w", on=late, installment=1, component=Component.FEE,
                                            amount=cny("1.01"))], as_of=late)
    # The fee at disbursement is protected too.
    with pytest.raises(EventRefused) as refused:
        fold(WITH_FEES, [DISBURSED, Waiver(id="w", on=late, installment=0, component=Component.FEE,
                                           amount=cny("0.01"))], as_of=late)
    assert refused.value.code == "fee_not_waivable"
    # A charge added later stays waivable: it is on top of the protected fees.
    later = due_date(2) + timedelta(days=1)
    charged = [*history, ChargeAdded(id="c", on=late, amount=cny("30.00"), name="催收费")]
    state = fold(WITH_FEES, [*charged, Waiver(id="w", on=later, installment=2, component=Component.FEE,
                                              amount=cny("35.00"))], as_of=later)
    assert state.installments[2].waived.fee == cny("35.00")
    assert state.installments[2].outstanding.fee == cny("10.00")


@LENDING
@given(histories(variants=(FEES_TRANCHED,)))
def test_no_history_of_waivers_forgives_a_protected_fee(history):
    terms, events = history
    state = fold(terms, events, as_of=AS_OF)
    protected = {0: ARRANGEMENT.amount, **{n: INSURANCE.amount for n in range(1, 40)}}
    for row in state.installments:
        guarded = protected.get(row.number, cny("0.00"))
        if row.number in range(1, 40) and row.due.fee < guarded:
            continue  # an installment the schedule no longer charges fees (shortened or moved)
        assert row.waived.fee <= row.due.fee - guarded, row


def test_a_fee_on_each_installment_is_a_percent_of_that_installments_principal_and_interest():
    state = fold(INSTALLMENT_FEES, [DISBURSED], as_of=START)
    rows = [row for row in state.installments if row.number > 0]
    policy = INSTALLMENT_FEES.contract.rounding
    for row in rows:
        guarantee = policy.times(row.due.principal + row.due.interest, Decimal("0.01"))
        assert row.due.fee == guarantee + SERVICE.amount, row
    # The waiver test of the protected fee, on a fee that differs from row to row.
    late = due_date(1) + timedelta(days=10)
    first = rows[0]
    waivable = first.due.fee - policy.times(first.due.principal + first.due.interest, Decimal("0.01"))
    assert waivable == SERVICE.amount
    ok = fold(INSTALLMENT_FEES, [DISBURSED, Waiver(id="w", on=late, installment=1, component=Component.FEE,
                                                   amount=waivable)], as_of=late)
    assert next(r for r in ok.installments if r.number == 1).waived.fee == waivable
    with pytest.raises(EventRefused) as refused:
        fold(INSTALLMENT_FEES, [DISBURSED, Waiver(id="w", on=late, installment=1, component=Component.FEE,
                                                  amount=waivable + cny("0.01"))], as_of=late)
    assert refused.value.code == "fee_not_waivable"


@LENDING
@given(histories(variants=(INSTALLMENT_FEES,)))
def test_a_fee_on_each_installment_follows_every_reamortisation_and_is_never_waived(history):
    terms, events = history
    state = fold(terms, events, as_of=AS_OF)
    policy = terms.contract.rounding
    called_on = {event.on for event in events if isinstance(event, Acceleration)}
    for row in state.installments:
        if row.number == 0 or row.due.principal.is_zero:
            continue  # a deferral's interest-only row charges no fees (a charge may be added to it)
        if row.due_date in called_on:
            continue  # the installment a call made due charges no per-installment fee (then or once rescheduled)
        guarded = policy.times(row.due.principal + row.due.interest, Decimal("0.01"))
        # Each row the schedule charges carries the guarantee on its own principal + interest
        # (charges added later come on top), and no waiver reaches it.
        assert row.due.fee >= guarded + SERVICE.amount, row
        assert row.waived.fee <= row.due.fee - guarded, row


# --- a tranche added to the later installments (Fineract's progressive loan without interest) --

FOUR_THOUSAND = Disbursement(id="d", on=START, amount=cny("4000.00"))
# 25 % down (1,000.00, collected on the day), then 12 x 250.00.


def test_a_tranche_added_to_the_later_installments_leaves_what_was_paid_where_it_is():
    paid_ahead = Repayment(id="r", on=START + timedelta(days=5), amount=cny("600.00"))
    tranche = Disbursement(id="t", on=due_date(2), amount=cny("1200.00"))
    state = fold(LATER_TRANCHES, [FOUR_THOUSAND, paid_ahead, tranche], as_of=due_date(2))
    rows = {row.number: row for row in state.installments}
    # Down 300.00; 900.00 over the ten installments due after the tranche's day, 90.00 each:
    # installment 2, due on that day, stays 250.00; what the payment put on 3 stays there.
    assert [rows[n].due.principal for n in (1, 2, 3, 12)] == [cny("250.00"), cny("250.00"), cny("340.00"),
                                                               cny("340.00")]
    assert rows[-1].due.principal == rows[-1].paid.principal == cny("300.00")
    assert (rows[3].paid.principal, rows[3].outstanding.principal) == (cny("100.00"), cny("240.00"))
    assert [p.event_id for p in state.payments] == ["d:down_payment", "r", "t:down_payment"]
    assert state.principal_identity()


def test_a_tranche_follows_the_payments_of_its_day_as_recorded_and_the_credit_pays_ahead():
    on_time = Repayment(id="r1", on=due_date(1), amount=cny("250.00"))
    overpaid = Repayment(id="r2", on=due_date(2), amount=cny("5000.00"))
    tranche = Disbursement(id="t", on=due_date(2), amount=cny("1200.00"))
    # Repaid first: 2,750.00 clears installments 2-12, 2,250.00 held; the tranche's 300.00 down
    # and 10 x 90.00 are paid from it (no down payment collected), 1,050.00 still held.
    first = fold(LATER_TRANCHES, [FOUR_THOUSAND, on_time, overpaid, tranche], as_of=due_date(2))
    assert first.credit_balance == cny("1050.00")
    assert [p.event_id for p in first.payments] == ["d:down_payment", "r1", "r2", None]
    assert not any(row.outstanding.total.is_positive for row in first.installments)
    # Disbursed first: its down payment is collected, then the repayment clears the larger rows.
    second = fold(LATER_TRANCHES, [FOUR_THOUSAND, on_time, tranche, overpaid], as_of=due_date(2))
    assert second.credit_balance == cny("1350.00")
    assert [p.event_id for p in second.payments] == ["d:down_payment", "r1", "t:down_payment", "r2"]


def test_a_down_payment_fixed_when_recorded_is_what_the_tranche_collects():
    tranche = Disbursement(id="t", on=due_date(2), amount=cny("1200.00"), down_payment_collected=cny("50.00"))
    state = fold(LATER_TRANCHES, [FOUR_THOUSAND, tranche], as_of=due_date(2))
    # 50.00 by the strategy, oldest first: installment 1, overdue, before the down payment.
    collected = next(p for p in state.payments if p.event_id == "t:down_payment")
    assert collected.amount == cny("50.00")
    assert {line.installment for line in collected.lines} == {1}
    too_much = replace(tranche, down_payment_collected=cny("300.01"))
    with pytest.raises(EventRefused) as refused:
        fold(LATER_TRANCHES, [FOUR_THOUSAND, too_much], as_of=due_date(2))
    assert refused.value.code == "down_payment_collected"


def test_a_tranche_added_to_the_later_installments_is_for_a_loan_without_interest():
    with_interest = replace(LATER_TRANCHES, contract=replace(LATER_TRANCHES.contract, annual_rate=Decimal("0.12")))
    with pytest.raises(EventRefused) as refused:
        fold(with_interest, [FOUR_THOUSAND, Disbursement(id="t", on=due_date(2), amount=cny("1200.00"))],
             as_of=due_date(2))
    assert refused.value.code == "tranche_with_interest"


def test_a_tranche_after_the_last_due_date_is_refused():
    late = Disbursement(id="t", on=due_date(12), amount=cny("1200.00"))
    with pytest.raises(EventRefused) as refused:
        fold(LATER_TRANCHES, [FOUR_THOUSAND, late], as_of=due_date(12))
    assert refused.value.code == "schedule_ended"


def test_each_installment_a_tranche_raises_is_rounded_to_the_multiple_the_last_taking_the_rest():
    # Loan.feature line 5231: 375.00 over three, then 375.00 over the two after the tranche,
    # 125.00 + 187.50 each, HALF_EVEN to a multiple of 1: 312.00, and the last 313.00.
    contract = replace(LATER_TRANCHES.contract, principal=cny("1000.00"),
                       periods=PeriodSpec(START, Frequency.monthly(), 3), installment_multiple=cny("1.00"),
                       rounding=RoundingPolicy("CNY", RoundingMode.HALF_EVEN))
    terms = replace(LATER_TRANCHES, contract=contract)
    events = [Disbursement(id="d", on=START, amount=cny("500.00")),
              Disbursement(id="t", on=due_date(1), amount=cny("500.00"))]
    rows = {row.number: row.due.principal for row in fold(terms, events, as_of=due_date(1)).installments}
    assert rows == {0: cny("125.00"), -1: cny("125.00"), 1: cny("125.00"), 2: cny("312.00"), 3: cny("313.00")}
