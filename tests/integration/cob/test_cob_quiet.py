"""The quiet loans' day set-based ≡ the per-loan day, on twin databases (issue 18).

A portfolio of loans over both products and the three repayment methods, set up alike on two databases;
for 14 business days around the first due date (quiet days before it, the due date with its payments,
auto-debits and overdue loans, and quiet days after it) the first closes each day with a run of the close
of business — where `advance` brings the quiet loans to the day set-based (`servicing.service.quiet`) and
classify, auto-debit, reminders and features skip or write them in bulk — and the second applies each
step's per-loan operation loan by loan. Every loan's row (the cached fold with its accrued interest and
payoff, the books' snapshot, the date) is compared after each day; at the end every ledger line, standing,
feature row, reminder and score, `ledger verify` and bean-check of both books on both databases. The runs
must have done some loans set-based and some loan by loan (a mix). The last test makes the set-based accrual
(the accrued interest column the quiet day writes) one fen more and checks the comparison fails on the first
quiet day, naming the loan (this test can fail).
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import types
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from microcredit.cob.models import CobFailure, CobRun, ReminderSent
from microcredit.ledger import service as ledger
from microcredit.lending import loan as core
from microcredit.lending.money import Money
from microcredit.notifications import service as notifications
from microcredit.notifications.models import OutboxMessage
from microcredit.runtime import Runtime
from microcredit.servicing import repository as repo
from microcredit.servicing.models import Loan
from microcredit.servicing.service import accrual, folds, loans, quiet, quiet_overdue
from tests.conftest import fresh_database_url
from tests.factories import next_id_number
from tests.integration.cob.support import Portfolio, picture, set_based_failures, twin_of
from tests.integration.cob.test_cob_equivalence import (
    FROM,
    SEED,
    Borrowing,
    _diff,
    _loans,
    _more,
    _setup,
    borrowers_act,
    close_by_cob,
    close_loan_by_loan,
    draw,
)

LOANS = 8
DAYS = 14  # 12-20 .. 01-02: five quiet days, the first due date (12-25), overdue and paid days, quiet again
BEAN_CHECK = Path(sys.executable).parent / "bean-check"

Twins = tuple[tuple[Runtime, Portfolio], tuple[Runtime, Portfolio], list[Borrowing]]


@pytest.fixture(scope="module", params=["sqlite", "postgresql", "mysql"])
def twins(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Twins]:
    """The same portfolio on two databases of the backend: one closed by runs, one loan by loan."""
    portfolio = draw(SEED)[:LOANS]
    id_numbers = tuple(next_id_number() for _ in portfolio)
    tmp = tmp_path_factory.mktemp("cob-quiet-set")
    url = fresh_database_url(request.param, tmp, suffix="_cobq_set")
    runs = _setup(url, tmp, portfolio, id_numbers)
    twin, _ = twin_of(runs[0], request.param, url, tmp, tmp_path_factory.mktemp("cob-quiet-loan"), "_cobq_loan")
    yield runs, (twin, runs[1]), portfolio
    for runtime in (runs[0], twin):
        runtime.close()


def _overdue_counts(runtime: Runtime, inst_id: int) -> list[int]:
    """Per run: the loans the advance step's set-based part did as overdue loans (`quiet_overdue`)."""
    with runtime.db.unit_of_work(write=False) as s:
        runs = s.scalars(select(CobRun).where(CobRun.institution_id == inst_id).order_by(CobRun.business_date))
        return [int((run.report or {}).get("steps", {}).get("advance", {}).get("counts", {}).get("overdue", 0))
                for run in runs]


def _advance_counts(runtime: Runtime, inst_id: int) -> list[tuple[int, int]]:
    """Per run: (loans the advance step did set-based, loans it did in all)."""
    with runtime.db.unit_of_work(write=False) as s:
        runs = s.scalars(select(CobRun).where(CobRun.institution_id == inst_id).order_by(CobRun.business_date))
        out = []
        for run in runs:
            step: Any = (run.report or {}).get("steps", {}).get("advance", {})
            out.append((int(step.get("counts", {}).get("quiet", 0)), int(step.get("loans", 0))))
        return out


