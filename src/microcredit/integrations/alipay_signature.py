"""Alipay's RSA2 signatures, for requests to its open API gateway and for its answers.

A request is signed over its parameters sorted by name, each written `name=value`
(raw, not URL-encoded), joined with `&`; parameters with an empty value and
`sign` itself are left out:

    app_id=2021…&charset=utf-8&code=4b20…&format=JSON&grant_type=authorization_code
    &method=alipay.system.oauth.token&sign_type=RSA2&timestamp=2026-11-25 10:00:00&version=1.0

`sign` is base64(RSA-SHA256 PKCS#1 v1.5) of that text's UTF-8 bytes, with the
app's private key. An answer is a JSON object holding the method's response
object (`alipay_system_oauth_token_response`, or `error_response`) and `sign`,
Alipay's signature over the **exact text** of that response object as it
appears in the answer — so the text is cut out of the answer as received, never
re-serialised. Used by our client and by the Alipay simulator.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

MAX_SIGNATURE_CHARS = 1024


class BadAnswer(ValueError):
    """An answer that is malformed, unsigned or not signed by the expected key."""


def content_to_sign(params: Mapping[str, str]) -> str:
    """The text a request's signature covers."""
    return "&".join(f"{k}={params[k]}" for k in sorted(params) if k != "sign" and params[k] != "")


@lru_cache(maxsize=16)
def _private_key(pem: str) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("not an RSA private key")
    return key


@lru_cache(maxsize=16)
def _public_key(pem: str) -> rsa.RSAPublicKey:
    key = serialization.load_pem_public_key(pem.encode())
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("not an RSA public key")
    return key


def public_key_of(private_pem: str) -> str:
    """The PEM public key of a PEM private key."""
    return _private_key(private_pem).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def sign_text(text: str, private_pem: str) -> str:
    """base64 RSA2 (SHA256withRSA) signature of `text`."""
    signature = _private_key(private_pem).sign(text.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode()


def verify_text(text: str, signature: str, public_pem: str) -> bool:
    """Whether `signature` (base64) is the RSA2 signature of `text` by the key's owner."""
    try:
        raw = base64.b64decode(signature, validate=True)
        _public_key(public_pem).verify(raw, text.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def sign_params(params: Mapping[str, str], private_pem: str) -> dict[str, str]:
    """The request's parameters with `sign` added."""
    return {**params, "sign": sign_text(content_to_sign(params), private_pem)}


def signed_answer(key: str, node: Mapping[str, Any], private_pem: str) -> str:
    """An answer as Alipay's gateway writes it: `{"<key>":{…},"sign":"…"}`."""
    text = json.dumps(node, ensure_ascii=False, separators=(",", ":"))
    return f'{{{json.dumps(key)}:{text},"sign":{json.dumps(sign_text(text, private_pem))}}}'


def _top_level_members(text: str) -> dict[str, tuple[Any, str]]:
    """Each member of the top-level JSON object: its value and its exact text. Duplicates are refused."""
    decoder = json.JSONDecoder()
    members: dict[str, tuple[Any, str]] = {}

    def skip(i: int) -> int:
        while i < len(text) and text[i] in " \t\r\n":
            i += 1
        return i

    i = skip(0)
    if not text.startswith("{", i):
        raise BadAnswer("the answer is not a JSON object")
    i = skip(i + 1)
    if text.startswith("}", i):
        return members
    while True:
        if not text.startswith('"', i):
            raise BadAnswer("the answer is not a JSON object")
        name, i = decoder.raw_decode(text, i)
        i = skip(i)
        if not text.startswith(":", i):
            raise BadAnswer("the answer is not a JSON object")
        start = skip(i + 1)
        value, end = decoder.raw_decode(text, start)
        if name in members:
            raise BadAnswer(f"the answer holds {name!r} twice")
        members[name] = (value, text[start:end])
        i = skip(end)
        if text.startswith("}", i):
            if skip(i + 1) != len(text):
                raise BadAnswer("the answer has text after its object")
            return members
        if not text.startswith(",", i):
            raise BadAnswer("the answer is not a JSON object")
        i = skip(i + 1)


def read_signed_answer(text: str, keys: tuple[str, ...], public_pem: str) -> tuple[str, dict[str, Any]]:
    """The response object of an answer (under the first of `keys` present) once its signature checks out."""
    try:
        members = _top_level_members(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise BadAnswer("the answer is not JSON") from exc
    key = next((k for k in keys if k in members), None)
    if key is None:
        raise BadAnswer("the answer holds no response object")
    node, node_text = members[key]
    if not isinstance(node, dict):
        raise BadAnswer("the response is not an object")
    signature = members.get("sign", (None, ""))[0]
    if not isinstance(signature, str) or not signature:
        raise BadAnswer("the answer is not signed")
    if len(signature) > MAX_SIGNATURE_CHARS or not verify_text(node_text, signature, public_pem):
        raise BadAnswer("the answer's signature is not the provider's")
    return key, node
