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
