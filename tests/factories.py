"""Test data factories: each call makes fresh, valid, unique objects through the services."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

import pyotp
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from microcredit.identity import service as identity
from microcredit.identity.models import User
from microcredit.parties import service as parties
from microcredit.parties.models import Borrower, Branch, Institution
from microcredit.parties.service.borrowers import NewBorrower
from microcredit.platform.actor import Actor
from microcredit.platform.validators import id_check_character
from microcredit.products import service as products
from microcredit.runtime import Runtime

PASSWORD = "Test-Passphrase-42"
# The versions a new institution's documents start at: what online registration accepts (consent.defaults).
CONSENTS = {"user_agreement": "1.0", "privacy_policy": "1.0", "sensitive_info": "1.0"}
_seq = itertools.count(1)


def next_phone() -> str:
    """A fresh mainland mobile number."""
    return f"137{next(_seq):08d}"


def next_id_number(born: date = date(1990, 1, 1), region: str = "360102") -> str:
    """A fresh valid resident ID number."""
    first17 = f"{region}{born:%Y%m%d}{next(_seq) % 1000:03d}"
    return first17 + id_check_character(first17)


def make_institution(session: Session, runtime: Runtime, *, code: str | None = None, platform: bool = False,
                     business_date: date = date(2026, 11, 25), calendar: bool = False) -> Institution:
    """An institution with its default roles (and its holiday calendar seeded, if asked: ~750 rows)."""
    inst = parties.organisation.create_institution(
        session=session, clock=runtime.clock, actor=Actor.system(), code=code or f"I{next(_seq)}", name="测试机构",
        business_date=business_date, platform=platform)
    if calendar:
        products.calendar.seed(session=session, clock=runtime.clock, actor=Actor.system(inst.id),
                               institution_id=inst.id)
    return inst


def make_branch(session: Session, runtime: Runtime, institution: Institution, *, code: str | None = None,
                region_code: str | None = None) -> Branch:
    """A branch of the institution."""
    return parties.organisation.add_branch(session=session, clock=runtime.clock, actor=Actor.system(institution.id),
                                           institution_id=institution.id, code=code or f"B{next(_seq)}",
                                           name="测试支行", region_code=region_code)


@dataclass
class StaffHandle:
    """A staff member made for a test."""

    user: User
    staff_id: int
    phone: str
    password: str
    totp_secret: str | None = None


def make_staff(session: Session, runtime: Runtime, institution: Institution, *, roles: tuple[str, ...],
               branch: Branch | None = None, password: str | None = PASSWORD, totp: bool = False) -> StaffHandle:
    """A staff member with a password (and an active TOTP secret if asked)."""
    phone = next_phone()
    n = next(_seq)
    account = identity.accounts.create_user(session=session, kit=runtime.identity, institution_id=institution.id,
                                            kind="staff", phone=phone, display_name=f"员工{n}", password=password,
                                            branch_id=branch.id if branch else None, role_codes=roles)
    staff = parties.staff.add_staff_record(session=session, kit=runtime.identity,
                                           actor=Actor.system(institution.id), user=account, name=f"员工{n}",
                                           employee_number=f"T{n}")
    secret = None
    if totp:
        secret = pyotp.random_base32()
        identity.accounts.set_totp_secret(session=session, kit=runtime.identity, user_id=account.id, secret=secret)
    user = session.get(User, account.id)
    assert user is not None
    return StaffHandle(user=user, staff_id=staff.id, phone=phone, password=password or "", totp_secret=secret)


@dataclass
class BorrowerHandle:
    """A borrower made for a test."""

    borrower: Borrower
    user: User
    phone: str
    id_number: str
    password: str | None


def make_borrower(session: Session, runtime: Runtime, institution: Institution, *, branch: Branch | None = None,
                  password: str | None = PASSWORD, **fields: Any) -> BorrowerHandle:
    """A borrower registered directly through the services (`id_number=` to choose the ID number)."""
    phone = next_phone()
    number = fields.pop("id_number", None) or next_id_number()
    data = NewBorrower(real_name=fields.pop("real_name", "测试借款人"), id_number=number, phone=phone, **fields)
    account = identity.accounts.create_user(session=session, kit=runtime.identity, institution_id=institution.id,
                                            kind="borrower", phone=phone, display_name=data.real_name,
                                            password=password, role_codes=("borrower",))
    resident = parties.borrowers.parse_id_number(number, on=institution.business_date)
    borrower = parties.borrowers.create_profile(session, runtime.identity, institution_id=institution.id, data=data,
                                                user=account,
                                                channel="branch" if branch else "online",
                                                branch_id=branch.id if branch else None, registered_by=None,
                                                resident=resident)
    user = session.get(User, account.id)
    assert user is not None
    return BorrowerHandle(borrower=borrower, user=user, phone=phone, id_number=number, password=password)


def headers(token: str, **extra: str) -> dict[str, str]:
    """Authorization header for a token."""
    return {"Authorization": f"Bearer {token}", **extra}


def institution_header(institution: Institution) -> dict[str, str]:
    """Point a public request at an institution."""
    return {"X-Institution": institution.code}


def login(client: TestClient, institution: Institution, phone: str, password: str = PASSWORD,
          kind: str = "borrower", totp_secret: str | None = None, clock: Any = None) -> dict[str, str]:
    """Sign in through the API (with the TOTP step when needed); returns auth headers."""
    r = client.post("/api/v1/auth/login", json={"phone": phone, "password": password, "kind": kind},
                    headers=institution_header(institution))
    assert r.status_code == 200, r.text
    body = r.json()
    if body["status"] == "mfa_required":
        assert totp_secret is not None, "this user needs a TOTP secret"
        at = clock.now() if clock is not None else None
        code = pyotp.TOTP(totp_secret).at(at) if at is not None else pyotp.TOTP(totp_secret).now()
        r = client.post("/api/v1/auth/login/totp", json={"mfa_token": body["mfa_token"], "code": code})
        assert r.status_code == 200, r.text
        body = r.json()
    return headers(body["token"])


def last_sms_code(client: TestClient, phone: str) -> str:
    """The code in the newest simulated SMS to `phone`."""
    messages = client.get("/_sim/sms", params={"phone": phone}).json()
    assert messages, f"no SMS was sent to {phone}"
    match = re.search(r"\b(\d{6})\b", messages[0]["text"])
    assert match, messages[0]["text"]
    return match.group(1)
