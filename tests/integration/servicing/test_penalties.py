"""Penalty interest on overdue installments (issue 17 §7, what the close of business charges): nothing
within the grace days, then the unpaid principal of each day times the penalty rate from the due date;
charged once however often it is asked for; a partial payment lowers what later days add; posted to
penalty receivable and income, the books still equal to the loans' sub-ledger. The product: contract
rate 7 % (grade B), penalty uplift 50 % (10.5 %), 3 grace days, ACT/360.
"""

from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction

import pytest

from microcredit.lending.money import Money
from microcredit.platform.actor import Actor
from microcredit.servicing.service import loans
from tests.integration.servicing import test_loans_api as base
from tests.integration.servicing.test_loans_api import LOANS, _books_hold_the_loans, _disbursed, _move_to

# The loan's world of test_loans_api: an approved application (8,000.00 over 6 months), a finance user.
client = base.client
world = base.world

RATE = Fraction(7, 100) * Fraction(3, 2)  # 10.5 % a year


def _charge(session, runtime, inst_id, loan_id, day):
    """What the close of business charges the loan on `day` (`advance`): (installment, amount) of each event."""
    before = loans.get(session=session, institution_id=inst_id, loan_id=loan_id).events_count
    loans.advance(session=session, clock=runtime.clock, actor=Actor.system(inst_id), institution_id=inst_id,
                  loan_id=loan_id, business_date=day)
    session.commit()
    rows = [r for r in loans.events(session=session, loan=loans.get(session=session, institution_id=inst_id,
                                                                     loan_id=loan_id)) if r.seq > before]
    assert all(r.type == "penalty" for r in rows)
    return [(r.payload["installment"], r.payload["amount"]) for r in rows]


def _fen(exact_minor: Fraction) -> int:
    """Half up to the fen, as the contract rounds."""
    return int(exact_minor + Fraction(1, 2))


@pytest.fixture
def overdue(client, session, runtime, world):
    loan = _disbursed(client, world)["loan"]
    first = loan["state"]["installments"][0]
    return {"id": loan["id"], "due": date.fromisoformat(first["due_date"]),
            "principal": Money.parse(first["due"]["principal"], "CNY").minor}


def test_nothing_within_the_grace_then_the_unpaid_principal_by_the_day_once(client, session, runtime, world,
                                                                              overdue):
    inst_id, loan_id, due = world["inst"].id, overdue["id"], overdue["due"]
    _move_to(session, runtime, inst_id, due + timedelta(days=3))
    assert _charge(session, runtime, inst_id, loan_id, due + timedelta(days=3)) == []

    day = due + timedelta(days=10)
    _move_to(session, runtime, inst_id, day)
    expected = _fen(overdue["principal"] * RATE * Fraction(10, 360))
    assert expected > 0
    assert _charge(session, runtime, inst_id, loan_id, day) == [(1, str(Money(expected, "CNY")))]
    assert _charge(session, runtime, inst_id, loan_id, day) == []  # asked again: nothing more
    state = client.get(f"{LOANS}/{loan_id}", headers=world["hf"]).json()["state"]
    assert state["installments"][0]["due"]["penalty"] == str(Money(expected, "CNY"))
    assert state["installments"][0]["outstanding"]["penalty"] == str(Money(expected, "CNY"))
    _books_hold_the_loans(session, inst_id, day)


