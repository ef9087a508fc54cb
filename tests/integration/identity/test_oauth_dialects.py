"""WeChat and Alipay sign-in end to end, each in its own dialect, against simulators on a local port.

One simulator server (uvicorn in a thread) serves three providers: WeChat (an app of an Open
Platform account: answers carry a `unionid`), WeChat without an Open Platform account (`openid`
only) and Alipay (RSA2-signed gateway calls and answers, with keys made here). The test plays the
browser as in `test_oauth`, which drives the same flow against a standard OAuth2 provider.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import httpx2
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import SecretStr, ValidationError
from sqlalchemy import select

from microcredit.config import InsecureConfiguration, Mode, OAuthProvider, Settings
from microcredit.identity.models import OAuthIdentity
from microcredit.integrations import alipay_signature
from microcredit.integrations.oauth_dialects import MAX_ANSWER_BYTES
from microcredit.integrations.oauth_simulator import alipay_open_id, wechat_openid, wechat_unionid
from tests.factories import CONSENTS, headers, institution_header, make_borrower, next_id_number, next_phone
from tests.integration.identity.support import API, bearer, code, me, password_login
from tests.integration.identity.test_oauth import Browser, partner, serve


def new_private_pem() -> str:
    """A fresh RSA 2048 private key (PKCS#8 PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


APP_KEY = new_private_pem()  # the app's key pair; its public half is "uploaded" to the simulator
ALIPAY_KEY = new_private_pem()  # the simulated Alipay's own key pair
OTHER_KEY = new_private_pem()


def wechat(base: str, name: str = "wechat") -> OAuthProvider:
    """A WeChat website app at the simulator's `base`."""
    return OAuthProvider(name=name, display_name="微信（测试）", protocol="wechat", client_id=f"wx-{name}",
                         client_secret=SecretStr("a-wechat-app-secret"),
                         authorize_url=f"{base}/{name}/authorize",
                         token_url=f"{base}/{name}/sns/oauth2/access_token",
                         userinfo_url=f"{base}/{name}/sns/userinfo")


def alipay(base: str) -> OAuthProvider:
    """An Alipay app at the simulator's `base`, with the keys above."""
    return OAuthProvider(name="alipay", display_name="支付宝（测试）", protocol="alipay", client_id="2021004100000001",
                         authorize_url=f"{base}/alipay/authorize", gateway_url=f"{base}/alipay/gateway.do",
                         app_private_key=SecretStr(APP_KEY),
                         provider_public_key=alipay_signature.public_key_of(ALIPAY_KEY))


@pytest.fixture(scope="module")
def providers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, OAuthProvider]]:
    """The three simulated providers on one local server, by name."""
    with serve(tmp_path_factory.mktemp("oauth-dialects"),
               lambda base: [wechat(base), wechat(base, "wechat-solo"), alipay(base)],
               signing_keys={"alipay": ALIPAY_KEY}, without_unionid={"wechat-solo"}) as served:
        yield {p.name: p for p in served}


@pytest.fixture
def app(app_with, providers) -> Callable[..., tuple[Any, Any]]:
    """Make the app under test, knowing the providers (some changed by `change`)."""

    def make(transport: Any = None, **change: OAuthProvider) -> tuple[Any, Any]:
        return app_with(oauth_providers=list({**providers, **change}.values()), oauth_simulators=False,
                        oauth_transport=transport)

    return make


@pytest.fixture
def oauth(app):
    """The app under test's client."""
    return app()[1]


def ticket_of(r) -> str:
    """The ticket of a callback's redirect to /oauth/complete."""
    assert r.status_code == 302, r.text
    target = urlparse(r.headers["location"])
    assert target.path == "/oauth/complete"
    return parse_qs(target.query)["ticket"][0]


def query_of(url: str) -> dict[str, str]:
    """The query of a URL, one value a name."""
    return {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}


# --- the whole flow, in each protocol ------------------------------------------------------

@pytest.mark.parametrize("name", ["wechat", "alipay"])
def test_a_borrower_links_by_phone_then_signs_in_directly(oauth, session, runtime, inst, name):
    b = make_borrower(session, runtime, inst)
    session.commit()
    browser = Browser(oauth, inst, name)
    ticket = browser.sign_in("zhang-san", next_path="/loans")
    assert ticket["next"] == ["/loans"]
    r = browser.exchange(ticket["ticket"][0])
    assert (r.json()["status"], r.json()["provider"], r.json()["subject_name"]) == \
        ("link_required", name, "zhang-san的昵称"), r.text
    r = browser.link(ticket["ticket"][0], b.phone)
    assert r.json()["status"] == "authenticated", r.text
    assert me(oauth, headers(r.json()["login"]["token"])).json()["linked_providers"] == [name]

    again = browser.sign_in("zhang-san")
    r = browser.exchange(again["ticket"][0])
    assert r.json()["status"] == "authenticated", r.text
    assert me(oauth, headers(r.json()["login"]["token"])).json()["user_id"] == b.user.id


