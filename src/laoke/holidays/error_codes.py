"""Error codes of holidays (gift campaigns, holiday promotion presets, draw games)."""

from laoke.core.errors import define

YEAR_UNSUPPORTED = define(
    "HOLIDAY_YEAR_UNSUPPORTED",
    422,
    "不支持 {year} 年的农历日期（支持 {first}–{last} 年）",
    "The lunar dates of {year} are not available (years {first}–{last} are)",
)
PRESET_UNKNOWN = define(
    "HOLIDAY_PRESET_UNKNOWN", 422, "未知的节日预设：{preset}", "Unknown holiday preset: {preset}"
)
CAMPAIGN_INVALID = define(
    "GIFT_CAMPAIGN_INVALID", 422, "送礼活动的 {field} 有误", "The gift campaign's {field} is not valid"
)
CARD_NAMES_GIFT = define(
    "GIFT_CARD_NAMES_GIFT",
    422,
    "贺卡寄语不能透露礼品（“{word}”）：礼品对客户保密",
    "The card message must not name the gift (\u201c{word}\u201d): the gift is a surprise",
)
APPLICATION_INVALID = define(
    "GIFT_APPLICATION_INVALID", 422, "送礼申请的 {field} 有误", "The gift application's {field} is not valid"
)
APPLICATION_STATE = define(
    "GIFT_APPLICATION_STATE",
    409,
    "该申请当前为“{state}”，不能执行此操作",
    "The application is {state}; this cannot be done now",
)
STEP_DONE = define(
    "GIFT_STEP_DONE", 409, "此审核步骤（{step}）已完成", "This review step ({step}) has already been decided"
)
REVIEWS_PENDING = define(
    "GIFT_REVIEWS_PENDING",
    409,
    "须客服经理与销售经理都审核通过后，企划部才能最终审批",
    "Both the service manager and the sales manager must pass the application before the final approval",
)
REASON_REQUIRED = define("GIFT_REASON_REQUIRED", 422, "驳回须填写原因", "A rejection needs a reason")
QUOTA_FULL = define(
    "GIFT_QUOTA_FULL",
    409,
    "“{type}”名额已满（{quota} 份）",
    "The quota of \u201c{type}\u201d is used up ({quota} gifts)",
)
WALKIN_OUTSIDE_WINDOW = define(
    "GIFT_WALKIN_OUTSIDE_WINDOW",
    422,
    "上门看机客户须在 {start} 至 {end}（农历8月5日至8月14日）到访",
    "A walk-in must have visited between {start} and {end} (lunar 8/5–8/14)",
)
EXPORT_LATE = define(
    "GIFT_EXPORT_LATE",
    409,
    "已过交邮政局的截止日期（{deadline}）；如仍要导出，请选择“逾期导出”，文件将标注逾期",
    "The courier deadline ({deadline}) has passed; export as late to get a file marked late",
)
PROMOTION_EXISTS = define(
    "HOLIDAY_PROMOTION_EXISTS",
    409,
    "{year} 年的“{preset}”节日促销已创建",
    "The {preset} promotions of {year} already exist",
)
DRAW_GAME_INVALID = define(
    "DRAW_GAME_INVALID", 422, "抽奖活动的 {field} 有误", "The draw game's {field} is not valid"
)
DRAW_PROBABILITY_SUM = define(
    "DRAW_PROBABILITY_SUM",
    422,
    "各奖项中奖概率之和（{total} 个万分点）不能超过 10000",
    "The prizes' probabilities add up to {total} basis points; at most 10000",
)
DRAW_NOT_OPEN = define("DRAW_NOT_OPEN", 409, "抽奖活动未在进行中", "The draw game is not open")
DRAW_DAILY_LIMIT = define(
    "DRAW_DAILY_LIMIT", 409, "今天的抽奖次数已用完（每天 {limit} 次）", "No draws left today ({limit} a day)"
)
DRAW_ENTRY_LIMIT = define(
    "DRAW_ENTRY_LIMIT", 409, "本活动的抽奖次数已用完（共 {limit} 次）", "No draws left in this game ({limit})"
)
DRAW_RECEIPT_BELOW = define(
    "DRAW_RECEIPT_BELOW",
    422,
    "购物满 {threshold} 元才能参加此抽奖",
    "This draw needs a receipt of at least {threshold} yuan",
)
DRAW_BUSY = define("DRAW_BUSY", 409, "该会员正在抽奖，请稍后再试", "This member is drawing; try again")
DRAW_RECEIPT_USED = define(
    "DRAW_RECEIPT_USED", 409, "这张小票已经抽过奖了", "This receipt has already been used for a draw"
)
