"""The calendar routes and the public quote over the institution's calendar: answers, refusals, access.

2027's days are invented for the tests (see test_calendar_service.py).
"""

from __future__ import annotations

from typing import Any

from microcredit.products.models import CalendarDay
from tests.factories import institution_header, make_institution, make_staff
from tests.integration.helpers import assert_problem, audit_records, signed_in, snapshot

QUOTE = {"amount": "10000.00", "annual_rate": "12", "repayment_method": "equal_installment", "term": 3,
         "start_date": "2026-11-11", "business_day_rule": "following", "calendar": "cn"}


def _staff(session, runtime, inst, role: str) -> dict[str, str]:
    handle = make_staff(session, runtime, inst, roles=(role,), password=None)
    headers = signed_in(session, runtime, handle.user)
    session.commit()
    return headers


def test_staff_read_a_seeded_year_and_an_uncovered_one(client, session, runtime, seeded):
    h = _staff(session, runtime, seeded, "loan_officer")
    r = client.get("/api/v1/calendar/2025", headers=h)
    assert r.status_code == 200, r.text
    year = r.json()
    assert (year["covered"], year["coverage_source"]) == (True, "seeded")
    by_day = {d["day"]: d for d in year["days"]}
    assert {k: by_day["2025-01-28"][k] for k in ("kind", "name_zh", "name_en", "source")} == {
        "kind": "holiday", "name_zh": "春节", "name_en": "Spring Festival", "source": "seeded"}
    assert by_day["2025-10-11"]["kind"] == "working_day"
    assert list(by_day) == sorted(by_day)

    empty = client.get("/api/v1/calendar/2027", headers=h).json()
    assert (empty["covered"], empty["coverage_source"], empty["days"]) == (False, None, [])
    out = assert_problem(client.get("/api/v1/calendar/1800", headers=h), 422)
    assert (out["code"], out["field"]) == ("calendar_date_out_of_range", "year")


def test_an_administrator_maintains_2027_and_the_quote_follows(client, session, runtime, seeded):
    h = _staff(session, runtime, seeded, "administrator")
    public = {**institution_header(seeded), "Accept-Language": "en"}
    before = client.post("/api/v1/quotes", json=QUOTE, headers=public).json()
    assert before["installments"][2]["due_date"] == "2027-02-11"
    [warning] = before["warnings"]
    assert (warning["code"], warning["years"]) == ("calendar_not_covered", [2027])
    assert "2027" in warning["message"]

    for day in ("2027-02-11", "2027-02-12"):
        r = client.post("/api/v1/calendar/days", headers=h,
                        json={"day": day, "kind": "holiday", "name_zh": "春节", "name_en": "Spring Festival"})
        assert r.status_code == 201, r.text
        assert (r.json()["source"], r.json()["updated_by_user_id"]) == ("manual", _user_id(client, h))
    r = client.post("/api/v1/calendar/days", headers=h,
                    json={"day": "2027-02-13", "kind": "working_day", "name_zh": "春节调休上班"})
    assert r.status_code == 201, r.text
    assert r.json()["name_en"] is None

    r = client.put("/api/v1/calendar/years/2027", headers=h, json={"covered": True})
    assert r.status_code == 200, r.text
    assert (r.json()["covered"], r.json()["coverage_source"], len(r.json()["days"])) == (True, "manual", 3)
    after = client.post("/api/v1/quotes", json=QUOTE, headers=public).json()
    assert after["installments"][2]["due_date"] == "2027-02-13"
    assert after["warnings"] == []

    # Another institution's calendar is its own: the same quote there still warns.
    other = make_institution(session, runtime, calendar=True)
    session.commit()
    elsewhere = client.post("/api/v1/quotes", json=QUOTE, headers=institution_header(other)).json()
    assert elsewhere["installments"][2]["due_date"] == "2027-02-11"
    assert "2027" in elsewhere["warnings"][0]["message"]  # zh-CN by default
    assert "年的数据" in elsewhere["warnings"][0]["message"]


def _user_id(client, headers) -> int:
    return int(client.get("/api/v1/auth/me", headers=headers).json()["user_id"])


def test_bad_days_are_refused_with_a_field_and_change_nothing(client, session, runtime, seeded):
    h = {**_staff(session, runtime, seeded, "administrator"), "Accept-Language": "en"}
    start = snapshot(runtime.db)
    cases: list[tuple[dict[str, Any], int, str, str]] = [
        ({"day": "2025-01-28", "kind": "holiday", "name_zh": "春节"}, 409, "calendar_day_exists", "day"),
        ({"day": "2027-02-09", "kind": "working_day", "name_zh": "调休"}, 422, "working_day_not_on_weekend", "kind"),
        ({"day": "1999-10-01", "kind": "holiday", "name_zh": "国庆节"}, 422, "calendar_date_out_of_range", "day"),
        ({"day": "2027-02-09", "kind": "festival", "name_zh": "春节"}, 422, "validation_failed", "kind"),
        ({"day": "2027-02-09", "kind": "holiday", "name_zh": ""}, 422, "validation_failed", "name_zh"),
        ({"day": "2027-02-30", "kind": "holiday", "name_zh": "春节"}, 422, "validation_failed", "day"),
        ({"day": "2027-02-09", "kind": "holiday", "name_zh": "春节", "source": "seeded"}, 422, "validation_failed",
         "source"),
    ]
    for body, status, code, field in cases:
        problem = assert_problem(client.post("/api/v1/calendar/days", headers=h, json=body), status)
        assert (problem["code"], problem["field"]) == (code, field), body
    weekday = assert_problem(client.post("/api/v1/calendar/days", headers=h, json=cases[1][0]), 422)
    assert "Saturday or a Sunday" in weekday["detail"]
    assert start.diff(snapshot(runtime.db)) == {}


