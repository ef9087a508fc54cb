"""Risk reads the institution's own loans, on each database: a borrower who repaid a first loan late applies
again and the model's feature row has that loan, as it stood on the decision date; the early default table
bands the loans by their decision's grade and vintage.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from microcredit.lending.money import Money
from microcredit.platform.actor import Actor
from microcredit.risk import samples
from microcredit.risk import service as risk
from microcredit.risk.assessment import Decision
from microcredit.risk.features import InternalHistory
from microcredit.risk.learning import artefact
from microcredit.risk.registry import demo
from microcredit.risk.registry.models import RiskModelScore
from microcredit.risk.registry.service import lifecycle, serving
from microcredit.servicing.service import history as servicing_history
from tests.factories import make_borrower, make_branch, make_institution, make_staff
from tests.integration.helpers import shared_client, sign_contract, signed_in
from tests.integration.origination.support import PLAN, assessment, publish_product, use_review
from tests.integration.servicing.test_lives import advance, disbursed, read
from tests.integration.servicing.test_loans_api import LOANS, key


@pytest.fixture
def client(runtime, backend):
    yield from shared_client(runtime, backend)


@pytest.fixture
def world(client, session, runtime, monkeypatch):
    """A borrower whose first application (8,000 over 6 months) was approved at grade B, contract signed;
    finance; two risk officers (maker and checker of the shadow challenger)."""
    inst = make_institution(session, runtime)
    branch = make_branch(session, runtime, inst)
    publish_product(session, runtime, inst)
    # The risk samples' clean applicant (the simulated bureau's file passes every knockout, so the models score).
    borrower = make_borrower(session, runtime, inst, branch=branch, password=None, real_name="王小明",
                             id_number=samples.base_facts().id_number)
    finance = make_staff(session, runtime, inst, roles=("finance",), password=None)
    maker, checker = (make_staff(session, runtime, inst, roles=("risk_officer",), password=None) for _ in range(2))
    hb, hf, hr = (signed_in(session, runtime, u.user) for u in (borrower, finance, maker))
    session.commit()
    use_review(monkeypatch, assessment(Decision.APPROVE, grade="B"))
    draft = client.post("/api/v1/me/applications", headers=hb, json=PLAN).json()
    assert client.post(f"/api/v1/me/applications/{draft['id']}/submit", headers=hb).json()["status"] == "approved"
    sign_contract(client, runtime, hb, borrower.phone, draft["id"])
    # A challenger in the shadow that reads the history: its scores are stored with the features it read.
    serving.clear_cache()
    version = lifecycle.register(session=session, clock=runtime.clock, actor=Actor("staff", maker.user.id, inst.id),
                                 institution_id=inst.id, code="retail_scorecard", blob=_with_history(), report=None)
    promotion = lifecycle.propose(session=session, clock=runtime.clock, actor=Actor("staff", maker.user.id, inst.id),
                                  institution_id=inst.id, code="retail_scorecard", number=version.number,
                                  target="challenger", reason="影子运行")
    lifecycle.approve(session=session, clock=runtime.clock, actor=Actor("staff", checker.user.id, inst.id),
                      institution_id=inst.id, promotion_id=promotion.id, reason="同意")
    session.commit()
    return {"inst": inst, "hf": hf, "hr": hr, "hb": hb, "borrower": borrower, "application_id": draft["id"]}


def _with_history() -> bytes:
    """The demo's second scorecard plus the four repayment-history features."""
    document = demo.scorecard(2)
    for name, splits, points in (("internal_loans", [0.5], [0, 10]), ("internal_instalments_due", [0.5], [0, 5]),
                                 ("internal_on_time_ratio", [0.8], [-40, 20]),
                                 ("internal_max_days_late", [7.5, 29.5], [10, -20, -60])):
        document["features"].append({"name": name, "kind": "numeric", "splits": splits, "points": points,
                                     "missing_points": 0, "label": {"zh-CN": name, "en": name}})
    return artefact.dump(document)


def _decided_row(session, inst, id_number, number, on):
    """Assess a new application of `id_number` submitted on `on`; the feature row the challenger read."""
    facts = replace(samples.base_facts(institution_id=inst.id), id_number=id_number, application_number=number,
                    monthly_income=Money(5_000_000, "CNY"), submitted_at=datetime.combine(on, time(10), tzinfo=UTC))
    assessed = risk.assess(session, facts)
    session.flush()
    assert assessed.score is not None, [r for r in assessed.results if str(r.outcome) != 'pass']
    [stored] = session.scalars(select(RiskModelScore).where(RiskModelScore.application_number == number)).all()
    return {k: v for k, v in stored.features.items() if k.startswith("internal_")}


