"""Risk-based price and limit through the API (issue 19 §3): an application asking more than its grade and
income allow is referred with `max_amount` the offer, a reviewer counter-offers it, the borrower accepts.

The review is risk's own rules and offer (`risk.evaluation.evaluate` with the default rule set), on the facts
origination built from the product (its limit table and bound by income); only the outside answers are the
simulators', the applicant's documents are taken as on file, and the bureau's file reports no other
monthly payments (the stated ones count: the test sets the figures).
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from microcredit.integrations.bureau import SimulatedBureau
from microcredit.integrations.id_check import SimulatedIdVerifier
from microcredit.origination.service import review
from microcredit.risk import defaults, evaluation, samples
from microcredit.risk.assessment import ApplicantFacts, Assessment
from microcredit.risk.rules import compile_rules
from tests.factories import make_borrower, make_branch, make_institution, make_staff
from tests.integration.helpers import assert_problem, shared_client, signed_in
from tests.integration.origination.support import PLAN, publish_product

ME = "/api/v1/me/applications"
APPS = "/api/v1/applications"
RULES = compile_rules("default@1", defaults.DEFAULT_RULES, defaults.DEFAULT_PARAMETERS)
LIMITS = {"A": "20000.00", "B": "20000.00", "C": "15000.00", "D": "10000.00", "E": "5000.00"}


# The bureau's file of each borrower by name: the simulator answers by ID number, so each is asked with the ID
# of one of risk's samples: 赵六 a clean thick file (grade A), 钱七 late payments (grade C).
FILES = {"赵六": samples.sample_id_number("941"), "钱七": samples.sample_id_number("961")}


def rules_with_simulators(session, facts: ApplicantFacts) -> Assessment:
    """The default rules and the offer, the simulated ID check and bureau, the documents on file."""
    facts = replace(facts, documents=facts.required_documents)
    bureau, verifier = SimulatedBureau(), SimulatedIdVerifier()
    clean = samples.base_facts()

    def report():
        found = bureau.report(id_number=FILES[facts.name], name=clean.name, on=facts.submitted_at.date())
        return replace(found, summary=replace(found.summary, monthly_payments_minor=0))

    return evaluation.evaluate(RULES, facts, evaluation.Sources(
        identity=lambda: verifier.verify(id_number=clean.id_number, name=clean.name), bureau=report)).assessment


@pytest.fixture
def client(runtime, backend):
    """A client of the worker's app for this backend."""
    yield from shared_client(runtime, backend)


@pytest.fixture
def world(session, runtime, monkeypatch):
    """A product with a limit table and a 50 % bound by income, a borrower, a first-level approver."""
    inst = make_institution(session, runtime)
    branch = make_branch(session, runtime, inst)
    publish_product(session, runtime, inst, limits=LIMITS, max_dsr_percent="50",
                    approval_policy=[{"up_to_amount": "20000.00", "worst_grade": "E", "levels": 1}])
    borrower = make_borrower(session, runtime, inst, branch=branch, password=None, real_name="赵六")
    poorer = make_borrower(session, runtime, inst, branch=branch, password=None, real_name="钱七")
    approver = make_staff(session, runtime, inst, roles=("approver_l1",), branch=branch, password=None)
    w = {"h": signed_in(session, runtime, borrower.user), "poorer": signed_in(session, runtime, poorer.user),
         "l1": signed_in(session, runtime, approver.user)}
    session.commit()
    monkeypatch.setattr(review, "default_assessor", lambda: rules_with_simulators)
    return w


def _submit(client, h, **plan):
    draft = client.post(ME, headers=h, json={**PLAN, **plan})
    assert draft.status_code == 201, draft.text
    r = client.post(f"{ME}/{draft.json()['id']}/submit", headers=h)
    assert r.status_code == 200, r.text
    return r.json()


