"""The segment presets of SPEC section 8, stored as ordinary rules with explicit dates.

- S1 (seed 000/001): 12.12 new customers (first order on the most recent 12.12) vs 12.12
  returning customers (paid an order on that day, first order before it); Double-11 new
  customers who spent ≥ 299元 (「雙11.11當天購物滿299的新客戶」: first order on 11.11 and
  cumulative spend ≥ 299元 — exact when evaluated right after the event, which is when the
  campaign snapshots it).
- Mother-baby subgroups (seed 000): bought in 母婴 food / daily / durable categories (found by
  code, created under a 母婴 parent when missing).
- One-time price-sensitive buyers: exactly one order and a discount share ≥ 30%.
- Dormant cards (seed 003 8.3 沉睡卡对策): no consumption for a month (30 days); and balance
  < 20元 with no consumption for a month.

"Most recent" event: the latest 11.11 / 12.12 that has begun on the shop's today.
"""

from __future__ import annotations

from datetime import date, datetime

from django.db import transaction

from laoke.catalog.models import Category
from laoke.catalog.services import category_create
from laoke.core import clock

from .models import Segment
from .services import _clean, _segment_create

MOTHER_BABY = ("mother-baby", "母婴")
MB_CATEGORIES = (
    ("mb-food", "母婴食品", "food"),
    ("mb-daily", "母婴日用品", "daily"),
    ("mb-durable", "母婴耐用品", "durable"),
)


def recent_event_day(month: int, day: int, *, today: date) -> date:
    d = date(today.year, month, day)
    return d if d <= today else date(today.year - 1, month, day)


def _category(code: str, name: str, parent: Category | None, actor) -> Category:
    return Category.objects.filter(code=code).first() or category_create(
        code=code, name=name, parent=parent, actor=actor
    )


def preset_rules(*, now: datetime) -> list[dict]:
    """(preset code, name, description, rule) of every preset, dates relative to ``now``."""
    today = clock.to_local(now).date()
    d1212 = recent_event_day(12, 12, today=today).isoformat()
    d1111 = recent_event_day(11, 11, today=today).isoformat()
    dormant = {"field": "orders.days_since_last_order", "op": "gte", "value": 30}
    out = [
        {
            "preset": "s1_1212_new",
            "name": f"12.12 新客 {d1212}",
            "description": "首单在 12.12 当天（S1：12.12 新客户）",
            "rule": {"all": [{"field": "orders.first_order_at", "op": "between", "value": [d1212, d1212]}]},
        },
        {
            "preset": "s1_1212_returning",
            "name": f"12.12 回头客 {d1212}",
            "description": "12.12 当天有订单、首单在此之前（S1：12.12 回头客）",
            "rule": {
                "all": [
                    {"field": "orders.paid_at", "op": "between", "value": [d1212, d1212]},
                    {"field": "orders.first_order_at", "op": "before", "value": d1212},
                ]
            },
        },
        {
            "preset": "s1_double11_new_299",
            "name": f"双11 新客满299元 {d1111}",
            "description": "首单在 11.11 当天且累计消费 ≥ 299元（S1：双11当天购物满299的新客户）",
            "rule": {
                "all": [
                    {"field": "orders.first_order_at", "op": "between", "value": [d1111, d1111]},
                    {"field": "orders.spend", "op": "gte", "value": 29_900},
                ]
            },
        },
    ]
    for code, name, part in MB_CATEGORIES:
        out.append(
            {
                "preset": f"mother_baby_{part}",
                "name": f"母婴：买过{name}",
                "description": f"购买过 {name}（含子类目）的会员",
                "rule": {"all": [{"field": "orders.categories", "op": "any", "value": [code]}]},
            }
        )
    out += [
        {
            "preset": "one_time_price_sensitive",
            "name": "一次性价格敏感客户",
            "description": "只下过一单、优惠占比 ≥ 30%（易流失，引流款活动优先通知）",
            "rule": {
                "all": [
                    {"field": "orders.count", "op": "eq", "value": 1},
                    {"field": "orders.discount_share", "op": "gte", "value": 0.3},
                ]
            },
        },
        {
            "preset": "dormant_1m",
            "name": "沉睡会员：1个月未消费",
            "description": "长达1个月（30天）未有消费行为（沉睡卡对策 1）",
            "rule": {"all": [dormant]},
        },
        {
            "preset": "dormant_low_balance",
            "name": "沉睡会员：余额不足20元且1个月未消费",
            "description": "账户余额少于20元，且长达1个月未有消费行为（沉睡卡对策 2）",
            "rule": {"all": [{"field": "value.wallet_balance", "op": "lt", "value": 2_000}, dormant]},
        },
    ]
    return out


def segments_presets_install(*, now: datetime | None = None, actor=None) -> dict[str, int]:
    """Install the presets (and the mother-baby categories when missing). Idempotent: a preset
    already installed (found by its preset code) is left as the operator has it. Returns the
    segment id of every preset, by preset code."""
    now = now or clock.now()
    parent = _category(*MOTHER_BABY, None, actor)
    for code, name, _part in MB_CATEGORIES:
        _category(code, name, parent, actor)
    out: dict[str, int] = {}
    with transaction.atomic(durable=True):
        for p in preset_rules(now=now):
            existing = Segment.objects.filter(preset=p["preset"]).first()
            if existing is None:
                name = p["name"]
                if Segment.objects.filter(name=name).exists():  # an operator's segment has the name
                    name = f"{name} ({p['preset']})"
                values = _clean(
                    {"name": name, "rule": p["rule"], "description": p["description"]}, partial=False
                )
                existing = _segment_create(values=values, preset=p["preset"], actor=actor)
            out[p["preset"]] = existing.pk
    return out
