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
    claim.render = render
    try:
        call(claim)
    except BaseException:
        idempotency.release(claim)
        raise
    if claim.rendered is None:
        raise RuntimeError(f"{scope}: the service did not call idempotency.complete() in its transaction")
    return Status(*claim.rendered)
