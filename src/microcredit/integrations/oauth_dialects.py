"""Third-party sign-in clients, one per protocol a provider speaks, all on Authlib's OAuth2 client.

Each dialect builds the provider's authorisation URL and, given the code the
browser brought back, returns who signed in (`ProviderUser`):

* **oauth2** — the standard authorisation-code flow with PKCE S256 (RFC 6749,
  RFC 7636): token by POST with HTTP Basic client credentials, user info by
  GET with a bearer token; the subject is `sub` (or `openid`, `user_id`, `id`).
* **wechat** — 网站应用微信登录: the QR-code page `…/connect/qrconnect?appid=…
  &redirect_uri=…&response_type=code&scope=snsapi_login&state=…#wechat_redirect`;
  the token by **GET** `…/sns/oauth2/access_token?appid=…&secret=…&code=…
  &grant_type=authorization_code` (an Authlib client-auth method puts appid and
  secret in the query); errors come as HTTP 200 with `{errcode, errmsg}` (a
  compliance hook turns them into OAuth2 errors); user info by GET
  `…/sns/userinfo?access_token=…&openid=…`. No PKCE. The subject is the
  `unionid` when the app belongs to an Open Platform account (the same person
  across the company's apps), else the app's `openid`.
* **alipay** — 用户信息授权: `…/oauth2/publicAppAuthorize.htm?app_id=…&scope=
  auth_user&redirect_uri=…&state=…`; the browser comes back with `auth_code`;
  `alipay.system.oauth.token` and then `alipay.user.info.share` are form POSTs
  to the open API gateway, signed RSA2 with the app's private key (an Authlib
  client-auth method signs the token request); every answer must carry
  Alipay's signature over its response object, checked with Alipay's public
  key (see `alipay_signature`). The subject is `user_id`, or `open_id` for
  apps in open-id mode.

Every answer is untrusted input (OWASP API10): at most `MAX_ANSWER_BYTES`, no
content coding, short timeouts, no redirects followed, shapes checked, ids
refused (never truncated) when malformed. Anything a provider says that we
cannot accept raises `ProviderRefused` with a reason fit to show the user.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import httpx2
from authlib.common.urls import add_params_to_uri, url_decode
from authlib.integrations.base_client import OAuthError
from authlib.integrations.httpx_client import OAuth2Client

from microcredit.clock import Clock
from microcredit.config import OAuthProvider
from microcredit.integrations import alipay_signature

MAX_ANSWER_BYTES = 64 * 1024
BODY_DEADLINE_SECONDS = 15.0
TIMEOUT = httpx2.Timeout(10.0, connect=5.0)
SUBJECT_FIELDS = ("sub", "openid", "user_id", "id")
ALIPAY_TIME_ZONE = ZoneInfo("Asia/Shanghai")
# Provider ids: WeChat openid/unionid (28 chars of base64url), Alipay user_id (2088 + digits) or
# open_id (base64-like), OIDC `sub` (≤ 255 ASCII, but 128 is what we store).
_IDENTIFIER = re.compile(r"[A-Za-z0-9._~+/=-]{1,128}")
_CODE = re.compile(r"[^A-Za-z0-9._-]")


class ProviderRefused(Exception):
    """The provider refused, or answered something we cannot accept; `reason` is safe to show."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ProviderUser:
    """Who signed in at the provider."""

    subject: str
    name: str | None


class Dialect(Protocol):
    """The provider-facing half of a sign-in."""

    def authorization_url(self, *, state: str, code_verifier: str) -> str:
        """Where to send the browser."""
        ...

    def fetch_user(self, *, code: str, code_verifier: str) -> ProviderUser:
        """Trade the code the browser brought back for the user's identity."""
        ...


def dialect_for(p: OAuthProvider, *, redirect_uri: str, clock: Clock,
                transport: httpx2.BaseTransport | None = None) -> Dialect:
    """The client for provider `p` in the protocol it speaks."""
    if p.protocol == "wechat":
        return WeChat(p, redirect_uri, transport)
    if p.protocol == "alipay":
        return Alipay(p, redirect_uri, clock, transport)
    return StandardOAuth2(p, redirect_uri, transport)


# --- transport: bounded answers ------------------------------------------------

