"""Early warning's set-based part (`monitoring.monitor_loans`, the warnings step's `bulk`) ≡ `monitor_loan` on
each loan (issue 18).

Five loans, four of them left unpaid past their first due date, closed day by day from the day before it to
five days after it, with the credit report re-read every 3 days (so on some days some borrowers' reports are
due and the set-based part reads them, as `monitor_loan` would). On each day, after the steps before early
warning, the warnings step is done twice from the same state, each time in a transaction rolled back: once by
`monitor_loan` on each loan, once as a task does it (the set-based part, then `monitor_loan` for the loans it
left). Everything they decide must be equal: the day's scores, the warnings (rule, subject, severity, details,
score, action, assignee), the in-app notifications, the SMS texts in the outbox, the audit records and the
bureau reads. Then the day is done for real, one loan's score of the day is spoilt, and the day is done again
both ways (the scores already there: the set-based part rewrites the spoilt one, raises nothing twice). The
set-based part must have done loans, read reports and raised warnings; and with its quiet check made to say
every loan is quiet (a loan that should be flagged skipped) the comparison must fail on the day the first loans
go past due.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from microcredit.audit import service as audit
from microcredit.cob import service as cob
from microcredit.notifications.models import InboxMessage, OutboxMessage
from microcredit.platform.actor import Actor
from microcredit.risk.warnings import repository as warnings_repo
from microcredit.risk.warnings.models import BehaviourScoreRow, BureauRefresh, RiskWarning
from microcredit.risk.warnings.service import thresholds
from microcredit.runtime import Runtime
from microcredit.servicing.service import loans
from tests.factories import make_staff
from tests.integration.cob.support import move_to, open_portfolio
from tests.integration.helpers import shared_client

AMOUNTS = ("8000.00", "12000.00", "5000.00", "6000.00", "7000.00")


@pytest.fixture
def client(runtime, backend):
    yield from shared_client(runtime, backend)


class _Undo(Exception):
    """Raised to roll a unit of work back after reading what it did."""


def _decided(s: Session, runtime: Runtime, inst_id: int, day: date) -> dict[str, Any]:
    """Everything the warnings step decides on `day`, without ids of its own."""
    s.flush()
    warnings = s.scalars(select(RiskWarning).where(RiskWarning.institution_id == inst_id,
                                                   RiskWarning.raised_on == day)).all()
    outbox = s.scalars(select(OutboxMessage).where(OutboxMessage.institution_id == inst_id,
                                                   OutboxMessage.template == "early_warning_raised")).all()
    cipher = runtime.keys.cipher
    return {
        "scores": sorted((r.loan_id, r.score, r.grade, r.dpd, r.model) for r in s.scalars(
            select(BehaviourScoreRow).where(BehaviourScoreRow.institution_id == inst_id,
                                            BehaviourScoreRow.scored_on == day))),
        "warnings": sorted((w.rule, w.subject, w.loan_id, w.borrower_id, w.branch_id, w.severity,
                            json.dumps(w.details, sort_keys=True), w.score, w.suggested_action, w.status,
                            w.assigned_user_id) for w in warnings),
        "inbox": sorted((m.user_id, m.template, json.dumps(m.params, sort_keys=True), m.subject_kind)
                        for m in s.scalars(select(InboxMessage).where(
                            InboxMessage.institution_id == inst_id, InboxMessage.template == "early_warning_raised"))),
        "outbox": sorted((m.recipient_masked, cipher.decrypt(m.payload_ciphertext, context="outbox_messages.payload"))
                         for m in outbox),
        "audit": sorted((r.action, r.entity_type, json.dumps(r.after, sort_keys=True))
                        for r in audit.waiting(s) if r.action.startswith("risk_warning.")),
        "bureau": sorted((r.borrower_id, r.report_number, r.overdue_accounts) for r in s.scalars(
            select(BureauRefresh).where(BureauRefresh.institution_id == inst_id, BureauRefresh.refreshed_on == day))),
    }


def _both_ways(runtime: Runtime, inst_id: int, day: date) -> tuple[dict[str, Any], dict[str, Any], int]:
    """(per loan, set-based then per loan for the rest, how many loans the set-based part did) from one state."""
    kit = runtime.cob
    step = cob.steps.step("warnings")
    assert step.run is not None
    assert step.bulk is not None
    run, bulk = step.run, step.bulk

    def per_loan(s: Session) -> int:
        for loan_id in loans.active_ids(session=s, institution_id=inst_id):
            with s.begin_nested():
                run(s, kit, cob.steps.LoanAt(inst_id, loan_id, day))
        return 0

    def set_based(s: Session) -> int:
        ids = loans.active_ids(session=s, institution_id=inst_id)
        with s.begin_nested():
            done = bulk(s, kit, inst_id, day, ids).done
        for loan_id in ids:
            if loan_id not in done:
                with s.begin_nested():
                    run(s, kit, cob.steps.LoanAt(inst_id, loan_id, day))
        return len(done)

    out: list[tuple[dict[str, Any], int]] = []
    for way in (per_loan, set_based):
        try:
            with runtime.db.unit_of_work() as s:
                n = way(s)
                out.append((_decided(s, runtime, inst_id, day), n))
                raise _Undo
        except _Undo:
            pass
    return out[0][0], out[1][0], out[1][1]


def _close_without_warnings(runtime: Runtime, inst_id: int, day: date, monkeypatch: pytest.MonkeyPatch) -> None:
    """`day` closed by a run whose early-warning steps do nothing (they are done by the test)."""
    with monkeypatch.context() as mp:
        for name in ("warnings", "warning_concentration"):
            real = cob.steps.step(name)
            mp.setitem(cob.steps._REGISTRY, name, cob.steps.Step(name, real.position, whole=lambda *_: {}))
        run_id = runtime.db.run(lambda s: cob.runs.start(
            session=s, clock=runtime.clock, actor=Actor.system(inst_id), institution_id=inst_id, on=day,
            partition_size=2, lease_seconds=60).id)
        cob.runs.execute(db=runtime.db, kit=runtime.cob, run_id=run_id)


def _warn_for_real(runtime: Runtime, inst_id: int, day: date) -> None:
    """The early-warning steps of `day` done and committed, as a run's tasks do them."""
    kit, step = runtime.cob, cob.steps.step("warnings")
    assert step.run is not None
    assert step.bulk is not None
    run, bulk = step.run, step.bulk

    def work(s: Session) -> None:
        ids = loans.active_ids(session=s, institution_id=inst_id)
        done = bulk(s, kit, inst_id, day, ids).done
        for loan_id in ids:
            if loan_id not in done:
                run(s, kit, cob.steps.LoanAt(inst_id, loan_id, day))
        concentration = cob.steps.step("warning_concentration").whole
        assert concentration is not None
        concentration(s, kit, inst_id, day)

    runtime.db.run(work)


