"""Worked examples from public sources, as readable tables.

Every expected figure below comes from the source named above it (docs/domain.md
collects them from PBOC, CGAP, SEEP and Chinese bank practice), never from
running the code under test.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from microcredit.lending.apr import CashFlow, disclose, irr
from microcredit.lending.calendar import WEEKENDS_ONLY
from microcredit.lending.classification import (
    DEFAULT_PROVISION_RATES,
    ClassificationInput,
    ClassificationPolicy,
    RiskCategory,
    classify,
)
from microcredit.lending.daycount import ACT_360, ACT_365F
from microcredit.lending.delinquency import PenaltyBasis, PenaltyRule, penalty_interest
from microcredit.lending.fees import Fee, FeeKind, Payee
from microcredit.lending.money import Money
from microcredit.lending.periods import Frequency, PeriodSpec
from microcredit.lending.portfolio import LoanPosition, oss, par, write_off_ratio
from microcredit.lending.revolving import (
    DayCounting,
    Movement,
    MovementKind,
    RevolvingTerms,
    accrue_revolving,
)
from microcredit.lending.schedule import (
    InterestMethod,
    LoanTerms,
    RepaymentMethod,
    Schedule,
    build_schedule,
)

from .support import CNY, cny, due, make_terms

D = Decimal
START = date(2025, 1, 15)
POLICY = ClassificationPolicy(provision_rates=DEFAULT_PROVISION_RATES)


def terms(method: RepaymentMethod = RepaymentMethod.EQUAL_INSTALLMENT, **changes: object) -> LoanTerms:
    """10,000 at 12 % a year (1 % a month), 12 monthly periods: the docs/domain.md §4 loan."""
    values: dict[str, object] = {
        "principal": "10000.00",
        "annual_rate": D("0.12"),
        "periods": PeriodSpec(START, Frequency.monthly(), 12),
        "method": method,
    }
    values.update(changes)
    return make_terms(**values)


def schedule_of(loan: LoanTerms) -> Schedule:
    """The schedule of `loan`, due dates on weekends kept (no business-day rule in these examples)."""
    return build_schedule(loan, calendar=WEEKENDS_ONLY)


# Source: docs/domain.md §4.1 (等额本息 table, [V] formula, [C] schedule).
#   k   interest  principal  balance after
ANNUITY_TABLE = """
    1   100.00    788.49     9211.51
    2    92.12    796.37     8415.14
    3    84.15    804.34     7610.80
    4    76.11    812.38     6798.42
    5    67.98    820.51     5977.91
    6    59.78    828.71     5149.20
    7    51.49    837.00     4312.20
    8    43.12    845.37     3466.83
    9    34.67    853.82     2613.01
   10    26.13    862.36     1750.65
   11    17.51    870.98      879.67
   12     8.80    879.67        0.00