@pytest.mark.parametrize("name", ["wechat", "alipay"])
def test_a_new_account_registers_with_its_ticket_then_signs_in_directly(oauth, inst, name):
    browser = Browser(oauth, inst, name)
    ticket = browser.sign_in("li-si")["ticket"][0]
    phone = next_phone()
    assert browser.link(ticket, phone).json()["status"] == "registration_required"
    r = oauth.post(f"{API}/auth/register", headers=institution_header(inst), json={
        "phone": phone, "real_name": "李四", "id_number": next_id_number(), "password": "a quite long passphrase",
        "oauth_ticket": ticket, "consents": CONSENTS})
    assert r.status_code == 202, r.text
    r = password_login(oauth, inst, phone, "a quite long passphrase")
    assert me(oauth, bearer(r)).json()["linked_providers"] == [name]
    assert browser.exchange(browser.sign_in("li-si")["ticket"][0]).json()["status"] == "authenticated"


# --- WeChat ------------------------------------------------------------------------------------

def test_the_wechat_authorize_url_is_wechats(oauth, providers, inst):
    location = Browser(oauth, inst, "wechat").authorize()
    url, _, fragment = location.partition("#")
    assert fragment == "wechat_redirect"
    assert url.startswith(providers["wechat"].authorize_url + "?")
    assert [k for k, _ in (pair.split("=", 1) for pair in urlparse(url).query.split("&"))] == \
        ["appid", "redirect_uri", "response_type", "scope", "state"]
    query = query_of(url)
    assert (query["appid"], query["response_type"], query["scope"]) == ("wx-wechat", "code", "snsapi_login")
    assert query["redirect_uri"] == "http://testserver/api/v1/auth/oauth/wechat/callback"
    assert query["state"].isalnum()
    assert len(query["state"]) == 64


def test_the_unionid_is_preferred_over_the_openid(oauth, session, runtime, inst):
    for name in ("wechat", "wechat-solo"):
        b = make_borrower(session, runtime, inst)
        session.commit()
        browser = Browser(oauth, inst, name)
        assert browser.link(browser.sign_in("wang-wu")["ticket"][0], b.phone).json()["status"] == "authenticated"
    subjects = dict(session.execute(select(OAuthIdentity.provider, OAuthIdentity.subject)
                                    .where(OAuthIdentity.institution_id == inst.id)).all())
    # An app of an Open Platform account knows the person by unionid; one without, by its own openid.
    assert subjects == {"wechat": wechat_unionid("wang-wu"), "wechat-solo": wechat_openid("wx-wechat-solo", "wang-wu")}


def test_a_reused_wechat_code_is_refused_by_wechat(oauth, inst):
    browser = Browser(oauth, inst, "wechat")
    back = browser.consent(browser.authorize(), "zhao-liu")
    assert browser.callback(back).status_code == 302
    # A second flow presenting the first flow's code: WeChat answers errcode 40163 (HTTP 200).
    state = query_of(browser.consent(browser.authorize(), "zhao-liu"))["state"]
    replay_query = urlencode({"code": query_of(back)["code"], "state": state})
    replay = browser.client.get(f"{API}/auth/oauth/wechat/callback?{replay_query}")
    assert (replay.status_code, code(replay)) == (400, "oauth_failed")
    assert "wechat_40163" in replay.json()["detail"]


def test_a_wrong_wechat_secret_is_refused_by_wechat(app, providers, inst):
    _, client = app(wechat=providers["wechat"].model_copy(update={"client_secret": SecretStr("not-the-secret")}))
    browser = Browser(client, inst, "wechat")
    r = browser.callback(browser.consent(browser.authorize(), "zhao-liu"))
    assert (r.status_code, code(r)) == (400, "oauth_failed")
    assert "wechat_40125" in r.json()["detail"]


def test_declining_at_wechat_comes_back_without_a_code(oauth, inst):
    browser = Browser(oauth, inst, "wechat")
    back = browser.consent(browser.authorize(), "zhao-liu", decision="deny")
    assert set(query_of(back)) == {"state"}
    r = browser.callback(back)
    assert (r.status_code, query_of(r.headers["location"])) == (302, {"error": "access_denied"})


# --- Alipay ------------------------------------------------------------------------------------

