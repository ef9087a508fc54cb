"""Third-party sign-in end to end against a standard OAuth2 provider running on a local port.

The provider is the built-in simulator served by a real HTTP server (uvicorn in a thread), so
our Authlib client speaks the authorisation-code flow with PKCE over the network. The test plays
the browser: it follows the redirects, reads the consent page and posts its form. The helpers
here (`serve`, `Browser`) also serve the WeChat and Alipay dialects' tests.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import update

from microcredit.config import OAuthProvider
from microcredit.identity.models import OAuthFlow
from microcredit.integrations.oauth_simulator import build_router
from tests.conftest import make_settings
from tests.factories import (
    CONSENTS,
    headers,
    institution_header,
    last_sms_code,
    make_borrower,
    next_id_number,
    next_phone,
)
from tests.integration.identity.support import API, bearer, code, me, password_login, request_code


class Form(HTMLParser):
    """The fields of the consent page's form."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self.decisions: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "input" and a.get("name"):
            self.fields[str(a["name"])] = a.get("value") or ""
        if tag == "button" and a.get("name") == "decision":
            self.decisions.append(str(a.get("value")))


@contextmanager
def serve(tmp: Path, providers_at: Callable[[str], list[OAuthProvider]],
          **router_options: Any) -> Iterator[list[OAuthProvider]]:
    """Simulated providers on a free port of 127.0.0.1, served by uvicorn in a thread.

    `providers_at` makes the providers' settings from the simulator's base URL; they are
    yielded as the app under test should know them (not marked as simulators).
    """
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    providers = providers_at(f"http://127.0.0.1:{sock.getsockname()[1]}/_sim/oauth")
    settings = make_settings(tmp, oauth_providers=[p.model_copy(update={"simulator": True}) for p in providers],
                             oauth_simulators=False)
    app = FastAPI()
    app.include_router(build_router(settings, **router_options))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    for _ in range(500):
        if server.started:
            break
        time.sleep(0.01)
    assert server.started, "the provider did not start"
    try:
        yield providers
    finally:
        server.should_exit = True
        thread.join(timeout=5)
        sock.close()


def partner(base: str) -> OAuthProvider:
    """A standard OAuth2 provider (neither WeChat nor Alipay) at the simulator's `base`."""
    return OAuthProvider(name="partner", display_name="合作方（测试）", client_id="mc-test-client",
                         client_secret=SecretStr("a-test-client-secret"), authorize_url=f"{base}/partner/authorize",
                         token_url=f"{base}/partner/token", userinfo_url=f"{base}/partner/userinfo")


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OAuthProvider]:
    """The standard OAuth2 provider on a free local port, for the whole module."""
    with serve(tmp_path_factory.mktemp("oauth"), lambda base: [partner(base)]) as providers:
        yield providers[0]


@pytest.fixture
def oauth(app_with, provider):
    """The app under test, configured with the provider above (and no built-in ones)."""
    _, client = app_with(oauth_providers=[provider], oauth_simulators=False)
    return client


