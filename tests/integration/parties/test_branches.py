"""Branches: create, read, change, search, sort, page, export."""

from __future__ import annotations

from microcredit.parties.models import Branch
from microcredit.platform.paging import MAX_PAGE_SIZE
from tests.integration.helpers import assert_problem, audit_records, workbook_rows


def test_branch_lifecycle_with_audit(client, session, staff_as, org):
    admin, h = staff_as("administrator")
    r = client.post("/api/v1/branches", headers=h,
                    json={"code": "BR-09", "name": "城东支行", "region_code": "360102", "address": "城东路 1 号"})
    assert r.status_code == 201, r.text
    branch = r.json()
    assert (branch["institution_id"], branch["status"], branch["code"]) == (org.inst.id, "active", "BR-09")
    [created] = audit_records(session, "branch.created", branch["id"])
    assert created.actor_user_id == admin.user.id
    assert created.after == {"code": "BR-09", "name": "城东支行", "name_en": None, "region_code": "360102"}

    assert client.get(f"/api/v1/branches/{branch['id']}", headers=h).json() == branch
    r = client.patch(f"/api/v1/branches/{branch['id']}", headers=h, json={"name": "城东分理处", "status": "closed"})
    assert r.status_code == 200, r.text
    assert (r.json()["name"], r.json()["status"]) == ("城东分理处", "closed")
    [updated] = audit_records(session, "branch.updated", branch["id"])
    assert updated.before == {"name": "城东支行", "status": "active"}
    assert updated.after == {"name": "城东分理处", "status": "closed"}

    # A closed branch takes no new staff.
    closed = assert_problem(client.post("/api/v1/staff", headers=h, json={
        "name": "新员工", "employee_number": "N1", "phone": "13912345678", "roles": ["collector"],
        "branch_id": branch["id"]}), 404)
    assert closed["field"] == "branch_id"

    taken = assert_problem(client.post("/api/v1/branches", headers=h, json={"code": "BR-09", "name": "又一个"}), 409)
    assert (taken["code"], taken["field"]) == ("code_taken", "code")
    bad = assert_problem(client.post("/api/v1/branches", headers=h,
                                     json={"code": "BR 10", "name": "x", "region_code": "36"}), 422)
    assert sorted(e["field"] for e in bad["errors"]) == ["code", "name", "region_code"]
    nothing = assert_problem(client.patch(f"/api/v1/branches/{branch['id']}", headers=h,
                                          json={"name": "城东分理处"}), 422)
    assert nothing["code"] == "nothing_to_change"
    assert_problem(client.get("/api/v1/branches/999999999", headers=h), 404)


def _make(client, h, *rows: tuple[str, str]) -> None:
    for code, name in rows:
        assert client.post("/api/v1/branches", headers=h, json={"code": code, "name": name}).status_code == 201


def test_branches_search_sort_and_pages(client, staff_as, org):
    _, h = staff_as("administrator")
    _make(client, h, ("Z1", "甲山支行"), ("Z2", "乙山支行"), ("Z3", "丙河支行"), ("Z4", "丁山分理处"),
          ("Z5", "戊山支行"))

    r = client.get("/api/v1/branches", headers=h, params={"q": "山", "sort": "-code", "page_size": 2})
    page1 = r.json()
    assert (page1["total"], page1["page"], page1["page_size"]) == (4, 1, 2)
    assert [b["code"] for b in page1["items"]] == ["Z5", "Z4"]
    page2 = client.get("/api/v1/branches", headers=h, params={"q": "山", "sort": "-code", "page_size": 2,
                                                               "page": 2}).json()
    assert [b["code"] for b in page2["items"]] == ["Z2", "Z1"]
    page3 = client.get("/api/v1/branches", headers=h, params={"q": "山", "page_size": 2, "page": 3}).json()
    assert (page3["total"], page3["items"]) == (4, [])
    by_code = client.get("/api/v1/branches", headers=h, params={"q": "Z3"}).json()
    assert [b["name"] for b in by_code["items"]] == ["丙河支行"]
    by_name = client.get("/api/v1/branches", headers=h, params={"sort": "name"}).json()
    names = [b["name"] for b in by_name["items"]]
    assert names == sorted(names)
    assert by_name["total"] == 7  # org's two branches and the five above

    for sort in ("password", "name;drop table branches", "-", "institution_id"):
        body = assert_problem(client.get("/api/v1/branches", headers=h, params={"sort": sort}), 422)
        assert [(e["field"], e["code"]) for e in body["errors"]] == [("sort", "sort_not_allowed")]
    for params in ({"page": 0}, {"page_size": 101}, {"page_size": "many"}):
        body = assert_problem(client.get("/api/v1/branches", headers=h, params=params), 422)
        assert [e["field"] for e in body["errors"]] == list(params)


def test_branches_export_the_filtered_rows_with_localised_headers(client, staff_as, org):
    _, h = staff_as("administrator")
    _make(client, h, ("EX1", "导出一支行"), ("EX2", "导出二支行"), ("OT1", "其他支行"))
    rows = workbook_rows(client.get("/api/v1/branches/export", headers=h, params={"q": "导出", "sort": "code"}))
    assert rows[0] == ("编号", "名称", "地区码", "地址", "状态", "创建时间(UTC)")
    assert [r[:2] for r in rows[1:]] == [("EX1", "导出一支行"), ("EX2", "导出二支行")]
    en = workbook_rows(client.get("/api/v1/branches/export", headers={**h, "Accept-Language": "en"},
                                  params={"q": "OT1"}))
    assert en[0] == ("Code", "Name", "Region", "Address", "Status", "Created (UTC)")
    assert [r[:2] for r in en[1:]] == [("OT1", "其他支行")]


def test_the_export_holds_every_matching_branch_not_one_page(client, session, runtime, staff_as, org):
    _, h = staff_as("administrator")
    session.add_all([Branch(institution_id=org.inst.id, code=f"P{n:03d}", name=f"批量网点{n:03d}", status="active",
                            created_at=runtime.clock.now()) for n in range(MAX_PAGE_SIZE + 5)])
    session.commit()
    rows = workbook_rows(client.get("/api/v1/branches/export", headers=h, params={"q": "批量网点", "sort": "code"}))
    assert len(rows) - 1 == MAX_PAGE_SIZE + 5
    assert rows[-1][0] == f"P{MAX_PAGE_SIZE + 4:03d}"
