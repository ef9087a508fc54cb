"""A small portfolio for close-of-business tests: loans applied for, approved, signed, opened and paid out
through the API as the servicing tests do; one borrower with a bound card (auto-debit)."""

from __future__ import annotations

import json
import shutil
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select

from microcredit.audit.models import AuditRecord
from microcredit.clock import FrozenClock
from microcredit.cob.models import CobRun, LoanBehaviour, LoanStanding, ReminderSent
from microcredit.cob.service import runs as cob_runs
from microcredit.collections.models import CollectionAction, CollectionCase
from microcredit.db.engine import Database
from microcredit.ledger.models import JournalEntry, JournalLine, LedgerAccount
from microcredit.notifications.models import OutboxMessage
from microcredit.parties import service as parties
from microcredit.platform.actor import Actor
from microcredit.risk.assessment import Decision
from microcredit.risk.warnings.models import BehaviourScoreRow, RiskWarning
from microcredit.runtime import Runtime, build_runtime
from microcredit.servicing.models import Loan
from microcredit.servicing.service import accrual
from tests.conftest import clone_database, make_settings
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
                   = ("8000.00", "12000.00", "5000.00"), plans: tuple[dict[str, Any], ...] | None = None,
                   cards: dict[int, str] | None = None, products: dict[str, dict[str, Any]] | None = None,
                   id_numbers: tuple[str, ...] | None = None) -> Portfolio:
    """One disbursed loan per amount; the first borrower binds a card (auto-debit collects from it).

    `plans` (one per amount) change the application (product, term, repayment method); `cards` gives the
    card each borrower binds, by position (default: the first borrower binds `CARD`); `products` publishes
    more products by code with their changed terms; `id_numbers` the borrowers' ID numbers (what the
    credit bureau simulator answers by), for twin databases."""
    inst = make_institution(session, runtime)
    publish_product(session, runtime, inst)
    for code, changes in (products or {}).items():
        publish_product(session, runtime, inst, code, **changes)
    cards = {0: CARD} if cards is None else cards
    plans = plans or tuple({} for _ in amounts)
    finance = make_staff(session, runtime, inst, roles=("finance",), password=None)
    admin = make_staff(session, runtime, inst, roles=("administrator",), password=None)
    borrowers = [make_borrower(session, runtime, inst, password=None, id_number=id_numbers[n] if id_numbers else None)
                 for n in range(len(amounts))]
    hf, ha = signed_in(session, runtime, finance.user), signed_in(session, runtime, admin.user)
    heads = [signed_in(session, runtime, b.user) for b in borrowers]
    session.commit()
    use_review(monkeypatch, assessment(Decision.APPROVE, grade="B"))
    loan_ids, first_due = [], None
    for n, (borrower, hb, amount, plan) in enumerate(zip(borrowers, heads, amounts, plans, strict=True)):
        draft = client.post("/api/v1/me/applications", headers=hb, json={**PLAN, **plan, "amount": amount}).json()
        submitted = client.post(f"/api/v1/me/applications/{draft['id']}/submit", headers=hb).json()
        assert submitted["status"] == "approved", submitted
        if n in cards:
            card = client.post("/api/v1/me/bank-cards", headers=hb,
                               json={"bank_name": "中国银行", "card_number": cards[n]})
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


