"""Every member of a group consenting at the same moment, against a real committing database of each
kind: no answer is a 5xx, each member's application is submitted exactly once (the group application
is locked before its members' applications, so the answers queue), and each carries its guarantees."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from microcredit.origination.models import Application, ApplicationEvent, ApplicationGuarantor
from microcredit.runtime import Runtime
from tests.factories import institution_header, make_borrower, make_branch, make_staff
from tests.integration.helpers import signed_in
from tests.integration.origination.support import publish_product
from tests.integration.test_concurrency import _at_once, client, live  # noqa: F401 (the fixtures)


def test_all_members_consenting_at_once(live: tuple[Runtime, Any], client: TestClient) -> None:  # noqa: F811
    runtime, inst = live
    with runtime.db.session() as session:
        branch = make_branch(session, runtime, inst)
        publish_product(session, runtime, inst, code="GRPX", group_lending=True)
        officer = make_staff(session, runtime, inst, roles=("loan_officer",), branch=branch)
        people = [make_borrower(session, runtime, inst, branch=branch) for _ in range(4)]
        ho = {**signed_in(session, runtime, officer.user), **institution_header(inst)}
        hb = [{**signed_in(session, runtime, p.user), **institution_header(inst)} for p in people]
        session.commit()
        ids = [p.borrower.id for p in people]
    group = client.post("/api/v1/groups", headers=ho, json={"name": "并发组", "member_ids": ids, "leader_id": ids[0]})
    assert group.status_code == 201, group.text
    r = client.post("/api/v1/group-applications", headers=ho, json={
        "group_id": group.json()["id"], "product_code": "GRPX", "term": 6, "repayment_method": "equal_installment",
        "purpose": "agriculture", "members": [{"borrower_id": i, "amount": "5000.00"} for i in ids]})
    assert r.status_code == 201, r.text
    apps = [m["application_id"] for m in r.json()["members"]]
    responses = _at_once([
        (lambda i=i: client.post(f"/api/v1/me/applications/{apps[i]}/consent", headers=hb[i],
                                 json={"agree_joint_liability": True}))
        for i in range(4)])
    assert [x.status_code for x in responses] == [200] * 4, [x.text for x in responses]
    assert sorted(x.json()["status"] for x in responses).count("submitted") >= 1
    with runtime.db.session() as session:
        statuses = set(session.scalars(select(Application.status).where(Application.id.in_(apps))))
        assert "awaiting_consent" not in statuses
        submitted = session.scalar(select(func.count()).select_from(ApplicationEvent).where(
            ApplicationEvent.application_id.in_(apps), ApplicationEvent.to_status == "submitted"))
        assert submitted == 4  # once each
        assert session.scalar(select(func.count()).select_from(ApplicationGuarantor).where(
            ApplicationGuarantor.application_id.in_(apps))) == 12
