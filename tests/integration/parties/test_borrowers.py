"""Borrowers seen by staff: search, masked detail, audited reveal, edits, bank cards, export, pages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from microcredit.lending.money import Money
from tests.factories import make_borrower
from tests.integration.helpers import assert_problem, audit_records, serve_with_cipher, workbook_rows

VALID_CARD, LUHN_FAILS = "6225881414207430", "6225881414207431"


@dataclass
class NoDecrypt:
    """A cipher that refuses to decrypt."""

    inner: Any

    def encrypt(self, plaintext: str, *, context: str) -> str:
        return str(self.inner.encrypt(plaintext, context=context))

    def decrypt(self, token: str, *, context: str) -> str:
        raise AssertionError(f"decrypted {context}")


def _ids(r) -> list[int]:
    assert r.status_code == 200, r.text
    return [b["id"] for b in r.json()["items"]]


def test_search_by_name_full_id_number_id_tail_and_phone(client, session, runtime, staff_as, org):
    _, h = staff_as("branch_manager")
    zhang = make_borrower(session, runtime, org.inst, branch=org.a, password=None, real_name="张小明")
    li = make_borrower(session, runtime, org.inst, branch=org.b, password=None, real_name="李小红",
                       customer_type="farmer")
    make_borrower(session, runtime, org.inst, password=None, real_name="王大明")
    session.commit()

    def search(**body):
        return _ids(client.post("/api/v1/borrowers/search", headers=h, json=body))

    # lookups go through blind indexes and masked columns only
    serve_with_cipher(client.app, runtime, NoDecrypt(runtime.keys.cipher))

    assert search(q="小明") == [zhang.borrower.id]
    assert sorted(search(q="明")) == sorted([zhang.borrower.id, search(q="王大明")[0]])
    assert search(q=zhang.id_number) == [zhang.borrower.id]
    assert search(q=zhang.id_number.lower()) == [zhang.borrower.id]
    assert search(q=li.id_number[-4:]) == [li.borrower.id]
    assert search(q=li.phone) == [li.borrower.id]
    assert search(q=f"{li.phone[:3]} {li.phone[3:7]} {li.phone[7:]}") == [li.borrower.id]
    assert search(q=zhang.id_number[:-1] + ("0" if zhang.id_number[-1] != "0" else "1")) == []
    assert search(q="13000000000") == []
    assert search(customer_type="farmer") == [li.borrower.id]
    assert search(branch_id=org.a.id) == [zhang.borrower.id]
    assert search(channel="online", q="王大明") != []
    listed = client.get("/api/v1/borrowers", headers=h, params={"sort": "name"}).json()
    assert listed["total"] == 3
    too_long = assert_problem(client.get("/api/v1/borrowers", headers=h, params={"q": "x" * 51}), 422)
    assert too_long["errors"][0]["field"] == "q"
    bad_sort = assert_problem(client.get("/api/v1/borrowers", headers=h, params={"sort": "id_number_index"}), 422)
    assert bad_sort["errors"][0]["field"] == "sort"


def test_detail_is_masked_and_reveal_is_audited(client, session, runtime, staff_as, org):
    officer, h = staff_as("loan_officer", branch=org.a)
    b = make_borrower(session, runtime, org.inst, branch=org.a, password=None, real_name="赵敏")
    session.commit()
    card = client.post(f"/api/v1/borrowers/{b.borrower.id}/bank-cards", headers=h,
                       json={"bank_name": "中国农业银行", "card_number": VALID_CARD})
    assert card.status_code == 201, card.text

    r = client.get(f"/api/v1/borrowers/{b.borrower.id}", headers=h)
    assert r.status_code == 200, r.text
    detail = r.json()
    assert detail["id_number_masked"] == b.id_number[:6] + "********" + b.id_number[14:]
    assert detail["phone_masked"] == b.phone[:3] + "****" + b.phone[7:]
    assert detail["bank_cards"][0]["card_masked"] == "622588******7430"
    assert (detail["age"], detail["gender"], detail["birth_year"]) == (36, "male" if int(b.id_number[16]) % 2
                                                                        else "female", 1990)
    for secret in (b.id_number, b.phone, VALID_CARD):
        assert secret not in r.text
    assert audit_records(session, "borrower.sensitive_viewed") == []

    r = client.post(f"/api/v1/borrowers/{b.borrower.id}/reveal", headers=h)
    assert r.status_code == 200, r.text
    assert r.json() == {"id_number": b.id_number, "phone": b.phone,
                        "bank_cards": [{"id": card.json()["id"], "card_number": VALID_CARD}]}
    [record] = audit_records(session, "borrower.sensitive_viewed", b.borrower.id)
    assert (record.actor_user_id, record.actor_kind, record.entity_type) == (officer.user.id, "staff", "borrower")
    assert record.ip == "testclient"
    assert record.after == {"fields": ["id_number", "phone", "bank_cards"]}
    r = client.post(f"/api/v1/borrowers/{b.borrower.id}/reveal", headers=h)
    assert len(audit_records(session, "borrower.sensitive_viewed", b.borrower.id)) == 2


def test_a_staff_edit_applies_at_once_with_before_and_after_in_the_audit(client, session, runtime, staff_as, org):
    officer, h = staff_as("loan_officer", branch=org.a)
    b = make_borrower(session, runtime, org.inst, branch=org.a, password=None, real_name="钱多多",
                      monthly_income=Money.parse("5000.00", "CNY"), occupation="司机")
    session.commit()
    r = client.patch(f"/api/v1/borrowers/{b.borrower.id}", headers=h,
                     json={"monthly_income": "6500.50", "occupation": "出租车司机", "city": "南昌市"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["monthly_income"], body["occupation"], body["city"]) == ("6500.50", "出租车司机", "南昌市")
    assert body["pending_change"] is None
    [record] = audit_records(session, "borrower.updated", b.borrower.id)
    assert record.actor_user_id == officer.user.id
    assert record.before == {"monthly_income": "5000.00", "occupation": "司机", "city": None}
    assert record.after == {"monthly_income": "6500.50", "occupation": "出租车司机", "city": "南昌市"}

    moved = assert_problem(client.patch(f"/api/v1/borrowers/{b.borrower.id}", headers=h,
                                        json={"branch_id": org.b.id}), 403)
    assert moved["code"] == "permission_denied"
    _, mh = staff_as("branch_manager")
    r = client.patch(f"/api/v1/borrowers/{b.borrower.id}", headers=mh, json={"branch_id": org.b.id})
    assert (r.status_code, r.json()["branch_id"]) == (200, org.b.id)
    assert_problem(client.get(f"/api/v1/borrowers/{b.borrower.id}", headers=h), 404)

    for change, field in (({"monthly_income": "-1"}, "monthly_income"), ({"monthly_income": "1.234"},
                                                                          "monthly_income"),
                          ({"customer_type": "alien"}, "customer_type"), ({"id_number_masked": "x"},
                                                                          "id_number_masked")):
        bad = assert_problem(client.patch(f"/api/v1/borrowers/{b.borrower.id}", headers=mh, json=change), 422)
        assert bad["errors"][0]["field"] == field
    same = assert_problem(client.patch(f"/api/v1/borrowers/{b.borrower.id}", headers=mh,
                                       json={"occupation": "出租车司机"}), 422)
    assert same["code"] == "nothing_to_change"


def test_bank_cards_are_masked_with_a_luhn_flag(client, session, runtime, staff_as, org):
    _, h = staff_as("loan_officer", branch=org.a)
    b = make_borrower(session, runtime, org.inst, branch=org.a, password=None)
    session.commit()
    url = f"/api/v1/borrowers/{b.borrower.id}/bank-cards"
    first = client.post(url, headers=h, json={"bank_name": "中国农业银行", "card_number": "6225 8814 1420 7430"})
    assert first.status_code == 201, first.text
    assert {k: first.json()[k] for k in ("card_masked", "luhn_valid", "is_primary")} == {
        "card_masked": "622588******7430", "luhn_valid": True, "is_primary": True}
    second = client.post(url, headers=h, json={"bank_name": "农村信用社", "card_number": LUHN_FAILS})
    assert second.status_code == 201, second.text
    assert {k: second.json()[k] for k in ("card_masked", "luhn_valid", "is_primary")} == {
        "card_masked": "622588******7431", "luhn_valid": False, "is_primary": False}
    third = client.post(url, headers=h, json={"bank_name": "中国银行", "card_number": "6217000010001234567",
                                              "primary": True})
    assert (third.json()["card_masked"], third.json()["is_primary"]) == ("621700*********4567", True)
    cards = client.get(f"/api/v1/borrowers/{b.borrower.id}", headers=h).json()["bank_cards"]
    assert [(c["card_masked"], c["is_primary"]) for c in cards] == [
        ("621700*********4567", True), ("622588******7430", False), ("622588******7431", False)]
    [record, *_] = audit_records(session, "borrower.bank_card_added", b.borrower.id)
    assert record.after == {"card": "622588******7430", "bank": "中国农业银行", "luhn_valid": True}

    dup = assert_problem(client.post(url, headers=h, json={"bank_name": "中国农业银行", "card_number": VALID_CARD}),
                         409)
    assert dup["field"] == "card_number"
    bad = assert_problem(client.post(url, headers=h, json={"bank_name": "某银行", "card_number": "62258814142074AB"}),
                         422)
    assert (bad["code"], bad["field"]) == ("bank_card_format", "card_number")


def test_borrower_export_has_the_filtered_masked_rows(client, session, runtime, staff_as, org):
    _, h = staff_as("loan_officer", branch=org.a)
    mine = [make_borrower(session, runtime, org.inst, branch=org.a, password=None, real_name=f"导出客户{i}",
                          monthly_income=Money.parse("8000.00", "CNY")) for i in range(3)]
    make_borrower(session, runtime, org.inst, branch=org.b, password=None, real_name="导出客户乙")
    session.commit()
    rows = workbook_rows(client.get("/api/v1/borrowers/export", headers=h, params={"q": "导出", "sort": "name"}))
    assert rows[0] == ("编号", "姓名", "身份证号", "手机", "客户类型", "网点", "职业", "月收入", "渠道",
                       "登记时间(UTC)")
    assert [r[1] for r in rows[1:]] == ["导出客户0", "导出客户1", "导出客户2"]  # branch A only
    assert [r[2] for r in rows[1:]] == [m.borrower.id_number_masked for m in mine]
    assert {r[7] for r in rows[1:]} == {8000}
    text = repr(rows)
    for m in mine:
        assert m.id_number not in text
        assert m.phone not in text
    en = workbook_rows(client.get("/api/v1/borrowers/export", headers={**h, "Accept-Language": "en-US,en;q=0.9"},
                                  params={"q": "导出客户1"}))
    assert en[0][:4] == ("No.", "Name", "ID number", "Phone")
    assert len(en) == 2


def test_borrower_pages_count_every_match(client, session, runtime, staff_as, org):
    _, h = staff_as("risk_officer")
    for i in range(5):
        make_borrower(session, runtime, org.inst, branch=org.a, password=None, real_name=f"分页客户{i}")
    session.commit()
    seen = []
    for page in (1, 2, 3):
        body = client.get("/api/v1/borrowers", headers=h, params={"q": "分页", "page": page, "page_size": 2,
                                                                   "sort": "-name"}).json()
        assert (body["total"], body["page"], body["page_size"]) == (5, page, 2)
        seen += [b["real_name"] for b in body["items"]]
    assert seen == [f"分页客户{i}" for i in (4, 3, 2, 1, 0)]
