"""The composition root: builds, once per process, the long-lived parts the services are handed.

The API's app factory, the CLI, the tests and (later) the workers call
`build_runtime()`. Services never import this module: each takes the typed
parts it uses (`session=`, `clock=`, `kit=` …) as keyword arguments, so a
close-of-business partition in a worker builds only what it needs, without
the web app. This module is the one place that knows which implementation
of each port a deployment uses (Redis or the database for rate limits and
SMS codes, the SMS operator simulator or a real one).
"""

from __future__ import annotations

import gc
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import httpx2
from sqlalchemy.orm import Session

from microcredit.clock import Clock, SystemClock
from microcredit.cob.service import steps as cob_steps
from microcredit.cob.service.steps import CobKit
from microcredit.collections import service as collections
from microcredit.config import Mode, Settings
from microcredit.contracts import signing
from microcredit.contracts.service import Files as ContractFiles
from microcredit.db.engine import Database
from microcredit.identity.passwords import PasswordHasher
from microcredit.identity.service import accounts as identity_accounts
from microcredit.identity.service.kit import IdentityKit, SmsCodeStore
from microcredit.identity.service.oauth import OAuthGateway
from microcredit.identity.service.principals import PrincipalCache
from microcredit.identity.service.sessions import TOUCH_EVERY
from microcredit.identity.service.smscodes import DatabaseSmsCodeStore, RedisSmsCodeStore
from microcredit.integrations.email import SimulatedEmailServer
from microcredit.integrations.payments import PaymentProvider, PaymentSimulation, SimulatedPaymentProvider
from microcredit.integrations.sms import SimulatedSmsOperator, SmsChannel
from microcredit.notifications import service as notifications
from microcredit.origination.service import samples as origination_samples
from microcredit.parties import service as parties
from microcredit.parties.service.organisation import InstitutionInfo
from microcredit.platform.crypto import BlindIndex, FieldCipher, Keyring
from microcredit.platform.ratelimit import DatabaseRateLimiter, RateLimiter, RedisRateLimiter
from microcredit.platform.refcache import REGISTRY, ReferenceCache, ReferenceCaches
from microcredit.platform.storage import LocalStorage, S3Storage, Storage
from microcredit.risk import service as risk
from microcredit.risk.warnings import service as warnings
from microcredit.servicing.service import history as servicing_history
from microcredit.servicing.service import payments as servicing_payments
from microcredit.servicing.service.folds import FOLD_MEMO, FoldMemo


def _collections_step(session: Session, kit: CobKit, institution_id: int, on: date) -> dict[str, int]:
    """The close of business's step 7, once over the institution: collections' cases opened, escalated and
    closed from the loans' days past due on `on` (closed ones too: a loan paid off that day leaves the
    running loans), promises to pay followed up. Registered here, in the composition root, because
    collections sits above the close of business and cob never imports it. The cases that only move are read and
    written a partition at a time (`sync_cases_set`); `sync_cases` stays the reference."""
    report = collections.sync_cases_set(session=session, clock=kit.clock, kit=kit.identity,
                                        institution_id=institution_id, business_date=on,
                                        partition=kit.partition_size)
    return {"opened": len(report.opened), "escalated": len(report.escalated), "closed": len(report.closed),
            "promises_kept": len(report.promises_kept), "promises_broken": len(report.promises_broken),
            "set_based": report.set_based}


cob_steps.register(cob_steps.Step("collections", cob_steps.COLLECTIONS_POSITION, whole=_collections_step))


def _monitor_kit(kit: CobKit) -> warnings.monitoring.MonitorKit:
    return warnings.monitoring.MonitorKit(clock=kit.clock, identity=kit.identity, bureau=risk.current().bureau,
                                          email=kit.email)


def _warnings_step(session: Session, kit: CobKit, at: cob_steps.LoanAt) -> dict[str, int]:
    """Step 9: early warning's behaviour score, bureau refresh and loan rules (risk.warnings.service.monitoring),
    registered here for the same reason as collections'."""
    return dict(warnings.monitoring.monitor_loan(session=session, kit=_monitor_kit(kit),
                                                 institution_id=at.institution_id, loan_id=at.loan_id, on=at.on))


def _warnings_bulk(session: Session, kit: CobKit, institution_id: int, on: date, ids: list[int]) -> cob_steps.Bulk:
    """Step 9's set-based part over a partition (`warnings.monitoring.monitor_loans`); the loans it leaves go
    through `_warnings_step` one by one."""
    return warnings.monitoring.monitor_loans(session=session, kit=_monitor_kit(kit), institution_id=institution_id,
                                             on=on, ids=ids)


def _concentration_step(session: Session, kit: CobKit, institution_id: int, on: date) -> dict[str, int]:
    """Step 9½, once over the institution: early warning's concentration check on the day's scores."""
    return dict(warnings.monitoring.check_concentration(session=session, kit=_monitor_kit(kit),
                                                        institution_id=institution_id, on=on))


