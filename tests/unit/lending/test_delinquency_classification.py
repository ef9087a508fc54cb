"""Days past due, late fees, the default-charge cap, buckets, five categories, provisions."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from microcredit.lending.classification import (
    DEFAULT_BUCKETS,
    DEFAULT_PROVISION_RATES,
    MAX_TECHNICAL_OVERDUE_DAYS,
    REGULATORY_DPD_FLOORS,
    ClassificationInput,
    ClassificationPolicy,
    DelinquencyBucket,
    RestructuringState,
    RiskCategory,
    bucket_for,
    classify,
    provision,
    validate_buckets,
)
from microcredit.lending.daycount import ACT_360
from microcredit.lending.delinquency import (
    ChargeCap,
    DefaultCharges,
    LateFeeRule,
    PenaltyBasis,
    PenaltyRule,
    cap_default_charges,
    installment_dpd,
    late_fee,
    loan_dpd,
    penalty_interest,
)
from microcredit.lending.money import Money

from .support import CNY, LENDING, cny, due

D = Decimal
NONE = cny("0")
DUES = (
    due(1, date(2025, 2, 15)),
    due(2, date(2025, 3, 15), "796.37", "92.12"),
    due(3, date(2025, 4, 15), "804.34", "84.15"),
)
REGULATION = ClassificationPolicy(provision_rates=DEFAULT_PROVISION_RATES)


def _rule(**changes: object) -> PenaltyRule:
    """罚息 at the contract rate plus 50 % on ACT/360, compounding, no grace, unless changed."""
    values: dict[str, object] = {
        "basis": PenaltyBasis.UPLIFT,
        "value": D("0.5"),
        "day_count": ACT_360,
        "compound_overdue_interest": True,
    }
    values.update(changes)
    return PenaltyRule(**values)  # type: ignore[arg-type]


def _total(amounts: object) -> Money:
    return Money.total(amounts, "CNY")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("as_of", "grace", "expected"),
    [
        # Source: docs/domain.md §3.2: the due date itself is 0 DPD, the next day 1.
        (date(2025, 3, 15), 0, 0),
        (date(2025, 3, 16), 0, 1),
        (date(2025, 4, 25), 0, 41),
        (date(2025, 3, 18), 3, 0),
        (date(2025, 3, 19), 3, 4),
    ],
)
def test_days_past_due_of_the_oldest_unpaid_installment(as_of: date, grace: int, expected: int) -> None:
    assert loan_dpd(DUES, as_of, grace_days=grace, tolerance=NONE) == expected


def test_residues_below_the_tolerance_do_not_count() -> None:
    dues = (due(1, date(2025, 2, 15), "0.50"), *DUES[1:])
    assert loan_dpd(dues, date(2025, 4, 25), grace_days=0, tolerance=NONE) == 69
    assert loan_dpd(dues, date(2025, 4, 25), grace_days=0, tolerance=cny("1.00")) == 41
    assert installment_dpd(date(2025, 2, 15), date(2025, 2, 10)) == 0


@pytest.mark.parametrize(
    ("basis", "value", "rate"),
    [
        # Source: docs/domain.md §4.7 (251号): contract x (1 + 30 %..50 %), or + margin, or fixed.
        (PenaltyBasis.UPLIFT, D("0.3"), D("0.156")),
        (PenaltyBasis.MARGIN, D("0.06"), D("0.18")),
        (PenaltyBasis.FIXED, D("0.24"), D("0.24")),
    ],
)
def test_penalty_rate_rules(basis: PenaltyBasis, value: Decimal, rate: Decimal) -> None:
    assert _rule(basis=basis, value=value).annual_rate(D("0.12")) == rate


def test_penalty_accrues_daily_and_adds_up() -> None:
    first = due(1, date(2025, 2, 15), "788.49", "100.00")
    rule = _rule(compound_overdue_interest=False)
    whole = penalty_interest(first, as_of=date(2025, 3, 17), contract_rate=D("0.12"), rule=rule, rounding=CNY)
    # 30 days at 18 %/360 on 788.49 = 11.827 -> 11.83; no compound interest when the rule says so.
    assert (whole.days, whole.penalty, whole.compound) == (30, cny("11.83"), cny("0.00"))
    one_day = penalty_interest(
        first,
        as_of=date(2025, 3, 17),
        contract_rate=D("0.12"),
        rule=rule,
        rounding=CNY,
        accrued_from=date(2025, 3, 16),
    )
    assert one_day.days == 1
    graced = _rule(grace_days=3)
    inside = penalty_interest(first, as_of=date(2025, 2, 18), contract_rate=D("0.12"), rule=graced, rounding=CNY)
    assert inside.total.is_zero


def test_daily_penalty_accrual_adds_up_to_the_whole_after_a_grace() -> None:
    # Once the 3 grace days are exceeded 罚息 runs from the due date (the whole-period figure);
    # accrued day by day, the grace days were never charged: 7 days instead of 10.
    first = due(1, date(2025, 2, 15), "3600.00", "100.00")
    rule = _rule(grace_days=3)
    whole = penalty_interest(first, as_of=date(2025, 2, 25), contract_rate=D("0.12"), rule=rule, rounding=CNY)
    assert (whole.days, whole.penalty, whole.compound) == (10, cny("18.00"), cny("0.50"))
    daily = [
        penalty_interest(
            first,
            as_of=date(2025, 2, day + 1),
            contract_rate=D("0.12"),
            rule=rule,
            rounding=CNY,
            accrued_from=date(2025, 2, day),
        )
        for day in range(15, 25)
    ]
    assert sum(a.days for a in daily) == 10
    assert (_total(a.penalty for a in daily), _total(a.compound for a in daily)) == (cny("18.00"), cny("0.50"))


def test_late_fee_after_n_days() -> None:
    second = DUES[1]
    rule = LateFeeRule(amount=cny("20"), rate=D("0.01"), after_days=3)
    assert late_fee(second, as_of=date(2025, 3, 17), rule=rule, rounding=CNY) == cny("0.00")
    # 20 + 1 % of (796.37 + 92.12) = 20 + 8.8849 -> 28.88
    assert late_fee(second, as_of=date(2025, 3, 18), rule=rule, rounding=CNY) == cny("28.88")


def test_cap_clips_default_charges_and_keeps_the_contractual_figure() -> None:
    charges = DefaultCharges(penalty=cny("40.00"), compound=cny("5.00"), late_fees=cny("30.00"))
    capped = cap_default_charges(
        charges,
        overdue_base=cny("1000.00"),
        start=date(2025, 1, 1),
        end=date(2025, 4, 1),
        cap=ChargeCap(D("0.24"), ACT_360),
        rounding=CNY,
        other_charges=cny("10.00"),
    )
    # 1,000 x 24 % x 90/360 = 60.00, minus 10.00 of interest counted -> 50.00 allowed.
    assert capped.ceiling == cny("50.00")
    assert capped.allowed == DefaultCharges(cny("40.00"), cny("5.00"), cny("5.00"))
    assert capped.contractual == charges
    assert capped.clipped == cny("25.00")
    roomy = cap_default_charges(
        charges,
        overdue_base=cny("10000.00"),
        start=date(2025, 1, 1),
        end=date(2025, 4, 1),
        cap=ChargeCap(D("0.24"), ACT_360),
        rounding=CNY,
    )
    assert roomy.allowed == charges
    assert roomy.clipped.is_zero


@pytest.mark.parametrize(
    ("dpd", "name"),
    [
        (0, "current"),
        (1, "1-30"),
        (30, "1-30"),
        (31, "31-60"),
        (90, "61-90"),
        (91, "91-180"),
        (180, "91-180"),
        (181, "181-360"),
        (360, "181-360"),
        (361, "360+"),
        (5000, "360+"),
    ],
)
def test_default_buckets(dpd: int, name: str) -> None:
    assert bucket_for(dpd, DEFAULT_BUCKETS).name == name


def test_bucket_sets_are_validated() -> None:
    validate_buckets(DEFAULT_BUCKETS)
    with pytest.raises(ValueError, match="overlap or leave a gap"):
        validate_buckets([DelinquencyBucket("a", 0, 30), DelinquencyBucket("b", 30, None)])
    with pytest.raises(ValueError, match="open-ended"):
        validate_buckets([DelinquencyBucket("a", 0, 30)])
    # A bucket ending before it starts chained "contiguously" into overlaps: 6+ overlaps 0-10,
    # and 8 days fell in "a" while "c" also held it.
    with pytest.raises(ValueError, match="ends before it starts"):
        validate_buckets([DelinquencyBucket("a", 0, 10), DelinquencyBucket("b", 11, 5), DelinquencyBucket("c", 6)])
    custom = [DelinquencyBucket("M0", 0, 0), DelinquencyBucket("M1", 1, 30), DelinquencyBucket("M2+", 31)]
    validate_buckets(custom)
    assert bucket_for(45, custom).name == "M2+"


def test_restructuring_floor_and_manual_grade_take_the_maximum() -> None:
    performing = RestructuringState(non_performing_before=False)
    npl_before = RestructuringState(non_performing_before=True)
    assert classify(ClassificationInput(0, performing), policy=REGULATION).category is RiskCategory.SPECIAL_MENTION
    result = classify(ClassificationInput(10, npl_before), policy=REGULATION)
    assert result.category is RiskCategory.SUBSTANDARD
    assert result.reasons == ("restructured",)
    relapsed = RestructuringState(overdue_since_restructuring=True)
    assert classify(ClassificationInput(5, relapsed), policy=REGULATION).category is RiskCategory.SUBSTANDARD
    done = RestructuringState(in_observation=False)
    assert classify(ClassificationInput(0, done), policy=REGULATION).category is RiskCategory.NORMAL
    manual = classify(ClassificationInput(95, manual_grade=RiskCategory.SPECIAL_MENTION), policy=REGULATION)
    assert manual.category is RiskCategory.SUBSTANDARD
    doubtful = classify(ClassificationInput(0, manual_grade=RiskCategory.DOUBTFUL), policy=REGULATION)
    assert doubtful.category is RiskCategory.DOUBTFUL
    cross = classify(ClassificationInput(0, cross_default_floor=RiskCategory.SUBSTANDARD), policy=REGULATION)
    assert cross.category.non_performing
    assert cross.category.chinese == "次级"


def test_technical_overdue_exemption_is_a_parameter() -> None:
    policy = ClassificationPolicy(provision_rates=DEFAULT_PROVISION_RATES, technical_overdue_days=7)
    assert classify(ClassificationInput(7), policy=policy).category is RiskCategory.NORMAL
    assert classify(ClassificationInput(8), policy=policy).category is RiskCategory.SPECIAL_MENTION


def test_provision_uses_the_rate_of_the_category() -> None:
    policy = ClassificationPolicy(
        provision_rates=((RiskCategory.SUBSTANDARD, D("0.25")), (RiskCategory.LOSS, D("1"))),
    )
    assert provision(cny("1234.56"), RiskCategory.SUBSTANDARD, rounding=CNY, policy=policy) == cny("308.64")
    with pytest.raises(ValueError, match="no provision rate"):
        provision(cny("1"), RiskCategory.NORMAL, rounding=CNY, policy=policy)


S, SUB, DBT, LOSS = RiskCategory.SPECIAL_MENTION, RiskCategory.SUBSTANDARD, RiskCategory.DOUBTFUL, RiskCategory.LOSS


@pytest.mark.parametrize(
    ("exemption", "floors", "message"),
    [
        # A 100-day exemption kept a loan 95 days overdue at 正常 (docs/domain.md §3.1: > 90 -> 次级).
        (100, REGULATORY_DPD_FLOORS, "exemption is 0 to 7 days"),
        (MAX_TECHNICAL_OVERDUE_DAYS + 1, REGULATORY_DPD_FLOORS, "exemption is 0 to 7 days"),
        (-1, REGULATORY_DPD_FLOORS, "exemption is 0 to 7 days"),
        # Looser floors than the regulation: 次级 only from 181 days, 损失 never, no floor at all.
        (0, ((1, S), (181, SUB), (271, DBT), (361, LOSS)), "at 91 days past due.*次级"),
        (0, ((1, S), (91, SUB), (271, DBT)), "at 361 days past due.*损失"),
        (0, ((31, S), (91, SUB), (271, DBT), (361, LOSS)), "at 1 days past due.*关注"),
        (0, (), "at 1 days past due"),
        (0, ((0, S), (91, SUB), (271, DBT), (361, LOSS)), "days >= 1"),
    ],
)
def test_a_policy_looser_than_the_regulatory_floors_is_refused(
    exemption: int, floors: tuple[tuple[int, RiskCategory], ...], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        ClassificationPolicy(provision_rates=(), dpd_floors=floors, technical_overdue_days=exemption)


@pytest.mark.parametrize(
    ("dpd", "expected"),
    [
        (0, RiskCategory.NORMAL),
        (7, RiskCategory.NORMAL),
        (8, S),
        (60, S),
        (61, SUB),
        (95, SUB),
        (181, DBT),
        (271, LOSS),
    ],
)
def test_stricter_floors_and_the_full_exemption_are_accepted(dpd: int, expected: RiskCategory) -> None:
    strict = ClassificationPolicy(
        provision_rates=DEFAULT_PROVISION_RATES,
        dpd_floors=((1, S), (61, SUB), (181, DBT), (271, LOSS)),
        technical_overdue_days=MAX_TECHNICAL_OVERDUE_DAYS,
    )
    assert classify(ClassificationInput(dpd), policy=strict).category is expected


floor_sets = st.lists(st.tuples(st.integers(1, 500), st.sampled_from(list(RiskCategory))), max_size=6).map(tuple)


@st.composite
def shifted_floors(draw: st.DrawFn) -> tuple[tuple[int, RiskCategory], ...]:
    """The regulatory floors with thresholds moved up to 60 days either way, some dropped, some added."""
    floors = [
        (max(1, days + draw(st.integers(-60, 60))), category)
        for days, category in REGULATORY_DPD_FLOORS
        if draw(st.integers(0, 9))
    ]
    return tuple(floors) + draw(floor_sets)


def _regulatory(dpd: int) -> RiskCategory:
    return max((c for days, c in REGULATORY_DPD_FLOORS if dpd >= days), default=RiskCategory.NORMAL)


@LENDING
@given(shifted_floors(), st.integers(0, MAX_TECHNICAL_OVERDUE_DAYS))
def test_a_policy_is_accepted_exactly_when_it_never_classifies_below_the_regulation(
    floors: tuple[tuple[int, RiskCategory], ...], exemption: int
) -> None:
    looser = [
        dpd
        for dpd in range(1, 400)
        if max((c for d, c in floors if dpd >= d), default=RiskCategory.NORMAL) < _regulatory(dpd)
    ]
    try:
        policy = ClassificationPolicy(provision_rates=(), dpd_floors=floors, technical_overdue_days=exemption)
    except ValueError:
        assert looser
        return
    assert not looser
    for dpd in range(exemption + 1, 400):
        assert classify(ClassificationInput(dpd), policy=policy).category >= _regulatory(dpd)


@LENDING
@given(floor_sets, st.integers(0, 1000))
def test_adding_floors_to_the_regulatory_ones_is_always_accepted(
    floors: tuple[tuple[int, RiskCategory], ...], dpd: int
) -> None:
    policy = ClassificationPolicy(provision_rates=(), dpd_floors=REGULATORY_DPD_FLOORS + floors)
    regulatory = classify(ClassificationInput(dpd), policy=REGULATION).category
    assert classify(ClassificationInput(dpd), policy=policy).category >= regulatory
