"""The parts risk's use cases work with besides the session: clock, keys and the two outside services.

The composition root (`microcredit.runtime`) builds one per process and hands
it to `configure`; `assess(session, facts)` — the contract origination
calls — uses the configured kit. A process that configured none (a script, a
unit test) gets one built from the settings on first use: the clock of the
machine, the installation's keys and the adapters the settings name
(`MICROCREDIT_BUREAU`, `MICROCREDIT_ID_CHECK`; "simulator" is the only
built-in choice).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy.orm import Session

from microcredit.clock import Clock, SystemClock
from microcredit.config import Settings, load_settings
from microcredit.integrations.behaviour import BehaviourSource, SimulatedBehaviourSource
from microcredit.integrations.bureau import CreditBureau, SimulatedBureau
from microcredit.integrations.id_check import IdVerifier, SimulatedIdVerifier
from microcredit.platform.crypto import BlindIndex, FieldCipher, Keyring
from microcredit.risk.features import RepaymentHistory
from microcredit.risk.fraud.anomaly import Features
from microcredit.risk.service.outcomes import LoanOutcomes


class ApplicationSample(Protocol):
    """Read interface origination implements: the anomaly figures of an institution's submitted applications."""

    def anomaly_sample(self, session: Session, *, institution_id: int,
                       limit: int) -> list[tuple[str, Features]]:
        """(application number, figures) of the latest `limit` submitted applications, newest first."""
        ...


@dataclass(frozen=True)
class RiskKit:
    """The typed parts risk's use cases call."""

    clock: Clock
    keys: Keyring
    bureau: CreditBureau
    id_verifier: IdVerifier
    # The feature pipeline's sources besides the report: behaviour data (the simulator unless a provider is
    # wired) and the applicant's repayment history with the institution (None: every applicant is new).
    behaviour: BehaviourSource = field(default_factory=SimulatedBehaviourSource)
    history: RepaymentHistory | None = None
    # The outcomes of the loans paid out, for the early default table (None: an empty table).
    outcomes: LoanOutcomes | None = None
    # The institution's submitted applications, for training the fraud check's anomaly model (None: not wired).
    applications: ApplicationSample | None = None


_lock = threading.Lock()
_current: RiskKit | None = None


def adapters(settings: Settings) -> tuple[CreditBureau, IdVerifier]:
    """The bureau and ID check the settings name."""
    if settings.bureau != "simulator":
        raise ValueError(f"unknown credit bureau adapter {settings.bureau!r}")
    if settings.id_check != "simulator":
        raise ValueError(f"unknown ID check adapter {settings.id_check!r}")
    return SimulatedBureau(), SimulatedIdVerifier()


def from_settings(settings: Settings, *, clock: Clock | None = None, keys: Keyring | None = None) -> RiskKit:
    """A kit of these settings (the runtime passes its own clock and keys)."""
    if keys is None:
        sec = settings.security
        keys = Keyring(cipher=FieldCipher.from_spec(sec.field_keys.get_secret_value(), sec.active_field_key),
                       blind_index=BlindIndex(sec.blind_index_key.get_secret_value().encode()),
                       signing_key=sec.secret_key.get_secret_value().encode())
    bureau, verifier = adapters(settings)
    return RiskKit(clock=clock or SystemClock(), keys=keys, bureau=bureau, id_verifier=verifier)


def configure(kit: RiskKit) -> None:
    """Make `kit` the process's kit (the composition root calls this)."""
    global _current
    with _lock:
        _current = kit


def current() -> RiskKit:
    """The process's kit (built from the settings if nobody configured one)."""
    global _current
    with _lock:
        if _current is None:
            _current = from_settings(load_settings())
        return _current
