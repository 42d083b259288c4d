"""Error codes of the member pages (stable: never rename one)."""

from laoke.core.errors import define

LOGIN_CODE_INVALID = define(
    "LOGIN_CODE_INVALID",
    422,
    "验证码错误或已过期，请重新获取",
    "The code is wrong or has expired: request a new one",
)
LOGIN_CODE_EXHAUSTED = define(
    "LOGIN_CODE_EXHAUSTED",
    429,
    "验证码输错次数过多，请重新获取",
    "Too many wrong entries for this code: request a new one",
)
LOGIN_CODE_TOO_SOON = define(
    "LOGIN_CODE_TOO_SOON",
    429,
    "验证码发送过于频繁，请 {seconds} 秒后再试",
    "Codes are sent at most once a minute: try again in {seconds} seconds",
)
LOGIN_AGREEMENT_REQUIRED = define(
    "LOGIN_AGREEMENT_REQUIRED",
    422,
    "该手机号尚未注册：请阅读并同意会员协议后注册",
    "This mobile is not registered yet: read and accept the membership agreement to register",
)
MEMBER_SESSION_INVALID = define(
    "MEMBER_SESSION_INVALID", 401, "登录已失效，请重新登录", "Your session has ended: please sign in again"
)
MEMBER_CSRF_REQUIRED = define(
    "MEMBER_CSRF_REQUIRED",
    403,
    "请求缺少页面校验头，请刷新页面后重试",
    "The request lacks the page's check header: reload the page and try again",
)
PORTAL_CHANNEL_INVALID = define(
    "PORTAL_CHANNEL_INVALID",
    422,
    "退订渠道须为 sms、email、phone、direct_mail 或 app_push",
    "The channel must be sms, email, phone, direct_mail or app_push",
)
PORTAL_MEMBER_INACTIVE = define(
    "PORTAL_MEMBER_INACTIVE", 403, "该会员账户已停用", "This membership is no longer active"
)
