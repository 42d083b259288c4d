"""Demo data of holidays: the seed 000 mid-autumn gift campaign with applications in each state,
and one pre-purchase draw game (seed 002) with a few draws. Called by laoke/demo.py."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model

from laoke.core import clock
from laoke.core.services import staff_user_create
from laoke.members.models import Member

from . import draws, lunar, services

PEOPLE = [  # type, name, company, address, level
    ("key_prospect", "陈志强", "佛山市顺德精工机械厂", "广东省佛山市顺德区大良街道新城路 18 号", "high"),
    ("key_prospect", "黄伟明", "东莞市长安五金制品有限公司", "广东省东莞市长安镇振安中路 233 号", "high"),
    ("key_prospect", "李秀英", "中山市小榄包装材料厂", "广东省中山市小榄镇升平中路 9 号", "normal"),
    ("old_customer", "梁家辉", "广州白云精密模具厂", "广东省广州市白云区太和镇大源北路 66 号", "normal"),
    ("dealer", "吴建华", "汕头联动设备经销部", "广东省汕头市龙湖区长平路 102 号", "high"),
    ("key_prospect", "何丽娟", "江门市蓬江区新兴塑胶厂", "广东省江门市蓬江区建设路 45 号", "normal"),
]


def _user(role: str):
    User = get_user_model()
    found = User.objects.filter(username=f"demo_{role}").first()
    return found or staff_user_create(username=f"demo_{role}", password=secrets.token_urlsafe(16), role=role)


def demo_load(*, rng, now) -> dict:
    year = clock.to_local(now).year
    if year not in lunar.MID_AUTUMN:
        year = 2026
    rep, agent = _user("sales_rep"), _user("service_agent")
    smgr, xmgr, plan = _user("service_manager"), _user("sales_manager"), _user("marketer")
    campaign = services.gift_campaign_preset_create(
        year=year, level_prices_fen={"high": 16_800, "normal": 8_800}, actor=plan
    )
    apps = []
    for i, (rtype, name, company, address, level) in enumerate(PEOPLE):
        apps.append(
            services.gift_application_file(
                campaign_id=campaign.pk,
                data={
                    "recipient_type": rtype,
                    "name": name,
                    "company": company,
                    "address": address,
                    "phone": f"13{rng.randrange(10**9):09d}",
                    "decision_power": True,
                    "level": level,
                },
                actor=rep if i % 2 == 0 else agent,
            )
        )
    # approved ×3, rejected ×1, reviewed (awaiting the planning department) ×1, pending ×1
    for app in apps[:5]:
        services.gift_application_review(
            application_id=app.pk, step="service_review", approve=True, actor=smgr
        )
    for app in apps[:3] + apps[4:5]:
        services.gift_application_review(application_id=app.pk, step="sales_review", approve=True, actor=xmgr)
    services.gift_application_review(
        application_id=apps[3].pk, step="sales_review", approve=False, reason="近一年无采购意向", actor=xmgr
    )
    for app in apps[:3]:
        services.gift_application_decide(application_id=app.pk, approve=True, actor=plan)

    game = draws.draw_game_create(
        data={
            "code": f"demo-pre-{now:%Y%m%d%H%M%S}",
            "name": "节日购物前抽奖（演示）",
            "kind": "pre_purchase",
            "starts_at": now - timedelta(hours=1),
            "ends_at": now + timedelta(days=7),
            "daily_limit": 1,
            "prizes": [
                {"name": "购物袋", "probability_bp": 2_000, "stock": 200},
                {"name": "小礼品", "probability_bp": 1_000, "stock": 50},
            ],
        },
        actor=plan,
    )
    drawn = 0
    for member_id in Member.objects.order_by("pk").values_list("pk", flat=True)[:10]:
        with clock.frozen(now):
            draws.draw(game_id=game.pk, member_id=member_id, rng=rng)
        drawn += 1
    return {"gift_campaigns": 1, "gift_applications": len(apps), "draw_games": 1, "draws": drawn}
