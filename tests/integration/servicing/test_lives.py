"""Whole lives of loans over HTTP, on each database: paid late with penalty interest then caught up;
prepaid partly with each choice (a shorter term, a lower installment) then fully; rescheduled by
maker-checker with the arrears capitalised; a tranche loan paid out in two tranches through the
payment provider; a down-payment product; a product with accounts of its own. After each life the
ledger verifies: every entry balances and the control accounts equal the loans' sub-ledger.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest

from microcredit.integrations.payments import PaymentSimulation, SimulatedPaymentProvider
from microcredit.ledger import service as ledger
from microcredit.lending.money import Money
from microcredit.parties import service as parties
from microcredit.platform.actor import Actor
from microcredit.risk.assessment import Decision
from microcredit.servicing.service import loans
from tests.factories import make_borrower, make_branch, make_institution, make_staff
from tests.integration.helpers import outbox_timer, shared_client, sign_contract, signed_in, snapshot
from tests.integration.origination.support import PLAN, assessment, publish_product, use_review
from tests.integration.servicing.test_loans_api import LOANS, key, refused

CARD = "6225881414207430"




@pytest.fixture
def rt(runtime):
    """The runtime with a payment simulator confirming at once (no delay)."""
    provider = SimulatedPaymentProvider(clock=runtime.clock, secret=b"test-secret", public_url="http://testserver",
                                        simulation=PaymentSimulation(delay_seconds=0))
    return replace(runtime, payment_provider=provider)


@pytest.fixture
def client(rt, backend):
    yield from shared_client(rt, backend)


@pytest.fixture
def product():
    """The product's changes to the test product (overridden by the lives that need tranches, say)."""
    return {}


@pytest.fixture
def chart():
    """Sub-accounts (code, parent code, type, names) added to the chart before the product is published."""
    return ()


@pytest.fixture
def world(client, session, rt, monkeypatch, product, chart):
    """A borrower with a bound card whose application (8,000 over 6 months, grade B: 7 %) is approved and
    whose contract is signed; finance and a branch manager (the checker)."""
    inst = make_institution(session, rt)
    branch = make_branch(session, rt, inst)
    codes = {a.code: a.id for a in ledger.accounts.list_accounts(session=session, institution_id=inst.id)}
    for code, parent, kind, name_zh, name_en in chart:
        codes[code] = ledger.accounts.create_account(session=session, clock=rt.clock, actor=Actor.system(inst.id),
                                                     institution_id=inst.id, code=code, name_zh=name_zh,
                                                     name_en=name_en, type=kind, parent_id=codes[parent]).id
    publish_product(session, rt, inst, **product)
    borrower = make_borrower(session, rt, inst, branch=branch, password=None, real_name="王小明")
    finance = make_staff(session, rt, inst, roles=("finance",), password=None)
    manager = make_staff(session, rt, inst, roles=("branch_manager",), password=None)
    hb, hf, hm = (signed_in(session, rt, u.user) for u in (borrower, finance, manager))
    session.commit()
    use_review(monkeypatch, assessment(Decision.APPROVE, grade="B"))
    draft = client.post("/api/v1/me/applications", headers=hb, json=PLAN).json()
    decided = client.post(f"/api/v1/me/applications/{draft['id']}/submit", headers=hb).json()
    assert decided["status"] == "approved", decided
    card = client.post("/api/v1/me/bank-cards", headers=hb, json={"bank_name": "中国银行", "card_number": CARD})
    assert card.status_code == 201, card.text
    sign_contract(client, rt, hb, borrower.phone, draft["id"])
    return {"inst": inst, "hb": hb, "hf": hf, "hm": hm, "application_id": draft["id"], "card_id": card.json()["id"],
            "phone": borrower.phone}


def move_to(session, rt, inst_id, day):
    parties.organisation.set_business_date_as(session=session, clock=rt.clock, actor=Actor.system(inst_id),
                                              institution_id=inst_id, new_date=day, override_allowed=True)
    session.commit()


