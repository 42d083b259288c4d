"""Seeded demo data with the seed presets (``laoke demo``), loaded once per database.

Small configuration (stores, groups, tags, attributes, agreement, card policies, staff) goes
through the services like any operator's input; the 2,000 demo members and their consents are a
seeded bulk job (bulk_create in chunks ≤ 2,000 rows, one 'demo.load' audit row), the same way an
import applies validated rows, so the demo loads in seconds. Every mobile still passes the same
normaliser the services use.
"""

from __future__ import annotations

import io
import random
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from laoke.analytics.external import external_campaign_import
from laoke.analytics.product_roles import product_roles_compute
from laoke.analytics.scores import member_scores_refresh
from laoke.campaigns.dispatch import campaigns_tick
from laoke.campaigns.models import Campaign
from laoke.campaigns.presets import campaigns_presets_install
from laoke.campaigns.services import campaign_approve, campaign_create, campaign_schedule
from laoke.cards.services import card_batch_create, cards_presets_install
from laoke.cards.wallet import _wallet_credit
from laoke.catalog.models import Category, GiftItem, GiftStock, Product
from laoke.catalog.services import category_create, gift_item_create, gift_stock_adjust, product_create
from laoke.channels.models import MessageTemplate
from laoke.core import clock
from laoke.core.audit import audit_write
from laoke.core.errors import DomainError
from laoke.core.models import AuditEntry, Store
from laoke.core.roles import ROLE_PERMISSIONS
from laoke.core.services import staff_user_create, store_create
from laoke.flash.services import flash_presets_install
from laoke.members.models import (
    Agreement,
    AttributeDefinition,
    AttributeValue,
    CardPolicy,
    Channel,
    Consent,
    ConsentEvent,
    CorporateAccount,
    GroupAccount,
    Member,
    MemberTag,
    Tag,
)
from laoke.members.services import (
    agreement_publish,
    attribute_definition_create,
    corporate_account_create,
    group_account_create,
    tag_create,
)
from laoke.members.validation import normalize_mobile, parse_addresses
from laoke.orders.checkout import CheckoutIn, LineIn
from laoke.orders.models import Order, PaymentMethod
from laoke.orders.services import order_deliver, order_refund, order_settle, order_ship
from laoke.points.earning import _points_earn
from laoke.points.models import GiftLevel
from laoke.points.presets import points_presets_install
from laoke.points.rules import EarnLine
from laoke.points.services import gift_offer_add
from laoke.promotions.models import CouponTemplate
from laoke.promotions.presets import promotions_presets_install
from laoke.promotions.services import coupon_template_create
from laoke.referrals.services import referrals_presets_install
from laoke.segments.models import Segment
from laoke.segments.services import segment_create
from laoke.shipping.presets import shipping_presets_install
from laoke.stats.services import _stats_add
from laoke.tiers.presets import tier_presets_install
from laoke.tiers.services import _tiers_evaluate

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
)
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彩春菊兰凤洁梅琳素云莲真环雪荣爱妹霞香月莺媛艳瑞凡佳嘉琼勤珍贞莉桂娣叶璧璐娅琦晶妍茜秋珊莎锦黛青倩婷姣婉娴瑾颖露瑶怡婵雁蓓纨仪荷丹蓉眉君琴蕊薇菁梦岚苑婕馨瑗琰韵融园艺咏卿聪澜纯毓悦昭冰爽琬茗羽希宁欣飘育滢馥筠柔竹霭凝晓欢霄枫芸菲寒伊亚宜可姬舒影荔枝思丽"
ADDRESSES = [
    "北京市朝阳区建国路{n}号",
    "上海市浦东新区世纪大道{n}号",
    "广东省深圳市南山区科技园{n}号",
    "广东省广州市天河区体育西路{n}号",
    "浙江省杭州市西湖区文三路{n}号",
    "江苏省南京市鼓楼区中山路{n}号",
    "四川省成都市武侯区人民南路{n}号",
    "湖北省武汉市洪山区珞喻路{n}号",
    "山东省青岛市市南区香港中路{n}号",
    "福建省厦门市思明区湖滨南路{n}号",
    "内蒙古自治区呼和浩特市新城区新华大街{n}号",
    "新疆维吾尔自治区乌鲁木齐市天山区人民路{n}号",
    "甘肃省兰州市城关区东岗西路{n}号",
    "宁夏回族自治区银川市兴庆区解放西街{n}号",
    "广西壮族自治区南宁市青秀区民族大道{n}号",
    "重庆市渝中区解放碑{n}号",
    "天津市和平区南京路{n}号",
    "陕西省西安市雁塔区小寨路{n}号",
]
MOBILE_PREFIXES = [
    "133",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "158",
    "159",
    "176",
    "177",
    "180",
    "181",
    "186",
    "187",
    "188",
    "189",
    "199",
]
POINT_GIFT_LEVELS = [80, 100, 200, 600, 800, 1200, 2500, 8000]  # SPEC section 3 preset


