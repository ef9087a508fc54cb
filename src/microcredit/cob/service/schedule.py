"""The close of business on a schedule: every night at a configured local time, each institution's
business date is brought up to yesterday, missed dates first, in order.

`MICROCREDIT_COB_CLOSE_AT=02:00` names the time, read in each institution's own time zone; the
scheduler (`microcredit cob scheduler`, a long-running process, or `--once` from cron) looks every
`MICROCREDIT_COB_SCHEDULE_CHECK_SECONDS` and closes what is due:

* at or after the close time on local day D, every date from the day after the business date
  through D − 1; before it, through D − 2 (yesterday is closed tonight, not yet);
* a run left unfinished (its runner died) is resumed first, on its own date;
* a run whose heartbeat is fresh belongs to someone else (another scheduler, an operator's
  `cob run`): this institution is skipped until the next look;
* an institution that fails is reported and the others go on.

The dates come from the business clock (`Clock`), so the demo's moved clock is followed as a
real one would be. Two schedulers may run at once: opening a run is one transaction under the run
table's unique (institution, date), and a fresh heartbeat turns the other away.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from microcredit.clock import Clock
from microcredit.cob import repository as repo
from microcredit.cob.errors import RunInProgress
from microcredit.cob.service import runs
from microcredit.cob.service.steps import CobKit
from microcredit.db.engine import Database
from microcredit.errors import DomainError
from microcredit.parties import service as parties
from microcredit.platform.actor import Actor


def due_dates(*, business_date: date, local_now: datetime, close_at: time) -> list[date]:
    """The dates to close now, in order: the day after the business date through yesterday once the
    local close time has come, through the day before yesterday before it (pure)."""
    last = local_now.date() - timedelta(days=1 if local_now.time() >= close_at else 2)
    return [business_date + timedelta(days=n) for n in range(1, (last - business_date).days + 1)]


@dataclass(frozen=True, slots=True)
class Closed:
    """What one look did for one institution: the runs it finished, or why it stopped."""

    institution_id: int
    code: str
    dates: tuple[date, ...] = ()
    skipped: str | None = None  # "in_progress": someone else's run is alive; else an error's text


def close_due(*, db: Database, kit: CobKit, clock: Clock, close_at: time,
              runner: runs.StepRunner | None = None, runner_name: str = "in_process",
              listener: runs.Listener | None = None, report: Callable[[Closed], None] | None = None,
              only: Collection[int] | None = None) -> list[Closed]:
    """One look: for every active institution (or those of `only`), resume its unfinished run and close the
    dates now due."""
    with db.unit_of_work(write=False) as session:
        institutions = [i for i in parties.organisation.active_institutions(session=session)
                        if only is None or i.id in only]
    out = []
    for inst in institutions:
        done: list[date] = []
        skipped = None
        try:
            for day in _dates_to_close(db, clock, inst.id, ZoneInfo(inst.timezone), close_at):
                def open_run(session: Session, on: date = day, inst_id: int = inst.id) -> int:
                    return runs.start(session=session, clock=clock, actor=Actor.system(inst_id),
                                      institution_id=inst_id, on=on, partition_size=kit.partition_size,
                                      lease_seconds=kit.lease_seconds, runner=runner_name).id

                runs.execute(db=db, kit=kit, run_id=db.run(open_run), listener=listener, runner=runner)
                done.append(day)
        except RunInProgress:
            skipped = "in_progress"
        except DomainError as exc:
            skipped = exc.message("en")
        closed = Closed(institution_id=inst.id, code=inst.code, dates=tuple(done), skipped=skipped)
        if report is not None:
            report(closed)
        out.append(closed)
    return out


def _dates_to_close(db: Database, clock: Clock, institution_id: int, zone: ZoneInfo, close_at: time) -> list[date]:
    """The unfinished run's date (to resume), then the dates due."""
    with db.unit_of_work(write=False) as session:
        business_date = parties.organisation.business_date(session=session, institution_id=institution_id)
        unfinished = repo.unfinished_run(session, institution_id)
    local_now = clock.now().astimezone(zone).replace(tzinfo=None)
    pending = [unfinished.business_date] if unfinished is not None else []
    return pending + due_dates(business_date=business_date, local_now=local_now, close_at=close_at)