def advance(session, rt, inst_id, loan_id, day):
    """The business date moved to `day` and the loan brought to it, as a close of business does."""
    move_to(session, rt, inst_id, day)
    loans.advance(session=session, clock=rt.clock, actor=Actor.system(inst_id), institution_id=inst_id,
                  loan_id=loan_id, business_date=day)
    session.commit()


def books_verified(session, inst_id):
    session.expire_all()
    report = ledger.books.verify(session=session, institution_id=inst_id, subledger=loans.control_balances)
    assert report.ok, report.problems


def disbursed(client, world):
    loan = client.post(LOANS, headers=world["hf"], json={"application_id": world["application_id"]})
    assert loan.status_code == 201, loan.text
    r = client.post(f"{LOANS}/{loan.json()['id']}/disbursements", headers=key(world["hf"]),
                    json={"channel": "bank_transfer", "reference": "B-1"})
    assert r.status_code == 200, r.text
    return r.json()["loan"]


def read(client, world, loan_id):
    r = client.get(f"{LOANS}/{loan_id}", headers=world["hf"])
    assert r.status_code == 200, r.text
    return r.json()


def test_paid_late_with_penalty_interest_then_caught_up(client, session, rt, world):
    inst_id = world["inst"].id
    loan = disbursed(client, world)
    first = loan["state"]["installments"][0]
    due = date.fromisoformat(first["due_date"])
    # Within the product's 3 grace days: late, but no penalty yet.
    advance(session, rt, inst_id, loan["id"], due + timedelta(days=2))
    now = read(client, world, loan["id"])
    assert now["dpd"] == 0
    assert now["state"]["totals"]["outstanding"]["penalty"] == "0.00"
    # Ten days late: penalty interest at the contract rate uplifted by 50 % (7 % -> 10.5 %) on the
    # installment's principal, from its due date, ACT/360.
    advance(session, rt, inst_id, loan["id"], due + timedelta(days=10))
    now = read(client, world, loan["id"])
    assert now["dpd"] == 10
    principal = Money.parse(first["due"]["principal"], "CNY")
    expected = (principal.amount * Decimal("0.105") * 10 / 360).quantize(Decimal("0.01"))
    assert now["state"]["totals"]["outstanding"]["penalty"] == f"{expected:.2f}"
    assert [e["type"] for e in now["events"]].count("penalty") == 1
    # The close of business run again on the same day charges nothing more.
    advance(session, rt, inst_id, loan["id"], due + timedelta(days=10))
    assert [e["type"] for e in read(client, world, loan["id"])["events"]].count("penalty") == 1
    books_verified(session, inst_id)
    # Two days later more penalty is charged, from the day it was last charged.
    advance(session, rt, inst_id, loan["id"], due + timedelta(days=12))
    now = read(client, world, loan["id"])
    assert now["dpd"] == 12
    penalty = Money.parse(now["state"]["totals"]["outstanding"]["penalty"], "CNY")
    assert penalty > Money.parse(f"{expected:.2f}", "CNY")
    # Caught up: what is due now, penalty included, paid at once.
    owed = now["state"]["totals"]["outstanding"]
    due_now = sum((Money.parse(r["outstanding"]["total"], "CNY") for r in now["state"]["installments"]
                   if date.fromisoformat(r["due_date"]) <= due + timedelta(days=12)), Money.zero("CNY"))
    paid = client.post(f"{LOANS}/{loan['id']}/repayments", headers=key(world["hf"]),
                       json={"amount": str(due_now), "channel": "cash"})
    assert paid.status_code == 200, paid.text
    after = paid.json()["loan"]
    assert after["dpd"] == 0
    assert after["totals"]["outstanding"]["penalty"] == "0.00"
    assert after["totals"]["paid"]["penalty"] == str(penalty)
    assert owed["penalty"] == str(penalty)
    # The next day nothing is past due: no penalty charged.
    advance(session, rt, inst_id, loan["id"], due + timedelta(days=13))
    now = read(client, world, loan["id"])
    assert (now["dpd"], [e["type"] for e in now["events"]].count("penalty")) == (0, 2)
    books_verified(session, inst_id)
    # The rest on time to the end: closed.
    for row in now["state"]["installments"]:
        if row["outstanding"]["total"] == "0.00":
            continue
        advance(session, rt, inst_id, loan["id"], date.fromisoformat(row["due_date"]))
        r = client.post(f"{LOANS}/{loan['id']}/repayments", headers=key(world["hf"]),
                        json={"amount": row["outstanding"]["total"], "channel": "cash"})
        assert r.status_code == 200, r.text
    assert (r.json()["loan"]["status"], r.json()["loan"]["dpd"]) == ("closed", 0)
    books_verified(session, inst_id)


