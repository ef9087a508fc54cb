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
import functools
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Literal

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Well-known demo secrets. Production refuses any of them.
DEMO_FIELD_KEY = "demo-1:" + base64.b64encode(b"microcredit-demo-field-key-32b!!").decode()
DEMO_BLIND_INDEX_KEY = "microcredit-demo-blind-index-key"
DEMO_SECRET_KEY = "microcredit-demo-secret-key"
DEMO_PAYMENTS_CALLBACK_SECRET = "demo-payment-callback-secret"
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
    # How long a process answers reads (GET/HEAD) from the principal a token resolved to, without
    # asking the database (0: never). Changes made in the same process are seen at once; those made
    # in another worker process within this bound (identity.service.principals).
    principal_cache_seconds: float = Field(default=2.0, ge=0, le=60)

    sms_code_ttl_seconds: int = Field(default=300, ge=60, le=600)
    sms_code_max_attempts: int = Field(default=5, ge=1, le=10)
    sms_resend_seconds: int = Field(default=60, ge=30)
    sms_per_phone_per_day: int = Field(default=10, ge=1)

    # An audit record is sealed (numbered, hashed) milliseconds after its action commits; `audit verify` calls
    # one still unsealed after this many seconds a problem (audit.service.verify).
    audit_unsealed_alarm_seconds: int = Field(default=60, ge=1)

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
    application_submit_per_user_per_hour: int = 30


class ReviewSettings(BaseModel):
    """The review in levels: how long an application may wait at each level (its SLA); past it the queue
    and the to-dos flag it as breached. The hours run on the wall clock, or, with
    `sla_in_working_hours`, only within the working day (`working_day_opens` to `_closes`, in the
    institution's time zone) of its business days (its holiday calendar)."""

    level1_sla_hours: int = Field(default=24, ge=1, le=24 * 30)
    level2_sla_hours: int = Field(default=24, ge=1, le=24 * 30)
    level3_sla_hours: int = Field(default=48, ge=1, le=24 * 30)
    sla_in_working_hours: bool = False
    working_day_opens: time = time(9)
    working_day_closes: time = time(17, 30)

    def sla_hours(self, level: int) -> int:
        """The SLA of `level` (1-3)."""
        return (self.level1_sla_hours, self.level2_sla_hours, self.level3_sla_hours)[level - 1]

    @model_validator(mode="after")
    def _day_in_order(self) -> ReviewSettings:
        if not self.working_day_opens < self.working_day_closes:
            raise ValueError("review.working_day_opens must be before review.working_day_closes")
        return self


class LimitSettings(BaseModel):
    """Request size limits, enforced before a body is parsed (413 `body_too_large`)."""

    # JSON (and any other non-upload) request bodies: every request body of the API is small.
    json_body_bytes: int = Field(default=64 * 1024, ge=1024)
    # multipart/form-data bodies (file uploads): above the largest document (a 15 MB PDF) plus the form.
    upload_body_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)


class DocumentSettings(BaseModel):
    """Limits of uploaded documents (documents.service): bytes as uploaded, per kind of content and type."""

    image_max_bytes: int = Field(default=8 * 1024 * 1024, ge=1024)
    pdf_max_bytes: int = Field(default=15 * 1024 * 1024, ge=1024)
    # Per document type, overriding the two above for that type (JSON, e.g. {"id_card": 4194304}).
    max_bytes_by_type: dict[str, int] = {}
    # Images are re-encoded with their long side at most this many pixels.
    image_max_side: int = Field(default=3000, ge=256, le=10000)
    # An image of more pixels than this is refused before it is decoded (a decompression bomb).
    image_max_pixels: int = Field(default=50_000_000, ge=1_000_000)
    jpeg_quality: int = Field(default=85, ge=50, le=95)
    uploads_per_user_per_hour: int = Field(default=60, ge=1)