def test_alipay_comes_back_with_an_auth_code_and_its_app_id(oauth, session, runtime, providers, inst):
    browser = Browser(oauth, inst, "alipay")
    location = browser.authorize()
    assert location.startswith(providers["alipay"].authorize_url + "?")
    query = query_of(location)
    assert (set(query), query["app_id"], query["scope"]) == \
        ({"app_id", "scope", "redirect_uri", "state"}, "2021004100000001", "auth_user")
    back = query_of(browser.consent(location, "sun-qi"))
    assert set(back) == {"app_id", "source", "scope", "auth_code", "state"}
    b = make_borrower(session, runtime, inst)
    session.commit()
    r = browser.callback(f"http://testserver/api/v1/auth/oauth/alipay/callback?{urlencode(back)}")
    assert browser.link(ticket_of(r), b.phone).json()["status"] == "authenticated"
    subject = session.scalar(select(OAuthIdentity.subject).where(OAuthIdentity.provider == "alipay",
                                                                 OAuthIdentity.institution_id == inst.id))
    assert subject == alipay_open_id("2021004100000001", "sun-qi")


def test_an_alipay_return_for_another_app_is_refused(oauth, inst):
    browser = Browser(oauth, inst, "alipay")
    back = query_of(browser.consent(browser.authorize(), "sun-qi"))
    r = browser.client.get(f"{API}/auth/oauth/alipay/callback?{urlencode({**back, 'app_id': '2021999999999999'})}")
    assert (r.status_code, code(r)) == (400, "oauth_failed")


def test_a_request_signed_with_another_app_key_is_refused_by_alipay(app, providers, inst):
    _, client = app(alipay=providers["alipay"].model_copy(update={"app_private_key": SecretStr(OTHER_KEY)}))
    browser = Browser(client, inst, "alipay")
    r = browser.callback(browser.consent(browser.authorize(), "sun-qi"))
    assert (r.status_code, code(r)) == (400, "oauth_failed")
    assert "isv.invalid-signature" in r.json()["detail"]


def test_an_answer_signed_with_another_key_is_refused(app, providers, inst):
    other_public = alipay_signature.public_key_of(OTHER_KEY)
    _, client = app(alipay=providers["alipay"].model_copy(update={"provider_public_key": other_public}))
    browser = Browser(client, inst, "alipay")
    r = browser.callback(browser.consent(browser.authorize(), "sun-qi"))
    assert (r.status_code, code(r)) == (400, "oauth_failed")
    assert "signature is not the provider's" in r.json()["detail"]


class Meddler(httpx2.BaseTransport):
    """A transport that changes the provider's answers on the way (a man in the middle)."""

    def __init__(self, edit: Callable[[bytes], bytes]) -> None:
        self.inner = httpx2.HTTPTransport()
        self.edit = edit

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        response = self.inner.handle_request(request)
        body = response.read()
        response.close()
        return httpx2.Response(response.status_code, content=self.edit(body),
                               headers={"content-type": response.headers.get("content-type", "")})


def _swap_open_id(body: bytes) -> bytes:
    answer = json.loads(body)
    node = answer.get("alipay_system_oauth_token_response")
    if node is None:
        return body
    node["open_id"] = alipay_open_id("2021004100000001", "somebody-else")
    return json.dumps(answer, separators=(",", ":")).encode()


def _drop_sign(body: bytes) -> bytes:
    answer = json.loads(body)
    answer.pop("sign", None)
    return json.dumps(answer).encode()


@pytest.mark.parametrize(("edit", "reason"), [
    (_swap_open_id, "signature is not the provider's"),
    (_drop_sign, "not signed"),
    (lambda body: body.replace(b'"sign":"', b'"sign":"AAAA'), "signature is not the provider's"),
    (lambda body: b"{" + b" " * MAX_ANSWER_BYTES + body[1:], "too large"),
])
def test_a_tampered_alipay_answer_is_refused(app, inst, edit, reason):
    _, client = app(transport=Meddler(edit))
    browser = Browser(client, inst, "alipay")
    r = browser.callback(browser.consent(browser.authorize(), "sun-qi"))
    assert (r.status_code, code(r)) == (400, "oauth_failed")
    assert reason in r.json()["detail"]


# --- Alipay's signatures ---------------------------------------------------------------------------

def test_a_request_signs_its_sorted_non_empty_parameters():
    params = {"method": "alipay.system.oauth.token", "app_id": "2021", "code": "ab+c", "sign_type": "RSA2",
              "refresh_token": "", "timestamp": "2026-11-25 10:00:00"}
    assert alipay_signature.content_to_sign({**params, "sign": "x"}) == \
        "app_id=2021&code=ab+c&method=alipay.system.oauth.token&sign_type=RSA2&timestamp=2026-11-25 10:00:00"
    signed = alipay_signature.sign_params(params, APP_KEY)
    assert alipay_signature.verify_text(alipay_signature.content_to_sign(signed), signed["sign"],
                                        alipay_signature.public_key_of(APP_KEY))
    assert not alipay_signature.verify_text(alipay_signature.content_to_sign({**signed, "code": "abc"}),
                                            signed["sign"], alipay_signature.public_key_of(APP_KEY))