def _portfolio(client: Any, session: Any, runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> tuple[int, date]:
    p = open_portfolio(client, session, runtime, monkeypatch, amounts=AMOUNTS)
    make_staff(session, runtime, p.inst, roles=("loan_officer",), password=None)
    make_staff(session, runtime, p.inst, roles=("branch_manager",), password=None)
    thresholds.update(session=session, clock=runtime.clock, actor=Actor.system(p.inst.id), institution_id=p.inst.id,
                      changes={"bureau_refresh_days": 3})
    session.commit()
    move_to(session, runtime, p.inst.id, p.first_due - timedelta(days=2))
    return p.inst.id, p.first_due


def _spoil_a_score(runtime: Runtime, inst_id: int, day: date) -> None:
    """One loan's score of `day` made one point more (committed): a run of the day again must put it back."""
    def spoil(s: Session) -> None:
        row = s.scalars(select(BehaviourScoreRow).where(BehaviourScoreRow.institution_id == inst_id,
                                                        BehaviourScoreRow.scored_on == day)
                        .order_by(BehaviourScoreRow.loan_id)).first()
        assert row is not None
        row.score += 1

    runtime.db.run(spoil)


def test_the_set_based_warnings_decide_what_monitoring_each_loan_decides(client, session, runtime, monkeypatch):
    inst_id, due = _portfolio(client, session, runtime, monkeypatch)
    set_based = raised = read_days = 0
    for n in range(-1, 6):
        day = due + timedelta(days=n)
        _close_without_warnings(runtime, inst_id, day, monkeypatch)
        want, got, done = _both_ways(runtime, inst_id, day)
        for key in want:
            assert got[key] == want[key], f"{day}: {key}"
        set_based += done
        raised += len(got["warnings"]) if done else 0
        read_days += done == len(AMOUNTS) and bool(got["bureau"])  # the set-based part read the reports due
        _warn_for_real(runtime, inst_id, day)
        _spoil_a_score(runtime, inst_id, day)
        want, got, done = _both_ways(runtime, inst_id, day)  # the day again, its scores there (one spoilt)
        assert done == len(AMOUNTS)
        for key in want:
            assert got[key] == want[key], f"{day} again: {key}"
        _warn_for_real(runtime, inst_id, day)
    assert set_based > 0  # the set-based part did loans ...
    assert read_days > 0  # ... read the reports due itself ...
    assert raised > 0, "no warning raised on a day the set-based part worked: the rules were not exercised"


def test_a_loan_that_should_be_flagged_and_is_skipped_is_caught(client, session, runtime, monkeypatch):
    """The comparison above can fail: with the set-based part's quiet check saying every loan is quiet (so a loan
    that should be flagged is skipped), the day the loans first go past due differs in its warnings."""
    inst_id, due = _portfolio(client, session, runtime, monkeypatch)
    all_quiet: Callable[..., set[tuple[str, str]]] = lambda _s, _i, subjects, _since: {  # noqa: E731
        (rule, subject) for rule in ("score_drop", "first_missed_payment", "repeated_partial_payments",
                                     "bureau_delinquency") for subject in subjects}
    differing: list[date] = []
    for n in range(-1, 6):
        day = due + timedelta(days=n)
        _close_without_warnings(runtime, inst_id, day, monkeypatch)
        with monkeypatch.context() as mp:
            mp.setattr(warnings_repo, "quiet_subjects", all_quiet)
            want, got, _ = _both_ways(runtime, inst_id, day)
        if got["warnings"] != want["warnings"]:
            differing.append(day)
            assert len(got["warnings"]) < len(want["warnings"])
        _warn_for_real(runtime, inst_id, day)
    assert differing, "a loan skipped by the set-based part went unnoticed"
