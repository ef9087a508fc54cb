"""The principal cache: reads answered without the database, and every change seen by the next request.

A read (GET) within `security.principal_cache_seconds` of the token's last
resolution is answered from the process's cache; sign-out, revocation, role
and permission changes made in this process reach it at once; a change this
process did not make (another worker's: here, SQL sent past the ORM) is seen
by reads within the bound and by writes at once.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event, text, update

from microcredit.identity import service as identity
from microcredit.identity.models import Role, RolePermission, UserSession
from microcredit.identity.service.principals import PrincipalCache
from microcredit.identity.tokens import token_hash
from microcredit.platform.actor import RequestMeta
from tests.factories import make_borrower, make_staff
from tests.integration.identity.support import API, bearer, code, me, password_login

TTL = timedelta(seconds=2)


def _token(auth: dict[str, str]) -> str:
    return auth["Authorization"].removeprefix("Bearer ")


class Statements:
    """The SQL statements sent on a connection."""

    def __init__(self, conn: object) -> None:
        self.sent: list[str] = []
        event.listen(conn, "before_cursor_execute", self._note)
        self.conn = conn

    def _note(self, _conn: object, _cursor: object, statement: str, *_args: object) -> None:
        self.sent.append(statement)

    def take(self) -> list[str]:
        sent, self.sent = self.sent, []
        return sent

    def close(self) -> None:
        event.remove(self.conn, "before_cursor_execute", self._note)


def _sessions_read(statements: list[str]) -> int:
    return sum(1 for s in statements if "FROM user_sessions" in s)


def _signed_in_staff(client, session, runtime, inst, roles=("loan_officer",)):
    s = make_staff(session, runtime, inst, roles=roles)
    session.commit()
    return s, bearer(password_login(client, inst, s.phone, s.password, kind="staff"))


def test_a_repeated_read_resolves_the_token_without_a_query(client, session, runtime, inst):
    _, auth = _signed_in_staff(client, session, runtime, inst)
    cache = runtime.identity.principals
    assert isinstance(cache, PrincipalCache)
    assert cache.enabled
    assert client.get(f"{API}/borrowers", headers=auth).status_code == 200  # resolves and remembers
    assert len(cache) == 1
    sql = Statements(session.connection())
    try:
        assert client.get(f"{API}/borrowers", headers=auth).status_code == 200
        from_cache = sql.take()
        cache.forget(None)
        assert client.get(f"{API}/borrowers", headers=auth).status_code == 200
        from_database = sql.take()
    finally:
        sql.close()
    assert _sessions_read(from_cache) == 0
    assert _sessions_read(from_database) == 1
    assert not any(s.lstrip().upper().startswith(("UPDATE", "INSERT", "DELETE")) for s in from_cache)
    # The session, the user, the roles and their permissions are the four queries the cache saves.
    assert len(from_database) - len(from_cache) >= 4


def test_sign_out_ends_the_session_for_the_very_next_read(client, session, runtime, inst):
    b = make_borrower(session, runtime, inst)
    session.commit()
    auth = bearer(password_login(client, inst, b.phone, b.password))
    assert me(client, auth).status_code == 200  # cached now
    assert client.post(f"{API}/auth/logout", headers=auth).status_code == 200
    r = me(client, auth)
    assert (r.status_code, code(r)) == (401, "session_expired")


def test_revocation_by_staff_reaches_the_cached_reader_at_once(client, session, runtime, inst):
    b = make_borrower(session, runtime, inst)
    session.commit()
    auth = bearer(password_login(client, inst, b.phone, b.password))
    assert me(client, auth).status_code == 200
    # Another use case in this process ends every session of the user (a bulk UPDATE, then commit).
    identity.sessions.revoke_all(session=session, kit=runtime.identity, user_id=b.user.id, reason="ended_by_staff")
    session.commit()
    r = me(client, auth)
    assert (r.status_code, code(r)) == (401, "session_expired")


def test_a_flushed_revocation_is_seen_before_its_commit(session, runtime, inst):
    """An entry forgotten at the flush cannot be read back between the flush and the commit."""
    b = make_borrower(session, runtime, inst)
    session.commit()
    issued = identity.sessions.start_session(session=session, kit=runtime.identity,
                                             user=b.user,
                                             method="password", meta=RequestMeta())
    session.commit()
    identity.sessions.authenticate(session=session, kit=runtime.identity, token=issued.token, meta=RequestMeta())
    assert identity.sessions.cached(kit=runtime.identity, token=issued.token, meta=RequestMeta()) is not None
    row = session.get(UserSession, issued.session_id)
    row.revoked_at = runtime.clock.now()
    session.flush()
    assert identity.sessions.cached(kit=runtime.identity, token=issued.token, meta=RequestMeta()) is None


def test_a_role_change_reaches_the_next_read(client, session, runtime, inst):
    _s, auth = _signed_in_staff(client, session, runtime, inst)
    assert client.get(f"{API}/borrowers", headers=auth).status_code == 200
    role = session.scalar(text("SELECT id FROM roles WHERE code = 'loan_officer' AND institution_id = :i"),
                          {"i": inst.id})
    for grant in session.query(RolePermission).filter(RolePermission.role_id == role,
                                                      RolePermission.permission == "borrower.read"):
        session.delete(grant)
    session.flush()
    session.commit()
    r = client.get(f"{API}/borrowers", headers=auth)
    assert (r.status_code, code(r)) == (403, "permission_denied")


def test_the_entry_of_a_fetch_that_raced_a_change_is_not_kept(session, runtime, inst):
    b = make_borrower(session, runtime, inst)
    session.commit()
    cache = runtime.identity.principals
    assert cache is not None
    auth = identity.sessions.start_session(session=session, kit=runtime.identity,
                                           user=b.user,
                                           method="password", meta=RequestMeta())
    session.commit()
    principal = identity.sessions.authenticate(session=session, kit=runtime.identity, token=auth.token,
                                               meta=RequestMeta())
    cache.forget(None)
    mark = cache.mark()
    cache.forget({b.user.id})  # the user changed while this fetch was under way
    cache.put(token_hash(auth.token), principal, mark=mark, last_seen_at=runtime.clock.now(),
              idle_expires_at=auth.idle_expires_at, absolute_expires_at=auth.absolute_expires_at)
    assert len(cache) == 0
    cache.put(token_hash(auth.token), principal, mark=cache.mark(), last_seen_at=runtime.clock.now(),
              idle_expires_at=auth.idle_expires_at, absolute_expires_at=auth.absolute_expires_at)
    assert len(cache) == 1


def test_another_workers_change_is_seen_by_writes_at_once_and_by_reads_within_the_bound(
        client, session, runtime, clock, inst):
    b = make_borrower(session, runtime, inst)
    session.commit()
    auth = bearer(password_login(client, inst, b.phone, b.password))
    assert me(client, auth).status_code == 200
    # SQL this process's ORM does not see: what another worker process's change looks like from here.
    session.connection().execute(update(UserSession.__table__)
                                 .where(UserSession.__table__.c.token_hash == token_hash(_token(auth)))
                                 .values(revoked_at=clock.now()))
    session.commit()
    write = client.post(f"{API}/auth/logout", headers=auth)
    assert (write.status_code, code(write)) == (401, "session_expired")
    assert me(client, auth).status_code == 200  # a read inside the bound may still pass...
    clock.advance(TTL)
    r = me(client, auth)  # ...and no read after it does
    assert (r.status_code, code(r)) == (401, "session_expired")


def test_expiry_and_the_idle_refresh_are_not_skipped_by_the_cache(client, session, runtime, clock, inst):
    _, auth = _signed_in_staff(client, session, runtime, inst)
    assert me(client, auth).status_code == 200
    # Cached entries are good for 2 s at most, and never past the session's expiry: a read 29 minutes
    # later resolves against the database again (and refreshes the idle timer), 31 minutes after that fails.
    clock.advance(timedelta(minutes=29))
    assert me(client, auth).status_code == 200
    clock.advance(timedelta(minutes=31))
    r = me(client, auth)
    assert (r.status_code, code(r)) == (401, "session_expired")


def test_a_changed_role_row_forgets_everyone(session, runtime, inst):
    cache = runtime.identity.principals
    assert cache is not None
    forgotten: list[object] = []
    original = cache.forget
    cache.forget = lambda ids: (forgotten.append(ids), original(ids))  # type: ignore[method-assign]
    role = session.query(Role).filter(Role.institution_id == inst.id).first()
    role.name_en = role.name_en + " (renamed)"
    session.flush()
    assert None in forgotten


def test_nothing_is_kept_when_switched_off(session, runtime, clock, inst):
    b = make_borrower(session, runtime, inst)
    session.commit()
    issued = identity.sessions.start_session(session=session, kit=runtime.identity,
                                             user=b.user, method="password",
                                             meta=RequestMeta())
    principal = identity.sessions.authenticate(session=session, kit=runtime.identity, token=issued.token,
                                               meta=RequestMeta())
    cache = PrincipalCache(clock=clock, seconds=0, touch_every=timedelta(seconds=60))
    cache.put(token_hash(issued.token), principal, mark=cache.mark(), last_seen_at=clock.now(),
              idle_expires_at=issued.idle_expires_at, absolute_expires_at=issued.absolute_expires_at)
    assert not cache.enabled
    assert len(cache) == 0
