"""OAuth2 provider SIMULATOR for WeChat and Alipay sign-in (demo and tests only).

Real WeChat/Alipay sign-in needs a registered app and their servers, which
cannot exist here. This simulator speaks the standard authorisation-code flow
with PKCE (RFC 6749, RFC 7636) the way those providers do, so that our client
(Authlib) runs the real protocol end to end:

* `GET  /_sim/oauth/{provider}/authorize` — a consent page where the visitor
  chooses which simulated account to sign in with, then approves or denies;
* `POST /_sim/oauth/{provider}/authorize` — issues a one-time code (60 s) and
  redirects to the client's `redirect_uri` with `code` and `state`;
* `POST /_sim/oauth/{provider}/token` — checks client id/secret, the code, the
  redirect URI and the PKCE verifier; returns an access token;
* `GET  /_sim/oauth/{provider}/userinfo` — the account's `openid`/`sub` and nickname.

State lives in the process's memory: the simulator is one process's stand-in.
"""

from __future__ import annotations

import base64
import hashlib
import html
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Header, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from microcredit.config import OAuthProvider, Settings

CODE_TTL = 60
TOKEN_TTL = 7200


@dataclass
class _Grant:
    provider: str
    client_id: str
    redirect_uri: str
    challenge: str | None
    method: str
    account: str
    nickname: str
    expires: float


class SimulatorState:
    """Codes and tokens issued by the simulator."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.codes: dict[str, _Grant] = {}
        self.tokens: dict[str, tuple[_Grant, float]] = {}


def _subject(provider: str, account: str) -> str:
    digest = hashlib.sha256(f"{provider}:{account}".encode()).hexdigest()[:24]
    return ("o" if provider == "wechat" else "2088") + digest


def build_router(settings: Settings) -> APIRouter:
    """The simulator's routes for the simulated providers in `settings`."""
    providers: dict[str, OAuthProvider] = {p.name: p for p in settings.oauth_providers if p.simulator}
    state = SimulatorState()
    router = APIRouter(prefix="/_sim/oauth", include_in_schema=False)

    def provider_of(name: str) -> OAuthProvider:
        p = providers.get(name)
        if p is None:
            raise HTTPException(404)
        return p

    @router.get("/{provider}/authorize", response_class=HTMLResponse)
    def authorize_page(provider: str, request: Request) -> HTMLResponse:
        p = provider_of(provider)
        q = request.query_params
        if q.get("client_id") != p.client_id or q.get("response_type") != "code":
            return HTMLResponse("<h1>invalid_request</h1>", status_code=400)
        hidden = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                         for k, v in q.items())
        brand = "#07c160" if provider == "wechat" else "#1677ff"
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

    @router.post("/{provider}/authorize")
    def authorize_submit(
        provider: str,
        client_id: Annotated[str, Form()],
        redirect_uri: Annotated[str, Form()],
        decision: Annotated[str, Form()],
        account: Annotated[str, Form(max_length=64)] = "demo-user",
        nickname: Annotated[str, Form(max_length=40)] = "",
        state_: Annotated[str | None, Form(alias="state")] = None,
        code_challenge: Annotated[str | None, Form()] = None,
        code_challenge_method: Annotated[str, Form()] = "plain",
    ) -> RedirectResponse:
        p = provider_of(provider)
        if client_id != p.client_id:
            raise HTTPException(400, "unknown client")
        sep = "&" if "?" in redirect_uri else "?"
        if decision != "approve":
            denied = urlencode({"error": "access_denied", "state": state_ or ""})
            return RedirectResponse(f"{redirect_uri}{sep}{denied}", status_code=303)
        code = secrets.token_urlsafe(24)
        with state.lock:
            state.codes[code] = _Grant(provider, client_id, redirect_uri, code_challenge, code_challenge_method,
                                       account.strip() or "demo-user", nickname.strip() or account,
                                       time.monotonic() + CODE_TTL)
        return RedirectResponse(f"{redirect_uri}{sep}{urlencode({'code': code, 'state': state_ or ''})}",
                                status_code=303)

    @router.post("/{provider}/token")
    async def token(provider: str, request: Request,
                    authorization: Annotated[str | None, Header()] = None) -> JSONResponse:
        p = provider_of(provider)
        form = await request.form()
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        if authorization and authorization.lower().startswith("basic "):
            decoded = base64.b64decode(authorization[6:]).decode()
            client_id, _, client_secret = decoded.partition(":")
        if client_id != p.client_id or client_secret != p.client_secret.get_secret_value():
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        if form.get("grant_type") != "authorization_code":
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        with state.lock:
            grant = state.codes.pop(str(form.get("code", "")), None)
        if grant is None or grant.expires < time.monotonic() or grant.provider != provider:
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
        access = secrets.token_urlsafe(32)
        with state.lock:
            state.tokens[access] = (grant, time.monotonic() + TOKEN_TTL)
        return JSONResponse({"access_token": access, "token_type": "Bearer", "expires_in": TOKEN_TTL,
                             "scope": p.scope, "openid": _subject(provider, grant.account)})

    @router.get("/{provider}/userinfo")
    def userinfo(provider: str, authorization: Annotated[str | None, Header()] = None) -> JSONResponse:
        provider_of(provider)
        token_value = (authorization or "").partition(" ")[2]
        with state.lock:
            entry = state.tokens.get(token_value)
        if entry is None or entry[1] < time.monotonic() or entry[0].provider != provider:
            return JSONResponse({"error": "invalid_token"}, status_code=401)
        grant = entry[0]
        subject = _subject(provider, grant.account)
        return JSONResponse({"sub": subject, "openid": subject, "nickname": grant.nickname})

    return router
