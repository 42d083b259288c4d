"""Domain errors with stable codes and messages in zh-hans and en (ARCHITECTURE rule 10).

Each app declares its codes in ``error_codes.py`` with :func:`define`; services raise
``DomainError(CODE, field=..., **params)``; the API maps an error to its HTTP status and a body
``{"code", "message", "details"}`` in the caller's language. Codes are part of the API contract:
never rename one, add a new one instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

REGISTRY: dict[str, ErrorCode] = {}


@dataclass(frozen=True)
class ErrorCode:
    code: str
    status: int
    zh: str
    en: str

    def message(self, lang: str = "zh-hans", **params: Any) -> str:
        template = self.en if lang.startswith("en") else self.zh
        try:
            return template.format(**params)
        except (KeyError, IndexError):
            return template


def define(code: str, status: int, zh: str, en: str) -> ErrorCode:
    existing = REGISTRY.get(code)
    if existing is not None and existing != ErrorCode(code, status, zh, en):
        raise RuntimeError(f"error code {code} defined twice with different texts")
    REGISTRY[code] = ErrorCode(code, status, zh, en)
    return REGISTRY[code]


class DomainError(Exception):
    """A business rule said no. Carries a stable code; nothing was written."""

    def __init__(self, error: ErrorCode, *, field: str | None = None, details: dict | None = None, **params):
        self.error = error
        self.field = field
        self.params = params
        self.details = dict(details or {})
        if field:
            self.details.setdefault("field", field)
        super().__init__(f"{error.code}: {error.message('en', **params)}")

    @property
    def code(self) -> str:
        return self.error.code

    @property
    def status(self) -> int:
        return self.error.status

    def message(self, lang: str = "zh-hans") -> str:
        return self.error.message(lang, **{"field": self.field or "", **self.params})

    def as_body(self, lang: str = "zh-hans") -> dict:
        return {"code": self.code, "message": self.message(lang), "details": self.details}


class ValidationErrors(DomainError):
    """Several field problems at once: details.errors = [{field, code, message}]."""

    def __init__(self, errors: list[DomainError]):
        super().__init__(VALIDATION_ERROR, details={})
        self.errors = errors

    def as_body(self, lang: str = "zh-hans") -> dict:
        items = [{"field": e.field, "code": e.code, "message": e.message(lang)} for e in self.errors]
        return {"code": self.code, "message": self.message(lang), "details": {"errors": items}}


@dataclass(frozen=True)
class RowError:
    """One problem of an imported file: where (file, row as numbered in the file — the header is
    row 1 —, column name), the offending value and why (an ErrorCode and its parameters)."""

    file: str
    row: int
    column: str
    value: str
    error: ErrorCode
    params: tuple = ()

    def as_dict(self, lang: str = "zh-hans") -> dict:
        return {
            "file": self.file,
            "row": self.row,
            "column": self.column,
            "value": self.value[:100],
            "code": self.error.code,
            "message": self.error.message(lang, column=self.column, **dict(self.params)),
        }


class RowErrors(DomainError):
    """An import refused as a whole: details.errors lists every problem by row and column
    (details.total counts them all when the list is cut at ``shown``)."""

    def __init__(self, error: ErrorCode, errors: list[RowError], *, shown: int = 1000, **params):
        super().__init__(error, count=len(errors), **params)
        self.errors = errors
        self.shown = shown

    def as_body(self, lang: str = "zh-hans") -> dict:
        items = [e.as_dict(lang) for e in self.errors[: self.shown]]
        return {
            "code": self.code,
            "message": self.message(lang),
            "details": {"errors": items, "total": len(self.errors)},
        }


VALIDATION_ERROR = define("VALIDATION_ERROR", 422, "输入有误，请检查后重试", "The input is not valid")
NOT_FOUND = define("NOT_FOUND", 404, "找不到该记录", "Not found")
AUTH_REQUIRED = define("AUTH_REQUIRED", 401, "请先登录或提供有效的 API 令牌", "Authentication required")
PERMISSION_DENIED = define("PERMISSION_DENIED", 403, "没有权限执行此操作", "You do not have permission")
TOKEN_SCOPE_MISSING = define(
    "TOKEN_SCOPE_MISSING", 403, "API 令牌缺少权限范围 {scope}", "The API token lacks the scope {scope}"
)
RATE_LIMITED = define("RATE_LIMITED", 429, "操作过于频繁，请稍后再试", "Too many attempts, try again later")
IDEMPOTENCY_KEY_REQUIRED = define(
    "IDEMPOTENCY_KEY_REQUIRED",
    400,
    "此操作需要 Idempotency-Key 请求头",
    "This write needs an Idempotency-Key header",
)
IDEMPOTENCY_KEY_INVALID = define(
    "IDEMPOTENCY_KEY_INVALID",
    400,
    "Idempotency-Key 须为 1–128 个可见字符",
    "Idempotency-Key must be 1-128 visible characters",
)
IDEMPOTENCY_CONFLICT = define(
    "IDEMPOTENCY_CONFLICT",
    409,
    "该 Idempotency-Key 已用于不同的请求内容",
    "This Idempotency-Key was already used with a different request",
)
IDEMPOTENCY_IN_PROGRESS = define(
    "IDEMPOTENCY_IN_PROGRESS",
    409,
    "相同 Idempotency-Key 的请求正在处理中",
    "A request with this Idempotency-Key is still being processed",
)
INVALID_CURSOR = define("INVALID_CURSOR", 400, "分页游标无效", "The pagination cursor is not valid")
FIELD_TOO_LONG = define(
    "FIELD_TOO_LONG", 422, "{field} 过长（最多 {max} 个字符）", "{field} is too long (max {max})"
)
FIELD_REQUIRED = define("FIELD_REQUIRED", 422, "{field} 为必填项", "{field} is required")
FIELD_INVALID = define("FIELD_INVALID", 422, "{field} 的值无效", "{field} has an invalid value")
