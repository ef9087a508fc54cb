"""Field encryption (AES-256-GCM with key ids), blind indexes and masking."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from microcredit.config import SecuritySettings
from microcredit.platform.crypto import (
    BlindIndex,
    CryptoError,
    FieldCipher,
    mask_card,
    mask_id_number,
    mask_middle,
    mask_name,
    mask_phone,
    new_key_spec,
    parse_keyring,
)

K1 = "k1:" + base64.b64encode(b"1" * 32).decode()
K2 = "k2:" + base64.b64encode(b"2" * 32).decode()
CONTEXT = "borrowers.id_number"


def test_round_trip_carries_the_key_id():
    cipher = FieldCipher.from_spec(K1)
    token = cipher.encrypt("11010519491231002X", context=CONTEXT)
    prefix, kid, payload = token.split(":", 2)
    assert (prefix, kid) == ("v1", "k1")
    assert "11010519491231002X" not in token
    assert len(base64.b64decode(payload)) == 12 + len("11010519491231002X") + 16  # nonce, text, tag
    assert cipher.key_id_of(token) == "k1"
    assert cipher.decrypt(token, context=CONTEXT) == "11010519491231002X"


@given(st.text(max_size=200), st.text(min_size=1, max_size=40))
def test_any_text_round_trips(plaintext, context):
    cipher = FieldCipher.from_spec(K1)
    assert cipher.decrypt(cipher.encrypt(plaintext, context=context), context=context) == plaintext


def test_each_encryption_uses_a_fresh_nonce():
    cipher = FieldCipher.from_spec(K1)
    tokens = {cipher.encrypt("13800138000", context="users.phone") for _ in range(50)}
    assert len(tokens) == 50


def test_rotation():
    old = FieldCipher.from_spec(K1)
    stored = old.encrypt("13800138000", context="users.phone")
    rotated = FieldCipher.from_spec(f"{K1},{K2}")  # the active key defaults to the last entry
    assert rotated.active_kid == "k2"
    # Old values stay readable while their key is in the keyring, and are marked for re-encryption.
    assert rotated.decrypt(stored, context="users.phone") == "13800138000"
    assert rotated.needs_rotation(stored)
    fresh = rotated.encrypt("13800138000", context="users.phone")
    assert rotated.key_id_of(fresh) == "k2"
    assert not rotated.needs_rotation(fresh)
    # Once the old key is removed, its values are unreadable; the new ones are not affected.
    retired = FieldCipher.from_spec(K2)
    with pytest.raises(CryptoError, match="k1"):
        retired.decrypt(stored, context="users.phone")
    assert retired.decrypt(fresh, context="users.phone") == "13800138000"


def test_an_explicit_active_key():
    cipher = FieldCipher.from_spec(f"{K1},{K2}", active="k1")
    assert cipher.key_id_of(cipher.encrypt("x", context="c")) == "k1"
    with pytest.raises(ValueError, match="not in the keyring"):
        FieldCipher.from_spec(K1, active="k9")


def test_a_value_from_another_column_does_not_decrypt():
    cipher = FieldCipher.from_spec(K1)
    token = cipher.encrypt("11010519491231002X", context="borrowers.id_number")
    with pytest.raises(CryptoError):
        cipher.decrypt(token, context="users.phone")


@pytest.mark.parametrize("position", [0, 5, 12, 20, -1])
def test_tampering_fails(position):
    cipher = FieldCipher.from_spec(K1)
    prefix, kid, payload = cipher.encrypt("13800138000", context="users.phone").split(":", 2)
    raw = bytearray(base64.b64decode(payload))
    raw[position] ^= 0x01
    with pytest.raises(CryptoError):
        cipher.decrypt(f"{prefix}:{kid}:{base64.b64encode(bytes(raw)).decode()}", context="users.phone")


def test_relabelling_the_key_id_fails():
    both = FieldCipher.from_spec(f"{K1},{K2}")
    token = FieldCipher.from_spec(K1).encrypt("13800138000", context="users.phone")
    with pytest.raises(CryptoError):
        both.decrypt(token.replace(":k1:", ":k2:"), context="users.phone")


@pytest.mark.parametrize("token", ["", "plain text", "v2:k1:AAAA", "v1:k9:AAAA", "v1:k1:AAAA", "v1:k1:%%%",
                                   "v1:k1:" + base64.b64encode(b"n" * 12).decode()])
def test_malformed_values_fail_cleanly(token):
    with pytest.raises(CryptoError):
        FieldCipher.from_spec(K1).decrypt(token, context="c")


@pytest.mark.parametrize(("spec", "message"), [
    ("", "empty"),
    ("k1", "kid:base64key"),
    ("k1:not base64!", "base64"),
    ("k1:" + base64.b64encode(b"short").decode(), "32 bytes"),
    ("a:b:" + base64.b64encode(b"1" * 32).decode(), "base64"),
])
def test_bad_keyrings_are_refused(spec, message):
    with pytest.raises(ValueError, match=message):
        parse_keyring(spec)


def test_new_key_spec_is_a_usable_random_key():
    spec = new_key_spec("2026-11")
    assert parse_keyring(spec)["2026-11"] != parse_keyring(new_key_spec("2026-11"))["2026-11"]
    cipher = FieldCipher.from_spec(spec)
    assert cipher.decrypt(cipher.encrypt("x", context="c"), context="c") == "x"


# --- blind index -------------------------------------------------------------------------

def test_blind_index_is_deterministic_per_domain_and_key():
    index = BlindIndex(b"key-one")
    a = index("11010519491231002X", domain="id_number")
    assert a == BlindIndex(b"key-one")("11010519491231002X", domain="id_number")
    assert len(a) == 64
    assert int(a, 16) >= 0
    assert a != index("11010519491231002X", domain="phone")
    assert a != BlindIndex(b"key-two")("11010519491231002X", domain="id_number")
    assert a != index("11010519491231002x", domain="id_number")  # callers index the normalised value


def test_blind_index_separates_domain_from_value():
    index = BlindIndex(b"key")
    assert index("b", domain="a") != index("", domain="ab")


# --- masking (docs/domain.md §5.3 defaults) -------------------------------------------------------

#   function                                     input                  masked
MASKS = [
    (mask_card, "6225881414207430", "622588******7430"),
    (mask_phone, "13800138000", "138****8000"),
    (mask_id_number, "11010519491231002X", "110105********002X"),
    (lambda v: mask_id_number(v, "strict"), "11010519491231002X", "1****************X"),
    (mask_name, "张三丰", "张**"),
    (mask_name, "", ""),
    (lambda v: mask_middle(v, 3, 4), "1234567", "*******"),  # too short to show anything
    (lambda v: mask_middle(v, 2, 0), "abcdef", "ab****"),
]


@pytest.mark.parametrize(("mask", "value", "masked"), MASKS)
def test_masking(mask, value, masked):
    assert mask(value) == masked


def test_masking_defaults_come_from_the_settings():
    sec = SecuritySettings()
    assert (sec.mask_id_number, sec.mask_phone, sec.mask_card) == ("birthdate", (3, 4), (6, 4))
    assert mask_card("6225881414207430", sec.mask_card) == "622588******7430"
    assert mask_phone("13800138000", sec.mask_phone) == "138****8000"
