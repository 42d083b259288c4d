"""The campaign presets of SPEC 9 (seeds S1/S0), installed as *drafts* an operator reviews, edits,
has approved and launches. Idempotent: every object is found by its name (or preset code) first,
and a campaign already installed is left as the operator has it. Like the other presets this
composes the owning apps' services (segments, message templates, coupon templates), each its own
transaction.

- ``double11_5_loops`` (S1): Double-11 new customers who spent ≥ 299元 get a thank-you SMS with a
  coupon; those who did not come back are re-stimulated every 30 days, five runs in all; each run
  is evaluated 10 days after its coupon.
- ``mother_baby`` (S1): food / daily / durable buyers are three branches, each with thank-you →
  coupon → care content for its category; a branch is evaluated 2 days after its last wave and the
  whole campaign 30 days after the thank-you SMS.
- ``three_stage`` (S1, S0): A thank-you (new customers: a free-shipping card; returning
  customers: a thank-you asking them to bring friends) → B care and FAQ by email 3 days later →
  C tracking: the evaluation window of 10 days.
"""

from __future__ import annotations

from datetime import timedelta

from laoke.channels.models import MessageTemplate
from laoke.channels.services import message_template_create
from laoke.core import clock
from laoke.promotions.models import CouponTemplate
from laoke.promotions.services import coupon_template_create
from laoke.segments.models import Segment
from laoke.segments.presets import segments_presets_install
from laoke.segments.services import segment_create

from .models import Campaign
from .services import campaign_create

SIGN = "老客商城"
OPT_OUT = "回T退订"
TEMPLATES = {
    "thanks_coupon": (
        "双11新客感谢+回购券",
        "sms",
        "{name}您好，感谢双11光临！送您{coupon_amount}元回购券{coupon_code}，{coupon_expiry}前有效。"
        + OPT_OUT,
    ),
    "mb_thanks": (
        "母婴感谢",
        "sms",
        "{name}您好，感谢您选购母婴用品，宝宝用得还好吗？有问题随时找我们。" + OPT_OUT,
    ),
    "mb_coupon": (
        "母婴回购券",
        "sms",
        "{name}，送您{coupon_amount}元母婴券{coupon_code}，{coupon_expiry}前有效。" + OPT_OUT,
    ),
    "mb_care_food": (
        "母婴关怀：食品",
        "sms",
        "{name}，宝宝辅食添加小贴士：少量多次、由稀到稠。详见{shop_link} " + OPT_OUT,
    ),
    "mb_care_daily": (
        "母婴关怀：日用品",
        "sms",
        "{name}，纸尿裤选对尺码更舒适，尺码对照见{shop_link} " + OPT_OUT,
    ),
    "mb_care_durable": (
        "母婴关怀：耐用品",
        "sms",
        "{name}，推车/安全座椅使用与保养指南见{shop_link} " + OPT_OUT,
    ),
    "ts_thanks_new": (
        "三段式A：新客感谢",
        "sms",
        "{name}您好，感谢首次光临！送您包邮卡{coupon_code}，下次购物免运费。" + OPT_OUT,
    ),
    "ts_thanks_old": (
        "三段式A：老客感谢",
        "sms",
        "{name}，感谢一直以来的支持！把{shop_link}分享给好友，一起享会员价。" + OPT_OUT,
    ),
}
EMAIL_CARE = (
    "三段式B：关怀与常见问题",
    "email",
    "您好{name}：\n\n感谢您的购买。这里是使用与保养的常见问题：{shop_link}\n\n不想再收到此类邮件？{unsubscribe_link}",
)


def _template(name: str, channel: str, body: str, actor) -> MessageTemplate:
    found = MessageTemplate.objects.filter(name=name).first()
    if found is not None:
        return found
    extra = {"signature": SIGN} if channel == "sms" else {"subject": name.split("：")[-1]}
    return message_template_create(
        name=name, channel=channel, kind="marketing", body=body, actor=actor, **extra
    )


def _coupon(name: str, data: dict, actor) -> CouponTemplate:
    found = CouponTemplate.objects.filter(name=name).order_by("pk").first()
    return found or coupon_template_create(data={"name": name, **data}, actor=actor)


def _segment(name: str, rule: dict, actor) -> Segment:
    found = Segment.objects.filter(name=name).first()
    return found or segment_create(name=name, rule=rule, description="campaign preset", actor=actor)


