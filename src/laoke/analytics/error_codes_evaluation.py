"""Stable error codes of the campaign evaluation and the external-campaign import (API contract:
never rename, add new ones). Row problems name the file, row and column (core.errors.RowError)."""

from laoke.core.errors import define

ANALYTICS_IMPORT_INVALID = define(
    "ANALYTICS_IMPORT_INVALID",
    422,
    "导入文件有 {count} 处错误，未导入任何数据（见明细：文件、行、列）",
    "The import has {count} errors and nothing was imported (see the details: file, row, column)",
)
ANALYTICS_CAMPAIGN_NAME_TAKEN = define(
    "ANALYTICS_CAMPAIGN_NAME_TAKEN", 409, "已有同名营销活动：{name}", "A campaign named {name} already exists"
)
ANALYTICS_WINDOW_INVALID = define(
    "ANALYTICS_WINDOW_INVALID", 422, "评估窗口须为 1–365 天", "The evaluation window must be 1-365 days"
)
# row problems
ROW_HEADER_MISSING = define(
    "ANALYTICS_ROW_HEADER_MISSING", 422, "缺少列 {column}", "The column {column} is missing"
)
ROW_EMPTY_FILE = define("ANALYTICS_ROW_EMPTY_FILE", 422, "文件没有数据行", "The file has no data rows")
ROW_REQUIRED = define("ANALYTICS_ROW_REQUIRED", 422, "{column} 不能为空", "{column} is required")
ROW_TOO_LONG = define(
    "ANALYTICS_ROW_TOO_LONG", 422, "{column} 过长（最多 {max} 个字符）", "{column} is too long (max {max})"
)
ROW_DATETIME = define(
    "ANALYTICS_ROW_DATETIME",
    422,
    "{column} 不是有效的日期时间（例：2026-11-11 20:30 或 2026-11-11）",
    "{column} is not a valid date or time (e.g. 2026-11-11 20:30 or 2026-11-11)",
)
ROW_AMOUNT = define(
    "ANALYTICS_ROW_AMOUNT",
    422,
    "{column} 须为不小于 0、最多两位小数的金额（元）",
    "{column} must be an amount in yuan, at least 0, with at most two decimals",
)
ROW_DUPLICATE = define(
    "ANALYTICS_ROW_DUPLICATE",
    422,
    "{column} 重复（第 {first} 行已出现）",
    "{column} is repeated (first seen on row {first})",
)
ROW_COLUMNS = define(
    "ANALYTICS_ROW_COLUMNS",
    422,
    "列数不对：应为 {expected} 列",
    "Wrong number of columns: expected {expected}",
)
