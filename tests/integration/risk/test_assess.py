"""`assess` on real databases: the default rule set in force, the stored report, the blacklist."""

from __future__ import annotations

from dataclasses import replace

import pytest

from microcredit.integrations.bureau import report_from_json
from microcredit.platform.actor import Actor
from microcredit.risk import samples
from microcredit.risk import service as risk
from microcredit.risk.assessment import Decision
from microcredit.risk.errors import AlreadyBlacklisted, BlacklistValueInvalid
from tests.factories import make_institution


@pytest.fixture
def inst(session, runtime):
    inst = make_institution(session, runtime)
    session.commit()
    return inst


def test_assess_decides_with_the_default_rules_and_stores_the_report(session, runtime, inst):
    facts = samples.base_facts(institution_id=inst.id)
    assessment = risk.assess(session, facts)
    assert assessment.decision == Decision.APPROVE
    assert assessment.rule_set == "default@1"
    assert assessment.bureau_report_id is not None
    stored = risk.bureau_report(session=session, actor=Actor.system(inst.id), institution_id=inst.id,
                                report_id=int(assessment.bureau_report_id))
    assert report_from_json(stored.body).scenario == "clean_thick"
    assert stored.application_number == facts.application_number
    assert facts.id_number not in str(stored.body)


def test_no_report_is_fetched_or_stored_for_an_application_returned_at_once(session, runtime, inst):
    facts = replace(samples.base_facts(institution_id=inst.id), monthly_income=None)
    assessment = risk.assess(session, facts)
    assert assessment.decision == Decision.RETURN
    assert assessment.bureau_report_id is None
    assert assessment.needed == ("monthly_income",)


@pytest.mark.parametrize("kind", ["id_number", "phone", "device_id"])
def test_a_blacklisted_identifier_declines_until_it_is_removed(session, runtime, inst, kind):
    facts = samples.base_facts(institution_id=inst.id)
    actor = Actor.system(inst.id)
    value = {"id_number": facts.id_number.lower(), "phone": "+86 " + facts.phone, "device_id": facts.device_id}[kind]
    entry = risk.blacklist.add(session=session, actor=actor, institution_id=inst.id, kind=kind, value=str(value),
                               reason="欺诈")
    assert facts.id_number not in entry.value_ciphertext
    assert entry.value_masked != facts.id_number
    with pytest.raises(AlreadyBlacklisted):
        risk.blacklist.add(session=session, actor=actor, institution_id=inst.id, kind=kind, value=str(value),
                           reason="again")
    decided = risk.assess(session, facts)
    assert decided.decision == Decision.DECLINE
    assert [r.code for r in decided.results if r.outcome == "fail"] == ["blacklist_hit"]
    risk.blacklist.remove(session=session, actor=actor, institution_id=inst.id, entry_id=entry.id, reason="误报")
    assert risk.assess(session, facts).decision == Decision.APPROVE
    assert [e.id for e in risk.blacklist.entries(session=session, institution_id=inst.id, include_removed=True)] \
        == [entry.id]


def test_a_blacklist_value_must_be_valid(session, runtime, inst):
    with pytest.raises(BlacklistValueInvalid):
        risk.blacklist.add(session=session, actor=Actor.system(inst.id), institution_id=inst.id, kind="id_number",
                           value="110105199005170000", reason="x")


def test_another_institutions_blacklist_does_not_count(session, runtime, inst):
    other = make_institution(session, runtime)
    facts = samples.base_facts(institution_id=inst.id)
    risk.blacklist.add(session=session, actor=Actor.system(other.id), institution_id=other.id, kind="id_number",
                       value=facts.id_number, reason="x")
    assert risk.assess(session, facts).decision == Decision.APPROVE


def test_the_rules_are_compiled_once_per_version(session, runtime, inst, monkeypatch):
    from microcredit.risk.service import rulesets

    calls: list[str] = []
    real = rulesets.compile_rules

    def counting(label, rules, parameters):
        calls.append(label)
        return real(label, rules, parameters)

    monkeypatch.setattr(rulesets, "compile_rules", counting)
    monkeypatch.setattr(rulesets, "_cache", {})
    facts = samples.base_facts(institution_id=inst.id)
    for _ in range(3):
        risk.assess(session, facts)
    assert calls == ["default@1"]
    rule_set = risk.rulesets.rule_set(session=session, institution_id=inst.id, code="default")
    actor = Actor.system(inst.id)
    draft = risk.rulesets.create_draft(session=session, clock=runtime.clock, actor=actor, rule_set=rule_set)
    risk.rulesets.publish(session=session, clock=runtime.clock, actor=actor, rule_set=rule_set, number=draft.number)
    for _ in range(2):
        assert risk.assess(session, facts).rule_set == "default@2"
    assert calls == ["default@1", "default@2"]


def test_a_reused_version_id_with_other_rules_is_compiled_again(session, runtime, inst):
    from microcredit.risk.service import rulesets

    risk.rulesets.seed_defaults(session=session, clock=runtime.clock, institution_id=inst.id)
    rule_set = risk.rulesets.rule_set(session=session, institution_id=inst.id, code="default")
    [version] = risk.rulesets.versions(session=session, rule_set=rule_set)
    assert rulesets.compiled(rule_set, version).parameters["max_dti_pct"] == 55
    # The same id and lock version, other content (as after a rolled-back insert whose id came back).
    version.parameters = {**version.parameters, "max_dti_pct": 40}
    assert rulesets.compiled(rule_set, version).parameters["max_dti_pct"] == 40
    session.expire(version)
