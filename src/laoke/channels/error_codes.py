"""Stable error codes of the channels app (part of the API contract: never rename, add new ones)."""

from laoke.core.errors import define

SMS_SIGNATURE_INVALID = define(
    "SMS_SIGNATURE_INVALID",
    422,
    "短信签名须为 2–12 个字符，且不能包含括号",
    "The SMS signature must be 2-12 characters without brackets",
)
SMS_OPT_OUT_MISSING = define(
    "SMS_OPT_OUT_MISSING",
    422,
    "营销短信须以退订提示结尾（例如：回T退订）",
    "A marketing SMS must end with an opt-out instruction (e.g. 回T退订)",
)
SMS_TOO_LONG = define(
    "SMS_TOO_LONG", 422, "短信过长（最多 {max} 个字符）", "The SMS is too long (max {max} characters)"
)
TEMPLATE_VARIABLE_UNKNOWN = define(
    "TEMPLATE_VARIABLE_UNKNOWN",
    422,
    "模板中有未知变量：{names}",
    "The template uses unknown variables: {names}",
)
TEMPLATE_SYNTAX_INVALID = define(
    "TEMPLATE_SYNTAX_INVALID",
    422,
    "模板中的花括号不成对或变量名无效：{detail}",
    "Unbalanced braces or an invalid variable name in the template: {detail}",
)
TEMPLATE_SUBJECT_REQUIRED = define(
    "TEMPLATE_SUBJECT_REQUIRED", 422, "邮件模板需要主题", "An email template needs a subject"
)
TEMPLATE_IN_USE = define(
    "TEMPLATE_IN_USE",
    409,
    "该模板已被活动使用，不能删除（可停用）",
    "The template is in use; deactivate it instead",
)
TEMPLATE_INACTIVE = define("TEMPLATE_INACTIVE", 409, "该模板已停用", "This template is inactive")
TASK_NOT_OPEN = define(
    "STAFF_TASK_NOT_OPEN", 409, "该任务已完成或已取消", "This task is already done or cancelled"
)
TASK_NOT_YOURS = define(
    "STAFF_TASK_NOT_YOURS", 403, "该任务已分配给其他同事", "This task is assigned to someone else"
)
TASK_OUTCOME_INVALID = define(
    "STAFF_TASK_OUTCOME_INVALID",
    422,
    "该任务类型不能使用此结果：{outcome}",
    "Outcome {outcome} is not valid here",
)
UNSUBSCRIBE_TOKEN_INVALID = define(
    "UNSUBSCRIBE_TOKEN_INVALID", 400, "退订链接无效或已损坏", "The unsubscribe link is not valid"
)
EXPORT_EMPTY_SELECTION = define(
    "DIRECT_MAIL_SELECTION_REQUIRED",
    422,
    "请指定用途前缀或任务编号",
    "Give a purpose prefix or task ids for the export",
)
TEMPLATE_NAME_TAKEN = define("TEMPLATE_NAME_TAKEN", 409, "已有同名模板", "A template with this name exists")
FIELD_UNKNOWN = define(
    "TEMPLATE_FIELD_UNKNOWN", 422, "不能修改字段 {field}", "The field {field} cannot be changed"
)
TASK_PURPOSE_INVALID = define(
    "STAFF_TASK_PURPOSE_INVALID", 422, "任务用途须为 1–120 个字符", "A task purpose must be 1-120 characters"
)
