"""Signed unsubscribe links (SPEC 10, RFC 8058).

The token is ``{member id}{channel letter}.{MAC}`` — e.g. ``1234s.q0V…`` — where the MAC is the
first 128 bits of Django's ``salted_hmac`` (HMAC-SHA256 keyed from SECRET_KEY with this module's
salt) over the rest. It cannot be forged or moved to another member or channel, it carries no
personal data beyond the member id, and it is short: the link goes into SMS bodies, where every
character counts towards the 70/67-character segments (``django.core.signing.dumps`` makes a
token about three times as long). It is also cheap — a campaign chunk signs 2,000 of them.
Decision: no expiry — an unsubscribe link in a two-year-old message must still work (opting out
must always be possible); SECRET_KEY_FALLBACKS are accepted, so rotate keys with the old one kept
there for a while.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import re

from django.conf import settings
from django.urls import reverse
from django.utils.crypto import constant_time_compare

from laoke.core.errors import DomainError

from .error_codes import UNSUBSCRIBE_TOKEN_INVALID

SALT = "laoke.channels.unsubscribe"
LETTER = {"sms": "s", "email": "e", "phone": "p", "direct_mail": "d", "app_push": "a"}
CHANNEL_OF_LETTER = {v: k for k, v in LETTER.items()}
CONSENT_CHANNELS = set(LETTER)
# A template's channel → the consent channel its unsubscribe link withdraws.
CONSENT_OF = {
    "sms": "sms",
    "email": "email",
    "webhook": "app_push",
    "call": "phone",
    "visit": "phone",
    "mail": "direct_mail",
}
_TOKEN = re.compile(r"^([1-9][0-9]{0,18})([sepda])\.([A-Za-z0-9_-]{22})$")


@functools.lru_cache(maxsize=8)
def _keyed(secret: str):
    # Django's salted_hmac key derivation (sha256(salt + secret)), done once per secret
    return hmac.new(hashlib.sha256((SALT + secret).encode()).digest(), digestmod=hashlib.sha256)


def _mac(payload: str, secret: str | None = None) -> str:
    mac = _keyed(secret or settings.SECRET_KEY).copy()
    mac.update(payload.encode())
    return base64.urlsafe_b64encode(mac.digest()[:16]).decode().rstrip("=")


def unsubscribe_token(member_id: int, channel: str) -> str:
    channel = CONSENT_OF.get(channel, channel)
    if channel not in CONSENT_CHANNELS:
        raise ValueError(f"no consent channel {channel!r}")
    payload = f"{int(member_id)}{LETTER[channel]}"
    return f"{payload}.{_mac(payload)}"


def unsubscribe_token_read(token: str) -> tuple[int, str]:
    """→ (member_id, consent channel); a tampered or malformed token → UNSUBSCRIBE_TOKEN_INVALID."""
    m = _TOKEN.match(token or "")
    if m is None:
        raise DomainError(UNSUBSCRIBE_TOKEN_INVALID, field="token")
    payload = m.group(1) + m.group(2)
    for secret in [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]:
        if constant_time_compare(_mac(payload, secret), m.group(3)):
            return int(m.group(1)), CHANNEL_OF_LETTER[m.group(2)]
    raise DomainError(UNSUBSCRIBE_TOKEN_INVALID, field="token")


_PLACEHOLDER = "TOKEN"


def _paths() -> tuple[str, str]:
    # reverse() once per call site instead of once per member (a chunk renders 2,000 links)
    return (
        reverse("channels_unsubscribe", args=[_PLACEHOLDER]),
        reverse("channels_unsubscribe_one_click", args=[_PLACEHOLDER]),
    )


def unsubscribe_url(member_id: int, channel: str, *, _path: str | None = None) -> str:
    """The confirm page (GET shows it, POST confirms)."""
    path = _path or _paths()[0]
    return settings.LAOKE_PUBLIC_URL + path.replace(_PLACEHOLDER, unsubscribe_token(member_id, channel))


def one_click_url(member_id: int, channel: str) -> str:
    """The RFC 8058 one-click target of ``List-Unsubscribe`` (POST without a page)."""
    return settings.LAOKE_PUBLIC_URL + _paths()[1].replace(
        _PLACEHOLDER, unsubscribe_token(member_id, channel)
    )


def unsubscribe_url_maker():
    """A function (member_id, channel) → confirm-page URL with the path reversed once."""
    path = _paths()[0]
    return lambda member_id, channel: unsubscribe_url(member_id, channel, _path=path)
