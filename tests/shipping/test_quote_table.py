"""Table test of every seed-001 preset combination: member kind × order amount below/at/above
150元 × courier normal/SF/EMS × region (ordinary provinces, each remote province, 港澳台,
overseas) under both readings of 「邮费相应的减10元收10元」, plus unparseable addresses.

The expected charge and rule of each row come from the seed's text, written out below
independently of the project's quote code (``oracle``); the postage table is the preset's
documented default (shipping/presets.py docstring), copied here as literals. Each row names the
rule that must apply ("" = none: list postage).
"""

from __future__ import annotations

import functools

import pytest

from laoke.core.errors import DomainError
from laoke.shipping.presets import seed_001_spec
from laoke.shipping.quote import RuleSpec, Tariff, destination_resolve, quote_with

# Postage in fen: courier → region group → price (preset default, presets.py docstring).
POSTAGE = {
    "normal": {"ordinary": 1000, "remote": 2500, "hmt": 4000, "overseas": 6000},
    "sf": {"ordinary": 2200, "remote": 3500, "hmt": 6000, "overseas": 12000},
    "ems": {"ordinary": 2000, "remote": 3000, "hmt": 5000, "overseas": 10000},
}
# Where an order goes: (label, destination kwargs, region group by the seed).
PLACES = [
    ("zhejiang-address", {"address": "浙江省杭州市西湖区文三路100号"}, "ordinary"),
    ("guangdong-province", {"province": "广东"}, "ordinary"),
    ("beijing-address", {"address": "北京市朝阳区建国路1号"}, "ordinary"),
    ("neimenggu", {"address": "内蒙古呼和浩特市新城区新华大街1号"}, "remote"),
    ("gansu", {"address": "甘肃省兰州市城关区东岗西路1号"}, "remote"),
    ("qinghai", {"address": "青海省西宁市城中区人民街1号"}, "remote"),
    ("ningxia", {"address": "宁夏银川市兴庆区解放街1号"}, "remote"),
    ("xinjiang", {"address": "新疆乌鲁木齐市天山区人民路1号"}, "remote"),
    ("xizang", {"province": "西藏自治区"}, "remote"),
    ("taiwan-address", {"address": "台湾台北市信义区信义路1号"}, "hmt"),
    ("hongkong-province", {"province": "香港"}, "hmt"),
    ("macao-country", {"country": "MO"}, "hmt"),
    ("overseas-us", {"country": "US"}, "overseas"),
    ("overseas-jp", {"country": "jp"}, "overseas"),
]
KINDS = ["old", "new", "non_member"]
AMOUNTS = [14_999, 15_000, 15_001]  # below, at, above 150元
COURIERS = ["normal", "sf", "ems"]
READINGS = ["minus", "flat"]


def oracle(kind: str, amount: int, courier: str, group: str, reading: str) -> tuple[int, str]:
    """Seed 001, items 3 and 4, in plain code: (charge in fen, rule code)."""
    difference = POSTAGE[courier][group] - POSTAGE["normal"][group]  # 补邮费差价 (0 for normal)
    if group == "hmt":
        return 3500 + difference, "hmt-35"  # 台湾;香港;澳门 … 郵費35元
    if group == "overseas":
        return 3500 + difference, "overseas-35"  # 海外郵費35元
    entitled = kind == "old" or amount >= 15_000  # 老客戶包郵; 新客戶單次購物每滿150元 包郵
    if not entitled:
        return POSTAGE[courier][group], ""
    suffix = {"old": "old", "new": "new-150", "non_member": "non-member-150"}[kind]
    if group == "remote":  # 不包郵 郵費相應的減10元 / 收10元
        base = POSTAGE["normal"]["remote"] - 1000 if reading == "minus" else 1000
        return base + difference, f"remote-{suffix}"
    return difference, {"old": "old-free", "new": "new-150-free", "non_member": "non-member-150-free"}[kind]


@functools.cache
def tariff(reading: str) -> Tariff:
    spec = seed_001_spec(remote_reading=reading)
    return Tariff(
        code=spec["code"],
        rates={(r["courier"], r["region_group"]): r["postage_fen"] for r in spec["rates"]},
        regions={destination_resolve(province=p).province: g for p, g in spec["regions"].items()},
        rules=tuple(RuleSpec(**r) for r in spec["rules"]),
    )


@functools.cache
def destination(label: str):
    kwargs = dict(next(p[1] for p in PLACES if p[0] == label))
    return destination_resolve(**kwargs)


