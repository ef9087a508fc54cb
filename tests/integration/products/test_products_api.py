"""Loan products over HTTP: versions, publication against the caps, the LPR approval path, offers, quotes.

The institution's business date is 2026-11-25: the LPR in force is 3.00 % (since 2025-05-20), so
4 × LPR is 12 % and the hard cap 24 %.
"""

from __future__ import annotations

from typing import Any

from microcredit.ledger import service as ledger
from microcredit.platform.actor import Actor
from tests.factories import institution_header, make_institution, make_staff
from tests.integration.helpers import assert_problem, audit_records, signed_in, snapshot


def terms(**changes: Any) -> dict[str, Any]:
    """A valid product version's terms (fixed 10 %, 1,000-20,000 over 3-12 months), with `changes`."""
    base: dict[str, Any] = {
        "name_zh": "测试经营贷", "name_en": "Test business loan", "amount_min": "1000.00", "amount_max": "20000.00",
        "period_unit": "month", "term_min": 3, "term_max": 12,
        "repayment_methods": ["equal_installment", "equal_principal", "interest_monthly_principal_at_maturity"],
        "rate": {"kind": "fixed", "annual_rate": "10"}, "day_count": "ACT/360",
        "fees": [{"name": "担保费", "kind": "per_installment", "percent": "0.02", "payee": "guarantor"}],
        "penalty": {"basis": "uplift", "value_percent": "50", "grace_days": 3},
        "customer_types": ["consumer", "farmer"], "age_min": 18, "age_max": 60,
        "required_documents": ["id_card"],
        "approval_policy": [{"up_to_amount": "5000.00", "worst_grade": "C", "levels": 1},
                            {"up_to_amount": "20000.00", "worst_grade": "E", "levels": 2}],
        "active_from": "2026-01-01",
    }
    return {**base, **changes}


def _admin(session, runtime, inst) -> tuple[dict[str, str], int]:
    handle = make_staff(session, runtime, inst, roles=("administrator",), password=None)
    headers = signed_in(session, runtime, handle.user)
    session.commit()
    return headers, handle.user.id


def test_create_publish_and_a_new_version_supersedes(client, session, runtime):
    inst = make_institution(session, runtime)
    h, admin_id = _admin(session, runtime, inst)
    r = client.post("/api/v1/products", headers=h, json={"code": "BIZ", "terms": terms()})
    assert r.status_code == 201, r.text
    [v1] = r.json()["versions"]
    assert (v1["number"], v1["status"], v1["created_by_user_id"]) == (1, "draft", admin_id)
    assert v1["terms"]["amount_max"] == "20000.00"

    r = client.post("/api/v1/products/cap-check", headers=h, json={"terms": terms()})
    check = r.json()
    assert check["status"] == "ok", r.text
    assert (check["lpr_percent"], check["lpr_limit_percent"], check["hard_cap_percent"]) == ("3", "12", "24")
    # 3 methods x {3, 12} months x {smallest, largest amount}, and, the guarantee fee being charged
    # every installment, each term in between (4-11) at the smallest amount.
    assert len(check["samples"]) == 3 * 2 * 2 + 3 * 8
    assert "10.0" < check["worst"]["apr_percent"] < "12"

    r = client.post("/api/v1/products/BIZ/versions/1/publish", headers=h)
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["cap_check"]["status"]) == ("published", "ok")

    # A published version never changes; the next one is a new draft.
    refused = assert_problem(client.put("/api/v1/products/BIZ/versions/1", headers=h, json={"terms": terms()}), 409)
    assert refused["code"] == "version_not_draft"
    r = client.post("/api/v1/products/BIZ/versions", headers=h, json={"terms": terms(amount_max="30000.00",
                    approval_policy=[{"up_to_amount": "30000.00", "worst_grade": "E", "levels": 3}])})
    assert (r.status_code, r.json()["number"]) == (201, 2), r.text
    twice = client.post("/api/v1/products/BIZ/versions", headers=h, json={"terms": terms()})
    assert assert_problem(twice, 409)["code"] == "draft_exists"
    assert client.post("/api/v1/products/BIZ/versions/2/publish", headers=h).status_code == 200

    product = client.get("/api/v1/products/BIZ", headers=h).json()
    assert [(v["number"], v["status"]) for v in product["versions"]] == [(1, "superseded"), (2, "published")]
    assert product["versions"][0]["terms"]["amount_max"] == "20000.00"
    listed = client.get("/api/v1/products", headers=h).json()
    assert [(p["code"], p["published_version"], p["latest_status"]) for p in listed] == [("BIZ", 2, "published")]
    actions = [a.action for a in audit_records(session, "product.created")] + \
        [a.action for a in audit_records(session, "product_version.published")]
    assert actions == ["product.created", "product_version.published", "product_version.published"]

    offers = client.get("/api/v1/product-offers", headers=institution_header(inst)).json()
    assert [(o["code"], o["version"], o["amount_max"], o["rate_max_percent"]) for o in offers] == [
        ("BIZ", 2, "30000.00", "10")]
    # What being late costs is on offer too, with the cap in force for a small-loan company.
    assert (offers[0]["penalty"]["basis"], offers[0]["penalty"]["late_fee"]) == ("uplift", None)
    assert offers[0]["default_charges_cap_percent"] == "24"

    r = client.post("/api/v1/products/BIZ/versions/2/retire", headers=h)
    assert r.json()["status"] == "retired"
    assert client.get("/api/v1/product-offers", headers=institution_header(inst)).json() == []