def test_asking_too_much_is_referred_at_the_offer_countered_and_accepted(client, world):
    # Income ¥7,000 and ¥300 of other debts; ¥20,000 over 6 months: the debt-to-income knock-out (principal
    # only, 52 % ≤ 55 %) lets it through; with interest and fees the payments take ~53 % of the income, above 50 %.
    mine = _submit(client, world["h"], amount="20000.00", term=6, monthly_income="7000.00")
    staff = client.get(f"{APPS}/{mine['id']}", headers=world["l1"]).json()
    priced = staff["affordability"]
    assert priced is not None, [(r["code"], r["outcome"]) for r in staff["results"] if r["outcome"] != "pass"]
    assert mine["status"] == "referred", staff["results"]
    assert priced["outcome"] == "flag"
    assert staff["max_amount"] == priced["offer"] == mine["offer"]
    assert mine["offer_reason"] == priced["code"]
    offer = priced["offer"]
    assert float(offer) < 20000
    assert float(offer) % 100 == 0
    assert float(priced["dsr_percent"]) > 50
    assert priced["max_dsr_percent"] == "50"
    assert priced["rate_percent"] == {"A": "6", "B": "7", "C": "8", "D": "9", "E": "10"}[priced["grade"]]
    assert priced["grade_limit"] == LIMITS[priced["grade"]]
    [stored] = [r for r in staff["results"] if r["code"] == priced["code"]]
    assert (stored["stage"], stored["params"]["offer"]) == ("decision", offer)

    # The reviewer counter-offers at the offer with one click (the amount is the max_amount shown).
    r = client.post(f"{APPS}/{mine['id']}/review", headers=world["l1"],
                    json={"action": "counter_offer", "level": 1, "amount": offer})
    assert (r.status_code, r.json()["status"]) == (200, "counter_offered"), r.text
    mine = client.get(f"{ME}/{mine['id']}", headers=world["h"]).json()
    assert (mine["counter_amount"], mine["offer"]) == (offer, offer)

    mine = client.post(f"{ME}/{mine['id']}/counter-offer/accept", headers=world["h"], json={}).json()
    assert (mine["amount"], mine["counter_amount"]) == (offer, None)
    assert mine["timeline"][-1]["reason_code"] == "counter_offer_accepted"


def test_within_the_offer_nothing_changes_and_below_the_smallest_amount_it_declines(client, world):
    mine = _submit(client, world["h"], amount="3000.00", term=6, monthly_income="20000.00")
    staff = client.get(f"{APPS}/{mine['id']}", headers=world["l1"]).json()
    assert staff["affordability"] is not None, (mine["status"], [(r["code"], r["outcome"], r["params"])
                                                                 for r in staff["results"] if r["outcome"] != "pass"])
    assert (staff["affordability"]["code"], staff["affordability"]["outcome"]) == ("affordability", "pass")
    assert mine["offer"] is None
    assert staff["max_amount"] is None

    # ¥2,000 of income, ¥950 of other debts: half the income leaves ¥50 a month, about ¥500 over a year, less than
    # the product's smallest ¥1,000 (the debt-to-income knock-out, principal only, 52 %, lets it through).
    mine = _submit(client, world["h"], amount="1000.00", term=12, monthly_income="2000.00",
                   monthly_debt_payments="950.00")
    staff = client.get(f"{APPS}/{mine['id']}", headers=world["l1"]).json()
    assert mine["status"] == "declined", [(r["code"], r["outcome"]) for r in staff["results"] if r["outcome"] != "pass"]
    assert (staff["affordability"]["code"], staff["affordability"]["outcome"]) == ("debt_service_ratio", "fail")
    assert float(staff["affordability"]["offer"]) < 1000
    assert [r["code"] for r in mine["decline_reasons"]] == ["debt_service_ratio"]
    assert mine["offer"] is None


