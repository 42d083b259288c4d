from laoke.core.errors import define

TIER_PROGRAMME_CODE_TAKEN = define(
    "TIER_PROGRAMME_CODE_TAKEN",
    409,
    "等级方案编号 {code} 已存在",
    "Tier programme code {code} already exists",
)
TIER_REVIEW_DATE_INVALID = define(
    "TIER_REVIEW_DATE_INVALID",
    422,
    "年度评审须给出有效的月、日（2 月 29 日除外）；其他降级方式不设评审日",
    "A yearly review needs a valid month and day (not 29 February); other policies take no review date",
)
TIER_LEVEL_RANK_TAKEN = define(
    "TIER_LEVEL_RANK_TAKEN",
    409,
    "该方案已有级别序号 {rank}",
    "The programme already has a level of rank {rank}",
)
TIER_LEVEL_CODE_TAKEN = define(
    "TIER_LEVEL_CODE_TAKEN",
    409,
    "该方案已有级别编号 {code}",
    "The programme already has a level coded {code}",
)
TIER_RULE_BASIS_MISMATCH = define(
    "TIER_RULE_BASIS_MISMATCH",
    422,
    "该方案按“{basis}”定级，级别的入门规则须一致（或为手动授予）",
    "This programme grades by {basis}: a level's entry rule must match it (or be a manual grant)",
)
TIER_THRESHOLD_ORDER = define(
    "TIER_THRESHOLD_ORDER",
    422,
    "级别越高，同类门槛不能越低（与级别“{other}”冲突）",
    "A higher level cannot have a lower threshold of the same kind (conflicts with {other})",
)
TIER_RATE_INVALID = define(
    "TIER_RATE_INVALID",
    422,
    "{field} 须为基点整数：折扣率 1–10000，积分倍数 0–100000",
    "{field} must be whole basis points: price rate 1–10000, points multiplier 0–100000",
)
TIER_THRESHOLD_INVALID = define(
    "TIER_THRESHOLD_INVALID",
    422,
    "门槛须为 0 至 10¹² 的整数",
    "The threshold must be a whole number from 0 to 10¹²",
)
TIER_ACTIVITY_UNKNOWN = define(
    "TIER_ACTIVITY_UNKNOWN", 422, "未知的等级专享活动：{activity}", "Unknown tier-only activity: {activity}"
)
TIER_LEVEL_WRONG_AUDIENCE = define(
    "TIER_LEVEL_WRONG_AUDIENCE",
    422,
    "该级别不属于{audience}的有效等级方案",
    "This level does not belong to the active programme for {audience}",
)
TIER_ALREADY_AT_LEVEL = define("TIER_ALREADY_AT_LEVEL", 409, "已经是该级别", "Already at this level")
TIER_LEVEL_IN_USE = define(
    "TIER_LEVEL_IN_USE",
    409,
    "已有会员处于或曾处于该级别，不能删除（可修改级别）",
    "Members hold or held this level: it cannot be deleted (change it instead)",
)
TIER_PROGRAMME_ACTIVE = define(
    "TIER_PROGRAMME_ACTIVE",
    409,
    "有效的等级方案不能删除，请先停用",
    "An active programme cannot be deleted: deactivate it first",
)
