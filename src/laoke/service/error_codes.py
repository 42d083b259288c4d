"""Error codes of the service desk."""

from laoke.core.errors import define

CASE_NOT_FOUND = define("SERVICE_CASE_NOT_FOUND", 404, "找不到该服务工单", "No such service case")
CASE_STATE = define(
    "SERVICE_CASE_STATE",
    409,
    "该工单当前为“{state}”状态，不能执行此操作",
    "The case is {state}; this cannot be done now",
)
CASE_LEVEL = define(
    "SERVICE_CASE_LEVEL",
    422,
    "评价等级须为 praise（褒奖）、neutral（一般）、dissatisfied（不满）或 criticism（批评）",
    "The level must be praise, neutral, dissatisfied or criticism",
)
CASE_SOURCE = define(
    "SERVICE_CASE_SOURCE", 422, "来源须为 phone、h5 或 staff", "The source must be phone, h5 or staff"
)
CASE_OUTCOME_REQUIRED = define(
    "SERVICE_CASE_OUTCOME_REQUIRED", 422, "请填写处理结果", "Write down the outcome"
)
CASE_ASSIGNEE_INVALID = define(
    "SERVICE_CASE_ASSIGNEE_INVALID",
    422,
    "只能指派给在职的客服、客服经理或升级链上的人员",
    "A case goes to an active service agent, service manager or someone on the escalation chain",
)
CASE_TOP_LEVEL = define(
    "SERVICE_CASE_TOP_LEVEL",
    409,
    "已升级到最高一级（公司领导）",
    "The case is already at the top of the chain",
)
CASE_ORDER_MEMBER = define(
    "SERVICE_CASE_ORDER_MEMBER", 422, "该订单不属于此会员", "The order is not this member's"
)
HANDLING_INVALID = define(
    "SERVICE_HANDLING_INVALID",
    422,
    "处理方式须为 text（文字回复）、phone（电话）或 visit（上门），时限 1–720 小时",
    "The handling is text, phone or visit, due within 1-720 hours",
)
CATEGORY_DEPTH = define(
    "SERVICE_CATEGORY_DEPTH",
    422,
    "案例分类只有两级：{why}",
    "Call-case categories have two levels: {why}",
)
NAME_TAKEN = define("SERVICE_NAME_TAKEN", 409, "名称“{name}”已被使用", "The name \u201c{name}\u201d is taken")
RULE_INVALID = define("SERVICE_RULE_INVALID", 422, "规则有误：{why}", "The rule is not valid: {why}")
RULE_APPROVED = define("SERVICE_RULE_APPROVED", 409, "该规则已审批", "The rule has already been approved")