def campaigns_presets_install(*, actor=None) -> dict[str, int]:
    """Install the three preset campaigns as drafts; returns campaign ids by preset code."""
    now = clock.now()
    segments = segments_presets_install(now=now, actor=actor)
    t = {key: _template(name, channel, body, actor) for key, (name, channel, body) in TEMPLATES.items()}
    care_email = _template(*EMAIL_CARE, actor)
    until = now + timedelta(days=400)
    back10 = _coupon(
        "回购券：满100减10",
        {
            "kind": "fixed",
            "threshold_fen": 10_000,
            "amount_off_fen": 1_000,
            "valid_days": 10,
            "valid_to": until,
        },
        actor,
    )
    mb15 = _coupon(
        "母婴券：满199减15",
        {
            "kind": "fixed",
            "threshold_fen": 19_900,
            "amount_off_fen": 1_500,
            "valid_days": 15,
            "valid_to": until,
        },
        actor,
    )
    ship = _coupon(
        "包邮卡（三段式）",
        {"kind": "free_shipping", "face_value_fen": 1_000, "valid_days": 30, "valid_to": until},
        actor,
    )
    mb_rule = {
        "any": [
            {"field": "orders.categories", "op": "any", "value": [code]}
            for code in ("mb-food", "mb-daily", "mb-durable")
        ]
    }
    mother_baby = _segment("母婴：全部买家", mb_rule, actor)
    recent = _segment(
        "近30天购物的会员",
        {"all": [{"field": "orders.last_order_at", "op": "within_days", "value": 30}]},
        actor,
    )
    presets = {
        "double11_5_loops": {
            "name": "【模板】双11新客感谢·5轮回购",
            "plain_terms": "双11首次购物满299元的新客：感谢短信+10元回购券（满100可用，10天有效）；没回购的每30天再提醒一次，共5次。",
            "objective": "retention",
            "target_metric": "response_rate",
            "target_value": 1500,
            "segment_id": segments["s1_double11_new_299"],
            "waves": [
                {
                    "name": "感谢+回购券",
                    "template_id": t["thanks_coupon"].pk,
                    "offer_template_id": back10.pk,
                    "send_time": "10:00",
                    "loops": 5,
                    "loop_every_days": 30,
                    "eval_days": 10,
                }
            ],
        },
        "mother_baby": {
            "name": "【模板】母婴分群：感谢→优惠→关怀",
            "plain_terms": "买过母婴食品/日用品/耐用品的顾客分三组：先感谢，3天后送15元母婴券（满199可用），再过4天发对应品类的使用关怀。",
            "objective": "care",
            "target_metric": "response_rate",
            "target_value": 1000,
            "segment_id": mother_baby.pk,
            "branches": [
                {"name": "食品", "rule": {"field": "orders.categories", "op": "any", "value": ["mb-food"]}},
                {
                    "name": "日用品",
                    "rule": {"field": "orders.categories", "op": "any", "value": ["mb-daily"]},
                },
                {
                    "name": "耐用品",
                    "rule": {"field": "orders.categories", "op": "any", "value": ["mb-durable"]},
                },
            ],
            "waves": [
                wave
                for branch, care in (
                    ("食品", "mb_care_food"),
                    ("日用品", "mb_care_daily"),
                    ("耐用品", "mb_care_durable"),
                )
                for wave in (
                    {
                        "branch": branch,
                        "name": f"{branch}·感谢",
                        "template_id": t["mb_thanks"].pk,
                        "send_time": "10:00",
                        "eval_days": 30,
                    },
                    {
                        "branch": branch,
                        "name": f"{branch}·优惠",
                        "template_id": t["mb_coupon"].pk,
                        "offer_template_id": mb15.pk,
                        "delay_days": 3,
                        "send_time": "10:00",
                        "entry": "no_order",
                    },
                    {
                        "branch": branch,
                        "name": f"{branch}·关怀",
                        "template_id": t[care].pk,
                        "delay_days": 4,
                        "send_time": "10:00",
                        "entry": "all",
                    },
                )
            ],
        },
        "three_stage": {
            "name": "【模板】三段式：感谢→关怀→跟踪",
            "plain_terms": "A 感谢：新客送包邮卡，老客请其分享给好友；B 3天后发关怀与常见问题邮件；C 10天跟踪评估。",
            "objective": "retention",
            "target_metric": "response_rate",
            "target_value": 1000,
            "segment_id": recent.pk,
            "branches": [
                {"name": "新客", "rule": {"field": "orders.count", "op": "eq", "value": 1}},
                {"name": "老客", "rule": {}},
            ],
            "waves": [
                {
                    "branch": "新客",
                    "name": "A 感谢·包邮卡",
                    "template_id": t["ts_thanks_new"].pk,
                    "offer_template_id": ship.pk,
                    "send_time": "10:00",
                },
                {
                    "branch": "新客",
                    "name": "B 关怀邮件",
                    "template_id": care_email.pk,
                    "delay_days": 3,
                    "send_time": "10:00",
                    "entry": "all",
                },
                {
                    "branch": "老客",
                    "name": "A 感谢·分享",
                    "template_id": t["ts_thanks_old"].pk,
                    "send_time": "10:00",
                },
                {
                    "branch": "老客",
                    "name": "B 关怀邮件",
                    "template_id": care_email.pk,
                    "delay_days": 3,
                    "send_time": "10:00",
                    "entry": "all",
                },
            ],
        },
    }
    out: dict[str, int] = {}
    for code, data in presets.items():
        found = Campaign.objects.filter(preset=code).first()
        if found is None:
            name = data["name"]
            if Campaign.objects.filter(name=name).exists():
                data = {**data, "name": f"{name} ({code})"}
            found = campaign_create(data={**data, "preset": code}, actor=actor)
        out[code] = found.pk
    return out