class ContractSettings(BaseModel):
    """The institution's contract-signing certificate (contracts.signing): a PKCS#12 file, or a key and a
    certificate in PEM with the chain. Unset outside production: the demo CA's certificate under the data
    directory (`microcredit contracts init-demo-ca`); production refuses to sign without one configured."""

    signing_pkcs12: Path | None = None
    signing_pkcs12_password: SecretStr = SecretStr("")
    signing_key: Path | None = None
    signing_cert: Path | None = None
    # Intermediate and root certificates (PEM), comma separated, embedded beside the signature.
    signing_chain: str = ""
    # An RFC 3161 time-stamping authority (http or https URL) whose token goes into every signature (PAdES
    # B-T). Unset outside production: the built-in simulator under the demo CA; unset in production: none.
    timestamp_url: str | None = None
    timestamp_timeout: int = Field(default=10, ge=1, le=120)
    # How much goes into the signed PDF for verifying it years later (PAdES baseline level, ETSI EN 319 142-1):
    # B-T the time stamp; B-LT also the chain's revocation information (CRLs, OCSP answers) in the document
    # security store; B-LTA also a document time stamp over all of it. See docs/contracts.md for the trade-off.
    level: Literal["B-T", "B-LT", "B-LTA"] = "B-LTA"
    # Further trusted roots (PEM, comma separated) for checking the certificates before embedding their
    # revocation information, e.g. the time-stamping authority's root when it is not the signer's.
    validation_roots: str = ""
    # Where the demo CA's OCSP responder is reached (this service's own `/api/v1/pki/ocsp`): the base URL named in
    # the Authority Information Access of the certificates `init-demo-ca` issues. Demo and tests only.
    demo_pki_base_url: str = "http://127.0.0.1:8000"


OAuthProtocol = Literal["oauth2", "wechat", "alipay"]
# Scope asked for when a provider's settings name none.
DEFAULT_SCOPES: dict[str, str] = {"oauth2": "openid profile", "wechat": "snsapi_login", "alipay": "auth_user"}


class OAuthProvider(BaseModel):
    """One third-party login provider, in the protocol it speaks.

    * `oauth2` — standard authorisation code + PKCE (RFC 6749, RFC 7636):
      `authorize_url`, `token_url`, `userinfo_url`, `client_id`, `client_secret`.
    * `wechat` — WeChat website sign-in (网站应用微信登录): `authorize_url` is
      `…/connect/qrconnect`, `token_url` `…/sns/oauth2/access_token`,
      `userinfo_url` `…/sns/userinfo`; `client_id` is the AppID and
      `client_secret` the AppSecret.
    * `alipay` — Alipay user authorisation (`alipay.system.oauth.token`,
      `alipay.user.info.share`): `authorize_url` is
      `…/oauth2/publicAppAuthorize.htm`, `gateway_url` the open API gateway,
      `client_id` the app_id; requests are signed with `app_private_key` and
      answers verified with `provider_public_key` (RSA2). Keys are PEM, or the
      bare base64 text Alipay's console shows.
    """

    name: str
    display_name: str
    protocol: OAuthProtocol = "oauth2"
    client_id: str
    client_secret: SecretStr = SecretStr("")
    authorize_url: str
    token_url: str = ""
    userinfo_url: str = ""
    gateway_url: str = ""
    # Empty: the protocol's usual scope (DEFAULT_SCOPES).
    scope: str = ""
    app_private_key: SecretStr | None = None
    provider_public_key: str | None = None
    simulator: bool = False

    @field_validator("app_private_key")
    @classmethod
    def _private_pem(cls, v: SecretStr | None) -> SecretStr | None:
        if v is None or not v.get_secret_value().strip():
            return None
        return SecretStr(rsa_private_pem(v.get_secret_value()))

    @field_validator("provider_public_key")
    @classmethod
    def _public_pem(cls, v: str | None) -> str | None:
        return rsa_public_pem(v) if v and v.strip() else None

    @model_validator(mode="after")
    def _complete(self) -> OAuthProvider:
        self.scope = self.scope or DEFAULT_SCOPES[self.protocol]
        if self.protocol == "alipay":
            missing = [] if self.gateway_url else ["gateway_url"]
        else:
            missing = [f for f in ("token_url", "userinfo_url") if not getattr(self, f)]
            if not self.client_secret.get_secret_value():
                missing.append("client_secret")
        if missing:
            raise ValueError(f"a {self.protocol} provider needs {', '.join(missing)}")
        return self

    @property
    def has_keys(self) -> bool:
        """Alipay: both RSA keys are configured."""
        return self.app_private_key is not None and self.provider_public_key is not None


