"""A small portfolio for close-of-business tests: loans applied for, approved, signed, opened and paid out
through the API as the servicing tests do; one borrower with a bound card (auto-debit)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from microcredit.parties import service as parties
from microcredit.platform.actor import Actor
from microcredit.risk.assessment import Decision
from tests.factories import make_borrower, make_institution, make_staff
from tests.integration.helpers import sign_contract, signed_in
from tests.integration.origination.support import PLAN, assessment, publish_product, use_review

CARD = "6225881414207430"


@dataclass
class Portfolio:
    """The institution, an administrator's headers, the loans (ids, ascending), their first due date and a
    finance user's headers."""

    inst: Any
    admin: dict[str, str]
    loan_ids: list[int]
    first_due: date
    finance: dict[str, str]


def open_portfolio(client: Any, session: Any, runtime: Any, monkeypatch: Any, *, amounts: tuple[str, ...]
                   = ("8000.00", "12000.00", "5000.00")) -> Portfolio:
    """One disbursed loan per amount; the first borrower binds a card (auto-debit collects from it)."""
    inst = make_institution(session, runtime)
    publish_product(session, runtime, inst)
    finance = make_staff(session, runtime, inst, roles=("finance",), password=None)
    admin = make_staff(session, runtime, inst, roles=("administrator",), password=None)
    borrowers = [make_borrower(session, runtime, inst, password=None) for _ in amounts]
    hf, ha = signed_in(session, runtime, finance.user), signed_in(session, runtime, admin.user)
    heads = [signed_in(session, runtime, b.user) for b in borrowers]
    session.commit()
    use_review(monkeypatch, assessment(Decision.APPROVE, grade="B"))
    loan_ids, first_due = [], None
    for n, (borrower, hb, amount) in enumerate(zip(borrowers, heads, amounts, strict=True)):
        draft = client.post("/api/v1/me/applications", headers=hb, json={**PLAN, "amount": amount}).json()
        submitted = client.post(f"/api/v1/me/applications/{draft['id']}/submit", headers=hb).json()
        assert submitted["status"] == "approved", submitted
        if n == 0:
            card = client.post("/api/v1/me/bank-cards", headers=hb, json={"bank_name": "中国银行", "card_number": CARD})
            assert card.status_code == 201, card.text
        sign_contract(client, runtime, hb, borrower.phone, draft["id"])
        loan = client.post("/api/v1/loans", headers=hf, json={"application_id": draft["id"]}).json()
        paid = client.post(f"/api/v1/loans/{loan['id']}/disbursements",
                           headers={**hf, "Idempotency-Key": str(uuid.uuid4())}, json={})
        assert paid.status_code == 200, paid.text
        loan_ids.append(loan["id"])
        due = date.fromisoformat(paid.json()["loan"]["state"]["installments"][0]["due_date"])
        first_due = due if first_due is None else min(first_due, due)
    assert first_due is not None
    return Portfolio(inst, ha, sorted(loan_ids), first_due, hf)


def move_to(session: Any, runtime: Any, inst_id: int, day: date) -> None:
    """Set the business date by hand (test installations)."""
    parties.organisation.set_business_date_as(session=session, clock=runtime.clock, actor=Actor.system(inst_id),
                                              institution_id=inst_id, new_date=day, override_allowed=True)
    session.commit()
