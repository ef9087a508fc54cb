"""The demo shows the review in levels: an application approved through three levels by three people,
one waiting at level 2, one counter-offered, and a human review requested -- made by the services."""

from __future__ import annotations

from sqlalchemy import select

from microcredit import demo
from microcredit.origination.models import Application, ApplicationReview
from microcredit.platform.storage import LocalStorage


def test_the_demo_has_applications_in_every_review_state(session, runtime, tmp_path):
    storage = LocalStorage(tmp_path / "files")
    demo.seed(session=session, kit=runtime.identity, storage=storage, document_policy=runtime.settings.documents)
    apps = session.scalars(select(Application).order_by(Application.id)).all()
    statuses = [a.status for a in apps]
    assert {"approved", "referred", "counter_offered", "human_review"} <= set(statuses), statuses

    three = next(a for a in apps if a.levels_required == 3 and a.status == "approved")
    acts = session.scalars(select(ApplicationReview).where(ApplicationReview.application_id == three.id)
                           .order_by(ApplicationReview.level)).all()
    assert [(r.level, r.action) for r in acts] == [(1, "approve"), (2, "approve"), (3, "approve")]
    assert len({r.user_id for r in acts}) == 3
    assert three.annual_rate_percent is not None

    assert [a.review_level for a in apps if a.status == "referred"] == [2]
    offered = next(a for a in apps if a.status == "counter_offered")
    assert offered.counter_amount is not None
    assert offered.counter_amount < offered.amount
    asked = next(a for a in apps if a.status == "human_review")
    assert (asked.decision, asked.human_review, asked.review_level) == ("decline", True, 1)
