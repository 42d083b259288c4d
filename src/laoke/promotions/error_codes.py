"""Stable error codes of the promotions app (part of the API contract: never rename, add new ones)."""

from laoke.core.errors import define

TEMPLATE_INVALID = define(
    "COUPON_TEMPLATE_INVALID", 422, "优惠券模板的 {field} 设置有误", "The template's {field} is not valid"
)
TEMPLATE_TERMS_FROZEN = define(
    "COUPON_TEMPLATE_TERMS_FROZEN",
    409,
    "已发放的优惠券模板不能修改面值条件（{field}）",
    "The value terms ({field}) of a template with issued coupons cannot change",
)
TEMPLATE_INACTIVE = define(
    "COUPON_TEMPLATE_INACTIVE", 409, "该优惠券已停用", "This coupon template is inactive"
)
TOTAL_LIMIT_REACHED = define(
    "COUPON_TOTAL_LIMIT_REACHED", 409, "该优惠券已发完", "All coupons of this template have been issued"
)
BUDGET_EXHAUSTED = define(
    "COUPON_BUDGET_EXHAUSTED", 409, "该优惠券预算已用完", "The coupon budget is used up"
)
MEMBER_LIMIT_REACHED = define(
    "COUPON_MEMBER_LIMIT_REACHED",
    409,
    "每位会员限领 {limit} 张",
    "At most {limit} per member",
)
TEMPLATE_ENDED = define("COUPON_TEMPLATE_ENDED", 409, "该优惠券活动已结束", "This coupon offer has ended")
COUPON_NOT_FOUND = define("COUPON_NOT_FOUND", 404, "找不到该优惠券", "No such coupon")
COUPON_ALREADY_CLAIMED = define(
    "COUPON_ALREADY_CLAIMED", 409, "该优惠券已被领取", "This coupon has already been claimed"
)
COUPON_NOT_SHAREABLE = define(
    "COUPON_NOT_SHAREABLE", 409, "该优惠券不可转赠领取", "This coupon cannot be claimed"
)
COUPON_ALREADY_REDEEMED = define(
    "COUPON_ALREADY_REDEEMED", 409, "该优惠券已使用", "This coupon has already been used"
)
COUPON_EXPIRED = define("COUPON_EXPIRED", 409, "该优惠券已过期", "This coupon has expired")
COUPON_NOT_YET_VALID = define("COUPON_NOT_YET_VALID", 409, "该优惠券尚未生效", "This coupon is not valid yet")
COUPON_VOIDED = define("COUPON_VOIDED", 409, "该优惠券已作废", "This coupon has been voided")
COUPON_NOT_OWNER = define(
    "COUPON_NOT_OWNER", 409, "该优惠券不属于此会员", "This coupon belongs to another member"
)
COUPON_NOT_REDEEMED_BY = define(
    "COUPON_NOT_REDEEMED_BY", 409, "该优惠券未用于此订单", "This coupon was not used on this order"
)
IMPORT_INVALID = define(
    "COUPON_IMPORT_INVALID",
    422,
    "导入文件有 {n} 处错误，未导入任何券码",
    "The import file has {n} errors; nothing was imported",
)
RULE_INVALID = define(
    "PROMOTION_RULE_INVALID", 422, "促销规则的 {field} 设置有误", "The promotion rule's {field} is not valid"
)
RULE_CODE_TAKEN = define(
    "PROMOTION_RULE_CODE_TAKEN", 409, "促销规则编码 {code} 已被使用", "The rule code {code} is already used"
)
RULE_NOT_FOUND = define("PROMOTION_RULE_NOT_FOUND", 404, "找不到该促销规则", "No such promotion rule")
