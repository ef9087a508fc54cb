"""Money construction, rounding modes, multiples, and the APR solver's properties."""

from __future__ import annotations

import decimal
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from microcredit.lending.allocation import InstallmentDue, Payment, allocate, apply_allocation, replay, reverse
from microcredit.lending.apr import CashFlow, disclose, irr, xirr_daily
from microcredit.lending.classification import RiskCategory, provision
from microcredit.lending.delinquency import LateFeeRule, late_fee, loan_dpd
from microcredit.lending.money import (
    RoundingMode,
    RoundingPolicy,
    from_minor,
    money,
    percent,
    to_minor,
)
from microcredit.lending.periods import Frequency, PeriodSpec
from microcredit.lending.schedule import LoanTerms, build_schedule

from .support import LENDING, loan_terms, round_exact

D = Decimal


def test_money_is_built_from_strings_ints_and_decimals_never_floats() -> None:
    assert money("888.49") == D("888.49")
    assert money(10000) == D("10000.00")
    assert money(D("0.1")) == D("0.10")
    with pytest.raises(TypeError, match="not float"):
        money(0.1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        money(True)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="decimal places"):
        money("1.001")
    with pytest.raises(ValueError, match="not an amount"):
        money("abc")
    assert percent("12") == D("0.12")
    assert percent("13.25") == D("0.1325")
    assert from_minor(88849) == D("888.49")
    assert to_minor(D("888.49")) == 88849
    with pytest.raises(ValueError):
        to_minor(D("0.001"))


@pytest.mark.parametrize(
    ("mode", "values", "expected"),
    [
        (RoundingMode.HALF_UP, ["0.005", "0.015", "-0.005", "92.1151"], ["0.01", "0.02", "-0.01", "92.12"]),
        (RoundingMode.HALF_EVEN, ["0.005", "0.015", "0.025", "0.0251"], ["0.00", "0.02", "0.02", "0.03"]),
        (RoundingMode.DOWN, ["0.019", "-0.019"], ["0.01", "-0.01"]),
        (RoundingMode.UP, ["0.011", "-0.011", "0.010"], ["0.02", "-0.02", "0.01"]),
    ],
)
def test_rounding_modes(mode: RoundingMode, values: list[str], expected: list[str]) -> None:
    policy = RoundingPolicy(mode=mode)
    assert [policy.round(D(v)) for v in values] == [D(e) for e in expected]


def test_rounding_to_a_multiple() -> None:
    policy = RoundingPolicy()
    assert policy.round_to_multiple(D("888.49"), D(1)) == D("888.00")
    assert policy.round_to_multiple(D("888.50"), D(1)) == D("889.00")
    assert policy.round_to_multiple(D("888.49"), D(10)) == D("890.00")
    assert policy.round_to_multiple(D("888.485"), None) == D("888.49")
    assert RoundingPolicy(mode=RoundingMode.UP).round_to_multiple(D("880.01"), D(10)) == D("890.00")


def test_engine_results_ignore_the_callers_decimal_context() -> None:
    terms = LoanTerms(
        principal=D("10000.00"),
        annual_rate=D("0.12"),
        periods=PeriodSpec(date(2025, 1, 15), Frequency.monthly(), 12),
    )
    expected = build_schedule(terms).installments
    with decimal.localcontext(decimal.Context(prec=6, rounding=decimal.ROUND_DOWN)):
        assert build_schedule(terms).installments == expected


def test_waterfalls_charges_and_displays_ignore_the_callers_decimal_context() -> None:
    # A caller's 6-digit, round-down context once cut 123,456.78 of principal to 123,456 inside
    # the waterfall (0.78 lost), and truncated late fees, provisions and the displayed APR.
    dues = (InstallmentDue(1, date(2025, 2, 15), D("123456.78"), D("1234.56"), D("0"), D("3.94")),)
    CNY = RoundingPolicy()  # noqa: N806
    disclosure = build_schedule(
        LoanTerms(principal=D("10000.00"), annual_rate=D("0.12"),
                  periods=PeriodSpec(date(2025, 1, 15), Frequency.monthly(), 12))
    ).disclosure

    def results() -> tuple[object, ...]:
        allocation = allocate(dues, D("124695.28"), date(2025, 3, 1))
        return (
            allocation,
            apply_allocation(dues, allocation),
            reverse(allocation, D("1000.01")),
            replay(dues, [Payment(date(2025, 3, 1), D("124695.28"))]),
            loan_dpd(dues, date(2025, 3, 1), tolerance=D("124694.28")),
            late_fee(dues[0], as_of=date(2025, 3, 1), rule=LateFeeRule(D("20"), D("0.0123")), rounding=CNY),
            provision(D("123456.78"), RiskCategory.SPECIAL_MENTION, CNY),
            disclosure.apr_percent,
            disclosure.ear_percent,
        )

    expected = results()
    assert allocate(dues, D("124695.28"), date(2025, 3, 1)).allocated == D("124695.28")
    with decimal.localcontext(decimal.Context(prec=6, rounding=decimal.ROUND_DOWN)):
        assert results() == expected