class Browser:
    """Follows the flow the way a browser would."""

    def __init__(self, client, inst, provider: str = "partner") -> None:
        self.client = client
        self.inst = inst
        self.provider = provider

    def authorize(self, next_path: str | None = None) -> str:
        """Start at our authorize endpoint; the provider's URL it redirects to."""
        params = {"next": next_path} if next_path is not None else {}
        r = self.client.get(f"{API}/auth/oauth/{self.provider}/authorize", params=params,
                            headers=institution_header(self.inst), follow_redirects=False)
        assert r.status_code == 302, r.text
        return r.headers["location"]

    def consent(self, provider_url: str, account: str, decision: str = "approve",
                tamper: dict[str, str] | None = None) -> str:
        """Open the provider's consent page and post its form; the URL it sends the browser back to."""
        page = httpx.get(provider_url)
        assert page.status_code == 200, page.text
        assert "模拟器" in page.text
        form = Form()
        form.feed(page.text)
        assert set(form.decisions) == {"approve", "deny"}
        fields = {**form.fields, "account": account, "nickname": f"{account}的昵称", "decision": decision,
                  **(tamper or {})}
        r = httpx.post(provider_url, data=fields)
        assert r.status_code == 303, r.text
        return r.headers["location"]

    def callback(self, url: str) -> httpx.Response:
        """Arrive back at our callback."""
        parsed = urlparse(url)
        assert f"{parsed.scheme}://{parsed.netloc}" == "http://testserver"
        return self.client.get(f"{parsed.path}?{parsed.query}", follow_redirects=False)

    def sign_in(self, account: str, next_path: str | None = None) -> dict[str, list[str]]:
        """The whole provider round trip; the query of /oauth/complete."""
        r = self.callback(self.consent(self.authorize(next_path), account))
        assert r.status_code == 302, r.text
        target = urlparse(r.headers["location"])
        assert target.path == "/oauth/complete"
        assert not target.netloc
        return parse_qs(target.query)

    def exchange(self, ticket: str) -> httpx.Response:
        return self.client.post(f"{API}/auth/oauth/exchange", json={"ticket": ticket})

    def link(self, ticket: str, phone: str) -> httpx.Response:
        assert request_code(self.client, self.inst, phone, "link").status_code == 202
        return self.client.post(f"{API}/auth/oauth/link", json={
            "ticket": ticket, "phone": phone, "code": last_sms_code(self.client, phone)})


def test_the_authorize_redirect_carries_state_and_pkce(oauth, provider, inst):
    location = Browser(oauth, inst).authorize()
    url = urlparse(location)
    assert f"{url.scheme}://{url.netloc}{url.path}" == provider.authorize_url
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert query["client_id"] == "mc-test-client"
    assert query["response_type"] == "code"
    assert query["redirect_uri"] == "http://testserver/api/v1/auth/oauth/partner/callback"
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43
    assert len(query["state"]) >= 43


def test_an_existing_borrower_links_by_phone_then_signs_in_directly(oauth, session, runtime, inst):
    b = make_borrower(session, runtime, inst)
    session.commit()
    browser = Browser(oauth, inst)
    ticket = browser.sign_in("wang-wu", next_path="/loans")
    assert ticket["next"] == ["/loans"]
    r = browser.exchange(ticket["ticket"][0])
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["provider"], r.json()["subject_name"], r.json()["login"]) == \
        ("link_required", "partner", "wang-wu的昵称", None)
    r = browser.link(ticket["ticket"][0], b.phone)
    assert r.json()["status"] == "authenticated", r.text
    profile = me(oauth, headers(r.json()["login"]["token"])).json()
    assert (profile["user_id"], profile["linked_providers"]) == (b.user.id, ["partner"])

    # The second time, the provider's account is known: the exchange signs in at once.
    again = browser.sign_in("wang-wu")
    r = browser.exchange(again["ticket"][0])
    assert r.json()["status"] == "authenticated", r.text
    assert me(oauth, headers(r.json()["login"]["token"])).json()["user_id"] == b.user.id
    # A ticket is good once.
    replay = browser.exchange(again["ticket"][0])
    assert (replay.status_code, code(replay), replay.json()["field"]) == (400, "oauth_failed", "ticket")


def test_a_new_phone_registers_with_the_ticket_and_no_second_code(oauth, inst):
    browser = Browser(oauth, inst)
    ticket = browser.sign_in("li-si")["ticket"][0]
    assert browser.exchange(ticket).json()["status"] == "link_required"
    phone = next_phone()
    r = browser.link(ticket, phone)
    assert r.json()["status"] == "registration_required", r.text
    r = oauth.post(f"{API}/auth/register", headers=institution_header(inst), json={
        "phone": phone, "real_name": "李四", "id_number": next_id_number(), "password": "a quite long passphrase",
        "oauth_ticket": ticket, "consents": CONSENTS})
    assert r.status_code == 202, r.text
    r = password_login(oauth, inst, phone, "a quite long passphrase")
    assert me(oauth, bearer(r)).json()["linked_providers"] == ["partner"]
    assert browser.exchange(browser.sign_in("li-si")["ticket"][0]).json()["status"] == "authenticated"


