"""Stable error codes of the referrals app (part of the API contract: never rename, add new ones)."""

from laoke.core.errors import define

REFERRAL_PROGRAMME_INACTIVE = define(
    "REFERRAL_PROGRAMME_INACTIVE", 409, "推荐有礼活动未开启", "The referral programme is not active"
)
REFERRAL_REFERRER_NOT_FOUND = define(
    "REFERRAL_REFERRER_NOT_FOUND",
    422,
    "找不到该推荐人（请填写推荐人的手机号或会员号）",
    "No such referrer (enter the referrer's mobile or member number)",
)
REFERRAL_REFERRER_INVALID = define(
    "REFERRAL_REFERRER_INVALID",
    422,
    "该推荐人账户已停用或已合并，不能作为推荐人",
    "The referrer's account is not active (merged or anonymised)",
)
REFERRAL_NEW_MEMBER_INVALID = define(
    "REFERRAL_NEW_MEMBER_INVALID", 422, "新会员账户已停用或已合并", "The new member's account is not active"
)
REFERRAL_SELF = define("REFERRAL_SELF", 422, "不能推荐自己", "A member cannot refer themselves")
REFERRAL_SAME_MOBILE = define(
    "REFERRAL_SAME_MOBILE",
    422,
    "推荐人与新会员的手机号相同",
    "The referrer and the new member have the same mobile",
)
REFERRAL_SAME_ADDRESS = define(
    "REFERRAL_SAME_ADDRESS",
    422,
    "推荐人与新会员的地址相同",
    "The referrer and the new member have the same address",
)
REFERRAL_SAME_DEVICE = define(
    "REFERRAL_SAME_DEVICE",
    422,
    "该设备已被推荐人使用过，不能再次用于推荐",
    "This device has already been used by the referrer",
)
REFERRAL_ALREADY_REFERRED = define(
    "REFERRAL_ALREADY_REFERRED", 409, "该会员已有推荐人", "This member already has a referrer"
)
REFERRAL_TOO_LATE = define(
    "REFERRAL_TOO_LATE",
    422,
    "推荐人须在注册后 {days} 天内、首次下单前填写",
    "A referrer must be entered within {days} days of registration and before the first order",
)
REFERRAL_SETTINGS_INVALID = define(
    "REFERRAL_SETTINGS_INVALID", 422, "推荐设置的 {field} 有误", "The referral setting {field} is not valid"
)
