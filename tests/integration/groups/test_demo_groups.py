"""The demo's group lending, made by the real operations: one group application every member consented
to (submitted, each member's application decided, the guarantees recorded), one waiting for a member."""

from __future__ import annotations

from sqlalchemy import select

from microcredit import demo
from microcredit.origination.models import Application, ApplicationGuarantor, GroupApplication, GroupApplicationMember


def test_the_demo_has_a_decided_group_application_and_one_waiting(session, runtime):
    demo.seed(session=session, kit=runtime.identity)
    gas = {ga.group_name: ga for ga in session.scalars(select(GroupApplication))}
    assert {n: ga.status for n, ga in gas.items()} == {"城关联保一组": "submitted", "城关联保二组": "awaiting_consent"}
    for name, consents, statuses in (("城关联保一组", ["consented"] * 3, None),
                                     ("城关联保二组", ["consented", "consented", "pending"], {"awaiting_consent"})):
        parts = list(session.scalars(select(GroupApplicationMember).where(
            GroupApplicationMember.group_application_id == gas[name].id).order_by(GroupApplicationMember.id)))
        assert [p.consent for p in parts] == consents
        apps = {a.status for a in session.scalars(select(Application).where(
            Application.id.in_([p.application_id for p in parts])))}
        if statuses is None:
            assert apps <= {"approved", "declined", "referred", "returned"}
            guarantees = session.scalars(select(ApplicationGuarantor).where(
                ApplicationGuarantor.group_application_id == gas[name].id)).all()
            assert len(guarantees) == 6  # each of three guaranteed by the two others
        else:
            assert apps == statuses
    # Seeding again changes nothing (the demo is made once).
    demo.seed(session=session, kit=runtime.identity)
    assert len(session.scalars(select(GroupApplication)).all()) == 2