def test_prepaid_partly_with_each_choice_then_fully(client, session, rt, world):
    inst_id = world["inst"].id
    loan = disbursed(client, world)
    path = f"{LOANS}/{loan['id']}"
    rows = loan["state"]["installments"]
    assert len(rows) == 6
    advance(session, rt, inst_id, loan["id"], date.fromisoformat(rows[0]["due_date"]))
    assert client.post(f"{path}/repayments", headers=key(world["hf"]),
                       json={"amount": rows[0]["due"]["total"]}).status_code == 200
    # A shorter term: the same installment, fewer of them.
    day = date.fromisoformat(rows[0]["due_date"]) + timedelta(days=5)
    advance(session, rt, inst_id, loan["id"], day)
    short = client.post(f"{path}/prepayments", headers=key(world["hf"]),
                        json={"amount": "3000.00", "mode": "shorten_term", "channel": "bank_transfer"})
    assert short.status_code == 200, short.text
    left = [r for r in short.json()["loan"]["state"]["installments"] if r["outstanding"]["total"] != "0.00"]
    assert len(left) < 5
    level = rows[1]["due"]["principal"], rows[1]["due"]["interest"]
    books_verified(session, inst_id)
    # A lower installment: as many installments, each smaller.
    before = left
    day = day + timedelta(days=3)
    advance(session, rt, inst_id, loan["id"], day)
    lower = client.post(f"{path}/prepayments", headers=key(world["hf"]),
                        json={"amount": "1000.00", "mode": "reduce_installment"})
    assert lower.status_code == 200, lower.text
    after = [r for r in lower.json()["loan"]["state"]["installments"] if r["outstanding"]["total"] != "0.00"]
    assert len(after) == len(before)
    assert Money.parse(after[-2]["due"]["total"], "CNY") < Money.parse(before[-2]["due"]["total"], "CNY")
    assert level  # the first schedule's rows, kept for the message of a failure above
    books_verified(session, inst_id)
    # Fully: the payoff amount of the day settles the loan.
    payoff = lower.json()["loan"]["state"]["payoff"]["total"]
    done = client.post(f"{path}/prepayments", headers=key(world["hf"]), json={"amount": payoff,
                                                                               "mode": "shorten_term"})
    assert done.status_code == 200, done.text
    final = done.json()["loan"]
    assert (final["status"], final["outstanding_principal"]) == ("closed", "0.00")
    books_verified(session, inst_id)
    # The borrower was told in the app: paid out, each payment received (leading to its receipt), closed.
    inbox = client.get("/api/v1/me/notifications", headers=world["hb"], params={"page_size": 50}).json()["items"]
    told = [(m["template"], m["params"].get("amount"), m["subject_kind"]) for m in reversed(inbox)
            if m["template"].startswith("loan_")]
    assert told == [("loan_disbursed", "8000.00", "loan"), ("loan_repayment_recorded", rows[0]["due"]["total"], "loan"),
                    ("loan_repayment_recorded", "3000.00", "loan"), ("loan_repayment_recorded", "1000.00", "loan"),
                    ("loan_repayment_recorded", payoff, "loan"), ("loan_closed", None, "loan")]
    # ... and by SMS to the phone on file, once each, in the order of the events.
    outbox_timer(client)  # receipts and notices leave with the outbox's timer, not with their requests
    texts = [m["text"] for m in reversed(client.get("/_sim/sms", params={"phone": world["phone"]}).json())]
    loan_texts = [t for t in texts if loan["number"] in t]
    sign, number = f"【{world['inst'].name}】", loan["number"]
    received = [f"{sign}已收到您贷款 {number} 的还款 {amount} 元，回单可在“我的贷款”中下载。"
                for amount in (rows[0]["due"]["total"], "3000.00", "1000.00", payoff)]
    assert loan_texts == [f"{sign}您的贷款 {number} 已放款 8000.00 元，可在“我的贷款”中查看还款计划。", *received,
                          f"{sign}您的贷款 {number} 已全部还清结清，感谢您按约还款。"]
    last = next(m for m in inbox if m["template"] == "loan_repayment_recorded")
    receipt = client.get(f"/api/v1/me/loans/{loan['id']}/events/{last['params']['seq']}/document", headers=world["hb"])
    assert (receipt.status_code, receipt.headers["content-type"]) == (200, "application/pdf")


