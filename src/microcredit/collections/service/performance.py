"""Collector performance over a period: cases worked (actions logged on them), amounts recovered
(repayments on the loans of the cases assigned to them since each case opened), promises to pay
made, kept and broken (those the collector took in the period)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from microcredit.collections import repository as repo
from microcredit.collections.service import cases
from microcredit.identity import scope
from microcredit.identity.principal import Principal
from microcredit.lending.money import Money
from microcredit.parties import service as parties


@dataclass(frozen=True)
class CollectorFigures:
    """One collector's figures over the period."""

    user_id: int
    name: str
    live_cases: int
    cases_worked: int
    actions: int
    recovered: Money
    promises_made: int
    promises_kept: int
    promises_broken: int


def figures(*, session: Session, principal: Principal, first: date, last: date) -> list[CollectorFigures]:
    """Per collector in the caller's scope, from `first` to `last` (the institution's calendar days)."""
    zone = ZoneInfo(parties.organisation.institution(session=session,
                                                     institution_id=principal.institution_id).timezone)
    start = datetime.combine(first, time(0), zone)
    end = datetime.combine(last, time(0), zone) + timedelta(days=1)
    f = scope.filters(principal)
    actions = repo.actions_between(session, institution_id=principal.institution_id, start=start, end=end,
                                   branch_id=f.branch_id)
    people = cases.collectors(session=session, principal=principal)
    out = []
    for account, live in people:
        mine = [a for a in actions if a.user_id == account.id]
        promises = [a for a in mine if a.kind == "promise"]
        recovered = Money.total(repo.recovered_of(session, account.id), "CNY")
        out.append(CollectorFigures(
            user_id=account.id, name=account.display_name, live_cases=live, cases_worked=len({a.case_id for a in mine}),
            actions=len(mine), recovered=recovered, promises_made=len(promises),
            promises_kept=sum(1 for a in promises if a.promise_status == "kept"),
            promises_broken=sum(1 for a in promises if a.promise_status == "broken")))
    return out
