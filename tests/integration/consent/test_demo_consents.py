"""The demo's borrowers carry the three consents, recorded by the same operation registration uses."""

from __future__ import annotations

from sqlalchemy import select

from microcredit import demo
from microcredit.consent import service as consent
from microcredit.parties.models import Borrower
from tests.factories import CONSENTS


def test_every_demo_borrower_has_the_three_consents_of_their_channel(session, runtime):
    demo.seed(session=session, kit=runtime.identity)
    borrowers = list(session.scalars(select(Borrower).where(Borrower.phone_masked.like("139****1%"))))
    assert len(borrowers) == len(demo.BORROWERS)
    for b in borrowers:
        records = consent.records_of_borrower(session=session, borrower_id=b.id)
        expected = "online" if b.channel == "online" else "walk_in"
        assert {(r.kind, r.version, r.channel) for r in records} == {(k, v, expected) for k, v in CONSENTS.items()}
        assert all(r.user_id == b.user_id and r.withdrawn_at is None for r in records)
