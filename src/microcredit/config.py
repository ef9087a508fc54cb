"""Typed settings, read from `MICROCREDIT_*` environment variables.

Small settings classes per concern, composed in `Settings`. Nothing reads the
environment at import time: call `Settings()` (or `load_settings()`) at start.
`Settings.check_production()` refuses to run production with demo secrets.

Environment variable names: top-level fields are `MICROCREDIT_<FIELD>`
(e.g. `MICROCREDIT_DATABASE_URL`); nested ones use a double underscore
(e.g. `MICROCREDIT_SECURITY__LOCKOUT_THRESHOLD=5`).
"""

from __future__ import annotations

import base64
import enum
from pathlib import Path

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Well-known demo secrets. Production refuses any of them.
DEMO_FIELD_KEY = "demo-1:" + base64.b64encode(b"microcredit-demo-field-key-32b!!").decode()
DEMO_BLIND_INDEX_KEY = "microcredit-demo-blind-index-key"
DEMO_SECRET_KEY = "microcredit-demo-secret-key"
DEMO_OAUTH_SECRET = "demo-oauth-client-secret"
# Production secrets (HMAC keys) must be at least this long: 32 random characters ≈ 190 bits.
MIN_SECRET_LENGTH = 32


class Mode(enum.StrEnum):
    """Run mode: production refuses demo secrets; test/demo allow moving the business date."""

    PRODUCTION = "production"
    DEMO = "demo"
    TEST = "test"
    DEVELOPMENT = "development"


class SecuritySettings(BaseModel):
    """Passwords, lockout, sessions, field encryption."""

    # Field encryption keyring: "kid:base64key,kid2:base64key" (32-byte AES-256 keys).
    field_keys: SecretStr = SecretStr(DEMO_FIELD_KEY)
    # Key id used for new encryptions; defaults to the last key in `field_keys`.
    active_field_key: str | None = None
    blind_index_key: SecretStr = SecretStr(DEMO_BLIND_INDEX_KEY)
    # Signs short-lived values (OAuth state, SMS code hashes).
    secret_key: SecretStr = SecretStr(DEMO_SECRET_KEY)

    # argon2id: OWASP ASVS 5 App. C minimum is t=2, m>=19 MiB, p=1.
    argon2_time_cost: int = Field(default=2, ge=2)
    argon2_memory_kib: int = Field(default=19456, ge=19456)
    password_min_length: int = Field(default=8, ge=8)
    password_max_length: int = Field(default=128, ge=64)

    lockout_threshold: int = Field(default=5, ge=3, le=10)
    lockout_minutes: int = Field(default=30, ge=30)
    # Failures before the growing delay starts (delay doubles from 1 s each time).
    delay_after_failures: int = Field(default=2, ge=1)
    ip_failures_per_hour: int = Field(default=100, ge=10)

    session_idle_minutes: int = Field(default=30, ge=1)
    session_absolute_hours: int = Field(default=12, ge=1)
    borrower_session_idle_minutes: int = Field(default=7 * 24 * 60, ge=1)
    borrower_session_absolute_hours: int = Field(default=30 * 24, ge=1)
    reauth_window_minutes: int = Field(default=5, ge=1)

    sms_code_ttl_seconds: int = Field(default=300, ge=60, le=600)
    sms_code_max_attempts: int = Field(default=5, ge=1, le=10)
    sms_resend_seconds: int = Field(default=60, ge=30)
    sms_per_phone_per_day: int = Field(default=10, ge=1)

    # Masking patterns: (keep first, keep last) characters.
    mask_id_number: str = "birthdate"  # "birthdate" hides positions 7-14; "strict" keeps 1+1
    mask_phone: tuple[int, int] = (3, 4)
    mask_card: tuple[int, int] = (6, 4)

    @field_validator("active_field_key")
    @classmethod
    def _blank_is_none(cls, v: str | None) -> str | None:
        return v or None


class RateLimitSettings(BaseModel):
    """Per-window limits for the abuse-prone endpoints."""

    login_per_ip_per_minute: int = 30
    sms_per_ip_per_hour: int = 30
    register_per_ip_per_hour: int = 20
    quote_per_ip_per_minute: int = 120


class OAuthProvider(BaseModel):
    """One third-party OAuth2 login provider (WeChat, Alipay, ...)."""

    name: str
    display_name: str
    client_id: str
    client_secret: SecretStr
    authorize_url: str
    token_url: str
    userinfo_url: str
    scope: str = "openid profile"
    simulator: bool = False


