"""What a channel's error may keep: never the message's text, its full phone number or the text's numbers."""

from __future__ import annotations

import pytest

from microcredit.notifications.service import scrub

TEXT = "【示范】您的验证码为 482913，5 分钟内有效，用于登录。请勿告诉他人。"
PHONE = "13812348000"


@pytest.mark.parametrize(("error", "expected"), [
    (f"invalid content: {TEXT}", "invalid content: [message text]"),
    (f"blacklisted mobile {PHONE}", "blacklisted mobile 138****8000"),
    ("template mismatch near '验证码为 482913，5 分钟'", "template mismatch near '验证码为 ******，5 分钟'"),
    ("isv.BUSINESS_LIMIT_CONTROL: 10 per day", "isv.BUSINESS_LIMIT_CONTROL: 10 per day"),
    ("timeout after 3000 ms", "timeout after 3000 ms"),
])
def test_scrub(error, expected):
    assert scrub(error, phone=PHONE, text=TEXT) == expected


def test_a_code_cut_short_by_the_gateway_is_still_scrubbed_where_whole():
    assert "482913" not in scrub(f"rejected ({TEXT[:20]}…) for {PHONE}", phone=PHONE, text=TEXT)
