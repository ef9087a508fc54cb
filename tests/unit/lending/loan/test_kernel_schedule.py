"""The kernel's integer schedule (`kernel._IntegerPlan`) is the shared functions' schedule, row for row.

For plain terms the kernel re-amortises on its own rows instead of calling `add_tranche` and
`partial_prepayment`; these properties put both side by side over random terms -- amounts,
rates (0 among them), terms, start dates, frequencies, day counts, business-day rules and the
four rounding modes -- and a random run of tranches and prepayments in either mode, and ask
for the same `Schedule`, the same split of each prepayment, and the same standing and accrued
interest on any day.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from microcredit.lending.calendar import WEEKENDS_ONLY, BusinessDayRule, HolidayCalendar
from microcredit.lending.daycount import ACT_360, ACT_365F, ACT_ACT_ISDA, THIRTY_360
from microcredit.lending.fees import Fee, FeeKind, Payee
from microcredit.lending.loan import kernel
from microcredit.lending.money import Money, RoundingMode, RoundingPolicy
from microcredit.lending.periods import Frequency, PeriodSpec
from microcredit.lending.prepayment import PrepaymentMode, accrued_to, add_tranche, partial_prepayment, standing
from microcredit.lending.schedule import LoanTerms, build_schedule
from microcredit.lending.schedule.amortize import level_payment

from ..support import LENDING, make_terms

NO_HOLIDAYS = HolidayCalendar("none", weekend=frozenset())


@st.composite
def plain_loans(draw: st.DrawFn) -> tuple[LoanTerms, HolidayCalendar]:
    frequency = draw(st.sampled_from((Frequency.monthly(), Frequency.weekly(), Frequency.biweekly(),
                                      Frequency.quarterly())))
    start = date(2024, 1, 1) + timedelta(days=draw(st.integers(0, 730)))
    rule = draw(st.sampled_from(tuple(BusinessDayRule)))
    contract = make_terms(
        principal=Money(draw(st.integers(1_000, 50_000_000)), "CNY"),
        annual_rate=Decimal(draw(st.one_of(st.just(0), st.integers(1, 3600)))) / Decimal(10_000),
        periods=PeriodSpec(start, frequency, draw(st.integers(1, 36)), business_day_rule=rule),
        day_count=draw(st.sampled_from((ACT_360, ACT_365F, ACT_ACT_ISDA, THIRTY_360))),
        rounding=RoundingPolicy("CNY", draw(st.sampled_from(tuple(RoundingMode)))),
    )
    return contract, draw(st.sampled_from((WEEKENDS_ONLY, NO_HOLIDAYS)))


# (days after the previous step, tranche or prepayment, how much of what it may be, mode)
STEPS = st.lists(
    st.tuples(st.integers(0, 120), st.sampled_from(("tranche", "prepay", "prepay")), st.floats(0, 1),
              st.sampled_from(tuple(PrepaymentMode))),
    max_size=5,
)


def _same_standing(plan: kernel._IntegerPlan, schedule, on: date) -> None:  # type: ignore[no-untyped-def]
    where = standing(schedule, on)
    assert plan.standing(on) == (where.ended, where.balance.minor, where.earning, where.period_start)
    contract = plan.terms
    accrued = accrued_to(schedule, on, rate=contract.annual_rate, day_count=contract.day_count,
                         rounding=contract.rounding)
    assert plan.accrued(on) == accrued.minor
    base = Money(where.balance.minor // 3, "CNY")
    assert plan.accrued(on, base.minor) == accrued_to(schedule, on, rate=contract.annual_rate,
                                                      day_count=contract.day_count, rounding=contract.rounding,
                                                      base=base).minor


@LENDING
@given(plain_loans(), STEPS)
def test_the_integer_plan_re_amortises_as_the_shared_functions_do(loan, steps):
    contract, calendar = loan
    schedule = build_schedule(contract, calendar=calendar)
    assert kernel.plain(contract, schedule)
    plan = kernel._IntegerPlan.of(schedule, contract, calendar)
    assert plan.schedule == schedule
    disbursed = kernel._IntegerPlan.disbursed(replace(contract, principal=Money(1, "CNY")), contract.principal,
                                              contract.periods.start, calendar)
    if disbursed is not None:  # the builder's fast path applies: the same rows, the Schedule made when read
        assert disbursed.rows == list(schedule.installments)
        assert disbursed.terms == contract
        assert disbursed.schedule == schedule
        if len(steps) % 2:
            plan = disbursed
    on = contract.periods.start
    for days, kind, share, mode in steps:
        on += timedelta(days=days)
        _same_standing(plan, schedule, on)
        where = standing(schedule, on)
        if where.ended == len(schedule.installments):
            break
        if kind == "tranche":
            amount = 1 + int(share * 5_000_000)
            schedule = add_tranche(schedule, contract, disbursed_on=on, amount=Money(amount, "CNY"),
                                   calendar=calendar)
            plan.tranche(on, amount)
        else:
            accrued = plan.accrued(on)
            room = where.balance.minor - 1  # more than the accrued interest, less than the payoff
            if room < 1:
                continue
            amount = accrued + 1 + int(share * (room - 1))
            result = partial_prepayment(schedule, contract, paid_on=on, amount=Money(amount, "CNY"), mode=mode,
                                        calendar=calendar)
            assert plan.prepay(on, amount, mode) == (result.accrued_interest.minor, result.principal_prepaid.minor)
            schedule = result.schedule
        assert plan.rows == list(schedule.installments)
        assert plan.schedule == schedule
    _same_standing(plan, schedule, on + timedelta(days=17))


ratios = st.tuples(st.integers(0, 10**6), st.integers(1, 10**8))


@LENDING
@given(st.integers(0, 10**12), ratios, st.tuples(st.integers(1, 10**6), st.integers(1, 10**8)), st.integers(2, 60),
       st.sampled_from(tuple(RoundingMode)))
def test_the_closed_form_level_payment_after_a_short_first_period_is_horners(principal, first, rate, m, mode):
    assert kernel.level_after_first(principal, first, rate, m, mode) == level_payment(
        principal, [first] + [rate] * (m - 1), mode)


def test_a_prepayment_inside_a_month_re_amortises_the_worked_example_on_integers():
    # docs/domain.md's 10,000 at 12 %, 12 months: 2,000 prepaid on installment 3's due date keeps
    # 12 installments and lowers them to 655.01 (prepayment.py's worked example), half-even too.
    for mode in (RoundingMode.HALF_UP, RoundingMode.HALF_EVEN):
        contract = make_terms(principal="10000.00", annual_rate=Decimal("0.12"),
                              periods=PeriodSpec(date(2025, 1, 15), Frequency.monthly(), 12),
                              rounding=RoundingPolicy("CNY", mode))
        schedule = build_schedule(contract, calendar=NO_HOLIDAYS)
        plan = kernel._IntegerPlan.disbursed(contract, contract.principal, contract.periods.start, NO_HOLIDAYS)
        assert plan is not None
        assert plan.prepay(date(2025, 4, 15), 200_000, PrepaymentMode.REDUCE_INSTALLMENT) == (0, 200_000)
        assert [row[5] + row[6] for row in plan.rows[3:6]] == [65501] * 3  # principal + interest
        assert len(plan.rows) == 12
        assert plan.rows[:3] == list(schedule.installments[:3])


def test_terms_with_a_grace_a_multiple_or_a_fee_keep_the_shared_functions():
    base = make_terms(principal="10000.00", annual_rate=Decimal("0.12"),
                      periods=PeriodSpec(date(2025, 1, 15), Frequency.monthly(), 12))
    fee = Fee("service", FeeKind.PER_INSTALLMENT, Payee.LENDER, amount=Money(500, "CNY"))
    for contract in (replace(base, grace_on_principal=2), replace(base, grace_on_interest_payment=1),
                     replace(base, interest_free_periods=1), replace(base, installment_multiple=Money(100, "CNY")),
                     replace(base, fees=(fee,))):
        assert not kernel.plain(contract, build_schedule(contract, calendar=NO_HOLIDAYS))
    assert kernel.plain(base, build_schedule(base, calendar=NO_HOLIDAYS))