def test_rescheduled_by_maker_checker_with_the_arrears_capitalised(client, session, rt, world):
    inst_id = world["inst"].id
    loan = disbursed(client, world)
    path = f"{LOANS}/{loan['id']}"
    first = loan["state"]["installments"][0]
    advance(session, rt, inst_id, loan["id"], date.fromisoformat(first["due_date"]) + timedelta(days=20))
    late = read(client, world, loan["id"])
    assert late["dpd"] == 20
    # A bad proposal is refused naming the field, and changes nothing.
    before = snapshot(rt.db)
    refused(client.post(f"{path}/changes", headers=world["hf"], json={
        "kind": "rescheduling", "installments": 0, "reason_code": "hardship", "note": "x"}), 422,
        "validation_failed", "rescheduling.installments")
    assert before.diff(snapshot(rt.db)) == {}
    proposed = client.post(f"{path}/changes", headers=world["hf"], json={
        "kind": "rescheduling", "installments": 10, "annual_rate": "6", "capitalise_overdue_principal": True,
        "reason_code": "hardship", "note": "受灾减产，重新安排还款计划"})
    assert proposed.status_code == 201, proposed.text
    assert read(client, world, loan["id"])["events"] == late["events"]  # nothing recorded yet
    approved = client.post(f"/api/v1/loan-changes/{proposed.json()['id']}/approve", headers=world["hm"],
                           json={"note": "同意"})
    assert approved.status_code == 200, approved.text
    now = read(client, world, loan["id"])
    assert now["events"][-1]["type"] == "rescheduling"
    assert now["state"]["restructured_on"] is not None
    # The overdue principal moved into the new schedule; the overdue interest and penalty stay owed on
    # the old installment (arrears to collect): paid, the loan is current again.
    old = now["state"]["installments"][0]
    assert old["outstanding"]["principal"] == "0.00"
    assert Money.parse(old["outstanding"]["interest"], "CNY").is_positive
    assert Money.parse(old["outstanding"]["penalty"], "CNY").is_positive
    assert now["dpd"] == 20
    arrears = client.post(f"{path}/repayments", headers=key(world["hf"]), json={"amount": old["outstanding"]["total"]})
    assert arrears.status_code == 200, arrears.text
    assert arrears.json()["loan"]["dpd"] == 0
    now = read(client, world, loan["id"])  # the answer is lean: the schedule is the loan's read
    future = [r for r in now["state"]["installments"] if r["outstanding"]["total"] != "0.00"
              and r["due_date"] > now["state"]["as_of"]]
    assert len(future) == 10
    owed = sum((Money.parse(r["outstanding"]["principal"], "CNY") for r in now["state"]["installments"]),
               Money.zero("CNY"))
    assert str(owed) == now["outstanding_principal"] == "8000.00"
    books_verified(session, inst_id)
    # Paid to the end on the new schedule.
    for row in now["state"]["installments"]:
        if row["outstanding"]["total"] == "0.00":
            continue
        advance(session, rt, inst_id, loan["id"], max(date.fromisoformat(row["due_date"]),
                                                      date.fromisoformat(now["state"]["as_of"])))
        r = client.post(f"{path}/repayments", headers=key(world["hf"]),
                        json={"amount": read(client, world, loan["id"])["state"]["installments"][
                            row["number"] - 1]["outstanding"]["total"]})
        assert r.status_code == 200, r.text
    assert r.json()["loan"]["status"] == "closed"
    books_verified(session, inst_id)


