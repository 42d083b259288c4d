"""The service presets from the seeds, installed through the services (idempotent: found by name
first, an installed object is left as the operator has it).

- Care content (seeds 000/001): 奶粉/食品 how often a day and how, 童装 wear and dirt, 尺码, 真品,
  3C after-sales, 孕妇装 quality, 保质期.
- Call-case categories (seed 002): 优秀录音 / 欠佳录音 / 投诉录音 / 其他录音 with their sub-kinds,
  and a few cases.
- Greetings (seeds 000/003): 元旦, 春节, 元宵, 妇女节, 母亲节, 儿童节, 父亲节, 中秋, 国庆 (dates of
  2026–2028; lunar ones per year) and birthdays, with a birthday gift for ≥ 5,000 points.
- Reactivation (seed 003 §8.3): dormant 30 days; wallet below 20元 and 30 days without an order.
  Installed waiting for approval.
"""

from __future__ import annotations

from datetime import date, timedelta

from laoke.channels.models import MessageTemplate
from laoke.channels.services import message_template_create
from laoke.core import clock
from laoke.promotions.models import CouponTemplate
from laoke.promotions.services import coupon_template_create

from .greetings import greeting_rule_save
from .libraries import call_case_create, care_article_save, case_category_create
from .models import CallCase, CareArticle, CaseCategory, GreetingRule, ReactivationRule
from .reactivation import reactivation_rule_save

SIGN = "老客商城"
OPT_OUT = "回T退订"

CARE = (
    (
        "奶粉",
        "宝宝一天吃几次",
        "0–6个月每天8–10次、每次60–150毫升；6个月后逐步减到每天4–6次并添加辅食。按罐上冲调比例，先放水后放粉，水温40–50℃。",
        ["奶粉", "喂养"],
    ),
    (
        "奶粉",
        "保质期与储存",
        "开罐后请在4周内吃完，盖紧放在阴凉干燥处，不要放冰箱。罐底印有生产日期和保质期。",
        ["奶粉", "安全"],
    ),
    (
        "食品",
        "辅食怎么添加",
        "6个月起从强化铁米粉开始，少量多次、由稀到稠、一次只加一种新食物，观察3天无过敏再换下一种。",
        ["辅食"],
    ),
    (
        "童装",
        "耐脏耐穿吗",
        "面料为精梳棉加少量氨纶，耐磨抗起球；深色款更耐脏，浅色款建议用中性洗涤剂反面冷水洗，不要暴晒。",
        ["童装", "洗涤"],
    ),
    (
        "尺码",
        "怎样选尺码",
        "按身高选：身高在两个尺码之间选大一码；详情页有尺码对照表（身高、胸围、衣长），拿不准请联系客服报身高体重。",
        ["尺码"],
    ),
    (
        "真品",
        "是不是正品",
        "所有商品均为品牌授权正品，可凭订单号在品牌官网验真；支持专柜验货，假一赔十。",
        ["正品", "真品"],
    ),
    (
        "3C",
        "售后和质保",
        "整机一年质保、主要部件两年，7天无理由退货、15天换货；保修凭订单，无需纸质发票。",
        ["售后", "质保"],
    ),
    (
        "孕妇装",
        "面料与做工",
        "选用弹力棉，腰腹可调节，缝线经过拉伸测试；收到后如有线头或色差请拍照联系客服。",
        ["孕妇装", "质量"],
    ),
)

CATEGORIES = {
    "优秀录音": ("服务态度", "问题解决", "口径完善", "情绪处理", "疑难问题处理"),
    "欠佳录音": ("解决问题", "快捷服务", "标准服务"),
    "投诉录音": ("越级投诉",),
    "其他录音": ("感动客户", "感动员工", "方言录音"),
}
CALL_CASES = (
    (
        "优秀录音",
        "问题解决",
        "“我刚才充值的钱到账了吗？我卡里还有多少？”",
        "先核对会员身份，再报储值余额和最近一笔充值的时间与金额；如未到账，说明到账时限并登记回电。",
        ["储值", "余额"],
    ),
    (
        "欠佳录音",
        "快捷服务",
        "会员把群发短信理解成“免费送”，来电质问",
        "先道歉并复述活动真实条件（需先消费/预存），再提供可用的替代优惠；记录问题反馈给企划部改短信文案。",
        ["群发短信", "活动口径"],
    ),
    (
        "投诉录音",
        "越级投诉",
        "会员对退款进度不满，要求找领导",
        "安抚情绪、给出明确的退款时间点并当场升级给分公司负责人，24小时内回电告知结果。",
        ["退款", "升级"],
    ),
)

LUNAR = {
    "春节": {"2026": "2026-02-17", "2027": "2027-02-06", "2028": "2028-01-26"},
    "元宵节": {"2026": "2026-03-03", "2027": "2027-02-20", "2028": "2028-02-09"},
    "中秋节": {"2026": "2026-09-25", "2027": "2027-09-15", "2028": "2028-10-03"},
}
FIXED = {"元旦": "01-01", "妇女节": "03-08", "儿童节": "06-01", "国庆节": "10-01"}
WISHES = {
    "元旦": "新年快乐，万事顺意！",
    "春节": "新春快乐，阖家幸福，万事如意！",
    "元宵节": "元宵节快乐，团团圆圆！",
    "妇女节": "女神节快乐，愿您美丽常在！",
    "母亲节": "母亲节快乐，感谢每一位妈妈！",
    "儿童节": "儿童节快乐，愿宝贝健康快乐成长！",
    "父亲节": "父亲节快乐，感谢您的辛劳！",
    "中秋节": "中秋快乐，花好月圆人团圆！",
    "国庆节": "国庆快乐，假期愉快！",
}
YEARS = (2026, 2027, 2028)


