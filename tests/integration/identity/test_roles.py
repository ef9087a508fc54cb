"""Roles and permissions: custom roles, the fixed system roles, the permission registry."""

from __future__ import annotations

import pytest

from microcredit.identity.permissions import DEFAULT_ROLES, PERMISSIONS
from tests.factories import make_institution, make_staff
from tests.integration.identity.support import API, code, signed_in

NEW_ROLE = {"code": "night_shift", "name_zh": "夜班", "name_en": "Night shift", "data_scope": "branch",
            "permissions": ["borrower.read", "branch.read"]}


@pytest.fixture
def admin(client, session, runtime, inst):
    """Auth headers of an administrator of `inst` (full session)."""
    staff = make_staff(session, runtime, inst, roles=("administrator",), password=None)
    return signed_in(session, runtime, staff.user)


def roles_by_code(client, auth):
    r = client.get(f"{API}/roles", headers=auth)
    assert r.status_code == 200, r.text
    return {role["code"]: role for role in r.json()}


def test_every_institution_has_the_default_roles(client, admin):
    roles = roles_by_code(client, admin)
    assert set(roles) == {t.code for t in DEFAULT_ROLES}
    assert all(r["is_system"] for r in roles.values())
    assert (roles["administrator"]["requires_mfa"], roles["loan_officer"]["requires_mfa"]) == (True, False)
    assert roles["borrower"]["permissions"] == ["application.apply_own", "application.read_own", "profile.read_own",
                                                "profile.update_own"]


def test_the_permission_registry(client, admin):
    r = client.get(f"{API}/permissions", headers=admin)
    assert [p["code"] for p in r.json()] == [p.code for p in PERMISSIONS]
    assert all(p["zh"] and p["en"] for p in r.json())


def test_create_update_and_delete_a_custom_role(client, admin):
    r = client.post(f"{API}/roles", headers=admin, json=NEW_ROLE)
    assert r.status_code == 201, r.text
    role = r.json()
    assert (role["is_system"], role["requires_mfa"], role["permissions"]) == (False, False,
                                                                            ["borrower.read", "branch.read"])
    r = client.patch(f"{API}/roles/{role['id']}", headers=admin,
                     json={"name_en": "Night team", "requires_mfa": True, "permissions": ["borrower.read"]})
    assert r.status_code == 200, r.text
    assert (r.json()["name_en"], r.json()["name_zh"], r.json()["requires_mfa"], r.json()["permissions"]) == \
        ("Night team", "夜班", True, ["borrower.read"])
    assert client.delete(f"{API}/roles/{role['id']}", headers=admin).status_code == 204
    assert "night_shift" not in roles_by_code(client, admin)
    r = client.patch(f"{API}/roles/{role['id']}", headers=admin, json={"name_en": "Gone"})
    assert (r.status_code, code(r)) == (404, "not_found")


def test_a_custom_role_grants_its_permissions(client, session, runtime, inst, admin):
    role = client.post(f"{API}/roles", headers=admin, json={**NEW_ROLE, "permissions": ["security.login_history"]})
    assert role.status_code == 201
    staff = make_staff(session, runtime, inst, roles=("night_shift",), password=None)
    auth = signed_in(session, runtime, staff.user)
    assert client.get(f"{API}/login-attempts", headers=auth).status_code == 200
    assert code(client.get(f"{API}/roles", headers=auth)) == "permission_denied"
    # A role that somebody holds cannot be deleted.
    r = client.delete(f"{API}/roles/{role.json()['id']}", headers=admin)
    assert (r.status_code, code(r)) == (409, "conflict")


@pytest.mark.parametrize("permissions", [["no.such.permission"], ["borrower.read", "loan.everything"]])
def test_unknown_permissions_are_refused(client, admin, permissions):
    r = client.post(f"{API}/roles", headers=admin, json={**NEW_ROLE, "permissions": permissions})
    assert (r.status_code, code(r), r.json()["field"]) == (422, "unknown_permission", "permissions")
    created = client.post(f"{API}/roles", headers=admin, json=NEW_ROLE).json()
    r = client.patch(f"{API}/roles/{created['id']}", headers=admin, json={"permissions": permissions})
    assert (r.status_code, code(r)) == (422, "unknown_permission")


def test_a_role_code_is_unique_and_well_formed(client, admin):
    assert client.post(f"{API}/roles", headers=admin, json=NEW_ROLE).status_code == 201
    r = client.post(f"{API}/roles", headers=admin, json=NEW_ROLE)
    assert (r.status_code, code(r), r.json()["field"]) == (409, "conflict", "code")
    r = client.post(f"{API}/roles", headers=admin, json={**NEW_ROLE, "code": "Night Shift"})
    assert (r.status_code, code(r), r.json()["field"]) == (422, "validation_failed", "code")


def test_system_roles_cannot_be_deleted(client, admin):
    for role in roles_by_code(client, admin).values():
        r = client.delete(f"{API}/roles/{role['id']}", headers=admin)
        assert (r.status_code, code(r)) == (409, "conflict"), role["code"]


@pytest.mark.parametrize("change", [{"permissions": ["profile.read_own", "borrower.read"]},
                                    {"permissions": []},
                                    {"requires_mfa": True},
                                    {"data_scope": "institution"}])
def test_the_borrower_role_is_fixed(client, admin, change):
    borrower = roles_by_code(client, admin)["borrower"]
    r = client.patch(f"{API}/roles/{borrower['id']}", headers=admin, json=change)
    assert (r.status_code, code(r)) == (409, "conflict"), r.text
    after = roles_by_code(client, admin)["borrower"]
    assert after == borrower


def test_the_borrower_role_may_be_renamed(client, admin):
    borrower = roles_by_code(client, admin)["borrower"]
    r = client.patch(f"{API}/roles/{borrower['id']}", headers=admin,
                     json={"name_zh": "客户", "requires_mfa": False, "data_scope": "own"})  # unchanged values
    assert r.status_code == 200
    assert r.json()["name_zh"] == "客户"


def test_only_the_platform_may_grant_the_all_institutions_scope(client, admin):
    r = client.post(f"{API}/roles", headers=admin, json={**NEW_ROLE, "data_scope": "all"})
    assert r.status_code == 422
    assert r.json()["field"] == "data_scope"


def test_roles_of_another_institution_are_out_of_reach(client, session, runtime, admin):
    other = make_institution(session, runtime)
    other_admin = make_staff(session, runtime, other, roles=("administrator",), password=None)
    theirs = roles_by_code(client, signed_in(session, runtime, other_admin.user))["loan_officer"]
    for r in (client.patch(f"{API}/roles/{theirs['id']}", headers=admin, json={"name_en": "Mine now"}),
              client.delete(f"{API}/roles/{theirs['id']}", headers=admin)):
        assert (r.status_code, code(r)) == (404, "not_found")
    r = client.get(f"{API}/roles", headers=admin, params={"institution_id": other.id})
    assert (r.status_code, code(r)) == (404, "not_found")


def test_managing_roles_needs_role_manage(client, session, runtime, inst):
    manager = make_staff(session, runtime, inst, roles=("branch_manager",), password=None)
    auth = signed_in(session, runtime, manager.user)
    assert client.get(f"{API}/roles", headers=auth).status_code == 200  # role.read
    r = client.post(f"{API}/roles", headers=auth, json=NEW_ROLE)
    assert (r.status_code, code(r)) == (403, "permission_denied")
    officer = make_staff(session, runtime, inst, roles=("loan_officer",), password=None)
    r = client.get(f"{API}/permissions", headers=signed_in(session, runtime, officer.user))
    assert (r.status_code, code(r)) == (403, "permission_denied")
