"""API plumbing shared by every app's router: authentication (Bearer tokens or the console
session with CSRF), permission + scope checks, error bodies, cursor pagination, idempotent writes.

Adapters stay thin: an endpoint declares ``@require("members.view_member", "members:read")``,
parses input with a schema, calls one service or selector, and renders the result.
"""

from __future__ import annotations

import base64
import copy
import functools
import json
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest
from ninja import Status
from ninja.security import HttpBearer, SessionAuth

from . import context, idempotency
from .errors import IDEMPOTENCY_KEY_REQUIRED as _KEY_REQUIRED
from .errors import (
    INVALID_CURSOR,
    PERMISSION_DENIED,
    TOKEN_SCOPE_MISSING,
    DomainError,
)
from .services import api_token_lookup

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


class BearerAuth(HttpBearer):
    openapi_scheme = "bearer"
    laoke_need: tuple[str, str | None] | None = None  # set per operation by enforce_permissions()

    def authenticate(self, request: HttpRequest, token: str):
        found = api_token_lookup(token)
        if found is None:
            return None
        request.api_token = found
        request.user = found.user
        _bind(request, found.user)
        if self.laoke_need:
            check_permission(request, *self.laoke_need)
        return found.user


class ConsoleSessionAuth(SessionAuth):
    """The console's own session (htmx calls from console pages), CSRF-checked on writes."""

    laoke_need: tuple[str, str | None] | None = None

    def authenticate(self, request: HttpRequest, key):
        user = super().authenticate(request, key)
        if user is not None and user.is_staff:
            _bind(request, user)
            if self.laoke_need:
                check_permission(request, *self.laoke_need)
            return user
        return None


def _bind(request, user) -> None:
    ctx = getattr(request, "laoke_ctx", None) or context.get()
    ctx.user = user
    ctx.lang = lang_of(request)


AUTH = [BearerAuth(), ConsoleSessionAuth()]


def lang_of(request) -> str:
    lang = getattr(request, "LANGUAGE_CODE", "") or "zh-hans"
    return "en" if lang.startswith("en") else "zh-hans"


def check_permission(request, perm: str, scope: str | None) -> None:
    token = getattr(request, "api_token", None)
    if token is not None and scope is not None and scope not in token.scopes:
        raise DomainError(TOKEN_SCOPE_MISSING, scope=scope)
    if not request.user.has_perm(perm):
        raise DomainError(PERMISSION_DENIED)


def require(perm: str, scope: str | None = None):
    """Declare what an endpoint needs; checked before the endpoint body runs."""

    def deco(fn):
        @functools.wraps(fn)
        def wrapper(request, *args, **kwargs):
            check_permission(request, perm, scope)
            return fn(request, *args, **kwargs)

        wrapper.laoke_permission = (perm, scope)
        return wrapper

    return deco


def enforce_permissions(api) -> int:
    """Move each endpoint's ``@require`` check into its authentication step, so a caller without
    the permission gets 403 before the request body is even validated (no 422 leaking the schema
    to the unauthorised, and a permission matrix that can be tested with empty bodies). The
    decorator's own check stays as a second line. Returns the number of guarded operations."""
    guarded = 0
    for bound in api._get_bound_routers():
        for path_view in bound.path_operations.values():
            for op in path_view.operations:
                need = getattr(op.view_func, "laoke_permission", None)
                if need is None:
                    continue
                callbacks = []
                for cb in op.auth_callbacks:
                    cb = copy.copy(cb)
                    cb.laoke_need = need
                    callbacks.append(cb)
                op.auth_callbacks = callbacks
                guarded += 1
    return guarded


def has_scope(request, scope: str) -> bool:
    token = getattr(request, "api_token", None)
    return token is None or scope in token.scopes


# --- cursor pagination ---------------------------------------------------------------------------