def payout(client, rt, world, loan_id, **body):
    """A payout through the provider, its answer polled: the payment as it ended."""
    r = client.post(f"{LOANS}/{loan_id}/payouts", headers=key(world["hf"]), json=body)
    assert r.status_code == 201, r.text
    rt.clock.advance(timedelta(seconds=1))
    polled = client.post(f"/api/v1/payments/{r.json()['id']}/poll", headers=world["hf"])
    assert polled.status_code == 200, polled.text
    return polled.json()


@pytest.mark.parametrize("product", [{"tranches": True}])
def test_a_tranche_loan_paid_out_in_two_tranches_through_the_provider(client, session, rt, world):
    inst_id = world["inst"].id
    loan = client.post(LOANS, headers=world["hf"], json={"application_id": world["application_id"]}).json()
    assert loan["terms"]["servicing"]["tranches"] is True
    path = f"{LOANS}/{loan['id']}"
    before = snapshot(rt.db)
    refused(client.post(f"{path}/payouts", headers=key(world["hf"]), json={"amount": "8000.01"}), 422,
            "payout_above_allowed", "amount")
    assert before.diff(snapshot(rt.db)) == {}
    first = payout(client, rt, world, loan["id"], amount="5000.00", card_id=world["card_id"])
    assert (first["status"], first["amount"]) == ("confirmed", "5000.00")
    now = read(client, world, loan["id"])
    assert (now["status"], now["state"]["disbursed"]) == ("active", "5000.00")
    assert sum(Decimal(r["due"]["principal"]) for r in now["state"]["installments"]) == Decimal("5000.00")
    books_verified(session, inst_id)
    # Ten days on, finance asks for the second tranche: at most what is left of the approved amount.
    move_to(session, rt, inst_id, date.fromisoformat(now["state"]["as_of"]) + timedelta(days=10))
    before = snapshot(rt.db)
    refused(client.post(f"{path}/payouts", headers=key(world["hf"]), json={"amount": "3000.01"}), 422,
            "payout_above_allowed", "amount")
    assert before.diff(snapshot(rt.db)) == {}
    second = payout(client, rt, world, loan["id"], amount="3000.00")
    assert (second["status"], second["amount"]) == ("confirmed", "3000.00")
    now = read(client, world, loan["id"])
    assert now["state"]["disbursed"] == "8000.00"
    assert [d["amount"] for d in now["state"]["disbursements"]] == ["5000.00", "3000.00"]
    assert now["outstanding_principal"] == "8000.00"
    # The schedule re-amortised over the installments still to come: they repay all 8,000.
    assert sum(Decimal(r["due"]["principal"]) for r in now["state"]["installments"]) == Decimal("8000.00")
    assert [e["type"] for e in now["events"]] == ["disbursement", "disbursement"]
    # Nothing is left to pay out.
    refused(client.post(f"{path}/payouts", headers=key(world["hf"]), json={"amount": "0.01"}), 422,
            "payout_above_allowed", "amount")
    books_verified(session, inst_id)


def test_a_product_without_tranches_pays_out_the_whole_principal_only(client, session, rt, world):
    loan = client.post(LOANS, headers=world["hf"], json={"application_id": world["application_id"]}).json()
    before = snapshot(rt.db)
    refused(client.post(f"{LOANS}/{loan['id']}/payouts", headers=key(world["hf"]), json={"amount": "5000.00"}),
            422, "tranches_not_allowed", "amount")
    assert before.diff(snapshot(rt.db)) == {}
    done = payout(client, rt, world, loan["id"])
    assert (done["status"], done["amount"]) == ("confirmed", "8000.00")
    refused(client.post(f"{LOANS}/{loan['id']}/payouts", headers=key(world["hf"]), json={}), 409, "loan_wrong_state")