class _BoundedStream(httpx2.SyncByteStream):
    """A response body that stops at `limit` bytes, or when it takes longer than `deadline` seconds.

    The client's timeouts bound each read; the deadline bounds the whole body, so a provider
    trickling bytes cannot hold a worker for long.
    """

    def __init__(self, inner: httpx2.SyncByteStream, limit: int, deadline: float = BODY_DEADLINE_SECONDS) -> None:
        self.inner = inner
        self.limit = limit
        self.deadline = deadline

    def __iter__(self) -> Iterator[bytes]:
        seen = 0
        started = time.monotonic()
        for chunk in self.inner:
            seen += len(chunk)
            if seen > self.limit:
                raise ProviderRefused("the provider's answer is too large")
            if time.monotonic() - started > self.deadline:
                raise ProviderRefused("the provider's answer is too slow")
            yield chunk

    def close(self) -> None:
        self.inner.close()


def _bound(response: httpx2.Response) -> None:
    """Event hook: refuse oversized or encoded answers before their body is read."""
    if response.headers.get("content-encoding", "identity").strip().lower() not in ("", "identity"):
        raise ProviderRefused("the provider's answer is encoded")
    length = response.headers.get("content-length")
    if length is not None and (not length.strip().isdigit() or int(length) > MAX_ANSWER_BYTES):
        raise ProviderRefused("the provider's answer is too large")
    assert isinstance(response.stream, httpx2.SyncByteStream)
    response.stream = _BoundedStream(response.stream, MAX_ANSWER_BYTES)


def _client(transport: httpx2.BaseTransport | None, **kwargs: Any) -> OAuth2Client:
    return OAuth2Client(timeout=TIMEOUT, follow_redirects=False, transport=transport,
                        headers={"Accept-Encoding": "identity"}, event_hooks={"response": [_bound]}, **kwargs)


# --- shapes ----------------------------------------------------------------------