def _already_loaded() -> bool:
    return AuditEntry.objects.filter(action="demo.load").exists()


def _once(fn, lookup):
    """Run a create service unless an earlier, interrupted demo run already made the object."""
    existing = lookup()
    return existing if existing is not None else fn()


def _store(code: str, name: str, **kw) -> Store:
    return _once(
        lambda: store_create(code=code, name=name, **kw), lambda: Store.objects.filter(code=code).first()
    )


def _stores() -> list[Store]:
    online = _store("ONLINE", "天猫旗舰店", kind=Store.Kind.ONLINE)
    branch = _store("BJ", "北京分公司", kind=Store.Kind.BRANCH, address="北京市朝阳区建国路88号")
    s1 = _store("BJ-01", "朝阳门店", parent=branch, address="北京市朝阳区朝阳门外大街1号")
    s2 = _store("BJ-02", "海淀门店", parent=branch, address="北京市海淀区中关村大街27号")
    return [online, branch, s1, s2]


def _staff(password: str, store: Store) -> list[str]:
    User = get_user_model()
    names = []
    for role in ROLE_PERMISSIONS:
        username = f"demo_{role}"
        if not User.objects.filter(username=username).exists():
            staff_user_create(username=username, password=password, role=role, store=store)
        names.append(username)
    return names


def _card_policies() -> None:
    now = clock.now()
    CardPolicy.objects.create(  # seed 002 (supermarket): 5元 fee, 2 years, waived from a 200元 purchase
        name="超市会员卡（种子002）",
        is_active=True,
        validity_days=730,
        fee_fen=500,
        group_fee_bp=8000,
        waiver_threshold_fen=20_000,
        replacement_fee_fen=200,
        created_at=now,
    )
    CardPolicy.objects.create(  # seed 003 (mall): free with the first-purchase receipt
        name="商场会员卡（种子003）",
        is_active=False,
        validity_days=730,
        fee_fen=0,
        free_with_first_purchase=True,
        replacement_fee_fen=200,
        created_at=now,
    )


