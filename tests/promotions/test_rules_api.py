"""The order-rule API (满就送, gifts, bundles, member prices, presets, cart offers) and the QR code
of a shareable coupon."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
import segno
from django.test import override_settings

from laoke.catalog.models import GiftItem, Product
from laoke.catalog.services import product_create
from laoke.core.models import AuditEntry
from laoke.promotions.services import coupon_issue
from tests.promotions.helpers import NOW, template

J = "application/json"
P = "/api/v1/promotions"
pytestmark = pytest.mark.django_db


@pytest.fixture
def marketer(api):
    return api("marketer")


def test_full_send_rule_crud(marketer, frozen):
    t3, t5 = (
        template(name="3元", threshold_fen=0, amount_off_fen=300),
        template(name="5元", amount_off_fen=500),
    )
    body = {
        "code": "fs",
        "name": "满就送",
        "tiers": [
            {"threshold_fen": 10_000, "template_id": t3.pk},
            {"threshold_fen": 15_000, "template_id": t5.pk},
        ],
    }
    r = marketer.post(f"{P}/full-send-rules", body, content_type=J)
    assert r.status_code == 201, r.content
    rule = r.json()
    assert rule["mode"] == "highest" and [t["threshold_fen"] for t in rule["tiers"]] == [10_000, 15_000]
    r = marketer.post(f"{P}/full-send-rules", {**body, "code": "fs2", "mode": "x"}, content_type=J)
    assert r.status_code == 422 and r.json()["code"] == "PROMOTION_RULE_INVALID"
    assert r.json()["details"]["field"] == "mode"
    r = marketer.post(f"{P}/full-send-rules", body, content_type=J)
    assert r.status_code == 409 and r.json()["code"] == "PROMOTION_RULE_CODE_TAKEN"
    r = marketer.patch(
        f"{P}/full-send-rules/{rule['id']}", {"mode": "cumulative"}, content_type=J, HTTP_IDEMPOTENCY_KEY="k1"
    )
    assert r.status_code == 200 and r.json()["mode"] == "cumulative"
    again = marketer.patch(
        f"{P}/full-send-rules/{rule['id']}", {"mode": "cumulative"}, content_type=J, HTTP_IDEMPOTENCY_KEY="k1"
    )
    assert again.json() == r.json()
    assert AuditEntry.objects.filter(action="full_send_rule.update").count() == 1  # replayed, not rerun
    r = marketer.patch(f"{P}/full-send-rules/999999", {"name": "x"}, content_type=J)
    assert r.status_code == 404 and r.json()["code"] == "PROMOTION_RULE_NOT_FOUND"
    assert [x["code"] for x in marketer.get(f"{P}/full-send-rules").json()["items"]] == ["fs"]


def test_gift_rule_bundle_member_price_and_offers(marketer, frozen):
    towel = product_create(sku="GIFT-TOWEL", title="小方巾", list_price_fen=1_000)
    hot = product_create(sku="HOT", title="爆款", list_price_fen=29_900)
    box = GiftItem.objects.create(code="BOX", name="外包装盒", created_at=NOW)
    r = marketer.post(
        f"{P}/gift-rules",
        {
            "code": "towel",
            "name": "每满150送小方巾",
            "kind": "per_threshold",
            "threshold_fen": 15_000,
            "gift_product_id": towel.pk,
        },
        content_type=J,
    )
    assert r.status_code == 201, r.content
    towel_rule = r.json()["id"]
    r = marketer.post(
        f"{P}/gift-rules",
        {"code": "x", "name": "x", "kind": "always", "gift_item_id": 999_999},
        content_type=J,
    )
    assert r.status_code == 422 and r.json()["details"]["field"] == "gift_item"
    r = marketer.patch(f"{P}/gift-rules/{towel_rule}", {"once_per_order": True}, content_type=J)
    assert r.status_code == 200 and r.json()["once_per_order"] is True
    r = marketer.post(
        f"{P}/bundles",
        {"code": "b", "name": "爆款配盒", "hot_product_id": hot.pk, "gifts": [{"gift_item_id": box.pk}]},
        content_type=J,
    )
    assert r.status_code == 201, r.content
    bundle = r.json()["id"]
    r = marketer.patch(f"{P}/bundles/{bundle}", {"bundle_price_fen": 25_000}, content_type=J)
    assert r.status_code == 200 and r.json()["bundle_price_fen"] == 25_000
    r = marketer.post(f"{P}/member-prices", {"product_id": hot.pk, "price_fen": 26_900}, content_type=J)
    assert r.status_code == 201 and r.json()["sku"] == "HOT"
    r = marketer.patch(f"{P}/member-prices/{r.json()['id']}", {"price_fen": 25_900}, content_type=J)
    assert r.status_code == 200 and r.json()["price_fen"] == 25_900
    for path in ("gift-rules", "bundles", "member-prices"):
        assert len(marketer.get(f"{P}/{path}").json()["items"]) == 1
    lines = [
        {"ref": "L1", "sku": "HOT", "product_id": hot.pk, "unit_price_fen": 29_900, "quantity": 1},
        {"ref": "L2", "sku": "GIFT-TOWEL", "product_id": towel.pk, "unit_price_fen": 1_000, "quantity": 1},
    ]
    r = marketer.post(f"{P}/offers", {"lines": lines, "is_member": True, "paid_fen": 30_000}, content_type=J)
    assert r.status_code == 200, r.content
    got = {o["code"]: o for o in r.json()["offers"]}
    assert got[f"gift:{towel_rule}"]["gift_ref"] == "L2" and got[f"gift:{towel_rule}"]["eligible_refs"] == [
        "L1"
    ]
    assert got[f"bundle:{bundle}"]["amount_fen"] == 29_900 - 25_000
    assert got[f"bundle:{bundle}:gift:{box.pk}"]["gift_item_id"] == box.pk
    assert r.json()["member_prices"] == {str(hot.pk): 25_900}
    assert r.json()["full_send"] == []


def test_presets_endpoint(marketer, frozen):
    r = marketer.post(f"{P}/rules/presets", {}, content_type=J)
    assert r.status_code == 200, r.content
    assert set(r.json()) == {"seed-001-fullsend", "seed-001-towel", "seed-001-giftbox", "seed-001-card"}
    assert marketer.post(f"{P}/rules/presets", {}, content_type=J).json() == r.json()
    assert Product.objects.get(sku="GIFT-TOWEL").list_price_fen == 1_000


def png_modules(png: bytes, scale: int, border: int) -> tuple[tuple[int, ...], ...]:
    """Decode segno's 1-bit greyscale PNG (filters none/sub/up) into modules, 1 = dark — written from the
    PNG specification, independently of segno."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, ihdr = 8, b"", None
    while pos < len(png):
        (n,) = struct.unpack(">I", png[pos : pos + 4])
        kind, body = png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + n]
        assert zlib.crc32(kind + body) == struct.unpack(">I", png[pos + 8 + n : pos + 12 + n])[0]
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    width, height, depth, colour = ihdr[:4]
    assert (depth, colour) == (1, 0)
    raw = zlib.decompress(idat)
    stride = (width + 7) // 8 + 1
    rows, prior = [], bytes(stride - 1)
    for y in range(height):
        kind, data = raw[y * stride], bytearray(raw[y * stride + 1 : (y + 1) * stride])
        assert kind in (0, 1, 2), kind  # none, sub, up (bytes per pixel: 1)
        for i in range(len(data)):
            if kind == 1 and i:
                data[i] = (data[i] + data[i - 1]) & 0xFF
            elif kind == 2:
                data[i] = (data[i] + prior[i]) & 0xFF
        prior = bytes(data)
        rows.append([1 - ((data[x // 8] >> (7 - x % 8)) & 1) for x in range(width)])
    size = width // scale - 2 * border
    return tuple(
        tuple(rows[(border + j) * scale + scale // 2][(border + i) * scale + scale // 2] for i in range(size))
        for j in range(size)
    )


@override_settings(LAOKE_PUBLIC_URL="https://shop.example.cn/")
def test_qr_png_of_a_shareable_coupon(api, member, frozen):
    cashier = api("cashier")
    shared = coupon_issue(template=template(), member=None)
    r = cashier.get(f"{P}/coupons/{shared.code.lower()}/qr.png")
    assert r.status_code == 200 and r["Content-Type"] == "image/png"
    url = f"https://shop.example.cn/me/claim/{shared.code}"
    want = segno.make(url, error="m").matrix
    assert png_modules(r.content, scale=8, border=4) == tuple(
        tuple(int(bool(v)) for v in row) for row in want
    )
    assert png_modules(r.content, 8, 4) != png_modules(_png(segno.make(url + "X", error="m")), 8, 4), (
        "the decoder tells different data apart"
    )
    owned = coupon_issue(template=template(), member=member)
    r = cashier.get(f"{P}/coupons/{owned.code}/qr.png")
    assert r.status_code == 409 and r.json()["code"] == "COUPON_NOT_SHAREABLE"
    assert cashier.get(f"{P}/coupons/NOPE/qr.png").status_code == 404


def _png(qr) -> bytes:
    buf = io.BytesIO()
    qr.save(buf, kind="png", scale=8, border=4)
    return buf.getvalue()


def test_qr_default_public_url(frozen, settings):
    from laoke.promotions import qr

    if hasattr(settings, "LAOKE_PUBLIC_URL"):
        del settings.LAOKE_PUBLIC_URL
    assert qr.claim_url("AB2") == "http://127.0.0.1:8000/me/claim/AB2"