def nth_sunday(year: int, month: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(6 - first.weekday()) % 7 + 7 * (n - 1))


def holiday_dates() -> dict[str, dict[str, str] | str]:
    """name → {year: date} (lunar and n-th Sunday holidays) or "MM-DD" (fixed)."""
    out: dict[str, dict[str, str] | str] = dict(FIXED)
    out.update(LUNAR)
    out["母亲节"] = {str(y): nth_sunday(y, 5, 2).isoformat() for y in YEARS}
    out["父亲节"] = {str(y): nth_sunday(y, 6, 3).isoformat() for y in YEARS}
    return out


def _template(name: str, body: str, actor, channel: str = "sms", kind: str = "marketing") -> MessageTemplate:
    found = MessageTemplate.objects.filter(name=name).first()
    if found is not None:
        return found
    return message_template_create(
        name=name, channel=channel, kind=kind, body=body, signature=SIGN, actor=actor
    )


def _coupon(name: str, data: dict, actor) -> CouponTemplate:
    found = CouponTemplate.objects.filter(name=name).order_by("pk").first()
    return found or coupon_template_create(data={"name": name, **data}, actor=actor)


def service_presets_install(*, actor=None) -> dict[str, int]:
    """Install the presets; returns how many objects of each kind exist afterwards."""
    for category, title, body, tags in CARE:
        if not CareArticle.objects.filter(category=category, title=title).exists():
            care_article_save(category=category, title=title, body=body, tags=tags, actor=actor)
    tops = {}
    for top, children in CATEGORIES.items():
        parent = CaseCategory.objects.filter(name=top, parent__isnull=True).first()
        parent = parent or case_category_create(name=top, actor=actor)
        tops[top] = parent
        for child in children:
            if not CaseCategory.objects.filter(name=child, parent=parent).exists():
                case_category_create(name=child, parent_id=parent.pk, actor=actor)
    for top, child, question, answer, tags in CALL_CASES:
        if not CallCase.objects.filter(question=question).exists():
            cat = CaseCategory.objects.get(name=child, parent=tops[top])
            call_case_create(category_id=cat.pk, question=question, answer=answer, tags=tags, actor=actor)
    for name, when in holiday_dates().items():
        if GreetingRule.objects.filter(name=name).exists():
            continue
        template = _template(f"节日问候：{name}", "{name}您好，" + WISHES[name] + OPT_OUT, actor)
        greeting_rule_save(
            name=name,
            kind=GreetingRule.Kind.HOLIDAY,
            template_id=template.pk,
            month_day=when if isinstance(when, str) else "",
            dates=when if isinstance(when, dict) else None,
            actor=actor,
        )
    if not GreetingRule.objects.filter(name="生日祝福").exists():
        gift = _coupon(
            "生日礼券：无门槛20元",
            {
                "kind": "fixed",
                "amount_off_fen": 2_000,
                "valid_days": 30,
                "valid_to": clock.now() + timedelta(days=3 * 365),
            },
            actor,
        )
        template = _template(
            "生日祝福",
            "{name}您好，祝您生日快乐！送您{coupon_amount}元生日礼券{coupon_code}，{coupon_expiry}前有效。"
            + OPT_OUT,
            actor,
        )
        greeting_rule_save(
            name="生日祝福",
            kind=GreetingRule.Kind.BIRTHDAY,
            template_id=template.pk,
            privileges=[{"name": "生日礼券", "min_points": 5_000, "coupon_template_id": gift.pk}],
            actor=actor,
        )
    dormant_t = _template(
        "唤醒：一个月未购物", "{name}，好久不见！{shop_link} 新品已上架，会员价等您来。" + OPT_OUT, actor
    )
    low_t = _template(
        "唤醒：余额不足20元",
        "{name}，您的储值余额为{balance}元，充值享会员价，详见{shop_link} " + OPT_OUT,
        actor,
    )
    if not ReactivationRule.objects.filter(name="休眠30天唤醒").exists():
        reactivation_rule_save(
            name="休眠30天唤醒", kind=ReactivationRule.Kind.DORMANT, template_id=dormant_t.pk, actor=actor
        )
    if not ReactivationRule.objects.filter(name="余额不足20元且30天未消费").exists():
        reactivation_rule_save(
            name="余额不足20元且30天未消费",
            kind=ReactivationRule.Kind.LOW_BALANCE,
            balance_below_fen=2_000,
            template_id=low_t.pk,
            actor=actor,
        )
    return {
        "care_articles": CareArticle.objects.count(),
        "case_categories": CaseCategory.objects.count(),
        "call_cases": CallCase.objects.count(),
        "greeting_rules": GreetingRule.objects.count(),
        "reactivation_rules": ReactivationRule.objects.count(),
    }
