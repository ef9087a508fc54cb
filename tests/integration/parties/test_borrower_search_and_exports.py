"""Searching by identifiers keeps them out of URLs; every staff list exports to Excel."""

from __future__ import annotations

from datetime import timedelta

from microcredit.identity.models import LoginThrottle
from tests.factories import make_borrower
from tests.integration.helpers import assert_problem, signed_in, workbook_rows


def test_full_identifiers_are_searched_in_the_body_and_refused_in_the_url(client, session, runtime, staff_as, org):
    _, h = staff_as("branch_manager")
    someone = make_borrower(session, runtime, org.inst, branch=org.a, password=None, real_name="赵云")
    session.commit()

    found = client.post("/api/v1/borrowers/search", headers=h, json={"q": someone.id_number})
    assert [b["id"] for b in found.json()["items"]] == [someone.borrower.id]
    assert found.json()["items"][0]["id_number_masked"] != someone.id_number  # answers stay masked
    for identifier in (someone.id_number, someone.phone, f"{someone.phone[:3]} {someone.phone[3:]}"):
        for url in ("/api/v1/borrowers", "/api/v1/borrowers/export"):
            problem = assert_problem(client.get(url, headers=h, params={"q": identifier}), 422)
            assert problem["code"] == "identifier_in_query"
            assert problem["field"] == "q"
    tail = client.get("/api/v1/borrowers", headers=h, params={"q": someone.id_number[-4:]})
    assert [b["id"] for b in tail.json()["items"]] == [someone.borrower.id]


def test_the_search_exports_what_it_finds(client, session, runtime, staff_as, org):
    _, h = staff_as("branch_manager")
    make_borrower(session, runtime, org.inst, branch=org.a, password=None, real_name="导出甲")
    other = make_borrower(session, runtime, org.inst, branch=org.b, password=None, real_name="导出乙")
    session.commit()
    rows = workbook_rows(client.post("/api/v1/borrowers/search/export", headers=h, json={"q": other.phone}))
    assert rows[0][1] == "姓名"
    assert [r[1] for r in rows[1:]] == ["导出乙"]


def test_institutions_profile_changes_and_roles_export(client, session, runtime, staff_as, org):
    _, admin = staff_as("administrator")
    _, officer = staff_as("loan_officer", branch=org.a)
    borrower = make_borrower(session, runtime, org.inst, branch=org.a, real_name="变更人")
    bh = signed_in(session, runtime, borrower.user)
    session.commit()
    assert client.patch("/api/v1/me/profile", headers=bh, json={"monthly_income": "8800.00"}).status_code == 200

    institutions = workbook_rows(client.get("/api/v1/institutions/export", headers=admin))
    assert [r[0] for r in institutions[1:]] == [org.inst.code]
    changes = workbook_rows(client.get("/api/v1/profile-changes/export", headers=officer))
    assert changes[0][:3] == ("编号", "借款人", "变更内容")
    assert [(r[1], r[3]) for r in changes[1:]] == [("变更人", "pending")]
    assert "月收入: — → 8800.00" in changes[1][2]
    roles = workbook_rows(client.get("/api/v1/roles/export", headers={**admin, "Accept-Language": "en"}))
    assert roles[0][0] == "Code"
    by_code = {r[0]: r for r in roles[1:]}
    assert "audit.verify" in by_code["administrator"][6]
    assert by_code["borrower"][3] == "own"


def test_locked_out_borrowers_are_found_by_the_locked_filter(client, session, runtime, staff_as, org):
    _, h = staff_as("branch_manager")
    locked = make_borrower(session, runtime, org.inst, branch=org.a, password=None, real_name="锁定甲")
    make_borrower(session, runtime, org.inst, branch=org.a, password=None, real_name="未锁乙")
    session.add(LoginThrottle(institution_id=org.inst.id, kind="borrower", identifier_index=locked.user.phone_index,
                              failures=5, locked_until=runtime.clock.now() + timedelta(minutes=5)))
    session.commit()
    found = client.post("/api/v1/borrowers/search", headers=h, json={"locked": True})
    assert [b["real_name"] for b in found.json()["items"]] == ["锁定甲"]
    listed = client.get("/api/v1/borrowers", headers=h, params={"locked": True})
    assert [b["real_name"] for b in listed.json()["items"]] == ["锁定甲"]
    by_name = client.post("/api/v1/borrowers/search", headers=h, json={"locked": True, "q": "未锁"})
    assert by_name.json()["total"] == 0
    runtime.clock.advance(timedelta(minutes=6))  # the lock ends by itself
    assert client.post("/api/v1/borrowers/search", headers=h, json={"locked": True}).json()["total"] == 0
