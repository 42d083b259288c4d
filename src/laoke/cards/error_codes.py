"""Stable error codes of the cards app (part of the API contract: never rename, add new ones)."""

from laoke.core.errors import define

CARD_CREDENTIALS_INVALID = define(
    "CARD_CREDENTIALS_INVALID",
    422,
    "卡号或密码错误",
    "The card number or PIN is wrong",
)
CARD_NUMBER_INVALID = define(
    "CARD_NUMBER_INVALID", 422, "卡号格式有误，请核对后重输", "The card number is mistyped (check digit)"
)
CARD_LOCKED = define(
    "CARD_LOCKED",
    423,
    "密码错误次数过多，此卡已锁定，请联系门店解锁",
    "Too many wrong PINs: the card is locked, ask the shop to unlock it",
)
CARD_NOT_ACTIVATED = define(
    "CARD_NOT_ACTIVATED", 409, "此卡尚未售出激活，不能充值", "The card has not been sold (activated) yet"
)
CARD_ALREADY_REDEEMED = define(
    "CARD_ALREADY_REDEEMED", 409, "此卡已充值使用，已作废", "The card has already been used and is void"
)
CARD_CANCELLED = define("CARD_CANCELLED", 409, "此卡已注销", "The card has been cancelled")
CARD_EXPIRED = define("CARD_EXPIRED", 409, "此卡已过期", "The card has expired")
CARD_NOT_LOCKED = define("CARD_NOT_LOCKED", 409, "此卡未被锁定", "The card is not locked")
CARD_NOT_FOUND = define("CARD_NOT_FOUND", 404, "找不到该卡", "No such card")
CARD_RANGE_INVALID = define(
    "CARD_RANGE_INVALID", 422, "卡序号范围无效（1–{count}）", "The serial range is not valid (1-{count})"
)
CARD_RANGE_NOT_AVAILABLE = define(
    "CARD_RANGE_NOT_AVAILABLE",
    409,
    "范围内有 {n} 张卡不是未售状态，未做任何更改",
    "{n} cards in the range are not unsold; nothing was changed",
)
CARD_EXPERIENCE_ONCE = define(
    "CARD_EXPERIENCE_ONCE",
    409,
    "体验卡每位会员限购/限充一张",
    "The experience card is once per member",
)
CARD_EXPERIENCE_NEEDS_MEMBER = define(
    "CARD_EXPERIENCE_NEEDS_MEMBER",
    422,
    "体验卡只能售给一位个人会员，每次一张",
    "Experience cards are sold one at a time to an individual member",
)
CARD_RECHARGE_OWNER = define(
    "CARD_RECHARGE_OWNER", 422, "请指定一位会员或一个集体账户", "Give exactly one member or group account"
)
BATCH_NOT_READY = define(
    "BATCH_NOT_READY", 409, "该批次尚未生成完成", "The batch has not finished generating"
)
BATCH_FILE_GONE = define(
    "BATCH_FILE_GONE",
    410,
    "该批次的卡密文件已被下载过一次，不能再次下载",
    "The batch's PIN file was already downloaded once and is gone",
)
BATCH_AMOUNT_INVALID = define(
    "BATCH_AMOUNT_INVALID", 422, "{field} 须为正整数（分）", "{field} must be a positive amount in fen"
)
BATCH_SALE_PRICE_INVALID = define(
    "BATCH_SALE_PRICE_INVALID",
    422,
    "售价须在 0 与面值之间",
    "The sale price must be between 0 and the face value",
)
BATCH_COUNT_INVALID = define(
    "BATCH_COUNT_INVALID", 422, "张数须为 1–100000", "The number of cards must be 1-100,000"
)
BATCH_BUYER_INVALID = define(
    "BATCH_BUYER_INVALID",
    422,
    "企事业单位礼品卡/职工福利卡须填写购买单位和用途",
    "Company gift and staff welfare cards need the buyer company and the purpose",
)
BATCH_EXPIRY_INVALID = define(
    "BATCH_EXPIRY_INVALID", 422, "有效期须晚于今天", "The expiry date must be after today"
)
WALLET_CLOSED = define(
    "WALLET_CLOSED", 409, "该会员的储值卡已销卡", "This member's stored-value card has been closed"
)
WALLET_CLOSE_CONFIRMATION = define(
    "WALLET_CLOSE_CONFIRMATION",
    422,
    "确认信息与会员档案不符：{fields}",
    "The confirmation does not match the member's record: {fields}",
)
WALLET_CLOSE_POLICY_INVALID = define(
    "WALLET_CLOSE_POLICY_INVALID",
    422,
    "余额处理方式须为 refund 或 forfeit",
    "The policy must be refund or forfeit",
)
CARD_RANGE_TOO_LARGE = define(
    "CARD_RANGE_TOO_LARGE",
    422,
    "每次最多处理 {max} 张卡，请分段操作",
    "At most {max} cards per operation: split the range",
)
BATCH_KIND_INVALID = define("BATCH_KIND_INVALID", 422, "卡类型无效", "The card kind is not valid")
CARD_CHANNEL_INVALID = define(
    "CARD_CHANNEL_INVALID", 422, "充值渠道无效", "The recharge channel is not valid"
)
CARD_REASON_REQUIRED = define("CARD_REASON_REQUIRED", 422, "请填写原因", "A reason is required")
