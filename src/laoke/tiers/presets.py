"""Tier presets from the seeds (SPEC 2), installed by ``tier_presets_install``.

- ``online_shop`` (seed 001, Taobao women's apparel): 普通会员 95折; 高级会员 cumulative spend ≥
  2,000元 92折; VIP ≥ 5,000元 90折; 至尊VIP ≥ 20,000元 88折. Gifts and promotional SMS are tied
  to the tier (S1).
- ``stored_value`` (seed 003, a stored-value shop): individuals 黄钻 ≥ 1,000元 98折, 红钻 ≥
  2,000元 95折, 黑钻 ≥ 3,000元 93折 — the seed says both "by recharge amount" and "cumulative
  spend", so the preset grades by cumulative spend and ``basis`` switches it (the thresholds stay);
  tier-only promotions, group buys and farm trips; served by 客服. Group accounts (集体) 铜牌
  recharge ≥ 5,000元 98折, 银牌 ≥ 10,000元 95折, 金牌 ≥ 30,000元 93折; designated goods and
  buy-and-get offers; served by 客服经理.

The seeds name no downgrade policy, so the presets never downgrade (the operator may change it).
Amounts are fen; rates are basis points (9500 = 95折).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from laoke.core.errors import FIELD_INVALID, DomainError

from .models import Activity, Audience, Basis, DowngradePolicy, RuleKind, ServiceOwner, TierProgramme
from .programmes import _programme_create

YUAN = 100

_S1 = [Activity.TIER_GIFTS, Activity.PROMO_SMS]
_S3_INDIVIDUAL = [Activity.PROMOTIONS, Activity.GROUP_BUYS, Activity.FARM_TRIPS]
_S3_GROUP = [Activity.DESIGNATED_GOODS, Activity.BUY_AND_GET]


def _level(rank: int, code: str, name: str, threshold_yuan: int, rate_bp: int, **more: Any) -> dict:
    return {
        "rank": rank,
        "code": code,
        "name": name,
        "threshold": threshold_yuan * YUAN,
        "price_rate_bp": rate_bp,
        **more,
    }


PRESETS: dict[str, list[dict[str, Any]]] = {
    "online_shop": [
        {
            "code": "online-shop",
            "name": "网店会员等级",
            "audience": Audience.INDIVIDUAL,
            "basis": Basis.CUMULATIVE_SPEND,
            "levels": [
                _level(0, "regular", "普通会员", 0, 9500, activities=_S1),
                _level(1, "senior", "高级会员", 2_000, 9200, activities=_S1),
                _level(2, "vip", "VIP会员", 5_000, 9000, activities=_S1),
                _level(3, "svip", "至尊VIP会员", 20_000, 8800, activities=_S1),
            ],
        }
    ],
    "stored_value": [
        {
            "code": "stored-value",
            "name": "个人会员等级",
            "audience": Audience.INDIVIDUAL,
            "basis": Basis.CUMULATIVE_SPEND,
            "levels": [
                _level(1, "yellow-diamond", "黄钻", 1_000, 9800, activities=_S3_INDIVIDUAL),
                _level(2, "red-diamond", "红钻", 2_000, 9500, activities=_S3_INDIVIDUAL),
                _level(3, "black-diamond", "黑钻", 3_000, 9300, activities=_S3_INDIVIDUAL),
            ],
        },
        {
            "code": "stored-value-group",
            "name": "团体会员等级",
            "audience": Audience.GROUP,
            "basis": Basis.CUMULATIVE_RECHARGE,
            "levels": [
                _level(1, "bronze", "铜牌", 5_000, 9800, activities=_S3_GROUP),
                _level(2, "silver", "银牌", 10_000, 9500, activities=_S3_GROUP),
                _level(3, "gold", "金牌", 30_000, 9300, activities=_S3_GROUP),
            ],
        },
    ],
}
SERVICE_OWNERS = {
    Audience.INDIVIDUAL: ServiceOwner.SERVICE_AGENT,
    Audience.GROUP: ServiceOwner.SERVICE_MANAGER,
}


def tier_presets_install(
    *, preset: str, individual_basis: str | None = None, activate: bool = True, actor=None
) -> list[TierProgramme]:
    """Install a preset's programmes (and their levels) in one transaction; idempotent: a
    programme whose code exists is left exactly as the operator has it. ``individual_basis``
    (cumulative_spend or cumulative_recharge) switches the individual programme's basis; with
    ``activate`` each newly installed programme becomes its audience's active one."""
    if preset not in PRESETS:
        raise DomainError(FIELD_INVALID, field="preset", details={"allowed": sorted(PRESETS)})
    allowed_bases = (RuleKind.CUMULATIVE_SPEND, RuleKind.CUMULATIVE_RECHARGE)
    if individual_basis is not None and individual_basis not in allowed_bases:
        raise DomainError(FIELD_INVALID, field="individual_basis", details={"allowed": list(allowed_bases)})
    out = []
    with transaction.atomic(durable=True):
        for spec in PRESETS[preset]:
            existing = TierProgramme.objects.filter(code=spec["code"]).first()
            if existing is not None:
                out.append(existing)
                continue
            basis = spec["basis"]
            if spec["audience"] == Audience.INDIVIDUAL and individual_basis is not None:
                basis = individual_basis
            owner = SERVICE_OWNERS[spec["audience"]]
            out.append(
                _programme_create(
                    code=spec["code"],
                    name=spec["name"],
                    audience=spec["audience"],
                    basis=basis,
                    downgrade_policy=DowngradePolicy.NEVER,
                    is_active=activate,
                    levels=[{**lv, "rule_kind": basis, "service_owner_role": owner} for lv in spec["levels"]],
                    actor=actor,
                )
            )
    return out
