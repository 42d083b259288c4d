"""Demo data of payments: the preset recharge packages (200→210, 500→550, 1000→1150) and a few
online purchases by demo members — two paid (credited by a notification signed with the local
fake provider's keys, through the same verification path as a real one) and one awaiting payment.
Called by laoke/demo.py."""

from __future__ import annotations

import os
import urllib.parse
from datetime import UTC, datetime

from django.conf import settings
from django.test import RequestFactory

from laoke.members.models import Member

from . import config, services
from . import fake as fakemod
from .models import PackagePurchase


def demo_load(*, rng, now) -> dict:
    packages = services.packages_ensure_presets()
    out = {"packages": len(packages), "purchases": 0, "paid": 0}
    if config.load().mode != "fake":
        return out
    if not (config.fake_keys_dir() / "merchant.json").exists() and not os.environ.get(
        "LAOKE_PAYMENTS_FAKE_KEYS"
    ):
        fakemod.ensure_demo_keys(settings.DATA_DIR)  # what `laoke serve` starts the fake with
    if "alipay" not in config.load().providers or PackagePurchase.objects.exists():
        return out
    members = list(
        Member.objects.filter(status=Member.Status.ACTIVE, mobile__isnull=False).order_by("pk")[:3]
    )
    fake = fakemod.Fake(config.fake_keys_dir(), [])
    for i, member in enumerate(members):
        package = packages[min(i, len(packages) - 1)]
        purchase, _url = services.package_purchase_start(
            member=member,
            package_id=package.pk,
            provider="alipay",
            return_url=f"{config.load().public_url}/portal/",
        )
        out["purchases"] += 1
        if i == len(members) - 1 and len(members) > 1:
            continue  # the last one is still awaiting payment
        trade = fakemod.Trade("alipay", purchase.out_trade_no, purchase.price_fen, purchase.name, "", "")
        trade.state, trade.trade_no, trade.paid_at = (
            "PAID",
            f"2026DEMO{rng.randrange(10**9):09d}",
            datetime.now(UTC),
        )
        body, _headers = fake._alipay_notification(trade)
        request = RequestFactory().post(
            "/pay/notify/alipay",
            data=dict(urllib.parse.parse_qsl(body.decode())),
        )
        status, _ctype, text = services.payment_notification_handle("alipay", request)
        out["paid"] += int(status == 200 and text == "success")
    return out
