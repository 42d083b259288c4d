"""Signed unsubscribe links (SPEC 10, RFC 8058).

The token is ``django.core.signing`` over ``{"m": member_id, "c": consent channel}`` with its own
salt, so it cannot be forged or moved to another member or channel, and it carries no personal
data beyond the member id. Decision: no expiry — an unsubscribe link in a two-year-old email must
still work (the law asks that opting out be always possible); rotating SECRET_KEY invalidates old
links, which is why SECRET_KEY_FALLBACKS should keep the previous key for a while.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse

from laoke.core.errors import DomainError

from .error_codes import UNSUBSCRIBE_TOKEN_INVALID

SALT = "laoke.channels.unsubscribe"
CONSENT_CHANNELS = {"sms", "email", "phone", "direct_mail", "app_push"}
# A template's channel → the consent channel its unsubscribe link withdraws.
CONSENT_OF = {
    "sms": "sms",
    "email": "email",
    "webhook": "app_push",
    "call": "phone",
    "visit": "phone",
    "mail": "direct_mail",
}


def unsubscribe_token(member_id: int, channel: str) -> str:
    channel = CONSENT_OF.get(channel, channel)
    if channel not in CONSENT_CHANNELS:
        raise ValueError(f"no consent channel {channel!r}")
    return signing.dumps({"m": int(member_id), "c": channel}, salt=SALT, compress=True)


def unsubscribe_token_read(token: str) -> tuple[int, str]:
    """→ (member_id, consent channel); a tampered or malformed token → UNSUBSCRIBE_TOKEN_INVALID."""
    try:
        data = signing.loads(token or "", salt=SALT)
        member_id, channel = int(data["m"]), str(data["c"])
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise DomainError(UNSUBSCRIBE_TOKEN_INVALID, field="token") from exc
    if channel not in CONSENT_CHANNELS or member_id <= 0:
        raise DomainError(UNSUBSCRIBE_TOKEN_INVALID, field="token")
    return member_id, channel


def _public(path: str) -> str:
    return settings.LAOKE_PUBLIC_URL + path


def unsubscribe_url(member_id: int, channel: str) -> str:
    """The confirm page (GET shows it, POST confirms)."""
    return _public(reverse("channels_unsubscribe", args=[unsubscribe_token(member_id, channel)]))


def one_click_url(member_id: int, channel: str) -> str:
    """The RFC 8058 one-click target of ``List-Unsubscribe`` (POST without a page)."""
    return _public(reverse("channels_unsubscribe_one_click", args=[unsubscribe_token(member_id, channel)]))
