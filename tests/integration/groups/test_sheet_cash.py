"""A collection sheet's cash from the meeting to finance (交款) over HTTP: the loan officer saves the sheet (a
collector or an approver may not); its repayments sit in field cash (100101), not the bank; finance — not who
saved it — counts the cash and hands it over in one balanced entry (a shortage needs a reason and is owed by the
officer, an overage goes to suspense), once; the waiting sheets are listed and counted in finance's to-dos; the
books verify and pass bean-check.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from microcredit.audit.models import AuditRecord
from microcredit.ledger import service as ledger
from microcredit.ledger.models import JournalLine, LedgerAccount
from microcredit.lending.money import Money
from microcredit.parties import service as parties
from microcredit.parties.models import Branch
from microcredit.platform.actor import Actor
from microcredit.servicing.service import loans
from tests.factories import make_staff
from tests.integration.groups.test_collection_sheet import MEETING, sheet_world
from tests.integration.groups.test_collection_sheet import client as client
from tests.integration.groups.test_group_meetings import world as world
from tests.integration.helpers import assert_problem, signed_in, snapshot

__all__ = ["sheet_world"]

SHEETS = "/api/v1/collection-sheets"
BEAN_CHECK = Path(sys.executable).parent / "bean-check"


def _balance(session, inst_id: int, code: str) -> Money:
    """The account's balance (debit positive) on the accrual book (both-book and accrual lines)."""
    session.expire_all()
    minor = session.scalar(
        select(func.coalesce(func.sum(JournalLine.debit_minor - JournalLine.credit_minor), 0))
        .join(LedgerAccount, LedgerAccount.id == JournalLine.account_id)
        .where(LedgerAccount.institution_id == inst_id, LedgerAccount.code == code,
               JournalLine.basis.in_(("both", "accrual"))))
    return Money(int(minor or 0), "CNY")


def _todos(client, headers) -> dict[str, int]:
    return {t["code"]: t["count"] for t in client.get("/api/v1/me/todos", headers=headers).json()["items"]}


def _save(client, w, headers, key: str) -> dict:
    sheet = client.get(w["url"], headers=headers).json()
    r = client.post(w["url"], headers={**headers, "Idempotency-Key": key},
                    json={"date": MEETING.isoformat(), "lines": [{"loan_id": x["loan_id"]} for x in sheet["lines"]]})
    assert r.status_code == 200, r.text
    return r.json()


def _staff(session, runtime, w, role: str) -> dict[str, str]:
    """A signed-in staff member of the role (at the group's branch when the role is branch-scoped)."""
    branch = session.get(Branch, w["group"]["branch_id"]) if role in ("collector", "approver_l1") else None
    person = make_staff(session, runtime, w["inst"], roles=(role,), branch=branch, password=None)
    headers = signed_in(session, runtime, person.user)
    session.commit()
    return headers


