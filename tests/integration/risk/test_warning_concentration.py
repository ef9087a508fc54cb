"""Early warning's concentration check (step 95) grouped in SQL raises exactly the warnings the per-loan check
raised before it (issue 18, task cob20) — SQLite, PostgreSQL, MariaDB.

The portfolio is built to trip it: two loans made by the real operations, then copies of their application and
loan rows (a test installation: only the branch and the product differ) spread over three branches and none,
and over three product codes; the day's behaviour scores written with past-due days and grades drawn from a
seed so that some groups reach the deteriorating share and others do not (one below the minimum of loans with
every loan deteriorating, one exactly at the share), and scores of another day that must be left out. From
the same state, each in a transaction rolled back, the check is done by the per-loan reference (the code
before the change, kept here: every scored loan read as an ORM object, counted in Python) and by the step as
registered; the warnings (in the order raised), their in-app notifications, SMS texts and audit records, and
the step's counts must be equal. Then the step is committed and done again: it raises nothing twice.
"""

from __future__ import annotations

import contextlib
import json
import random
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from microcredit.audit import service as audit
from microcredit.cob import service as cob
from microcredit.notifications.models import InboxMessage, OutboxMessage
from microcredit.origination.models import Application
from microcredit.risk.warnings import repository as warnings_repo
from microcredit.risk.warnings.models import BehaviourScoreRow, RiskWarning
from microcredit.risk.warnings.rules import DETERIORATING_GRADES, GroupFacts, concentration_findings
from microcredit.risk.warnings.service import monitoring, thresholds
from microcredit.runtime import Runtime
from microcredit.servicing.models import Loan
from microcredit.servicing.service import loans
from tests.factories import make_branch, make_staff
from tests.integration.cob.support import open_portfolio
from tests.integration.helpers import shared_client

PRODUCTS = ("P1", "P2", "P3")
COPIES = 46


@pytest.fixture
def client(runtime, backend):
    yield from shared_client(runtime, backend)


class _Undo(Exception):
    """Raised to roll a unit of work back after reading what it did."""


def _per_loan_reference(session: Session, kit: monitoring.MonitorKit, institution_id: int, on: date) -> dict[str, int]:
    """The concentration check as it was before it was grouped in SQL (main at baf3ec7): the day's scores, every
    scored loan read whole, the groups counted in Python."""
    t = thresholds.of(session=session, institution_id=institution_id)
    rows = warnings_repo.scores_of_day(session, institution_id, on)
    by_id = {x.id: x for x in loans.by_ids(session=session, loan_ids=[r.loan_id for r in rows])}
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for r in rows:
        loan = by_id[r.loan_id]
        bad = r.dpd > 0 or r.grade in DETERIORATING_GRADES
        for key in (("branch", str(loan.branch_id)) if loan.branch_id else None, ("product", loan.product_code)):
            if key is not None:
                counts[key][0] += 1
                counts[key][1] += int(bad)
    groups = [GroupFacts(kind, key, n, bad) for (kind, key), (n, bad) in sorted(counts.items())]
    raised = 0
    for group, finding in concentration_findings(groups, t):
        branch_id = int(group.key) if group.kind == "branch" else None
        warning = monitoring._raise(session, kit, t, institution_id=institution_id, on=on, finding=finding,
                                    subject=f"{group.kind}:{group.key}", branch_id=branch_id, loan_id=None,
                                    borrower_id=None, score=None, number=f"{group.kind}:{group.key}", officer_id=None)
        raised += warning is not None
    session.flush()
    return {"groups": len(groups), "warnings": raised}


def _decided(s: Session, runtime: Runtime, inst_id: int, counts: dict[str, int]) -> dict[str, Any]:
    """What a check decided, in the order it did it, without ids of its own."""
    s.flush()
    warnings = s.scalars(select(RiskWarning).where(RiskWarning.institution_id == inst_id)
                         .order_by(RiskWarning.id)).all()
    cipher = runtime.keys.cipher
    return {
        "counts": counts,
        "warnings": [(w.rule, w.subject, w.loan_id, w.branch_id, w.severity, json.dumps(w.details, sort_keys=True),
                      w.score, w.suggested_action, w.status, w.assigned_user_id, w.raised_on) for w in warnings],
        "inbox": [(m.user_id, m.template, json.dumps(m.params, sort_keys=True), m.subject_kind)
                  for m in s.scalars(select(InboxMessage).where(InboxMessage.institution_id == inst_id,
                                                                InboxMessage.template == "early_warning_raised")
                                     .order_by(InboxMessage.id))],
        "outbox": [(m.recipient_masked, cipher.decrypt(m.payload_ciphertext, context="outbox_messages.payload"))
                   for m in s.scalars(select(OutboxMessage).where(OutboxMessage.institution_id == inst_id,
                                                                   OutboxMessage.template == "early_warning_raised")
                                      .order_by(OutboxMessage.id))],
        "audit": [(r.action, r.entity_type, json.dumps(r.after, sort_keys=True))
                  for r in audit.waiting(s) if r.action.startswith("risk_warning.")],
    }