def test_invalid_terms_are_refused_naming_the_field(client, session, runtime):
    inst = make_institution(session, runtime)
    h, _ = _admin(session, runtime, inst)
    before = snapshot(runtime.db)
    cases = [
        (terms(amount_min="30000.00"), "terms.amount_max", "max_below_min"),
        (terms(term_max=2), "terms.term_max", "max_below_min"),
        (terms(fees=[{"name": "砍头息", "kind": "upfront_deducted", "amount": "100.00", "payee": "lender"}]),
         "terms.fees.0.kind", "upfront_deduction_refused"),
        (terms(rate={"kind": "by_grade", "grades": {"A": "9", "B": "8", "C": "10", "D": "11", "E": "12"}}),
         "terms.rate.grades", "grades_order"),
        (terms(repayment_methods=["equal_installment", "foo"]), "terms.repayment_methods.1", "literal_error"),
        (terms(approval_policy=[{"up_to_amount": "5000.00", "worst_grade": "E", "levels": 1}]),
         "terms.approval_policy", "approval_policy_gap"),
        (terms(penalty={"basis": "uplift", "value_percent": "50", "late_fee": {"after_days": 5}}),
         "terms.penalty.late_fee.percent", "late_fee_empty"),
        (terms(penalty={"basis": "uplift", "value_percent": "50", "late_fee": {"amount": "-1.00"}}),
         "terms.penalty.late_fee.amount", "greater_than_equal"),
        (terms(penalty={"basis": "uplift", "value_percent": "50", "late_fee": {"amount": "20.00", "after_days": 0}}),
         "terms.penalty.late_fee.after_days", "greater_than_equal"),
    ]
    for body, field, code in cases:
        problem = assert_problem(client.post("/api/v1/products", headers=h, json={"code": "BAD", "terms": body}), 422)
        assert problem["field"] == field, (field, problem)
        assert code in {e["code"] for e in problem["errors"]} | {problem["code"]}, problem
    assert before.diff(snapshot(runtime.db)) == {}