cob_steps.register(cob_steps.Step("warnings", warnings.monitoring.POSITION, _warnings_step, bulk=_warnings_bulk))
# A borrower frozen by an early warning's action: the automated review refers their new applications.
risk.register_referral("early_warning_freeze", warnings.handling.referral)
cob_steps.register(cob_steps.Step("warning_concentration", warnings.monitoring.CONCENTRATION_POSITION,
                                  whole=_concentration_step))


@dataclass(frozen=True)
class Runtime:
    """The parts one process shares: database, clock, keys, adapters, and the kits built from them."""

    settings: Settings
    db: Database
    clock: Clock
    keys: Keyring
    hasher: PasswordHasher
    limiter: RateLimiter
    identity: IdentityKit
    oauth: OAuthGateway
    sms: SmsChannel | None = None  # None: messages wait in the outbox until a channel is configured
    redis: Any | None = None
    # Institutions as pages show them, per process (platform.refcache); None: read every time.
    institutions: ReferenceCache[InstitutionInfo] | None = None
    # The database's reference caches (the ones its sessions find too); also the lists' kept pages
    # (api.deps.kept_page). None: nothing kept.
    references: ReferenceCaches | None = None
    # Where files (documents) are kept; None: storage_from(settings) on first use.
    storage: Storage | None = None
    # The payment provider money moves through (None: payments_from(settings) on first use).
    payment_provider: PaymentProvider | None = None

    @property
    def payments(self) -> PaymentProvider:
        """The payment provider (the simulator unless a deployment configures its adapter)."""
        return self.payment_provider if self.payment_provider is not None else payments_from(self.settings,
                                                                                              self.clock)

    @property
    def addressee(self) -> notifications.AddresseeLookup:
        """Where the outbox's dispatcher texts a user's in-app notifications (identity holds the phones)."""
        return identity_accounts.sms_addressee(self.identity)

    @property
    def outbox_handlers(self) -> dict[str, notifications.Handler]:
        """The outbox's work other than SMS, by topic: a payment provider's stored callback, applied."""
        def payment_callback(session: Session, payload: dict[str, Any]) -> None:
            servicing_payments.apply_stored_callback(session=session, clock=self.clock, provider=self.payments,
                                                     payload=payload)

        return {servicing_payments.CALLBACK_TOPIC: payment_callback}

    @property
    def cob(self) -> CobKit:
        """What the close of business's steps take (clock, identity's kit, payments, sizing)."""
        simulate = self.settings.email_simulator and self.settings.mode is not Mode.PRODUCTION
        email = SimulatedEmailServer(blind_index=self.keys.blind_index, clock=self.clock) if simulate else None
        return CobKit(clock=self.clock, identity=self.identity, payments=self.payments,
                      partition_size=self.settings.cob_partition_size, lease_seconds=self.settings.cob_lease_seconds,
                      email=email, contracts=ContractFiles(storage=self.files,
                                                           signer=signing.signer_files(self.settings)))

    @property
    def files(self) -> Storage:
        """The storage of files (documents, later contracts and vouchers)."""
        return self.storage if self.storage is not None else storage_from(self.settings)

    @property
    def sms_simulator(self) -> SimulatedSmsOperator | None:
        """The SMS operator simulator, when that is the channel (demo and tests)."""
        return self.sms if isinstance(self.sms, SimulatedSmsOperator) else None

    def close(self) -> None:
        """Release connections."""
        self.db.dispose()
        if self.redis is not None:
            self.redis.close()


def connect_redis(url: str) -> Any:
    """A Redis client for `url` (decoded responses)."""
    import redis

    return redis.Redis.from_url(url, decode_responses=True, socket_timeout=5,
                                socket_connect_timeout=5, health_check_interval=30)


def _sender_name(settings: Settings) -> Any:
    """The signature of SMS: the configured one, or the institution's name in the message's language."""

    def sender_name(session: Session, institution_id: int, language: str) -> str:
        if settings.sms_signature:
            return settings.sms_signature
        return parties.organisation.display_name(session=session, institution_id=institution_id,
                                                 language=language)

    return sender_name


def storage_from(settings: Settings) -> Storage:
    """The configured storage: local disk (the default) or an S3-compatible server."""
    if settings.storage == "s3":
        return S3Storage(bucket=settings.s3_bucket, endpoint_url=settings.s3_endpoint_url or None,
                         region=settings.s3_region, access_key_id=settings.s3_access_key_id or None,
                         secret_access_key=settings.s3_secret_access_key.get_secret_value() or None,
                         path_style=settings.s3_path_style, prefix=settings.s3_prefix)
    return LocalStorage(settings.resolved_storage_dir)