def test_a_partial_payment_lowers_what_later_days_add(client, session, runtime, world, overdue):
    inst_id, loan_id, due = world["inst"].id, overdue["id"], overdue["due"]
    day = due + timedelta(days=10)
    _move_to(session, runtime, inst_id, day)
    charged = _charge(session, runtime, inst_id, loan_id, day)
    assert len(charged) == 1
    before = client.get(f"{LOANS}/{loan_id}", headers=world["hf"]).json()["state"]["installments"][0]
    # Pays the penalty, the interest and 1,000.00 of the principal (due-date order: penalty, interest, principal).
    paid_principal = Money.parse("1000.00", "CNY").minor
    owed = before["outstanding"]
    amount = Money.parse(owed["penalty"], "CNY") + Money.parse(owed["interest"], "CNY") + Money(paid_principal, "CNY")
    r = client.post(f"{LOANS}/{loan_id}/repayments", headers={**world["hf"], "Idempotency-Key": "part-1"},
                    json={"amount": str(amount), "channel": "cash"})
    assert r.status_code == 200, r.text

    later = due + timedelta(days=20)
    _move_to(session, runtime, inst_id, later)
    total = _fen(overdue["principal"] * RATE * Fraction(10, 360)
                 + (overdue["principal"] - paid_principal) * RATE * Fraction(10, 360))
    first = Money.parse(charged[0][1], "CNY").minor
    assert _charge(session, runtime, inst_id, loan_id, later) == [(1, str(Money(total - first, "CNY")))]
    # A day missed by the close of business is charged with the next: the same total as day by day.
    _books_hold_the_loans(session, inst_id, later)


def test_a_loan_that_is_not_running_is_charged_nothing(client, session, runtime, world):
    opened = client.post(LOANS, headers=world["hf"], json={"application_id": world["application_id"]}).json()
    day = date.fromisoformat(world["inst"].business_date.isoformat()) + timedelta(days=90)
    _move_to(session, runtime, world["inst"].id, day)
    assert _charge(session, runtime, world["inst"].id, opened["id"], day) == []
    assert loans.get(session=session, institution_id=world["inst"].id, loan_id=opened["id"]).events_count == 0


STEEP = {"basis": "fixed", "value_percent": "30", "compound_overdue_interest": True, "grace_days": 3,
         "late_fee": {"amount": "20.00", "percent": "1", "after_days": 5}}


@pytest.fixture
def steep(client, session, runtime, monkeypatch):
    """The same loan on a product whose penalty (30 % a year with compound interest) and late fee (20.00 + 1 %
    after 5 days) ask for more than the 24 % ceiling on default charges allows."""
    return base.make_world(client, session, runtime, monkeypatch, penalty=STEEP)


def test_a_late_fee_and_a_steep_penalty_are_charged_within_the_ceiling_on_default_charges(client, session, runtime,
                                                                                          steep):
    inst_id = steep["inst"].id
    loan = _disbursed(client, steep)["loan"]
    assert loans.get(session=session, institution_id=inst_id, loan_id=loan["id"]).terms[
        "default_charges_cap_percent"] == "24"  # the small-loan company's cap in force on the contract date
    first = loan["state"]["installments"][0]
    due = date.fromisoformat(first["due_date"])
    owed = Money.parse(first["due"]["principal"], "CNY").minor + Money.parse(first["due"]["interest"], "CNY").minor

    day = due + timedelta(days=10)
    _move_to(session, runtime, inst_id, day)
    contractual = _fen(owed * Fraction(30, 100) * Fraction(10, 360)) + 2000 + _fen(Fraction(owed, 100))
    ceiling = _fen(owed * Fraction(24, 100) * Fraction(10, 360))
    assert ceiling < contractual
    assert _charge(session, runtime, inst_id, loan["id"], day) == [(1, str(Money(ceiling, "CNY")))]
    assert _charge(session, runtime, inst_id, loan["id"], day) == []
    assert loans.penalties_owed(session=session, loan=loans.get(session=session, institution_id=inst_id,
                                                                 loan_id=loan["id"]),
                                as_of=day)[0].contractual == Money(contractual, "CNY")
    _books_hold_the_loans(session, inst_id, day)

    # Ten days on, still clipped: charged what the ceiling grew by, not a fen more.
    later = due + timedelta(days=20)
    _move_to(session, runtime, inst_id, later)
    grown = _fen(owed * Fraction(24, 100) * Fraction(20, 360)) - ceiling
    assert _charge(session, runtime, inst_id, loan["id"], later) == [(1, str(Money(grown, "CNY")))]
    _books_hold_the_loans(session, inst_id, later)
