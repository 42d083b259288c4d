"""Payment notifications handled per second: each one signed by the (fake) provider, then verified
(RSA2 with the SDK's helper), logged and credited (wallet + bonus, audit) by
``payment_notification_handle`` — next to two baselines measured in the same run: the raw RSA
verification alone (the SDK's ``verify_with_rsa`` over the same bodies) and ``wallet_credit`` alone
(one ledger transfer with its audit row), so the figure reads as "how much above its two parts".

    .venv/bin/python -m bench.payments [--n 300]
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/laoke_bench .venv/bin/python -m bench.payments
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import urllib.parse
from datetime import UTC, datetime

from bench._common import fresh_database, machine, run_child, targets


def child(n: int) -> dict:
    from laoke.payments.fake import ensure_demo_keys

    keys_env = ensure_demo_keys(tempfile.mkdtemp(prefix="laoke-bench-keys-"))
    os.environ.update(keys_env)
    fresh_database()
    from alipay.aop.api.util.SignatureUtils import get_sign_content, verify_with_rsa
    from django.test import RequestFactory

    from laoke.cards.wallet import wallet_credit
    from laoke.members.services import member_create
    from laoke.payments import config
    from laoke.payments import fake as fakemod
    from laoke.payments.models import PackagePurchase
    from laoke.payments.services import package_create, package_purchase_start, payment_notification_handle

    pkg = package_create(name="充500送50", price_fen=50_000, bonus_fen=5_000)
    members = [member_create(name=f"会员{i}", mobile=f"139{i:08d}") for i in range(n)]
    purchases = [
        package_purchase_start(
            member=m, package_id=pkg.pk, provider="alipay", return_url="http://127.0.0.1/x"
        )[0]
        for m in members
    ]
    fake = fakemod.Fake(config.fake_keys_dir(), [])
    rf = RequestFactory()

    def trade(p):
        t = fakemod.Trade("alipay", p.out_trade_no, p.price_fen, p.name, "", "")
        t.state, t.trade_no, t.paid_at = "PAID", "2026B" + p.out_trade_no, datetime.now(UTC)
        return t

    # Laoke: sign (the provider's side) + verify + log + credit, one notification at a time.
    t0 = time.perf_counter()
    for p in purchases:
        body, _ = fake._alipay_notification(trade(p))
        _status, _c, text = payment_notification_handle(
            "alipay", rf.post("/pay/notify/alipay", dict(urllib.parse.parse_qsl(body.decode())))
        )
        assert text == "success", text
    took = time.perf_counter() - t0
    assert PackagePurchase.objects.filter(state="paid").count() == n

    # Baseline 1: the RSA verification alone over the same kind of bodies.
    pub = config.load().alipay.alipay_public_key
    bodies = []
    for p in purchases:
        params = dict(urllib.parse.parse_qsl(fake._alipay_notification(trade(p))[0].decode()))
        content = get_sign_content({k: v for k, v in params.items() if k not in ("sign", "sign_type")})
        bodies.append((content.encode(), params["sign"]))
    t0 = time.perf_counter()
    for content, sign in bodies:
        assert verify_with_rsa(pub, content, sign)
    verify = time.perf_counter() - t0

    # Baseline 2: wallet_credit alone (one transfer + audit, durable transaction).
    t0 = time.perf_counter()
    for i, m in enumerate(members):
        wallet_credit(member=m, amount_fen=100, key=f"bench:{i}", reason="bench")
    credit = time.perf_counter() - t0
    return {
        "n": n,
        "per_s": round(n / took),
        "verify_per_s": round(n / verify),
        "credit_per_s": round(n / credit),
        "ms_each": round(1000 * took / n, 2),
    }


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--n", type=int, default=300)
    p.add_argument("--child", action="store_true")
    args = p.parse_args()
    if args.child:
        print(json.dumps(child(args.n)))
        return 0
    print(
        f"payments: {args.n} Alipay notifications (sign + verify + log + credit wallet and bonus), {machine()}"
    )
    ok = True
    for name, env in targets():
        r = run_child("bench.payments", ["--n", str(args.n)], database=name, extra_env=env)
        if r is None:
            ok = False
            continue
        print(
            f"  {name:10s} {r['per_s']:,} notifications/s ({r['ms_each']} ms each); baselines in the same run: "
            f"RSA2 verify alone {r['verify_per_s']:,}/s, wallet_credit alone {r['credit_per_s']:,}/s"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
