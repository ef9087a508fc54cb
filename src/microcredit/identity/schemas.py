"""API shapes of identity: sign-in, registration codes, sessions, roles, login history."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import ConfigDict, Field

from microcredit.identity.permissions import DataScope
from microcredit.platform.schema import InputSchema, OutputSchema

Kind = Literal["borrower", "staff"]
Purpose = Literal["register", "login", "reset_password", "change_phone", "link"]
PHONE_FIELD = Field(min_length=11, max_length=20, description="Mainland mobile number", examples=["13800138000"])
# Long enough for any policy; checked exactly as typed (no trimming).
PASSWORD_FIELD = Field(min_length=1, max_length=256, description="Password, exactly as typed")
SMS_CODE_FIELD = Field(min_length=6, max_length=6, pattern=r"^\d{6}$", examples=["123456"])


class RawInput(InputSchema):
    """Inputs whose strings must not be trimmed or normalised (passwords)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)
    exact_text = True


class SmsCodeRequest(InputSchema):
    """Ask for a verification code by SMS."""

    phone: str = PHONE_FIELD
    purpose: Purpose
    kind: Kind = "borrower"

    model_config = ConfigDict(json_schema_extra={"examples": [{"phone": "13800138000", "purpose": "register"}]})


class SmsCodeSent(OutputSchema):
    """The same answer whether or not the number is registered."""

    phone_masked: str
    expires_in: int = Field(description="Seconds the code stays valid")
    resend_after: int = Field(description="Seconds before another code may be requested")


class PasswordLogin(RawInput):
    """Sign in with phone and password."""

    phone: str = PHONE_FIELD
    password: str = PASSWORD_FIELD
    kind: Kind = "borrower"

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=False,
        json_schema_extra={
            "examples": [{"phone": "13800138000", "password": "correct horse battery", "kind": "borrower"}]
        },
    )


class SmsLogin(InputSchema):
    """Sign in with phone and an SMS code (purpose `login`)."""

    phone: str = PHONE_FIELD
    code: str = SMS_CODE_FIELD
    kind: Kind = "borrower"

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={"examples": [{"phone": "13800138000", "code": "123456", "kind": "borrower"}]},
    )


class TotpLogin(InputSchema):
    """Second step of a sign-in that needs the authenticator code."""

    mfa_token: str = Field(min_length=10, max_length=200)
    code: str = Field(min_length=6, max_length=6, pattern=r"^\d{6}$")

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={"examples": [{"mfa_token": "0bC1…", "code": "492039"}]},
    )


class LoginRead(OutputSchema):
    """Outcome of a sign-in step.

    `authenticated`: use `token` as `Authorization: Bearer <token>`.
    `mfa_required`: post the authenticator code with `mfa_token` to /auth/login/totp.
    `mfa_enrolment_required`: the token only allows enrolling TOTP (/auth/totp/...).
    """

    status: Literal["authenticated", "mfa_required", "mfa_enrolment_required"]
    token: str | None = None
    expires_at: datetime | None = Field(default=None, description="Idle expiry (extends with use)")
    absolute_expires_at: datetime | None = None
    mfa_token: str | None = None


class PasswordReset(RawInput):
    """Forgotten password: a code sent with purpose `reset_password`, and the new password."""

    phone: str = PHONE_FIELD
    code: str = SMS_CODE_FIELD
    new_password: str = PASSWORD_FIELD
    kind: Kind = "borrower"

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=False,
        json_schema_extra={
            "examples": [{"phone": "13800138000", "code": "123456", "new_password": "a new long passphrase"}]
        },
    )


class PasswordChange(RawInput):
    """Change one's password (the current one is required when one is set)."""

    current_password: str | None = Field(default=None, max_length=256)
    new_password: str = PASSWORD_FIELD

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=False,
        json_schema_extra={
            "examples": [{"current_password": "the old passphrase", "new_password": "a new long passphrase"}]
        },
    )


class Reauthenticate(RawInput):
    """Prove the current password again before a sensitive change."""

    password: str = PASSWORD_FIELD

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=False,
        json_schema_extra={"examples": [{"password": "my current passphrase"}]},
    )


class PhoneChange(RawInput):
    """Move the account to a new phone (code sent to the new phone, purpose `change_phone`)."""

    current_password: str = PASSWORD_FIELD
    new_phone: str = PHONE_FIELD
    code: str = SMS_CODE_FIELD

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=False,
        json_schema_extra={
            "examples": [{"current_password": "my passphrase", "new_phone": "13912345678", "code": "123456"}]
        },
    )


