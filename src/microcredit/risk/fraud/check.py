"""The fraud check of the automated review (pure): signals of one application → results of the fraud stage.

The service gathers `Signals` (the identifier graph around the application, the links to applications an
investigator labelled fraud, the anomaly score, whether the device is new to the person) before the review;
`evaluation.evaluate` shows them to the CEL rules as the variable `fraud` and adds the built-in results of
`results` to the fraud stage. Built-in, because a published rule set's text never changes: these hold for
every version, and an institution may add its own rules on `fraud.*` in a new version.

Outcomes: a shared identifier with an application confirmed as fraud declines; a ring, a strong anomaly,
or an odd hour from a device new to the person refers to people (each with its reason code; the catalogue
has the zh-CN and en text under `risk.rule.<code>`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from microcredit.risk.assessment import Outcome, Stage
from microcredit.risk.rules import Fired

FRAUD_CODES = ("fraud_confirmed_link", "fraud_ring", "fraud_anomaly", "fraud_odd_hour_new_device")


@dataclass(frozen=True)
class Thresholds:
    """Where the signals turn into outcomes; a rule set version may override them by parameter of this name."""

    fraud_ring_min_persons: int = 3
    fraud_anomaly_review: float = 0.68  # isolation-forest score from which a person looks (see docs/risk.md)
    fraud_odd_hour_from: int = 0  # local hours [from, until) count as odd
    fraud_odd_hour_until: int = 5

    @classmethod
    def of(cls, parameters: Mapping[str, Any], *, anomaly_review: float | None = None) -> Thresholds:
        """The thresholds, each overridden by a rule-set parameter of the same name when one is set; the anomaly
        model in force may bring its own review threshold (chosen when it was trained), which a rule set's
        parameter still overrides."""
        base = cls() if anomaly_review is None else cls(fraud_anomaly_review=anomaly_review)
        values = {k: parameters.get(k, v) for k, v in asdict(base).items()}
        review = float(values["fraud_anomaly_review"])  # house-rules: allow float (a score, not money)
        return cls(fraud_ring_min_persons=int(values["fraud_ring_min_persons"]), fraud_anomaly_review=review,
                   fraud_odd_hour_from=int(values["fraud_odd_hour_from"]),
                   fraud_odd_hour_until=int(values["fraud_odd_hour_until"]))


@dataclass(frozen=True)
class Signals:
    """What the fraud check knows of one application."""

    ring_persons: int = 1  # different people in its identifier component, itself included
    ring_applications: int = 1
    shared_identifiers: int = 0  # of its identifiers, how many other applications gave too
    confirmed_links: int = 0  # identifiers shared with applications an investigator labelled fraud
    anomaly: float = 0.0  # isolation-forest score, 0-1
    new_device: bool = False  # a device id the person never applied from before
    hour: int = 12  # local hour of submission
    anomaly_review: float | None = None  # the threshold of the anomaly model in force (None: the default)

    def variables(self) -> dict[str, Any]:
        """The `fraud` variable the CEL rules read (the score in whole percent, as the rules have no floats)."""
        return {"ring_persons": self.ring_persons, "ring_applications": self.ring_applications,
                "shared_identifiers": self.shared_identifiers, "confirmed_links": self.confirmed_links,
                "anomaly_pct": round(self.anomaly * 100), "new_device": self.new_device, "hour": self.hour}


def odd_hour(hour: int, t: Thresholds) -> bool:
    """Whether the hour falls in the odd window (which may wrap past midnight)."""
    if t.fraud_odd_hour_from <= t.fraud_odd_hour_until:
        return t.fraud_odd_hour_from <= hour < t.fraud_odd_hour_until
    return hour >= t.fraud_odd_hour_from or hour < t.fraud_odd_hour_until


def results(signals: Signals, t: Thresholds) -> list[Fired]:
    """The built-in fraud results that fire (empty: the check passes)."""
    fired = []

    def fire(code: str, outcome: Outcome, params: dict[str, str | int]) -> None:
        fired.append(Fired(Stage.FRAUD, code, outcome, f"risk.rule.{code}", params, ()))

    if signals.confirmed_links > 0:
        fire("fraud_confirmed_link", Outcome.FAIL, {"count": signals.confirmed_links})
    if signals.ring_persons >= t.fraud_ring_min_persons:
        fire("fraud_ring", Outcome.FLAG, {"persons": signals.ring_persons, "shared": signals.shared_identifiers})
    if signals.anomaly >= t.fraud_anomaly_review:
        fire("fraud_anomaly", Outcome.FLAG, {"score": round(signals.anomaly * 100)})
    if signals.new_device and odd_hour(signals.hour, t):
        fire("fraud_odd_hour_new_device", Outcome.FLAG, {"hour": signals.hour})
    return fired