def test_a_late_fee_is_kept_with_the_version_and_shown_on_offer(client, session, runtime):
    inst = make_institution(session, runtime)
    h, _ = _admin(session, runtime, inst)
    penalty = {"basis": "fixed", "value_percent": "18", "grace_days": 3,
               "late_fee": {"amount": "20.00", "percent": "1.5", "after_days": 5}}
    assert client.post("/api/v1/products", headers=h, json={"code": "FEE", "terms": terms(penalty=penalty)}
                       ).status_code == 201
    assert client.post("/api/v1/products/FEE/versions/1/publish", headers=h).status_code == 200
    kept = client.get("/api/v1/products/FEE/versions/1", headers=h).json()["terms"]["penalty"]
    assert kept["late_fee"] == {"amount": "20.00", "percent": "1.5", "after_days": 5}
    offer = client.get("/api/v1/product-offers/FEE", headers=institution_header(inst)).json()
    assert offer["penalty"]["late_fee"] == kept["late_fee"]


def test_above_the_hard_cap_is_never_published(client, session, runtime):
    inst = make_institution(session, runtime)
    h, _ = _admin(session, runtime, inst)
    grades = {"A": "12", "B": "15", "C": "18", "D": "21", "E": "26"}
    client.post("/api/v1/products", headers=h,
                json={"code": "HOT", "terms": terms(rate={"kind": "by_grade", "grades": grades})})
    problem = assert_problem(client.post("/api/v1/products/HOT/versions/1/publish", headers=h), 422)
    assert (problem["code"], problem["field"]) == ("apr_above_cap", "rate.grades.E")
    assert problem["cap_percent"] == "24"
    assert problem["apr_percent"] > "24"
    assert client.get("/api/v1/products/HOT/versions/1", headers=h).json()["status"] == "draft"


def test_above_four_times_lpr_needs_a_second_administrator(client, session, runtime):
    inst = make_institution(session, runtime)
    h1, author = _admin(session, runtime, inst)
    h2, approver = _admin(session, runtime, inst)
    client.post("/api/v1/products", headers=h1,
                json={"code": "MID", "terms": terms(rate={"kind": "fixed", "annual_rate": "15"})})
    problem = assert_problem(client.post("/api/v1/products/MID/versions/1/publish", headers=h1), 409)
    assert (problem["code"], problem["field"], problem["limit_percent"]) == ("apr_needs_approval", "rate.annual_rate",
                                                                            "12")
    reason = {"reason": "山区农户经营贷，风险成本高，风险委员会已批准"}
    own = client.post("/api/v1/products/MID/versions/1/rate-approval", headers=h1, json=reason)
    assert assert_problem(own, 403)["code"] == "self_approval"
    r = client.post("/api/v1/products/MID/versions/1/rate-approval", headers=h2, json=reason)
    assert r.status_code == 200, r.text
    assert (r.json()["rate_approved_by_user_id"], r.json()["rate_approval_reason"]) == (approver, reason["reason"])
    [record] = audit_records(session, "product_version.rate_approved")
    assert (record.actor_user_id, record.after["reason"]) == (approver, reason["reason"])

    # An edit clears the approval; approved again, it publishes.
    client.put("/api/v1/products/MID/versions/1", headers=h1,
               json={"terms": terms(rate={"kind": "fixed", "annual_rate": "16"})})
    assert assert_problem(client.post("/api/v1/products/MID/versions/1/publish", headers=h1), 409)["code"] == \
        "apr_needs_approval"
    assert client.post("/api/v1/products/MID/versions/1/rate-approval", headers=h2, json=reason).status_code == 200
    r = client.post("/api/v1/products/MID/versions/1/publish", headers=h1)
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["cap_check"]["status"], author) == ("published", "needs_approval", author)

    # Within 4 × LPR there is nothing to approve.
    client.post("/api/v1/products", headers=h1, json={"code": "LOW", "terms": terms()})
    r = client.post("/api/v1/products/LOW/versions/1/rate-approval", headers=h2, json=reason)
    assert assert_problem(r, 409)["code"] == "rate_approval_not_needed"


