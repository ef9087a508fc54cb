"""The harness itself: migrations, one app per test, the three databases."""

from __future__ import annotations

from tests.factories import CONSENTS, institution_header, last_sms_code, make_institution, next_id_number, next_phone


def test_register_then_me(client, session, runtime):
    inst = make_institution(session, runtime)
    session.commit()
    phone = next_phone()
    r = client.post("/api/v1/auth/sms-codes", json={"phone": phone, "purpose": "register"},
                    headers=institution_header(inst))
    assert r.status_code == 202, r.text
    code = last_sms_code(client, phone)
    r = client.post("/api/v1/auth/register", headers=institution_header(inst), json={
        "phone": phone, "sms_code": code, "real_name": "王五", "id_number": next_id_number(),
        "password": "a quite long passphrase", "consents": CONSENTS})
    assert r.status_code == 202, r.text
    assert r.json() == {"status": "received", "phone_masked": f"{phone[:3]}****{phone[-4:]}"}
    login = client.post("/api/v1/auth/login", headers=institution_header(inst),
                        json={"phone": phone, "password": "a quite long passphrase", "kind": "borrower"})
    assert login.status_code == 200, login.text
    token = login.json()["token"]
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me["kind"] == "borrower"
    assert me["institution"]["code"] == inst.code
