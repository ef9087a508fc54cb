"""The institution as pages show it, from the process's reference cache (platform.refcache).

`GET /auth/me` names the caller's institution and its business date. Within
`reference_cache_seconds` of the last read the process answers from memory; a
change this process makes (a flush touching the row) is seen by the very next
read; a change it did not make (another worker's: here, SQL sent past the
ORM) is seen once the bound has passed.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import event, text, update

from microcredit.parties import service as parties
from microcredit.parties.models import Institution
from microcredit.parties.service.organisation import InstitutionInfo
from microcredit.platform.actor import Actor
from microcredit.platform.refcache import ReferenceCache
from tests.factories import make_borrower
from tests.integration.identity.support import bearer, me, password_login


def _signed_in(client, session, runtime, inst):
    b = make_borrower(session, runtime, inst)
    session.commit()
    return bearer(password_login(client, inst, b.phone, b.password))


def _institution_reads(conn, run) -> int:
    sent: list[str] = []

    def note(_conn, _cursor, statement, *_args):
        sent.append(statement)

    event.listen(conn, "before_cursor_execute", note)
    try:
        run()
    finally:
        event.remove(conn, "before_cursor_execute", note)
    return sum(1 for s in sent if "FROM institutions" in s)


def test_me_reads_the_institution_once_within_the_bound(client, session, runtime, inst):
    auth = _signed_in(client, session, runtime, inst)
    assert me(client, auth).status_code == 200
    reads = _institution_reads(session.connection(), lambda: me(client, auth))
    assert reads == 0
    runtime.clock.advance(timedelta(seconds=runtime.settings.reference_cache_seconds))
    reads = _institution_reads(session.connection(), lambda: me(client, auth))
    assert reads == 1


def test_a_change_made_in_this_process_is_seen_by_the_next_read(client, session, runtime, inst):
    auth = _signed_in(client, session, runtime, inst)
    assert me(client, auth).json()["institution"]["business_date"] == "2026-11-25"
    parties.organisation.set_business_date_as(session=session, clock=runtime.clock, actor=Actor.system(inst.id),
                                              institution_id=inst.id, new_date=date(2026, 11, 26),
                                              override_allowed=True)
    session.commit()
    assert me(client, auth).json()["institution"]["business_date"] == "2026-11-26"
    parties.organisation.update_institution_as(session=session, clock=runtime.clock, actor=Actor.system(inst.id),
                                               institution_id=inst.id, name="改名机构")
    session.commit()
    assert me(client, auth).json()["institution"]["name"] == "改名机构"


def test_a_bulk_update_forgets_every_institution(client, session, runtime, inst):
    auth = _signed_in(client, session, runtime, inst)
    assert me(client, auth).json()["institution"]["name"] == "测试机构"
    session.execute(update(Institution).where(Institution.id == inst.id).values(name="批量改名"))
    session.commit()
    assert me(client, auth).json()["institution"]["name"] == "批量改名"


def test_another_process_change_is_seen_within_the_bound(client, session, runtime, inst):
    auth = _signed_in(client, session, runtime, inst)
    assert me(client, auth).json()["institution"]["name"] == "测试机构"
    # Another worker's change: SQL past this process's ORM, so nothing here hears of it.
    session.connection().execute(text("UPDATE institutions SET name = :n WHERE id = :i"),
                                 {"n": "别处改名", "i": inst.id})
    session.commit()
    assert me(client, auth).json()["institution"]["name"] == "测试机构"  # within the bound: the kept value
    runtime.clock.advance(timedelta(seconds=runtime.settings.reference_cache_seconds))
    assert me(client, auth).json()["institution"]["name"] == "别处改名"


def test_a_value_read_before_a_change_is_not_kept(session, runtime, inst):
    cache = runtime.institutions
    assert isinstance(cache, ReferenceCache)

    def stale_load() -> InstitutionInfo:
        info = parties.organisation.institution_info(session=session, cache=None, institution_id=inst.id)
        # The row changes (and is flushed) while this read is on its way to the cache.
        inst.name = "读后改名"
        session.flush()
        return info

    assert cache.get(inst.id, stale_load).name == "测试机构"
    assert len(cache) == 0  # refused: it was read before the change
    session.commit()
    assert parties.organisation.institution_info(session=session, cache=cache, institution_id=inst.id).name == \
        "读后改名"
    assert len(cache) == 1


def test_switched_off_every_read_asks_the_database(session, runtime, inst):
    cache = parties.organisation.institution_cache(clock=runtime.clock, seconds=0)
    loads = []

    def load() -> str:
        loads.append(1)
        return "x"

    assert not cache.enabled
    cache.get(inst.id, load)
    cache.get(inst.id, load)
    assert len(loads) == 2
    assert len(cache) == 0
