"""Staff: create (no password: first sign-in by SMS code), edit, roles, disable/enable, unlock, second factor."""

from __future__ import annotations

from datetime import timedelta

from microcredit.identity.models import LoginThrottle
from tests.factories import PASSWORD, institution_header, last_sms_code, make_staff
from tests.integration.helpers import assert_problem, audit_records, signed_in, workbook_rows


def _login(client, inst, phone, password=PASSWORD):
    return client.post("/api/v1/auth/login", headers=institution_header(inst),
                       json={"phone": phone, "password": password, "kind": "staff"})


def test_a_new_employee_has_no_password_and_signs_in_first_by_sms_code(client, session, staff_as, org):
    admin, h = staff_as("administrator")
    r = client.post("/api/v1/staff", headers=h, json={
        "name": "李新", "employee_number": "E-100", "phone": "139 0012 3456", "position": "客户经理",
        "email": "li.xin@example.com", "branch_id": org.a.id, "roles": ["loan_officer"]})
    assert r.status_code == 201, r.text
    staff = r.json()
    assert {k: staff[k] for k in ("name", "employee_number", "position", "branch_id", "roles", "status", "locked",
                                  "totp_enabled", "phone_masked", "last_login_at")} == {
        "name": "李新", "employee_number": "E-100", "position": "客户经理", "branch_id": org.a.id,
        "roles": ["loan_officer"], "status": "active", "locked": False, "totp_enabled": False,
        "phone_masked": "139****3456", "last_login_at": None}
    [record] = audit_records(session, "staff.created", staff["id"])
    assert (record.actor_user_id, record.after["roles"]) == (admin.user.id, ["loan_officer"])

    assert_problem(_login(client, org.inst, "13900123456", "any password at all"), 401)
    sent = client.post("/api/v1/auth/sms-codes", headers=institution_header(org.inst),
                       json={"phone": "13900123456", "purpose": "login", "kind": "staff"})
    assert sent.status_code == 202, sent.text
    code = last_sms_code(client, "13900123456")
    r = client.post("/api/v1/auth/login/sms", headers=institution_header(org.inst),
                    json={"phone": "13900123456", "code": code, "kind": "staff"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "authenticated"
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {r.json()['token']}"}).json()
    assert (me["staff_id"], me["roles"], me["has_password"], me["branch_id"]) == (
        staff["id"], ["loan_officer"], False, org.a.id)


def test_creating_staff_refuses_bad_input(client, staff_as, org):
    existing, h = staff_as("collector")
    _, h = staff_as("administrator")
    base = {"name": "王五", "employee_number": "E-200", "phone": "13900200000", "roles": ["collector"]}
    cases = [
        ({"roles": ["no_such_role"]}, 422, "unknown_role", "roles"),
        ({"roles": ["borrower"]}, 422, "unknown_role", "roles"),
        ({"phone": existing.phone}, 409, "phone_already_registered", "phone"),
        ({"phone": "12345"}, 422, "validation_failed", "phone"),
        ({"branch_id": 999999999}, 404, "not_found", "branch_id"),
        ({"password": "chosen-by-admin"}, 422, "validation_failed", "password"),
    ]
    for change, status, code, field in cases:
        body = assert_problem(client.post("/api/v1/staff", headers=h, json={**base, **change}), status)
        assert (body["code"], body["field"] or body["errors"][0]["field"]) == (code, field), change
    assert client.post("/api/v1/staff", headers=h, json=base).status_code == 201
    taken = assert_problem(client.post("/api/v1/staff", headers=h, json={**base, "phone": "13900200001"}), 409)
    assert (taken["code"], taken["field"]) == ("code_taken", "employee_number")


def test_editing_staff_is_audited_and_a_role_change_ends_their_sessions(client, session, runtime, staff_as, org):
    admin, h = staff_as("administrator")
    member, member_h = staff_as("loan_officer", branch=org.a)
    assert client.get("/api/v1/borrowers", headers=member_h).status_code == 200

    r = client.patch(f"/api/v1/staff/{member.staff_id}", headers=h,
                     json={"position": "高级客户经理", "branch_id": org.b.id})
    assert r.status_code == 200, r.text
    assert (r.json()["position"], r.json()["branch_id"]) == ("高级客户经理", org.b.id)
    assert client.get("/api/v1/borrowers", headers=member_h).status_code == 200  # no role change: still signed in

    r = client.patch(f"/api/v1/staff/{member.staff_id}", headers=h, json={"roles": ["collector", "risk_officer"]})
    assert r.status_code == 200, r.text
    assert r.json()["roles"] == ["collector", "risk_officer"]
    assert assert_problem(client.get("/api/v1/borrowers", headers=member_h), 401)["code"] == "session_expired"
    records = audit_records(session, "staff.updated", member.staff_id)
    assert [(x.before, x.after) for x in records] == [
        ({"position": None, "branch_id": org.a.id}, {"position": "高级客户经理", "branch_id": org.b.id}),
        ({"roles": ["loan_officer"]}, {"roles": ["collector", "risk_officer"]}),
    ]
    assert all(x.actor_user_id == admin.user.id for x in records)
    session.expire_all()
    fresh = signed_in(session, runtime, member.user)
    session.commit()
    me = client.get("/api/v1/auth/me", headers=fresh).json()
    assert "borrower.register" not in me["permissions"]
    assert "risk.manage" in me["permissions"]

    own = assert_problem(client.patch(f"/api/v1/staff/{admin.staff_id}", headers=h,
                                      json={"roles": ["auditor"]}), 403)
    assert own["code"] == "permission_denied"
    nothing = assert_problem(client.patch(f"/api/v1/staff/{member.staff_id}", headers=h,
                                          json={"position": "高级客户经理"}), 422)
    assert nothing["code"] == "nothing_to_change"


def test_disabling_ends_sessions_and_refuses_sign_in_until_enabled(client, session, runtime, staff_as, org):
    _, h = staff_as("administrator")
    member, member_h = staff_as("collector", branch=org.a, password=PASSWORD)
    assert _login(client, org.inst, member.phone).status_code == 200

    r = client.post(f"/api/v1/staff/{member.staff_id}/disable", headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "disabled"
    assert assert_problem(client.get("/api/v1/auth/me", headers=member_h), 401)["code"] == "session_expired"
    assert assert_problem(_login(client, org.inst, member.phone), 403)["code"] == "account_disabled"
    [record] = audit_records(session, "user.disabled", member.user.id)
    assert (record.before, record.after) == ({"status": "active"}, {"status": "disabled"})
    listed = client.get("/api/v1/staff", headers=h, params={"q": member.user.display_name}).json()
    assert [s["status"] for s in listed["items"]] == ["disabled"]

    r = client.post(f"/api/v1/staff/{member.staff_id}/enable", headers=h)
    assert (r.status_code, r.json()["status"]) == (200, "active")
    assert _login(client, org.inst, member.phone).status_code == 200
    assert audit_records(session, "user.enabled", member.user.id)
    admin_staff_id = client.get("/api/v1/auth/me", headers=h).json()["staff_id"]
    assert assert_problem(client.post(f"/api/v1/staff/{admin_staff_id}/disable", headers=h), 403)


def test_unlocking_lifts_a_lockout(client, session, runtime, clock, staff_as, org):
    manager, h = staff_as("branch_manager")
    member = make_staff(session, runtime, org.inst, roles=("collector",), branch=org.a)
    session.add(LoginThrottle(institution_id=org.inst.id, kind="staff", identifier_index=member.user.phone_index,
                              failures=5, last_failure_at=clock.now(),
                              locked_until=clock.now() + timedelta(minutes=30)))
    session.commit()
    assert client.get(f"/api/v1/staff/{member.staff_id}", headers=h).json()["locked"] is True
    listed = client.get("/api/v1/staff", headers=h, params={"locked": True}).json()
    assert [s["id"] for s in listed["items"]] == [member.staff_id]  # the manager themself is not locked
    assert assert_problem(_login(client, org.inst, member.phone), 423)["code"] == "account_locked"

    r = client.post(f"/api/v1/staff/{member.staff_id}/unlock", headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["locked"] is False
    assert client.get("/api/v1/staff", headers=h, params={"locked": True}).json()["total"] == 0
    [record] = audit_records(session, "user.unlocked", member.user.id)
    assert (record.actor_user_id, record.after) == (manager.user.id, {"was_locked": True})
    assert _login(client, org.inst, member.phone).status_code == 200


def test_resetting_the_second_factor_ends_sessions(client, session, runtime, staff_as, org):
    _, h = staff_as("administrator")
    member = make_staff(session, runtime, org.inst, roles=("approver_l3",), password=None, totp=True)
    member_h = signed_in(session, runtime, member.user)
    session.commit()
    assert client.get(f"/api/v1/staff/{member.staff_id}", headers=h).json()["totp_enabled"] is True
    r = client.post(f"/api/v1/staff/{member.staff_id}/reset-second-factor", headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["totp_enabled"] is False
    assert assert_problem(client.get("/api/v1/auth/me", headers=member_h), 401)["code"] == "session_expired"
    assert audit_records(session, "user.totp_reset", member.user.id)
    session.expire_all()
    assert (member.user.totp_enabled, member.user.totp_secret_ciphertext) == (False, None)


def test_staff_list_filters_pages_and_exports(client, session, runtime, staff_as, org):
    _, h = staff_as("administrator")
    for _n in range(3):
        make_staff(session, runtime, org.inst, roles=("collector",), branch=org.a, password=None)
    make_staff(session, runtime, org.inst, roles=("finance",), branch=org.b, password=None)
    session.commit()
    everyone = client.get("/api/v1/staff", headers=h, params={"page_size": 2}).json()
    assert (everyone["total"], len(everyone["items"])) == (5, 2)
    collectors = client.get("/api/v1/staff", headers=h, params={"role": "collector"}).json()
    assert (collectors["total"], {s["roles"][0] for s in collectors["items"]}) == (3, {"collector"})
    in_b = client.get("/api/v1/staff", headers=h, params={"branch_id": org.b.id}).json()
    assert [s["roles"] for s in in_b["items"]] == [["finance"]]
    named = client.get("/api/v1/staff", headers=h, params={"sort": "-employee_number"}).json()["items"]
    numbers = [s["employee_number"] for s in named]
    assert numbers == sorted(numbers, reverse=True)
    body = assert_problem(client.get("/api/v1/staff", headers=h, params={"sort": "phone"}), 422)
    assert body["errors"][0]["field"] == "sort"

    rows = workbook_rows(client.get("/api/v1/staff/export", headers=h, params={"role": "collector"}))
    assert rows[0] == ("工号", "姓名", "职位", "网点", "手机", "角色", "状态", "已锁定", "最近登录(UTC)")
    assert len(rows) == 4
    assert {r[5] for r in rows[1:]} == {"collector"}
    assert all("****" in r[4] for r in rows[1:])
