"""Fifty repayments to one loan at once, a third of them sent twice under the same key, on every
database (a real, committing one): afterwards the loan, its events and the ledger are exactly as if
the distinct repayments had run one after another, and the books verify.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient

from microcredit.api.app import create_app
from microcredit.ledger import service as ledger
from microcredit.lending.loan import Disbursement, Repayment, fold
from microcredit.lending.money import Money
from microcredit.parties import service as parties
from microcredit.platform.actor import Actor
from microcredit.risk.assessment import Decision
from microcredit.runtime import Runtime
from microcredit.servicing.service import loans
from tests.factories import make_borrower, make_institution, make_staff
from tests.integration.helpers import committing_runtime, sign_contract, signed_in
from tests.integration.origination.support import PLAN, assessment, publish_product, use_review

pytestmark = pytest.mark.xdist_group("concurrency")  # one worker: the requests are the parallelism
DISTINCT = 50
REPEATED = DISTINCT // 3


@pytest.fixture(scope="module", params=["sqlite", "postgresql", "mysql"])
def live(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Runtime, Any]]:
    """A migrated database that really commits, the runtime on it, and an institution with a product."""
    runtime = committing_runtime(request.param, tmp_path_factory, "repayments", sqlite_busy_timeout_ms=30_000)
    with runtime.db.session() as session:
        inst = make_institution(session, runtime)
        publish_product(session, runtime, inst)
        session.commit()
        yield runtime, inst
    runtime.close()


def test_concurrent_repayments_to_one_loan_are_exactly_the_distinct_ones(live, monkeypatch) -> None:
    runtime, inst = live
    use_review(monkeypatch, assessment(Decision.APPROVE, grade="B"))
    with runtime.db.session() as session:
        borrower = make_borrower(session, runtime, inst, password=None)
        finance = make_staff(session, runtime, inst, roles=("finance",), password=None)
        hb, hf = signed_in(session, runtime, borrower.user), signed_in(session, runtime, finance.user)
        session.commit()
    day = date(2026, 12, 20)
    with TestClient(create_app(runtime=runtime)) as client:
        draft = client.post("/api/v1/me/applications", headers=hb, json={**PLAN, "amount": "20000.00"}).json()
        assert client.post(f"/api/v1/me/applications/{draft['id']}/submit", headers=hb).json()["status"] == "approved"
        loan = client.post("/api/v1/loans", headers=hf, json={"application_id": draft["id"]}).json()
        sign_contract(client, runtime, hb, borrower.phone, draft["id"])
        disbursed = client.post(f"/api/v1/loans/{loan['id']}/disbursements",
                                headers={**hf, "Idempotency-Key": str(uuid.uuid4())}, json={})
        assert disbursed.status_code == 200, disbursed.text
        with runtime.db.session() as session:
            parties.organisation.set_business_date_as(session=session, clock=runtime.clock,
                                                      actor=Actor.system(inst.id), institution_id=inst.id,
                                                      new_date=day, override_allowed=True)
            session.commit()
        amounts = [f"{10 + n}.{n:02d}" for n in range(DISTINCT)]
        keys = [str(uuid.uuid4()) for _ in range(DISTINCT)]
        requests = list(zip(keys, amounts, strict=True)) + list(zip(keys[:REPEATED], amounts[:REPEATED],
                                                                    strict=True))

        def pay(request: tuple[str, str]) -> Any:
            key, amount = request
            return client.post(f"/api/v1/loans/{loan['id']}/repayments",
                               headers={**hf, "Idempotency-Key": key}, json={"amount": amount, "channel": "cash"})

        with ThreadPoolExecutor(max_workers=16) as pool:
            responses = list(pool.map(pay, requests))
    failed = [(r.status_code, r.text) for r in responses if r.status_code != 200]
    assert not failed, failed[:3]
    # Each key answered with one event, the repeat with the same one.
    by_key: dict[str, set[str]] = {}
    for (key, _), r in zip(requests, responses, strict=True):
        by_key.setdefault(key, set()).add(r.json()["event"]["event_id"])
    assert all(len(ids) == 1 for ids in by_key.values())
    assert len({next(iter(ids)) for ids in by_key.values()}) == DISTINCT

    with runtime.db.session() as session:
        stored = loans.get(session=session, institution_id=inst.id, loan_id=loan["id"])
        rows = loans.events(session=session, loan=stored)
        assert [r.type for r in rows].count("repayment") == DISTINCT
        assert sorted(r.payload["amount"] for r in rows if r.type == "repayment") == sorted(amounts)
        # The same repayments one after another, folded from scratch: the same state.
        terms = loans.core_terms(session, stored)
        sequential = [Disbursement(id="d1", on=stored.disbursed_on, amount=stored.principal),
                      *(Repayment(id=f"s{n}", on=day, amount=Money.parse(a, "CNY")) for n, a in enumerate(amounts))]
        expected = fold(terms, sequential, as_of=day)
        state = loans.state_of(session=session, loan=stored)
        assert state.total("paid") == expected.total("paid")
        assert state.credit_balance == expected.credit_balance
        assert stored.outstanding_principal == expected.outstanding.principal
        report = ledger.books.verify(session=session, institution_id=inst.id, subledger=loans.control_balances)
        assert report.ok, report.problems
        # One entry per distinct movement and book: the disbursement's, then cash and accrual per repayment.
        assert report.entries == 1 + 2 * DISTINCT