def _bean_check(runtime: Runtime, inst_id: int, code: str, tmp: Path) -> None:
    for basis in ("accrual", "cash"):
        with runtime.db.unit_of_work(write=False) as s:
            text = "\n".join(ledger.books.export_beancount(session=s, institutions={inst_id: code}, basis=basis))
        path = tmp / f"books-{basis}.beancount"
        path.write_text(text + "\n", encoding="utf-8")
        checked = subprocess.run([str(BEAN_CHECK), str(path)], capture_output=True, text=True, timeout=120,
                                 check=False)
        assert checked.returncode == 0, checked.stdout + checked.stderr


def _columns_are_the_folds(runtime: Runtime, inst_id: int, day: date) -> None:
    """Every running loan current to `day` (per loan or set-based) carries, in the columns the later steps read
    (`accrual.day_columns`), the figures of its fold on `day` made afresh: a quiet day left them right."""
    with runtime.db.unit_of_work(write=False) as s:
        rows = s.scalars(select(Loan).where(Loan.institution_id == inst_id, Loan.status == "active",
                                            Loan.state_as_of == day)).all()
        assert rows, day
        for loan in rows:
            fold = core.fold(loans.core_terms(s, loan), loans.core_events(repo.events_of(s, loan.id)), as_of=day)
            assert {c: getattr(loan, c) for c in accrual.DAY_COLUMNS} == accrual.day_columns(fold), (loan.id, day)


def _texts(runtime: Runtime, inst_id: int) -> dict[str, Any]:
    """The institution's SMS in the outbox (template, masked phone, text, status, held until) and each reminder with
    the template and text of the message it names (`outbox_id`): what the reminders step queued, without ids."""
    cipher = runtime.keys.cipher
    with runtime.db.unit_of_work(write=False) as s:
        sms = {m.id: (m.template, m.recipient_masked, m.status, m.not_before,
                      cipher.decrypt(m.payload_ciphertext, context="outbox_messages.payload"))
               for m in s.scalars(select(OutboxMessage).where(OutboxMessage.institution_id == inst_id,
                                                              OutboxMessage.topic == "sms"))}
        reminders = sorted((r.loan_id, r.kind, r.due_date, r.sent_on, sms.get(r.outbox_id or 0))
                           for r in s.scalars(select(ReminderSent).join(Loan, Loan.id == ReminderSent.loan_id)
                                              .where(Loan.institution_id == inst_id)))
    return {"sms": sorted(sms.values(), key=repr), "reminders": reminders}