def _catalog(stores: list[Store]) -> int:
    def cat(code, name, parent=None):
        return _once(
            lambda: category_create(code=code, name=name, parent=parent),
            lambda: Category.objects.filter(code=code).first(),
        )

    baby = cat("mother-baby", "母婴")
    food, daily, durable = (
        cat("mb-food", "食品（奶粉/辅食）", baby),
        cat("mb-daily", "日用（纸尿裤/洗护）", baby),
        cat("mb-durable", "耐用品（童车/童床）", baby),
    )
    apparel = cat("WOMEN", "女装")
    dresses, coats = cat("WOMEN-DRESS", "连衣裙", apparel), cat("WOMEN-COAT", "外套", apparel)
    grocery = cat("MARKET-GROCERY", "粮油副食", cat("MARKET", "超市"))
    products = [
        ("BF-001", "婴儿配方奶粉 1段 900g", food, 26800, 19000, False),
        ("BF-002", "有机米粉 225g", food, 5900, 3100, False),
        ("BD-001", "纸尿裤 M 码 64 片", daily, 12900, 8200, False),
        ("BD-002", "婴儿洗发沐浴露 400ml", daily, 6800, 3500, False),
        ("BU-001", "高景观婴儿推车", durable, 159900, 98000, False),
        ("BU-002", "实木婴儿床", durable, 129900, 76000, False),
        ("WD-001", "真丝印花连衣裙", dresses, 59900, 21000, False),
        ("WD-002", "针织修身连衣裙", dresses, 29900, 9800, False),
        ("WC-001", "羊毛双面呢大衣", coats, 129900, 42000, False),
        ("WC-002", "轻薄羽绒服", coats, 49900, 18000, False),
        ("MG-001", "东北大米 5kg", grocery, 4990, 3600, False),
        ("MG-002", "花生油 5L（会员特价）", grocery, 6990, 6200, True),
        ("MG-003", "月饼礼盒", grocery, 19800, 8800, False),
    ]
    for sku, title, c, lp, cp, sp in products:
        _once(
            lambda sku=sku, title=title, c=c, lp=lp, cp=cp, sp=sp: product_create(
                sku=sku, title=title, category=c, list_price_fen=lp, cost_price_fen=cp, is_special_sale=sp
            ),
            lambda sku=sku: Product.objects.filter(sku=sku).first(),
        )
    gifts = [
        ("TOWEL", "小方巾（满150元赠）", 350),
        ("GIFTBOX", "外包装盒（单价≥300元赠）", 800),
        ("CARD-GUARANTEE", "售后服务保障卡", 50),
        ("MOONCAKE", "月饼（节日礼品）", 2500),
    ] + [(f"PTS-{lv}", f"{lv} 积分礼品", lv * 5) for lv in POINT_GIFT_LEVELS]
    physical = [s for s in stores if s.kind != Store.Kind.BRANCH]
    for code, name, cost in gifts:
        gift = _once(
            lambda code=code, name=name, cost=cost: gift_item_create(
                code=code, name=name, unit_cost_fen=cost
            ),
            lambda code=code: GiftItem.objects.filter(code=code).first(),
        )
        for store in physical:
            if not GiftStock.objects.filter(gift=gift, store=store).exists():
                gift_stock_adjust(gift=gift, store=store, delta=50, reason="demo: opening stock")
    return len(products)


def _members(
    rng: random.Random,
    n: int,
    stores: list[Store],
    groups,
    tags: list[Tag],
    attrs: dict[str, AttributeDefinition],
) -> int:
    now = clock.now()
    shop_stores = [s for s in stores if s.kind != Store.Kind.BRANCH]
    used: set[str] = set()
    addresses = [rng.choice(ADDRESSES).format(n=rng.randrange(1, 300)) for _ in range(n)]
    parsed = parse_addresses(addresses)  # one cpca call, the parser the services use
    rows = []
    for i in range(n):
        while True:
            raw = rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
            if raw not in used:
                used.add(raw)
                break
        # Registration dates over two years, denser recently (a growing shop).
        days_ago = int(730 * (rng.random() ** 2))
        registered = now - timedelta(days=days_ago, minutes=rng.randrange(24 * 60))
        region = parsed[i]
        lifecycle = rng.choices(
            [
                Member.Lifecycle.REGISTERED,
                Member.Lifecycle.ACTIVE,
                Member.Lifecycle.RECHARGED,
                Member.Lifecycle.DORMANT,
                Member.Lifecycle.LAPSED,
            ],
            weights=[30, 35, 10, 20, 5],
        )[0]
        rows.append(
            Member(
                code=f"D{i + 1:010d}",
                mobile=normalize_mobile(raw) if rng.random() < 0.93 else None,
                name=rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice([1, 2]))),
                gender=rng.choice(["F", "F", "F", "M", ""]),
                birthday=(now - timedelta(days=rng.randrange(18 * 365, 60 * 365))).date()
                if rng.random() < 0.6
                else None,
                address_raw=region.raw,
                province=region.province,
                city=region.city,
                district=region.district,
                address_detail=region.detail,
                adcode=region.adcode,
                source=rng.choice(["store", "taobao", "online", "event", "referral"]),
                home_store=rng.choice(shop_stores),
                group_account=rng.choice(groups) if rng.random() < 0.04 else None,
                registered_at=registered,
                lifecycle=lifecycle,
                created_at=registered,
                updated_at=registered,
            )
        )
    for start in range(0, len(rows), 2000):
        Member.objects.bulk_create(rows[start : start + 2000])
    members = list(Member.objects.order_by("pk").values_list("pk", "registered_at", "mobile"))
    consents, events, member_tags, values = [], [], [], []
    general = [t for t in tags if not t.is_sensitive]
    size, baby = attrs["size"], attrs["baby_age_months"]
    for pk, registered, mobile in members:
        for channel in (Channel.SMS, Channel.EMAIL):
            if channel == Channel.SMS and not mobile:
                continue
            granted = rng.random() < 0.85
            state = Consent.State.GRANTED if granted else Consent.State.WITHDRAWN
            consents.append(
                Consent(
                    member_id=pk, channel=channel, state=state, changed_at=registered, source="registration"
                )
            )
            events.append(
                ConsentEvent(member_id=pk, channel=channel, state=state, at=registered, source="registration")
            )
        for tag in rng.sample(general, k=rng.choice([0, 0, 1, 1, 2])):
            member_tags.append(MemberTag(member_id=pk, tag=tag, added_at=registered, source="demo"))
        # Custom attributes in their typed columns, as member_attribute_set stores them.
        if rng.random() < 0.35:
            values.append(
                AttributeValue(
                    member_id=pk, definition=size, value_text=rng.choice(size.choices), updated_at=registered
                )
            )
        if rng.random() < 0.15:
            values.append(
                AttributeValue(
                    member_id=pk, definition=baby, value_int=rng.randrange(37), updated_at=registered
                )
            )
    for batch in (consents, events, member_tags, values):
        for start in range(0, len(batch), 2000):
            type(batch[0]).objects.bulk_create(batch[start : start + 2000])
    return len(members)


