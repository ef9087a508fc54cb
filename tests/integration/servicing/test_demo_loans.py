"""The demo's living portfolio (`demo.portfolio`): after one seed, every promised state is there as staff see
it over the API, the books verify, the provider's statement left its breaks, and a borrower sees their loans
with schedules and receipts. One seed per database (it walks 150 business days), every check on it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from microcredit import demo
from microcredit.clock import local_date
from microcredit.contracts import signing
from microcredit.identity import service as identity
from microcredit.identity.models import User
from microcredit.ledger import service as ledger
from microcredit.lending.money import Money
from microcredit.notifications.models import InboxMessage
from microcredit.parties import service as parties
from microcredit.platform.storage import LocalStorage
from microcredit.servicing.service import loans
from tests.integration.helpers import audit_records, shared_client, signed_in

LOANS = "/api/v1/loans"


def _user(session, runtime, phone, kind):
    [user_id] = identity.accounts.user_ids_by_phone(session=session, kit=runtime.identity, phone=phone, kind=kind)
    return session.get(User, user_id)


@pytest.fixture
def client(runtime, backend):
    yield from shared_client(runtime, backend)


def test_the_demo_portfolio_has_loans_in_every_state_on_verified_books(session, runtime, client, tmp_path):
    signing.init_demo_ca(tmp_path, now=runtime.clock.now())
    demo.seed(session=session, kit=runtime.identity, storage=LocalStorage(tmp_path / "files"),
              document_policy=runtime.settings.documents, signer=signing.demo_files(tmp_path),
              payments=runtime.payments)
    inst = parties.organisation.institution_by_code(session=session, code=demo.INSTITUTION_CODE)
    assert inst.business_date == local_date(runtime.clock)  # the walk ends where the demo's day is
    finance = signed_in(session, runtime, _user(session, runtime, "13900000009", "staff"))
    zhang = signed_in(session, runtime, _user(session, runtime, "13900001001", "borrower"))
    session.commit()

    # Staff see every state.
    listed = client.get(LOANS, headers=finance, params={"page_size": 50})
    assert listed.status_code == 200, listed.text
    rows = {r["number"]: r for r in listed.json()["items"]}
    assert len(rows) == 12
    full = {n: client.get(f"{LOANS}/{r['id']}", headers=finance).json() for n, r in rows.items()}
    kinds = {n: [e["type"] for e in loan["events"]] for n, loan in full.items()}
    statuses = [r["status"] for r in rows.values()]
    assert statuses.count("closed") == 2
    assert statuses.count("written_off") == 1
    current = [r for r in rows.values() if r["status"] == "active" and r["dpd"] == 0]
    assert len(current) >= 7
    dpds = sorted(r["dpd"] for r in rows.values())
    assert dpds[-1] > 90

    # 城关联保一组 meets monthly on the 15th: its three members' loans fall due at the meetings.
    synced = [loan for loan in full.values() if loan["synced_to_meetings"]]
    assert len(synced) == 3
    assert {r["due_date"][8:] for loan in synced for r in loan["state"]["installments"]} == {"15"}

    # 王芳's 8,000 loan is guaranteed by her husband (added by 赵丽 before the decision): read on the loan, masked.
    wang = next(loan for loan in full.values() if loan["borrower_name"] == "王芳" and loan["principal"] == "8000.00")
    guarantors = client.get(f"{LOANS}/{wang['id']}/guarantors", headers=finance).json()
    assert [(g["name"], g["relation"], g["kind"], g["status"], g["phone_masked"]) for g in guarantors] == [
        ("刘建华", "spouse", "joint_liability", "active", "139****1031")]

    # The risk officer's early default table: the demo's loans by grade and vintage, real rates.
    risk_officer = signed_in(session, runtime, _user(session, runtime, "13900000004", "staff"))
    session.commit()
    table = client.get("/api/v1/risk/early-defaults", headers=risk_officer).json()
    assert table["total"]["loans"] == 12, table
    assert sum(c["loans"] for c in table["cells"]) == 12
    assert table["total"]["dpd30_3m"]["counted"] > 0, table["total"]
    assert table["total"]["dpd30_3m"]["defaults"] >= 1, table["total"]
    # The trained challenger scored the demo's applications in the shadow (the decisions stayed the interim
    # scorer's: no champion), so its drift against its training sample is real.
    compared = client.get("/api/v1/risk/models/comparison", headers=risk_officer).json()
    assert (compared["champion"], compared["challenger"]) == (None, "demo_trained@1"), compared
    drift = client.get("/api/v1/risk/models/demo_trained/versions/1/drift", headers=risk_officer).json()
    assert drift["applications"] > 0, drift
    assert drift["psi"] is not None, drift
    assert 30 < dpds[-2] <= 90
    # 陈静's consumer loan, more than 10 days late: the product's 10.00 late fee is among its default charges
    # (charged by the close of business with the penalty interest, within the 24 % ceiling).
    chen = max((loan for loan in full.values() if loan["borrower_name"] == "陈静"), key=lambda loan: loan["dpd"])
    owed = loans.penalties_owed(session=session, loan=loans.get(session=session, institution_id=inst.id,
                                                                 loan_id=chen["id"]), as_of=inst.business_date)
    assert chen["dpd"] > 13
    # Asked for a guarantor once it fell behind: her brother was added to the running loan by the reviewer.
    on_loan = client.get(f"{LOANS}/{chen['id']}/guarantors", headers=finance).json()
    assert [(g["name"], g["relation"], g["amount"], g["status"], g["phone_masked"]) for g in on_loan] == [
        ("陈伟", "sibling", "3000.00", "active", "139****1032")]
    assert [r.after["loan_id"] for r in audit_records(session, "guarantor.added_to_loan", on_loan[0]["id"])] == [
        chen["id"]]
    assert Money.parse("10.00", "CNY") in [o.late_fee for o in owed], owed
    assert all(o.charged == o.accrued for o in owed)  # the close of business charged all of it
    late = max(full.values(), key=lambda loan: loan["dpd"])
    assert (late["state"]["bucket"], late["state"]["classification"]) == ("91-180", "substandard")
    # The close of business's classify step ran on the last day: the late loan's standing and provision
    # (substandard: 30 % of the principal outstanding) are held.
    standing = client.get(f"{LOANS}/{late['id']}/standing", headers=finance).json()
    assert (standing["as_of"], standing["bucket"], standing["category"]) == (
        inst.business_date.isoformat(), "91-180", 3)
    principal = Money.parse(late["state"]["totals"]["outstanding"]["principal"], "CNY").minor
    assert Money.parse(standing["provision"], "CNY").minor == (principal * 30 + 50) // 100 > 0
    modes = sorted(e["payload"].get("mode") for loan in full.values() for e in loan["events"]
                   if e["type"] == "prepayment")
    assert modes == ["reduce_installment", "shorten_term", "shorten_term"]  # two partly prepaid, one in full
    prepaid_in_full = [n for n, k in kinds.items() if k[-1] == "prepayment" and rows[n]["status"] == "closed"]
    assert len(prepaid_in_full) == 1
    assert any("deferral" in k for k in kinds.values())
    [written_off] = [n for n, r in rows.items() if r["status"] == "written_off"]
    assert kinds[written_off][-2:] == ["write_off", "recovery"]
    # Cash above the threshold: the teller's requests, each confirmed by the branch manager.
    [cash] = [n for n, k in kinds.items() if k.count("repayment") == 3 and rows[n]["status"] == "closed"]
    changes = client.get(f"{LOANS}/{rows[cash]['id']}/changes", headers=finance).json()
    assert [(c["kind"], c["status"]) for c in changes] == [("repayment", "approved")] * 3
    assert all(c["decided_by_user_id"] != c["requested_by_user_id"] for c in changes)
    # The group's three loans, each paid out on the same day.
    group = [loan for loan in full.values() if loan["borrower_name"] in ("赵建国", "孙秀英", "周明")
             and loan["principal"] in ("12000.00", "8000.00", "10000.00")]
    assert len({loan["disbursed_on"] for loan in group}) == 1
    assert len(group) == 3
    # Its last two meetings collected in cash by the loan officer on the collection sheet: the earlier sheet's
    # cash handed over to finance the next day (by another person), the last one waiting for its handover.
    channels = [e["payload"]["channel"] for loan in group for e in loan["events"] if e["type"] == "repayment"]
    assert channels.count("meeting_cash") >= 4
    sheets = client.get("/api/v1/collection-sheets", headers=finance).json()["items"]
    assert [x["handover_status"] for x in sheets] == ["handed_over", "waiting"]
    done, waiting = sheets
    assert done["meeting_date"] < waiting["meeting_date"]
    assert done["recorded_by_user_id"] != done["handed_over_by_user_id"]
    assert (done["handover_counted"], done["handover_shortage"]) == (done["collected"], None)
    assert Money.parse(waiting["collected"], "CNY").is_positive
    # Every payout went through the provider, on the day the business date then was.
    assert all(k[0] == "disbursement" for k in kinds.values())
    first = min(r["disbursed_on"] for r in rows.values())
    assert first == (inst.business_date - timedelta(days=demo.portfolio.DAYS)).isoformat()

    # The back-dated history told no one (in the app, hence by SMS): a borrower's message about a loan is
    # about something done on the demo's own business date. Without the flag every payout and payment of
    # the last 150 days was announced today.
    today = inst.business_date.isoformat()
    told = list(session.scalars(select(InboxMessage).where(InboxMessage.subject_kind == "loan")))
    recorded_today = {(loan["id"], e["seq"]) for loan in full.values() for e in loan["events"]
                      if e["business_date"] == today}
    assert {(m.subject_id, m.params.get("seq")) for m in told if "seq" in m.params} <= recorded_today
    assert {m.subject_id for m in told} <= {loan_id for loan_id, _ in recorded_today}

    breaks = client.get("/api/v1/reconciliation/breaks", headers=finance).json()["items"]
    assert sorted(b["kind"] for b in breaks) == ["amount_differs", "missing_ours", "status_differs"]

    session.expire_all()
    report = ledger.books.verify(session=session, institution_id=inst.id, subledger=loans.control_balances)
    assert report.ok, report.problems

    # The demo borrower sees their loans, each with its schedule, and the receipts of their payments.
    mine = client.get("/api/v1/me/loans", headers=zhang).json()["items"]
    assert sorted(r["status"] for r in mine) == ["active", "closed"]
    for summary in mine:
        loan = client.get(f"/api/v1/me/loans/{summary['id']}", headers=zhang).json()
        assert len(loan["state"]["installments"]) >= 3
        paid = [e for e in loan["events"] if e["type"] == "repayment"]
        assert paid
        assert all(e["has_document"] for e in paid)
        receipt = client.get(f"/api/v1/me/loans/{summary['id']}/events/{paid[0]['seq']}/document", headers=zhang)
        assert receipt.status_code == 200
        assert receipt.content.startswith(b"%PDF")
