"""Answers from third-party providers are bounded in size and in total reading time."""

from __future__ import annotations

from collections.abc import Iterator

import httpx2
import pytest

from microcredit.integrations import oauth_dialects
from microcredit.integrations.oauth_dialects import ProviderRefused, _BoundedStream


class _Chunks(httpx2.SyncByteStream):
    def __init__(self, chunks: list[bytes], on_each: object = None) -> None:
        self.chunks = chunks
        self.on_each = on_each

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.chunks:
            if callable(self.on_each):
                self.on_each()
            yield chunk


def test_a_small_quick_answer_passes_whole():
    assert b"".join(_BoundedStream(_Chunks([b"{", b"}"]), limit=10)) == b"{}"


def test_a_large_answer_is_refused():
    with pytest.raises(ProviderRefused, match="too large"):
        b"".join(_BoundedStream(_Chunks([b"x" * 6, b"x" * 6]), limit=10))


def test_a_trickling_answer_is_refused_at_the_deadline(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(oauth_dialects.time, "monotonic", lambda: now[0])

    def slow() -> None:
        now[0] += 4.0  # every byte takes 4 seconds to arrive

    stream = _BoundedStream(_Chunks([b"a"] * 10, on_each=slow), limit=1000, deadline=15.0)
    with pytest.raises(ProviderRefused, match="too slow"):
        b"".join(stream)
