from .errors import define

LOGIN_LOCKED = define(
    "LOGIN_LOCKED",
    429,
    "登录失败次数过多，请 {minutes} 分钟后再试",
    "Too many failed logins; try again in {minutes} minutes",
)
ROLE_UNKNOWN = define("ROLE_UNKNOWN", 422, "未知角色：{role}", "Unknown role: {role}")
SCOPE_UNKNOWN = define("SCOPE_UNKNOWN", 422, "未知的权限范围：{scope}", "Unknown scope: {scope}")
STORE_CODE_TAKEN = define(
    "STORE_CODE_TAKEN", 409, "门店编号 {code} 已存在", "Store code {code} already exists"
)
USERNAME_TAKEN = define(
    "USERNAME_TAKEN", 409, "用户名 {username} 已存在", "Username {username} already exists"
)
APPROVAL_PERMISSION = define(
    "APPROVAL_PERMISSION", 403, "无权审批此步骤（{step}）", "You may not decide this approval step ({step})"
)
APPROVAL_OWN_REQUEST = define(
    "APPROVAL_OWN_REQUEST",
    403,
    "不能审批自己提交的申请（{step}）",
    "You cannot approve your own request ({step})",
)
APPROVAL_OWN_ROLE = define(
    "APPROVAL_OWN_ROLE",
    403,
    "提交申请的角色（{role}）不能审批此步骤（{step}）",
    "The requesting role ({role}) cannot decide this approval step ({step})",
)
