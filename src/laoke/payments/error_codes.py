"""Error codes of payments (stable; zh-hans and en)."""

from laoke.core.errors import define

PACKAGE_NOT_AVAILABLE = define(
    "PACKAGE_NOT_AVAILABLE", 422, "该充值套餐当前不可购买", "This recharge package is not on sale now"
)
PACKAGE_LIMIT_REACHED = define(
    "PACKAGE_LIMIT_REACHED",
    422,
    "该充值套餐每位会员限购 {limit} 次",
    "This recharge package may be bought {limit} times per member",
)
PACKAGE_INVALID = define(
    "PACKAGE_INVALID", 422, "充值套餐设置有误：{reason}", "The package is not valid: {reason}"
)
PAYMENT_PROVIDER_INVALID = define(
    "PAYMENT_PROVIDER_INVALID",
    422,
    "不支持该支付方式（可用：{available}）",
    "This payment method is not available (available: {available})",
)
PAYMENT_PROVIDER_UNAVAILABLE = define(
    "PAYMENT_PROVIDER_UNAVAILABLE",
    503,
    "支付渠道暂时不可用，请稍后再试",
    "The payment provider cannot be reached; please try again later",
)
PAYMENT_RETURN_URL_INVALID = define(
    "PAYMENT_RETURN_URL_INVALID", 422, "支付完成后的返回地址无效", "The return URL is not valid"
)
PAYMENT_WALLET_CLOSED = define(
    "PAYMENT_WALLET_CLOSED", 422, "该会员的储值账户已销户，不能充值", "The member's wallet is closed"
)
PURCHASE_NOT_REFUNDABLE = define(
    "PURCHASE_NOT_REFUNDABLE",
    409,
    "该笔充值当前不能退款（状态：{state}）",
    "This purchase cannot be refunded now (state: {state})",
)
PURCHASE_NOTHING_TO_REFUND = define(
    "PURCHASE_NOTHING_TO_REFUND",
    409,
    "该笔充值的储值已全部用完，没有可退的金额",
    "The stored value of this purchase has been spent; nothing is left to refund",
)
