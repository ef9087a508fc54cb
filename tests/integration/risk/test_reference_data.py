"""The decision's reference data from the database's reference caches (platform.refcache).

The rule set in force, the blacklist and the champion/challenger pair are read once and kept for
`reference_cache_seconds`; a change made in this process (committed in another unit of work, as an
officer's request is) must be seen by the very next decision, and a change rolled back must never be
seen. Each decision here runs in its own unit of work, as a submission does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import event

from microcredit.platform.actor import Actor
from microcredit.risk import samples
from microcredit.risk import service as risk
from microcredit.risk.assessment import ApplicantFacts, Assessment, Decision
from tests.factories import make_institution

REFERENCE_TABLES = ("risk_rule_sets", "risk_rule_set_versions", "risk_blacklist", "risk_model_versions",
                    "risk_models")


@pytest.fixture
def inst(session, runtime):
    inst = make_institution(session, runtime)
    session.commit()
    return inst


def _decide(runtime: Any, facts: ApplicantFacts) -> Assessment:
    with runtime.db.unit_of_work() as s:
        return risk.assess(s, facts)


def _reference_reads(session: Any, run: Callable[[], Any]) -> tuple[Any, list[str]]:
    sent: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    conn = session.connection()
    event.listen(conn, "before_cursor_execute", note)
    try:
        value = run()
    finally:
        event.remove(conn, "before_cursor_execute", note)
    return value, [t for s in sent for t in REFERENCE_TABLES if f"FROM {t} " in f"{s} " or f"JOIN {t} " in s]


def test_a_second_decision_reads_no_reference_data(session, runtime, inst):
    facts = samples.base_facts(institution_id=inst.id)
    with runtime.db.unit_of_work() as s:  # the institution's first rule set (what a first decision would seed)
        risk.rulesets.seed_defaults(session=s, clock=runtime.clock, institution_id=inst.id)
    assert _decide(runtime, facts).decision == Decision.APPROVE
    decided, reads = _reference_reads(session, lambda: _decide(runtime, replace(facts, application_number="N-2")))
    assert decided.decision == Decision.APPROVE
    assert reads == []


def test_a_published_rule_set_is_seen_by_the_next_decision(session, runtime, inst):
    facts = samples.base_facts(institution_id=inst.id)
    assert _decide(runtime, facts).rule_set == "default@1"
    actor = Actor.system(inst.id)
    with runtime.db.unit_of_work() as s:
        rule_set = risk.rulesets.rule_set(session=s, institution_id=inst.id, code="default")
        draft = risk.rulesets.create_draft(session=s, clock=runtime.clock, actor=actor, rule_set=rule_set)
        # A limit no applicant meets: the new version declines the clean applicant.
        risk.rulesets.edit_draft(session=s, clock=runtime.clock, actor=actor, rule_set=rule_set,
                                 number=draft.number, parameters={**draft.parameters, "max_dti_pct": 0}, rules=None,
                                 note=None)
    assert _decide(runtime, facts).rule_set == "default@1"  # a draft is not in force
    with runtime.db.unit_of_work() as s:
        rule_set = risk.rulesets.rule_set(session=s, institution_id=inst.id, code="default")
        risk.rulesets.publish(session=s, clock=runtime.clock, actor=actor, rule_set=rule_set, number=draft.number)
    decided = _decide(runtime, replace(facts, application_number="N-2"))
    assert decided.rule_set == "default@2"
    assert decided.decision == Decision.DECLINE


def test_a_blacklist_entry_is_seen_by_the_next_decision_and_its_removal_too(session, runtime, inst):
    facts = samples.base_facts(institution_id=inst.id)
    actor = Actor.system(inst.id)
    assert _decide(runtime, facts).decision == Decision.APPROVE
    with runtime.db.unit_of_work() as s:
        entry = risk.blacklist.add(session=s, actor=actor, institution_id=inst.id, kind="phone", value=facts.phone,
                                   reason="欺诈")
        entry_id = entry.id
    declined = _decide(runtime, replace(facts, application_number="N-2"))
    assert declined.decision == Decision.DECLINE
    assert "blacklist_hit" in [r.code for r in declined.results if r.outcome == "fail"]
    with runtime.db.unit_of_work() as s:
        risk.blacklist.remove(session=s, actor=actor, institution_id=inst.id, entry_id=entry_id, reason="误报")
    assert _decide(runtime, replace(facts, application_number="N-3")).decision == Decision.APPROVE


def test_a_change_rolled_back_is_never_seen(session, runtime, inst):
    facts = samples.base_facts(institution_id=inst.id)
    actor = Actor.system(inst.id)
    assert _decide(runtime, facts).decision == Decision.APPROVE

    class Abandoned(Exception):
        """Raised to leave the unit of work, so that it rolls back."""

    def add_decide_and_abandon() -> None:
        with runtime.db.unit_of_work() as s:
            risk.blacklist.add(session=s, actor=actor, institution_id=inst.id, kind="id_number",
                               value=facts.id_number, reason="草稿")
            # The session that changed the blacklist reads it itself (uncommitted: not kept for others) ...
            assert risk.assess(s, replace(facts, application_number="N-2")).decision == Decision.DECLINE
            raise Abandoned

    with pytest.raises(Abandoned):
        add_decide_and_abandon()
    # ... and after its rollback nobody sees the entry.
    assert _decide(runtime, replace(facts, application_number="N-3")).decision == Decision.APPROVE


def test_another_institutions_reference_data_is_its_own(session, runtime, inst):
    other = make_institution(session, runtime)
    session.commit()
    facts = samples.base_facts(institution_id=inst.id)
    assert _decide(runtime, facts).decision == Decision.APPROVE
    with runtime.db.unit_of_work() as s:
        risk.blacklist.add(session=s, actor=Actor.system(other.id), institution_id=other.id, kind="id_number",
                           value=facts.id_number, reason="x")
    assert _decide(runtime, replace(facts, application_number="N-2")).decision == Decision.APPROVE
    assert _decide(runtime, replace(facts, institution_id=other.id, application_number="N-3")).decision \
        == Decision.DECLINE
