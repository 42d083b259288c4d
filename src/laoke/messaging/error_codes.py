from laoke.core.errors import define

MESSAGE_CHANNEL_INVALID = define(
    "MESSAGE_CHANNEL_INVALID", 422, "未知的消息渠道：{channel}", "Unknown message channel: {channel}"
)
MESSAGE_BODY_REQUIRED = define("MESSAGE_BODY_REQUIRED", 422, "消息内容不能为空", "A message needs a body")
MESSAGE_PURPOSE_INVALID = define(
    "MESSAGE_PURPOSE_INVALID", 422, "消息用途须为 1–120 个字符", "A message purpose must be 1-120 characters"
)
CALLBACK_TOKEN_INVALID = define(
    "CALLBACK_TOKEN_INVALID", 403, "回调地址中的令牌无效", "The token in the callback URL is not valid"
)
CALLBACK_BODY_INVALID = define(
    "CALLBACK_BODY_INVALID", 400, "回调内容格式有误", "The callback body is not in the provider's format"
)