def _value(rng: random.Random, stores: list[Store]) -> dict:
    """The value presets (seed 003 tiers active, seed 001's installed for switching; the points
    programme with its gift levels offered at every physical store; the wallet policy; seed 001's
    shipping rules; the coupon templates of the 满就送 and referral presets), then some
    history through the services: past spend that grades members, points earned on past orders,
    stored value, and one batch of prepaid cards generated by the worker. Keys are deterministic,
    so an interrupted run that is started again moves nothing twice."""
    tier_presets_install(preset="online_shop", activate=False)
    tier_presets_install(preset="stored_value")
    points_presets_install()
    cards_presets_install()
    shipping_presets_install(preset="seed_001")
    for name, amount, days in [  # SPEC 6 presets: 满就送 (≥100元 → 3元, ≥150元 → 5元), referral 50元
        ("满就送 3元券", 300, 30),
        ("满就送 5元券", 500, 30),
        ("推荐有礼 50元券", 5_000, 90),
    ]:
        _once(
            lambda name=name, amount=amount, days=days: coupon_template_create(
                data={"name": name, "kind": "fixed", "amount_off_fen": amount, "valid_days": days}
            ),
            lambda name=name: CouponTemplate.objects.filter(name=name).first(),
        )
    for level in GiftLevel.objects.filter(programme__is_active=True):
        gift = GiftItem.objects.filter(code=f"PTS-{level.points}").first()
        for store in stores:
            if gift is not None and store.kind != Store.Kind.BRANCH:
                gift_offer_add(store=store, level=level, gift=gift)
    ids = list(Member.objects.filter(status=Member.Status.ACTIVE).order_by("pk").values_list("pk", flat=True))
    graded = rng.sample(ids, min(len(ids), 300))
    spends = [rng.choice([50_000, 150_000, 250_000, 400_000]) for _ in graded]
    if not AuditEntry.objects.filter(action="demo.grades").exists():
        with transaction.atomic(durable=True):  # historical spend, as an order import adds it
            for pk, spend in zip(graded, spends, strict=True):
                member = Member.objects.get(pk=pk)
                _stats_add(member=member, spend_fen=spend, orders=1, at=clock.now() - timedelta(days=180))
                _tiers_evaluate(member=member, reason="演示：历史消费")
            audit_write(action="demo.grades", object_type="demo", after={"members": len(graded)})
    earners = rng.sample(ids, min(len(ids), 200))
    wallets = rng.sample(ids, min(len(ids), 100))
    with transaction.atomic(durable=True):  # one transaction for the lot, as a bulk job
        for pk in earners:
            paid = [rng.randrange(2_000, 60_000) for _ in range(rng.randint(1, 3))]
            _points_earn(
                member=Member.objects.get(pk=pk),
                key=f"demo-order-{pk}",
                reference=f"DEMO-{pk}",
                lines=[EarnLine(ref=f"L{i}", paid_fen=fen) for i, fen in enumerate(paid)],
            )
        for pk in wallets:
            _wallet_credit(
                member=Member.objects.get(pk=pk),
                amount_fen=rng.choice([10_000, 20_000, 50_000, 100_000]),
                key=f"demo-topup-{pk}",
                reason="card_recharge",
                reference="demo",
            )
        audit_write(
            action="demo.value", object_type="demo", after={"points": len(earners), "wallets": len(wallets)}
        )
    batch = card_batch_create(face_value_fen=50_000, count=20, purpose="演示：500元储值卡")
    return {
        "graded": len(graded),
        "points_members": len(earners),
        "wallets": len(wallets),
        "card_batch": batch.code,
    }


