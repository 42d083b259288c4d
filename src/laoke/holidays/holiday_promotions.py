"""The supermarket holiday promotions of seed 002 (迎国庆超市活动方案策划) as presets, created through
the promotions app's services.

What the seed prescribes, per holiday (中秋, 国庆; "the pattern repeats for the next holiday with new
items" — 春节 is offered as a third preset):

1. 限量: each day the first 50 customers before the 9:00 opening get a gift (超值月饼 at mid-autumn)
   or 20% off everything for the whole event → per event day two coupon templates limited to 50
   issues each: a gift coupon and an 8折 (2,000 bp off) coupon valid until the event ends; the
   door staff issue them to the first 50.
2. 限时: from the festival day, day 1 at 60% and days 2–3 at 70% of the price, no discount after →
   for the items the operator names (``skus``), member special prices (会员特价) at 60% of the list
   price on day 1 and 70% on days 2–3 (rounded half-up to the fen). Laoke's special prices are for
   members, which a supermarket card programme is.
3. 购物前抽奖: a free pre-purchase draw with operator-set probabilities — preset 购物袋 20%,
   一楼指定商品9折券 5%, 二楼指定商品9折券 5%, 小礼品 10%, the remaining 60% "购物愉快，下次再来！"
   (the seed: 严格限制抽奖的几率); one draw per member per day; stocks are the operator's to adjust.
4. 人人有奖: receipts ≥ a threshold (the seed's "***元"; preset 100元) draw once per receipt:
   购物袋 80%, 小礼品 18%, 饮料 2% — every draw wins.

The event runs from the festival day for 3 days (the discount window). The services are called
one after another (each is its own transaction, as promotions_presets_install does); objects are
found by name or code before being created, and the receipt draw — created last — marks the
preset as applied for the year.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from laoke.catalog.models import GiftItem, Product
from laoke.catalog.services import gift_item_create
from laoke.core.clock import shop_tz
from laoke.core.errors import DomainError
from laoke.core.models import Store
from laoke.promotions.models import CouponTemplate, MemberPrice
from laoke.promotions.rule_services import member_price_create
from laoke.promotions.services import coupon_template_create

from . import error_codes as E
from . import lunar
from .draws import draw_game_create
from .models import DrawGame, DrawKind, Holiday

EVENT_DAYS = 3
EARLY_BIRD_LIMIT = 50
EARLY_BIRD_RATE_OFF_BP = 2_000  # 8折
MARKDOWN_BP = [6_000, 7_000, 7_000]  # share of the price paid on event days 1, 2, 3
RECEIPT_THRESHOLD_FEN = 100 * 100
GIFT_ITEMS = {  # code → (name, unit cost fen)
    "HOLIDAY-BAG": ("购物袋", 100),
    "HOLIDAY-SMALL": ("小礼品", 300),
    "HOLIDAY-DRINK": ("饮料", 500),
    "HOLIDAY-MOONCAKE": ("超值月饼", 1_500),
    "HOLIDAY-GIFT": ("节日礼品", 1_500),
}
PRE_PURCHASE_PRIZES = [  # name, probability bp, stock, ("item", code) | ("coupon", floor)
    ("购物袋", 2_000, 2_000, ("item", "HOLIDAY-BAG")),
    ("一楼指定商品9折券", 500, 500, ("coupon", "一楼")),
    ("二楼指定商品9折券", 500, 500, ("coupon", "二楼")),
    ("小礼品", 1_000, 1_000, ("item", "HOLIDAY-SMALL")),
]
RECEIPT_PRIZES = [
    ("购物袋", 8_000, 5_000, ("item", "HOLIDAY-BAG")),
    ("小礼品", 1_800, 1_000, ("item", "HOLIDAY-SMALL")),
    ("饮料", 200, 200, ("item", "HOLIDAY-DRINK")),
]
LABELS = {Holiday.MID_AUTUMN: "中秋", Holiday.NATIONAL_DAY: "国庆", Holiday.SPRING_FESTIVAL: "春节"}


def festival_day(preset: str, year: int) -> date:
    if preset == Holiday.MID_AUTUMN:
        return lunar.mid_autumn(year)
    if preset == Holiday.NATIONAL_DAY:
        return date(year, 10, 1)
    if preset == Holiday.SPRING_FESTIVAL:
        return lunar.spring_festival(year)
    raise DomainError(E.PRESET_UNKNOWN, field="preset", preset=preset)


def _start(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=shop_tz())


def _gift_item(code: str, actor) -> GiftItem:
    name, cost = GIFT_ITEMS[code]
    return GiftItem.objects.filter(code=code).first() or gift_item_create(
        code=code, name=name, unit_cost_fen=cost, actor=actor
    )


def _template(data: dict, actor) -> CouponTemplate:
    found = CouponTemplate.objects.filter(name=data["name"]).order_by("pk").first()
    return found or coupon_template_create(data=data, actor=actor)


def _half_up(amount: int, bp: int) -> int:
    return (amount * bp + 5_000) // 10_000


def holiday_promotions_apply(
    *,
    preset: str,
    year: int,
    store: Store | None = None,
    actor=None,
    skus: list[str] | tuple[str, ...] = (),
    receipt_threshold_fen: int = RECEIPT_THRESHOLD_FEN,
) -> dict:
    """Create the seed 002 holiday promotions of ``preset`` (mid_autumn | national_day |
    spring_festival) for ``year``. Returns the ids of what it created, by kind."""
    day1 = festival_day(preset, year)
    label = LABELS[preset]
    tag = f"{preset}-{year}" + (f"-{store.code}" if store else "")
    prefix = f"{year}{label}" + (f"（{store.name}）" if store else "")
    if DrawGame.objects.filter(code=f"{tag}-receipt").exists():
        raise DomainError(E.PROMOTION_EXISTS, preset=label, year=year)
    if (
        isinstance(receipt_threshold_fen, bool)
        or not isinstance(receipt_threshold_fen, int)
        or receipt_threshold_fen <= 0
    ):
        raise DomainError(E.DRAW_GAME_INVALID, field="receipt_threshold_fen")
    products = list(Product.objects.filter(sku__in=list(skus)))
    if len(products) != len(set(skus)):
        raise DomainError(E.DRAW_GAME_INVALID, field="skus")
    days = [day1 + timedelta(days=i) for i in range(EVENT_DAYS)]
    event_start, event_end = _start(days[0]), _start(days[-1] + timedelta(days=1))
    gift_code = "HOLIDAY-MOONCAKE" if preset == Holiday.MID_AUTUMN else "HOLIDAY-GIFT"
    items = {code: _gift_item(code, actor) for code in GIFT_ITEMS}
    out: dict[str, list[int]] = {"early_bird_templates": [], "member_prices": [], "draw_games": []}

    # 1. the first 50 customers of each day: a gift or 8折 for the whole event
    for d in days:
        for kind, extra, what in (
            ("gift", {"gift": items[gift_code]}, items[gift_code].name),
            ("percent", {"rate_off_bp": EARLY_BIRD_RATE_OFF_BP}, "全场8折"),
        ):
            tpl = _template(
                {
                    "name": f"{prefix} 开门前50名 {what}（{d:%m-%d}）",
                    "kind": kind,
                    "total_limit": EARLY_BIRD_LIMIT,
                    "valid_from": _start(d),
                    "valid_to": event_end,
                    **extra,
                },
                actor,
            )
            out["early_bird_templates"].append(tpl.pk)

    # 2. festival-day markdowns: day 1 at 60%, days 2–3 at 70%
    for product in products:
        for i, d in enumerate(days):
            price = _half_up(product.list_price_fen, MARKDOWN_BP[i])
            found = MemberPrice.objects.filter(product=product, valid_from=_start(d)).first()
            mp = found or member_price_create(
                data={
                    "product": product,
                    "price_fen": price,
                    "valid_from": _start(d),
                    "valid_to": _start(d + timedelta(days=1)),
                },
                actor=actor,
            )
            out["member_prices"].append(mp.pk)

    # 3 and 4. the pre-purchase draw and the 人人有奖 receipt draw
    def prizes(spec):
        rows = []
        for name, bp, stock, (what, ref) in spec:
            row = {"name": name, "probability_bp": bp, "stock": stock}
            if what == "item":
                row["gift_item_id"] = items[ref].pk
            else:
                tpl = _template(
                    {
                        "name": f"{prefix} 抽奖 {ref}指定商品9折券",
                        "kind": "percent",
                        "rate_off_bp": 1_000,
                        "valid_from": event_start,
                        "valid_to": event_end,
                        "per_member_limit": 1,
                    },
                    actor,
                )
                row["coupon_template_id"] = tpl.pk
            rows.append(row)
        return rows

    pre = DrawGame.objects.filter(code=f"{tag}-pre").first() or draw_game_create(
        data={
            "code": f"{tag}-pre",
            "name": f"{prefix} 购物前抽奖",
            "kind": DrawKind.PRE_PURCHASE,
            "starts_at": event_start,
            "ends_at": event_end,
            "daily_limit": 1,
            "prizes": prizes(PRE_PURCHASE_PRIZES),
        },
        actor=actor,
    )
    receipt = draw_game_create(
        data={
            "code": f"{tag}-receipt",
            "name": f"{prefix} 购物满{receipt_threshold_fen / 100:g}元 人人有奖",
            "kind": DrawKind.RECEIPT,
            "starts_at": event_start,
            "ends_at": event_end,
            "daily_limit": 100,
            "min_receipt_fen": receipt_threshold_fen,
            "prizes": prizes(RECEIPT_PRIZES),
        },
        actor=actor,
    )
    out["draw_games"] = [pre.pk, receipt.pk]
    return out