def test_a_late_first_loan_is_in_the_next_decision_as_it_stood_that_day(client, session, runtime, world,
                                                                       monkeypatch):
    inst, inst_id = world["inst"], world["inst"].id
    assert isinstance(risk.current().history, servicing_history.ServicingHistory)  # wired by the runtime
    loan = disbursed(client, world)
    rows = loan["state"]["installments"]
    first, second = (date.fromisoformat(r["due_date"]) for r in rows[:2])
    # The first instalment paid 12 days late (with its penalty interest).
    advance(session, runtime, inst_id, loan["id"], first + timedelta(days=12))
    owed = read(client, world, loan["id"])["state"]["installments"][0]["outstanding"]["total"]
    paid = client.post(f"{LOANS}/{loan['id']}/repayments", headers=key(world["hf"]),
                       json={"amount": owed, "channel": "cash"})
    assert paid.status_code == 200, paid.text
    decided_on = first + timedelta(days=15)
    advance(session, runtime, inst_id, loan["id"], decided_on)
    id_number = world["borrower"].id_number

    row = _decided_row(session, inst, id_number, "MC-HIST-1", decided_on)
    assert row == {"internal_loans": 1, "internal_instalments_due": 1, "internal_on_time_ratio": 0.0,
                   "internal_max_days_late": 12}
    # Someone unknown here is a new customer.
    source = servicing_history.ServicingHistory(runtime.keys.blind_index)
    assert source.history(session, institution_id=inst_id, id_number=samples.sample_id_number("952"),
                          until=decided_on) == InternalHistory()

    # The second instalment paid on its due date: later decisions see it, the first one's row does not change.
    advance(session, runtime, inst_id, loan["id"], second)
    owed = read(client, world, loan["id"])["state"]["installments"][1]["outstanding"]["total"]
    assert client.post(f"{LOANS}/{loan['id']}/repayments", headers=key(world["hf"]),
                       json={"amount": owed, "channel": "cash"}).status_code == 200
    then = source.history(session, institution_id=inst_id, id_number=id_number, until=decided_on)
    [(paid_out, items)] = then.loans
    assert [(i.due_on, i.paid_on) for i in items if i.due_on <= decided_on] == [(first, first + timedelta(days=12))]
    assert all(i.paid_on is None for i in items[1:])  # the payment after the decision date is not seen
    assert _decided_row(session, inst, id_number, "MC-HIST-2", decided_on) == row
    stored = session.scalars(select(RiskModelScore).where(RiskModelScore.application_number == "MC-HIST-1")).one()
    assert stored.features["internal_max_days_late"] == 12
    assert _decided_row(session, inst, id_number, "MC-HIST-3", second) == {
        "internal_loans": 1, "internal_instalments_due": 2, "internal_on_time_ratio": 0.5,
        "internal_max_days_late": 12}

    # The early default table: one grade-B loan of this vintage, 12 days late at worst (no early default);
    # its 3 months on book not over yet, so not counted.
    table = risk.outcomes.early_defaults(session=session, source=risk.current().outcomes, institution_id=inst_id)
    vintage = f"{paid_out.year:04d}-{paid_out.month:02d}"
    assert (table.bands, table.vintages) == (("B",), (vintage,))
    [cell] = table.cells
    assert (cell.band, cell.vintage, cell.loans, cell.early.counted, cell.early.defaults) == ("B", vintage, 1, 0, 0)
    assert table.total.early.rate is None
    # Three months on book: counted, no early default (12 days at worst).
    advance(session, runtime, inst_id, loan["id"], risk.outcomes.add_months(paid_out, 3))
    table = risk.outcomes.early_defaults(session=session, source=risk.current().outcomes, institution_id=inst_id)
    assert (table.total.early.counted, table.total.early.defaults, table.total.early.rate) == (1, 0, 0.0)
    # The third instalment (due at three months) left unpaid to six months on book: the worst days past due
    # within 6 months are its days unpaid; 90 or more would be an early default (the months' lengths decide).
    six = risk.outcomes.add_months(paid_out, 6)
    advance(session, runtime, inst_id, loan["id"], six)
    [outcome] = risk.current().outcomes.outcomes(session, institution_id=inst_id)
    third = date.fromisoformat(rows[2]["due_date"])
    assert (outcome.grade, outcome.worst_dpd_3m, outcome.worst_dpd_6m) == ("B", 12, (six - third).days)
    table = risk.outcomes.early_defaults(session=session, source=risk.current().outcomes, institution_id=inst_id)
    late = int((six - third).days >= 90)
    assert (table.total.late.counted, table.total.late.defaults, table.total.late.rate) == (1, late, float(late))
    assert table.total.early.defaults == 0
    # The same through the API, for the risk officer (a borrower is refused).
    answer = client.get("/api/v1/risk/early-defaults", headers=world["hr"])
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["bands"], body["vintages"], body["total"]["loans"]) == (["B"], [vintage], 1)
    assert body["total"]["dpd90_6m"] == {"counted": 1, "defaults": late, "rate": float(late)}
    assert body["cells"][0]["dpd30_3m"] == {"counted": 1, "defaults": 0, "rate": 0.0}
    assert client.get("/api/v1/risk/early-defaults", headers=world["hb"]).status_code == 403

    # The figures are kept per loan version and date followed to: nothing changed, nothing is folded again; a
    # payment moves the loan's version and it is folded again, to what a fresh fold gives.
    folds = []
    real = servicing_history.instalments
    monkeypatch.setattr(servicing_history, "instalments", lambda *a: folds.append(1) or real(*a))
    kept = risk.current().outcomes
    assert kept.outcomes(session, institution_id=inst_id) == [outcome]
    assert folds == []
    owed = read(client, world, loan["id"])["state"]["installments"][2]["outstanding"]["total"]
    assert client.post(f"{LOANS}/{loan['id']}/repayments", headers=key(world["hf"]),
                       json={"amount": owed, "channel": "cash"}).status_code == 200
    session.expire_all()
    again = kept.outcomes(session, institution_id=inst_id)
    assert folds == [1]
    assert again == servicing_history.ServicingLoanOutcomes().outcomes(session, institution_id=inst_id) == [outcome]
