"""Online registrants get a branch by the institution's rule; staff see and move the unassigned ones.

(A branch-scoped loan officer sees only their branch: before this, online
registrants had no branch, so no officer ever saw them or their pending profile
changes.)
"""

from __future__ import annotations

from microcredit.parties import service as parties
from microcredit.platform.actor import Actor
from tests.factories import (
    CONSENTS,
    institution_header,
    last_sms_code,
    make_branch,
    make_institution,
    next_id_number,
    next_phone,
)
from tests.integration.helpers import assert_problem

PASSWORD = "A-Registration-Passphrase"


def register(client, inst, *, region: str, province: str | None = None) -> dict:
    phone = next_phone()
    r = client.post("/api/v1/auth/sms-codes", headers=institution_header(inst),
                    json={"phone": phone, "purpose": "register"})
    assert r.status_code == 202, r.text
    body = {"phone": phone, "sms_code": last_sms_code(client, phone), "real_name": "新客户",
            "id_number": next_id_number(region=region), "password": PASSWORD,
            "consents": CONSENTS}
    if province:
        body["province"] = province
    r = client.post("/api/v1/auth/register", headers=institution_header(inst), json=body)
    assert r.status_code == 202, r.text
    r = client.post("/api/v1/auth/login", headers=institution_header(inst),
                    json={"phone": phone, "password": PASSWORD, "kind": "borrower"})
    assert r.status_code == 200, r.text
    token = r.json()["token"]
    borrower = client.get("/api/v1/me/profile", headers={"Authorization": f"Bearer {token}"}).json()
    return {"borrower": borrower, "login": {"token": token}}


def ids(r) -> list[int]:
    assert r.status_code == 200, r.text
    return [b["id"] for b in r.json()["items"]]


def test_an_online_registrant_lands_in_the_branch_of_their_region_and_its_officer_sees_them(
        client, session, runtime, staff_as):
    inst = make_institution(session, runtime)
    east = make_branch(session, runtime, inst, region_code="360102")
    lake = make_branch(session, runtime, inst, region_code="360111")
    _, east_officer = staff_as("loan_officer", branch=east, inst=inst)
    _, lake_officer = staff_as("loan_officer", branch=lake, inst=inst)

    reg = register(client, inst, region="360111")
    borrower = reg["borrower"]
    assert (borrower["branch_id"], borrower["branch_assignment"]) == (lake.id, "region")
    assert borrower["id"] in ids(client.get("/api/v1/borrowers", headers=lake_officer))
    assert borrower["id"] not in ids(client.get("/api/v1/borrowers", headers=east_officer))

    # their credit-relevant edit waits in that branch's review queue
    me = {"Authorization": f"Bearer {reg['login']['token']}"}
    assert client.patch("/api/v1/me/profile", headers=me, json={"monthly_income": "6500.00"}).status_code == 200
    queue = client.get("/api/v1/profile-changes", headers=lake_officer).json()["items"]
    assert [c["borrower_id"] for c in queue] == [borrower["id"]]
    assert client.get("/api/v1/profile-changes", headers=east_officer).json()["items"] == []


def test_without_a_branch_in_the_region_the_default_branch_takes_them(client, session, runtime, staff_as):
    inst = make_institution(session, runtime)
    east = make_branch(session, runtime, inst, region_code="360102")
    lake = make_branch(session, runtime, inst, region_code="360111")
    parties.organisation.update_institution_as(session=session, clock=runtime.clock, actor=Actor.system(inst.id),
                                               institution_id=inst.id, default_branch_id=lake.id)
    session.commit()
    beijing = register(client, inst, region="110105")["borrower"]
    assert (beijing["branch_id"], beijing["branch_assignment"]) == (lake.id, "default")
    # registered in Beijing, living in Jiangxi: the stated province; both Nanchang branches are as near,
    # and the default is one of them
    moved = register(client, inst, region="110105", province="江西省")["borrower"]
    assert (moved["branch_id"], moved["branch_assignment"]) == (lake.id, "region")
    assert east.id != lake.id


def test_the_unassigned_are_listed_for_managers_who_move_them_with_their_pending_change(
        client, session, runtime, staff_as):
    inst = make_institution(session, runtime)
    east = make_branch(session, runtime, inst, region_code="360102")
    parties.organisation.update_institution_as(session=session, clock=runtime.clock, actor=Actor.system(inst.id),
                                               institution_id=inst.id, online_branch_rule="none")
    session.commit()
    _, manager = staff_as("branch_manager", inst=inst)
    _, officer = staff_as("loan_officer", branch=east, inst=inst)
    _, admin = staff_as("administrator", inst=inst)

    reg = register(client, inst, region="360102")
    borrower = reg["borrower"]
    assert (borrower["branch_id"], borrower["branch_assignment"]) == (None, None)
    me = {"Authorization": f"Bearer {reg['login']['token']}"}
    assert client.patch("/api/v1/me/profile", headers=me, json={"occupation": "个体户"}).status_code == 200

    assert ids(client.get("/api/v1/borrowers", headers=manager, params={"unassigned": True})) == [borrower["id"]]
    assert ids(client.post("/api/v1/borrowers/search", headers=manager, json={"unassigned": True})) == [borrower["id"]]
    assert ids(client.get("/api/v1/borrowers", headers=officer)) == []
    # the administrator reviews what waits anywhere in the institution
    waiting = client.get("/api/v1/profile-changes", headers=admin)
    assert [c["borrower_id"] for c in waiting.json()["items"]] == [borrower["id"]]

    r = client.patch(f"/api/v1/borrowers/{borrower['id']}", headers=manager, json={"branch_id": east.id})
    assert r.status_code == 200, r.text
    assert (r.json()["branch_id"], r.json()["branch_assignment"]) == (east.id, "staff")
    assert ids(client.get("/api/v1/borrowers", headers=manager, params={"unassigned": True})) == []
    assert ids(client.get("/api/v1/borrowers", headers=officer)) == [borrower["id"]]
    queue = client.get("/api/v1/profile-changes", headers=officer).json()["items"]
    assert [c["borrower_id"] for c in queue] == [borrower["id"]]
    change = queue[0]["id"]
    approved = client.post(f"/api/v1/profile-changes/{change}/approve", headers=admin, json={})
    assert (approved.status_code, approved.json()["status"]) == (200, "approved")


def test_the_default_branch_must_be_an_open_branch_of_the_institution(client, session, runtime, staff_as):
    inst = make_institution(session, runtime)
    other = make_institution(session, runtime)
    foreign = make_branch(session, runtime, other)
    own = make_branch(session, runtime, inst)
    session.commit()
    _, admin = staff_as("administrator", inst=inst)
    url = f"/api/v1/institutions/{inst.id}"
    refused = assert_problem(client.patch(url, headers=admin, json={"default_branch_id": foreign.id}), 404)
    assert refused["field"] == "default_branch_id"
    r = client.patch(url, headers=admin, json={"default_branch_id": own.id, "online_branch_rule": "default"})
    assert (r.status_code, r.json()["default_branch_id"], r.json()["online_branch_rule"]) == (200, own.id, "default")
    bad = assert_problem(client.patch(url, headers=admin, json={"online_branch_rule": "nearest"}), 422)
    assert bad["field"] == "online_branch_rule"
