"""A group meeting's collection sheet (小组例会收款表) over HTTP: it lists what servicing says is due at the meeting
(a member with no loan due is not listed); saving it records each line as the loan's repayment with balanced
ledger entries, keeps the sheet with its non-payments, is saved whole or not at all, and the same key twice
records one set of repayments.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from microcredit.audit.models import AuditRecord
from microcredit.ledger import service as ledger
from microcredit.lending.money import Money
from microcredit.parties import service as parties
from microcredit.platform.actor import Actor
from microcredit.servicing.models import LoanEvent
from microcredit.servicing.service import collection_sheets, loans
from tests.integration.groups.test_group_meetings import MONTHLY, _approved, _opened, _paid_out
from tests.integration.groups.test_group_meetings import world as world
from tests.integration.helpers import assert_problem, shared_client, snapshot

GROUPS, LOANS = "/api/v1/groups", "/api/v1/loans"
MEETING = date(2026, 12, 3)


@pytest.fixture
def client(runtime, backend):
    yield from shared_client(runtime, backend)


@pytest.fixture
def sheet_world(client, session, runtime, world):
    """The group meets monthly on the 3rd; two members' loans paid out on 11-25 (first due on 12-03), the third
    member's not opened; the business date is the meeting day."""
    w = world
    assert client.put(f"{GROUPS}/{w['group']['id']}/meeting", headers=w["ho"], json=MONTHLY).status_code == 200
    apps = _approved(client, w)
    w["loans"] = []
    for i in (0, 1):
        _, opened = _opened(client, runtime, w, apps[i], i=i)
        w["loans"].append(_paid_out(client, w, opened["id"]))
    parties.organisation.set_business_date_as(session=session, clock=runtime.clock, actor=Actor.system(w["inst"].id),
                                              institution_id=w["inst"].id, new_date=MEETING, override_allowed=True)
    session.commit()
    w["url"] = f"{GROUPS}/{w['group']['id']}/collection-sheet"
    return w


def _first(loan_id, client, w):
    """The loan's first installment as servicing shows it now."""
    loan = client.get(f"{LOANS}/{loan_id}", headers=w["hf"]).json()
    return loan["state"]["installments"][0]


def _repayments(session, loan_ids):
    session.expire_all()
    return session.scalar(select(func.count()).select_from(LoanEvent).where(
        LoanEvent.loan_id.in_(loan_ids), LoanEvent.type == "repayment"))


def test_the_sheet_lists_what_servicing_says_is_due_and_not_a_member_without_a_loan(client, session, world,
                                                                                 sheet_world):
    w = sheet_world
    r = client.get(w["url"], headers=w["ho"])  # the loan officer reads it (loan.read)
    assert r.status_code == 200, r.text
    sheet = r.json()
    assert (sheet["meeting_date"], sheet["time_of_day"], sheet["place"]) == ("2026-12-03", "09:30", "城关村委会")
    assert [x["loan_id"] for x in sheet["lines"]] == [x["id"] for x in w["loans"]]
    assert [x["name"] for x in sheet["lines"]] == ["王大山", "李小红"]  # 张三丰 has no loan: not listed
    for line, loan in zip(sheet["lines"], w["loans"], strict=True):
        first = _first(loan["id"], client, w)
        assert first["due_date"] == "2026-12-03"
        out = first["outstanding"]
        assert [line[k] for k in ("principal", "interest", "fee", "penalty")] == [
            out["principal"], out["interest"], out["fee"], out["penalty"]]
        assert line["overdue"] == "0.00"
        assert Money.parse(line["total"], "CNY") == sum(
            (Money.parse(out[k], "CNY") for k in ("principal", "interest", "fee", "penalty")), Money.zero("CNY"))
    assert Money.parse(sheet["total"], "CNY") == sum((Money.parse(x["total"], "CNY") for x in sheet["lines"]),
                                                     Money.zero("CNY"))
    # The same sheet by its date; a day the group does not meet, refused beside the field.
    assert client.get(w["url"], headers=w["ho"], params={"date": "2026-12-03"}).json() == sheet
    body = assert_problem(client.get(w["url"], headers=w["ho"], params={"date": "2026-12-04"}), 422)
    assert (body["errors"][0]["field"], body["errors"][0]["code"]) == ("date", "not_a_meeting_day")