def test_an_answer_is_verified_over_its_text_as_received():
    public = alipay_signature.public_key_of(ALIPAY_KEY)
    # Alipay escapes "/" in its JSON: re-serialising the parsed object would change the signed text.
    node_text = '{"code":"10000","nick_name":"\u5f20\u4e09","avatar":"https:\\/\\/tfs.alipayobjects.com\\/a.png"}'
    answer = (f'{{ "alipay_user_info_share_response" : {node_text} ,'
              f' "sign":"{alipay_signature.sign_text(node_text, ALIPAY_KEY)}" }}')
    key, node = alipay_signature.read_signed_answer(answer, ("alipay_user_info_share_response",), public)
    assert (key, node["nick_name"], node["avatar"]) == \
        ("alipay_user_info_share_response", "张三", "https://tfs.alipayobjects.com/a.png")
    with pytest.raises(alipay_signature.BadAnswer, match="twice"):
        alipay_signature.read_signed_answer(answer[:-1] + ',"alipay_user_info_share_response":{}}',
                                            ("alipay_user_info_share_response",), public)
    with pytest.raises(alipay_signature.BadAnswer, match="no response object"):
        alipay_signature.read_signed_answer(answer, ("alipay_system_oauth_token_response",), public)
    for broken in ("[1]", "{", '{"a":1} x', "not json"):
        with pytest.raises(alipay_signature.BadAnswer):
            alipay_signature.read_signed_answer(broken, ("a",), public)


# --- settings ------------------------------------------------------------------------------------

def test_the_dialects_have_their_usual_scopes_and_required_fields():
    base = "https://sim.example/_sim/oauth"
    assert (wechat(base).scope, alipay(base).scope, partner(base).scope) == \
        ("snsapi_login", "auth_user", "openid profile")
    with pytest.raises(ValidationError, match="gateway_url"):
        OAuthProvider(name="alipay", display_name="支付宝", protocol="alipay", client_id="2021",
                      authorize_url=f"{base}/authorize")
    with pytest.raises(ValidationError, match="client_secret"):
        OAuthProvider(name="wechat", display_name="微信", protocol="wechat", client_id="wx1",
                      authorize_url="a", token_url="t", userinfo_url="u")
    with pytest.raises(ValidationError, match="not an RSA private key"):
        alipay(base).model_validate({**alipay(base).model_dump(), "app_private_key": "not a key"})


def test_keys_may_be_given_as_alipays_console_shows_them():
    public_pem = alipay_signature.public_key_of(ALIPAY_KEY)
    bare = "".join(line for line in public_pem.splitlines() if not line.startswith("-----"))
    private_bare = "".join(line for line in APP_KEY.splitlines() if not line.startswith("-----"))
    p = alipay("https://sim.example").model_validate({
        **alipay("https://sim.example").model_dump(), "app_private_key": private_bare, "provider_public_key": bare})
    assert p.provider_public_key == public_pem
    assert p.app_private_key is not None
    assert p.app_private_key.get_secret_value() == APP_KEY


def test_production_refuses_an_alipay_provider_without_keys(tmp_path):
    keyless = OAuthProvider(name="alipay", display_name="支付宝", protocol="alipay", client_id="2021004100000001",
                            authorize_url="https://openauth.alipay.com/oauth2/publicAppAuthorize.htm",
                            gateway_url="https://openapi.alipay.com/gateway.do")
    settings = Settings(mode=Mode.PRODUCTION, data_dir=tmp_path, oauth_providers=[keyless], oauth_simulators=False)
    with pytest.raises(InsecureConfiguration) as info:
        settings.check_production()
    assert "OAuth provider 'alipay' (Alipay) lacks app_private_key or provider_public_key" in info.value.problems


def test_the_built_in_simulators_speak_their_providers_dialects(tmp_path: Path):
    settings = Settings(mode=Mode.DEMO, data_dir=tmp_path)
    by_name = {p.name: p for p in settings.oauth_providers}
    assert (by_name["wechat"].protocol, by_name["alipay"].protocol) == ("wechat", "alipay")
    assert by_name["alipay"].has_keys
    # The same keys in every Settings of the process: the simulator and the app agree.
    assert Settings(mode=Mode.DEMO, data_dir=tmp_path).oauth_providers[1].provider_public_key == \
        by_name["alipay"].provider_public_key
