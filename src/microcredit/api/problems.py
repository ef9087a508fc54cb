"""Errors as `application/problem+json` (RFC 9457), in the request's language.

Every error body has the same shape::

    {"type": "https://microcredit.dev/problems/id_number_checksum",
     "title": "...", "status": 422, "code": "id_number_checksum",
     "detail": "身份证号码校验位不正确，请核对是否输错", "field": "id_number",
     "errors": [{"field": "id_number", "code": "id_number_checksum", "message": "..."}],
     "request_id": "..."}

`code` is stable and machine-readable; `detail` is for people. Validation
errors name each field (dotted path within the body; `body` for a body that is not JSON at all, code
`body_malformed`). `field` is set when there is exactly one error; with several it is null and `errors`
names each. Unexpected exceptions
become a 500 with code `internal_error` and no internals in the body.
"""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from microcredit.api.observability import NO_STORE, SECURITY_HEADERS
from microcredit.db.retry import is_busy
from microcredit.errors import DomainError, ValidationFailed

log = structlog.get_logger(__name__)
PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://microcredit.dev/problems/"


class FieldError(BaseModel):
    """One field's problem."""

    field: str
    code: str
    message: str


class ConflictWith(BaseModel):
    """The record that already holds what was asked for (shown only to callers who may see it)."""

    entity_type: str
    id: int
    name: str | None = None


class Problem(BaseModel):
    """An RFC 9457 problem document with our extensions."""

    type: str
    title: str
    status: int
    code: str
    detail: str
    field: str | None = None
    errors: list[FieldError] = []
    request_id: str | None = None
    retry_after: int | None = None
    locked_until: str | None = None
    fields: list[str] | None = None
    conflict_with: ConflictWith | None = None
    apr_percent: str | None = None
    cap_percent: str | None = None
    limit_percent: str | None = None
    reason: str | None = Field(default=None, description="A loan event the engine refused: its reason code "
                               "(e.g. reversal_target_unknown)")
    rule: str | None = Field(default=None, description="A collection-conduct rule the action broke "
                             "(e.g. quiet_hours, effective_calls_per_day; docs/collections.md)")
    placeholder: str | None = Field(default=None, description="A contract template's unknown placeholder, named "
                                    "from the context's root (e.g. borrower.no_such; docs/contracts.md)")
    product_code: str | None = Field(default=None, description="The product whose published version holds "
                                     "the thing refused (account_mapped_by_product)")
    product_version: int | None = Field(default=None, description="That product's version number")


def language_of(request: Request) -> str:
    """zh-CN unless the client prefers English."""
    header = request.headers.get("accept-language", "")
    first = header.split(",")[0].strip().lower()
    return "en" if first.startswith("en") else "zh-CN"


def _response(request: Request, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
              ) -> JSONResponse:
    body.setdefault("request_id", getattr(request.state, "request_id", None))
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def domain_error_body(exc: DomainError, language: str) -> dict[str, Any]:
    """The problem document of a domain error."""
    message = exc.message(language)
    body: dict[str, Any] = {
        "type": TYPE_BASE + exc.code, "title": exc.code.replace("_", " ").capitalize(),
        "status": exc.status, "code": exc.code,
        "detail": message, "field": exc.field, "errors": [],
    }
    if isinstance(exc, ValidationFailed):
        zh = language.startswith("zh")
        body["errors"] = [{"field": p.field, "code": p.code, "message": p.message_zh if zh else p.message_en}
                          for p in exc.problems]
    elif exc.field:
        body["errors"] = [{"field": exc.field, "code": exc.code, "message": message}]
    body.update(exc.extra)
    return body


async def handle_domain_error(request: Request, exc: Exception) -> JSONResponse:
    """Render a DomainError."""
    assert isinstance(exc, DomainError)
    return _response(request, exc.status, domain_error_body(exc, language_of(request)), exc.headers or None)


_PYDANTIC_ZH = {
    "missing": "必填",
    "string_too_short": "内容太短",
    "string_too_long": "内容太长",
    "string_pattern_mismatch": "格式不正确",
    "extra_forbidden": "不允许的字段",
    "int_parsing": "请输入整数",
    "decimal_parsing": "请输入数字",
    "literal_error": "取值不在允许范围内",
    "enum": "取值不在允许范围内",
    "greater_than_equal": "数值太小",
    "less_than_equal": "数值太大",
    "greater_than": "数值太小",
    "less_than": "数值太大",
    "value_error": "取值无效",
    "date_parsing": "日期格式应为 YYYY-MM-DD",
    "date_from_datetime_parsing": "日期格式应为 YYYY-MM-DD",
    "bool_parsing": "请输入 true 或 false",
    "int_type": "请输入整数",
    "bool_type": "请输入 true 或 false",
    "string_type": "请输入文本",
    "model_attributes_type": "请求体应为 JSON 对象",
    "dict_type": "请求体应为 JSON 对象",
    "list_type": "应为列表",
}


