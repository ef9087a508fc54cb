"""The ledger through the API: an accountant (the finance role) posts, reverses, reads reports and closes periods."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import make_institution, make_staff
from tests.integration.helpers import assert_problem, audit_records, idempotency_key, shared_client, signed_in, snapshot

API = "/api/v1/ledger"


@pytest.fixture
def client(runtime, backend):
    """A client of the worker's app for this backend."""
    yield from shared_client(runtime, backend)


@pytest.fixture
def world(session, runtime):
    """An institution (business date 2026-11-25) with a finance user and an administrator, signed in."""
    inst = make_institution(session, runtime)
    finance = make_staff(session, runtime, inst, roles=("finance",), password=None)
    admin = make_staff(session, runtime, inst, roles=("administrator",), password=None)
    h = {"finance": signed_in(session, runtime, finance.user), "admin": signed_in(session, runtime, admin.user)}
    session.commit()
    return inst, h


def entry(day: str = "2026-11-20", *lines: tuple[str, str, str]) -> dict[str, Any]:
    """A manual entry body from (code, "debit"/"credit", amount) triples."""
    return {"business_date": day, "description": "手工分录",
            "lines": [{"account_code": code, side: amount} for code, side, amount in lines]}


CAPITAL = entry("2026-11-20", ("1002", "debit", "500000.00"), ("4001", "credit", "500000.00"))


def post(client, h, body):
    return client.post(f"{API}/entries", json=body, headers={**h, **idempotency_key()})


def test_post_read_reverse_and_report(client, session, world):
    _inst, h = world
    r = post(client, h["finance"], CAPITAL)
    assert r.status_code == 201, r.text
    posted = r.json()
    assert (posted["debit_total"], posted["credit_total"], posted["source_kind"]) == ("500000.00", "500000.00",
                                                                                      "manual")
    assert [(x["account_code"], x["debit"], x["credit"]) for x in posted["lines"]] == [
        ("1002", "500000.00", None), ("4001", None, "500000.00")]
    loan = post(client, h["finance"], entry("2026-11-21", ("130101", "debit", "8000.00"),
                                            ("1002", "credit", "8000.00"))).json()

    tb = client.get(f"{API}/trial-balance", headers=h["finance"], params={"date_to": "2026-11-25"}).json()
    assert tb["date_to"] == "2026-11-25"
    rows = {r["code"]: r for r in tb["rows"]}
    assert set(rows) == {"1002", "130101", "4001"}
    assert (rows["1002"]["closing_debit"], rows["4001"]["closing_credit"]) == ("492000.00", "500000.00")
    assert tb["totals"] == [{"currency": "CNY", "opening_debit": "0.00", "opening_credit": "0.00",
                             "debit": "508000.00", "credit": "508000.00", "closing_debit": "500000.00",
                             "closing_credit": "500000.00", "balanced": True}]

    r = client.post(f"{API}/entries/{loan['id']}/reverse", json={}, headers={**h["finance"], **idempotency_key()})
    assert r.status_code == 201, r.text
    reversal = r.json()
    assert reversal["reverses_entry_id"] == loan["id"]
    assert [(x["account_code"], x["debit"], x["credit"]) for x in reversal["lines"]] == [
        ("130101", None, "8000.00"), ("1002", "8000.00", None)]
    again = client.post(f"{API}/entries/{loan['id']}/reverse", json={}, headers={**h["finance"], **idempotency_key()})
    future = client.post(f"{API}/entries/{posted['id']}/reverse", json={"business_date": "2026-11-26"},
                         headers={**h["finance"], **idempotency_key()})
    assert assert_problem(future, 422)["code"] == "entry_date_in_future"  # after the business date
    assert assert_problem(again, 409)["code"] == "entry_already_reversed"
    assert client.get(f"{API}/entries/{loan['id']}", headers=h["finance"]).json()["reversed_by_entry_id"] == \
        reversal["id"]

    accounts = {a["code"]: a for a in client.get(f"{API}/accounts", headers=h["finance"]).json()}
    statement = client.get(f"{API}/accounts/{accounts['1002']['id']}/statement", headers=h["finance"]).json()
    assert [(x["debit"], x["credit"], x["balance"]) for x in statement["items"]] == [
        ("500000.00", None, "500000.00"), (None, "8000.00", "492000.00"), ("8000.00", None, "500000.00")]
    assert statement["closing"] == "500000.00"

    listed = client.get(f"{API}/entries", headers=h["finance"], params={"account_id": accounts["130101"]["id"]}).json()
    assert [e["id"] for e in listed["items"]] == [reversal["id"], loan["id"]]
    gl = client.get(f"{API}/general-ledger", headers=h["finance"],
                    params={"date_from": "2026-11-01", "date_to": "2026-11-30"}).json()
    assert {g["account"]["code"]: len(g["lines"]) for g in gl["items"]} == {"1002": 3, "130101": 2, "4001": 1}


