"""QR codes of shareable coupons (转发给朋友的优惠券, 手机二维码): a PNG of the claim link a friend
opens on the member H5 pages, ``{LAOKE_PUBLIC_URL}/me/claim/{code}``.

``segno`` (pure Python, its own PNG writer; decision 0016) encodes it with error correction M.
The public base URL comes from the ``LAOKE_PUBLIC_URL`` setting, else the environment variable of
the same name, else ``http://127.0.0.1:8000`` (what ``laoke serve`` listens on).
"""

from __future__ import annotations

import io
import os
from urllib.parse import quote

import segno
from django.conf import settings

DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"
ERROR_LEVEL = "m"


def public_url() -> str:
    base = (
        getattr(settings, "LAOKE_PUBLIC_URL", None)
        or os.environ.get("LAOKE_PUBLIC_URL")
        or DEFAULT_PUBLIC_URL
    )
    return base.rstrip("/")


def claim_url(code: str) -> str:
    return f"{public_url()}/me/claim/{quote(code, safe='')}"


def qr_png(data: str, *, scale: int = 8, border: int = 4) -> bytes:
    buf = io.BytesIO()
    segno.make(data, error=ERROR_LEVEL).save(buf, kind="png", scale=scale, border=border)
    return buf.getvalue()