def _pem_or_base64(text: str, kind: str) -> bytes:
    text = text.strip()
    if text.startswith("-----BEGIN"):
        return text.encode()
    body = "".join(text.split())
    lines = "\n".join(body[i:i + 64] for i in range(0, len(body), 64))
    return f"-----BEGIN {kind}-----\n{lines}\n-----END {kind}-----\n".encode()


@functools.lru_cache(maxsize=16)
def rsa_private_pem(text: str) -> str:
    """An RSA private key (PEM, PKCS#1 or PKCS#8, or bare base64 PKCS#8) as PKCS#8 PEM; ValueError if not one.
    Kept per text: cryptography checks an RSA key as it loads it (~46 ms at 2,048 bits), and every `Settings`
    made (each CLI command, each worker, each test) validated the Alipay simulator's key again."""
    data = text.strip()
    candidates = [_pem_or_base64(data, "PRIVATE KEY"), _pem_or_base64(data, "RSA PRIVATE KEY")]
    for pem in candidates:
        try:
            key = serialization.load_pem_private_key(pem, password=None)
        except (ValueError, TypeError):
            continue
        if not isinstance(key, rsa.RSAPrivateKey) or key.key_size < 2048:
            raise ValueError("app_private_key must be an RSA key of at least 2048 bits")
        return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption()).decode()
    raise ValueError("app_private_key is not an RSA private key (PEM or base64)")


def rsa_public_pem(text: str) -> str:
    """An RSA public key (PEM or bare base64 SubjectPublicKeyInfo) as PEM; ValueError if not one."""
    try:
        key = serialization.load_pem_public_key(_pem_or_base64(text, "PUBLIC KEY"))
    except (ValueError, TypeError) as exc:
        raise ValueError("provider_public_key is not an RSA public key (PEM or base64)") from exc
    if not isinstance(key, rsa.RSAPublicKey) or key.key_size < 2048:
        raise ValueError("provider_public_key must be an RSA key of at least 2048 bits")
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


@dataclass(frozen=True)
class SimulatorKeys:
    """RSA key pairs of the built-in Alipay simulator and the app that talks to it (PEM)."""

    app_private: str
    provider_private: str
    provider_public: str


def _new_rsa_private_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


