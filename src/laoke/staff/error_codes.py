"""Error codes of staff work (stable: add new codes, never rename)."""

from laoke.core.errors import define

STAFF_REP_NOT_VISIBLE = define(
    "STAFF_REP_NOT_VISIBLE",
    403,
    "只能查看或记录本人（或本部门销售代表）的工作",
    "You can only see or record your own work (or your team's)",
)
STAFF_LOG_SUBJECT = define(
    "STAFF_LOG_SUBJECT",
    422,
    "一条工作日志只能对应一位客户或一位意向客户",
    "A work log is about one customer or one prospect, not both",
)
STAFF_LOG_IN_FUTURE = define(
    "STAFF_LOG_IN_FUTURE", 422, "工作日志的时间不能晚于现在", "A work log cannot be dated in the future"
)
STAFF_PROSPECT_CLOSED = define(
    "STAFF_PROSPECT_CLOSED", 409, "该意向客户已成交或已战败", "This prospect is already closed (deal or lost)"
)
STAFF_LOST_REASON_REQUIRED = define(
    "STAFF_LOST_REASON_REQUIRED", 422, "战败须选择战败原因", "A lost prospect needs a lost reason"
)
STAFF_PROSPECT_CONTACT = define(
    "STAFF_PROSPECT_CONTACT", 422, "请填写意向客户的姓名", "A prospect needs a name"
)
STAFF_QUOTA_INVALID = define(
    "STAFF_QUOTA_INVALID",
    422,
    "定额须为 0–50 之间的整数，工作日为 1–7 的数字（如 12345）",
    "Quotas are whole numbers from 0 to 50 and working days are digits 1–7 (e.g. 12345)",
)
STAFF_MONTH_INVALID = define(
    "STAFF_MONTH_INVALID", 422, "月份格式须为 YYYY-MM", "The month must be written YYYY-MM"
)
STAFF_ASSESSMENT_SIGNED = define(
    "STAFF_ASSESSMENT_SIGNED",
    409,
    "该月度考核已签字确认，不能再修改",
    "This monthly assessment is already signed off",
)
STAFF_MONTH_NOT_OVER = define(
    "STAFF_MONTH_NOT_OVER", 422, "只能签署已结束月份的考核", "Only a month that is over can be signed off"
)
