"""Stable error codes of the basket analysis and product roles (API contract: never rename, add new
ones)."""

from laoke.core.errors import define

ANALYTICS_SUPPORT_INVALID = define(
    "ANALYTICS_SUPPORT_INVALID",
    422,
    "最小支持度须大于 0 且不大于 1（例：0.01）",
    "min_support must be greater than 0 and at most 1 (e.g. 0.01)",
)
ANALYTICS_THRESHOLD_INVALID = define(
    "ANALYTICS_THRESHOLD_INVALID",
    422,
    "{name} 须为不小于 0 的数",
    "{name} must be a number of at least 0",
)
ANALYTICS_LEVEL_INVALID = define(
    "ANALYTICS_LEVEL_INVALID",
    422,
    "层级须为 product（商品）或 category（品类）",
    "level must be product or category",
)
ANALYTICS_PERIOD_INVALID = define(
    "ANALYTICS_PERIOD_INVALID",
    422,
    "时间范围无效：起始须早于结束，且不超过 3 年",
    "The period is not valid: since must be before until, and at most 3 years apart",
)
ANALYTICS_MEMBERS_REQUIRED = define(
    "ANALYTICS_MEMBERS_REQUIRED",
    422,
    "请给出会员编号列表或分群编号（二选一）",
    "Give either member ids or a segment id (one of the two)",
)
ANALYTICS_ROLE_INVALID = define(
    "ANALYTICS_ROLE_INVALID",
    422,
    "商品角色须为 traffic、profit、marginal、potential、regular 之一",
    "role must be one of traffic, profit, marginal, potential, regular",
)
ANALYTICS_ROLE_TARGET_INVALID = define(
    "ANALYTICS_ROLE_TARGET_INVALID",
    422,
    "请指定一个商品或一个搭配套餐（二选一）",
    "Name exactly one product or one bundle",
)
ANALYTICS_DISCOUNT_CAP_INVALID = define(
    "ANALYTICS_DISCOUNT_CAP_INVALID",
    422,
    "折扣上限须为 0–10000 个基点（10000 = 100%）",
    "The discount cap must be 0-10000 basis points (10000 = 100%)",
)
