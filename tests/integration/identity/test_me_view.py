"""`GET /auth/me` kept with the token: a repeated read costs no query, and every change shows on the next read.

The answer is kept with the token's cached principal (identity.service.principals,
api.deps.kept_answer). Each test reads the page once (so that it is kept), makes
one change the page shows -- through the real use case where one exists, else
through the ORM in this process, as another use case would -- and requires the
very next read to show it. A change this process did not make (SQL past the ORM:
what another worker's change looks like from here) may be missed by reads for at
most `security.principal_cache_seconds`, never longer.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event, update

from microcredit.config import SecuritySettings
from microcredit.identity import service as identity
from microcredit.identity.models import OAuthIdentity, Role, RolePermission, User, UserRole
from microcredit.identity.tokens import token_hash
from microcredit.parties import service as parties
from microcredit.parties.models import Branch, Institution
from microcredit.platform.actor import Actor, RequestMeta
from microcredit.platform.crypto import mask_phone
from tests.factories import last_sms_code, make_borrower, make_branch, make_staff, next_phone
from tests.integration.identity.support import API, bearer, code, me, password_login, request_code

TTL = timedelta(seconds=2)
WRONG = "not the password"


def _statements(conn, run) -> list[str]:
    sent: list[str] = []

    def note(_conn, _cursor, statement, *_args):
        sent.append(statement)

    event.listen(conn, "before_cursor_execute", note)
    try:
        run()
    finally:
        event.remove(conn, "before_cursor_execute", note)
    return sent


def _borrower_signed_in(client, session, runtime, inst):
    b = make_borrower(session, runtime, inst)
    session.commit()
    auth = bearer(password_login(client, inst, b.phone, b.password))
    assert me(client, auth).status_code == 200  # the principal is resolved and kept
    first = me(client, auth)  # the page is built and kept with it
    assert first.status_code == 200
    return b, auth, first.json()


def _token(auth: dict[str, str]) -> str:
    return auth["Authorization"].removeprefix("Bearer ")


def test_a_repeated_read_is_answered_without_a_statement(client, session, runtime, inst):
    b, auth, body = _borrower_signed_in(client, session, runtime, inst)
    sent = _statements(session.connection(), lambda: me(client, auth))
    assert sent == []
    again = me(client, auth)
    assert again.json() == body
    assert again.headers["content-type"] == "application/json"
    assert (body["user_id"], body["kind"], body["phone_masked"], body["borrower_id"]) == (
        b.user.id, "borrower", mask_phone(b.phone), b.borrower.id)


def test_the_kept_page_is_what_the_page_built_afresh_says(client, session, runtime, inst):
    _b, auth, body = _borrower_signed_in(client, session, runtime, inst)
    runtime.identity.principals.forget(None)
    assert me(client, auth).json() == body


def test_a_display_name_change_shows_on_the_next_read(client, session, runtime, inst):
    b, auth, _ = _borrower_signed_in(client, session, runtime, inst)
    session.expire_all()  # the sign-in moved the row's version
    session.get(User, b.user.id).display_name = "改过的名字"
    session.commit()
    assert me(client, auth).json()["display_name"] == "改过的名字"


def test_a_phone_change_shows_on_the_next_read(client, session, runtime, inst):
    b, auth, body = _borrower_signed_in(client, session, runtime, inst)
    assert body["phone_masked"] == mask_phone(b.phone)
    new_phone = next_phone()
    request_code(client, inst, new_phone, "change_phone")
    r = client.post(f"{API}/auth/phone", headers=auth, json={
        "current_password": b.password, "new_phone": new_phone, "code": last_sms_code(client, new_phone)})
    assert r.status_code == 200, r.text
    assert me(client, auth).json()["phone_masked"] == mask_phone(new_phone)


def test_linking_and_unlinking_a_third_party_account_show_on_the_next_read(client, session, runtime, inst):
    b, auth, body = _borrower_signed_in(client, session, runtime, inst)
    assert body["linked_providers"] == []
    link = OAuthIdentity(institution_id=inst.id, user_id=b.user.id, provider="wechat", subject="w-77",
                         linked_at=runtime.clock.now())
    session.add(link)
    session.commit()
    assert me(client, auth).json()["linked_providers"] == ["wechat"]
    session.delete(link)
    session.commit()
    assert me(client, auth).json()["linked_providers"] == []


def test_sign_out_revocation_and_expiry_end_the_kept_page(client, session, runtime, clock, inst):
    b, auth, _ = _borrower_signed_in(client, session, runtime, inst)
    assert client.post(f"{API}/auth/logout", headers=auth).status_code == 200
    assert code(me(client, auth)) == "session_expired"

    auth = bearer(password_login(client, inst, b.phone, b.password))
    me(client, auth), me(client, auth)
    identity.sessions.revoke_all(session=session, kit=runtime.identity, user_id=b.user.id, reason="ended_by_staff")
    session.commit()
    assert code(me(client, auth)) == "session_expired"

    auth = bearer(password_login(client, inst, b.phone, b.password))
    me(client, auth), me(client, auth)
    clock.advance(timedelta(days=31))  # past a borrower session's absolute lifetime
    assert code(me(client, auth)) == "session_expired"


def test_a_lockout_ends_the_kept_page(client, session, runtime, clock, inst):
    b, auth, _ = _borrower_signed_in(client, session, runtime, inst)
    for _ in range(20):
        r = password_login(client, inst, b.phone, WRONG)
        if r.status_code == 429:
            clock.advance(timedelta(seconds=int(r.headers["retry-after"])))
        elif r.status_code == 423:
            break
    else:
        raise AssertionError("never locked")
    assert code(me(client, auth)) == "session_expired"


def test_role_changes_show_on_the_next_read(client, session, runtime, inst):
    s = make_staff(session, runtime, inst, roles=("loan_officer",))
    session.commit()
    auth = bearer(password_login(client, inst, s.phone, s.password, kind="staff"))
    me(client, auth)
    body = me(client, auth).json()
    assert body["roles"] == ["loan_officer"]
    assert "borrower.read" in body["permissions"]
    assert body["staff_id"] == s.staff_id
    # A role granted (a new row: nothing about the session changes).
    other = session.query(Role).filter(Role.institution_id == inst.id, Role.code == "branch_manager").one()
    session.add(UserRole(user_id=s.user.id, role_id=other.id))
    session.commit()
    assert set(me(client, auth).json()["roles"]) == {"loan_officer", "branch_manager"}
    # A permission taken from a role: everyone's pages forget.
    for role_code in ("loan_officer", "branch_manager"):
        role_id = session.query(Role.id).filter(Role.institution_id == inst.id, Role.code == role_code).scalar()
        for grant in session.query(RolePermission).filter(RolePermission.role_id == role_id,
                                                          RolePermission.permission == "borrower.read"):
            session.delete(grant)
    session.commit()
    assert "borrower.read" not in me(client, auth).json()["permissions"]


def test_the_branch_and_the_institution_shown_follow_their_changes(client, session, runtime, inst):
    branch = make_branch(session, runtime, inst)
    s = make_staff(session, runtime, inst, roles=("loan_officer",), branch=branch)
    session.commit()
    auth = bearer(password_login(client, inst, s.phone, s.password, kind="staff"))
    me(client, auth)
    body = me(client, auth).json()
    assert body["branch_name"] == branch.name
    session.get(Branch, branch.id).name = "改名的网点"
    session.commit()
    assert me(client, auth).json()["branch_name"] == "改名的网点"
    before = body["institution"]["business_date"]
    parties.organisation.set_business_date_as(
        session=session, clock=runtime.clock, actor=Actor.system(inst.id), institution_id=inst.id,
        new_date=session.get(Institution, inst.id).business_date + timedelta(days=1), override_allowed=True)
    session.commit()
    after = me(client, auth).json()["institution"]["business_date"]
    assert after != before


def test_a_borrower_profile_change_forgets_its_users_page(session, runtime, inst):
    b = make_borrower(session, runtime, inst)
    session.commit()
    cache = runtime.identity.principals
    issued = identity.sessions.start_session(session=session, kit=runtime.identity, user=b.user, method="password",
                                             meta=RequestMeta())
    session.commit()
    principal = identity.sessions.authenticate(session=session, kit=runtime.identity, token=issued.token,
                                               meta=RequestMeta())
    mark = identity.sessions.view_mark(kit=runtime.identity)
    assert identity.sessions.keep_view(kit=runtime.identity, token=issued.token, name="page", value=b"{}",
                                       principal=principal, mark=mark)
    assert identity.sessions.view(kit=runtime.identity, token=issued.token, name="page") == b"{}"
    b.borrower.occupation = "教师"
    session.flush()
    assert identity.sessions.view(kit=runtime.identity, token=issued.token, name="page") is None
    assert cache.view(token_hash(issued.token), "page") is None


def test_a_page_read_before_a_change_or_for_another_principal_is_not_kept(session, runtime, clock, inst):
    b = make_borrower(session, runtime, inst)
    session.commit()
    kit = runtime.identity
    issued = identity.sessions.start_session(session=session, kit=kit, user=b.user, method="password",
                                             meta=RequestMeta())
    session.commit()
    principal = identity.sessions.authenticate(session=session, kit=kit, token=issued.token, meta=RequestMeta())
    mark = identity.sessions.view_mark(kit=kit)
    kit.principals.forget({b.user.id})  # the user changed while the page was read
    principal = identity.sessions.authenticate(session=session, kit=kit, token=issued.token, meta=RequestMeta())
    assert not identity.sessions.keep_view(kit=kit, token=issued.token, name="page", value=b"{}",
                                           principal=principal, mark=mark)
    # Built for a principal that is not the entry's (its roles changed): refused.
    mark = identity.sessions.view_mark(kit=kit)
    stale = principal.__class__(**{**principal.__dict__, "roles": ("someone_else",)})
    assert not identity.sessions.keep_view(kit=kit, token=issued.token, name="page", value=b"{}",
                                           principal=stale, mark=mark)
    # Read before the entry was resolved: it would outlive the bound.
    early = identity.sessions.view_mark(kit=kit)
    clock.advance(timedelta(milliseconds=500))
    kit.principals.forget(None)
    principal = identity.sessions.authenticate(session=session, kit=kit, token=issued.token, meta=RequestMeta())
    assert not identity.sessions.keep_view(kit=kit, token=issued.token, name="page", value=b"{}",
                                           principal=principal, mark=(kit.principals.mark(), early[1]))
    assert identity.sessions.keep_view(kit=kit, token=issued.token, name="page", value=b"{}",
                                       principal=principal, mark=identity.sessions.view_mark(kit=kit))


def test_another_workers_change_shows_within_the_bound(client, session, runtime, clock, inst):
    b, auth, body = _borrower_signed_in(client, session, runtime, inst)
    # SQL this process's ORM does not see: what another worker process's change looks like from here.
    session.connection().execute(update(User.__table__).where(User.__table__.c.id == b.user.id)
                                 .values(display_name="别处改的"))
    session.commit()
    assert me(client, auth).json()["display_name"] == body["display_name"]  # inside the bound it may be missed
    clock.advance(TTL)
    assert me(client, auth).json()["display_name"] == "别处改的"  # after it, never


def test_nothing_is_kept_when_the_principal_cache_is_off(app_with, session, inst):
    runtime, client = app_with(security=SecuritySettings(principal_cache_seconds=0))
    b = make_borrower(session, runtime, inst)
    session.commit()
    auth = bearer(password_login(client, inst, b.phone, b.password))
    me(client, auth)
    assert len(_statements(session.connection(), lambda: me(client, auth))) > 0
    session.expire_all()  # the sign-in moved the row's version
    session.get(User, b.user.id).display_name = "又改了"
    session.commit()
    assert me(client, auth).json()["display_name"] == "又改了"
