"""`GET /auth/me` reads the account, its phone and its linked providers in one statement.

The answer must be what the user row and its linked identities say: the
providers sorted and each once (the read joins them to the user, one row a
provider), none for a user without any, the phone decrypted and masked.
"""

from __future__ import annotations

from sqlalchemy import event

from microcredit.identity import api as identity_api
from microcredit.identity import service as identity
from microcredit.identity.models import OAuthIdentity
from microcredit.identity.service import accounts
from microcredit.platform.actor import RequestMeta
from microcredit.platform.crypto import mask_phone
from tests.factories import make_borrower
from tests.integration.identity.support import bearer, me, password_login


def _account_reads(conn, run) -> list[str]:
    sent: list[str] = []

    def note(_conn, _cursor, statement, *_args):
        sent.append(statement)

    event.listen(conn, "before_cursor_execute", note)
    try:
        run()
    finally:
        event.remove(conn, "before_cursor_execute", note)
    return [s for s in sent if "FROM users" in s or "FROM oauth_identities" in s]


def test_me_names_each_linked_provider_once_sorted(client, session, runtime, inst):
    b = make_borrower(session, runtime, inst)
    other = make_borrower(session, runtime, inst)
    now = runtime.clock.now()
    for provider, subject, user_id in (("wechat", "w-1", b.user.id), ("alipay", "a-1", b.user.id),
                                       ("partner", "p-9", other.user.id)):
        session.add(OAuthIdentity(institution_id=inst.id, user_id=user_id, provider=provider, subject=subject,
                                  linked_at=now))
    session.commit()
    auth = bearer(password_login(client, inst, b.phone, b.password))

    body = me(client, auth).json()
    assert body["linked_providers"] == ["alipay", "wechat"]
    assert (body["user_id"], body["kind"], body["has_password"], body["totp_enabled"]) == (
        b.user.id, "borrower", True, False)
    assert body["phone_masked"] == mask_phone(b.phone)

    assert me(client, bearer(password_login(client, inst, other.phone, other.password))).json()[
        "linked_providers"] == ["partner"]


def test_me_without_linked_providers_reads_account_and_providers_in_one_statement(client, session, runtime, inst):
    b = make_borrower(session, runtime, inst, password=None)
    session.commit()
    # Without a password there is no sign-in here: the service read, straight.
    account, phone, providers = accounts.account_phone_providers(session=session, kit=runtime.identity,
                                                                 user_id=b.user.id)
    assert (account.id, account.has_password, phone, providers) == (b.user.id, False, b.phone, [])

    signed = make_borrower(session, runtime, inst)
    session.commit()
    auth = bearer(password_login(client, inst, signed.phone, signed.password))
    me(client, auth)  # the principal cached
    # The page built afresh (a repeated read is answered from the page kept with the token: test_me_view.py).
    principal = identity.sessions.cached(kit=runtime.identity, token=auth["Authorization"].removeprefix("Bearer "),
                                         meta=RequestMeta())
    assert principal is not None
    reads = _account_reads(session.connection(),
                           lambda: identity_api._me_json(session, runtime.identity, None, principal))
    assert len(reads) == 1, reads
    assert me(client, auth).json()["linked_providers"] == []
