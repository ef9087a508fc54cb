"""Field errors carry a stable code and a message in the request's language, ours and pydantic's alike."""

from __future__ import annotations

import pytest

from tests.factories import make_institution

QUOTE = {"amount": "10000", "annual_rate": "12", "term": 12, "repayment_method": "equal_installment",
         "start_date": "2026-01-15"}


@pytest.mark.parametrize(("language", "expected"), [
    ("zh-CN", "金额请以字符串形式提交"),
    ("en", "not JSON numbers"),
])
def test_money_sent_as_a_number_is_refused_in_the_callers_language(client, session, runtime, language, expected):
    # A quote is for an institution (its holiday calendar): one that exists, so that the body is what fails.
    inst = make_institution(session, runtime)
    session.commit()
    r = client.post("/api/v1/quotes", json={**QUOTE, "amount": 10000.5},
                    headers={"Accept-Language": language, "X-Institution": inst.code})
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "validation_failed"
    [error] = body["errors"]
    assert error["field"] == "amount"
    assert error["code"] == "money_not_string"
    assert expected in error["message"]


def test_a_rule_across_fields_names_its_code_in_chinese(client, session, runtime):
    inst = make_institution(session, runtime)
    session.commit()
    r = client.post("/api/v1/quotes", json={**QUOTE, "repayment_method": "interest_quarterly_principal_at_maturity",
                                            "term": 10}, headers={"X-Institution": inst.code})
    assert r.status_code == 422
    [error] = r.json()["errors"]
    assert error["code"] == "quarterly_term"
    assert "3个月的整数倍" in error["message"]


@pytest.mark.parametrize(("language", "expected"), [("zh-CN", "电子邮箱格式不正确"), ("en", "e-mail")])
def test_a_bad_email_is_named_as_such(client, session, runtime, language, expected):
    inst = make_institution(session, runtime)
    session.commit()
    r = client.post("/api/v1/auth/register", headers={"Accept-Language": language, "X-Institution": inst.code}, json={
        "phone": "13800138000", "sms_code": "123456", "real_name": "张三", "id_number": "11010519491231002X",
        "password": "a long passphrase", "email": "not-an-address"})
    assert r.status_code == 422
    errors = {e["field"]: e for e in r.json()["errors"]}
    assert errors["email"]["code"] == "email_invalid"
    assert expected in errors["email"]["message"]