def _encode_cursor(pk: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": pk}).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))["after"]
    except (ValueError, KeyError, TypeError) as exc:
        raise DomainError(INVALID_CURSOR, field="cursor") from exc
    if not isinstance(value, int):
        raise DomainError(INVALID_CURSOR, field="cursor")
    return value


def paginate(queryset, *, cursor: str | None, limit: int | None) -> tuple[list, str | None]:
    """Keyset pagination on the primary key, newest first: stable under concurrent inserts."""
    limit = min(max(limit or DEFAULT_LIMIT, 1), MAX_LIMIT)
    qs = queryset.order_by("-pk")
    if cursor:
        qs = qs.filter(pk__lt=_decode_cursor(cursor))
    rows = list(qs[: limit + 1])
    next_cursor = _encode_cursor(rows[limit - 1].pk) if len(rows) > limit else None
    return rows[:limit], next_cursor


# --- idempotent writes ---------------------------------------------------------------------------


def _render_jsonable(render: Callable[[Any], tuple[int, Any]], result: Any) -> tuple[int, Any]:
    """The stored response is JSON (a replay returns it): dates, times and decimals become the
    strings the response schema renders them as, so the first answer and a replay are the same."""
    from pydantic_core import to_jsonable_python

    status, body = render(result)
    return status, to_jsonable_python(body)


def idempotent_write(
    request,
    *,
    scope: str,
    payload: Any,
    call: Callable[[idempotency.Claim | None], Any],
    render: Callable[[Any], tuple[int, Any]],
    required: bool = False,
    owner: str | None = None,
) -> Status:
    """Run ``call`` (which invokes one service, passing the claim through) at most once per
    Idempotency-Key. ``required=True`` for writes that move value (400 without a key). Keys are
    per caller: the staff user, or ``owner`` for callers that are not users (a member's session)."""
    key = request.headers.get("Idempotency-Key")
    if not key:
        if required:
            raise DomainError(_KEY_REQUIRED)
        return Status(*render(call(None)))
    claim = idempotency.claim(scope=f"{scope}@{owner or request.user.pk}", key=key, payload=payload)
    if claim.replay is not None:
        return Status(*claim.replay)
    claim.render = functools.partial(_render_jsonable, render)
    try:
        call(claim)
    except BaseException:
        idempotency.release(claim)
        raise
    if claim.rendered is None:
        raise RuntimeError(f"{scope}: the service did not call idempotency.complete() in its transaction")
    return Status(*claim.rendered)


# --- the OpenAPI document ---------------------------------------------------------------------------

ERROR_SCHEMA_NAME = "Error"
ERROR_SCHEMA = {
    "title": ERROR_SCHEMA_NAME,
    "type": "object",
    "description": "Every error: a stable code, a message in the caller's language and details "
    "(for 422: details.errors = [{field, code, message}]).",
    "required": ["code", "message", "details"],
    "properties": {
        "code": {"type": "string"},
        "message": {"type": "string"},
        "details": {"type": "object"},
    },
}
# pydantic renders ``time`` as JSON Schema format "time", which (RFC 3339 full-time) requires a UTC
# offset; the API reads and writes local wall-clock times ("21:00:00") and refuses offsets.
LOCAL_TIME = {"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,6})?)?$"}


def _module_label(model) -> str:
    """``laoke.imports.api_exports`` → ``ImportsExports``; ``laoke.catalog.api`` → ``Catalog``."""
    parts = model.__module__.split(".")
    words = parts[1:2] + [w for p in parts[2:] for w in p.split("_") if w != "api"]
    return "".join(w.title() for w in words)


def _models_of(api) -> set:
    """Every schema class (and enum) the API's operations read or answer with, nested ones too."""
    import enum

    from pydantic import BaseModel

    seen: set = set()

    def walk(tp) -> None:
        if isinstance(tp, type) and issubclass(tp, enum.Enum):
            seen.add(tp)
            return
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            if tp in seen:
                return
            seen.add(tp)
            for f in tp.model_fields.values():
                walk(f.annotation)
            return
        for arg in getattr(tp, "__args__", ()) or ():
            walk(arg)

    for bound in api._get_bound_routers():
        for path_view in bound.path_operations.values():
            for op in path_view.operations:
                for model in [*op.models, *op.response_models.values()]:
                    walk(model)
    return {m for m in seen if m.__module__.startswith("laoke.")}


def openapi_component_names(api) -> dict[type, str]:
    """The OpenAPI component name of every schema class of the API: its class name, prefixed by
    its module (``CatalogGiftOut``, ``PromotionsRulesGiftOut``) when another class has the same
    name. ninja would otherwise name components by pydantic's short name alone, so one app's
    ``GiftOut`` silently replaced another's in the document (and a page class built in a function
    was just ``Page``)."""
    models = _models_of(api)
    by_name: dict[str, list] = {}
    for model in models:
        by_name.setdefault(model.__name__, []).append(model)
    names = {}
    for name, group in by_name.items():
        for model in group:
            outer = [p for p in model.__qualname__.split(".")[:-1] if p.isidentifier() and p[0] != "_"]
            names[model] = name if len(group) == 1 else _module_label(model) + "".join(outer) + name
    return names


def openapi_unique_names(api) -> dict[type, str]:
    """Install the names of :func:`openapi_component_names` into ninja's JSON-schema generator
    (it makes one document per call, so pydantic's own de-duplication never sees two apps)."""
    import ninja.openapi.schema as ninja_openapi
    from ninja.schema import NinjaGenerateJsonSchema

    names = openapi_component_names(api)
    # pydantic's reference of a class: "module.qualname:id" (see pydantic._internal._core_utils)
    by_ref = {f"{m.__module__}.{m.__qualname__}:{id(m)}": f"laoke.{n}:{id(m)}" for m, n in names.items()}

    class UniqueNames(NinjaGenerateJsonSchema):
        def get_defs_ref(self, core_mode_ref):
            core_ref, mode = core_mode_ref
            return super().get_defs_ref((by_ref.get(core_ref, core_ref), mode))

    ninja_openapi.NinjaGenerateJsonSchema = UniqueNames
    return names


def _walk_json(node) -> None:
    if isinstance(node, dict):
        if node.get("format") == "time" and node.get("type") == "string":
            del node["format"]
            node.update(LOCAL_TIME)
        for value in node.values():
            _walk_json(value)
    elif isinstance(node, list):
        for value in node:
            _walk_json(value)


def openapi_postprocess(schema: dict) -> dict:
    """The one place the generated OpenAPI document is amended:

    - every operation documents the error statuses the API can answer with (each status any
      error code is defined with, bar 500) and their body, the shared ``Error`` schema;
    - ``time`` values are local wall-clock times (a pattern instead of RFC 3339 "time")."""
    from .errors import REGISTRY

    statuses = sorted({e.status for e in REGISTRY.values() if e.status != 500})
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    if components.get(ERROR_SCHEMA_NAME, ERROR_SCHEMA) != ERROR_SCHEMA:
        raise RuntimeError(f"an API schema is named {ERROR_SCHEMA_NAME}, which the error body uses")
    components[ERROR_SCHEMA_NAME] = ERROR_SCHEMA
    ref = {"$ref": f"#/components/schemas/{ERROR_SCHEMA_NAME}"}
    from http import HTTPStatus

    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            for status in statuses:
                responses.setdefault(
                    status,
                    {
                        "description": HTTPStatus(status).phrase,
                        "content": {"application/json": {"schema": ref}},
                    },
                )
    _walk_json(schema)
    return schema
