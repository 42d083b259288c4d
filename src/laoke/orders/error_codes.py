"""Stable error codes of the orders app (part of the API contract: never rename, add new ones)."""

from laoke.core.errors import define

ORDER_EMPTY = define("ORDER_EMPTY", 422, "订单没有商品", "The order has no lines")
ORDER_PRODUCT_UNKNOWN = define(
    "ORDER_PRODUCT_UNKNOWN",
    422,
    "商品 {sku} 不存在或已下架",
    "Product {sku} does not exist or is not on sale",
)
ORDER_MEMBER_INVALID = define(
    "ORDER_MEMBER_INVALID", 422, "会员不存在或已停用", "The member does not exist or is not active"
)
ORDER_COUPON_WRONG_CHANNEL = define(
    "ORDER_COUPON_WRONG_CHANNEL",
    409,
    "优惠券 {code} 不能在此渠道使用",
    "Coupon {code} cannot be used in this channel",
)
ORDER_COUPONS_EXCLUSIVE = define(
    "ORDER_COUPONS_EXCLUSIVE",
    409,
    "优惠券 {a} 与 {b} 不能同时使用",
    "Coupons {a} and {b} cannot be used together",
)
ORDER_COUPON_NOT_APPLIED = define(
    "ORDER_COUPON_NOT_APPLIED",
    409,
    "优惠券 {code} 不满足使用条件：{why}",
    "Coupon {code} does not apply: {why}",
)
ORDER_NO_SHIPPING_RULES = define(
    "ORDER_NO_SHIPPING_RULES",
    409,
    "尚未启用运费规则，无法计算邮费",
    "No shipping rules are active: postage unknown",
)
ORDER_FLASH_UNAVAILABLE = define(
    "ORDER_FLASH_UNAVAILABLE",
    409,
    "该商品现在不能以老客专享价购买（{why}）",
    "The flash-zone price is not available ({why})",
)
ORDER_APPROVAL_INVALID = define(
    "ORDER_APPROVAL_INVALID",
    409,
    "折扣审批不存在、未批准、已使用或不属于此会员",
    "The discount approval does not exist, is not approved, was used or is for another member",
)
ORDER_APPROVAL_NOT_NEEDED = define(
    "ORDER_APPROVAL_NOT_NEEDED",
    422,
    "订单金额未达到大单标准（{threshold}），无需审批额外折扣",
    "Extra discounts are approved only for big orders (from {threshold})",
)
ORDER_APPROVAL_STATE = define(
    "ORDER_APPROVAL_STATE", 409, "该审批已处理", "This approval has already been decided"
)
ORDER_APPROVAL_SELF = define(
    "ORDER_APPROVAL_SELF", 403, "不能审批自己提交的折扣申请", "You cannot approve your own discount request"
)
ORDER_WALLET_SHORT = define(
    "ORDER_WALLET_SHORT",
    409,
    "储值余额不足（可用 {available} 分）",
    "Not enough in the wallet ({available} fen available)",
)
ORDER_POINTS_SHORT = define(
    "ORDER_POINTS_SHORT", 409, "积分不足（可用 {available}）", "Not enough points ({available} available)"
)
ORDER_NOT_FOUND = define("ORDER_NOT_FOUND", 404, "找不到该订单", "No such order")
ORDER_STATE = define(
    "ORDER_STATE", 409, "订单当前状态（{status}）不允许此操作", "Not possible while the order is {status}"
)
ORDER_REFUND_INVALID = define(
    "ORDER_REFUND_INVALID", 422, "退款明细有误：{why}", "The refund lines are not valid: {why}"
)
ORDER_RETURN_WINDOW_CLOSED = define(
    "ORDER_RETURN_WINDOW_CLOSED",
    409,
    "{sku} 已超过 {days} 天退换货期限",
    "{sku}: the {days}-day return window has closed",
)
ORDER_NOT_RETURNABLE = define(
    "ORDER_NOT_RETURNABLE",
    409,
    "{sku} 不属于可退换商品，签收后不能退货",
    "{sku} cannot be returned after delivery",
)
ORDER_REVIEW_EXISTS = define(
    "ORDER_REVIEW_EXISTS", 409, "该订单已评价", "This order has already been reviewed"
)
ORDER_SETTINGS_INVALID = define(
    "ORDER_SETTINGS_INVALID", 422, "订单设置 {field} 有误", "The order setting {field} is not valid"
)