def test_the_lpr_table_moves_the_approval_threshold(client, session, runtime):
    inst = make_institution(session, runtime)
    h, _ = _admin(session, runtime, inst)
    rates = client.get("/api/v1/lpr-rates", headers=h).json()
    assert (rates[0]["effective_date"], rates[0]["one_year_percent"], rates[0]["origin"]) == (
        "2025-05-20", "3.00", "seeded")
    r = client.post("/api/v1/lpr-rates", headers=h,
                    json={"effective_date": "2026-11-20", "one_year_percent": "4", "source": "test fixing"})
    assert r.status_code == 201, r.text
    again = client.post("/api/v1/lpr-rates", headers=h,
                        json={"effective_date": "2026-11-20", "one_year_percent": "4", "source": "test fixing"})
    assert assert_problem(again, 409)["field"] == "effective_date"
    check = client.post("/api/v1/products/cap-check", headers=h,
                        json={"terms": terms(rate={"kind": "fixed", "annual_rate": "15"})}).json()
    assert (check["lpr_percent"], check["lpr_limit_percent"], check["status"]) == ("4", "16", "ok")
    client.delete(f"/api/v1/lpr-rates/{r.json()['id']}", headers=h)
    check = client.post("/api/v1/products/cap-check", headers=h,
                        json={"terms": terms(rate={"kind": "fixed", "annual_rate": "15"})}).json()
    assert (check["lpr_percent"], check["status"]) == ("3", "needs_approval")
    assert [a.action for a in audit_records(session, "lpr.created")] == ["lpr.created"]


def test_a_borrower_quotes_within_the_product(client, session, runtime):
    inst = make_institution(session, runtime)
    h, _ = _admin(session, runtime, inst)
    client.post("/api/v1/products", headers=h, json={"code": "BIZ", "terms": terms()})
    public = {**institution_header(inst), "Accept-Language": "en"}
    unpublished = client.post("/api/v1/products/BIZ/quote", headers=public,
                              json={"amount": "10000.00", "term": 12, "repayment_method": "equal_installment"})
    assert_problem(unpublished, 404)
    client.post("/api/v1/products/BIZ/versions/1/publish", headers=h)
    r = client.post("/api/v1/products/BIZ/quote", headers=public,
                    json={"amount": "10000.00", "term": 12, "repayment_method": "equal_installment"})
    assert r.status_code == 200, r.text
    quote = r.json()
    assert (quote["product_code"], quote["product_version"], quote["annual_rate_percent"]) == ("BIZ", 1, "10")
    assert len(quote["installments"]) == 12
    assert quote["installments"][0]["period_start"] == "2026-11-25"
    assert quote["fees"][0]["payee"] == "guarantor"
    assert "10.0" < quote["apr"]["apr_percent"] < "12"
    for body, field in (({"amount": "50000.00", "term": 12, "repayment_method": "equal_installment"}, "amount"),
                        ({"amount": "5000.00", "term": 24, "repayment_method": "equal_installment"}, "term"),
                        ({"amount": "5000.00", "term": 12, "repayment_method": "bullet"}, "repayment_method")):
        problem = assert_problem(client.post("/api/v1/products/BIZ/quote", headers=public, json=body), 422)
        assert (problem["code"], problem["field"]) == ("outside_product_range", field)


def test_the_calculator_refuses_an_apr_above_the_cap(client, session, runtime):
    inst = make_institution(session, runtime)
    public = {**institution_header(inst), "Accept-Language": "en"}
    body = {"amount": "10000.00", "annual_rate": "30", "repayment_method": "equal_installment", "term": 12,
            "start_date": "2026-11-25"}
    problem = assert_problem(client.post("/api/v1/quotes", headers=public, json=body), 422)
    assert (problem["code"], problem["field"], problem["cap_percent"]) == ("apr_above_cap", "annual_rate", "24")
    assert client.post("/api/v1/quotes", headers=public, json={**body, "annual_rate": "23.9"}).status_code == 200