def test_saving_records_each_line_as_a_repayment_balanced_in_the_ledger_and_keeps_the_sheet(client, session, runtime,
                                                                                           world, sheet_world):
    w = sheet_world
    sheet = client.get(w["url"], headers=w["hf"]).json()
    a, b = (x["loan_id"] for x in sheet["lines"])
    body = {"date": "2026-12-03", "lines": [{"loan_id": a}, {"loan_id": b, "amount": "0.00", "reason": "absent"}]}
    headers = {**w["hf"], "Idempotency-Key": "sheet-1"}
    r = client.post(w["url"], headers=headers, json=body)
    assert r.status_code == 200, r.text
    saved = r.json()
    assert [(x["loan_id"], x["amount"], x["outcome"], x["reason"]) for x in saved["lines"]] == [
        (a, sheet["lines"][0]["total"], "recorded", None), (b, "0.00", "not_paid", "absent")]
    assert saved["collected"] == sheet["lines"][0]["total"]
    assert saved["due"] == sheet["total"]
    # The loan shows the repayment on the meeting day, the first installment paid; the other loan nothing.
    loan = client.get(f"{LOANS}/{a}", headers=w["hf"]).json()
    repaid = [e for e in loan["events"] if e["type"] == "repayment"]
    assert [(e["value_date"], e["payload"]["amount"], e["payload"]["channel"]) for e in repaid] == [
        ("2026-12-03", sheet["lines"][0]["total"], "meeting_cash")]
    assert loan["state"]["installments"][0]["outstanding"]["principal"] == "0.00"
    assert _repayments(session, [b]) == 0
    report = ledger.books.verify(session=session, institution_id=w["inst"].id, subledger=loans.control_balances)
    assert report.ok
    # The same key again: the first answer, one set of repayments.
    again = client.post(w["url"], headers=headers, json=body)
    assert again.status_code == 200
    assert again.json() == saved
    assert _repayments(session, [a, b]) == 1
    # The sheet is kept and readable; audited.
    history = client.get(f"{GROUPS}/{w['group']['id']}/collection-sheets", headers=w["ho"]).json()
    assert history["total"] == 1
    assert history["items"][0] == saved
    entry = session.scalars(select(AuditRecord).where(AuditRecord.action == "group.collection_sheet_saved")).one()
    assert entry.after["collected"] == saved["collected"]
    # Paid, the first loan leaves the sheet; the absent member's stays.
    assert [x["loan_id"] for x in client.get(w["url"], headers=w["hf"]).json()["lines"]] == [b]


def test_one_bad_line_changes_nothing(client, session, runtime, world, sheet_world):
    w = sheet_world
    sheet = client.get(w["url"], headers=w["hf"]).json()
    a, b = (x["loan_id"] for x in sheet["lines"])
    headers = {**w["hf"], "Idempotency-Key": "sheet-2"}
    before = snapshot(runtime.db)
    # A bad amount: refused beside the line.
    body = assert_problem(client.post(w["url"], headers=headers, json={
        "date": "2026-12-03", "lines": [{"loan_id": a}, {"loan_id": b, "amount": "-5.00"}]}), 422)
    assert body["errors"][0]["field"] == "lines.1.amount"
    # Lines that are not the sheet's.
    body = assert_problem(client.post(w["url"], headers=headers, json={"date": "2026-12-03",
                                                                      "lines": [{"loan_id": a}]}), 422)
    assert (body["field"], body["code"]) == ("lines", "sheet_lines_mismatch")
    assert before.diff(snapshot(runtime.db)) == {}
    # A line the loan refuses after the first line was recorded: the second loan already holds a different
    # repayment under the key this sheet's line would use, so the loan refuses it — and the first line's
    # repayment, postings and the sheet are undone with it.
    clash = collection_sheets.line_key(w["group"]["id"], "sheet-3")
    assert client.post(f"{LOANS}/{b}/repayments", headers={**w["hf"], "Idempotency-Key": clash},
                       json={"amount": "1.00", "channel": "cash"}).status_code == 200
    before = snapshot(runtime.db)
    body = assert_problem(client.post(w["url"], headers={**w["hf"], "Idempotency-Key": "sheet-3"}, json={
        "date": "2026-12-03", "lines": [{"loan_id": a}, {"loan_id": b}]}), 422)
    assert body["field"].startswith("lines.1."), body
    assert before.diff(snapshot(runtime.db)) == {}
    assert _repayments(session, [a]) == 0


def test_a_meeting_after_the_business_date_is_not_saved_and_a_group_without_schedule_has_no_sheet(
        client, session, runtime, world):
    w = world
    url = f"{GROUPS}/{w['group']['id']}/collection-sheet"
    body = assert_problem(client.get(url, headers=w["ho"]), 409)
    assert body["code"] == "no_meeting_schedule"
    assert client.put(f"{GROUPS}/{w['group']['id']}/meeting", headers=w["ho"], json=MONTHLY).status_code == 200
    sheet = client.get(url, headers=w["ho"]).json()  # business date 11-25: the next meeting, nobody owes yet
    assert (sheet["meeting_date"], sheet["lines"], sheet["total"]) == ("2026-12-03", [], "0.00")
    body = assert_problem(client.post(url, headers={**w["hf"], "Idempotency-Key": "early"},
                                      json={"date": "2026-12-03", "lines": [{"loan_id": 1}]}), 422)
    assert (body["field"], body["code"]) == ("date", "value_date_in_future")
