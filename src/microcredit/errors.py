"""Errors are values with codes.

Every refusal the system makes is a `DomainError` subclass with a stable
machine-readable `code`, an HTTP `status` and a message in zh-CN and English.
The API renders them as `application/problem+json` (RFC 9457) in one handler;
the CLI prints them. Each domain declares its own subclasses in `errors.py`.

A refusal that must still leave a trace (a failed login counts towards the
lockout; a wrong SMS code uses up an attempt) sets `keeps_changes = True`:
the boundary then commits what the service flushed before raising, and still
answers with the error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar


class DomainError(Exception):
    """Base of all business refusals: a code, a status and bilingual messages."""

    code: ClassVar[str] = "error"
    status: ClassVar[int] = 400
    message_zh: ClassVar[str] = "请求无法处理"
    message_en: ClassVar[str] = "The request cannot be processed"
    keeps_changes: ClassVar[bool] = False

    def __init__(
        self,
        detail: str | None = None,
        *,
        field: str | None = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        self.detail = detail
        self.field = field
        self.params = dict(params or {})
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})
        super().__init__(detail or self.message_en.format(**self.params))

    def message(self, language: str) -> str:
        """The human message in `language` ("zh-CN" or "en")."""
        template = self.message_zh if language.lower().startswith("zh") else self.message_en
        try:
            return template.format(**self.params)
        except (KeyError, IndexError):
            return template


class FieldProblem:
    """One field's problem inside a validation error."""

    __slots__ = ("code", "field", "message_en", "message_zh")

    def __init__(self, field: str, code: str, message_en: str, message_zh: str) -> None:
        self.field = field
        self.code = code
        self.message_en = message_en
        self.message_zh = message_zh


class ValidationFailed(DomainError):
    """Input failed validation; `problems` names each field."""

    code = "validation_failed"
    status = 422
    message_zh = "输入有误，请检查标出的字段"
    message_en = "Some fields are not valid"

    def __init__(self, problems: list[FieldProblem]) -> None:
        self.problems = problems
        super().__init__(field=problems[0].field if len(problems) == 1 else None)


class NotFound(DomainError):
    """The object does not exist, or the caller may not know that it does."""

    code = "not_found"
    status = 404
    message_zh = "找不到该记录"
    message_en = "Not found"


class PermissionDenied(DomainError):
    """The caller lacks the permission the operation declares."""

    code = "permission_denied"
    status = 403
    message_zh = "您没有执行此操作的权限"
    message_en = "You do not have permission to do this"


class NotAuthenticated(DomainError):
    """No valid session."""

    code = "not_authenticated"
    status = 401
    message_zh = "请先登录"
    message_en = "Please sign in"


class Conflict(DomainError):
    """The request conflicts with the current state."""

    code = "conflict"
    status = 409
    message_zh = "与当前状态冲突，请刷新后重试"
    message_en = "The request conflicts with the current state; reload and try again"


class RateLimited(DomainError):
    """Too many requests; `retry_after` seconds to wait."""

    code = "rate_limited"
    status = 429
    message_zh = "请求过于频繁，请 {retry_after} 秒后再试"
    message_en = "Too many requests; try again in {retry_after} s"

    def __init__(self, retry_after: int, *, field: str | None = None) -> None:
        retry_after = max(1, int(retry_after))
        super().__init__(
            field=field,
            params={"retry_after": retry_after},
            headers={"Retry-After": str(retry_after)},
            extra={"retry_after": retry_after},
        )
