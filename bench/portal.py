"""The member pages' summary: GET /api/v1/me (wallet paid + bonus, points with expiry, tier and
progress to the next level, coupons) requests per second through Django's test client, next to
the staff member-detail endpoint GET /api/v1/members/{id} measured the same way in the same run.

    .venv/bin/python -m bench.portal [--requests 2000]
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/laoke_bench .venv/bin/python -m bench.portal

Set-up through the services: the preset points programme and online-shop tiers, one member with
a recharged wallet, points in two lots, a coupon; a member session opened by the one-time code;
an admin with an API token. Both figures include authentication (a hashed-token lookup each).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time

from bench._common import fresh_database, machine, run_child, targets


def child(n: int) -> dict:
    fresh_database()
    from django.test import Client

    from laoke.cards.wallet import wallet_credit
    from laoke.core.roles import SCOPES
    from laoke.core.services import admin_ensure, api_token_create, roles_sync
    from laoke.members.services import member_create
    from laoke.messaging.models import Message
    from laoke.points.presets import points_presets_install
    from laoke.points.services import points_adjust
    from laoke.portal.services import login_code_request, member_login
    from laoke.promotions.services import coupon_issue, coupon_template_create
    from laoke.tiers.presets import tier_presets_install

    roles_sync()
    points_presets_install()
    tier_presets_install(preset="online_shop")
    m = member_create(name="基准会员", mobile="13912340000")
    wallet_credit(member=m, amount_fen=50_000, key="bench-w", reason="bench")
    points_adjust(member=m, points=300, reason="bench", key="bench-p1")
    points_adjust(member=m, points=200, reason="bench", key="bench-p2")
    tpl = coupon_template_create(
        data={"name": "满100减10", "kind": "fixed", "amount_off_fen": 1000, "valid_days": 30}
    )
    coupon_issue(template=tpl, member=m, key="bench-c")
    row = login_code_request(mobile=m.mobile)
    code = re.search(r"\b(\d{6})\b", Message.objects.get(purpose=f"login_code:{row.pk}").body).group(1)
    _, token, _ = member_login(mobile=m.mobile, code=code)
    admin, _ = admin_ensure(username="bench", password="bench-pass-123")
    _, secret = api_token_create(user=admin, name="bench", scopes=list(SCOPES))

    def rate(client, url) -> float:
        assert client.get(url).status_code == 200
        t = time.perf_counter()
        for _ in range(n):
            client.get(url)
        return n / (time.perf_counter() - t)

    me = Client(HTTP_AUTHORIZATION=f"Bearer {token}", SERVER_NAME="localhost")
    staff = Client(HTTP_AUTHORIZATION=f"Bearer {secret}", SERVER_NAME="localhost")
    body = me.get("/api/v1/me").json()
    assert body["wallet"]["paid_fen"] == 50_000 and body["points"]["balance"] == 500, body
    return {
        "me_rps": round(rate(me, "/api/v1/me")),
        "staff_rps": round(rate(staff, f"/api/v1/members/{m.pk}")),
    }


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--requests", type=int, default=2000)
    p.add_argument("--child", action="store_true")
    args = p.parse_args()
    if args.child:
        print(json.dumps(child(args.requests)))
        return 0
    print(
        f"portal: GET /api/v1/me vs staff GET /api/v1/members/{{id}}, {args.requests:,} requests each, {machine()}"
    )
    ok = True
    for name, env in targets():
        r = run_child("bench.portal", ["--requests", str(args.requests)], database=name, extra_env=env)
        if r is None:
            ok = False
            continue
        print(
            f"  {name:10s} /api/v1/me {r['me_rps']:,} req/s; baseline staff member detail {r['staff_rps']:,} req/s "
            f"({r['me_rps'] / r['staff_rps']:.2f}×)"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