def test_the_officer_saves_and_finance_hands_the_cash_over_short(client, session, runtime, world, sheet_world,
                                                                  tmp_path):
    w = sheet_world
    inst = w["inst"].id
    bank_before = _balance(session, inst, "1002")
    # Neither a collector nor an approver saves a sheet; nothing changes.
    for role in ("collector", "approver_l1"):
        headers = _staff(session, runtime, w, role)
        before = snapshot(runtime.db)
        assert_problem(client.post(w["url"], headers={**headers, "Idempotency-Key": f"no-{role}"},
                                   json={"date": MEETING.isoformat(), "lines": [{"loan_id": 1}]}), 403, 404)
        assert before.diff(snapshot(runtime.db)) == {}
    # The loan officer who collected saves it: the cash is in the field, not at the bank.
    saved = _save(client, w, w["ho"], "officer-sheet")
    collected = Money.parse(saved["collected"], "CNY")
    assert collected.is_positive
    assert saved["handover_status"] == "waiting"
    assert saved["handover_counted"] is None
    assert _balance(session, inst, "100101") == collected
    assert _balance(session, inst, "1002") == bank_before
    loan = client.get(f"/api/v1/loans/{saved['lines'][0]['loan_id']}", headers=w["hf"]).json()
    assert [e["payload"]["channel"] for e in loan["events"] if e["type"] == "repayment"] == ["meeting_cash"]
    # Waiting for the handover: listed for finance and the officer; counted in finance's to-dos only once the
    # cash has been out since an earlier business day.
    for headers in (w["hf"], w["ho"]):
        listed = client.get(SHEETS, headers=headers, params={"handed_over": "false"}).json()
        assert [(x["id"], x["group_name"], x["collected"], x["meeting_date"]) for x in listed["items"]] == [
            (saved["id"], "城关一组", saved["collected"], MEETING.isoformat())]
        assert listed["items"][0]["recorded_by_name"]
    assert _todos(client, w["hf"])["collection_sheets_waiting_handover"] == 0
    assert "collection_sheets_waiting_handover" not in _todos(client, w["ho"])
    parties.organisation.set_business_date_as(session=session, clock=runtime.clock, actor=Actor.system(inst),
                                              institution_id=inst, new_date=MEETING + timedelta(days=1),
                                              override_allowed=True)
    session.commit()
    assert _todos(client, w["hf"])["collection_sheets_waiting_handover"] == 1
    url = f"{SHEETS}/{saved['id']}/handover"
    # The officer does not confirm their own cash (nor holds repayment.record).
    assert_problem(client.post(url, headers={**w["ho"], "Idempotency-Key": "h-officer"},
                               json={"counted": saved["collected"]}), 403)
    # Short without a reason: refused beside the field, nothing changed.
    short = collected - Money.parse("10.00", "CNY")
    before = snapshot(runtime.db)
    body = assert_problem(client.post(url, headers={**w["hf"], "Idempotency-Key": "h-1"},
                                      json={"counted": str(short)}), 422)
    assert (body["errors"][0]["field"], body["errors"][0]["code"]) == ("reason", "handover_reason_required")
    assert before.diff(snapshot(runtime.db)) == {}
    # Short with the reason: handed over; the shortage is owed by the officer; field cash back to zero.
    r = client.post(url, headers={**w["hf"], "Idempotency-Key": "h-2"},
                    json={"counted": str(short), "reason": "找零短少"})
    assert r.status_code == 200, r.text
    done = r.json()
    assert (done["handover_status"], done["handover_expected"], done["handover_counted"], done["handover_shortage"],
            done["handover_overage"], done["handover_reason"]) == (
        "handed_over", saved["collected"], str(short), "10.00", None, "找零短少")
    assert done["handed_over_by_name"]
    assert done["handover_entry_id"]
    assert _balance(session, inst, "100101") == Money.zero("CNY")
    assert _balance(session, inst, "122101") == Money.parse("10.00", "CNY")
    assert _balance(session, inst, "1002") == bank_before + short
    report = ledger.books.verify(session=session, institution_id=inst, subledger=loans.control_balances)
    assert report.ok
    audited = session.scalars(select(AuditRecord).where(
        AuditRecord.action == "group.collection_sheet_handed_over")).one()
    assert (audited.after["counted"], audited.after["reason"]) == (str(short), "找零短少")
    # The same key: the first answer; another key: refused, handed over already.
    assert client.post(url, headers={**w["hf"], "Idempotency-Key": "h-2"},
                       json={"counted": str(short), "reason": "找零短少"}).json() == done
    body = assert_problem(client.post(url, headers={**w["hf"], "Idempotency-Key": "h-3"},
                                      json={"counted": str(short), "reason": "找零短少"}), 409)
    assert body["code"] == "sheet_already_handed_over"
    assert client.get(SHEETS, headers=w["hf"], params={"handed_over": "false"}).json()["total"] == 0
    assert _todos(client, w["hf"])["collection_sheets_waiting_handover"] == 0
    history = client.get(f"/api/v1/groups/{w['group']['id']}/collection-sheets", headers=w["ho"]).json()
    assert history["items"][0]["handover_status"] == "handed_over"
    # Both books, exported, pass beancount's own check.
    code = w["inst"].code
    for basis in ("accrual", "cash"):
        with runtime.db.unit_of_work(write=False) as s:
            text = "\n".join(ledger.books.export_beancount(session=s, institutions={inst: code}, basis=basis))
        path = tmp_path / f"books-{basis}.beancount"
        path.write_text(text + "\n", encoding="utf-8")
        checked = subprocess.run([str(BEAN_CHECK), str(path)], capture_output=True, text=True, timeout=120,
                                 check=False)
        assert checked.returncode == 0, checked.stdout + checked.stderr


