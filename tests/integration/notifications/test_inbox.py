"""In-app notifications: written with the business change, listed newest first with the unread count,
marked read one by one or all at once — each user only their own (another user's is not found).
"""

from __future__ import annotations

import pytest

from microcredit.notifications import service as notifications
from microcredit.risk.assessment import Decision
from tests.factories import make_borrower, make_branch, make_institution
from tests.integration.helpers import assert_problem, shared_client, signed_in, snapshot
from tests.integration.origination.support import PLAN, assessment, publish_product, use_review

INBOX = "/api/v1/me/notifications"


@pytest.fixture
def client(runtime, backend):
    yield from shared_client(runtime, backend)


@pytest.fixture
def two(session, runtime):
    """Two borrowers of one institution (with a published product), signed in."""
    inst = make_institution(session, runtime)
    branch = make_branch(session, runtime, inst)
    publish_product(session, runtime, inst)
    a = make_borrower(session, runtime, inst, branch=branch, password=None)
    b = make_borrower(session, runtime, inst, branch=branch, password=None)
    ha, hb = signed_in(session, runtime, a.user), signed_in(session, runtime, b.user)
    session.commit()
    return {"inst": inst, "a": a, "b": b, "ha": ha, "hb": hb}


def _notify(session, runtime, inst, user, n=1):
    ids = []
    for i in range(n):
        m = notifications.notify_user(session, clock=runtime.clock, institution_id=inst.id, user_id=user.id,
                                      template="application_approved", params={"number": f"MC-{i}", "amount": 5000},
                                      subject_kind="application", subject_id=100 + i)
        ids.append(m.id)
    session.commit()
    return ids


def test_list_newest_first_with_unread_count_and_paging(client, session, runtime, two):
    ids = _notify(session, runtime, two["inst"], two["a"].user, n=3)
    _notify(session, runtime, two["inst"], two["b"].user, n=2)
    body = client.get(INBOX, headers=two["ha"], params={"page_size": 2}).json()
    assert [m["id"] for m in body["items"]] == [ids[2], ids[1]]
    assert (body["total"], body["unread"]) == (3, 3)
    first = body["items"][0]
    assert first["template"] == "application_approved"
    assert first["params"] == {"number": "MC-2", "amount": 5000}
    assert (first["subject_kind"], first["subject_id"], first["read_at"]) == ("application", 102, None)
    assert client.get(INBOX, headers=two["hb"]).json()["total"] == 2


def test_mark_read_own_only(client, session, runtime, two):
    mine = _notify(session, runtime, two["inst"], two["a"].user, n=2)
    theirs = _notify(session, runtime, two["inst"], two["b"].user)
    r = client.post(f"{INBOX}/{mine[0]}/read", headers=two["ha"])
    assert r.status_code == 200, r.text
    assert r.json()["read_at"] is not None
    assert client.get(INBOX, headers=two["ha"]).json()["unread"] == 1
    again = client.post(f"{INBOX}/{mine[0]}/read", headers=two["ha"]).json()
    assert again["read_at"] == r.json()["read_at"]  # reading twice changes nothing

    before = snapshot(runtime.db)
    assert_problem(client.post(f"{INBOX}/{theirs[0]}/read", headers=two["ha"]), 404)
    assert before.diff(snapshot(runtime.db)) == {}
    assert client.get(INBOX, headers=two["hb"]).json()["unread"] == 1


def test_read_all_marks_only_the_callers(client, session, runtime, two):
    _notify(session, runtime, two["inst"], two["a"].user, n=3)
    _notify(session, runtime, two["inst"], two["b"].user, n=2)
    r = client.post(f"{INBOX}/read-all", headers=two["ha"])
    assert r.json() == {"marked": 3, "unread": 0}
    assert client.get(INBOX, headers=two["ha"]).json()["unread"] == 0
    assert client.get(INBOX, headers=two["hb"]).json()["unread"] == 2
    assert client.post(f"{INBOX}/read-all", headers=two["ha"]).json()["marked"] == 0


def test_anonymous_refused(client):
    assert_problem(client.get(INBOX), 401)