class TotpEnrolmentStart(RawInput):
    """Begin enrolling an authenticator app (an account without a password omits it)."""

    current_password: str | None = Field(default=None, max_length=256)


class TotpEnrolmentRead(OutputSchema):
    """Scan the QR code (or type the secret) into an authenticator app."""

    secret: str
    otpauth_uri: str
    qr_svg_data_uri: str


class TotpConfirm(InputSchema):
    """The first code from the authenticator app."""

    code: str = Field(min_length=6, max_length=6, pattern=r"^\d{6}$")

    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, json_schema_extra={"examples": [{"code": "492039"}]}
    )


class InstitutionBrief(OutputSchema):
    """An institution, briefly."""

    id: int
    code: str
    name: str
    name_en: str | None = None
    business_date: date
    timezone: str


class MeRead(OutputSchema):
    """The signed-in user."""

    user_id: int
    kind: Kind
    display_name: str
    phone_masked: str
    institution: InstitutionBrief
    branch_id: int | None
    branch_name: str | None
    branch_name_en: str | None = None
    roles: list[str]
    permissions: list[str]
    scope: DataScope
    stage: str
    totp_enabled: bool
    has_password: bool
    linked_providers: list[str]
    borrower_id: int | None = None
    staff_id: int | None = None


class OAuthProviderRead(OutputSchema):
    """A third-party sign-in option."""

    name: str
    display_name: str
    simulator: bool


class PublicConfig(OutputSchema):
    """What the web app needs to know before anyone signs in."""

    institution: InstitutionBrief
    mode: str
    oauth_providers: list[OAuthProviderRead]
    sms_simulator: bool
    password_min_length: int
    password_max_length: int
    lockout_threshold: int


class OAuthTicket(InputSchema):
    """The one-time ticket from /oauth/complete."""

    ticket: str = Field(min_length=10, max_length=200)

    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, json_schema_extra={"examples": [{"ticket": "Zr3…one-time-ticket"}]}
    )


class OAuthLink(InputSchema):
    """Prove a phone (code with purpose `link`) to link the third-party account."""

    ticket: str = Field(min_length=10, max_length=200)
    phone: str = PHONE_FIELD
    code: str = SMS_CODE_FIELD

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={"examples": [{"ticket": "Zr3…one-time-ticket", "phone": "13800138000", "code": "123456"}]},
    )


class OAuthExchangeRead(OutputSchema):
    """`authenticated` (with a session), `link_required`, or `registration_required`."""

    status: Literal["authenticated", "mfa_required", "mfa_enrolment_required", "link_required", "registration_required"]
    provider: str
    provider_display_name: str | None = None
    subject_name: str | None = None
    login: LoginRead | None = None


class RoleRead(OutputSchema):
    """A role and its permissions."""

    id: int
    code: str
    name_zh: str
    name_en: str
    data_scope: DataScope
    requires_mfa: bool
    is_system: bool
    permissions: list[str]


class RoleCreate(InputSchema):
    """A new custom role."""

    code: str = Field(min_length=2, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")
    name_zh: str = Field(min_length=1, max_length=100)
    name_en: str = Field(min_length=1, max_length=100)
    data_scope: DataScope = DataScope.BRANCH
    requires_mfa: bool = False
    permissions: list[str] = Field(default_factory=list)

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "code": "credit_analyst",
                    "name_zh": "信审专员",
                    "name_en": "Credit analyst",
                    "data_scope": "institution",
                    "requires_mfa": False,
                    "permissions": ["borrower.read", "loan.read"],
                }
            ]
        },
    )


class RoleUpdate(InputSchema):
    """Change a role (omitted fields stay)."""

    name_zh: str | None = Field(default=None, min_length=1, max_length=100)
    name_en: str | None = Field(default=None, min_length=1, max_length=100)
    data_scope: DataScope | None = None
    requires_mfa: bool | None = None
    permissions: list[str] | None = None

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={"examples": [{"permissions": ["borrower.read", "borrower.export", "loan.read"]}]},
    )


class PermissionRead(OutputSchema):
    """A registered permission."""

    code: str
    zh: str
    en: str
    reserved: bool


class LoginAttemptRead(OutputSchema):
    """One sign-in attempt."""

    id: int
    at: datetime
    user_id: int | None
    user_name: str | None = None
    kind: str
    method: str
    outcome: str
    ip: str | None
    user_agent: str | None


class SessionRead(OutputSchema):
    """A live session of the caller."""

    id: int
    auth_method: str
    created_at: datetime
    last_seen_at: datetime
    ip: str | None
    user_agent: str | None
    current: bool