async def handle_validation_error(request: Request, exc: Exception) -> JSONResponse:
    """Render FastAPI/Pydantic request validation errors with field names."""
    assert isinstance(exc, RequestValidationError)
    zh = language_of(request).startswith("zh")
    errors = []
    for err in exc.errors():
        etype = str(err.get("type", "value_error"))
        if etype == "json_invalid":  # the body is not JSON at all: its location is a character offset
            errors.append({"field": "body", "code": "body_malformed",
                           "message": "请求体不是有效的 JSON" if zh else "the body is not valid JSON"})
            continue
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "header")]
        field = ".".join(loc) or "body"
        message = str(err.get("msg", "invalid"))
        if message.startswith("Value error, "):
            message = message[len("Value error, "):]
        ctx = err.get("ctx") or {}
        code = str(ctx.get("code") or etype)
        if etype == "value_error" and "valid email address" in message:
            code, message = "email_invalid", "电子邮箱格式不正确" if zh else "not a valid e-mail address"
        elif zh and "zh" in ctx:  # our own errors carry their Chinese text (platform.schema.field_error)
            message = str(ctx["zh"])
        elif zh:
            message = _PYDANTIC_ZH.get(etype, message) if etype != "value_error" else message
        errors.append({"field": field, "code": code, "message": message})
    first = errors[0] if errors else {"field": "body", "code": "validation_failed"}
    malformed = first["code"] == "body_malformed"
    code = "body_malformed" if malformed else "validation_failed"
    body = {
        "type": TYPE_BASE + code, "title": "The body is not valid JSON" if malformed else "Some fields are not valid",
        "status": 422, "code": code,
        "detail": first["message"] if malformed else ("输入有误，请检查标出的字段" if zh
                                                      else "Some fields are not valid"),
        "field": first["field"] if len(errors) == 1 else None, "errors": errors,
    }
    return _response(request, 422, body)


_HTTP_CODES = {404: ("not_found", "找不到该资源", "Not found"),
               405: ("method_not_allowed", "不支持该请求方法", "Method not allowed"),
               401: ("not_authenticated", "请先登录", "Please sign in"),
               403: ("permission_denied", "没有权限", "Forbidden"),
               413: ("body_too_large", "请求内容过大", "The request body is too large")}


async def handle_http_error(request: Request, exc: Exception) -> JSONResponse:
    """Render Starlette's HTTP errors (unknown routes, wrong methods) as problems."""
    assert isinstance(exc, StarletteHTTPException)
    code, zh, en = _HTTP_CODES.get(exc.status_code, ("http_error", "请求错误", "Request error"))
    lang_zh = language_of(request).startswith("zh")
    body = {"type": TYPE_BASE + code, "title": en, "status": exc.status_code, "code": code,
            "detail": zh if lang_zh else en, "field": None, "errors": []}
    return _response(request, exc.status_code, body, dict(exc.headers or {}) or None)


async def handle_concurrency(request: Request, exc: Exception) -> JSONResponse:
    """A concurrent change won (stale version, or a unique key taken meanwhile): 409, retry."""
    lang_zh = language_of(request).startswith("zh")
    code = "concurrent_update" if isinstance(exc, StaleDataError) else "conflict"
    body = {"type": TYPE_BASE + code, "title": "Conflict", "status": 409, "code": code,
            "detail": "数据已被其他操作修改，请刷新后重试" if lang_zh
            else "Someone else changed this meanwhile; reload and try again",
            "field": None, "errors": []}
    return _response(request, 409, body)


async def handle_database_error(request: Request, exc: Exception) -> JSONResponse:
    """A lock another request held past every retry of this one's unit of work: 503, retry soon.

    Any other driver error is a bug (500)."""
    if not is_busy(exc):
        return await handle_unexpected(request, exc)
    lang_zh = language_of(request).startswith("zh")
    body = {"type": TYPE_BASE + "database_busy", "title": "Busy", "status": 503, "code": "database_busy",
            "detail": "系统繁忙，请稍后重试" if lang_zh else "The system is busy; please retry in a moment",
            "field": None, "errors": []}
    return _response(request, 503, body, {"Retry-After": "1"})


async def handle_unexpected(request: Request, exc: Exception) -> JSONResponse:
    """A bug: log it with the request id, answer 500 without internals."""
    log.exception("request.failed", path=request.url.path, error=type(exc).__name__)
    lang_zh = language_of(request).startswith("zh")
    body = {"type": TYPE_BASE + "internal_error", "title": "Internal error", "status": 500,
            "code": "internal_error",
            "detail": "系统繁忙，请稍后重试" if lang_zh else "Something went wrong on our side; please retry",
            "field": None, "errors": []}
    # Sent by Starlette's outermost middleware, past ours: carry the request id and security headers here.
    headers = {k.decode(): v.decode() for k, v in (*SECURITY_HEADERS, NO_STORE)}
    request_id = getattr(request.state, "request_id", None)
    if request_id:
        headers["X-Request-ID"] = request_id
    return _response(request, 500, body, headers)


def install(app: FastAPI) -> None:
    """Register the handlers."""
    app.add_exception_handler(DomainError, handle_domain_error)
    app.add_exception_handler(RequestValidationError, handle_validation_error)
    app.add_exception_handler(StarletteHTTPException, handle_http_error)
    app.add_exception_handler(StaleDataError, handle_concurrency)
    app.add_exception_handler(IntegrityError, handle_concurrency)
    app.add_exception_handler(DBAPIError, handle_database_error)
    app.add_exception_handler(Exception, handle_unexpected)


# Declared in OpenAPI for every operation.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "description": text, "content": {PROBLEM_MEDIA_TYPE: {}}}
    for status, text in ((401, "Not signed in, or the session ended"),
                         (403, "The caller lacks the permission"),
                         (404, "Not found (or outside the caller's data scope)"),
                         (409, "Conflicts with the current state"),
                         (422, "Invalid input; `errors` names each field"),
                         (429, "Rate limited; see Retry-After"))
}
