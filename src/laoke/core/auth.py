"""Console login with throttling: failures are counted per username and per IP in the database
(so every web process sees them); once either reaches the limit, logins are refused until the
window passes, even with the right password."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from . import ratelimit
from .middleware import client_ip


def _limits(request, username: str | None) -> list[tuple[str, int]]:
    """(key, limit) pairs: per username, and (higher) per client IP."""
    out = [(f"login:user:{(username or '').lower()[:150]}", settings.LAOKE_LOGIN_MAX_FAILURES)]
    ip = client_ip(request) if request is not None else None
    if ip:
        out.append((f"login:ip:{ip}", settings.LAOKE_LOGIN_MAX_FAILURES_PER_IP))
    return out


def login_locked(request, username: str | None) -> bool:
    window = settings.LAOKE_LOGIN_WINDOW_SECONDS
    return any(ratelimit.is_limited(k, limit=n, window_seconds=window) for k, n in _limits(request, username))


class ThrottledModelBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if login_locked(request, username):
            raise PermissionDenied("login locked")
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            window = settings.LAOKE_LOGIN_WINDOW_SECONDS
            for key, limit in _limits(request, username):
                ratelimit.hit(key, limit=limit, window_seconds=window)
        return user