def payments_from(settings: Settings, clock: Clock) -> PaymentProvider:
    """The configured payment provider: so far only the built-in simulator."""
    return SimulatedPaymentProvider(
        clock=clock, secret=settings.payments_callback_secret.get_secret_value().encode(),
        public_url=settings.public_url,
        simulation=PaymentSimulation(seed=settings.payments_simulator_seed,
                                     delay_seconds=settings.payments_simulator_delay_seconds,
                                     failure_rate=settings.payments_simulator_failure_rate,
                                     duplicate_rate=settings.payments_simulator_duplicate_rate,
                                     late_rate=settings.payments_simulator_late_rate,
                                     late_seconds=settings.payments_simulator_late_seconds))


def build_runtime(settings: Settings, *, database: Database | None = None, clock: Clock | None = None,
                  redis: Any | None = None, sms: SmsChannel | None = None,
                  oauth_transport: httpx2.BaseTransport | None = None, storage: Storage | None = None) -> Runtime:
    """Assemble the process's parts from `settings` (tests may inject any of them)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    clock = clock or SystemClock()
    db = database or Database(settings.resolved_database_url, echo=settings.database_echo)
    # Reference data of this database (rule set in force, product versions, institutions ...), per process.
    references = ReferenceCaches(clock=clock, seconds=settings.reference_cache_seconds)
    db.share(REGISTRY, references)
    # The loans' folds of the day, made once and read by the later steps of the close of business.
    db.share(FOLD_MEMO, FoldMemo())
    sec = settings.security
    if redis is None and settings.redis_url:
        redis = connect_redis(settings.redis_url)
    limiter: RateLimiter = RedisRateLimiter(redis, clock) if redis is not None else DatabaseRateLimiter(clock)
    codes: SmsCodeStore = (
        RedisSmsCodeStore(redis=redis, ttl_seconds=sec.sms_code_ttl_seconds,
                          max_attempts=sec.sms_code_max_attempts) if redis is not None
        else DatabaseSmsCodeStore(clock=clock, ttl_seconds=sec.sms_code_ttl_seconds,
                                  max_attempts=sec.sms_code_max_attempts))
    keys = Keyring(cipher=FieldCipher.from_spec(sec.field_keys.get_secret_value(), sec.active_field_key),
                   blind_index=BlindIndex(sec.blind_index_key.get_secret_value().encode()),
                   signing_key=sec.secret_key.get_secret_value().encode())
    hasher = PasswordHasher(time_cost=sec.argon2_time_cost, memory_kib=sec.argon2_memory_kib)
    # The automated review's clock, keys and adapters (the bureau and ID check the settings name).
    # Risk's read interfaces over servicing's loans: the applicant's repayment history in the features, the
    # outcomes of loans paid out in the early default table (risk sits below servicing and reads no table of it);
    # origination's submitted applications, which the fraud check's anomaly model is trained from.
    risk.configure(replace(risk.from_settings(settings, clock=clock, keys=keys),
                           history=servicing_history.ServicingHistory(keys.blind_index),
                           outcomes=servicing_history.ServicingLoanOutcomes(),
                           applications=origination_samples.AnomalySample(keys.cipher)))
    if sms is None and settings.sms_simulator:
        sms = SimulatedSmsOperator(blind_index=keys.blind_index, clock=clock,
                                   fail_prefix=settings.sms_simulator_fail_prefix)
    return Runtime(
        settings=settings, db=db, clock=clock, keys=keys, hasher=hasher, limiter=limiter, redis=redis, sms=sms,
        identity=IdentityKit(clock=clock, policy=sec, keys=keys, hasher=hasher, limiter=limiter, codes=codes,
                             sender_name=_sender_name(settings),
                             principals=PrincipalCache(clock=clock, seconds=sec.principal_cache_seconds,
                                                       touch_every=TOUCH_EVERY)),
        oauth=OAuthGateway(providers=tuple(settings.oauth_providers), public_url=settings.public_url,
                           transport=oauth_transport),
        institutions=parties.organisation.institution_cache(clock=clock, seconds=settings.reference_cache_seconds),
        references=references,
        storage=storage or storage_from(settings), payment_provider=payments_from(settings, clock),
    )


def settle_heap() -> None:
    """Keep what start-up built out of the garbage collector's full collections (`gc.freeze`): called once a
    serving process (`api.app.create_served_app`) or a close-of-business process (`cob run`, `cob scheduler`, a pool
    or Celery worker) has built its parts.

    The application's start-up leaves ~450,000 tracked objects that live as long as the process
    (modules, routes, models, compiled statements). CPython's full (generation-2) collection walks
    every one of them, and it comes when a quarter as many new objects have survived: under load,
    every few seconds, a pause of 0.1--0.5 s in which every request in flight waits -- the tail of
    the signed-in reads (docs/performance.md, eighth pass); in a close of business, a share of every
    overdue loan's CPU (docs/performance.md, "A pool of two processes"). Collected once, then frozen: a full
    collection walks only what was made since. Frozen objects are never freed, which is what they
    are for; tests, which build many applications in one process, do not freeze.
    """
    gc.collect()
    gc.freeze()
