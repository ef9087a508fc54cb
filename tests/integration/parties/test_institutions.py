"""Institutions and the business date."""

from __future__ import annotations

import base64
import os

from fastapi.testclient import TestClient
from pydantic import SecretStr

from microcredit.api.app import create_app
from microcredit.config import Mode, SecuritySettings
from microcredit.identity.permissions import DEFAULT_ROLES
from microcredit.runtime import build_runtime
from tests.conftest import make_settings
from tests.factories import make_institution, make_staff
from tests.integration.helpers import assert_problem, audit_records, signed_in, snapshot

NEW = {"code": "JXRCC", "name": "江西某农村信用合作社", "kind": "rural_credit_cooperative",
       "business_date": "2026-11-25", "contact_phone": "0791-8888", "address": "南昌市"}


def test_a_platform_administrator_creates_an_institution_with_the_default_roles(client, session, runtime):
    platform = make_institution(session, runtime, platform=True)
    admin = make_staff(session, runtime, platform, roles=("administrator",), password=None)
    h = signed_in(session, runtime, admin.user)
    session.commit()

    r = client.post("/api/v1/institutions", json=NEW, headers=h)
    assert r.status_code == 201, r.text
    created = r.json()
    assert {k: created[k] for k in NEW} == NEW
    assert (created["status"], created["currency"], created["timezone"]) == ("active", "CNY", "Asia/Shanghai")
    roles = client.get("/api/v1/roles", headers=h, params={"institution_id": created["id"]}).json()
    assert sorted(role["code"] for role in roles) == sorted(t.code for t in DEFAULT_ROLES)
    [record] = audit_records(session, "institution.created", created["id"])
    assert record.actor_user_id == admin.user.id
    assert record.after == {"code": "JXRCC", "name": NEW["name"], "business_date": "2026-11-25"}

    assert client.get(f"/api/v1/institutions/{created['id']}", headers=h).json()["code"] == "JXRCC"
    listed = client.get("/api/v1/institutions", headers=h).json()
    assert {platform.id, created["id"]} <= {i["id"] for i in listed["items"]}

    again = assert_problem(client.post("/api/v1/institutions", json=NEW, headers=h), 409)
    assert (again["code"], again["field"]) == ("code_taken", "code")
    bad = assert_problem(client.post("/api/v1/institutions", json={**NEW, "code": "lower case"}, headers=h), 422)
    assert [e["field"] for e in bad["errors"]] == ["code"]


def test_an_institutions_own_administrator_does_not_create_institutions(client, session, runtime, org):
    admin = make_staff(session, runtime, org.inst, roles=("administrator",), password=None)
    h = signed_in(session, runtime, admin.user)
    session.commit()
    before = snapshot(runtime.db)
    body = assert_problem(client.post("/api/v1/institutions", json=NEW, headers=h), 403)
    assert body["code"] == "permission_denied"
    assert before.diff(snapshot(runtime.db)) == {}
    listed = client.get("/api/v1/institutions", headers=h).json()
    assert (listed["total"], [i["id"] for i in listed["items"]]) == (1, [org.inst.id])


def test_staff_of_every_scope_read_their_own_institution(client, session, staff_as, org):
    for role, branch in (("loan_officer", org.a), ("collector", org.b), ("risk_officer", None)):
        _, h = staff_as(role, branch=branch)
        r = client.get(f"/api/v1/institutions/{org.inst.id}", headers=h)
        assert r.status_code == 200, (role, r.text)
        assert r.json()["code"] == org.inst.code
        assert [i["id"] for i in client.get("/api/v1/institutions", headers=h).json()["items"]] == [org.inst.id]


def test_an_administrator_updates_the_institution_with_before_and_after_in_the_audit(client, session, staff_as,
                                                                                      org):
    admin, h = staff_as("administrator")
    r = client.patch(f"/api/v1/institutions/{org.inst.id}", headers=h,
                     json={"name": "新名称小贷公司", "address": "新地址 8 号"})
    assert r.status_code == 200, r.text
    assert (r.json()["name"], r.json()["address"]) == ("新名称小贷公司", "新地址 8 号")
    [record] = audit_records(session, "institution.updated", org.inst.id)
    assert record.before == {"name": "测试机构", "address": None}
    assert record.after == {"name": "新名称小贷公司", "address": "新地址 8 号"}
    assert record.actor_user_id == admin.user.id

    same = assert_problem(client.patch(f"/api/v1/institutions/{org.inst.id}", headers=h,
                                       json={"name": "新名称小贷公司"}), 422)
    assert same["code"] == "nothing_to_change"
    bad = assert_problem(client.patch(f"/api/v1/institutions/{org.inst.id}", headers=h,
                                      json={"status": "deleted"}), 422)
    assert [e["field"] for e in bad["errors"]] == ["status"]
    unknown = assert_problem(client.patch(f"/api/v1/institutions/{org.inst.id}", headers=h,
                                          json={"code": "HACKED"}), 422)
    assert [e["field"] for e in unknown["errors"]] == ["code"]