def test_a_day_is_edited_and_deleted_and_each_change_is_audited(client, session, runtime, seeded):
    h = _staff(session, runtime, seeded, "administrator")
    days = client.get("/api/v1/calendar/2026", headers=h).json()["days"]
    first, second = days[0], days[1]

    r = client.patch(f"/api/v1/calendar/days/{first['id']}", headers=h, json={"name_zh": "元旦（本机构）"})
    assert r.status_code == 200, r.text
    assert (r.json()["name_zh"], r.json()["source"]) == ("元旦（本机构）", "manual")
    [record] = audit_records(session, "calendar.day_updated", first["id"])
    assert record.after == {"name_zh": "元旦（本机构）", "source": "manual"}

    start = snapshot(runtime.db)
    for body, status, code, field in (
        ({"name_zh": "元旦（本机构）"}, 422, "nothing_to_change", None),
        ({"day": second["day"]}, 409, "calendar_day_exists", "day"),
        ({"kind": "working_day"}, 422, "working_day_not_on_weekend", "kind"),  # 2026-01-01 is a Thursday
        ({"name_zh": None}, 422, "validation_failed", "name_zh"),
        ({"day": "2200-01-01"}, 422, "calendar_date_out_of_range", "day"),
    ):
        problem = assert_problem(client.patch(f"/api/v1/calendar/days/{first['id']}", headers=h, json=body), status)
        assert (problem["code"], problem["field"]) == (code, field), body
    assert start.diff(snapshot(runtime.db)) == {}

    assert client.delete(f"/api/v1/calendar/days/{second['id']}", headers=h).status_code == 204
    assert second["day"] not in {d["day"] for d in client.get("/api/v1/calendar/2026", headers=h).json()["days"]}
    assert session.get(CalendarDay, second["id"]) is None
    [record] = audit_records(session, "calendar.day_deleted", second["id"])
    assert record.before is not None
    assert record.before["source"] == "seeded"
    assert_problem(client.delete(f"/api/v1/calendar/days/{second['id']}", headers=h), 404)


def test_another_institutions_days_are_not_found(client, session, runtime, seeded):
    other = make_institution(session, runtime, calendar=True)
    h = _staff(session, runtime, seeded, "administrator")
    other_admin = _staff(session, runtime, other, "administrator")
    their_day = client.get("/api/v1/calendar/2025", headers=other_admin).json()["days"][0]
    start = snapshot(runtime.db)
    assert_problem(client.patch(f"/api/v1/calendar/days/{their_day['id']}", headers=h, json={"name_zh": "越权"}), 404)
    assert_problem(client.delete(f"/api/v1/calendar/days/{their_day['id']}", headers=h), 404)
    assert start.diff(snapshot(runtime.db)) == {}
    # Each sees their own: a change of one institution's 2025 leaves the other's alone.
    client.put("/api/v1/calendar/years/2025", headers=h, json={"covered": False})
    assert client.get("/api/v1/calendar/2025", headers=other_admin).json()["covered"] is True


def test_marking_a_year_twice_changes_it_once(client, session, runtime, seeded):
    h = _staff(session, runtime, seeded, "administrator")
    for _ in range(2):
        r = client.put("/api/v1/calendar/years/2027", headers=h, json={"covered": True})
        assert r.status_code == 200, r.text
    assert len(audit_records(session, "calendar.year_set", 2027)) == 1
    bad = assert_problem(client.put("/api/v1/calendar/years/2027", headers=h, json={"covered": "maybe"}), 422)
    assert bad["field"] == "covered"
    out = assert_problem(client.put("/api/v1/calendar/years/9999", headers=h, json={"covered": True}), 422)
    assert (out["code"], out["field"]) == ("calendar_date_out_of_range", "year")


def test_readers_do_not_write_and_borrowers_do_not_read(client, session, runtime, seeded):
    officer = _staff(session, runtime, seeded, "loan_officer")
    start = snapshot(runtime.db)
    for method, url, body in (("POST", "/api/v1/calendar/days", {"day": "2027-02-11", "kind": "holiday",
                                                                  "name_zh": "春节"}),
                              ("PUT", "/api/v1/calendar/years/2027", {"covered": True})):
        assert assert_problem(client.request(method, url, headers=officer, json=body), 403)["code"] == \
            "permission_denied"
    assert_problem(client.get("/api/v1/calendar/2025"), 401)
    assert start.diff(snapshot(runtime.db)) == {}


def test_an_institution_created_through_the_api_has_its_calendar(client, session, runtime):
    platform = make_institution(session, runtime, platform=True)
    h = _staff(session, runtime, platform, "administrator")
    r = client.post("/api/v1/institutions", headers=h,
                    json={"code": "CALNEW", "name": "日历新机构", "business_date": "2026-11-25"})
    assert r.status_code == 201, r.text
    new_id = r.json()["id"]
    [record] = audit_records(session, "calendar.seeded", new_id)
    assert record.after is not None
    assert record.after["years"][0] == 2004
    assert record.actor_user_id == _user_id(client, h)
    quote = client.post("/api/v1/quotes", headers={"X-Institution": "CALNEW"},
                        json={**QUOTE, "start_date": "2025-08-01", "first_due_date": "2025-10-01"}).json()
    assert quote["installments"][0]["due_date"] == "2025-10-09"  # National Day week, from the seeded data


def test_a_quote_for_an_unknown_institution_is_not_found(client):
    problem = assert_problem(client.post("/api/v1/quotes", json=QUOTE, headers={"X-Institution": "NOSUCH"}), 404)
    assert problem["field"] == "institution"