@pytest.mark.parametrize("product", [{"down_payment_percent": "20", "down_payment_collected": True}])
def test_a_down_payment_product_collects_it_at_disbursement_and_posts_it(client, session, rt, world):
    inst_id = world["inst"].id
    loan = disbursed(client, world)
    assert loan["terms"]["servicing"]["down_payment_percent"] == "20"
    down = loan["state"]["installments"][0]
    assert (down["number"], down["due"]["principal"], down["paid"]["principal"]) == (0, "1600.00", "1600.00")
    assert loan["outstanding_principal"] == "6400.00"
    assert sum(Decimal(r["due"]["principal"]) for r in loan["state"]["installments"][1:]) == Decimal("6400.00")
    books_verified(session, inst_id)
    # The books: 8,000 lent, 1,600 of it repaid on the day (the bank paid out 6,400 net).
    report = ledger.reports.trial_balance_report(session=session, institution_id=inst_id,
                                                 date_to=date.fromisoformat(loan["state"]["as_of"]),
                                                 basis="accrual", include_empty=True)
    balances = {account.code: (row.closing_debit - row.closing_credit).minor for account, row in report.rows}
    assert balances["130101"] == 640000


def test_a_group_loan_its_statement_and_a_members_arrears_seen_by_the_leader_and_staff(client, session, rt,
                                                                                        monkeypatch):
    inst = make_institution(session, rt)
    branch = make_branch(session, rt, inst)
    publish_product(session, rt, inst, code="GRP", group_lending=True, customer_types=["consumer", "farmer"])
    officer = make_staff(session, rt, inst, roles=("loan_officer",), branch=branch, password=None)
    finance = make_staff(session, rt, inst, roles=("finance",), password=None)
    people = [make_borrower(session, rt, inst, branch=branch, password=None, real_name=name)
              for name in ("王大山", "李小红", "张三丰")]
    ho, hf = signed_in(session, rt, officer.user), signed_in(session, rt, finance.user)
    hb = [{**signed_in(session, rt, p.user), "X-Device-Id": f"dev-{i}"} for i, p in enumerate(people)]
    session.commit()
    use_review(monkeypatch, assessment(Decision.APPROVE, grade="B"))
    ids = [p.borrower.id for p in people]
    group = client.post("/api/v1/groups", headers=ho, json={"name": "城关一组", "member_ids": ids,
                                                             "leader_id": ids[0]}).json()
    ga = client.post("/api/v1/group-applications", headers=ho, json={
        "group_id": group["id"], "product_code": "GRP", "term": 6, "repayment_method": "equal_installment",
        "purpose": "agriculture", "members": [{"borrower_id": b, "amount": a}
                                              for b, a in zip(ids, ("5000.00", "6000.00", "7000.00"), strict=True)]})
    assert ga.status_code == 201, ga.text
    apps = {m["borrower_id"]: m["application_id"] for m in ga.json()["members"]}
    for i, b in enumerate(ids):
        assert client.post(f"/api/v1/me/applications/{apps[b]}/consent", headers=hb[i],
                           json={"agree_joint_liability": True}).status_code == 200
    loans_of = {}
    for i, b in enumerate(ids):
        sign_contract(client, rt, hb[i], people[i].phone, apps[b])
        opened = client.post(LOANS, headers=hf, json={"application_id": apps[b]}).json()
        r = client.post(f"{LOANS}/{opened['id']}/disbursements", headers=key(hf), json={})
        assert r.status_code == 200, r.text
        loans_of[b] = r.json()["loan"]
    # The second member misses the first installment; the others pay it.
    first = loans_of[ids[0]]["state"]["installments"][0]
    day = date.fromisoformat(first["due_date"])
    move_to(session, rt, inst.id, day)
    for b in (ids[0], ids[2]):
        due = loans_of[b]["state"]["installments"][0]["due"]["total"]
        assert client.post(f"{LOANS}/{loans_of[b]['id']}/repayments", headers=key(hf),
                           json={"amount": due}).status_code == 200
    for b in ids:
        advance(session, rt, inst.id, loans_of[b]["id"], day + timedelta(days=5))
    late = read(client, {"hf": hf}, loans_of[ids[1]]["id"])
    owed = sum((Money.parse(r["outstanding"]["total"], "CNY") for r in late["state"]["installments"]
                if r["due_date"] < late["state"]["as_of"]), Money.zero("CNY"))
    # Staff (the group's loan officer) see the statement: every member's loan, the arrears, the totals.
    staff = client.get(f"/api/v1/groups/{group['id']}/statement", headers=ho)
    assert staff.status_code == 200, staff.text
    body = staff.json()
    assert [(m["name"], m["leader"], m["loan_id"], m["principal"], m["dpd"]) for m in body["members"]] == [
        ("王大山", True, loans_of[ids[0]]["id"], "5000.00", 0), ("李小红", False, loans_of[ids[1]]["id"], "6000.00", 5),
        ("张三丰", False, loans_of[ids[2]]["id"], "7000.00", 0)]
    assert [m["overdue"] for m in body["members"]] == ["0.00", str(owed), "0.00"]
    assert (body["principal"], body["overdue"], body["members_in_arrears"]) == ("18000.00", str(owed), 1)
    # The leader sees the same in the borrower app; another member does not (not found).
    mine = client.get("/api/v1/me/group-statement", headers=hb[0])
    assert mine.status_code == 200, mine.text
    assert mine.json() == body
    refused(client.get("/api/v1/me/group-statement", headers=hb[1]), 404, "not_found")
    # Caught up: nobody in arrears.
    assert client.post(f"{LOANS}/{late['id']}/repayments", headers=key(hf), json={"amount": str(owed)}
                       ).status_code == 200
    after = client.get(f"/api/v1/groups/{group['id']}/statement", headers=ho).json()
    assert (after["overdue"], after["members_in_arrears"]) == ("0.00", 0)
    books_verified(session, inst.id)


