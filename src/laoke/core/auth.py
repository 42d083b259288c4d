"""Console login with throttling: failures are counted per username and per IP in the database
(so every web process sees them); once either reaches the limit, logins are refused for one full
window from that moment, even with the right password.

Counts live in fixed windows (``ratelimit``); the limit is checked against the current plus the
previous window, so failures straddling a window boundary still lock, and reaching it writes a
lock row stamped with the time, so the lock lasts exactly one window (the "15 minutes" the form
promises) rather than ending at the next boundary."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from . import clock, ratelimit
from .middleware import client_ip
from .models import RateLimitBucket


def _limits(request, username: str | None) -> list[tuple[str, int]]:
    """(key, limit) pairs: per username, and (higher) per client IP."""
    out = [(f"login:user:{(username or '').lower()[:150]}", settings.LAOKE_LOGIN_MAX_FAILURES)]
    ip = client_ip(request) if request is not None else None
    if ip:
        out.append((f"login:ip:{ip}", settings.LAOKE_LOGIN_MAX_FAILURES_PER_IP))
    return out


def login_locked(request, username: str | None) -> bool:
    window = settings.LAOKE_LOGIN_WINDOW_SECONDS
    since = clock.now() - timedelta(seconds=window)
    keys = [f"{key}:locked" for key, _ in _limits(request, username)]
    return RateLimitBucket.objects.filter(key__in=keys, window_start__gt=since).exists()


def _count_failure(key: str, limit: int, window: int) -> None:
    now = clock.now()
    ratelimit.hit(key, limit=limit, window_seconds=window, now=now)
    recent = ratelimit.count(key, window_seconds=window, now=now) + ratelimit.count(
        key, window_seconds=window, now=now - timedelta(seconds=window)
    )
    if recent >= limit:
        RateLimitBucket.objects.get_or_create(key=f"{key}:locked", window_start=now, defaults={"count": 1})


class ThrottledModelBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if login_locked(request, username):
            raise PermissionDenied("login locked")
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            window = settings.LAOKE_LOGIN_WINDOW_SECONDS
            for key, limit in _limits(request, username):
                _count_failure(key, limit, window)
        return user
