"""Provider SIMULATORS for third-party sign-in (demo and tests only), each in its provider's dialect.

Real WeChat/Alipay sign-in needs a registered app and their servers, which
cannot exist here. Each simulated provider speaks the protocol its settings
name (`OAuthProvider.protocol`), over real HTTP, so that our clients
(`oauth_dialects`, on Authlib) run the real exchanges end to end. Every
dialect has the same visible consent page, where the visitor chooses which
simulated account to sign in with, then approves or denies:

* `GET/POST /_sim/oauth/{provider}/authorize` — the consent page and its form.

**oauth2** (RFC 6749 + PKCE, RFC 7636): the form redirects with `code` and
`state`; `POST …/token` checks the client (Basic or form), the code, the
redirect URI and the PKCE verifier; `GET …/userinfo` takes the bearer token.

**wechat** (网站应用微信登录): the page takes `appid`, `redirect_uri`,
`response_type=code`, `scope=snsapi_login` and a `state` of at most 128
letters and digits; approval redirects with `code` and `state`, refusal with
`state` only (as WeChat does). `GET …/sns/oauth2/access_token?appid&secret
&code&grant_type` answers a token with `openid` (per app) and `unionid` (per
person, unless the simulator is told the app has no Open Platform account), or
HTTP 200 with `{errcode, errmsg}`: 40013 bad appid, 40125 bad secret, 40029
unknown code, 40163 code already used, 42003 code expired.
`GET …/sns/userinfo?access_token&openid` answers the profile or an errcode.

**alipay** (用户信息授权): the page takes `app_id`, `scope`, `redirect_uri` and
a `state` of at most 100 base64 characters; approval redirects with
`auth_code`, `app_id`, `scope`, `source` and `state` (refusal, for the demo,
with `error=access_denied`). `POST …/gateway.do` checks the common parameters
and the request's RSA2 signature against the app's public key (the one the
app "uploaded": derived from the settings' `app_private_key`), then serves
`alipay.system.oauth.token` and `alipay.user.info.share`; every answer is
signed with the simulator's own private key (`signing_keys`, or the built-in
simulator's process-wide key whose public half the default settings carry).

State lives in the process's memory: the simulator is one process's stand-in.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
import threading
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Header, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from microcredit.config import OAuthProvider, Settings, simulator_keys
from microcredit.integrations import alipay_signature as signature
from microcredit.platform.routing import UnitOfWorkRoute

CODE_TTL = 60
TOKEN_TTL = 7200
ALIPAY_TOKEN = "alipay.system.oauth.token"
ALIPAY_USER = "alipay.user.info.share"
_STATE = {"wechat": re.compile(r"[A-Za-z0-9]{0,128}"), "alipay": re.compile(r"[A-Za-z0-9+/=]{0,100}")}
_CLIENT_FIELD = {"oauth2": "client_id", "wechat": "appid", "alipay": "app_id"}


@dataclass
class _Grant:
    provider: str
    redirect_uri: str
    challenge: str | None
    method: str
    account: str
    nickname: str
    expires: float
    used: bool = False


class SimulatorState:
    """Codes and tokens issued by the simulator."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.codes: dict[str, _Grant] = {}
        self.tokens: dict[str, tuple[_Grant, float]] = {}

    def issue_code(self, grant: _Grant) -> str:
        """A new one-time code for `grant` (expired codes and tokens are forgotten)."""
        code = secrets.token_urlsafe(24)
        now = time.monotonic()
        with self.lock:
            self.codes = {c: g for c, g in self.codes.items() if g.expires > now}
            self.tokens = {t: e for t, e in self.tokens.items() if e[1] > now}
            self.codes[code] = grant
        return code

    def issue_token(self, grant: _Grant) -> str:
        """A new access token for `grant`."""
        token = secrets.token_urlsafe(32)
        with self.lock:
            self.tokens[token] = (grant, time.monotonic() + TOKEN_TTL)
        return token

    def token(self, provider: str, value: str) -> _Grant | None:
        """The live grant of an access token of `provider`."""
        with self.lock:
            entry = self.tokens.get(value)
        if entry is None or entry[1] < time.monotonic() or entry[0].provider != provider:
            return None
        return entry[0]


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode()).digest()


def _subject(provider: str, account: str) -> str:
    digest = hashlib.sha256(f"{provider}:{account}".encode()).hexdigest()[:24]
    return ("o" if provider == "wechat" else "2088") + digest


def wechat_openid(appid: str, account: str) -> str:
    """The simulated account's openid for one app (28 characters, like WeChat's)."""
    return "o" + base64.urlsafe_b64encode(_digest(f"openid:{appid}:{account}")).decode()[:27]