@pytest.mark.parametrize(("lines", "code", "field"), [
    ((("1002", "debit", "100.00"), ("4001", "credit", "90.00")), "entry_unbalanced", "lines"),
    ((("1002", "debit", "100.00"), ("9999", "credit", "100.00")), "account_not_found", "lines.1.account_code"),
    ((("1002", "debit", "0.00"), ("4001", "credit", "0.00")), "line_amount_invalid", "lines.0.amount"),
])
def test_bad_entries_are_refused_with_a_field_and_change_nothing(client, runtime, world, lines, code, field):
    _inst, h = world
    before = snapshot(runtime.db)
    body = assert_problem(post(client, h["finance"], entry("2026-11-20", *lines)), 409, 422)
    assert (body["code"], body["field"]) == (code, field)
    assert before.diff(snapshot(runtime.db)) == {}


def test_a_line_with_both_sides_or_a_float_is_refused(client, runtime, world):
    _inst, h = world
    body = {"business_date": "2026-11-20", "description": "x",
            "lines": [{"account_code": "1002", "debit": "1.00", "credit": "1.00"},
                      {"account_code": "4001", "credit": "1.00"}]}
    assert assert_problem(post(client, h["finance"], body), 422)["field"] == "lines.0.debit"
    body["lines"][0] = {"account_code": "1002", "debit": 1.0}
    assert assert_problem(post(client, h["finance"], body), 422)["errors"][0]["code"] == "money_not_string"


def test_a_repeated_request_posts_once(client, session, world):
    _inst, h = world
    key = idempotency_key()
    first = client.post(f"{API}/entries", json=CAPITAL, headers={**h["finance"], **key})
    second = client.post(f"{API}/entries", json=CAPITAL, headers={**h["finance"], **key})
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.headers["Idempotent-Replayed"] == "true"
    assert client.get(f"{API}/entries", headers=h["finance"]).json()["total"] == 1


def test_period_close_refuses_earlier_postings_and_reopening_needs_its_own_permission(client, session, world):
    _inst, h = world
    assert post(client, h["finance"], CAPITAL).status_code == 201
    future = client.post(f"{API}/periods/close", json={"through": "2026-11-26"}, headers=h["finance"])
    assert assert_problem(future, 422)["code"] == "close_date_invalid"  # after the business date
    r = client.post(f"{API}/periods/close", json={"through": "2026-11-20"}, headers=h["finance"])
    assert r.status_code == 200, r.text
    assert r.json()["closed_through"] == "2026-11-20"
    refused = assert_problem(post(client, h["finance"], CAPITAL), 409)
    assert (refused["code"], refused["field"]) == ("period_closed", "business_date")
    assert_problem(client.post(f"{API}/periods/reopen", json={"reason": "补录"}, headers=h["finance"]), 403)
    r = client.post(f"{API}/periods/reopen", json={"through": None, "reason": "补录凭证"}, headers=h["admin"])
    assert r.status_code == 200, r.text
    assert [e["action"] for e in r.json()["history"]] == ["reopen", "close"]
    assert post(client, h["finance"], CAPITAL).status_code == 201
    assert len(audit_records(session, "ledger.period_reopened")) == 1


def test_accounts_are_added_renamed_and_closed(client, session, world):
    _inst, h = world
    accounts = {a["code"]: a for a in client.get(f"{API}/accounts", headers=h["admin"]).json()}
    r = client.post(f"{API}/accounts", headers=h["admin"], json={
        "code": "100201", "name_zh": "银行存款—工行", "name_en": "Bank — ICBC", "type": "asset",
        "parent_id": accounts["1002"]["id"]})
    assert r.status_code == 201, r.text
    new = r.json()
    assert (new["normal_side"], new["parent_id"]) == ("debit", accounts["1002"]["id"])
    taken = client.post(f"{API}/accounts", headers=h["admin"], json={
        "code": "100201", "name_zh": "重复", "name_en": "Duplicate", "type": "asset"})
    assert assert_problem(taken, 409)["code"] == "account_code_taken"
    wrong_parent = client.post(f"{API}/accounts", headers=h["admin"], json={
        "code": "100202", "name_zh": "错", "name_en": "Wrong", "type": "income", "parent_id": accounts["1002"]["id"]})
    assert assert_problem(wrong_parent, 422)["code"] == "account_parent_invalid"
    r = client.patch(f"{API}/accounts/{new['id']}", headers=h["admin"], json={"name_en": "Bank deposits — ICBC"})
    assert r.json()["name_en"] == "Bank deposits — ICBC"
    r = client.post(f"{API}/accounts/{new['id']}/close", headers=h["admin"])
    assert r.json()["status"] == "closed"
    refused = post(client, h["finance"], entry("2026-11-20", ("100201", "debit", "1.00"), ("4001", "credit", "1.00")))
    assert assert_problem(refused, 409)["code"] == "account_closed"
    assert len(audit_records(session, "ledger.account_closed", new["id"])) == 1


def test_another_institutions_entry_is_not_found(client, session, runtime, world):
    _inst, h = world
    other = make_institution(session, runtime)
    other_finance = make_staff(session, runtime, other, roles=("finance",), password=None)
    ho = signed_in(session, runtime, other_finance.user)
    session.commit()
    theirs = post(client, ho, CAPITAL).json()
    assert_problem(client.get(f"{API}/entries/{theirs['id']}", headers=h["finance"]), 404)
    assert_problem(client.post(f"{API}/entries/{theirs['id']}/reverse", json={},
                               headers={**h["finance"], **idempotency_key()}), 404)
    assert client.get(f"{API}/entries", headers=h["finance"]).json()["total"] == 0