def test_a_products_own_accounts_must_be_ones_its_loans_can_post_to(client, session, runtime):
    inst = make_institution(session, runtime)
    h, _ = _admin(session, runtime, inst)
    chart = {a.code: a for a in ledger.accounts.list_accounts(session=session, institution_id=inst.id)}
    actor = Actor.system(inst.id)
    farm = ledger.accounts.create_account(session=session, clock=runtime.clock, actor=actor, institution_id=inst.id,
                                          code="130102", name_zh="贷款—农户", name_en="Loans — farmers",
                                          type="asset", parent_id=chart["1301"].id)
    session.commit()
    before = snapshot(runtime.db)
    cases = [({"loan_principal": "139999"}, "account_not_found"),
             ({"interest_income": "1002"}, "account_wrong_type"),
             ({"loan_principal": "1301"}, "account_is_header")]
    for accounts, code in cases:
        problem = assert_problem(client.post("/api/v1/products", headers=h,
                                             json={"code": "OWN", "terms": terms(accounts=accounts)}), 422)
        role = next(iter(accounts))
        assert (problem["field"], [e["code"] for e in problem["errors"]]) == (f"terms.accounts.{role}", [code])
    problem = assert_problem(client.post("/api/v1/products", headers=h, json={
        "code": "OWN", "terms": terms(accounts={"bogus": "1002"})}), 422)
    assert problem["errors"][0]["field"].startswith("terms.accounts.bogus")
    assert before.diff(snapshot(runtime.db)) == {}
    # A sub-account of the right type is kept with the version ...
    made = client.post("/api/v1/products", headers=h,
                       json={"code": "OWN", "terms": terms(accounts={"loan_principal": "130102"})})
    assert made.status_code == 201, made.text
    assert made.json()["versions"][0]["terms"]["accounts"] == {"loan_principal": "130102"}
    # ... and checked again at publication: closed in between, the version is not published.
    ledger.accounts.close_account(session=session, clock=runtime.clock, actor=actor, account=farm)
    session.commit()
    problem = assert_problem(client.post("/api/v1/products/OWN/versions/1/publish", headers=h), 422)
    assert (problem["field"], problem["errors"][0]["code"]) == ("terms.accounts.loan_principal", "account_closed")
    assert client.get("/api/v1/products/OWN", headers=h).json()["versions"][0]["status"] == "draft"


LIMITS = {"A": "20000.00", "B": "15000.00", "C": "10000.00", "D": "5000.00", "E": "2000.00"}


def test_a_limit_table_by_grade_is_checked_kept_per_version_and_bad_ones_refused(client, session, runtime):
    inst = make_institution(session, runtime)
    h, _ = _admin(session, runtime, inst)
    before = snapshot(runtime.db)
    cases = [
        ({"A": "20000.00", "B": "15000.00"}, "limits_incomplete"),
        ({**LIMITS, "F": "1000.00"}, "literal_error"),  # a grade the scorecard does not give
        ({**LIMITS, "D": "12000.00"}, "limits_order"),
        ({**LIMITS, "A": "25000.00"}, "limit_above_max"),
        ({**LIMITS, "E": "500.00"}, "limit_below_min"),
    ]
    for table, code in cases:
        r = client.post("/api/v1/products", headers=h, json={"code": "BAD", "terms": terms(limits=table)})
        problem = assert_problem(r, 422)
        assert problem["field"].startswith("terms.limits"), (table, problem)
        assert code in {e["code"] for e in problem["errors"]} | {problem["code"]}, (table, problem)
    assert before.diff(snapshot(runtime.db)) == {}

    # A good table is kept with its version; the next version's table does not change the published one's.
    r = client.post("/api/v1/products", headers=h, json={"code": "LIM", "terms": terms(limits=LIMITS)})
    assert r.status_code == 201, r.text
    assert client.post("/api/v1/products/LIM/versions/1/publish", headers=h).status_code == 200
    lower = {**LIMITS, "A": "18000.00"}
    r = client.post("/api/v1/products/LIM/versions", headers=h, json={"terms": terms(limits=lower)})
    assert r.status_code == 201, r.text
    bad = client.put("/api/v1/products/LIM/versions/2", headers=h,
                     json={"terms": terms(limits={**lower, "B": "19000.00"})})
    assert assert_problem(bad, 422)["field"].startswith("terms.limits")
    versions = client.get("/api/v1/products/LIM", headers=h).json()["versions"]
    assert [(v["number"], v["status"], v["terms"]["limits"]["A"]) for v in versions] == [
        (1, "published", "20000.00"), (2, "draft", "18000.00")]