def test_who_saved_does_not_hand_over_and_an_overage_goes_to_suspense(client, session, runtime, world, sheet_world):
    w = sheet_world
    inst = w["inst"].id
    saved = _save(client, w, w["hf"], "finance-sheet")  # finance may save a sheet too
    url = f"{SHEETS}/{saved['id']}/handover"
    before = snapshot(runtime.db)
    body = assert_problem(client.post(url, headers={**w["hf"], "Idempotency-Key": "own"},
                                      json={"counted": saved["collected"]}), 403)
    assert body["code"] == "same_person"
    assert before.diff(snapshot(runtime.db)) == {}
    other = _staff(session, runtime, w, "finance")
    suspense_before = _balance(session, inst, "2299")
    over = Money.parse(saved["collected"], "CNY") + Money.parse("5.00", "CNY")
    r = client.post(url, headers={**other, "Idempotency-Key": "over"}, json={"counted": str(over)})
    assert r.status_code == 200, r.text
    assert (r.json()["handover_overage"], r.json()["handover_shortage"]) == ("5.00", None)
    assert _balance(session, inst, "100101") == Money.zero("CNY")
    assert _balance(session, inst, "2299") == suspense_before - Money.parse("5.00", "CNY")  # a credit balance
    assert ledger.books.verify(session=session, institution_id=inst, subledger=loans.control_balances).ok


@pytest.mark.parametrize("counted", ["-1.00", "abc"])
def test_a_bad_count_is_refused_beside_the_field(client, session, runtime, world, sheet_world, counted):
    w = sheet_world
    saved = _save(client, w, w["ho"], "bad-count")
    body = assert_problem(client.post(f"{SHEETS}/{saved['id']}/handover",
                                      headers={**w["hf"], "Idempotency-Key": f"bad-{counted}"},
                                      json={"counted": counted}), 422)
    assert body["errors"][0]["field"] == "counted"


def _reverse_sheet_repayment(client, w, loan_id: int, key: str) -> None:
    loan = client.get(f"/api/v1/loans/{loan_id}", headers=w["hf"]).json()
    event = next(e for e in loan["events"] if e["type"] == "repayment" and e["payload"]["channel"] == "meeting_cash")
    r = client.post(f"/api/v1/loans/{loan_id}/reversals", headers={**w["hf"], "Idempotency-Key": key},
                    json={"event_id": event["event_id"], "note": "记错了借款人 / keyed on the wrong member"})
    assert r.status_code == 200, r.text


def test_a_reversed_line_leaves_field_cash_before_the_handover_and_the_bank_after_it(client, session, runtime, world,
                                                                                       sheet_world):
    w = sheet_world
    inst = w["inst"].id
    bank_before = _balance(session, inst, "1002")
    saved = _save(client, w, w["ho"], "reversed-lines")
    first, second = saved["lines"]
    a, b = Money.parse(first["amount"], "CNY"), Money.parse(second["amount"], "CNY")
    assert a.is_positive
    assert b.is_positive
    assert _balance(session, inst, "100101") == a + b
    # Before the handover: the first member's repayment undone takes its cash out of field cash, and the
    # handover expects only the second's — counted in full, no shortage, no reason needed.
    _reverse_sheet_repayment(client, w, first["loan_id"], "rev-before")
    assert _balance(session, inst, "100101") == b
    r = client.post(f"{SHEETS}/{saved['id']}/handover", headers={**w["hf"], "Idempotency-Key": "h-rev"},
                    json={"counted": str(b)})
    assert r.status_code == 200, r.text
    assert (r.json()["handover_expected"], r.json()["handover_shortage"], r.json()["handover_overage"]) == (
        str(b), None, None)
    assert _balance(session, inst, "100101") == Money.zero("CNY")
    assert _balance(session, inst, "1002") == bank_before + b
    # After the handover the second member's cash is at the bank: undoing that repayment takes it from there,
    # and field cash stays at zero.
    _reverse_sheet_repayment(client, w, second["loan_id"], "rev-after")
    assert _balance(session, inst, "100101") == Money.zero("CNY")
    assert _balance(session, inst, "1002") == bank_before
    assert ledger.books.verify(session=session, institution_id=inst, subledger=loans.control_balances).ok
