"""The fraud check's side that reads the database: identifiers recorded at review, the graph around an
application, links to confirmed fraud, the anomaly model in force (the institution's own, trained from its
applications and approved through the model registry, else the built-in one), and the batch scan for rings.

`gather(session, kit, facts)` is called by `risk.service.assess` before the pure evaluation: it records the
application's identifiers (blind indices, in the caller's transaction, once per application and kind) and
answers the `Signals` of `check.py`. The graph around the application is walked breadth-first over shared
identifiers of the linking kinds, up to `MAX_COMPONENT` applications (a ring larger than that is a ring
anyway). Hours are read in China Standard Time, the institutions' zone.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from microcredit.audit import service as audit
from microcredit.lending.money import Money
from microcredit.platform import refcache
from microcredit.platform.actor import Actor
from microcredit.platform.crypto import mask_id_number, mask_middle, mask_phone
from microcredit.platform.validators import normalise_phone
from microcredit.risk.assessment import ApplicantFacts
from microcredit.risk.evaluation import age_of, term_months
from microcredit.risk.fraud import anomaly, graph
from microcredit.risk.fraud import repository as repo
from microcredit.risk.fraud.check import Signals
from microcredit.risk.fraud.models import FraudCase, FraudIdentifier
from microcredit.risk.registry import repository as registry_repo
from microcredit.risk.registry.models import RiskModel, RiskModelVersion
from microcredit.risk.service.kit import RiskKit

MAX_COMPONENT = 200
MODEL_SEED = 19
MODEL_POPULATION = 3_000
MODEL_FRAUD_SHARE = 0.02  # fraud is rare in an institution's intake; the forest learns what is usual
_model_lock = threading.Lock()


@functools.cache
def _trained() -> anomaly.Forest:
    from microcredit.risk.fraud import synth  # the training population, only when first needed

    pop = synth.population(MODEL_POPULATION, seed=MODEL_SEED, fraud_share=MODEL_FRAUD_SHARE)
    return anomaly.train([a.features.vector() for a in pop.applications], seed=MODEL_SEED)


def builtin() -> anomaly.Forest:
    """The built-in anomaly model: retrained deterministically from the synthetic population (seed 19, 3 000
    applications, 2 % planted fraud) once per process."""
    with _model_lock:
        return _trained()


@dataclass(frozen=True)
class InForce:
    """The anomaly model an institution's fraud check uses, and where its threshold comes from."""

    forest: anomaly.Forest
    label: str  # "builtin", or the registry's code@version
    threshold: float | None = None  # the model's own review threshold (None: the check's default)
    problem: str | None = None  # why the institution's model is not served (its bytes fail their digest)


_forests: OrderedDict[str, anomaly.Forest] = OrderedDict()


def _load(version: RiskModelVersion, label: str) -> InForce:
    with _model_lock:
        forest = _forests.get(version.sha256)
    if forest is None:
        try:  # the digest is checked before anything is built
            forest = anomaly.Forest.from_json(version.artefact.decode(), version.sha256)
        except (anomaly.ModelIntegrityError, UnicodeDecodeError, ValueError, KeyError) as exc:
            return InForce(builtin(), "builtin", None, f"{label}: {exc}")
        with _model_lock:
            _forests[version.sha256] = forest
            while len(_forests) > 4:
                _forests.popitem(last=False)
    threshold = (version.report or {}).get("threshold")
    review = float(threshold) if isinstance(threshold, int | float) else None  # house-rules: allow float (a score)
    return InForce(forest, label, review)


def in_force(session: Session, institution_id: int) -> InForce:
    """The institution's anomaly model in force: the registry's `fraud_anomaly` champion (approved by a second
    risk officer), else the built-in one. Kept as reference data like the credit champion; a stored forest is
    verified against its SHA-256 before it is built, and one that fails is not served (the built-in scores and
    the problem is kept)."""
    def load() -> InForce:
        version = registry_repo.in_role(session, institution_id, "champion", purpose="fraud_anomaly",
                                        with_artefact=True)
        if version is None:
            return InForce(builtin(), "builtin")
        session.refresh(version, attribute_names=["report"])
        model = registry_repo.model_by_id(session, version.model_id)
        return _load(version, f"{model.code if model else '?'}@{version.number}")

    return refcache.cached(session, "risk.fraud_anomaly_in_force", institution_id, load,
                           model=(RiskModel, RiskModelVersion), key_of=_institution_of)


def _institution_of(row: RiskModel | RiskModelVersion) -> int:
    return row.institution_id


def identifiers(facts: ApplicantFacts) -> dict[str, str]:
    """The application's identifiers in canonical form (kinds absent when not given)."""
    values = {"id_number": facts.id_number.strip().upper(), "phone": normalise_phone(facts.phone or ""),
              "device_id": (facts.device_id or "").strip(), "ip": (facts.ip or "").strip(),
              "bank_card": (facts.bank_card or "").replace(" ", "")}
    return {k: v for k, v in values.items() if v}


def _mask(kind: str, value: str) -> str:
    if kind == "id_number":
        return mask_id_number(value)
    if kind == "phone":
        return mask_phone(value)
    return mask_middle(value, 3, 3) if len(value) > 6 else value[:2] + "…"


def _index(kit: RiskKit, kind: str, value: str) -> str:
    return kit.keys.blind_index(value, domain=f"fraud.{kind}")


def features_of(facts: ApplicantFacts, hour: int) -> anomaly.Features:
    """The anomaly model's figures of an application."""
    def minor(m: Money | None) -> int | None:
        return None if m is None else m.minor

    return anomaly.Features(amount_minor=facts.amount.minor, term_months=term_months(facts),
                            income_minor=minor(facts.monthly_income), spending_minor=minor(facts.monthly_spending),
                            debt_minor=minor(facts.monthly_debt_payments), age=age_of(facts), hour=hour)