def _orders(rng: random.Random, stores: list[Store], n: int = 60) -> dict:
    """Seed 001's promotion rules (满就送, towel, gift box, guarantee card), the flash zone with two
    items, the referral preset; then ``n`` orders settled through the real settlement (tier
    prices, coupons, points and wallet, postage), some delivered, a few returned."""
    promotions_presets_install()
    flash_presets_install(demo_items=True)
    referrals_presets_install()
    if Order.objects.exists():
        return {"orders": Order.objects.count()}
    skus = list(
        Product.objects.filter(is_active=True, list_price_fen__gt=0)
        .exclude(sku__startswith="GIFT-")
        .values_list("sku", flat=True)
    )
    buyers = list(Member.objects.filter(status=Member.Status.ACTIVE).exclude(province="").order_by("pk")[:n])
    settled = []
    # spread over the last 170 days (after the graded history), so cohorts, repurchase intervals,
    # RFM and CLV have some history to show; a buyer pool of n members gives repeat customers
    start = clock.now() - timedelta(days=170)
    for i in range(n):
        at = start + timedelta(days=170 * i / n, minutes=rng.randrange(600))
        member = buyers[rng.randrange(len(buyers))] if buyers and rng.random() < 0.85 else None
        lines = tuple(
            LineIn(sku=sku, quantity=rng.randint(1, 2)) for sku in rng.sample(skus, rng.randint(1, 3))
        )
        delivery = rng.random() < 0.6
        request = CheckoutIn(
            lines=lines,
            member_id=member.pk if member else None,
            store_id=stores[i % len(stores)].pk,
            channel="online" if delivery else "store",
            courier="normal" if delivery else "",
            province=(member.province if member else "浙江省") if delivery else "",
            payment_method=PaymentMethod.COD if delivery and rng.random() < 0.2 else PaymentMethod.ONLINE,
        )
        try:
            with clock.frozen(at):
                settled.append(order_settle(request=request, now=at))
        except DomainError:  # e.g. an address the shipping rules cannot place: skip, as a cashier would
            continue
    for order in settled[::4]:
        if order.courier:
            order_ship(order_id=order.pk)
            order_deliver(order_id=order.pk)
    for order in settled[::15]:
        order_refund(
            order_id=order.pk, key=f"demo-return-{order.number}", reason="演示：退货", override_window=True
        )
    return {"orders": len(settled)}