def test_a_ticket_does_not_register_a_phone_it_did_not_prove(oauth, inst):
    browser = Browser(oauth, inst)
    ticket = browser.sign_in("zhao-liu")["ticket"][0]
    assert browser.link(ticket, next_phone()).json()["status"] == "registration_required"
    r = oauth.post(f"{API}/auth/register", headers=institution_header(inst), json={
        "phone": next_phone(), "real_name": "赵六", "id_number": next_id_number(),
        "password": "a quite long passphrase", "oauth_ticket": ticket, "consents": CONSENTS})
    assert (r.status_code, code(r)) == (422, "invalid_sms_code")


def test_a_wrong_state_is_refused(oauth, inst):
    browser = Browser(oauth, inst)
    back = urlparse(browser.consent(browser.authorize(), "wang-wu"))
    query = {k: v[0] for k, v in parse_qs(back.query).items()}
    forged = browser.client.get(f"{back.path}?{urlencode({**query, 'state': 'forged-state-value'})}",
                                follow_redirects=False)
    assert (forged.status_code, code(forged)) == (400, "oauth_failed")
    # The genuine return still works once, and only once.
    assert browser.callback(back.geturl()).status_code == 302
    assert code(browser.callback(back.geturl())) == "oauth_failed"


def test_the_pkce_verifier_is_checked_by_the_provider(oauth, session, inst):
    browser = Browser(oauth, inst)
    back = browser.consent(browser.authorize(), "wang-wu")
    # Someone who stole the code but not the verifier: our stored verifier no longer matches.
    session.execute(update(OAuthFlow).values(code_verifier="x" * 64))
    session.commit()
    r = browser.callback(back)
    assert (r.status_code, code(r)) == (400, "oauth_failed")


def test_a_challenge_altered_on_the_way_fails_the_token_exchange(oauth, inst):
    browser = Browser(oauth, inst)
    back = browser.consent(browser.authorize(), "wang-wu", tamper={"code_challenge": "A" * 43})
    r = browser.callback(back)
    assert (r.status_code, code(r)) == (400, "oauth_failed")


def test_denied_consent_comes_back_as_an_error(oauth, inst):
    browser = Browser(oauth, inst)
    back = browser.consent(browser.authorize(), "wang-wu", decision="deny")
    r = browser.callback(back)
    assert r.status_code == 302
    target = urlparse(r.headers["location"])
    assert (target.path, parse_qs(target.query)) == ("/oauth/complete", {"error": ["access_denied"]})


@pytest.mark.parametrize("next_path", ["//evil.com", "https://evil.com", "/\\evil.com", "evil.com", ""])
def test_the_next_path_cannot_leave_the_site(oauth, inst, next_path):
    assert Browser(oauth, inst).sign_in("wang-wu", next_path=next_path)["next"] == ["/"]


@pytest.mark.parametrize("next_path", ["/\t/evil.com", "/\n/evil.com"])
def test_a_next_path_with_control_characters_is_refused(oauth, inst, next_path):
    r = oauth.get(f"{API}/auth/oauth/partner/authorize", params={"next": next_path},
                  headers=institution_header(inst), follow_redirects=False)
    assert (r.status_code, r.json()["errors"][0]["field"], r.json()["errors"][0]["code"]) == (
        422, "next", "control_character")


def test_a_same_site_next_path_is_kept(oauth, inst):
    assert Browser(oauth, inst).sign_in("wang-wu", next_path="/loans/12?tab=schedule")["next"] == \
        ["/loans/12?tab=schedule"]


def test_an_unknown_provider_is_refused(oauth, inst):
    r = oauth.get(f"{API}/auth/oauth/facebook/authorize", headers=institution_header(inst), follow_redirects=False)
    assert (r.status_code, code(r)) == (404, "unknown_oauth_provider")
