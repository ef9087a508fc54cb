"""Refusals of the audit domain."""

from __future__ import annotations

from microcredit.errors import DomainError


class AnchorMalformed(DomainError):
    """An anchor to verify against is not a head hash (64 lowercase hexadecimal characters)."""

    status = 422
    code = "audit_anchor_malformed"
    message_zh = "锚定值应为审计链的头部哈希：64位十六进制字符"
    message_en = "An anchor is a head hash of the chain: 64 hexadecimal characters"