ROWS = [
    (reading, kind, amount, courier, label, group, *oracle(kind, amount, courier, group, reading))
    for reading in READINGS
    for kind in KINDS
    for amount in AMOUNTS
    for courier in COURIERS
    for label, _, group in PLACES
]


@pytest.mark.parametrize(
    ("reading", "kind", "amount", "courier", "place", "group", "charged", "rule"),
    ROWS,
    ids=[f"{r[0]}-{r[1]}-{r[2]}-{r[3]}-{r[4]}->{r[7] or 'list-postage'}" for r in ROWS],
)
def test_seed_001_row(reading, kind, amount, courier, place, group, charged, rule):
    q = quote_with(
        tariff(reading),
        member_kind=kind,
        subtotal_fen=amount,
        courier=courier,
        destination=destination(place),
    )
    assert (q.charged_fen, q.rule_code, q.region_group) == (charged, rule, group)
    assert q.postage_fen == POSTAGE[courier][group]
    assert q.free_shipping == rule.endswith("-free")
    # the explanation names the applied rule first, then every other rule with its reason
    assert q.explanation[0].applied and q.explanation[0].rule_code == rule
    assert {r.rule_code for r in q.explanation[1:]} == {r.code for r in tariff(reading).rules} - {rule}
    assert all(r.zh and r.en for r in q.explanation)


def test_table_covers_both_readings_with_different_remote_charges():
    minus = {r[1:5]: r[6] for r in ROWS if r[0] == "minus" and r[5] == "remote" and r[7]}
    flat = {r[1:5]: r[6] for r in ROWS if r[0] == "flat" and r[5] == "remote" and r[7]}
    assert minus and minus.keys() == flat.keys()
    assert all(minus[k] - flat[k] == 500 for k in minus)  # 25元 − 10元 = 15元 vs 10元


@pytest.mark.parametrize(
    "address",
    ["随便写写", "123 Main Street, Springfield", "朝阳区建国路1号", "中山路1号", "   "],
    ids=["nonsense", "english", "district-only", "street-only", "blank"],
)
@pytest.mark.parametrize("kind", KINDS)
def test_unparseable_address_is_an_error_never_a_default(address, kind):
    with pytest.raises(DomainError) as exc:
        destination_resolve(address=address)
    assert exc.value.code in ("ADDRESS_UNPARSEABLE", "SHIPPING_DESTINATION_REQUIRED")
    assert exc.value.details["field"] == "address"


# --- the free-shipping card and the gift alternative ------------------------------------------------

CARD_ROWS = [
    # kind, amount, courier, place, charged, rule  (minus reading)
    ("new", 5_000, "normal", "zhejiang-address", 0, "card-free"),
    ("non_member", 5_000, "sf", "zhejiang-address", 1200, "card-free"),
    ("new", 5_000, "normal", "xinjiang", 1500, "card-remote"),
    ("new", 5_000, "ems", "xinjiang", 2000, "card-remote"),
    ("new", 5_000, "normal", "hongkong-province", 3500, "hmt-35"),  # the card does not cover 港澳台
    ("new", 5_000, "normal", "overseas-us", 3500, "overseas-35"),  # … nor overseas
    ("old", 5_000, "normal", "zhejiang-address", 0, "old-free"),  # a tie goes to the lower rank
]


@pytest.mark.parametrize(("kind", "amount", "courier", "place", "charged", "rule"), CARD_ROWS)
def test_free_shipping_card(kind, amount, courier, place, charged, rule):
    q = quote_with(
        tariff("minus"),
        member_kind=kind,
        subtotal_fen=amount,
        courier=courier,
        destination=destination(place),
        free_shipping_card=True,
    )
    assert (q.charged_fen, q.rule_code) == (charged, rule)
    assert q.card_used == rule.startswith("card-")


TIER_ROWS = [
    # kind, courier, place, charged, rule — a member whose tier level includes free shipping
    ("new", "normal", "zhejiang-address", 0, "tier-free"),
    ("new", "ems", "guangdong-province", 1000, "tier-free"),
    ("new", "normal", "gansu", 1500, "tier-remote"),
    ("new", "normal", "taiwan-address", 3500, "hmt-35"),
    ("old", "sf", "zhejiang-address", 1200, "old-free"),  # a tie goes to the lower rank
]


