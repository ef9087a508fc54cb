"""Rule sets: versions, drafts, publishing, the compiled cache and the preview against sample applications.

A rule set's versions are numbered from 1. A risk officer creates a draft from
the version in force, edits its parameters and rules (every expression is
compiled and type-checked against the samples before anything is saved), and
publishes it: it is in force from then on, the one before is retired, and
neither changes again. Compiled programs are cached per version id (published
versions never change, so the cache never goes stale; a draft's entry is keyed
by its lock version as well).
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from microcredit.audit import service as audit
from microcredit.clock import Clock
from microcredit.errors import Conflict, FieldProblem
from microcredit.integrations.bureau import SimulatedBureau
from microcredit.integrations.id_check import SimulatedIdVerifier
from microcredit.platform import refcache
from microcredit.platform.actor import Actor
from microcredit.risk import defaults, evaluation, samples
from microcredit.risk import repository as repo
from microcredit.risk.assessment import ApplicantFacts, Assessment, Stage
from microcredit.risk.errors import DraftExists, RuleSetNotFound, RulesInvalid, VersionNotDraft
from microcredit.risk.fraud.check import Signals
from microcredit.risk.models import RuleSet, RuleSetVersion
from microcredit.risk.rules import CompiledRuleSet, Rule, check, compile_rules

# (version id, lock version) → (the rules and parameters compiled, the programs). The content is kept
# and compared on every hit: an id can come back with other content (a rolled-back insert's id reused
# by SQLite, several databases in one test process), and a deep comparison of the JSON is cheap.
_cache: dict[tuple[int, int], tuple[list[Any], dict[str, Any], CompiledRuleSet]] = {}
_cache_lock = threading.Lock()
_sample_contexts: dict[Stage, dict[str, Any]] = {}


def seed_defaults(*, session: Session, clock: Clock, institution_id: int) -> RuleSet | None:
    """Give an institution the default rule set, version 1 published (nothing if it has one)."""
    if repo.rule_set(session, institution_id, defaults.DEFAULT_CODE) is not None:
        return None
    now = clock.now()
    rs = RuleSet(institution_id=institution_id, code=defaults.DEFAULT_CODE, name=defaults.DEFAULT_NAME,
                 created_at=now)
    repo.add(session, rs)
    repo.add(session, RuleSetVersion(
        rule_set_id=rs.id, number=1, status="published", parameters=dict(defaults.DEFAULT_PARAMETERS),
        rules=[r.to_json() for r in defaults.DEFAULT_RULES], note=None, based_on_number=None, created_at=now,
        updated_at=now, published_at=now))
    return rs


def rule_sets(*, session: Session, institution_id: int) -> list[RuleSet]:
    """The institution's rule sets."""
    return repo.rule_sets(session, institution_id)


def rule_set(*, session: Session, institution_id: int, code: str) -> RuleSet:
    """One rule set by code."""
    rs = repo.rule_set(session, institution_id, code)
    if rs is None:
        raise RuleSetNotFound()
    return rs


def versions(*, session: Session, rule_set: RuleSet) -> list[RuleSetVersion]:
    """Its versions, newest first."""
    return repo.versions(session, rule_set.id)


def version(*, session: Session, rule_set: RuleSet, number: int) -> RuleSetVersion:
    """One version."""
    v = repo.version(session, rule_set.id, number)
    if v is None:
        raise RuleSetNotFound()
    return v


def rules_of(v: RuleSetVersion) -> list[Rule]:
    """A version's rules as values."""
    return [Rule.from_json(r) for r in v.rules]


def label(rs: RuleSet, v: RuleSetVersion) -> str:
    """code@number."""
    return f"{rs.code}@{v.number}"


def compiled(rs: RuleSet, v: RuleSetVersion) -> CompiledRuleSet:
    """The compiled rules of a version, compiled once (per version id and lock version, content checked)."""
    key = (v.id, v.lock_version)
    hit = _cache.get(key)
    name = label(rs, v)
    if hit is not None and hit[0] == v.rules and hit[1] == v.parameters and hit[2].label == name:
        return hit[2]
    found = compile_rules(name, rules_of(v), v.parameters)
    with _cache_lock:
        _cache[key] = (copy.deepcopy(v.rules), copy.deepcopy(v.parameters), found)
    return found


