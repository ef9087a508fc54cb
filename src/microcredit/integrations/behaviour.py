"""Behaviour data: the adapter interface and the built-in behaviour-data *simulator*.

A real deployment buys alternative data from a licensed provider (e-commerce spending, payment
regularity from a payment channel, the age and verification of a social account), with the
applicant's authorisation, and maps the provider's answer onto `BehaviourData`: one record per
calendar month, dated by the month's first day. The demo and the tests use
`SimulatedBehaviourSource`, which invents those records deterministically from the ID number and
the month (seeded by SHA-256 of both), so the record of a month is the same whichever date it is
asked on — history does not change after the fact, which is what point-in-time features need.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import date
from typing import Protocol

MONTHS = 36  # the history a provider keeps: enough for a 12-month window at any date of the last two years


@dataclass(frozen=True)
class BehaviourMonth:
    """One calendar month of an applicant's behaviour (money in fen)."""

    month: date  # the month's first day
    ecommerce_orders: int
    ecommerce_spend_minor: int
    payments_due: int  # bills (utilities, phone, subscriptions) due that month through the payment channel
    payments_on_time: int


@dataclass(frozen=True)
class BehaviourData:
    """What a behaviour provider knows of a person up to a date."""

    source: str
    months: tuple[BehaviourMonth, ...] = ()
    social_account_opened: date | None = None
    social_contacts_verified: int = 0


class BehaviourSource(Protocol):
    """The provider's interface: everything known of a person through `until` (inclusive)."""

    def data(self, *, id_number: str, until: date) -> BehaviourData: ...


def _first_of_month(d: date, back: int) -> date:
    y, m = divmod(d.year * 12 + d.month - 1 - back, 12)
    return date(y, m + 1, 1)


class SimulatedBehaviourSource:
    """A behaviour provider *simulator*: deterministic per ID number and month, no network."""

    def data(self, *, id_number: str, until: date) -> BehaviourData:
        """The `MONTHS` months before `until`'s month and the current month, each seeded by (ID number, month)."""
        person = random.Random(hashlib.sha256(f"behaviour:{id_number}".encode()).digest())  # noqa: S311 - repeatable
        spender = person.uniform(0.2, 3.0)
        reliability = person.uniform(0.55, 1.0)
        opened = date(2010 + person.randint(0, 14), person.randint(1, 12), 1)
        months = []
        for back in range(MONTHS, -1, -1):
            first = _first_of_month(until, back)
            seed = hashlib.sha256(f"behaviour:{id_number}:{first.isoformat()}".encode()).digest()
            rng = random.Random(seed)  # noqa: S311 - a simulator's repeatable draw, no secret
            orders = max(0, int(rng.gauss(6 * spender, 2)))
            due = rng.randint(2, 6)
            months.append(BehaviourMonth(
                month=first, ecommerce_orders=orders, ecommerce_spend_minor=orders * rng.randint(3_000, 30_000),
                payments_due=due, payments_on_time=sum(rng.random() < reliability for _ in range(due))))
        return BehaviourData(source="simulator", months=tuple(months),
                             social_account_opened=opened if opened <= until else None,
                             social_contacts_verified=person.randint(0, 40))