def picture(runtime: Any, inst_id: int) -> dict[str, Any]:
    """Everything the close of business decides, without ids of its own or wall-clock times."""
    with runtime.db.unit_of_work(write=False) as s:
        rows = s.scalars(select(Loan).where(Loan.institution_id == inst_id).order_by(Loan.id)).all()
        lines = s.execute(
            select(JournalEntry.business_date, JournalEntry.source_kind, JournalEntry.source_ref, JournalEntry.basis,
                   LedgerAccount.code, JournalLine.debit_minor, JournalLine.credit_minor)
            .join(JournalLine, JournalLine.entry_id == JournalEntry.id)
            .join(LedgerAccount, LedgerAccount.id == JournalLine.account_id)
            .where(JournalEntry.institution_id == inst_id)).all()
        ids = [r.id for r in rows]
        return {
            "business_date": [r.business_date for r in s.scalars(select(CobRun).where(
                CobRun.institution_id == inst_id).order_by(CobRun.business_date))],
            "loans": [(r.id, r.status, r.outstanding_principal, r.dpd, r.books, r.state_as_of, r.events_count,
                       accrual.cached_state_of(r), tuple(getattr(r, c) for c in accrual.COLUMNS)) for r in rows],
            "lines": sorted(tuple(str(x) for x in line) for line in lines),
            "standing": [(x.loan_id, x.as_of, x.dpd, x.bucket, x.category, x.provision, x.principal) for x in s.scalars(
                select(LoanStanding).where(LoanStanding.loan_id.in_(ids)).order_by(LoanStanding.loan_id))],
            "features": [(x.loan_id, x.as_of, x.late_payments, x.partial_payments, x.days_since_last_payment,
                          x.max_dpd) for x in s.scalars(select(LoanBehaviour).where(
                              LoanBehaviour.loan_id.in_(ids)).order_by(LoanBehaviour.loan_id))],
            "reminders": sorted((x.loan_id, x.kind, x.due_date, x.sent_on) for x in s.scalars(
                select(ReminderSent).where(ReminderSent.loan_id.in_(ids)))),
            # Early warning's steps: the score history and the warnings raised (one per rule, subject and day).
            "scores": [(x.loan_id, x.scored_on, x.score, x.grade, x.dpd) for x in s.scalars(
                select(BehaviourScoreRow).where(BehaviourScoreRow.loan_id.in_(ids))
                .order_by(BehaviourScoreRow.loan_id, BehaviourScoreRow.scored_on))],
            "warnings": sorted((x.rule, x.subject.split(":")[0], x.loan_id, x.raised_on, x.suggested_action)
                               for x in s.scalars(select(RiskWarning).where(RiskWarning.institution_id == inst_id))),
            # Collections' step: every case (its figures, stage, assignee, dates, version) and its audit records.
            "cases": [(x.id, x.loan_id, x.status, x.close_reason, x.stage, x.stage_floor, x.dpd, x.overdue,
                       x.overdue_total, x.priority, x.recovered, x.assigned_user_id, x.agency, x.opened_on, x.closed_on,
                       x.synced_on, x.version) for x in s.scalars(
                select(CollectionCase).where(CollectionCase.institution_id == inst_id).order_by(CollectionCase.id))],
            "case_audit": sorted((x.action, x.entity_id, json.dumps(x.after, sort_keys=True)) for x in s.scalars(
                select(AuditRecord).where(AuditRecord.institution_id == inst_id,
                                          AuditRecord.action.like("collection.%")))),
            # The stages' SMS: logged on the case (with its local day and time) and queued in the outbox.
            "case_actions": [(x.id, x.case_id, x.borrower_id, x.kind, x.template, x.text, x.local_date, x.at,
                              x.contact_party, x.contact_ref, x.user_id) for x in s.scalars(
                select(CollectionAction).where(CollectionAction.institution_id == inst_id)
                .order_by(CollectionAction.id))],
            "case_sms": sorted((x.recipient_masked, x.status, x.not_before, x.next_attempt_at) for x in s.scalars(
                select(OutboxMessage).where(OutboxMessage.institution_id == inst_id,
                                            OutboxMessage.template == "collection_message"))),
            "runs": [(r.business_date, r.status, r.loans, r.failures) for r in s.scalars(
                select(CobRun).where(CobRun.institution_id == inst_id).order_by(CobRun.business_date))],
        }


def twin_of(runtime: Runtime, backend: str, url: str, tmp: Path, twin_tmp: Path, suffix: str) -> tuple[Runtime, str]:
    """A second installation equal to the first: its database copied (the same rows and ids, so the same
    portfolio) and its data directory's files too, with a runtime whose clock stands where the first's
    does. Making the portfolio once through the API and copying it costs a fraction of making it twice."""
    runtime.db.engine.dispose()  # PostgreSQL copies only an idle database
    shutil.copytree(tmp, twin_tmp, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.sqlite3*"))
    copied = clone_database(backend, url, twin_tmp, suffix)
    database = Database(copied, sqlite_busy_timeout_ms=30_000)
    twin = build_runtime(make_settings(twin_tmp), database=database, clock=FrozenClock(runtime.clock.now()))
    return twin, copied


def set_based_failures(monkeypatch: Any) -> list[tuple[str, dict[str, Any]]]:
    """What the runs log as `cob_bulk_failed` from now on (the test's end undoes it). A step's set-based part that
    raises is rolled back and its loans go one by one, which gives the same books: a comparison of the outcome alone
    would not see it, so a test that means the set-based parts to run asserts this stays empty."""
    heard: list[tuple[str, dict[str, Any]]] = []
    logger = cob_runs.log

    class Heard:
        def exception(self, event: str, **kw: Any) -> None:
            heard.append((event, kw))
            logger.exception(event, **kw)

        def __getattr__(self, name: str) -> Any:
            return getattr(logger, name)

    monkeypatch.setattr(cob_runs, "log", Heard())
    return heard
