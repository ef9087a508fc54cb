"""Which messages a request delivers itself, and which wait for `serve`'s outbox timer.

A one-time code leaves with the request that asked for it: the person is on the page, waiting. Every
other message (receipts, notices: `enqueue_sms` without `urgent`, `notify_user(sms=True)`) is only queued
by its request; the poller `serve` starts (`api.app._lifespan`, every `OUTBOX_POLL_SECONDS`, in each
worker) delivers it."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from typing import Any

from fastapi.testclient import TestClient

from microcredit.api.app import create_app
from microcredit.notifications import service as outbox
from tests.factories import make_institution, next_phone
from tests.integration.identity.support import request_code


class _Signalling:
    """The runtime's SMS channel, which also says when it has sent."""

    def __init__(self, channel: Any, sent: threading.Event) -> None:
        self.channel, self.sent, self.name = channel, sent, channel.name

    def send(self, **kwargs: Any) -> str:
        reference: str = self.channel.send(**kwargs)
        self.sent.set()
        return reference


def _texts(client: TestClient, phone: str) -> list[str]:
    return [m["text"] for m in client.get("/_sim/sms", params={"phone": phone}).json()]


def test_a_code_is_delivered_before_its_answer_returns(client, session, runtime):
    inst = make_institution(session, runtime)
    session.commit()
    phone = next_phone()
    r = request_code(client, inst, phone, "login")  # an unknown number for sign-in: a notice, before the answer
    assert r.status_code == 202, r.text
    [notice] = _texts(client, phone)
    assert "尚未注册" in notice
    r = request_code(client, inst, phone, "register")  # ... a registration code too
    assert r.status_code == 202, r.text
    text, _ = _texts(client, phone)
    assert "验证码" in text


def test_a_notice_waits_for_the_timer_which_delivers_it(session, runtime):
    inst = make_institution(session, runtime)
    phone = next_phone()
    msg = outbox.enqueue_sms(session=session, cipher=runtime.keys.cipher, clock=runtime.clock,
                             institution_id=inst.id, phone=phone, template="account_locked",
                             params={"signature": "测试"}, language="zh-CN")
    assert outbox.DELIVER_AFTER_COMMIT not in session.info  # the request would not deliver it
    session.commit()
    quiet = TestClient(create_app(runtime=runtime))  # the tests' setting: no timer (OUTBOX_POLL_SECONDS=0)
    with quiet:
        time.sleep(0.3)
        assert _texts(quiet, phone) == []
    # The tests' database is one connection: nothing here touches it while the poller thread may (its
    # delivery, its housekeeping). The channel says when it sent; leaving the client stops the poller.
    sent = threading.Event()
    channel = _Signalling(runtime.sms, sent)
    timed: Any = replace(runtime, sms=channel,
                         settings=runtime.settings.model_copy(update={"outbox_poll_seconds": 0.05}))
    with TestClient(create_app(runtime=timed)):  # as `serve` runs it: the poller started
        assert sent.wait(timeout=10), "the timer delivered nothing"
    with quiet:
        [text] = _texts(quiet, phone)
    assert "锁定" in text
    session.expire_all()
    assert session.get(type(msg), msg.id).status == "delivered"


def test_the_timer_goes_on_at_once_while_a_run_takes_a_full_batch(session, runtime):
    """A burst (a batch of receipts) does not wait one period per hundred messages."""
    from microcredit.api.deps import dispatch_outbox

    inst = make_institution(session, runtime)
    phones = [next_phone() for _ in range(outbox.BATCH + 5)]
    for phone in phones:
        outbox.enqueue_sms(session=session, cipher=runtime.keys.cipher, clock=runtime.clock, institution_id=inst.id,
                           phone=phone, template="account_locked", params={"signature": "测试"}, language="zh-CN")
    session.commit()
    assert dispatch_outbox(runtime) is True  # a full batch: more may wait
    assert dispatch_outbox(runtime) is False  # the last five
    assert outbox.summary(session=session, institution_id=inst.id)["delivered"] == len(phones)