class Settings(BaseSettings):
    """All settings of one process."""

    model_config = SettingsConfigDict(
        env_prefix="MICROCREDIT_",
        env_nested_delimiter="__",
        extra="ignore",
    )

    mode: Mode = Mode.DEVELOPMENT
    data_dir: Path = Path("var")
    database_url: str | None = None
    database_echo: bool = False
    redis_url: str | None = None
    # The public origin of the service, used to build OAuth redirect URIs.
    public_url: str = "http://127.0.0.1:8000"
    default_institution: str = "DEMO"
    # Static files of the web app (built by `npm run build` in web/).
    web_dist: Path | None = None
    log_json: bool = False
    log_level: str = "INFO"
    # Trust X-Forwarded-For from these proxy addresses (comma separated); empty: trust none.
    trusted_proxies: str = ""

    security: SecuritySettings = SecuritySettings()
    rate_limits: RateLimitSettings = RateLimitSettings()
    # Third-party login providers (JSON list in MICROCREDIT_OAUTH_PROVIDERS).
    oauth_providers: list[OAuthProvider] = []
    # Add the built-in WeChat/Alipay OAuth2 simulators (served under /_sim/oauth)
    # for providers not configured above. Production refuses them.
    oauth_simulators: bool = True
    # Serve the SMS simulator's message box (GET /_sim/sms) — demo and tests only.
    sms_simulator: bool = True
    # The SMS signature registered with the operator; empty: each institution's name.
    sms_signature: str = ""
    # How often the API process delivers queued messages in the background (0: only right
    # after each request that queued some, and on `microcredit outbox dispatch`).
    outbox_poll_seconds: float = Field(default=5.0, ge=0)

    @model_validator(mode="after")
    def _defaults(self) -> Settings:
        configured = {p.name for p in self.oauth_providers}
        if self.oauth_simulators:
            base = self.public_url.rstrip("/") + "/_sim/oauth"
            self.oauth_providers = self.oauth_providers + [
                OAuthProvider(
                    name=name,
                    display_name=display,
                    client_id=f"microcredit-{name}",
                    client_secret=SecretStr(DEMO_OAUTH_SECRET),
                    authorize_url=f"{base}/{name}/authorize",
                    token_url=f"{base}/{name}/token",
                    userinfo_url=f"{base}/{name}/userinfo",
                    simulator=True,
                )
                for name, display in (("wechat", "WeChat (simulator)"), ("alipay", "Alipay (simulator)"))
                if name not in configured
            ]
        return self

    @property
    def resolved_database_url(self) -> str:
        """The database URL; the embedded SQLite file under `data_dir` when unset."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'microcredit.sqlite3').resolve()}"

    @property
    def allows_business_date_override(self) -> bool:
        """Only demo and test installations may move the business date by hand."""
        return self.mode in (Mode.DEMO, Mode.TEST, Mode.DEVELOPMENT)

    def check_production(self) -> None:
        """Refuse to start production with demo secrets or simulators."""
        if self.mode is not Mode.PRODUCTION:
            return
        problems: list[str] = []
        sec = self.security
        if DEMO_FIELD_KEY.split(":", 1)[1] in sec.field_keys.get_secret_value():
            problems.append("MICROCREDIT_SECURITY__FIELD_KEYS holds the demo key")
        if sec.blind_index_key.get_secret_value() == DEMO_BLIND_INDEX_KEY:
            problems.append("MICROCREDIT_SECURITY__BLIND_INDEX_KEY is the demo key")
        elif len(sec.blind_index_key.get_secret_value()) < MIN_SECRET_LENGTH:
            problems.append(f"MICROCREDIT_SECURITY__BLIND_INDEX_KEY is shorter than {MIN_SECRET_LENGTH} characters")
        if sec.secret_key.get_secret_value() == DEMO_SECRET_KEY:
            problems.append("MICROCREDIT_SECURITY__SECRET_KEY is the demo key")
        elif len(sec.secret_key.get_secret_value()) < MIN_SECRET_LENGTH:
            problems.append(f"MICROCREDIT_SECURITY__SECRET_KEY is shorter than {MIN_SECRET_LENGTH} characters")
        for p in self.oauth_providers:
            if p.simulator or p.client_secret.get_secret_value() == DEMO_OAUTH_SECRET:
                problems.append(f"OAuth provider {p.name!r} is the built-in simulator")
        if self.sms_simulator:
            problems.append("MICROCREDIT_SMS_SIMULATOR is on (the SMS simulator's message box)")
        if not self.database_url:
            problems.append("MICROCREDIT_DATABASE_URL is not set (production needs a real database)")
        if problems:
            raise InsecureConfiguration(problems)


class InsecureConfiguration(RuntimeError):
    """Production mode was asked to run with demo secrets."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("refusing to start in production mode: " + "; ".join(problems))
        self.problems = problems


def load_settings(**overrides: object) -> Settings:
    """Read the settings from the environment, with explicit overrides."""
    return Settings(**overrides)  # type: ignore[arg-type]
