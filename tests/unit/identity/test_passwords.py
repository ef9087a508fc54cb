"""Password policy (OWASP ASVS 5 §6.2) and argon2id hashing (ASVS 11.4.2, Appendix C)."""

from __future__ import annotations

import argon2
import pytest
from argon2 import extract_parameters
from pydantic import ValidationError

from microcredit.config import SecuritySettings
from microcredit.identity.passwords import PasswordHasher, PasswordRejected, check_policy, common_passwords

# One hasher for the module: each hash costs ~30–60 ms.
HASHER = PasswordHasher()


def rejected(password: str, **kwargs) -> str:
    """The English reason the policy gives for refusing `password`."""
    with pytest.raises(PasswordRejected) as info:
        check_policy(password, **kwargs)
    assert info.value.code == "password_rejected"
    assert info.value.status == 422
    assert info.value.field == "password"
    return info.value.message("en")


# --- policy ---------------------------------------------------------------------------------

@pytest.mark.parametrize("password", [
    "kq8!zv#m",                       # exactly 8
    "x" * 7 + "y",                    # no composition rules: letters only
    "correct horse battery staple",   # a passphrase with spaces
    "只用中文也可以的密码",               # any characters
    "🔑🔒🗝️🔓 unlock",                  # emoji
    "8" * 3 + "1" * 3 + "29",         # digits only
    "q" * 63 + "z",                   # 64 characters must be allowed (ASVS 6.2.9)
    "w" * 127 + "v",                  # up to the configured maximum (128)
])
def test_acceptable_passwords(password):
    check_policy(password)


def test_length_limits():
    assert "at least 8" in rejected("kq8!zv#")
    assert "at most 128" in rejected("w" * 128 + "v")
    assert "at least 15" in rejected("fourteen chars", min_length=15)
    check_policy("a" * 70 + "b", max_length=71)


@pytest.mark.parametrize("password", ["password", "PASSWORD", "Password", "123456789", "qwertyuiop",
                                      "iloveyou", "woaini1314", "a1b2c3d4"])
def test_common_passwords_are_refused(password):
    assert "common" in rejected(password)


def test_the_shipped_list_is_loaded():
    common = common_passwords()
    assert len(common) >= 3000  # ASVS 6.2.4: at least the top 3,000
    assert all(p == p.lower() for p in common)
    assert not any(p.startswith("#") for p in common)


def test_a_single_repeated_character_is_refused():
    assert "common" in rejected("aaaaaaaaaaaa")


def test_own_phone_or_id_number_is_refused():
    context = ("13800138000", "11010519491231002X", "31002X")
    assert "phone or ID" in rejected("my13800138000!", context=context)
    assert "phone or ID" in rejected("id 11010519491231002x", context=context)
    assert "phone or ID" in rejected("tail31002Xpass", context=context)
    check_policy("unrelated long passphrase", context=context)


def test_short_context_words_do_not_forbid_everything():
    check_policy("abc passphrase here", context=("abc",))


# --- hashing ------------------------------------------------------------------------------

# docs/domain.md §0 / ASVS 5.0 Appendix C: t=1 m≥46 MiB; or t=2 m≥19 MiB; or t≥3 m≥12 MiB; p=1.
def meets_asvs(time_cost: int, memory_kib: int) -> bool:
    return (time_cost == 1 and memory_kib >= 47104) or (time_cost == 2 and memory_kib >= 19456) \
        or (time_cost >= 3 and memory_kib >= 12288)


def test_hashes_are_argon2id_with_at_least_the_asvs_parameters():
    stored = HASHER.hash("correct horse battery staple")
    assert stored.startswith("$argon2id$v=19$")
    params = extract_parameters(stored)
    assert params.type is argon2.Type.ID
    assert meets_asvs(params.time_cost, params.memory_cost)
    assert params.parallelism == 1
    assert params.salt_len >= 16


def test_the_default_settings_meet_asvs():
    sec = SecuritySettings()
    assert meets_asvs(sec.argon2_time_cost, sec.argon2_memory_kib)
    with pytest.raises(ValidationError):
        SecuritySettings(argon2_memory_kib=8192)
    with pytest.raises(ValidationError):
        SecuritySettings(argon2_time_cost=1)
    with pytest.raises(ValueError, match="ASVS"):
        PasswordHasher(time_cost=2, memory_kib=8192)


def test_each_hash_has_its_own_salt():
    a, b = HASHER.hash("same password"), HASHER.hash("same password")
    assert a != b
    assert HASHER.verify(a, "same password")
    assert HASHER.verify(b, "same password")


def test_verification_is_exactly_as_typed():
    stored = HASHER.hash("Correct horse ")
    assert HASHER.verify(stored, "Correct horse ")
    for typed in ("Correct horse", "correct horse ", " Correct horse ", "Correct  horse ", "Correct horse \n"):
        assert not HASHER.verify(stored, typed), repr(typed)


def test_no_unicode_normalisation_and_no_truncation():
    composed, decomposed = "caf\u00e9 au lait!", "cafe\u0301 au lait!"
    stored = HASHER.hash(composed)
    assert not HASHER.verify(stored, decomposed)
    long = "0123456789abcdef" * 8  # 128 characters; bcrypt would have looked at 72 bytes only
    stored = HASHER.hash(long)
    assert HASHER.verify(stored, long)
    assert not HASHER.verify(stored, long[:72])
    assert not HASHER.verify(stored, long[:-1] + "g")


def test_a_hash_with_weaker_parameters_needs_rehash_and_still_verifies():
    weak = argon2.PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash("old password")
    assert HASHER.needs_rehash(weak)
    assert HASHER.verify(weak, "old password")
    assert not HASHER.needs_rehash(HASHER.hash("old password"))


def test_garbage_stored_hash_is_a_mismatch_not_an_error():
    assert not HASHER.verify("not a hash", "anything")
    assert not HASHER.verify("$argon2id$v=19$m=19456,t=2,p=1$broken", "anything")


class CountingHasher:
    """Wraps argon2's hasher to count the hashes computed."""

    def __init__(self, inner):
        self.inner = inner
        self.hashes = 0

    def hash(self, password):
        self.hashes += 1
        return self.inner.hash(password)

    def verify(self, stored, password):
        return self.inner.verify(stored, password)


def test_verifying_against_no_hash_still_costs_a_hash(monkeypatch):
    hasher = PasswordHasher()
    counting = CountingHasher(hasher._hasher)
    monkeypatch.setattr(hasher, "_hasher", counting)
    assert hasher.verify(None, "whatever was typed") is False
    assert counting.hashes == 1
