"""Demo data of events (called by laoke.demo): the member-day lottery with the seed preset
(members holding ≥ 5,000 points, SPEC 13 / story 3), open for entries until the end of the month's
member day, with three prize tiers; and an appreciation event (答谢会, seed 002) two weeks ahead
with its preset programme, budget lines, department tasks and an invitee list proposed by the
marketing department from the members holding the most points."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth import get_user_model

from laoke.catalog.models import Store
from laoke.ledger.models import Account
from laoke.members.models import Member
from laoke.promotions.models import CouponTemplate

from . import event_services as ev
from . import services
from .models import Lottery


def demo_load(*, rng, now: datetime) -> dict:
    if Lottery.objects.filter(name="会员日抽奖（演示）").exists():
        return {"lotteries": 0, "events": 0}
    store = Store.objects.order_by("pk").first()
    if store is None:
        from laoke.core.services import store_create

        store = store_create(code="DEMO-EV", name="演示门店")
    actor = get_user_model().objects.filter(is_superuser=True).order_by("pk").first()
    lot = services.lottery_create(
        name="会员日抽奖（演示）",
        kind="member_day",
        entry_opens_at=now - timedelta(days=1),
        entry_closes_at=now + timedelta(days=6),
        store=store,
        actor=actor,
    )
    services.prize_add(
        lottery_id=lot.pk, tier=1, name="一等奖 2,000 积分", stock=1, kind="points", points=2_000
    )
    template = CouponTemplate.objects.filter(is_active=True).order_by("pk").first()
    if template is not None:
        services.prize_add(
            lottery_id=lot.pk,
            tier=2,
            name=f"二等奖 {template.name}",
            stock=3,
            kind="coupon",
            coupon_template=template,
        )
    services.prize_add(lottery_id=lot.pk, tier=3, name="三等奖 环保购物袋（现场领取）", stock=10)
    services.lottery_open(lottery_id=lot.pk, actor=actor)

    starts = (now + timedelta(days=14)).replace(hour=9, minute=0, second=0, microsecond=0)  # 17:00 Shanghai
    event = ev.event_create(
        name="年度客户答谢会（演示）",
        starts_at=starts,
        venue_store=store,
        voucher_template=template,
        promotion="现场买二送一",
        actor=actor,
    )
    for category, planned in (
        ("catering", 800_000),
        ("gifts", 300_000),
        ("programme", 200_000),
        ("misc", 50_000),
    ):
        ev.budget_line_set(event_id=event.pk, category=category, planned_fen=planned, actor=actor)
    for dept, title, days in (
        ("市场部", "发出邀请函", 7),
        ("市场部", "汇总实到人数", 3),
        ("财务部", "落实礼品及抽奖奖品", 1),
        ("行政部", "检查场地设备、摄影", 0),
    ):
        ev.task_add(
            event_id=event.pk, department=dept, title=title, due_at=starts - timedelta(days=days), actor=actor
        )
    top = list(
        Account.objects.filter(kind=Account.Kind.POINTS, member__status=Member.Status.ACTIVE, balance__gt=0)
        .order_by("-balance", "member_id")
        .values_list("member_id", flat=True)[:12]
    )
    members = Member.objects.in_bulk(top)
    for i, pk in enumerate(top):
        ev.invitee_add(
            event_id=event.pk, member=members[pk], department="市场部" if i % 3 else "销售部", actor=actor
        )
    return {"lotteries": 1, "lottery_id": lot.pk, "events": 1, "event_id": event.pk, "invitees": len(top)}
