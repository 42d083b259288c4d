"""Console login with throttling: failures are counted per username and per IP in the database
(so every web process sees them); once either reaches the limit, logins are refused until the
window passes, even with the right password."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from . import ratelimit
from .middleware import client_ip


def _keys(request, username: str | None) -> list[str]:
    keys = [f"login:user:{(username or '').lower()[:150]}"]
    ip = client_ip(request) if request is not None else None
    if ip:
        keys.append(f"login:ip:{ip}")
    return keys


def login_locked(request, username: str | None) -> bool:
    limit = settings.LAOKE_LOGIN_MAX_FAILURES
    window = settings.LAOKE_LOGIN_WINDOW_SECONDS
    return any(ratelimit.is_limited(k, limit=limit, window_seconds=window) for k in _keys(request, username))


class ThrottledModelBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if login_locked(request, username):
            raise PermissionDenied("login locked")
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            limit = settings.LAOKE_LOGIN_MAX_FAILURES
            window = settings.LAOKE_LOGIN_WINDOW_SECONDS
            for key in _keys(request, username):
                ratelimit.hit(key, limit=limit, window_seconds=window)
        return user