def test_secrets_are_refused(session, runtime, two):
    with pytest.raises(ValueError, match="secrets"):
        notifications.notify_user(session, clock=runtime.clock, institution_id=two["inst"].id,
                                  user_id=two["a"].user.id, template="application_submitted",
                                  params={"number": "MC-1", "id_number": "110101199003071234"})


@pytest.mark.parametrize(("decision", "template"), [(Decision.APPROVE, "application_approved"),
                                                    (Decision.DECLINE, "application_declined")])
def test_submission_notifies_in_app(client, session, monkeypatch, two, decision, template):
    use_review(monkeypatch, assessment(decision, grade="B"))
    draft = client.post("/api/v1/me/applications", headers=two["ha"], json=PLAN).json()
    r = client.post(f"/api/v1/me/applications/{draft['id']}/submit", headers=two["ha"])
    assert r.status_code == 200, r.text
    body = client.get(INBOX, headers=two["ha"]).json()
    assert [m["template"] for m in body["items"]] == [template, "application_submitted"]
    assert body["unread"] == 2
    newest = body["items"][0]
    assert (newest["subject_kind"], newest["subject_id"]) == ("application", draft["id"])
    assert newest["params"]["number"] == r.json()["number"]
    assert "signature" not in newest["params"]
    assert client.get(INBOX, headers=two["hb"]).json()["total"] == 0


def test_messages_written_as_rows_are_stored_as_notify_user_and_enqueue_sms_store_them(session, runtime, two):
    """`write_messages` (one INSERT per table, no ORM objects) stores what `notify_user` and `enqueue_sms` store
    for the same input: every column but the id, the SMS payload decrypted; the rows of a batch in their order."""
    from sqlalchemy import select

    from microcredit.notifications.models import InboxMessage, OutboxMessage

    inst, user = two["inst"], two["a"].user
    params = {"number": "MC-7", "amount": 5000, "flag": True}
    sms_params = {"signature": "测试", "number": "MC-7", "amount": "5000.00"}
    notifications.notify_user(session, clock=runtime.clock, institution_id=inst.id, user_id=user.id,
                              template="application_approved", params=params, subject_kind="application",
                              subject_id=7)
    notifications.enqueue_sms(session=session, cipher=runtime.keys.cipher, clock=runtime.clock,
                              institution_id=inst.id, phone="13800138000", template="application_approved",
                              params=sms_params, language="zh-CN")
    inbox = [notifications.inbox_row(clock=runtime.clock, institution_id=inst.id, user_id=user.id,
                                     template=template, params=params, subject_kind="application", subject_id=7)
             for template in ("application_approved", "application_submitted")]
    sms = [notifications.sms_row(cipher=runtime.keys.cipher, clock=runtime.clock, institution_id=inst.id,
                                 phone="13800138000", template=template, params=sms_params, language="zh-CN")
           for template in ("application_approved", "application_submitted")]
    notifications.write_messages(session, inbox=inbox, sms=sms)
    session.commit()
    session.expire_all()

    def columns(row, *, skip=("id",)):
        values = {c.key: getattr(row, c.key) for c in row.__table__.columns if c.key not in skip}
        if "payload_ciphertext" in values:
            values["payload"] = runtime.keys.cipher.decrypt(values.pop("payload_ciphertext"),
                                                            context="outbox_messages.payload")
        return values

    stored = list(session.scalars(select(InboxMessage).where(InboxMessage.user_id == user.id)
                                  .order_by(InboxMessage.id)))
    assert [m.template for m in stored] == ["application_approved", "application_approved", "application_submitted"]
    assert columns(stored[1]) == columns(stored[0])
    assert stored[1].params == {"number": "MC-7", "amount": 5000, "flag": True}
    queued = list(session.scalars(select(OutboxMessage).where(OutboxMessage.institution_id == inst.id)
                                  .order_by(OutboxMessage.id)))[-3:]
    assert [m.template for m in queued] == ["application_approved", "application_approved", "application_submitted"]
    assert columns(queued[1]) == columns(queued[0])
    assert (queued[1].status, queued[1].attempts, queued[1].recipient_masked) == ("pending", 0, "138****8000")
