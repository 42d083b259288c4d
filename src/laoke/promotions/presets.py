"""Promotion presets from the seeds (SPEC 6), installed by ``promotions_presets_install``.

Seed 001 (Taobao women's apparel, items 3, 6, 8 and 10):

- 满就送 ``seed-001-fullsend``: a single order paying ≥ 100元 earns a 3元 coupon, ≥ 150元 a 5元
  coupon, mode ``highest`` (the seed asks whether the two should be unified: one coupon, the
  higher one; ``cumulative`` is the rule's other mode). The templates are found by name
  (``满就送 3元券`` / ``满就送 5元券``, the demo's) or created: fixed 3元 / 5元 off, no threshold,
  valid 30 shop days from issue.
- towel ``seed-001-towel``: every full 150元 of one order → one 小方巾, given only if the customer
  put it in the cart (须拍下, 不拍不送), for everyone (new customers take it *or* free shipping:
  the shipping rules' ``gift_alternative``; old customers get both). The towel is the catalog
  product ``GIFT-TOWEL`` at a list price of 10元 *(default)*, not 0元: units beyond the
  entitlement are paid, so adding ten towels to a 150元 order gives one free, not ten.
- gift box ``seed-001-giftbox``: any item with a unit price ≥ 300元 → one 外包装盒 per unit
  (gift item ``GIFTBOX``, outside the cart).
- guarantee card ``seed-001-card``: a 售后服务保障卡 insert with every order (gift item
  ``CARD-GUARANTEE``, outside the cart).

Bundles (搭配套餐) name the shop's own hot items, so no bundle is preset; the scarf clip gift item
``SCARF-CLIP`` is created for them.
"""

from __future__ import annotations

from django.db import transaction

from laoke.catalog.models import GiftItem, Product
from laoke.catalog.services import gift_item_create, product_create

from .models import CouponTemplate, FullSendRule, GiftRule
from .rule_services import _full_send_rule_create, _gift_rule_create
from .services import coupon_template_create

YUAN = 100
TOWEL_SKU = "GIFT-TOWEL"
TEMPLATES = [("满就送 3元券", 3 * YUAN), ("满就送 5元券", 5 * YUAN)]
GIFT_ITEMS = [  # code, name, unit cost (fen) — the demo's codes, so a demo database finds its own
    ("GIFTBOX", "外包装盒（单价≥300元赠）", 800),
    ("CARD-GUARANTEE", "售后服务保障卡", 50),
    ("SCARF-CLIP", "丝巾扣（搭配套餐赠）", 600),
]


def _template(name: str, amount: int, actor) -> CouponTemplate:
    found = CouponTemplate.objects.filter(name=name).order_by("pk").first()
    return found or coupon_template_create(
        data={"name": name, "kind": "fixed", "amount_off_fen": amount, "valid_days": 30}, actor=actor
    )


def _gift_item(code: str, name: str, cost: int, actor) -> GiftItem:
    found = GiftItem.objects.filter(code=code).first()
    return found or gift_item_create(code=code, name=name, unit_cost_fen=cost, actor=actor)


def promotions_presets_install(*, actor=None) -> dict[str, int]:
    """Install seed 001's 满就送 and gift rules, creating what they need (coupon templates, the
    towel product, gift items) through their services when missing. Idempotent: every object is
    found by its name, SKU or code first, and an installed rule is left as the operator has it.
    Returns the ids of the rules, by code."""
    templates = [_template(name, amount, actor) for name, amount in TEMPLATES]
    towel = Product.objects.filter(sku=TOWEL_SKU).first() or product_create(
        sku=TOWEL_SKU,
        title="小方巾（满150元赠，须拍下）",
        list_price_fen=10 * YUAN,
        cost_price_fen=350,
        actor=actor,
    )
    gifts = {code: _gift_item(code, name, cost, actor) for code, name, cost in GIFT_ITEMS}
    with transaction.atomic(durable=True):
        if not FullSendRule.objects.filter(code="seed-001-fullsend").exists():
            _full_send_rule_create(
                data={
                    "code": "seed-001-fullsend",
                    "name": "满就送：满100元送3元券，满150元送5元券",
                    "mode": "highest",
                    "tiers": [
                        {"threshold_fen": 100 * YUAN, "template_id": templates[0].pk},
                        {"threshold_fen": 150 * YUAN, "template_id": templates[1].pk},
                    ],
                },
                actor=actor,
            )
        specs = [
            {
                "code": "seed-001-towel",
                "name": "每满150元送小方巾（须拍下）",
                "kind": "per_threshold",
                "threshold_fen": 150 * YUAN,
                "gift_product": towel,
            },
            {
                "code": "seed-001-giftbox",
                "name": "单价300元以上送外包装盒",
                "kind": "item_price",
                "threshold_fen": 300 * YUAN,
                "gift_item": gifts["GIFTBOX"],
            },
            {
                "code": "seed-001-card",
                "name": "售后服务保障卡",
                "kind": "always",
                "gift_item": gifts["CARD-GUARANTEE"],
            },
        ]
        for spec in specs:
            if not GiftRule.objects.filter(code=spec["code"]).exists():
                _gift_rule_create(data=spec, actor=actor)
    codes = ["seed-001-towel", "seed-001-giftbox", "seed-001-card"]
    out = dict(GiftRule.objects.filter(code__in=codes).values_list("code", "pk"))
    out["seed-001-fullsend"] = FullSendRule.objects.get(code="seed-001-fullsend").pk
    return out
