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
# --- backups and restores (laoke.ops.backup, docs/decisions/0038-backups.md) ---
BACKUP_INVALID = define(
    "BACKUP_INVALID",
    422,
    "不是有效的老客备份文件：{reason}",
    "Not a valid Laoke backup: {reason}",
)
BACKUP_FORMAT_UNSUPPORTED = define(
    "BACKUP_FORMAT_UNSUPPORTED",
    422,
    "备份格式版本 {version} 不受支持（支持 {supported}）",
    "Backup format version {version} is not supported (supported: {supported})",
)
BACKUP_CHECKSUM_MISMATCH = define(
    "BACKUP_CHECKSUM_MISMATCH",
    422,
    "备份文件已损坏或被修改：{member} 的校验和不符",
    "The backup is damaged or was altered: the checksum of {member} does not match",
)
BACKUP_ENGINE_MISMATCH = define(
    "BACKUP_ENGINE_MISMATCH",
    422,
    "备份来自 {backup} 数据库，当前配置的是 {target}；不支持跨数据库类型恢复",
    "The backup is of a {backup} database but {target} is configured; cross-engine restore is not supported",
)
BACKUP_SCHEMA_NEWER = define(
    "BACKUP_SCHEMA_NEWER",
    422,
    "备份包含本版本不认识的数据库迁移（{migrations}），请先安装老客 {version}",
    "The backup has migrations this version does not know ({migrations}); install Laoke {version} first",
)
BACKUP_TARGET_NOT_EMPTY = define(
    "BACKUP_TARGET_NOT_EMPTY",
    409,
    "目标数据库已有数据（{tables} 张表），如确需覆盖请加 --force",
    "The target database already holds data ({tables} tables); use --force to overwrite it",
)
BACKUP_TOOL_FAILED = define(
    "BACKUP_TOOL_FAILED",
    500,
    "{tool} 执行失败：{reason}",
    "{tool} failed: {reason}",
)
BACKUP_VERIFY_FAILED = define(
    "BACKUP_VERIFY_FAILED",
    500,
    "恢复后核对失败：{count} 张表的行数与备份清单不符（{tables}）",
    "Verification after restore failed: the row counts of {count} tables differ from the manifest ({tables})",
)
# --- storage failures (laoke.core.storage_errors, docs/decisions/0041-failure-drills.md) ---
STORAGE_READ_ONLY = define(
    "STORAGE_READ_ONLY",
    503,
    "数据库当前为只读，未保存任何更改；请联系管理员检查磁盘与文件权限后重试",
    "The database is read-only; nothing was saved. Ask the administrator to check the disk and file "
    "permissions, then retry",
)
STORAGE_FULL = define(
    "STORAGE_FULL",
    503,
    "数据库存储空间已满，未保存任何更改；请联系管理员释放空间后重试",
    "The database storage is full; nothing was saved. Ask the administrator to free space, then retry",
)
STORAGE_UNAVAILABLE = define(
    "STORAGE_UNAVAILABLE",
    503,
    "与数据库的连接中断，未保存任何更改；请稍后用同一请求重试",
    "The connection to the database was lost; nothing was saved. Retry the same request shortly",
)