def _in_force_key(row: RuleSet | RuleSetVersion) -> Hashable:
    # A version's row does not name its institution: a change to any version forgets every institution's.
    return row.institution_id if isinstance(row, RuleSet) else refcache.ALL


def in_force(*, session: Session, clock: Clock, institution_id: int) -> CompiledRuleSet:
    """The compiled default rule set in force (seeded first if the institution has none yet).

    Reference data: the database's reference caches (`platform.refcache`) keep it per institution;
    a publication in this process is seen by the next decision, another worker's within the cache's
    bound."""

    def load() -> CompiledRuleSet:
        found = repo.published_of(session, institution_id, defaults.DEFAULT_CODE)
        if found is None:
            seed_defaults(session=session, clock=clock, institution_id=institution_id)
            found = repo.published_of(session, institution_id, defaults.DEFAULT_CODE)
            assert found is not None
        return compiled(*found)

    return refcache.cached(session, "risk.rule_set_in_force", institution_id, load,
                           model=(RuleSet, RuleSetVersion), key_of=_in_force_key)


# --- type-checking against a sample -----------------------------------------------

def _sample_context(stage: Stage, parameters: Mapping[str, Any]) -> dict[str, Any]:
    """The variables of the clean sample, as a rule of `stage` sees them (parameters of the draft)."""
    if not _sample_contexts:
        facts = samples.base_facts()
        report = SimulatedBureau().report(id_number=facts.id_number, name=facts.name,
                                          on=facts.submitted_at.date())
        bureau = evaluation.bureau_variables(report)
        dti = evaluation.dti_pct(facts, bureau)
        sc = evaluation.score_of(facts, bureau, dti)
        full = {"facts": evaluation.facts_variables(facts), "velocity": evaluation.velocity_variables(facts),
                "blacklist": {"hit": False, "kinds": []}, "identity": {"result": "match", "matched": True,
                                                                      "source": "simulator"},
                "bureau": bureau, "dti_pct": dti, "score": sc.points, "grade": sc.grade,
                "fraud": Signals().variables()}
        _sample_contexts.update({s: full for s in Stage})
    return {**_sample_contexts[stage], "params": dict(parameters)}


def validate(rules: Sequence[Rule], parameters: Mapping[str, Any]) -> None:
    """Refuse rules that do not compile, read what their stage lacks, or are not boolean (nothing saved)."""
    problems = check(rules, parameters, sample=lambda stage: _sample_context(stage, parameters))
    if problems:
        raise RulesInvalid([FieldProblem(
            f"rules[{p.index}].{p.field}" if p.index >= 0 else p.field, p.code, p.detail, p.detail)
            for p in problems])


# --- drafts and publishing ---------------------------------------------------------

def create_draft(*, session: Session, clock: Clock, actor: Actor, rule_set: RuleSet,
                 note: str | None = None) -> RuleSetVersion:
    """A new draft, a copy of the version in force."""
    if any(v.status == "draft" for v in repo.versions(session, rule_set.id)):
        raise DraftExists()
    base = repo.published(session, rule_set.id)
    now = clock.now()
    draft = RuleSetVersion(
        rule_set_id=rule_set.id, number=repo.latest_number(session, rule_set.id) + 1, status="draft",
        parameters=dict(base.parameters) if base else dict(defaults.DEFAULT_PARAMETERS),
        rules=list(base.rules) if base else [r.to_json() for r in defaults.DEFAULT_RULES], note=note,
        based_on_number=base.number if base else None, created_at=now, created_by_user_id=actor.user_id,
        updated_at=now)
    repo.add(session, draft)
    audit.record(session=session, clock=clock, actor=actor, action="risk_rule_set.draft_created",
                 entity_type="risk_rule_set", entity_id=rule_set.id, institution_id=rule_set.institution_id,
                 after={"version": draft.number, "based_on": draft.based_on_number})
    return draft