def test_an_account_a_published_version_maps_cannot_be_closed(client, session, runtime):
    inst = make_institution(session, runtime)
    h, _ = _admin(session, runtime, inst)
    chart = {a.code: a for a in ledger.accounts.list_accounts(session=session, institution_id=inst.id)}
    farm = ledger.accounts.create_account(session=session, clock=runtime.clock, actor=Actor.system(inst.id),
                                          institution_id=inst.id, code="130102", name_zh="贷款—农户",
                                          name_en="Loans — farmers", type="asset", parent_id=chart["1301"].id)
    session.commit()
    made = client.post("/api/v1/products", headers=h,
                       json={"code": "FARM", "terms": terms(accounts={"loan_principal": "130102"})})
    assert made.status_code == 201, made.text
    assert client.post("/api/v1/products/FARM/versions/1/publish", headers=h).status_code == 200
    # At a zero balance, but the published version's loans post their principal there: refused, naming it.
    before = snapshot(runtime.db)
    problem = assert_problem(client.post(f"/api/v1/ledger/accounts/{farm.id}/close", headers=h), 409)
    assert (problem["code"], problem["product_code"], problem["product_version"]) == (
        "account_mapped_by_product", "FARM", 1)
    assert "FARM" in problem["detail"]
    assert "loan_principal" in problem["detail"]
    assert before.diff(snapshot(runtime.db)) == {}
    # A version with the institution's account supersedes it: the account may now be closed.
    assert client.post("/api/v1/products/FARM/versions", headers=h, json={"terms": terms()}).status_code == 201
    assert client.post("/api/v1/products/FARM/versions/2/publish", headers=h).status_code == 200
    closed = client.post(f"/api/v1/ledger/accounts/{farm.id}/close", headers=h)
    assert (closed.status_code, closed.json()["status"]) == (200, "closed"), closed.text


def test_planned_tranches_are_checked_with_a_field_and_a_code(client, session, runtime):
    inst = make_institution(session, runtime)
    h, _ = _admin(session, runtime, inst)
    before = snapshot(runtime.db)
    cases = [  # terms 3-12 months: the last planned payout must come within 3 × 28 days
        ({"tranches": False}, [{"after_days": 0, "percent": "100"}], "planned_tranches_not_allowed"),
        ({}, [{"after_days": 5, "percent": "50"}], "planned_first_not_at_payout"),
        ({}, [{"after_days": 0, "percent": "50"}, {"after_days": 0, "percent": "50"}], "planned_days_out_of_order"),
        ({}, [{"after_days": 0, "percent": "60"}, {"after_days": 30, "percent": "40.01"}], "planned_above_amount"),
        ({}, [{"after_days": 0, "percent": "60"}, {"after_days": 84, "percent": "40"}], "planned_after_term"),
    ]
    for changes, plan, code in cases:
        body = {"code": "TR", "terms": terms(**{"tranches": True, **changes, "planned_tranches": plan})}
        problem = assert_problem(client.post("/api/v1/products", headers=h, json=body), 422)
        assert [(e["field"], e["code"]) for e in problem["errors"]] == [("terms.planned_tranches", code)], problem
    assert before.diff(snapshot(runtime.db)) == {}
    plan = [{"after_days": 0, "percent": "60"}, {"after_days": 83, "percent": "40"}]
    made = client.post("/api/v1/products", headers=h,
                       json={"code": "TR", "terms": terms(tranches=True, planned_tranches=plan)})
    assert made.status_code == 201, made.text
    assert made.json()["versions"][0]["terms"]["planned_tranches"] == plan
