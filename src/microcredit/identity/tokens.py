"""Opaque secrets: session tokens, tickets and one-time codes.

Session tokens are 256 random bits from the operating system's CSPRNG
(`secrets`), handed to the client once and stored only as their SHA-256 hash,
so a copy of the database does not let anyone sign in. A 256-bit random value
needs no salt or slow hash: it cannot be guessed, only stolen.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

TOKEN_BYTES = 32  # 256 bits (ASVS 7.2.3 asks for at least 128)


def new_token() -> str:
    """A new opaque token (URL-safe base64 of 256 random bits)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_numeric_code(digits: int = 6) -> str:
    """A uniformly random numeric code, e.g. for SMS verification."""
    return str(secrets.randbelow(10**digits)).zfill(digits)


def keyed_hash(key: bytes, *parts: str) -> str:
    """HMAC-SHA256 over the parts (stored form of short codes, bound to their context)."""
    return hmac.new(key, "\x00".join(parts).encode(), hashlib.sha256).hexdigest()


def constant_time_equal(a: str, b: str) -> bool:
    """Compare two secrets without leaking where they differ."""
    return hmac.compare_digest(a.encode(), b.encode())