def edit_draft(*, session: Session, clock: Clock, actor: Actor, rule_set: RuleSet, number: int,
               parameters: Mapping[str, Any] | None, rules: Sequence[Rule] | None, note: str | None,
               lock_version: int | None = None) -> RuleSetVersion:
    """Change a draft's parameters, rules or note; refused whole if one rule is invalid."""
    v = repo.version(session, rule_set.id, number, for_update=True)
    if v is None:
        raise RuleSetNotFound()
    if v.status != "draft":
        raise VersionNotDraft()
    if lock_version is not None and lock_version != v.lock_version:
        raise Conflict(field="lock_version")
    new_params = dict(parameters) if parameters is not None else dict(v.parameters)
    new_rules = list(rules) if rules is not None else rules_of(v)
    validate(new_rules, new_params)
    before = {"parameters": v.parameters, "rules": len(v.rules)}
    v.parameters = new_params
    v.rules = [r.to_json() for r in new_rules]
    if note is not None:
        v.note = note
    v.updated_at = clock.now()
    session.flush()
    audit.record(session=session, clock=clock, actor=actor, action="risk_rule_set.draft_edited",
                 entity_type="risk_rule_set", entity_id=rule_set.id, institution_id=rule_set.institution_id,
                 before=before, after={"version": v.number, "parameters": new_params, "rules": len(new_rules)})
    return v


def publish(*, session: Session, clock: Clock, actor: Actor, rule_set: RuleSet, number: int) -> RuleSetVersion:
    """Put a draft in force: the version in force before is retired; neither changes again."""
    v = repo.version(session, rule_set.id, number, for_update=True)
    if v is None:
        raise RuleSetNotFound()
    if v.status != "draft":
        raise VersionNotDraft()
    validate(rules_of(v), v.parameters)
    old = repo.published(session, rule_set.id)
    if old is not None:
        old.status = "retired"
        session.flush()
    v.status = "published"
    v.published_at = clock.now()
    v.published_by_user_id = actor.user_id
    session.flush()
    audit.record(session=session, clock=clock, actor=actor, action="risk_rule_set.published",
                 entity_type="risk_rule_set", entity_id=rule_set.id, institution_id=rule_set.institution_id,
                 before={"version": old.number if old else None}, after={"version": v.number})
    return v


# --- preview -------------------------------------------------------------------------

@dataclass(frozen=True)
class PreviewRow:
    """One sample's decision under the version in force and under the draft."""

    name: str
    facts: ApplicantFacts
    current: Assessment
    draft: Assessment


def _simulated_sources(facts: ApplicantFacts) -> evaluation.Sources:
    bureau, verifier = SimulatedBureau(), SimulatedIdVerifier()
    return evaluation.Sources(
        identity=lambda: verifier.verify(id_number=facts.id_number, name=facts.name),
        bureau=lambda: bureau.report(id_number=facts.id_number, name=facts.name, on=facts.submitted_at.date()))


def preview(*, session: Session, clock: Clock, rule_set: RuleSet, number: int,
            extra: Mapping[str, ApplicantFacts] | None = None) -> list[PreviewRow]:
    """Every sample (and the ones typed in) decided by the version in force and by version `number`.

    The reports and ID checks come from the simulators whatever the settings
    say (a preview never queries a real bureau); the `blacklisted` sample is
    treated as on the blacklist.
    """
    v = repo.version(session, rule_set.id, number)
    if v is None:
        raise RuleSetNotFound()
    current_v = repo.published(session, rule_set.id) or v
    current, draft = compiled(rule_set, current_v), compiled(rule_set, v)
    rows = []
    cases = {**samples.samples(institution_id=rule_set.institution_id), **(extra or {})}
    for name, facts in cases.items():
        kinds = frozenset({"id_number"}) if name == samples.BLACKLISTED_SAMPLE else frozenset()
        rows.append(PreviewRow(
            name=name, facts=facts,
            current=evaluation.evaluate(current, facts, _simulated_sources(facts), blacklist_kinds=kinds).assessment,
            draft=evaluation.evaluate(draft, facts, _simulated_sources(facts), blacklist_kinds=kinds).assessment))
    return rows