@pytest.mark.parametrize("product", [{"down_payment_percent": "20", "down_payment_collected": True}])
def test_a_down_payment_kept_back_from_a_payout_through_the_provider(client, session, rt, world):
    inst_id = world["inst"].id
    loan = client.post(LOANS, headers=world["hf"], json={"application_id": world["application_id"]}).json()
    done = payout(client, rt, world, loan["id"])
    # The provider pays the 6,400 net; the loan records the 8,000 disbursed and the 1,600 paid on the day.
    assert (done["status"], done["amount"], done["event_amount"]) == ("confirmed", "6400.00", "8000.00")
    now = read(client, world, loan["id"])
    assert (now["state"]["disbursed"], now["outstanding_principal"]) == ("8000.00", "6400.00")
    assert now["state"]["installments"][0]["paid"]["principal"] == "1600.00"
    books_verified(session, inst_id)
    report = ledger.reports.trial_balance_report(session=session, institution_id=inst_id,
                                                 date_to=date.fromisoformat(now["state"]["as_of"]),
                                                 basis="cash", include_empty=True)
    balances = {account.code: (row.closing_debit - row.closing_credit).minor for account, row in report.rows}
    assert (balances["130101"], balances["1002"]) == (640000, -640000)


FARM_ACCOUNTS = (("130102", "1301", "asset", "贷款—农户经营贷本金", "Loans — farm business principal"),
                 ("601101", "6011", "income", "利息收入—农户经营贷", "Interest income — farm business"))


def balances(session, inst_id, day):
    """Accrual-book closing balance per account code (debit positive)."""
    report = ledger.reports.trial_balance_report(session=session, institution_id=inst_id, date_to=day)
    return {a.code: (row.closing_debit - row.closing_credit).minor for a, row in report.rows}


@pytest.mark.parametrize(("product", "chart"), [({"accounts": {"loan_principal": "130102",
                                                                 "interest_income": "601101"}}, FARM_ACCOUNTS)])
