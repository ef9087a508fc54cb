"""Fraud detection's pure parts: the identifier graph and rings, the isolation forest kept as arrays, the fraud
check's outcomes in the review, and recall/precision on a small synthetic population."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from microcredit.risk import evaluation, samples
from microcredit.risk.assessment import Decision, Outcome
from microcredit.risk.defaults import DEFAULT_PARAMETERS, DEFAULT_RULES
from microcredit.risk.fraud import anomaly, graph, synth
from microcredit.risk.fraud.check import Signals, Thresholds, odd_hour, results
from microcredit.risk.rules import compile_rules
from microcredit.risk.service.rulesets import _simulated_sources

App = graph.Application


def test_a_ring_needs_three_people_linked_by_identifiers_that_count():
    apps = [App("a1", "p1", {"device_id": "d1", "ip": "ip1"}), App("a2", "p2", {"device_id": "d1", "phone": "m2"}),
            App("a3", "p3", {"phone": "m2", "ip": "ip1"}),  # linked to a1 through a2's phone, not through the IP
            App("b1", "q1", {"ip": "ip1"}),  # shares only an IP: no link
            App("c1", "r1", {"bank_card": "c9"}), App("c2", "r2", {"bank_card": "c9"}),  # a couple: two people
            App("s1", "s", {"id_number": "s", "phone": "m5"}), App("s2", "s", {"id_number": "s", "phone": "m5"}),
            App("s3", "s", {"id_number": "s", "phone": "m6"})]  # one person applying three times
    found = graph.rings(apps)
    assert [(r.applications, r.persons) for r in found] == [(("a1", "a2", "a3"), 3)]
    assert set(found[0].shared) == {("device_id", "d1"), ("phone", "m2")}
    feats = graph.features(apps)
    assert (feats["a2"].component_persons, feats["a2"].shared_identifiers, feats["a2"].degree) == (3, 2, 2)
    assert [feats[k].in_ring for k in ("a1", "c1", "s1", "b1")] == [True, False, False, False]
    assert (feats["s1"].component_applications, feats["s1"].component_persons) == (3, 1)
    # Which kinds link and how many people make a ring are configurable: with IPs, b1 joins the ring.
    wide = graph.RingConfig(kinds=graph.DEFAULT_RING_KINDS | {"ip"}, min_persons=2)
    assert {r.applications for r in graph.rings(apps, wide)} == {("a1", "a2", "a3", "b1"), ("c1", "c2")}


def _rows(seed: int = 3) -> list[list[float]]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(600, len(anomaly.FEATURES)))
    x[:5] += 8  # five outliers
    return x.tolist()


def test_one_application_scores_as_the_batch_does():
    pop = synth.population(800, seed=4).applications
    forest = anomaly.train([a.features.vector() for a in pop], trees=20)
    batch = forest.score([a.features.vector() for a in pop])
    assert np.allclose([forest.score_one(a.features) for a in pop], batch, atol=1e-12)


def test_the_forest_scores_as_scikit_learn_does_and_is_deterministic():
    from sklearn.ensemble import IsolationForest

    rows = _rows()
    forest = anomaly.train(rows, seed=7, trees=50)
    reference = IsolationForest(n_estimators=50, max_samples=256, random_state=7).fit(np.asarray(rows, np.float32))
    ours = forest.score(rows)
    assert np.allclose(ours, -reference.score_samples(np.asarray(rows, np.float32)), atol=1e-12)
    assert ours[:5].min() > np.quantile(ours[5:], 0.99)  # the planted outliers score highest
    assert anomaly.train(rows, seed=7, trees=50).digest == forest.digest
    assert anomaly.train(rows, seed=8, trees=50).digest != forest.digest


def test_a_stored_forest_loads_only_with_its_digest():
    forest = anomaly.train(_rows(), seed=7, trees=10)
    text, digest = forest.to_json()
    again = anomaly.Forest.from_json(text, digest)
    assert np.array_equal(again.score(_rows()), forest.score(_rows()))
    with pytest.raises(anomaly.ModelIntegrityError):
        anomaly.Forest.from_json(text.replace('"seed":7', '"seed":9'), digest)
    with pytest.raises(anomaly.ModelIntegrityError):
        anomaly.Forest.from_json(text, "0" * 64)


@pytest.mark.parametrize(("signals", "codes", "outcome"), [
    (Signals(), [], None),
    (Signals(ring_persons=3, shared_identifiers=1), ["fraud_ring"], Outcome.FLAG),
    (Signals(ring_persons=2), [], None),
    (Signals(anomaly=0.7), ["fraud_anomaly"], Outcome.FLAG),
    (Signals(new_device=True, hour=3), ["fraud_odd_hour_new_device"], Outcome.FLAG),
    (Signals(new_device=False, hour=3), [], None),
    (Signals(new_device=True, hour=5), [], None),
    (Signals(confirmed_links=1, ring_persons=4), ["fraud_confirmed_link", "fraud_ring"], Outcome.FAIL),
])
def test_fraud_signals_to_outcomes(signals, codes, outcome):
    fired = results(signals, Thresholds())
    assert [f.code for f in fired] == codes
    if outcome is not None:
        assert fired[0].outcome == outcome


def test_thresholds_come_from_the_rule_set_parameters_when_set():
    t = Thresholds.of({"fraud_ring_min_persons": 5, "fraud_odd_hour_from": 22, "fraud_odd_hour_until": 6})
    assert (t.fraud_ring_min_persons, t.fraud_anomaly_review) == (5, Thresholds().fraud_anomaly_review)
    assert results(Signals(ring_persons=4), t) == []
    assert [odd_hour(h, t) for h in (23, 2, 6, 21)] == [True, True, False, False]


def _rules():
    return compile_rules("default@1", DEFAULT_RULES, DEFAULT_PARAMETERS)


@pytest.mark.parametrize(("signals", "decision", "code"), [
    (Signals(), Decision.APPROVE, None),
    (Signals(ring_persons=4, ring_applications=4, shared_identifiers=2), Decision.REFER, "fraud_ring"),
    (Signals(confirmed_links=1), Decision.DECLINE, "fraud_confirmed_link"),
])
def test_the_review_refers_or_declines_on_fraud_signals(signals, decision, code):
    facts = samples.base_facts()
    a = evaluation.evaluate(_rules(), facts, _simulated_sources(facts), fraud=signals).assessment
    assert a.decision == decision
    fraud = [r for r in a.results if r.stage == "fraud" and r.outcome != Outcome.PASS]
    assert [r.code for r in fraud] == ([code] if code else [])
    if code:
        assert fraud[0].message == f"risk.rule.{code}"


def test_a_rule_of_a_new_version_reads_the_fraud_signals():
    from microcredit.risk.rules import Rule, check

    rule = Rule(stage="fraud", code="big_ring", expression="fraud.ring_persons >= 6 && fraud.anomaly_pct > 50",  # type: ignore[arg-type]
                outcome=Outcome.FAIL)
    assert check([rule], {}) == []
    rules = compile_rules("default@2", (*DEFAULT_RULES, rule), DEFAULT_PARAMETERS)
    facts = replace(samples.base_facts())
    a = evaluation.evaluate(rules, facts, _simulated_sources(facts),
                            fraud=Signals(ring_persons=6, anomaly=0.55)).assessment
    assert a.decision == Decision.DECLINE
    assert "big_ring" in [r.code for r in a.results]


def test_recall_and_precision_on_a_small_population():
    scores = synth.evaluate(synth.population(2_000, seed=19))
    assert scores.fraud >= 150
    assert scores.recall >= 0.9, scores
    assert scores.precision >= 0.8, scores
    assert scores.rings_found >= 10
