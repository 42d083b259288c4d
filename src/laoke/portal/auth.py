"""Member authentication of /api/v1/me (decision 0032): a member session, never a staff token.

The H5 pages send the HttpOnly cookie ``laoke_member``; apps send ``Authorization: Bearer <token>``.
CSRF: the cookie is SameSite=Lax, and every unsafe request relying on the cookie (and the login
endpoints called by the pages) must carry the header ``X-Laoke-H5: 1``: a cross-site form cannot
send it, and a cross-site fetch cannot without a CORS preflight this API never grants.
"""

from ninja import Router, Status
from ninja.security import APIKeyCookie, HttpBearer

from laoke.core import context
from laoke.core.api import idempotent_write, lang_of
from laoke.core.errors import DomainError

from . import services
from .error_codes import MEMBER_CSRF_REQUIRED

COOKIE = "laoke_member"
CSRF_HEADER = "X-Laoke-H5"
SAFE = {"GET", "HEAD", "OPTIONS"}


def _bind(request, session) -> None:
    request.member_session = session
    request.member = session.member
    ctx = getattr(request, "laoke_ctx", None) or context.get()
    ctx.lang = lang_of(request)


def csrf_check(request) -> None:
    if request.method not in SAFE and request.headers.get(CSRF_HEADER) != "1":
        raise DomainError(MEMBER_CSRF_REQUIRED)


class MemberBearer(HttpBearer):
    openapi_scheme = "bearer"

    def authenticate(self, request, token):
        session = services.session_lookup(token)
        if session is None:
            return None
        _bind(request, session)
        return session


class MemberCookie(APIKeyCookie):
    param_name = COOKIE

    def __init__(self):
        super().__init__(csrf=False)  # our own header check below, not Django's token

    def authenticate(self, request, key):
        session = services.session_lookup(key)
        if session is None:
            return None
        csrf_check(request)
        _bind(request, session)
        return session


MEMBER_AUTH = [MemberBearer(), MemberCookie()]

router = Router(tags=["me"], auth=MEMBER_AUTH)


def member_idem(request, *, scope: str, payload, call, render, required: bool = False) -> Status:
    """core.api.idempotent_write keyed by the member (members are not Django users)."""
    return idempotent_write(
        request,
        scope=f"me.{scope}",
        owner=f"m{request.member.pk}",
        payload=payload,
        call=call,
        render=render,
        required=required,
    )
