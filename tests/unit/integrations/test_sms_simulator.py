"""The SMS simulator's failing prefix: a deterministic broken gateway for demos and tests."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from microcredit.clock import FrozenClock
from microcredit.config import Settings
from microcredit.integrations.sms import SimulatedSmsOperator, SmsRefused
from microcredit.platform.crypto import BlindIndex
from tests.conftest import START


def test_numbers_with_the_prefix_are_refused_and_nothing_is_stored():
    sim = SimulatedSmsOperator(blind_index=BlindIndex(b"k" * 32), clock=FrozenClock(START), fail_prefix="1990000")
    with pytest.raises(SmsRefused, match="numbers starting 1990000 are refused"):
        sim.send(session=None, phone="19900001234", text="secret 123456", message_id="outbox-1")  # type: ignore[arg-type]


def test_the_prefix_is_digits(tmp_path):
    assert Settings(data_dir=tmp_path, sms_simulator_fail_prefix="199").sms_simulator_fail_prefix == "199"
    with pytest.raises(ValidationError):
        Settings(data_dir=tmp_path, sms_simulator_fail_prefix="19x")
