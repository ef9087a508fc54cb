"""The staff to-do "disbursements waiting": the disbursement desk's items counted for those who disburse;
the staff routes name each loan's borrower and who recorded each event."""

from __future__ import annotations

import pytest

from microcredit.risk.assessment import Decision
from tests.factories import make_borrower, make_branch, make_institution, make_staff
from tests.integration.helpers import idempotency_key, shared_client, sign_contract, signed_in
from tests.integration.origination.support import PLAN, assessment, publish_product, use_review


@pytest.fixture
def client(runtime, backend):
    """A client of the worker's app for this backend."""
    yield from shared_client(runtime, backend)


def todos(client, headers) -> dict[str, int]:
    r = client.get("/api/v1/me/todos", headers=headers)
    assert r.status_code == 200, r.text
    return {t["code"]: t["count"] for t in r.json()["items"]}


def test_disbursements_waiting_counts_the_desk_for_those_who_disburse(client, session, runtime, monkeypatch):
    inst, other = make_institution(session, runtime), make_institution(session, runtime)
    branch = make_branch(session, runtime, inst)
    publish_product(session, runtime, inst)
    borrowers = [make_borrower(session, runtime, inst, branch=branch, password=None, real_name=name)
                 for name in ("王小明", "李四")]
    finance = make_staff(session, runtime, inst, roles=("finance",), password=None)
    officer = make_staff(session, runtime, inst, roles=("loan_officer",), branch=branch, password=None)
    elsewhere = make_staff(session, runtime, other, roles=("finance",), password=None)
    hb = [signed_in(session, runtime, b.user) for b in borrowers]
    hf, ho, he = (signed_in(session, runtime, s.user) for s in (finance, officer, elsewhere))
    session.commit()
    assert todos(client, hf) == {"disbursements_waiting": 0, "reconciliation_breaks": 0,
                                 "collection_sheets_waiting_handover": 0}
    use_review(monkeypatch, assessment(Decision.APPROVE, grade="B"))
    ids = []
    for h in hb:
        draft = client.post("/api/v1/me/applications", headers=h, json=PLAN).json()
        assert client.post(f"/api/v1/me/applications/{draft['id']}/submit", headers=h).json()["status"] == "approved"
        ids.append(draft["id"])
    desk = client.get("/api/v1/loans/desk", headers=hf).json()
    assert len(desk["approved"]) + len(desk["pending"]) == 2
    assert todos(client, hf)["disbursements_waiting"] == 2  # the desk's items, counted
    # opening a loan moves it from one list of the desk to the other: still waiting for the money
    loan = client.post("/api/v1/loans", headers=hf, json={"application_id": ids[0]}).json()
    assert todos(client, hf)["disbursements_waiting"] == 2
    # staff lists name the borrower (the console shows the name, not an id)
    assert client.get("/api/v1/loans/desk", headers=hf).json()["pending"][0]["borrower_name"] == "王小明"
    assert [x["borrower_name"] for x in client.get("/api/v1/loans", headers=hf).json()["items"]] == ["王小明"]
    assert client.get(f"/api/v1/loans/{loan['id']}", headers=hf).json()["borrower_name"] == "王小明"
    sign_contract(client, runtime, hb[0], borrowers[0].phone, ids[0])
    r = client.post(f"/api/v1/loans/{loan['id']}/disbursements", headers={**hf, **idempotency_key()}, json={})
    assert r.status_code == 200, r.text
    assert r.json()["event"]["user_name"] == finance.user.display_name  # who recorded it, for staff
    own = client.get(f"/api/v1/me/loans/{loan['id']}", headers=hb[0]).json()
    assert own["borrower_name"] is None  # staff names are not for borrowers
    assert own["events"][0]["user_name"] is None
    assert todos(client, hf)["disbursements_waiting"] == 1  # paid out: no longer waiting
    # those who cannot disburse are not told; another institution's finance sees none of these
    assert "disbursements_waiting" not in todos(client, ho)
    assert "disbursements_waiting" not in todos(client, hb[0])
    assert todos(client, he) == {"disbursements_waiting": 0, "reconciliation_breaks": 0,
                                 "collection_sheets_waiting_handover": 0}