def _marketing() -> dict:
    """The segment and campaign presets (drafts), and one small campaign running: a thank-you
    SMS with a coupon to the members tagged 双11新客, 10% held out, written to the outbox."""
    presets = campaigns_presets_install()
    name = "演示：双11新客感谢+回购券"
    if not Campaign.objects.filter(name=name).exists():
        segment = Segment.objects.filter(name="双11新客（标签）").first() or segment_create(
            name="双11新客（标签）", rule={"field": "tags", "op": "any", "value": ["双11新客"]}
        )
        campaign = campaign_create(
            data={
                "name": name,
                "plain_terms": "双11新客：感谢短信+10元回购券（满100可用，10天有效），10%留作对照组。",
                "objective": "retention",
                "target_metric": "response_rate",
                "target_value": 1500,
                "segment_id": segment.pk,
                "budget_fen": 500_000,
                "waves": [
                    {
                        "name": "感谢+回购券",
                        "template_id": MessageTemplate.objects.get(name="双11新客感谢+回购券").pk,
                        "offer_template_id": CouponTemplate.objects.get(name="回购券：满100减10").pk,
                        "loops": 3,
                        "loop_every_days": 30,
                    }
                ],
            }
        )
        campaign_approve(campaign_id=campaign.pk, actor=None)
        campaign_schedule(campaign_id=campaign.pk)
        campaigns_tick(clock.now())
    return {"campaign_presets": len(presets), "campaigns": Campaign.objects.count()}


def _external_campaign(rng: random.Random) -> dict:
    """An SMS/email campaign the shop ran on its old platform before Laoke, imported for
    evaluation (SPEC 11): 1,200 demo members by member number in two treatment arms and a 10%
    control, and the orders that platform recorded (evidence only: no shop orders, no value)."""
    name = "演示：旧平台的中秋短信/邮件活动（导入评估）"
    if Campaign.objects.filter(name=name).exists():
        return {}
    codes = list(
        Member.objects.filter(status=Member.Status.ACTIVE)
        .order_by("pk")
        .values_list("code", flat=True)[:1200]
    )
    start = clock.local_now().replace(hour=10, minute=0, second=0, microsecond=0) - timedelta(days=60)
    contacts, orders = ["member_ref,arm,contacted_at"], ["member_ref,ordered_at,amount"]
    for i, code in enumerate(codes):
        arm = "control" if i % 10 == 0 else ("短信" if i % 2 else "邮件")
        at = start + timedelta(minutes=rng.randint(0, 600))
        contacts.append(f"{code},{arm},{at:%Y-%m-%d %H:%M}")
        if rng.random() < {"control": 0.05, "短信": 0.12, "邮件": 0.08}[arm]:
            when = at + timedelta(hours=rng.randint(1, 20 * 24))
            orders.append(f"{code},{when:%Y-%m-%d %H:%M},{rng.randint(60, 600)}.00")
    summary = external_campaign_import(
        name=name,
        contacts=io.StringIO("\n".join(contacts) + "\n"),
        orders=io.StringIO("\n".join(orders) + "\n"),
        window_days=14,
        cost_fen=60_000,
        contacts_name="旧平台-触达名单.csv",
        orders_name="旧平台-订单.csv",
        plain_terms="中秋节前短信/邮件提醒，无优惠券；10%对照组未发送。",
    )
    return {"external_campaign": summary["id"]}


def _analytics() -> dict:
    """The nightly analytics once now (RFM, P(alive), CLV; product roles), so the reports and the
    segment fields on scores have figures from the first start."""
    scores = member_scores_refresh(now=clock.now())
    roles = product_roles_compute(now=clock.now())
    return {
        "scored_members": scores.members,
        "product_roles": sum(v for k, v in roles.items() if k != "manual_kept"),
    }


def _sample_files(seed: int) -> str:
    """A Taobao order report and its item report (GB18030, 300 invented orders from the seeded
    generator) for the operator to try the import with: console 导入, or `laoke import taobao`."""
    from laoke.imports.generator import taobao_files

    folder = settings.DATA_DIR / "samples"
    folder.mkdir(exist_ok=True)
    orders, items = taobao_files(300, seed=seed)
    (folder / "taobao_orders_sample.csv").write_bytes(orders)
    (folder / "taobao_items_sample.csv").write_bytes(items or b"")
    return str(folder)


def _service_events_sales(rng: random.Random) -> dict:
    """Recharge packages, the service desk, events, holiday campaigns, B2B and staff work (each app
    builds its own presets and a little realistic data through its services)."""
    from laoke.b2b.demo import demo_load as b2b
    from laoke.events.demo import demo_load as events
    from laoke.holidays.demo import demo_load as holidays
    from laoke.payments.demo import demo_load as payments
    from laoke.portal.demo import demo_load as portal
    from laoke.service.demo import demo_load as service
    from laoke.staff.demo import demo_load as staff

    now = clock.now()
    hooks = {"payments": payments, "service": service, "events": events, "holidays": holidays}
    hooks.update({"b2b": b2b, "staff": staff, "portal": portal})
    return {name: hook(rng=rng, now=now) for name, hook in hooks.items()}


