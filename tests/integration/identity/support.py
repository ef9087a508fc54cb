"""Helpers of the identity integration tests: requests by name, problem codes, direct sessions."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pyotp
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy.orm import Session

from microcredit.identity import service as identity
from microcredit.identity.models import User
from microcredit.parties.models import Institution
from microcredit.platform.actor import RequestMeta
from microcredit.runtime import Runtime
from tests.factories import PASSWORD, headers, institution_header

API = "/api/v1"


def code(r: Response) -> str | None:
    """The problem code of an error response (None for a success)."""
    if r.status_code < 400:
        return None
    assert r.headers["content-type"].startswith("application/problem+json"), r.text
    return r.json()["code"]


def shape(r: Response) -> tuple[int, str | None, str | None, Any]:
    """What a caller can tell from an answer: status, code, Retry-After, and the body without its request id."""
    body = r.json()
    if isinstance(body, dict):
        body = {k: v for k, v in body.items() if k != "request_id"}
    return r.status_code, code(r), r.headers.get("retry-after"), body


def request_code(client: TestClient, inst: Institution, phone: str, purpose: str, *, kind: str = "borrower",
                 extra_headers: dict[str, str] | None = None) -> Response:
    """POST /auth/sms-codes."""
    return client.post(f"{API}/auth/sms-codes", json={"phone": phone, "purpose": purpose, "kind": kind},
                       headers={**institution_header(inst), **(extra_headers or {})})


def password_login(client: TestClient, inst: Institution, phone: str, password: str = PASSWORD, *,
                   kind: str = "borrower", extra_headers: dict[str, str] | None = None) -> Response:
    """POST /auth/login."""
    return client.post(f"{API}/auth/login", json={"phone": phone, "password": password, "kind": kind},
                       headers={**institution_header(inst), **(extra_headers or {})})


def sms_login(client: TestClient, inst: Institution, phone: str, sms_code: str, *, kind: str = "borrower",
              extra_headers: dict[str, str] | None = None) -> Response:
    """POST /auth/login/sms."""
    return client.post(f"{API}/auth/login/sms", json={"phone": phone, "code": sms_code, "kind": kind},
                       headers={**institution_header(inst), **(extra_headers or {})})


def reset_password(client: TestClient, inst: Institution, phone: str, sms_code: str, new_password: str, *,
                   kind: str = "borrower") -> Response:
    """POST /auth/password/reset."""
    return client.post(f"{API}/auth/password/reset", headers=institution_header(inst),
                       json={"phone": phone, "code": sms_code, "new_password": new_password, "kind": kind})


def me(client: TestClient, auth: dict[str, str]) -> Response:
    """GET /auth/me."""
    return client.get(f"{API}/auth/me", headers=auth)


def bearer(r: Response) -> dict[str, str]:
    """Auth headers from a sign-in answer."""
    assert r.status_code in (200, 201), r.text
    body = r.json()
    token = body["token"] if "token" in body else body["login"]["token"]
    assert token, body
    return headers(token)


def signed_in(session: Session, runtime: Runtime, user: User) -> dict[str, str]:
    """Auth headers of a new full session of `user`, opened directly (no password hash, no TOTP step)."""
    issued = identity.sessions.start_session(session=session, kit=runtime.identity, user=user, method="test",
                                             meta=RequestMeta(ip="127.0.0.1"), stage="full")
    session.commit()
    return headers(issued.token)


def totp_code(secret: str, at: datetime, steps: int = 0) -> str:
    """The authenticator code for `at`, moved by whole 30-second steps."""
    return pyotp.TOTP(secret).at(at + timedelta(seconds=30 * steps))
