"""Shipping presets from the seeds (SPEC 7), installed by ``shipping_presets_install``.

``seed_001`` (Taobao women's apparel, seed 001 items 3 and 4):

- old customers: free with the normal courier; SF/EMS pay the difference (老客户包邮 包邮仅限普通
  快递 发顺丰和 EMS 需补邮费差价);
- new customers: one order ≥ 150元 → free with the normal courier (SF/EMS pay the difference), as
  the alternative to the towel (包邮或者赠送小方巾: ``gift_alternative``). Non-members buying are new
  customers to the shop, so they get the same rule (a row of their own, changeable);
- remote regions 内蒙古, 甘肃, 青海, 宁夏, 新疆, 西藏: no free shipping (不包邮). Whoever would have
  had it gets 「邮费相应的减10元收10元」 instead, which reads two ways: ``remote_reading="minus"``
  (default) → postage − 10元; ``"flat"`` → a flat 10元. Others pay the list postage;
- 台湾, 香港, 澳门 and overseas: postage 35元, for everyone;
- a free-shipping card (包邮卡, promotions) counts as a free-shipping entitlement: free with the
  normal courier in ordinary regions, the remote reading in remote ones, nothing for 港澳台 and
  overseas (the 35元 stands);
- a member whose tier level includes free shipping (tiers ``free_shipping``) is entitled the same
  way as a card holder.

The postage table is ours, not the seed's *(default)*: normal courier 10元 ordinary, 25元 remote,
40元 港澳台, 60元 overseas; SF 22/35/60/120元; EMS 20/30/50/100元. Amounts are fen.
"""

from __future__ import annotations

from django.db import transaction

from laoke.core import idempotency
from laoke.core.errors import FIELD_INVALID, DomainError

from .models import Courier, Outcome, RegionGroup, RuleMember, RuleRegion, ShippingRuleSet

YUAN = 100
REMOTE_PROVINCES = ("内蒙古", "甘肃", "青海", "宁夏", "新疆", "西藏")
HMT_PROVINCES = ("台湾", "香港", "澳门")
REMOTE_READINGS = {"minus": Outcome.REDUCE, "flat": Outcome.FLAT}

_TABLE = {  # yuan: ordinary, remote, 港澳台, overseas
    Courier.NORMAL: (10, 25, 40, 60),
    Courier.SF: (22, 35, 60, 120),
    Courier.EMS: (20, 30, 50, 100),
}
_GROUPS = (RegionGroup.ORDINARY, RegionGroup.REMOTE, RegionGroup.HMT, RegionGroup.OVERSEAS)


def seed_001_spec(*, remote_reading: str = "minus") -> dict:
    remote = REMOTE_READINGS[remote_reading]
    ten = 10 * YUAN

    def rule(rank, code, name, member, region, outcome, *, min_yuan=0, amount=0, gift=False):
        return {
            "rank": rank,
            "code": code,
            "name": name,
            "member": member,
            "region": region,
            "min_subtotal_fen": min_yuan * YUAN,
            "outcome": outcome,
            "amount_fen": amount,
            "gift_alternative": gift,
        }

    rules = [
        rule(10, "hmt-35", "港澳台运费35元", RuleMember.ANY, RuleRegion.HMT, Outcome.FLAT, amount=35 * YUAN),
        rule(
            20,
            "overseas-35",
            "海外运费35元",
            RuleMember.ANY,
            RuleRegion.OVERSEAS,
            Outcome.FLAT,
            amount=35 * YUAN,
        ),
        rule(30, "remote-old", "偏远地区老客户减10元", RuleMember.OLD, RuleRegion.REMOTE, remote, amount=ten),
        rule(
            40,
            "remote-new-150",
            "偏远地区新客户满150元减10元",
            RuleMember.NEW,
            RuleRegion.REMOTE,
            remote,
            min_yuan=150,
            amount=ten,
            gift=True,
        ),
        rule(
            45,
            "remote-non-member-150",
            "偏远地区非会员满150元减10元",
            RuleMember.NON_MEMBER,
            RuleRegion.REMOTE,
            remote,
            min_yuan=150,
            amount=ten,
            gift=True,
        ),
        rule(50, "old-free", "老客户包邮", RuleMember.OLD, RuleRegion.ORDINARY, Outcome.FREE_NORMAL),
        rule(
            60,
            "new-150-free",
            "新客户单笔满150元包邮",
            RuleMember.NEW,
            RuleRegion.ORDINARY,
            Outcome.FREE_NORMAL,
            min_yuan=150,
            gift=True,
        ),
        rule(
            65,
            "non-member-150-free",
            "非会员单笔满150元包邮",
            RuleMember.NON_MEMBER,
            RuleRegion.ORDINARY,
            Outcome.FREE_NORMAL,
            min_yuan=150,
            gift=True,
        ),
        rule(70, "card-free", "包邮卡包邮", RuleMember.CARD, RuleRegion.ORDINARY, Outcome.FREE_NORMAL),
        rule(
            75, "card-remote", "包邮卡偏远地区减10元", RuleMember.CARD, RuleRegion.REMOTE, remote, amount=ten
        ),
        rule(80, "tier-free", "包邮等级包邮", RuleMember.TIER, RuleRegion.ORDINARY, Outcome.FREE_NORMAL),
        rule(
            85,
            "tier-remote",
            "包邮等级偏远地区减10元",
            RuleMember.TIER,
            RuleRegion.REMOTE,
            remote,
            amount=ten,
        ),
    ]
    if remote == Outcome.FLAT:
        for r in rules:
            if r["outcome"] == Outcome.FLAT and r["region"] == RuleRegion.REMOTE:
                r["name"] = r["name"].replace("减10元", "收10元")
    return {
        "code": "seed-001",
        "name": "老客包邮（种子001）",
        "old_customer_min_orders": 1,
        "old_customer_window_months": None,
        "rules": rules,
        "rates": [
            {"courier": c, "region_group": g, "postage_fen": yuan * YUAN}
            for c, row in _TABLE.items()
            for g, yuan in zip(_GROUPS, row, strict=True)
        ],
        "regions": {
            **{p: RegionGroup.REMOTE for p in REMOTE_PROVINCES},
            **{p: RegionGroup.HMT for p in HMT_PROVINCES},
        },
    }


PRESETS = {"seed_001": seed_001_spec}


def shipping_presets_install(
    *,
    preset: str = "seed_001",
    remote_reading: str = "minus",
    activate: bool = True,
    actor=None,
    idem: idempotency.Claim | None = None,
) -> ShippingRuleSet:
    """Install a preset rule set; idempotent by code: an installed set is left as the operator
    has it (and returned). ``activate`` makes a newly installed set the active one."""
    from .services import _rule_set_create

    if preset not in PRESETS:
        raise DomainError(FIELD_INVALID, field="preset", details={"allowed": sorted(PRESETS)})
    if remote_reading not in REMOTE_READINGS:
        raise DomainError(FIELD_INVALID, field="remote_reading", details={"allowed": sorted(REMOTE_READINGS)})
    spec = PRESETS[preset](remote_reading=remote_reading)
    with transaction.atomic(durable=True):
        existing = ShippingRuleSet.objects.filter(code=spec["code"]).first()
        rs = existing or _rule_set_create(**spec, is_active=activate, actor=actor)
        idempotency.complete(idem, rs)
    return rs
