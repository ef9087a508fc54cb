"""Third-party sign-in (WeChat, Alipay, any standard OAuth2 provider).

The provider-facing half speaks each provider's own protocol (standard OAuth2
with PKCE, WeChat's or Alipay's dialect: see
`microcredit.integrations.oauth_dialects`). The flow, as the browser sees it:

1. `start` — a random `state` (and a PKCE verifier, used where the protocol has
   PKCE) is stored (the state hashed) and the browser is sent to the provider's
   authorisation page.
2. The provider redirects back to `/api/v1/auth/oauth/{provider}/callback` with
   a code (Alipay calls it `auth_code`); `callback` checks the state, trades the
   code for the user's provider id, and stores the outcome under a one-time
   **ticket**. The browser goes to the web app's `/oauth/complete` page with
   that ticket — never with a session token in the URL.
3. The web app posts the ticket to `exchange`: a linked account gets a session;
   an unknown one is asked to prove a phone number by SMS (`link`), which links
   it to the borrower with that phone, or leads to registration.

Only borrowers sign in this way. The built-in provider simulators (see
`microcredit.integrations.oauth_simulator`) speak the same dialects.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

import httpx2
from authlib.common.security import generate_token
from sqlalchemy.orm import Session

from microcredit.audit import service as audit
from microcredit.clock import Clock
from microcredit.config import OAuthProvider
from microcredit.identity import repository as repo
from microcredit.identity.errors import OAuthFailed, UnknownProvider
from microcredit.identity.models import OAuthFlow, OAuthIdentity, User
from microcredit.identity.service import login, smscodes
from microcredit.identity.service.kit import IdentityKit
from microcredit.identity.tokens import new_token, token_hash
from microcredit.integrations.oauth_dialects import Dialect, ProviderRefused, dialect_for
from microcredit.platform.actor import Actor, RequestMeta

FLOW_TTL = timedelta(minutes=10)
TICKET_TTL = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class OAuthGateway:
    """The configured providers, where they send the browser back, and how we reach them."""

    providers: tuple[OAuthProvider, ...]
    public_url: str
    transport: httpx2.BaseTransport | None = None  # tests and the simulators; None: the network

    def provider(self, name: str) -> OAuthProvider:
        """The configured provider called `name`."""
        for p in self.providers:
            if p.name == name:
                return p
        raise UnknownProvider(field="provider")

    def redirect_uri(self, name: str) -> str:
        """Where the provider sends the browser back."""
        return f"{self.public_url.rstrip('/')}/api/v1/auth/oauth/{name}/callback"

    def dialect(self, p: OAuthProvider, clock: Clock) -> Dialect:
        """The protocol `p` speaks, bound to our callback."""
        return dialect_for(p, redirect_uri=self.redirect_uri(p.name), clock=clock, transport=self.transport)


def _new_state() -> str:
    """256 random bits as hex: WeChat takes only [a-zA-Z0-9] (≤ 128), Alipay only base64 characters (≤ 100)."""
    return secrets.token_hex(32)


def _safe_next(path: str | None) -> str:
    """Only same-site relative paths (no open redirect)."""
    # Browsers drop tabs and newlines inside URLs, so "/\t/evil.com" would act as "//evil.com".
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path \
            or any(ord(c) < 0x20 or ord(c) == 0x7F for c in path):
        return "/"
    return path[:255]


def start(*, session: Session, kit: IdentityKit, gateway: OAuthGateway, institution_id: int, provider_name: str,
          next_path: str | None) -> str:
    """Begin a flow; returns the provider's authorisation URL."""
    p = gateway.provider(provider_name)
    state = _new_state()
    verifier = generate_token(64)
    now = kit.clock.now()
    session.add(OAuthFlow(institution_id=institution_id, provider=p.name, state_hash=token_hash(state),
                          code_verifier=verifier, next_path=_safe_next(next_path), created_at=now,
                          expires_at=now + FLOW_TTL))
    session.flush()
    return gateway.dialect(p, kit.clock).authorization_url(state=state, code_verifier=verifier)


def callback(*, session: Session, kit: IdentityKit, gateway: OAuthGateway, provider_name: str,
             code: str | None, state: str | None, error: str | None, auth_code: str | None = None,
             app_id: str | None = None) -> str:
    """Finish the provider's side of the flow; returns the web app URL to send the browser to.

    Alipay brings the code back as `auth_code` (with its `app_id`); WeChat brings
    back no code at all when the user declines.
    """
    p = gateway.provider(provider_name)
    flow = repo.oauth_flow_by_state(session, token_hash(state or ""))
    now = kit.clock.now()
    if flow is None or flow.provider != p.name or flow.completed_at is not None or flow.expires_at <= now:
        raise OAuthFailed(params={"reason": "unknown or expired state"})
    if p.protocol == "alipay":
        if app_id is not None and app_id != p.client_id:
            raise OAuthFailed(params={"reason": "the answer is for another app"})
        code = auth_code
    if error or not code:
        flow.completed_at = now
        declined = p.protocol == "wechat" and not error
        return "/oauth/complete?" + urlencode({"error": error or ("access_denied" if declined else "no_code")})
    try:
        user = gateway.dialect(p, kit.clock).fetch_user(code=code, code_verifier=flow.code_verifier)
    except ProviderRefused as exc:
        raise OAuthFailed(params={"reason": exc.reason}) from exc
    except Exception as exc:  # network or protocol failure: one answer to the user
        raise OAuthFailed(params={"reason": type(exc).__name__}) from exc
    subject = user.subject
    link = repo.oauth_identity(session, institution_id=flow.institution_id, provider=p.name, subject=subject)
    ticket = new_token()
    flow.completed_at = now
    flow.subject = subject
    flow.subject_name = user.name
    flow.user_id = link.user_id if link else None
    flow.ticket_hash = token_hash(ticket)
    flow.expires_at = now + TICKET_TTL
    session.flush()
    return "/oauth/complete?" + urlencode({"ticket": ticket, "next": flow.next_path})