"""


def _table(text: str) -> list[tuple[int, Money, Money, Money]]:
    rows = []
    for line in text.strip().splitlines():
        k, interest, principal, balance = line.split()
        rows.append((int(k), cny(interest), cny(principal), cny(balance)))
    return rows


def test_equal_installment_table_matches_domain_4_1() -> None:
    schedule = schedule_of(terms())
    actual = [(r.number, r.interest, r.principal, r.balance_after) for r in schedule.installments]
    assert actual == _table(ANNUITY_TABLE)
    assert [r.total for r in schedule.installments] == [cny("888.49")] * 11 + [cny("888.47")]
    assert schedule.totals.interest == cny("661.86")


def test_equal_principal_matches_domain_4_2() -> None:
    # Source: docs/domain.md §4.2: first 933.33 (833.33 + 100.00), last 841.70 (833.37 + 8.33),
    # total interest 650.00.
    rows = schedule_of(terms(RepaymentMethod.EQUAL_PRINCIPAL)).installments
    assert (rows[0].principal, rows[0].interest, rows[0].total) == (
        cny("833.33"),
        cny("100.00"),
        cny("933.33"),
    )
    assert (rows[-1].principal, rows[-1].interest, rows[-1].total) == (
        cny("833.37"),
        cny("8.33"),
        cny("841.70"),
    )
    assert Money.total((r.interest for r in rows), "CNY") == cny("650.00")


@pytest.mark.parametrize(
    ("frequency", "count", "interest"),
    [
        # Source: docs/domain.md §4.3: 10,000 at 12 % -> 100 a month / 300 a quarter (30/360 style).
        (Frequency.monthly(), 12, "100.00"),
        (Frequency.quarterly(), 4, "300.00"),
    ],
)
def test_interest_only_matches_domain_4_3(frequency: Frequency, count: int, interest: str) -> None:
    rows = schedule_of(terms(RepaymentMethod.INTEREST_ONLY, periods=PeriodSpec(START, frequency, count))).installments
    assert [r.interest for r in rows] == [cny(interest)] * count
    assert [r.principal for r in rows] == [cny("0.00")] * (count - 1) + [cny("10000.00")]
    assert rows[-1].total == cny("10000.00") + cny(interest)


def test_revolving_daily_interest_matches_domain_4_4() -> None:
    # Source: docs/domain.md §4.4: draw 10,000 day 0, repay 4,000 day 20, rest day 45, 12 %, basis 360
    # -> 66.67 + 50.00 = 116.67 (算头不算尾); a 365 basis gives less.
    day0 = date(2025, 3, 3)
    movements = [
        Movement(day0, MovementKind.DRAW, cny("10000.00")),
        Movement(day0 + timedelta(days=20), MovementKind.REPAYMENT, cny("4000.00")),
        Movement(day0 + timedelta(days=45), MovementKind.REPAYMENT, cny("6000.00")),
    ]
    line = {"annual_rate": D("0.12"), "counting": DayCounting.HEAD_NOT_TAIL, "rounding": CNY}
    statement = accrue_revolving(movements, RevolvingTerms(day_count=ACT_360, **line))
    assert statement.total_interest == cny("116.67")
    assert [s.interest for s in statement.segments] == [cny("66.67"), cny("50.00")]
    on_365 = accrue_revolving(movements, RevolvingTerms(day_count=ACT_365F, **line))
    assert on_365.total_interest < statement.total_interest
    # 两头都算 counts the day of the final repayment too: one more day on 10,000 (day 20
    # counted at the old balance) -> 10,000 x 0.12/360 x 21 + 6,000 x 0.12/360 x 25 = 120.00.
    both = accrue_revolving(movements, RevolvingTerms(day_count=ACT_360, **{**line, "counting": DayCounting.BOTH_ENDS}))
    assert both.total_interest == cny("120.00")


def test_penalty_and_compound_interest_match_domain_4_7() -> None:
    # Source: docs/domain.md §4.7: installment 1 (788.49 + 100.00), 10 days late, 12 % x 1.5 = 18 %,
    # basis 360 -> penalty 3.94, compound 0.50.
    accrual = penalty_interest(
        due(1, date(2025, 2, 15), principal="788.49", interest="100.00"),
        as_of=date(2025, 2, 25),
        contract_rate=D("0.12"),
        rule=PenaltyRule(basis=PenaltyBasis.UPLIFT, value=D("0.5"), day_count=ACT_360, compound_overdue_interest=True),
        rounding=CNY,
    )
    assert (accrual.annual_rate, accrual.days) == (D("0.18"), 10)
    assert (accrual.penalty, accrual.compound) == (cny("3.94"), cny("0.50"))


# Source: docs/domain.md §2.3 (APR by IRR; tolerance ±0.005 percentage points).
#   case  received  payments                         APR %    EAR %
APR_CASES = [
    ("A", cny("10000"), [cny("888.49")] * 12, D("12.00"), D("12.68")),
    ("B", cny("12000"), [cny("1072")] * 12, D("13.03"), D("13.84")),
    ("C", cny("9500"), [cny("888.49")] * 12, D("21.86"), None),
    ("E", cny("10000"), [cny("100")] * 11 + [cny("10100")], D("12.00"), None),
]


@pytest.mark.parametrize(("case", "received", "payments", "apr", "ear"), APR_CASES)
def test_apr_cases_of_domain_2_3(
    case: str, received: Money, payments: list[Money], apr: Decimal, ear: Decimal | None
) -> None:
    flows = [CashFlow(START, received, 0)] + [CashFlow(START, -amount, k) for k, amount in enumerate(payments, start=1)]
    result = disclose(
        cash_flows=flows, nominal_annual_rate=D("0.12"), periods_per_year=D(12), regular=True, day_basis=365
    )
    assert abs(result.apr * 100 - apr) <= D("0.005"), case
    if ear is not None:
        assert abs(result.ear * 100 - ear) <= D("0.005"), case


def test_apr_periodic_rates_of_domain_2_3() -> None:
    # Source: docs/domain.md §2.3 periodic IRR column: A 1.0000 %, B 1.0862 %, C 1.8214 %.
    assert abs(irr([D(10000)] + [D("-888.49")] * 12) - D("0.010000")) < D("0.0000005")
    assert abs(irr([D(12000)] + [D(-1072)] * 12) - D("0.010862")) < D("0.0000005")
    assert abs(irr([D(9500)] + [D("-888.49")] * 12) - D("0.018214")) < D("0.0000005")


def test_schedule_disclosure_reproduces_cases_a_b_c() -> None:
    # Case A: the plain schedule.
    plain = schedule_of(terms()).disclosure
    assert plain.apr_percent == D("12.00")
    # Case C: a 500 fee deducted at disbursement (砍头息) -> 21.86 %.
    deducted = schedule_of(terms(fees=(Fee("service", FeeKind.UPFRONT_DEDUCTED, Payee.LENDER, amount=cny("500")),)))
    assert deducted.totals.net_cash_received == cny("9500.00")
    assert abs(deducted.disclosure.apr * 100 - D("21.86")) <= D("0.005")
    # Case B: "monthly fee 0.6 % of original principal", 12,000 over 12 -> 1,072 a month, 13.03 %,
    # either as a zero-rate loan with a per-installment fee or as flat interest of 7.2 % a year.
    as_fee = schedule_of(
        make_terms(
            principal="12000.00",
            annual_rate=D(0),
            periods=PeriodSpec(START, Frequency.monthly(), 12),
            method=RepaymentMethod.EQUAL_PRINCIPAL,
            fees=(Fee("monthly", FeeKind.PER_INSTALLMENT, Payee.PLATFORM, rate=D("0.006")),),
        )
    )
    as_flat = schedule_of(
        make_terms(
            principal="12000.00",
            annual_rate=D("0.072"),
            periods=PeriodSpec(START, Frequency.monthly(), 12),
            interest_method=InterestMethod.FLAT,
        )
    )
    for schedule in (as_fee, as_flat):
        assert [r.total for r in schedule.installments] == [cny("1072.00")] * 12
        assert abs(schedule.disclosure.apr * 100 - D("13.03")) <= D("0.005")
    # Case E: interest monthly, principal at maturity.
    bullet = schedule_of(terms(RepaymentMethod.INTEREST_ONLY))
    assert abs(bullet.disclosure.apr * 100 - D("12.00")) <= D("0.005")


# Source: docs/domain.md §3.3 test vector.
#   loan  outstanding  dpd  restructured
PORTFOLIO = [
    LoanPosition(cny("1000"), 0),
    LoanPosition(cny("2000"), 45),
    LoanPosition(cny("500"), 100),
    LoanPosition(cny("1500"), 0, restructured=True),
]


def test_portfolio_ratios_of_domain_3_3() -> None:
    assert par(PORTFOLIO, 30, currency="CNY") == D("0.8")
    assert par(PORTFOLIO, 90, currency="CNY") == D("0.4")
    assert write_off_ratio(cny("300"), cny("5000")) == D("0.06")
    ratio = oss(
        operating_revenue=cny("1200"),
        financial_expense=cny("300"),
        impairment_expense=cny("150"),
        operating_expense=cny("600"),
    )
    assert ratio.quantize(D("0.001")) == D("1.143")


# Source: docs/domain.md §3.1 overdue floors (2023 Measures): any overdue -> 关注; >90 -> 次级;
# >270 -> 可疑; >360 -> 损失.
#   dpd   category
FLOORS = [
    (0, RiskCategory.NORMAL),
    (1, RiskCategory.SPECIAL_MENTION),
    (90, RiskCategory.SPECIAL_MENTION),
    (91, RiskCategory.SUBSTANDARD),
    (270, RiskCategory.SUBSTANDARD),
    (271, RiskCategory.DOUBTFUL),
    (360, RiskCategory.DOUBTFUL),
    (361, RiskCategory.LOSS),
]


@pytest.mark.parametrize(("dpd", "category"), FLOORS)
def test_five_category_floors_of_domain_3_1(dpd: int, category: RiskCategory) -> None:
    assert classify(ClassificationInput(dpd), policy=POLICY).category is category