def test_the_same_ask_gets_the_limit_of_each_applicants_grade(client, world):
    # Both ask ¥18,000 over 6 months with an income that leaves the debt-service bound far above it: the grade's
    # limit alone decides. Grade A's ¥20,000 covers the ask; grade C's ¥15,000 does not.
    good = _submit(client, world["h"], amount="18000.00", term=6, monthly_income="60000.00")
    poor = _submit(client, world["poorer"], amount="18000.00", term=6, monthly_income="60000.00")
    good_staff = client.get(f"{APPS}/{good['id']}", headers=world["l1"]).json()
    poor_staff = client.get(f"{APPS}/{poor['id']}", headers=world["l1"]).json()
    good_priced, poor_priced = good_staff["affordability"], poor_staff["affordability"]
    assert (good_priced["grade"], poor_priced["grade"]) == ("A", "C"), (good_staff["results"], poor_staff["results"])

    # Grade A: within its limit, nothing lowered, approved as asked.
    assert (good_priced["code"], good_priced["outcome"], good_priced["offer"]) == ("affordability", "pass", "20000.00")
    assert (good["status"], good["offer"], good_staff["max_amount"]) == ("approved", None, None)

    # Grade C: referred at its grade's limit, the record naming the grade limit (not the income) as the bound.
    assert (poor_priced["code"], poor_priced["outcome"]) == ("grade_limit", "flag")
    assert (poor_priced["grade_limit"], poor_priced["offer"]) == ("15000.00", "15000.00")
    assert poor_priced["dsr_limit"] == "15000.00"  # the income allows the whole limit (the search stops there)
    assert float(poor_priced["dsr_percent"]) < float(poor_priced["max_dsr_percent"])
    assert (poor["status"], poor["offer"], poor["offer_reason"]) == ("referred", "15000.00", "grade_limit")
    assert poor_staff["max_amount"] == "15000.00"
    [stored] = [r for r in poor_staff["results"] if r["code"] == "grade_limit"]
    assert (stored["stage"], stored["params"]["grade"], stored["params"]["grade_limit"]) == (
        "decision", "C", "15000.00")

    # Approving the ¥18,000 asked, above the grade's limit, goes against the model: it needs an override reason.
    seen = client.get(f"{APPS}/{poor['id']}/review", headers=world["l1"]).json()
    assert (seen["override_needed"], seen["offer"]) == (["approve"], "15000.00")
    # So does a counter-offer between the offer and the ask: lower than asked is not down to the offer.
    between = {"action": "counter_offer", "level": 1, "amount": "16000.00"}
    refused = assert_problem(client.post(f"{APPS}/{poor['id']}/review", headers=world["l1"], json=between), 422)
    assert [(e["field"], e["code"]) for e in refused["errors"]] == [("override_reason", "override_reason_required")]
    shorter = {"action": "counter_offer", "level": 1, "term": 3}  # the ask's amount on a shorter term: the same
    refused = assert_problem(client.post(f"{APPS}/{poor['id']}/review", headers=world["l1"], json=shorter), 422)
    assert [(e["field"], e["code"]) for e in refused["errors"]] == [("override_reason", "override_reason_required")]
    body = {"action": "approve", "level": 1}
    refused = assert_problem(client.post(f"{APPS}/{poor['id']}/review", headers=world["l1"], json=body), 422)
    assert [(e["field"], e["code"]) for e in refused["errors"]] == [("override_reason", "override_reason_required")]
    assert client.get(f"{ME}/{poor['id']}", headers=world["poorer"]).json()["status"] == "referred"
    r = client.post(f"{APPS}/{poor['id']}/review", headers=world["l1"],
                    json={**body, "override_reason": "collateral_offered"})
    assert r.status_code == 200, r.text
    assert r.json()["steps"][-1]["override_reason"] == "collateral_offered"


def test_a_counter_offer_down_to_the_offer_needs_no_override_reason(client, world):
    poor = _submit(client, world["poorer"], amount="18000.00", term=6, monthly_income="60000.00")
    assert (poor["status"], poor["offer"]) == ("referred", "15000.00")
    r = client.post(f"{APPS}/{poor['id']}/review", headers=world["l1"],
                    json={"action": "counter_offer", "level": 1, "amount": "15000.00", "override_reason": "other"})
    assert r.status_code == 200, r.text
    step = r.json()["steps"][-1]
    # Not against the model: no override is recorded, even when one was sent.
    assert (step["action"], step["counter_amount"], step["override_reason"]) == ("counter_offer", "15000.00", None)
    assert client.get(f"{ME}/{poor['id']}", headers=world["poorer"]).json()["status"] == "counter_offered"