def wechat_unionid(account: str) -> str:
    """The simulated account's unionid: the same for every app of one Open Platform account."""
    return "u" + base64.urlsafe_b64encode(_digest(f"unionid:{account}")).decode()[:27]


def alipay_open_id(app_id: str, account: str) -> str:
    """The simulated account's open_id for one app."""
    return "0" + base64.b32encode(_digest(f"open_id:{app_id}:{account}")).decode().rstrip("=").lower()[:45]


def _consent_page(p: OAuthProvider, fields: Mapping[str, str]) -> HTMLResponse:
    hidden = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                     for k, v in fields.items())
    brand = {"wechat": "#07c160", "alipay": "#1677ff"}.get(p.protocol, "#3a5ccc")
    title = html.escape(p.display_name)
    page = f"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>
<style>body{{font-family:system-ui,'Noto Sans CJK SC','WenQuanYi Zen Hei',sans-serif;max-width:420px;margin:40px auto;
padding:0 16px;color:#1f2329}}h1{{font-size:20px}}.note{{background:#fff7e6;border:1px solid #ffd591;padding:8px;
border-radius:6px;font-size:13px}}label{{display:block;margin:16px 0 6px}}input[type=text]{{width:100%;padding:10px;
font-size:16px;box-sizing:border-box}}button{{width:100%;padding:12px;margin-top:12px;font-size:16px;border:0;
border-radius:6px;color:#fff;background:{brand};cursor:pointer}}button.deny{{background:#5c6370}}
button:focus{{outline:3px solid #000}}</style></head><body>
<h1>{title}</h1><p class="note">这是第三方登录的<strong>模拟器</strong>，仅用于演示和测试 /
This is a <strong>simulator</strong> of the provider, for demos and tests.</p>
<form method="post"><label for="account">模拟账号 / Simulated account</label>
<input type="text" id="account" name="account" value="demo-user" required maxlength="64">
<label for="nickname">昵称 / Nickname</label>
<input type="text" id="nickname" name="nickname" value="演示用户" maxlength="40">{hidden}
<button type="submit" name="decision" value="approve">同意授权 / Authorize</button>
<button type="submit" name="decision" value="deny" class="deny">拒绝 / Deny</button></form></body></html>"""
    return HTMLResponse(page)


def _request_problem(p: OAuthProvider, q: Mapping[str, str]) -> str | None:
    """What is wrong with an authorisation request in `p`'s dialect, if anything."""
    if q.get(_CLIENT_FIELD[p.protocol]) != p.client_id:
        return "unknown client"
    if not q.get("redirect_uri"):
        return "redirect_uri missing"
    if p.protocol != "alipay" and q.get("response_type") != "code":
        return "response_type must be code"
    if p.protocol in _STATE and not _STATE[p.protocol].fullmatch(q.get("state", "")):
        return "state has characters or a length the provider refuses"
    if p.protocol == "wechat" and "snsapi_login" not in q.get("scope", "").split(","):
        return "scope must be snsapi_login"
    if p.protocol == "alipay" and not {"auth_user", "auth_base"} & set(q.get("scope", "").split(",")):
        return "scope must be auth_user or auth_base"
    return None


def _wechat_error(errcode: int, errmsg: str) -> JSONResponse:
    """WeChat's error answer: HTTP 200 with errcode and errmsg."""
    return JSONResponse({"errcode": errcode, "errmsg": f"{errmsg}, rid: {secrets.token_hex(4)}"})


def build_router(settings: Settings, *, signing_keys: Mapping[str, str] | None = None,
                 without_unionid: Collection[str] = ()) -> APIRouter:
    """The simulator's routes for the simulated providers in `settings`.

    `signing_keys` maps an Alipay provider's name to the simulator's private key
    (PEM) whose public half that provider's `provider_public_key` is; without
    one, the built-in simulator's key is used when it matches. `without_unionid`
    names the simulated WeChat apps that belong to no Open Platform account (no
    `unionid` in their answers).
    """
    providers: dict[str, OAuthProvider] = {p.name: p for p in settings.oauth_providers if p.simulator}
    keys = dict(signing_keys or {})
    app_public: dict[str, str | None] = {}
    for p in providers.values():
        if p.protocol != "alipay":
            continue
        if p.name not in keys:
            if p.provider_public_key != simulator_keys().provider_public:
                raise ValueError(f"the Alipay simulator {p.name!r} has no signing key for its provider_public_key")
            keys[p.name] = simulator_keys().provider_private
        app_public[p.name] = (signature.public_key_of(p.app_private_key.get_secret_value())
                              if p.app_private_key else None)
    state = SimulatorState()
    router = APIRouter(prefix="/_sim/oauth", include_in_schema=False, route_class=UnitOfWorkRoute)

    def provider_of(name: str, protocol: str | None = None) -> OAuthProvider:
        p = providers.get(name)
        if p is None or (protocol is not None and p.protocol != protocol):
            raise HTTPException(404)
        return p

    @router.get("/{provider}/authorize", response_class=HTMLResponse)
    def authorize_page(provider: str, request: Request) -> HTMLResponse:
        p = provider_of(provider)
        fields = dict(request.query_params)
        problem = _request_problem(p, fields)
        if problem:
            return HTMLResponse(f"<h1>invalid_request</h1><p>{html.escape(problem)}</p>", status_code=400)
        return _consent_page(p, fields)

    @router.post("/{provider}/authorize")
    async def authorize_submit(provider: str, request: Request) -> RedirectResponse:
        p = provider_of(provider)
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        account, nickname = form.get("account", "").strip(), form.get("nickname", "").strip()
        if _request_problem(p, form) or len(account) > 64 or len(nickname) > 40:
            raise HTTPException(400, "invalid request")
        redirect_uri, state_ = form["redirect_uri"], form.get("state", "")
        sep = "&" if "?" in redirect_uri else "?"
        if form.get("decision") != "approve":
            # WeChat comes back with the state alone; the others say why.
            back = {"state": state_} if p.protocol == "wechat" else {"error": "access_denied", "state": state_}
            return RedirectResponse(f"{redirect_uri}{sep}{urlencode(back)}", status_code=303)
        code = state.issue_code(_Grant(provider, redirect_uri, form.get("code_challenge"),
                                       form.get("code_challenge_method", "plain"), account or "demo-user",
                                       nickname or account or "demo-user", time.monotonic() + CODE_TTL))
        if p.protocol == "alipay":
            back = {"app_id": p.client_id, "source": "alipay_wallet", "scope": form.get("scope", ""),
                    "auth_code": code, "state": state_}
        else:
            back = {"code": code, "state": state_}
        return RedirectResponse(f"{redirect_uri}{sep}{urlencode(back)}", status_code=303)

    def take_code(provider: str, code: str) -> tuple[_Grant | None, str]:
        """The grant of a code, used up; or None and why not (unknown, used, expired)."""
        with state.lock:
            grant = state.codes.get(code)
            if grant is None or grant.provider != provider:
                return None, "unknown"
            if grant.used:
                return None, "used"
            grant.used = True
        return (grant, "") if grant.expires >= time.monotonic() else (None, "expired")

    # --- standard OAuth2 ---------------------------------------------------------

    @router.post("/{provider}/token")
    async def token(provider: str, request: Request,
                    authorization: Annotated[str | None, Header()] = None) -> JSONResponse:
        p = provider_of(provider, "oauth2")
        form = await request.form()
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        if authorization and authorization.lower().startswith("basic "):
            decoded = base64.b64decode(authorization[6:]).decode()
            client_id, _, client_secret = decoded.partition(":")
        if client_id != p.client_id or client_secret != p.client_secret.get_secret_value():
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        if form.get("grant_type") != "authorization_code":
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        grant, _ = take_code(provider, str(form.get("code", "")))
        if grant is None:
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        if form.get("redirect_uri") and form.get("redirect_uri") != grant.redirect_uri:
            return JSONResponse({"error": "invalid_grant", "error_description": "redirect_uri"}, status_code=400)
        if grant.challenge:
            verifier = str(form.get("code_verifier", ""))
            if grant.method == "S256":
                computed = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            else:
                computed = verifier
            if not secrets.compare_digest(computed, grant.challenge):
                return JSONResponse({"error": "invalid_grant", "error_description": "PKCE"}, status_code=400)
        return JSONResponse({"access_token": state.issue_token(grant), "token_type": "Bearer",
                             "expires_in": TOKEN_TTL, "scope": p.scope,
                             "openid": _subject(provider, grant.account)})

    @router.get("/{provider}/userinfo")
    def userinfo(provider: str, authorization: Annotated[str | None, Header()] = None) -> JSONResponse:
        provider_of(provider, "oauth2")
        grant = state.token(provider, (authorization or "").partition(" ")[2])
        if grant is None:
            return JSONResponse({"error": "invalid_token"}, status_code=401)
        subject = _subject(provider, grant.account)
        return JSONResponse({"sub": subject, "openid": subject, "nickname": grant.nickname})

    # --- WeChat ----------------------------------------------------------------------

    @router.get("/{provider}/sns/oauth2/access_token")
    def wechat_token(provider: str, appid: str = "", secret: str = "", code: str = "",
                     grant_type: str = "") -> JSONResponse:
        p = provider_of(provider, "wechat")
        if appid != p.client_id:
            return _wechat_error(40013, "invalid appid")
        if not secrets.compare_digest(secret.encode(), p.client_secret.get_secret_value().encode()):
            return _wechat_error(40125, "invalid appsecret")
        if grant_type != "authorization_code":
            return _wechat_error(40002, "invalid grant_type")
        grant, why = take_code(provider, code)
        if grant is None:
            return {"used": _wechat_error(40163, "code been used"),
                    "expired": _wechat_error(42003, "oauth_code expired")}.get(why) or \
                _wechat_error(40029, "invalid code")
        body: dict[str, Any] = {"access_token": state.issue_token(grant), "expires_in": TOKEN_TTL,
                                "refresh_token": secrets.token_urlsafe(32),
                                "openid": wechat_openid(p.client_id, grant.account), "scope": p.scope}
        if provider not in without_unionid:
            body["unionid"] = wechat_unionid(grant.account)
        return JSONResponse(body)

    @router.get("/{provider}/sns/userinfo")
    def wechat_userinfo(provider: str, access_token: str = "", openid: str = "") -> JSONResponse:
        p = provider_of(provider, "wechat")
        grant = state.token(provider, access_token)
        if grant is None:
            return _wechat_error(40001, "invalid credential, access_token is invalid or not latest")
        if openid != wechat_openid(p.client_id, grant.account):
            return _wechat_error(40003, "invalid openid")
        body: dict[str, Any] = {"openid": openid, "nickname": grant.nickname, "sex": 0, "province": "",
                                "city": "", "country": "CN", "headimgurl": "", "privilege": []}
        if provider not in without_unionid:
            body["unionid"] = wechat_unionid(grant.account)
        return JSONResponse(body)

    # --- Alipay --------------------------------------------------------------------------

    @router.post("/{provider}/gateway.do")
    async def alipay_gateway(provider: str, request: Request) -> Response:
        p = provider_of(provider, "alipay")
        params = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        method = params.get("method", "")
        key = method.replace(".", "_") + "_response" if method in (ALIPAY_TOKEN, ALIPAY_USER) else "error_response"

        def answer(node: Mapping[str, Any], under: str = key) -> Response:
            return Response(signature.signed_answer(under, node, keys[provider]).encode(),
                            media_type="application/json;charset=utf-8")

        def refuse(sub_code: str, sub_msg: str, under: str = key) -> Response:
            return answer({"code": "40002", "msg": "Invalid Arguments", "sub_code": sub_code, "sub_msg": sub_msg},
                          under)

        if params.get("app_id") != p.client_id:
            return refuse("isv.invalid-app-id", "无效的AppID参数")
        if key == "error_response":
            return refuse("isv.invalid-method", "不存在的方法名")
        for name, expected, sub_code in (("sign_type", "RSA2", "isv.invalid-signature-type"),
                                         ("charset", "utf-8", "isv.invalid-charset"),
                                         ("format", "JSON", "isv.invalid-format"),
                                         ("version", "1.0", "isv.invalid-version")):
            if params.get(name, "").lower() != expected.lower():
                return refuse(sub_code, f"{name} 参数无效")
        try:
            datetime.strptime(params.get("timestamp", ""), "%Y-%m-%d %H:%M:%S")  # noqa: DTZ007 (a format check)
        except ValueError:
            return refuse("isv.invalid-timestamp", "非法的时间戳参数")
        public = app_public.get(provider)
        if public is None or not signature.verify_text(signature.content_to_sign(params), params.get("sign", ""),
                                                       public):
            return refuse("isv.invalid-signature", "验签出错，建议检查签名字符串或签名私钥与应用公钥是否匹配")
        if method == ALIPAY_TOKEN:
            if params.get("grant_type") != "authorization_code":
                return refuse("isv.grant-type-invalid", "grant_type参数不正确")
            grant, _ = take_code(provider, params.get("code", ""))
            if grant is None:
                return refuse("isv.code-invalid", "授权码code无效", under="error_response")
            return answer({"open_id": alipay_open_id(p.client_id, grant.account),
                           "access_token": state.issue_token(grant), "expires_in": TOKEN_TTL,
                           "refresh_token": secrets.token_urlsafe(32), "re_expires_in": TOKEN_TTL * 12})
        grant = state.token(provider, params.get("auth_token", ""))
        if grant is None:
            return answer({"code": "20001", "msg": "Insufficient Token Permissions",
                           "sub_code": "aop.invalid-auth-token", "sub_msg": "无效的访问令牌"})
        return answer({"code": "10000", "msg": "Success", "open_id": alipay_open_id(p.client_id, grant.account),
                       "nick_name": grant.nickname, "avatar": ""})

    return router
