"""Order-rule services: 满就送 issue/revoke inside a settlement transaction, validation, audit rows,
bundles (complete sets, price and gifts), the seed-001 preset installer."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction

from laoke.catalog.models import GiftItem, Product
from laoke.catalog.services import product_create
from laoke.core.errors import DomainError
from laoke.core.models import AuditEntry
from laoke.orders.engine import Cart, CartLine, Order, quote
from laoke.promotions.models import CouponState, FullSendRule, FullSendTier, GiftRule
from laoke.promotions.presets import promotions_presets_install
from laoke.promotions.rule_services import (
    _bundle_cards_issue,
    _full_send_issue,
    _full_send_revoke,
    bundle_create,
    bundle_update,
    full_send_rule_create,
    full_send_rule_update,
    gift_rule_create,
    gift_rule_update,
    member_price_create,
)
from laoke.promotions.rules import RuleLine, full_send_preview, order_offers
from tests.promotions.helpers import NOW, template
from tests.promotions.test_rules_engine import to_benefit

pytestmark = pytest.mark.django_db


@pytest.fixture
def fullsend(frozen):
    t3 = template(name="满就送 3元券", threshold_fen=0, amount_off_fen=300)
    t5 = template(name="满就送 5元券", threshold_fen=0, amount_off_fen=500, total_limit=1)
    rule = full_send_rule_create(
        data={
            "code": "fs",
            "name": "满就送",
            "mode": "highest",
            "tiers": [
                {"threshold_fen": 15_000, "template_id": t5.pk},
                {"threshold_fen": 10_000, "template_id": t3.pk},
            ],
        }
    )
    return rule, t3, t5


def issue(member, ref, paid):
    with transaction.atomic():
        return _full_send_issue(member=member, order_ref=ref, paid_fen=paid, now=NOW)


def revoke(ref, paid):
    with transaction.atomic():
        return _full_send_revoke(order_ref=ref, paid_fen_after=paid, now=NOW)


def test_full_send_highest_and_cumulative(fullsend, member):
    rule, t3, t5 = fullsend
    assert issue(member, "O-1", 9_999) == []
    [c] = issue(member, "O-2", 10_000)
    assert c.template_id == t3.pk and c.member_id == member.pk
    [c5] = issue(member, "O-3", 20_000)
    assert c5.template_id == t5.pk
    assert [c.pk for c in issue(member, "O-3", 20_000)] == [c5.pk]  # idempotent by order_ref
    full_send_rule_update(rule_id=rule.pk, data={"mode": "cumulative"})
    assert [d["amount_off_fen"] for d in full_send_preview(20_000, NOW)] == [300, 500]
    # the 5元 template's total limit (1) is used up: that tier is skipped, the sale does not fail
    got = issue(member, "O-4", 20_000)
    assert [c.template_id for c in got] == [t3.pk]
    row = AuditEntry.objects.filter(action="full_send.issue", object_id="O-4").get()
    tier5 = FullSendTier.objects.get(rule=rule, threshold_fen=15_000)
    assert row.after["skipped"] == {str(tier5.pk): "COUPON_TOTAL_LIMIT_REACHED"}


def test_full_send_needs_a_member_and_an_order_ref(fullsend, member):
    assert issue(None, "O-1", 50_000) == []  # no member (or a group purchase): nothing
    with pytest.raises(DomainError) as exc:
        issue(member, "", 50_000)
    assert exc.value.field == "order_ref"


def test_full_send_window_and_inactive(fullsend, member):
    rule, _, _ = fullsend
    full_send_rule_update(rule_id=rule.pk, data={"valid_from": NOW + timedelta(days=1)})
    assert issue(member, "O-1", 20_000) == []
    full_send_rule_update(rule_id=rule.pk, data={"valid_from": None, "is_active": False})
    assert issue(member, "O-1", 20_000) == []


def test_full_send_revoke_voids_unused_keeps_redeemed(fullsend, member):
    rule, _t3, _t5 = fullsend
    full_send_rule_update(rule_id=rule.pk, data={"mode": "cumulative"})
    c3, c5 = sorted(issue(member, "O-9", 16_000), key=lambda c: c.template.amount_off_fen)
    from laoke.promotions.services import _coupon_redeem

    with transaction.atomic():
        _coupon_redeem(coupon=c5, member=member, order_ref="O-10", now=NOW)
    assert revoke("O-9", 16_000) == []  # both tiers still met
    assert revoke("O-9", 12_000) == []  # 5元 tier no longer met, but already used: it stays
    row = AuditEntry.objects.get(action="full_send.revoke", object_id="O-9")
    assert row.after["kept_redeemed"] == [{"code": c5.code, "order_ref": "O-10"}]
    [gone] = revoke("O-9", 5_000)
    assert gone.pk == c3.pk and gone.state == CouponState.VOIDED
    assert revoke("O-9", 0) == []  # nothing left to void
    assert revoke("O-99", 0) == []  # an order that earned nothing


def test_full_send_revoke_does_not_touch_a_longer_order_ref(fullsend, member):
    issue(member, "A:1", 10_000)
    assert revoke("A", 0) == []
    assert len(revoke("A:1", 0)) == 1


def test_tiers_are_retired_not_deleted(fullsend, member):
    rule, _t3, t5 = fullsend
    [c] = issue(member, "O-1", 10_000)
    full_send_rule_update(rule_id=rule.pk, data={"tiers": [{"threshold_fen": 20_000, "template_id": t5.pk}]})
    assert FullSendTier.objects.filter(rule=rule).count() == 3
    assert FullSendTier.objects.filter(rule=rule, retired_at__isnull=True).count() == 1
    assert [v.pk for v in revoke("O-1", 9_000)] == [c.pk]  # the retired tier still answers


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"mode": "both"}, "mode"),
        ({"tiers": []}, "tiers"),
        ({"tiers": [{"threshold_fen": 0, "template_id": 1}]}, "threshold_fen"),
        ({"tiers": [{"threshold_fen": 100, "template_id": 999_999}]}, "template_id"),
        ({"code": "has space"}, "code"),
        ({"name": " "}, "name"),
        ({"valid_from": NOW, "valid_to": NOW}, "valid_to"),
    ],
)
def test_full_send_validation(fullsend, change, field):
    rule, _, _ = fullsend
    with pytest.raises(DomainError) as exc:
        full_send_rule_update(rule_id=rule.pk, data=change)
    assert exc.value.code == "PROMOTION_RULE_INVALID" and exc.value.field == field


def test_codes_are_unique_and_writes_audited(fullsend):
    rule, t3, _ = fullsend
    with pytest.raises(DomainError) as exc:
        full_send_rule_create(
            data={"code": "fs", "name": "x", "tiers": [{"threshold_fen": 1, "template_id": t3.pk}]}
        )
    assert exc.value.code == "PROMOTION_RULE_CODE_TAKEN"
    full_send_rule_update(rule_id=rule.pk, data={"name": "满就送（新）"})
    row = AuditEntry.objects.filter(action="full_send_rule.update").get()
    assert row.before == {"name": "满就送"} and row.after == {"name": "满就送（新）"}


def test_gift_rule_validation(frozen):
    towel = product_create(sku="T", title="毛巾", list_price_fen=1_000)
    box = GiftItem.objects.create(code="BOX", name="盒", created_at=NOW)
    base = {"code": "g", "name": "g", "kind": "per_threshold", "threshold_fen": 15_000}
    for data, field in [
        ({**base}, "gift_item"),
        ({**base, "gift_product": towel, "gift_item": box}, "gift_product"),
        ({**base, "threshold_fen": 0, "gift_product": towel}, "threshold_fen"),
        ({**base, "kind": "always", "gift_item": box}, "threshold_fen"),
        ({**base, "kind": "sometimes", "gift_item": box}, "kind"),
        ({**base, "gift_item": box, "gift_qty": 0}, "gift_qty"),
    ]:
        with pytest.raises(DomainError) as exc:
            gift_rule_create(data=data)
        assert exc.value.field == field, data
    rule = gift_rule_create(data={**base, "gift_product": towel})
    gift_rule_update(rule_id=rule.pk, data={"once_per_order": True})
    assert GiftRule.objects.get(pk=rule.pk).once_per_order
    assert AuditEntry.objects.filter(action__startswith="gift_rule.").count() == 2


def test_member_price_below_list_price(frozen):
    p = product_create(sku="P", title="p", list_price_fen=1_000)
    with pytest.raises(DomainError) as exc:
        member_price_create(data={"product": p, "price_fen": 1_000})
    assert exc.value.field == "price_fen"
    with pytest.raises(DomainError) as exc:
        member_price_create(data={"product": p, "price_fen": 900, "valid_from": NOW, "valid_to": NOW})
    assert exc.value.field == "valid_to"


@pytest.fixture
def bundle(frozen):
    hot = product_create(sku="HOT", title="爆款连衣裙", list_price_fen=29_900)
    scarf = product_create(sku="SCARF", title="丝巾", list_price_fen=9_900)
    clip = GiftItem.objects.create(code="CLIP", name="丝巾扣", created_at=NOW)
    card = template(
        name="包邮卡", kind="free_shipping", threshold_fen=0, amount_off_fen=0, face_value_fen=1_000
    )
    b = bundle_create(
        data={
            "code": "b1",
            "name": "爆款+丝巾 套餐价 349元",
            "hot_product": hot,
            "items": [{"product_id": scarf.pk, "quantity": 1}],
            "bundle_price_fen": 34_900,
            "gifts": [{"gift_item_id": clip.pk, "quantity": 1}],
            "free_shipping_template": card,
        }
    )
    return b, hot, scarf, clip


@pytest.mark.parametrize(
    ("hot_qty", "scarf_qty", "sets"), [(1, 0, 0), (1, 1, 1), (2, 1, 1), (2, 2, 2), (3, 2, 2)]
)
def test_bundle_sets_price_and_gifts(bundle, member, hot_qty, scarf_qty, sets):
    b, hot, scarf, clip = bundle
    lines = [RuleLine("L1", hot.pk, "HOT", None, 29_900, hot_qty)]
    if scarf_qty:
        lines.append(RuleLine("L2", scarf.pk, "SCARF", None, 9_900, scarf_qty))
    offers = {o.code: o for o in order_offers(lines=lines, is_member=False, now=NOW)}
    result = quote(
        Order(
            cart=Cart(tuple(CartLine(ln.ref, ln.unit_price_fen, ln.quantity) for ln in lines)),
            benefits=tuple(to_benefit(o) for o in offers.values()),
        )
    )
    gross = 29_900 * hot_qty + 9_900 * scarf_qty
    # each complete set costs 349元 instead of 299 + 99 = 398元
    assert result.goods_net_fen == gross - sets * (29_900 + 9_900 - 34_900)
    gift = f"bundle:{b.pk}:gift:{clip.pk}"
    assert (result.outcome(gift).granted if gift in offers else 0) == sets
    with transaction.atomic():
        cards = _bundle_cards_issue(member=member, order_ref="B-1", lines=lines, now=NOW)
        again = _bundle_cards_issue(member=member, order_ref="B-1", lines=lines, now=NOW)
    assert len(cards) == sets and [c.pk for c in again] == [c.pk for c in cards]
    audits = AuditEntry.objects.filter(action="bundle.cards_issue", object_id="B-1")
    assert [a.after["issued"] for a in audits] == ([[c.code for c in cards]] if sets else [])


def test_bundle_validation(bundle):
    b, hot, scarf, _ = bundle
    with pytest.raises(DomainError) as exc:
        bundle_update(bundle_id=b.pk, data={"items": [{"product_id": hot.pk}]})
    assert exc.value.field == "product_id"  # the hot item is in every set already
    with pytest.raises(DomainError) as exc:
        bundle_update(bundle_id=b.pk, data={"free_shipping_template": template(name="x")})
    assert exc.value.field == "free_shipping_template"
    with pytest.raises(DomainError) as exc:
        bundle_update(
            bundle_id=b.pk, data={"bundle_price_fen": None, "gifts": [], "free_shipping_template": None}
        )
    assert exc.value.field == "bundle_price_fen"  # gives nothing
    bundle_update(bundle_id=b.pk, data={"items": [{"product_id": scarf.pk, "quantity": 2}]})
    assert list(b.items.values_list("quantity", flat=True)) == [2]


def test_presets_install_is_idempotent(frozen):
    first = promotions_presets_install()
    gift_rule_update(rule_id=first["seed-001-towel"], data={"once_per_order": True})
    again = promotions_presets_install()
    assert first == again
    assert GiftRule.objects.get(code="seed-001-towel").once_per_order  # the operator's change stays
    assert Product.objects.filter(sku="GIFT-TOWEL").count() == 1
    assert FullSendRule.objects.get(code="seed-001-fullsend").tiers.count() == 2
    assert [d["amount_off_fen"] for d in full_send_preview(15_000, NOW)] == [500]
    assert [d["amount_off_fen"] for d in full_send_preview(14_999, NOW)] == [300]


def test_order_offers_query_count(bundle, django_assert_num_queries):
    """The hot path of every quote: gift rules (1 query), bundles of the cart's hot items with
    their items and gifts (3) — however many lines and rules."""
    promotions_presets_install()
    _b, hot, scarf, _ = bundle
    lines = [
        RuleLine("L1", hot.pk, "HOT", None, 29_900, 2),
        RuleLine("L2", scarf.pk, "SCARF", None, 9_900, 2),
    ]
    lines += [RuleLine(f"X{i}", None, f"X{i}", None, 100 * i, 1) for i in range(18)]
    with django_assert_num_queries(4):
        offers = order_offers(lines=lines, is_member=True, now=NOW)
    assert len(offers) == 2 + 2  # towel, card (no gift box: nothing ≥ 300元); bundle price, clip
    with django_assert_num_queries(2):  # no hot item in the cart: the prefetches do not run
        order_offers(lines=lines[2:], is_member=True, now=NOW)