@dataclass(frozen=True)
class Exchange:
    """The outcome of presenting a ticket."""

    result: login.LoginResult | None
    provider: str
    subject_name: str | None


def _live_flow(session: Session, kit: IdentityKit, ticket: str) -> OAuthFlow:
    flow = repo.oauth_flow_by_ticket(session, token_hash(ticket))
    if flow is None or flow.consumed_at is not None or flow.expires_at <= kit.clock.now():
        raise OAuthFailed(field="ticket", params={"reason": "unknown or expired ticket"})
    return flow


def exchange(*, session: Session, kit: IdentityKit, ticket: str, meta: RequestMeta) -> Exchange:
    """Turn a ticket into a session (linked account) or a request to link (unknown account)."""
    flow = _live_flow(session, kit, ticket)
    if flow.user_id is None:
        return Exchange(result=None, provider=flow.provider, subject_name=flow.subject_name)
    user = repo.get_user(session, flow.user_id)
    if user is None:
        raise OAuthFailed(field="ticket", params={"reason": "the linked account is gone"})
    flow.consumed_at = kit.clock.now()
    result = login.login_with_identity(session=session, kit=kit, user=user, method=f"oauth:{flow.provider}",
                                       meta=meta)
    return Exchange(result=result, provider=flow.provider, subject_name=flow.subject_name)


def link_with_phone(*, session: Session, kit: IdentityKit, ticket: str, phone: str, code: str,
                    meta: RequestMeta) -> Exchange:
    """Prove a phone by SMS and link the third-party account to the borrower who has it.

    Returns `result=None` when nobody has that phone yet: the caller registers,
    passing the same ticket, and `link_new_user` completes the link.
    """
    flow = _live_flow(session, kit, ticket)
    idx = kit.keys.blind_index(phone, domain="phone")
    smscodes.verify_code(session=session, kit=kit, phone_index=idx, purpose="link", code=code)
    user = repo.user_by_phone(session, institution_id=flow.institution_id, kind="borrower", phone_index=idx)
    if user is None:
        # The phone is proven: registration may use this ticket without another code.
        flow.proven_phone_index = idx
        session.flush()
        return Exchange(result=None, provider=flow.provider, subject_name=flow.subject_name)
    _link(session, kit, flow, user, meta)
    result = login.login_with_identity(session=session, kit=kit, user=user, method=f"oauth:{flow.provider}",
                                       meta=meta)
    return Exchange(result=result, provider=flow.provider, subject_name=flow.subject_name)


def proven_phone_index(*, session: Session, kit: IdentityKit, ticket: str) -> str | None:
    """The phone index a ticket's holder proved by SMS in `link_with_phone`, if any."""
    flow = _live_flow(session, kit, ticket)
    return flow.proven_phone_index


def link_new_user(*, session: Session, kit: IdentityKit, ticket: str, user_id: int, meta: RequestMeta) -> None:
    """Link the ticket's third-party account to a user just registered."""
    flow = _live_flow(session, kit, ticket)
    user = repo.get_user(session, user_id)
    if user is None:
        raise OAuthFailed(params={"reason": "unknown user"})
    _link(session, kit, flow, user, meta)


def _link(session: Session, kit: IdentityKit, flow: OAuthFlow, user: User, meta: RequestMeta) -> None:
    assert flow.subject is not None
    if repo.oauth_identity(session, institution_id=flow.institution_id, provider=flow.provider,
                           subject=flow.subject) is None:
        session.add(OAuthIdentity(institution_id=flow.institution_id, user_id=user.id, provider=flow.provider,
                                  subject=flow.subject, display_name=flow.subject_name,
                                  linked_at=kit.clock.now()))
    flow.consumed_at = kit.clock.now()
    flow.user_id = user.id
    session.flush()
    audit.record(session=session, clock=kit.clock,
                 actor=Actor.anonymous(meta, user.institution_id).as_user(user.id, user.kind,
                                                                          user.institution_id),
                 action="user.oauth_linked", entity_type="user", entity_id=user.id,
                 after={"provider": flow.provider})


def linked_providers(*, session: Session, user_id: int) -> list[str]:
    """The providers linked to a user."""
    return sorted(repo.oauth_providers_of(session, user_id))