def test_a_product_with_accounts_of_its_own_posts_its_loans_there_and_the_books_verify(client, session, rt, world):
    inst_id = world["inst"].id
    loan = disbursed(client, world)
    assert loan["terms"]["accounts"] == {"loan_principal": "130102", "interest_income": "601101"}
    first = loan["state"]["installments"][0]
    due = date.fromisoformat(first["due_date"])
    advance(session, rt, inst_id, loan["id"], due)
    r = client.post(f"{LOANS}/{loan['id']}/repayments", headers=key(world["hf"]),
                    json={"amount": first["due"]["total"], "channel": "cash"})
    assert r.status_code == 200, r.text
    after = r.json()["loan"]
    held = balances(session, inst_id, due)
    # The principal outstanding and the interest earned are on the product's accounts, none on the defaults.
    assert held["130102"] == Money.parse(after["outstanding_principal"], "CNY").minor > 0
    assert held["601101"] == -Money.parse(first["due"]["interest"], "CNY").minor < 0
    assert (held.get("130101", 0), held.get("6011", 0)) == (0, 0)
    # The sub-ledger compares each loan with its own accounts: the books verify.
    books_verified(session, inst_id)
    report = ledger.books.verify(session=session, institution_id=inst_id, subledger=loans.control_balances)
    assert report.controls >= 2


@pytest.mark.parametrize("product", [{"tranches": True, "planned_tranches": [{"after_days": 0, "percent": "60"},
                                                                             {"after_days": 30, "percent": "40"}]}])
def test_a_loan_carries_its_products_planned_tranches_and_finance_is_offered_the_next(client, session, rt, world):
    inst_id = world["inst"].id
    loan = client.post(LOANS, headers=world["hf"], json={"application_id": world["application_id"]}).json()
    assert loan["terms"]["planned_tranches"] == [{"after_days": 0, "percent": "60"},
                                                 {"after_days": 30, "percent": "40"}]
    # Paid out with no amount given: the first planned tranche, 60 % of the 8,000 approved.
    first = payout(client, rt, world, loan["id"], card_id=world["card_id"])
    assert (first["status"], first["amount"]) == ("confirmed", "4800.00")
    now = read(client, world, loan["id"])
    day = date.fromisoformat(now["state"]["disbursed_on"])
    planned = now["state"]["planned_disbursements"]
    assert [(p["expected_on"], p["expected_amount"], p["made"] is not None) for p in planned] == [
        (day.isoformat(), "4800.00", True), ((day + timedelta(days=30)).isoformat(), "3200.00", False)]
    # The schedule shown projects the tranche still to come: it repays all 8,000.
    projected = now["state"]["projected_schedule"]
    assert projected is not None
    assert sum(Decimal(r["principal"]) for r in projected) == Decimal("8000.00")
    assert sum(Decimal(r["due"]["principal"]) for r in now["state"]["installments"]) == Decimal("4800.00")
    # On its day, the next payout is the second planned tranche.
    move_to(session, rt, inst_id, day + timedelta(days=30))
    second = payout(client, rt, world, loan["id"])
    assert (second["status"], second["amount"]) == ("confirmed", "3200.00")
    now = read(client, world, loan["id"])
    assert [p["made"]["amount"] for p in now["state"]["planned_disbursements"]] == ["4800.00", "3200.00"]
    assert now["state"]["projected_schedule"] is None
    books_verified(session, inst_id)


def test_a_repayments_text_leaves_with_the_outbox_timer_not_with_its_request(client, session, rt, world):
    """The answer to a repayment does not wait for its SMS: the receipt is queued with the repayment and
    texted by the outbox's timer (in `serve`, within OUTBOX_POLL_SECONDS)."""
    loan = disbursed(client, world)
    outbox_timer(client)  # the payout's notice

    def texts() -> list[str]:
        return [m["text"] for m in client.get("/_sim/sms", params={"phone": world["phone"]}).json()]

    before = texts()
    paid = client.post(f"{LOANS}/{loan['id']}/repayments", headers=key(world["hf"]),
                       json={"amount": "500.00", "channel": "cash"})
    assert paid.status_code == 200, paid.text
    assert texts() == before
    outbox_timer(client)
    receipt = f"【{world['inst'].name}】已收到您贷款 {loan['number']} 的还款 500.00 元，回单可在“我的贷款”中下载。"
    assert texts()[0] == receipt
    assert texts()[1:] == before
