"""The close of business ≡ the per-loan operations applied one by one, over 60 business days (issue 18).

Two databases are set up alike through the real operations (the same institution, two products, a random
portfolio of loans over three repayment methods and several terms, applied for, approved, signed and paid
out through the API in the same order, so the same ids). Then, day after day for 60 days:

* on the first, the close of business runs the day (`cob.runs.start` + `execute`, the in-process runner,
  several partitions) — the path that may work a partition set-based;
* on the second, the business date is moved and each step's per-loan operation is applied to one loan at a
  time, in its own unit of work, in the order of the steps (servicing's `loans.advance` and
  `payments.autodebit`, the classification, reminders and features of one loan, early warning's loan step);
  steps over the whole institution (collections, the concentration check) once;
* the borrowers then act on both alike, by the behaviour the seed drew for them: pay on the due date, pay
  some days late, pay half, never pay, or leave it to auto-debit from a card that pays or one that is
  always declined (retried 1 and 3 days later).

Every loan's figures (the cached fold: schedule, what is due, paid and outstanding by component, days past
due, status, the books' snapshot), every event, every ledger line and account balance, every
classification and provision, feature row, reminder, behaviour score and warning must be the same on both
at the end; the loans are compared every day too, so a difference names the first day it appeared.
`COB_EQUIVALENCE_SEED` replays a portfolio; the seed is in every failure message.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from microcredit.api.app import create_app
from microcredit.clock import FrozenClock
from microcredit.cob import service as cob
from microcredit.cob.models import CobFailure, CobRun
from microcredit.cob.service.steps import CobKit, LoanAt
from microcredit.collections import service as collections
from microcredit.db.engine import Database
from microcredit.db.migrate import upgrade
from microcredit.ledger import service as ledger
from microcredit.ledger.models import JournalLine, LedgerAccount
from microcredit.lending.money import Money
from microcredit.parties import service as parties
from microcredit.parties.models import Branch
from microcredit.platform.actor import Actor
from microcredit.runtime import Runtime, build_runtime
from microcredit.servicing.models import Loan, LoanEvent
from microcredit.servicing.service import accrual, loans, payments
from tests.conftest import START, fresh_database_url, make_settings
from tests.factories import make_staff, next_id_number
from tests.integration.cob.support import (
    CARD,
    Portfolio,
    move_to,
    open_portfolio,
    picture,
    set_based_failures,
    twin_of,
)
from tests.integration.helpers import signed_in

SEED = int(os.environ.get("COB_EQUIVALENCE_SEED", "1818"))
LOANS = 12
DAYS = 60
PARTITION = 4
FROM = date(2026, 12, 20)  # five days before the first due date (12-25); through two more
DECLINED = "6225881414070051"  # the simulator declines a card ending 0051 (insufficient funds)
METHODS = ("equal_installment", "equal_principal", "interest_monthly_principal_at_maturity")
# The second product: ACT/365F, no fee, penalty at a margin with no grace.
SHOP = {"day_count": "ACT/365F", "fees": [],
        "penalty": {"basis": "margin", "value_percent": "6", "grace_days": 0}}
BEHAVIOURS = ("on_time", "late", "half", "missed", "card", "declined_card")


@dataclass(frozen=True)
class Borrowing:
    """One loan of the drawn portfolio: its application and how its borrower pays."""

    amount: str
    plan: dict[str, Any]
    behaviour: str
    late_days: int


def draw(seed: int) -> list[Borrowing]:
    """The random portfolio of `seed`."""
    rng = random.Random(seed)
    out = []
    for _ in range(LOANS):
        plan = {"product_code": rng.choice(("FARM", "SHOP")), "term": rng.choice((3, 6, 12)),
                "repayment_method": rng.choice(METHODS)}
        out.append(Borrowing(f"{rng.randrange(20, 200) * 100}.00", plan, rng.choice(BEHAVIOURS), rng.randint(1, 12)))
    return out


def _setup(url: str, tmp: Path, portfolio: list[Borrowing], id_numbers: tuple[str, ...]) -> tuple[Runtime, Portfolio]:
    database = Database(url, sqlite_busy_timeout_ms=30_000)
    upgrade(database.engine)
    runtime = build_runtime(make_settings(tmp), database=database, clock=FrozenClock(START))
    cards = {n: CARD if b.behaviour == "card" else DECLINED for n, b in enumerate(portfolio)
             if b.behaviour in ("card", "declined_card")}
    with database.session() as session, TestClient(create_app(runtime=runtime)) as client, \
            pytest.MonkeyPatch.context() as mp:
        opened = open_portfolio(client, session, runtime, mp, amounts=tuple(b.amount for b in portfolio),
                                plans=tuple(b.plan for b in portfolio), cards=cards, products={"SHOP": SHOP},
                                id_numbers=id_numbers)
        move_to(session, runtime, opened.inst.id, FROM - timedelta(days=1))
        _collections_desk(client, session, runtime, opened)
    return runtime, opened


def _collections_desk(client: TestClient, session: Session, runtime: Runtime, opened: Portfolio) -> None:
    """Two collectors for each branch the loans are in (the cases' assignment by load), stages that text their
    templates (the stage's SMS, logged and queued), debtors in another time zone who agreed to calls at night,
    others in London without consent (the quiet hours hold their SMS until 08:00 there)."""
    branches = sorted({loan.branch_id for loan in session.scalars(select(Loan).where(
        Loan.id.in_(opened.loan_ids)))}, key=lambda b: (b is not None, b or 0))
    collectors = {}
    for branch_id in branches:
        branch = session.get(Branch, branch_id) if branch_id is not None else None
        collectors[branch_id] = [make_staff(session, runtime, opened.inst, roles=("collector",), branch=branch,
                                            password=None) for _ in range(2)]
    manager = make_staff(session, runtime, opened.inst, roles=("branch_manager",), password=None)
    headers = signed_in(session, runtime, manager.user)
    act = {b: signed_in(session, runtime, staff[0].user) for b, staff in collectors.items()}
    session.commit()
    response = client.get("/api/v1/collections/settings", headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    body.pop("version", None)
    body["stages"][0]["sms_template"] = "reminder"
    body["sms_templates"].append({"code": "phone_notice",
                                  "zh": "{name}您好，贷款 {loan} 已逾期 {dpd} 天，我们将致电您。",
                                  "en": "Dear {name}, loan {loan} is {dpd} day(s) past due; we will call you."})
    body["stages"][1]["sms_template"] = "phone_notice"
    assert client.put("/api/v1/collections/settings", headers=headers, json=body).status_code == 200
    borrowers = [(loan.borrower_id, loan.branch_id) for loan in session.scalars(
        select(Loan).where(Loan.id.in_(opened.loan_ids)).order_by(Loan.id))]
    # The clock stands at 02:00 UTC: the quiet hours in London and Paris, 10:00 in Shanghai (the institution's).
    for n, (borrower_id, branch_id) in enumerate(borrowers):
        if n % 3 == 2:
            continue
        zone, consent = ("Europe/London", False) if n % 3 == 0 else ("Europe/Paris", True)
        response = client.put(f"/api/v1/collections/debtors/{borrower_id}", headers=act[branch_id],
                              json={"time_zone": zone, "night_contact_consent": consent})
        assert response.status_code == 200, response.text


@pytest.fixture(scope="module", params=["sqlite", "postgresql", "mysql"])
def twins(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[tuple[tuple[Runtime, Portfolio], tuple[Runtime, Portfolio], list[Borrowing]]]:
    """The same drawn portfolio on two databases of the backend: one closed by COB, one loan by loan."""
    portfolio = draw(SEED)
    # The same people on both (the credit bureau simulator, read by early warning, answers by ID number).
    id_numbers = tuple(next_id_number() for _ in portfolio)
    tmp = tmp_path_factory.mktemp("cob-eq-batch")
    url = fresh_database_url(request.param, tmp, suffix="_cobeq_batch")
    batch = _setup(url, tmp, portfolio, id_numbers)
    # The per-loan side starts from a copy of the batch side's database: the same rows and ids.
    twin, _ = twin_of(batch[0], request.param, url, tmp, tmp_path_factory.mktemp("cob-eq-perloan"), "_cobeq_perloan")
    made = [batch, (twin, batch[1])]
    yield made[0], made[1], portfolio
    for runtime, _ in made:
        runtime.close()


def close_by_cob(runtime: Runtime, inst_id: int, day: date) -> None:
    """The day closed by a run of the close of business (in-process runner, several partitions)."""
    run_id = runtime.db.run(lambda s: cob.runs.start(session=s, clock=runtime.clock, actor=Actor.system(inst_id),
                                                     institution_id=inst_id, on=day, partition_size=PARTITION,
                                                     lease_seconds=60).id)
    cob.runs.execute(db=runtime.db, kit=runtime.cob, run_id=run_id)


def _advance(session: Session, kit: CobKit, at: LoanAt) -> Mapping[str, int]:
    loans.advance(session=session, clock=kit.clock, actor=Actor.system(at.institution_id),
                  institution_id=at.institution_id, loan_id=at.loan_id, business_date=at.on)
    return {}


def _autodebit(session: Session, kit: CobKit, at: LoanAt) -> Mapping[str, int]:
    payments.autodebit(session=session, clock=kit.clock, provider=kit.payments, institution_id=at.institution_id,
                       on=at.on, loan_ids=[at.loan_id])
    return {}


# Servicing's own per-loan operations where the step is servicing's; the step's per-loan function otherwise.
PER_LOAN: dict[str, Callable[[Session, CobKit, LoanAt], Mapping[str, int]]] = {
    "advance": _advance, "autodebit": _autodebit}


def _collections(session: Session, kit: CobKit, institution_id: int, on: date) -> Mapping[str, int]:
    collections.sync_cases(session=session, clock=kit.clock, kit=kit.identity, institution_id=institution_id,
                           business_date=on)
    return {}


# The reference of a step over the whole institution, where the run's does part of it set-based (collections'
# `sync_cases_set`: the per-loan `sync_cases`).
PER_INSTITUTION: dict[str, Callable[[Session, CobKit, int, date], Mapping[str, int]]] = {"collections": _collections}


def close_loan_by_loan(runtime: Runtime, inst_id: int, day: date) -> None:
    """The day closed by hand: the date moved, then each step's per-loan operation on one loan at a time."""
    runtime.db.run(lambda s: parties.organisation.close_business_date(
        session=s, clock=runtime.clock, actor=Actor.system(inst_id), institution_id=inst_id, new_date=day))
    for step in cob.steps.registered():
        if step.whole is not None:
            whole = PER_INSTITUTION.get(step.name, step.whole)
            runtime.db.run(lambda s, whole=whole: whole(s, runtime.cob, inst_id, day))
            continue
        assert step.run is not None
        one = PER_LOAN.get(step.name, step.run)
        for loan_id in runtime.db.run(lambda s: loans.active_ids(session=s, institution_id=inst_id), write=False):
            runtime.db.run(lambda s, one=one, loan_id=loan_id: one(s, runtime.cob, LoanAt(inst_id, loan_id, day)))


def borrowers_act(runtimes: list[Runtime], inst_id: int, loan_ids: list[int], portfolio: list[Borrowing],
                  day: date) -> None:
    """What each borrower pays on `day` (their drawn behaviour), the same on both databases."""
    lead = runtimes[0]
    todo: list[tuple[int, Money]] = []
    with lead.db.unit_of_work(write=False) as s:
        for loan_id, borrowing in zip(loan_ids, portfolio, strict=True):
            loan = loans.get(session=s, institution_id=inst_id, loan_id=loan_id)
            if loan.status != "active" or borrowing.behaviour in ("missed", "card", "declined_card"):
                continue
            state = loans.state_of(session=s, loan=loan, as_of=day)
            delay = borrowing.late_days if borrowing.behaviour == "late" else 0
            if not any(r.number >= 1 and not r.settled and r.due_date + timedelta(days=delay) == day
                       for r in state.installments):
                continue
            owed = state.due_now.total - state.credit_balance
            if borrowing.behaviour == "half":
                owed = Money(owed.minor // 2, owed.currency)
            if owed.is_positive:
                todo.append((loan_id, owed))
    for runtime in runtimes:
        for loan_id, amount in todo:
            runtime.db.run(lambda s, loan_id=loan_id, amount=amount, runtime=runtime: loans.repay(
                session=s, clock=runtime.clock, actor=Actor.system(inst_id), institution_id=inst_id,
                loan_id=loan_id, amount=amount, on=day))


def _loans(runtime: Runtime, inst_id: int) -> list[tuple[Any, ...]]:
    with runtime.db.unit_of_work(write=False) as s:
        # The cached fold as every reader sees it (composed with the accrual columns a quiet day moved), and the
        # accrual columns themselves.
        return [(r.id, r.status, r.outstanding_principal, r.dpd, r.next_due_date, r.books, r.state_as_of,
                 r.events_count, accrual.cached_state_of(r), tuple(getattr(r, c) for c in accrual.COLUMNS),
                 tuple(getattr(r, c) for c in accrual.DAY_COLUMNS))
                for r in s.scalars(select(Loan).where(Loan.institution_id == inst_id).order_by(Loan.id))]


def _more(runtime: Runtime, inst_id: int) -> dict[str, Any]:
    """The events of every loan and every account's balance (debit positive), besides `picture`."""
    with runtime.db.unit_of_work(write=False) as s:
        events = s.execute(select(LoanEvent.loan_id, LoanEvent.seq, LoanEvent.type, LoanEvent.value_date,
                                  LoanEvent.business_date, LoanEvent.payload)
                           .join(Loan, Loan.id == LoanEvent.loan_id).where(Loan.institution_id == inst_id)
                           .order_by(LoanEvent.loan_id, LoanEvent.seq)).all()
        balances = s.execute(select(LedgerAccount.code, func.coalesce(func.sum(JournalLine.debit_minor), 0)
                                    - func.coalesce(func.sum(JournalLine.credit_minor), 0))
                             .join(JournalLine, JournalLine.account_id == LedgerAccount.id)
                             .where(LedgerAccount.institution_id == inst_id)
                             .group_by(LedgerAccount.code).order_by(LedgerAccount.code)).all()
    return {"events": [tuple(e) for e in events], "balances": {code: int(b) for code, b in balances}}


def _diff(got: list[tuple[Any, ...]], want: list[tuple[Any, ...]]) -> str:
    for a, b in zip(got, want, strict=True):
        if a != b:
            fields = [n for n, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
            return f"loan {a[0]} differs in fields {fields}: cob {[a[n] for n in fields]!r:.1500}" \
                   f" != per-loan {[b[n] for n in fields]!r:.1500}"
    return ""


def test_sixty_days_of_cob_equal_the_per_loan_operations_applied_one_by_one(twins, monkeypatch) -> None:
    (batch_rt, batch), (single_rt, single), portfolio = twins
    bulk_failed = set_based_failures(monkeypatch)
    assert batch.loan_ids == single.loan_ids
    assert batch.inst.id == single.inst.id
    inst_id, ids = batch.inst.id, batch.loan_ids
    for n in range(DAYS):
        day = FROM + timedelta(days=n)
        close_by_cob(batch_rt, inst_id, day)
        assert not bulk_failed, (day, bulk_failed)
        close_loan_by_loan(single_rt, inst_id, day)
        got, want = _loans(batch_rt, inst_id), _loans(single_rt, inst_id)
        assert got == want, f"seed {SEED}, {day}: {_diff(got, want)}"
        borrowers_act([batch_rt, single_rt], inst_id, ids, portfolio, day)

    with batch_rt.db.unit_of_work(write=False) as s:
        assert not s.scalars(select(CobFailure.error)).all(), f"seed {SEED}"
        assert s.scalar(select(func.count()).select_from(CobRun).where(CobRun.status == "done")) == DAYS
    got, want = picture(batch_rt, inst_id), picture(single_rt, inst_id)
    for key in ("business_date", "runs"):  # the run records exist on the COB side only
        got.pop(key), want.pop(key)
    got.update(_more(batch_rt, inst_id))
    want.update(_more(single_rt, inst_id))
    for key in want:
        assert got[key] == want[key], f"seed {SEED}: {key}"
    # The portfolio went through what COB is for: accruals, overdue loans and provisions, auto-debits, closings.
    assert got["balances"].get("1304", 0) < 0, f"seed {SEED}: no provision"
    assert any(row[3] > 30 for row in got["loans"]), f"seed {SEED}: no loan over 30 days past due"
    assert any(e[2] == "penalty" for e in got["events"]), f"seed {SEED}: no penalty charged"
    assert got["reminders"], f"seed {SEED}"
    # Collections' step opened and escalated cases, assigned them by load and texted the stages' templates.
    assert {case[4] for case in got["cases"]} >= {"reminder", "phone"}, f"seed {SEED}"
    assert len({case[11] for case in got["cases"]} - {None}) >= 2, f"seed {SEED}: cases not spread by load"
    assert {a[4] for a in got["case_actions"]} == {"reminder", "phone_notice"}, f"seed {SEED}"
    assert len(got["case_sms"]) == len(got["case_actions"]), f"seed {SEED}"
    assert {sms[2] is None for sms in got["case_sms"]} == {True, False}, f"seed {SEED}: none held, or all"
    assert got["features"], f"seed {SEED}"
    for runtime in (batch_rt, single_rt):
        with runtime.db.unit_of_work(write=False) as s:
            report = ledger.books.verify(session=s, institution_id=inst_id, subledger=loans.control_balances)
            assert report.ok, (SEED, report.problems)
