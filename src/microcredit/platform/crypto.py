"""Protection of personal data: field encryption, blind indexes, masking.

* **Field encryption** — AES-256-GCM (the `cryptography` library). A stored
  value is `v1:<key id>:<base64(nonce ‖ ciphertext ‖ tag)>`. The key id travels
  with each value so keys rotate: new values use the active key, old ones stay
  readable while their key is in the keyring, and `microcredit keys rotate`
  re-encrypts every marked column with the active key. The column's name is
  bound as associated data, so a ciphertext copied into another column fails
  to decrypt.
* **Blind index** — HMAC-SHA256 over the normalised value with a separate key:
  equality lookups and uniqueness ("this ID number is already registered")
  without ever decrypting.
* **Masking** — what every API response shows unless the caller holds the
  permission to see the value in full (docs/domain.md §5.3 defaults).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_PREFIX = "v1"


class CryptoError(RuntimeError):
    """A value could not be decrypted (unknown key id, tampering, wrong column)."""


def parse_keyring(spec: str) -> dict[str, bytes]:
    """Parse `kid:base64key,kid2:base64key` into {kid: 32-byte key}."""
    keys: dict[str, bytes] = {}
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        kid, sep, b64 = part.partition(":")
        if not sep or not kid or ":" in kid:
            raise ValueError("field key entries look like 'kid:base64key'")
        try:
            key = base64.b64decode(b64, validate=True)
        except binascii.Error as exc:
            raise ValueError(f"field key {kid!r} is not valid base64") from exc
        if len(key) != 32:
            raise ValueError(f"field key {kid!r} must be 32 bytes (AES-256), got {len(key)}")
        keys[kid] = key
    if not keys:
        raise ValueError("the field keyring is empty")
    return keys


def new_key_spec(kid: str) -> str:
    """A fresh random keyring entry `kid:base64key` (for `microcredit keys new`)."""
    return f"{kid}:{base64.b64encode(os.urandom(32)).decode()}"


@dataclass(frozen=True)
class FieldCipher:
    """AES-256-GCM encryption of single column values, with key ids."""

    keys: dict[str, bytes]
    active_kid: str

    @classmethod
    def from_spec(cls, spec: str, active: str | None = None) -> FieldCipher:
        """Build from the keyring setting; the active key defaults to the last entry."""
        keys = parse_keyring(spec)
        kid = active or list(keys)[-1]
        if kid not in keys:
            raise ValueError(f"active field key {kid!r} is not in the keyring")
        return cls(keys=keys, active_kid=kid)

    def encrypt(self, plaintext: str, *, context: str) -> str:
        """Encrypt `plaintext` for the column named by `context` (e.g. 'borrowers.id_number')."""
        nonce = os.urandom(12)
        ct = AESGCM(self.keys[self.active_kid]).encrypt(nonce, plaintext.encode(), context.encode())
        return f"{_PREFIX}:{self.active_kid}:{base64.b64encode(nonce + ct).decode()}"

    def decrypt(self, token: str, *, context: str) -> str:
        """Decrypt a value written by `encrypt` for the same `context`."""
        try:
            prefix, kid, b64 = token.split(":", 2)
        except ValueError as exc:
            raise CryptoError("not an encrypted value") from exc
        if prefix != _PREFIX:
            raise CryptoError(f"unknown encryption format {prefix!r}")
        key = self.keys.get(kid)
        if key is None:
            raise CryptoError(f"key id {kid!r} is not in the keyring")
        try:
            raw = base64.b64decode(b64, validate=True)
        except binascii.Error as exc:
            raise CryptoError("not an encrypted value") from exc
        if len(raw) < 12 + 16:  # nonce and tag
            raise CryptoError("not an encrypted value (truncated)")
        try:
            return AESGCM(key).decrypt(raw[:12], raw[12:], context.encode()).decode()
        except InvalidTag as exc:
            raise CryptoError("value failed authentication (tampered, or wrong column)") from exc

    def key_id_of(self, token: str) -> str:
        """The key id a stored value was encrypted with."""
        return token.split(":", 2)[1]

    def needs_rotation(self, token: str) -> bool:
        """Whether a stored value uses a key other than the active one."""
        return self.key_id_of(token) != self.active_kid


@dataclass(frozen=True)
class BlindIndex:
    """Keyed HMAC-SHA256 of normalised values, for lookups without decryption."""

    key: bytes

    def __call__(self, value: str, *, domain: str) -> str:
        """The index of `value` within `domain` (e.g. 'id_number', 'phone')."""
        msg = domain.encode() + b"\x00" + value.encode()
        return hmac.new(self.key, msg, hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class Keyring:
    """The installation's keys for personal data, handed to the services that need them.

    `cipher` encrypts column values, `blind_index` makes lookup keys of them, and
    `signing_key` keys the short-lived hashes (SMS codes, OAuth state) that must be
    useless to whoever reads the database.
    """

    cipher: FieldCipher
    blind_index: BlindIndex
    signing_key: bytes


def mask_middle(value: str, keep_first: int, keep_last: int, char: str = "*") -> str:
    """Keep the first and last characters, mask the rest (138****8000)."""
    if len(value) <= keep_first + keep_last:
        return char * len(value)
    hidden = len(value) - keep_first - keep_last
    return value[:keep_first] + char * hidden + (value[-keep_last:] if keep_last else "")


def mask_id_number(value: str, style: str = "birthdate") -> str:
    """Mask a resident ID number: hide the birth date (positions 7–14) or all but 1+1."""
    if style == "strict":
        return mask_middle(value, 1, 1)
    if len(value) == 18:
        return value[:6] + "*" * 8 + value[14:]
    return mask_middle(value, 1, 1)


def mask_phone(value: str, keep: tuple[int, int] = (3, 4)) -> str:
    """Mask a mobile number (138****8000)."""
    return mask_middle(value, *keep)


def mask_card(value: str, keep: tuple[int, int] = (6, 4)) -> str:
    """Mask a bank card number: BIN + last 4 (622588******7430)."""
    return mask_middle(value, *keep)


def mask_name(value: str) -> str:
    """Mask a personal name: keep the first character (张**)."""
    if not value:
        return value
    return value[0] + "*" * (len(value) - 1)
