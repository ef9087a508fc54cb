"""The institution's blacklist: ID numbers (encrypted, blind-indexed, shown masked), phones and device ids."""

from __future__ import annotations

from sqlalchemy.orm import Session

from microcredit.audit import service as audit
from microcredit.errors import NotFound
from microcredit.platform import refcache
from microcredit.platform.actor import Actor
from microcredit.platform.crypto import mask_id_number, mask_middle, mask_phone
from microcredit.platform.validators import InvalidIdentifier, normalise_phone, validate_id_number, validate_phone
from microcredit.risk import repository as repo
from microcredit.risk.assessment import ApplicantFacts
from microcredit.risk.errors import AlreadyBlacklisted, BlacklistEntryRemoved, BlacklistValueInvalid
from microcredit.risk.models import BLACKLIST_KINDS, BlacklistEntry
from microcredit.risk.service.kit import RiskKit, current

CONTEXT = "risk_blacklist.value"


def normalise(kind: str, value: str) -> str:
    """The canonical form of a value of `kind` (refused if not valid)."""
    value = value.strip()
    try:
        if kind == "id_number":
            return validate_id_number(value).number
        if kind == "phone":
            return validate_phone(normalise_phone(value))
    except InvalidIdentifier:
        raise BlacklistValueInvalid(field="value") from None
    if kind == "device_id" and 1 <= len(value) <= 128:
        return value
    raise BlacklistValueInvalid(field="value" if kind in BLACKLIST_KINDS else "kind")


def _index(kit: RiskKit, kind: str, value: str) -> str:
    return kit.keys.blind_index(value, domain=f"blacklist.{kind}")


def _mask(kind: str, value: str) -> str:
    if kind == "id_number":
        return mask_id_number(value)
    if kind == "phone":
        return mask_phone(value)
    return mask_middle(value, 3, 3)


def entries(*, session: Session, institution_id: int, include_removed: bool = False) -> list[BlacklistEntry]:
    """The blacklist, newest first."""
    return repo.blacklist(session, institution_id, include_removed=include_removed)


def add(*, session: Session, actor: Actor, institution_id: int, kind: str, value: str, reason: str,
        kit: RiskKit | None = None) -> BlacklistEntry:
    """Put an identifier on the blacklist (audited; the audit keeps only the masked value)."""
    kit = kit or current()
    canonical = normalise(kind, value)
    index = _index(kit, kind, canonical)
    if repo.blacklist_hits(session, institution_id, [(kind, index)]):
        raise AlreadyBlacklisted(field="value")
    entry = BlacklistEntry(
        institution_id=institution_id, kind=kind,
        value_ciphertext=kit.keys.cipher.encrypt(canonical, context=CONTEXT), value_index=index,
        value_masked=_mask(kind, canonical), reason=reason, created_at=kit.clock.now(),
        created_by_user_id=actor.user_id)
    repo.add(session, entry)
    audit.record(session=session, clock=kit.clock, actor=actor, action="risk_blacklist.added",
                 entity_type="risk_blacklist", entity_id=entry.id, institution_id=institution_id,
                 after={"kind": kind, "value": entry.value_masked, "reason": reason})
    return entry


def remove(*, session: Session, actor: Actor, institution_id: int, entry_id: int, reason: str,
           kit: RiskKit | None = None) -> BlacklistEntry:
    """Take an entry off the blacklist: the row stays, with who removed it, when and why."""
    kit = kit or current()
    entry = repo.blacklist_entry(session, institution_id, entry_id)
    if entry is None:
        raise NotFound()
    if entry.removed_at is not None:
        raise BlacklistEntryRemoved()
    entry.removed_at = kit.clock.now()
    entry.removed_by_user_id = actor.user_id
    entry.removed_reason = reason
    session.flush()
    audit.record(session=session, clock=kit.clock, actor=actor, action="risk_blacklist.removed",
                 entity_type="risk_blacklist", entity_id=entry.id, institution_id=institution_id,
                 before={"kind": entry.kind, "value": entry.value_masked}, after={"reason": reason})
    return entry


def hits(*, session: Session, kit: RiskKit, institution_id: int, facts: ApplicantFacts) -> set[str]:
    """Which of the applicant's identifiers (ID number, phone, device id) are on the blacklist.

    The institution's active entries are reference data (their blind indexes only): the database's
    reference caches (`platform.refcache`) keep them, an entry added or removed in this process is seen
    by the next decision, another worker's within the cache's bound."""
    values = (("id_number", facts.id_number.strip().upper()), ("phone", normalise_phone(facts.phone or "")),
              ("device_id", (facts.device_id or "").strip()))
    pairs = [(kind, _index(kit, kind, value)) for kind, value in values if value]
    listed = refcache.cached(session, "risk.blacklist", institution_id,
                             lambda: repo.active_blacklist(session, institution_id),
                             model=BlacklistEntry, key_of=_institution_of)
    return {kind for kind, index in pairs if (kind, index) in listed}


def _institution_of(entry: BlacklistEntry) -> int:
    return entry.institution_id