@pytest.mark.parametrize(("kind", "courier", "place", "charged", "rule"), TIER_ROWS)
def test_tier_free_shipping(kind, courier, place, charged, rule):
    q = quote_with(
        tariff("minus"),
        member_kind=kind,
        subtotal_fen=100,
        courier=courier,
        destination=destination(place),
        tier_free_shipping=True,
    )
    assert (q.charged_fen, q.rule_code, q.tier_used) == (charged, rule, rule.startswith("tier-"))


def test_gift_alternative_new_customer_takes_the_towel_instead():
    t, dest = tariff("minus"), destination("zhejiang-address")
    free = quote_with(t, member_kind="new", subtotal_fen=15_000, courier="normal", destination=dest)
    assert (free.charged_fen, free.rule_code, free.gift_alternative) == (0, "new-150-free", True)
    towel = quote_with(
        t, member_kind="new", subtotal_fen=15_000, courier="normal", destination=dest, prefer_gift=True
    )
    assert (towel.charged_fen, towel.rule_code, towel.gift_alternative) == (1000, "", False)
    assert "gift" in towel.explain("en") and "赠品" in towel.explain("zh-hans")
    # old customers get the towel in addition: their free shipping is no alternative
    old = quote_with(
        t, member_kind="old", subtotal_fen=15_000, courier="normal", destination=dest, prefer_gift=True
    )
    assert (old.charged_fen, old.rule_code, old.gift_alternative) == (0, "old-free", False)


def test_explanation_names_the_rule_and_why_others_did_not():
    q = quote_with(
        tariff("minus"),
        member_kind="new",
        subtotal_fen=14_999,
        courier="sf",
        destination=destination("zhejiang-address"),
    )
    en = q.explain("en")
    assert en.startswith("no rule applies: SF Express postage ¥22.00")
    assert "'新客户单笔满150元包邮' does not apply: order amount ¥149.99 is below ¥150.00" in en
    assert "'老客户包邮' does not apply: only for old customers (customer: a new customer)" in en
    zh = q.explain("zh-hans")
    assert "“新客户单笔满150元包邮”不适用：订单金额 ¥149.99 未满 ¥150.00" in zh


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"member_kind": "vip"}, "FIELD_INVALID"),
        ({"courier": "yunda"}, "FIELD_INVALID"),
        ({"subtotal_fen": -1}, "SHIPPING_AMOUNT_INVALID"),
        ({"subtotal_fen": 1.5}, "SHIPPING_AMOUNT_INVALID"),
        ({"subtotal_fen": True}, "SHIPPING_AMOUNT_INVALID"),
    ],
)
def test_bad_quote_input(kwargs, code):
    args = {"member_kind": "old", "subtotal_fen": 100, "courier": "normal", **kwargs}
    with pytest.raises(DomainError) as exc:
        quote_with(tariff("minus"), destination=destination("zhejiang-address"), **args)
    assert exc.value.code == code


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({}, "SHIPPING_DESTINATION_REQUIRED"),
        ({"address": "浙江省杭州市西湖区文三路1号", "province": "浙江"}, "SHIPPING_DESTINATION_REQUIRED"),
        ({"province": "火星"}, "SHIPPING_PROVINCE_UNKNOWN"),
        ({"country": "CHN"}, "SHIPPING_COUNTRY_INVALID"),
        ({"country": "1A"}, "SHIPPING_COUNTRY_INVALID"),
    ],
)
def test_bad_destination(kwargs, code):
    with pytest.raises(DomainError) as exc:
        destination_resolve(**kwargs)
    assert exc.value.code == code


def test_missing_postage_is_an_error():
    t = tariff("minus")
    broken = Tariff(code="x", rates={k: v for k, v in t.rates.items() if k[0] != "ems"}, regions={}, rules=())
    with pytest.raises(DomainError) as exc:
        quote_with(
            broken,
            member_kind="old",
            subtotal_fen=1,
            courier="ems",
            destination=destination("guangdong-province"),
        )
    assert exc.value.code == "SHIPPING_RATE_MISSING"


@pytest.mark.parametrize("reading", READINGS)
def test_offers_agree_with_the_quote_on_every_row(reading):
    """The engine's view (offers + its own threshold test, the largest discount wins) charges
    what the quote charges, on every row of the table."""
    from laoke.shipping.quote import shipping_offers

    for r in (row for row in ROWS if row[0] == reading):
        _, kind, amount, courier, place, _, charged, _ = r
        postage, offers = shipping_offers(
            tariff(reading), member_kind=kind, courier=courier, destination=destination(place)
        )
        usable = [o for o in offers if amount >= o.threshold_fen]
        engine = postage - max(o.discount_fen for o in usable) if usable else postage
        assert engine == charged, r