def test_the_business_date_moves_by_hand_in_test_mode(client, session, staff_as, org):
    _, h = staff_as("administrator")
    r = client.put(f"/api/v1/institutions/{org.inst.id}/business-date", headers=h,
                   json={"business_date": "2026-12-01"})
    assert r.status_code == 200, r.text
    assert r.json()["business_date"] == "2026-12-01"
    [record] = audit_records(session, "business_date.set", org.inst.id)
    assert (record.before, record.after) == ({"business_date": "2026-11-25"}, {"business_date": "2026-12-01"})
    me = client.get("/api/v1/auth/me", headers=h).json()
    assert me["institution"]["business_date"] == "2026-12-01"


def _key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def test_production_refuses_to_move_the_business_date(worker_tmp, database, clock):
    settings = make_settings(
        worker_tmp, mode=Mode.PRODUCTION, database_url="postgresql://db.internal/microcredit",
        oauth_simulators=False, sms_simulator=False, payments_callback_secret=SecretStr(_key()),
        security=SecuritySettings(field_keys=SecretStr(f"prod-1:{_key()}"), blind_index_key=SecretStr(_key()),
                                  secret_key=SecretStr(_key())))
    runtime = build_runtime(settings, database=database, clock=clock)
    session = database.session()
    inst = make_institution(session, runtime)
    admin = make_staff(session, runtime, inst, roles=("administrator",), password=None)
    h = signed_in(session, runtime, admin.user)
    session.commit()
    with TestClient(create_app(runtime=runtime)) as client:
        before = snapshot(database)
        body = assert_problem(client.put(f"/api/v1/institutions/{inst.id}/business-date", headers=h,
                                         json={"business_date": "2026-12-01"}), 409)
        assert body["code"] == "business_date_locked"
        assert before.diff(snapshot(database)) == {}
        assert client.get(f"/api/v1/institutions/{inst.id}", headers=h).json()["business_date"] == "2026-11-25"
        assert client.get("/_sim/sms").status_code == 404  # no simulators in production
    session.close()


def test_the_platform_sets_up_a_new_institution_through_the_api(client, session, runtime):
    platform = make_institution(session, runtime, platform=True)
    root = make_staff(session, runtime, platform, roles=("administrator",), password=None)
    h = signed_in(session, runtime, root.user)
    session.commit()
    inst = client.post("/api/v1/institutions", headers=h, json={**NEW, "code": "NEWCO"}).json()
    branch = client.post("/api/v1/branches", headers=h, json={"code": "HQ", "name": "总部营业部",
                                                              "institution_id": inst["id"]})
    assert (branch.status_code, branch.json()["institution_id"]) == (201, inst["id"])
    admin = client.post("/api/v1/staff", headers=h, json={
        "name": "新机构管理员", "employee_number": "A1", "phone": "13911112222", "roles": ["administrator"],
        "institution_id": inst["id"], "branch_id": branch.json()["id"]})
    assert admin.status_code == 201, admin.text
    assert admin.json()["institution_id"] == inst["id"]
    in_platform = client.get("/api/v1/branches", headers=h, params={"institution_id": inst["id"]}).json()
    assert [b["code"] for b in in_platform["items"]] == ["HQ"]
    wrong_branch = assert_problem(client.post("/api/v1/staff", headers=h, json={
        "name": "错网点", "employee_number": "A2", "phone": "13911113333", "roles": ["collector"],
        "institution_id": inst["id"], "branch_id": make_branch_id(client, h)}), 404)
    assert wrong_branch["field"] == "branch_id"


def make_branch_id(client, h) -> int:
    """A branch of the platform's own institution."""
    r = client.post("/api/v1/branches", headers=h, json={"code": "PLAT", "name": "平台网点"})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])
