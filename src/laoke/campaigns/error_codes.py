"""Stable error codes of the campaigns app (part of the API contract: never rename, add new ones)."""

from laoke.core.errors import define

CAMPAIGN_STATE = define(
    "CAMPAIGN_STATE",
    409,
    "活动当前状态为“{state}”，不能{action}",
    "The campaign is {state}: it cannot be {action}",
)
CAMPAIGN_NO_WAVES = define("CAMPAIGN_NO_WAVES", 422, "活动还没有任何波次", "The campaign has no waves")
CAMPAIGN_SELF_APPROVAL = define(
    "CAMPAIGN_SELF_APPROVAL",
    403,
    "活动须由创建人以外的有审批权限的人批准",
    "A campaign must be approved by someone other than its creator",
)
CAMPAIGN_WAVE_INVALID = define(
    "CAMPAIGN_WAVE_INVALID", 422, "波次设置有误：{why}", "The wave is not valid: {why}"
)
CAMPAIGN_BRANCH_INVALID = define(
    "CAMPAIGN_BRANCH_INVALID", 422, "分支设置有误：{why}", "The branch is not valid: {why}"
)
CAMPAIGN_NAME_TAKEN = define(
    "CAMPAIGN_NAME_TAKEN", 409, "已有同名活动：{name}", "A campaign named {name} already exists"
)
CAMPAIGN_START_PAST = define(
    "CAMPAIGN_START_PAST", 422, "开始时间不能早于现在", "The start time must not be in the past"
)
