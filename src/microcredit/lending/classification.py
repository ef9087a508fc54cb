"""Classification: delinquency buckets and the five categories (五级分类).

Delinquency buckets are data, not code (as in Apache Fineract): a list of
non-overlapping day ranges, the last one open-ended.  The default set is

    current (0), 1-30, 31-60, 61-90, 91-180, 181-360, 360+ (i.e. 361 and more)

Five-category classification (《商业银行金融资产风险分类办法》, 2023, docs/domain.md
§3.1): 正常 normal < 关注 special mention < 次级 substandard < 可疑 doubtful
< 损失 loss.  The final category is the *maximum* of the floors that apply:

- the days-past-due floor: any overdue -> at least 关注; > 90 days -> 次级;
  > 270 days -> 可疑; > 360 days -> 损失 (thresholds are a parameter; an
  optional technical-overdue exemption of at most
  `MAX_TECHNICAL_OVERDUE_DAYS` = 7 days keeps 正常);
- the restructuring floor: during the observation period a restructured
  asset is at least 关注 if it performed before, at least 次级 if it was
  non-performing before, and at least 次级 after a new overdue;
- the cross-default floor (a debtor's other NPL claims) and a manual grade,
  both given by the caller.

The regulatory floors (`REGULATORY_DPD_FLOORS`) are a minimum: a policy's
floors may be stricter (e.g. 次级 from 61 days) but never looser, so a
`ClassificationPolicy` whose floors give a lower category than the
regulation on any day count, or whose exemption exceeds 7 days, is refused.
Checking the policy at the regulation's thresholds (1, 91, 271, 361) is
enough, since a floor only rises with the days past due.

Worked example: 95 days past due -> 次级 whatever the manual grade below
it; 10 days past due on a loan restructured while non-performing -> 次级
(the restructuring floor beats the 关注 DPD floor); 400 days -> 损失.

Provisioning: allowance = outstanding x rate of the category; the rates are
a parameter (a commonly cited set is 正常 1.5 %, 关注 3 %, 次级 30 %,
可疑 60 %, 损失 100 %; provinces and institutions differ).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import IntEnum

from microcredit.lending.money import Money, RoundingPolicy

__all__ = [
    "DEFAULT_BUCKETS",
    "DEFAULT_DPD_FLOORS",
    "DEFAULT_PROVISION_RATES",
    "MAX_TECHNICAL_OVERDUE_DAYS",
    "REGULATORY_DPD_FLOORS",
    "Classification",
    "ClassificationInput",
    "ClassificationPolicy",
    "DelinquencyBucket",
    "RestructuringState",
    "RiskCategory",
    "bucket_for",
    "classify",
    "provision",
    "validate_buckets",
]


@dataclass(frozen=True, slots=True)
class DelinquencyBucket:
    """Days-past-due range [min_days, max_days] (max None = open-ended) with a name."""

    name: str
    min_days: int
    max_days: int | None = None

    def contains(self, dpd: int) -> bool:
        """Whether `dpd` falls in this bucket."""
        return dpd >= self.min_days and (self.max_days is None or dpd <= self.max_days)


DEFAULT_BUCKETS = (
    DelinquencyBucket("current", 0, 0),
    DelinquencyBucket("1-30", 1, 30),
    DelinquencyBucket("31-60", 31, 60),
    DelinquencyBucket("61-90", 61, 90),
    DelinquencyBucket("91-180", 91, 180),
    DelinquencyBucket("181-360", 181, 360),
    DelinquencyBucket("360+", 361, None),
)


def validate_buckets(buckets: Sequence[DelinquencyBucket]) -> None:
    """Refuse overlapping, gapped or unordered buckets, or a closed last bucket."""
    if not buckets:
        raise ValueError("at least one bucket is needed")
    if buckets[0].min_days != 0:
        raise ValueError("the first bucket starts at 0 days")
    for bucket in buckets:
        if bucket.max_days is not None and bucket.max_days < bucket.min_days:
            raise ValueError(f"bucket {bucket.name} ends before it starts")
    for before, after in itertools.pairwise(buckets):
        if before.max_days is None or after.min_days != before.max_days + 1:
            raise ValueError(f"buckets {before.name} and {after.name} overlap or leave a gap")
    if buckets[-1].max_days is not None:
        raise ValueError("the last bucket is open-ended")


def bucket_for(dpd: int, buckets: Sequence[DelinquencyBucket]) -> DelinquencyBucket:
    """The bucket `dpd` falls in (the institution's buckets, e.g. `DEFAULT_BUCKETS`)."""
    for bucket in buckets:
        if bucket.contains(dpd):
            return bucket
    raise ValueError(f"no bucket holds {dpd} days")


class RiskCategory(IntEnum):
    """The five categories, ordered from best to worst."""

    NORMAL = 1  # 正常
    SPECIAL_MENTION = 2  # 关注
    SUBSTANDARD = 3  # 次级
    DOUBTFUL = 4  # 可疑
    LOSS = 5  # 损失

    @property
    def chinese(self) -> str:
        """The Chinese name of the category."""
        return _CHINESE[self]

    @property
    def non_performing(self) -> bool:
        """次级, 可疑 and 损失 are non-performing (不良)."""
        return self >= RiskCategory.SUBSTANDARD


_CHINESE = {
    RiskCategory.NORMAL: "正常",
    RiskCategory.SPECIAL_MENTION: "关注",
    RiskCategory.SUBSTANDARD: "次级",
    RiskCategory.DOUBTFUL: "可疑",
    RiskCategory.LOSS: "损失",
}

REGULATORY_DPD_FLOORS = (
    (1, RiskCategory.SPECIAL_MENTION),
    (91, RiskCategory.SUBSTANDARD),
    (271, RiskCategory.DOUBTFUL),
    (361, RiskCategory.LOSS),
)
"""docs/domain.md §3.1 (2023 Measures): any overdue -> 关注, > 90 -> 次级, > 270 -> 可疑, > 360 -> 损失."""

DEFAULT_DPD_FLOORS = REGULATORY_DPD_FLOORS

MAX_TECHNICAL_OVERDUE_DAYS = 7
"""The longest technical overdue (operational reasons) that may stay 正常 (docs/domain.md §3.1, [U])."""

DEFAULT_PROVISION_RATES = (
    (RiskCategory.NORMAL, Decimal("0.015")),
    (RiskCategory.SPECIAL_MENTION, Decimal("0.03")),
    (RiskCategory.SUBSTANDARD, Decimal("0.30")),
    (RiskCategory.DOUBTFUL, Decimal("0.60")),
    (RiskCategory.LOSS, Decimal("1.00")),
)


def _floor_of(dpd: int, floors: Sequence[tuple[int, RiskCategory]]) -> RiskCategory:
    floor = RiskCategory.NORMAL
    for min_days, category in floors:
        if dpd >= min_days:
            floor = max(floor, category)
    return floor


@dataclass(frozen=True, slots=True, kw_only=True)
class ClassificationPolicy:
    """DPD floors (minimum days -> category), technical-overdue exemption, provision rates.

    The floors default to the regulation's (the least a policy may be) and the exemption to
    none; the provision rates are the institution's to state (e.g. `DEFAULT_PROVISION_RATES`).
    """

    provision_rates: tuple[tuple[RiskCategory, Decimal], ...]
    dpd_floors: tuple[tuple[int, RiskCategory], ...] = DEFAULT_DPD_FLOORS
    technical_overdue_days: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.technical_overdue_days <= MAX_TECHNICAL_OVERDUE_DAYS:
            raise ValueError(
                f"the technical-overdue exemption is 0 to {MAX_TECHNICAL_OVERDUE_DAYS} days, "
                f"not {self.technical_overdue_days}"
            )
        for min_days, category in self.dpd_floors:
            if min_days < 1 or not isinstance(category, RiskCategory):
                raise ValueError(f"a DPD floor is (days >= 1, category), not ({min_days}, {category!r})")
        for min_days, required in REGULATORY_DPD_FLOORS:
            floor = _floor_of(min_days, self.dpd_floors)
            if floor < required:
                raise ValueError(
                    f"the DPD floors give {floor.chinese} ({floor.name}) at {min_days} days past due; "
                    f"the regulation requires at least {required.chinese} ({required.name})"
                )


@dataclass(frozen=True, slots=True)
class RestructuringState:
    """A restructured asset: in observation, performing before, new overdue since."""

    in_observation: bool = True
    non_performing_before: bool = False
    overdue_since_restructuring: bool = False


@dataclass(frozen=True, slots=True)
class ClassificationInput:
    """What classification looks at for one asset."""

    dpd: int
    restructuring: RestructuringState | None = None
    cross_default_floor: RiskCategory | None = None
    manual_grade: RiskCategory | None = None


@dataclass(frozen=True, slots=True)
class Classification:
    """The category and every floor that was considered, with its reason."""

    category: RiskCategory
    floors: tuple[tuple[str, RiskCategory], ...] = field(default_factory=tuple)

    @property
    def reasons(self) -> tuple[str, ...]:
        """The reasons whose floor equals the final category."""
        return tuple(reason for reason, floor in self.floors if floor == self.category)


def _dpd_floor(dpd: int, policy: ClassificationPolicy) -> RiskCategory:
    # The exemption is at most 7 days (validated): below every regulatory floor but 关注's.
    if 0 < dpd <= policy.technical_overdue_days:
        return RiskCategory.NORMAL
    return _floor_of(dpd, policy.dpd_floors)


def _restructuring_floor(state: RestructuringState) -> RiskCategory:
    if not state.in_observation:
        return RiskCategory.NORMAL
    if state.non_performing_before or state.overdue_since_restructuring:
        return RiskCategory.SUBSTANDARD
    return RiskCategory.SPECIAL_MENTION


def classify(asset: ClassificationInput, *, policy: ClassificationPolicy) -> Classification:
    """Five-category class = max(DPD floor, restructuring floor, cross-default, manual grade)."""
    floors: list[tuple[str, RiskCategory]] = [(f"dpd:{asset.dpd}", _dpd_floor(asset.dpd, policy))]
    if asset.restructuring is not None:
        floors.append(("restructured", _restructuring_floor(asset.restructuring)))
    if asset.cross_default_floor is not None:
        floors.append(("cross_default", asset.cross_default_floor))
    if asset.manual_grade is not None:
        floors.append(("manual", asset.manual_grade))
    return Classification(max(floor for _, floor in floors), tuple(floors))


def provision(
    outstanding: Money,
    category: RiskCategory,
    *,
    rounding: RoundingPolicy,
    policy: ClassificationPolicy,
) -> Money:
    """Loan-loss allowance of an asset: outstanding x the category's provision rate, rounded once."""
    rates = dict(policy.provision_rates)
    if category not in rates:
        raise ValueError(f"no provision rate for {category.name}")
    return rounding.times(outstanding, rates[category])