@functools.cache
def simulator_keys() -> SimulatorKeys:
    """The built-in Alipay simulator's keys: generated once per process, so the demo needs no set-up."""
    provider_private = _new_rsa_private_pem()
    public = serialization.load_pem_private_key(provider_private.encode(), password=None).public_key()
    return SimulatorKeys(app_private=_new_rsa_private_pem(), provider_private=provider_private,
                         provider_public=public.public_bytes(serialization.Encoding.PEM,
                                                             serialization.PublicFormat.SubjectPublicKeyInfo).decode())


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

    # Where files (documents) are kept: `local` (storage_dir, default <data_dir>/storage; outside the
    # web root) or `s3` (an S3-compatible server: the s3_* settings). See platform.storage.
    storage: Literal["local", "s3"] = "local"
    storage_dir: Path | None = None
    s3_endpoint_url: str = ""
    s3_bucket: str = ""
    s3_region: str = "us-east-1"
    s3_access_key_id: str = ""
    s3_secret_access_key: SecretStr = SecretStr("")
    s3_path_style: bool = True
    s3_prefix: str = ""

    security: SecuritySettings = SecuritySettings()
    documents: DocumentSettings = DocumentSettings()
    contracts: ContractSettings = ContractSettings()
    rate_limits: RateLimitSettings = RateLimitSettings()
    limits: LimitSettings = LimitSettings()
    review: ReviewSettings = ReviewSettings()
    # Who may read GET /metrics: callers from these addresses or networks (comma separated; the
    # address is the one `trusted_proxies` resolves), or any caller sending `Authorization: Bearer
    # <metrics_token>` when a token is set. Everyone else gets 404.
    metrics_allow: str = "127.0.0.1,::1"
    metrics_token: SecretStr = SecretStr("")
    # Third-party login providers (JSON list in MICROCREDIT_OAUTH_PROVIDERS).
    oauth_providers: list[OAuthProvider] = []
    # Add the built-in WeChat/Alipay simulators (served under /_sim/oauth, each in its
    # provider's dialect) for providers not configured above. Production refuses them.
    oauth_simulators: bool = True
    # Serve the SMS simulator's message box (GET /_sim/sms) — demo and tests only.
    sms_simulator: bool = True
    # E-mail through the built-in e-mail server simulator (its mailbox table) — demo and tests only:
    # production never uses it (no e-mail is sent there until a deployment plugs in its mail service).
    email_simulator: bool = True
    # The SMS simulator refuses numbers starting with this prefix (empty: none), so that demos
    # and tests can watch deliveries fail, be retried and die in the outbox monitor.
    sms_simulator_fail_prefix: str = Field(default="", pattern=r"^\d{0,11}$")
    # The SMS signature registered with the operator; empty: each institution's name.
    sms_signature: str = ""
    # The credit bureau and the name/ID-number check the automated review asks (risk); "simulator"
    # is the built-in simulator of each (integrations.bureau, integrations.id_check), the only
    # adapter so far: a real deployment adds its provider's adapter and names it here.
    bureau: Literal["simulator"] = "simulator"
    id_check: Literal["simulator"] = "simulator"
    # The payment provider money moves through (integrations.payments): "simulator" is the built-in
    # payment provider simulator, the only adapter so far (as for the bureau: a real deployment adds
    # its provider's adapter and names it here). Its behaviour:
    # settlement delay, shares of failed payments and of duplicated and late callbacks, the seed that
    # makes it deterministic; callbacks are signed with `payments_callback_secret` (HMAC-SHA256).
    payments: Literal["simulator"] = "simulator"
    payments_callback_secret: SecretStr = SecretStr(DEMO_PAYMENTS_CALLBACK_SECRET)
    payments_simulator_seed: int = 0
    payments_simulator_delay_seconds: int = Field(default=0, ge=0, le=86400)
    payments_simulator_failure_rate: float = Field(default=0.0, ge=0, le=1)
    payments_simulator_duplicate_rate: float = Field(default=0.0, ge=0, le=1)
    payments_simulator_late_rate: float = Field(default=0.0, ge=0, le=1)
    payments_simulator_late_seconds: int = Field(default=300, ge=0, le=86400)
    # Close of business: loans per partition (each step of a partition commits on its own), and how long a
    # run's heartbeat stays fresh (a run silent for longer is taken to have died and may be resumed).
    cob_partition_size: int = Field(default=2000, ge=1, le=100_000)
    cob_lease_seconds: int = Field(default=120, ge=1, le=86400)
    # When the scheduler (`microcredit cob scheduler`) closes each institution's yesterday, in the
    # institution's own time zone ("HH:MM"; None: no schedule, an operator or cron runs `cob run`), and how
    # often it looks.
    cob_close_at: time | None = None
    cob_schedule_check_seconds: int = Field(default=300, ge=5, le=86400)
    # The Celery queue the close of business's partitions go to (None: "microcredit.cob").
    cob_queue: str | None = None
    # `cob run --runner processes`: how many local processes work a step's partitions at once (None: one per CPU).
    cob_processes: int | None = Field(default=None, ge=1, le=256)
    # How often the API process delivers queued messages in the background (0: only right
    # after each request that queued some, and on `microcredit outbox dispatch`).
    outbox_poll_seconds: float = Field(default=5.0, ge=0)
    # `serve --workers N`: how long uvicorn's parent waits for a worker to answer its health ping before it
    # kills and replaces it. A worker answers only once it has built the app (imports, routes, caches:
    # seconds, more on a busy machine); uvicorn's own 5 s replaced workers still starting, again and again,
    # on a loaded 2-core machine (docs/performance.md, eighth pass). A worker hung for this long is replaced.
    worker_healthcheck_seconds: int = Field(default=60, ge=1, le=3600)
    # How long a process reads reference data (an institution's names, time zone and business date
    # as pages show them) from memory (0: never). Changes made in the same process are seen at once;
    # those made in another worker process within this bound (platform.refcache).
    reference_cache_seconds: float = Field(default=2.0, ge=0, le=60)
    # The fewest submitted applications the fraud check's anomaly model is trained from (docs/risk.md).
    fraud_model_min_applications: int = Field(default=200, ge=10)

    @model_validator(mode="after")
    def _defaults(self) -> Settings:
        configured = {p.name for p in self.oauth_providers}
        if self.oauth_simulators:
            self.oauth_providers = self.oauth_providers + [
                self._simulated_provider(name) for name in ("wechat", "alipay") if name not in configured]
        return self

    def _simulated_provider(self, name: str) -> OAuthProvider:
        """The built-in simulator of `name` (served under /_sim/oauth), in that provider's dialect."""
        base = f"{self.public_url.rstrip('/')}/_sim/oauth/{name}"
        if name == "wechat":
            return OAuthProvider(name=name, display_name="WeChat (simulator)", protocol="wechat",
                                 client_id="wx-microcredit-demo", client_secret=SecretStr(DEMO_OAUTH_SECRET),
                                 authorize_url=f"{base}/authorize", token_url=f"{base}/sns/oauth2/access_token",
                                 userinfo_url=f"{base}/sns/userinfo", simulator=True)
        keys = simulator_keys()
        return OAuthProvider(name=name, display_name="Alipay (simulator)", protocol="alipay",
                             client_id="2021000000000001", authorize_url=f"{base}/authorize",
                             gateway_url=f"{base}/gateway.do", app_private_key=SecretStr(keys.app_private),
                             provider_public_key=keys.provider_public, simulator=True)

    @property
    def resolved_database_url(self) -> str:
        """The database URL; the embedded SQLite file under `data_dir` when unset."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'microcredit.sqlite3').resolve()}"

    @property
    def resolved_storage_dir(self) -> Path:
        """The local storage directory: `storage_dir`, or `storage` under `data_dir`."""
        return (self.storage_dir or self.data_dir / "storage").resolve()

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
            elif p.protocol == "alipay" and not p.has_keys:
                problems.append(f"OAuth provider {p.name!r} (Alipay) lacks app_private_key or provider_public_key")
        if self.sms_simulator:
            problems.append("MICROCREDIT_SMS_SIMULATOR is on (the SMS simulator's message box)")
        callback = self.payments_callback_secret.get_secret_value()
        if callback == DEMO_PAYMENTS_CALLBACK_SECRET:
            problems.append("MICROCREDIT_PAYMENTS_CALLBACK_SECRET is the demo secret (anyone could confirm a payment)")
        elif len(callback) < MIN_SECRET_LENGTH:
            problems.append(f"MICROCREDIT_PAYMENTS_CALLBACK_SECRET is shorter than {MIN_SECRET_LENGTH} characters")
        if not self.database_url:
            problems.append("MICROCREDIT_DATABASE_URL is not set (production needs a real database)")
        if self.storage == "s3" and not self.s3_bucket:
            problems.append("MICROCREDIT_STORAGE is s3 but MICROCREDIT_S3_BUCKET is not set")
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
