"""The nightly close of business (SQLite, PostgreSQL, MariaDB): at the configured local time each institution's
yesterday is closed, missed nights first; an unfinished run is resumed on its own date; a live run of
someone else's is left alone; a second look the same night does nothing."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from microcredit.cob import service as cob
from microcredit.cob.models import CobRun
from microcredit.parties import service as parties
from microcredit.platform.actor import Actor
from tests.factories import make_institution
from tests.integration.cob.support import move_to, open_portfolio
from tests.integration.helpers import shared_client

SHANGHAI = ZoneInfo("Asia/Shanghai")
TWO = time(2, 0)


@pytest.fixture
def client(runtime, backend):
    yield from shared_client(runtime, backend)


def look(runtime, *ids):
    return cob.schedule.close_due(db=runtime.db, kit=runtime.cob, clock=runtime.clock, close_at=TWO, only=set(ids))


def at_local(runtime, moment: datetime) -> None:
    runtime.clock.set(moment.replace(tzinfo=SHANGHAI))


def test_nights_are_closed_at_the_local_close_time_in_order_and_once(client, session, runtime, monkeypatch):
    p = open_portfolio(client, session, runtime, monkeypatch, amounts=("8000.00",))
    inst_id = p.inst.id
    start = parties.organisation.business_date(session=session, institution_id=inst_id)
    # Three nights were missed; it is 01:59 on the fourth day: the first two are due, not yet the third.
    at_local(runtime, datetime.combine(start + timedelta(days=4), time(1, 59)))
    [first] = look(runtime, inst_id)
    assert (first.dates, first.skipped) == ((start + timedelta(days=1), start + timedelta(days=2)), None)
    at_local(runtime, datetime.combine(start + timedelta(days=4), time(2, 0)))
    [second] = look(runtime, inst_id)
    assert second.dates == (start + timedelta(days=3),)
    assert look(runtime, inst_id)[0].dates == ()  # the same night again: nothing
    session.expire_all()
    assert parties.organisation.business_date(session=session, institution_id=inst_id) == start + timedelta(days=3)
    runs = session.scalars(select(CobRun).where(CobRun.institution_id == inst_id).order_by(CobRun.id)).all()
    assert [(r.business_date, r.status, r.loans) for r in runs] == [
        (start + timedelta(days=n), "done", 1) for n in (1, 2, 3)]


def test_an_unfinished_run_is_resumed_first_and_a_live_one_left_alone(client, session, runtime, monkeypatch):
    p = open_portfolio(client, session, runtime, monkeypatch, amounts=("8000.00",))
    inst_id = p.inst.id
    start = parties.organisation.business_date(session=session, institution_id=inst_id)
    at_local(runtime, datetime.combine(start + timedelta(days=1), time(23, 0)))
    # Someone opened tomorrow's run by hand and is working it (a fresh heartbeat): the scheduler stays away.
    opened = runtime.db.run(lambda s: cob.runs.start(
        session=s, clock=runtime.clock, actor=Actor.system(inst_id), institution_id=inst_id, on=None,
        partition_size=10, lease_seconds=runtime.cob.lease_seconds).id)
    at_local(runtime, datetime.combine(start + timedelta(days=3), time(2, 30)))
    live = runtime.db.run(lambda s: s.get(CobRun, opened))
    runtime.db.run(lambda s: setattr(s.get(CobRun, opened), "heartbeat_at", runtime.clock.now()))
    [busy] = look(runtime, inst_id)
    assert (busy.dates, busy.skipped) == ((), "in_progress")
    # Its runner died (the heartbeat went stale): the next look resumes it, then closes the day after.
    runtime.clock.advance(timedelta(seconds=runtime.cob.lease_seconds + 1))
    [resumed] = look(runtime, inst_id)
    assert resumed.dates == (live.business_date, live.business_date + timedelta(days=1))
    session.expire_all()
    runs = session.scalars(select(CobRun).where(CobRun.institution_id == inst_id).order_by(CobRun.id)).all()
    assert [(r.id == opened, r.status) for r in runs] == [(True, "done"), (False, "done")]


def test_each_institution_keeps_its_own_time_zone(session, runtime):
    east = make_institution(session, runtime)
    west = make_institution(session, runtime)
    west.timezone = "Asia/Urumqi"  # UTC+6: two hours behind Beijing time
    day = east.business_date
    move_to(session, runtime, west.id, day)
    # 03:00 in Beijing is 01:00 in Urumqi: the east closes its yesterday, the west not yet.
    at_local(runtime, datetime.combine(day + timedelta(days=2), time(3, 0)))
    closed = {c.institution_id: c.dates for c in look(runtime, east.id, west.id)}
    assert closed == {east.id: (day + timedelta(days=1),), west.id: ()}