def _both_ways(runtime: Runtime, inst_id: int, day: date) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the per-loan reference, the registered step) from one state, each rolled back."""
    step = cob.steps.step("warning_concentration").whole
    assert step is not None
    kit = runtime.cob
    out: list[dict[str, Any]] = []
    for way in (lambda s: _per_loan_reference(s, monitoring_kit(kit), inst_id, day),
                lambda s: dict(step(s, kit, inst_id, day))):
        with contextlib.suppress(_Undo), runtime.db.unit_of_work() as s:  # rolled back, then swallowed
            out.append(_decided(s, runtime, inst_id, way(s)))
            raise _Undo
    return out[0], out[1]


def monitoring_kit(kit: Any) -> monitoring.MonitorKit:
    """The kit the registered step hands to `check_concentration` (the runtime's own)."""
    from microcredit import runtime as composition

    return composition._monitor_kit(kit)


def _tripping_portfolio(client: Any, session: Any, runtime: Runtime,
                        monkeypatch: pytest.MonkeyPatch) -> tuple[int, date]:
    """Copies of two real loans over branches and products, the day's scores drawn to trip some groups."""
    p = open_portfolio(client, session, runtime, monkeypatch, amounts=("8000.00", "12000.00"))
    branches = [make_branch(session, runtime, p.inst) for _ in range(3)]
    for branch in branches[:2]:  # the third branch's warnings go to the institution's handlers
        make_staff(session, runtime, p.inst, roles=("branch_manager",), branch=branch, password=None)
    make_staff(session, runtime, p.inst, roles=("risk_officer",), password=None)
    session.commit()
    day = p.inst.business_date
    apps, loans_t = Application.__table__, Loan.__table__
    template = dict(session.execute(select(loans_t).where(loans_t.c.id == p.loan_ids[0])).mappings().one())
    app = dict(session.execute(select(apps).where(apps.c.id == template["application_id"])).mappings().one())
    rng = random.Random(20)
    where = [b.id for b in branches] + [None]
    ids = list(p.loan_ids)
    for k in range(COPIES):
        new_app = session.execute(insert(apps).values(
            {**{c: v for c, v in app.items() if c != "id"}, "number": f"CC{k:06d}"})).inserted_primary_key[0]
        # branch 0: 18 loans, branch 1: 10, branch 2: 4 (under the minimum of 5), none: 14
        branch = where[0] if k < 18 else where[1] if k < 28 else where[2] if k < 32 else where[3]
        ids.append(session.execute(insert(loans_t).values(
            {**{c: v for c, v in template.items() if c != "id"}, "application_id": new_app, "number": f"CL{k:06d}",
             "branch_id": branch, "product_code": PRODUCTS[k % 3]})).inserted_primary_key[0])
    # Deteriorating (past due, or grade D/E): most of branch 0, exactly 30 % of branch 1, all of branch 2.
    for n, loan_id in enumerate(ids):
        k = n - 2
        if 0 <= k < 18:
            bad = rng.random() < 0.6
        elif 18 <= k < 28:
            bad = (k - 18) in (0, 4, 7)  # 3 of 10: exactly the share
        elif 28 <= k < 32:
            bad = True
        else:
            bad = rng.random() < 0.2
        dpd = (rng.choice([0, 3, 40]) if bad else 0)
        grade = (rng.choice(["D", "E"]) if bad and dpd == 0 else rng.choice(["A", "B", "C"]))
        session.add(BehaviourScoreRow(institution_id=p.inst.id, loan_id=loan_id, scored_on=day, score=500 + n,
                                      grade=grade, dpd=dpd, model="test"))
        # another day: every loan deteriorating, which must not count today
        session.add(BehaviourScoreRow(institution_id=p.inst.id, loan_id=loan_id, scored_on=day - timedelta(days=1),
                                      score=300, grade="E", dpd=90, model="test"))
    session.commit()
    return p.inst.id, day


def test_the_grouped_check_raises_what_the_per_loan_check_raised(client, session, runtime, monkeypatch):
    inst_id, day = _tripping_portfolio(client, session, runtime, monkeypatch)
    want, got = _both_ways(runtime, inst_id, day)
    for key in want:
        assert got[key] == want[key], key
    # The portfolio trips the check on some groups and not on others, routed to branch and institution handlers.
    subjects = [w[1] for w in want["warnings"]]
    groups = want["counts"]["groups"]
    assert 2 <= len(subjects) < groups, (subjects, groups)
    assert any(s.startswith("branch:") for s in subjects)
    assert any(s.startswith("product:") for s in subjects)
    shares = [Decimal(json.loads(w[5])["share"]) for w in want["warnings"]]
    assert min(shares) >= Decimal("0.30")
    assert all(w[9] is not None for w in want["warnings"])

    # Committed, then done again (a resumed run): nothing raised twice, both ways.
    step = cob.steps.step("warning_concentration").whole
    assert step is not None
    raised = runtime.db.run(lambda s: dict(step(s, runtime.cob, inst_id, day)))
    assert raised["warnings"] == len(subjects)
    again_want, again_got = _both_ways(runtime, inst_id, day)
    assert again_got == again_want
    assert again_got["counts"]["warnings"] == 0
