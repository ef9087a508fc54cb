"""In-app notifications texted as well: the business transaction marks the row, the dispatcher (which holds
the keys to the phone) queues one SMS per notification in the addressee's language with the institution's
signature, once however often it runs; a notification for the app only is never texted; an addressee the
dispatcher cannot read leaves the row waiting without stopping the others."""

from __future__ import annotations

from typing import Any

from microcredit.identity.service import accounts
from microcredit.notifications import service as notifications
from microcredit.notifications.models import InboxMessage, OutboxMessage
from tests.factories import make_borrower, make_branch, make_institution
from tests.integration.notifications.test_outbox_lifecycle import Channel


def _tell(session: Any, runtime: Any, inst: Any, user: Any, *, sms: bool, number: str) -> int:
    m = notifications.notify_user(session, clock=runtime.clock, institution_id=inst.id, user_id=user.id,
                                  template="loan_disbursed", params={"number": number, "amount": "8000.00", "seq": 1},
                                  subject_kind="loan", subject_id=7, sms=sms)
    assert notifications.DELIVER_AFTER_COMMIT not in session.info  # texted by the timer, not by the request
    session.commit()
    return m.id


def _dispatch(runtime: Any, channel: Channel, addressee: Any = None) -> notifications.DispatchReport:
    return notifications.dispatch_pending(db=runtime.db, cipher=runtime.keys.cipher, clock=runtime.clock,
                                          sms=channel, addressee=addressee or accounts.sms_addressee(runtime.identity))


def _row(session: Any, inbox_id: int) -> InboxMessage:
    session.expire_all()
    row = session.get(InboxMessage, inbox_id)
    assert row is not None
    return row


def test_a_notification_asked_to_be_texted_is_sent_once_to_the_phone_on_file(session, runtime):
    inst = make_institution(session, runtime)
    borrower = make_borrower(session, runtime, inst, branch=make_branch(session, runtime, inst), password=None)
    session.commit()
    texted = _tell(session, runtime, inst, borrower.user, sms=True, number="MC-1")
    app_only = _tell(session, runtime, inst, borrower.user, sms=False, number="MC-2")
    assert (_row(session, texted).sms_status, _row(session, app_only).sms_status) == ("pending", None)

    channel = Channel(failing=False)
    report = _dispatch(runtime, channel)
    assert (report.texted, report.delivered) == (1, 1)
    row = _row(session, texted)
    assert row.sms_status == "queued"
    outbox = session.get(OutboxMessage, row.sms_outbox_id)
    assert outbox is not None
    assert (outbox.template, outbox.status) == ("loan_disbursed", "delivered")
    signature = runtime.identity.sender_name(session, inst.id, "zh-CN")
    text = f"【{signature}】您的贷款 MC-1 已放款 8000.00 元，可在“我的贷款”中查看还款计划。"
    assert channel.sent == [(borrower.phone, text, f"outbox-{outbox.id}")]
    assert _row(session, app_only).sms_status is None
    # Dispatched again: nothing more is texted or sent.
    assert _dispatch(runtime, channel) == notifications.DispatchReport(delivered=0, failed=0, dead=0, texted=0)
    assert len(channel.sent) == 1


def test_an_addressee_that_cannot_be_read_waits_and_the_others_go_on(session, runtime):
    inst = make_institution(session, runtime)
    branch = make_branch(session, runtime, inst)
    a = make_borrower(session, runtime, inst, branch=branch, password=None)
    b = make_borrower(session, runtime, inst, branch=branch, password=None)
    session.commit()
    first = _tell(session, runtime, inst, a.user, sms=True, number="MC-A")
    second = _tell(session, runtime, inst, b.user, sms=True, number="MC-B")
    real = accounts.sms_addressee(runtime.identity)

    def flaky(session: Any, user_id: int, institution_id: int | None) -> notifications.Addressee:
        if user_id == a.user.id:
            raise RuntimeError("keys unavailable")
        return real(session, user_id, institution_id)

    channel = Channel(failing=False)
    assert _dispatch(runtime, channel, flaky).texted == 1
    assert (_row(session, first).sms_status, _row(session, second).sms_status) == ("pending", "queued")
    assert [phone for phone, _, _ in channel.sent] == [b.phone]
    # The keys back: the waiting one goes out on the next dispatch.
    assert _dispatch(runtime, channel).texted == 1
    assert _row(session, first).sms_status == "queued"
    assert [phone for phone, _, _ in channel.sent] == [b.phone, a.phone]


def test_a_user_without_a_number_is_marked_and_not_retried(session, runtime):
    inst = make_institution(session, runtime)
    borrower = make_borrower(session, runtime, inst, branch=make_branch(session, runtime, inst), password=None)
    session.commit()
    told = _tell(session, runtime, inst, borrower.user, sms=True, number="MC-3")

    def nowhere(session: Any, user_id: int, institution_id: int | None) -> notifications.Addressee:
        return notifications.Addressee(phone=None, signature="测试", language="zh-CN")

    channel = Channel(failing=False)
    assert _dispatch(runtime, channel, nowhere).texted == 0
    assert _row(session, told).sms_status == "no_phone"
    assert _dispatch(runtime, channel).texted == 0
    assert channel.sent == []