def _json_object(response: httpx2.Response) -> dict[str, Any]:
    try:
        data = json.loads(response.content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ProviderRefused("the provider's answer is not JSON") from exc
    if not isinstance(data, dict):
        raise ProviderRefused("the provider's answer is not a JSON object")
    return data


def _identifier(value: object, what: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not _IDENTIFIER.fullmatch(value):
        raise ProviderRefused(f"the provider's {what} is missing or malformed")
    return value


def _display_name(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    cleaned = "".join(c for c in value if c.isprintable()).strip()
    return cleaned[:100] or None


def _code(value: object) -> str:
    """A provider's error code, reduced to characters safe to echo."""
    return _CODE.sub("", str(value))[:64] or "unknown"


def _refusal(exc: OAuthError) -> ProviderRefused:
    return ProviderRefused(f"the provider refused ({_code(exc.error)})")


def _replace_json(response: httpx2.Response, data: Mapping[str, Any]) -> httpx2.Response:
    return httpx2.Response(response.status_code, json=dict(data), request=response.request)


def _token_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    """The standard token fields of a successful answer, checked."""
    access = data.get("access_token")
    if not isinstance(access, str) or not 0 < len(access) <= 2048:
        raise ProviderRefused("the provider's access token is missing or malformed")
    token: dict[str, Any] = {"access_token": access, "token_type": "bearer"}
    expires = data.get("expires_in")
    if isinstance(expires, int | str) and not isinstance(expires, bool) and str(expires).isdigit():
        token["expires_in"] = min(int(expires), 10 * 365 * 86400)
    return token


# --- standard OAuth2 ---------------------------------------------------------------

class StandardOAuth2:
    """RFC 6749 authorisation code with PKCE, user info from a bearer-protected endpoint."""

    def __init__(self, p: OAuthProvider, redirect_uri: str, transport: httpx2.BaseTransport | None) -> None:
        self.p = p
        self.redirect_uri = redirect_uri
        self.transport = transport

    def _open(self) -> OAuth2Client:
        return _client(self.transport, client_id=self.p.client_id,
                       client_secret=self.p.client_secret.get_secret_value(), scope=self.p.scope,
                       redirect_uri=self.redirect_uri, code_challenge_method="S256")

    def authorization_url(self, *, state: str, code_verifier: str) -> str:
        """The provider's authorisation URL with state and the PKCE challenge."""
        with self._open() as client:
            url, _ = client.create_authorization_url(self.p.authorize_url, state=state, code_verifier=code_verifier)
        return str(url)

    def fetch_user(self, *, code: str, code_verifier: str) -> ProviderUser:
        """Token (with the verifier), then user info."""
        with self._open() as client:
            try:
                client.fetch_token(self.p.token_url, code=code, code_verifier=code_verifier,
                                   grant_type="authorization_code")
            except OAuthError as exc:
                raise _refusal(exc) from exc
            response = client.get(self.p.userinfo_url)
        if response.status_code != 200:
            raise ProviderRefused(f"the provider's user info answered HTTP {response.status_code}")
        info = _json_object(response)
        field = next((f for f in SUBJECT_FIELDS if info.get(f) not in (None, "")), None)
        if field is None:
            raise ProviderRefused("the provider returned no user id")
        return ProviderUser(_identifier(info[field], "user id"),
                            _display_name(info.get("nickname") or info.get("name")))


# --- WeChat ----------------------------------------------------------------------------

def _wechat_credentials(auth: Any, method: str, uri: str, headers: Any, body: Any) -> tuple[str, Any, Any]:
    """Client authentication, WeChat's way: `appid` and `secret` in the query of the GET."""
    return add_params_to_uri(uri, [("appid", auth.client_id), ("secret", auth.client_secret)]), headers, body


def _wechat_error(data: Mapping[str, Any]) -> str | None:
    errcode = data.get("errcode")
    if errcode in (None, 0, "0"):
        return None
    return _code(errcode)


def _wechat_token_answer(response: httpx2.Response) -> httpx2.Response:
    """Compliance hook: `{errcode, errmsg}` (HTTP 200) becomes an OAuth2 error; a token is checked."""
    data = _json_object(response)
    error = _wechat_error(data)
    if error is not None:
        return _replace_json(response, {"error": f"wechat_{error}"})
    token = _token_fields(data)
    token["openid"] = _identifier(data.get("openid"), "openid")
    if data.get("unionid") not in (None, ""):
        token["unionid"] = _identifier(data.get("unionid"), "unionid")
    return _replace_json(response, token)


class WeChat:
    """网站应用微信登录 (WeChat website sign-in)."""

    AUTH_METHOD = "wechat_appid_secret"

    def __init__(self, p: OAuthProvider, redirect_uri: str, transport: httpx2.BaseTransport | None) -> None:
        self.p = p
        self.redirect_uri = redirect_uri
        self.transport = transport

    def _open(self) -> OAuth2Client:
        client = _client(self.transport, client_id=self.p.client_id,
                         client_secret=self.p.client_secret.get_secret_value(),
                         token_endpoint_auth_method=self.AUTH_METHOD, token_placement="uri")
        client.register_client_auth_method((self.AUTH_METHOD, _wechat_credentials))
        client.register_compliance_hook("access_token_response", _wechat_token_answer)
        return client

    def authorization_url(self, *, state: str, code_verifier: str) -> str:
        """The QR-code sign-in page, parameters in the order WeChat documents, and its fragment."""
        query = urlencode([("appid", self.p.client_id), ("redirect_uri", self.redirect_uri),
                           ("response_type", "code"), ("scope", self.p.scope), ("state", state)])
        sep = "&" if "?" in self.p.authorize_url else "?"
        return f"{self.p.authorize_url}{sep}{query}#wechat_redirect"

    def fetch_user(self, *, code: str, code_verifier: str) -> ProviderUser:
        """Token by GET, then `sns/userinfo` for that openid."""
        with self._open() as client:
            try:
                token = client.fetch_token(self.p.token_url, method="GET", grant_type="authorization_code",
                                           code=code)
            except OAuthError as exc:
                raise _refusal(exc) from exc
            openid = str(token["openid"])
            response = client.get(self.p.userinfo_url, params={"openid": openid, "lang": "zh_CN"})
        if response.status_code != 200:
            raise ProviderRefused(f"the provider's user info answered HTTP {response.status_code}")
        info = _json_object(response)
        error = _wechat_error(info)
        if error is not None:
            raise ProviderRefused(f"the provider refused (wechat_{error})")
        if _identifier(info.get("openid"), "openid") != openid:
            raise ProviderRefused("the provider's user info is for another account")
        unionid = info.get("unionid") or token.get("unionid")
        subject = _identifier(unionid, "unionid") if unionid else openid
        return ProviderUser(subject, _display_name(info.get("nickname")))


# --- Alipay ------------------------------------------------------------------------------

class Alipay:
    """Alipay user authorisation: signed gateway calls, signed answers."""

    AUTH_METHOD = "alipay_rsa2"
    TOKEN_METHOD = "alipay.system.oauth.token"
    USER_METHOD = "alipay.user.info.share"

    def __init__(self, p: OAuthProvider, redirect_uri: str, clock: Clock,
                 transport: httpx2.BaseTransport | None) -> None:
        self.p = p
        self.redirect_uri = redirect_uri
        self.clock = clock
        self.transport = transport

    def authorization_url(self, *, state: str, code_verifier: str) -> str:
        """The authorisation page (`publicAppAuthorize.htm`)."""
        query = urlencode([("app_id", self.p.client_id), ("scope", self.p.scope),
                           ("redirect_uri", self.redirect_uri), ("state", state)])
        sep = "&" if "?" in self.p.authorize_url else "?"
        return f"{self.p.authorize_url}{sep}{query}"

    def _signed(self, method: str, params: Mapping[str, str]) -> dict[str, str]:
        assert self.p.app_private_key is not None
        common = {"app_id": self.p.client_id, "method": method, "format": "JSON", "charset": "utf-8",
                  "sign_type": "RSA2", "version": "1.0",
                  "timestamp": self.clock.now().astimezone(ALIPAY_TIME_ZONE).strftime("%Y-%m-%d %H:%M:%S")}
        return alipay_signature.sign_params({**common, **params}, self.p.app_private_key.get_secret_value())

    def _sign_token_request(self, auth: Any, method: str, uri: str, headers: Any, body: Any
                            ) -> tuple[str, Any, bytes]:
        """Client authentication, Alipay's way: the common parameters and an RSA2 signature."""
        text = body.decode() if isinstance(body, bytes) else str(body or "")
        given = dict(url_decode(text))
        params = {k: given[k] for k in ("grant_type", "code", "refresh_token") if given.get(k)}
        return uri, headers, urlencode(self._signed(self.TOKEN_METHOD, params)).encode()

    def _answer(self, response: httpx2.Response, method: str) -> dict[str, Any]:
        """The verified response object of a gateway answer."""
        if response.status_code != 200:
            raise ProviderRefused(f"the provider answered HTTP {response.status_code}")
        assert self.p.provider_public_key is not None
        try:
            _, node = alipay_signature.read_signed_answer(
                response.content.decode("utf-8"), (method.replace(".", "_") + "_response", "error_response"),
                self.p.provider_public_key)
        except UnicodeDecodeError as exc:
            raise ProviderRefused("the provider's answer is not UTF-8") from exc
        except alipay_signature.BadAnswer as exc:
            raise ProviderRefused(str(exc)) from exc
        return node

    @staticmethod
    def _subject(node: Mapping[str, Any]) -> str | None:
        for field in ("user_id", "open_id"):
            if node.get(field) not in (None, ""):
                return _identifier(node[field], field)
        return None

    def _token_answer(self, response: httpx2.Response) -> httpx2.Response:
        """Compliance hook: verify the signature, then unwrap `alipay_system_oauth_token_response`."""
        node = self._answer(response, self.TOKEN_METHOD)
        if node.get("code") not in (None, "10000"):
            return _replace_json(response, {"error": _code(node.get("sub_code") or node.get("code"))})
        token = _token_fields(node)
        subject = self._subject(node)
        if subject is None:
            raise ProviderRefused("the provider returned no user id")
        token["subject"] = subject
        return _replace_json(response, token)

    def _open(self) -> OAuth2Client:
        client = _client(self.transport, client_id=self.p.client_id, token_endpoint_auth_method=self.AUTH_METHOD)
        client.register_client_auth_method((self.AUTH_METHOD, self._sign_token_request))
        client.register_compliance_hook("access_token_response", self._token_answer)
        return client

    def fetch_user(self, *, code: str, code_verifier: str) -> ProviderUser:
        """`alipay.system.oauth.token` for the auth code, then `alipay.user.info.share`."""
        if not self.p.has_keys:
            raise ProviderRefused("the provider's keys are not configured")
        with self._open() as client:
            try:
                token = client.fetch_token(self.p.gateway_url, grant_type="authorization_code", code=code)
            except OAuthError as exc:
                raise _refusal(exc) from exc
            response = client.request("POST", self.p.gateway_url, withhold_token=True, data=self._signed(
                self.USER_METHOD, {"auth_token": str(token["access_token"])}))
        node = self._answer(response, self.USER_METHOD)
        if node.get("code") != "10000":
            raise ProviderRefused(f"the provider refused ({_code(node.get('sub_code') or node.get('code'))})")
        subject = str(token["subject"])
        if self._subject(node) not in (None, subject):
            raise ProviderRefused("the provider's user info is for another account")
        return ProviderUser(subject, _display_name(node.get("nick_name")))