def demo_load(*, seed: int = 20261111, members: int = 2000) -> dict:
    if _already_loaded():
        return {"loaded": False, "reason": "demo data already present"}
    rng = random.Random(seed)
    stores = _stores()
    password = "demo-" + secrets.token_urlsafe(6)
    staff = _staff(password, stores[2])
    groups = [
        _once(
            lambda: group_account_create(
                name="北京某某科技有限公司",
                kind="company",
                contact_name="刘经理",
                contact_mobile="13911112222",
            ),
            lambda: GroupAccount.objects.filter(name="北京某某科技有限公司").first(),
        ),
        _once(
            lambda: group_account_create(name="张家（家庭账户）", kind="family"),
            lambda: GroupAccount.objects.filter(name="张家（家庭账户）").first(),
        ),
    ]
    tags = [
        _once(lambda n=n, k=k: tag_create(name=n, kind=k), lambda n=n: Tag.objects.filter(name=n).first())
        for n, k in [
            ("在意尺码", Tag.Kind.PSYCHOGRAPHIC),
            ("在意真品", Tag.Kind.PSYCHOGRAPHIC),
            ("在意保质期", Tag.Kind.PSYCHOGRAPHIC),
            ("价格敏感", Tag.Kind.BEHAVIOUR),
            ("双11新客", Tag.Kind.BEHAVIOUR),
            ("VIP 候选", Tag.Kind.GENERAL),
            ("三高人群", Tag.Kind.SENSITIVE),
        ]
    ]
    attrs = {
        "size": _once(
            lambda: attribute_definition_create(
                key="size", label="尺码", type="choice", choices=["S", "M", "L", "XL"]
            ),
            lambda: AttributeDefinition.objects.filter(key="size").first(),
        ),
        "baby_age_months": _once(
            lambda: attribute_definition_create(key="baby_age_months", label="宝宝月龄", type="integer"),
            lambda: AttributeDefinition.objects.filter(key="baby_age_months").first(),
        ),
    }
    _once(
        lambda: agreement_publish(
            version="1.0", title="会员协议", body="欢迎加入会员。我们依法保护您的个人信息……"
        ),
        lambda: Agreement.objects.filter(version="1.0").first(),
    )
    for unit, klass, spend in [
        ("某某大酒店", "key", 86_000_000),
        ("某某会展中心", "conference", 35_000_000),
        ("某某科技园", "potential", 0),
    ]:
        _once(
            lambda unit=unit, klass=klass, spend=spend: corporate_account_create(
                data={
                    "unit_name": unit,
                    "klass": klass,
                    "annual_spend_fen": spend,
                    "agreed_discount_bp": 9000,
                    "contact_name": "王总",
                }
            ),
            lambda unit=unit: CorporateAccount.objects.filter(unit_name=unit).first(),
        )
    n_products = _catalog(stores)
    if not AuditEntry.objects.filter(action="demo.members").exists():
        with transaction.atomic(durable=True):
            _card_policies()
            n_members = _members(rng, members, stores, groups, tags, attrs)
            audit_write(action="demo.members", object_type="demo", after={"seed": seed, "members": n_members})
    n_members = Member.objects.count()
    value = _value(rng, stores)
    value.update(_orders(rng, stores))
    value.update(_marketing())
    value.update(_external_campaign(rng))
    value.update(_analytics())
    value.update(_service_events_sales(rng))
    with transaction.atomic(durable=True):
        audit_write(
            action="demo.load", object_type="demo", after={"seed": seed, "members": n_members, **value}
        )
    logins = settings.DATA_DIR / "demo_logins.txt"
    logins.write_text("".join(f"{u}\t{password}\n" for u in staff))
    logins.chmod(0o600)
    return {
        "loaded": True,
        "seed": seed,
        "members": n_members,
        "products": n_products,
        "stores": len(stores),
        **value,
        "samples": _sample_files(seed),
        "staff_logins": str(logins),
    }
