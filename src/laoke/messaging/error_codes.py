from laoke.core.errors import define

MESSAGE_CHANNEL_INVALID = define(
    "MESSAGE_CHANNEL_INVALID", 422, "未知的消息渠道：{channel}", "Unknown message channel: {channel}"
)
MESSAGE_BODY_REQUIRED = define("MESSAGE_BODY_REQUIRED", 422, "消息内容不能为空", "A message needs a body")
MESSAGE_PURPOSE_INVALID = define(
    "MESSAGE_PURPOSE_INVALID", 422, "消息用途须为 1–120 个字符", "A message purpose must be 1-120 characters"
)
