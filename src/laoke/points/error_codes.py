from laoke.core.errors import define

POINTS_NO_PROGRAMME = define("POINTS_NO_PROGRAMME", 409, "尚未启用积分方案", "No points programme is active")
POINTS_INSUFFICIENT = define(
    "POINTS_INSUFFICIENT",
    409,
    "积分不足（可用 {available}，需要 {needed}）",
    "Not enough points ({available} available, {needed} needed)",
)
POINTS_AMOUNT_INVALID = define(
    "POINTS_AMOUNT_INVALID",
    422,
    "{field} 须为正整数积分",
    "{field} must be a positive whole number of points",
)
POINTS_REASON_REQUIRED = define(
    "POINTS_REASON_REQUIRED", 422, "调整积分必须填写原因", "A points adjustment needs a reason"
)
POINTS_LINE_INVALID = define(
    "POINTS_LINE_INVALID", 422, "订单行 {ref} 无效：{why}", "Order line {ref} is not valid: {why}"
)
POINTS_KEY_REUSED = define(
    "POINTS_KEY_REUSED",
    409,
    "该业务键已用于另一笔积分操作",
    "This key was already used for a different points operation",
)
POINTS_REFUND_EXCEEDS = define(
    "POINTS_REFUND_EXCEEDS",
    422,
    "退款金额超过可退金额（剩余 {left} 分）",
    "The refund exceeds what is left to refund ({left} fen)",
)
POINTS_RETURN_EXCEEDS = define(
    "POINTS_RETURN_EXCEEDS",
    422,
    "退回积分超过该笔抵扣的剩余积分（剩余 {left}）",
    "More points to give back than this payment has left ({left})",
)
POINTS_WINDOW_CLOSED = define(
    "POINTS_WINDOW_CLOSED",
    409,
    "积分礼品只能在每月 {start}–{end} 日兑换",
    "Gifts can be redeemed only on days {start}–{end} of each month",
)
POINTS_OFFER_UNAVAILABLE = define(
    "POINTS_OFFER_UNAVAILABLE",
    409,
    "该礼品不在本店的兑换目录中",
    "This gift is not on this store's catalogue",
)
POINTS_LEVEL_FULL = define(
    "POINTS_LEVEL_FULL",
    409,
    "每个门店每级礼品最多 {max} 个单品",
    "A store may offer at most {max} gifts per level",
)
POINTS_REDEMPTION_CANCELLED = define(
    "POINTS_REDEMPTION_CANCELLED", 409, "该兑换已取消", "This redemption is already cancelled"
)
POINTS_CLAIM_DUPLICATE = define(
    "POINTS_CLAIM_DUPLICATE",
    409,
    "该小票已申请过补积分",
    "Points were already claimed for this receipt",
)
POINTS_CLAIM_TOO_OLD = define(
    "POINTS_CLAIM_TOO_OLD",
    422,
    "只能补 {days} 天内的小票积分",
    "Points can be claimed only for receipts of the last {days} days",
)
POINTS_CLAIM_FUTURE = define(
    "POINTS_CLAIM_FUTURE", 422, "购物时间不能晚于现在", "The purchase time cannot be in the future"
)
POINTS_CLAIM_DECIDED = define(
    "POINTS_CLAIM_DECIDED", 409, "该补积分申请已处理（{status}）", "This claim was already decided ({status})"
)
POINTS_SIGNED_IN = define(
    "POINTS_SIGNED_IN", 409, "今天已经签到过了", "The member has already signed in today"
)
POINTS_MIGRATION_CONFLICT = define(
    "POINTS_MIGRATION_CONFLICT",
    409,
    "迁移 {code} 已以不同的方式或比例运行过",
    "Migration {code} already ran with another mode or ratio",
)
POINTS_MEMBER_INACTIVE = define(
    "POINTS_MEMBER_INACTIVE", 409, "该会员不可用（已合并或已注销）", "This member is merged or deleted"
)
POINTS_SETTING_INVALID = define(
    "POINTS_SETTING_INVALID", 422, "积分方案设置 {field} 无效", "Programme setting {field} is not valid"
)
