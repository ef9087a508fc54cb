"""Close of business over a small portfolio (SQLite, PostgreSQL, MariaDB): several business days closed in
order, the books verified; a date closed again changing nothing; one bad loan recorded, skipped and
fixed by a retry; the administrators' API (start, watch, list, retry, refusals)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import event, func, select

from microcredit.cob import service as cob
from microcredit.cob.errors import DateNotAfterBusinessDate, PreviousRunUnfinished, RunInProgress
from microcredit.cob.models import CobFailure, CobRun, CobTask, LoanBehaviour, LoanStanding, ReminderSent
from microcredit.cob.service.steps import Step
from microcredit.ledger import service as ledger
from microcredit.ledger.models import JournalLine, LedgerAccount
from microcredit.lending.classification import RiskCategory
from microcredit.lending.money import Money
from microcredit.parties import service as parties
from microcredit.platform.actor import Actor
from microcredit.servicing.service import loans
from tests.integration.cob.support import move_to, open_portfolio
from tests.integration.helpers import assert_problem, shared_client, snapshot


@pytest.fixture
def client(runtime, backend):
    yield from shared_client(runtime, backend)


def close(runtime, inst_id: int, day: date | None = None, *, size: int = 2) -> int:
    """Start the run of `day` and work it to the end in-process (as `microcredit cob run` does)."""
    run_id = runtime.db.run(lambda s: cob.runs.start(session=s, clock=runtime.clock, actor=Actor.system(inst_id),
                                                     institution_id=inst_id, on=day, partition_size=size,
                                                     lease_seconds=60).id)
    cob.runs.execute(db=runtime.db, kit=runtime.cob, run_id=run_id)
    return run_id


def verified(session, inst_id: int) -> None:
    session.expire_all()
    report = ledger.books.verify(session=session, institution_id=inst_id, subledger=loans.control_balances)
    assert report.ok, report.problems


def test_a_portfolio_closed_day_by_day_accrues_collects_classifies_provisions_and_reminds(
        client, session, runtime, monkeypatch):
    p = open_portfolio(client, session, runtime, monkeypatch)
    inst_id, due = p.inst.id, p.first_due
    move_to(session, runtime, inst_id, due - timedelta(days=4))
    days = [due + timedelta(days=n) for n in range(-3, 8)]
    runs = [close(runtime, inst_id, day) for day in days]

    session.expire_all()
    assert parties.organisation.business_date(session=session, institution_id=inst_id) == days[-1]
    rows = session.scalars(select(CobRun).where(CobRun.id.in_(runs)).order_by(CobRun.business_date)).all()
    assert not session.scalars(select(CobFailure.error).where(CobFailure.run_id.in_(runs))).all()
    assert [(r.business_date, r.status, r.loans, r.failures) for r in rows] == [(d, "done", 3, 0) for d in days]
    # Two loans per partition: 2 partitions x 6 steps per loan (early warning's included), and collections, early
    # warning's concentration check and the contracts' archive renewal once over the institution.
    tasks = session.scalars(select(CobTask).where(CobTask.run_id == runs[-1])).all()
    assert len(tasks) == 15
    assert [t.partition for t in tasks if t.step in ("collections", "warning_concentration", "archive")] == [1, 1, 1]
    assert {t.state for t in tasks} == {"done"}
    assert sorted(t.loans for t in tasks if t.step == "advance") == [1, 2]
    assert rows[-1].report["steps"]["advance"]["loans"] == 3

    carded, *others = p.loan_ids
    for loan_id in p.loan_ids:
        loan = loans.get(session=session, institution_id=inst_id, loan_id=loan_id)
        assert loan.state_as_of == days[-1]
    # The borrower with a card was collected from on the due date: current, 正常.
    first = loans.get(session=session, institution_id=inst_id, loan_id=carded)
    assert first.dpd == 0
    assert [(x.kind, x.due_date) for x in session.scalars(select(ReminderSent).where(
        ReminderSent.loan_id == carded))] == [("before_3", due)]
    # The others never paid: 7 days past due, bucket 1-30, 关注, provisioned at 3 % of the principal.
    for loan_id in others:
        loan = loans.get(session=session, institution_id=inst_id, loan_id=loan_id)
        assert loan.dpd == 7
        standing = session.get(LoanStanding, loan_id)
        assert (standing.dpd, standing.bucket, standing.category) == (7, "1-30", int(RiskCategory.SPECIAL_MENTION))
        assert standing.provision == (loan.outstanding_principal.minor * 3 + 50) // 100
        kinds = sorted(x.kind for x in session.scalars(select(ReminderSent).where(ReminderSent.loan_id == loan_id)))
        assert kinds == ["after_1", "after_3", "after_7", "before_3", "due"]
        features = session.get(LoanBehaviour, loan_id)
        assert (features.max_dpd, features.late_payments, features.days_since_last_payment) == (7, 0, None)
        # Staff read the same over the API (the loan page shows it).
        read = client.get(f"/api/v1/loans/{loan_id}/standing", headers=p.finance)
        assert read.status_code == 200, read.text
        assert {k: read.json()[k] for k in ("as_of", "dpd", "bucket", "category", "provision", "max_dpd")} == {
            "as_of": days[-1].isoformat(), "dpd": 7, "bucket": "1-30", "category": 2,
            "provision": str(Money(standing.provision, "CNY")), "max_dpd": 7}
    assert session.get(LoanBehaviour, carded).days_since_last_payment == 7
    # The provision in the books is what the loans hold: loss_provision's credit balance.
    held = sum(session.get(LoanStanding, i).provision for i in p.loan_ids)
    credit = session.scalar(select(func.coalesce(func.sum(JournalLine.credit_minor), 0) -
                                   func.coalesce(func.sum(JournalLine.debit_minor), 0))
                            .join(LedgerAccount, LedgerAccount.id == JournalLine.account_id)
                            .where(LedgerAccount.institution_id == inst_id, LedgerAccount.code == "1304"))
    assert credit == held > 0
    verified(session, inst_id)


def test_closing_a_date_again_changes_nothing(client, session, runtime, monkeypatch, database):
    p = open_portfolio(client, session, runtime, monkeypatch)
    inst_id, due = p.inst.id, p.first_due
    move_to(session, runtime, inst_id, due - timedelta(days=1))
    close(runtime, inst_id)
    run_id = close(runtime, inst_id)
    before = snapshot(database)
    # The finished run worked again: nothing to do.
    cob.runs.execute(db=runtime.db, kit=runtime.cob, run_id=run_id)
    # Every step done again to every loan on the same date (what a resumed run may do): nothing changes.
    for s in cob.steps.registered():
        if s.whole is not None:
            runtime.db.run(lambda x, s=s: s.whole(x, runtime.cob, inst_id, due + timedelta(days=1)))
            continue
        for loan_id in p.loan_ids:
            at = cob.steps.LoanAt(inst_id, loan_id, due + timedelta(days=1))
            runtime.db.run(lambda x, s=s, at=at: s.run(x, runtime.cob, at))
    assert before.diff(snapshot(database)) == {}
    # And the same date cannot be opened a second time.
    with pytest.raises(DateNotAfterBusinessDate):
        close(runtime, inst_id, due + timedelta(days=1))
    verified(session, inst_id)


def test_a_bad_loan_is_recorded_and_skipped_and_a_retry_fixes_it(client, session, runtime, monkeypatch):
    p = open_portfolio(client, session, runtime, monkeypatch)
    inst_id, due = p.inst.id, p.first_due
    move_to(session, runtime, inst_id, due + timedelta(days=5))
    bad = p.loan_ids[1]
    broken = {"on": True}
    real = cob.steps.step("classify")

    def classify(s, kit, at):
        if broken["on"] and at.loan_id == bad:
            raise RuntimeError("the provision rate table is unreadable")
        return real.run(s, kit, at)

    monkeypatch.setitem(cob.steps._REGISTRY, "classify", Step("classify", real.position, classify))
    run_id = close(runtime, inst_id)
    session.expire_all()
    run = session.get(CobRun, run_id)
    assert (run.status, run.failures) == ("done_with_failures", 1)
    (failure,) = session.scalars(select(CobFailure).where(CobFailure.run_id == run_id)).all()
    assert (failure.loan_id, failure.step, failure.retried) == (bad, "classify", False)
    assert "unreadable" in failure.error
    # Skipped by the later steps; the other loans went through all of them.
    assert session.get(LoanBehaviour, bad) is None
    assert session.get(LoanStanding, bad) is None
    assert all(session.get(LoanBehaviour, i) is not None for i in p.loan_ids if i != bad)
    # Still broken: the retry keeps it open with the error.
    assert cob.runs.retry(db=runtime.db, kit=runtime.cob, institution_id=inst_id, run_id=run_id) == (0, 1)
    broken["on"] = False
    assert cob.runs.retry(db=runtime.db, kit=runtime.cob, institution_id=inst_id, run_id=run_id) == (1, 0)
    session.expire_all()
    run = session.get(CobRun, run_id)
    assert (run.status, run.failures) == ("done", 0)
    assert session.get(LoanStanding, bad).as_of == due + timedelta(days=6)
    assert session.get(LoanBehaviour, bad).max_dpd == 6  # past the product's grace days
    assert session.get(CobFailure, failure.id).retry_result == "fixed"
    verified(session, inst_id)


def test_a_task_works_its_partition_without_locking_the_run(client, session, runtime, monkeypatch, backend):
    """Workers of one step take their partitions at once (the Celery runner): a task's work must not hold the run's
    row locked (it did: read FOR UPDATE at the task's start, so each worker waited for the other's commit)."""
    if backend == "sqlite":
        pytest.skip("SQLite renders no row lock: one writer at a time by design")
    p = open_portfolio(client, session, runtime, monkeypatch)
    move_to(session, runtime, p.inst.id, p.first_due + timedelta(days=2))
    inside = {"work": False}
    locked: list[str] = []
    work = cob.runs._work

    def watched(s, **kw):
        inside["work"] = True
        try:
            return work(s, **kw)
        finally:
            inside["work"] = False

    def heard(conn, cursor, statement, parameters, context, executemany):
        text = " ".join(statement.split()).lower()
        if inside["work"] and "cob_runs" in text and ("for update" in text or "for share" in text):
            locked.append(text)

    monkeypatch.setattr(cob.runs, "_work", watched)
    bind = session.get_bind()
    event.listen(bind, "before_cursor_execute", heard)
    try:
        run_id = close(runtime, p.inst.id)
    finally:
        event.remove(bind, "before_cursor_execute", heard)
    session.expire_all()
    run = session.get(CobRun, run_id)
    assert run.status == "done"
    assert run.heartbeat_at is not None
    assert not locked, locked[:3]


def test_an_unfinished_run_is_resumed_not_doubled(client, session, runtime, monkeypatch):
    p = open_portfolio(client, session, runtime, monkeypatch)
    inst_id = p.inst.id
    start = lambda s, on=None, force=False: cob.runs.start(  # noqa: E731
        session=s, clock=runtime.clock, actor=Actor.system(inst_id), institution_id=inst_id, on=on,
        partition_size=1, lease_seconds=60, force=force)
    opened = runtime.db.run(lambda s: start(s).id)
    # Its heartbeat is fresh: another start is refused; a later date waits for it.
    with pytest.raises(RunInProgress):
        runtime.db.run(start)
    with pytest.raises(PreviousRunUnfinished):
        runtime.db.run(lambda s: start(s, on=date(2026, 12, 31)))
    # Silent past the lease (the runner died): the same run is handed back to resume.
    runtime.clock.advance(timedelta(seconds=61))
    assert runtime.db.run(start).id == opened
    cob.runs.execute(db=runtime.db, kit=runtime.cob, run_id=opened)
    session.expire_all()
    assert session.get(CobRun, opened).status == "done"
    assert session.scalar(select(func.count()).select_from(CobRun).where(CobRun.institution_id == inst_id)) == 1


def test_the_api_starts_a_run_shows_it_and_refuses_what_it_cannot_do(client, session, runtime, monkeypatch):
    p = open_portfolio(client, session, runtime, monkeypatch)
    inst_id = p.inst.id
    today = parties.organisation.business_date(session=session, institution_id=inst_id)
    body = assert_problem(client.post("/api/v1/cob/runs", headers=p.admin,
                                      json={"business_date": today.isoformat()}), 422)
    assert (body["code"], body["field"]) == ("cob_date_not_after_business_date", "business_date")
    started = client.post("/api/v1/cob/runs", headers=p.admin, json={})
    assert started.status_code == 202, started.text
    run = started.json()
    assert run["business_date"] == (today + timedelta(days=1)).isoformat()
    # The test client has waited for the background work: the run is done.
    detail = client.get(f"/api/v1/cob/runs/{run['id']}", headers=p.admin).json()
    assert detail["run"]["status"] == "done"
    assert detail["steps"] == ["advance", "classify", "autodebit", "remind", "collections", "features",
                               "warnings", "warning_concentration", "archive"]
    assert {t["state"] for t in detail["tasks"]} == {"done"}
    assert detail["failures"] == []
    listed = client.get("/api/v1/cob/runs", headers=p.admin).json()
    assert listed["total"] == 1
    assert listed["items"][0]["id"] == run["id"]
    body = assert_problem(client.post(f"/api/v1/cob/runs/{run['id'] + 999}/retry", headers=p.admin), 404)
    assert body["code"] == "cob_run_not_found"
    retried = client.post(f"/api/v1/cob/runs/{run['id']}/retry", headers=p.admin)
    assert retried.status_code == 200
    assert (retried.json()["fixed"], retried.json()["failing"]) == (0, 0)
    missing = assert_problem(client.get("/api/v1/cob/runs/999999", headers=p.admin), 404)
    assert missing["code"] == "cob_run_not_found"


def test_a_loan_no_close_of_business_reached_has_an_empty_standing(client, session, runtime, monkeypatch):
    p = open_portfolio(client, session, runtime, monkeypatch, amounts=("5000.00",))
    read = client.get(f"/api/v1/loans/{p.loan_ids[0]}/standing", headers=p.finance).json()
    assert (read["as_of"], read["bucket"], read["category"], read["provision"]) == (None, None, None, "0.00")
    assert_problem(client.get(f"/api/v1/loans/{p.loan_ids[0] + 999}/standing", headers=p.finance), 404)
