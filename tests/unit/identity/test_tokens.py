"""Opaque secrets: session tokens (ASVS 7.2.3), their stored hash, one-time codes."""

from __future__ import annotations

import base64
import hashlib
import re

from microcredit.identity import tokens
from microcredit.identity.tokens import constant_time_equal, keyed_hash, new_numeric_code, new_token, token_hash

BASE64URL = re.compile(r"[A-Za-z0-9_-]+")


def test_tokens_carry_256_random_bits_as_base64url():
    token = new_token()
    assert len(token) == 43
    assert BASE64URL.fullmatch(token)
    raw = base64.urlsafe_b64decode(token + "=")
    assert len(raw) * 8 >= 128  # ASVS 7.2.3 asks for at least 128 bits
    assert len(raw) == tokens.TOKEN_BYTES == 32


def test_tokens_do_not_repeat():
    assert len({new_token() for _ in range(2000)}) == 2000


def test_tokens_come_from_the_csprng(monkeypatch):
    calls = []
    monkeypatch.setattr(tokens.secrets, "token_urlsafe", lambda n: calls.append(n) or "x" * 43)
    assert new_token() == "x" * 43
    assert calls == [32]


def test_the_stored_form_is_the_sha256_not_the_token():
    token = new_token()
    stored = token_hash(token)
    assert stored == hashlib.sha256(token.encode()).hexdigest()
    assert len(stored) == 64
    assert token not in stored
    assert token_hash(token) == stored  # deterministic: the lookup key
    assert token_hash(new_token()) != stored


def test_numeric_codes_are_six_digits_with_leading_zeros(monkeypatch):
    codes = {new_numeric_code() for _ in range(500)}
    assert all(len(c) == 6 and c.isdigit() for c in codes)
    assert len(codes) > 450  # 500 draws out of a million rarely collide
    monkeypatch.setattr(tokens.secrets, "randbelow", lambda n: 42)
    assert new_numeric_code() == "000042"


def test_keyed_hash_binds_each_part():
    key = b"secret"
    assert keyed_hash(key, "a", "bc") != keyed_hash(key, "ab", "c")
    assert keyed_hash(key, "idx", "register", "123456") != keyed_hash(key, "idx", "login", "123456")
    assert keyed_hash(key, "idx", "register", "123456") != keyed_hash(b"other", "idx", "register", "123456")
    assert keyed_hash(key, "x") == keyed_hash(key, "x")


def test_constant_time_equal():
    assert constant_time_equal("abc", "abc")
    assert not constant_time_equal("abc", "abd")
    assert not constant_time_equal("abc", "abcd")