def record(session: Session, kit: RiskKit, facts: ApplicantFacts) -> list[FraudIdentifier]:
    """Keep the application's identifiers (once per application and kind; a resubmission updates nothing, and a
    first submission has none stored to look for)."""
    have = {} if facts.first_submission else {
        r.kind: r for r in repo.identifiers_of(session, facts.institution_id, facts.application_number)}
    values = identifiers(facts)
    person = _index(kit, "id_number", values["id_number"])
    new = [FraudIdentifier(institution_id=facts.institution_id, application_number=facts.application_number,
                           person_index=person, kind=kind, value_index=_index(kit, kind, value),
                           value_masked=_mask(kind, value), seen_at=facts.submitted_at)
           for kind, value in values.items() if kind not in have]
    repo.add_identifiers(session, new)
    return [*have.values(), *new]


def component(session: Session, institution_id: int, start: list[FraudIdentifier],
              config: graph.RingConfig) -> list[graph.Application]:
    """The applications linked to `start` by shared identifiers of the linking kinds (breadth-first, capped)."""
    rows: dict[str, dict[str, str]] = {}
    persons: dict[str, str] = {}
    frontier = {(r.kind, r.value_index) for r in start if r.kind in config.kinds}
    seen_pairs: set[tuple[str, str]] = set()
    for r in start:
        rows.setdefault(r.application_number, {})[r.kind] = r.value_index
        persons[r.application_number] = r.person_index
    while frontier and len(rows) < MAX_COMPONENT:
        seen_pairs |= frontier
        found = repo.sharing(session, institution_id, sorted(frontier), limit=MAX_COMPONENT)
        new_apps = sorted(found - set(rows))[:MAX_COMPONENT - len(rows)]
        for r in repo.of_applications(session, institution_id, new_apps):
            rows.setdefault(r.application_number, {})[r.kind] = r.value_index
            persons[r.application_number] = r.person_index
        frontier = {(k, v) for app in new_apps for k, v in rows.get(app, {}).items()
                    if k in config.kinds} - seen_pairs
    return [graph.Application(key, persons[key], ids) for key, ids in sorted(rows.items())]


@dataclass(frozen=True)
class Gathered:
    """The signals of one application and the component behind them (the case's members)."""

    signals: Signals
    members: tuple[str, ...]
    model_digest: str


def gather(session: Session, kit: RiskKit, facts: ApplicantFacts, *,
           config: graph.RingConfig = graph.RingConfig()) -> Gathered:
    """Record the application's identifiers and answer its fraud signals."""
    mine = record(session, kit, facts)
    apps = component(session, facts.institution_id, mine, config)
    feats = graph.features(apps, config).get(facts.application_number)
    pairs = [(r.kind, r.value_index) for r in mine if r.kind in config.kinds]
    links = repo.confirmed_links(session, facts.institution_id, pairs, facts.application_number)
    device = next((r for r in mine if r.kind == "device_id"), None)
    # New: a device the person never applied from, when they did apply before from others (someone else's
    # phone on a known account). A first application comes from the person's only known device.
    before = repo.person_devices(session, facts.institution_id, device.person_index,
                                 facts.application_number) if device is not None else set()
    new_device = device is not None and bool(before) and device.value_index not in before
    hour = facts.submitted_at.astimezone(ZoneInfo(facts.timezone)).hour  # the institution's local hour
    model = in_force(session, facts.institution_id)
    forest = model.forest
    signals = Signals(
        ring_persons=feats.component_persons if feats else 1,
        ring_applications=feats.component_applications if feats else 1,
        shared_identifiers=feats.shared_identifiers if feats else 0, confirmed_links=links,
        anomaly=forest.score_one(features_of(facts, hour)), new_device=new_device, hour=hour,
        anomaly_review=model.threshold)
    return Gathered(signals=signals, members=tuple(a.key for a in apps), model_digest=forest.digest)


@dataclass(frozen=True)
class ScanReport:
    """What a batch scan found."""

    applications: int
    rings: int
    opened: int


def scan(*, session: Session, kit: RiskKit, actor: Actor, institution_id: int,
         config: graph.RingConfig = graph.RingConfig()) -> ScanReport:
    """Find the rings among every application reviewed, and open a case for each ring not yet covered
    (a ring is covered when a case already holds all its applications). Audited as one action."""
    rows = repo.all_identifiers(session, institution_id, config.kinds)
    apps: dict[str, dict[str, str]] = {}
    persons: dict[str, str] = {}
    for r in rows:
        apps.setdefault(r.application_number, {})[r.kind] = r.value_index
        persons[r.application_number] = r.person_index
    found = graph.rings([graph.Application(k, persons[k], v) for k, v in apps.items()], config)
    covered = [set(c.members) for c in repo.all_cases(session, institution_id)]
    opened = 0
    now = kit.clock.now()
    for ring in found:
        members = set(ring.applications)
        if any(members <= c for c in covered):
            continue
        row = FraudCase(institution_id=institution_id, source="scan", status="open", application_number=None,
                        members=sorted(members), persons=ring.persons,
                        signals={"codes": ["fraud_ring"], "ring_persons": ring.persons,
                                 "ring_applications": len(members), "shared_identifiers": len(ring.shared)},
                        opened_at=now)
        repo.add(session, row)
        covered.append(members)
        opened += 1
    report = ScanReport(applications=len(apps), rings=len(found), opened=opened)
    audit.record(session=session, clock=kit.clock, actor=actor, action="risk_fraud.scanned",
                 entity_type="institution", entity_id=institution_id, institution_id=institution_id,
                 after={"applications": report.applications, "rings": report.rings, "opened": report.opened})
    return report