def test_quiet_days_set_based_equal_the_per_loan_days(twins: Twins, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    (runs_rt, runs), (single_rt, single), portfolio = twins
    assert runs.loan_ids == single.loan_ids
    inst_id, ids = runs.inst.id, runs.loan_ids
    # The loans the runs' `advance` did one by one that were past due after it (the overdue loans' per-loan path).
    by_hand_overdue: list[tuple[int, date]] = []
    advance = loans.advance
    # The SMS the reminders step's set-based part queued (`notifications.write_sms`): there must be some.
    queued: list[dict[str, Any]] = []
    write_sms = notifications.write_sms

    def counted(session: Any, rows: Any) -> list[int]:
        queued.extend(rows)
        return write_sms(session, rows)
    bulk_failed = set_based_failures(monkeypatch)

    def watched(**kwargs: Any) -> Any:
        entries = advance(**kwargs)
        loan = loans.get(session=kwargs["session"], institution_id=kwargs["institution_id"],
                         loan_id=kwargs["loan_id"])
        if loan.dpd > 0:
            by_hand_overdue.append((loan.id, kwargs["business_date"]))
        return entries

    for n in range(DAYS):
        day = FROM + timedelta(days=n)
        with monkeypatch.context() as m:
            m.setattr(loans, "advance", watched)
            m.setattr(notifications, "write_sms", counted)
            close_by_cob(runs_rt, inst_id, day)
        assert not bulk_failed, (day, bulk_failed)
        close_loan_by_loan(single_rt, inst_id, day)
        got, want = _loans(runs_rt, inst_id), _loans(single_rt, inst_id)
        assert got == want, f"seed {SEED}, {day}: {_diff(got, want)}"
        assert _texts(runs_rt, inst_id) == _texts(single_rt, inst_id), day  # every reminder, its SMS, every text
        _columns_are_the_folds(runs_rt, inst_id, day)
        borrowers_act([runs_rt, single_rt], inst_id, ids, portfolio, day)

    counts = _advance_counts(runs_rt, inst_id)
    assert len(counts) == DAYS
    set_based = sum(q for q, _ in counts)
    assert set_based > 0, counts  # quiet loans went set-based ...
    assert sum(total - q for q, total in counts) > 0, counts  # ... and busy ones loan by loan
    overdue = _overdue_counts(runs_rt, inst_id)
    assert sum(overdue) > 0, overdue  # overdue loans' days set-based (`quiet_overdue`) ...
    assert by_hand_overdue, "no overdue loan went loan by loan"  # ... and loan by loan (their first day past due)
    memo = runs_rt.db.run(folds.memo_of)
    assert memo is not None
    assert memo.earlier_hits > 0, "no overdue day started from the day before's kept fold (`kernel.fold_later`)"
    assert queued, "no reminder was queued set-based"
    assert {row["template"] for row in queued} >= {"repayment_upcoming", "repayment_due_today", "repayment_overdue"}
    with runs_rt.db.unit_of_work(write=False) as s:
        assert not s.scalars(select(CobFailure.error)).all()
        # Every step's set-based part did loans (none failed into the one-by-one fallback every day).
        reports = [r.report or {} for r in s.scalars(select(CobRun).where(CobRun.institution_id == inst_id))]
        for name in ("advance", "classify", "autodebit", "remind", "features", "warnings", "collections"):
            assert sum(r["steps"][name]["counts"].get("set_based", 0) for r in reports) > 0, name
        for name in ("classify", "autodebit", "remind", "features"):  # ... and from the loans' columns (0042)
            assert sum(r["steps"][name]["counts"].get("by_columns", 0) for r in reports) > 0, name
    got, want = picture(runs_rt, inst_id), picture(single_rt, inst_id)
    for key in ("business_date", "runs"):
        got.pop(key), want.pop(key)
    got.update(_more(runs_rt, inst_id))
    want.update(_more(single_rt, inst_id))
    for key in want:
        assert got[key] == want[key], f"seed {SEED}: {key}"
    assert any(row[3] > 0 for row in got["loans"]), "no loan went overdue: the busy path was not exercised"
    for n, runtime in enumerate((runs_rt, single_rt)):
        with runtime.db.unit_of_work(write=False) as s:
            report = ledger.books.verify(session=s, institution_id=inst_id, subledger=loans.control_balances)
            assert report.ok, report.problems
        out = tmp_path / str(n)
        out.mkdir()
        _bean_check(runtime, inst_id, runs.inst.code, out)


def test_a_set_based_accrual_one_fen_off_is_caught(twins: Twins, monkeypatch: pytest.MonkeyPatch) -> None:
    """The comparison above can fail: with the set-based accrual one fen more, the next quiet day differs."""
    (runs_rt, runs), (single_rt, _), portfolio = twins
    inst_id = runs.inst.id
    # The days the test above closes, when it ran elsewhere (xdist gives each test its worker and fixture).
    for n in range(len(_advance_counts(runs_rt, inst_id)), DAYS):
        day = FROM + timedelta(days=n)
        close_by_cob(runs_rt, inst_id, day)
        close_loan_by_loan(single_rt, inst_id, day)
        borrowers_act([runs_rt, single_rt], inst_id, runs.loan_ids, portfolio, day)
    moved = repo.move_quiet_accruals

    def one_fen_more(session: Any, *, accrued: list[int], **rest: Any) -> None:
        moved(session, accrued=[a + 1 for a in accrued], **rest)

    monkeypatch.setattr(repo, "move_quiet_accruals", one_fen_more)
    day = FROM + timedelta(days=DAYS)
    close_by_cob(runs_rt, inst_id, day)
    close_loan_by_loan(single_rt, inst_id, day)
    assert _advance_counts(runs_rt, inst_id)[-1][0] > 0, "no quiet loan on the day: nothing was tested"
    got, want = _loans(runs_rt, inst_id), _loans(single_rt, inst_id)
    differing = [(a[8], b[8]) for a, b in zip(got, want, strict=True) if a != b]
    assert differing, "one fen more went unnoticed"
    for cob_state, loan_state in differing:  # the cached fold's accrued interest, one fen more, and nothing else
        # (as every reader sees it: composed from the accrual columns, `accrual.cached_state`)
        assert {k for k in loan_state if cob_state[k] != loan_state[k]} == {"accrued_interest"}
        assert Money.parse(cob_state["accrued_interest"], "CNY").minor \
            == Money.parse(loan_state["accrued_interest"], "CNY").minor + 1


def test_a_set_based_penalty_one_fen_off_is_caught(twins: Twins, monkeypatch: pytest.MonkeyPatch) -> None:
    """The comparison catches the overdue loans' set-based day too: with the penalty it charges one fen more, the
    loans it did differ from the per-loan day (the event, the cached fold, the books)."""
    (runs_rt, runs), (single_rt, _), portfolio = twins
    inst_id = runs.inst.id
    for n in range(len(_advance_counts(runs_rt, inst_id)), DAYS + 1):  # the days the other tests close
        day = FROM + timedelta(days=n)
        close_by_cob(runs_rt, inst_id, day)
        close_loan_by_loan(single_rt, inst_id, day)
        borrowers_act([runs_rt, single_rt], inst_id, runs.loan_ids, portfolio, day)
    owed = core.penalties_owed

    def one_fen_more(*args: Any, **kwargs: Any) -> list[core.PenaltyOwed]:
        return [dataclasses.replace(o, accrued=o.accrued + Money(1, o.accrued.currency))
                for o in owed(*args, **kwargs)]

    monkeypatch.setattr(quiet_overdue, "core", types.SimpleNamespace(fold=core.fold, penalties_owed=one_fen_more))
    day = FROM + timedelta(days=DAYS + 1)
    close_by_cob(runs_rt, inst_id, day)
    close_loan_by_loan(single_rt, inst_id, day)
    assert _overdue_counts(runs_rt, inst_id)[-1] > 0, "no overdue loan on the day: nothing was tested"
    # The events (which no earlier day's difference reaches: the accrual test's fen is in a column) now differ in
    # the day's penalties — one fen more each, and a penalty where the per-loan day charges none (a grace day's
    # nothing made one fen) —, and the loans' rows with them.
    got, want = _more(runs_rt, inst_id)["events"], _more(single_rt, inst_id)["events"]
    assert [e for e in got if e[4] < day] == [e for e in want if e[4] < day]
    changed = [e for e in got if e not in want]
    assert changed, "one fen more went unnoticed"
    for cob_event in changed:
        assert cob_event[2] == "penalty"
        assert cob_event[4] == day
        same = [e for e in want if e[:2] == cob_event[:2]]
        if same:
            assert Money.parse(cob_event[5]["amount"], "CNY").minor \
                == Money.parse(same[0][5]["amount"], "CNY").minor + 1
    rows = {r[0]: r for r in _loans(single_rt, inst_id)}
    assert all(r != rows[r[0]] for r in _loans(runs_rt, inst_id) if r[0] in {e[0] for e in changed})


def test_a_set_based_reminder_one_fen_off_is_caught(tmp_path_factory: pytest.TempPathFactory,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The texts' comparison can fail: with the amounts the reminders' set-based part reads one fen more, the
    reminders of 3 days before the first due date (12-22) differ from the per-loan step's (their SMS text)."""
    portfolio = draw(SEED)[:LOANS]
    tmp = tmp_path_factory.mktemp("cob-remind-set")
    url = fresh_database_url("sqlite", tmp, suffix="_cobr_set")
    runs_rt, runs = _setup(url, tmp, portfolio, tuple(next_id_number() for _ in portfolio))
    single_rt, _ = twin_of(runs_rt, "sqlite", url, tmp, tmp_path_factory.mktemp("cob-remind-loan"), "_cobr_loan")
    unpaid_dues = quiet.unpaid_dues

    def one_fen_more(*args: Any, **kwargs: Any) -> dict[int, quiet.UnpaidDues]:
        return {i: dataclasses.replace(one, dues=[dataclasses.replace(u, principal=u.principal + 1) for u in one.dues])
                for i, one in unpaid_dues(*args, **kwargs).items()}

    monkeypatch.setattr(quiet, "unpaid_dues", one_fen_more)
    try:
        inst_id = runs.inst.id
        for n in range(3):
            day = FROM + timedelta(days=n)
            close_by_cob(runs_rt, inst_id, day)
            close_loan_by_loan(single_rt, inst_id, day)
        got, want = _texts(runs_rt, inst_id), _texts(single_rt, inst_id)
        assert want["reminders"], "no reminder on 12-22: nothing was tested"
        assert [r[:4] for r in got["reminders"]] == [r[:4] for r in want["reminders"]]  # the same reminders ...
        assert got != want, "one fen more went unnoticed"  # ... whose texts differ
        assert all(a[4] != b[4] for a, b in zip(got["reminders"], want["reminders"], strict=True))
    finally:
        runs_rt.close()
        single_rt.close()


def test_a_set_based_case_one_fen_off_is_caught(tmp_path_factory: pytest.TempPathFactory,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The cases' comparison can fail: with what collections' set-based part reads as overdue one fen more, the cases
    it refreshes differ from the per-loan sync's (the overdue total, one fen more)."""
    portfolio = draw(SEED)[:LOANS]
    tmp = tmp_path_factory.mktemp("cob-case-set")
    url = fresh_database_url("sqlite", tmp, suffix="_cobc_set")
    runs_rt, runs = _setup(url, tmp, portfolio, tuple(next_id_number() for _ in portfolio))
    single_rt, _ = twin_of(runs_rt, "sqlite", url, tmp, tmp_path_factory.mktemp("cob-case-loan"), "_cobc_loan")
    due_by = quiet.UnpaidDues.due_by

    def one_fen_more(self: quiet.UnpaidDues, on: date) -> dict[str, int]:
        due = due_by(self, on)
        return {**due, "principal": due["principal"] + 1}

    try:
        inst_id = runs.inst.id
        for n in range(9):  # 12-20 .. 12-28: the cases open on 12-26 and are refreshed after
            day = FROM + timedelta(days=n)
            if n == 8:
                monkeypatch.setattr(quiet.UnpaidDues, "due_by", one_fen_more)
            close_by_cob(runs_rt, inst_id, day)
            close_loan_by_loan(single_rt, inst_id, day)
            borrowers_act([runs_rt, single_rt], inst_id, runs.loan_ids, portfolio, day)
        got, want = picture(runs_rt, inst_id)["cases"], picture(single_rt, inst_id)["cases"]
        assert want, "no case: nothing was tested"
        changed = [(a, b) for a, b in zip(got, want, strict=True) if a != b]
        assert changed, "one fen more went unnoticed"
        for a, b in changed:
            assert a[8].minor == b[8].minor + 1  # the overdue total
    finally:
        runs_rt.close()
        single_rt.close()
