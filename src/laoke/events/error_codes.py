"""Error codes of events (lotteries, appreciation events, forums)."""

from laoke.core.errors import define

LOTTERY_STATE = define(
    "LOTTERY_STATE",
    409,
    "该抽奖当前为“{state}”状态，不能执行此操作",
    "The lottery is {state}; this cannot be done now",
)
LOTTERY_INVALID = define(
    "LOTTERY_INVALID", 422, "抽奖设置有误：{field}", "The lottery setting {field} is not valid"
)
PRIZE_INVALID = define(
    "PRIZE_INVALID", 422, "奖品设置有误：{field}", "The prize setting {field} is not valid"
)
LOTTERY_NO_PRIZES = define("LOTTERY_NO_PRIZES", 409, "抽奖还没有奖品", "The lottery has no prizes yet")
LOTTERY_SEED_INVALID = define(
    "LOTTERY_SEED_INVALID", 422, "种子须为 64 位十六进制数", "The seed must be 64 hexadecimal digits"
)
LOTTERY_FILE_INVALID = define(
    "LOTTERY_FILE_INVALID",
    422,
    "参与者名单文件无法读取：{reason}",
    "The entrant list file cannot be read: {reason}",
)
EVENT_INVALID = define(
    "EVENT_INVALID", 422, "活动设置有误：{field}", "The event setting {field} is not valid"
)
EVENT_LIST_STATE = define(
    "EVENT_LIST_STATE",
    409,
    "邀请名单当前为“{state}”状态，不能执行此操作",
    "The invitee list is {state}; this cannot be done now",
)
EVENT_LIST_EMPTY = define("EVENT_LIST_EMPTY", 409, "邀请名单是空的", "The invitee list is empty")
INVITEE_DUPLICATE = define(
    "INVITEE_DUPLICATE", 409, "该会员已在邀请名单中", "The member is already on the invitee list"
)
INVITEE_NOT_APPROVED = define(
    "INVITEE_NOT_APPROVED",
    409,
    "邀请名单尚未经总经理批准，不能签到",
    "The invitee list has not been approved by the general manager; guests cannot sign in yet",
)
FUNNEL_STEP_INVALID = define(
    "FUNNEL_STEP_INVALID",
    422,
    "邀约步骤须为 interview、visit、letter 或 confirm，且按顺序进行",
    "The invitation step must be interview, visit, letter or confirm, in that order",
)
RSVP_INVALID = define(
    "RSVP_INVALID",
    422,
    "回复须为 yes、no 或 maybe，人数 1–20",
    "The RSVP must be yes, no or maybe for 1–20 persons",
)
RSVP_CLOSED = define("RSVP_CLOSED", 409, "回复截止时间已过", "The RSVP deadline has passed")
SIGNIN_NOT_OPEN = define(
    "SIGNIN_NOT_OPEN", 409, "活动当天才能签到", "Guests can sign in only on the day of the event"
)
FORUM_SELECTION_INVALID = define(
    "FORUM_SELECTION_INVALID",
    422,
    "座谈会邀请须按积分排名（top_points，名额 1–500）或年龄段（age_band，年龄 0–120）选取",
    "Forum invitees are chosen by top_points (1–500 places) or by age_band (ages 0–120)",
)