def test_installment_multiple_carries_the_residue_to_the_last_installment() -> None:
    terms = LoanTerms(
        principal=D("10000.00"),
        annual_rate=D("0.12"),
        periods=PeriodSpec(date(2025, 1, 15), Frequency.monthly(), 12),
        installment_multiple=D(1),
    )
    rows = build_schedule(terms).installments
    # 888.4879 rounds to a whole 888 yuan; the shortfall accumulates into the last installment.
    assert [r.total for r in rows[:-1]] == [D("888.00")] * 11
    assert rows[-1].total > D("888.00")
    assert sum(r.principal for r in rows) == D("10000.00")


@LENDING
@given(st.integers(1, 10**7), st.integers(1, 3000), st.integers(1, 48))
def test_irr_recovers_the_rate_of_an_exact_annuity(principal: int, rate_bp: int, n: int) -> None:
    r = Fraction(rate_bp, 100_000)
    growth = (1 + r) ** n
    payment = Fraction(principal) * r * growth / (growth - 1)
    # 20-digit payments: the rate comes back to the solver's tolerance.
    flows = [D(principal)] + [-(D(payment.numerator) / D(payment.denominator))] * n
    assert abs(irr(flows) - D(rate_bp) / 100_000) < D("1e-9")


@LENDING
@given(loan_terms(plain=True))
def test_apr_of_a_fee_free_monthly_annuity_equals_its_nominal_rate(terms: LoanTerms) -> None:
    schedule = build_schedule(terms)
    rows = schedule.installments
    r = Fraction(terms.annual_rate) / 12
    v = 1 / (1 + r)
    # Paying exactly at the contract rate, the schedule's NPV at r is the discounted sum of
    # the interest roundings delta_k = row interest - exact interest; the IRR moves by
    # about NPV / duration.  Bound that, annualised, with a margin.
    balance = Fraction(terms.principal)
    npv = Fraction(0)
    duration = Fraction(0)
    for k, row in enumerate(rows, start=1):
        npv += (Fraction(row.interest) - balance * r) * v**k
        duration += k * Fraction(row.total) * v ** (k + 1)
        balance -= Fraction(row.principal)
    allowed = 12 * (abs(npv) / duration) * Fraction(3, 2) + Fraction(1, 10**7)
    gap = abs(Fraction(schedule.disclosure.apr) - Fraction(terms.annual_rate))
    assert gap <= allowed
    if terms.principal >= 1_000_000:
        assert gap < Fraction(1, 10**6)


def test_xirr_on_regular_dates_matches_the_periodic_rate() -> None:
    start = date(2025, 1, 1)
    flows = [(start, D(1000))] + [(start + timedelta(days=30 * k), D("-88.85")) for k in range(1, 13)]
    daily = xirr_daily(flows)
    assert D("0.0003") < daily < D("0.0004")
    result = disclose(
        cash_flows=[CashFlow(d, a, 0) for d, a in flows],
        nominal_annual_rate=D("0.12"),
        periods_per_year=D(12),
        regular=False,
    )
    assert result.method.value == "xirr_days"
    assert result.day_basis == 365
    # The EAR is (1 + daily)^365 - 1 by definition.
    assert abs(result.ear - ((1 + daily) ** 365 - 1)) < D("1e-10")


def test_irr_refuses_flows_without_a_root() -> None:
    with pytest.raises(ValueError, match="no rate of return"):
        irr([D(100), D(100)])


def test_round_exact_oracle_agrees_with_known_values() -> None:
    assert round_exact(Fraction(92_1151, 10_000)) == D("92.12")
    assert round_exact(Fraction(5, 1000), mode=RoundingMode.HALF_EVEN) == D("0.00")


def test_irr_over_thousands_of_years_is_refused_not_overflowed() -> None:
    # Discounting at -99 % a day over 2.9 million days overflowed the engine's exponent
    # (decimal.Overflow, an HTTP 500 for a first due date or settlement in 9999).
    with pytest.raises(ValueError, match="span"):
        xirr_daily([(date(2025, 1, 1), D(100)), (date(9999, 12, 1), D(-200))])
    with pytest.raises(ValueError, match="span"):
        irr([D(100), *[D(0)] * 600_000, D(-200)])


def test_a_cost_too_large_to_state_is_refused_not_an_invalid_operation() -> None:
    # 50 % a day for a year: EAR = 1.5^365 - 1 ~ 10^64 could not be quantised to 12 places in
    # 50 digits (decimal.InvalidOperation, POST /quotes answered 500).
    start = date(2025, 1, 1)
    flows = [CashFlow(start, D(100), 0), CashFlow(start + timedelta(days=1), D(-150), 1)]
    with pytest.raises(ValueError, match="too large"):
        disclose(cash_flows=flows, nominal_annual_rate=D("0.12"), periods_per_year=D(365), regular=True)


def test_irr_above_100_percent_a_period_is_found() -> None:
    # A 10-year 到期一次还本付息 loan at 12 % is one period earning 120 %: its rate lay above the
    # [-99 %, 100 %] bracket and the quote was refused ("no rate of return").
    assert abs(irr([D(10000), D(-22000)]) - D("1.2")) < D("1e-12")
    assert abs(irr([D(100), D(0), D(-2352)]) - D("3.849742261192856")) < D("1e-12")  # sqrt(23.52) - 1
    with pytest.raises(ValueError, match="no rate of return"):
        irr([D(1), D(-(10**9))])
